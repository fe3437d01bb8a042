/*
 * /admin: the operator console, also under API_PREFIX.  The login,
 * session cookie, CSRF and throttle are /tokens' own (handlers/tokens.c,
 * handlers/admin_auth.c): the console only says where they land.  Every
 * number comes from the management layer (handlers/mgmt.h), the same
 * functions the JSON API /v0/management/ answers with.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "handlers/admin.h"
#include "handlers/handlers.h"
#include "handlers/mgmt.h"
#include "html/admin.h"
#include "store/reqlog.h"

void
adm_init(struct tok *t, struct req *r, const char *home)
{
	tok_init(t, r);
	t->home = home;
	t->pg.home = "/admin";	/* the login form posts to /admin/login */
}

int
adm_page_gate(struct tok *t, enum app_err *e)
{
	*e = APP_OK;
	t->html = 1;
	if (t->r->store == NULL) {
		*e = APP_STORE;
		return 0;
	}
	switch (admin_check(t->r, &t->auth)) {
	case ADMIN_DISABLED:
		*e = tok_disabled(t);
		return 0;
	case ADMIN_BADBEARER:
		*e = tok_bad_bearer(t);
		return 0;
	case ADMIN_THROTTLED:
		*e = tok_throttled(t, t->auth.retry_after);
		return 0;
	case ADMIN_NOAUTH:
		tok_flash(t);
		*e = tok_page_login(t, 401);
		return 0;
	case ADMIN_OK:
		break;
	}
	return 1;
}

/* ------------------------------------------------------------ latency */

struct quant {
	struct metrics_hist	 h;	/* summed over every label set */
};

static int
q_counter(void *arg, const char *name, const char *labels, uint64_t v)
{
	(void)arg, (void)name, (void)labels, (void)v;
	return 0;
}

static int
q_hist(void *arg, const char *name, const char *labels,
    const struct metrics_hist *h)
{
	struct quant *q = arg;
	size_t i;

	(void)labels;
	if (strcmp(name, "chat2api_request_duration_seconds") != 0)
		return 0;
	for (i = 0; i <= METRICS_NBUCKETS; i++)
		q->h.bucket[i] += h->bucket[i];
	q->h.count += h->count;
	return 0;
}

/*
 * The quantile p of the latency histogram in ms, interpolated inside its
 * bucket (the classic estimate); -1 when nothing was counted.
 */
static double
quantile_ms(const struct metrics_hist *h, double p)
{
	double want, cum = 0, lo = 0, hi, n;
	size_t i;

	for (i = 0, n = 0; i <= METRICS_NBUCKETS; i++)
		n += (double)h->bucket[i];
	if (n <= 0)
		return -1;
	want = p * n;
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		hi = metrics_bounds[i] * 1000.0;
		if (cum + (double)h->bucket[i] >= want && h->bucket[i] > 0)
			return lo + (hi - lo) * (want - cum) /
			    (double)h->bucket[i];
		cum += (double)h->bucket[i];
		lo = hi;
	}
	return lo;	/* beyond the last bound: that bound is all we know */
}

/* ------------------------------------------------------------ GET /admin */

enum app_err
h_admin_page(struct req *r, const char *rest)
{
	struct tok t;
	struct admin_overview v;
	struct mgmt_err err;
	struct json_object *now, *pv;
	struct quant q;
	struct buf b;
	const char *f;
	char today[16];
	uint32_t day;
	int fragment;
	enum app_err e;

	(void)rest;
	adm_init(&t, r, "/admin");
	if (!adm_page_gate(&t, &e))
		return e;
	tok_flash(&t);
	f = req_query_get(r, "fragment");
	fragment = f != NULL && strcmp(f, "1") == 0;

	memset(&v, 0, sizeof(v));
	memset(&q, 0, sizeof(q));
	v.csrf = t.auth.via == ADMIN_SESSION ? t.auth.csrf : NULL;
	v.uptime = mgmt_uptime();
	day = store_today(r->store);
	snprintf(today, sizeof(today), "%08u", (unsigned)day);
	v.today = today;
	if ((v.stats = mgmt_statistics(r->store, day, day, &err)) == NULL)
		return tok_json_error(&t, err.status, "server_error", err.code,
		    NULL, err.message, NULL);
	if (json_object_object_get_ex(v.stats, "now", &now) &&
	    json_object_object_get_ex(now, "providers", &pv))
		mgmt_reach_add(r->cfg, pv);
	if (metrics_each(r->store, q_counter, q_hist, &q) != STORE_OK) {
		json_object_put(v.stats);
		return APP_STORE;
	}
	v.p50_ms = quantile_ms(&q.h, 0.50);
	v.p95_ms = quantile_ms(&q.h, 0.95);
	t.script = !fragment;
	buf_init(&b, TOK_PAGE_MAX);
	admin_html_overview(&b, &t.pg, &v, fragment);
	json_object_put(v.stats);
	return tok_html(&t, 200, &b, NULL);
}

/* ------------------------------------------------------------ login/out */

enum app_err
h_admin_login(struct req *r, const char *rest)
{
	struct tok t;

	(void)rest;
	adm_init(&t, r, "/admin");
	return tok_login(&t);
}

enum app_err
h_admin_logout(struct req *r, const char *rest)
{
	struct tok t;

	(void)rest;
	adm_init(&t, r, "/admin");
	return tok_logout(&t);
}
