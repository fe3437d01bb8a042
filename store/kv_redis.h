/*
 * The Redis backend of store/kv.h (built with --with-redis).  Each table
 * is a hash (values) and a sorted set of its keys with score 0, so keys
 * come back in LMDB's order (memcmp, shorter first).  A write
 * transaction holds one lock key with an expiry; its writes stay in the
 * process (reads see them) and land at commit in one Lua script that
 * first checks the lock is still ours, so a transaction happens whole or
 * not at all, and a host killed mid-way leaves nothing half-written.
 * Connections are per thread; a lost one is retried with backoff, and
 * while Redis is unreachable every call answers KV_DOWN at once.
 *
 * URL: redis[s]://[:password@]host[:port][/db][?prefix=name][&ca=/path]
 * (rediss:// is TLS, store/kv_redis_tls.c).  Every key starts with the
 * prefix, default "chat2api:".
 */
#ifndef STORE_KV_REDIS_H
#define STORE_KV_REDIS_H

#include <stddef.h>
#include <lmdb.h>

struct kvr;
struct kvr_txn;
struct kvr_cursor;

/* 0, or -1 with a message in err (never the password). */
int	 kvr_open(struct kvr **, const char *url, char *err, size_t errsz);
void	 kvr_close(struct kvr *);
/* The URL with any password masked, for logs. */
const char *kvr_describe(const struct kvr *);
/* Names a table; the same name gives the same dbi. */
int	 kvr_table(struct kvr *, const char *name, MDB_dbi *);
/* 1 when this thread holds a working connection (connecting if the
 * backoff allows), else 0. */
int	 kvr_available(struct kvr *);

int	 kvr_txn_begin(struct kvr *, int write, struct kvr_txn **);
/* Write: lands atomically, or KV_LOST when the lock expired. */
int	 kvr_txn_commit(struct kvr_txn *);
void	 kvr_txn_abort(struct kvr_txn *);

int	 kvr_get(struct kvr_txn *, MDB_dbi, const MDB_val *k, MDB_val *v);
int	 kvr_put(struct kvr_txn *, MDB_dbi, const MDB_val *k,
	    const MDB_val *v);
int	 kvr_del(struct kvr_txn *, MDB_dbi, const MDB_val *k);
int	 kvr_drop(struct kvr_txn *, MDB_dbi);
int	 kvr_entries(struct kvr_txn *, MDB_dbi, size_t *);

int	 kvr_cursor_open(struct kvr_txn *, MDB_dbi, struct kvr_cursor **);
int	 kvr_cursor_get(struct kvr_cursor *, MDB_val *k, MDB_val *v,
	    MDB_cursor_op);
int	 kvr_cursor_put(struct kvr_cursor *, const MDB_val *v);
int	 kvr_cursor_del(struct kvr_cursor *);
void	 kvr_cursor_close(struct kvr_cursor *);

#endif
