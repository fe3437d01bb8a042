/*
 * The /tokens handlers' shared parts (see handlers/tokens.h): answers in
 * HTML or JSON with their security headers, the flash messages, the gate
 * every action passes, and small readers of the request.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "fcgi/resp.h"
#include "handlers/tokens.h"
#include "html/escape.h"
#include "store/accounts.h"
#include "upstream/provider.h"

int
tok_ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return ct != NULL && strncasecmp(ct, want, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The path the request came in by: pages link back the same way. */
static const char *
tok_base(struct req *r)
{
	const char *pfx = r->cfg->api_prefix;
	size_t n = strlen(pfx);
	int via_pfx = n && strncmp(r->path, pfx, n) == 0 && r->path[n] == '/';
	const char *b;

	b = arena_printf(r->arena, "%s%s", r->cfg->mount, via_pfx ? pfx : "");
	return b != NULL ? b : "";
}

void
tok_init(struct tok *t, struct req *r)
{
	unsigned char rnd[16];
	static const char hex[] = "0123456789abcdef";
	size_t i;

	memset(t, 0, sizeof(*t));
	t->r = r;
	t->pg.base = tok_base(r);
	/* A fresh nonce per page: the one inline <style> is allowed. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0x5a, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++) {
		t->nonce[2 * i] = hex[rnd[i] >> 4];
		t->nonce[2 * i + 1] = hex[rnd[i] & 15];
	}
	t->nonce[2 * sizeof(rnd)] = '\0';
	t->pg.nonce = t->nonce;
	t->home = t->pg.home = "/tokens";
	t->form = tok_ctype_is(r->content_type,
	    "application/x-www-form-urlencoded");
	t->json = tok_ctype_is(r->content_type, "application/json");
	t->html = t->form && admin_bearer(r->auth) == NULL;
}

/* ------------------------------------------------------------ writers */

static const char *
tok_reason(int status)
{
	return status == 303 ? "See Other" : resp_reason(status);
}

/*
 * Our own header block: the page needs more headers than resp_start()
 * has room for, and none of them may be forgotten on an error path.
 */
static enum app_err
tok_send(struct tok *t, int status, const char *ctype, int is_html,
    const char *extra, const char *body, size_t len)
{
	struct req *r = t->r;
	struct buf h;
	enum app_err e;

	if (r->headers_sent)
		return APP_OK;
	buf_init(&h, 16384);
	buf_printf(&h, "Status: %d %s\r\n", status, tok_reason(status));
	if (ctype != NULL)
		buf_printf(&h, "Content-Type: %s\r\n", ctype);
	buf_adds(&h, "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "X-Frame-Options: DENY\r\n");
	if (is_html && t->script)
		/* /admin's live refresh: its one script fetches our page */
		buf_printf(&h, "Content-Security-Policy: default-src 'none'; "
		    "style-src 'nonce-%s'; script-src 'nonce-%s'; "
		    "connect-src 'self'; img-src data:; form-action 'self'; "
		    "frame-ancestors 'none'; base-uri 'none'\r\n", t->nonce,
		    t->nonce);
	else if (is_html)
		buf_printf(&h, "Content-Security-Policy: default-src 'none'; "
		    "style-src 'nonce-%s'; img-src data:; form-action 'self'; "
		    "frame-ancestors 'none'; base-uri 'none'\r\n", t->nonce);
	else {
		buf_adds(&h, "Content-Security-Policy: default-src 'none'; "
		    "frame-ancestors 'none'\r\n");
		/* Scripts with a Bearer may call from a browser page. */
		buf_printf(&h, "Access-Control-Allow-Origin: %s\r\n",
		    r->cfg->cors_origin);
	}
	if (extra != NULL)
		buf_adds(&h, extra);
	buf_adds(&h, "\r\n");
	if (h.failed) {
		buf_free(&h);
		return APP_ENOMEM;
	}
	r->headers_sent = 1;
	r->status = status;
	if ((e = resp_write(r, h.p, h.len)) == APP_OK &&
	    (e = resp_write(r, body, len)) == APP_OK)
		e = resp_flush(r);
	buf_free(&h);
	return e;
}

enum app_err
tok_json(struct tok *t, int status, struct json_object *o, const char *extra)
{
	const char *s;
	size_t len;
	enum app_err e;
	char *line;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL || (line = arena_alloc(t->r->arena, len + 2)) == NULL) {
		json_object_put(o);
		return APP_ENOMEM;
	}
	memcpy(line, s, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	json_object_put(o);
	if ((s = resp_utf8(t->r->arena, line, len + 1, &len)) == NULL)
		return APP_ENOMEM;
	e = tok_send(t, status, "application/json", 0, extra, s, len);
	return e;
}

enum app_err
tok_json_error(struct tok *t, int status, const char *type, const char *code,
    const char *param, const char *msg, const char *extra)
{
	struct json_object *o;

	if ((o = resp_error_object(type, code, param, msg)) == NULL)
		return APP_ENOMEM;
	return tok_json(t, status, o, extra);
}

enum app_err
tok_html(struct tok *t, int status, struct buf *page, const char *extra)
{
	enum app_err e;

	if (page->failed)
		e = APP_ENOMEM;
	else
		e = tok_send(t, status, "text/html; charset=utf-8", 1, extra,
		    page->p, page->len);
	buf_free(page);
	return e;
}

/* 303 to BASE<home>?query#fragment; extra may carry a Set-Cookie. */
enum app_err
tok_redirect(struct tok *t, const char *query, const char *fragment,
    const char *extra)
{
	struct buf h;
	enum app_err e;

	buf_init(&h, 8192);
	buf_printf(&h, "Location: %s%s%s%s%s%s\r\n", t->pg.base, t->home,
	    query != NULL ? "?" : "", query != NULL ? query : "",
	    fragment != NULL ? "#" : "", fragment != NULL ? fragment : "");
	if (extra != NULL)
		buf_adds(&h, extra);
	if (h.failed) {
		buf_free(&h);
		return APP_ENOMEM;
	}
	e = tok_send(t, 303, "text/plain; charset=utf-8", 0, h.p,
	    "See other\n", 10);
	buf_free(&h);
	return e;
}

enum app_err
tok_page_refused(struct tok *t, int status, const char *why)
{
	struct buf b;

	buf_init(&b, TOK_PAGE_MAX);
	tokens_html_refused(&b, &t->pg, why);
	return tok_html(t, status, &b, NULL);
}

enum app_err
tok_page_login(struct tok *t, int status)
{
	struct buf b;

	buf_init(&b, TOK_PAGE_MAX);
	tokens_html_login(&b, &t->pg);
	return tok_html(t, status, &b, NULL);
}

/* With no code configured, say how to enable it: never open the pool. */
enum app_err
tok_disabled(struct tok *t)
{
	struct buf b;

	if (!t->html && strcmp(t->r->method, "POST") == 0)
		return tok_json_error(t, 403, "invalid_request_error",
		    "admin_disabled", NULL, "Token management is disabled: "
		    "set AUTHORIZATION to a comma list of codes and restart.",
		    NULL);
	buf_init(&b, TOK_PAGE_MAX);
	tokens_html_disabled(&b, &t->pg);
	return tok_html(t, 403, &b, NULL);
}

/* 429 with Retry-After: this address sent too many wrong codes. */
enum app_err
tok_throttled(struct tok *t, long wait)
{
	struct buf b;
	char extra[64];
	enum app_err e;

	snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", wait);
	if (!t->html)
		return tok_json_error(t, 429, "rate_limit_error",
		    "too_many_failures", NULL, "Too many wrong authorization "
		    "codes from this address; wait before trying again.",
		    extra);
	buf_init(&b, TOK_PAGE_MAX);
	t->pg.flash = "Too many wrong codes from this address. Wait a few "
	    "minutes, then try again.";
	t->pg.flash_bad = 1;
	tokens_html_login(&b, &t->pg);
	e = tok_html(t, 429, &b, extra);
	return e;
}

enum app_err
tok_bad_bearer(struct tok *t)
{
	return tok_json_error(t, 401, "invalid_request_error",
	    "invalid_api_key", NULL, "Incorrect authorization code provided.",
	    "WWW-Authenticate: Bearer realm=\"chat2api tokens\"\r\n");
}

/* ------------------------------------------------------------ flash */

static unsigned long
query_num(struct req *r, const char *key)
{
	const char *v = req_query_get(r, key);
	unsigned long n;
	char *end;

	if (v == NULL || *v == '\0' || strlen(v) > 9)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	return errno || *end != '\0' ? 0 : n;
}

/*
 * Messages come from this fixed table, picked by ?m=; only numbers are
 * taken from the query, so a crafted link cannot put words on the page.
 * Where the text has a number, it is filled in by tok_flash().
 */
static const struct {
	const char	*key;
	const char	*text;
	int		 bad;
} tok_flashes[] = {
	{ "login", "Logged in.", 0 },
	{ "logout", "Logged out.", 0 },
	{ "added", NULL, 0 },
	{ "cleared", NULL, 0 },
	{ "seedclr", NULL, 0 },
	{ "errclr", "Error status reset: those tokens are back in rotation.",
	  0 },
	{ "removed", "Credential removed.", 0 },
	{ "gone", "That credential is no longer in the pool.", 1 },
	{ "confirm", "Tick \"I am sure\" to confirm.", 1 },
	{ "toobig", "Upload refused: it is over 1 MiB. Split it.", 1 },
	{ "toomany", "Upload refused: it has over 10000 lines. Split it.", 1 },
	{ "session", "Please log in (the session may have expired).", 1 },
};

void
tok_flash(struct tok *t)
{
	struct req *r = t->r;
	const char *m = req_query_get(r, "m");
	unsigned long a = query_num(r, "a"), d = query_num(r, "d");
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < sizeof(tok_flashes) / sizeof(tok_flashes[0]); i++)
		if (strcmp(m, tok_flashes[i].key) == 0)
			break;
	if (i == sizeof(tok_flashes) / sizeof(tok_flashes[0]))
		return;
	t->pg.flash_bad = tok_flashes[i].bad;
	if ((t->pg.flash = tok_flashes[i].text) != NULL)
		return;
	if (strcmp(m, "added") == 0 && query_num(r, "s") > 0)
		t->pg.flash = arena_printf(r->arena, "Upload done: %lu added, "
		    "%lu already in the pool, %lu skipped (not a token).", a, d,
		    query_num(r, "s"));
	else if (strcmp(m, "added") == 0)
		t->pg.flash = arena_printf(r->arena, "Upload done: %lu added, "
		    "%lu already in the pool.", a, d);
	else if (strcmp(m, "cleared") == 0)
		t->pg.flash = arena_printf(r->arena, "Pool cleared: %lu "
		    "removed.", a);
	else
		t->pg.flash = arena_printf(r->arena, "Seed tokens cleared: %lu "
		    "removed.", a);
}

/* ------------------------------------------------------------ gate */

const char *
tok_who(struct tok *t, char fp[LOG_FP_LEN])
{
	if (t->auth.via == ADMIN_BEARER) {
		log_fingerprint(t->r->auth, fp);
		return fp;
	}
	return "session";
}

/* The CSRF token: a form field, or a header for fetch() callers. */
static const char *
tok_csrf_given(struct tok *t)
{
	struct req *r = t->r;
	char *v;
	size_t n;

	if (t->form && r->body != NULL && form_field(r->arena, r->body,
	    r->body_len, "csrf", &v, &n) == 1)
		return v;
	return req_param(r, "HTTP_X_CSRF_TOKEN");
}

/*
 * Authentication, origin and CSRF for every POST action.  Sets t->go when
 * the action may run; otherwise the refusal has been sent.
 */
enum app_err
tok_gate(struct tok *t)
{
	struct req *r = t->r;

	if (r->store == NULL)
		return APP_STORE;
	switch (admin_check(r, &t->auth)) {
	case ADMIN_DISABLED:
		return tok_disabled(t);
	case ADMIN_BADBEARER:
		log_warn("tokens: %s %s with a wrong Bearer code", r->method,
		    r->path);
		return tok_bad_bearer(t);
	case ADMIN_THROTTLED:
		return tok_throttled(t, t->auth.retry_after);
	case ADMIN_NOAUTH:
		if (t->html)
			return tok_redirect(t, "m=session", NULL, NULL);
		return tok_json_error(t, 401, "invalid_request_error",
		    "missing_authorization", NULL, "Send Authorization: Bearer "
		    "<one of the AUTHORIZATION codes>.",
		    "WWW-Authenticate: Bearer realm=\"chat2api tokens\"\r\n");
	case ADMIN_OK:
		break;
	}
	if (tok_ctype_is(r->content_type, "multipart/form-data"))
		return tok_json_error(t, 415, "invalid_request_error",
		    "unsupported_media_type", NULL, "Send "
		    "application/x-www-form-urlencoded, application/json or "
		    "text/plain.", NULL);
	if (t->auth.via == ADMIN_SESSION) {
		/* A cookie rides along on its own: prove the page sent it. */
		if (!admin_fetch_ok(r) ||
		    !admin_csrf_ok(r->store, t->auth.session,
		    tok_csrf_given(t))) {
			log_warn("tokens: %s %s refused: missing or wrong CSRF "
			    "token", r->method, r->path);
			if (t->html)
				return tok_page_refused(t, 403, "The form was "
				    "missing its security token or came from "
				    "another site. Reload the tokens page and "
				    "try again.");
			return tok_json_error(t, 403, "invalid_request_error",
			    "csrf_failed", NULL, "Missing or wrong CSRF token "
			    "(form field csrf or header X-CSRF-Token).", NULL);
		}
	}
	t->go = 1;
	return APP_OK;
}

/* Form field or JSON string member; NULL when absent. */
const char *
tok_arg(struct tok *t, const char *name, int *malformed)
{
	struct req *r = t->r;
	struct json_object *o, *v;
	const char *s = NULL;
	char *fv;
	size_t n;

	*malformed = 0;
	if (r->body == NULL || r->body_len == 0)
		return NULL;
	if (t->form) {
		switch (form_field(r->arena, r->body, r->body_len, name, &fv,
		    &n)) {
		case 1:
			return fv;
		case -1:
			*malformed = 1;
		}
		return NULL;
	}
	if (!t->json)
		return NULL;
	if ((o = json_tokener_parse(r->body)) == NULL) {
		*malformed = 1;
		return NULL;
	}
	if (json_object_object_get_ex(o, name, &v) &&
	    json_object_is_type(v, json_type_string))
		s = arena_strdup(r->arena, json_object_get_string(v));
	json_object_put(o);
	return s;
}

enum app_err
tok_store_err(enum store_err se)
{
	return se == STORE_ENOMEM ? APP_ENOMEM : APP_STORE;
}

const char *
tok_provider(void)
{
	const struct provider *p = provider_default();

	return p != NULL ? p->id : "";
}

size_t
tok_active(struct store *st)
{
	struct acct_counts c;

	if (acct_count(st, tok_provider(), &c) != STORE_OK)
		return 0;
	return c.active;
}

enum app_err
tok_success(struct tok *t, const char *k1, size_t v1, const char *k2,
    size_t v2, const char *k3, size_t v3)
{
	struct json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "status", json_object_new_string("success"));
	if (k1 != NULL)
		json_object_object_add(o, k1, json_object_new_int64((int64_t)v1));
	if (k2 != NULL)
		json_object_object_add(o, k2, json_object_new_int64((int64_t)v2));
	if (k3 != NULL)
		json_object_object_add(o, k3, json_object_new_int64((int64_t)v3));
	return tok_json(t, 200, o, NULL);
}
