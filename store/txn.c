/*
 * Transactions with retry: a map another process grew is adopted, a full
 * map is doubled and the transaction run again, a reader table full of
 * dead processes is cleaned.  Plus the big-endian codec and the pruning
 * every table of short-lived marks uses.
 *
 * Durability: the env runs with MDB_NOSYNC so a request does not wait for
 * fsync.  A worker that dies loses nothing (its commits are in the page
 * cache); a power cut loses at most about a second, because commits sync
 * at most once a second and store_sync() forces it for data that must not
 * wait (credentials).
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "fcgi/log.h"
#include "store/store_priv.h"
#ifdef HAVE_REDIS
#include "store/kv_redis.h"
#endif

#define STORE_RETRIES		8
#define STORE_SYNC_EVERY_MS	1000

static atomic_llong last_sync_ms;

enum store_err
store_map_rc(int rc)
{
	switch (rc) {
	case 0:			return STORE_OK;
	case MDB_NOTFOUND:	return STORE_NOTFOUND;
	case MDB_MAP_FULL:	return STORE_FULL;
	case ENOMEM:		return STORE_ENOMEM;
	case KV_DOWN: case KV_BUSY: case KV_LOST:
				return STORE_UNAVAILABLE;
	case EIO: case ENOSPC: case EACCES: case EROFS: case ENOENT:
				return STORE_IO;
	default:		return STORE_LMDB;
	}
}

void
store_be64(unsigned char out[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)(v & 0xff);
}

uint64_t
store_get64(const unsigned char *p)
{
	uint64_t r = 0;
	int i;

	for (i = 0; i < 8; i++)
		r = (r << 8) | p[i];
	return r;
}

void
store_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

uint32_t
store_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

uint64_t
store_get_be64(const MDB_val *v)
{
	const unsigned char *p = v->mv_data;
	uint64_t r = 0;
	size_t i;

	if (v->mv_size != 8)
		return 0;
	for (i = 0; i < 8; i++)
		r = (r << 8) | p[i];
	return r;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Double the map; only legal with no transaction open in this process. */
static int
store_grow(struct store *s, size_t seen)
{
	MDB_envinfo info;
	int rc = 0;

	pthread_rwlock_wrlock(&s->resize);
	mdb_env_info(s->env, &info);
	if (info.me_mapsize == seen) {
		rc = mdb_env_set_mapsize(s->env, seen * 2);
		if (rc == 0)
			log_info("store: map grown to %zu KiB",
			    seen * 2 >> 10);
	}
	pthread_rwlock_unlock(&s->resize);
	return rc;
}

/* Another process grew the map past ours: adopt its size. */
static int
store_adopt(struct store *s)
{
	int rc;

	pthread_rwlock_wrlock(&s->resize);
	rc = mdb_env_set_mapsize(s->env, 0);
	pthread_rwlock_unlock(&s->resize);
	return rc;
}

int
store_reader_check(struct store *s)
{
	int dead = 0;

	if (s->env == NULL)
		return 0;
	mdb_reader_check(s->env, &dead);
	return dead;
}

#ifdef HAVE_REDIS
/*
 * A transaction on Redis: run again when the write lock expired under it
 * (nothing of it landed), and once more when the connection broke before
 * the commit, since a Redis that restarted is back by then (the broken
 * connection is replaced at once) or the backoff answers at once.
 */
static enum store_err
store_txn_redis(struct store *s, store_txn_fn fn, void *ctx, int write)
{
	struct kv_txn t = { NULL, NULL };
	int rc = 0, tries, down = 0, at_commit;

	for (tries = 0; tries < STORE_RETRIES; tries++) {
		if ((rc = kvr_txn_begin(s->redis, write, &t.redis)) != 0) {
			if (rc == KV_DOWN && !down++)
				continue;
			break;
		}
		rc = fn(s, &t, ctx);
		if ((at_commit = rc == 0 && write))
			rc = kvr_txn_commit(t.redis);
		else
			kvr_txn_abort(t.redis);
		t.redis = NULL;
		/* A commit cut off may have landed: never run it twice. */
		if (rc == KV_LOST || (rc == KV_DOWN && !at_commit && !down++))
			continue;
		break;
	}
	if (rc == KV_DOWN || rc == KV_BUSY || rc == KV_LOST)
		log_warn("store: %s: %s", kvr_describe(s->redis),
		    rc == KV_BUSY ? "write lock not had in time" :
		    rc == KV_LOST ? "write lock kept expiring" : "unreachable");
	else if (rc != 0 && rc != MDB_NOTFOUND && rc != ENOMEM &&
	    rc != EINVAL && rc != MDB_KEYEXIST)
		log_warn("store: transaction failed: %d", rc);
	if (rc == EINVAL)
		return STORE_INVAL;
	return store_map_rc(rc);
}
#endif

