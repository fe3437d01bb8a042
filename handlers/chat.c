/*
 * POST /v1/chat/completions: validate, pick provider and credential, run
 * attempts until one starts an answer or a non-retryable error, and let
 * the OpenAI sink write the result.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fcgi/log.h"
#include "store/creds.h"
#include "store/crypto.h"
#include "upstream/chatgpt/refresh.h"
#include "fcgi/resp.h"
#include "handlers/admin_auth.h"
#include "handlers/chat_request.h"
#include "handlers/handlers.h"
#include "handlers/openai_sink.h"
#include "upstream/chatgpt/models.h"
#include "upstream/provider.h"

struct chat_ctx {
	struct req	*r;
	struct oa_sink	*sink;
	long long	 last_check_ms;
};

#define IDLE_CHECK_MS	100	/* curl calls back far more often */

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

/* "Bearer X" or "Bearer X,account_id" (§16.1: both forms work). */
static void
parse_bearer(struct req *r, const char **token, const char **account)
{
	const char *a = r->auth, *comma;

	*token = NULL;
	*account = NULL;
	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return;
	for (a += 7; *a == ' '; a++)
		;
	if (*a == '\0')
		return;
	if ((comma = strchr(a, ',')) != NULL) {
		*token = arena_strndup(r->arena, a, (size_t)(comma - a));
		if (comma[1] != '\0')
			*account = arena_strdup(r->arena, comma + 1);
	} else
		*token = a;
}

/* Who pays for this answer (chatgpt.md §7.1, §7.2). */
enum auth_mode {
	AUTH_ANON,	/* no credential: backend-anon */
	AUTH_TOKEN,	/* the client's own access token */
	AUTH_REFRESH,	/* the client's own refresh token: exchanged */
	AUTH_POOL,	/* an AUTHORIZATION code: a pooled credential */
	AUTH_BAD,	/* none of these while a pool is configured: 401 */
};

/* Compares against every code, so timing tells nothing about which. */
static int
is_auth_code(const struct config *cfg, const char *token)
{
	size_t i;
	int hit = 0;

	for (i = 0; i < cfg->authorization.n; i++)
		hit |= crypto_streq(cfg->authorization.v[i], token);
	return hit;
}

static int
retryable(enum auth_mode mode, int status, const char *code)
{
	if (status >= 500)
		return 1;
	if (status == 403 && strcmp(code, "upstream_not_started") == 0)
		return 1;
	/* Another pooled credential may well succeed where this one failed. */
	return mode == AUTH_POOL && (status == 401 || status == 403 ||
	    status == 429);
}

struct attempt {
	struct cred_pick	 pick;
	char			*at;		/* exchanged access token */
	int			 picked;
};

static void
attempt_free(struct attempt *a)
{
	if (a->picked)
		cred_pick_free(&a->pick);
	if (a->at != NULL) {
		crypto_wipe(a->at, strlen(a->at));
		free(a->at);
	}
	memset(a, 0, sizeof(*a));
}

/*
 * Sets pc->credential for this attempt.  Returns 0, or -1 with the sink's
 * error set (nothing to try).
 */
