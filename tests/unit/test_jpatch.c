/*
 * Unit tests for upstream/chatgpt/jpatch.c: every operation on objects,
 * arrays and the root, p/o inheritance, pointer escapes, index and type
 * errors, limits, and the hot-string append buffer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tests/unit/unit.h"
#include "upstream/chatgpt/jpatch.h"

static json_object *
J(const char *s)
{
	json_object	*o;

	if (strcmp(s, "null") == 0)
		return NULL;
	o = json_tokener_parse(s);
	ck_assert_msg(o != NULL, "bad test JSON: %s", s);
	return o;
}

/* Apply op with a JSON value; the test's reference is dropped after. */
static enum jp_err
ap(struct jpatch *jp, json_object **root, const char *path, enum jp_op op,
    const char *v)
{
	json_object	*jv = J(v);
	enum jp_err	 e = jp_apply(jp, root, path, strlen(path), op, jv);

	json_object_put(jv);
	return e;
}

static enum jp_err
line(struct jpatch *jp, json_object **root, const char *l)
{
	json_object	*jl = J(l);
	enum jp_err	 e = jp_line(jp, root, jl);

	json_object_put(jl);
	return e;
}

/* Serialise (after writing the hot string back) and compare. */
static void
same(struct jpatch *jp, json_object *root, const char *want)
{
	const char	*got;

	ck_assert_int_eq(jp_sync(jp), JP_OK);
	got = root ? json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "null";
	ck_assert_str_eq(got, want);
}

#define SETUP(doc)							\
	struct jpatch	 jp;						\
	json_object	*r = J(doc);					\
	jp_init(&jp, NULL)
#define TEARDOWN()							\
	do {								\
		jp_free(&jp);						\
		json_object_put(r);					\
	} while (0)

START_TEST(op_add)
{
	SETUP("{\"a\":1,\"l\":[1,2,3]}");
	ck_assert_int_eq(ap(&jp, &r, "/b", JP_ADD, "\"x\""), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/a", JP_ADD, "{\"k\":[]}"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/1", JP_ADD, "9"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/0", JP_ADD, "0"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/5", JP_ADD, "5"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/-", JP_ADD, "6"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/8", JP_ADD, "8"), JP_ERANGE);
	ck_assert_int_eq(ap(&jp, &r, "/a/k/0", JP_ADD, "null"), JP_OK);
	same(&jp, r, "{\"a\":{\"k\":[null]},\"l\":[0,1,9,2,3,5,6],\"b\":\"x\"}");
	ck_assert_int_eq(ap(&jp, &r, "", JP_ADD, "[true]"), JP_OK);
	same(&jp, r, "[true]");
	TEARDOWN();
}
END_TEST

START_TEST(op_add_shared_refs)
{
	/* the inserted value outlives the caller's reference */
	struct jpatch	 jp;
	json_object	*r = J("{\"l\":[{\"x\":1},{\"y\":2}]}");
	json_object	*v = J("{\"z\":3}");

	jp_init(&jp, NULL);
	ck_assert_int_eq(jp_apply(&jp, &r, "/l/1", 4, JP_ADD, v), JP_OK);
	json_object_put(v);
	same(&jp, r, "{\"l\":[{\"x\":1},{\"z\":3},{\"y\":2}]}");
	jp_free(&jp);
	json_object_put(r);
}
END_TEST

START_TEST(op_replace)
{
	SETUP("{\"a\":1,\"l\":[1,2]}");
	ck_assert_int_eq(ap(&jp, &r, "/a", JP_REPLACE, "\"s\""), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/new", JP_REPLACE, "2"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/1", JP_REPLACE, "7"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/2", JP_REPLACE, "7"), JP_ERANGE);
	ck_assert_int_eq(ap(&jp, &r, "/l/-", JP_REPLACE, "7"), JP_ERANGE);
	ck_assert_int_eq(ap(&jp, &r, "/x/y", JP_REPLACE, "7"), JP_ENOENT);
	same(&jp, r, "{\"a\":\"s\",\"l\":[1,7],\"new\":2}");
	ck_assert_int_eq(ap(&jp, &r, "", JP_REPLACE, "{\"z\":0}"), JP_OK);
	same(&jp, r, "{\"z\":0}");
	TEARDOWN();
}
END_TEST

START_TEST(op_append)
{
	SETUP("{\"s\":\"ab\",\"l\":[1],\"o\":{\"a\":1,\"b\":2},"
	    "\"n\":5,\"z\":null}");
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_APPEND, "\"cd\""), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l", JP_APPEND, "[2,3]"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l", JP_APPEND, "4"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/o", JP_APPEND, "{\"b\":3,\"c\":4}"),
	    JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/n", JP_APPEND, "6"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/z", JP_APPEND, "\"was null\""), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/m", JP_APPEND, "\"missing\""), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/-", JP_APPEND, "5"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/0", JP_APPEND, "[0]"), JP_OK);
	same(&jp, r, "{\"s\":\"abcd\",\"l\":[[0],2,3,4,5],"
	    "\"o\":{\"a\":1,\"b\":3,\"c\":4},\"n\":6,\"z\":\"was null\","
	    "\"m\":\"missing\"}");
	/* the root: objects merge */
	ck_assert_int_eq(ap(&jp, &r, "", JP_APPEND, "{\"n\":0}"), JP_OK);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(r, "n")),
	    0);
	ck_assert_ptr_nonnull(json_object_object_get(r, "s"));
	TEARDOWN();
}
END_TEST

