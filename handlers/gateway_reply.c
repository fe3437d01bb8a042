/*
 * How the gateway answers (handlers/gateway.h): one header writer with
 * the safety headers every answer carries, {"detail": ...} errors as the
 * web UI reads them, redirects, cookies, and where this request came
 * from (scheme, host, mount).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "fcgi/resp.h"
#include "handlers/admin_auth.h"
#include "handlers/gateway.h"

static const char *
gw_reason(int status)
{
	switch (status) {
	case 202: return "Accepted";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 426: return "Upgrade Required";
	default: return resp_reason(status);
	}
}

enum app_err
gw_head(struct req *r, int status, const char *ctype, const char *extra)
{
	struct buf h;
	enum app_err e;

	if (r->headers_sent)
		return APP_OK;
	buf_init(&h, 64 * 1024);
	buf_printf(&h, "Status: %d %s\r\n", status, gw_reason(status));
	if (ctype != NULL)
		buf_printf(&h, "Content-Type: %s\r\n", ctype);
	buf_adds(&h, "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: same-origin\r\n");
	if (extra != NULL)
		buf_adds(&h, extra);
	buf_adds(&h, "\r\n");
	if (h.failed) {
		buf_free(&h);
		return APP_ENOMEM;
	}
	r->headers_sent = 1;
	r->status = status;
	e = resp_write(r, h.p, h.len);
	buf_free(&h);
	return e;
}

enum app_err
gw_send(struct req *r, int status, const char *ctype, const char *extra,
    const char *body, size_t len)
{
	enum app_err e;

	if ((e = gw_head(r, status, ctype, extra)) != APP_OK ||
	    (e = resp_write(r, body, len)) != APP_OK)
		return e;
	return resp_flush(r);
}

enum app_err
gw_json(struct req *r, int status, const char *json)
{
	size_t len = strlen(json);

	if ((json = resp_utf8(r->arena, json, len, &len)) == NULL)
		return APP_ENOMEM;
	return gw_send(r, status, "application/json",
	    "Cache-Control: no-store\r\n", json, len);
}

enum app_err
gw_detail(struct req *r, int status, const char *msg)
{
	struct buf b;
	enum app_err e;

	buf_init(&b, 0);
	buf_adds(&b, "{\"detail\":");
	buf_json_str(&b, msg, strlen(msg));
	buf_adds(&b, "}");
	e = b.failed ? APP_ENOMEM : gw_json(r, status, b.p);
	buf_free(&b);
	return e;
}

enum app_err
gw_redirect(struct req *r, int status, const char *location,
    const char *extra)
{
	struct buf h;
	enum app_err e;

	buf_init(&h, 0);
	buf_printf(&h, "Location: %s\r\nCache-Control: no-store\r\n%s",
	    location, extra != NULL ? extra : "");
	e = h.failed ? APP_ENOMEM : gw_send(r, status,
	    "text/plain; charset=utf-8", h.p, "", 0);
	buf_free(&h);
	return e;
}

int
gw_https(struct req *r)
{
	const char *p = req_param(r, "HTTP_X_FORWARDED_PROTO");

	/* A front proxy's word wins (§9.3 step 1); only these two count. */
	if (p != NULL && strcasecmp(p, "https") == 0)
		return 1;
	if (p != NULL && strcasecmp(p, "http") == 0)
		return 0;
	return admin_https(r);
}

static int
host_ok(const char *h)
{
	size_t n = strlen(h), i;

	if (n == 0 || n > GW_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' &&
		    h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9') ||
		    strchr(".-:[]", h[i]) != NULL))
			return 0;
	return 1;
}

/*
 * The host the browser used.  A front proxy's X-Forwarded-Host first;
 * Debian's nginx passes $host as HTTP_HOST, without the port, so a port
 * other than the scheme's comes from SERVER_PORT.
 */
const char *
gw_host(struct req *r)
{
	const char *h = req_param(r, "HTTP_X_FORWARDED_HOST"), *sp;
	size_t n;

	if (h != NULL && (n = strcspn(h, ", ")) > 0 &&
	    (h = arena_strndup(r->arena, h, n)) != NULL && host_ok(h))
		return arena_printf(r->arena, "%s%s", h, r->cfg->mount);
	h = req_param(r, "HTTP_HOST");
	if (h == NULL || !host_ok(h)) {
		h = req_param(r, "SERVER_NAME");
		if (h == NULL || !host_ok(h))
			h = "localhost";
	}
	sp = req_param(r, "SERVER_PORT");
	/* "[::1]" has colons but no port; "[::1]:8080" and "a:80" do. */
	if (strrchr(h, ':') == NULL || (h[0] == '[' && h[strlen(h) - 1] ==
	    ']')) {
		if (sp != NULL && *sp && host_ok(sp) &&
		    strcmp(sp, gw_https(r) ? "443" : "80") != 0)
			h = arena_printf(r->arena, "%s:%s", h, sp);
	}
	return h != NULL ? arena_printf(r->arena, "%s%s", h, r->cfg->mount) :
	    NULL;
}

const char *
gw_origin(struct req *r)
{
	const char *h = gw_host(r);

	return h != NULL ? arena_printf(r->arena, "%s://%s", gw_https(r) ?
	    "https" : "http", h) : NULL;
}

const char *
gw_cookie(struct req *r, const char *name, size_t max)
{
	const char *cur = req_param(r, "HTTP_COOKIE");
	char *out;

	if (cur == NULL || (out = arena_alloc(r->arena, max + 1)) == NULL)
		return NULL;
	return admin_cookie_next(&cur, name, out, max + 1) && *out ? out :
	    NULL;
}

void
gw_set_cookie(struct req *r, struct buf *b, const char *name,
    const char *value, long max_age, const char *samesite)
{
	buf_printf(b, "Set-Cookie: %s=%s; Path=%s/; HttpOnly; SameSite=%s%s; "
	    "Max-Age=%ld\r\n", name, value != NULL ? value : "",
	    r->cfg->mount, samesite, admin_https(r) || gw_https(r) ?
	    "; Secure" : "",
	    value != NULL ? max_age : 0);
}

/* curl calls back far more often than a hang-up needs looking for. */
#define GW_IDLE_CHECK_MS	100

int
gw_idle(void *arg)
{
	static __thread const struct req *seen;
	static __thread long long last_ms;
	struct req *r = arg;
	long long now = req_now_ms();

	if (r->hup)
		return 1;
	if (seen == r && now - last_ms < GW_IDLE_CHECK_MS)
		return 0;
	seen = r;
	last_ms = now;
	if (r->io->gone(r, 0)) {
		r->hup = 1;
		return 1;
	}
	return 0;
}

const char *
gw_base(struct req *r)
{
	const char *b = call_base(r->arena, &r->cfg->chatgpt_base_url);

	return b != NULL ? b : "https://chatgpt.com";
}

void
gw_nonce(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[16];
	size_t i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0x5a, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++) {
		out[2 * i] = hex[rnd[i] >> 4];
		out[2 * i + 1] = hex[rnd[i] & 15];
	}
	out[32] = '\0';
}

int
gw_websocket(struct req *r)
{
	const char *u = req_param(r, "HTTP_UPGRADE");

	return u != NULL && strcasestr(u, "websocket") != NULL;
}
