/*
 * The transfers of parked requests (fcgi/coro.h), all on one libcurl
 * multi handle driven by the process's event loop (fcgi/evloop.h).
 * Internal to upstream/http.c.
 */
#ifndef UPSTREAM_HTTP_MULTI_H
#define UPSTREAM_HTTP_MULTI_H

#include <curl/curl.h>

/*
 * Runs h's transfer on the loop while the calling coroutine parks.  0
 * with *cc its result once it ended; -1 when it could not park (nothing
 * was started: perform it here).
 */
int	http_multi_perform(CURL *h, CURLcode *cc);

#endif
