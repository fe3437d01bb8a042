/*
 * What every provider's calls need, so the eight of them do not each
 * write it again: a header list in the request arena, the upstream base
 * and the proxy of this call, failures told to the sink in OpenAI's
 * shape, Cloudflare pages recognised, a clock for latencies.
 */
#ifndef UPSTREAM_CALL_H
#define UPSTREAM_CALL_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include "fcgi/arena.h"
#include "fcgi/conf.h"
#include "upstream/http.h"
#include "upstream/provider.h"

#define CALL_MAX_HEADERS	48

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
/* A stable small hash of a credential: the same pick for the same one. */
unsigned call_hash(const char *);
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
/* The body is a Cloudflare challenge or block page. */
int	 call_is_cloudflare(const struct http_resp *);
/* Retry-After in seconds, or -1. */
long	 call_retry_after(const struct http_resp *);

long	 call_ms_since(const struct timespec *);

#endif
