/*
 * The request layer end to end, in memory: a fake transport feeds params
 * and a body and captures the CGI-style response.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi/conf.h"
#include "fcgi/handle.h"
#include "fcgi/jstrict.h"
#include "fcgi/resp.h"
#include "fcgi/utf8.h"
#include "fcgi/router.h"
#include "unit.h"

struct fake {
	const char	**params;	/* name, value, ..., NULL */
	const char	 *body;
	size_t		  body_len, body_off;
	char		  out[65536];
	size_t		  out_len;
	int		  fail_writes;
};

static int
f_write(struct req *r, const char *b, size_t n)
{
	struct fake *f = r->io_ctx;

	if (f->fail_writes || f->out_len + n >= sizeof(f->out))
		return -1;
	memcpy(f->out + f->out_len, b, n);
	f->out_len += n;
	f->out[f->out_len] = '\0';
	return 0;
}

static int
f_flush(struct req *r)
{
	return ((struct fake *)r->io_ctx)->fail_writes ? -1 : 0;
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

	/* Trickle: at most 7 bytes per read, like a slow front server. */
	if (n > left)
		n = left;
	if (n > 7)
		n = 7;
	if (n > 0)		/* no body at all: body is NULL */
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

static struct config cfg;

static int
run(struct fake *f)
{
	struct arena a;
	struct req r;
	int status = 0;

	arena_init(&a, 0);
	memset(&r, 0, sizeof(r));
	r.io = &fake_io;
	r.io_ctx = f;
	r.arena = &a;
	r.cfg = &cfg;
	fcgi_handle(&r);
	arena_free(&a);
	if (sscanf(f->out, "Status: %d", &status) != 1)
		return -1;
	return status;
}

static struct json_object *
body_json(struct fake *f)
{
	char *b = strstr(f->out, "\r\n\r\n");

	return b ? json_tokener_parse(b + 4) : NULL;
}

/* The OpenAI error envelope with all four keys. */
static void
assert_error_shape(struct fake *f, const char *code)
{
	struct json_object *o = body_json(f), *e, *v;

	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "error", &e));
	ck_assert(json_object_object_get_ex(e, "message", &v));
	ck_assert(json_object_is_type(v, json_type_string));
	ck_assert(json_object_object_get_ex(e, "type", &v));
	ck_assert(json_object_object_get_ex(e, "param", &v));
	ck_assert(json_object_object_get_ex(e, "code", &v));
	ck_assert_str_eq(json_object_get_string(v), code);
	json_object_put(o);
}

static void
setup(void)
{
	char err[256];

	unsetenv("API_PREFIX");
	unsetenv("CHAT2API_MOUNT");
	setenv("CHAT2API_TEST_ROUTES", "1", 1);
	setenv("CHAT2API_MAX_BODY", "1024", 1);
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), 0);
}

static void
teardown(void)
{
	config_free(&cfg);
}

