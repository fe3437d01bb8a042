/*
 * The request log, statistics and Prometheus series (store/reqlog.c,
 * stats.c, metrics.c, reqdone.c, live.c) against a real LMDB in a temp
 * dir, and the body redaction (fcgi/redact.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi/redact.h"
#include "store/reqlog.h"
#include "store/store_priv.h"
#include "tests/unit/store_backend.h"
#include "unit.h"

#define OK(e)		ck_assert_int_eq((e), STORE_OK)

static char dir[256];
static struct store *st;

static void
setup(void)
{
	char err[128];

	strcpy(dir, "/tmp/c2a-reqlog-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	OK(unit_store_open(&st, dir, 1 << 20));
	OK(store_key_init(st, NULL, err, sizeof(err)));
}

static void
teardown(void)
{
	char cmd[300];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
entry(struct store_done *d, int status, const char *model,
    const char *provider, size_t max)
{
	memset(d, 0, sizeof(*d));
	d->count = 1;
	d->route = "/v1/chat/completions";
	d->log.method = "POST";
	d->log.route = "/v1/chat/completions";
	d->log.model = model;
	d->log.provider = provider;
	d->log.account = "abcdef012345";
	d->log.key = "team";
	d->log.error = status >= 400 ? "502 upstream_error: down" : "";
	d->log.req_body = d->log.resp_body = "";
	d->log.status = status;
	d->log.latency_ms = 120;
	d->log.ttfc_ms = status < 400 ? 40 : -1;
	d->conf.max_entries = max;
	d->pow_ms = -1;
}

static void
put(int status, const char *model, const char *provider, size_t max)
{
	struct store_done d;

	entry(&d, status, model, provider, max);
	OK(store_request_done(st, &d));
}

START_TEST(codec_round_trip)
{
	struct reqlog_entry e, back;
	unsigned char buf[4096];
	struct arena a;
	size_t n;

	memset(&e, 0, sizeof(e));
	e.method = "POST";
	e.route = "/v1/chat/completions";
	e.model = "gpt-4o";
	e.provider = "chatgpt";
	e.account = "0123456789ab";
	e.key = "ci";
	e.error = "";
	e.req_body = "{\"a\":1}";
	e.req_len = 7;
	e.resp_body = "";
	e.status = 201;
	e.stream = 1;
	e.latency_ms = 99999;
	e.ttfc_ms = -1;
	arena_init(&a, 0);
	ck_assert_uint_gt(n = reqlog_encode(&e, buf, sizeof(buf)), 0);
	ck_assert_int_eq(reqlog_decode(&a, buf, n, &back), 0);
	ck_assert_str_eq(back.model, "gpt-4o");
	ck_assert_str_eq(back.req_body, "{\"a\":1}");
	ck_assert_uint_eq(back.req_len, 7);
	ck_assert_int_eq(back.status, 201);
	ck_assert_int_eq(back.stream, 1);
	ck_assert_uint_eq(back.latency_ms, 99999);
	ck_assert_int_eq(back.ttfc_ms, -1);
	/* every cut is refused, and so is trailing junk */
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(reqlog_decode(&a, buf, i, &back), -1);
	buf[n] = 'x';
	ck_assert_int_eq(reqlog_decode(&a, buf, n + 1, &back), -1);
	buf[0] = 9;
	ck_assert_int_eq(reqlog_decode(&a, buf, n, &back), -1);
	/* too small a buffer: nothing */
	ck_assert_uint_eq(reqlog_encode(&e, buf, 20), 0);
	arena_free(&a);
}
END_TEST

struct seen {
	size_t		 n;
	uint64_t	 ids[256];
	int		 status[256];
	char		 model[256][32];
};

static int
collect(void *arg, const struct reqlog_entry *e)
{
	struct seen *s = arg;

	if (s->n < 256) {
		s->ids[s->n] = e->id;
		s->status[s->n] = e->status;
		snprintf(s->model[s->n], sizeof(s->model[0]), "%s", e->model);
		s->n++;
	}
	return 0;
}

START_TEST(log_and_counters_in_one_write)
{
	struct reqlog_filter f;
	struct store_stats ss;
	struct seen s;
	struct arena a;
	size_t n, i;

	for (i = 0; i < 20; i++)
		put(i % 4 == 0 ? 502 : 200, i % 2 ? "m-odd" : "m-even",
		    i % 4 == 0 ? "chatgpt" : "deepseek", 1000);
	OK(reqlog_count(st, &n));
	ck_assert_uint_eq(n, 20);
	memset(&f, 0, sizeof(f));
	memset(&s, 0, sizeof(s));
	OK(reqlog_query(st, &f, collect, &s));
	ck_assert_uint_eq(s.n, 20);
	/* newest first, strictly: ids are unique even within a µs */
	for (i = 1; i < s.n; i++)
		ck_assert_uint_lt(s.ids[i], s.ids[i - 1]);
	/* the /stats counters came with the same write */
	arena_init(&a, 0);
	OK(store_read_stats(st, &a, &ss));
	ck_assert_uint_eq(ss.total, 20);
	ck_assert_uint_eq(ss.failed, 5);
	arena_free(&a);
}
END_TEST

