/*
 * What the gateway lets through and how it reads paths: the request
 * header allow-list (no cookie, no identity header of the browser), the
 * response headers kept by body kind, header values, the body kinds, the
 * site's routes (main site and another base), conversation ids in paths,
 * the seed list's JSON, and the shape of a login.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "handlers/gateway.h"
#include "unit.h"

/* ------------------------------------------------------------ a request */

static const char *const *params;

static const char *
param(struct req *r, const char *name)
{
	const char *const *p;

	(void)r;
	for (p = params; p != NULL && *p != NULL; p += 2)
		if (strcmp(p[0], name) == 0)
			return p[1];
	return NULL;
}

static const struct req_io io = { NULL, NULL, param, NULL, NULL };

START_TEST(forwarded)
{
	static const char *const yes[] = { "accept", "Content-Type",
	    "OAI-Language", "oai-echo-logs", "sec-fetch-mode",
	    "openai-sentinel-proof-token",
	    "openai-sentinel-chat-requirements-token",
	    "OpenAI-Sentinel-Turnstile-Token", "x-conduit-token" };
	static const char *const no[] = { "cookie", "authorization",
	    "user-agent", "host", "oai-device-id", "accept-language",
	    "accept-encoding", "origin", "referer", "x-forwarded-for",
	    "chatgpt-account-id", "content-length", "connection", "upgrade",
	    "x-real-ip", "forwarded", "" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(gw_hdr_forwarded(yes[i]), "%s", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(!gw_hdr_forwarded(no[i]), "%s", no[i]);
}
END_TEST

START_TEST(collected)
{
	static const char *const p[] = {
		"HTTP_ACCEPT", "text/event-stream",
		"HTTP_COOKIE", "token=seed; c2a_admin=x",
		"HTTP_AUTHORIZATION", "Bearer seed",
		"HTTP_USER_AGENT", "browser",
		"HTTP_OAI_DEVICE_ID", "browser-device",
		"HTTP_OAI_LANGUAGE", "de-DE",
		"HTTP_OPENAI_SENTINEL_PROOF_TOKEN", "gAAAAABproof",
		"HTTP_SEC_FETCH_SITE", "same-origin\r\nX-Evil: 1",
		"HTTP_X_CONDUIT_TOKEN", "",
		NULL };
	struct arena a;
	struct config cfg;
	struct req r;
	struct call_hdrs h;
	size_t i;

	arena_init(&a, 0);
	memset(&r, 0, sizeof(r));
	memset(&cfg, 0, sizeof(cfg));
	r.io = &io;
	r.arena = &a;
	r.cfg = &cfg;
	r.content_type = "application/json";
	params = p;
	call_hdrs_init(&h, &a);
	gw_hdr_put(&h, "accept: */*");
	gw_hdr_put(&h, "user-agent: ours");
	gw_hdr_put(&h, "authorization: Bearer real");
	gw_hdr_collect(&r, &h, 0);
	ck_assert_int_eq(h.n, 6);
	ck_assert_str_eq(h.v[0], "accept: text/event-stream");	/* replaced */
	ck_assert_str_eq(h.v[1], "user-agent: ours");
	ck_assert_str_eq(h.v[2], "authorization: Bearer real");
	ck_assert_str_eq(h.v[3], "content-type: application/json");
	ck_assert_str_eq(h.v[4], "oai-language: de-DE");
	ck_assert_str_eq(h.v[5], "openai-sentinel-proof-token: gAAAAABproof");
	ck_assert_ptr_null(h.v[6]);
	for (i = 0; i < h.n; i++) {
		ck_assert_ptr_null(strstr(h.v[i], "seed"));
		ck_assert_ptr_null(strstr(h.v[i], "Evil"));
	}
	/* The server runs the sentinel: the browser's go. */
	call_hdrs_init(&h, &a);
	gw_hdr_collect(&r, &h, 1);
	for (i = 0; i < h.n; i++)
		ck_assert_ptr_null(strstr(h.v[i], "sentinel"));
	params = NULL;
	arena_free(&a);
}
END_TEST

START_TEST(kept_and_values)
{
	ck_assert(gw_hdr_kept("Content-Type", GW_BODY_TEXT));
	ck_assert(gw_hdr_kept("cache-control", GW_BODY_SSE));
	ck_assert(gw_hdr_kept("Expires", GW_BODY_TEXT));
	ck_assert(gw_hdr_kept("content-disposition", GW_BODY_MEDIA));
	ck_assert(!gw_hdr_kept("etag", GW_BODY_TEXT));
	ck_assert(gw_hdr_kept("ETag", GW_BODY_MEDIA));
	ck_assert(gw_hdr_kept("accept-ranges", GW_BODY_BINARY));
	ck_assert(!gw_hdr_kept("set-cookie", GW_BODY_MEDIA));
	ck_assert(!gw_hdr_kept("content-length", GW_BODY_MEDIA));
	ck_assert(!gw_hdr_kept("content-encoding", GW_BODY_BINARY));
	ck_assert(!gw_hdr_kept("strict-transport-security", GW_BODY_TEXT));
	ck_assert(!gw_hdr_kept("access-control-allow-origin", GW_BODY_TEXT));
	ck_assert(gw_hdr_value_ok("text/html; charset=utf-8", 24));
	ck_assert(gw_hdr_value_ok("a\tb", 3));
	ck_assert(!gw_hdr_value_ok("a\r\nb", 4));
	ck_assert(!gw_hdr_value_ok("a\nb", 3));
	ck_assert(!gw_hdr_value_ok("a\0b", 3));
}
END_TEST

START_TEST(body_kinds)
{
	ck_assert_int_eq(gw_body_kind("text/event-stream; charset=utf-8"),
	    GW_BODY_SSE);
	ck_assert_int_eq(gw_body_kind("application/octet-stream"),
	    GW_BODY_BINARY);
	ck_assert_int_eq(gw_body_kind("image/png"), GW_BODY_MEDIA);
	ck_assert_int_eq(gw_body_kind("image/svg+xml"), GW_BODY_MEDIA);
	ck_assert_int_eq(gw_body_kind("audio/mpeg"), GW_BODY_MEDIA);
	ck_assert_int_eq(gw_body_kind("Video/MP4"), GW_BODY_MEDIA);
	ck_assert_int_eq(gw_body_kind("text/html; charset=utf-8"),
	    GW_BODY_TEXT);
	ck_assert_int_eq(gw_body_kind("application/json"), GW_BODY_TEXT);
	ck_assert_int_eq(gw_body_kind("application/javascript"),
	    GW_BODY_TEXT);
	ck_assert_int_eq(gw_body_kind("application/problem+json"),
	    GW_BODY_TEXT);
	ck_assert_int_eq(gw_body_kind("font/woff2"), GW_BODY_BINARY);
	ck_assert_int_eq(gw_body_kind("application/wasm"), GW_BODY_BINARY);
	ck_assert_int_eq(gw_body_kind("application/pdf"), GW_BODY_BINARY);
	ck_assert_int_eq(gw_body_kind(""), GW_BODY_BINARY);
	ck_assert_int_eq(gw_body_kind(NULL), GW_BODY_BINARY);
}
END_TEST

static void
route(const char *base, const char *path, enum site_kind kind,
    const char *want_base, const char *want_path)
{
	struct site_target t;

	if (kind == SITE_NONE) {
		ck_assert_int_eq(site_route(base, path, &t), -1);
		return;
	}
	ck_assert_int_eq(site_route(base, path, &t), 0);
	ck_assert_int_eq(t.kind, kind);
	ck_assert_str_eq(t.base, want_base);
	ck_assert_str_eq(t.path, want_path);
}

START_TEST(routes)
{
	const char *m = "https://chatgpt.com", *o = "http://127.0.0.1:9";

	route(m, "/backend-api/me", SITE_BACKEND, m, "/backend-api/me");
	route(m, "/backend-anon/x", SITE_BACKEND, m, "/backend-anon/x");
	route(m, "/public-api/gizmos", SITE_BACKEND, m, "/public-api/gizmos");
	route(m, "/api/auth/session", SITE_BACKEND, m, "/api/auth/session");
	route(m, "/assets/a.js", SITE_ASSET, "https://cdn.oaistatic.com",
	    "/assets/a.js");
	route(m, "/_next/static/x.js", SITE_ASSET, "https://cdn.oaistatic.com",
	    "/_next/static/x.js");
	route(m, "/v1/initialize", SITE_STATSIG, "https://ab.chatgpt.com",
	    "/v1/initialize");
	route(m, "/ces/v1/t", SITE_CES, m, "/ces/v1/t");
	route(m, "/sandbox/s/x.html", SITE_SANDBOX,
	    "https://web-sandbox.oaiusercontent.com", "/s/x.html");
	route(m, "/file-abc", SITE_FILE, "https://files.oaiusercontent.com",
	    "/file-abc");
	/* Not the site's: the API's own /v1, pages, anything else. */
	route(m, "/v1/chat/completions", SITE_NONE, NULL, NULL);
	route(m, "/admin", SITE_NONE, NULL, NULL);
	route(m, "/", SITE_NONE, NULL, NULL);
	route(m, "backend-api/me", SITE_NONE, NULL, NULL);
	/* Another base serves everything itself, sandbox path and all. */
	route(o, "/assets/a.js", SITE_ASSET, o, "/assets/a.js");
	route(o, "/v1/initialize", SITE_STATSIG, o, "/v1/initialize");
	route(o, "/sandbox/s", SITE_SANDBOX, o, "/sandbox/s");
	route(o, "/file-x", SITE_FILE, o, "/file-x");
}
END_TEST

START_TEST(conversation_ids)
{
	struct arena a;
	const char *id;

	arena_init(&a, 0);
	id = gw_conv_id_of(&a, "/backend-api/conversation/"
	    "6a2b4c1d-0000-4000-8000-00000000000F");
	ck_assert_str_eq(id, "6a2b4c1d-0000-4000-8000-00000000000F");
	id = gw_conv_id_of(&a, "/backend-api/conversation/"
	    "6a2b4c1d-0000-4000-8000-000000000001/attachment/f/download");
	ck_assert_str_eq(id, "6a2b4c1d-0000-4000-8000-000000000001");
	id = gw_conv_id_of(&a, "/backend-api/f/conversation/"
	    "6a2b4c1d-0000-4000-8000-000000000001");
	ck_assert_ptr_nonnull(id);
	ck_assert_ptr_null(gw_conv_id_of(&a, "/backend-api/conversation"));
	ck_assert_ptr_null(gw_conv_id_of(&a, "/backend-api/conversation/"));
	ck_assert_ptr_null(gw_conv_id_of(&a, "/backend-api/conversation/init"));
	ck_assert_ptr_null(gw_conv_id_of(&a,
	    "/backend-api/f/conversation/resume"));
	ck_assert_ptr_null(gw_conv_id_of(&a, "/backend-api/conversation/"
	    "6a2b4c1d-0000-4000-8000-00000000000g"));
	ck_assert_ptr_null(gw_conv_id_of(&a, "/backend-api/conversations/"
	    "6a2b4c1d-0000-4000-8000-000000000001"));
	arena_free(&a);
}
END_TEST

START_TEST(list_json)
{
	struct seed_conv c[2];
	struct json_object *o, *items, *i0, *v;
	struct buf b;

	memset(c, 0, sizeof(c));
	strcpy(c[0].id, "c-2");
	strcpy(c[0].title, "He said \"hi\"\n</script> \xe2\x9c\x93");
	c[0].create_ms = 1896062400123LL;
	c[0].update_ms = 1896062401000LL;
	strcpy(c[1].id, "c-1");
	strcpy(c[1].gizmo_id, "g-abc");
	c[1].archived = 1;
	buf_init(&b, 0);
	ck_assert_int_eq(gw_conv_list_json(&b, c, 2, 7, 2, 4), 0);
	ck_assert_ptr_nonnull(o = json_tokener_parse(b.p));
	ck_assert(json_object_object_get_ex(o, "items", &items));
	ck_assert_int_eq(json_object_array_length(items), 2);
	i0 = json_object_array_get_idx(items, 0);
	json_object_object_get_ex(i0, "title", &v);
	ck_assert_str_eq(json_object_get_string(v), c[0].title);
	json_object_object_get_ex(i0, "create_time", &v);
	ck_assert_str_eq(json_object_get_string(v), "2030-01-31T04:00:00.123Z");
	json_object_object_get_ex(i0, "update_time", &v);
	ck_assert_str_eq(json_object_get_string(v), "2030-01-31T04:00:01.000Z");
	json_object_object_get_ex(i0, "gizmo_id", &v);
	ck_assert(json_object_is_type(v, json_type_null));
	json_object_object_get_ex(i0, "is_archived", &v);
	ck_assert(!json_object_get_boolean(v));
	i0 = json_object_array_get_idx(items, 1);
	json_object_object_get_ex(i0, "gizmo_id", &v);
	ck_assert_str_eq(json_object_get_string(v), "g-abc");
	json_object_object_get_ex(i0, "is_archived", &v);
	ck_assert(json_object_get_boolean(v));
	json_object_object_get_ex(o, "total", &v);
	ck_assert_int_eq(json_object_get_int(v), 7);
	json_object_object_get_ex(o, "limit", &v);
	ck_assert_int_eq(json_object_get_int(v), 2);
	json_object_object_get_ex(o, "offset", &v);
	ck_assert_int_eq(json_object_get_int(v), 4);
	json_object_object_get_ex(o, "has_missing_conversations", &v);
	ck_assert(!json_object_get_boolean(v));
	json_object_put(o);
	buf_reset(&b);
	ck_assert_int_eq(gw_conv_list_json(&b, c, 0, 0, 28, 0), 0);
	ck_assert_str_eq(b.p, "{\"items\":[],\"total\":0,\"limit\":28,"
	    "\"offset\":0,\"has_missing_conversations\":false}");
	buf_free(&b);
}
END_TEST

START_TEST(logins)
{
	ck_assert(gw_token_ok("eyJhbGciOi.x-y_z.sig", 20));
	ck_assert(gw_token_ok("rt_abc+/=", 9));
	ck_assert(!gw_token_ok("two words", 9));
	ck_assert(!gw_token_ok("a;b", 3));
	ck_assert(!gw_token_ok("a\"b", 3));
	ck_assert(!gw_token_ok("a,b", 3));
	ck_assert(!gw_token_ok("", 0));
	ck_assert(!gw_token_ok("a\0b", 3));
	ck_assert_int_eq(gw_classify("eyJhbGciOi.x.y"), GW_ACCESS);
	ck_assert_int_eq(gw_classify("fk-share"), GW_ACCESS);
	ck_assert_int_eq(gw_classify("rt_x"), GW_REFRESH);
	ck_assert_int_eq(gw_classify("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrs"),
	    GW_REFRESH);
	ck_assert_int_eq(gw_classify("my-seed"), GW_SEED);
	ck_assert_int_eq(gw_status_of(GW_UNKNOWN), 401);
	ck_assert_str_eq(gw_strerror(GW_UNKNOWN), "Invalid Seed");
	ck_assert_int_eq(gw_status_of(GW_NOPOOL), 503);
	ck_assert_int_eq(gw_status_of(GW_REFRESH_FAIL), 502);
	ck_assert_str_eq(gw_strerror(GW__MAX), "unknown error");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("gw_proxy");
	TCase *t = tcase_create("gateway");

	tcase_add_test(t, forwarded);
	tcase_add_test(t, collected);
	tcase_add_test(t, kept_and_values);
	tcase_add_test(t, body_kinds);
	tcase_add_test(t, routes);
	tcase_add_test(t, conversation_ids);
	tcase_add_test(t, list_json);
	tcase_add_test(t, logins);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
