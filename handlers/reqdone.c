/*
 * A request's facts into one store write (see reqdone.h).  Bodies are
 * kept only with LOG_BODIES, cut at LOG_BODY_MAX and redacted.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/log.h"
#include "fcgi/redact.h"
#include "handlers/reqdone.h"
#include "store/reqlog.h"

struct deferred_acct {
	char			 provider[ACCT_PROVIDER_MAX + 1];
	char			 id[ACCT_ID_LEN + 1];
	char			 reason[ACCT_REASON_MAX];
	struct acct_result	 res;
};

void
reqdone_defer_acct(struct req *r, const char *provider, const char *id,
    const struct acct_result *res)
{
	struct deferred_acct *d;

	if ((d = arena_calloc(r->arena, 1, sizeof(*d))) == NULL) {
		acct_record(r->store, provider, id, res);
		return;
	}
	snprintf(d->provider, sizeof(d->provider), "%s", provider);
	snprintf(d->id, sizeof(d->id), "%s", id);
	d->res = *res;
	if (res->reason != NULL) {
		snprintf(d->reason, sizeof(d->reason), "%s", res->reason);
		d->res.reason = d->reason;
	}
	r->obs.acct_done = d;
}

void
reqdone_upstream_error(struct req *r, const char *provider, const char *kind)
{
	struct req_obs_err *e;

	if (r->obs.nerrs >= REQ_OBS_ERRS)
		return;
	e = &r->obs.errs[r->obs.nerrs];
	e->provider = arena_strdup(r->arena, provider);
	e->kind = arena_strdup(r->arena, kind && *kind ? kind : "unknown");
	if (e->provider != NULL && e->kind != NULL)
		r->obs.nerrs++;
}

void
reqdone_capture(struct req *r)
{
	if (!r->cfg->log_bodies || r->cfg->log_max_entries == 0 ||
	    r->obs.cap != NULL)
		return;
	r->obs.cap_max = (size_t)r->cfg->log_body_max + REDACT_SLACK;
	if ((r->obs.cap = arena_alloc(r->arena, r->obs.cap_max)) == NULL)
		r->obs.cap_max = 0;
}

static const char *
str(const char *s)
{
	return s != NULL ? s : "";
}

static void
bodies(struct req *r, struct reqlog_entry *e)
{
	size_t max = (size_t)r->cfg->log_body_max;

	e->req_body = e->resp_body = "";
	if (!r->cfg->log_bodies)
		return;
	if (r->body != NULL && r->body_len > 0 &&
	    (e->req_body = redact_text(r->arena, r->body, r->body_len, max,
	    &e->req_len)) == NULL)
		e->req_body = "";
	if (r->obs.cap != NULL && r->obs.cap_len > 0 &&
	    (e->resp_body = redact_text(r->arena, r->obs.cap, r->obs.cap_len,
	    max, &e->resp_len)) == NULL)
		e->resp_body = "";
}

void
reqdone_finish(struct req *r, const char *route, int counted)
{
	struct store_upstream_err errs[REQ_OBS_ERRS];
	struct deferred_acct *da = r->obs.acct_done;
	struct store_done d;
	long long ms = req_elapsed_ms(r);
	enum store_err e;
	size_t i;

	if (r->store == NULL || (!counted && da == NULL &&
	    r->obs.api_key == NULL))
		return;
	memset(&d, 0, sizeof(d));
	d.pow_ms = -1;
	d.count = counted;
	d.route = route;
	d.log.method = str(r->method);
	d.log.route = str(r->path);
	d.log.model = str(r->model);
	d.log.provider = str(r->obs.provider);
	d.log.account = str(r->obs.account_fp);
	d.log.key = str(r->obs.key_name);
	d.log.error = str(r->obs.error);
	d.log.status = r->status;
	d.log.stream = r->obs.stream;
	d.log.latency_ms = (uint32_t)(ms > 0 ? ms : 0);
	d.log.ttfc_ms = r->obs.ttfc_ms >= 0 && r->obs.ttfc_ms < INT32_MAX ?
	    (int32_t)r->obs.ttfc_ms : -1;
	if (counted)
		bodies(r, &d.log);
	d.conf.max_entries = (size_t)r->cfg->log_max_entries;
	d.conf.retention_s = (int64_t)r->cfg->log_retention_days * 86400;
	for (i = 0; i < r->obs.nerrs; i++) {
		errs[i].provider = r->obs.errs[i].provider;
		errs[i].kind = r->obs.errs[i].kind;
	}
	d.errs = errs;
	d.nerrs = r->obs.nerrs;
	if (da != NULL) {
		d.acct_provider = da->provider;
		d.acct_id = da->id;
		d.acct_res = &da->res;
	}
	d.api_key = r->obs.api_key;
	d.pow_ms = r->obs.pow_ms;
	if ((e = store_request_done(r->store, &d)) != STORE_OK)
		log_warn("request log: %s", store_strerror(e));
}
