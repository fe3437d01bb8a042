/*
 * The call-block scanner and the argument repair.  Every fixture is fed
 * whole, split in two at every byte, and byte by byte: the result (text
 * with the calls written in as <<name args>>) must be the same, and what
 * is given out at any moment must be a prefix of it: a partial marker is
 * held back, never leaked as text that a call later replaces.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "handlers/tools.h"
#include "unit.h"

struct out {
	struct buf	 log;
	const char	*want;
	int		 leaked;	/* given out, then not in the answer */
};

/* What is given out is never taken back: always a prefix of the answer. */
static void
given(struct out *o)
{
	if (o->log.len > strlen(o->want) ||
	    memcmp(o->log.p, o->want, o->log.len) != 0)
		o->leaked = 1;
}

static int
o_text(void *ctx, const char *s, size_t n)
{
	struct out *o = ctx;

	ck_assert_uint_gt(n, 0);
	buf_add(&o->log, s, n);
	given(o);
	return 0;
}

static int
o_call(void *ctx, const char *name, size_t nl, const char *args, size_t al)
{
	struct out *o = ctx;
	struct json_object *j;

	j = json_tokener_parse(args);
	ck_assert_msg(j != NULL && json_object_is_type(j, json_type_object),
	    "arguments not a JSON object: %.*s", (int)al, args);
	json_object_put(j);
	buf_adds(&o->log, "<<");
	buf_add(&o->log, name, nl);
	buf_adds(&o->log, " ");
	buf_add(&o->log, args, al);
	buf_adds(&o->log, ">>");
	given(o);
	return 0;
}

static const struct tools_fn fns[] = {
	{ "f", NULL, NULL }, { "g", NULL, NULL },
	{ "get_weather", NULL, NULL }, { "a-b_9", NULL, NULL },
};

struct fixture {
	const char	*in, *want;
	int		 any;		/* any name allowed */
	size_t		 max;		/* max calls, 0: default */
};

