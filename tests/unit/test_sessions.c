/*
 * The session table (store/sessions.c): put and take, one taker only,
 * replacement, expiry through the index, and what comes back to delete.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/sessions.h"
#include "handlers/session.h"
#include "acct_fixture.h"
#include "tests/unit/store_backend.h"

#define T0	1896062400LL

static struct store_session
mk(int k, const char *chat, const char *parent)
{
	struct store_session r;

	memset(&r, 0, sizeof(r));
	memset(r.key, k, sizeof(r.key));
	snprintf(r.provider, sizeof(r.provider), "deepseek");
	snprintf(r.account, sizeof(r.account), "%s", NOID);
	snprintf(r.chat_id, sizeof(r.chat_id), "%s", chat);
	snprintf(r.parent_id, sizeof(r.parent_id), "%s", parent);
	r.turns = (uint32_t)k;
	return r;
}

static int
count_fn(void *u, const struct store_session *r)
{
	(void)r;
	(*(int *)u)++;
	return 0;
}

static int
live(void)
{
	int n = 0;

	OK(store_session_each(st, count_fn, &n));
	return n;
}

/*
 * session_clear() zeroes the request's session state; the list of chats
 * to delete lives in the arena, so the struct a parked stream keeps on
 * its stack stays small (BENCHMARKS.md §20).
 */
START_TEST(handler_session_clear)
{
	static struct session ss;
	const unsigned char *p = (const unsigned char *)&ss;
	size_t i;

	memset(&ss, 0xa5, sizeof(ss));
	session_clear(&ss);
	for (i = 0; i < sizeof(ss); i++)
		ck_assert_uint_eq(p[i], 0);
	ck_assert_uint_eq(ss.ngone, 0);
	ck_assert_ptr_null(ss.gone);
	ck_assert_ptr_null(ss.r);
	ck_assert_uint_lt(sizeof(ss), 2048);
}
END_TEST

START_TEST(put_take_once)
{
	struct store_session r = mk(1, "chat-a", "12"), got, gone[4];
	size_t ng;

	set_clock(st, T0);
	OK(store_session_put(st, &r, 600, NULL, gone, 4, &ng));
	ck_assert_uint_eq(ng, 0);
	ck_assert_int_eq(live(), 1);
	OK(store_session_take(st, r.key, &got));
	ck_assert_str_eq(got.chat_id, "chat-a");
	ck_assert_str_eq(got.parent_id, "12");
	ck_assert_str_eq(got.provider, "deepseek");
	ck_assert_str_eq(got.account, NOID);
	ck_assert_int_eq(got.created, T0);
	ck_assert_int_eq(got.expires, T0 + 600);
	ck_assert_uint_eq(got.turns, 1);
	/* taken: a second taker finds nothing; the claim is still listed */
	IS(store_session_take(st, r.key, &got), STORE_NOTFOUND);
	ck_assert_int_eq(live(), 1);
}
END_TEST

START_TEST(created_kept_across_turns)
{
	struct store_session r = mk(2, "chat-b", ""), got, gone[4];
	size_t ng;

	set_clock(st, T0);
	OK(store_session_put(st, &r, 600, NULL, gone, 4, &ng));
	set_clock(st, T0 + 100);
	OK(store_session_take(st, r.key, &got));
	r = mk(3, "chat-b", "4");
	r.created = got.created;
	OK(store_session_put(st, &r, 600, got.key, gone, 4, &ng));
	ck_assert_int_eq(live(), 1);
	OK(store_session_take(st, r.key, &got));
	ck_assert_int_eq(got.created, T0);
	ck_assert_int_eq(got.expires, T0 + 700);
}
END_TEST

