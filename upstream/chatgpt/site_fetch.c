/*
 * The gateway's calls to ChatGPT's site (upstream/chatgpt/site.h): where
 * a path lives, who we are to the site (the API's own identity for the
 * same token: client.c's cg_identity), the live page, small JSON reads,
 * and the API's sentinel run on behalf of a browser.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/log.h"
#include "upstream/chatgpt/internal.h"
#include "upstream/chatgpt/site.h"

#define HOST_MAIN		"https://chatgpt.com"
#define HOST_CDN		"https://cdn.oaistatic.com"
#define HOST_STATSIG		"https://ab.chatgpt.com"
#define HOST_FILES		"https://files.oaiusercontent.com"
#define HOST_SANDBOX		"https://web-sandbox.oaiusercontent.com"
#define SITE_PAGE_TIMEOUT_MS	10000
#define SITE_JSON_TIMEOUT_MS	10000
#define SITE_JSON_MAX		(1u << 20)

struct site_call {
	struct cg_call		 c;
	struct provider_call	 pc;
	struct chat_request	 req;
	struct chat_sink	 sink;
	char			 err[256];
};

/* ------------------------------------------------------------ routes */

static int
starts(const char *s, const char *pfx)
{
	return strncmp(s, pfx, strlen(pfx)) == 0;
}

int
site_route(const char *base, const char *path, struct site_target *t)
{
	int main_site = strcmp(base, HOST_MAIN) == 0;

	memset(t, 0, sizeof(*t));
	t->base = base;
	t->path = path;
	if (path[0] != '/')
		return -1;
	if (starts(path, "/backend-api/") || starts(path, "/backend-anon/") ||
	    starts(path, "/backend-alt/") || starts(path, "/public-api/") ||
	    starts(path, "/api/"))
		t->kind = SITE_BACKEND;
	else if (starts(path, "/assets/") || starts(path, "/_next/")) {
		t->kind = SITE_ASSET;
		if (main_site)
			t->base = HOST_CDN;
	} else if (strcmp(path, "/v1/initialize") == 0 ||
	    strcmp(path, "/v1/rgstr") == 0) {
		t->kind = SITE_STATSIG;
		if (main_site)
			t->base = HOST_STATSIG;
	} else if (starts(path, "/ces/"))
		t->kind = SITE_CES;
	else if (starts(path, "/sandbox/")) {
		t->kind = SITE_SANDBOX;
		if (main_site) {
			/* The sandbox host has no /sandbox of its own. */
			t->base = HOST_SANDBOX;
			t->path = path + strlen("/sandbox");
		}
	} else if (starts(path, "/file-")) {
		t->kind = SITE_FILE;
		if (main_site)
			t->base = HOST_FILES;
	} else
		return -1;
	return 0;
}

/* ------------------------------------------------------------ identity */

static int
sink_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct site_call *sc = ctx;

	(void)status;
	(void)type;
	(void)code;
	snprintf(sc->err, sizeof(sc->err), "%s", msg);
	return 0;
}

struct site_call *
site_call_new(struct arena *a, const struct config *cfg, const char *host,
    const char *token, const char *account_id, int (*idle)(void *),
    void *idle_ctx)
{
	struct site_call *sc;

	if ((sc = arena_calloc(a, 1, sizeof(*sc))) == NULL)
		return NULL;
	sc->sink.ctx = sc;
	sc->sink.error = sink_error;
	sc->req.history_disabled = -1;
	sc->pc.cfg = cfg;
	sc->pc.arena = a;
	sc->pc.req = &sc->req;
	sc->pc.sink = &sc->sink;
	sc->pc.idle = idle;
	sc->pc.idle_ctx = idle_ctx;
	sc->c.pc = &sc->pc;
	sc->c.cfg = cfg;
	sc->c.proto = &cg_proto_2025;
	sc->c.arena = a;
	sc->c.host = host;
	sc->c.token = token;
	sc->c.account_id = account_id != NULL && *account_id ? account_id :
	    NULL;
	sc->c.slug = "auto";
	cg_identity(&sc->c);
	return sc;
}

const char **
site_call_headers(struct site_call *sc)
{
	return sc->c.hdrs;
}

const char *
site_call_proxy(struct site_call *sc)
{
	return sc->c.proxy;
}