static const struct fixture fx[] = {
	{ "Hello world", "Hello world", 0, 0 },
	{ "", "", 0, 0 },
	{ "a [b] c <d> e [ < [[ <<", "a [b] c <d> e [ < [[ <<", 0, 0 },
	/* markers that turn out not to be */
	{ "[func] [call me] <tool> [function_call [call", "[func] [call me] "
	  "<tool> [function_call [call", 0, 0 },
	{ "x [function_calls", "x [function_calls", 0, 0 },
	{ "<tool_use", "<tool_use", 0, 0 },
	{ "[call:f", "[call:f", 0, 0 },
	{ "[call:bad name]{}[/call]", "[call:bad name]{}[/call]", 0, 0 },
	{ "[call:f!]{}", "[call:f!]{}", 0, 0 },
	/* the plain bracket block */
	{ "[function_calls]\n[call:get_weather]{\"city\":\"Paris\"}[/call]\n"
	  "[/function_calls]", "<<get_weather {\"city\":\"Paris\"}>>", 0, 0 },
	{ "Let me check.\n[function_calls]\n[call:f]{}[/call]\n"
	  "[/function_calls]\nDone.", "Let me check.\n<<f {}>>\nDone.", 0, 0 },
	/* parallel calls */
	{ "[function_calls]\n[call:f]{\"a\":1}[/call]\n[call:g]{\"b\":2}"
	  "[/call]\n[call:f]{\"a\":3}[/call]\n[/function_calls]",
	  "<<f {\"a\":1}>><<g {\"b\":2}>><<f {\"a\":3}>>", 0, 0 },
	{ "[function_calls]\n[call:f]{\"a\":1}[/call]\n[call:g]{\"b\":2}"
	  "[/call]\n[/function_calls]", "<<f {\"a\":1}>>[call:g]{\"b\":2}"
	  "[/call]", 0, 1 },
	/* brackets and braces inside JSON strings */
	{ "[call:f]{\"q\":\"a [/call] b {x} ] [/function_calls]\","
	  "\"n\":{\"m\":[1,[2]]}}[/call]", "<<f {\"q\":\"a [/call] b {x} ] "
	  "[/function_calls]\",\"n\":{\"m\":[1,[2]]}}>>", 0, 0 },
	{ "[call:f]{\"s\":\"say \\\"[call:g]\\\" \\\\\"}[/call]",
	  "<<f {\"s\":\"say \\\"[call:g]\\\" \\\\\"}>>", 0, 0 },
	/* forgiven: no [/call], no [/function_calls], [call=..] */
	{ "[function_calls]\n[call:f]{\"a\":1}\n[call:g]{}\n"
	  "[/function_calls] ok", "<<f {\"a\":1}>><<g {}>> ok", 0, 0 },
	{ "[function_calls]\n[call:f]{\"a\":1}", "<<f {\"a\":1}>>", 0, 0 },
	{ "[call=f]{\"a\":1}[/call] and [call:g][/call]",
	  "<<f {\"a\":1}>> and <<g {}>>", 0, 0 },
	{ "[function_calls]\n```json\n[call:f]{}[/call]\n```\n"
	  "[/function_calls]", "<<f {}>>", 0, 0 },
	{ "[call:f]```json\n{\"a\":1}\n```[/call]", "<<f {\"a\":1}>>", 0, 0 },
	{ "[call: f ]{}[/call]", "<<f {}>>", 0, 0 },
	/* repairs */
	{ "[call:f]{\"s\":\"line1\nline2\ttab\"}[/call]",
	  "<<f {\"s\":\"line1\\nline2\\ttab\"}>>", 0, 0 },
	{ "[call:f]{city: \"Paris\", n_2: 3}[/call]",
	  "<<f {\"city\":\"Paris\",\"n_2\":3}>>", 0, 0 },
	{ "[call:f]{'city': 'Paris \"X\"', 'it''s': 1}[/call]",
	  "[call:f]{'city': 'Paris \"X\"', 'it''s': 1}[/call]", 0, 0 },
	{ "[call:f]{'city': 'Paris \"X\"'}[/call]",
	  "<<f {\"city\":\"Paris \\\"X\\\"\"}>>", 0, 0 },
	{ "[call:f]{\"a\":[1,2,],\"b\":{\"c\":1,},}[/call]",
	  "<<f {\"a\":[1,2],\"b\":{\"c\":1}}>>", 0, 0 },
	{ "[call:f]{\"re\":\"\\d+\\'\"}[/call]",
	  "<<f {\"re\":\"\\\\d+'\"}>>", 0, 0 },
	{ "[call:f]{\"a\":true,\"b\":null,\"c\":-1.5e3}[/call]",
	  "<<f {\"a\":true,\"b\":null,\"c\":-1.5e3}>>", 0, 0 },
	/* unrepairable: the raw text stays */
	{ "[function_calls]\n[call:f]{\"a\":}[/call]\n[/function_calls]",
	  "[function_calls]\n[call:f]{\"a\":}[/call]\n[/function_calls]", 0, 0 },
	{ "[call:f][1,2][/call]", "[call:f][1,2][/call]", 0, 0 },
	{ "[call:f]{\"a\":\"unterminated}", "[call:f]{\"a\":\"unterminated}",
	  0, 0 },
	{ "[function_calls]\n[call:f]{\"a\":1}[/call]\n[call:g]{oops[/call]\n"
	  "[/function_calls]", "<<f {\"a\":1}>>[call:g]{oops[/call]", 0, 0 },
	/* a name the request did not offer */
	{ "[call:nope]{}[/call]", "[call:nope]{}[/call]", 0, 0 },
	{ "[call:nope]{}[/call]", "<<nope {}>>", 1, 0 },
	{ "[call:a-b_9]{}[/call]", "<<a-b_9 {}>>", 0, 0 },
	/* XML */
	{ "<tool_use>\n<name>f</name>\n<arguments>{\"a\":1}</arguments>\n"
	  "</tool_use>", "<<f {\"a\":1}>>", 0, 0 },
	{ "Sure. <tool_use><name> g </name><arguments>{\"x\":\"</arguments>"
	  "\"}</arguments></tool_use>\n<tool_use><name>f</name></tool_use>",
	  "Sure. <<g {\"x\":\"</arguments>\"}>>\n<<f {}>>", 0, 0 },
	{ "<tool_use><name>f</name><arguments>{bad</arguments></tool_use>",
	  "<tool_use><name>f</name><arguments>{bad</arguments></tool_use>",
	  0, 0 },
	{ "<tool_use><arguments>{}</arguments></tool_use>",
	  "<tool_use><arguments>{}</arguments></tool_use>", 0, 0 },
	{ "<tool_use><name>f</name><arguments>{\"s\":\"</tool_use>\"}"
	  "</arguments></tool_use>", "<<f {\"s\":\"</tool_use>\"}>>", 0, 0 },
	/* UTF-8 around and inside */
	{ "h\xc3\xa9llo [function_calls][call:f]{\"s\":\"\xc3\xa9\xe2\x82\xac"
	  "\"}[/call][/function_calls] w\xc3\xb6rld", "h\xc3\xa9llo <<f {\"s\":"
	  "\"\xc3\xa9\xe2\x82\xac\"}>> w\xc3\xb6rld", 0, 0 },
	/* a block that ends on other text */
	{ "[function_calls] hello", "[function_calls] hello", 0, 0 },
	{ "[function_calls]\n[call:f]{}[/call]\nand then", "<<f {}>>and then",
	  0, 0 },
};

static void
run(const struct fixture *f, const size_t *cuts, size_t ncuts, struct out *o)
{
	struct tools_parse_cb cb = { o, o_text, o_call };
	struct tools_parser p;
	size_t at = 0, i, n = strlen(f->in);

	memset(o, 0, sizeof(*o));
	o->want = f->want;
	buf_init(&o->log, 0);
	tools_parse_init(&p, &cb);
	if (!f->any) {
		p.fns = fns;
		p.nfns = sizeof(fns) / sizeof(fns[0]);
	}
	if (f->max)
		p.max_calls = f->max;
	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;
		ck_assert_int_eq(tools_parse_feed(&p, f->in + at, to - at),
		    TOOLS_OK);
		at = to;
	}
	ck_assert_int_eq(tools_parse_end(&p), TOOLS_OK);
	buf_add(&o->log, "", 1);
	tools_parse_free(&p);
}

