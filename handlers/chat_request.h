/*
 * Validation at the edge: the OpenAI chat body into a struct
 * chat_request, with explicit limits.  On failure the error says which
 * parameter and why, ready for a 400.
 */
#ifndef HANDLERS_CHAT_REQUEST_H
#define HANDLERS_CHAT_REQUEST_H

#include <json-c/json.h>

#include "fcgi/arena.h"
#include "handlers/req_error.h"
#include "upstream/provider.h"


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
