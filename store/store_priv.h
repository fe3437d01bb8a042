/* Internals shared by the files of store/; never included outside it. */
#ifndef STORE_PRIV_H
#define STORE_PRIV_H

#include <pthread.h>
#include <lmdb.h>

#include "store/crypto.h"
#include "store/kv.h"
#include "store/store.h"

struct store {
	MDB_env			*env;		/* NULL on Redis */
	struct kvr		*redis;		/* NULL on LMDB */
	MDB_dbi			 meta, counters, models;
	MDB_dbi			 creds, rtcache, rtlock, seeds;	/* creds: schema 1 */
	MDB_dbi			 throttle, revoked;
	MDB_dbi			 accounts, apikeys, mappings;
	MDB_dbi			 sessions, sess_exp;
	MDB_dbi			 responses;	/* /v1/responses */
	MDB_dbi			 reqlog, stats, metrics;
	struct store_live	*live;		/* open streams (store/live.c) */
	int			 live_failed;	/* its file cannot be opened */
	struct crypto_key	 key;
	int			 have_key;
	pthread_rwlock_t	 resize;	/* txns share, resizer excludes */
	char			*dir;
	int64_t			 clock_skew;	/* tests move time, never sleep */
};

/* Every table by name, in the order they open (store/store.c). */
#define STORE_NTABLES	18
struct store_table {
	const char	*name;
	size_t		 off;	/* of its MDB_dbi in struct store */
};
extern const struct store_table store_tables[STORE_NTABLES];
#define STORE_DBI(s, i)	(*(MDB_dbi *)(void *)((char *)(s) + \
			    store_tables[i].off))

typedef int (*store_txn_fn)(struct store *, struct kv_txn *, void *);

enum store_err	 store_map_rc(int rc);
enum store_err	 store_write(struct store *, store_txn_fn, void *);
enum store_err	 store_read(struct store *, store_txn_fn, void *);
/* Wall clock in seconds as every expiry in the store sees it. */
int64_t		 store_now(const struct store *);
/* Big-endian integers in records (store/txn.c). */
void		 store_be64(unsigned char out[8], uint64_t);
uint64_t	 store_get_be64(const MDB_val *);
uint64_t	 store_get64(const unsigned char *);
void		 store_put32(unsigned char *, uint32_t);
uint32_t	 store_get32(const unsigned char *);
/*
 * Every entry of dbi in key order to fn, with the cursor on it (to
 * delete or replace it), until fn answers nonzero.  0 at the end or
 * when fn said STORE_EACH_STOP, else fn's answer or LMDB's error.
 */
#define STORE_EACH_STOP	(-1)
int		 store_each(struct kv_txn *, MDB_dbi, int (*fn)(struct kv_cursor *,
		    MDB_val *k, MDB_val *v, void *ctx), void *ctx);
/*
 * Once dbi holds at least `at` entries, deletes those whose value
 * expired(value, ctx) calls expired.  For tables of short-lived marks.
 */
int		 store_prune(struct kv_txn *, MDB_dbi, size_t at,
		    int (*expired)(const MDB_val *, void *), void *ctx);

/* The pieces of store_request_done's one transaction (store/reqdone.c). */
struct reqlog_entry;
struct reqlog_conf;
struct acct_result;
int		 store_count_txn(struct store *, struct kv_txn *, const char *model,
		    int success);
int		 acct_record_txn(struct store *, struct kv_txn *, const char *provider,
		    const char *id, const struct acct_result *);
int		 reqlog_put_txn(struct store *, struct kv_txn *, struct reqlog_entry *,
		    const struct reqlog_conf *, unsigned char *buf, size_t cap);
int		 stats_bump_txn(struct store *, struct kv_txn *,
		    const struct reqlog_entry *, uint32_t today);
int		 apikey_use_txn(struct store *, struct kv_txn *, const char *key);
struct store_upstream_err;
int		 metrics_bump_txn(struct store *, struct kv_txn *,
		    const struct reqlog_entry *, const char *route,
		    const struct store_upstream_err *, size_t nerrs,
		    long pow_ms);

/* store/live.c: a small shared file counting each process's streams. */
struct store_live;
struct store_live	*store_live_open(const char *dir);
void			 store_live_close(struct store_live *);

#endif