START_TEST(op_remove)
{
	SETUP("{\"a\":1,\"l\":[1,2,3]}");
	ck_assert_int_eq(ap(&jp, &r, "/a", JP_REMOVE, "null"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/a", JP_REMOVE, "null"), JP_ENOENT);
	ck_assert_int_eq(ap(&jp, &r, "/l/1", JP_REMOVE, "null"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/2", JP_REMOVE, "null"), JP_ERANGE);
	ck_assert_int_eq(ap(&jp, &r, "/l/-", JP_REMOVE, "null"), JP_ERANGE);
	ck_assert_int_eq(ap(&jp, &r, "", JP_REMOVE, "null"), JP_EPATH);
	same(&jp, r, "{\"l\":[1,3]}");
	TEARDOWN();
}
END_TEST

START_TEST(op_truncate)
{
	SETUP("{\"s\":\"h\xc3\xa9llo \xf0\x9f\x98\x80!\",\"l\":[1,2,3],"
	    "\"n\":1}");
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_TRUNCATE, "100"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_TRUNCATE, "7"), JP_OK);
	same(&jp, r, "{\"s\":\"h\xc3\xa9llo \xf0\x9f\x98\x80\",\"l\":[1,2,3],"
	    "\"n\":1}");
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_TRUNCATE, "2"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l", JP_TRUNCATE, "1"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l", JP_TRUNCATE, "5"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l", JP_TRUNCATE, "-1"), JP_ERANGE);
	ck_assert_int_eq(ap(&jp, &r, "/l", JP_TRUNCATE, "\"1\""), JP_ETYPE);
	ck_assert_int_eq(ap(&jp, &r, "/l", JP_TRUNCATE, "1.5"), JP_ETYPE);
	ck_assert_int_eq(ap(&jp, &r, "/n", JP_TRUNCATE, "0"), JP_ETYPE);
	ck_assert_int_eq(ap(&jp, &r, "/q", JP_TRUNCATE, "0"), JP_ENOENT);
	same(&jp, r, "{\"s\":\"h\xc3\xa9\",\"l\":[1],\"n\":1}");
	/* truncating the string being appended to */
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_APPEND, "\"\xe4\xbd\xa0xyz\""),
	    JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_TRUNCATE, "3"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_APPEND, "\"!\""), JP_OK);
	same(&jp, r, "{\"s\":\"h\xc3\xa9\xe4\xbd\xa0!\",\"l\":[1],\"n\":1}");
	TEARDOWN();
}
END_TEST

