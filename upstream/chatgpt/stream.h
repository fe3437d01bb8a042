/*
 * stream.h - the ChatGPT conversation stream decoder: upstream SSE events
 * in, provider-neutral struct chat_sink events out (protocols/chatgpt.md
 * §5.1-§5.4, with the §16 items 5-7 fixed on purpose).
 *
 * The caller frames the upstream bytes into events (upstream/sse.c) and
 * feeds them one complete event at a time:
 *
 *	struct chatgpt_stream	*st;
 *	struct chatgpt_stream_opts o = { .history = 1,
 *	    .resolve_image = my_resolver, .resolve_ctx = call };
 *
 *	if (chatgpt_stream_new(&st, sink, &o) != CGS_OK) ...
 *	for each event:  rc = chatgpt_stream_event(st, name, data, len);
 *	                 if (rc != CGS_OK || chatgpt_stream_done(st)) stop;
 *	at upstream EOF: rc = chatgpt_stream_end(st);
 *	if (!chatgpt_stream_started(st))
 *		// nothing reached the sink: retry with another credential,
 *		// finally 403 "Our systems have detected unusual activity..."
 *		// (chatgpt_stream_upstream_error() has the upstream's words)
 *	chatgpt_stream_free(st);
 *
 * The contract with the caller:
 *  - START GATE.  No sink callback runs until the stream has started: an
 *    assistant or tool message with status "in_progress" (§5.4), or a
 *    blocking moderation event.  Before that, user/system snapshots,
 *    messages that arrive already finished, typed events and [DONE] are
 *    consumed silently.  chatgpt_stream_started() tells which side of the
 *    gate the stream is on.
 *  - Once started, the sink gets role("assistant") once, then meta() (only
 *    with opts.history) whenever the message id changes, text()/reasoning()
 *    deltas, and exactly ONE terminal callback: finish() or error().  The
 *    decoder guarantees that terminal callback by the time
 *    chatgpt_stream_end() returns, unless a sink callback returned nonzero
 *    (CGS_ABORT: the sink asked to stop; it is not called again).
 *  - Any non-OK return after the start means the sink has already been
 *    told (error() with status 502), except CGS_ABORT.  Before the start,
 *    non-OK returns reach no sink: the caller decides (retry or answer).
 *  - Errors are sticky: every later call returns the same code.  After the
 *    terminal callback or [DONE], further events are ignored (CGS_OK), and
 *    chatgpt_stream_done() is true so the caller may stop reading early.
 *
 * Both upstream encodings are accepted and detected per event:
 *  - the old format (§5.1): every "data:" event is a full snapshot of one
 *    message, text cumulative;
 *  - "v1" (§5.2): "event: delta_encoding" / data "v1" (a bare data "v1" is
 *    also recognised), then "event: delta" lines that create documents
 *    (a line with "c" and an object "v" and no other p/o than ""/add/
 *    replace creates or replaces document c and makes it current) or patch
 *    the current one through jpatch.c (p/o inherited from the last line).
 *    Nameless JSON objects with "v" are deltas too once v1 was seen.
 *    The common flat lines ({"v":"..."}, {"p":..,"o":..,"v":".."} with
 *    string values) are decoded by a strict fast path that falls back to
 *    json-c for anything else: json-c 0.16 costs ~3 us per parse call
 *    (it switches the C locale every time), several times the rest of the
 *    work per event.  Other JSON events go through skim.c, which
 *    validates the whole event and, for old-format events, builds only
 *    the members the conversion reads, so the metadata of a long message
 *    is not turned into a json-c tree on every event; json-c reads what
 *    skim.c declines.  opts.json_only turns both off (tests compare).
 *    After every applied delta the current document goes through the very
 *    same snapshot conversion as an old-format event, so one conversation
 *    gives identical sink events in both encodings.  Typed lines
 *    ({"type": ...}) are never patches.  A delta that cannot be applied
 *    (unknown op, missing path, index out of range, wrong type) is skipped
 *    and counted (chatgpt_stream_skipped(), for a log line), as the
 *    reference does; a limit overrun is CGS_PROTO.
 *
 * Snapshot conversion (the §5.4 algorithm, improved):
 *  - Messages of role user/system and unknown roles are skipped.  Per
 *    message id the decoder remembers how much it has emitted (a small LRU
 *    of CGS_MAX_MSGS), so a message id change mid-stream continues cleanly
 *    (§16.6 fixed) and re-sent snapshots emit nothing twice.
 *  - Text deltas are cut from the cumulative text by UTF-8 byte length and
 *    never end inside a character: an incomplete trailing sequence is held
 *    back until it completes; invalid bytes become U+FFFD.  A text that
 *    shrinks emits nothing (what the reference's slicing does).
 *  - Assistant "text" (recipient "all") goes to text().  Its new
 *    metadata.citations are appended after that event's text delta as
 *    " [title](url)" (the text delta is NOT dropped, §16.6 fixed).
 *    Assistant "text" to another recipient (a tool call such as
 *    dalle.text2im), "code" and tool "execution_output" are fenced:
 *    "```<language|recipient>\n" ... "\n```", "```Output\n" for output.
 *    Consecutive messages are separated by a blank line; fences are closed
 *    before anything else is written and before finish().
 *  - Reasoning goes to reasoning(), never to text() (§16.5 fixed):
 *    content_type "thoughts" (content.thoughts[].content, one paragraph per
 *    thought; summaries are not emitted) and o1-style tool-role "text"
 *    messages that were streamed in_progress (initial_text/finished_text
 *    such as "Thought for 7 seconds" are not emitted).  reasoning_recap,
 *    tether_* and other content types are ignored.
 *  - multimodal_text image_asset_pointer parts are emitted once, when the
 *    message finishes: "![image](<url>)" with the URL from
 *    opts.resolve_image ("file-service://ID" -> CHATGPT_ASSET_FILE_SERVICE,
 *    §1 row 8; "sediment://ID" -> CHATGPT_ASSET_SEDIMENT, row 9), or
 *    "Failed to load the image." when it fails or there is no resolver.
 *    IDs outside [A-Za-z0-9_-]{1,128} are never passed to the resolver.
 *    Progress lines are not emitted.  The resolver runs inside
 *    chatgpt_stream_event(): when that is called from a curl write
 *    callback, the resolver must use another easy handle.
 *  - When an assistant "text" message ends the answer, its
 *    "(sandbox:PATH)" links (at most CGS_MAX_SANDBOX, §5.4 (c)) are
 *    resolved (CHATGPT_ASSET_SANDBOX) and listed after the text, one
 *    "[<file name>](<url>)" per line; links that fail are left out.  The
 *    reference does this only when the final snapshot adds no text; we
 *    always do.
 *  - A message whose status starts with "finished" ends the answer when
 *    end_turn is true, or when metadata.finish_details.type is
 *    "max_tokens" or "interrupted" (even with end_turn false/null).
 *    finish reason: "max_tokens" -> CHAT_FINISH_LENGTH, anything else ->
 *    CHAT_FINISH_STOP.  finish() is called as soon as that snapshot is
 *    processed, not when a later line arrives (§16.7 fixed).  Other
 *    finished messages (tool calls, reasoning) are intermediate.
 *  - A moderation event ({"type":"moderation"} without "message") whose
 *    moderation_response.blocked is true, or that has no
 *    moderation_response object (the reference's rule), emits the fixed
 *    apology text (CHATGPT_MODERATION_TEXT, after a blank line if text was
 *    already sent) and finish(CHAT_FINISH_CONTENT_FILTER).  It also passes
 *    the start gate.  Flagged-but-not-blocked events are ignored.
 *  - An in-stream error ({"message": null, "error": <string|object>})
 *    before the start: CGS_UPSTREAM, the text via
 *    chatgpt_stream_upstream_error(), no sink call.  After the start:
 *    error(502, "upstream_error", <error.code or NULL>, <text>).
 *  - After the start, [DONE] or message_stream_complete without a finish
 *    yet: finish(CHAT_FINISH_STOP) (the upstream says it ended cleanly).
 *    chatgpt_stream_end() without either: error(502, "upstream_error",
 *    NULL, "upstream stream ended early") and CGS_TRUNCATED.
 *  - finish() gets usage == NULL: the decoder does not count tokens.
 *  - The streaming max_tokens chunk count of the reference (§16.5) is not
 *    reproduced here; the sink can enforce a limit.
 *
 * Limits (opts, 0 = default): one event's data (CGS_DEFAULT_MAX_EVENT),
 * any message text or appended string (CGS_DEFAULT_MAX_TEXT), the bytes of
 * events that built the live v1 documents (CGS_DEFAULT_MAX_DOC_BYTES), and
 * fixed ones: CGS_MAX_DOCS live documents (least recently used ones are
 * dropped), document numbers c in [0, CGS_MAX_C], JSON nesting
 * CGS_JSON_DEPTH, pointer depth and patch nesting as in jpatch.h.
 * Exceeding one is CGS_PROTO, never unbounded growth.
 *
 * A decoder is not thread-safe; use one per upstream response.
 */
