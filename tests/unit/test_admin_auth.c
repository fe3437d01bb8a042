/*
 * Admin authentication: code comparison, stateless sessions (signature,
 * expiry, code binding, key binding), CSRF tokens, cookie and Bearer
 * parsing, and the /tokens routes end to end through fcgi_handle() with
 * an in-memory transport and a real store.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "fcgi/conf.h"
#include "fcgi/handle.h"
#include "handlers/admin_auth.h"
#include "store/store.h"
#include "tests/unit/store_backend.h"
#include "unit.h"

#define KEY1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY2 "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define NOW  ((time_t)1800000000)

static char dir[256], dir2[256];
static struct store *st, *st2;
static struct config cfg;
static char *codes[] = { "code-1", "code-2", NULL };

static void
setup(void)
{
	char err[256];

	strcpy(dir, "/tmp/c2a-auth-XXXXXX");
	strcpy(dir2, "/tmp/c2a-auth2-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir2));
	ck_assert_int_eq(unit_store_open(&st, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_key_init(st, KEY1, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(unit_store_open(&st2, dir2, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_key_init(st2, KEY2, err, sizeof(err)),
	    STORE_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.authorization.v = codes;
	cfg.authorization.n = 2;
	cfg.api_prefix = "";
	cfg.mount = "";
	cfg.cors_origin = "*";
}

static void
teardown(void)
{
	char cmd[600];

	store_close(st);
	store_close(st2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, dir2);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(code_compare)
{
	struct config none;

	ck_assert_int_eq(admin_enabled(&cfg), 1);
	ck_assert_int_eq(admin_code_ok(&cfg, "code-1", 6), 1);
	ck_assert_int_eq(admin_code_ok(&cfg, "code-2", 6), 1);
	ck_assert_int_eq(admin_code_ok(&cfg, "code-3", 6), 0);
	ck_assert_int_eq(admin_code_ok(&cfg, "code-", 5), 0);
	ck_assert_int_eq(admin_code_ok(&cfg, "code-12", 7), 0);
	ck_assert_int_eq(admin_code_ok(&cfg, "CODE-1", 6), 0);
	ck_assert_int_eq(admin_code_ok(&cfg, "", 0), 0);
	ck_assert_int_eq(admin_code_ok(&cfg, NULL, 0), 0);
	/* The length given counts, not a NUL inside. */
	ck_assert_int_eq(admin_code_ok(&cfg, "code-1\0x", 8), 0);
	ck_assert_int_eq(admin_code_ok(&cfg, "code-1xyz", 6), 1);

	memset(&none, 0, sizeof(none));
	ck_assert_int_eq(admin_enabled(&none), 0);
	ck_assert_int_eq(admin_code_ok(&none, "", 0), 0);
	ck_assert_int_eq(admin_code_ok(&none, "x", 1), 0);
}
END_TEST

START_TEST(session_roundtrip)
{
	char s[ADMIN_SESSION_MAX], s2[ADMIN_SESSION_MAX];
	time_t exp = 0;

	ck_assert_int_eq(admin_session_new(st, "code-1", 6, NOW, s), 0);
	ck_assert_int_eq(strncmp(s, "1.", 2), 0);
	ck_assert_int_eq(admin_session_ok(st, &cfg, s, NOW, &exp), 1);
	ck_assert_int_eq((long long)exp, (long long)NOW + ADMIN_SESSION_TTL);
	ck_assert_int_eq(admin_session_ok(st, &cfg, s,
	    NOW + ADMIN_SESSION_TTL - 1, NULL), 1);
	/* Expired at its expiry, and never valid "before" it was made. */
	ck_assert_int_eq(admin_session_ok(st, &cfg, s,
	    NOW + ADMIN_SESSION_TTL, NULL), 0);
	ck_assert_int_eq(admin_session_ok(st, &cfg, s, NOW - 10, NULL), 0);
	/* Two logins give two different sessions (random nonce). */
	ck_assert_int_eq(admin_session_new(st, "code-1", 6, NOW, s2), 0);
	ck_assert_str_ne(s, s2);
	ck_assert_int_eq(admin_session_ok(st, &cfg, s2, NOW, NULL), 1);
}
END_TEST

