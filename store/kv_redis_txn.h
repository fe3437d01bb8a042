/*
 * A Redis-backend transaction, shared by kv_redis.c (records, commit)
 * and kv_redis_cursor.c.  Private to those two files.
 */
#ifndef STORE_KV_REDIS_TXN_H
#define STORE_KV_REDIS_TXN_H

#include "store/kv_redis_priv.h"

#define KVR_KEY_MAX	511		/* LMDB's default */
#define KVR_TKEY_MAX	(KVR_PREFIX_MAX + KVR_TABLE_NAME_MAX + 4)

/* Memory that lives until the transaction ends. */
struct kvr_keep {
	struct kvr_keep	*next;
	redisReply	*rep;
	char		 data[];
};

/* One write of the transaction: a put, or a delete (del). */
struct kvr_ov_ent {
	MDB_val		 k, v;
	int		 del;
};

/* A table's writes, sorted by key in LMDB's order; dropped: the table
 * was emptied first. */
struct kvr_ov {
	int		 dropped;
	size_t		 n, cap;
	struct kvr_ov_ent *e;
};

/* A committed value (or its absence) this txn read: read once, since
 * nobody else writes while the txn runs (a write txn holds the lock; a
 * read txn sees one value per key, as in a snapshot). */
struct kvr_rc {
	struct kvr_rc	*next;
	MDB_dbi		 dbi;
	int		 found;
	MDB_val		 k, v;
};

struct kvr_txn {
	struct kvr	*r;
	int		 write;
	char		 token[33];
	long long	 locked_at;	/* when the lock was last extended */
	int		 lost;		/* the lock went to someone else */
	struct kvr_ov	*ov[KVR_TABLES_MAX];
	struct kvr_keep	*keep;
	struct kvr_rc	*rcache;	/* committed values read, newest first */
	unsigned	 nrcache;
};

/* A write txn's lock, extended once it is past half its life, so a
 * long transaction that keeps working keeps it; KV_LOST once it is
 * gone.  0 for a read txn. */
int		 kvr_txn_touch(struct kvr_txn *);
/* memcmp, shorter first: LMDB's default and Redis's lex order. */
int		 kvr_keycmp(const MDB_val *, const MDB_val *);
/* The txn frees rep when it ends (rep is freed at once on ENOMEM). */
int		 kvr_keep_reply(struct kvr_txn *, redisReply *);
int		 kvr_dbi_ok(const struct kvr_txn *, MDB_dbi);
int		 kvr_key_ok(const MDB_val *);
/* First index whose key is >= k. */
size_t		 kvr_ov_lower(const struct kvr_ov *, const MDB_val *k);
/* The entry for k, or NULL (o may be NULL). */
struct kvr_ov_ent *kvr_ov_find(const struct kvr_ov *, const MDB_val *k);

#endif
