/*
 * Qwen AI's JSON calls: the browser headers of §7.2 (the anti-bot values
 * from the configuration or the account, never built in), the envelope
 * of errors.h, and the failures told to the sink once, here: a refused
 * JWT is the account's error (expired when its exp has passed), a
 * Bad_Request names the cookies the account lacks (§7.1, issue #97), a
 * rate limit cools the account down.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "store/accounts.h"
#include "upstream/qwenai/internal.h"

static const char *
field(const struct provider_account *a, const char *name)
{
	size_t i;

	for (i = 0; a != NULL && i < a->nfields; i++)
		if (strcmp(a->fields[i].name, name) == 0 &&
		    a->fields[i].value[0] != '\0')
			return a->fields[i].value;
	return NULL;
}

static const char *
nonempty(const char *s)
{
	return s != NULL && *s ? s : NULL;
}

void
qa_call_init(struct qa_call *c, const struct provider_ctx *x,
    const struct provider_account *a)
{
	memset(c, 0, sizeof(*c));
	c->cfg = x->cfg;
	c->store = x->store;
	c->arena = x->arena;
	c->token = a->secret;
	c->cookies = field(a, QA_FIELD_COOKIES);
	c->bx_ua = field(a, QA_FIELD_BX_UA);
	if (c->bx_ua == NULL)
		c->bx_ua = nonempty(x->cfg->qwenai_bx_ua);
	c->bx_umidtoken = field(a, QA_FIELD_BX_UMIDTOKEN);
	if (c->bx_umidtoken == NULL)
		c->bx_umidtoken = nonempty(x->cfg->qwenai_bx_umidtoken);
	c->base = call_base(x->arena, &x->cfg->qwenai_base_url);
	/* One exit per account, so the upstream sees a steady client. */
	c->proxy = call_proxy(x->arena, &x->cfg->proxy_url, a->secret, 1);
}

/* What JavaScript's Date.toString() says, as the web client sends it. */
static void
js_date(char *out, size_t outsz)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	if (strftime(out, outsz, "%a %b %d %Y %H:%M:%S GMT%z", &tm) == 0)
		snprintf(out, outsz, "Thu Jan 01 1970 00:00:00 GMT+0000");
}

const char **
qa_headers(struct qa_call *c, const char *referer, const char *version,
    int stream)
{
	struct call_hdrs h;
	char uuid[37], date[64];

	call_hdrs_init(&h, c->arena);
	call_uuid4(uuid);
	js_date(date, sizeof(date));
	call_hdr(&h, "accept: application/json");
	call_hdr(&h, "accept-language: en-US,en;q=0.9");
	call_hdr(&h, "authorization: Bearer %s", c->token);
	call_hdr(&h, "content-type: application/json");
	call_hdr(&h, "source: web");
	call_hdr(&h, "version: %s", version != NULL ? version :
	    c->cfg->qwenai_version);
	call_hdr(&h, "timezone: %s", date);
	call_hdr(&h, "x-request-id: %s", uuid);
	call_hdr(&h, "bx-v: %s", c->cfg->qwenai_bx_v);
	if (c->bx_umidtoken != NULL)
		call_hdr(&h, "bx-umidtoken: %s", c->bx_umidtoken);
	if (c->bx_ua != NULL)
		call_hdr(&h, "bx-ua: %s", c->bx_ua);
	call_hdr(&h, "origin: " QA_ORIGIN);
	call_hdr(&h, "referer: %s", referer != NULL ? referer :
	    QA_ORIGIN "/");
	if (c->cookies != NULL)
		call_hdr(&h, "cookie: %s", c->cookies);
	if (stream)
		call_hdr(&h, "x-accel-buffering: no");
	call_hdr(&h, "sec-fetch-dest: empty");
	call_hdr(&h, "sec-fetch-mode: cors");
	call_hdr(&h, "sec-fetch-site: same-origin");
	call_hdr(&h, "user-agent: %s", nonempty(c->cfg->qwenai_user_agent) ?
	    c->cfg->qwenai_user_agent : QA_USER_AGENT);
	return call_hdrs_done(&h);
}

const char *
qa_cookie_hint(struct qa_call *c)
{
	char missing[128];

	if (c->cookies == NULL)
		return "This account has no cookies: Qwen AI wants the "
		    "browser's cookie string of chat.qwen.ai (cnaui, aui, sca, "
		    "xlly_s, cna, token, _bl_uid, x-ap) beside the token; add "
		    "the account again with --set cookies='...'.";
	if (qa_missing_cookies(c->cookies, missing, sizeof(missing)) > 0)
		return arena_printf(c->arena, "The account's cookies lack %s: "
		    "copy the whole cookie string of chat.qwen.ai again "
		    "(--set cookies='...').", missing);
	return "The account's cookies may be stale: copy them and the token "
	    "from a fresh browser session.";
}

