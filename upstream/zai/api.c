/*
 * Z.ai's calls other than the stream itself: the browser headers every
 * call carries (§8.1, §8.2: the JWT both as Bearer and as the "token"
 * cookie) and the JSON endpoints.  Refusals come as FastAPI-style
 * {"detail": ...} bodies; a few of them mean something other than their
 * status says (stream.h, zai_fault_of), the rest are mapped by
 * call_fail_http() like every provider's.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "upstream/zai/internal.h"
#include "upstream/zai/stream.h"

void
zai_call_init(struct zai_call *c, const struct provider_ctx *x,
    const char *token)
{
	memset(c, 0, sizeof(*c));
	c->cfg = x->cfg;
	c->arena = x->arena;
	/*
	 * The arena's copy: the deferred delete runs after the account's
	 * secret has been freed.
	 */
	c->token = arena_strdup(x->arena, token);
	zai_jwt_claims(token, &c->claims);
	c->expired = zai_jwt_expired(&c->claims, (int64_t)time(NULL));
	c->base = c->token != NULL ? call_base(x->arena,
	    &x->cfg->zai_base_url) : NULL;
	/* One exit per account, so the upstream sees a steady client. */
	c->proxy = call_proxy(x->arena, &x->cfg->proxy_url, token, 1);
}

const char **
zai_headers(struct zai_call *c, const char *referer, const char *extra)
{
	struct call_hdrs h;

	call_hdrs_init(&h, c->arena);
	call_hdr(&h, "accept: */*");
	call_hdr(&h, "accept-language: zh-CN");
	call_hdr(&h, "authorization: Bearer %s", c->token);
	call_hdr(&h, "content-type: application/json");
	call_hdr(&h, "cookie: token=%s", c->token);
	call_hdr(&h, "origin: " ZAI_ORIGIN);
	call_hdr(&h, "referer: %s", referer != NULL ? referer :
	    ZAI_ORIGIN "/");
	call_hdr(&h, "sec-ch-ua: \"Not(A:Brand\";v=\"8\", \"Chromium\";"
	    "v=\"144\", \"Google Chrome\";v=\"144\"");
	call_hdr(&h, "sec-ch-ua-mobile: ?0");
	call_hdr(&h, "sec-ch-ua-platform: \"macOS\"");
	call_hdr(&h, "sec-fetch-dest: empty");
	call_hdr(&h, "sec-fetch-mode: cors");
	call_hdr(&h, "sec-fetch-site: same-origin");
	call_hdr(&h, "user-agent: " ZAI_UA);
	call_hdr(&h, "x-fe-version: " ZAI_FE_VERSION);
	if (extra != NULL)
		call_hdr(&h, "%s", extra);
	return call_hdrs_done(&h);
}

/*
 * The upstream's words in a JSON refusal: "detail" (a string, or an
 * object with one), or error.{detail,message}, or "message"; with the
 * code beside it when there is one.  "" when there are none.
 */
static void
detail_of(const char *body, char *out, size_t outsz, long *code)
{
	struct json_object *root, *o, *v;
	const char *keys[] = { "detail", "message", "msg" };
	size_t i;

	out[0] = '\0';
	*code = 0;
	if (body == NULL || body[0] != '{' ||
	    (root = json_tokener_parse(body)) == NULL)
		return;
	o = root;
	if (json_object_object_get_ex(root, "error", &v) &&
	    json_object_is_type(v, json_type_object))
		o = v;
	else if (json_object_object_get_ex(root, "detail", &v) &&
	    json_object_is_type(v, json_type_object))
		o = v;
	if (json_object_object_get_ex(o, "code", &v))
		*code = (long)json_object_get_int64(v);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_object_get_ex(o, keys[i], &v) &&
		    json_object_is_type(v, json_type_string)) {
			snprintf(out, outsz, "%s", json_object_get_string(v));
			break;
		}
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
	json_object_put(root);
}

/*
 * Upstream text that quotes the login token (an error page echoing the
 * URL, whose query carries it) is withheld: a pooled account's token
 * must reach neither the client nor the log.
 */
#define WITHHELD	"(withheld: it quotes the login token)"

static int
quotes_token(const struct zai_call *c, const char *text)
{
	return text != NULL && c->token != NULL && *c->token != '\0' &&
	    strstr(text, c->token) != NULL;
}