/*
 * json-c 0.16 leaks a string's heap buffer when it is set to length 0 in
 * place; truncating to nothing must not do that (LSan checks with
 * CK_FORK=no), and the emptied string must read as "".
 */
START_TEST(truncate_to_empty)
{
	SETUP("{\"s\":\"hi\",\"t\":\"x\",\"l\":[\"ab\"]}");
	json_object	*o;
	size_t		 len;

	/* grown through the hot buffer and written back: heap-backed now */
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_APPEND, "\"H\""), JP_OK);
	same(&jp, r, "{\"s\":\"hiH\",\"t\":\"x\",\"l\":[\"ab\"]}");
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_TRUNCATE, "0"), JP_OK);
	/* the same while hot, in an array */
	ck_assert_int_eq(ap(&jp, &r, "/l/0", JP_APPEND, "\"cdefghijkl\""),
	    JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/0", JP_TRUNCATE, "0"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/0", JP_APPEND, "\"z\""), JP_OK);
	/* an empty hot string is written back without touching json-c */
	ck_assert_int_eq(ap(&jp, &r, "/t", JP_TRUNCATE, "0"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/t", JP_APPEND, "\"\""), JP_OK);
	ck_assert_int_eq(jp_sync(&jp), JP_OK);
	ck_assert_int_eq(jp_get(&jp, r, "/s", 2, &o), JP_OK);
	ck_assert_str_eq(jp_string(&jp, o, &len), "");
	ck_assert_uint_eq(len, 0);
	same(&jp, r, "{\"s\":\"\",\"t\":\"\",\"l\":[\"z\"]}");
	TEARDOWN();
}
END_TEST

START_TEST(op_patch)
{
	SETUP("{\"message\":{\"content\":{\"parts\":[\"Hel\"]},"
	    "\"status\":\"in_progress\",\"metadata\":{\"c\":[]}}}");
	ck_assert_int_eq(ap(&jp, &r, "", JP_PATCH,
	    "[{\"p\":\"/message/content/parts/0\",\"o\":\"append\",\"v\":\"lo\"},"
	    "{\"p\":\"/message/status\",\"o\":\"replace\",\"v\":\"done\"},"
	    "{\"p\":\"/message/metadata\",\"o\":\"append\","
	    "\"v\":{\"fd\":{\"type\":\"stop\"}}}]"), JP_OK);
	same(&jp, r, "{\"message\":{\"content\":{\"parts\":[\"Hello\"]},"
	    "\"status\":\"done\",\"metadata\":{\"c\":[],"
	    "\"fd\":{\"type\":\"stop\"}}}}");
	/* a failing sub-op is skipped, the rest run, the first error wins */
	ck_assert_int_eq(ap(&jp, &r, "", JP_PATCH,
	    "[{\"p\":\"/nope/x\",\"o\":\"add\",\"v\":1},"
	    "{\"p\":\"/message/status\",\"o\":\"bogus\",\"v\":1},"
	    "{\"p\":\"/message/status\",\"v\":1},"
	    "7,"
	    "{\"p\":\"/message/end_turn\",\"o\":\"add\",\"v\":true}]"),
	    JP_ENOENT);
	ck_assert(json_object_get_boolean(json_object_object_get(
	    json_object_object_get(r, "message"), "end_turn")));
	/* sub-paths are relative to the patch's own path */
	ck_assert_int_eq(ap(&jp, &r, "/message/content", JP_PATCH,
	    "[{\"p\":\"/parts/0\",\"o\":\"append\",\"v\":\"!\"},"
	    "{\"p\":\"/parts/-\",\"o\":\"add\",\"v\":\"two\"}]"), JP_OK);
	same(&jp, json_object_object_get(json_object_object_get(r,
	    "message"), "content"), "{\"parts\":[\"Hello!\",\"two\"]}");
	ck_assert_int_eq(ap(&jp, &r, "", JP_PATCH, "{}"), JP_ETYPE);
	ck_assert_int_eq(ap(&jp, &r, "", JP_PATCH, "[]"), JP_OK);
	TEARDOWN();
}
END_TEST

