/*
 * The structured-output validator (handlers/jschema.c): every keyword
 * with a value that fits and one that does not, the message naming the
 * path, $ref (to $defs, definitions, the root, loops), the schema checks
 * of strict and lax mode, and the limits.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/jschema.h"
#include "unit.h"

/* schema, instance, expected result, a part of the message (or NULL) */
static const struct {
	const char *schema, *inst;
	enum jschema_err want;
	const char *msg;
} cases[] = {
	{ "{\"type\":\"string\"}", "\"x\"", JSCHEMA_OK, NULL },
	{ "{\"type\":\"string\"}", "1", JSCHEMA_INVALID,
	  "$: expected string, got integer" },
	{ "{\"type\":\"number\"}", "1.5", JSCHEMA_OK, NULL },
	{ "{\"type\":\"number\"}", "2", JSCHEMA_OK, NULL },
	{ "{\"type\":\"number\"}", "\"2\"", JSCHEMA_INVALID,
	  "expected number, got string" },
	{ "{\"type\":\"integer\"}", "2", JSCHEMA_OK, NULL },
	{ "{\"type\":\"integer\"}", "2.0", JSCHEMA_OK, NULL },
	{ "{\"type\":\"integer\"}", "2.5", JSCHEMA_INVALID,
	  "expected integer, got number" },
	{ "{\"type\":\"boolean\"}", "false", JSCHEMA_OK, NULL },
	{ "{\"type\":\"boolean\"}", "0", JSCHEMA_INVALID, "expected boolean" },
	{ "{\"type\":\"null\"}", "null", JSCHEMA_OK, NULL },
	{ "{\"type\":\"null\"}", "{}", JSCHEMA_INVALID, "got object" },
	{ "{\"type\":\"object\"}", "{}", JSCHEMA_OK, NULL },
	{ "{\"type\":\"array\"}", "{}", JSCHEMA_INVALID, "expected array" },
	{ "{\"type\":[\"string\",\"null\"]}", "null", JSCHEMA_OK, NULL },
	{ "{\"type\":[\"string\",\"null\"]}", "\"a\"", JSCHEMA_OK, NULL },
	{ "{\"type\":[\"string\",\"null\"]}", "3", JSCHEMA_INVALID,
	  "integer is not one of the allowed types" },
	{ "{\"properties\":{\"a\":{\"type\":\"integer\"}}}", "{\"a\":1}",
	  JSCHEMA_OK, NULL },
	{ "{\"properties\":{\"a\":{\"type\":\"integer\"}}}", "{\"a\":\"1\"}",
	  JSCHEMA_INVALID, "$.a: expected integer, got string" },
	{ "{\"properties\":{\"a\":{\"type\":\"integer\"}}}", "{\"b\":\"1\"}",
	  JSCHEMA_OK, NULL },
	{ "{\"required\":[\"a\"]}", "{\"a\":null}", JSCHEMA_OK, NULL },
	{ "{\"required\":[\"a\",\"b\"]}", "{\"a\":null}", JSCHEMA_INVALID,
	  "$: missing required property \"b\"" },
	{ "{\"required\":[\"a\"]}", "[]", JSCHEMA_OK, NULL },
	{ "{\"properties\":{\"a\":{}},\"additionalProperties\":false}",
	  "{\"a\":1}", JSCHEMA_OK, NULL },
	{ "{\"properties\":{\"a\":{}},\"additionalProperties\":false}",
	  "{\"a\":1,\"z\":2}", JSCHEMA_INVALID,
	  "$: property \"z\" is not allowed" },
	{ "{\"additionalProperties\":{\"type\":\"string\"}}", "{\"q\":\"s\"}",
	  JSCHEMA_OK, NULL },
	{ "{\"additionalProperties\":{\"type\":\"string\"}}", "{\"q\":5}",
	  JSCHEMA_INVALID, "$.q: expected string" },
	{ "{\"items\":{\"type\":\"integer\"}}", "[1,2,3]", JSCHEMA_OK, NULL },
	{ "{\"items\":{\"type\":\"integer\"}}", "[1,2,\"x\"]", JSCHEMA_INVALID,
	  "$[2]: expected integer, got string" },
	{ "{\"properties\":{\"l\":{\"items\":{\"properties\":{\"n\":{\"type\":"
	  "\"string\"}}}}}}", "{\"l\":[{\"n\":\"a\"},{\"n\":1}]}",
	  JSCHEMA_INVALID, "$.l[1].n: expected string" },
	{ "{\"enum\":[\"a\",1,null,[1],{\"k\":true}]}", "\"a\"", JSCHEMA_OK,
	  NULL },
	{ "{\"enum\":[\"a\",1,null,[1],{\"k\":true}]}", "1.0", JSCHEMA_OK,
	  NULL },
	{ "{\"enum\":[\"a\",1,null,[1],{\"k\":true}]}", "{\"k\":true}",
	  JSCHEMA_OK, NULL },
	{ "{\"enum\":[\"a\",1,null,[1],{\"k\":true}]}", "[1,2]",
	  JSCHEMA_INVALID, "is not one of the \"enum\" values" },
	{ "{\"enum\":[\"a\"]}", "\"b\"", JSCHEMA_INVALID, "\"enum\"" },
	{ "{\"const\":\"x\"}", "\"x\"", JSCHEMA_OK, NULL },
	{ "{\"const\":{\"a\":[1]}}", "{\"a\":[1]}", JSCHEMA_OK, NULL },
	{ "{\"const\":\"x\"}", "\"y\"", JSCHEMA_INVALID,
	  "does not equal the \"const\" value" },
	{ "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "3",
	  JSCHEMA_OK, NULL },
	{ "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "true",
	  JSCHEMA_INVALID, "$: matches none of the \"anyOf\" alternatives" },
	{ "{\"$defs\":{\"p\":{\"type\":\"integer\"}},\"properties\":{\"a\":"
	  "{\"$ref\":\"#/$defs/p\"}}}", "{\"a\":1}", JSCHEMA_OK, NULL },
	{ "{\"$defs\":{\"p\":{\"type\":\"integer\"}},\"properties\":{\"a\":"
	  "{\"$ref\":\"#/$defs/p\"}}}", "{\"a\":\"1\"}", JSCHEMA_INVALID,
	  "$.a: expected integer" },
	{ "{\"definitions\":{\"p\":{\"enum\":[1]}},\"items\":{\"$ref\":"
	  "\"#/definitions/p\"}}", "[1,2]", JSCHEMA_INVALID, "$[1]: is not" },
	/* recursion through the root */
	{ "{\"type\":\"object\",\"properties\":{\"c\":{\"type\":\"array\","
	  "\"items\":{\"$ref\":\"#\"}}}}", "{\"c\":[{\"c\":[{\"c\":[]}]}]}",
	  JSCHEMA_OK, NULL },
	{ "{\"type\":\"object\",\"properties\":{\"c\":{\"type\":\"array\","
	  "\"items\":{\"$ref\":\"#\"}}}}", "{\"c\":[{\"c\":[5]}]}",
	  JSCHEMA_INVALID, "$.c[0].c[0]: expected object" },
	/* a $ref loop ends at the limit, not in a crash */
	{ "{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":"
	  "\"#/$defs/a\"}},\"$ref\":\"#/$defs/a\"}", "1", JSCHEMA_LIMIT,
	  "\"$ref\" in a row" },
	{ "{\"$ref\":\"#/$defs/none\"}", "1", JSCHEMA_BADSCHEMA,
	  "unresolved" },
	/* unknown keywords are ignored */
	{ "{\"type\":\"string\",\"pattern\":\"^x$\",\"description\":\"d\"}",
	  "\"y\"", JSCHEMA_OK, NULL },
	{ "false", "1", JSCHEMA_INVALID, "no value is allowed" },
	{ "true", "1", JSCHEMA_OK, NULL },
};

