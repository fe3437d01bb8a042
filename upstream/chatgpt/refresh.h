/*
 * RefreshToken -> AccessToken (chatgpt.md §7.3), cached in LMDB until the
 * access token expires.  Concurrent requests for one RT, in any process,
 * cause a single exchange: the others wait for the cached result.
 */
#ifndef UPSTREAM_CHATGPT_REFRESH_H
#define UPSTREAM_CHATGPT_REFRESH_H

#include <stddef.h>

#include "fcgi/conf.h"

struct store;

/* Positive values: they pass through tokcache_fetch() unchanged. */
enum refresh_err {
	REFRESH_OK = 0,
	REFRESH_INVALID,	/* the OAuth server refused the RT for good */
	REFRESH_FAILED,		/* network, 5xx, timeout: try later */
	REFRESH_STORE,
	REFRESH_ENOMEM,
};

#define REFRESH_CLIENT_ID	"pdlLIX2Y72MIl2rhLhTE9VV9bN905kBh"
#define REFRESH_REDIRECT_URI	"com.openai.chat://auth0.openai.com/ios/" \
				"com.openai.chat/callback"
#define REFRESH_DEFAULT_TTL	(5 * 86400)	/* no expires_in given */
#define REFRESH_SCOPE		"chatgpt-rt"	/* store/tokcache.h */

/*
 * *at is malloc'd (wipe and free it).  force skips the cache.  idle, if
 * not NULL, is polled while waiting (a non-zero return gives up).
 */
enum refresh_err chatgpt_refresh(const struct config *, struct store *,
		    const char *rt, int force, char **at,
		    int (*idle)(void *), void *idle_ctx,
		    char *err, size_t errsz);
const char	*refresh_strerror(enum refresh_err);

#endif