START_TEST(health_and_404)
{
	const char *p1[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/health?x=1", NULL };
	const char *p2[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/nope", NULL };
	struct fake f = { .params = p1 }, g = { .params = p2 };

	ck_assert_int_eq(run(&f), 200);
	ck_assert_ptr_nonnull(strstr(f.out, "\"status\":\"ok\""));
	ck_assert_int_eq(run(&g), 404);
	assert_error_shape(&g, "not_found");
}
END_TEST

static const char *bad_paths[] = { "/v1/../stats", "/v1/%2e%2e/stats",
	"/v1/models%00", "/v1/%0a", "relative", "/a/%zz", "/a/%4", "/./health" };

START_TEST(bad_path)
{
	const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    bad_paths[_i], NULL };
	struct fake f = { .params = p };

	ck_assert_int_eq(run(&f), 400);
	assert_error_shape(&f, "invalid_path");
}
END_TEST

START_TEST(method_not_allowed)
{
	const char *p[] = { "REQUEST_METHOD", "POST", "REQUEST_URI",
	    "/health", NULL };
	struct fake f = { .params = p };

	ck_assert_int_eq(run(&f), 405);
	ck_assert_ptr_nonnull(strstr(f.out, "Allow: GET, OPTIONS\r\n"));
	assert_error_shape(&f, "method_not_allowed");
}
END_TEST

START_TEST(options_preflight)
{
	const char *p[] = { "REQUEST_METHOD", "OPTIONS", "REQUEST_URI",
	    "/v1/chat/completions", NULL };
	struct fake f = { .params = p };

	ck_assert_int_eq(run(&f), 204);
	ck_assert_ptr_nonnull(strstr(f.out,
	    "Access-Control-Allow-Origin: *\r\n"));
	ck_assert_ptr_nonnull(strstr(f.out, "Access-Control-Allow-Headers:"));
}
END_TEST

START_TEST(body_limits)
{
	static char big[2048];
	const char *p1[] = { "REQUEST_METHOD", "POST", "REQUEST_URI",
	    "/_test/echo", "CONTENT_LENGTH", "2048", NULL };
	const char *p2[] = { "REQUEST_METHOD", "POST", "REQUEST_URI",
	    "/_test/echo", NULL };			/* chunked: no length */
	const char *p3[] = { "REQUEST_METHOD", "POST", "REQUEST_URI",
	    "/_test/echo", "CONTENT_LENGTH", "1000", "CONTENT_TYPE",
	    "application/json", NULL };
	const char *p4[] = { "REQUEST_METHOD", "POST", "REQUEST_URI",
	    "/_test/echo", "CONTENT_LENGTH", "abc", NULL };
	struct fake f = { .params = p1, .body = big, .body_len = 2048 };
	struct fake g = { .params = p2, .body = big, .body_len = 2048 };
	struct fake h = { .params = p3, .body = big, .body_len = 1000 };
	struct fake k = { .params = p4, .body = "", .body_len = 0 };

	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"model\":\"m\"}", 13);
	ck_assert_int_eq(run(&f), 413);
	assert_error_shape(&f, "request_too_large");
	ck_assert_int_eq(run(&g), 413);
	ck_assert_int_eq(run(&h), 200);
	ck_assert_ptr_nonnull(strstr(h.out, "\"body_length\":1000"));
	ck_assert_ptr_nonnull(strstr(h.out, "\"model\":\"m\""));
	ck_assert_int_eq(run(&k), 400);
}
END_TEST

START_TEST(bad_json)
{
	const char *p[] = { "REQUEST_METHOD", "POST", "REQUEST_URI",
	    "/_test/echo", "CONTENT_LENGTH", "5", "CONTENT_TYPE",
	    "application/json", NULL };
	struct fake f = { .params = p, .body = "{\"a\":", .body_len = 5 };

	ck_assert_int_eq(run(&f), 400);
	assert_error_shape(&f, "invalid_json");
}
END_TEST

