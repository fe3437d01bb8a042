/*
 * The store: LMDB shared by every process of one host, or Redis shared by
 * several hosts (store/kv.h); nothing above store/ knows which.  Callers
 * never see the backend's types: they get plain values copied out.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "fcgi/arena.h"

enum store_err {
	STORE_OK = 0,
	STORE_ENOMEM,
	STORE_NOTFOUND,
	STORE_FULL,	/* map could not grow */
	STORE_IO,	/* open/read/write failed at the OS level */
	STORE_SCHEMA,	/* data written by a newer chat2api */
	STORE_INVAL,	/* caller passed something out of bounds */
	STORE_LMDB,	/* any other LMDB failure (logged with detail) */
	STORE_UNAVAILABLE, /* Redis unreachable: answer 503, retry later */
	STORE__MAX
};

#define STORE_SCHEMA_VERSION	2	/* 2: accounts of every provider */
#define STORE_MODEL_NAME_MAX	64	/* longer names count as "(other)" */
#define STORE_MODELS_MAX	256	/* distinct model keys kept */

struct store;

struct store_model_count {
	char		*name;
	uint64_t	 n;
};

struct store_stats {
	uint64_t			 total, success, failed;
	size_t				 nmodels;
	struct store_model_count	*models;
};

const char	*store_strerror(enum store_err);
enum store_err	 store_open(struct store **, const char *dir, size_t map_size);
/*
 * backend: NULL, "" or "lmdb" for LMDB in dir; "redis://..." for Redis
 * (store/kv_redis.h), where dir still holds the secret key.
 */
enum store_err	 store_open_backend(struct store **, const char *backend,
		    const char *dir, size_t map_size);
/*
 * The whole store (but its meta table) as one sealed, versioned file
 * (store/transfer.c), and back: an import replaces the target's content
 * and needs the same secret key.  err says why an import was refused.
 */
enum store_err	 store_export(struct store *, FILE *, size_t *records);
enum store_err	 store_import(struct store *, FILE *, size_t *records,
		    char *err, size_t errsz);
/* 0 when the store's backend cannot be reached right now (Redis). */
int		 store_available(struct store *);
void		 store_close(struct store *);
enum store_err	 store_sync(struct store *);
int		 store_reader_check(struct store *);
size_t		 store_map_size(struct store *);

/*
 * The secret key (store/crypto.h) for credentials, sessions and CSRF:
 * from CHAT2API_SECRET_KEY, else <dir>/secret.key (created 0600).
 */
enum store_err	 store_key_init(struct store *, const char *env_value,
		    char *err, size_t errsz);
/* HMAC-SHA-256 under the store key, domain-separated by label. */
void		 store_mac(struct store *, const char *label, const void *,
		    size_t, unsigned char out[32]);

/*
 * The day as the operator counts it: YYYYMMDD in the process's time zone
 * (CHAT2API_TZ, else the system's), and the seconds until it ends.  Daily
 * limits count per such day, so they reset at local midnight by
 * themselves.
 */
uint32_t	 store_today(const struct store *);
int64_t		 store_day_left(const struct store *);
/* Tests move the store's clock instead of sleeping. */
void		 store_set_clock_skew(struct store *, int64_t seconds);

/* Gateway seeds and their lists (store/seeds.c): forgets them all. */
enum store_err	 store_seeds_clear(struct store *, size_t *removed);

/*
 * Streams open right now in every process on the data dir (store/live.c):
 * +1 when one starts, -1 when it ends.
 */
void		 store_streams_add(struct store *, int delta);
long		 store_streams_open(struct store *);

enum store_err	 store_count_request(struct store *, const char *model,
		    int success);
enum store_err	 store_read_stats(struct store *, struct arena *,
		    struct store_stats *);

/*
 * Failure throttle (store/throttle.c): at most max_fails failures per
 * (scope, who) in a window of window_s seconds, counted across all
 * processes.  *wait_s > 0: blocked for that many seconds more.
 * max_fails <= 0 turns it off.
 */
/*
 * Revoked signed values (store/revoke.c), e.g. a session cookie at
 * logout: kept as an HMAC until `until`, when the value expires anyway.
 */
enum store_err	 store_revoke(struct store *, const char *scope,
		    const char *value, time_t until);
enum store_err	 store_is_revoked(struct store *, const char *scope,
		    const char *value, int *revoked);
/* A one-time value (a form's token) used now: *fresh 1 the first time
 * before until, 0 when it was used already; one write, so atomic. */
enum store_err	 store_revoke_once(struct store *, const char *scope,
		    const char *value, time_t until, int *fresh);

#define STORE_THROTTLE_WHO_MAX	128
struct store_throttle {
	long	max_fails;
	long	window_s;
};
enum store_err	 store_throttle_check(struct store *, const char *scope,
		    const char *who, const struct store_throttle *,
		    long *wait_s);
enum store_err	 store_throttle_fail(struct store *, const char *scope,
		    const char *who, const struct store_throttle *,
		    long *wait_s);
enum store_err	 store_throttle_clear(struct store *, const char *scope,
		    const char *who, const struct store_throttle *);

#endif