START_TEST(session_tampering)
{
	char s[ADMIN_SESSION_MAX], t[ADMIN_SESSION_MAX];
	size_t i, n, cut;

	ck_assert_int_eq(admin_session_new(st, "code-1", 6, NOW, s), 0);
	n = strlen(s);
	/* Any single changed byte breaks it. */
	for (i = 0; i < n; i++) {
		strcpy(t, s);
		t[i] = t[i] == '1' ? '2' : '1';
		ck_assert_msg(admin_session_ok(st, &cfg, t, NOW, NULL) == 0,
		    "byte %zu", i);
	}
	/* Truncated, extended, another key, garbage. */
	cut = n > 1 ? n - 1 : 0;
	memcpy(t, s, cut);
	t[cut] = '\0';
	ck_assert_int_eq(admin_session_ok(st, &cfg, t, NOW, NULL), 0);
	strcpy(t, s);
	ck_assert_uint_lt(n + 1, sizeof(t));
	t[n] = '0';
	t[n + 1] = '\0';
	ck_assert_int_eq(admin_session_ok(st, &cfg, t, NOW, NULL), 0);
	ck_assert_int_eq(admin_session_ok(st2, &cfg, s, NOW, NULL), 0);
	ck_assert_int_eq(admin_session_ok(st, &cfg, "", NOW, NULL), 0);
	ck_assert_int_eq(admin_session_ok(st, &cfg, "1.", NOW, NULL), 0);
	ck_assert_int_eq(admin_session_ok(st, &cfg, "1.99999999999999999999."
	    "0000000000000000.0000000000000000."
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    NOW, NULL), 0);
	/* Upper-case hex is not what we issue. */
	strcpy(t, s);
	for (i = 0; t[i]; i++)
		if (t[i] >= 'a' && t[i] <= 'f')
			t[i] = (char)(t[i] - 'a' + 'A');
	ck_assert_int_eq(admin_session_ok(st, &cfg, t, NOW, NULL), 0);
}
END_TEST

START_TEST(session_bound_to_code)
{
	char s1[ADMIN_SESSION_MAX], s2[ADMIN_SESSION_MAX];
	char *only1[] = { "code-1", NULL }, *renamed[] = { "code-9", NULL };
	struct config c = cfg;

	ck_assert_int_eq(admin_session_new(st, "code-1", 6, NOW, s1), 0);
	ck_assert_int_eq(admin_session_new(st, "code-2", 6, NOW, s2), 0);
	/* code-2 removed from AUTHORIZATION: its sessions end. */
	c.authorization.v = only1;
	c.authorization.n = 1;
	ck_assert_int_eq(admin_session_ok(st, &c, s1, NOW, NULL), 1);
	ck_assert_int_eq(admin_session_ok(st, &c, s2, NOW, NULL), 0);
	c.authorization.v = renamed;
	ck_assert_int_eq(admin_session_ok(st, &c, s1, NOW, NULL), 0);
	/* Token management switched off: no session is valid. */
	c.authorization.n = 0;
	ck_assert_int_eq(admin_session_ok(st, &c, s1, NOW, NULL), 0);
}
END_TEST

START_TEST(csrf_tokens)
{
	char s1[ADMIN_SESSION_MAX], s2[ADMIN_SESSION_MAX];
	char c1[ADMIN_CSRF_LEN + 1], c1b[ADMIN_CSRF_LEN + 1];
	char c2[ADMIN_CSRF_LEN + 1], other[ADMIN_CSRF_LEN + 1];

	ck_assert_int_eq(admin_session_new(st, "code-1", 6, NOW, s1), 0);
	ck_assert_int_eq(admin_session_new(st, "code-1", 6, NOW, s2), 0);
	admin_csrf(st, s1, c1);
	admin_csrf(st, s1, c1b);
	admin_csrf(st, s2, c2);
	admin_csrf(st2, s1, other);
	ck_assert_uint_eq(strlen(c1), ADMIN_CSRF_LEN);
	ck_assert_str_eq(c1, c1b);
	ck_assert_str_ne(c1, c2);
	ck_assert_str_ne(c1, other);
	/* Not the session's own signature (a different label). */
	ck_assert_ptr_null(strstr(s1, c1));
	ck_assert_int_eq(admin_csrf_ok(st, s1, c1), 1);
	ck_assert_int_eq(admin_csrf_ok(st, s1, c2), 0);
	ck_assert_int_eq(admin_csrf_ok(st, s2, c1), 0);
	ck_assert_int_eq(admin_csrf_ok(st, s1, NULL), 0);
	ck_assert_int_eq(admin_csrf_ok(st, s1, ""), 0);
	c1b[10] = '\0';
	ck_assert_int_eq(admin_csrf_ok(st, s1, c1b), 0);
	ck_assert_int_eq(admin_csrf_ok(st, "", c1), 0);
	ck_assert_int_eq(admin_csrf_ok(st, NULL, c1), 0);
}
END_TEST

