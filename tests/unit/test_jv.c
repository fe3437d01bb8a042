/*
 * upstream/jv.c: lookups through anything (NULL, arrays, numbers) give
 * NULL rather than crash, and strings keep their length past a NUL;
 * a compacted tree reads, prints, grows and shrinks as before, in less
 * room.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

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

/* An object of n members k0.. (every third an array of two objects). */
static json_object *
tree(int n)
{
	json_object *o = json_object_new_object(), *a;
	char k[16];

	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		if (i % 3 == 2) {
			a = json_object_new_array();
			json_object_array_add(a, json_object_new_object());
			json_object_array_add(a, json_object_new_int(i));
			json_object_object_add(o, k, a);
		} else
			json_object_object_add(o, k, json_object_new_int(i));
	}
	return o;
}

START_TEST(compact_same_tree)
{
	static const int sizes[] = { 0, 1, 2, 3, 4, 7, 10, 11, 12, 16, 17,
	    40, 99, 100, 101, 150, 200 };
	char k[16];

	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		int n = sizes[z];
		json_object *a = tree(n), *b = tree(n), *v;

		jv_compact(a);
		jv_compact(NULL);
		ck_assert_str_eq(json_object_to_json_string(a),
		    json_object_to_json_string(b));
#ifdef HAVE_LH_TABLE_RESIZE
		if (n < 8)
			ck_assert_int_lt(json_object_get_object(a)->size, 16);
		ck_assert_int_gt(json_object_get_object(a)->size, n);
#endif
		for (int i = 0; i < n; i++) {
			snprintf(k, sizeof(k), "k%d", i);
			ck_assert(json_object_object_get_ex(a, k, &v));
		}
		ck_assert(!json_object_object_get_ex(a, "k-1", &v));
		/* grows past its new size, loses members, grows again */
		for (int i = n; i < n + 40; i++) {
			snprintf(k, sizeof(k), "k%d", i);
			json_object_object_add(a, k, json_object_new_int(i));
			json_object_object_add(b, k, json_object_new_int(i));
		}
		for (int i = 0; i < n + 40; i += 2) {
			snprintf(k, sizeof(k), "k%d", i);
			json_object_object_del(a, k);
			json_object_object_del(b, k);
		}
		jv_compact(a);
		json_object_object_add(a, "last", json_object_new_null());
		json_object_object_add(b, "last", json_object_new_null());
		if (n > 5) {
			json_object_array_add(jv_get(a, "k5"),
			    json_object_new_int(7));
			json_object_array_add(jv_get(b, "k5"),
			    json_object_new_int(7));
		}
		ck_assert_str_eq(json_object_to_json_string(a),
		    json_object_to_json_string(b));
		for (int i = 1; i < n + 40; i += 2) {
			snprintf(k, sizeof(k), "k%d", i);
			ck_assert(json_object_object_get_ex(a, k, &v));
			ck_assert_int_eq(json_object_get_type(v),
			    i % 3 == 2 && i < n ? json_type_array :
			    json_type_int);
		}
		json_object_put(a);
		json_object_put(b);
	}
}
END_TEST

static Suite *
jv_suite(void)
{
	Suite *s = suite_create("jv");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, get_str_is);
	tcase_add_test(tc, compact_same_tree);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(jv_suite)