START_TEST(patch_limits)
{
	struct jp_limits lim = { .max_patch_depth = 2, .max_ops = 3 };
	struct jpatch	 jp;
	json_object	*r = J("{\"a\":0}");

	jp_init(&jp, &lim);
	ck_assert_int_eq(ap(&jp, &r, "", JP_PATCH,
	    "[{\"p\":\"\",\"o\":\"patch\",\"v\":"
	    "[{\"p\":\"/a\",\"o\":\"replace\",\"v\":1}]}]"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "", JP_PATCH,
	    "[{\"p\":\"\",\"o\":\"patch\",\"v\":[{\"p\":\"\",\"o\":\"patch\","
	    "\"v\":[{\"p\":\"/a\",\"o\":\"replace\",\"v\":2}]}]}]"), JP_ELIMIT);
	ck_assert_int_eq(ap(&jp, &r, "", JP_PATCH,
	    "[{\"p\":\"/a\",\"o\":\"replace\",\"v\":3},"
	    "{\"p\":\"/a\",\"o\":\"replace\",\"v\":3},"
	    "{\"p\":\"/a\",\"o\":\"replace\",\"v\":3},"
	    "{\"p\":\"/a\",\"o\":\"replace\",\"v\":3}]"), JP_ELIMIT);
	same(&jp, r, "{\"a\":1}");
	jp_free(&jp);
	json_object_put(r);
}
END_TEST

START_TEST(inheritance)
{
	SETUP("{\"a\":\"\",\"b\":[]}");
	/* nothing to inherit yet */
	ck_assert_int_eq(line(&jp, &r, "{\"v\":\"x\"}"), JP_EOP);
	ck_assert_int_eq(line(&jp, &r, "{\"p\":\"/a\",\"v\":\"x\"}"), JP_EOP);
	ck_assert_int_eq(line(&jp, &r, "{\"o\":\"append\",\"v\":\"H\"}"),
	    JP_OK);		/* p from the line before */
	ck_assert_int_eq(line(&jp, &r, "{\"v\":\"el\"}"), JP_OK);
	ck_assert_int_eq(line(&jp, &r, "{\"v\":\"lo\"}"), JP_OK);
	ck_assert_int_eq(line(&jp, &r, "{\"p\":\"/b\",\"v\":1}"), JP_OK);
	ck_assert_int_eq(line(&jp, &r, "{\"v\":2}"), JP_OK);
	ck_assert_int_eq(line(&jp, &r, "{\"p\":\"/a\",\"o\":\"replace\","
	    "\"v\":\"R\"}"), JP_OK);
	/* no "v": not a line, nothing remembered */
	ck_assert_int_eq(line(&jp, &r, "{\"p\":\"/b\",\"o\":\"remove\"}"),
	    JP_EOP);
	ck_assert_int_eq(line(&jp, &r, "{\"v\":\"S\"}"), JP_OK);
	/* non-string p/o */
	ck_assert_int_eq(line(&jp, &r, "{\"p\":1,\"v\":\"S\"}"), JP_EOP);
	ck_assert_int_eq(line(&jp, &r, "{\"o\":[],\"v\":\"S\"}"), JP_EOP);
	ck_assert_int_eq(line(&jp, &r, "[1]"), JP_EOP);
	same(&jp, r, "{\"a\":\"S\",\"b\":[1,2]}");
	/* an unknown op is remembered and keeps failing */
	ck_assert_int_eq(line(&jp, &r, "{\"o\":\"frob\",\"v\":1}"), JP_EOP);
	ck_assert_int_eq(line(&jp, &r, "{\"v\":1}"), JP_EOP);
	ck_assert_int_eq(line(&jp, &r, "{\"o\":\"append\",\"v\":\"T\"}"),
	    JP_OK);
	/* a remembered p survives a failing op */
	ck_assert_int_eq(line(&jp, &r, "{\"p\":\"/zz/a\",\"v\":\"T\"}"),
	    JP_ENOENT);
	ck_assert_int_eq(line(&jp, &r, "{\"v\":\"T\"}"), JP_ENOENT);
	ck_assert_int_eq(jp_reset(&jp), JP_OK);
	ck_assert_int_eq(line(&jp, &r, "{\"v\":\"T\"}"), JP_EOP);
	same(&jp, r, "{\"a\":\"ST\",\"b\":[1,2]}");
	TEARDOWN();
}
END_TEST

