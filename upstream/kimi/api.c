/*
 * Kimi's calls besides the chat stream: the browser headers of §4.2
 * with the identity headers taken from the access token, the unary
 * Connect calls (JSON bodies, a Connect error object {"code","message"}
 * with a non-2xx status on failure), and the one mapping of upstream
 * failures to the sink.  A 401 is left to the caller: with a refresh
 * token behind the Bearer, a renewed one may well be accepted.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "upstream/kimi/connect.h"
#include "upstream/kimi/internal.h"

#define UA	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) " \
		"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 " \
		"Safari/537.36"

void
kimi_call_init(struct kimi_call *c, const struct provider_ctx *x,
    const struct provider_account *a)
{
	memset(c, 0, sizeof(*c));
	c->cfg = x->cfg;
	c->store = x->store;
	c->arena = x->arena;
	c->secret = a->secret;
	c->account_id = a->id;
	c->kind = kimi_kind_of(a->secret);
	c->base = call_base(x->arena, &x->cfg->kimi_base_url);
	/*
	 * One exit per account, so Kimi sees a steady client; by the
	 * account's id, which stays when the refresh token rotates.
	 */
	c->proxy = call_proxy(x->arena, &x->cfg->proxy_url, a->id != NULL ?
	    a->id : a->secret, 1);
}

const char **
kimi_headers(struct kimi_call *c, const char *bearer,
    const struct kimi_claims *k, const char *ctype, int connect)
{
	struct call_hdrs h;

	call_hdrs_init(&h, c->arena);
	call_hdr(&h, "accept: */*");
	call_hdr(&h, "accept-language: zh-CN,zh;q=0.9,en;q=0.8");
	call_hdr(&h, "authorization: Bearer %s", bearer);
	if (ctype != NULL)
		call_hdr(&h, "content-type: %s", ctype);
	if (connect)
		call_hdr(&h, "connect-protocol-version: 1");
	call_hdr(&h, "origin: " KIMI_ORIGIN);
	call_hdr(&h, "priority: u=1, i");
	call_hdr(&h, "r-timezone: Asia/Shanghai");
	call_hdr(&h, "referer: " KIMI_ORIGIN "/");
	call_hdr(&h, "sec-ch-ua: \"Google Chrome\";v=\"131\", \"Chromium\";"
	    "v=\"131\", \"Not_A Brand\";v=\"24\"");
	call_hdr(&h, "sec-ch-ua-mobile: ?0");
	call_hdr(&h, "sec-ch-ua-platform: \"Windows\"");
	call_hdr(&h, "sec-fetch-dest: empty");
	call_hdr(&h, "sec-fetch-mode: cors");
	call_hdr(&h, "sec-fetch-site: same-origin");
	call_hdr(&h, "user-agent: " UA);
	call_hdr(&h, "x-language: zh-CN");
	call_hdr(&h, "x-msh-platform: web");
	/* The identity of the token itself (§4.1); kimi_claims made them safe. */
	if (k != NULL && k->device_id[0])
		call_hdr(&h, "x-msh-device-id: %s", k->device_id);
	if (k != NULL && k->ssid[0])
		call_hdr(&h, "x-msh-session-id: %s", k->ssid);
	if (k != NULL && k->sub[0])
		call_hdr(&h, "x-traffic-id: %s", k->sub);
	return call_hdrs_done(&h);
}

void
kimi_fail(struct kimi_call *c, const char *what, int status,
    const char *detail, long retry_after)
{
	struct http_resp r;
	char ra[24];

	if (c->sink == NULL)
		return;
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.body = (char *)(detail != NULL ? detail : "");
	r.body_len = strlen(r.body);
	if (retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%ld", retry_after);
		r.retry_after = ra;
	}
	call_fail_http(c->sink, "kimi", what, &r, detail);
}

void
kimi_fail_expired(struct kimi_call *c, const char *why)
{
	char fp[LOG_FP_LEN];

	log_fingerprint(c->secret, fp);
	log_info("kimi: the login of %s is over: %s", fp, why);
	if (c->sink != NULL)
		call_fail(c->sink, 401, "invalid_request_error",
		    "account_expired", "Kimi ended the account's login: %s. "
		    "Log in at www.kimi.com again and add the new refresh_token "
		    "(Local Storage).", why);
}

enum kimi_step
kimi_unary(struct kimi_call *c, const char *what, const char *path,
    const char *body, struct json_object **root)
{
	struct http_req req;
	struct http_resp resp;
	struct kc_end err;
	enum kimi_step st = KIMI_STEP_FAILED;
	enum up_err e;

	*root = NULL;
	c->status = 0;
	c->code[0] = c->msg[0] = '\0';
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = arena_printf(c->arena, "%s%s", c->base, path);
	req.headers = kimi_headers(c, c->access, &c->claims,
	    "application/json", 1);
	req.body = body;
	req.body_len = strlen(body);
	req.proxy = c->proxy;
	req.total_timeout_ms = 15000;
	req.max_body = KIMI_MAX_JSON;
	req.idle = c->idle;
	req.idle_ctx = c->idle_ctx;
	if (req.url == NULL || req.headers == NULL) {
		call_fail_nomem(c->sink);
		return KIMI_STEP_FAILED;
	}
	e = http_do(&req, &resp);
	c->status = (int)resp.status;
	if (e == UP_OK) {
		if ((*root = json_tokener_parse(resp.body)) != NULL &&
		    json_object_is_type(*root, json_type_object)) {
			st = KIMI_STEP_OK;
			goto out;
		}
		json_object_put(*root);
		*root = NULL;
		snprintf(c->msg, sizeof(c->msg), "%s answered no JSON object",
		    what);
		if (c->sink != NULL)
			call_fail(c->sink, 502, "upstream_error",
			    "upstream_error", "Kimi %s answered no JSON.",
			    what);
		goto out;
	}
	if (e != UP_HTTP) {
		snprintf(c->msg, sizeof(c->msg), "%s", up_strerror(e));
		if (c->sink != NULL)
			call_fail_net(c->sink, "kimi", what, e);
		goto out;
	}
	/* A Connect error: {"code":"unauthenticated","message":"..."} */
	if (kc_end_parse(resp.body, resp.body_len, 1, &err) == 0 &&
	    err.error) {
		snprintf(c->code, sizeof(c->code), "%.*s",
		    (int)sizeof(c->code) - 1, err.code);
		snprintf(c->msg, sizeof(c->msg), "%.*s",
		    (int)sizeof(c->msg) - 1, err.message);
	}
	if (c->msg[0] == '\0')
		snprintf(c->msg, sizeof(c->msg), "HTTP %ld", resp.status);
	if (resp.status == 401 && !call_is_cloudflare(&resp)) {
		st = KIMI_STEP_REFUSED;
		goto out;
	}
	if (c->sink != NULL)
		call_fail_http(c->sink, "kimi", what, &resp,
		    err.message[0] ? err.message : NULL);
out:
	http_resp_free(&resp);
	return st;
}
