#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "fcgi/resp.h"
#include "fcgi/utf8.h"

static const struct { int code; const char *text; } reasons[] = {
	{ 200, "OK" }, { 201, "Created" }, { 204, "No Content" },
	{ 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 408, "Request Timeout" }, { 409, "Conflict" },
	{ 413, "Payload Too Large" }, { 415, "Unsupported Media Type" },
	{ 422, "Unprocessable Entity" }, { 429, "Too Many Requests" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
};

const char *
resp_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == status)
			return reasons[i].text;
	return "Unknown";
}

enum app_err
resp_write(struct req *r, const char *buf, size_t len)
{
	if (r->hup)
		return APP_HUP;
	if (len && r->io->write(r, buf, len) < 0) {
		r->hup = 1;
		return APP_HUP;
	}
	/* LOG_BODIES: the response as the client got it, headers apart */
	if (r->obs.cap_armed && r->obs.cap_len < r->obs.cap_max) {
		if (len > r->obs.cap_max - r->obs.cap_len)
			len = r->obs.cap_max - r->obs.cap_len;
		memcpy(r->obs.cap + r->obs.cap_len, buf, len);
		r->obs.cap_len += len;
	}
	return APP_OK;
}

enum app_err
resp_flush(struct req *r)
{
	if (r->hup)
		return APP_HUP;
	if (r->io->flush(r) < 0) {
		r->hup = 1;
		return APP_HUP;
	}
	r->last_write_ms = req_now_ms();
	return APP_OK;
}

enum app_err
resp_start(struct req *r, int status, const char *ctype, const char *extra)
{
	char hdr[2048];
	enum app_err e;
	int n;

	if (r->headers_sent)
		return APP_OK;
	n = snprintf(hdr, sizeof(hdr),
	    "Status: %d %s\r\n"
	    "%s%s%s"
	    "Access-Control-Allow-Origin: %s\r\n"
	    "%s"
	    "\r\n",
	    status, resp_reason(status),
	    ctype ? "Content-Type: " : "", ctype ? ctype : "",
	    ctype ? "\r\n" : "",
	    r->cfg->cors_origin,
	    extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return APP_SYSTEM;
	r->headers_sent = 1;
	r->status = status;
	e = resp_write(r, hdr, (size_t)n);
	r->obs.cap_armed = r->obs.cap != NULL;
	return e;
}

enum app_err
resp_no_content(struct req *r)
{
	enum app_err e;

	/* Preflight: SDKs send Authorization and their own X-Stainless-*. */
	if ((e = resp_start(r, 204, NULL,
	    "Access-Control-Allow-Methods: GET, POST, PUT, PATCH, DELETE, "
	    "OPTIONS\r\n"
	    "Access-Control-Allow-Headers: *, Authorization, Content-Type\r\n"
	    "Access-Control-Max-Age: 86400\r\n")) != APP_OK)
		return e;
	return resp_flush(r);
}

const char *
resp_utf8(struct arena *a, const char *s, size_t n, size_t *outlen)
{
	struct buf b;
	char *out = NULL;

	*outlen = n;
	if (utf8_valid_prefix(s, n) == n)
		return s;
	buf_init(&b, 0);
	if (buf_add_utf8(&b, s, n, SIZE_MAX, 0) == 0 &&
	    (out = arena_alloc(a, b.len + 1)) != NULL) {
		memcpy(out, b.p, b.len);
		out[b.len] = '\0';
		*outlen = b.len;
	}
	buf_free(&b);
	return out;
}

enum app_err
resp_json_text(struct req *r, int status, const char *s, size_t len)
{
	enum app_err e;

	if ((s = resp_utf8(r->arena, s, len, &len)) == NULL)
		return APP_ENOMEM;
	if ((e = resp_start(r, status, "application/json", NULL)) != APP_OK ||
	    (e = resp_write(r, s, len)) != APP_OK ||
	    (e = resp_write(r, "\n", 1)) != APP_OK)
		return e;
	return resp_flush(r);
}

enum app_err
resp_json(struct req *r, int status, struct json_object *o)
{
	const char *s;
	size_t len;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL)
		return APP_ENOMEM;
	return resp_json_text(r, status, s, len);
}