static const struct {
	const char *schema;
	int strict;
	enum jschema_err want;
	const char *msg;
} checks[] = {
	{ "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},"
	  "\"required\":[\"a\"],\"additionalProperties\":false}", 1,
	  JSCHEMA_OK, NULL },
	{ "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},"
	  "\"additionalProperties\":false}", 1, JSCHEMA_BADSCHEMA,
	  "every property in \"required\" (\"a\" is not)" },
	{ "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},"
	  "\"required\":[\"a\"]}", 1, JSCHEMA_BADSCHEMA,
	  "\"additionalProperties\": false" },
	{ "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}",
	  0, JSCHEMA_OK, NULL },
	{ "{\"type\":\"array\"}", 1, JSCHEMA_BADSCHEMA,
	  "\"type\": \"object\" at the root" },
	{ "{\"type\":\"array\"}", 0, JSCHEMA_OK, NULL },
	{ "[]", 0, JSCHEMA_BADSCHEMA, "must be an object" },
	{ "{\"type\":\"date\"}", 0, JSCHEMA_BADSCHEMA,
	  "$: unsupported type \"date\"" },
	{ "{\"type\":[]}", 0, JSCHEMA_BADSCHEMA, "non-empty array" },
	{ "{\"type\":[\"string\",\"string\"]}", 0, JSCHEMA_BADSCHEMA,
	  "twice" },
	{ "{\"type\":[\"string\",7]}", 0, JSCHEMA_BADSCHEMA,
	  "unsupported type" },
	{ "{\"properties\":[]}", 0, JSCHEMA_BADSCHEMA,
	  "\"properties\" must be an object" },
	{ "{\"properties\":{\"a\":{\"type\":\"x\"}}}", 0, JSCHEMA_BADSCHEMA,
	  "$.properties.a: unsupported type" },
	{ "{\"properties\":{\"a\":5}}", 0, JSCHEMA_BADSCHEMA,
	  "$.properties.a: a schema must be an object" },
	{ "{\"required\":\"a\"}", 0, JSCHEMA_BADSCHEMA, "\"required\"" },
	{ "{\"required\":[1]}", 0, JSCHEMA_BADSCHEMA, "\"required\"" },
	{ "{\"items\":[{}]}", 0, JSCHEMA_BADSCHEMA,
	  "$.items: a schema must be an object" },
	{ "{\"anyOf\":[]}", 0, JSCHEMA_BADSCHEMA, "\"anyOf\"" },
	{ "{\"anyOf\":[{\"type\":\"q\"}]}", 0, JSCHEMA_BADSCHEMA,
	  "$.anyOf[0]: unsupported type" },
	{ "{\"enum\":[]}", 0, JSCHEMA_BADSCHEMA, "\"enum\"" },
	{ "{\"$ref\":\"http://x/y\"}", 0, JSCHEMA_BADSCHEMA, "\"$ref\"" },
	{ "{\"$ref\":\"#/$defs/q\"}", 0, JSCHEMA_BADSCHEMA, "\"$ref\"" },
	{ "{\"$defs\":{\"q\":{}},\"$ref\":\"#/$defs/q\"}", 0, JSCHEMA_OK,
	  NULL },
	{ "{\"$defs\":{\"q\":{\"type\":1}}}", 0, JSCHEMA_BADSCHEMA,
	  "$.$defs.q" },
	{ "{\"additionalProperties\":3}", 0, JSCHEMA_BADSCHEMA,
	  "$.additionalProperties" },
	{ "{\"oneOf\":[{}]}", 0, JSCHEMA_OK, NULL },
	{ "{\"type\":\"object\",\"oneOf\":[{}],\"additionalProperties\":false}",
	  1, JSCHEMA_BADSCHEMA, "\"oneOf\" is not supported in strict mode" },
	{ "{\"type\":\"object\",\"allOf\":[],\"additionalProperties\":false}",
	  1, JSCHEMA_BADSCHEMA, "\"allOf\"" },
	{ "{\"type\":\"object\",\"description\":\"x\",\"title\":\"t\","
	  "\"additionalProperties\":false}", 1, JSCHEMA_OK, NULL },
};

