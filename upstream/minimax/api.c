/*
 * MiniMax's signed JSON calls (§5.2-§5.4).  Every call carries the
 * account's JWT three times -- the token header, the query and the
 * x-signature -- and the query string is part of what yy signs, so it is
 * built once per call with the clock of that call and sent exactly as
 * signed.  An answer says whether it worked in its envelope
 * (base_resp.status_code or statusInfo.code), usually with HTTP 200;
 * 1001 means the login is over.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "store/accounts.h"
#include "upstream/minimax/internal.h"
#include "upstream/minimax/poll.h"

#define UA	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) " \
		"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 " \
		"Safari/537.36"

static const char *
field_value(const struct provider_account *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nfields; i++)
		if (strcmp(a->fields[i].name, name) == 0)
			return a->fields[i].value;
	return NULL;
}

enum mm_cred_err
mm_call_init(struct mm_call *c, const struct provider_ctx *x,
    const struct provider_account *a)
{
	enum mm_cred_err ce;

	memset(c, 0, sizeof(*c));
	c->cfg = x->cfg;
	c->store = x->store;
	c->arena = x->arena;
	c->base = call_base(x->arena, &x->cfg->minimax_base_url);
	if (c->base == NULL)
		return MMC_ENOMEM;
	ce = mm_cred_parse(x->arena, a->secret, field_value(a,
	    "real_user_id"), &c->cred);
	if (ce != MMC_OK)
		return ce;
	/* one device per user and token; one exit per account */
	c->cache_key = arena_printf(x->arena, "%s+%s", c->cred.uid,
	    c->cred.jwt);
	if (c->cache_key == NULL)
		return MMC_ENOMEM;
	c->proxy = call_proxy(x->arena, &x->cfg->proxy_url, a->secret, 1);
	return MMC_OK;
}

static const char **
headers(struct mm_call *c, long long ts, const char *xsig, const char *yy)
{
	struct call_hdrs h;

	call_hdrs_init(&h, c->arena);
	call_hdr(&h, "accept: application/json, text/plain, */*");
	call_hdr(&h, "accept-language: zh-CN,zh;q=0.9,en;q=0.8");
	call_hdr(&h, "content-type: application/json");
	call_hdr(&h, "origin: " MM_ORIGIN);
	call_hdr(&h, "referer: " MM_ORIGIN "/");
	call_hdr(&h, "sec-ch-ua: \"Chromium\";v=\"142\", \"Google Chrome\";"
	    "v=\"142\", \"Not_A Brand\";v=\"99\"");
	call_hdr(&h, "sec-ch-ua-mobile: ?0");
	call_hdr(&h, "sec-ch-ua-platform: \"macOS\"");
	call_hdr(&h, "sec-fetch-dest: empty");
	call_hdr(&h, "sec-fetch-mode: cors");
	call_hdr(&h, "sec-fetch-site: same-origin");
	call_hdr(&h, "user-agent: " UA);
	call_hdr(&h, "token: %s", c->cred.jwt);
	call_hdr(&h, "x-timestamp: %lld", ts);
	call_hdr(&h, "x-signature: %s", xsig);
	call_hdr(&h, "yy: %s", yy);
	return call_hdrs_done(&h);
}

enum up_err
mm_post(struct mm_call *c, const char *path, const struct mm_query *q0,
    const char *body, long timeout_ms, size_t max_body,
    struct http_resp *resp)
{
	struct http_req req;
	struct mm_query q;
	struct timespec now;
	const char *query;
	long long ms;
	char unix_ms[24], yy[33], xsig[33];

