/*
 * Admin authentication: code comparison, stateless sessions (signature,
 * expiry, code binding, key binding), CSRF tokens, cookie and Bearer
 * parsing, and a request's check.  The /tokens routes end to end:
 * test_admin_auth_e2e.c.
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

static Suite *
admin_auth_suite(void)
{
	Suite *s = suite_create("admin_auth");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, admin_setup, admin_teardown);
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
	return s;
}

UNIT_MAIN_BACKENDS(admin_auth_suite)