enum qa_err
qa_fail(struct qa_call *c, const char *what, enum qa_err e)
{
	const struct chat_sink *k = c->sink;
	long long exp;
	char when[32];
	struct tm tm;
	time_t t;

	if (e == QA_REFUSED && (exp = qa_jwt_exp(c->token)) > 0 &&
	    exp <= (long long)time(NULL))
		e = QA_EXPIRED;
	c->err = e;
	if (c->msg[0] == '\0')
		snprintf(c->msg, sizeof(c->msg), "%s", qa_strerror(e));
	log_info("qwenai: %s failed: %s (%ld %s)", what, qa_strerror(e),
	    c->status, c->code);
	if (k == NULL)
		return e;
	switch (e) {
	case QA_EXPIRED:
		t = (time_t)qa_jwt_exp(c->token);
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
		call_fail(k, 401, "invalid_request_error", "account_expired",
		    "The Qwen AI token of this account expired on %s (%s); "
		    "log in to chat.qwen.ai again and add the new token.",
		    when, what);
		break;
	case QA_REFUSED:
		call_fail(k, 401, "invalid_request_error", "invalid_api_key",
		    "Qwen AI refused the account's token (%s): %s", what,
		    c->msg);
		break;
	case QA_FORBIDDEN:
		call_fail(k, 403, "upstream_error", "upstream_forbidden",
		    "Qwen AI refused the request (%s): %s", what, c->msg);
		break;
	case QA_COOKIES:
		call_fail(k, 403, "upstream_error", "upstream_forbidden",
		    "Qwen AI answered Bad_Request to %s (%s). %s", what,
		    c->msg, qa_cookie_hint(c));
		break;
	case QA_LIMITED:
		call_fail(k, 429, "rate_limit_error", "rate_limit_exceeded",
		    "Rate limited by Qwen AI (%s): %s", what, c->msg);
		break;
	case QA_ENOMEM:
		call_fail_nomem(k);
		break;
	case QA_PROTO:
		call_fail(k, 502, "upstream_error", "upstream_error",
		    "Qwen AI answered %s without the expected data.", what);
		break;
	default:
		call_fail(k, 502, "upstream_error", "upstream_error",
		    "Qwen AI %s failed (%s): %s", what, c->code[0] ? c->code :
		    "no code", c->msg);
		break;
	}
	return e;
}

enum qa_err
qa_judge(struct qa_call *c, const char *what, enum up_err e,
    const struct http_resp *resp, struct json_object **root,
    struct json_object **data)
{
	enum qa_err qe;
	long ra;

	*root = NULL;
	*data = NULL;
	c->err = QA_OK;
	c->status = resp->status;
	c->code[0] = c->msg[0] = '\0';
	if (e != UP_OK && e != UP_HTTP) {
		snprintf(c->msg, sizeof(c->msg), "%s", up_strerror(e));
		c->err = QA_NET;
		if (c->sink != NULL)
			call_fail_net(c->sink, "qwenai", what, e);
		return c->err;
	}
	if (resp->body != NULL && resp->body_len > 0 && resp->body[0] == '{')
		*root = json_tokener_parse(resp->body);
	if (*root != NULL && qa_envelope(*root, data, c->code,
	    sizeof(c->code), c->msg, sizeof(c->msg)) == 0 && e == UP_OK)
		return QA_OK;
	qe = qa_classify(e == UP_HTTP ? resp->status : 0, c->code);
	if (*root == NULL && e == UP_OK)
		qe = QA_PROTO;
	if (e == UP_HTTP && c->code[0] == '\0' && qe != QA_REFUSED) {
		/* No word from Qwen itself: the HTTP status says it all. */
		c->err = QA_HTTP;
		if (c->msg[0] == '\0')
			snprintf(c->msg, sizeof(c->msg), "HTTP %ld",
			    resp->status);
		if (c->sink != NULL)
			call_fail_http(c->sink, "qwenai", what, resp, c->msg);
		else
			log_info("qwenai: %s answered %ld", what, resp->status);
	} else {
		if (qe == QA_LIMITED && c->sink != NULL &&
		    c->sink->retry_after != NULL &&
		    (ra = call_retry_after(resp)) >= 0)
			c->sink->retry_after(c->sink->ctx, ra);
		qa_fail(c, what, qe);
	}
	json_object_put(*root);
	*root = NULL;
	*data = NULL;
	return c->err;
}

enum qa_err
qa_api(struct qa_call *c, const char *what, const char *method,
    const char *path, const char *version, const char *body,
    struct json_object **root, struct json_object **data)
{
	struct http_req req;
	struct http_resp resp;
	enum qa_err qe;
	enum up_err e;

	*root = NULL;
	*data = NULL;
	c->code[0] = c->msg[0] = '\0';
	c->status = 0;
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = method;
	req.url = arena_printf(c->arena, "%s%s", c->base, path);
	req.headers = qa_headers(c, NULL, version, 0);
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.proxy = c->proxy;
	req.total_timeout_ms = QA_API_TIMEOUT_MS;
	req.max_body = QA_MAX_JSON;
	req.idle = c->idle;
	req.idle_ctx = c->idle_ctx;
	if (c->base == NULL || req.url == NULL || req.headers == NULL)
		return qa_fail(c, what, QA_ENOMEM);
	e = http_do(&req, &resp);
	qe = qa_judge(c, what, e, &resp, root, data);
	http_resp_free(&resp);
	return qe;
}
