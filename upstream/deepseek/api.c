/*
 * DeepSeek's JSON calls: the browser headers of §2.2 and the envelope
 * {code, msg, data: {biz_code, biz_msg, biz_data}} every endpoint but the
 * completion stream answers with.  An error can hide in either code, with
 * HTTP 200; 40003 means the userToken (or the bearer made from it) is no
 * longer accepted.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/log.h"
#include "upstream/deepseek/internal.h"

#define UA	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) " \
		"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 " \
		"Safari/537.36"

void
ds_call_init(struct ds_call *c, const struct provider_ctx *x,
    const char *user_token)
{
	memset(c, 0, sizeof(*c));
	c->cfg = x->cfg;
	c->store = x->store;
	c->arena = x->arena;
	c->user_token = user_token;
	c->base = call_base(x->arena, &x->cfg->deepseek_base_url);
	/* One exit per account, so the upstream sees a steady client. */
	c->proxy = call_proxy(x->arena, &x->cfg->proxy_url, user_token, 1);
}

const char **
ds_headers(struct ds_call *c, const char *referer, const char *extra)
{
	struct call_hdrs h;

	call_hdrs_init(&h, c->arena);
	call_hdr(&h, "accept: */*");
	call_hdr(&h, "accept-language: zh-CN,zh;q=0.9,en;q=0.8");
	call_hdr(&h, "authorization: Bearer %s", c->bearer != NULL ?
	    c->bearer : c->user_token);
	call_hdr(&h, "content-type: application/json");
	call_hdr(&h, "origin: " DS_ORIGIN);
	call_hdr(&h, "referer: %s", referer != NULL ? referer :
	    DS_ORIGIN "/");
	call_hdr(&h, "sec-ch-ua: \"Chromium\";v=\"134\", \"Not:A-Brand\";"
	    "v=\"24\", \"Google Chrome\";v=\"134\"");
	call_hdr(&h, "sec-ch-ua-mobile: ?0");
	call_hdr(&h, "sec-ch-ua-platform: \"macOS\"");
	call_hdr(&h, "sec-fetch-dest: empty");
	call_hdr(&h, "sec-fetch-mode: cors");
	call_hdr(&h, "sec-fetch-site: same-origin");
	call_hdr(&h, "user-agent: " UA);
	call_hdr(&h, "x-app-version: 20241129.1");
	call_hdr(&h, "x-client-locale: zh_CN");
	call_hdr(&h, "x-client-platform: web");
	call_hdr(&h, "x-client-timezone-offset: 28800");
	call_hdr(&h, "x-client-version: 1.8.0");
	if (extra != NULL)
		call_hdr(&h, "%s", extra);
	return call_hdrs_done(&h);
}

void
ds_fail_expired(struct ds_call *c, const char *what)
{
	log_info("deepseek: %s: the userToken was refused (%ld %s)", what,
	    c->code, c->msg);
	if (c->sink != NULL)
		call_fail(c->sink, 401, "invalid_request_error",
		    "account_expired", "DeepSeek refused the account's login "
		    "(%s): %s", what, c->msg[0] ? c->msg : "Authorization "
		    "Failed (invalid token)");
}

/* {code, msg, data: {biz_code, biz_msg, biz_data}}: 0 when both are 0. */
static int
envelope(struct json_object *root, struct ds_call *c, struct json_object **biz)
{
	struct json_object *data = NULL, *v;
	const char *msg = NULL;

	c->code = -1;
	if (!json_object_is_type(root, json_type_object))
		return -1;
	if (json_object_object_get_ex(root, "code", &v))
		c->code = (long)json_object_get_int64(v);
	if (json_object_object_get_ex(root, "msg", &v) &&
	    json_object_is_type(v, json_type_string))
		msg = json_object_get_string(v);
	if (c->code == 0 && json_object_object_get_ex(root, "data", &data) &&
	    json_object_is_type(data, json_type_object)) {
		if (json_object_object_get_ex(data, "biz_code", &v))
			c->code = (long)json_object_get_int64(v);
		if (json_object_object_get_ex(data, "biz_msg", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) > 0)
			msg = json_object_get_string(v);
	}
	snprintf(c->msg, sizeof(c->msg), "%s", msg ? msg : "");
	if (c->code != 0 || data == NULL)
		return -1;
	/* Some answers (a delete) carry no biz_data: *biz stays NULL. */
	if (!json_object_object_get_ex(data, "biz_data", biz) ||
	    !json_object_is_type(*biz, json_type_object))
		*biz = NULL;
	return 0;
}

enum ds_step_err
ds_api(struct ds_call *c, const char *what, const char *path,
    const char *body, struct json_object **root, struct json_object **biz)
{
	struct http_req req;
	struct http_resp resp;
	enum ds_step_err se = DS_STEP_FAILED;
	enum up_err e;

	*root = NULL;
	*biz = NULL;
	c->status = 0;
	c->code = -1;
	c->msg[0] = '\0';
	memset(&req, 0, sizeof(req));
	req.method = body != NULL ? "POST" : "GET";
	req.url = arena_printf(c->arena, "%s%s", c->base, path);
	req.headers = ds_headers(c, NULL, NULL);
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.proxy = c->proxy;
	req.total_timeout_ms = 15000;
	req.max_body = DS_MAX_JSON;
	req.idle = c->idle;
	req.idle_ctx = c->idle_ctx;
	if (req.url == NULL || req.headers == NULL) {
		call_fail_nomem(c->sink);
		return DS_STEP_FAILED;
	}
	e = http_do(&req, &resp);
	c->status = (int)resp.status;
	if (resp.body != NULL && resp.body_len > 0 && resp.body[0] == '{')
		*root = json_tokener_parse(resp.body);
	if (e == UP_OK || (e == UP_HTTP && *root != NULL)) {
		if (*root != NULL && envelope(*root, c, biz) == 0) {
			se = DS_STEP_OK;
			goto out;
		}
		/* Only 40003 says the login is over; a bare 401 is refusal. */
		if (c->code == DS_ERR_INVALID_TOKEN) {
			se = DS_STEP_EXPIRED;
			goto out;
		}
	}
	call_fail_answer(c->sink, "deepseek", "DeepSeek", what, e, &resp, c->code,
	    c->msg, sizeof(c->msg));
out:
	http_resp_free(&resp);
	if (se != DS_STEP_OK) {
		json_object_put(*root);
		*root = NULL;
		*biz = NULL;
	}
	return se;
}
