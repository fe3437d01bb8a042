/*
 * /tokens: the credential pool page and its JSON endpoints, also under
 * API_PREFIX.  Unlike the reference, nothing here is open: a browser logs
 * in with an AUTHORIZATION code (session cookie + CSRF token on every
 * form), a script sends "Authorization: Bearer <code>".  Listings show
 * fingerprints, never secrets, and no token ever reaches the log.
 *
 * A browser form (application/x-www-form-urlencoded without a Bearer) is
 * answered with 303 back to /tokens and a flash message; anything else
 * gets JSON.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/rand.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "fcgi/resp.h"
#include "handlers/admin_auth.h"
#include "handlers/handlers.h"
#include "html/escape.h"
#include "html/tokens.h"
#include "store/creds.h"
#include "store/store.h"

#define TOK_UPLOAD_MAX	(1L << 20)	/* bytes of one upload */
#define TOK_LINES_MAX	10000		/* lines of one upload */
#define TOK_PAGE_MAX	(16u << 20)	/* rendered page */
#define TOK_ID_MAX	64

struct tok {
	struct req		*r;
	struct admin_auth	 auth;
	struct tokens_page	 pg;
	char			 nonce[33];
	int			 form;	/* urlencoded body */
	int			 json;	/* JSON body */
	int			 html;	/* answer a browser form with 303 */
	int			 go;	/* tok_gate: the action may run */
};

static int
ctype_is(const char *ct, const char *want)
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

static void
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
	t->form = ctype_is(r->content_type,
	    "application/x-www-form-urlencoded");
	t->json = ctype_is(r->content_type, "application/json");
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
	if (is_html)
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

static enum app_err
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
	e = tok_send(t, status, "application/json", 0, extra, line, len + 1);
	return e;
}

static enum app_err
tok_json_error(struct tok *t, int status, const char *type, const char *code,
    const char *param, const char *msg, const char *extra)
{
	struct json_object *o;

	if ((o = resp_error_object(type, code, param, msg)) == NULL)
		return APP_ENOMEM;
	return tok_json(t, status, o, extra);
}

static enum app_err
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

/* 303 to BASE/tokens?query#fragment; extra may carry a Set-Cookie. */
static enum app_err
tok_redirect(struct tok *t, const char *query, const char *fragment,
    const char *extra)
{
	struct buf h;
	enum app_err e;

	buf_init(&h, 8192);
	buf_printf(&h, "Location: %s/tokens%s%s%s%s\r\n", t->pg.base,
	    query != NULL ? "?" : "", query != NULL ? query : "",
	    fragment != NULL ? "#" : "", fragment != NULL ? fragment : "");
	if (extra != NULL)
		buf_adds(&h, extra);
	if (h.failed) {
		buf_free(&h);
		return APP_ENOMEM;
	}
	e = tok_send(t, 303, "text/plain; charset=utf-8", 0, h.p,
	    "See /tokens\n", 12);
	buf_free(&h);
	return e;
}

static enum app_err
tok_page_refused(struct tok *t, int status, const char *why)
{
	struct buf b;

	buf_init(&b, TOK_PAGE_MAX);
	tokens_html_refused(&b, &t->pg, why);
	return tok_html(t, status, &b, NULL);
}

static enum app_err
tok_page_login(struct tok *t, int status)
{
	struct buf b;

	buf_init(&b, TOK_PAGE_MAX);
	tokens_html_login(&b, &t->pg);
	return tok_html(t, status, &b, NULL);
}

/* With no code configured, say how to enable it: never open the pool. */
static enum app_err
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
static enum app_err
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

static enum app_err
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

static void
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

static const char *
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
static enum app_err
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
	if (ctype_is(r->content_type, "multipart/form-data"))
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
static const char *
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

static enum app_err
tok_store_err(enum store_err se)
{
	return se == STORE_ENOMEM ? APP_ENOMEM : APP_STORE;
}

