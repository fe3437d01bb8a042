/*
 * The OpenAI Responses API (POST /v1/responses, GET and DELETE
 * /v1/responses/{id}) as a face of the chat pipeline: responses_req.c
 * turns the body (with the stored conversation of previous_response_id)
 * into an OpenAI chat body, responses_out.c writes the answer as a
 * response object or its typed events, responses.c holds the routes and
 * the store (store/responses.c).
 */
#ifndef HANDLERS_RESPONSES_H
#define HANDLERS_RESPONSES_H

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "handlers/chat_request.h"
#include "handlers/openai_sink.h"

#define RSP_ID_LEN	34	/* resp_ and 29 characters (oa_make_id) */
#define RSP_MAX_ITEMS	2048	/* input items */

/* What the answer and the store need from the request. */
struct rsp_opts {
	char			 id[RSP_ID_LEN + 1];
	int			 store;		/* keep it (the default) */
	int			 summary;	/* reasoning requested */
	/* the request's fields the response object repeats */
	struct json_object	*echo;
	/* the conversation so far, as chat messages, for the next turn */
	struct json_object	*history;
};

/*
 * A stored record by response id: malloc'd JSON {"response":{...},
 * "history":[...]}, or NULL when there is none for this caller.
 */
typedef char	*(*rsp_lookup_fn)(void *ctx, const char *id);

/*
 * body (len bytes) into *chat, a new OpenAI chat body (json_object_put()
 * it), and o (rsp_opts_free() it, even on failure).  0, or -1 with e
 * filled (a 400, or a 404 for an unknown previous_response_id).
 */
int	 rsp_request_convert(const char *body, size_t len, rsp_lookup_fn,
	    void *lookup_ctx, struct json_object **chat, struct rsp_opts *o,
	    struct chat_req_error *e);
void	 rsp_opts_free(struct rsp_opts *);
/* The response id an item id (msg_, fc_, rs_ + id + _n) belongs to. */
int	 rsp_item_owner(const char *item_id, char *out, size_t outsz);

/* The writer's state, one per request (responses_out.c). */
struct rsp_out {
	const struct rsp_opts	*opts;
	long			 created;
	long			 seq;		/* sequence_number */
	int			 item;		/* open item's kind, or -1 */
	int			 nitems;	/* output_index of the next */
	size_t			 from;		/* open item's start in text */
	char			 item_id[64];
	struct buf		 output;	/* finished items, JSON */
	struct buf		 calls;		/* chat tool_calls, history */
	struct buf		 ev;		/* event scratch */
	struct buf		 obj;		/* the response object */
	/* the record to store once the answer is whole, or NULL */
	void			(*keep)(void *ctx, const char *, size_t);
	void			*keep_ctx;
};

void	 rsp_out_init(struct rsp_out *, const struct rsp_opts *);
void	 rsp_out_free(struct rsp_out *);
extern const struct oa_writer rsp_writer;

#endif