static int
attempt_prepare(struct req *r, enum auth_mode mode, const char *token,
    struct attempt *a, struct provider_call *pc, struct oa_sink *sink,
    const char *account)
{
	char err[256];
	const char *rt = NULL;
	enum store_err se;
	enum refresh_err re;

	pc->credential = NULL;
	pc->account_id = account;
	if (mode == AUTH_ANON)
		return 0;
	if (mode == AUTH_TOKEN) {
		pc->credential = token;
		return 0;
	}
	if (r->store == NULL) {
		sink->err_status = 503;
		snprintf(sink->err_type, sizeof(sink->err_type), "server_error");
		snprintf(sink->err_code, sizeof(sink->err_code), "store_down");
		snprintf(sink->err_msg, sizeof(sink->err_msg), "The credential "
		    "store is unavailable.");
		return -1;
	}
	if (mode == AUTH_POOL) {
		se = cred_pick(r->store, r->cfg->random_token ?
		    CRED_PICK_RANDOM : CRED_PICK_ROUND_ROBIN, &a->pick);
		if (se == STORE_NOTFOUND) {
			if (sink->err_status)
				return -1;	/* keep the last real error */
			/* An empty pool serves anonymously, as the reference. */
			return 0;
		}
		if (se != STORE_OK) {
			sink->err_status = 503;
			snprintf(sink->err_type, sizeof(sink->err_type),
			    "server_error");
			snprintf(sink->err_code, sizeof(sink->err_code),
			    "store_error");
			snprintf(sink->err_msg, sizeof(sink->err_msg),
			    "The credential store failed: %s.",
			    store_strerror(se));
			return -1;
		}
		a->picked = 1;
		if (a->pick.info.account_id[0] != '\0' && account == NULL)
			pc->account_id = a->pick.info.account_id;
		if (a->pick.info.kind != CRED_REFRESH) {
			pc->credential = a->pick.secret;
			return 0;
		}
		rt = a->pick.secret;
	} else
		rt = token;
	re = chatgpt_refresh(r->cfg, r->store, rt, 0, &a->at, NULL, NULL,
	    err, sizeof(err));
	if (re == REFRESH_OK) {
		pc->credential = a->at;
		return 0;
	}
	sink->err_status = re == REFRESH_INVALID ? 401 : 502;
	snprintf(sink->err_type, sizeof(sink->err_type), "%s",
	    re == REFRESH_INVALID ? "invalid_request_error" : "upstream_error");
	snprintf(sink->err_code, sizeof(sink->err_code), "%s",
	    re == REFRESH_INVALID ? "invalid_refresh_token" : "refresh_failed");
	snprintf(sink->err_msg, sizeof(sink->err_msg), "Could not exchange "
	    "the RefreshToken: %s.", err);
	return -1;
}

/* What one failed attempt teaches about its pooled credential. */
static void
attempt_learn(struct req *r, struct attempt *a, struct oa_sink *sink)
{
	char reason[CRED_REASON_MAX];

	if (!a->picked || r->store == NULL)
		return;
	if (sink->err_status == 401 || (sink->err_status == 403 &&
	    strcmp(sink->err_code, "upstream_forbidden") == 0)) {
		snprintf(reason, sizeof(reason), "%d %s: %.160s", sink->err_status,
		    sink->err_code, sink->err_msg);
		cred_mark_error(r->store, a->pick.info.id, reason);
		log_info("credential %s moved to the error list (%d %s)",
		    a->pick.info.fingerprint, sink->err_status,
		    sink->err_code);
	} else if (sink->err_status == 429 && r->cfg->enable_limit &&
	    sink->retry_after > 0) {
		cred_mark_cooldown(r->store, a->pick.info.id,
		    (int64_t)time(NULL) + sink->retry_after);
		log_info("credential %s cools down for %ld s",
		    a->pick.info.fingerprint, sink->retry_after);
	}
}

/*
 * One chat body (len bytes) through auth, pool, provider and retries, the
 * answer written in fmt.  /v1/completions arrives here with its prompt
 * already turned into a chat body.
 */
