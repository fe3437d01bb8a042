/*
 * The Bearer of an account (§4.1).  Kimi's web client holds a refresh
 * token and an access JWT that lives about 15 minutes; the reference
 * used whatever it was given as the Bearer, so its users saw "Token
 * expired" minutes after adding an account (C2A issue #196).  Here:
 *
 *  - A refresh token is exchanged (GET /api/auth/token/refresh with it
 *    as the Bearer) for {access_token, refresh_token}.  The access token
 *    is cached in LMDB (store/tokcache.c) until kimi_renew_at(), so one
 *    exchange serves every process and concurrent first uses wait for
 *    it.
 *  - When Kimi answers a new refresh token, the old one is spent: the
 *    account's credential is replaced (acct_rotate, sealed, in one
 *    transaction), the access token is cached under the new one too, and
 *    old -> new is remembered (scope KIMI_NEXT_SCOPE) so a request that
 *    still holds the old one -- picked before the rotation, or a client
 *    sending its own -- follows it instead of failing.
 *  - An access token pasted as the credential is used as is until it
 *    expires; then the account is "expired" with a clear message.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "store/accounts.h"
#include "store/crypto.h"
#include "store/tokcache.h"
#include "upstream/kimi/internal.h"

#define KIMI_ACCESS_SCOPE	"kimi-access"
#define KIMI_NEXT_SCOPE		"kimi-rt-next"
#define KIMI_NEXT_TTL		(30 * 86400)	/* s an old -> new link lives */
#define KIMI_NEXT_HOPS		8		/* links followed at most */
#define KIMI_REFRESH_TIMEOUT	15000		/* ms */

enum exch_rc { EXCH_OK = 0, EXCH_REFUSED = 1, EXCH_FAILED = 2 };

struct exch {
	struct kimi_call	*c;
};

/* A token string of an answer, within limits, or NULL. */
static const char *
token_of(struct json_object *o, const char *key)
{
	struct json_object *v;
	size_t n;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n > KIMI_TOKEN_MAX ||
	    !acct_secret_ok(json_object_get_string(v), n))
		return NULL;
	return json_object_get_string(v);
}

/*
 * GET /api/auth/token/refresh with rt: *access and *next malloc'd.  A
 * 401 or 403 is a refused refresh token; the rest goes to the sink.
 */