START_TEST(api_prefix_and_mount)
{
	const char *p1[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/mnt/secret/v1/models", NULL };
	const char *p2[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/mnt/v1/models", NULL };
	const char *p3[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/mnt/health", NULL };
	const char *p4[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/mnt/secretx/v1/models", NULL };
	struct fake f = { .params = p1 }, g = { .params = p2 },
	    h = { .params = p3 }, k = { .params = p4 };
	char err[256];

	config_free(&cfg);
	setenv("API_PREFIX", "secret", 1);
	setenv("CHAT2API_MOUNT", "/mnt", 1);
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(run(&f), 200);
	ck_assert_int_eq(run(&g), 404);
	ck_assert_int_eq(run(&h), 200);
	ck_assert_int_eq(run(&k), 404);
}
END_TEST

START_TEST(models_get)
{
	const char *p1[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/v1/models/gpt-4o", NULL };
	const char *p2[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/v1/models/nope", NULL };
	const char *p3[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/v1/models/a/b", NULL };
	struct fake f = { .params = p1 }, g = { .params = p2 },
	    h = { .params = p3 };

	ck_assert_int_eq(run(&f), 200);
	ck_assert_ptr_nonnull(strstr(f.out, "\"object\":\"model\""));
	ck_assert_int_eq(run(&g), 404);
	assert_error_shape(&g, "model_not_found");
	ck_assert_int_eq(run(&h), 404);
}
END_TEST

START_TEST(test_routes_off)
{
	const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/_test/sse", NULL };
	struct fake f = { .params = p };

	cfg.test_routes = 0;
	ck_assert_int_eq(run(&f), 404);
}
END_TEST

START_TEST(sse_events_and_hup)
{
	const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/_test/sse?n=3&interval_ms=0", NULL };
	const char *q[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/_test/sse?n=0", NULL };
	struct fake f = { .params = p }, g = { .params = p, .fail_writes = 1 },
	    h = { .params = q };

	ck_assert_int_eq(run(&f), 200);
	ck_assert_ptr_nonnull(strstr(f.out, "text/event-stream"));
	ck_assert_ptr_nonnull(strstr(f.out, "data: {\"i\":2,"));
	ck_assert_ptr_nonnull(strstr(f.out, "data: [DONE]\n\n"));
	ck_assert_int_eq(run(&g), -1);	/* nothing written, no crash */
	ck_assert_int_eq(run(&h), 400);
}
END_TEST

START_TEST(router_table)
{
	const struct route *rt = NULL;
	const char *rest = NULL;
	char allow[64];

	ck_assert_int_eq(router_match(handler_routes, handler_nroutes, &cfg,
	    "HEAD", "/health", &rt, &rest, allow, sizeof(allow)), ROUTE_FOUND);
	ck_assert_int_eq(router_match(handler_routes, handler_nroutes, &cfg,
	    "GET", "/v1/models/", &rt, &rest, allow, sizeof(allow)),
	    ROUTE_NOPATH);
	ck_assert_int_eq(router_match(handler_routes, handler_nroutes, &cfg,
	    "GET", "/v1/models/x", &rt, &rest, allow, sizeof(allow)),
	    ROUTE_FOUND);
	ck_assert_str_eq(rest, "x");
	ck_assert_int_eq(router_method_in("GET POST", "POST"), 1);
	ck_assert_int_eq(router_method_in("GET POST", "POS"), 0);
	ck_assert_int_eq(router_method_in("GETX", "GET"), 0);
}
END_TEST

/*
 * Raw bytes from a client (path, query, header, body) come back as
 * U+FFFD: every JSON body is strict JSON in strict UTF-8.
 */
START_TEST(json_is_utf8)
{
	const char *p1[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/%ff%fe", NULL };
	const char *p2[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
	    "/_test/echo?q=\xff\xfe", "CONTENT_TYPE", "text/\xc0\xaf",
	    NULL };
	struct fake f = { .params = p1 }, g = { .params = p2 };
	struct fake *all[] = { &f, &g };
	const char *b;
	size_t i;

	ck_assert_int_eq(run(&f), 404);
	ck_assert_int_eq(run(&g), 200);
	for (i = 0; i < 2; i++) {
		b = strstr(all[i]->out, "\r\n\r\n") + 4;
		ck_assert_int_eq(jstrict_check(b, strlen(b), 8, NULL),
		    JSTRICT_OK);
		ck_assert_ptr_nonnull(strstr(b, "\xef\xbf\xbd\xef\xbf\xbd"));
	}
	assert_error_shape(&f, "not_found");
}
END_TEST

START_TEST(utf8_repair)
{
	struct arena a;
	const char *ok = "caf\xc3\xa9", *out;
	size_t n;

	arena_init(&a, 0);
	ck_assert_uint_eq(utf8_valid_prefix(ok, 5), 5);
	ck_assert_uint_eq(utf8_valid_prefix("ab\xe4\xbd", 4), 2);
	ck_assert_ptr_eq(resp_utf8(&a, ok, 5, &n), ok);	/* no copy */
	ck_assert_uint_eq(n, 5);
	out = resp_utf8(&a, "\"a\xff\xed\xa0\x80\"", 7, &n);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(n, 3 + 4 * 3);
	ck_assert_mem_eq(out, "\"a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\"", n);
	arena_free(&a);
}
END_TEST

static Suite *
handle_suite(void)
{
	Suite *s = suite_create("handle");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, health_and_404);
	tcase_add_loop_test(tc, bad_path, 0,
	    sizeof(bad_paths) / sizeof(bad_paths[0]));
	tcase_add_test(tc, method_not_allowed);
	tcase_add_test(tc, options_preflight);
	tcase_add_test(tc, body_limits);
	tcase_add_test(tc, bad_json);
	tcase_add_test(tc, api_prefix_and_mount);
	tcase_add_test(tc, models_get);
	tcase_add_test(tc, test_routes_off);
	tcase_add_test(tc, sse_events_and_hup);
	tcase_add_test(tc, router_table);
	tcase_add_test(tc, json_is_utf8);
	tcase_add_test(tc, utf8_repair);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(handle_suite)