static struct json_object *
parse(const char *s)
{
	struct json_tokener *tok = json_tokener_new_ex(200);
	struct json_object *o;

	ck_assert_ptr_nonnull(tok);
	/* the NUL ends a bare number */
	o = json_tokener_parse_ex(tok, s, (int)strlen(s) + 1);
	json_tokener_free(tok);
	ck_assert_msg(o != NULL || strcmp(s, "null") == 0, "bad JSON %s", s);
	return o;
}

START_TEST(validates)
{
	struct json_object *s = parse(cases[_i].schema);
	struct json_object *v = parse(cases[_i].inst);
	char msg[JSCHEMA_MSG_MAX], again[JSCHEMA_MSG_MAX];
	enum jschema_err e;

	e = jschema_validate(s, v, msg, sizeof(msg));
	ck_assert_msg(e == cases[_i].want, "case %d: %s against %s: %d (%s)",
	    _i, cases[_i].inst, cases[_i].schema, e, msg);
	if (cases[_i].msg != NULL)
		ck_assert_msg(strstr(msg, cases[_i].msg) != NULL,
		    "case %d: message \"%s\"", _i, msg);
	if (e == JSCHEMA_OK)
		ck_assert_str_eq(msg, "");
	/* the same answer every time */
	ck_assert_int_eq(jschema_validate(s, v, again, sizeof(again)), e);
	ck_assert_str_eq(msg, again);
	json_object_put(s);
	json_object_put(v);
}
END_TEST

START_TEST(schema_checks)
{
	struct json_object *s = parse(checks[_i].schema);
	char msg[JSCHEMA_MSG_MAX];
	enum jschema_err e;

	e = jschema_check(s, checks[_i].strict, msg, sizeof(msg));
	ck_assert_msg(e == checks[_i].want, "check %d: %s: %d (%s)", _i,
	    checks[_i].schema, e, msg);
	if (checks[_i].msg != NULL)
		ck_assert_msg(strstr(msg, checks[_i].msg) != NULL,
		    "check %d: message \"%s\"", _i, msg);
	json_object_put(s);
}
END_TEST

