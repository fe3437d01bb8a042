/*
 * GLM's JSON calls: the signed browser headers of §3.2/§3.3 and the
 * envelope {code | status, message, result} the endpoints answer with.
 * An error can come with HTTP 200 in the envelope; 40001 and 40102 say
 * the refresh token is over, a bare 401 that the token is refused.  Which
 * of those stands is the caller's to decide: a cached access token is
 * first exchanged again.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/log.h"
#include "upstream/glm/internal.h"
#include "upstream/glm/sign.h"

#define UA	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) " \
		"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 " \
		"Safari/537.36 Edg/143.0.0.0"

void
glm_call_init(struct glm_call *c, const struct provider_ctx *x,
    const struct provider_account *a)
{
	memset(c, 0, sizeof(*c));
	c->cfg = x->cfg;
	c->store = x->store;
	c->arena = x->arena;
	c->account_id = a->id;
	c->refresh = a->secret;
	c->code = -1;
	c->base = call_base(x->arena, &x->cfg->glm_base_url);
	/*
	 * One exit per account, so the upstream sees a steady client: by
	 * its id, which stays when the refresh token rotates.
	 */
	c->proxy = call_proxy(x->arena, &x->cfg->proxy_url, a->id != NULL ?
	    a->id : a->secret, 1);
}

const char **
glm_headers(struct glm_call *c, const char *bearer, const char *ctype,
    const char *referer)
{
	struct call_hdrs h;
	struct glm_sign s;
	char dev[37], rid[37];

	if (glm_sign_now(&s) < 0)
		return NULL;
	call_uuid4(dev);
	call_uuid4(rid);
	call_hdrs_init(&h, c->arena);
	call_hdr(&h, "accept: text/event-stream");
	call_hdr(&h, "accept-language: zh-CN,zh;q=0.9,en;q=0.8,en-GB;q=0.7,"
	    "en-US;q=0.6");
	call_hdr(&h, "app-name: chatglm");
	call_hdr(&h, "authorization: Bearer %s", bearer);
	call_hdr(&h, "cache-control: no-cache");
	call_hdr(&h, "content-type: %s", ctype != NULL ? ctype :
	    "application/json");
	call_hdr(&h, "origin: " GLM_ORIGIN);
	call_hdr(&h, "pragma: no-cache");
	call_hdr(&h, "priority: u=1, i");
	call_hdr(&h, "referer: %s", referer != NULL ? referer : GLM_REFERER);
	call_hdr(&h, "sec-ch-ua: \"Microsoft Edge\";v=\"143\", \"Chromium\";"
	    "v=\"143\", \"Not A(Brand\";v=\"24\"");
	call_hdr(&h, "sec-ch-ua-mobile: ?0");
	call_hdr(&h, "sec-ch-ua-platform: \"Windows\"");
	call_hdr(&h, "sec-fetch-dest: empty");
	call_hdr(&h, "sec-fetch-mode: cors");
	call_hdr(&h, "sec-fetch-site: same-origin");
	call_hdr(&h, "user-agent: " UA);
	call_hdr(&h, "x-app-fr: browser_extension");
	call_hdr(&h, "x-app-platform: pc");
	call_hdr(&h, "x-app-version: 0.0.1");
	/* "name;" is how libcurl sends a header with an empty value */
	call_hdr(&h, "x-device-brand;");
	call_hdr(&h, "x-device-model;");
	call_hdr(&h, "x-device-id: %s", dev);
	call_hdr(&h, "x-lang: zh");
	call_hdr(&h, "x-nonce: %s", s.nonce);
	call_hdr(&h, "x-request-id: %s", rid);
	call_hdr(&h, "x-sign: %s", s.sign);
	call_hdr(&h, "x-timestamp: %s", s.timestamp);
	return call_hdrs_done(&h);
}

void
glm_oom(struct glm_call *c)
{
	snprintf(c->msg, sizeof(c->msg), "out of memory");
	call_fail_nomem(c->sink);
}

int
glm_envelope(struct glm_call *c, struct json_object *root,
    struct json_object **result)
{
	struct json_object *v;
	const char *msg = NULL;
	int have = 0;
	long code = -1;

