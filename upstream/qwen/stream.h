/*
 * stream.h - the Qwen (qianwen.com) chat stream decoder: upstream SSE
 * events in, provider-neutral struct chat_sink events out
 * (protocols/providers.md §6.3, read as a clean parser).
 *
 * The caller frames the upstream bytes into events (upstream/sse.c) and
 * feeds them one complete event at a time:
 *
 *	struct qw_stream	*st;
 *
 *	if (qw_stream_new(&st, sink) != QWS_OK) ...
 *	for each event:  rc = qw_stream_event(st, name, data, len);
 *	                 if (rc != QWS_OK || qw_stream_done(st)) stop;
 *	                 sink->flush() after each upstream read (the caller's)
 *	at upstream EOF: rc = qw_stream_end(st);
 *	qw_stream_free(st);
 *
 * Every data line is a whole snapshot, not a delta:
 *   {"communication":{"sessionid","reqid"},
 *    "data":{"messages":[{"mime_type","content","status",
 *            "meta_data":{"multi_load":[{"type","content":{...}}]}}]},
 *    "error_code":0,"error_msg":""}
 * and the decoder turns the snapshots into deltas (snap.c):
 *  - The answer of an event is the "content" of its text/plain and
 *    multi_load/iframe messages, joined in order, with the card markers
 *    "[(deep_think)]" and "[(multimodal_chat_think_N)]" (also a "_N" on
 *    deep_think) removed.  An event without such a message says nothing
 *    about the answer.
 *  - The reasoning of an event is the longest deep_think
 *    content.think_content among the multi_load entries of its messages,
 *    or, when there is none, the longest multimodal_chat_think
 *    content.content.  Reasoning goes on only until the answer has
 *    started (as the reference does); later growth is dropped.
 *  - A snapshot that extends what was handed on gives its new tail; one
 *    that is a prefix of it (or equal) gives nothing; one that departs
 *    from it gives what lies past the old length (from a character
 *    boundary) and becomes the new base -- nothing the client has seen
 *    can be taken back; qw_stream_rewrites() counts these.
 *  - A possible marker at the very end of the answer is held back until
 *    a later snapshot completes it (removed) or shows it is text.
 *  - An error: "error_code" present and not 0/""/"0", or "success":false
 *    with an errorCode or errorMsg, in a data line; or an "error" event
 *    (JSON, or plain text).  The held text is dropped (cut off there,
 *    it is far likelier a card than text), then sink->error() with
 *    qw_error_status() of the code and message (401 "account_expired"
 *    for a login that is over, 429 "rate_limit_exceeded", else 502 with
 *    the upstream code or "upstream_stream_error"), the message as one
 *    line; QWS_UPSTREAM.
 *  - The end: a multi_load/iframe message whose status is "complete" or
 *    "finished", or the "complete" event (its data, if any, is taken as
 *    a last snapshot first), or a "[DONE]" data line: the held text,
 *    then finish(CHAT_FINISH_STOP) without usage (Qwen counts nothing).
 *    An end before any content is QWS_EMPTY (no sink call).
 *  - "communication" gives the upstream's session and request ids (the
 *    first of each, if they are plain tokens), also from an error
 *    event.  Other event names and unknown fields are ignored.
 *
 * The contract with the caller is the DeepSeek decoder's:
 *  - role("assistant") comes once, before the first text() or
 *    reasoning() and before finish(); error() may come without it.
 *    Text is valid UTF-8 (json-c refuses stray bytes but lets
 *    surrogates and overlong forms through; each byte of those becomes
 *    U+FFFD), never empty, never split inside a character.
 *  - Exactly one of finish() and error() ends the answer.  After it, or
 *    after a sink callback returned nonzero (QWS_ABORT), qw_stream_done()
 *    is 1 and events are ignored.
 *  - QWS_PROTO, QWS_EMPTY and QWS_ENOMEM reach no sink: the caller
 *    reports them.  Errors are sticky.
 *
 * Limits: one event's data QWS_MAX_EVENT bytes, JSON nesting
 * QWS_JSON_DEPTH, QWS_MAX_MESSAGES messages and QWS_MAX_LOADS multi_load
 * entries looked at per event (the rest ignored), ids QWS_ID_MAX bytes,
 * error text QWS_ERRMSG_MAX bytes, error codes QWS_CODE_MAX bytes.
 */
#ifndef UPSTREAM_QWEN_STREAM_H
#define UPSTREAM_QWEN_STREAM_H

#include <stddef.h>

#include "upstream/provider.h"

#define QWS_MAX_EVENT		(4u << 20)
#define QWS_JSON_DEPTH		32
#define QWS_MAX_MESSAGES	64
#define QWS_MAX_LOADS		64
#define QWS_ID_MAX		128
#define QWS_ERRMSG_MAX		1024
#define QWS_CODE_MAX		64

enum qw_stream_err {
	QWS_OK = 0,
	QWS_ENOMEM,
	QWS_PROTO,	/* not the §6.3 format, or a limit exceeded */
	QWS_EMPTY,	/* the upstream ended without any answer */
	QWS_ABORT,	/* a sink callback asked to stop */
	QWS_UPSTREAM,	/* the upstream reported an error; sink has it */
	QWS__MAX
};

struct qw_stream;

const char		*qw_stream_strerror(enum qw_stream_err);

/* The sink is copied (its ctx must outlive the decoder). */
enum qw_stream_err	 qw_stream_new(struct qw_stream **,
			    const struct chat_sink *);

/*
 * One complete SSE event: its name (NULL, "" or "message" when it had
 * none) and its joined data lines, len bytes (surrounding whitespace is
 * ignored).
 */
enum qw_stream_err	 qw_stream_event(struct qw_stream *, const char *event,
			    const char *data, size_t len);

/*
 * The transfer ended cleanly.  An answer still open with content is
 * finished (qw_stream_finished_upstream() stays 0, so the caller can
 * log a cut-short answer); without content: QWS_EMPTY.
 */
enum qw_stream_err	 qw_stream_end(struct qw_stream *);

int			 qw_stream_started(const struct qw_stream *);
int			 qw_stream_done(const struct qw_stream *);
int			 qw_stream_finished_upstream(const struct qw_stream *);
/* Snapshots that did not extend the text handed on. */
unsigned		 qw_stream_rewrites(const struct qw_stream *);
/* communication.sessionid / reqid, or "" */
const char		*qw_stream_session(const struct qw_stream *);
const char		*qw_stream_reqid(const struct qw_stream *);
void			 qw_stream_free(struct qw_stream *);

/*
 * What an upstream error code and message mean (both may be NULL): 401
 * (the login is over: NOT_LOGIN and its kin), 429 (a rate limit) or 502.
 */
int			 qw_error_status(const char *code, const char *msg);

#endif
