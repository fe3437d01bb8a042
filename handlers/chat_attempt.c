/*
 * The attempt loop of a chat request (see chat_attempt.h).
 *
 * Failover is per request and before the first byte only: once the
 * client has seen the answer start, a failure ends the stream with an
 * error chunk instead.  Accounts that failed in this request are not
 * taken again, unless nothing else is left and the failure was the
 * upstream's (5xx, network), when the same account may well succeed.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "fcgi/resp.h"
#include "handlers/accounts_ops.h"
#include "handlers/admin_auth.h"
#include "handlers/chat_attempt.h"
#include "handlers/reqdone.h"
#include "handlers/rformat.h"
#include "handlers/session.h"
#include "handlers/tools.h"
#include "store/accounts.h"
#include "upstream/call.h"
#include "upstream/http.h"

#define IDLE_CHECK_MS		100	/* curl calls back far more often */
#define COOLDOWN_DEFAULT	60	/* s, a 429 that says nothing */

struct chat_ctx {
	struct req	*r;
	struct oa_sink	*sink;
	long long	 last_check_ms;
};

/*
 * While the upstream thinks: before the answer starts only watch for a
 * hang-up; once a stream is open also send keep-alive comments.
 */
static int
chat_idle(void *u)
{
	struct chat_ctx *cc = u;
	struct req *r = cc->r;
	long long now = req_now_ms();

	if (r->hup)
		return 1;
	/* Backstop: a provider that never calls sink->flush. */
	if (cc->sink->pending && oa_sink_flush(cc->sink) != 0)
		return 1;
	if (now - cc->last_check_ms < IDLE_CHECK_MS)
		return 0;
	cc->last_check_ms = now;
	if (cc->sink->started && cc->sink->cr->stream)
		return resp_sse_idle(r) != APP_OK;
	if (r->hup || r->io->gone(r, 0)) {
		r->hup = 1;
		cc->sink->aborted = 1;
		return 1;
	}
	return 0;
}

static int
is_code(const struct oa_sink *s, const char *code)
{
	return strcmp(s->err_code, code) == 0;
}

/* The upstream's trouble, not the credential's: another try may work. */
static int
transient(const struct oa_sink *s)
{
	return s->err_status >= 500 || (s->err_status == 403 &&
	    is_code(s, "upstream_not_started"));
}

static int
retryable(enum chat_pay mode, const struct oa_sink *s)
{
	if (transient(s))
		return 1;
	/* Another pooled account may well succeed where this one failed. */
	return mode == PAY_POOL && (s->err_status == 401 ||
	    s->err_status == 403 || s->err_status == 429);
}

