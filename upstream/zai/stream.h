/*
 * stream.h - the Z.ai completion stream decoder: upstream SSE events in,
 * provider-neutral struct chat_sink events out (protocols/providers.md
 * §8.5).
 *
 * The caller frames the upstream bytes into events (upstream/sse.c) and
 * feeds them one complete event at a time:
 *
 *	if (zai_stream_new(&st, sink, &opts) != ZS_OK) ...
 *	for each event:  rc = zai_stream_event(st, name, data, len);
 *	                 if (rc != ZS_OK || zai_stream_done(st)) stop;
 *	                 sink->flush() after each upstream read (the caller's)
 *	at upstream EOF: rc = zai_stream_end(st);
 *	zai_stream_free(st);
 *
 * Every event is data: {"type":"chat:completion","data":{...}}:
 *  - Events of another type are ignored, as are data lines that are not
 *    JSON and "[DONE]" (which ends nothing by itself).
 *  - data.phase says what data.delta_content is: "thinking" goes to
 *    sink->reasoning() with <details ...> / </details> wrappers (older
 *    web builds) taken out; "answer" to sink->text() with web-search
 *    citation markers "【...turnNsearchM...】" taken out; "tool_call",
 *    "tool_response", "other" and unknown phases carry nothing for the
 *    client.  An event without a phase keeps the last one.  A possible
 *    marker or tag at the end of a delta is held back until the next
 *    delta of its phase shows what it is, or the phase ends (then it is
 *    text after all).
 *  - data.usage {prompt_tokens, completion_tokens, total_tokens}, in any
 *    event (the "other" phase carries it, "done" may), is kept; the last
 *    one given goes to finish().
 *  - Phase "done", or data.done true, ends the answer: what is held is
 *    written, then finish(CHAT_FINISH_STOP, the usage or NULL) -- also
 *    when nothing was said (an empty answer is an answer).
 *  - An error -- a top-level "error" or data.error: {detail, code} (or a
 *    string) -- calls sink->error() with zai_fault_of()'s mapping after
 *    what is held, and returns ZS_UPSTREAM.
 *
 * The contract with the caller: role("assistant") comes once, before the
 * first text() or reasoning() and before finish(); error() may come
 * without it.  Text is valid UTF-8 (invalid bytes become U+FFFD), never
 * empty, never split inside a character.  Exactly one of finish() and
 * error() ends the answer; after it, or after a sink callback returned
 * nonzero (ZS_ABORT), zai_stream_done() is 1 and events are ignored.
 * ZS_PROTO and ZS_ENOMEM reach no sink: the caller reports them.  Errors
 * are sticky.
 *
 * Limits: one event's data ZS_MAX_EVENT bytes, JSON nesting
 * ZS_JSON_DEPTH (over: ZS_PROTO); token counts above ZS_TOKENS_MAX are
 * not believed; error text cut to ZS_ERRMSG_MAX bytes, codes to
 * ZS_CODE_MAX.  A decoder is not thread-safe; use one per response.
 */
#ifndef UPSTREAM_ZAI_STREAM_H
#define UPSTREAM_ZAI_STREAM_H

#include <stddef.h>

#include "upstream/provider.h"

#define ZS_MAX_EVENT		(1u << 20)
#define ZS_JSON_DEPTH		32
#define ZS_TOKENS_MAX		100000000L
#define ZS_ERRMSG_MAX		1024
#define ZS_CODE_MAX		64

struct zai_stream_opts {
	int	expired;	/* the login's exp has passed: a 401 says so */
};

enum zai_stream_err {
	ZS_OK = 0,
	ZS_ENOMEM,
	ZS_PROTO,	/* not the §8.5 format, or a limit exceeded */
	ZS_ABORT,	/* a sink callback asked to stop */
	ZS_UPSTREAM,	/* the upstream said no; the sink has had error() */
	ZS__MAX
};

/*
 * What an upstream refusal means for the client and for the account,
 * from its HTTP status or in-stream code (0: none; a detail that starts
 * with "NNN:" gives one) and its detail:
 *   "Signature validation failed" / 签名验证失败  502 signature_rejected
 *       (our signing is out of date, not the account's fault)
 *   "... user level ..."     403 model_not_available (a guest login
 *       asked for a model it may not use; another account may)
 *   401   401 invalid_api_key, or account_expired when expired is set
 *   403   403 upstream_forbidden     429  429 rate_limit_exceeded
 *   400   400 upstream_bad_request   else 502 upstream_error
 */
struct zai_fault {
	int		 status;
	const char	*type;
	const char	*code;
};

void		 zai_fault_of(long code, const char *detail, int expired,
		    struct zai_fault *);

struct zai_stream;

const char		*zai_stream_strerror(enum zai_stream_err);
enum zai_stream_err	 zai_stream_new(struct zai_stream **,
			    const struct chat_sink *,
			    const struct zai_stream_opts *);
/* One complete SSE event (name unused: Z.ai names none). */
enum zai_stream_err	 zai_stream_event(struct zai_stream *,
			    const char *event, const char *data, size_t len);
/*
 * The transfer ended without "done": an answer that has content is
 * finished (zai_stream_finished_upstream() stays 0, so the caller can
 * log the cut); without any, ZS_PROTO and no sink call.
 */
enum zai_stream_err	 zai_stream_end(struct zai_stream *);
int			 zai_stream_started(const struct zai_stream *);
int			 zai_stream_done(const struct zai_stream *);
int			 zai_stream_finished_upstream(
			    const struct zai_stream *);
void			 zai_stream_free(struct zai_stream *);

#endif
