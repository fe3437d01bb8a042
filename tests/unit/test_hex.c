/* fcgi/hex.c: every byte value, and what the callers pass (EOF too). */
#include "config.h"

#include <stdio.h>

#include "fcgi/hex.h"
#include "unit.h"

START_TEST(all_bytes)
{
	int c, want;

	for (c = 0; c < 256; c++) {
		want = c >= '0' && c <= '9' ? c - '0' :
		    c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		ck_assert_int_eq(hex_value(c), want);
	}
	ck_assert_int_eq(hex_value(EOF), -1);
	ck_assert_int_eq(hex_value('F' + 256), -1);
	ck_assert_int_eq(hex_value((char)0xc6), -1);
}
END_TEST

static Suite *
hex_suite(void)
{
	Suite *s = suite_create("hex");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, all_bytes);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(hex_suite)
