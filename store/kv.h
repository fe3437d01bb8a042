/*
 * The tables under the store.  Every file of store/ reads and writes
 * through these calls, never LMDB's own, so one store runs on LMDB (one
 * host) or on Redis (several hosts sharing one pool).  The calls keep
 * LMDB's shape and codes (MDB_val, MDB_dbi, MDB_NOTFOUND, cursor ops):
 * on LMDB they are a branch and a call; store/kv_redis.c gives Redis the
 * same meaning, one serialisable write transaction at a time.
 */
#ifndef STORE_KV_H
#define STORE_KV_H

#include <lmdb.h>

/* Codes past LMDB's own, from the Redis backend. */
#define KV_DOWN		(-30501)	/* Redis unreachable right now */
#define KV_LOST		(-30502)	/* write lock expired: run again */
#define KV_BUSY		(-30503)	/* write lock not had in time */

struct kvr;
struct kvr_txn;
struct kvr_cursor;

struct kv_txn {
	MDB_txn			*mdb;
	struct kvr_txn		*redis;
};

struct kv_cursor {
	MDB_cursor		*mdb;
	struct kvr_cursor	*redis;
	struct kv_txn		*txn;
};

int	 kv_get(struct kv_txn *, MDB_dbi, MDB_val *k, MDB_val *v);
/* flags: 0 or MDB_APPEND (a hint, which Redis does without). */
int	 kv_put(struct kv_txn *, MDB_dbi, MDB_val *k, MDB_val *v,
	    unsigned flags);
int	 kv_del(struct kv_txn *, MDB_dbi, MDB_val *k, MDB_val *v);
/* Empties the table (LMDB's mdb_drop with del 0). */
int	 kv_drop(struct kv_txn *, MDB_dbi);
/* Entries in the table, this txn's writes counted (on Redis only
 * ms_entries is filled). */
int	 kv_stat(struct kv_txn *, MDB_dbi, MDB_stat *);

int	 kv_cursor_open(struct kv_txn *, MDB_dbi, struct kv_cursor **);
/* ops: MDB_FIRST, MDB_LAST, MDB_NEXT, MDB_PREV, MDB_SET_RANGE,
 * MDB_GET_CURRENT. */
int	 kv_cursor_get(struct kv_cursor *, MDB_val *k, MDB_val *v,
	    MDB_cursor_op);
/* Replaces the value under the cursor (MDB_CURRENT). */
int	 kv_cursor_put(struct kv_cursor *, MDB_val *k, MDB_val *v,
	    unsigned flags);
/* After a delete, MDB_NEXT gives the entry that followed. */
int	 kv_cursor_del(struct kv_cursor *, unsigned flags);
void	 kv_cursor_close(struct kv_cursor *);
struct kv_txn *kv_cursor_txn(struct kv_cursor *);

#endif