	memset(resp, 0, sizeof(*resp));
	clock_gettime(CLOCK_REALTIME, &now);
	ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	snprintf(unix_ms, sizeof(unix_ms), "%lld", ms);
	if (q0 != NULL)
		q = *q0;
	else {
		q.uuid = c->cred.uid;
		q.device_id = c->device;
		q.user_id = c->cred.uid;
	}
	q.unix_ms = unix_ms;
	q.jwt = c->cred.jwt;
	if ((query = mm_query(c->arena, &q)) == NULL || mm_yy(c->arena, path, query, body, unix_ms,
	    yy) < 0)
		return UP_ENOMEM;
	mm_xsig(ms / 1000, c->cred.jwt, body, xsig);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = arena_printf(c->arena, "%s%s?%s", c->base, path, query);
	req.headers = headers(c, ms / 1000, xsig, yy);
	if (req.url == NULL || req.headers == NULL)
		return UP_ENOMEM;
	req.body = body;
	req.body_len = strlen(body);
	req.proxy = c->proxy;
	req.connect_timeout_ms = 10000;
	req.total_timeout_ms = timeout_ms;
	req.max_body = max_body;
	req.idle = c->idle;
	req.idle_ctx = c->idle_ctx;
	return http_do(&req, resp);
}

static void
fail_oom(struct mm_call *c)
{
	snprintf(c->msg, sizeof(c->msg), "out of memory");
	call_fail_nomem(c->sink);
}

enum mm_step
mm_api(struct mm_call *c, const char *what, const char *path,
    const struct mm_query *query, const char *body, struct json_object **root)
{
	struct http_resp resp;
	enum mm_step st = MM_STEP_FAILED;
	enum up_err e;

	*root = NULL;
	c->status = 0;
	c->code = 0;
	c->msg[0] = '\0';
	e = mm_post(c, path, query, body, MM_API_TIMEOUT_MS, MM_MAX_JSON,
	    &resp);
	c->status = (int)resp.status;
	if (e == UP_ENOMEM) {
		fail_oom(c);
		goto out;
	}
	if ((e == UP_OK || e == UP_HTTP) && resp.body != NULL &&
	    resp.body_len > 0 && resp.body[0] == '{') {
		*root = json_tokener_parse(resp.body);
		c->code = mm_envelope(*root, c->msg, sizeof(c->msg));
	}
	if (c->code == MMP_CODE_EXPIRED) {
		log_info("minimax: %s: the login was refused (%ld %s)", what,
		    c->code, c->msg);
		if (c->sink != NULL)
			mm_fail_code(c->sink, what, c->code, c->msg);
		st = MM_STEP_EXPIRED;
	} else if (e == UP_HTTP) {
		if (c->sink != NULL)
			call_fail_http(c->sink, "minimax", what, &resp,
			    c->msg[0] ? c->msg : NULL);
		if (c->msg[0] == '\0')
			snprintf(c->msg, sizeof(c->msg), "HTTP %ld",
			    resp.status);
	} else if (e != UP_OK) {
		snprintf(c->msg, sizeof(c->msg), "%s", up_strerror(e));
		if (c->sink != NULL)
			call_fail_net(c->sink, "minimax", what, e);
	} else if (*root == NULL) {
		snprintf(c->msg, sizeof(c->msg), "an answer that is not JSON");
		if (c->sink != NULL)
			call_fail(c->sink, 502, "upstream_error",
			    "upstream_error", "MiniMax %s answered something "
			    "that is not JSON.", what);
	} else if (c->code != 0) {
		log_info("minimax: %s: code %ld: %s", what, c->code, c->msg);
		if (c->sink != NULL)
			mm_fail_code(c->sink, what, c->code, c->msg);
	} else
		st = MM_STEP_OK;
out:
	http_resp_free(&resp);
	if (st != MM_STEP_OK) {
		json_object_put(*root);
		*root = NULL;
	}
	return st;
}

const char *
mm_json_id(struct mm_call *c, struct json_object *o, const char *key)
{
	struct json_object *v;
	const char *s;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    (!json_object_is_type(v, json_type_string) &&
	    !json_object_is_type(v, json_type_int)))
		return NULL;
	s = json_object_get_string(v);
	return mm_id_ok(s, strlen(s)) ? arena_strdup(c->arena, s) : NULL;
}