#ifndef UPSTREAM_CHATGPT_STREAM_H
#define UPSTREAM_CHATGPT_STREAM_H

#include <stddef.h>

#include "upstream/provider.h"

#define CGS_DEFAULT_MAX_EVENT		(4u * 1024 * 1024)
#define CGS_DEFAULT_MAX_TEXT		(4u * 1024 * 1024)
#define CGS_DEFAULT_MAX_DOC_BYTES	(16u * 1024 * 1024)
#define CGS_MAX_DOCS			16
#define CGS_MAX_C			1000000
#define CGS_MAX_MSGS			16
#define CGS_JSON_DEPTH			64
#define CGS_MAX_SANDBOX			8

/* §5.4 (a), verbatim. */
#define CHATGPT_MODERATION_TEXT	"I'm sorry, I cannot provide or engage " \
	"in any content related to pornography, violence, or any unethical " \
	"material. If you have any other questions or need assistance, " \
	"please feel free to let me know. I'll do my best to provide " \
	"support and assistance."

enum chatgpt_stream_err {
	CGS_OK = 0,
	CGS_ENOMEM,	/* allocation failed */
	CGS_PROTO,	/* malformed event or a limit exceeded */
	CGS_ABORT,	/* a sink callback returned nonzero */
	CGS_UPSTREAM,	/* the upstream sent an in-stream error */
	CGS_NOSTART,	/* end: the stream ended before it started */
	CGS_TRUNCATED,	/* end: started, but no finish and no [DONE] */
	CGS_EINVAL,	/* bad argument */
};

