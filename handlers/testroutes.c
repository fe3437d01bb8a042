/*
 * Routes for the integration tests, off unless CHAT2API_TEST_ROUTES=1:
 * /_test/echo shows what the front server handed over (the Authorization
 * header only as a digest), /_test/sse emits timed events.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fcgi/resp.h"
#include "handlers/handlers.h"

#define SSE_TEST_MAX_EVENTS	1000
#define SSE_TEST_MAX_INTERVAL	60000

enum app_err
h_test_echo(struct req *r, const char *rest)
{
	struct json_object *o, *auth, *body = NULL, *model;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char hex[17];
	enum app_err e;

	(void)rest;
	if (r->body_len > 0 && r->content_type != NULL &&
	    strncmp(r->content_type, "application/json", 16) == 0) {
		body = json_tokener_parse(r->body);
		if (body == NULL)
			return resp_error(r, 400, "invalid_request_error",
			    "invalid_json", NULL, "The body is not valid "
			    "JSON.");
		if (json_object_object_get_ex(body, "model", &model) &&
		    json_object_is_type(model, json_type_string))
			r->model = arena_strdup(r->arena,
			    json_object_get_string(model));
		json_object_put(body);
	}
	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "method", json_object_new_string(r->method));
	json_object_object_add(o, "path", json_object_new_string(r->path));
	json_object_object_add(o, "query", json_object_new_string(r->query));
	auth = json_object_new_object();
	json_object_object_add(auth, "present",
	    json_object_new_boolean(r->auth != NULL));
	if (r->auth != NULL) {
		EVP_Digest(r->auth, strlen(r->auth), md, &mdlen, EVP_sha256(),
		    NULL);
		for (i = 0; i < 8; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		json_object_object_add(auth, "fingerprint",
		    json_object_new_string(hex));
	}
	json_object_object_add(o, "authorization", auth);
	json_object_object_add(o, "body_length",
	    json_object_new_int64((int64_t)r->body_len));
	json_object_object_add(o, "content_type", r->content_type ?
	    json_object_new_string(r->content_type) : NULL);
	json_object_object_add(o, "model", r->model ?
	    json_object_new_string(r->model) : NULL);
	e = resp_json(r, 200, o);
	json_object_put(o);
	return e;
}

static long
query_long(struct req *r, const char *key, long def, long min, long max)
{
	const char *v = req_query_get(r, key);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < min || n > max)
		return -1;
	return n;
}

enum app_err
h_test_sse(struct req *r, const char *rest)
{
	char buf[64];
	long n, interval, i;
	enum app_err e;
	int len;

	(void)rest;
	n = query_long(r, "n", 5, 1, SSE_TEST_MAX_EVENTS);
	interval = query_long(r, "interval_ms", 100, 0, SSE_TEST_MAX_INTERVAL);
	if (n < 0 || interval < 0)
		return resp_error(r, 400, "invalid_request_error",
		    "invalid_value", NULL, "n must be 1..%d and interval_ms "
		    "0..%d.", SSE_TEST_MAX_EVENTS, SSE_TEST_MAX_INTERVAL);
	if ((e = resp_sse_start(r)) != APP_OK)
		return e;
	for (i = 0; i < n; i++) {
		if (i > 0 && (e = resp_sse_wait(r, interval)) != APP_OK)
			return e;
		len = snprintf(buf, sizeof(buf), "{\"i\":%ld,\"ms\":%lld}", i,
		    req_elapsed_ms(r));
		if ((e = resp_sse_data(r, buf, (size_t)len)) != APP_OK)
			return e;
	}
	return resp_sse_done(r);
}
