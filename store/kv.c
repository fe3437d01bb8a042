/*
 * Each table call to the backend the store runs on: LMDB's own call,
 * or the Redis backend's (store/kv_redis.c) when built --with-redis.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/kv.h"
#ifdef HAVE_REDIS
#include "store/kv_redis.h"
#define ON_REDIS(t)	((t)->redis != NULL)
#else
#define ON_REDIS(t)	0
#endif

int
kv_get(struct kv_txn *t, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
#ifdef HAVE_REDIS
	if (ON_REDIS(t))
		return kvr_get(t->redis, dbi, k, v);
#endif
	return mdb_get(t->mdb, dbi, k, v);
}

int
kv_put(struct kv_txn *t, MDB_dbi dbi, MDB_val *k, MDB_val *v,
    unsigned flags)
{
#ifdef HAVE_REDIS
	/* MDB_APPEND is only a hint: a plain put means the same there */
	if (ON_REDIS(t))
		return kvr_put(t->redis, dbi, k, v);
#endif
	return mdb_put(t->mdb, dbi, k, v, flags);
}

int
kv_del(struct kv_txn *t, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
#ifdef HAVE_REDIS
	if (ON_REDIS(t))
		return kvr_del(t->redis, dbi, k);
#endif
	return mdb_del(t->mdb, dbi, k, v);
}

int
kv_drop(struct kv_txn *t, MDB_dbi dbi)
{
#ifdef HAVE_REDIS
	if (ON_REDIS(t))
		return kvr_drop(t->redis, dbi);
#endif
	return mdb_drop(t->mdb, dbi, 0);
}

int
kv_stat(struct kv_txn *t, MDB_dbi dbi, MDB_stat *st)
{
#ifdef HAVE_REDIS
	size_t n;
	int rc;

	if (ON_REDIS(t)) {
		memset(st, 0, sizeof(*st));
		if ((rc = kvr_entries(t->redis, dbi, &n)) == 0)
			st->ms_entries = n;
		return rc;
	}
#endif
	return mdb_stat(t->mdb, dbi, st);
}

int
kv_cursor_open(struct kv_txn *t, MDB_dbi dbi, struct kv_cursor **out)
{
	struct kv_cursor *c;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ENOMEM;
	c->txn = t;
#ifdef HAVE_REDIS
	if (ON_REDIS(t))
		rc = kvr_cursor_open(t->redis, dbi, &c->redis);
	else
#endif
		rc = mdb_cursor_open(t->mdb, dbi, &c->mdb);
	if (rc != 0) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int
kv_cursor_get(struct kv_cursor *c, MDB_val *k, MDB_val *v, MDB_cursor_op op)
{
#ifdef HAVE_REDIS
	if (c->redis != NULL)
		return kvr_cursor_get(c->redis, k, v, op);
#endif
	return mdb_cursor_get(c->mdb, k, v, op);
}

int
kv_cursor_put(struct kv_cursor *c, MDB_val *k, MDB_val *v, unsigned flags)
{
#ifdef HAVE_REDIS
	if (c->redis != NULL) {
		(void)k;
		(void)flags;	/* only MDB_CURRENT is ever asked */
		return kvr_cursor_put(c->redis, v);
	}
#endif
	return mdb_cursor_put(c->mdb, k, v, flags);
}

int
kv_cursor_del(struct kv_cursor *c, unsigned flags)
{
#ifdef HAVE_REDIS
	if (c->redis != NULL)
		return kvr_cursor_del(c->redis);
#endif
	return mdb_cursor_del(c->mdb, flags);
}

void
kv_cursor_close(struct kv_cursor *c)
{
	if (c == NULL)
		return;
#ifdef HAVE_REDIS
	if (c->redis != NULL)
		kvr_cursor_close(c->redis);
#endif
	if (c->mdb != NULL)
		mdb_cursor_close(c->mdb);
	free(c);
}

struct kv_txn *
kv_cursor_txn(struct kv_cursor *c)
{
	return c->txn;
}