	*result = NULL;
	c->code = -1;
	if (!json_object_is_type(root, json_type_object))
		return -1;
	/* "code" or "status"; the chat snapshots' string status is no code */
	if (json_object_object_get_ex(root, "code", &v) &&
	    json_object_is_type(v, json_type_int)) {
		code = (long)json_object_get_int64(v);
		have = 1;
	}
	if ((!have || code != 0) &&
	    json_object_object_get_ex(root, "status", &v) &&
	    json_object_is_type(v, json_type_int)) {
		code = (long)json_object_get_int64(v);
		have = 1;
	}
	if ((json_object_object_get_ex(root, "message", &v) ||
	    json_object_object_get_ex(root, "msg", &v)) &&
	    json_object_is_type(v, json_type_string))
		msg = json_object_get_string(v);
	snprintf(c->msg, sizeof(c->msg), "%s", msg ? msg : "");
	c->code = code;
	if (!have || code != 0)
		return -1;
	if (!json_object_object_get_ex(root, "result", result) ||
	    !json_object_is_type(*result, json_type_object))
		*result = NULL;
	return 0;
}

const char *
glm_json_str(struct json_object *o, const char *key, size_t max)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0 ||
	    (size_t)json_object_get_string_len(v) > max)
		return NULL;
	return json_object_get_string(v);
}

int
glm_login_over(const struct glm_call *c)
{
	return c->code == GLM_ERR_TOKEN_INVALID ||
	    c->code == GLM_ERR_TOKEN_EXPIRED ||
	    strstr(c->msg, "40102") != NULL;
}

void
glm_fail_auth(struct glm_call *c, const char *what)
{
	char fp[LOG_FP_LEN];

	log_fingerprint(c->refresh, fp);
	log_info("glm: %s: account %s refused (HTTP %d, code %ld: %s)", what,
	    fp, c->status, c->code, c->msg);
	if (c->sink == NULL)
		return;
	if (glm_login_over(c))
		call_fail(c->sink, 401, "invalid_request_error",
		    "account_expired", "GLM says the account's login is over "
		    "(%s, code %ld): %s", what, c->code, c->msg[0] ? c->msg :
		    "the refresh token expired");
	else
		call_fail(c->sink, 401, "invalid_request_error",
		    "invalid_api_key", "The GLM upstream rejected the "
		    "credential (%s): %s", what, c->msg[0] ? c->msg :
		    "Unauthorized");
}

enum glm_step
glm_api(struct glm_call *c, const char *what, const char *path,
    const char *body, size_t len, const char *ctype, const char *bearer,
    struct json_object **root, struct json_object **result)
{
	struct http_req req;
	struct http_resp resp;
	enum glm_step gs = GLM_STEP_FAILED;
	enum up_err e;

	*root = NULL;
	*result = NULL;
	c->status = 0;
	c->code = -1;
	c->msg[0] = '\0';
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = "POST";
	req.url = arena_printf(c->arena, "%s%s", c->base, path);
	req.headers = glm_headers(c, bearer, ctype, NULL);
	req.body = body;
	req.body_len = len;
	req.proxy = c->proxy;
	req.total_timeout_ms = ctype != NULL ? 60000 : 15000;
	req.max_body = GLM_MAX_JSON;
	req.idle = c->idle;
	req.idle_ctx = c->idle_ctx;
	if (req.url == NULL || req.headers == NULL) {
		glm_oom(c);
		return GLM_STEP_FAILED;
	}
	e = http_do(&req, &resp);
	c->status = (int)resp.status;
	if (resp.body != NULL && resp.body_len > 0 && resp.body[0] == '{')
		*root = json_tokener_parse(resp.body);
	if (*root != NULL && glm_envelope(c, *root, result) == 0 && e == UP_OK)
		gs = GLM_STEP_OK;
	else if ((e == UP_OK || e == UP_HTTP) && (resp.status == 401 ||
	    glm_login_over(c)))
		gs = GLM_STEP_AUTH;
	else
		call_fail_answer(c->sink, "glm", "GLM", what, e, &resp, c->code,
		    c->msg, sizeof(c->msg));
	http_resp_free(&resp);
	if (gs != GLM_STEP_OK) {
		json_object_put(*root);
		*root = NULL;
		*result = NULL;
	}
	return gs;
}
