/*
 * stream.h - the Qwen AI completion stream decoder: upstream SSE events
 * in, provider-neutral struct chat_sink events out (providers.md §7.4).
 *
 * The caller frames the upstream bytes into events (upstream/sse.c) and
 * feeds them one complete event at a time:
 *
 *	struct qa_stream	*st;
 *
 *	if (qa_stream_new(&st, sink, &opts) != QAS_OK) ...
 *	for each event:  rc = qa_stream_event(st, name, data, len);
 *	                 if (rc != QAS_OK || qa_stream_done(st)) stop;
 *	                 sink->flush() after each upstream read (the caller's)
 *	at upstream EOF: rc = qa_stream_end(st);
 *	qa_stream_free(st);
 *
 * Every data line is one JSON object (incremental_output: deltas, not
 * snapshots):
 *  - {"response.created": {"chat_id", "parent_id", "response_id"}} gives
 *    the response id (qa_stream_response_id()).
 *  - {"choices": [{"delta": {"role", "content", "phase", "status",
 *    "finish_reason", "extra"}, "finish_reason"}], "usage": {...}}:
 *     - phase "think": content goes to sink->reasoning();
 *     - phase "thinking_summary": the lines of
 *       extra.summary_thought.content, joined with "\n", are the whole
 *       summary so far; what extends the summary already sent goes to
 *       sink->reasoning().  A summary that rewrites the one sent (not an
 *       extension) is sent whole after a blank line;
 *     - phase "answer", null or absent: content goes to sink->text(); a
 *       status "finished" or a finish_reason ends the answer:
 *       finish(reason) with "length" → LENGTH, "content_filter" →
 *       CONTENT_FILTER, anything else → STOP;
 *     - any other phase (a tool's, a search's) is not the answer: dropped.
 *    A "finished" status of the think phase only ends the thinking.
 *  - "usage" {input_tokens|prompt_tokens, output_tokens|completion_tokens,
 *    total_tokens} anywhere before the end is the usage finish() reports
 *    (NULL when none came).
 *  - "[DONE]" ends the stream as the end of the transfer does.
 *  - An error -- an object qa_envelope() calls one ({"success": false,
 *    "data": {"code", "details"}}, {"code": "Bad_Request", ...},
 *    {"error": {...}}) or an "error" event (JSON or plain text) -- calls
 *    sink->error() after what was sent, and returns QAS_UPSTREAM: status
 *    and code from qa_classify(): rate limits 429 rate_limit_error
 *    "rate_limit_exceeded", a refused login 401 "invalid_api_key" (or
 *    "account_expired" with opts.expired), Forbidden and Bad_Request 403
 *    "upstream_forbidden" (opts.hint appended to a Bad_Request's message),
 *    anything else 502 "upstream_error" with the upstream code as the
 *    code ("upstream_stream_error" when it gave none).
 *  - Other objects and keys are ignored; a data line that is not a JSON
 *    object is QAS_PROTO.
 *
 * The contract with the caller:
 *  - role("assistant") comes once, before the first text() or
 *    reasoning() and before finish(); error() may come without it.
 *    Text is valid UTF-8 (invalid bytes become U+FFFD), never empty and
 *    never split inside a character.
 *  - Exactly one of finish() and error() ends the answer.  After it, or
 *    after a sink callback returned nonzero (QAS_ABORT: the sink is not
 *    called again), qa_stream_done() is 1 and events are ignored.
 *  - QAS_PROTO and QAS_ENOMEM reach no sink: the caller reports them
 *    (qa_stream_started() tells whether the answer already began).
 *  - Errors are sticky: every later call returns the same code.
 *
 * Limits: one event's data QAS_MAX_EVENT bytes, JSON nesting
 * QAS_JSON_DEPTH, the summary QAS_SUMMARY_MAX bytes (over any of these:
 * QAS_PROTO); the response id kept up to QAS_ID_MAX bytes (longer: not
 * kept); error text cut to QAS_ERRMSG_MAX bytes, the hint to QAS_HINT_MAX.
 *
 * A decoder is not thread-safe; use one per upstream response.
 */
#ifndef UPSTREAM_QWENAI_STREAM_H
#define UPSTREAM_QWENAI_STREAM_H

#include <stddef.h>

#include "upstream/provider.h"

#define QAS_MAX_EVENT		(1u << 20)
#define QAS_JSON_DEPTH		32
#define QAS_SUMMARY_MAX		(64u << 10)
#define QAS_ID_MAX		128
#define QAS_ERRMSG_MAX		1024
#define QAS_HINT_MAX		512

struct qa_stream_opts {
	const char	*hint;		/* appended to a Bad_Request error */
	int		 expired;	/* the token's exp has passed */
};

enum qa_stream_err {
	QAS_OK = 0,
	QAS_ENOMEM,
	QAS_PROTO,	/* not the §7.4 format, or a limit exceeded */
	QAS_ABORT,	/* a sink callback asked to stop */
	QAS_UPSTREAM,	/* the upstream reported an error; sink has had error() */
	QAS__MAX
};

struct qa_stream;

const char		*qa_stream_strerror(enum qa_stream_err);

/* The sink is copied (its ctx must outlive the decoder); opts may be NULL. */
enum qa_stream_err	 qa_stream_new(struct qa_stream **,
			    const struct chat_sink *,
			    const struct qa_stream_opts *);

/*
 * One complete SSE event: its name (NULL, "" or "message" when it had
 * none) and its joined data lines, len bytes (need not be NUL-terminated;
 * surrounding whitespace is ignored).
 */
enum qa_stream_err	 qa_stream_event(struct qa_stream *, const char *event,
			    const char *data, size_t len);

/*
 * The transfer ended cleanly.  An answer still open is finished (STOP)
 * when it has content -- qa_stream_finished_upstream() stays 0, so the
 * caller can tell a cut-short answer; without any content it is
 * QAS_PROTO and no sink call.  Returns QAS_OK when the answer has been
 * finished, the sticky error otherwise.  May be called again.
 */
enum qa_stream_err	 qa_stream_end(struct qa_stream *);

int			 qa_stream_started(const struct qa_stream *);
int			 qa_stream_done(const struct qa_stream *);
/* The upstream itself ended the answer (finished, a finish_reason). */
int			 qa_stream_finished_upstream(const struct qa_stream *);
/* The response id of "response.created", or "". */
const char		*qa_stream_response_id(const struct qa_stream *);

void			 qa_stream_free(struct qa_stream *);

#endif