START_TEST(escapes)
{
	SETUP("{\"a/b\":1,\"m~n\":2,\"~1\":3,\"\":{\"\":4},\"0\":5}");
	json_object	*o;

	ck_assert_int_eq(jp_get(&jp, r, "/a~1b", 5, &o), JP_OK);
	ck_assert_int_eq(json_object_get_int(o), 1);
	ck_assert_int_eq(jp_get(&jp, r, "/m~0n", 5, &o), JP_OK);
	ck_assert_int_eq(json_object_get_int(o), 2);
	ck_assert_int_eq(jp_get(&jp, r, "/~01", 4, &o), JP_OK);
	ck_assert_int_eq(json_object_get_int(o), 3);
	ck_assert_int_eq(jp_get(&jp, r, "//", 2, &o), JP_OK);
	ck_assert_int_eq(json_object_get_int(o), 4);
	ck_assert_int_eq(jp_get(&jp, r, "/0", 2, &o), JP_OK);
	ck_assert_int_eq(json_object_get_int(o), 5);
	ck_assert_int_eq(jp_get(&jp, r, "", 0, &o), JP_OK);
	ck_assert_ptr_eq(o, r);
	ck_assert_int_eq(jp_get(&jp, r, "/a~2b", 5, &o), JP_EPATH);
	ck_assert_int_eq(jp_get(&jp, r, "/a~", 3, &o), JP_EPATH);
	ck_assert_int_eq(jp_get(&jp, r, "a", 1, &o), JP_EPATH);
	ck_assert_int_eq(jp_get(&jp, r, "/a\0b", 4, &o), JP_EPATH);
	ck_assert_int_eq(jp_get(&jp, r, "/a~1", 4, &o), JP_ENOENT);
	ck_assert_int_eq(ap(&jp, &r, "/x~1y~0", JP_ADD, "6"), JP_OK);
	ck_assert_int_eq(jp_get(&jp, r, "/x~1y~0", 7, &o), JP_OK);
	ck_assert_int_eq(json_object_get_int(o), 6);
	ck_assert_ptr_nonnull(json_object_object_get(r, "x/y~"));
	TEARDOWN();
}
END_TEST

START_TEST(indices)
{
	SETUP("{\"l\":[10,11,12]}");
	json_object	*o;

	ck_assert_int_eq(jp_get(&jp, r, "/l/2", 4, &o), JP_OK);
	ck_assert_int_eq(json_object_get_int(o), 12);
	ck_assert_int_eq(jp_get(&jp, r, "/l/3", 4, &o), JP_ERANGE);
	ck_assert_int_eq(jp_get(&jp, r, "/l/01", 5, &o), JP_ERANGE);
	ck_assert_int_eq(jp_get(&jp, r, "/l/-1", 5, &o), JP_ERANGE);
	ck_assert_int_eq(jp_get(&jp, r, "/l/1e0", 6, &o), JP_ERANGE);
	ck_assert_int_eq(jp_get(&jp, r, "/l/", 3, &o), JP_ERANGE);
	ck_assert_int_eq(jp_get(&jp, r, "/l/-", 4, &o), JP_ERANGE);
	ck_assert_int_eq(jp_get(&jp, r,
	    "/l/99999999999999999999999999", 29, &o), JP_ERANGE);
	ck_assert_int_eq(ap(&jp, &r, "/l/18446744073709551615", JP_ADD, "1"),
	    JP_ERANGE);
	ck_assert_int_eq(ap(&jp, &r, "/l/4", JP_ADD, "1"), JP_ERANGE);
	ck_assert_int_eq(ap(&jp, &r, "/l/x", JP_REPLACE, "1"), JP_ERANGE);
	ck_assert_int_eq(ap(&jp, &r, "/l/-/x", JP_ADD, "1"), JP_ERANGE);
	same(&jp, r, "{\"l\":[10,11,12]}");
	TEARDOWN();
}
END_TEST