static size_t
tok_active(struct store *st)
{
	struct cred_counts c;

	memset(&c, 0, sizeof(c));
	if (cred_count(st, &c) != STORE_OK)
		return 0;
	return c.active;
}

static enum app_err
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

/* ------------------------------------------------------------ GET /tokens */

struct gather {
	struct tokens_view	*v;
	struct cred_info	*rows, *errs;
};

static int
gather_one(void *arg, const struct cred_info *ci)
{
	struct gather *g = arg;
	struct tokens_view *v = g->v;
	size_t k = ci->kind >= CRED_ACCESS && ci->kind <= CRED_OTHER ?
	    (size_t)ci->kind : (size_t)CRED_OTHER;
	int col;

	if (ci->status == CRED_ERROR)
		col = TOKENS_COL_ERROR;
	else if (ci->cooldown_until > (int64_t)v->now)
		col = TOKENS_COL_COOLING;
	else
		col = TOKENS_COL_ACTIVE;
	v->grid[k][col]++;
	if (v->nrows < TOKENS_ROWS_MAX)
		g->rows[v->nrows++] = *ci;
	v->rows_total++;
	if (ci->status == CRED_ERROR) {
		if (v->nerrors < TOKENS_ERRORS_MAX)
			g->errs[v->nerrors++] = *ci;
		v->errors_total++;
	}
	return 0;
}

static enum app_err
tok_counts_json(struct tok *t)
{
	struct cred_counts c;
	struct json_object *o, *k;
	enum store_err se;
	int i;

	memset(&c, 0, sizeof(c));
	if ((se = cred_count(t->r->store, &c)) != STORE_OK)
		return tok_store_err(se);
	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "tokens_count",
	    json_object_new_int64((int64_t)c.active));
	json_object_object_add(o, "total",
	    json_object_new_int64((int64_t)c.total));
	json_object_object_add(o, "active",
	    json_object_new_int64((int64_t)c.active));
	json_object_object_add(o, "cooling",
	    json_object_new_int64((int64_t)c.cooling));
	json_object_object_add(o, "error",
	    json_object_new_int64((int64_t)c.error));
	k = json_object_new_object();
	for (i = CRED_ACCESS; i <= CRED_OTHER; i++)
		json_object_object_add(k, cred_kind_name((enum cred_kind)i),
		    json_object_new_int64((int64_t)c.by_kind[i]));
	json_object_object_add(o, "by_kind", k);
	return tok_json(t, 200, o, NULL);
}

enum app_err
h_tokens_page(struct req *r, const char *rest)
{
	struct tok t;
	struct tokens_view v;
	struct gather g;
	struct buf b;
	enum store_err se;

	(void)rest;
	tok_init(&t, r);
	t.html = 1;
	if (r->store == NULL)
		return APP_STORE;
	switch (admin_check(r, &t.auth)) {
	case ADMIN_DISABLED:
		return tok_disabled(&t);
	case ADMIN_BADBEARER:
		return tok_bad_bearer(&t);
	case ADMIN_THROTTLED:
		return tok_throttled(&t, t.auth.retry_after);
	case ADMIN_NOAUTH:
		tok_flash(&t);
		return tok_page_login(&t, 200);
	case ADMIN_OK:
		break;
	}
	/* A script asking with its Bearer gets the counts. */
	if (t.auth.via == ADMIN_BEARER)
		return tok_counts_json(&t);
	tok_flash(&t);

	memset(&v, 0, sizeof(v));
	v.csrf = t.auth.csrf;
	v.now = time(NULL);
	v.session_expires = t.auth.expires;
	if ((se = cred_count(r->store, &v.counts)) != STORE_OK)
		return tok_store_err(se);
	g.v = &v;
	g.rows = arena_calloc(r->arena, TOKENS_ROWS_MAX, sizeof(*g.rows));
	g.errs = arena_calloc(r->arena, TOKENS_ERRORS_MAX, sizeof(*g.errs));
	if (g.rows == NULL || g.errs == NULL)
		return APP_ENOMEM;
	if ((se = cred_list(r->store, gather_one, &g)) != STORE_OK)
		return tok_store_err(se);
	v.rows = g.rows;
	v.errors = g.errs;
	buf_init(&b, TOK_PAGE_MAX);
	tokens_html_main(&b, &t.pg, &v);
	return tok_html(&t, 200, &b, NULL);
}

