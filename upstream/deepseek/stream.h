/*
 * stream.h - the DeepSeek completion stream decoder: upstream SSE events
 * in, provider-neutral struct chat_sink events out (protocols/providers.md
 * §2.7, read as a clean parser, not with the reference's quirks).
 *
 * The caller frames the upstream bytes into events (upstream/sse.c) and
 * feeds them one complete event at a time:
 *
 *	struct ds_stream	*st;
 *	struct ds_stream_opts	 o = { .thinking = 1, .search = 0 };
 *
 *	if (ds_stream_new(&st, sink, &o) != DSS_OK) ...
 *	for each event:  rc = ds_stream_event(st, name, data, len);
 *	                 if (rc != DSS_OK || ds_stream_done(st)) stop;
 *	                 sink->flush() after each upstream read (the caller's)
 *	at upstream EOF: rc = ds_stream_end(st);
 *	ds_stream_free(st);
 *
 * The stream (§2.7) is a JSON-patch-like log over one "response" document:
 * {"p": path, "o": SET|APPEND|BATCH, "v": value}.  The decoder keeps only
 * what the conversion needs -- the type of every fragment, the search
 * results, the status and the token count -- never the document itself:
 *  - The last top-level "p" is remembered; a line without "p" whose "v"
 *    is a string appends to it.  A line without "p" whose "v" is an
 *    object is a snapshot of the document root ({"v":{"response":...}}).
 *    Text and result lists are always appended (a SET included: nothing
 *    the client has seen can be taken back); a fragment list is set
 *    unless "o" is APPEND.  BATCH's "v" is a list of operations whose
 *    paths are relative to the batch path.  Unknown operations and
 *    paths are ignored.
 *  - response/fragments (SET or APPEND a list) creates fragments
 *    {type, content, ...}.  Text of a fragment (its initial content, then
 *    response/fragments/<i>/content, i = -1 for the last one or an index)
 *    goes to sink->reasoning() for THINK, to sink->text() for RESPONSE and
 *    ANSWER, and is dropped for every other type (SEARCH, TOOL_SEARCH,
 *    TOOL_OPEN, ...).  The older response/content and
 *    response/thinking_content paths are read as answer and reasoning.
 *  - Search results (response/fragments/<i>/results, the older
 *    response/search_results: lists of {url, title, cite_index};
 *    ".../<j>/cite_index" updates one) are collected, at most
 *    DSS_MAX_RESULTS; when the answer ends they are appended to it
 *    after a blank line, one
 *    "[N]: [title](url)" line each, sorted by cite_index, only those with
 *    a cite_index and an http(s) url, one per cite_index (the first).
 *    The title (the url when there is none) is one line with [ ] \
 *    escaped; the url has spaces, controls, non-ASCII bytes and
 *    ( ) < > " ` [ ] \ %-escaped.
 *  - "[citation:N]" in answer text becomes "[N]" when opts.search was set
 *    or search results were seen (otherwise the text is left alone).  A
 *    marker may be split over two deltas: only a possible marker prefix
 *    at the very end of a delta is held back, and only until the next
 *    delta or the end of the answer.
 *  - status or quasi_status "FINISHED" ends the answer once the event that
 *    carried it is processed (the token count may come later in the same
 *    BATCH): the held-back text and the references are written, then
 *    finish(CHAT_FINISH_STOP) with usage.total_tokens =
 *    accumulated_token_usage when upstream gave one (usage NULL if not).
 *    "INCOMPLETE" and "CONTENT_FILTER", not named by §2.7, end it the
 *    same way (still CHAT_FINISH_STOP; see statuses[] in stream.c).
 *  - The "finish" and "close" events end an answer that has content;
 *    "ready" gives the response_message_id; "update_session", "title" and
 *    unknown events are ignored.
 *  - An in-stream error -- a data line that is a JSON object without "v"
 *    carrying "error", a non-zero "code" or a non-empty "msg"; an "error"
 *    event (JSON or plain text); a "hint" event {"type":"error",
 *    "content":..., "finish_reason":...} -- calls sink->error(429 when
 *    the code reads as a rate limit, else 502, "upstream_error", the
 *    upstream code or "upstream_stream_error", the upstream message: one
 *    line) after the text held back, and returns DSS_UPSTREAM.
 *  - opts.thinking changes nothing today: THINK fragments are reasoning
 *    whether or not it was sent.
 *
 * The contract with the caller:
 *  - role("assistant") comes once, before the first text() or
 *    reasoning() and before finish(); error() may come without it.
 *    Text is valid UTF-8 (invalid bytes become U+FFFD), never empty and
 *    never split inside a character.  Each delta is one call (the answer
 *    text once its markers are rewritten); gathering the calls of one
 *    upstream read is the sink's flush(), which the caller calls.
 *  - Exactly one of finish() and error() ends the answer.  After it, or
 *    after a sink callback returned nonzero (DSS_ABORT: the sink is not
 *    called again), ds_stream_done() is 1 and events are ignored.
 *  - DSS_PROTO and DSS_ENOMEM reach no sink: the caller reports them
 *    (ds_stream_started() tells whether the answer already began).
 *  - Errors are sticky: every later call returns the same code.
 *
 * Limits: one event's data DSS_MAX_EVENT bytes, JSON nesting
 * DSS_JSON_DEPTH, paths DSS_PATH_MAX bytes, DSS_MAX_FRAGMENTS fragments
 * (over any of these: DSS_PROTO); DSS_MAX_RESULTS search results kept
 * (later ones ignored), titles cut to DSS_TITLE_MAX bytes, urls over
 * DSS_URL_MAX bytes dropped, error text cut to DSS_ERRMSG_MAX bytes.
 *
 * A decoder is not thread-safe; use one per upstream response.
 */