START_TEST(type_mismatch)
{
	SETUP("{\"s\":\"str\",\"n\":1,\"z\":null,\"b\":true}");
	json_object	*o;

	ck_assert_int_eq(ap(&jp, &r, "/s/x", JP_ADD, "1"), JP_ETYPE);
	ck_assert_int_eq(ap(&jp, &r, "/s/0", JP_REPLACE, "1"), JP_ETYPE);
	ck_assert_int_eq(ap(&jp, &r, "/n/x/y", JP_ADD, "1"), JP_ETYPE);
	ck_assert_int_eq(ap(&jp, &r, "/z/x", JP_ADD, "1"), JP_ETYPE);
	ck_assert_int_eq(ap(&jp, &r, "/b/x", JP_APPEND, "1"), JP_ETYPE);
	ck_assert_int_eq(ap(&jp, &r, "/b", JP_TRUNCATE, "0"), JP_ETYPE);
	ck_assert_int_eq(jp_get(&jp, r, "/z/q", 4, &o), JP_ETYPE);
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_OP_UNKNOWN, "1"), JP_EOP);
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_OP_NONE, "1"), JP_EOP);
	same(&jp, r, "{\"s\":\"str\",\"n\":1,\"z\":null,\"b\":true}");
	/* a null document: only the root can be set */
	json_object_put(r);
	r = NULL;
	ck_assert_int_eq(ap(&jp, &r, "/a", JP_ADD, "1"), JP_ETYPE);
	ck_assert_int_eq(ap(&jp, &r, "", JP_APPEND, "{\"a\":1}"), JP_OK);
	same(&jp, r, "{\"a\":1}");
	TEARDOWN();
}
END_TEST

static char *
deep_path(size_t n)
{
	char	*p = malloc(n * 2 + 1);

	for (size_t i = 0; i < n; i++) {
		p[i * 2] = '/';
		p[i * 2 + 1] = 'd';
	}
	p[n * 2] = '\0';
	return p;
}

START_TEST(depth_limits)
{
	struct jpatch	 jp;
	json_object	*r = NULL, *o;
	char		*p;
	size_t		 i;

	jp_init(&jp, NULL);
	/* build {"d":{"d":...}} 40 levels deep, 32 steps at most per path */
	ck_assert_int_eq(ap(&jp, &r, "", JP_ADD, "{}"), JP_OK);
	for (i = 1; i <= JP_DEFAULT_MAX_SEGMENTS; i++) {
		p = deep_path(i);
		ck_assert_int_eq(ap(&jp, &r, p, JP_ADD, "{}"), JP_OK);
		free(p);
	}
	p = deep_path(JP_DEFAULT_MAX_SEGMENTS);
	ck_assert_int_eq(jp_get(&jp, r, p, strlen(p), &o), JP_OK);
	free(p);
	p = deep_path(JP_DEFAULT_MAX_SEGMENTS + 1);
	ck_assert_int_eq(ap(&jp, &r, p, JP_ADD, "{}"), JP_ELIMIT);
	ck_assert_int_eq(jp_get(&jp, r, p, strlen(p), &o), JP_ELIMIT);
	free(p);
	/* the configured maximum is clamped to the hard one */
	jp_free(&jp);
	{
		struct jp_limits lim = { .max_segments = 100000 };

		jp_init(&jp, &lim);
		ck_assert_uint_eq(jp.lim.max_segments, JP_HARD_MAX_SEGMENTS);
	}
	p = deep_path(JP_HARD_MAX_SEGMENTS + 1);
	ck_assert_int_eq(jp_get(&jp, r, p, strlen(p), &o), JP_ELIMIT);
	free(p);
	/* long paths */
	p = malloc(JP_MAX_PATH + 2);
	memset(p, 'k', JP_MAX_PATH + 1);
	p[0] = '/';
	p[JP_MAX_PATH + 1] = '\0';
	ck_assert_int_eq(jp_get(&jp, r, p, JP_MAX_PATH + 1, &o), JP_ELIMIT);
	ck_assert_int_eq(jp_get(&jp, r, p, JP_MAX_PATH, &o), JP_ENOENT);
	free(p);
	jp_free(&jp);
	json_object_put(r);
}
END_TEST

