/*
 * stream.h - the GLM assistant/stream decoder: upstream SSE events in,
 * provider-neutral struct chat_sink events out (providers.md §3.6).
 *
 * The caller frames the upstream bytes into events (upstream/sse.c) and
 * feeds them one complete event at a time:
 *
 *	struct glm_stream	*st;
 *
 *	if (glm_stream_new(&st, sink) != GLMS_OK) ...
 *	for each event:  rc = glm_stream_event(st, name, data, len);
 *	                 if (rc != GLMS_OK || glm_stream_done(st)) stop;
 *	                 sink->flush() after each upstream read (the caller's)
 *	at upstream EOF: rc = glm_stream_end(st);
 *	glm_stream_free(st);
 *
 * Every data line is a whole snapshot, not a delta:
 * {conversation_id, status, parts: [{logic_id, status, content: [items],
 * meta_data}], last_error}.  The decoder keeps the parts by logic_id (a
 * part without one is keyed by its place in the event); a snapshot
 * replaces the parts it names and keeps the others.  After each event the
 * whole answer is rendered again and only what the client has not seen
 * goes out:
 *  - a part's text is its items in order: "text" items as they are;
 *    "image" items, once the part's status is "finish", as one
 *    "![image](URL)" per http(s) image and a "\n"; "code" items as
 *    "```python\n" CODE, closed by "\n```\n" once the part is finished;
 *    "execution_output" items of a finished part as CONTENT "\n"; other
 *    items (tool_result, ...) as nothing.  "think" items are the part's
 *    reasoning.  Parts are joined with "\n" (empty ones left out), the
 *    answer and the reasoning each.
 *  - search results (meta_data.tool_result_extra.search_results of any
 *    part: {match_key, url}) turn the citation markers of the answer,
 *    "turn<digits><letters><digits>" with or without "【" "】" around it,
 *    whose key is known into " [N](URL)", N counting the keys in the
 *    order they are first cited.  Unknown keys stay as they are.
 *  - the text that went out is remembered; a render that extends it
 *    sends the rest, one that repeats it or is shorter (a snapshot that
 *    shrank) sends nothing, one that differs goes on from where the
 *    client is, at a character boundary.  The end of the answer that
 *    may still become a citation marker is held back until the next
 *    event or the end.
 *  - reasoning goes to sink->reasoning(), the answer to sink->text(),
 *    reasoning first within an event.
 *  - status "finish" or "intervene" ends the answer once the event's
 *    parts are rendered (nothing is held back then); "intervene" adds
 *    "\n\n" and last_error.intervene_text to the answer.  Then
 *    finish(CHAT_FINISH_STOP) without usage (GLM counts nothing).
 *  - status "error" or "failed", an envelope {code|status: non-zero
 *    number, message} without parts, or an "error" event call
 *    sink->error(): 401 "account_expired" for codes 40001 and 40102, 429
 *    "rate_limit_error" when the code reads as a rate limit, else 502
 *    "upstream_error"; the code passed on is the upstream's (a token of
 *    [A-Za-z0-9_.-]) or "upstream_stream_error"; the message is one
 *    line, at most GLMS_ERRMSG_MAX bytes.  Returns GLMS_UPSTREAM.
 *  - other event names are ignored, and so is a "[DONE]" data line.
 *
 * The contract with the caller:
 *  - role("assistant") comes once, before any text() or reasoning() and
 *    before finish(); error() may come without it.  Text is valid UTF-8
 *    (invalid bytes become U+FFFD), never empty, never split inside a
 *    character.
 *  - Exactly one of finish() and error() ends the answer.  After it, or
 *    after a sink callback returned nonzero (GLMS_ABORT: the sink is not
 *    called again), glm_stream_done() is 1 and events are ignored.
 *  - GLMS_PROTO and GLMS_ENOMEM reach no sink: the caller reports them
 *    (glm_stream_started() tells whether the answer already began).
 *  - Errors are sticky.
 *
 * Limits: one event's data GLMS_MAX_EVENT bytes, JSON nesting
 * GLMS_JSON_DEPTH, GLMS_MAX_PARTS parts, GLMS_MAX_ITEMS items a part,
 * GLMS_MAX_TEXT bytes of rendered answer or reasoning, logic ids
 * GLMS_LOGIC_MAX bytes (over any: GLMS_PROTO); GLMS_MAX_RESULTS search
 * results kept (later ones ignored), keys over GLMS_KEY_MAX and urls
 * over GLMS_URL_MAX dropped; a conversation id over GLMS_ID_MAX or with
 * other bytes than [A-Za-z0-9_-] is not kept.
 */
#ifndef UPSTREAM_GLM_STREAM_H
#define UPSTREAM_GLM_STREAM_H

#include <stddef.h>

#include "upstream/provider.h"

#define GLMS_MAX_EVENT		(4u << 20)
#define GLMS_JSON_DEPTH		32
#define GLMS_MAX_PARTS		256
#define GLMS_MAX_ITEMS		256
#define GLMS_MAX_TEXT		(8u << 20)
#define GLMS_LOGIC_MAX		128
#define GLMS_MAX_RESULTS	64
#define GLMS_KEY_MAX		40
#define GLMS_URL_MAX		2048
#define GLMS_ID_MAX		128
#define GLMS_ERRMSG_MAX		1024

enum glm_stream_err {
	GLMS_OK = 0,
	GLMS_ENOMEM,
	GLMS_PROTO,	/* not the §3.6 format, or a limit exceeded */
	GLMS_ABORT,	/* a sink callback asked to stop */
	GLMS_UPSTREAM,	/* the upstream reported an error; sink has error() */
	GLMS__MAX
};

struct glm_stream;

const char		*glm_stream_strerror(enum glm_stream_err);

/* A decoder; the sink is copied (its ctx must outlive the decoder). */
enum glm_stream_err	 glm_stream_new(struct glm_stream **,
			    const struct chat_sink *);

/*
 * One complete SSE event: its name (NULL, "" or "message" when it had
 * none) and its data, len bytes (surrounding whitespace is ignored).
 */
enum glm_stream_err	 glm_stream_event(struct glm_stream *,
			    const char *event, const char *data, size_t len);

/*
 * The transfer ended cleanly.  An answer still open with content is sent
 * whole and finished (glm_stream_finished_upstream() stays 0); without
 * any content, GLMS_PROTO and no sink call.  Returns GLMS_OK when the
 * answer has been finished, the sticky error otherwise.
 */
enum glm_stream_err	 glm_stream_end(struct glm_stream *);

/* role() has been sent. */
int			 glm_stream_started(const struct glm_stream *);
/* finish() or error() has been sent, or the sink asked to stop. */
int			 glm_stream_done(const struct glm_stream *);
/* The upstream itself ended the answer (finish or intervene). */
int			 glm_stream_finished_upstream(
			    const struct glm_stream *);
/* The conversation id of the first event that named one, or NULL. */
const char		*glm_stream_conversation(const struct glm_stream *);

void			 glm_stream_free(struct glm_stream *);

#endif