#ifndef UPSTREAM_DEEPSEEK_STREAM_H
#define UPSTREAM_DEEPSEEK_STREAM_H

#include <stddef.h>

#include "upstream/provider.h"

#define DSS_MAX_EVENT		(1u << 20)
#define DSS_JSON_DEPTH		32
#define DSS_PATH_MAX		256
#define DSS_MAX_FRAGMENTS	256
#define DSS_MAX_RESULTS		64
#define DSS_TITLE_MAX		256
#define DSS_URL_MAX		2048
#define DSS_ERRMSG_MAX		1024
/* "[citation:" + at most DSS_CITE_DIGITS digits + "]" */
#define DSS_CITE_DIGITS		6
/* the answer-held-back buffer: a marker prefix without its "]" */
#define DSS_HOLD_MAX		(10 + DSS_CITE_DIGITS)

struct ds_stream_opts {
	int	thinking;	/* thinking_enabled was sent */
	int	search;		/* search_enabled was sent */
};

enum ds_stream_err {
	DSS_OK = 0,
	DSS_ENOMEM,
	DSS_PROTO,	/* not the §2.7 format, or a limit exceeded */
	DSS_ABORT,	/* a sink callback asked to stop */
	DSS_UPSTREAM,	/* the upstream reported an error; sink has had error() */
	DSS__MAX
};

struct ds_stream;

const char		*ds_stream_strerror(enum ds_stream_err);

/*
 * Create a decoder.  The sink is copied (its ctx must outlive the
 * decoder); its callbacks may be NULL.  opts may be NULL.
 */
enum ds_stream_err	 ds_stream_new(struct ds_stream **,
			    const struct chat_sink *,
			    const struct ds_stream_opts *);

/*
 * Feed one complete SSE event: its name (NULL, "" or "message" when it
 * had none) and its joined data lines, len bytes (need not be
 * NUL-terminated; surrounding whitespace is ignored).
 */
enum ds_stream_err	 ds_stream_event(struct ds_stream *, const char *event,
			    const char *data, size_t len);

/*
 * The transfer ended cleanly.  If the answer is still open: with content
 * (text or reasoning received), write what is held, append the search
 * references and finish(CHAT_FINISH_STOP) -- ds_stream_finished_upstream()
 * stays 0, so the caller can tell (log) a cut-short answer; without any
 * content, DSS_PROTO and no sink call.  Returns DSS_OK when the answer
 * has been finished, the sticky error otherwise.  May be called again.
 */
enum ds_stream_err	 ds_stream_end(struct ds_stream *);

/* role() has been sent. */
int			 ds_stream_started(const struct ds_stream *);

/* finish() or error() has been sent, or the sink asked to stop. */
int			 ds_stream_done(const struct ds_stream *);

/*
 * The upstream itself ended the answer: a FINISHED (or INCOMPLETE,
 * CONTENT_FILTER) status, or a "finish"/"close" event.
 */
int			 ds_stream_finished_upstream(const struct ds_stream *);

/* response_message_id from the "ready" event, or -1. */
long			 ds_stream_message_id(const struct ds_stream *);

void			 ds_stream_free(struct ds_stream *);

#endif
