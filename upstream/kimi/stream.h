/*
 * stream.h - the Kimi Chat stream decoder: the response body of
 * kimi.gateway.chat.v1.ChatService/Chat in, provider-neutral struct
 * chat_sink events out (protocols/providers.md §4.4).
 *
 *	struct kimi_stream	*st;
 *
 *	if (ks_new(&st, sink) != KS_OK) ...
 *	for each chunk of the body:  rc = ks_feed(st, p, n);
 *	                             sink->flush() (the caller's)
 *	at the end of the body:      rc = ks_end(st);
 *	KS_UPSTREAM: ks_error(st) says what the upstream reported
 *	ks_free(st);
 *
 * The body is a run of Connect envelopes (connect.c), each a JSON
 * object; the last one carries flag 0x02 (end of stream).  The decoder
 * keeps the phase, the chat id and the first assistant message id,
 * never the answer itself:
 *  - "heartbeat" is ignored, as is anything with an "op" other than
 *    "set" and "append" (both carry new text: a set starts a block).
 *  - "chat": {"id"} gives the chat id (the first one; DeleteChat needs
 *    it); "message": {"id", "role": "assistant"} the message id.
 *  - The phase: block.multiStage.stages[0] named STAGE_NAME_THINKING is
 *    "thinking" until its status reads as finished ("completed",
 *    "...END", "...COMPLETED"), then "answer"; block.text.flags
 *    "thinking" or "answer" sets it too.
 *  - Text: with "block.think" in the mask, block.think.content is
 *    reasoning; with "block.text" in the mask, block.text.content is
 *    answer text -- reasoning only when its own flags say "thinking";
 *    with any other mask, block.text.content goes by the phase.  Other
 *    blocks (search stages, tool calls) are dropped.
 *  - "done" (any value but null and false) ends the answer:
 *    finish(CHAT_FINISH_STOP), usage NULL (Kimi does not count).
 *  - "error" (or "exception": {"error"}) ends it with the upstream's
 *    error: KS_UPSTREAM, recorded for ks_error() -- the sink is NOT
 *    called, the caller reports it (it may renew the token and try
 *    again when nothing was sent yet).  The status: a Connect code
 *    ("unauthenticated" 401, "resource_exhausted" 429 ...), a reason
 *    naming an overload 503, an HTTP-like number 400..599 itself,
 *    anything else 502.  The message: localizedMessage.message, else
 *    message, else the reason or code.
 *  - The end-of-stream envelope: its "error" is read the same way, its
 *    metadata's retry-after kept; without an error it ends an answer
 *    that has content (finish), and one without content is KS_EMPTY.
 *  - Once the answer has ended nothing more is decoded, but the
 *    end-of-stream envelope is still looked for (ks_ended()), so the
 *    caller can let the response finish and keep the connection.
 *
 * The contract with the caller:
 *  - role("assistant") once, before the first text() or reasoning()
 *    and before finish().  Text is valid UTF-8 (invalid bytes become
 *    U+FFFD), never empty, one call per upstream delta.
 *  - ks_done(): finish() was sent, an error was recorded, or a sink
 *    callback returned non-zero (KS_ABORT; the sink is not called
 *    again).
 *  - KS_PROTO and KS_ENOMEM, KS_EMPTY: the caller reports them.
 *  - Errors are sticky.
 *
 * Limits: one message KS_MAX_MESSAGE bytes, JSON nesting KS_JSON_DEPTH
 * (over either: KS_PROTO), ids over KS_ID_MAX bytes or with other than
 * [A-Za-z0-9_.:-] ignored, error text cut to KS_ERRMSG_MAX bytes.
 */
#ifndef UPSTREAM_KIMI_STREAM_H
#define UPSTREAM_KIMI_STREAM_H

#include <stddef.h>

#include "upstream/kimi/connect.h"
#include "upstream/provider.h"

#define KS_MAX_MESSAGE		(1u << 20)
#define KS_JSON_DEPTH		32
#define KS_ID_MAX		128
#define KS_ERRMSG_MAX		KC_MSG_MAX

enum ks_err {
	KS_OK = 0,
	KS_ENOMEM,
	KS_PROTO,	/* not Connect+JSON of §4.4, or over a limit */
	KS_ABORT,	/* a sink callback asked to stop */
	KS_UPSTREAM,	/* the upstream reported an error: ks_error() */
	KS_EMPTY,	/* the stream ended cleanly without an answer */
	KS__MAX
};

/* What the upstream reported. */
struct ks_error {
	int	 status;			/* HTTP-like: 401, 429, 503 */
	char	 code[KC_CODE_MAX + 1];		/* the upstream's, or "" */
	char	 message[KS_ERRMSG_MAX + 1];	/* one line, UTF-8 */
	long	 retry_after;			/* s, or -1 */
	int	 end_stream;	/* from the end-of-stream envelope */
};

struct kimi_stream;

const char		*ks_strerror(enum ks_err);

/* The sink is copied; its ctx must outlive the decoder. */
enum ks_err		 ks_new(struct kimi_stream **, const struct chat_sink *);
enum ks_err		 ks_feed(struct kimi_stream *, const void *, size_t);
/*
 * The body ended.  KS_PROTO when it stopped inside an envelope or
 * before both "done" and the end-of-stream envelope (a cut stream);
 * KS_OK when the answer was finished.
 */
enum ks_err		 ks_end(struct kimi_stream *);
int			 ks_started(const struct kimi_stream *);
int			 ks_done(const struct kimi_stream *);
/* The end-of-stream envelope has been read. */
int			 ks_ended(const struct kimi_stream *);
const struct ks_error	*ks_error(const struct kimi_stream *);
/* The chat id (for DeleteChat) and the assistant message id, or NULL. */
const char		*ks_chat_id(const struct kimi_stream *);
const char		*ks_message_id(const struct kimi_stream *);
void			 ks_free(struct kimi_stream *);

/* The status of an error code or reason (the rules above). */
int			 ks_error_status(const char *code);

#endif