START_TEST(cookie_header)
{
	const char *h, *cur;
	char v[32];

	h = "a=1; c2a_admin=first;xc2a_admin=no; c2a_admin2=no;"
	    "  c2a_admin = \"second\" ;c2a_admin=toolong-toolong-toolong-toolong-"
	    "toolong;c2a_admin=third";
	cur = h;
	ck_assert_int_eq(admin_cookie_next(&cur, "c2a_admin", v, sizeof(v)),
	    1);
	ck_assert_str_eq(v, "first");
	ck_assert_int_eq(admin_cookie_next(&cur, "c2a_admin", v, sizeof(v)),
	    1);
	ck_assert_str_eq(v, "second");
	/* Too long for the buffer: skipped, not cut. */
	ck_assert_int_eq(admin_cookie_next(&cur, "c2a_admin", v, sizeof(v)),
	    1);
	ck_assert_str_eq(v, "third");
	ck_assert_int_eq(admin_cookie_next(&cur, "c2a_admin", v, sizeof(v)),
	    0);
	cur = NULL;
	ck_assert_int_eq(admin_cookie_next(&cur, "c2a_admin", v, sizeof(v)),
	    0);
	cur = "";
	ck_assert_int_eq(admin_cookie_next(&cur, "c2a_admin", v, sizeof(v)),
	    0);
	cur = "c2a_admin";
	ck_assert_int_eq(admin_cookie_next(&cur, "c2a_admin", v, sizeof(v)),
	    0);
	cur = "c2a_admin=";
	ck_assert_int_eq(admin_cookie_next(&cur, "c2a_admin", v, sizeof(v)),
	    1);
	ck_assert_str_eq(v, "");
}
END_TEST

START_TEST(bearer_header)
{
	ck_assert_str_eq(admin_bearer("Bearer code-1"), "code-1");
	ck_assert_str_eq(admin_bearer("bearer   code-1"), "code-1");
	ck_assert_str_eq(admin_bearer("BEARER\tx"), "x");
	ck_assert_ptr_null(admin_bearer("Basic Y29kZS0xOg=="));
	ck_assert_ptr_null(admin_bearer("Bearercode-1"));
	ck_assert_ptr_null(admin_bearer("Bear"));
	ck_assert_ptr_null(admin_bearer(NULL));
	ck_assert_str_eq(admin_bearer("Bearer "), "");
}
END_TEST

/* ---------------------------------------------------------- requests */

struct fake {
	const char	**params;	/* name, value, ..., NULL */
	const char	 *body;
	size_t		  body_len, body_off;
	char		  out[262144];
	size_t		  out_len;
};

static int
f_write(struct req *r, const char *b, size_t n)
{
	struct fake *f = r->io_ctx;

	if (f->out_len + n >= sizeof(f->out))
		return -1;
	memcpy(f->out + f->out_len, b, n);
	f->out_len += n;
	f->out[f->out_len] = '\0';
	return 0;
}

static int
f_flush(struct req *r)
{
	(void)r;
	return 0;
}

static const char *
f_param(struct req *r, const char *name)
{
	struct fake *f = r->io_ctx;
	const char **p;

	for (p = f->params; *p; p += 2)
		if (strcmp(*p, name) == 0)
			return p[1];
	return NULL;
}

static long
f_read(struct req *r, char *buf, size_t n)
{
	struct fake *f = r->io_ctx;
	size_t left = f->body_len - f->body_off;

	if (n > left)
		n = left;
	memcpy(buf, f->body + f->body_off, n);
	f->body_off += n;
	return (long)n;
}

static int
f_gone(struct req *r, int ms)
{
	(void)r;
	(void)ms;
	return 0;
}

static const struct req_io fake_io = { f_write, f_flush, f_param, f_read,
	f_gone };

static struct req *
fake_req(struct fake *f, struct arena *a, struct req *r)
{
	arena_init(a, 0);
	memset(r, 0, sizeof(*r));
	r->io = &fake_io;
	r->io_ctx = f;
	r->arena = a;
	r->cfg = &cfg;
	r->store = st;
	r->auth = f_param(r, "HTTP_AUTHORIZATION");
	return r;
}

