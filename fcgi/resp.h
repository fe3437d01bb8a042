/*
 * Response writers: headers, JSON, OpenAI-shaped errors and SSE.  Every
 * write checks the transport for a client that went away (APP_HUP).
 */
#ifndef FCGI_RESP_H
#define FCGI_RESP_H

#include <json-c/json.h>

#include "fcgi/req.h"

enum app_err	 resp_start(struct req *, int status, const char *ctype,
		    const char *extra_headers);
enum app_err	 resp_write(struct req *, const char *, size_t);
enum app_err	 resp_flush(struct req *);
enum app_err	 resp_json(struct req *, int status, struct json_object *);
/* A JSON document already serialised (len bytes, no newline). */
enum app_err	 resp_json_text(struct req *, int status, const char *,
		    size_t len);
enum app_err	 resp_error(struct req *, int status, const char *type,
		    const char *code, const char *param, const char *fmt, ...)
		    __attribute__((format(printf, 6, 7)));
enum app_err	 resp_error_hdr(struct req *, int status, const char *extra,
		    const char *type, const char *code, const char *param,
		    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
enum app_err	 resp_app_error(struct req *, enum app_err);
/* 503 store_unavailable with Retry-After: the shared store is down. */
enum app_err	 resp_store_unavailable(struct req *);
/*
 * s[0..n) as valid UTF-8: s itself when it is, else a copy in the arena
 * with each invalid byte as U+FFFD (*outlen bytes); NULL when out of
 * memory.  Every JSON body and SSE event we send goes through it, so a
 * stray byte from a client or an upstream never reaches a strict parser.
 */
const char	*resp_utf8(struct arena *, const char *s, size_t n,
		    size_t *outlen);
enum app_err	 resp_no_content(struct req *);
struct json_object *resp_error_object(const char *type, const char *code,
		    const char *param, const char *msg);
const char	*resp_reason(int status);

enum app_err	 resp_sse_start(struct req *);
enum app_err	 resp_sse_data(struct req *, const char *, size_t);
/* The same event, left in the output buffer for a later resp_flush(). */
enum app_err	 resp_sse_put(struct req *, const char *, size_t);
/* A named event ("event: name" then the data), held like resp_sse_put. */
enum app_err	 resp_sse_event_put(struct req *, const char *event,
		    const char *data, size_t len);
enum app_err	 resp_sse_json(struct req *, struct json_object *);
enum app_err	 resp_sse_comment(struct req *, const char *);
enum app_err	 resp_sse_done(struct req *);
enum app_err	 resp_sse_error(struct req *, const char *type, const char *code,
		    const char *msg);
enum app_err	 resp_sse_idle(struct req *);
enum app_err	 resp_sse_wait(struct req *, long ms);

#endif
