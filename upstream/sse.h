/*
 * sse.h - Server-Sent Events re-framer for upstream streams.
 *
 * libcurl hands the write callback arbitrary chunks: a boundary can fall
 * anywhere, inside a UTF-8 sequence, inside a field name, or between the
 * CR and LF of one line ending.  The parser below accepts such chunks and
 * calls back once per complete event, following the WHATWG HTML "server-sent
 * events" interpretation rules:
 *
 *  - CR, LF and CRLF each end a line; a CR at the end of one chunk followed
 *    by LF at the start of the next is ONE line ending.
 *  - A leading UTF-8 BOM at the very start of the stream is dropped.
 *  - A blank line dispatches the event collected so far.  An event is only
 *    dispatched if it had at least one "data" field (WHATWG), so a lone
 *    "event: x" followed by a blank line is dropped.
 *  - "data" lines are joined with "\n".  "event" sets the event name (the
 *    last one wins; "message" when none was given).  "id", "retry" and
 *    unknown fields are ignored.  Lines starting with ':' are comments.
 *  - The field name ends at the first ':'; one space after it is stripped.
 *    A line without ':' is a field with an empty value.
 *
 * Deviation from WHATWG, on purpose: sse_finish() dispatches a pending
 * event at end of input even without the closing blank line, because some
 * upstreams close the stream right after "data: [DONE]\n".
 *
 * Memory: one growable buffer per parser, reused while an event is being
 * read, and let go when a fed chunk leaves nothing pending (a stream that
 * waits between events holds none).  Nothing is allocated per line.
 * Comment lines are skipped without being buffered, so keep-alive pings
 * cost nothing.
 *
 * A parser is not thread-safe; use one per stream.
 */
#ifndef SSE_H
#define SSE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest accepted event name (bytes); longer names fail with SSE_TOOBIG. */
#define SSE_NAME_MAX		128
/* Default limit for one event (its data plus the line being read). */
#define SSE_DEFAULT_MAX_EVENT	(4u * 1024 * 1024)

enum sse_err {
	SSE_OK = 0,
	SSE_ENOMEM,	/* buffer growth failed */
	SSE_TOOBIG,	/* an event or an event name exceeded its limit */
	SSE_ABORT,	/* the event callback returned nonzero */
	SSE_EINVAL,	/* bad argument (NULL parser or buffer) */
};

/*
 * Called once per complete event.  "event" is the NUL-terminated event
 * name ("message" when the event had no "event" field).  "data" holds the
 * joined data lines, data_len bytes; it is NUL-terminated at data[data_len]
 * for the convenience of string parsers, but may itself contain NUL bytes.
 * Both pointers are only valid during the call.  Return 0 to continue;
 * any other value stops parsing and makes sse_feed()/sse_finish() return
 * SSE_ABORT.
 */
typedef int (*sse_event_fn)(void *ctx, const char *event, const char *data,
    size_t data_len);

/*
 * Parser state.  The caller owns the storage (stack, request struct, ...);
 * the fields are private to sse.c.
 */
struct sse_parser {
	sse_event_fn	 on_event;
	void		*ctx;
	size_t		 max_event;	/* limit for data + current line */
	char		*buf;		/* [data][current line] */
	size_t		 cap;
	size_t		 data_len;	/* joined data of the pending event */
	size_t		 line_len;	/* bytes of the line being read */
	char		 name[SSE_NAME_MAX + 1];
	bool		 have_data;	/* at least one data field seen */
	bool		 have_name;	/* an event field was seen */
	bool		 cr_pending;	/* last byte was CR: swallow one LF */
	bool		 in_comment;	/* skipping a ':' line */
	bool		 first_line;	/* still in the stream's first line */
	enum sse_err	 err;		/* sticky error */
};

/*
 * Prepare a parser.  max_event limits the bytes buffered for one event
 * (data of the event plus the line currently being read); 0 selects
 * SSE_DEFAULT_MAX_EVENT.  Does not allocate and cannot fail.
 */
void		 sse_init(struct sse_parser *p, sse_event_fn on_event,
		    void *ctx, size_t max_event);

/*
 * Feed len bytes.  Calls on_event for every event completed by them.
 * Returns SSE_OK, or the first error; errors are sticky: once a call has
 * failed, every later sse_feed()/sse_finish() returns the same error until
 * sse_reset().  On SSE_ABORT the bytes after the aborting event are not
 * looked at.
 */
enum sse_err	 sse_feed(struct sse_parser *p, const void *buf, size_t len);

/*
 * End of input.  A line not terminated by a line ending is processed as if
 * it were, then a pending event (one with data) is dispatched even without
 * the closing blank line.  If midline is not NULL, *midline tells whether
 * the input ended in the middle of a line (often a sign of a truncated
 * upstream body).  The parser is then ready for a new stream; its buffer
 * is kept.
 */
enum sse_err	 sse_finish(struct sse_parser *p, bool *midline);

/* Forget all state (and a sticky error) but keep the buffer for reuse. */
void		 sse_reset(struct sse_parser *p);

/* Release the buffer.  The parser may be sse_init()ed again afterwards. */
void		 sse_free(struct sse_parser *p);

/*
 * An event's data without the JSON white space (space, tab, CR, LF) at
 * either end: *data moves past the leading part, the length left is
 * returned (0 for NULL data).
 */
size_t		 sse_trim(const char **data, size_t len);

/* Static description of an error code. */
const char	*sse_strerror(enum sse_err err);

#endif