START_TEST(size_limits)
{
	struct jp_limits lim = { .max_string = 8, .max_array = 3 };
	struct jpatch	 jp;
	json_object	*r = J("{\"s\":\"abc\",\"t\":\"0123456789\",\"l\":[1]}");

	jp_init(&jp, &lim);
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_APPEND, "\"defgh\""), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/s", JP_APPEND, "\"i\""), JP_ELIMIT);
	ck_assert_int_eq(ap(&jp, &r, "/t", JP_APPEND, "\"\""), JP_ELIMIT);
	ck_assert_int_eq(ap(&jp, &r, "/l", JP_APPEND, "[2,3,4]"), JP_ELIMIT);
	ck_assert_int_eq(ap(&jp, &r, "/l", JP_APPEND, "[2,3]"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l", JP_APPEND, "4"), JP_ELIMIT);
	ck_assert_int_eq(ap(&jp, &r, "/l/-", JP_ADD, "4"), JP_ELIMIT);
	ck_assert_int_eq(ap(&jp, &r, "/l/0", JP_ADD, "4"), JP_ELIMIT);
	same(&jp, r, "{\"s\":\"abcdefgh\",\"t\":\"0123456789\",\"l\":[1,2,3]}");
	jp_free(&jp);
	json_object_put(r);
}
END_TEST

START_TEST(hot_string)
{
	SETUP("{\"a\":\"\",\"b\":\"B\",\"l\":[\"x\"]}");
	json_object	*a = json_object_get(json_object_object_get(r, "a")), *o;
	const char	*s;
	size_t		 len, i;
	char		 want[2100];

	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(ap(&jp, &r, "/a", JP_APPEND, "\"ab\""), JP_OK);
	s = jp_string(&jp, a, &len);
	ck_assert_uint_eq(len, 2000);
	ck_assert(memcmp(s, "abab", 4) == 0 && s[2000] == '\0');
	/* json-c's own copy is stale until a sync */
	ck_assert_uint_eq((size_t)json_object_get_string_len(a), 0);
	/* switching strings writes the old one back */
	ck_assert_int_eq(ap(&jp, &r, "/b", JP_APPEND, "\"C\""), JP_OK);
	ck_assert_uint_eq((size_t)json_object_get_string_len(a), 2000);
	ck_assert_int_eq(ap(&jp, &r, "/a", JP_APPEND, "\"!\""), JP_OK);
	s = jp_string(&jp, json_object_object_get(r, "a"), &len);
	ck_assert_uint_eq(len, 2001);
	ck_assert_int_eq(s[2000], '!');
	/* the hot node replaced, then appended to at the same path */
	ck_assert_int_eq(ap(&jp, &r, "/a", JP_REPLACE, "\"new\""), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/a", JP_APPEND, "\"er\""), JP_OK);
	/* and removed while hot: the engine's reference keeps it valid */
	ck_assert_int_eq(ap(&jp, &r, "/l/0", JP_APPEND, "\"y\""), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/0", JP_REMOVE, "null"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/-", JP_ADD, "\"z\""), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/l/0", JP_APPEND, "\"z\""), JP_OK);
	ck_assert_int_eq(jp_get(&jp, r, "/l/0", 4, &o), JP_OK);
	s = jp_string(&jp, o, &len);
	ck_assert_str_eq(s, "zz");
	/* the replaced node got its final value written back */
	for (i = 0; i < 2000; i++)
		want[i] = i % 2 ? 'b' : 'a';
	want[2000] = '!';
	want[2001] = '\0';
	ck_assert_str_eq(json_object_get_string(a), want);
	json_object_put(a);
	same(&jp, r, "{\"a\":\"newer\",\"b\":\"BC\",\"l\":[\"zz\"]}");
	/* a pending hot string is released by jp_free (ASan checks) */
	ck_assert_int_eq(ap(&jp, &r, "/b", JP_APPEND, "\"D\""), JP_OK);
	ck_assert_ptr_null(jp_string(&jp, NULL, &len));
	ck_assert_uint_eq(len, 0);
	TEARDOWN();
}
END_TEST