START_TEST(check_request)
{
	char s[ADMIN_SESSION_MAX], cookie[ADMIN_SESSION_MAX + 64];
	struct admin_auth a;
	struct arena ar;
	struct req r;
	struct fake f;
	const char *p_bearer[] = { "HTTP_AUTHORIZATION", "Bearer code-2",
	    NULL };
	const char *p_bad[] = { "HTTP_AUTHORIZATION", "Bearer code-3", NULL };
	const char *p_basic[] = { "HTTP_AUTHORIZATION", "Basic eDp5",
	    "HTTP_COOKIE", cookie, NULL };
	const char *p_https[] = { "HTTPS", "on", "HTTP_COOKIE", cookie, NULL };
	const char *p_none[] = { NULL };

	ck_assert_int_eq(admin_session_new(st, "code-1", 6, time(NULL), s), 0);
	memset(&f, 0, sizeof(f));
	f.params = p_bearer;
	ck_assert_int_eq(admin_check(fake_req(&f, &ar, &r), &a), ADMIN_OK);
	ck_assert_int_eq(a.via, ADMIN_BEARER);
	arena_free(&ar);
	f.params = p_bad;
	ck_assert_int_eq(admin_check(fake_req(&f, &ar, &r), &a),
	    ADMIN_BADBEARER);
	arena_free(&ar);
	f.params = p_none;
	ck_assert_int_eq(admin_check(fake_req(&f, &ar, &r), &a), ADMIN_NOAUTH);
	arena_free(&ar);

	/* Basic belongs to the front server: the cookie still counts. */
	snprintf(cookie, sizeof(cookie), "other=1; c2a_admin=junk; "
	    "c2a_admin=%s", s);
	f.params = p_basic;
	ck_assert_int_eq(admin_check(fake_req(&f, &ar, &r), &a), ADMIN_OK);
	ck_assert_int_eq(a.via, ADMIN_SESSION);
	ck_assert_str_eq(a.session, s);
	ck_assert_uint_eq(strlen(a.csrf), ADMIN_CSRF_LEN);
	ck_assert_int_eq(admin_csrf_ok(st, s, a.csrf), 1);
	arena_free(&ar);

	/* Over HTTPS only the __Host- cookie is read. */
	f.params = p_https;
	ck_assert_int_eq(admin_check(fake_req(&f, &ar, &r), &a), ADMIN_NOAUTH);
	arena_free(&ar);
	snprintf(cookie, sizeof(cookie), "__Host-c2a_admin=%s", s);
	ck_assert_int_eq(admin_check(fake_req(&f, &ar, &r), &a), ADMIN_OK);
	arena_free(&ar);

	/* No codes configured: disabled, whatever is sent. */
	cfg.authorization.n = 0;
	f.params = p_bearer;
	ck_assert_int_eq(admin_check(fake_req(&f, &ar, &r), &a),
	    ADMIN_DISABLED);
	arena_free(&ar);
	cfg.authorization.n = 2;
}
END_TEST

START_TEST(cookie_attributes)
{
	struct arena ar;
	struct req r;
	struct fake f;
	struct buf b;
	const char *plain[] = { NULL };
	const char *https[] = { "HTTPS", "ON", NULL };

	memset(&f, 0, sizeof(f));
	buf_init(&b, 0);
	f.params = plain;
	fake_req(&f, &ar, &r);
	ck_assert_int_eq(admin_set_cookie(&r, &b, "v"), 0);
	ck_assert_str_eq(b.p, "Set-Cookie: c2a_admin=v; Path=/; HttpOnly; "
	    "SameSite=Strict; Max-Age=43200\r\n");
	buf_reset(&b);
	ck_assert_int_eq(admin_set_cookie(&r, &b, NULL), 0);
	ck_assert_str_eq(b.p, "Set-Cookie: c2a_admin=; Path=/; HttpOnly; "
	    "SameSite=Strict; Max-Age=0\r\n");
	arena_free(&ar);

	f.params = https;
	fake_req(&f, &ar, &r);
	buf_reset(&b);
	ck_assert_int_eq(admin_set_cookie(&r, &b, "v"), 0);
	ck_assert_str_eq(b.p, "Set-Cookie: __Host-c2a_admin=v; Path=/; "
	    "HttpOnly; SameSite=Strict; Secure; Max-Age=43200\r\n");
	/* Under a mount the path narrows and __Host- is not allowed. */
	cfg.mount = "/pfx";
	buf_reset(&b);
	ck_assert_int_eq(admin_set_cookie(&r, &b, "v"), 0);
	ck_assert_str_eq(b.p, "Set-Cookie: c2a_admin=v; Path=/pfx/; "
	    "HttpOnly; SameSite=Strict; Secure; Max-Age=43200\r\n");
	cfg.mount = "";
	arena_free(&ar);
	buf_free(&b);
}
END_TEST

START_TEST(fetch_site_header)
{
	struct arena ar;
	struct req r;
	struct fake f;
	const char *p[] = { "HTTP_SEC_FETCH_SITE", NULL, NULL };
	static const struct { const char *v; int ok; } cases[] = {
		{ "same-origin", 1 }, { "none", 1 }, { "", 1 },
		{ "cross-site", 0 }, { "same-site", 0 }, { "SAME-ORIGIN", 0 },
	};
	size_t i;

	memset(&f, 0, sizeof(f));
	f.params = p;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p[1] = cases[i].v;
		fake_req(&f, &ar, &r);
		ck_assert_int_eq(admin_fetch_ok(&r), cases[i].ok);
		arena_free(&ar);
	}
	p[0] = NULL;
	fake_req(&f, &ar, &r);
	ck_assert_int_eq(admin_fetch_ok(&r), 1);
	arena_free(&ar);
}
END_TEST

