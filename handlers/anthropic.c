/*
 * POST /v1/messages and /v1/messages/count_tokens (see anthropic.h).
 * Auth, routing, pools and retries are chat_serve's; what is Anthropic's
 * here is the body, the answer's shape, and the error shape: every error
 * of these requests, from validation to the pool, is written as
 * {"type":"error","error":{"type","message"}} with Anthropic's type for
 * its status.
 */
#include "config.h"

#include <string.h>

#include "fcgi/resp.h"
#include "handlers/anthropic.h"
#include "handlers/apiauth.h"
#include "handlers/handlers.h"

static enum app_err
ant_write_error(struct req *r, int status, const char *extra,
    const char *type, const char *code, const char *msg)
{
	struct buf b, m;
	enum app_err e;

	(void)type;
	(void)code;
	buf_init(&b, 0);
	buf_init(&m, 0);
	/* a message may quote a client's bytes: JSON wants UTF-8 */
	buf_add_utf8(&m, msg, strlen(msg), 4096, 0);
	ant_error_body(&b, ant_error_type(status), m.p ? m.p : "");
	buf_free(&m);
	if (b.failed) {
		buf_free(&b);
		return APP_ENOMEM;
	}
	if (r->headers_sent) {
		/* too late for a status: the stream's last event */
		e = resp_sse_event_put(r, "error", b.p, b.len);
		if (e == APP_OK)
			e = resp_flush(r);
		if (r->status < 400)
			r->status = 599;
	} else if ((e = resp_start(r, status, "application/json", extra)) ==
	    APP_OK && (e = resp_write(r, b.p, b.len)) == APP_OK &&
	    (e = resp_write(r, "\n", 1)) == APP_OK)
		e = resp_flush(r);
	buf_free(&b);
	return e;
}

static enum app_err
bad_request(struct req *r, const struct chat_req_error *err)
{
	return resp_error(r, err->status ? err->status : 400,
	    "invalid_request_error", err->code, NULL, "%s", err->message);
}

enum app_err
h_messages(struct req *r, const char *rest)
{
	struct chat_req_error err;
	struct json_object *chat = NULL;
	struct ant_opts *opts;
	struct ant_out out;
	const char *body;
	size_t len;
	enum app_err e;

	(void)rest;
	r->error_writer = ant_write_error;
	if (r->body_len == 0)
		return resp_error(r, 400, "invalid_request_error",
		    "missing_body", NULL, "The request needs a JSON body.");
	if ((opts = arena_calloc(r->arena, 1, sizeof(*opts))) == NULL)
		return APP_ENOMEM;
	memset(&err, 0, sizeof(err));
	if (ant_request_convert(r->body, r->body_len, 0, &chat, opts,
	    &err) < 0)
		return bad_request(r, &err);
	body = json_object_to_json_string_length(chat, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	ant_out_init(&out, opts);
	e = body != NULL ? chat_serve_with(r, body, len, &ant_writer, &out) :
	    APP_ENOMEM;
	ant_out_free(&out);
	json_object_put(chat);
	return e;
}

/* The estimate the answer's usage.input_tokens would give. */
enum app_err
h_messages_count_tokens(struct req *r, const char *rest)
{
	struct chat_req_error err;
	struct json_object *chat = NULL;
	struct api_auth auth;
	struct ant_opts opts;
	struct buf b;
	const char *body;
	size_t len;
	long tokens = 0;
	int answered;
	enum app_err e;

	(void)rest;
	r->error_writer = ant_write_error;
	if ((e = api_auth(r, &auth, &answered)) != APP_OK || answered)
		return e;
	if (r->body_len == 0)
		return resp_error(r, 400, "invalid_request_error",
		    "missing_body", NULL, "The request needs a JSON body.");
	memset(&err, 0, sizeof(err));
	if (ant_request_convert(r->body, r->body_len, 1, &chat, &opts,
	    &err) < 0)
		return bad_request(r, &err);
	body = json_object_to_json_string_length(chat, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (body == NULL)
		e = APP_ENOMEM;
	else if (chat_prompt_estimate(r, body, len, &tokens, &err) < 0)
		e = bad_request(r, &err);
	else {
		buf_init(&b, 0);
		buf_printf(&b, "{\"input_tokens\":%ld}", tokens);
		e = b.failed ? APP_ENOMEM : resp_json_text(r, 200, b.p, b.len);
		buf_free(&b);
	}
	json_object_put(chat);
	return e;
}
