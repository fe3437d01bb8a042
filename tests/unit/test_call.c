/*
 * upstream/call.c's sink helpers: the out-of-memory answer every
 * provider gives, and none without a sink; a session's chat ids kept
 * only once an answer is complete.
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

START_TEST(session_ids_kept_when_asked)
{
	struct provider_session ps;
	char long_id[PROVIDER_SESSION_ID_MAX + 50];

	memset(&ps, 0, sizeof(ps));
	ck_assert_ptr_null(ps.out);
	ck_assert_int_eq(call_session_keep(&ps, "chat-1", "msg-2"), 0);
	ck_assert_str_eq(ps.out->chat, "chat-1");
	ck_assert_str_eq(ps.out->parent, "msg-2");
	/* a provider with no parent id; the same storage again */
	ck_assert_int_eq(call_session_keep(&ps, "chat-3", NULL), 0);
	ck_assert_str_eq(ps.out->chat, "chat-3");
	ck_assert_str_eq(ps.out->parent, "");
	/* cut at the limit, as the store's record is */
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	ck_assert_int_eq(call_session_keep(&ps, long_id, long_id), 0);
	ck_assert_uint_eq(strlen(ps.out->chat), PROVIDER_SESSION_ID_MAX);
	ck_assert_uint_eq(strlen(ps.out->parent), PROVIDER_SESSION_ID_MAX);
	call_session_clear(&ps);
	ck_assert_ptr_null(ps.out);
	call_session_clear(&ps);	/* twice is harmless */
}
END_TEST

static Suite *
call_suite(void)
{
	Suite *s = suite_create("call");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, nomem);
	tcase_add_test(tc, session_ids_kept_when_asked);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(call_suite)