static void
check(const struct fixture *f, struct out *o, const char *how)
{
	ck_assert_msg(strcmp(o->log.p, f->want) == 0, "%s: %s\n got  %s\n "
	    "want %s", how, f->in, o->log.p, f->want);
	ck_assert_msg(!o->leaked, "%s: gave out what is not the answer: %s",
	    how, f->in);
	buf_free(&o->log);
}

START_TEST(whole)
{
	struct out o;

	run(&fx[_i], NULL, 0, &o);
	check(&fx[_i], &o, "whole");
}
END_TEST

START_TEST(split_once)
{
	struct out o;
	size_t k, n = strlen(fx[_i].in);

	for (k = 0; k <= n; k++) {
		run(&fx[_i], &k, 1, &o);
		check(&fx[_i], &o, "split");
	}
}
END_TEST

START_TEST(byte_by_byte)
{
	struct out o;
	size_t k, n = strlen(fx[_i].in), *cuts;

	cuts = calloc(n + 1, sizeof(*cuts));
	for (k = 0; k < n; k++)
		cuts[k] = k;
	run(&fx[_i], cuts, n, &o);
	check(&fx[_i], &o, "bytes");
	free(cuts);
}
END_TEST

/* A receiver that stops: the scanner stops too, and says so. */
static int
stop_text(void *ctx, const char *s, size_t n)
{
	(void)ctx, (void)s, (void)n;
	return 1;
}

START_TEST(stops)
{
	struct out o;
	struct tools_parse_cb cb = { &o, stop_text, o_call };
	struct tools_parser p;

	memset(&o, 0, sizeof(o));
	tools_parse_init(&p, &cb);
	ck_assert_int_eq(tools_parse_feed(&p, "hi [x", 5), TOOLS_STOP);
	ck_assert_int_eq(tools_parse_feed(&p, "more", 4), TOOLS_STOP);
	ck_assert_int_eq(tools_parse_end(&p), TOOLS_STOP);
	ck_assert_str_eq(tools_strerror(TOOLS_STOP), "stopped by the receiver");
	tools_parse_free(&p);
}
END_TEST

/* A call longer than TOOLS_MAX_CALL is given back as text. */
START_TEST(too_long)
{
	struct fixture f;
	struct out o;
	char *in, *want;
	size_t n = TOOLS_MAX_CALL + 64;

	in = malloc(n + 32);
	memcpy(in, "[call:f]{\"a\":\"", 14);
	memset(in + 14, 'x', n - 14);
	strcpy(in + n, "\"}[/call]");
	want = strdup(in);
	f.in = in;
	f.want = want;
	f.any = 0;
	f.max = 0;
	run(&f, NULL, 0, &o);
	check(&f, &o, "long");
	free(in);
	free(want);
}
END_TEST

static const struct { const char *in, *want; } repairs[] = {
	{ "{}", "{}" },
	{ " {\"a\" : 1 } ", "{\"a\":1}" },
	{ "{a:1,b:'x',}", "{\"a\":1,\"b\":\"x\"}" },
	{ "{\"k\":\"a\rb\x01\"}", "{\"k\":\"a\\rb\\u0001\"}" },
	{ "{\"u\":\"\\u00e9/\"}", "{\"u\":\"\xc3\xa9/\"}" },
	{ "{\"a\":[{'b':[true,false,null,],},],}",
	  "{\"a\":[{\"b\":[true,false,null]}]}" },
	{ "[1]", NULL },
	{ "\"s\"", NULL },
	{ "{\"a\":1} {\"b\":2}", NULL },
	{ "{\"a\":1", NULL },
	{ "{\"a\":\"\xff\"}", NULL },
	{ "{\"a\":undefined}", NULL },
};

START_TEST(repair)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	rc = tools_json_repair(repairs[_i].in, strlen(repairs[_i].in), &b);
	if (repairs[_i].want == NULL)
		ck_assert_msg(rc == -1, "%s repaired", repairs[_i].in);
	else {
		ck_assert_int_eq(rc, 0);
		buf_add(&b, "", 1);
		ck_assert_str_eq(b.p, repairs[_i].want);
	}
	buf_free(&b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("tools_parse");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, whole, 0, sizeof(fx) / sizeof(fx[0]));
	tcase_add_loop_test(tc, split_once, 0, sizeof(fx) / sizeof(fx[0]));
	tcase_add_loop_test(tc, byte_by_byte, 0, sizeof(fx) / sizeof(fx[0]));
	tcase_add_test(tc, stops);
	tcase_add_test(tc, too_long);
	tcase_add_loop_test(tc, repair, 0,
	    sizeof(repairs) / sizeof(repairs[0]));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
