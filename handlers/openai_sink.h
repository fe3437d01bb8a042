/*
 * The OpenAI output side of /v1/chat/completions: a chat_sink that writes
 * chat.completion.chunk events (stream) or collects one chat.completion.
 * The same sink speaks the legacy /v1/completions format (text_completion
 * objects with "text" choices, no role chunk, reasoning left out).
 * Nothing reaches the client until the answer has started, so a failed
 * attempt can still be retried or answered with a plain JSON error.
 */
#ifndef HANDLERS_OPENAI_SINK_H
#define HANDLERS_OPENAI_SINK_H

#include <stdarg.h>

#include "fcgi/buf.h"
#include "fcgi/req.h"
#include "upstream/provider.h"

enum oa_format { OA_CHAT, OA_TEXT };

struct oa_sink;

/*
 * Another wire format for the same answer: the Anthropic Messages API
 * (handlers/anthropic_out.c) and the OpenAI Responses API
 * (handlers/responses_out.c).  The sink keeps what every format shares
 * (started, finished, the finish reason, usage, the kept error) and
 * calls the writer where it would write an OpenAI chunk.  Each returns
 * 0, or -1 to stop the upstream (the client left, or the answer ended).
 */
struct oa_writer {
	/* stream: the SSE headers are out; the opening events */
	int		(*open)(struct oa_sink *);
	/* stream and non-stream alike (non-stream: keep it) */
	int		(*delta)(struct oa_sink *, int reasoning, const char *,
			    size_t);
	int		(*tool_call)(struct oa_sink *, const char *id,
			    const char *name, size_t nl, const char *args,
			    size_t al);
	/* s->finish and s->usage are set; stream and non-stream */
	int		(*finish)(struct oa_sink *);
	/* stream: an error after the start (s->err_* set); the last event */
	int		(*fail)(struct oa_sink *);
	/* non-stream: the whole answer, once it finished well */
	enum app_err	(*answer)(struct oa_sink *);
};

struct oa_sink {
	struct req			*r;
	enum oa_format			 fmt;
	const struct chat_request	*cr;
	char				 id[48];
	long				 created;
	const char			*model;		/* reported name */
	const char			*fingerprint;	/* or NULL */
	int				 started;	/* role seen */
	long long			 started_ms;	/* when (req_now_ms) */
	int				 finished;
	int				 aborted;	/* client gone */
	int				 failed;		/* error after start */
	int				 pending;	/* chunks not flushed yet */
	enum chat_finish		 finish;
	struct chat_usage		 usage;
	long				 completion_tokens;
	struct buf			 out;		/* chunk scratch */
	struct buf			 head;		/* chunk prefix */
	const char			*head_object;	/* head is for it */
	struct buf			 text;		/* non-stream */
	struct buf			 reasoning;	/* non-stream */
	struct buf			 calls;		/* non-stream tool_calls */
	size_t				 ncalls;	/* tool calls emitted */
	const char			*conversation_id;
	const char			*message_id;
	/* optional: sees the answer's text (name NULL) and tool calls */
	void				(*tap)(void *, const char *name,
					    size_t, const char *, size_t);
	void				*tap_ctx;
	const struct oa_writer		*w;		/* NULL: OpenAI chat */
	void				*wctx;		/* the writer's */
	/* the last error, kept for a retry or the final answer */
	int				 err_status;
	long				 retry_after;	/* s, or -1 */
	char				 err_type[40];
	char				 err_code[48];
	const char			*err_msg;	/* "" or err_buf */
	/* OA_ERR_MSG_MAX bytes in the arena once the first error comes:
	 * a parked stream keeps this struct on its stack (BENCHMARKS §20) */
	char				*err_buf;
};

#define OA_ERR_MSG_MAX	512

/* model: the name the answer reports (route->reported). */
void	 oa_sink_init(struct oa_sink *, struct req *,
	    const struct chat_request *, enum oa_format, const char *model);
void	 oa_sink_reset_error(struct oa_sink *);
/* The last error's message from fmt (printf); on no memory, says so. */
void	 oa_sink_set_msg(struct oa_sink *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 oa_sink_set_vmsg(struct oa_sink *, const char *fmt, va_list);
void	 oa_sink_free(struct oa_sink *);
void	 oa_sink_bind(struct oa_sink *, struct chat_sink *);
/* Writes the non-stream answer, or the pending error; once, at the end. */
enum app_err oa_sink_complete(struct oa_sink *);
/*
 * One tool call of the answer (handlers/tools_sink.c): args is a
 * compact JSON object.  0, or -1 to stop the upstream.
 */
int	 oa_sink_tool_call(struct oa_sink *, const char *name, size_t namelen,
	    const char *args, size_t argslen);
/* Ends the answer with f (a writer's stop sequence); -1. */
int	 oa_sink_end(struct oa_sink *, enum chat_finish f);
/* A fresh id: prefix and random alphanumerics up to outsz - 1. */
void	 oa_make_id(char *out, size_t outsz, const char *prefix);
/* Sends the chunks held since the last flush; -1 when the client left. */
int	 oa_sink_flush(struct oa_sink *);
long	 oa_estimate_tokens(const char *, size_t);

/* handlers/chat.c: a chat body through auth, pool and provider. */
enum app_err chat_serve(struct req *, const char *body, size_t len,
	    enum oa_format);
/*
 * The same, the answer written by w (ctx in s->wctx) instead: the
 * dialects (/v1/messages, /v1/responses) arrive here with their body
 * already turned into a chat body.
 */
enum app_err chat_serve_with(struct req *, const char *body, size_t len,
	    const struct oa_writer *w, void *ctx);
long	 oa_prompt_tokens(const struct chat_request *);
struct chat_req_error;
/* The usage's prompt_tokens for a chat body (tool prompt in); 0 or -1. */
int	 chat_prompt_estimate(struct req *, const char *body, size_t len,
	    long *tokens, struct chat_req_error *);

#endif