static enum store_err
store_txn(struct store *s, store_txn_fn fn, void *ctx, unsigned flags)
{
	struct kv_txn t = { NULL, NULL };
	MDB_txn *txn = NULL;
	MDB_envinfo info;
	int rc = 0, tries;
	long long now;

#ifdef HAVE_REDIS
	if (s->redis != NULL)
		return store_txn_redis(s, fn, ctx, !(flags & MDB_RDONLY));
#endif
	for (tries = 0; tries < STORE_RETRIES; tries++) {
		pthread_rwlock_rdlock(&s->resize);
		mdb_env_info(s->env, &info);
		rc = mdb_txn_begin(s->env, NULL, flags, &txn);
		if (rc == MDB_MAP_RESIZED) {
			pthread_rwlock_unlock(&s->resize);
			if ((rc = store_adopt(s)) != 0)
				break;
			continue;
		}
		if (rc == MDB_READERS_FULL) {
			pthread_rwlock_unlock(&s->resize);
			store_reader_check(s);
			continue;
		}
		if (rc != 0) {
			pthread_rwlock_unlock(&s->resize);
			break;
		}
		t.mdb = txn;
		rc = fn(s, &t, ctx);
		if (rc == 0 && !(flags & MDB_RDONLY))
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		txn = NULL;
		pthread_rwlock_unlock(&s->resize);
		if (rc == MDB_MAP_FULL) {
			if ((rc = store_grow(s, info.me_mapsize)) != 0)
				break;
			rc = MDB_MAP_FULL;
			continue;
		}
		break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND && rc != ENOMEM && rc != EINVAL)
		log_warn("store: transaction failed: %s", mdb_strerror(rc));
	if (rc == EINVAL)
		return STORE_INVAL;
	if (rc == 0 && !(flags & MDB_RDONLY)) {
		now = now_ms();
		if (now - atomic_load(&last_sync_ms) >= STORE_SYNC_EVERY_MS) {
			atomic_store(&last_sync_ms, now);
			mdb_env_sync(s->env, 1);
		}
	}
	return store_map_rc(rc);
}

enum store_err
store_write(struct store *s, store_txn_fn fn, void *ctx)
{
	return store_txn(s, fn, ctx, 0);
}

enum store_err
store_read(struct store *s, store_txn_fn fn, void *ctx)
{
	return store_txn(s, fn, ctx, MDB_RDONLY);
}

int
store_each(struct kv_txn *txn, MDB_dbi dbi, int (*fn)(struct kv_cursor *, MDB_val *,
    MDB_val *, void *), void *ctx)
{
	struct kv_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = kv_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT))
		if ((rc = fn(cur, &k, &v, ctx)) != 0)
			break;
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == STORE_EACH_STOP ? 0 : rc;
}

int
store_prune(struct kv_txn *txn, MDB_dbi dbi, size_t at,
    int (*expired)(const MDB_val *, void *), void *ctx)
{
	struct kv_cursor *cur;
	MDB_val k, v;
	MDB_stat st;
	int rc;

	if ((rc = kv_stat(txn, dbi, &st)) != 0)
		return rc;
	if (st.ms_entries < at)
		return 0;
	if ((rc = kv_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	/* After a delete the cursor already sits on the next entry. */
	for (rc = kv_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT))
		if (expired(&v, ctx) && (rc = kv_cursor_del(cur, 0)) != 0)
			break;
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