START_TEST(filters)
{
	struct reqlog_filter f;
	struct seen s;
	size_t i;

	for (i = 0; i < 12; i++)
		put(i < 3 ? 429 : i < 5 ? 502 : 200, i < 6 ? "alpha" : "Beta",
		    i < 6 ? "kimi" : "glm", 1000);
	memset(&f, 0, sizeof(f));
	f.status_class = 4;
	memset(&s, 0, sizeof(s));
	OK(reqlog_query(st, &f, collect, &s));
	ck_assert_uint_eq(s.n, 3);
	f.status_class = 0;
	f.provider = "glm";
	memset(&s, 0, sizeof(s));
	OK(reqlog_query(st, &f, collect, &s));
	ck_assert_uint_eq(s.n, 6);
	f.provider = NULL;
	f.model = "beta";		/* model names compare in any case */
	memset(&s, 0, sizeof(s));
	OK(reqlog_query(st, &f, collect, &s));
	ck_assert_uint_eq(s.n, 6);
	f.model = NULL;
	f.text = "UPSTREAM_error";	/* in the error text */
	memset(&s, 0, sizeof(s));
	OK(reqlog_query(st, &f, collect, &s));
	ck_assert_uint_eq(s.n, 5);
	f.text = NULL;
	f.limit = 4;
	memset(&s, 0, sizeof(s));
	OK(reqlog_query(st, &f, collect, &s));
	ck_assert_uint_eq(s.n, 4);
	/* a time range: the six oldest by their ids */
	f.limit = 0;
	memset(&s, 0, sizeof(s));
	OK(reqlog_query(st, &f, collect, &s));
	f.from_us = s.ids[11];
	f.to_us = s.ids[6];
	memset(&s, 0, sizeof(s));
	OK(reqlog_query(st, &f, collect, &s));
	ck_assert_uint_eq(s.n, 6);
	ck_assert_str_eq(s.model[0], "alpha");
}
END_TEST

START_TEST(pruned_by_count)
{
	size_t n, i;

	for (i = 0; i < 30; i++)
		put(200, "m", "p", 100);
	/* a smaller limit: each write drops a few, never all at once */
	put(200, "m", "p", 10);
	OK(reqlog_count(st, &n));
	ck_assert_uint_eq(n, 31 - REQLOG_PRUNE_STEP);
	for (i = 0; i < 5; i++)
		put(200, "m", "p", 10);
	OK(reqlog_count(st, &n));
	ck_assert_uint_eq(n, 10);
	/* LOG_MAX_ENTRIES=0: no log, the statistics go on */
	put(200, "m", "p", 0);
	OK(reqlog_count(st, &n));
	ck_assert_uint_eq(n, 10);
}
END_TEST

START_TEST(pruned_by_age)
{
	struct store_done d;
	size_t n, i;

	store_set_clock_skew(st, -10 * 86400);
	for (i = 0; i < 12; i++)
		put(200, "m", "p", 1000);
	store_set_clock_skew(st, 0);
	entry(&d, 200, "m", "p", 1000);
	d.conf.retention_s = 7 * 86400;
	OK(store_request_done(st, &d));
	OK(reqlog_count(st, &n));
	ck_assert_uint_eq(n, 13 - REQLOG_PRUNE_STEP);
	OK(store_request_done(st, &d));
	OK(reqlog_count(st, &n));
	ck_assert_uint_eq(n, 2);	/* the two new ones */
}
END_TEST

struct day_rows {
	uint64_t	total, today_total, deepseek, other_models, key;
	size_t		models;
};

static int
day_row(void *arg, uint32_t day, int kind, const char *name,
    const struct stats_counts *c)
{
	struct day_rows *r = arg;

	if (kind == STATS_TOTAL && day == 0)
		r->total = c->requests;
	if (kind == STATS_TOTAL && day != 0)
		r->today_total = c->requests;
	if (kind == STATS_PROVIDER && strcmp(name, "deepseek") == 0 && day)
		r->deepseek = c->requests;
	if (kind == STATS_MODEL && day) {
		r->models++;
		if (strcmp(name, "(other)") == 0)
			r->other_models = c->requests;
	}
	if (kind == STATS_KEY && day && strcmp(name, "team") == 0)
		r->key = c->requests;
	return 0;
}

