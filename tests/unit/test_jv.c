/*
 * upstream/jv.c: lookups through anything (NULL, arrays, numbers) give
 * NULL rather than crash, and strings keep their length past a NUL.
 */
#include "config.h"

#include "upstream/jv.h"
#include "unit.h"

START_TEST(get_str_is)
{
	json_object *o = json_tokener_parse("{\"a\":{\"b\":\"x\\u0000y\"},"
	    "\"n\":1,\"l\":[\"a\"],\"s\":\"ok\"}");
	const char *s;
	size_t n = 0;

	ck_assert_ptr_nonnull(o);
	s = jv_str(jv_get(jv_get(o, "a"), "b"), &n);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(s, "x\0y", 3);
	ck_assert_ptr_null(jv_get(o, "missing"));
	ck_assert_ptr_null(jv_get(jv_get(o, "n"), "b"));
	ck_assert_ptr_null(jv_get(jv_get(o, "l"), "a"));
	ck_assert_ptr_null(jv_get(NULL, "a"));
	ck_assert_ptr_null(jv_str(jv_get(o, "n"), &n));
	ck_assert_ptr_null(jv_str(NULL, &n));
	ck_assert_str_eq(jv_cstr(o, "s"), "ok");
	ck_assert_ptr_null(jv_cstr(o, "n"));
	ck_assert_ptr_null(jv_cstr(o, "missing"));
	ck_assert_ptr_null(jv_cstr(jv_get(o, "l"), "a"));
	ck_assert_ptr_null(jv_cstr(NULL, "s"));
	ck_assert(jv_is(jv_get(o, "s"), "ok"));
	ck_assert(!jv_is(jv_get(o, "s"), "o"));
	ck_assert(!jv_is(jv_get(o, "s"), "okk"));
	ck_assert(!jv_is(jv_get(jv_get(o, "a"), "b"), "x"));
	ck_assert(!jv_is(jv_get(o, "n"), "1"));
	ck_assert(!jv_is(NULL, ""));
	json_object_put(o);
}
END_TEST

static Suite *
jv_suite(void)
{
	Suite *s = suite_create("jv");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, get_str_is);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(jv_suite)
