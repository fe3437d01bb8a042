/*
 * Qwen's calls (§6.1, §6.2, §6.4): the two hosts (or the one base
 * QWEN_BASE_URL points them at), the query every call carries, the
 * browser headers, and the JSON envelope {success, code, errorCode,
 * errorMsg} the list and delete endpoints answer -- and the chat endpoint
 * too when it refuses, with HTTP 200.  NOT_LOGIN (and its kin, see
 * qw_error_status) means the ticket's login is over.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "fcgi/log.h"
#include "fcgi/rand.h"
#include "upstream/qwen/internal.h"
#include "upstream/qwen/stream.h"

#define UA	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) " \
		"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/145.0.0.0 " \
		"Safari/537.36"
#define DEVICE_SALT	"qwen-device:"

void
qw_device_id(const char *ticket, char out[QW_HEX_ID + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	EVP_MD_CTX *x;

	out[0] = '\0';
	if ((x = EVP_MD_CTX_new()) == NULL)
		return;
	if (EVP_DigestInit_ex(x, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(x, DEVICE_SALT, strlen(DEVICE_SALT)) == 1 &&
	    EVP_DigestUpdate(x, ticket, strlen(ticket)) == 1 &&
	    EVP_DigestFinal_ex(x, md, &n) == 1 && n >= QW_HEX_ID / 2)
		for (i = 0; i < QW_HEX_ID / 2; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(x);
}

void
qw_nonce(char out[QW_NONCE_LEN + 1])
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char b[QW_NONCE_LEN];
	size_t i;

	rnd_bytes(b, sizeof(b));
	for (i = 0; i < QW_NONCE_LEN; i++)
		out[i] = set[b[i] % (sizeof(set) - 1)];
	out[QW_NONCE_LEN] = '\0';
}

void
qw_hex_id(char out[QW_HEX_ID + 1])
{
	unsigned char b[QW_HEX_ID / 2];
	size_t i;

	rnd_bytes(b, sizeof(b));
	for (i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

char *
qw_query(struct arena *a, const char *device, const char *nonce,
    long long ts_ms)
{
	if (nonce == NULL)
		return arena_printf(a, "biz_id=ai_qwen&chat_client=h5&"
		    "device=pc&fr=pc&pr=qwen&ut=%s", device);
	return arena_printf(a, "biz_id=ai_qwen&chat_client=h5&device=pc&"
	    "fr=pc&pr=qwen&ut=%s&nonce=%s&timestamp=%lld", device, nonce,
	    ts_ms);
}

int
qw_call_init(struct qw_call *c, const struct provider_ctx *x,
    const char *ticket)
{
	const char *base;

	memset(c, 0, sizeof(*c));
	c->cfg = x->cfg;
	c->arena = x->arena;
	if ((c->cookie = qw_cookie(x->arena, ticket)) == NULL)
		return -1;
	/* One base stands in for both hosts (a mock, a reverse proxy). */
	base = call_base(x->arena, &x->cfg->qwen_base_url);
	c->chat_base = base != NULL ? base : QW_CHAT_HOST;
	c->api_base = base != NULL ? base : QW_API_HOST;
	/* One exit per account, so the upstream sees a steady client. */
	c->proxy = call_proxy(x->arena, &x->cfg->proxy_url, ticket, 1);
	qw_device_id(ticket, c->device);
	return c->device[0] != '\0' ? 0 : -1;
}

const char **
qw_headers(struct qw_call *c, int api)
{
	struct call_hdrs h;

	call_hdrs_init(&h, c->arena);
	call_hdr(&h, "accept: %s", api ? "application/json, text/plain, */*" :
	    "application/json, text/event-stream, text/plain, */*");
	call_hdr(&h, "accept-language: zh-CN,zh;q=0.9,en;q=0.8");
	call_hdr(&h, "content-type: application/json");
	call_hdr(&h, "cookie: %s", c->cookie);
	call_hdr(&h, "origin: " QW_ORIGIN);
	call_hdr(&h, "referer: " QW_ORIGIN "/");
	call_hdr(&h, "sec-ch-ua: \"Not:A-Brand\";v=\"99\", \"Google Chrome\";"
	    "v=\"145\", \"Chromium\";v=\"145\"");
	call_hdr(&h, "sec-ch-ua-mobile: ?0");
	call_hdr(&h, "sec-ch-ua-platform: \"macOS\"");
	call_hdr(&h, "sec-fetch-dest: empty");
	call_hdr(&h, "sec-fetch-mode: cors");
	call_hdr(&h, "sec-fetch-site: same-site");
	call_hdr(&h, "user-agent: " UA);
	if (api) {
		call_hdr(&h, "x-platform: pc_tongyi");
		call_hdr(&h, "x-deviceid: %s", c->device);
	}
	return call_hdrs_done(&h);
}