START_TEST(daily_and_minutes)
{
	struct stats_counts m[3];
	struct day_rows r;
	uint32_t today = store_today(st);
	char model[32];
	size_t i;

	for (i = 0; i < STATS_NAMES_MAX + 5; i++) {
		snprintf(model, sizeof(model), "model-%zu", i);
		put(i % 10 ? 200 : 500, model, "deepseek", 0);
	}
	memset(&r, 0, sizeof(r));
	OK(stats_daily(st, 0, 0, 0, day_row, &r));
	ck_assert_uint_eq(r.total, STATS_NAMES_MAX + 5);
	memset(&r, 0, sizeof(r));
	OK(stats_daily(st, today, today, 0, day_row, &r));
	ck_assert_uint_eq(r.today_total, STATS_NAMES_MAX + 5);
	ck_assert_uint_eq(r.deepseek, STATS_NAMES_MAX + 5);
	ck_assert_uint_eq(r.key, STATS_NAMES_MAX + 5);
	/* the names a day keeps are bounded; the rest is "(other)" */
	ck_assert_uint_eq(r.models, STATS_NAMES_MAX + 1);
	ck_assert_uint_eq(r.other_models, 5);
	/* another day is another row set */
	memset(&r, 0, sizeof(r));
	OK(stats_daily(st, today + 1, today + 30, 0, day_row, &r));
	ck_assert_uint_eq(r.today_total, 0);
	ck_assert_int_eq(stats_daily(st, 2, 1, 0, day_row, &r), STORE_INVAL);
	OK(stats_minutes(st, 3, m));
	ck_assert_uint_eq(m[0].requests + m[1].requests + m[2].requests,
	    STATS_NAMES_MAX + 5);
	ck_assert_uint_eq(m[2].latency_ms + m[1].latency_ms,
	    (uint64_t)120 * (m[2].requests + m[1].requests));
}
END_TEST

struct prom {
	uint64_t	req_ok, req_fail, other, uerr;
	uint64_t	hist_count, hist_le_025, hist_sum_ms, pow;
	int		escaped;
};

static int
prom_counter(void *arg, const char *name, const char *labels, uint64_t v)
{
	struct prom *p = arg;

	if (strcmp(name, "chat2api_requests_total") == 0) {
		if (strstr(labels, "status=\"200\""))
			p->req_ok += v;
		else
			p->req_fail += v;
		if (strstr(labels, "model=\"(other)\""))
			p->other += v;
		if (strstr(labels, "model=\"a\\\"b\\\\c\\n\""))
			p->escaped = 1;
	}
	if (strcmp(name, "chat2api_upstream_errors_total") == 0 &&
	    strstr(labels, "kind=\"upstream_error\""))
		p->uerr += v;
	return 0;
}

static int
prom_hist(void *arg, const char *name, const char *labels,
    const struct metrics_hist *h)
{
	struct prom *p = arg;

	(void)labels;
	if (strcmp(name, "chat2api_request_duration_seconds") == 0) {
		p->hist_count += h->count;
		p->hist_le_025 += h->bucket[0] + h->bucket[1] + h->bucket[2];
		p->hist_sum_ms += h->sum_ms;
	}
	if (strcmp(name, "chat2api_proof_of_work_seconds") == 0)
		p->pow += h->count * 1000 + h->sum_ms;
	return 0;
}

START_TEST(prometheus_series)
{
	struct store_upstream_err errs[2] = { { "glm", "upstream_error" },
	    { "glm", "upstream_error" } };
	struct store_done d;
	struct prom p;
	char model[32];
	size_t i;

	put(200, "a\"b\\c\n", "glm", 0);
	entry(&d, 502, "m", "glm", 0);
	d.errs = errs;
	d.nerrs = 2;
	d.log.latency_ms = 400;
	d.pow_ms = 250;
	OK(store_request_done(st, &d));
	memset(&p, 0, sizeof(p));
	OK(metrics_each(st, prom_counter, prom_hist, &p));
	ck_assert_int_eq(p.escaped, 1);
	ck_assert_uint_eq(p.req_ok, 1);
	ck_assert_uint_eq(p.req_fail, 1);
	ck_assert_uint_eq(p.uerr, 2);
	ck_assert_uint_eq(p.hist_count, 2);
	ck_assert_uint_eq(p.hist_le_025, 1);	/* 120 ms; 400 ms is above */
	ck_assert_uint_eq(p.hist_sum_ms, 520);
	ck_assert_uint_eq(p.pow, 1250);		/* one solve, 250 ms */
	/* past METRICS_SERIES_MAX, new models fold into "(other)" */
	for (i = 0; i < METRICS_SERIES_MAX + 10; i++) {
		snprintf(model, sizeof(model), "many-%zu", i);
		put(200, model, "glm", 0);
	}
	memset(&p, 0, sizeof(p));
	OK(metrics_each(st, prom_counter, prom_hist, &p));
	ck_assert_uint_eq(p.req_ok, METRICS_SERIES_MAX + 11);
	ck_assert_uint_ge(p.other, 10);
}
END_TEST

