/*
 * What every provider's calls need, so the eight of them do not each
 * write it again: a header list in the request arena, the upstream base
 * and the proxy of this call, failures told to the sink in OpenAI's
 * shape, Cloudflare pages recognised, a clock for latencies, an event
 * stream fed to a decoder.
 */
#ifndef UPSTREAM_CALL_H
#define UPSTREAM_CALL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "fcgi/conf.h"
#include "upstream/http.h"
#include "upstream/provider.h"
#include "upstream/sse.h"

#define CALL_MAX_HEADERS	48

/*
 * The session owns the answer's chat (provider.h): its ids, each cut at
 * PROVIDER_SESSION_ID_MAX; parent may be NULL.  -1 when out of memory
 * (then the chat is not kept).  call_session_clear() frees them.
 */
int	 call_session_keep(struct provider_session *, const char *chat,
	    const char *parent);
void	 call_session_clear(struct provider_session *);

struct call_hdrs {
	struct arena	*arena;
	const char	*v[CALL_MAX_HEADERS + 1];	/* NULL-terminated */
	size_t		 n;
};

void	 call_hdrs_init(struct call_hdrs *, struct arena *);
/* Appends "name: value" (printf-style); silently full past the limit. */
void	 call_hdr(struct call_hdrs *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The list as an arena array that outlives h (NULL: out of memory). */
const char **call_hdrs_done(struct call_hdrs *);

/* A random UUIDv4 in its 36-character text form. */
void	 call_uuid4(char out[37]);

/*
 * s percent-encoded in the arena: RFC 3986 unreserved characters and
 * those of keep pass, every other byte becomes %XX.
 */
char	*call_pct_encode(struct arena *, const char *s, const char *keep);

/* One of the base URLs at random, without a trailing '/'. */
const char *call_base(struct arena *, const struct strlist *);
/*
 * An entry of a proxy list (PROXY_URL, §11.3): with sticky, always the
 * same one for a credential, else random; "{}" in it becomes
 * md5(credential) for upstream sessions.  NULL when the list is empty.
 */
const char *call_proxy(struct arena *, const struct strlist *,
	    const char *credential, int sticky);

/* The sink's error(), printf-style. */
void	 call_fail(const struct chat_sink *, int status, const char *type,
	    const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
void	 call_vfail(const struct chat_sink *, int status, const char *type,
	    const char *code, const char *fmt, va_list)
	    __attribute__((format(printf, 5, 0)));
/*
 * A provider's raw_credential(): the Bearer as the client's own
 * credential, or one of a comma list of them at random (as the
 * single-provider proxies take it), if ok() takes it (placeholders such
 * as "sk-..." it must not).  1 with *out set (the secret in the arena),
 * else 0.
 */
int	 call_own_credential(struct arena *, const char *bearer,
	    int (*ok)(const char *, size_t), struct provider_account *out);
/* A stable small hash of a credential: the same pick for the same one. */
unsigned call_hash(const char *);
/* The sink's 503 for a step out of memory; nothing without a sink. */
void	 call_fail_nomem(const struct chat_sink *);
/* A transport failure (no HTTP answer) of provider's step `what`. */
void	 call_fail_net(const struct chat_sink *, const char *provider,
	    const char *what, enum up_err);
/*
 * A non-2xx HTTP answer of provider's step `what`, mapped the way every
 * provider maps it (401 → invalid credential, 403, 429 with Retry-After,
 * 5xx, Cloudflare pages); detail is the upstream's message or NULL.
 */
void	 call_fail_http(const struct chat_sink *, const char *provider,
	    const char *what, const struct http_resp *, const char *detail);
/*
 * The end of a JSON call that did not give what was wanted: a transport
 * failure, an HTTP error status, or an answer without the expected data
 * (the upstream's code and msg, its message, or none).  Told to the sink
 * (when not NULL) the way call_fail_net/call_fail_http do, and written
 * into msg for validate() when msg holds nothing yet.  display names
 * the provider in the message, provider in the logs.
 */
void	 call_fail_answer(const struct chat_sink *, const char *provider,
	    const char *display, const char *what, enum up_err,
	    const struct http_resp *, long code, char *msg, size_t msgsz);
/*
 * A purge() that failed, for the operator: status is the upstream's HTTP
 * status (0: no answer at all), login that the account was refused, msg
 * what the provider's call kept (call_fail_answer's words).  The error
 * is UP_NETWORK without an answer, UP_HTTP for a non-2xx, UP_PROTO for
 * a 2xx that said no.  Logged with the account's fingerprint only.
 */
void	 call_purge_fail(struct provider_purge *, const char *provider,
	    const struct provider_account *, long status, int login,
	    const char *msg);
/* A purge() that worked: logged with the fingerprint; 0. */
int	 call_purge_done(struct provider_purge *, const char *provider,
	    const struct provider_account *, long deleted);
/* The body is a Cloudflare challenge or block page. */
int	 call_is_cloudflare(const struct http_resp *);
/* Retry-After in seconds, or -1. */
long	 call_retry_after(const struct http_resp *);

long	 call_ms_since(const struct timespec *);
/*
 * Proof-of-work time of the request this thread serves, for /metrics: a
 * provider adds each solve; the handler takes the sum (and the number of
 * solves) after its attempts, which also starts it again.
 */
void	 call_pow_add(long ms);
long	 call_pow_take(int *solves);

/*
 * Work for after the answer (pc->after: deleting the upstream chat): fn
 * gets a copy of state, size bytes, made in the request's arena.  -1
 * when there is no slot for it or no memory (the work is left undone).
 */
int	 call_defer(const struct provider_call *, void (*fn)(void *),
	    const void *state, size_t size);

/*
 * The body of a streamed answer, for http_req.on_data: 2xx bytes of an
 * event stream go through the SSE re-framer to on_event, and the sink
 * is flushed after each upstream read (one write to the client per
 * read); a body of another type (a JSON refusal with status 200) is kept,
 * up to body_max bytes, for the message.  The transfer stops once
 * done(ctx) says the decoder has ended the answer.
 */
struct call_stream {
	const struct http_resp	*resp;
	const struct chat_sink	*sink;
	struct sse_parser	 sse;
	int			(*done)(void *ctx);
	void			*ctx;
	int			 not_sse;	/* the other type came */
	int			 bad_frame;	/* over sse.c's limits */
	struct buf		 body;
};

void	 call_stream_init(struct call_stream *, const struct http_resp *,
	    const struct chat_sink *, sse_event_fn on_event,
	    int (*done)(void *), void *ctx, size_t body_max);
int	 call_stream_data(void *call_stream, const char *, size_t);
/* A larger event limit than sse.c's default; before the first byte. */
void	 call_stream_limit(struct call_stream *, size_t max_event);
/*
 * After a clean end: dispatches the pending event; -1 (and bad_frame
 * set unless the decoder stopped it) when the stream's framing failed.
 */
int	 call_stream_finish(struct call_stream *);
/* The kept body, NUL-terminated; NULL when none or over its limit. */
const char *call_stream_body(struct call_stream *);
void	 call_stream_free(struct call_stream *);

/*
 * The payload of a JWT ("head.payload.signature", the middle part in
 * base64url, padding optional) when it is a JSON object, else NULL;
 * json_object_put() it.  Nothing here checks the signature.
 */
#define CALL_JWT_MAX	8192	/* base64url characters of a payload */
struct json_object;
struct json_object *call_jwt_payload(const char *jwt);

/*
 * A token derived from a credential (a bearer, an access token) through
 * the LMDB cache and its cross-process exchange lock (store/tokcache.h),
 * or straight from exchange when there is no store (CGI).  0 with *out
 * in the arena and *cached telling whether it came from the cache (or
 * another process's exchange) and so may be stale; otherwise what
 * tokcache_fetch returns (exchange's own code, TOKCACHE_STORE,
 * TOKCACHE_GAVE_UP), or TOKCACHE_STORE when out of memory, with *out
 * and *cached left as they were.
 */
struct store;
int	 call_token(struct store *, struct arena *, const char *scope,
	    const char *cred, int force,
	    int (*exchange)(void *, char **, int64_t *), void *ctx,
	    int (*idle)(void *), void *idle_ctx, const char **out,
	    int *cached);

#endif
