/*
 * Admin authentication end to end: the /tokens login, forms, Bearer
 * JSON, limits, a disabled console and API_PREFIX, each request through
 * fcgi_handle() with an in-memory transport and a real store.
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
#include "admin_fixture.h"
#include "tests/unit/store_backend.h"
#include "unit.h"

static struct config full;

static void
setup_full(void)
{
	char err[256];

	admin_setup();
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
	admin_teardown();
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
admin_auth_e2e_suite(void)
{
	Suite *s = suite_create("admin_auth_e2e");
	TCase *e2e = tcase_create("e2e");

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

UNIT_MAIN_BACKENDS(admin_auth_e2e_suite)
