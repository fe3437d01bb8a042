/*
 * Picking accounts (store/acct_pick.c): every strategy with exact counts,
 * daily limits per local day and their refunds, outcomes, the skip list
 * and pins, and exactness across processes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fcgi/log.h"
#include "handlers/acct_lines.h"
#include "store/accounts.h"
#include "store/crypto.h"
#include "store/store_priv.h"
#include "store/tokcache.h"
#include "upstream/chatgpt/chatgpt.h"
#include "upstream/deepseek/deepseek.h"
#include "acct_fixture.h"
#include "tests/unit/store_backend.h"

#define OK(e)		ck_assert_int_eq((e), STORE_OK)
#define IS(e, want)	ck_assert_int_eq((e), (want))
#define CG		"chatgpt"
#define DS		"deepseek"
#define NOID		"0123456789abcdef0123456789abcdef"

/* 2030-01-31 12:00 and 2030-02-01 00:00 in UTC+8 (Asia/Shanghai). */
#define NOON		1896062400LL
#define MIDNIGHT	1896105600LL

static void
fork_pickers(int nproc, int picks, const struct acct_pick_opts *o,
    int record_ok, int counts[8])
{
	pid_t pids[16];
	int fds[2], i, j, k, status;
	unsigned char b;

	IS(pipe(fds), 0);
	for (i = 0; i < nproc; i++) {
		ck_assert_int_ge(pids[i] = fork(), 0);
		if (pids[i] != 0)
			continue;
		struct store *s2;
		char err[64];

		close(fds[0]);
		if (unit_store_open(&s2, dir, 1 << 20) != STORE_OK ||
		    store_key_init(s2, NULL, err, sizeof(err)) != STORE_OK)
			_exit(1);
		store_set_clock_skew(s2, st->clock_skew);
		for (j = 0; j < picks; j++) {
			struct acct_pick p;
			struct acct_result r = { ACCT_OUT_OK, 5, NULL, 0, 0 };
			enum store_err e = acct_pick(s2, o, &p, NULL);

			if (e == STORE_NOTFOUND)
				break;
			if (e != STORE_OK)
				_exit(2);
			for (k = 0; k < 8 && strcmp(ids[k], p.info.id); k++)
				;
			b = (unsigned char)k;
			if (k == 8 || strcmp(p.secret, secs[k]) != 0 ||
			    write(fds[1], &b, 1) != 1)
				_exit(3);
			if (record_ok && acct_record(s2, o->provider,
			    p.info.id, &r) != STORE_OK)
				_exit(4);
			acct_pick_free(&p);
		}
		store_close(s2);
		_exit(0);
	}
	close(fds[1]);
	memset(counts, 0, 8 * sizeof(int));
	while (read(fds[0], &b, 1) == 1)
		counts[b]++;
	close(fds[0]);
	for (i = 0; i < nproc; i++) {
		IS(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

/* Four processes share one round-robin cursor: exactly fair. */
START_TEST(round_robin_fair_across_processes)
{
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	int counts[8], i;

	mkn(CG, 0, 4, NULL, NULL);
	fork_pickers(4, 60, &o, 0, counts);
	for (i = 0; i < 4; i++)
		IS(counts[i], 60);
}
END_TEST

/* Eight processes against daily limits: no use lost, doubled or over. */
START_TEST(limits_exact_across_processes)
{
	static const uint32_t lim[] = { 5, 7, 11 };
	struct acct_pick_opts o = opts(DS, ACCT_ROUND_ROBIN);
	struct acct_pick_why w;
	struct acct_info in;
	int counts[8], i;

	mkn(DS, 0, 3, lim, NULL);
	fork_pickers(8, 40, &o, 1, counts);
	for (i = 0; i < 3; i++) {
		IS(counts[i], lim[i]);
		in = get(ids[i]);
		IS(in.today_use, lim[i]);
		IS(in.requests, lim[i]);
		IS(in.successes, lim[i]);
	}
	IS(pick_idx(st, &o, &w), -1);
	IS(w.over_limit, 3);
}
END_TEST

START_TEST(strategy_round_robin)
{
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	int seq[30], counts[3] = { 0 }, i;

	mkn(CG, 0, 3, NULL, NULL);
	for (i = 0; i < 30; i++)
		counts[seq[i] = pick_idx(st, &o, NULL)]++;
	for (i = 0; i < 3; i++)
		IS(counts[i], 10);
	for (i = 3; i < 30; i++)
		IS(seq[i], seq[i - 3]);
	ck_assert(seq[0] != seq[1] && seq[1] != seq[2] && seq[0] != seq[2]);
}
END_TEST

START_TEST(strategy_fill_first)
{
	static const uint32_t lim[] = { 3, 2, 0 };
	static const int want[10] = { 0, 0, 0, 1, 1, 2, 2, 2, 2, 2 };
	struct acct_pick_opts o = opts(CG, ACCT_FILL_FIRST);
	int i;

	mkn(CG, 0, 3, lim, NULL);
	for (i = 0; i < 10; i++)
		IS(pick_idx(st, &o, NULL), want[i]);
	/* a refund on the oldest brings it back first */
	record(CG, ids[0], ACCT_OUT_SOFT, NULL, 0, 1);
	IS(pick_idx(st, &o, NULL), 0);
	IS(pick_idx(st, &o, NULL), 2);
}
END_TEST

START_TEST(strategy_failover)
{
	struct acct_pick_opts o = opts(CG, ACCT_FAILOVER);
	int i;

	mkn(CG, 0, 3, NULL, NULL);
	for (i = 0; i < 3; i++)
		IS(pick_idx(st, &o, NULL), 0);
	record(CG, ids[0], ACCT_OUT_SOFT, NULL, 0, 0);
	for (i = 0; i < 3; i++)
		IS(pick_idx(st, &o, NULL), 1);
	record(CG, ids[1], ACCT_OUT_SOFT, NULL, 0, 0);
	IS(pick_idx(st, &o, NULL), 2);
	set_clock(st, NOON + 100 + ACCT_FAIL_WINDOW - 2);
	IS(pick_idx(st, &o, NULL), 2);
	set_clock(st, NOON + 100 + ACCT_FAIL_WINDOW + 1);
	IS(pick_idx(st, &o, NULL), 0);
	/* all failing: the one that failed longest ago */
	record(CG, ids[2], ACCT_OUT_SOFT, NULL, 0, 0);
	set_clock(st, NOON + 100 + ACCT_FAIL_WINDOW + 5);
	record(CG, ids[0], ACCT_OUT_SOFT, NULL, 0, 0);
	record(CG, ids[1], ACCT_OUT_SOFT, NULL, 0, 0);
	IS(pick_idx(st, &o, NULL), 2);
	/* an answer ends the streak at once */
	record(CG, ids[0], ACCT_OUT_OK, NULL, 0, 0);
	IS(pick_idx(st, &o, NULL), 0);
}
END_TEST

START_TEST(strategy_weighted)
{
	static const uint32_t wt[] = { 1, 2, 3 };
	struct acct_pick_opts o = opts(CG, ACCT_WEIGHTED);
	int seq[60], counts[3] = { 0 }, win[3], i, j, run = 1, maxrun = 1;

	mkn(CG, 0, 3, NULL, wt);
	for (i = 0; i < 60; i++)
		counts[seq[i] = pick_idx(st, &o, NULL)]++;
	IS(counts[0], 10);
	IS(counts[1], 20);
	IS(counts[2], 30);
	/* exact in every 6 in a row ... */
	for (i = 0; i + 6 <= 60; i++) {
		memset(win, 0, sizeof(win));
		for (j = i; j < i + 6; j++)
			win[seq[j]]++;
		ck_assert(win[0] == 1 && win[1] == 2 && win[2] == 3);
	}
	/* ... and interleaved: never a whole weight in one run */
	for (i = 1; i < 60; i++)
		if ((run = seq[i] == seq[i - 1] ? run + 1 : 1) > maxrun)
			maxrun = run;
	ck_assert_msg(maxrun <= 2, "weighted picks come in runs of %d: "
	    "%d%d%d%d%d%d", maxrun, seq[0], seq[1], seq[2], seq[3], seq[4],
	    seq[5]);
}
END_TEST

START_TEST(strategy_random)
{
	struct acct_pick_opts o = opts(CG, ACCT_RANDOM);
	int counts[3] = { 0 }, i;

	mkn(CG, 0, 3, NULL, NULL);
	for (i = 0; i < 300; i++)
		counts[pick_idx(st, &o, NULL)]++;
	/* expected 100 each; under 50 has odds below 1e-8 */
	for (i = 0; i < 3; i++)
		ck_assert_int_ge(counts[i], 50);
}
END_TEST

/* Seconds left of the day at a clock set just now: one may have passed. */
static void
assert_left(int64_t want)
{
	int64_t left = store_day_left(st);

	ck_assert_msg(left == want || left == want - 1, "day left %lld, "
	    "want %lld", (long long)left, (long long)want);
}

START_TEST(day_boundary)
{
	set_clock(st, MIDNIGHT - 10);
	IS(store_today(st), 20300131);
	assert_left(10);
	set_clock(st, MIDNIGHT + 10);
	IS(store_today(st), 20300201);
	assert_left(86400 - 10);
	/* the same instant is still January 31 in UTC */
	setenv("TZ", "UTC0", 1);
	tzset();
	IS(store_today(st), 20300131);
	assert_left(8 * 3600 - 10);
	setenv("TZ", "CST-8", 1);
	tzset();
	/* a month and a year end */
	set_clock(st, MIDNIGHT + 58 * 86400 + 3600);
	IS(store_today(st), 20300331);
	next_day();
	IS(store_today(st), 20300401);
	set_clock(st, MIDNIGHT + 333 * 86400 + 3600);
	IS(store_today(st), 20301231);
	next_day();
	IS(store_today(st), 20310101);
}
END_TEST

/* A: limit 2, B: limit 1; picks until none is left. */
static void
use_up(const struct acct_pick_opts *o)
{
	int counts[2] = { 0 }, i;

	for (i = 0; i < 3; i++)
		counts[pick_idx(st, o, NULL)]++;
	IS(counts[0], 2);
	IS(counts[1], 1);
}

START_TEST(daily_limit_and_refund)
{
	static const uint32_t lim[] = { 2, 1 };
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	struct acct_pick_why w;
	struct acct_counts c;

	mkn(CG, 0, 2, lim, NULL);
	use_up(&o);
	IS(pick_idx(st, &o, &w), -1);
	IS(w.total, 2);
	IS(w.over_limit, 2);
	IS(get(ids[0]).today_use, 2);
	OK(acct_count(st, CG, &c));
	IS(c.over_limit, 2);
	IS(c.usable, 0);
	/* an outcome without refund keeps the use; with one gives it back */
	record(CG, ids[0], ACCT_OUT_SOFT, NULL, 0, 0);
	IS(get(ids[0]).today_use, 2);
	record(CG, ids[0], ACCT_OUT_SOFT, NULL, 0, 1);
	IS(get(ids[0]).today_use, 1);
	IS(pick_idx(st, &o, NULL), 0);
	IS(pick_idx(st, &o, &w), -1);
	/* a new local day: usable again, counted from zero */
	next_day();
	IS(store_today(st), 20300201);
	IS(get(ids[0]).today_use, 0);
	OK(acct_count(st, CG, &c));
	IS(c.usable, 2);
	use_up(&o);
	IS(pick_idx(st, &o, NULL), -1);
	/* a refund of yesterday's use leaves today's alone */
	next_day();
	record(CG, ids[0], ACCT_OUT_OK, NULL, 0, 1);
	IS(get(ids[0]).today_use, 0);
	use_up(&o);
	IS(pick_idx(st, &o, NULL), -1);
}
END_TEST

START_TEST(outcomes)
{
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	struct acct_pick_why w;
	struct acct_result r = { ACCT_OUT_OK, 0, NULL, 0, 0 };
	struct acct_info in;
	struct acct_counts c;
	int seen[4] = { 0 }, i;

	mkn(CG, 0, 4, NULL, NULL);
	record(CG, ids[0], ACCT_OUT_ERROR, "401: bad token", 0, 0);
	in = get(ids[0]);
	IS(in.status, ACCT_ERROR);
	ck_assert_str_eq(in.last_error, "401: bad token");
	IS(in.error_count, 1);
	IS(in.requests, 1);
	IS(in.failures, 1);
	IS(in.last_latency_ms, 120);
	ck_assert_int_ge(in.last_error_at, NOON + 100);
	record(CG, ids[1], ACCT_OUT_EXPIRED, "login expired", 0, 0);
	IS(get(ids[1]).status, ACCT_EXPIRED);
	ck_assert_str_eq(get(ids[1]).last_error, "login expired");
	record(CG, ids[2], ACCT_OUT_LIMITED, NULL, 300, 0);
	record(CG, ids[2], ACCT_OUT_LIMITED, NULL, 100, 0);
	in = get(ids[2]);
	IS(in.status, ACCT_ACTIVE);
	/* from the store's now (NOON + 100), not shortened by the second */
	ck_assert(in.cooldown_until >= NOON + 400 &&
	    in.cooldown_until <= NOON + 402);
	for (i = 0; i < 3; i++)
		IS(pick_idx(st, &o, &w), 3);
	ck_assert(w.total == 4 && w.error == 1 && w.expired == 1 &&
	    w.cooling == 1 && w.over_limit == 0);
	OK(acct_count(st, CG, &c));
	ck_assert(c.error == 1 && c.expired == 1 && c.cooling == 1 &&
	    c.usable == 1);
	set_clock(st, NOON + 405);
	for (i = 0; i < 4; i++)
		seen[pick_idx(st, &o, NULL)]++;
	IS(seen[2], 2);
	IS(seen[3], 2);
	/* soft failures count a streak; an answer ends it */
	record(CG, ids[3], ACCT_OUT_SOFT, NULL, 0, 0);
	record(CG, ids[3], ACCT_OUT_SOFT, NULL, 0, 0);
	in = get(ids[3]);
	IS(in.status, ACCT_ACTIVE);
	IS(in.fail_streak, 2);
	IS(in.failures, 2);
	ck_assert_int_ge(in.last_fail_at, NOON + 405);
	record(CG, ids[3], ACCT_OUT_OK, NULL, 0, 0);
	in = get(ids[3]);
	ck_assert(in.fail_streak == 0 && in.successes == 1 &&
	    in.failures == 2 && in.requests == 3 && in.error_count == 0);
	IS(acct_record(st, CG, "nope", &r), STORE_INVAL);
	IS(acct_record(st, CG, NOID, &r), STORE_NOTFOUND);
	IS(acct_record(st, DS, ids[3], &r), STORE_NOTFOUND);
}
END_TEST

START_TEST(skip_and_prefer)
{
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	struct acct_pick_why w;
	const char *skip[3] = { ids[0], ids[1], ids[2] };
	char fp[LOG_FP_LEN];
	int i, k;

	mkn(CG, 0, 3, NULL, NULL);
	o.skip = skip;
	o.nskip = 2;
	for (i = 0; i < 4; i++)
		IS(pick_idx(st, &o, &w), 2);
	IS(w.skipped, 2);
	o.nskip = 3;
	IS(pick_idx(st, &o, &w), -1);
	IS(w.skipped, 3);
	o.reuse_skipped = 1;
	ck_assert_int_ge(pick_idx(st, &o, NULL), 0);
	/* a pinned account wins while usable; by id or fingerprint */
	o = opts(CG, ACCT_ROUND_ROBIN);
	o.prefer = ids[1];
	for (i = 0; i < 4; i++)
		IS(pick_idx(st, &o, NULL), 1);
	log_fingerprint(secs[2], fp);
	o.prefer = fp;
	for (i = 0; i < 3; i++)
		IS(pick_idx(st, &o, NULL), 2);
	o.prefer = ids[1];
	record(CG, ids[1], ACCT_OUT_ERROR, "401", 0, 0);
	for (i = 0; i < 4; i++) {
		k = pick_idx(st, &o, NULL);
		ck_assert(k == 0 || k == 2);
	}
	o.prefer = NOID;
	ck_assert_int_ge(pick_idx(st, &o, NULL), 0);
}
END_TEST

static Suite *
acct_pick_suite(void)
{
	Suite *s = suite_create("acct_pick");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_robin_fair_across_processes);
	tcase_add_test(tc, limits_exact_across_processes);
	tcase_add_test(tc, strategy_round_robin);
	tcase_add_test(tc, strategy_fill_first);
	tcase_add_test(tc, strategy_failover);
	tcase_add_test(tc, strategy_weighted);
	tcase_add_test(tc, strategy_random);
	tcase_add_test(tc, day_boundary);
	tcase_add_test(tc, daily_limit_and_refund);
	tcase_add_test(tc, outcomes);
	tcase_add_test(tc, skip_and_prefer);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN_BACKENDS(acct_pick_suite)