START_TEST(hot_root_replaced)
{
	/* the document holding the hot string is dropped entirely */
	struct jpatch	 jp;
	json_object	*r = J("{\"a\":\"x\"}");

	jp_init(&jp, NULL);
	ck_assert_int_eq(ap(&jp, &r, "/a", JP_APPEND, "\"y\""), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "", JP_REPLACE, "{\"a\":\"q\"}"), JP_OK);
	ck_assert_int_eq(ap(&jp, &r, "/a", JP_APPEND, "\"r\""), JP_OK);
	same(&jp, r, "{\"a\":\"qr\"}");
	json_object_put(r);
	r = NULL;
	ck_assert_int_eq(jp_sync(&jp), JP_OK);
	jp_free(&jp);
}
END_TEST

START_TEST(names)
{
	const char	*ops[] = { "add", "replace", "append", "patch",
			    "remove", "truncate" };

	for (size_t i = 0; i < 6; i++) {
		enum jp_op op = jp_op_parse(ops[i], strlen(ops[i]));

		ck_assert_int_ne(op, JP_OP_UNKNOWN);
		ck_assert_str_eq(jp_op_name(op), ops[i]);
	}
	ck_assert_int_eq(jp_op_parse("add ", 4), JP_OP_UNKNOWN);
	ck_assert_int_eq(jp_op_parse("ad", 2), JP_OP_UNKNOWN);
	ck_assert_int_eq(jp_op_parse("", 0), JP_OP_UNKNOWN);
	ck_assert_str_eq(jp_op_name(JP_OP_NONE), "none");
	for (int e = JP_OK; e <= JP_ELIMIT; e++)
		ck_assert_str_ne(jp_strerror((enum jp_err)e), "unknown error");
	ck_assert_str_eq(jp_strerror((enum jp_err)99), "unknown error");
}
END_TEST

START_TEST(bad_args)
{
	struct jpatch	 jp;
	json_object	*r = NULL, *o;

	jp_init(&jp, NULL);
	ck_assert_int_eq(jp_apply(&jp, NULL, "", 0, JP_ADD, NULL), JP_EOP);
	ck_assert_int_eq(jp_apply(&jp, &r, NULL, 3, JP_ADD, NULL), JP_EOP);
	ck_assert_int_eq(jp_get(&jp, r, NULL, 0, &o), JP_OK);
	ck_assert_int_eq(jp_line(&jp, &r, NULL), JP_EOP);
	jp_free(&jp);
}
END_TEST

static Suite *
jpatch_suite(void)
{
	Suite	*s = suite_create("jpatch");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, op_add);
	tcase_add_test(tc, op_add_shared_refs);
	tcase_add_test(tc, op_replace);
	tcase_add_test(tc, op_append);
	tcase_add_test(tc, op_remove);
	tcase_add_test(tc, op_truncate);
	tcase_add_test(tc, truncate_to_empty);
	tcase_add_test(tc, op_patch);
	tcase_add_test(tc, patch_limits);
	tcase_add_test(tc, inheritance);
	tcase_add_test(tc, escapes);
	tcase_add_test(tc, indices);
	tcase_add_test(tc, type_mismatch);
	tcase_add_test(tc, depth_limits);
	tcase_add_test(tc, size_limits);
	tcase_add_test(tc, hot_string);
	tcase_add_test(tc, hot_root_replaced);
	tcase_add_test(tc, names);
	tcase_add_test(tc, bad_args);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(jpatch_suite)
