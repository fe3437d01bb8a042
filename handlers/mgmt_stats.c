/*
 * The numbers of the management layer (see mgmt.h): /stats' additions,
 * health, per-day statistics and the providers with their accounts.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers/handlers.h"
#include "handlers/mgmt.h"
#include "store/accounts.h"
#include "upstream/provider.h"

/* The process's start, for every uptime the server reports. */
static time_t mgmt_started;

void
mgmt_stats_init(void)
{
	mgmt_started = time(NULL);
}

long
mgmt_uptime(void)
{
	return (long)(time(NULL) - mgmt_started);
}

#define RATE_MINUTES	2	/* the current minute and the one before */

struct json_object *
mgmt_fail(struct mgmt_err *err, int status, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	snprintf(err->code, sizeof(err->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return NULL;
}

static double
avg(uint64_t sum, uint64_t n)
{
	return n ? (double)sum / (double)n : 0.0;
}

static struct json_object *
counts_json(const struct stats_counts *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "requests",
	    json_object_new_int64((int64_t)c->requests));
	json_object_object_add(o, "success",
	    json_object_new_int64((int64_t)(c->requests - c->errors)));
	json_object_object_add(o, "failed",
	    json_object_new_int64((int64_t)c->errors));
	json_object_object_add(o, "avg_latency",
	    json_object_new_double(avg(c->latency_ms, c->requests)));
	json_object_object_add(o, "avg_ttfc",
	    json_object_new_double(avg(c->ttfc_ms, c->ttfc_n)));
	return o;
}

struct all_time {
	struct stats_counts	 total;
	struct json_object	*providers;
};

static int
all_time_row(void *arg, uint32_t day, int kind, const char *name,
    const struct stats_counts *c)
{
	struct all_time *a = arg;
	struct json_object *p;

	(void)day;
	if (kind == STATS_TOTAL)
		a->total = *c;
	else if (kind == STATS_PROVIDER &&
	    json_object_object_get_ex(a->providers, name, &p)) {
		json_object_object_add(p, "requests",
		    json_object_new_int64((int64_t)c->requests));
		json_object_object_add(p, "success", json_object_new_int64(
		    (int64_t)(c->requests - c->errors)));
		json_object_object_add(p, "failed",
		    json_object_new_int64((int64_t)c->errors));
		json_object_object_add(p, "avg_latency",
		    json_object_new_double(avg(c->latency_ms, c->requests)));
	}
	return 0;
}

/* The account used last: its latency is the provider's last one. */
struct last_use {
	int64_t		at;
	uint32_t	latency_ms;
};

static int
last_use_row(void *arg, const struct acct_info *i)
{
	struct last_use *l = arg;

	if (i->last_used_at > l->at) {
		l->at = i->last_used_at;
		l->latency_ms = i->last_latency_ms;
	}
	return 0;
}

/* Every provider, with its accounts by status and zero requests. */
static struct json_object *
provider_rows(struct store *st)
{
	struct json_object *all = json_object_new_object(), *p;
	const struct provider *const *pv;
	struct acct_counts c;

	for (pv = providers; *pv != NULL; pv++) {
		p = json_object_new_object();
		json_object_object_add(p, "requests", json_object_new_int64(0));
		json_object_object_add(p, "success", json_object_new_int64(0));
		json_object_object_add(p, "failed", json_object_new_int64(0));
		json_object_object_add(p, "avg_latency",
		    json_object_new_double(0));
		struct last_use lu = { 0, 0 };
		if (acct_list(st, (*pv)->id, last_use_row, &lu) == STORE_OK &&
		    lu.at > 0) {
			json_object_object_add(p, "last_used_at",
			    json_object_new_int64(lu.at));
			json_object_object_add(p, "last_latency_ms",
			    json_object_new_int64(lu.latency_ms));
		}
		if (acct_count(st, (*pv)->id, &c) == STORE_OK) {
			json_object_object_add(p, "accounts",
			    json_object_new_int64((int64_t)c.total));
			json_object_object_add(p, "active_accounts",
			    json_object_new_int64((int64_t)c.active));
			json_object_object_add(p, "usable_accounts",
			    json_object_new_int64((int64_t)c.usable));
		}
		json_object_object_add(all, (*pv)->id, p);
	}
	return all;
}

int
mgmt_stats_add(struct store *st, struct json_object *o)
{
	struct stats_counts m[RATE_MINUTES];
	struct all_time a;
	time_t now = time(NULL);
	double rpm;

	memset(&a, 0, sizeof(a));
	a.providers = provider_rows(st);
	if (stats_daily(st, 0, 0, 0, all_time_row, &a) != STORE_OK ||
	    stats_minutes(st, RATE_MINUTES, m) != STORE_OK) {
		json_object_put(a.providers);
		return -1;
	}
	/* the last ~minute: this one so far and the whole one before */
	rpm = (double)(m[0].requests + m[1].requests) * 60.0 /
	    (double)(60 + now % 60);
	json_object_object_add(o, "avg_latency", json_object_new_double(
	    avg(a.total.latency_ms, a.total.requests)));
	json_object_object_add(o, "avg_ttfc", json_object_new_double(
	    avg(a.total.ttfc_ms, a.total.ttfc_n)));
	json_object_object_add(o, "requests_per_minute",
	    json_object_new_double(rpm));
	json_object_object_add(o, "active_streams",
	    json_object_new_int64(store_streams_open(st)));
	json_object_object_add(o, "providers", a.providers);
	return 0;
}

struct json_object *
mgmt_health(const struct config *cfg, struct store *st, struct mgmt_err *err)
{
	struct json_object *o = json_object_new_object();
	size_t logged = 0;

	(void)cfg;
	if (reqlog_count(st, &logged) != STORE_OK) {
		json_object_put(o);
		return mgmt_fail(err, 503, "store_error",
		    "The store cannot be read.");
	}
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "uptime",
	    json_object_new_int64(mgmt_uptime()));
	json_object_object_add(o, "store_map_bytes",
	    json_object_new_int64((int64_t)store_map_size(st)));
	json_object_object_add(o, "log_entries",
	    json_object_new_int64((int64_t)logged));
	json_object_object_add(o, "active_streams",
	    json_object_new_int64(store_streams_open(st)));
	return o;
}