enum chatgpt_asset {
	CHATGPT_ASSET_FILE_SERVICE,	/* file-service://ID, §1 row 8 */
	CHATGPT_ASSET_SEDIMENT,		/* sediment://ID, §1 row 9 */
	CHATGPT_ASSET_SANDBOX,		/* (sandbox:PATH) link, §1 row 10 */
};

/*
 * Turn an asset reference into a download URL.  ref is the file id for
 * the image kinds ([A-Za-z0-9_-]{1,128}) and the sandbox path for
 * CHATGPT_ASSET_SANDBOX ("/...", at most 512 bytes of UTF-8 without
 * spaces, controls, quotes, brackets, parentheses or "..": still
 * URL-encode it).  conversation_id is the last one the stream named and
 * message_id the message being converted (either may be NULL; rows 9 and
 * 10 need them).  On success return 0 and a malloc'd, NUL-terminated
 * http(s) URL in *url (the decoder frees it); otherwise nonzero.
 */
typedef int (*chatgpt_resolve_fn)(void *ctx, enum chatgpt_asset kind,
    const char *ref, const char *conversation_id, const char *message_id,
    char **url);

struct chatgpt_stream_opts {
	int			 history;	/* call sink->meta */
	chatgpt_resolve_fn	 resolve_image;	/* NULL: images fail */
	void			*resolve_ctx;
	size_t			 max_event;	/* 0: defaults */
	size_t			 max_text;
	size_t			 max_doc_bytes;
	int			 json_only;	/* tests: json-c only */
};

struct chatgpt_stream;

/*
 * Create a decoder.  The sink is copied (its ctx must outlive the
 * decoder); opts may be NULL.  Returns CGS_OK, CGS_ENOMEM or CGS_EINVAL.
 */
enum chatgpt_stream_err	 chatgpt_stream_new(struct chatgpt_stream **out,
			    const struct chat_sink *sink,
			    const struct chatgpt_stream_opts *opts);

void			 chatgpt_stream_free(struct chatgpt_stream *st);

/*
 * Feed one complete SSE event.  event_name is the SSE "event" field, NULL
 * (or "" or "message") when there was none; data is its joined data lines,
 * len bytes (need not be NUL-terminated).  Surrounding whitespace is
 * ignored; empty events are ignored.  Returns CGS_OK, or CGS_PROTO,
 * CGS_ENOMEM, CGS_ABORT, CGS_UPSTREAM (see above).
 */
enum chatgpt_stream_err	 chatgpt_stream_event(struct chatgpt_stream *st,
			    const char *event_name, const char *data,
			    size_t len);

/*
 * The upstream closed.  Returns CGS_OK if the sink has had its finish() or
 * error() already, CGS_NOSTART if the stream never started (no sink call),
 * CGS_TRUNCATED after telling the sink the stream ended early, or the
 * sticky error.  May be called more than once.
 */
enum chatgpt_stream_err	 chatgpt_stream_end(struct chatgpt_stream *st);

/* 1 once the start gate has opened (the sink has been called). */
int			 chatgpt_stream_started(const struct chatgpt_stream *st);

/*
 * 1 once nothing more will reach the sink: the terminal callback ran,
 * [DONE] was seen, or an error occurred.
 */
int			 chatgpt_stream_done(const struct chatgpt_stream *st);

/* The in-stream error text (UTF-8, at most 1024 bytes) or NULL. */
const char		*chatgpt_stream_upstream_error(
			    const struct chatgpt_stream *st);

/* The last conversation_id the stream named, or NULL. */
const char		*chatgpt_stream_conversation_id(
			    const struct chatgpt_stream *st);

/*
 * The id of the last assistant (or tool) message the stream converted,
 * whatever opts.history says, or NULL: the message a next turn of the
 * same conversation goes after.
 */
const char		*chatgpt_stream_message_id(
			    const struct chatgpt_stream *st);

/* 1 once the sink took finish(): the whole answer reached it. */
int			 chatgpt_stream_finished(
			    const struct chatgpt_stream *st);

/* 1 if the stream used the v1 delta encoding. */
int			 chatgpt_stream_is_v1(const struct chatgpt_stream *st);

/* v1 delta lines (or patch sub-operations) that could not be applied. */
size_t			 chatgpt_stream_skipped(
			    const struct chatgpt_stream *st);

const char		*chatgpt_stream_strerror(enum chatgpt_stream_err err);

#endif
