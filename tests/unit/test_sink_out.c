/*
 * upstream/sink_out.c: role() once and first, text and reasoning to
 * their callbacks, nothing for an empty delta, a callback's nonzero
 * answer as -1, and a sink without the callbacks left alone.
 */
#include "config.h"

#include <string.h>

#include "upstream/provider.h"
#include "upstream/sink_out.h"
#include "unit.h"

struct rec {
	char	 log[128];
	int	 stop_at;	/* the call that answers nonzero; 0: none */
	int	 calls;
};

static int
note(struct rec *r, const char *what, const char *s, size_t n)
{
	size_t len = strlen(r->log);

	snprintf(r->log + len, sizeof(r->log) - len, "%s(%.*s)", what,
	    (int)n, s);
	return ++r->calls == r->stop_at;
}

static int
on_role(void *ctx, const char *role)
{
	return note(ctx, "role", role, strlen(role));
}

static int
on_text(void *ctx, const char *s, size_t n)
{
	return note(ctx, "text", s, n);
}

static int
on_reasoning(void *ctx, const char *s, size_t n)
{
	return note(ctx, "think", s, n);
}

START_TEST(order)
{
	struct rec r = { "", 0, 0 };
	struct chat_sink k = { .ctx = &r, .role = on_role, .text = on_text,
	    .reasoning = on_reasoning };
	bool started = false;

	ck_assert_int_eq(sink_out_put(&k, &started, false, "", 0), 0);
	ck_assert(!started);
	ck_assert_int_eq(sink_out_put(&k, &started, true, "hm", 2), 0);
	ck_assert_int_eq(sink_out_put(&k, &started, false, "ab", 2), 0);
	ck_assert_int_eq(sink_out_role(&k, &started), 0);
	ck_assert(started);
	ck_assert_str_eq(r.log, "role(assistant)think(hm)text(ab)");
}
END_TEST

START_TEST(stop)
{
	struct rec r = { "", 1, 0 };
	struct chat_sink k = { .ctx = &r, .role = on_role, .text = on_text };
	bool started = false;

	/* the role's refusal stops the text */
	ck_assert_int_eq(sink_out_put(&k, &started, false, "ab", 2), -1);
	ck_assert_str_eq(r.log, "role(assistant)");
	r.stop_at = 2;
	ck_assert_int_eq(sink_out_put(&k, &started, false, "cd", 2), -1);
	ck_assert_int_eq(sink_out_put(&k, &started, false, "ef", 2), 0);
	ck_assert_str_eq(r.log, "role(assistant)text(cd)text(ef)");
}
END_TEST

START_TEST(absent)
{
	struct chat_sink k = { 0 };
	bool started = false;

	ck_assert_int_eq(sink_out_put(&k, &started, true, "x", 1), 0);
	ck_assert(started);
	ck_assert_int_eq(sink_out_role(&k, &started), 0);
}
END_TEST

static Suite *
sink_out_suite(void)
{
	Suite *s = suite_create("sink_out");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, order);
	tcase_add_test(tc, stop);
	tcase_add_test(tc, absent);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(sink_out_suite)