static enum site_err
up_to_site(enum up_err e)
{
	switch (e) {
	case UP_OK:		return SITE_OK;
	case UP_ENOMEM:		return SITE_ENOMEM;
	case UP_ABORTED:	return SITE_ABORTED;
	case UP_TOOBIG:		return SITE_TOOBIG;
	case UP_HTTP:		return SITE_HTTP;
	default:		return SITE_NET;
	}
}

/* A GET of host + path with accept; the response for the caller. */
static enum up_err
site_get(struct site_call *sc, const char *path, const char *accept,
    size_t max, long timeout_ms, struct http_resp *resp)
{
	struct http_req req;
	const char *extra[2], **hdrs;

	extra[0] = arena_printf(sc->c.arena, "accept: %s", accept);
	extra[1] = NULL;
	if (extra[0] == NULL || (hdrs = cg_headers_plus(&sc->c, extra)) ==
	    NULL) {
		memset(resp, 0, sizeof(*resp));
		return UP_ENOMEM;
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = arena_printf(sc->c.arena, "%s%s", sc->c.host, path);
	req.headers = hdrs;
	req.proxy = sc->c.proxy;
	req.total_timeout_ms = timeout_ms;
	req.max_body = max;
	req.idle = sc->pc.idle;
	req.idle_ctx = sc->pc.idle_ctx;
	if (req.url == NULL) {
		memset(resp, 0, sizeof(*resp));
		return UP_ENOMEM;
	}
	return http_do(&req, resp);
}

enum site_err
site_page_fetch(struct site_call *sc, char **page, size_t *len, long *status)
{
	struct http_resp resp;
	enum up_err e;

	*page = NULL;
	*len = 0;
	e = site_get(sc, "/", "text/html,application/xhtml+xml,application/"
	    "xml;q=0.9,*/*;q=0.8", SITE_PAGE_MAX, SITE_PAGE_TIMEOUT_MS, &resp);
	*status = resp.status;
	if (e == UP_OK) {
		*page = resp.body;
		*len = resp.body_len;
		resp.body = NULL;
	} else if (e != UP_ABORTED)
		log_info("gateway: page fetch failed: %s (status %ld)",
		    up_strerror(e), resp.status);
	http_resp_free(&resp);
	return up_to_site(e);
}

enum site_err
site_get_json(struct site_call *sc, const char *path,
    struct json_object **out, long *status)
{
	struct http_resp resp;
	enum up_err e;

	*out = NULL;
	e = site_get(sc, path, "application/json", SITE_JSON_MAX,
	    SITE_JSON_TIMEOUT_MS, &resp);
	*status = resp.status;
	if (e == UP_OK && (*out = json_tokener_parse(resp.body)) == NULL)
		e = UP_PROTO;
	http_resp_free(&resp);
	return up_to_site(e);
}

/* ------------------------------------------------------------ sentinel */

static void
take(const char **hdrs, size_t *k, size_t n, struct arena *a,
    const char *name, const char *value)
{
	if (value != NULL && *k + 1 < n &&
	    (hdrs[*k] = arena_printf(a, "%s: %s", name, value)) != NULL)
		(*k)++;
	hdrs[*k] = NULL;
}

enum site_err
site_sentinel(struct site_call *sc, const char *model, const char **hdrs,
    size_t n, char *err, size_t errsz)
{
	struct cg_call *c = &sc->c;
	size_t k = 0;
	int rc;

	if (n == 0)
		return SITE_INVAL;
	hdrs[0] = NULL;
	sc->err[0] = '\0';
	c->slug = model != NULL && *model ? model : "auto";
	sc->req.model = c->slug;
	rc = cg_sentinel(c);
	if (rc == 0) {
		take(hdrs, &k, n, c->arena,
		    "openai-sentinel-chat-requirements-token", c->chat_token);
		take(hdrs, &k, n, c->arena, "openai-sentinel-proof-token",
		    c->proof_token);
		take(hdrs, &k, n, c->arena, "openai-sentinel-turnstile-token",
		    c->turnstile_token);
		take(hdrs, &k, n, c->arena, "openai-sentinel-arkose-token",
		    c->arkose_token);
	} else
		snprintf(err, errsz, "%s", sc->err[0] ? sc->err :
		    "the client went away");
	free(c->req_token);
	free(c->proof_token);
	free(c->turnstile_token);
	c->req_token = c->proof_token = c->turnstile_token = NULL;
	if (rc != 0)
		return sc->err[0] ? SITE_SENTINEL : SITE_ABORTED;
	return k > 0 ? SITE_OK : SITE_SENTINEL;
}