/* ------------------------------------------------------------ login/out */

enum app_err
h_tokens_login(struct req *r, const char *rest)
{
	struct tok t;
	struct buf ck;
	char session[ADMIN_SESSION_MAX], *code = NULL;
	const char *addr;
	size_t len = 0;
	long wait;
	enum app_err e;
	int got;

	(void)rest;
	tok_init(&t, r);
	t.html = 1;
	if (r->store == NULL)
		return APP_STORE;
	if (!admin_enabled(r->cfg))
		return tok_disabled(&t);
	if (!admin_fetch_ok(r))
		return tok_page_refused(&t, 403, "The login form must be sent "
		    "from this site's own page.");
	got = t.form && r->body != NULL ? form_field(r->arena, r->body,
	    r->body_len, "code", &code, &len) : 0;
	if (got != 1 || len == 0) {
		t.pg.flash = "Enter one of the AUTHORIZATION codes.";
		t.pg.flash_bad = 1;
		return tok_page_login(&t, 400);
	}
	/* Checked before the code, so guessing stops while blocked. */
	if (admin_throttled(r, &wait))
		return tok_throttled(&t, wait);
	if (!admin_code_ok(r->cfg, code, len)) {
		addr = req_param(r, "REMOTE_ADDR");
		log_warn("tokens: failed login from %s",
		    addr != NULL ? addr : "?");
		admin_failed(r);
		t.pg.flash = "Wrong code.";
		t.pg.flash_bad = 1;
		return tok_page_login(&t, 401);
	}
	admin_succeeded(r);
	if (admin_session_new(r->store, code, len, time(NULL), session) < 0)
		return APP_SYSTEM;
	buf_init(&ck, 4096);
	admin_set_cookie(r, &ck, session);
	if (ck.failed) {
		buf_free(&ck);
		return APP_ENOMEM;
	}
	log_info("tokens: login");
	e = tok_redirect(&t, "m=login", NULL, ck.p);
	buf_free(&ck);
	return e;
}

enum app_err
h_tokens_logout(struct req *r, const char *rest)
{
	struct tok t;
	struct buf ck;
	enum app_err e;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	/* Server-side too: a copy of the cookie must not outlive the logout. */
	if (t.auth.via == ADMIN_SESSION && store_revoke(r->store, "session",
	    t.auth.session, t.auth.expires) != STORE_OK)
		return APP_STORE;
	if (!t.html)
		return tok_success(&t, NULL, 0, NULL, 0, NULL, 0);
	buf_init(&ck, 4096);
	admin_set_cookie(r, &ck, NULL);
	if (ck.failed) {
		buf_free(&ck);
		return APP_ENOMEM;
	}
	e = tok_redirect(&t, "m=logout", NULL, ck.p);
	buf_free(&ck);
	return e;
}

/* ------------------------------------------------------------ upload */

/* CRLF and lone CR become LF (a textarea sends CRLF); returns lines. */
static size_t
tok_lines(char *s, size_t *len)
{
	size_t i, o = 0, lines = 0;

	for (i = 0; i < *len; i++) {
		if (s[i] == '\r') {
			if (i + 1 < *len && s[i + 1] == '\n')
				continue;
			s[i] = '\n';
		}
		s[o++] = s[i];
		if (s[i] == '\n')
			lines++;
	}
	s[o] = '\0';
	*len = o;
	if (o > 0 && s[o - 1] != '\n')
		lines++;
	return lines;
}

/* Lines cred_add_lines() would consider: not blank, not a # comment. */
static size_t
tok_candidates(const char *s, size_t len)
{
	const char *p = s, *end = s + len, *eol;
	size_t n = 0;

	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		while (p < eol && (*p == ' ' || *p == '\t' || *p == '\v' ||
		    *p == '\f'))
			p++;
		if (p < eol && *p != '#')
			n++;
		p = eol + 1;
	}
	return n;
}