START_TEST(expired_are_handed_back)
{
	struct store_session r, got, gone[STORE_SESSION_PRUNE];
	size_t ng;
	int i;

	set_clock(st, T0);
	for (i = 1; i <= 12; i++) {
		char chat[16];

		snprintf(chat, sizeof(chat), "old-%d", i);
		r = mk(i, chat, "");
		OK(store_session_put(st, &r, 60 + i, NULL, NULL, 0, &ng));
	}
	ck_assert_int_eq(live(), 12);
	/* all expired: a take finds nothing, and leaves it to prune */
	set_clock(st, T0 + 1000);
	IS(store_session_take(st, mk(5, "", "").key, &got), STORE_NOTFOUND);
	ck_assert_int_eq(live(), 0);	/* each() skips expired ones */
	/* a put takes out the oldest first, a few at a time */
	r = mk(100, "new", "");
	OK(store_session_put(st, &r, 600, NULL, gone, 4, &ng));
	ck_assert_uint_eq(ng, 4);
	ck_assert_str_eq(gone[0].chat_id, "old-1");
	ck_assert_str_eq(gone[3].chat_id, "old-4");
	/* the rest come in order, a batch at a time */
	OK(store_session_expired(st, gone, STORE_SESSION_PRUNE, &ng));
	ck_assert_uint_eq(ng, 8);
	ck_assert_str_eq(gone[0].chat_id, "old-5");
	ck_assert_str_eq(gone[7].chat_id, "old-12");
	OK(store_session_expired(st, gone, STORE_SESSION_PRUNE, &ng));
	ck_assert_uint_eq(ng, 0);
	ck_assert_int_eq(live(), 1);
	OK(store_session_take(st, r.key, &got));
	ck_assert_str_eq(got.chat_id, "new");
}
END_TEST

START_TEST(replaced_named_session)
{
	struct store_session r = mk(7, "first", ""), gone[4];
	size_t ng;

	set_clock(st, T0);
	r.named = 1;
	OK(store_session_put(st, &r, 600, NULL, gone, 4, &ng));
	ck_assert_uint_eq(ng, 0);
	/* the same chat again: nothing to delete */
	OK(store_session_put(st, &r, 600, NULL, gone, 4, &ng));
	ck_assert_uint_eq(ng, 0);
	/* another chat under the name: the first one comes back */
	r = mk(7, "second", "");
	OK(store_session_put(st, &r, 600, NULL, gone, 4, &ng));
	ck_assert_uint_eq(ng, 1);
	ck_assert_str_eq(gone[0].chat_id, "first");
	ck_assert_int_eq(live(), 1);
}
END_TEST

START_TEST(claims)
{
	struct store_session r = mk(9, "chat-c", "2"), got, gone[4];
	size_t ng;

	set_clock(st, T0);
	OK(store_session_put(st, &r, 600, NULL, gone, 4, &ng));
	OK(store_session_take(st, r.key, &got));
	/* held: nobody else continues it, and it is still listed */
	IS(store_session_take(st, r.key, &got), STORE_NOTFOUND);
	ck_assert_int_eq(live(), 1);
	/* the next turn's record ends the claim */
	r = mk(10, "chat-c", "4");
	OK(store_session_put(st, &r, 600, got.key, gone, 4, &ng));
	ck_assert_uint_eq(ng, 0);
	ck_assert_int_eq(live(), 1);
	IS(store_session_take(st, mk(9, "", "").key, &got), STORE_NOTFOUND);
	/* a claim whose worker died expires and comes back to be deleted */
	OK(store_session_take(st, r.key, &got));
	set_clock(st, T0 + STORE_SESSION_CLAIM_S + 1);
	OK(store_session_expired(st, gone, 4, &ng));
	ck_assert_uint_eq(ng, 1);
	ck_assert_str_eq(gone[0].chat_id, "chat-c");
	ck_assert_int_eq(live(), 0);
	/* a dropped claim is gone at once */
	r = mk(11, "chat-d", "");
	OK(store_session_put(st, &r, 600, NULL, gone, 4, &ng));
	OK(store_session_take(st, r.key, &got));
	OK(store_session_drop(st, r.key));
	ck_assert_int_eq(live(), 0);
	OK(store_session_expired(st, gone, 4, &ng));
	ck_assert_uint_eq(ng, 0);
}
END_TEST

START_TEST(limits)
{
	struct store_session r = mk(8, "", ""), gone[1];
	size_t ng;

	memset(r.chat_id, 'x', sizeof(r.chat_id) - 1);
	OK(store_session_put(st, &r, 600, NULL, gone, 1, &ng));
	IS(store_session_put(st, &r, 0, NULL, gone, 1, &ng), STORE_INVAL);
	IS(store_session_put(st, &r, 600, NULL, NULL, 1, &ng), STORE_INVAL);
	IS(store_session_put(NULL, &r, 600, NULL, gone, 1, &ng), STORE_INVAL);
}
END_TEST

static Suite *
sessions_suite(void)
{
	Suite *s = suite_create("sessions");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, handler_session_clear);
	tcase_add_test(tc, put_take_once);
	tcase_add_test(tc, created_kept_across_turns);
	tcase_add_test(tc, expired_are_handed_back);
	tcase_add_test(tc, replaced_named_session);
	tcase_add_test(tc, claims);
	tcase_add_test(tc, limits);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN_BACKENDS(sessions_suite)
