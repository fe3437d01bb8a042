/* Arena: alignment, growth, big blocks, reset reuse, limit, printf. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "fcgi/arena.h"
#include "unit.h"

START_TEST(alloc_align_grow)
{
	struct arena a;
	int i;

	arena_init(&a, 0);
	for (i = 0; i < 5000; i++) {
		char *p = arena_alloc(&a, (size_t)(i % 97) + 1);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % 16, 0);
		memset(p, 0xab, (size_t)(i % 97) + 1);
	}
	ck_assert_ptr_nonnull(arena_alloc(&a, 1 << 20));
	arena_reset(&a);
	ck_assert_uint_eq(a.total, 0);
	ck_assert_ptr_nonnull(a.head);		/* first block kept */
	arena_free(&a);
	ck_assert_ptr_null(a.head);
}
END_TEST

START_TEST(strings)
{
	struct arena a;
	char *s;

	arena_init(&a, 0);
	s = arena_printf(&a, "%s-%d-%zu", "x", 42, (size_t)7);
	ck_assert_str_eq(s, "x-42-7");
	ck_assert_str_eq(arena_strndup(&a, "abcdef", 3), "abc");
	ck_assert_str_eq(arena_strdup(&a, ""), "");
	s = arena_calloc(&a, 10, 10);
	ck_assert_int_eq(s[99], 0);
	ck_assert_ptr_null(arena_calloc(&a, SIZE_MAX / 2, 4));
	arena_free(&a);
}
END_TEST

START_TEST(limit)
{
	struct arena a;

	arena_init(&a, 1000);
	ck_assert_ptr_nonnull(arena_alloc(&a, 900));
	ck_assert_ptr_null(arena_alloc(&a, 200));
	arena_reset(&a);
	ck_assert_ptr_nonnull(arena_alloc(&a, 200));
	arena_free(&a);
}
END_TEST

static Suite *
arena_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, alloc_align_grow);
	tcase_add_test(tc, strings);
	tcase_add_test(tc, limit);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(arena_suite)
