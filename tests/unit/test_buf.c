/*
 * fcgi/buf.c: the growable buffer's limit, its UTF-8 writer, which
 * the stream decoders put upstream text through, and its markdown URL
 * writer.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "fcgi/buf.h"
#include "unit.h"

static void
clean(const char *in, size_t n, size_t max, int line, const char *want,
    size_t wn)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_add_utf8(&b, in, n, max, line), 0);
	ck_assert_uint_eq(b.len, wn);
	ck_assert_mem_eq(b.p != NULL ? b.p : "", want, b.len);
	buf_free(&b);
}

/* literals, so embedded NULs count */
#define CLEAN(in, line, want) \
	clean(in, sizeof(in) - 1, SIZE_MAX, line, want, sizeof(want) - 1)
#define CUT(in, max, want) \
	clean(in, sizeof(in) - 1, max, 0, want, sizeof(want) - 1)

#define FFFD	"\xef\xbf\xbd"

START_TEST(utf8_cleaning)
{
	CLEAN("plain", 0, "plain");
	CLEAN("", 0, "");
	CLEAN("\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80", 0,
	    "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80");
	CLEAN("a\xff" "b", 0, "a" FFFD "b");
	CLEAN("\xc0\x80", 0, FFFD FFFD);			/* overlong */
	CLEAN("\xe0\x9f\xbf", 0, FFFD FFFD FFFD);		/* overlong */
	CLEAN("\xed\xa0\x80", 0, FFFD FFFD FFFD);		/* surrogate */
	CLEAN("\xed\x9f\xbf", 0, "\xed\x9f\xbf");		/* U+D7FF */
	CLEAN("\xf4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD);	/* > 10FFFF */
	CLEAN("\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf");	/* U+10FFFF */
	CLEAN("x\xe4\xbd", 0, "x" FFFD FFFD);		/* cut short */
	CLEAN("\xe4" "a\xbd", 0, FFFD "a" FFFD);
	CLEAN("a\tb\nc\x7f" "d", 0, "a\tb\nc\x7f" "d");
	CLEAN("a\tb\nc\x7f" "d", 1, "a b c d");
	CLEAN("nul\0x", 0, "nul\0x");
}
END_TEST

START_TEST(utf8_cut)
{
	CUT("abc", 2, "ab");
	CUT("a\xe4\xbd\xa0", 3, "a");		/* not half a character */
	CUT("a\xe4\xbd\xa0", 4, "a\xe4\xbd\xa0");
	CUT("a\xff", 3, "a");			/* nor half a U+FFFD */
	CUT("a\xff", 4, "a" FFFD);
	CUT("abc", 0, "");
}
END_TEST

START_TEST(limit_sticks)
{
	struct buf b;

	buf_init(&b, 4);
	ck_assert_int_eq(buf_add_utf8(&b, "abcd", 4, SIZE_MAX, 0), 0);
	ck_assert_int_eq(buf_add_utf8(&b, "e", 1, SIZE_MAX, 0), -1);
	ck_assert(b.failed);
	ck_assert_int_eq(buf_add_utf8(&b, "", 0, SIZE_MAX, 0), -1);
	buf_reset(&b);
	ck_assert_int_eq(buf_add_utf8(&b, "\xff", 1, SIZE_MAX, 0), 0);
	ck_assert_str_eq(b.p, FFFD);
	buf_free(&b);
}
END_TEST

START_TEST(mdurl)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_add_mdurl(&b, "https://a.b/c?d=e&f#g", 21), 0);
	ck_assert_str_eq(b.p, "https://a.b/c?d=e&f#g");
	buf_reset(&b);
	ck_assert_int_eq(buf_add_mdurl(&b, "h://x y(z)<>\"`[]\\\x7f\xc3\xa9",
	    20), 0);
	ck_assert_str_eq(b.p, "h://x%20y%28z%29%3C%3E%22%60%5B%5D%5C%7F%C3%A9");
	buf_reset(&b);
	ck_assert_int_eq(buf_add_mdurl(&b, "a\0b", 3), 0);
	ck_assert_str_eq(b.p, "a%00b");
	buf_free(&b);
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, utf8_cleaning);
	tcase_add_test(tc, utf8_cut);
	tcase_add_test(tc, limit_sticks);
	tcase_add_test(tc, mdurl);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(buf_suite)
