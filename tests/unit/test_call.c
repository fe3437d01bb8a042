/*
 * upstream/call.c's sink helpers: the out-of-memory answer every
 * provider gives, and none without a sink.
 */
#include "config.h"

#include <string.h>

#include "upstream/call.h"
#include "unit.h"

struct seen {
	int	 status, calls;
	char	 code[32], msg[64];
};

static int
on_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct seen *s = ctx;

	(void)type;
	s->status = status;
	s->calls++;
	snprintf(s->code, sizeof(s->code), "%s", code);
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
	return 0;
}

START_TEST(nomem)
{
	struct seen s = { 0 };
	struct chat_sink k = { .ctx = &s, .error = on_error };

	call_fail_nomem(&k);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_int_eq(s.status, 503);
	ck_assert_str_eq(s.code, "overloaded");
	ck_assert_str_eq(s.msg, "Out of memory.");
	call_fail_nomem(NULL);
	ck_assert_int_eq(s.calls, 1);
}
END_TEST

static Suite *
call_suite(void)
{
	Suite *s = suite_create("call");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, nomem);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(call_suite)
