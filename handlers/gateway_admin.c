/*
 * The gateway's operator API (chatgpt.md §9.6).  /seedtoken sets,
 * lists and removes seeds; it needs an AUTHORIZATION code (Bearer, or
 * the /tokens session with its CSRF header), answers a missing seed 400
 * and an unknown one 404 (the reference answers both 500), and lists
 * fingerprints where the reference shows tokens.  /auth/refresh turns a
 * RefreshToken into an AccessToken with the account's details, for the
 * Chat-Share companion.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "fcgi/resp.h"
#include "handlers/admin_auth.h"
#include "handlers/gateway.h"
#include "handlers/handlers.h"
#include "html/escape.h"
#include "store/crypto.h"
#include "upstream/chatgpt/chatgpt.h"
#include "upstream/chatgpt/refresh.h"
#include "upstream/http.h"

#define REFRESH_KEEP		(5 * 86400)	/* an AT living longer stays */
#define REFRESH_SCOPE_FAILS	"gateway-refresh"
#define CHECK_PATH		"/backend-api/accounts/check/v4-2023-04-27"
#define MODELS_PATH		"/backend-api/models?history_and_training_" \
				"disabled=false"

static int
ctype_is(struct req *r, const char *want)
{
	return r->content_type != NULL && strncmp(r->content_type, want,
	    strlen(want)) == 0;
}

/* A string argument: a JSON member, a form field or a query argument. */
static const char *
arg_of(struct req *r, struct json_object *body, const char *name)
{
	struct json_object *v;
	char *fv;
	size_t n;

	if (body != NULL) {
		if (json_object_object_get_ex(body, name, &v) &&
		    json_object_is_type(v, json_type_string))
			return json_object_get_string(v);
		return NULL;
	}
	if (r->body != NULL && ctype_is(r, "application/x-www-form-urlencoded")
	    && form_field(r->arena, r->body, r->body_len, name, &fv, &n) == 1)
		return fv;
	return req_query_get(r, name);
}

static enum app_err
admin_refused(struct req *r, enum admin_verdict v, long retry)
{
	char extra[64];

	switch (v) {
	case ADMIN_DISABLED:
		return resp_error(r, 403, "invalid_request_error",
		    "admin_disabled", NULL, "Seed management is disabled: set "
		    "AUTHORIZATION to a comma list of codes and restart.");
	case ADMIN_BADBEARER:
		log_warn("gateway: %s /seedtoken with a wrong Bearer code",
		    r->method);
		return resp_error_hdr(r, 401, "WWW-Authenticate: Bearer\r\n",
		    "invalid_request_error", "invalid_api_key", NULL,
		    "Incorrect authorization code provided.");
	case ADMIN_THROTTLED:
		snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", retry);
		return resp_error_hdr(r, 429, extra, "rate_limit_error",
		    "too_many_failures", NULL, "Too many wrong authorization "
		    "codes from this address; wait before trying again.");
	default:
		return resp_error_hdr(r, 401, "WWW-Authenticate: Bearer\r\n",
		    "invalid_request_error", "missing_authorization", NULL,
		    "Send Authorization: Bearer <one of the AUTHORIZATION "
		    "codes>.");
	}
}

static void
iso_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static struct json_object *
seed_json(const struct seed_info *i)
{
	struct json_object *o = json_object_new_object();
	char when[32];

	iso_time(i->created, when);
	json_object_object_add(o, "source", json_object_new_string(
	    i->source == SEED_POOL ? "pool" : "set"));
	json_object_object_add(o, "fingerprint",
	    json_object_new_string(i->fingerprint));
	json_object_object_add(o, "created", json_object_new_string(when));
	json_object_object_add(o, "conversations",
	    json_object_new_int64((int64_t)i->conversations));
	return o;
}

static int
list_one(void *arg, const struct seed_info *i)
{
	json_object_object_add(arg, i->seed, seed_json(i));
	return 0;
}

static enum app_err
seed_error(struct req *r, enum seed_err se)
{
	switch (se) {
	case SEED_INVAL:
		return resp_error(r, 400, "invalid_request_error",
		    "invalid_seed", "seed", "A seed is 1 to %d of the "
		    "characters A-Z a-z 0-9 . _ ~ -.", SEED_LEN_MAX);
	case SEED_UNKNOWN:
		return resp_error(r, 404, "invalid_request_error",
		    "seed_not_found", "seed", "No such seed.");
	case SEED_FULL:
		return resp_error(r, 507, "server_error", "seeds_full", NULL,
		    "No room for another seed.");
	case SEED_ENOMEM:
		return APP_ENOMEM;
	default:
		return APP_STORE;
	}
}