/* {"items":{"items":...{}}} n levels deep */
static char *
nested(const char *open, const char *close, int n, const char *mid)
{
	size_t lo = strlen(open), lc = strlen(close), lm = strlen(mid);
	char *s = malloc(n * (lo + lc) + lm + 1), *p = s;
	int i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, mid, lm);
	p += lm;
	for (i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

START_TEST(limits)
{
	struct json_object *s, *v, *props;
	struct json_tokener *tok;
	char msg[JSCHEMA_MSG_MAX], key[16];
	char *txt;
	int i;

	/* schema depth (the tokener's own depth raised for the test) */
	txt = nested("{\"items\":", "}", JSCHEMA_MAX_DEPTH + 2, "{}");
	tok = json_tokener_new_ex(200);
	s = json_tokener_parse_ex(tok, txt, (int)strlen(txt));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(jschema_check(s, 0, msg, sizeof(msg)), JSCHEMA_LIMIT);
	ck_assert_ptr_nonnull(strstr(msg, "nested deeper"));
	json_object_put(s);
	json_tokener_free(tok);
	free(txt);
	txt = nested("{\"items\":", "}", JSCHEMA_MAX_DEPTH - 1, "{}");
	s = parse(txt);
	ck_assert_int_eq(jschema_check(s, 0, msg, sizeof(msg)), JSCHEMA_OK);
	json_object_put(s);
	free(txt);

	/* instance depth */
	txt = nested("[", "]", JSCHEMA_MAX_IDEPTH + 2, "");
	tok = json_tokener_new_ex(200);
	v = json_tokener_parse_ex(tok, txt, (int)strlen(txt));
	ck_assert_ptr_nonnull(v);
	s = parse("{\"items\":{\"$ref\":\"#\"}}");
	ck_assert_int_eq(jschema_validate(s, v, msg, sizeof(msg)),
	    JSCHEMA_LIMIT);
	ck_assert_ptr_nonnull(strstr(msg, "value nested deeper"));
	json_object_put(s);
	json_object_put(v);
	json_tokener_free(tok);
	free(txt);

	/* node count */
	s = json_object_new_object();
	props = json_object_new_object();
	for (i = 0; i <= JSCHEMA_MAX_NODES; i++) {
		snprintf(key, sizeof(key), "p%d", i);
		json_object_object_add(props, key, json_object_new_object());
	}
	json_object_object_add(s, "properties", props);
	ck_assert_int_eq(jschema_check(s, 0, msg, sizeof(msg)), JSCHEMA_LIMIT);
	ck_assert_ptr_nonnull(strstr(msg, "subschemas"));
	json_object_put(s);

	/* size */
	s = json_object_new_object();
	txt = malloc(JSCHEMA_MAX_SIZE + 1);
	memset(txt, 'x', JSCHEMA_MAX_SIZE);
	txt[JSCHEMA_MAX_SIZE] = '\0';
	json_object_object_add(s, "description", json_object_new_string(txt));
	ck_assert_int_eq(jschema_check(s, 0, msg, sizeof(msg)), JSCHEMA_LIMIT);
	ck_assert_ptr_nonnull(strstr(msg, "larger than"));
	json_object_put(s);
	free(txt);

	/* enum size */
	s = json_object_new_object();
	v = json_object_new_array();
	for (i = 0; i <= JSCHEMA_MAX_ENUM; i++)
		json_object_array_add(v, json_object_new_int(i));
	json_object_object_add(s, "enum", v);
	ck_assert_int_eq(jschema_check(s, 0, msg, sizeof(msg)), JSCHEMA_LIMIT);
	json_object_put(s);

	/* anyOf blow-up stops at the step budget */
	s = parse("{\"anyOf\":[{\"type\":\"array\",\"items\":{\"$ref\":"
	    "\"#\"}},{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}},"
	    "{\"type\":\"string\"}]}");
	txt = nested("[", "]", 30, "true");
	v = parse(txt);
	ck_assert_int_eq(jschema_validate(s, v, msg, sizeof(msg)),
	    JSCHEMA_LIMIT);
	ck_assert_ptr_nonnull(strstr(msg, "too many steps"));
	json_object_put(s);
	json_object_put(v);
	free(txt);

	/* a long path is cut, not overflowed */
	s = parse("{\"additionalProperties\":{\"$ref\":\"#\"},\"type\":"
	    "\"object\"}");
	txt = nested("{\"a_rather_long_key_name_here\":", "}", 20, "5");
	v = parse(txt);
	ck_assert_int_eq(jschema_validate(s, v, msg, sizeof(msg)),
	    JSCHEMA_INVALID);
	ck_assert_ptr_nonnull(strstr(msg, "...: expected object"));
	json_object_put(s);
	json_object_put(v);
	free(txt);
	ck_assert_str_eq(jschema_strerror(JSCHEMA_LIMIT),
	    "schema or value too large");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("jschema");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, validates, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_loop_test(tc, schema_checks, 0,
	    sizeof(checks) / sizeof(checks[0]));
	tcase_add_test(tc, limits);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