START_TEST(account_outcome_in_the_same_write)
{
	struct acct_new an;
	struct acct_result res;
	struct acct_info info;
	struct store_done d;
	char id[ACCT_ID_LEN + 1];
	size_t added = 0;

	memset(&an, 0, sizeof(an));
	an.provider = "deepseek";
	an.secret = "dsTestSecretForTheRequestLog0123456789";
	an.secret_len = strlen(an.secret);
	OK(acct_add(st, &an, 1, &added, NULL, id));
	memset(&res, 0, sizeof(res));
	res.outcome = ACCT_OUT_OK;
	res.latency_ms = 77;
	entry(&d, 200, "m", "deepseek", 100);
	d.acct_provider = "deepseek";
	d.acct_id = id;
	d.acct_res = &res;
	OK(store_request_done(st, &d));
	OK(acct_get(st, id, &info));
	ck_assert_uint_eq(info.successes, 1);
	ck_assert_uint_eq(info.last_latency_ms, 77);
	/* an account removed meanwhile does not cost the request its log */
	OK(acct_remove(st, NULL, id));
	OK(store_request_done(st, &d));
}
END_TEST

START_TEST(open_streams)
{
	ck_assert_int_eq(store_streams_open(st), 0);
	store_streams_add(st, 1);
	store_streams_add(st, 1);
	ck_assert_int_eq(store_streams_open(st), 2);
	store_streams_add(st, -1);
	ck_assert_int_eq(store_streams_open(st), 1);
	store_streams_add(st, -1);
	ck_assert_int_eq(store_streams_open(st), 0);
}
END_TEST

static const char *
red(struct arena *a, const char *in, size_t max)
{
	size_t n;
	const char *out = redact_text(a, in, strlen(in), max, &n);

	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(n, strlen(out));
	return out;
}

START_TEST(redaction)
{
	struct arena a;

	arena_init(&a, 0);
	ck_assert_str_eq(red(&a, "{\"access_token\": \"abc\", \"n\": 1}", 100),
	    "{\"access_token\": \"[redacted]\", \"n\": 1}");
	ck_assert_str_eq(red(&a, "{\"refreshToken\":\"a\\\"b\"}", 100),
	    "{\"refreshToken\":\"[redacted]\"}");
	ck_assert_str_eq(red(&a, "{\"Password\":\"\"}", 100),
	    "{\"Password\":\"[redacted]\"}");
	ck_assert_str_eq(red(&a, "Authorization: Bearer eyJ.abc-DEF_1", 100),
	    "Authorization: Bearer [redacted]");
	ck_assert_str_eq(red(&a, "key sk-abcdefghijklmnopqrstuv end", 100),
	    "key [redacted] end");
	ck_assert_str_eq(red(&a, "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.x",
	    100), "jwt [redacted]");
	/* short and embedded look-alikes stay */
	ck_assert_str_eq(red(&a, "sk-short ask-abcdefghijklmnopqrstuvwx", 100),
	    "sk-short ask-abcdefghijklmnopqrstuvwx");
	ck_assert_str_eq(red(&a, "{\"model\":\"gpt\"}", 100),
	    "{\"model\":\"gpt\"}");
	/* cut at max, never inside a UTF-8 character */
	ck_assert_str_eq(red(&a, "ab\xc3\xa9\xc3\xa9", 5), "ab\xc3\xa9");
	ck_assert_str_eq(red(&a, "abcdef", 3), "abc");
	/* a key that starts before the cut is still redacted whole */
	ck_assert_str_eq(red(&a, "x sk-abcdefghijklmnopqrstuvwxyz", 8),
	    "x [redac");
	arena_free(&a);
}
END_TEST

static Suite *
reqlog_suite(void)
{
	Suite *s = suite_create("reqlog");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, codec_round_trip);
	tcase_add_test(tc, log_and_counters_in_one_write);
	tcase_add_test(tc, filters);
	tcase_add_test(tc, pruned_by_count);
	tcase_add_test(tc, pruned_by_age);
	tcase_add_test(tc, daily_and_minutes);
	tcase_add_test(tc, prometheus_series);
	tcase_add_test(tc, account_outcome_in_the_same_write);
	tcase_add_test(tc, open_streams);
	tcase_add_test(tc, redaction);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN_BACKENDS(reqlog_suite)