static enum app_err
seed_get(struct req *r)
{
	struct json_object *o, *data;
	struct seed_info info;
	const char *seed = req_query_get(r, "seed");
	enum seed_err se;
	enum app_err e;

	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "status", json_object_new_string("success"));
	if (seed != NULL) {
		if ((se = seed_info(r->store, GW_PROVIDER, seed, &info)) !=
		    SEED_OK) {
			json_object_put(o);
			return seed_error(r, se);
		}
		data = seed_json(&info);
		json_object_object_add(data, "seed",
		    json_object_new_string(info.seed));
	} else {
		data = json_object_new_object();
		if ((se = seed_list(r->store, GW_PROVIDER, list_one, data)) !=
		    SEED_OK) {
			json_object_put(data);
			json_object_put(o);
			return seed_error(r, se);
		}
	}
	json_object_object_add(o, "data", data);
	e = resp_json(r, 200, o);
	json_object_put(o);
	return e;
}

static enum app_err
success(struct req *r, const char *msg, long removed)
{
	char json[160];

	if (removed >= 0)
		snprintf(json, sizeof(json), "{\"status\":\"success\","
		    "\"message\":\"%s\",\"removed\":%ld}", msg, removed);
	else
		snprintf(json, sizeof(json), "{\"status\":\"success\","
		    "\"message\":\"%s\"}", msg);
	return resp_json_text(r, 200, json, strlen(json));
}

static enum app_err
seed_post(struct req *r, struct json_object *body)
{
	const char *seed = arg_of(r, body, "seed");
	const char *token = arg_of(r, body, "token");
	const char *team = arg_of(r, body, "account_id");
	char fp[LOG_FP_LEN];
	enum seed_err se;
	int kind;

	if (seed == NULL || *seed == '\0')
		return resp_error(r, 400, "invalid_request_error",
		    "missing_seed", "seed", "Send {\"seed\": ..., \"token\": "
		    "...}.");
	if (token == NULL || *token == '\0')
		return resp_error(r, 400, "invalid_request_error",
		    "missing_token", "token", "Send {\"seed\": ..., \"token\": "
		    "...}.");
	kind = chatgpt_token_kind(token);
	if (!gw_token_ok(token, strlen(token)) ||
	    (kind != CHATGPT_KIND_ACCESS && kind != CHATGPT_KIND_REFRESH))
		return resp_error(r, 400, "invalid_request_error",
		    "invalid_token", "token", "The token must be an "
		    "AccessToken or a RefreshToken.");
	if ((se = seed_set(r->store, seed, token, team)) != SEED_OK)
		return seed_error(r, se);
	log_fingerprint(seed, fp);
	log_info("gateway: seed %s set by the operator", fp);
	return success(r, "Token updated successfully", -1);
}

static enum app_err
seed_del(struct req *r, struct json_object *body)
{
	const char *seed = arg_of(r, body, "seed");
	char fp[LOG_FP_LEN];
	size_t removed = 0;
	enum seed_err se;

	if (seed == NULL || *seed == '\0')
		return resp_error(r, 400, "invalid_request_error",
		    "missing_seed", "seed", "Send {\"seed\": ...}, or "
		    "{\"seed\": \"clear\"} for all of them.");
	if (strcmp(seed, "clear") == 0) {
		if (store_seeds_clear(r->store, &removed) != STORE_OK)
			return APP_STORE;
		log_info("gateway: every seed removed (%zu)", removed);
		return success(r, "All seed tokens cleared", (long)removed);
	}
	if ((se = seed_delete(r->store, seed)) != SEED_OK)
		return seed_error(r, se);
	log_fingerprint(seed, fp);
	log_info("gateway: seed %s removed by the operator", fp);
	return success(r, "Seed token deleted", 1);
}

enum app_err
h_gw_seedtoken(struct req *r, const char *rest)
{
	struct admin_auth a;
	struct json_object *body = NULL;
	enum admin_verdict v;
	enum app_err e;

	(void)rest;
	if (r->store == NULL)
		return APP_STORE;
	if ((v = admin_check(r, &a)) != ADMIN_OK)
		return admin_refused(r, v, a.retry_after);
	/* A browser session changes nothing without the page's token. */
	if (a.via == ADMIN_SESSION && strcmp(r->method, "GET") != 0 &&
	    !admin_csrf_ok(r->store, a.session,
	    req_param(r, "HTTP_X_CSRF_TOKEN")))
		return resp_error(r, 403, "invalid_request_error",
		    "csrf_failed", NULL, "Missing or wrong X-CSRF-Token.");
	if (strcmp(r->method, "GET") == 0)
		return seed_get(r);
	if (r->body != NULL && r->body_len > 0 && ctype_is(r,
	    "application/json") && ((body = json_tokener_parse(r->body)) ==
	    NULL || !json_object_is_type(body, json_type_object))) {
		json_object_put(body);
		return resp_error(r, 400, "invalid_request_error",
		    "invalid_json", NULL, "The body is not a JSON object.");
	}
	e = strcmp(r->method, "POST") == 0 ? seed_post(r, body) :
	    seed_del(r, body);
	json_object_put(body);
	return e;
}

/* ------------------------------------------------------------ refresh */

static const char *
client_of(struct req *r)
{
	const char *a = req_param(r, "REMOTE_ADDR");

	return a != NULL && *a ? a : "-";
}

