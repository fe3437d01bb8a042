/*
 * upstream/chat_text.c: system roles, "has text" and the "\n" join that
 * skips empty and non-text parts.
 */
#include "config.h"

#include "fcgi/buf.h"
#include "upstream/chat_text.h"
#include "upstream/provider.h"
#include "unit.h"

static struct chat_part parts[] = {
	{ .type = CHAT_PART_TEXT, .text = "", .len = 0 },
	{ .type = CHAT_PART_TEXT, .text = "a", .len = 1 },
	{ .type = CHAT_PART_IMAGE },
	{ .type = CHAT_PART_TEXT, .text = "", .len = 0 },
	{ .type = CHAT_PART_TEXT, .text = "b\nc", .len = 3 },
};

START_TEST(roles)
{
	struct chat_message m = { .role = CHAT_ROLE_SYSTEM };

	ck_assert(chat_text_system(&m));
	m.role = CHAT_ROLE_DEVELOPER;
	ck_assert(chat_text_system(&m));
	m.role = CHAT_ROLE_USER;
	ck_assert(!chat_text_system(&m));
	m.role = CHAT_ROLE_TOOL;
	ck_assert(!chat_text_system(&m));
}
END_TEST

START_TEST(join)
{
	struct chat_message m = { .role = CHAT_ROLE_USER, .parts = parts,
	    .nparts = 5 };
	struct buf b;

	buf_init(&b, 0);
	ck_assert(chat_text_any(&m));
	chat_text_join(&b, &m);
	ck_assert_str_eq(b.p, "a\nb\nc");
	m.nparts = 1;
	ck_assert(!chat_text_any(&m));
	buf_reset(&b);
	chat_text_join(&b, &m);
	ck_assert_uint_eq(b.len, 0);
	m.parts = parts + 2;
	ck_assert(!chat_text_any(&m));
	m.nparts = 0;
	ck_assert(!chat_text_any(&m));
	buf_free(&b);
}
END_TEST

static Suite *
chat_text_suite(void)
{
	Suite *s = suite_create("chat_text");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, roles);
	tcase_add_test(tc, join);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(chat_text_suite)