struct json_object *
resp_error_object(const char *type, const char *code, const char *param,
    const char *msg)
{
	struct json_object *root = NULL, *err;
	struct buf m, pm;

	/* a message may quote a client's bytes: JSON wants UTF-8 */
	buf_init(&m, 0);
	buf_init(&pm, 0);
	if (buf_add_utf8(&m, msg, strlen(msg), SIZE_MAX, 0) < 0 ||
	    (param != NULL && buf_add_utf8(&pm, param, strlen(param),
	    SIZE_MAX, 0) < 0))
		goto out;
	if ((root = json_object_new_object()) == NULL)
		goto out;
	if ((err = json_object_new_object()) == NULL) {
		json_object_put(root);
		root = NULL;
		goto out;
	}
	json_object_object_add(root, "error", err);
	json_object_object_add(err, "message",
	    json_object_new_string_len(m.p ? m.p : "", (int)m.len));
	json_object_object_add(err, "type", json_object_new_string(type));
	json_object_object_add(err, "param", param ?
	    json_object_new_string_len(pm.p ? pm.p : "", (int)pm.len) : NULL);
	json_object_object_add(err, "code",
	    code ? json_object_new_string(code) : NULL);
out:
	buf_free(&m);
	buf_free(&pm);
	return root;
}

static enum app_err
resp_verror(struct req *r, int status, const char *extra, const char *type,
    const char *code, const char *param, const char *fmt, va_list ap)
{
	struct json_object *o;
	const char *s;
	char msg[1024];
	size_t len;
	enum app_err e;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (r->error_writer != NULL)
		return r->error_writer(r, status, extra, type, code, msg);
	if (r->headers_sent) {
		/* Too late for a status: a stream ends with an error event. */
		return resp_sse_error(r, type, code, msg);
	}
	if ((o = resp_error_object(type, code, param, msg)) == NULL)
		return APP_ENOMEM;
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL)
		e = APP_ENOMEM;
	else if ((e = resp_start(r, status, "application/json", extra)) ==
	    APP_OK && (e = resp_write(r, s, len)) == APP_OK &&
	    (e = resp_write(r, "\n", 1)) == APP_OK)
		e = resp_flush(r);
	json_object_put(o);
	return e;
}

enum app_err
resp_error(struct req *r, int status, const char *type, const char *code,
    const char *param, const char *fmt, ...)
{
	va_list ap;
	enum app_err e;

	va_start(ap, fmt);
	e = resp_verror(r, status, NULL, type, code, param, fmt, ap);
	va_end(ap);
	return e;
}

enum app_err
resp_error_hdr(struct req *r, int status, const char *extra,
    const char *type, const char *code, const char *param,
    const char *fmt, ...)
{
	va_list ap;
	enum app_err e;

	va_start(ap, fmt);
	e = resp_verror(r, status, extra, type, code, param, fmt, ap);
	va_end(ap);
	return e;
}

/* One wording for "Redis is down" wherever a request learns it. */
enum app_err
resp_store_unavailable(struct req *r)
{
	return resp_error_hdr(r, 503, "Retry-After: 2\r\n", "server_error",
	    "store_unavailable", NULL, "The shared store (Redis) is "
	    "unreachable right now; try again in a few seconds.");
}

enum app_err
resp_app_error(struct req *r, enum app_err err)
{
	switch (err) {
	case APP_OK:
	case APP_HUP:
		return err;
	case APP_BADREQ:
		return resp_error(r, 400, "invalid_request_error",
		    "invalid_request", NULL, "%s", app_strerror(err));
	case APP_TOOBIG:
		return resp_error(r, 413, "invalid_request_error",
		    "request_too_large", NULL,
		    "Request body exceeds the limit of %ld bytes.",
		    r->cfg->max_body);
	case APP_NOTFOUND:
		return resp_error(r, 404, "invalid_request_error", "not_found",
		    NULL, "Not found.");
	case APP_ENOMEM:
		return resp_error(r, 503, "server_error", "overloaded", NULL,
		    "The server is out of memory; try again.");
	case APP_UPSTREAM:
		return resp_error(r, 502, "upstream_error", "bad_gateway",
		    NULL, "The upstream service failed.");
	default:
		return resp_error(r, 500, "server_error", "internal_error",
		    NULL, "Internal error: %s.", app_strerror(err));
	}
}