/* ---------------------------------------------------------- end to end */

static struct config full;

static void
setup_full(void)
{
	char err[256];

	setup();
	unsetenv("API_PREFIX");
	unsetenv("CHAT2API_MOUNT");
	setenv("AUTHORIZATION", "code-1,code-2", 1);
	ck_assert_int_eq(config_load(&full, err, sizeof(err)), 0);
}

static void
teardown_full(void)
{
	config_free(&full);
	unsetenv("AUTHORIZATION");
	teardown();
}

/* One request through fcgi_handle(); returns the status. */
static int
serve(struct fake *f, const char *method, const char *uri, const char *ctype,
    const char *body, const char *cookie, const char *auth,
    const char *fetch_site)
{
	const char *params[24];
	char clen[32];
	struct arena a;
	struct req r;
	size_t n = 0;
	int status = 0;

	memset(f, 0, sizeof(*f));
	params[n++] = "REQUEST_METHOD";
	params[n++] = method;
	params[n++] = "REQUEST_URI";
	params[n++] = uri;
	if (ctype != NULL) {
		params[n++] = "CONTENT_TYPE";
		params[n++] = ctype;
	}
	snprintf(clen, sizeof(clen), "%zu", body ? strlen(body) : 0);
	params[n++] = "CONTENT_LENGTH";
	params[n++] = clen;
	if (cookie != NULL) {
		params[n++] = "HTTP_COOKIE";
		params[n++] = cookie;
	}
	if (auth != NULL) {
		params[n++] = "HTTP_AUTHORIZATION";
		params[n++] = auth;
	}
	if (fetch_site != NULL) {
		params[n++] = "HTTP_SEC_FETCH_SITE";
		params[n++] = fetch_site;
	}
	params[n] = NULL;
	f->params = params;
	f->body = body ? body : "";
	f->body_len = strlen(f->body);
	arena_init(&a, 0);
	memset(&r, 0, sizeof(r));
	r.io = &fake_io;
	r.io_ctx = f;
	r.arena = &a;
	r.cfg = &full;
	r.store = st;
	fcgi_handle(&r);
	arena_free(&a);
	if (sscanf(f->out, "Status: %d", &status) != 1)
		return -1;
	return status;
}

static const char *
header(struct fake *f, const char *name, char *out, size_t outsz)
{
	char *p = f->out, *end = strstr(f->out, "\r\n\r\n"), *eol;
	size_t n = strlen(name);

	for (; p != NULL && p < end; p = eol + 2) {
		eol = strstr(p, "\r\n");
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			snprintf(out, outsz, "%.*s", (int)(eol - p - n - 2),
			    p + n + 2);
			return out;
		}
	}
	return NULL;
}

static struct json_object *
body_json(struct fake *f)
{
	char *b = strstr(f->out, "\r\n\r\n");

	return b ? json_tokener_parse(b + 4) : NULL;
}

/* Log in; fills the cookie pair and the page's CSRF token. */
static void
login(struct fake *f, char *cookie, size_t csz, char *csrf, size_t tsz)
{
	char v[512], *p, *e;

	ck_assert_int_eq(serve(f, "POST", "/tokens/login",
	    "application/x-www-form-urlencoded", "code=code-2", NULL, NULL,
	    "same-origin"), 303);
	ck_assert_ptr_nonnull(header(f, "Set-Cookie", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "; HttpOnly"));
	ck_assert_ptr_nonnull(strstr(v, "; SameSite=Strict"));
	ck_assert_ptr_null(strstr(v, "Secure"));
	*strchr(v, ';') = '\0';
	snprintf(cookie, csz, "%s", v);
	ck_assert_str_eq(header(f, "Location", v, sizeof(v)),
	    "/tokens?m=login");
	ck_assert_int_eq(serve(f, "GET", "/tokens", NULL, NULL, cookie, NULL,
	    NULL), 200);
	p = strstr(f->out, "name=\"csrf\" value=\"");
	ck_assert_ptr_nonnull(p);
	p += strlen("name=\"csrf\" value=\"");
	e = strchr(p, '"');
	snprintf(csrf, tsz, "%.*s", (int)(e - p), p);
	ck_assert_uint_eq(strlen(csrf), ADMIN_CSRF_LEN);
}