/* The refusals whose meaning is not their status (see zai_fault_of). */
static int
special(struct zai_call *c, const char *what, long code, const char *detail)
{
	struct zai_fault f;

	zai_fault_of(code, detail, c->expired, &f);
	if (strcmp(f.code, "signature_rejected") != 0 &&
	    strcmp(f.code, "model_not_available") != 0 &&
	    strcmp(f.code, "account_expired") != 0)
		return 0;
	log_info("zai: %s refused: %s (%s)", what, f.code, detail);
	if (c->sink != NULL)
		call_fail(c->sink, f.status, f.type, f.code, "Z.ai refused "
		    "the %s: %s%s", what, *detail ? detail : "(no detail)",
		    strcmp(f.code, "signature_rejected") == 0 ? " (the "
		    "upstream changed its signature scheme)" :
		    strcmp(f.code, "account_expired") == 0 ? " (the login "
		    "token has expired: take a new one from chat.z.ai)" : "");
	return 1;
}

void
zai_fail_http(struct zai_call *c, const char *what, const struct http_resp *r)
{
	char detail[ZAI_DETAIL_MAX + 1];
	struct http_resp safe;
	long code;

	if (quotes_token(c, r->body)) {
		safe = *r;
		safe.body = (char *)WITHHELD;
		safe.body_len = sizeof(WITHHELD) - 1;
		r = &safe;
	}
	detail_of(r->body, detail, sizeof(detail), &code);
	c->status = r->status;
	c->cloudflare = call_is_cloudflare(r);
	snprintf(c->msg, sizeof(c->msg), "HTTP %ld%s%.200s", r->status,
	    *detail ? ": " : "", detail);
	if (call_is_cloudflare(r) ||
	    !special(c, what, r->status, detail)) {
		if (c->sink != NULL)
			call_fail_http(c->sink, "zai", what, r,
			    *detail ? detail : NULL);
		else
			log_info("zai: %s answered %ld", what, r->status);
	}
}

void
zai_fail_json(struct zai_call *c, const char *what, const char *body)
{
	struct zai_fault f;
	char detail[ZAI_DETAIL_MAX + 1];
	long code;

	detail_of(quotes_token(c, body) ? NULL : body, detail, sizeof(detail),
	    &code);
	snprintf(c->msg, sizeof(c->msg), "%s", *detail ? detail :
	    "no stream");
	if (special(c, what, code, detail) || c->sink == NULL)
		return;
	zai_fault_of(code, detail, c->expired, &f);
	log_info("zai: %s answered JSON instead of a stream: %ld %s", what,
	    code, detail);
	call_fail(c->sink, f.status, f.type, f.code, "Z.ai answered the %s "
	    "with an error instead of a stream: %s", what, *detail ? detail :
	    "(no detail)");
}

int
zai_api(struct zai_call *c, const char *what, const char *method,
    const char *path, const char *body, struct json_object **root)
{
	struct http_req req;
	struct http_resp resp;
	enum up_err e;
	int rc = -1;

	*root = NULL;
	c->status = 0;
	c->msg[0] = '\0';
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = arena_printf(c->arena, "%s%s", c->base, path);
	req.headers = zai_headers(c, c->chat_id != NULL ? arena_printf(
	    c->arena, ZAI_ORIGIN "/c/%s", c->chat_id) : NULL, NULL);
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.proxy = c->proxy;
	req.total_timeout_ms = 15000;
	req.max_body = ZAI_MAX_JSON;
	req.idle = c->idle;
	req.idle_ctx = c->idle_ctx;
	if (req.url == NULL || req.headers == NULL) {
		snprintf(c->msg, sizeof(c->msg), "out of memory");
		call_fail_nomem(c->sink);
		return -1;
	}
	e = http_do(&req, &resp);
	c->status = resp.status;
	if (e == UP_OK) {
		if (resp.body != NULL && resp.body[0] == '{')
			*root = json_tokener_parse(resp.body);
		rc = 0;
	} else if (e == UP_HTTP)
		zai_fail_http(c, what, &resp);
	else {
		snprintf(c->msg, sizeof(c->msg), "%s", up_strerror(e));
		if (c->sink != NULL)
			call_fail_net(c->sink, "zai", what, e);
	}
	http_resp_free(&resp);
	return rc;
}