enum app_err
resp_sse_start(struct req *r)
{
	enum app_err e;

	e = resp_start(r, 200, "text/event-stream; charset=utf-8",
	    "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
	if (e != APP_OK)
		return e;
	/* an open stream until fcgi/handle.c ends the request */
	if (!r->obs.sse_open) {
		r->obs.sse_open = 1;
		if (r->stream_opened != NULL)
			r->stream_opened(r);
	}
	return resp_flush(r);
}

enum app_err
resp_sse_put(struct req *r, const char *data, size_t len)
{
	enum app_err e;

	if ((data = resp_utf8(r->arena, data, len, &len)) == NULL)
		return APP_ENOMEM;
	if ((e = resp_write(r, "data: ", 6)) != APP_OK ||
	    (e = resp_write(r, data, len)) != APP_OK ||
	    (e = resp_write(r, "\n\n", 2)) != APP_OK)
		return e;
	return APP_OK;
}

enum app_err
resp_sse_event_put(struct req *r, const char *event, const char *data,
    size_t len)
{
	enum app_err e;

	if ((e = resp_write(r, "event: ", 7)) != APP_OK ||
	    (e = resp_write(r, event, strlen(event))) != APP_OK ||
	    (e = resp_write(r, "\n", 1)) != APP_OK)
		return e;
	return resp_sse_put(r, data, len);
}

enum app_err
resp_sse_data(struct req *r, const char *data, size_t len)
{
	enum app_err e;

	if ((e = resp_sse_put(r, data, len)) != APP_OK)
		return e;
	return resp_flush(r);
}

enum app_err
resp_sse_json(struct req *r, struct json_object *o)
{
	const char *s;
	size_t len;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL)
		return APP_ENOMEM;
	return resp_sse_data(r, s, len);
}

enum app_err
resp_sse_comment(struct req *r, const char *text)
{
	enum app_err e;

	if ((e = resp_write(r, ": ", 2)) != APP_OK ||
	    (e = resp_write(r, text, strlen(text))) != APP_OK ||
	    (e = resp_write(r, "\n\n", 2)) != APP_OK)
		return e;
	return resp_flush(r);
}

enum app_err
resp_sse_done(struct req *r)
{
	return resp_sse_data(r, "[DONE]", 6);
}

enum app_err
resp_sse_error(struct req *r, const char *type, const char *code, const char *msg)
{
	struct json_object *o;
	enum app_err e;

	if (!r->headers_sent && (e = resp_sse_start(r)) != APP_OK)
		return e;
	if ((o = resp_error_object(type, code, NULL, msg)) == NULL)
		return APP_ENOMEM;
	e = resp_sse_json(r, o);
	json_object_put(o);
	if (e == APP_OK)
		e = resp_sse_done(r);
	if (r->status < 400)
		r->status = 599;	/* logged and counted as failed */
	return e;
}

/* Called while waiting on an upstream: keep-alive and hang-up check. */
enum app_err
resp_sse_idle(struct req *r)
{
	if (r->hup)
		return APP_HUP;
	if (req_now_ms() - r->last_write_ms >= r->cfg->sse_keepalive * 1000)
		return resp_sse_comment(r, "keep-alive");
	if (r->io->gone(r, 0)) {
		r->hup = 1;
		return APP_HUP;
	}
	return APP_OK;
}

enum app_err
resp_sse_wait(struct req *r, long ms)
{
	long long deadline = req_now_ms() + ms, now, next_ka;
	long slice;
	enum app_err e;

	while ((now = req_now_ms()) < deadline) {
		if ((e = resp_sse_idle(r)) != APP_OK)
			return e;
		next_ka = r->last_write_ms + r->cfg->sse_keepalive * 1000;
		slice = (long)((next_ka < deadline ? next_ka : deadline) - now);
		if (slice <= 0)
			continue;
		/* Sleeps in poll() so a hang-up wakes us at once. */
		if (r->io->gone(r, (int)slice)) {
			r->hup = 1;
			return APP_HUP;
		}
	}
	return APP_OK;
}