/* {"text": "..."} or {"tokens": ["...", ...]} */
static int
tok_json_text(struct tok *t, char **text, size_t *len, const char **why)
{
	struct req *r = t->r;
	struct json_tokener *tk;
	struct json_object *o = NULL, *v, *it;
	struct buf b;
	size_t i, n, sl;
	const char *s;
	int ret = -1;

	buf_init(&b, (size_t)TOK_UPLOAD_MAX + 1);
	*why = "The body must be a JSON object with \"text\" (a string) or "
	    "\"tokens\" (an array of strings).";
	if ((tk = json_tokener_new()) == NULL)
		goto fail;
	o = json_tokener_parse_ex(tk, r->body, (int)r->body_len);
	if (o == NULL || json_tokener_get_error(tk) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))
		goto fail;
	if (json_object_object_get_ex(o, "text", &v)) {
		if (!json_object_is_type(v, json_type_string))
			goto fail;
		buf_add(&b, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	} else if (json_object_object_get_ex(o, "tokens", &v)) {
		if (!json_object_is_type(v, json_type_array))
			goto fail;
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			it = json_object_array_get_idx(v, i);
			if (!json_object_is_type(it, json_type_string))
				goto fail;
			s = json_object_get_string(it);
			sl = (size_t)json_object_get_string_len(it);
			/* One token per entry: a newline would make two. */
			if (memchr(s, '\n', sl) != NULL ||
			    memchr(s, '\r', sl) != NULL) {
				*why = "A token in \"tokens\" contains a line "
				    "break.";
				goto fail;
			}
			buf_add(&b, s, sl);
			buf_add(&b, "\n", 1);
		}
	} else
		goto fail;
	if (b.failed || (b.len && memchr(b.p, '\0', b.len) != NULL)) {
		*why = b.failed ? "The upload is over 1 MiB." :
		    "The upload contains a NUL character.";
		goto fail;
	}
	if ((*text = arena_alloc(r->arena, b.len + 1)) == NULL)
		goto fail;
	if (b.len)
		memcpy(*text, b.p, b.len);
	(*text)[b.len] = '\0';
	*len = b.len;
	ret = 0;
fail:
	if (o != NULL)
		json_object_put(o);
	if (tk != NULL)
		json_tokener_free(tk);
	buf_free(&b);
	return ret;
}

