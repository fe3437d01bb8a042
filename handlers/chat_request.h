/*
 * Validation at the edge: the OpenAI chat body into a struct
 * chat_request, with explicit limits.  On failure the error says which
 * parameter and why, ready for a 400.
 */
#ifndef HANDLERS_CHAT_REQUEST_H
#define HANDLERS_CHAT_REQUEST_H

#include <json-c/json.h>

#include "fcgi/arena.h"
#include "upstream/provider.h"

struct chat_req_error {
	int		 status;	/* 400 */
	const char	*code;		/* invalid_type, invalid_value ... */
	char		 param[64];
	char		 message[256];
};

/* Fills e as a 400 with code, param (may be NULL) and the message; -1. */
int	 chat_req_fail(struct chat_req_error *e, const char *code,
	    const char *param, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* A name of 1..max of [A-Za-z0-9_-] (functions, schemas). */
int	 chat_req_name_ok(const char *s, size_t n, size_t max);

/*
 * Parses body (len bytes).  On success *root owns the JSON the request
 * points into: json_object_put() it when done.  Returns 0 or -1.
 */
int	 chat_request_parse(struct arena *, const char *body, size_t len,
	    struct chat_request *, struct json_object **root,
	    struct chat_req_error *);

/*
 * UPLOAD_BY_URL (handlers/chat_urls.c): the leading URLs of a user
 * turn's string content become image_url parts after a text part with
 * the rest.  0, or -1 when out of memory.
 */
int	 chat_request_split_urls(struct arena *, struct chat_request *);

#endif
