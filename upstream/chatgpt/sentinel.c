/*
 * chat-requirements (§3.6): requirements token out, chat token and
 * challenges back; then the proof of work (§3.4), turnstile (§3.7) and
 * arkose (§3.8) answers that go on the conversation request.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "fcgi/log.h"
#include "upstream/call.h"
#include "upstream/chatgpt/internal.h"
#include "upstream/chatgpt/pow.h"
#include "upstream/chatgpt/turnstile.h"
#include "upstream/jv.h"

static int
jbool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o != NULL && json_object_object_get_ex(o, key, &v) &&
	    json_object_get_boolean(v);
}

/* POST a small JSON body to a solver service; returns its JSON or NULL. */
static struct json_object *
solver_post(struct cg_call *c, const char *url, struct json_object *body)
{
	static const char *hdrs[] = { "content-type: application/json",
	    "accept: application/json", NULL };
	struct http_req req;
	struct http_resp resp;
	struct json_object *out = NULL;
	enum up_err e;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.body = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	req.body_len = strlen(req.body);
	req.total_timeout_ms = 15000;
	req.idle = c->pc->idle;
	req.idle_ctx = c->pc->idle_ctx;
	e = http_do(&req, &resp);
	if (e == UP_OK)
		out = json_tokener_parse(resp.body);
	else
		log_info("chatgpt: solver %s: %s (status %ld)", url,
		    up_strerror(e), resp.status);
	http_resp_free(&resp);
	return out;
}

static void
solve_turnstile(struct cg_call *c, const char *dx)
{
	struct json_object *body, *ans;
	const char *t;
	char err[128];

	if (c->cfg->turnstile_solver_url[0] != '\0') {
		body = json_object_new_object();
		json_object_object_add(body, "url",
		    json_object_new_string(c->host));
		json_object_object_add(body, "p",
		    json_object_new_string(c->req_token));
		json_object_object_add(body, "dx", json_object_new_string(dx));
		json_object_object_add(body, "ua", json_object_new_string(c->ua));
		ans = solver_post(c, c->cfg->turnstile_solver_url, body);
		json_object_put(body);
		if ((t = jv_cstr(ans, "t")) != NULL)
			c->turnstile_token = strdup(t);
		json_object_put(ans);
		return;
	}
	/* Without a service the local solver runs the dx program itself. */
	if (turnstile_solve(dx, c->req_token, &c->turnstile_token, err,
	    sizeof(err)) != TURNSTILE_OK) {
		free(c->turnstile_token);
		log_info("chatgpt: local turnstile solver failed: %s", err);
		c->turnstile_token = NULL;
	}
}

static int
solve_arkose(struct cg_call *c, const char *dx)
{
	const struct strlist *urls = &c->cfg->arkose_token_url;
	struct json_object *body, *ans;
	const char *t;
	unsigned r;

	if (urls->n == 0) {
		cg_fail(c, 403, "upstream_error", "arkose_required",
		    "The upstream demands an Arkose challenge; set "
		    "ARKOSE_TOKEN_URL to a solver service.");
		return -1;
	}
	r = (unsigned)rand() % urls->n;
	body = json_object_new_object();
	json_object_object_add(body, "blob", dx ? json_object_new_string(dx) :
	    NULL);
	json_object_object_add(body, "method", json_object_new_string(
	    c->persona && strcmp(c->persona, "chatgpt-freeaccount") == 0 ?
	    "chat35" : "chat4"));
	ans = solver_post(c, urls->v[r], body);
	json_object_put(body);
	t = jv_cstr(ans, "token");
	if (t == NULL || (json_object_object_get_ex(ans, "solved", &body) &&
	    !json_object_get_boolean(body))) {
		json_object_put(ans);
		cg_fail(c, 403, "upstream_error", "arkose_failed",
		    "Failed to get an Arkose token from the solver.");
		return -1;
	}
	c->arkose_token = arena_strdup(c->arena, t);
	json_object_put(ans);
	return 0;
}