START_TEST(e2e_login_and_forms)
{
	static struct fake f;
	char cookie[600], csrf[80], body[256], v[512];
	struct json_object *o, *x;

	/* Without a session the page is the login form. */
	ck_assert_int_eq(serve(&f, "GET", "/tokens", NULL, NULL, NULL, NULL,
	    NULL), 200);
	ck_assert_ptr_nonnull(strstr(f.out, "id=\"login-form\""));
	ck_assert_str_eq(header(&f, "X-Frame-Options", v, sizeof(v)), "DENY");
	ck_assert_str_eq(header(&f, "Cache-Control", v, sizeof(v)),
	    "no-store");
	ck_assert_ptr_nonnull(header(&f, "Content-Security-Policy", v,
	    sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "default-src 'none'"));
	ck_assert_ptr_nonnull(strstr(v, "form-action 'self'"));
	/* A wrong code: 401 and no cookie. */
	ck_assert_int_eq(serve(&f, "POST", "/tokens/login",
	    "application/x-www-form-urlencoded", "code=code-3", NULL, NULL,
	    NULL), 401);
	ck_assert_ptr_null(header(&f, "Set-Cookie", v, sizeof(v)));
	/* A login posted from another site is refused. */
	ck_assert_int_eq(serve(&f, "POST", "/tokens/login",
	    "application/x-www-form-urlencoded", "code=code-1", NULL, NULL,
	    "cross-site"), 403);

	login(&f, cookie, sizeof(cookie), csrf, sizeof(csrf));
	/* Upload without the CSRF token: refused, nothing stored. */
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload",
	    "application/x-www-form-urlencoded", "text=eyJone%0D%0Aeyjtwo",
	    cookie, NULL, NULL), 403);
	/* With a wrong one, or from another site: refused too. */
	/* (its last digit changed: a fixed '0' would match 1 time in 16) */
	snprintf(body, sizeof(body), "text=eyJone&csrf=%.63s%c", csrf,
	    csrf[63] == '0' ? '1' : '0');
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload",
	    "application/x-www-form-urlencoded", body, cookie, NULL, NULL),
	    403);
	snprintf(body, sizeof(body), "text=eyJone&csrf=%s", csrf);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload",
	    "application/x-www-form-urlencoded", body, cookie, NULL,
	    "cross-site"), 403);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/error", NULL, NULL, NULL,
	    "Bearer code-1", NULL), 200);
	ck_assert_int_eq(serve(&f, "GET", "/tokens", NULL, NULL, NULL,
	    "Bearer code-1", NULL), 200);
	o = body_json(&f);
	ck_assert(json_object_object_get_ex(o, "total", &x));
	ck_assert_int_eq(json_object_get_int(x), 0);
	json_object_put(o);

	/* With it: 303 back with a flash, and the pool has both. */
	snprintf(body, sizeof(body), "csrf=%s&text=eyJone%%0D%%0Aeyjtwo%%0D%%0A"
	    "%%23comment%%0D%%0Ahas+space", csrf);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload",
	    "application/x-www-form-urlencoded", body, cookie, NULL,
	    "same-origin"), 303);
	ck_assert_str_eq(header(&f, "Location", v, sizeof(v)),
	    "/tokens?m=added&a=2&d=0&s=1");
	ck_assert_int_eq(serve(&f, "GET", "/tokens?m=added&a=2&d=0&s=1", NULL,
	    NULL, cookie, NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(f.out, "<b id=\"count-active\">2</b>"));
	ck_assert_ptr_nonnull(strstr(f.out, "2 added, 0 already in the pool, "
	    "1 skipped"));
	/* Secrets never appear on the page. */
	ck_assert_ptr_null(strstr(f.out, "eyJone"));
	ck_assert_ptr_null(strstr(f.out, "eyjtwo"));

	/* Clear needs its confirm box in a browser form. */
	snprintf(body, sizeof(body), "csrf=%s", csrf);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/clear",
	    "application/x-www-form-urlencoded", body, cookie, NULL, NULL),
	    303);
	ck_assert_str_eq(header(&f, "Location", v, sizeof(v)),
	    "/tokens?m=confirm#danger");
	snprintf(body, sizeof(body), "csrf=%s&confirm=yes", csrf);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/clear",
	    "application/x-www-form-urlencoded", body, cookie, NULL, NULL),
	    303);
	ck_assert_str_eq(header(&f, "Location", v, sizeof(v)),
	    "/tokens?m=cleared&a=2");

	/* Logout deletes the cookie. */
	snprintf(body, sizeof(body), "csrf=%s", csrf);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/logout",
	    "application/x-www-form-urlencoded", body, cookie, NULL, NULL),
	    303);
	ck_assert_ptr_nonnull(header(&f, "Set-Cookie", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "c2a_admin=;"));
	ck_assert_ptr_nonnull(strstr(v, "Max-Age=0"));
	/* A copy of the old cookie is dead too: revoked server-side. */
	ck_assert_int_eq(serve(&f, "GET", "/tokens", NULL, NULL, cookie, NULL,
	    NULL), 200);
	ck_assert_ptr_nonnull(strstr(f.out, "id=\"login-form\""));
	snprintf(body, sizeof(body), "confirm=yes&csrf=%s", csrf);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/clear",
	    "application/x-www-form-urlencoded", body, cookie, NULL, NULL),
	    303);
	ck_assert_str_eq(header(&f, "Location", v, sizeof(v)),
	    "/tokens?m=session");
	/* A form without any session goes back to the login page. */
	ck_assert_int_eq(serve(&f, "POST", "/tokens/clear",
	    "application/x-www-form-urlencoded", "confirm=yes", NULL, NULL,
	    NULL), 303);
	ck_assert_str_eq(header(&f, "Location", v, sizeof(v)),
	    "/tokens?m=session");
}
END_TEST