/* A code member as text ("" when absent, 0 or "0"). */
static void
code_text(struct json_object *v, char *out, size_t outsz)
{
	out[0] = '\0';
	if (json_object_is_type(v, json_type_string))
		snprintf(out, outsz, "%s", json_object_get_string(v));
	else if (json_object_is_type(v, json_type_int))
		snprintf(out, outsz, "%lld",
		    (long long)json_object_get_int64(v));
	if (strcmp(out, "0") == 0)
		out[0] = '\0';
}

int
qw_envelope(struct qw_call *c, struct json_object *root)
{
	static const char *const codes[] = { "errorCode", "error_code",
	    "code" };
	static const char *const msgs[] = { "errorMsg", "error_msg", "msg",
	    "message" };
	struct json_object *v;
	size_t i;
	int failed = 0;

	c->code[0] = c->msg[0] = '\0';
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(c->msg, sizeof(c->msg), "an answer that is no JSON "
		    "object");
		return -1;
	}
	if (json_object_object_get_ex(root, "success", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    !json_object_get_boolean(v))
		failed = 1;
	for (i = 0; c->code[0] == '\0' && i < sizeof(codes) / sizeof(codes[0]);
	    i++)
		if (json_object_object_get_ex(root, codes[i], &v))
			code_text(v, c->code, sizeof(c->code));
	for (i = 0; c->msg[0] == '\0' && i < sizeof(msgs) / sizeof(msgs[0]);
	    i++)
		if (json_object_object_get_ex(root, msgs[i], &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(c->msg, sizeof(c->msg), "%s",
			    json_object_get_string(v));
	for (i = 0; c->msg[i] != '\0'; i++)
		if ((unsigned char)c->msg[i] < 0x20)
			c->msg[i] = ' ';
	return failed || c->code[0] != '\0' ? -1 : 0;
}

enum qw_step_err
qw_fail(struct qw_call *c, const char *what)
{
	const char *m = c->msg[0] ? c->msg : "no message";
	int st = qw_error_status(c->code, c->msg);

	if (st == 401) {
		log_info("qwen: %s: the ticket's login is over (%s %s)", what,
		    c->code, c->msg);
		if (c->sink != NULL)
			call_fail(c->sink, 401, "invalid_request_error",
			    "account_expired", "Qwen refused the account's "
			    "login (%s): %s %s", what, c->code, m);
		return QW_STEP_EXPIRED;
	}
	log_info("qwen: %s failed: %s %s", what, c->code, c->msg);
	if (c->sink == NULL)
		return QW_STEP_FAILED;
	if (st == 429)
		call_fail(c->sink, 429, "rate_limit_error",
		    "rate_limit_exceeded", "Rate limited by the Qwen upstream "
		    "(%s): %s %s", what, c->code, m);
	else
		call_fail(c->sink, 502, "upstream_error", "upstream_error",
		    "Qwen %s failed (%s): %s", what, c->code[0] ? c->code :
		    "no code", m);
	return QW_STEP_FAILED;
}

enum qw_step_err
qw_api(struct qw_call *c, const char *what, const char *path,
    const char *body, struct json_object **root)
{
	struct http_req req;
	struct http_resp resp;
	enum qw_step_err se = QW_STEP_FAILED;
	enum up_err e;

	*root = NULL;
	c->status = 0;
	c->code[0] = c->msg[0] = '\0';
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = arena_printf(c->arena, "%s%s?%s", c->api_base, path,
	    qw_query(c->arena, c->device, NULL, 0));
	req.headers = qw_headers(c, 1);
	req.body = body;
	req.body_len = strlen(body);
	req.proxy = c->proxy;
	req.total_timeout_ms = 15000;
	req.max_body = QW_MAX_JSON;
	req.idle = c->idle;
	req.idle_ctx = c->idle_ctx;
	if (req.url == NULL || req.headers == NULL) {
		snprintf(c->msg, sizeof(c->msg), "out of memory");
		call_fail_nomem(c->sink);
		return QW_STEP_FAILED;
	}
	e = http_do(&req, &resp);
	c->status = (int)resp.status;
	if (resp.body_len > 0 && resp.body[0] == '{')
		*root = json_tokener_parse(resp.body);
	if (e == UP_OK || (e == UP_HTTP && *root != NULL)) {
		if (e == UP_OK && qw_envelope(c, *root) == 0) {
			se = QW_STEP_OK;
			goto out;
		}
		/* a login that is over says so, whatever the status */
		if (e == UP_OK || (qw_envelope(c, *root) < 0 &&
		    qw_error_status(c->code, c->msg) == 401)) {
			se = qw_fail(c, what);
			goto out;
		}
	}
	/* an HTTP error without a login verdict, or no answer at all */
	call_fail_answer(c->sink, "qwen", "Qwen", what, e, &resp, 0, c->msg,
	    sizeof(c->msg));
out:
	http_resp_free(&resp);
	if (se != QW_STEP_OK) {
		json_object_put(*root);
		*root = NULL;
	}
	return se;
}