enum app_err
h_tokens_upload(struct req *r, const char *rest)
{
	struct tok t;
	struct json_object *o;
	char *text = NULL, fp[LOG_FP_LEN], *q;
	const char *why;
	size_t len = 0, lines, cand, added = 0, dups = 0, skipped;
	enum store_err se;
	enum app_err e;
	int got;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if (r->body_len > (size_t)TOK_UPLOAD_MAX) {
		if (t.html)
			return tok_redirect(&t, "m=toobig", NULL, NULL);
		return tok_json_error(&t, 413, "invalid_request_error",
		    "upload_too_large", "text", "An upload may be at most "
		    "1 MiB; split it.", NULL);
	}
	if (t.form) {
		got = r->body != NULL ? form_field(r->arena, r->body,
		    r->body_len, "text", &text, &len) : 0;
		if (got != 1)
			return tok_json_error(&t, 400, "invalid_request_error",
			    "invalid_request", "text", got < 0 ?
			    "Malformed form body." : "Missing form field text "
			    "(one token per line).", NULL);
	} else if (t.json) {
		if (tok_json_text(&t, &text, &len, &why) < 0)
			return tok_json_error(&t, 400, "invalid_request_error",
			    "invalid_request", "text", why, NULL);
	} else if (ctype_is(r->content_type, "text/plain")) {
		text = r->body != NULL ? r->body : "";
		len = r->body_len;
		if (memchr(text, '\0', len) != NULL)
			return tok_json_error(&t, 400, "invalid_request_error",
			    "invalid_request", "text", "The upload contains a "
			    "NUL character.", NULL);
	} else
		return tok_json_error(&t, 415, "invalid_request_error",
		    "unsupported_media_type", NULL, "Send form field text, "
		    "JSON {\"text\"} or {\"tokens\"}, or text/plain.", NULL);

	if ((lines = tok_lines(text, &len)) > TOK_LINES_MAX) {
		if (t.html)
			return tok_redirect(&t, "m=toomany", NULL, NULL);
		return tok_json_error(&t, 413, "invalid_request_error",
		    "too_many_lines", "text", "An upload may have at most "
		    "10000 lines; split it.", NULL);
	}
	cand = tok_candidates(text, len);
	if ((se = cred_add_lines(r->store, text, len, &added, &dups)) !=
	    STORE_OK)
		return tok_store_err(se);
	/* The pool skips lines that are no token; say how many. */
	skipped = cand > added + dups ? cand - added - dups : 0;
	log_info("tokens: upload of %zu line(s): %zu added, %zu duplicate(s), "
	    "%zu skipped (by %s)", lines, added, dups, skipped,
	    tok_who(&t, fp));
	if (t.html) {
		if ((q = arena_printf(r->arena, "m=added&a=%zu&d=%zu&s=%zu",
		    added, dups, skipped)) == NULL)
			return APP_ENOMEM;
		return tok_redirect(&t, q, NULL, NULL);
	}
	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "added", json_object_new_int64(
	    (int64_t)added));
	json_object_object_add(o, "duplicates", json_object_new_int64(
	    (int64_t)dups));
	json_object_object_add(o, "skipped", json_object_new_int64(
	    (int64_t)skipped));
	json_object_object_add(o, "tokens_count", json_object_new_int64(
	    (int64_t)tok_active(r->store)));
	return tok_json(&t, 200, o, NULL);
}

/* ------------------------------------------------------------ clear */

/* Browser forms for destructive actions carry a ticked confirm box. */
static int
tok_confirmed(struct tok *t)
{
	int bad;
	const char *c;

	if (!t->html)
		return 1;
	c = tok_arg(t, "confirm", &bad);
	return c != NULL && strcmp(c, "yes") == 0;
}

enum app_err
h_tokens_clear(struct req *r, const char *rest)
{
	struct tok t;
	char fp[LOG_FP_LEN], *q;
	size_t removed = 0;
	enum store_err se;
	enum app_err e;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if (!tok_confirmed(&t))
		return tok_redirect(&t, "m=confirm", "danger", NULL);
	if ((se = cred_clear(r->store, &removed)) != STORE_OK)
		return tok_store_err(se);
	log_info("tokens: pool cleared, %zu removed (by %s)", removed,
	    tok_who(&t, fp));
	if (t.html) {
		if ((q = arena_printf(r->arena, "m=cleared&a=%zu", removed)) ==
		    NULL)
			return APP_ENOMEM;
		return tok_redirect(&t, q, NULL, NULL);
	}
	return tok_success(&t, "tokens_count", 0, "removed", removed, NULL, 0);
}

enum app_err
h_seed_tokens_clear(struct req *r, const char *rest)
{
	struct tok t;
	char fp[LOG_FP_LEN], *q;
	size_t removed = 0;
	enum store_err se;
	enum app_err e;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if (!tok_confirmed(&t))
		return tok_redirect(&t, "m=confirm", "danger", NULL);
	if ((se = cred_seeds_clear(r->store, &removed)) != STORE_OK)
		return tok_store_err(se);
	log_info("tokens: seeds cleared, %zu removed (by %s)", removed,
	    tok_who(&t, fp));
	if (t.html) {
		if ((q = arena_printf(r->arena, "m=seedclr&a=%zu", removed)) ==
		    NULL)
			return APP_ENOMEM;
		return tok_redirect(&t, q, NULL, NULL);
	}
	return tok_success(&t, "seed_tokens_count", 0, "removed", removed,
	    NULL, 0);
}