static void
assert_error(struct fake *f, const char *code)
{
	struct json_object *o = body_json(f), *e, *v;

	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "error", &e));
	ck_assert(json_object_object_get_ex(e, "message", &v));
	ck_assert(json_object_object_get_ex(e, "type", &v));
	ck_assert(json_object_object_get_ex(e, "param", &v));
	ck_assert(json_object_object_get_ex(e, "code", &v));
	ck_assert_str_eq(json_object_get_string(v), code);
	json_object_put(o);
}

START_TEST(e2e_bearer_json)
{
	static struct fake f;
	struct json_object *o, *v;
	char big[64], w[256];

	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload", "application/json",
	    "{\"tokens\":[\"eyJa\"]}", NULL, "Bearer code-9", NULL), 401);
	assert_error(&f, "invalid_api_key");
	ck_assert_ptr_nonnull(header(&f, "WWW-Authenticate", w, sizeof(w)));
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload", "application/json",
	    "{\"tokens\":[\"eyJa\"]}", NULL, NULL, NULL), 401);
	assert_error(&f, "missing_authorization");

	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload", "application/json",
	    "{\"tokens\":[\"eyJa\",\"eyJb\",\"eyJa\"]}", NULL, "Bearer code-1",
	    NULL), 200);
	o = body_json(&f);
	ck_assert(json_object_object_get_ex(o, "added", &v));
	ck_assert_int_eq(json_object_get_int(v), 2);
	ck_assert(json_object_object_get_ex(o, "duplicates", &v));
	ck_assert_int_eq(json_object_get_int(v), 1);
	ck_assert(json_object_object_get_ex(o, "tokens_count", &v));
	ck_assert_int_eq(json_object_get_int(v), 2);
	json_object_put(o);
	/* A form body with a Bearer gets JSON and needs no CSRF. */
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload",
	    "application/x-www-form-urlencoded", "text=rt-abc%0Aeyjc", NULL,
	    "Bearer code-2", NULL), 200);
	o = body_json(&f);
	ck_assert(json_object_object_get_ex(o, "tokens_count", &v));
	ck_assert_int_eq(json_object_get_int(v), 4);
	json_object_put(o);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload", "text/plain",
	    "eyJd\r\n", NULL, "Bearer code-2", NULL), 200);

	/* Malformed input: 400, 415. */
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload", "application/json",
	    "{\"tokens\":[\"a\\nb\"]}", NULL, "Bearer code-1", NULL), 400);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload", "application/json",
	    "[1]", NULL, "Bearer code-1", NULL), 400);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload",
	    "multipart/form-data; boundary=x", "--x--", NULL, "Bearer code-1",
	    NULL), 415);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload",
	    "application/x-www-form-urlencoded", "other=1", NULL,
	    "Bearer code-1", NULL), 400);

	ck_assert_int_eq(serve(&f, "POST", "/tokens/error", "application/json",
	    "{}", NULL, "Bearer code-1", NULL), 200);
	o = body_json(&f);
	ck_assert(json_object_object_get_ex(o, "error_tokens", &v));
	ck_assert_int_eq(json_object_array_length(v), 0);
	json_object_put(o);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/remove", "application/json",
	    "{\"fingerprint\":\"000000000000\"}", NULL, "Bearer code-1", NULL),
	    404);
	snprintf(big, sizeof(big), "{\"id\":\"%s\"}", "zz");
	ck_assert_int_eq(serve(&f, "POST", "/tokens/remove", "application/json",
	    big, NULL, "Bearer code-1", NULL), 400);
	ck_assert_int_eq(serve(&f, "POST", "/seed_tokens/clear", NULL, NULL,
	    NULL, "Bearer code-1", NULL), 200);
	o = body_json(&f);
	ck_assert(json_object_object_get_ex(o, "seed_tokens_count", &v));
	ck_assert_int_eq(json_object_get_int(v), 0);
	json_object_put(o);
	ck_assert_int_eq(serve(&f, "POST", "/tokens/clear", NULL, NULL, NULL,
	    "Bearer code-1", NULL), 200);
	o = body_json(&f);
	ck_assert(json_object_object_get_ex(o, "tokens_count", &v));
	ck_assert_int_eq(json_object_get_int(v), 0);
	ck_assert(json_object_object_get_ex(o, "status", &v));
	ck_assert_str_eq(json_object_get_string(v), "success");
	json_object_put(o);
}
END_TEST

