/*
 * Reachability of a provider: one short request to its base URL.  Any
 * HTTP answer (a 403 from a bot wall included) means the host is up; a
 * DNS, connect or TLS failure, or the time running out, means it is not.
 */
#ifndef UPSTREAM_PROBE_H
#define UPSTREAM_PROBE_H

#include "fcgi/conf.h"
#include "upstream/http.h"

#define PROBE_CONNECT_MS	2000
#define PROBE_TOTAL_MS		3000

/* The URL a provider's calls start from (the first of its *_BASE_URL
 * list, or the built-in host), or NULL when it has none. */
const char	*probe_base(const struct config *, const char *provider_id);
/* The proxy its calls may leave through (PROXY_URL's first), or NULL. */
const char	*probe_proxy(const struct config *);
/* The status of a final status line ("HTTP/1.1 403 Forbidden"), or 0
 * for any other line, a 1xx, or a proxy's "200 Connection established"
 * (the host has not answered yet). */
long		 probe_status_line(const char *line, size_t len);
/*
 * GET url and stop at the first status line.  UP_OK with *status set
 * when the host answered; UP_NETWORK, UP_TIMEOUT, UP_PROTO otherwise.
 */
enum up_err	 probe_reach(const char *url, const char *proxy, long *status);

#endif
