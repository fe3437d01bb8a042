/*
 * poll.h - the MiniMax answer decoder: successive get_chat_detail
 * snapshots in (providers.md §5.5), provider-neutral struct chat_sink
 * events out.  MiniMax has no stream: the client polls, and every answer
 * carries the whole chat so far, msg_content and
 * extra_info.thinking_content cumulative.  The decoder turns the
 * snapshots into deltas:
 *
 *	struct mm_poll		*p;
 *	struct mm_poll_opts	 o = { .final_only = !stream };
 *
 *	if (mm_poll_new(&p, sink, &o) != MMP_OK) ...
 *	for each answer of get_chat_detail:
 *		rc = mm_poll_feed(p, body, len);
 *		if (rc != MMP_OK || mm_poll_done(p)) stop;
 *		sink->flush(); wait longer while !mm_poll_changed(p)
 *	mm_poll_free(p);
 *
 * The rules:
 *  - The answer is the AI messages (msg_type 2) of the chat, in their
 *    order, each one's text after the previous one's with a blank line
 *    between (the same for the thinking).  msg_id tells them apart (a
 *    number or a string; a message without one is known by its place).
 *  - For the message being written, a new snapshot of a field that
 *    extends the last one gives the new suffix.  A shorter snapshot that
 *    is a prefix of the last one (an older copy from another replica) is
 *    ignored.  Any other change -- the upstream rewrote text the client
 *    already has -- cannot be taken back: the field goes on from the
 *    number of bytes the client has, at the next character boundary (the
 *    reference's own counter, made safe for UTF-8).
 *  - A new msg_id: when the previous message is still in the chat it was
 *    complete, and the new one starts after a blank line; when it is
 *    gone (replaced), a field of the new one that extends what the client
 *    has goes on as above, otherwise the new message starts after a blank
 *    line.
 *  - msg_content → sink->text(), thinking_content → sink->reasoning();
 *    invalid UTF-8 becomes U+FFFD, a delta is never empty and never ends
 *    inside a character.
 *  - chat.chat_status == 2 with a last AI message that has content ends
 *    the answer: finish(CHAT_FINISH_STOP) without usage (estimated by the
 *    sink).  chat_status 2 without any content for MMP_EMPTY_POLLS
 *    snapshots in a row is error(502, "empty_answer").
 *  - With opts.final_only (a non-stream answer), snapshots before the end
 *    are only looked at for progress; the final one is written whole.
 *    role() still comes with the first snapshot that shows any text, as
 *    it would in a stream: the answer has begun, and a failure after it
 *    is the answer's (no other account is tried).
 *  - A continued chat (opts.after: the id of the last AI message of the
 *    turn before) holds the earlier turns: only the AI messages after
 *    that one are the answer.  Until a message follows it, this turn has
 *    not shown up and a chat_status of 2 is the last turn's, not this
 *    one's end.
 *  - base_resp.status_code (or statusInfo.code) other than 0 is the
 *    upstream's error: 1001 (the login expired) error(401,
 *    "account_expired"), anything else error(502, "upstream_error"),
 *    with the upstream's message on one line; MMP_UPSTREAM.
 *
 * The contract with the caller is the DeepSeek decoder's: role() once
 * before any text, reasoning or finish(); exactly one of finish() and
 * error(); a sink callback that returns non-zero stops everything
 * (MMP_ABORT); MMP_PROTO and MMP_ENOMEM reach no sink (the caller reports
 * them); errors are sticky.
 *
 * Limits: a snapshot MMP_MAX_BODY bytes, JSON nesting MMP_JSON_DEPTH,
 * MMP_MAX_MESSAGES messages of which MMP_MAX_AI AI messages, ids
 * MMP_ID_MAX bytes, a field MMP_MAX_TEXT bytes (over any: MMP_PROTO),
 * error messages cut to MMP_ERRMSG_MAX bytes.
 */
#ifndef UPSTREAM_MINIMAX_POLL_H
#define UPSTREAM_MINIMAX_POLL_H

#include <stddef.h>

#include "upstream/provider.h"

#define MMP_MAX_BODY		(8u << 20)
#define MMP_MAX_TEXT		(2u << 20)
#define MMP_JSON_DEPTH		32
#define MMP_MAX_MESSAGES	1024
#define MMP_MAX_AI		64
#define MMP_ID_MAX		64
#define MMP_ERRMSG_MAX		300
#define MMP_EMPTY_POLLS		3
#define MMP_STATUS_DONE		2	/* chat.chat_status: answered */
#define MMP_CODE_EXPIRED	1001	/* the login is no longer valid */

struct mm_poll_opts {
	int		 final_only;	/* write the answer once complete */
	const char	*after;		/* NULL, or as above (<= MMP_ID_MAX) */
};

enum mm_poll_err {
	MMP_OK = 0,
	MMP_ENOMEM,
	MMP_PROTO,	/* not a get_chat_detail answer, or over a limit */
	MMP_ABORT,	/* a sink callback asked to stop */
	MMP_UPSTREAM,	/* the upstream said no; the sink has had error() */
	MMP__MAX
};

struct mm_poll;
struct json_object;

const char		*mm_poll_strerror(enum mm_poll_err);

/* MMP_PROTO: an opts.after that is empty or too long. */
enum mm_poll_err	 mm_poll_new(struct mm_poll **, const struct chat_sink *,
			    const struct mm_poll_opts *);
/* One answer of get_chat_detail, len bytes (need not be NUL-terminated). */
enum mm_poll_err	 mm_poll_feed(struct mm_poll *, const char *body,
			    size_t len);
/* The last feed showed something new upstream (text, status, message). */
int			 mm_poll_changed(const struct mm_poll *);
/* role() has been sent. */
int			 mm_poll_started(const struct mm_poll *);
/* finish() or error() has been sent, or the sink asked to stop. */
int			 mm_poll_done(const struct mm_poll *);
/* The id of the AI message written last (the one a next turn follows). */
const char		*mm_poll_message_id(const struct mm_poll *);
/* chat.chat_status of the last snapshot (-1: none yet). */
long			 mm_poll_status(const struct mm_poll *);
/* Rewrites seen (text changed behind the client; see above). */
long			 mm_poll_rewrites(const struct mm_poll *);
void			 mm_poll_free(struct mm_poll *);

/*
 * The envelope of every MiniMax JSON answer: base_resp {status_code,
 * status_msg} on /matrix/, statusInfo {code, message} on /v1/.  0 when
 * it says success or is absent; the message (one line, at most msgsz - 1
 * bytes, never cut inside a character) in msg.
 */
long			 mm_envelope(struct json_object *, char *msg,
			    size_t msgsz);
/* A non-zero envelope code told to the sink as the rules above say. */
void			 mm_fail_code(const struct chat_sink *, const char *what,
			    long code, const char *msg);

#endif