START_TEST(e2e_limits)
{
	static struct fake f;
	char *body;
	size_t i, n = 10001 * 5;

	/* 10001 lines: 413 before anything is stored. */
	body = malloc(n + 16);
	memcpy(body, "text=", 5);
	for (i = 0; i < 10001; i++)
		memcpy(body + 5 + i * 5, "a%0Ab", 5);
	body[5 + n] = '\0';
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload",
	    "application/x-www-form-urlencoded", body, NULL, "Bearer code-1",
	    NULL), 413);
	assert_error(&f, "too_many_lines");
	free(body);
	/* Over 1 MiB. */
	n = (1u << 20) + 10;
	body = malloc(n + 1);
	memset(body, 'a', n);
	body[n] = '\0';
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload", "text/plain",
	    body, NULL, "Bearer code-1", NULL), 413);
	assert_error(&f, "upload_too_large");
	free(body);
}
END_TEST

START_TEST(e2e_disabled)
{
	static struct fake f;
	struct strlist keep = full.authorization;

	full.authorization.n = 0;
	ck_assert_int_eq(serve(&f, "GET", "/tokens", NULL, NULL, NULL, NULL,
	    NULL), 403);
	ck_assert_ptr_nonnull(strstr(f.out, "AUTHORIZATION="));
	ck_assert_ptr_null(strstr(f.out, "<form"));
	ck_assert_int_eq(serve(&f, "POST", "/tokens/upload", "application/json",
	    "{\"text\":\"eyJa\"}", NULL, "Bearer code-1", NULL), 403);
	assert_error(&f, "admin_disabled");
	ck_assert_int_eq(serve(&f, "POST", "/tokens/login",
	    "application/x-www-form-urlencoded", "code=", NULL, NULL, NULL),
	    403);
	full.authorization = keep;
}
END_TEST

START_TEST(e2e_prefix)
{
	static struct fake f;
	char err[256], v[256];

	config_free(&full);
	setenv("API_PREFIX", "secret", 1);
	setenv("CHAT2API_MOUNT", "/pfx", 1);
	ck_assert_int_eq(config_load(&full, err, sizeof(err)), 0);
	unsetenv("API_PREFIX");
	unsetenv("CHAT2API_MOUNT");
	/* Both under the prefix and at the root; links follow the way in. */
	ck_assert_int_eq(serve(&f, "GET", "/pfx/secret/tokens", NULL, NULL,
	    NULL, NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(f.out,
	    "action=\"/pfx/secret/tokens/login\""));
	ck_assert_int_eq(serve(&f, "GET", "/pfx/tokens", NULL, NULL, NULL,
	    NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(f.out, "action=\"/pfx/tokens/login\""));
	ck_assert_int_eq(serve(&f, "POST", "/pfx/secret/tokens/login",
	    "application/x-www-form-urlencoded", "code=code-1", NULL, NULL,
	    NULL), 303);
	ck_assert_str_eq(header(&f, "Location", v, sizeof(v)),
	    "/pfx/secret/tokens?m=login");
	ck_assert_ptr_nonnull(header(&f, "Set-Cookie", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "; Path=/pfx/;"));
	ck_assert_int_eq(serve(&f, "POST", "/pfx/secret/seed_tokens/clear",
	    NULL, NULL, NULL, "Bearer code-1", NULL), 200);
}
END_TEST

static Suite *
admin_auth_suite(void)
{
	Suite *s = suite_create("admin_auth");
	TCase *tc = tcase_create("core"), *e2e = tcase_create("e2e");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, code_compare);
	tcase_add_test(tc, session_roundtrip);
	tcase_add_test(tc, session_tampering);
	tcase_add_test(tc, session_bound_to_code);
	tcase_add_test(tc, csrf_tokens);
	tcase_add_test(tc, cookie_header);
	tcase_add_test(tc, bearer_header);
	tcase_add_test(tc, check_request);
	tcase_add_test(tc, cookie_attributes);
	tcase_add_test(tc, fetch_site_header);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(e2e, setup_full, teardown_full);
	tcase_set_timeout(e2e, 30);
	tcase_add_test(e2e, e2e_login_and_forms);
	tcase_add_test(e2e, e2e_bearer_json);
	tcase_add_test(e2e, e2e_limits);
	tcase_add_test(e2e, e2e_disabled);
	tcase_add_test(e2e, e2e_prefix);
	suite_add_tcase(s, e2e);
	return s;
}

UNIT_MAIN_BACKENDS(admin_auth_suite)