enum app_err
chat_serve(struct req *r, const char *body, size_t len, enum oa_format fmt)
{
	struct chat_request cr;
	struct chat_req_error err;
	struct json_object *root = NULL;
	struct oa_sink sink;
	struct chat_sink k;
	struct chat_ctx cc;
	struct provider_call pc;
	struct attempt at;
	const struct provider *prov;
	const char *token, *account, *hdr;
	char retry_hdr[48];
	enum auth_mode mode;
	enum app_err e;
	long attempt, wait;

	if (chat_request_parse(r->arena, body, len, &cr, &root, &err) < 0) {
		/* The legacy prompt is the chat body's only message. */
		if (fmt == OA_TEXT &&
		    strncmp(err.param, "messages[0].content", 19) == 0)
			snprintf(err.param, sizeof(err.param), "prompt");
		return resp_error(r, err.status, "invalid_request_error",
		    err.code, err.param[0] ? err.param : NULL, "%s",
		    err.message);
	}
	if (cr.model == NULL || *cr.model == '\0')
		cr.model = CHATGPT_DEFAULT_MODEL;
	if (r->cfg->upload_by_url &&
	    chat_request_split_urls(r->arena, &cr) < 0) {
		json_object_put(root);
		return APP_ENOMEM;
	}
	r->model = arena_strdup(r->arena, cr.model);
	if ((prov = provider_for_model(cr.model)) == NULL) {
		json_object_put(root);
		return resp_error(r, 404, "invalid_request_error",
		    "model_not_found", "model", "The model `%s` does not "
		    "exist.", cr.model);
	}
	parse_bearer(r, &token, &account);
	if ((hdr = req_param(r, "HTTP_CHATGPT_ACCOUNT_ID")) != NULL && *hdr)
		account = hdr;
	else if (account == NULL && cr.account_id != NULL)
		account = cr.account_id;
	if (token == NULL)
		mode = AUTH_ANON;
	else if (r->cfg->authorization.n && is_auth_code(r->cfg, token))
		mode = AUTH_POOL;
	else if (cred_detect_kind(token) == CRED_ACCESS)
		mode = AUTH_TOKEN;
	else if (cred_detect_kind(token) == CRED_REFRESH)
		mode = AUTH_REFRESH;
	else if (r->cfg->authorization.n)
		mode = AUTH_BAD;
	else
		/* SDKs must send some key: a placeholder means anonymous. */
		mode = AUTH_ANON;
	/*
	 * The codes also open /tokens: guesses here count against the same
	 * per-address limit, and while blocked even the right code is
	 * refused, so a guess made then tells nothing.
	 */
	if ((mode == AUTH_POOL || mode == AUTH_BAD) &&
	    admin_throttled(r, &wait)) {
		json_object_put(root);
		snprintf(retry_hdr, sizeof(retry_hdr), "Retry-After: %ld\r\n",
		    wait);
		return resp_error_hdr(r, 429, retry_hdr, "rate_limit_error",
		    "too_many_failures", NULL, "Too many wrong API keys from "
		    "this address; wait %ld s before trying again.", wait);
	}
	if (mode == AUTH_BAD) {
		json_object_put(root);
		admin_failed(r);
		return resp_error(r, 401, "invalid_request_error",
		    "invalid_api_key", NULL, "Incorrect API key provided: not "
		    "an authorization code, access token or refresh token.");
	}

	oa_sink_init(&sink, r, &cr, fmt);
	oa_sink_bind(&sink, &k);
	oa_sink_reset_error(&sink);
	cc.r = r;
	cc.sink = &sink;
	cc.last_check_ms = req_now_ms();
	memset(&pc, 0, sizeof(pc));
	memset(&at, 0, sizeof(at));
	pc.cfg = r->cfg;
	pc.arena = r->arena;
	pc.req = &cr;
	pc.sink = &k;
	pc.idle = chat_idle;
	pc.idle_ctx = &cc;
	for (attempt = 0; attempt <= r->cfg->retry_times; attempt++) {
		attempt_free(&at);
		if (attempt_prepare(r, mode, token, &at, &pc, &sink,
		    account) < 0) {
			if (mode != AUTH_POOL || !at.picked)
				break;
			attempt_learn(r, &at, &sink);
			continue;
		}
		oa_sink_reset_error(&sink);
		prov->chat(&pc);
		if (sink.started || sink.aborted || r->hup ||
		    sink.err_status == 0)
			break;
		attempt_learn(r, &at, &sink);
		if (!retryable(mode, sink.err_status, sink.err_code))
			break;
		log_info("%s: attempt %ld failed (%d %s)%s", prov->name,
		    attempt + 1, sink.err_status, sink.err_code,
		    attempt < r->cfg->retry_times ? ", retrying" : "");
	}
	attempt_free(&at);
	e = oa_sink_complete(&sink);
	oa_sink_free(&sink);
	json_object_put(root);
	return e;
}

enum app_err
h_chat_completions(struct req *r, const char *rest)
{
	(void)rest;
	if (r->body_len == 0)
		return resp_error(r, 400, "invalid_request_error",
		    "missing_body", NULL, "The request needs a JSON body.");
	return chat_serve(r, r->body, r->body_len, OA_CHAT);
}
