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

#include "fcgi/buf.h"
#include "fcgi/req.h"
#include "upstream/provider.h"

enum oa_format { OA_CHAT, OA_TEXT };

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
	/* the last error, kept for a retry or the final answer */
	int				 err_status;
	long				 retry_after;	/* s, or -1 */
	char				 err_type[40];
	char				 err_code[48];
	char				 err_msg[512];
};

/* model: the name the answer reports (route->reported). */
void	 oa_sink_init(struct oa_sink *, struct req *,
	    const struct chat_request *, enum oa_format, const char *model);
void	 oa_sink_reset_error(struct oa_sink *);
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
/* Sends the chunks held since the last flush; -1 when the client left. */
int	 oa_sink_flush(struct oa_sink *);
long	 oa_estimate_tokens(const char *, size_t);

/* handlers/chat.c: a chat body through auth, pool and provider. */
enum app_err chat_serve(struct req *, const char *body, size_t len,
	    enum oa_format);
long	 oa_prompt_tokens(const struct chat_request *);

#endif