static void
sink_fail(struct oa_sink *s, int status, const char *type, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
sink_fail(struct oa_sink *s, int status, const char *type, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	s->err_status = status;
	snprintf(s->err_type, sizeof(s->err_type), "%s", type);
	snprintf(s->err_code, sizeof(s->err_code), "%s", code);
	va_start(ap, fmt);
	oa_sink_set_vmsg(s, fmt, ap);
	va_end(ap);
}

/*
 * What the attempts keep of the account they picked.  The store's
 * acct_pick is ~800 bytes, mostly text no chat reads (label, e-mail, last
 * error), and a parked stream would hold it for its whole life
 * (BENCHMARKS.md §20).
 */
struct picked {
	char			 id[ACCT_ID_LEN + 1];
	char			 fingerprint[13];
	char			 provider[ACCT_PROVIDER_MAX + 1];
	char			 team_id[ACCT_TEAM_MAX + 1];
	int			 kind;
	char			*secret;
	struct acct_field	*fields;
	size_t			 nfields;
};

static void
picked_free(struct picked *p)
{
	acct_secrets_free(p->secret, p->fields, p->nfields);
	p->secret = NULL;
	p->fields = NULL;
	p->nfields = 0;
}

/*
 * What one failed attempt teaches about its account.  spent: the answer
 * had started (a failure mid-stream), so the day's use is not given back;
 * it was the last attempt, so the outcome waits for the request's final
 * store write (handlers/reqdone.c).
 */
static void
learn(struct req *r, const struct picked *pk, const struct oa_sink *s,
    long latency_ms, int spent)
{
	struct acct_result res;
	char reason[ACCT_REASON_MAX];
	long cool;

	memset(&res, 0, sizeof(res));
	res.refund = !spent;
	res.latency_ms = (uint32_t)(latency_ms > 0 ? latency_ms : 0);
	snprintf(reason, sizeof(reason), "%d %s: %.180s", s->err_status,
	    s->err_code, s->err_msg);
	res.reason = reason;
	if (is_code(s, "account_expired"))
		res.outcome = ACCT_OUT_EXPIRED;
	else if (s->err_status == 401 || is_code(s, "upstream_forbidden") ||
	    is_code(s, "invalid_refresh_token"))
		res.outcome = ACCT_OUT_ERROR;
	else if (s->err_status == 429) {
		res.outcome = ACCT_OUT_LIMITED;
		if (!r->cfg->enable_limit)
			res.outcome = ACCT_OUT_SOFT;
		cool = s->retry_after > 0 ? s->retry_after : COOLDOWN_DEFAULT;
		res.cooldown_s = cool;
	} else if (s->err_status == 400 || s->err_status == 404 ||
	    s->err_status == 413 || s->err_status == 422)
		res.outcome = ACCT_OUT_REFUSED;	/* the request, not the account */
	else
		res.outcome = ACCT_OUT_SOFT;
	if (spent)
		reqdone_defer_acct(r, pk->provider, pk->id, &res);
	else if (acct_record(r->store, pk->provider, pk->id, &res) !=
	    STORE_OK)
		log_warn("account %s: could not record the outcome",
		    pk->fingerprint);
	if (res.outcome == ACCT_OUT_ERROR || res.outcome == ACCT_OUT_EXPIRED)
		log_info("account %s (%s) is now %s (%d %s)",
		    pk->fingerprint, pk->provider,
		    res.outcome == ACCT_OUT_ERROR ? "error" : "expired",
		    s->err_status, s->err_code);
	else if (res.outcome == ACCT_OUT_LIMITED)
		log_info("account %s (%s) cools down for %ld s",
		    pk->fingerprint, pk->provider, res.cooldown_s);
}

static void
learn_success(struct req *r, const struct picked *pk,
    const struct oa_sink *s, long long t0)
{
	struct acct_result res;
	long long t1 = s->started ? s->started_ms : req_now_ms();

	memset(&res, 0, sizeof(res));
	res.outcome = ACCT_OUT_OK;
	res.latency_ms = (uint32_t)(t1 > t0 ? t1 - t0 : 0);
	/* A client gone before the answer started used nothing. */
	res.refund = !s->started;
	reqdone_defer_acct(r, pk->provider, pk->id, &res);
}

/* What the request log and /metrics learn from the attempts. */
static void
observe(struct req *r, const struct chat_request *cr,
    const struct oa_sink *s)
{
	long long t0 = (long long)r->start.tv_sec * 1000 +
	    r->start.tv_nsec / 1000000;
	int solves;
	long pow = call_pow_take(&solves);

	if (solves > 0)
		r->obs.pow_ms = pow;
	r->obs.stream = cr->stream;
	if (s->started && s->started_ms >= t0)
		r->obs.ttfc_ms = s->started_ms - t0;
	if (s->err_status != 0)
		r->obs.error = arena_printf(r->arena, "%d %s: %.200s",
		    s->err_status, s->err_code, s->err_msg);
}

/* No account to take: say why, in the sink. */
static void
none_left(struct req *r, const struct route *rt,
    const struct acct_pick_why *w, struct oa_sink *s)
{
	int64_t left;

	if (w->over_limit > 0) {
		left = store_day_left(r->store);
		if (left < 1)
			left = 1;
		s->retry_after = (long)left;
		sink_fail(s, 429, "rate_limit_error", "daily_limit_reached",
		    "Every %s account has reached its daily limit; the day "
		    "resets at midnight (%s), in %lld h %02lld min.",
		    rt->provider->display, r->cfg->tz[0] ? r->cfg->tz :
		    "server time", (long long)(left / 3600),
		    (long long)(left % 3600 / 60));
		return;
	}
	if (w->cooling > 0) {
		/* Only a rate limit keeps them: say when to come back. */
		s->retry_after = (long)w->cooling_left;
		sink_fail(s, 429, "rate_limit_error", "rate_limit_exceeded",
		    "Every usable %s account is cooling down after the "
		    "upstream's rate limit; the first is back in %lld s.",
		    rt->provider->display, (long long)w->cooling_left);
		return;
	}
	sink_fail(s, 503, "service_unavailable_error", "no_available_account",
	    "No available account for model: %s (%s has %zu account(s): "
	    "%zu in error, %zu expired, %zu disabled, %zu cooling down).",
	    rt->requested, rt->provider->display, w->total, w->error,
	    w->expired, w->inactive, w->cooling);
}

/* The providers' clean-ups of this request, run after the response. */
struct later {
	struct provider_after	 a;
	struct later		*next;
};

static void
run_later(void *u)
{
	struct later *l;

	for (l = u; l != NULL; l = l->next)
		l->a.fn(l->a.ctx);
}

/*
 * Keeps an attempt's clean-up for after the response (in the request's
 * arena), so neither the client nor the next attempt waits for it.
 */
static void
defer(struct req *r, struct later **list, struct provider_after *after)
{
	struct later *l;

	if (after->fn == NULL)
		return;
	if ((l = arena_alloc(r->arena, sizeof(*l))) == NULL) {
		after->fn(after->ctx);	/* no memory: do it now */
		after->fn = NULL;
		return;
	}
	l->a = *after;
	l->next = *list;
	*list = l;
	after->fn = NULL;
}

/*
 * The answer did not fit response_format: one more call to the same
 * account with the bad answer and the validator's message.  rf_sink
 * answers the error itself if the second answer misses too.
 */
static void __attribute__((noinline))
repair(struct req *r, struct provider_call *pc, struct rf_sink *rs,
    const struct chat_plan *p, struct oa_sink *sink, struct later **later,
    struct provider_after *after)
{
	const struct chat_request *cr = pc->req;
	struct chat_request rcr;
	struct tools_sink *ts = NULL;

	if (sink->aborted || r->hup)
		return;
	if (rf_repair_request(r->arena, cr, rs->text.p, rs->text.len, rs->why,
	    &rcr) < 0) {
		rf_sink_fail(rs);
		return;
	}
	log_info("%s: the answer does not match response_format (%s), "
	    "asking once more", pc->route->provider->id, rs->why);
	rf_sink_round(rs);
	if (p->tools != NULL) {
		/* the tool filter starts afresh for the new answer */
		ts = (struct tools_sink *)pc->sink->ctx;
		tools_sink_free(ts);
		tools_sink_init(ts, p->tools, sink, ts->down);
	}
	pc->req = &rcr;
	pc->route->provider->chat(pc);
	defer(r, later, after);
	pc->req = cr;
	if (rs->need_repair)
		rf_sink_fail(rs);
}

enum pick_out { PICK_TAKEN, PICK_ANON, PICK_STOP };

/*
 * The next account from the pool into out, or the anonymous way where
 * the provider has one and no account is left; PICK_STOP once the sink
 * has the reason there is none.  In a frame of its own (the store's pick,
 * the options, the reasons), gone before the chat starts.
 */
static enum pick_out __attribute__((noinline))
pick_account(struct req *r, const struct route *rt, const struct chat_plan *p,
    struct oa_sink *sink, const char *const *tried, size_t ntried, int retry,
    struct picked *out)
{
	struct acct_pick_opts po;
	struct acct_pick_why why;
	struct acct_pick pk;
	enum store_err se;

	if (r->store == NULL) {
		sink_fail(sink, 503, "server_error", "store_down", "The account "
		    "store is unavailable.");
		return PICK_STOP;
	}
	memset(&po, 0, sizeof(po));
	po.provider = rt->provider->id;
	po.strategy = p->strategy;
	po.prefer = rt->pin_account;
	/* a continued session wants its own account back */
	if (po.prefer == NULL && p->sess != NULL && p->sess->found)
		po.prefer = p->sess->rec->account;
	po.skip = tried;
	po.nskip = ntried;
	po.reuse_skipped = retry && transient(sink);
	memset(&pk, 0, sizeof(pk));
	se = acct_pick(r->store, &po, &pk, &why);
	if (se == STORE_NOTFOUND) {
		if (sink->err_status)
			return PICK_STOP;	/* keep the last real error */
		if (why.over_limit == 0 && (rt->provider->flags & PROVIDER_ANON))
			return PICK_ANON;	/* as the reference */
		none_left(r, rt, &why, sink);
		return PICK_STOP;
	}
	if (se != STORE_OK) {
		sink_fail(sink, 503, "server_error", "store_error", "The account "
		    "store failed: %s.", store_strerror(se));
		return PICK_STOP;
	}
	snprintf(out->id, sizeof(out->id), "%s", pk.info.id);
	snprintf(out->fingerprint, sizeof(out->fingerprint), "%s",
	    pk.info.fingerprint);
	snprintf(out->provider, sizeof(out->provider), "%s", pk.info.provider);
	snprintf(out->team_id, sizeof(out->team_id), "%s", pk.info.team_id);
	out->kind = pk.info.kind;
	/* the secrets change hands */
	out->secret = pk.secret;
	out->fields = pk.fields;
	out->nfields = pk.nfields;
	return PICK_TAKEN;
}

enum app_err
chat_attempts(struct req *r, const struct chat_request *cr,
    const struct route *rt, const struct chat_plan *p, enum oa_format fmt)
{
	struct oa_sink sink;
	struct chat_sink k, *tk = NULL, *rk = NULL;
	/* in the arena when asked for: a parked stream keeps this frame */
	struct tools_sink *ts = NULL;
	struct rf_sink *rs = NULL;
	struct chat_ctx cc;
	struct provider_call pc;
	struct provider_after after;
	struct later *later = NULL;
	struct provider_account acct;
	struct picked *pick;	/* malloc'd: see struct picked */
	enum pick_out po_out;
	const char **tried;
	size_t ntried = 0;
	long attempt, n = r->cfg->retry_times + 1;
	long long t0;
	enum app_err e;
	int taken = 0, anon = 0, solves;

	r->obs.provider = rt->provider->id;
	if ((p->rf != NULL && ((rs = arena_alloc(r->arena, sizeof(*rs))) ==
	    NULL || (rk = arena_alloc(r->arena, sizeof(*rk))) == NULL)) ||
	    (p->tools != NULL && ((ts = arena_alloc(r->arena, sizeof(*ts))) ==
	    NULL || (tk = arena_alloc(r->arena, sizeof(*tk))) == NULL)))
		return APP_ENOMEM;
	if ((pick = calloc(1, sizeof(*pick))) == NULL)
		return APP_ENOMEM;
	(void)call_pow_take(&solves);	/* count from this request on */
	oa_sink_init(&sink, r, cr, fmt, rt->reported);
	sink.w = p->writer;
	sink.wctx = p->writer_ctx;
	oa_sink_bind(&sink, &k);
	if (p->sess != NULL && p->sess->on) {
		sink.tap = session_tap;
		sink.tap_ctx = p->sess;
	}
	oa_sink_reset_error(&sink);
	memset(&after, 0, sizeof(after));
	cc.r = r;
	cc.sink = &sink;
	cc.last_check_ms = req_now_ms();
	memset(&pc, 0, sizeof(pc));
	pc.cfg = r->cfg;
	pc.store = r->store;
	pc.arena = r->arena;
	pc.req = cr;
	pc.route = rt;
	pc.sink = &k;
	/* response_format: the answer is held and checked before it goes */
	if (p->rf != NULL) {
		rf_sink_init(rs, p->rf, &sink, &k);
		rf_sink_bind(rs, rk);
		pc.sink = rk;
	}
	/* Our tool prompt is in: the answer's calls are parsed out. */
	if (p->tools != NULL) {
		tools_sink_init(ts, p->tools, &sink, pc.sink);
		tools_sink_bind(ts, tk);
		pc.sink = tk;
	}
	pc.idle = chat_idle;
	pc.idle_ctx = &cc;
	pc.after = &after;
	if ((tried = arena_calloc(r->arena, (size_t)n, sizeof(*tried))) ==
	    NULL) {
		free(pick);
		return APP_ENOMEM;
	}
	for (attempt = 0; attempt < n; attempt++) {
		pc.account = p->mode == PAY_OWN ? p->own : NULL;
		if (p->mode == PAY_POOL && !anon) {
			po_out = pick_account(r, rt, p, &sink, tried, ntried,
			    attempt > 0, pick);
			if (po_out == PICK_STOP)
				break;
			if (po_out == PICK_ANON)
				anon = 1;
			else {
				taken = 1;
				tried[ntried++] = arena_strdup(r->arena,
				    pick->id);
				r->obs.account_fp = arena_strdup(r->arena,
				    pick->fingerprint);
				accounts_provider_account_of(pick->id,
				    pick->kind, pick->team_id, pick->secret,
				    pick->fields, pick->nfields, &acct);
				pc.account = &acct;
			}
		}
		if (p->sess != NULL)
			session_attempt(p->sess, &pc, cr, taken ?
			    pick->id : NULL);
		oa_sink_reset_error(&sink);
		/* each attempt a cookie session of its own: the thread's jar
		 * never carries one account's cookies into another's call */
		http_cookies_reset();
		t0 = req_now_ms();
		rt->provider->chat(&pc);
		defer(r, &later, &after);
		if (rs != NULL && rs->need_repair)
			repair(r, &pc, rs, p, &sink, &later, &after);
		if (p->sess != NULL)
			session_after_attempt(p->sess, taken ? pick->id :
			    NULL, sink.finished && !sink.failed &&
			    !sink.aborted && !r->hup);
		if (sink.started || sink.aborted || r->hup ||
		    sink.err_status == 0) {
			/*
			 * A failure mid-answer still says what the account
			 * is; an answer that missed response_format was an
			 * answer all the same.
			 */
			if (sink.failed)
				reqdone_upstream_error(r, rt->provider->id,
				    sink.err_code);
			if (taken && sink.failed &&
			    !is_code(&sink, "invalid_structured_output"))
				learn(r, pick, &sink, (long)(sink.started_ms -
				    t0), 1);
			else if (taken)
				learn_success(r, pick, &sink, t0);
			break;
		}
		reqdone_upstream_error(r, rt->provider->id, sink.err_code);
		if (taken)
			learn(r, pick, &sink, (long)(req_now_ms() - t0), 0);
		else if (p->mode == PAY_OWN && p->protected &&
		    (sink.err_status == 401 || sink.err_status == 403))
			admin_failed(r);	/* guessing through upstreams */
		if (taken) {
			picked_free(pick);
			taken = 0;
		}
		if (!retryable(p->mode, &sink))
			break;
		log_info("%s: attempt %ld failed (%d %s)%s", rt->provider->id,
		    attempt + 1, sink.err_status, sink.err_code,
		    attempt + 1 < n ? ", retrying" : "");
	}
	if (taken)
		picked_free(pick);
	free(pick);
	e = oa_sink_complete(&sink);
	observe(r, cr, &sink);
	oa_sink_free(&sink);
	if (ts != NULL)
		tools_sink_free(ts);
	if (rs != NULL)
		rf_sink_free(rs);
	if (p->sess != NULL) {
		session_end(p->sess, &after);
		defer(r, &later, &after);
	}
	/* The clean-ups wait until the response is complete. */
	if (later != NULL) {
		if (r->after == NULL) {
			r->after = run_later;
			r->after_ctx = later;
		} else
			run_later(later);
	}
	return e;
}
