/*
 * GET /metrics: Prometheus text format 0.0.4 (METRICS=true, else 404),
 * behind METRICS_CODE when set (Bearer or ?code=).  The counters and
 * histograms come from the store, so every worker process answers the
 * whole server's numbers; accounts and open streams are read live.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/buf.h"
#include "fcgi/resp.h"
#include "handlers/admin_auth.h"
#include "handlers/handlers.h"
#include "html/escape.h"
#include "store/accounts.h"
#include "store/reqlog.h"
#include "upstream/provider.h"

#define METRICS_MAX	(8u << 20)

static const struct {
	const char	*name, *help;
} helps[] = {
	{ "chat2api_requests_total",
	  "API requests by route, status, provider and model." },
	{ "chat2api_upstream_errors_total",
	  "Failed upstream attempts by provider and error kind." },
	{ "chat2api_request_duration_seconds",
	  "Time from request to the end of the answer, by provider." },
	{ "chat2api_time_to_first_chunk_seconds",
	  "Time from request to the first answer chunk, by provider." },
	{ "chat2api_proof_of_work_seconds",
	  "Proof-of-work time per request that needed one, by provider." },
};

struct out {
	struct buf	 b;
	char		 last[128];	/* the family whose HELP is out */
};

static void
family(struct out *o, const char *name, const char *type)
{
	const char *help = "chat2api series.";
	size_t i;

	if (strcmp(o->last, name) == 0)
		return;
	snprintf(o->last, sizeof(o->last), "%s", name);
	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (strcmp(helps[i].name, name) == 0)
			help = helps[i].help;
	buf_printf(&o->b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static int
counter(void *arg, const char *name, const char *labels, uint64_t v)
{
	struct out *o = arg;

	family(o, name, "counter");
	buf_printf(&o->b, "%s{%s} %llu\n", name, labels, (unsigned long long)v);
	return o->b.len > METRICS_MAX;
}

static int
hist(void *arg, const char *name, const char *labels,
    const struct metrics_hist *h)
{
	struct out *o = arg;
	uint64_t cum = 0;
	size_t i;

	family(o, name, "histogram");
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cum += h->bucket[i];
		buf_printf(&o->b, "%s_bucket{%s,le=\"%g\"} %llu\n", name,
		    labels, metrics_bounds[i], (unsigned long long)cum);
	}
	cum += h->bucket[METRICS_NBUCKETS];
	buf_printf(&o->b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
	    (unsigned long long)cum);
	buf_printf(&o->b, "%s_sum{%s} %.3f\n%s_count{%s} %llu\n", name, labels,
	    (double)h->sum_ms / 1000.0, name, labels,
	    (unsigned long long)h->count);
	return o->b.len > METRICS_MAX;
}

static void
gauges(struct req *r, struct out *o)
{
	static const char *const st[] = { "active", "error", "expired",
	    "disabled", "cooling", "usable" };
	const struct provider *const *pv;
	struct acct_counts c;
	size_t n[6], i, logged = 0;

	buf_printf(&o->b, "# HELP chat2api_accounts Accounts by provider and "
	    "status.\n# TYPE chat2api_accounts gauge\n");
	for (pv = providers; *pv != NULL; pv++) {
		if (acct_count(r->store, (*pv)->id, &c) != STORE_OK)
			continue;
		n[0] = c.active;
		n[1] = c.error;
		n[2] = c.expired;
		n[3] = c.inactive;
		n[4] = c.cooling;
		n[5] = c.usable;
		for (i = 0; i < 6; i++)
			buf_printf(&o->b, "chat2api_accounts{provider=\"%s\","
			    "status=\"%s\"} %zu\n", (*pv)->id, st[i], n[i]);
	}
	buf_printf(&o->b, "# HELP chat2api_open_streams Answers streaming "
	    "right now, in every process.\n# TYPE chat2api_open_streams "
	    "gauge\nchat2api_open_streams %ld\n",
	    store_streams_open(r->store));
	reqlog_count(r->store, &logged);
	buf_printf(&o->b, "# HELP chat2api_request_log_entries Entries in the "
	    "request log.\n# TYPE chat2api_request_log_entries gauge\n"
	    "chat2api_request_log_entries %zu\n", logged);
	buf_printf(&o->b, "# HELP chat2api_build_info The running version.\n"
	    "# TYPE chat2api_build_info gauge\nchat2api_build_info{version="
	    "\"%s\"} 1\n", PACKAGE_VERSION);
}

enum app_err
h_metrics(struct req *r, const char *rest)
{
	const char *code = r->cfg->metrics_code, *got;
	char *q = NULL;
	size_t qn;
	struct out o;
	enum app_err e;

	(void)rest;
	if (!r->cfg->metrics)
		return resp_error(r, 404, "invalid_request_error", "not_found",
		    NULL, "Unknown request URL: %s %s.", r->method, r->path);
	if (code != NULL && *code != '\0') {
		got = admin_bearer(r->auth);
		if ((got == NULL || *got == '\0') && form_field(r->arena,
		    r->query, strlen(r->query), "code", &q, &qn) > 0)
			got = q;
		if (!admin_secret_ok(code, got))
			return resp_error_hdr(r, 401,
			    "WWW-Authenticate: Bearer\r\n",
			    "authentication_error", "invalid_metrics_code",
			    NULL, "/metrics needs METRICS_CODE as Bearer or "
			    "?code=.");
	}
	if (r->store == NULL)
		return APP_STORE;
	memset(&o, 0, sizeof(o));
	buf_init(&o.b, METRICS_MAX + 65536);
	if (metrics_each(r->store, counter, hist, &o) != STORE_OK) {
		buf_free(&o.b);
		return APP_STORE;
	}
	gauges(r, &o);
	e = resp_start(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    NULL);
	if (e == APP_OK)
		e = resp_write(r, o.b.p, o.b.len);
	buf_free(&o.b);
	return e;
}
