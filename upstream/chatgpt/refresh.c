#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fcgi/log.h"
#include "store/accounts.h"
#include "store/crypto.h"
#include "store/tokcache.h"
#include "upstream/chatgpt/chatgpt.h"
#include "upstream/chatgpt/refresh.h"
#include "upstream/http.h"

const char *
refresh_strerror(enum refresh_err e)
{
	switch (e) {
	case REFRESH_OK:	return "success";
	case REFRESH_INVALID:	return "refresh token rejected";
	case REFRESH_FAILED:	return "refresh failed";
	case REFRESH_STORE:	return "storage failure";
	case REFRESH_ENOMEM:	return "out of memory";
	}
	return "unknown error";
}

/* A random PROXY_URL entry; "{}" becomes md5(RT) for sticky sessions. */
static char *
pick_proxy(const struct config *cfg, const char *rt)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i, r = 0;
	const char *p, *brace;
	char hexs[33], *out;

	if (cfg->proxy_url.n == 0)
		return NULL;
	RAND_bytes((unsigned char *)&r, sizeof(r));
	p = cfg->proxy_url.v[r % cfg->proxy_url.n];
	if ((brace = strstr(p, "{}")) == NULL)
		return strdup(p);
	EVP_Digest(rt, strlen(rt), md, &n, EVP_md5(), NULL);
	for (i = 0; i < 16; i++)
		snprintf(hexs + 2 * i, 3, "%02x", md[i]);
	if ((out = malloc(strlen(p) + 32)) == NULL)
		return NULL;
	sprintf(out, "%.*s%s%s", (int)(brace - p), p, hexs, brace + 2);
	return out;
}

static enum refresh_err
exchange(const struct config *cfg, const char *rt, char **at,
    int64_t *expires, int (*idle)(void *), void *idle_ctx, char *err,
    size_t errsz)
{
	static const char *hdrs[] = { "content-type: application/json",
	    "accept: application/json", NULL };
	struct json_object *body, *o = NULL, *v;
	struct http_req req;
	struct http_resp resp;
	enum refresh_err re = REFRESH_FAILED;
	char *proxy;
	enum up_err e;
	long ttl = REFRESH_DEFAULT_TTL;

	body = json_object_new_object();
	json_object_object_add(body, "client_id",
	    json_object_new_string(REFRESH_CLIENT_ID));
	json_object_object_add(body, "grant_type",
	    json_object_new_string("refresh_token"));
	json_object_object_add(body, "redirect_uri",
	    json_object_new_string(REFRESH_REDIRECT_URI));
	json_object_object_add(body, "refresh_token",
	    json_object_new_string(rt));
	proxy = pick_proxy(cfg, rt);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = cfg->oauth_url;
	req.headers = hdrs;
	req.body = json_object_to_json_string_ext(body,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	req.body_len = strlen(req.body);
	req.proxy = proxy;
	req.total_timeout_ms = 15000;
	req.idle = idle;
	req.idle_ctx = idle_ctx;
	e = http_do(&req, &resp);
	if (resp.body != NULL && resp.body[0] == '{')
		o = json_tokener_parse(resp.body);
	if (e == UP_OK && o != NULL &&
	    json_object_object_get_ex(o, "access_token", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0) {
		if ((*at = strdup(json_object_get_string(v))) == NULL)
			re = REFRESH_ENOMEM;
		else
			re = REFRESH_OK;
		if (json_object_object_get_ex(o, "expires_in", &v) &&
		    json_object_get_int64(v) > 60)
			ttl = (long)json_object_get_int64(v);
		/* Renew a little early so a cached token is never stale. */
		*expires = (int64_t)time(NULL) + ttl - ttl / 10;
	} else if (e == UP_HTTP && (strstr(resp.body, "invalid_grant") ||
	    strstr(resp.body, "access_denied"))) {
		re = REFRESH_INVALID;
		snprintf(err, errsz, "refresh token rejected (%ld, "
		    "invalid_grant)", resp.status);
	} else {
		snprintf(err, errsz, "token exchange failed: %s (status %ld)",
		    up_strerror(e), resp.status);
	}
	json_object_put(o);
	json_object_put(body);
	http_resp_free(&resp);
	free(proxy);
	return re;
}

/* Marks a pooled RT as bad so rotation skips it. */
static void
mark_invalid(struct store *st, const char *rt, const char *reason)
{
	struct acct_change ch;
	char id[ACCT_ID_LEN + 1];

	memset(&ch, 0, sizeof(ch));
	ch.set = ACCT_SET_STATUS;
	ch.status = ACCT_ERROR;
	ch.reason = reason;
	if (acct_id_of(st, "chatgpt", rt, id) == STORE_OK)
		acct_set(st, id, &ch);
}

struct exch {
	const struct config	*cfg;
	const char		*rt;
	int			(*idle)(void *);
	void			*idle_ctx;
	char			*err;
	size_t			 errsz;
};

static int
do_exchange(void *u, char **at, int64_t *expires)
{
	struct exch *x = u;

	return (int)exchange(x->cfg, x->rt, at, expires, x->idle, x->idle_ctx,
	    x->err, x->errsz);
}

enum refresh_err
chatgpt_refresh(const struct config *cfg, struct store *st, const char *rt,
    int force, char **at, int (*idle)(void *), void *idle_ctx, char *err,
    size_t errsz)
{
	struct exch x = { cfg, rt, idle, idle_ctx, err, errsz };
	enum tokcache_how how;
	char fp[13];
	int rc;

	*at = NULL;
	err[0] = '\0';
	log_fingerprint(rt, fp);
	rc = tokcache_fetch(st, REFRESH_SCOPE, rt, force, do_exchange, &x,
	    idle, idle_ctx, at, &how);
	if (rc == 0) {
		if (how == TOKCACHE_EXCHANGED)
			log_info("refresh: %s exchanged", fp);
		return REFRESH_OK;
	}
	if (rc == TOKCACHE_STORE) {
		snprintf(err, errsz, "storage failure");
		return REFRESH_STORE;
	}
	if (rc == TOKCACHE_GAVE_UP) {
		snprintf(err, errsz, "timed out waiting for another exchange "
		    "of the same refresh token");
		return REFRESH_FAILED;
	}
	log_info("refresh: %s: %s", fp, err);
	if (rc == REFRESH_INVALID)
		mark_invalid(st, rt, err);
	return (enum refresh_err)rc;
}
