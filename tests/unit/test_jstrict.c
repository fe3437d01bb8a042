/* Strict JSON in strict UTF-8: what json-c lets through, refused. */
#include "config.h"

#include <string.h>

#include "fcgi/jstrict.h"
#include "unit.h"

static const struct { const char *s; size_t n; enum jstrict_err want; }
    cases[] = {
	{ "{}", 0, JSTRICT_OK },
	{ " \t\r\n{\"a\" : [1, -2.5e+3, 0, true, false, null, \"x\"]}\n", 0,
	  JSTRICT_OK },
	{ "\"\\u00e9\\n\\\\\\/\\\"\\b\\f\\r\\t\"", 0, JSTRICT_OK },
	{ "\"\xc3\xa9\xe4\xbd\xa0\xf0\x9f\x8c\x8d\"", 0, JSTRICT_OK },
	{ "[[[]]]", 0, JSTRICT_OK },
	{ "0", 0, JSTRICT_OK },
	{ "-0.0E-0", 0, JSTRICT_OK },
	{ "", 0, JSTRICT_EMPTY },
	{ "  \n", 0, JSTRICT_EMPTY },
	{ "{}x", 0, JSTRICT_TRAILING },
	{ "{} {}", 0, JSTRICT_TRAILING },
	{ "{}\0", 3, JSTRICT_TRAILING },
	{ "{'a':1}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":1,}", 0, JSTRICT_SYNTAX },
	{ "[1,]", 0, JSTRICT_SYNTAX },
	{ "/*c*/{}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":NaN}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":Infinity}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":01}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":1.}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":.5}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":+1}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":1e}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":-}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":tru}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":True}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":\"x\ty\"}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":\"x\\q\"}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":\"\\u12g4\"}", 0, JSTRICT_SYNTAX },
	{ "{\"a\":\"x\0y\"}", 11, JSTRICT_SYNTAX },
	{ "{\"a\":\"open", 0, JSTRICT_SYNTAX },
	{ "{\"a\" 1}", 0, JSTRICT_SYNTAX },
	{ "{1:2}", 0, JSTRICT_SYNTAX },
	{ "[1 2]", 0, JSTRICT_SYNTAX },
	{ "{", 0, JSTRICT_SYNTAX },
	{ "{\"a\":\"\xff\"}", 0, JSTRICT_UTF8 },
	/* overlong, a surrogate, past U+10FFFF, cut short */
	{ "{\"a\":\"\xc0\xaf\"}", 0, JSTRICT_UTF8 },
	{ "{\"a\":\"\xed\xa0\x80\"}", 0, JSTRICT_UTF8 },
	{ "{\"a\":\"\xf4\x90\x80\x80\"}", 0, JSTRICT_UTF8 },
	{ "{\"a\":\"\xe4\xbd\"}", 0, JSTRICT_UTF8 },
	{ "\xef\xbb\xbf{}", 0, JSTRICT_SYNTAX },		/* BOM */
	{ "\xfe{}", 0, JSTRICT_UTF8 },
};

START_TEST(verdicts)
{
	size_t n = cases[_i].n ? cases[_i].n : strlen(cases[_i].s), off;
	enum jstrict_err e;

	e = jstrict_check(cases[_i].s, n, 8, &off);
	ck_assert_msg(e == cases[_i].want, "case %d: %s, want %s", _i,
	    jstrict_strerror(e), jstrict_strerror(cases[_i].want));
	ck_assert_uint_le(off, n);
	ck_assert_ptr_nonnull(jstrict_strerror(e));
}
END_TEST

START_TEST(depth)
{
	char s[64];

	memset(s, '[', 10);
	memset(s + 10, ']', 10);
	ck_assert_int_eq(jstrict_check(s, 20, 10, NULL), JSTRICT_OK);
	ck_assert_int_eq(jstrict_check(s, 20, 9, NULL), JSTRICT_DEPTH);
	/* the stop offset points at what was wrong */
	{
		size_t off;

		ck_assert_int_eq(jstrict_check("{\"a\":1} x", 9, 4, &off),
		    JSTRICT_TRAILING);
		ck_assert_uint_eq(off, 8);
		ck_assert_int_eq(jstrict_check("[1,\"\xff\"]", 7, 4, &off),
		    JSTRICT_UTF8);
		ck_assert_uint_eq(off, 4);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("jstrict");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, verdicts, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, depth);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
