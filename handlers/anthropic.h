/*
 * The Anthropic Messages API (POST /v1/messages, /v1/messages/count_tokens)
 * as a face of the chat pipeline: anthropic_req.c turns the body into an
 * OpenAI chat body (which chat_serve then validates like any other),
 * anthropic_out.c writes the answer as a message object or its stream
 * events, anthropic.c holds the routes and the error shape.
 */
#ifndef HANDLERS_ANTHROPIC_H
#define HANDLERS_ANTHROPIC_H

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "handlers/chat_request.h"
#include "handlers/openai_sink.h"

#define ANT_MAX_STOPS		8	/* stop_sequences */
#define ANT_MAX_STOP_LEN	256	/* bytes of one */
#define ANT_MAX_BLOCKS		256	/* content blocks of one message */
#define ANT_MAX_SYSTEM		64	/* system blocks */

/* What the answer needs from the request beyond the chat body. */
struct ant_opts {
	char		 stops[ANT_MAX_STOPS][ANT_MAX_STOP_LEN + 1];
	size_t		 nstops;
	size_t		 stop_max;	/* longest stop sequence */
};

/*
 * body (len bytes, a /v1/messages body) into *chat, a new OpenAI chat
 * body (json_object_put() it), and *o.  count: for count_tokens, where
 * max_tokens is not required.  0, or -1 with e filled (a 400).
 */
int	 ant_request_convert(const char *body, size_t len, int count,
	    struct json_object **chat, struct ant_opts *o,
	    struct chat_req_error *e);

/* The writer's state, one per request (anthropic_out.c). */
struct ant_out {
	const struct ant_opts	*opts;
	char			 id[40];	/* msg_... */
	int			 block;		/* open block's kind, or -1 */
	int			 index;		/* of the open block */
	int			 nblocks;
	const char		*stop_hit;	/* the sequence that ended it */
	struct buf		 hold;		/* held for stop sequences */
	struct buf		 blocks;	/* non-stream: content so far */
	struct buf		 ev;		/* event scratch */
};

void	 ant_out_init(struct ant_out *, const struct ant_opts *);
void	 ant_out_free(struct ant_out *);
extern const struct oa_writer ant_writer;
/* Anthropic's error type for an HTTP status. */
const char *ant_error_type(int status);
/* {"type":"error","error":{...}} into b. */
void	 ant_error_body(struct buf *b, const char *type, const char *msg);

#endif
