/*
 * Derived tokens with a lifetime — an AccessToken exchanged for a ChatGPT
 * RefreshToken, a DeepSeek bearer fetched for a userToken — cached in
 * LMDB per (scope, credential) until they expire, sealed like the
 * credentials.  The key is an HMAC of the credential, so the table reveals
 * nothing.
 *
 * tokcache_fetch() is the whole dance: the cache, else one exchange for
 * all processes at once (a lock with a time limit whose holder's death
 * frees it), while the others wait for the cached result.
 */
#ifndef STORE_TOKCACHE_H
#define STORE_TOKCACHE_H

#include <stdint.h>

#include "store/store.h"

#define TOKCACHE_VALUE_MAX	16384
#define TOKCACHE_LOCK_TTL	30	/* s an exchange may hold the lock */
#define TOKCACHE_WAIT_MS	20000	/* for another process's exchange */

enum store_err	 tokcache_get(struct store *, const char *scope,
		    const char *cred, char **value, int64_t *expires);
enum store_err	 tokcache_put(struct store *, const char *scope,
		    const char *cred, const char *value, int64_t expires);
enum store_err	 tokcache_forget(struct store *, const char *scope,
		    const char *cred);
/* Forgets every cached token (the pool they were made for is gone). */
enum store_err	 tokcache_clear(struct store *);
enum store_err	 tokcache_lock(struct store *, const char *scope,
		    const char *cred, int *acquired);
enum store_err	 tokcache_unlock(struct store *, const char *scope,
		    const char *cred);

/*
 * What an exchange returns: 0 with *value malloc'd and *expires set, or
 * a non-zero code of the caller's own that tokcache_fetch hands back.
 */
typedef int	(*tokcache_exchange_fn)(void *ctx, char **value,
		    int64_t *expires);

enum tokcache_how {
	TOKCACHE_HIT,		/* from the cache */
	TOKCACHE_EXCHANGED,	/* this call exchanged */
	TOKCACHE_WAITED,	/* another process exchanged */
};

/*
 * *value malloc'd on 0.  force skips the cache.  idle is polled while
 * waiting (non-zero gives up: TOKCACHE_GAVE_UP).  Negative returns are
 * tokcache's own; positive ones come from exchange.
 */
#define TOKCACHE_STORE		(-1)
#define TOKCACHE_GAVE_UP	(-2)
int		 tokcache_fetch(struct store *, const char *scope,
		    const char *cred, int force, tokcache_exchange_fn exchange,
		    void *ctx, int (*idle)(void *), void *idle_ctx,
		    char **value, enum tokcache_how *how);

#endif