struct daily {
	struct json_object	*days;	/* "YYYYMMDD": {total, providers...} */
};

static const char *
kind_name(int kind)
{
	switch (kind) {
	case STATS_PROVIDER:	return "providers";
	case STATS_MODEL:	return "models";
	case STATS_ACCOUNT:	return "accounts";
	case STATS_KEY:		return "keys";
	default:		return "total";
	}
}

static int
daily_row(void *arg, uint32_t day, int kind, const char *name,
    const struct stats_counts *c)
{
	struct daily *d = arg;
	struct json_object *dy, *k;
	char key[16];

	snprintf(key, sizeof(key), "%08u", (unsigned)day);
	if (!json_object_object_get_ex(d->days, key, &dy)) {
		dy = json_object_new_object();
		json_object_object_add(d->days, key, dy);
	}
	if (kind == STATS_TOTAL) {
		json_object_object_add(dy, "total", counts_json(c));
		return 0;
	}
	if (!json_object_object_get_ex(dy, kind_name(kind), &k)) {
		k = json_object_new_object();
		json_object_object_add(dy, kind_name(kind), k);
	}
	json_object_object_add(k, name, counts_json(c));
	return 0;
}

/* One {requests, errors, avg_latency} bucket summing m[0..n). */
static struct json_object *
bucket_json(const struct stats_counts *m, size_t n)
{
	struct json_object *e = json_object_new_object();
	struct stats_counts c;
	size_t i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < n; i++) {
		c.requests += m[i].requests;
		c.errors += m[i].errors;
		c.latency_ms += m[i].latency_ms;
	}
	json_object_object_add(e, "requests",
	    json_object_new_int64((int64_t)c.requests));
	json_object_object_add(e, "errors",
	    json_object_new_int64((int64_t)c.errors));
	json_object_object_add(e, "avg_latency",
	    json_object_new_double(avg(c.latency_ms, c.requests)));
	return e;
}

/* The minute buckets as n buckets of `per` minutes, oldest first; the
 * last one ends with the current minute. */
static struct json_object *
buckets_json(const struct stats_counts *m, size_t n, size_t per)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, bucket_json(m + i * per, per));
	return a;
}

struct json_object *
mgmt_statistics(struct store *st, uint32_t from, uint32_t to,
    struct mgmt_err *err)
{
	struct stats_counts *m;
	struct json_object *o, *all;
	struct daily d;

	if (from == 0 || from > to)
		return mgmt_fail(err, 400, "invalid_range", "from and to are "
		    "days as YYYYMMDD, from not after to.");
	/* the whole day of minutes once (57 KiB): off the worker's stack */
	if ((m = calloc(STATS_MINUTES, sizeof(*m))) == NULL)
		return mgmt_fail(err, 503, "out_of_memory",
		    "The server is out of memory.");
	d.days = json_object_new_object();
	all = json_object_new_object();
	if (stats_daily(st, from, to, 0, daily_row, &d) != STORE_OK ||
	    stats_minutes(st, STATS_MINUTES, m) != STORE_OK) {
		free(m);
		json_object_put(d.days);
		json_object_put(all);
		return mgmt_fail(err, 503, "store_error",
		    "The store cannot be read.");
	}
	o = json_object_new_object();
	json_object_object_add(o, "days", d.days);
	json_object_object_add(o, "last_hour",
	    buckets_json(m + STATS_MINUTES - 60, 60, 1));
	json_object_object_add(o, "last_day",
	    buckets_json(m, STATS_MINUTES / 60, 60));
	free(m);
	if (mgmt_stats_add(st, all) == 0)
		json_object_object_add(o, "now", all);
	else
		json_object_put(all);
	return o;
}

struct json_object *
mgmt_providers(const struct config *cfg, struct store *st,
    struct mgmt_err *err)
{
	struct json_object *arr, *rows, *p, *models;
	const struct provider *const *pv;
	struct all_time a;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.providers = rows = provider_rows(st);
	if (stats_daily(st, 0, 0, STATS_PROVIDER, all_time_row, &a) !=
	    STORE_OK) {
		json_object_put(rows);
		return mgmt_fail(err, 503, "store_error",
		    "The store cannot be read.");
	}
	mgmt_reach_add(cfg, rows);
	arr = json_object_new_array();
	for (pv = providers; *pv != NULL; pv++) {
		if (!json_object_object_get_ex(rows, (*pv)->id, &p))
			continue;
		p = json_object_get(p);
		json_object_object_add(p, "id",
		    json_object_new_string((*pv)->id));
		json_object_object_add(p, "name",
		    json_object_new_string((*pv)->display));
		models = json_object_new_array();
		for (i = 0; (*pv)->models != NULL &&
		    (*pv)->models[i].id != NULL; i++)
			json_object_array_add(models,
			    json_object_new_string((*pv)->models[i].id));
		json_object_object_add(p, "models", models);
		json_object_object_add(p, "fields", json_object_new_int64(
		    (int64_t)(*pv)->nfields));
		json_object_array_add(arr, p);
	}
	json_object_put(rows);
	return arr;
}