static enum exch_rc
refresh_call(struct kimi_call *c, const char *rt, char **access, char **next)
{
	struct kimi_claims rk;
	struct json_object *o = NULL, *v;
	struct http_req req;
	struct http_resp resp;
	enum exch_rc rc = EXCH_FAILED;
	const char *a, *n;
	enum up_err e;

	*access = *next = NULL;
	c->status = 0;
	c->code[0] = c->msg[0] = '\0';
	kimi_claims(rt, &rk);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = arena_printf(c->arena, "%s" KIMI_REFRESH_PATH, c->base);
	req.headers = kimi_headers(c, rt, &rk, NULL, 0);
	req.proxy = c->proxy;
	req.total_timeout_ms = KIMI_REFRESH_TIMEOUT;
	req.max_body = KIMI_MAX_JSON;
	req.idle = c->idle;
	req.idle_ctx = c->idle_ctx;
	if (req.url == NULL || req.headers == NULL) {
		snprintf(c->msg, sizeof(c->msg), "out of memory");
		call_fail_nomem(c->sink);
		return EXCH_FAILED;
	}
	e = http_do(&req, &resp);
	c->status = (int)resp.status;
	if (resp.body_len > 0 && resp.body[0] == '{')
		o = json_tokener_parse(resp.body);
	/* {"error_type":"auth.token.invalid","message":"..."} */
	if (json_object_object_get_ex(o, "message", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(c->msg, sizeof(c->msg), "%s",
		    json_object_get_string(v));
	if (json_object_object_get_ex(o, "error_type", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(c->code, sizeof(c->code), "%s",
		    json_object_get_string(v));
	if (e == UP_OK) {
		if ((a = token_of(o, "access_token")) == NULL) {
			snprintf(c->msg, sizeof(c->msg), "the refresh answered "
			    "no access_token");
			if (c->sink != NULL)
				call_fail(c->sink, 502, "upstream_error",
				    "upstream_error", "Kimi's token refresh "
				    "answered no access_token.");
			goto out;
		}
		n = token_of(o, "refresh_token");
		*access = strdup(a);
		*next = n != NULL && strcmp(n, rt) != 0 ? strdup(n) : NULL;
		rc = *access != NULL ? EXCH_OK : EXCH_FAILED;
	} else if (e == UP_HTTP && (resp.status == 401 || resp.status == 403) &&
	    !call_is_cloudflare(&resp)) {
		rc = EXCH_REFUSED;
		if (c->msg[0] == '\0')
			snprintf(c->msg, sizeof(c->msg), "HTTP %ld",
			    resp.status);
	} else if (e == UP_HTTP) {
		if (c->sink != NULL)
			call_fail_http(c->sink, "kimi", "token refresh", &resp,
			    c->msg[0] ? c->msg : NULL);
		if (c->msg[0] == '\0')
			snprintf(c->msg, sizeof(c->msg), "HTTP %ld",
			    resp.status);
	} else {
		snprintf(c->msg, sizeof(c->msg), "%s", up_strerror(e));
		if (c->sink != NULL)
			call_fail_net(c->sink, "kimi", "token refresh", e);
	}
out:
	json_object_put(o);
	http_resp_free(&resp);
	return rc;
}

/* The newest refresh token known for rt (rt itself when none). */
static char *
newest(struct kimi_call *c, const char *rt)
{
	char *cur, *next;
	int hop;

	if ((cur = strdup(rt)) == NULL || c->store == NULL)
		return cur;
	for (hop = 0; hop < KIMI_NEXT_HOPS; hop++) {
		if (tokcache_get(c->store, KIMI_NEXT_SCOPE, cur, &next,
		    NULL) != STORE_OK)
			break;
		crypto_wipe(cur, strlen(cur));
		free(cur);
		cur = next;
	}
	return cur;
}

/* A new refresh token replaces the old one everywhere we keep it. */
static void
rotated(struct kimi_call *c, const char *old, const char *fresh,
    const char *access, int64_t renew)
{
	char fo[LOG_FP_LEN], fn[LOG_FP_LEN];
	int64_t now = (int64_t)time(NULL);
	enum store_err se;

	log_fingerprint(old, fo);
	log_fingerprint(fresh, fn);
	if (c->store == NULL)
		return;
	if (strcmp(old, fresh) != 0)
		tokcache_put(c->store, KIMI_NEXT_SCOPE, old, fresh,
		    now + KIMI_NEXT_TTL);
	tokcache_put(c->store, KIMI_ACCESS_SCOPE, fresh, access, renew);
	if (c->account_id == NULL || strcmp(fresh, c->secret) == 0)
		return;
	if ((se = acct_rotate(c->store, c->account_id, fresh)) != STORE_OK)
		log_warn("kimi: account %s: the rotated refresh token could "
		    "not be stored: %s", fo, store_strerror(se));
	else
		log_info("kimi: account %s: refresh token rotated, now %s", fo,
		    fn);
}

/* tokcache_fetch's exchange: the access token for c->secret. */
static int
exchange(void *u, char **value, int64_t *expires)
{
	struct exch *x = u;
	struct kimi_call *c = x->c;
	struct kimi_claims ak;
	char *rt, *next = NULL;
	enum exch_rc rc;

	*value = NULL;
	if ((rt = newest(c, c->secret)) == NULL)
		return EXCH_FAILED;
	rc = refresh_call(c, rt, value, &next);
	if (rc == EXCH_OK) {
		kimi_claims(*value, &ak);
		*expires = kimi_renew_at(&ak, (int64_t)time(NULL));
		if (next != NULL || strcmp(rt, c->secret) != 0)
			rotated(c, rt, next != NULL ? next : rt, *value,
			    *expires);
	}
	if (next != NULL) {
		crypto_wipe(next, strlen(next));
		free(next);
	}
	crypto_wipe(rt, strlen(rt));
	free(rt);
	return (int)rc;
}

/* The access token in c, with its claims. */
static enum kimi_step
use(struct kimi_call *c, const char *access, int cached)
{
	if ((c->access = arena_strdup(c->arena, access)) == NULL) {
		call_fail_nomem(c->sink);
		return KIMI_STEP_FAILED;
	}
	kimi_claims(c->access, &c->claims);
	c->access_cached = cached;
	return KIMI_STEP_OK;
}

enum kimi_step
kimi_access(struct kimi_call *c, int force)
{
	struct exch x = { c };
	enum tokcache_how how = TOKCACHE_EXCHANGED;
	enum kimi_step st;
	char *value = NULL, fp[LOG_FP_LEN], why[160];
	int64_t expires = 0;
	int rc;

	if (c->kind == KIMI_KIND_ACCESS) {
		if ((st = use(c, c->secret, 0)) != KIMI_STEP_OK)
			return st;
		if (c->claims.exp > 0 && c->claims.exp + KIMI_SKEW <
		    (int64_t)time(NULL)) {
			snprintf(why, sizeof(why), "the access token expired "
			    "%lld minutes ago (they live about 15 minutes; "
			    "add the refresh_token instead)", (long long)
			    (time(NULL) - c->claims.exp) / 60);
			snprintf(c->msg, sizeof(c->msg), "%s", why);
			kimi_fail_expired(c, why);
			return KIMI_STEP_REFUSED;
		}
		return KIMI_STEP_OK;
	}
	if (c->store == NULL)
		rc = exchange(&x, &value, &expires);
	else
		rc = tokcache_fetch(c->store, KIMI_ACCESS_SCOPE, c->secret,
		    force, exchange, &x, c->idle, c->idle_ctx, &value, &how);
	if (rc == EXCH_OK) {
		st = use(c, value, how != TOKCACHE_EXCHANGED);
		crypto_wipe(value, strlen(value));
		free(value);
		if (st == KIMI_STEP_OK && how == TOKCACHE_EXCHANGED) {
			log_fingerprint(c->secret, fp);
			log_info("kimi: access token for %s renewed", fp);
		}
		return st;
	}
	if (rc == EXCH_REFUSED) {
		snprintf(why, sizeof(why), "the refresh token was refused "
		    "(%d %.100s)", c->status, c->msg);
		kimi_fail_expired(c, why);
		return KIMI_STEP_REFUSED;
	}
	if (rc < 0) {
		snprintf(c->msg, sizeof(c->msg), "the token cache failed");
		if (c->sink != NULL)
			call_fail(c->sink, 503, "server_error", "store_error",
			    "The Kimi login could not be %s.", rc ==
			    TOKCACHE_GAVE_UP ? "waited for" : "cached");
	}
	return KIMI_STEP_FAILED;
}