/* Plan, deactivation and team ids from the account check. */
static struct json_object *
check_info(struct json_object *accounts)
{
	struct json_object *o = json_object_new_object(), *teams, *accts, *a,
	    *v;
	const char *plan = NULL, *p, *id;
	int deactivated = 0;

	teams = json_object_new_array();
	if (accounts != NULL &&
	    json_object_object_get_ex(accounts, "accounts", &accts) &&
	    json_object_is_type(accts, json_type_object)) {
		json_object_object_foreach(accts, k, e) {
			(void)k;
			if (!json_object_object_get_ex(e, "account", &a))
				continue;
			p = json_object_object_get_ex(a, "plan_type", &v) ?
			    json_object_get_string(v) : NULL;
			id = json_object_object_get_ex(a, "account_id", &v) ?
			    json_object_get_string(v) : NULL;
			if (json_object_object_get_ex(a, "is_deactivated",
			    &v) && json_object_get_boolean(v))
				deactivated = 1;
			/* A team plan wins over the personal one. */
			if (p != NULL && (plan == NULL ||
			    strcmp(p, "team") == 0))
				plan = p;
			if (p != NULL && strcmp(p, "team") == 0 && id != NULL)
				json_object_array_add(teams,
				    json_object_new_string(id));
		}
	}
	json_object_object_add(o, "is_deactivated",
	    json_object_new_boolean(deactivated));
	json_object_object_add(o, "plan_type", plan != NULL ?
	    json_object_new_string(plan) : NULL);
	json_object_object_add(o, "team_ids", teams);
	return o;
}

enum app_err
h_gw_auth_refresh(struct req *r, const char *rest)
{
	struct store_throttle lim = { r->cfg->admin_max_fails,
	    r->cfg->admin_fail_window };
	struct json_object *out, *models = NULL, *accounts = NULL, *v;
	struct site_call *sc;
	const char *rt = arg_of(r, NULL, "refresh_token");
	const char *at = arg_of(r, NULL, "access_token");
	char err[256], email[128], fp[LOG_FP_LEN], *owned = NULL;
	enum refresh_err re = REFRESH_OK;
	int64_t exp = 0;
	long wait = 0, status;
	enum app_err e;

	(void)rest;
	if (at == NULL)
		at = arg_of(r, NULL, "accessToken");
	if (r->store == NULL)
		return APP_STORE;
	if (store_throttle_check(r->store, REFRESH_SCOPE_FAILS, client_of(r),
	    &lim, &wait) == STORE_OK && wait > 0)
		return gw_detail(r, 429, "Too many failed refreshes from this "
		    "address.");
	if (at != NULL && chatgpt_token_kind(at) == CHATGPT_KIND_ACCESS)
		chatgpt_jwt_claims(at, email, sizeof(email), &exp);
	/* A token that lives five more days is kept (§9.6). */
	if (at == NULL || exp <= (int64_t)time(NULL) + REFRESH_KEEP) {
		at = NULL;
		if (rt != NULL && gw_token_ok(rt, strlen(rt)) &&
		    chatgpt_token_kind(rt) == CHATGPT_KIND_REFRESH)
			re = chatgpt_refresh(r->cfg, r->store, rt, 0, &owned,
			    gw_idle, r, err, sizeof(err));
		else
			re = REFRESH_INVALID;
		if (re == REFRESH_OK)
			at = arena_strdup(r->arena, owned);
		if (owned != NULL) {
			crypto_wipe(owned, strlen(owned));
			free(owned);
		}
	}
	if (at == NULL) {
		store_throttle_fail(r->store, REFRESH_SCOPE_FAILS,
		    client_of(r), &lim, &wait);
		return gw_detail(r, 401, "Unauthorized");
	}
	log_fingerprint(at, fp);
	log_info("gateway: /auth/refresh for %s", fp);
	http_cookies_reset();
	if ((sc = site_call_new(r->arena, r->cfg, gw_base(r), at, NULL,
	    gw_idle, r)) == NULL)
		return APP_ENOMEM;
	site_get_json(sc, MODELS_PATH, &models, &status);
	site_get_json(sc, CHECK_PATH, &accounts, &status);
	if ((out = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	if (rt != NULL)
		json_object_object_add(out, "refresh_token",
		    json_object_new_string(rt));
	json_object_object_add(out, "access_token", json_object_new_string(at));
	json_object_object_add(out, "accessToken", json_object_new_string(at));
	json_object_object_add(out, "models", models != NULL &&
	    json_object_object_get_ex(models, "models", &v) ?
	    json_object_get(v) : json_object_new_array());
	json_object_object_add(out, "accounts_info", accounts != NULL ?
	    json_object_get(accounts) : json_object_new_object());
	json_object_object_add(out, "accountCheckInfo", check_info(accounts));
	json_object_put(models);
	json_object_put(accounts);
	e = gw_json(r, 200, json_object_to_json_string_ext(out,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	return e;
}