int
cg_sentinel(struct cg_call *c)
{
	struct pow_config pc;
	struct pow_solver *solver = NULL;
	struct timespec t0;
	struct cg_page page;
	struct http_req req;
	struct http_resp resp;
	struct json_object *o = NULL, *body = NULL, *pow, *ts, *ark;
	const char *seed, *diff, *tok;
	enum pow_err pe;
	enum up_err e;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	cg_page_get(c, &page);
	if (pow_config_defaults(&pc, c->ua, page.script,
	    page.have_dpl ? page.dpl : NULL, time(NULL)) != POW_OK ||
	    pow_solver_new(&solver, &pc, NULL) != POW_OK) {
		cg_fail(c, 500, "server_error", "pow_setup",
		    "Could not prepare the proof of work.");
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pe = pow_requirements_token(solver, NULL, &c->req_token);
	call_pow_add(call_ms_since(&t0));
	if (pe != POW_OK && pe != POW_UNSOLVED) {
		cg_fail(c, 500, "server_error", "pow_failed",
		    "Proof of work failed: %s", pow_strerror(pe));
		goto out;
	}
	body = json_object_new_object();
	json_object_object_add(body, "p", json_object_new_string(c->req_token));
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = arena_printf(c->arena, "%s%s", c->base,
	    c->proto->requirements_path);
	req.headers = c->hdrs;
	req.body = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	req.body_len = strlen(req.body);
	/* SENTINEL_PROXY_URL, random per request, for this call only. */
	req.proxy = c->cfg->sentinel_proxy_url.n ?
	    call_proxy(c->arena, &c->cfg->sentinel_proxy_url, c->token, 0) : c->proxy;
	req.total_timeout_ms = 10000;
	req.idle = c->pc->idle;
	req.idle_ctx = c->pc->idle_ctx;
	e = http_do(&req, &resp);
	if (e == UP_HTTP) {
		cg_fail_http(c, "chat-requirements", &resp);
		goto out;
	}
	if (e != UP_OK) {
		if (e != UP_ABORTED)
			cg_fail_net(c, "chat-requirements", e);
		goto out;
	}
	if ((o = json_tokener_parse(resp.body)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		cg_fail(c, 502, "upstream_error", "upstream_bad_response",
		    "chat-requirements answered something that is not JSON.");
		goto out;
	}
	c->persona = arena_strdup(c->arena, jv_cstr(o, "persona") ?
	    jv_cstr(o, "persona") : "");
	/* §3.6 step 1: these models are for paid accounts only. */
	if (strcmp(c->persona, "chatgpt-paid") != 0 &&
	    (strcmp(c->slug, "gpt-4") == 0 ||
	    strcmp(c->slug, "o1-preview") == 0)) {
		cg_fail(c, 404, "invalid_request_error", "model_not_found",
		    "The model `%s` does not exist or you do not have access "
		    "to it.", c->pc->req->model ? c->pc->req->model : c->slug);
		goto out;
	}
	if (json_object_object_get_ex(o, "turnstile", &ts) &&
	    jbool(ts, "required"))
		solve_turnstile(c, jv_cstr(ts, "dx") ? jv_cstr(ts, "dx") : "");
	if (json_object_object_get_ex(o, "arkose", &ark) &&
	    jbool(ark, "required") && solve_arkose(c, jv_cstr(ark, "dx")) < 0)
		goto out;
	if (json_object_object_get_ex(o, "proofofwork", &pow) &&
	    jbool(pow, "required")) {
		seed = jv_cstr(pow, "seed");
		diff = jv_cstr(pow, "difficulty");
		if (seed == NULL || diff == NULL) {
			cg_fail(c, 502, "upstream_error",
			    "upstream_bad_response", "chat-requirements asked "
			    "for proof of work without seed or difficulty.");
			goto out;
		}
		pe = pow_proof_token(solver, seed, diff, c->cfg->pow_difficulty,
		    &c->proof_token);
		if (pe == POW_TOOHARD) {
			cg_fail(c, 403, "upstream_error", "pow_too_hard",
			    "Proof of work difficulty too high: %.32s (limit "
			    "POW_DIFFICULTY=%s).", diff,
			    c->cfg->pow_difficulty);
			goto out;
		}
		if (pe != POW_OK) {
			cg_fail(c, 403, "upstream_error", "pow_unsolved",
			    "Failed to solve proof of work (%s).",
			    pow_strerror(pe));
			goto out;
		}
	}
	if ((tok = jv_cstr(o, "token")) == NULL) {
		cg_fail(c, 403, "upstream_error", "no_chat_token",
		    "chat-requirements returned no chat token.");
		goto out;
	}
	c->chat_token = arena_strdup(c->arena, tok);
	rc = 0;
out:
	json_object_put(o);
	json_object_put(body);
	http_resp_free(&resp);
	pow_solver_free(solver);
	return rc;
}