/* ------------------------------------------------------------ errors */

static void
tok_iso_time(int64_t at, char *out, size_t outsz)
{
	struct tm tm;
	time_t tt = (time_t)at;

	if (at <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

static int
error_one(void *arg, const struct cred_info *ci)
{
	struct json_object *arr = arg, *o;
	char at[32];

	if (ci->status != CRED_ERROR)
		return 0;
	if ((o = json_object_new_object()) == NULL)
		return -1;
	tok_iso_time(ci->last_error_at, at, sizeof(at));
	json_object_object_add(o, "id", json_object_new_string(ci->id));
	json_object_object_add(o, "fingerprint",
	    json_object_new_string(ci->fingerprint));
	json_object_object_add(o, "kind",
	    json_object_new_string(cred_kind_name(ci->kind)));
	json_object_object_add(o, "reason",
	    json_object_new_string(ci->last_error));
	json_object_object_add(o, "at", at[0] ?
	    json_object_new_string(at) : NULL);
	json_object_object_add(o, "count",
	    json_object_new_int64((int64_t)ci->error_count));
	json_object_array_add(arr, o);
	return 0;
}

enum app_err
h_tokens_error(struct req *r, const char *rest)
{
	struct tok t;
	struct json_object *o, *arr;
	enum store_err se;
	enum app_err e;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	/* The page shows the list itself. */
	if (t.html)
		return tok_redirect(&t, NULL, "errors", NULL);
	if ((arr = json_object_new_array()) == NULL)
		return APP_ENOMEM;
	if ((se = cred_list(r->store, error_one, arr)) != STORE_OK) {
		json_object_put(arr);
		return tok_store_err(se);
	}
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(arr);
		return APP_ENOMEM;
	}
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "error_tokens", arr);
	return tok_json(&t, 200, o, NULL);
}

enum app_err
h_tokens_errors_clear(struct req *r, const char *rest)
{
	struct tok t;
	char fp[LOG_FP_LEN];
	enum store_err se;
	enum app_err e;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if ((se = cred_errors_clear(r->store)) != STORE_OK)
		return tok_store_err(se);
	log_info("tokens: error status reset (by %s)", tok_who(&t, fp));
	if (t.html)
		return tok_redirect(&t, "m=errclr", NULL, NULL);
	return tok_success(&t, "tokens_count", tok_active(r->store), NULL, 0,
	    NULL, 0);
}

/* ------------------------------------------------------------ remove */

static int
tok_id_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > TOK_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

enum app_err
h_tokens_remove(struct req *r, const char *rest)
{
	struct tok t;
	char fp[LOG_FP_LEN];
	const char *id;
	enum store_err se;
	enum app_err e;
	int bad;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if ((id = tok_arg(&t, "id", &bad)) == NULL &&
	    (id = tok_arg(&t, "fingerprint", &bad)) == NULL)
		id = "";
	if (!tok_id_ok(id))
		return tok_json_error(&t, 400, "invalid_request_error",
		    "invalid_request", "id", "Give the id or fingerprint "
		    "(hex) of one credential.", NULL);
	se = cred_remove(r->store, id);
	if (se == STORE_INVAL)
		return tok_json_error(&t, 400, "invalid_request_error",
		    "invalid_request", "id", "An id has 32 hex digits, a "
		    "fingerprint 12.", NULL);
	if (se == STORE_NOTFOUND) {
		if (t.html)
			return tok_redirect(&t, "m=gone", NULL, NULL);
		return tok_json_error(&t, 404, "invalid_request_error",
		    "not_found", "id", "No credential with that id or "
		    "fingerprint.", NULL);
	}
	if (se != STORE_OK)
		return tok_store_err(se);
	log_info("tokens: credential %s removed (by %s)", id, tok_who(&t, fp));
	if (t.html)
		return tok_redirect(&t, "m=removed", NULL, NULL);
	return tok_success(&t, "tokens_count", tok_active(r->store), NULL, 0,
	    NULL, 0);
}
