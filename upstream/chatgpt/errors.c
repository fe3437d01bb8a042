/*
 * Upstream failures in OpenAI's error shape (chatgpt.md §10.2 statuses,
 * but never FastAPI's {"detail":...}).  Details from the upstream are
 * shortened; tokens never appear in them because we never echo headers.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi/log.h"
#include "upstream/call.h"
#include "upstream/chatgpt/internal.h"

#define DETAIL_MAX	300

void
cg_fail(struct cg_call *c, int status, const char *type, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	call_vfail(c->pc->sink, status, type, code, fmt, ap);
	va_end(ap);
}

/* The upstream's explanation: JSON detail/message, else the text. */
static void
detail_of(const struct http_resp *r, char *out, size_t outsz, long *clears)
{
	struct json_object *o = NULL, *d, *v;
	const char *s = NULL;
	size_t i;

	*clears = -1;
	out[0] = '\0';
	if (r->body_len && r->body[0] == '{')
		o = json_tokener_parse(r->body);
	if (o != NULL && json_object_object_get_ex(o, "detail", &d)) {
		if (json_object_is_type(d, json_type_string))
			s = json_object_get_string(d);
		else if (json_object_is_type(d, json_type_object)) {
			if (json_object_object_get_ex(d, "message", &v))
				s = json_object_get_string(v);
			if (json_object_object_get_ex(d, "clears_in", &v))
				*clears = (long)json_object_get_int64(v);
		}
	} else if (o != NULL && json_object_object_get_ex(o, "error", &d)) {
		if (json_object_is_type(d, json_type_object) &&
		    json_object_object_get_ex(d, "message", &v))
			s = json_object_get_string(v);
		else
			s = json_object_get_string(d);
	}
	if (s == NULL && o == NULL)
		s = r->body;
	if (s == NULL && o != NULL)
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	snprintf(out, outsz, "%.*s", DETAIL_MAX, s ? s : "");
	/* Keep the message on one line. */
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
	json_object_put(o);
}

void
cg_fail_http(struct cg_call *c, const char *what, const struct http_resp *r)
{
	char detail[DETAIL_MAX + 1];
	long clears;
	int st = (int)r->status;

	detail_of(r, detail, sizeof(detail), &clears);
	log_info("chatgpt: %s answered %d: %s", what, st, detail);
	if (strstr(r->body, "cf_chl_opt") != NULL ||
	    strstr(r->body, "challenge-platform") != NULL) {
		cg_fail(c, 403, "upstream_error", "cf_challenge",
		    "The upstream answered with a Cloudflare challenge "
		    "(cf_chl_opt); the server's IP needs a better reputation "
		    "or a proxy (PROXY_URL).");
		return;
	}
	switch (st) {
	case 400:
		cg_fail(c, 400, "invalid_request_error", "upstream_bad_request",
		    "The upstream rejected the request: %s", detail);
		break;
	case 401:
		cg_fail(c, 401, "invalid_request_error", "invalid_api_key",
		    "The upstream rejected the access token: %s",
		    *detail ? detail : "Unauthorized");
		break;
	case 403:
		cg_fail(c, 403, "upstream_error", "upstream_forbidden", "%s",
		    *detail ? detail : "Forbidden by the upstream.");
		break;
	case 404:
		cg_fail(c, 404, "invalid_request_error", "model_not_found",
		    "The model `%s` does not exist or you do not have access "
		    "to it.", c->pc->req->model ? c->pc->req->model : c->slug);
		break;
	case 413:
		cg_fail(c, 400, "invalid_request_error",
		    "context_length_exceeded", "The upstream refused the "
		    "conversation as too large: %s", detail);
		break;
	case 429:
		if (clears >= 0 && c->pc->sink->retry_after != NULL)
			c->pc->sink->retry_after(c->pc->sink->ctx, clears);
		if (clears >= 0)
			cg_fail(c, 429, "rate_limit_error",
			    "rate_limit_exceeded", "Rate limited by the "
			    "upstream; clears in %ld s (clears_in=%ld). %s",
			    clears, clears, detail);
		else
			cg_fail(c, 429, "rate_limit_error",
			    "rate_limit_exceeded", "Rate limited by the "
			    "upstream. %s", detail);
		break;
	default:
		cg_fail(c, 502, "upstream_error", "upstream_error",
		    "The upstream answered %d: %s", st, detail);
		break;
	}
}

void
cg_fail_net(struct cg_call *c, const char *what, enum up_err e)
{
	log_info("chatgpt: %s failed: %s", what, up_strerror(e));
	if (e == UP_TIMEOUT)
		cg_fail(c, 504, "upstream_error", "upstream_timeout",
		    "The upstream did not answer in time (%s).", what);
	else
		cg_fail(c, 502, "upstream_error", "upstream_unreachable",
		    "The upstream could not be reached (%s: %s).", what,
		    up_strerror(e));
}
