/*
 * The derived-token cache and its exchange lock (see tokcache.h).
 * Values: 8 bytes of expiry, then the sealed token (associated data: the
 * key).  Locks: 8 bytes of expiry, 8 of owner (pid << 32 | tid).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "store/crypto.h"
#include "store/store_priv.h"
#include "store/tokcache.h"

#define ID_LEN	32

struct tc_ctx {
	char		 id[ID_LEN + 1];
	unsigned char	*sealed;
	size_t		 sealed_len;
	int64_t		 expires;
	int64_t		 owner;
	int		 acquired;
};

static void
key_of(struct store *s, const char *scope, const char *cred,
    char out[ID_LEN + 1])
{
	static const char h[] = "0123456789abcdef";
	unsigned char mac[CRYPTO_MAC_LEN];
	char label[64];
	int i;

	snprintf(label, sizeof(label), "tok:%s", scope);
	crypto_mac(&s->key, label, cred, strlen(cred), mac);
	for (i = 0; i < ID_LEN / 2; i++) {
		out[2 * i] = h[mac[i] >> 4];
		out[2 * i + 1] = h[mac[i] & 15];
	}
	out[ID_LEN] = '\0';
}

static int
get_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct tc_ctx *c = arg;
	MDB_val k = { ID_LEN, c->id }, v;
	int rc;

	if ((rc = kv_get(txn, s->rtcache, &k, &v)) != 0)
		return rc;
	if (v.mv_size < 8 + CRYPTO_OVERHEAD)
		return MDB_NOTFOUND;
	c->expires = (int64_t)store_get64(v.mv_data);
	c->sealed_len = v.mv_size - 8;
	if ((c->sealed = malloc(c->sealed_len)) == NULL)
		return ENOMEM;
	memcpy(c->sealed, (unsigned char *)v.mv_data + 8, c->sealed_len);
	return 0;
}

enum store_err
tokcache_get(struct store *s, const char *scope, const char *cred,
    char **value, int64_t *expires)
{
	struct tc_ctx c;
	enum store_err e;
	size_t n;

	*value = NULL;
	if (!s->have_key)
		return STORE_INVAL;
	memset(&c, 0, sizeof(c));
	key_of(s, scope, cred, c.id);
	if ((e = store_read(s, get_txn, &c)) != STORE_OK)
		return e;
	if (c.expires <= store_now(s)) {
		free(c.sealed);
		return STORE_NOTFOUND;
	}
	n = c.sealed_len - CRYPTO_OVERHEAD;
	if ((*value = malloc(n + 1)) == NULL) {
		free(c.sealed);
		return STORE_ENOMEM;
	}
	if (crypto_open(&s->key, c.id, ID_LEN, c.sealed, c.sealed_len,
	    (unsigned char *)*value) < 0) {
		free(*value);
		*value = NULL;
		free(c.sealed);
		return STORE_NOTFOUND;
	}
	(*value)[n] = '\0';
	free(c.sealed);
	if (expires)
		*expires = c.expires;
	return STORE_OK;
}

static int
put_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct tc_ctx *c = arg;
	MDB_val k = { ID_LEN, c->id }, v = { c->sealed_len, c->sealed };

	return kv_put(txn, s->rtcache, &k, &v, 0);
}

enum store_err
tokcache_put(struct store *s, const char *scope, const char *cred,
    const char *value, int64_t expires)
{
	struct tc_ctx c;
	enum store_err e;
	size_t n = strlen(value);

	if (!s->have_key || n > TOKCACHE_VALUE_MAX)
		return STORE_INVAL;
	memset(&c, 0, sizeof(c));
	key_of(s, scope, cred, c.id);
	c.sealed_len = 8 + n + CRYPTO_OVERHEAD;
	if ((c.sealed = malloc(c.sealed_len)) == NULL)
		return STORE_ENOMEM;
	store_be64(c.sealed, (uint64_t)expires);
	if (crypto_seal(&s->key, c.id, ID_LEN, value, n, c.sealed + 8) < 0) {
		free(c.sealed);
		return STORE_IO;
	}
	if ((e = store_write(s, put_txn, &c)) == STORE_OK)
		e = store_sync(s);
	free(c.sealed);
	return e;
}

static int
del_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct tc_ctx *c = arg;
	MDB_val k = { ID_LEN, c->id };
	int rc = kv_del(txn, s->rtcache, &k, NULL);

	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum store_err
tokcache_forget(struct store *s, const char *scope, const char *cred)
{
	struct tc_ctx c;

	memset(&c, 0, sizeof(c));
	key_of(s, scope, cred, c.id);
	return store_write(s, del_txn, &c);
}

static int
clear_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	(void)arg;
	return kv_drop(txn, s->rtcache);
}

enum store_err
tokcache_clear(struct store *s)
{
	return store_write(s, clear_txn, NULL);
}

/* Lock holder: pid in the high half, thread id in the low half. */
static int64_t
lock_owner(void)
{
	return (int64_t)getpid() << 32 | (int64_t)(syscall(SYS_gettid) &
	    0xffffffff);
}

static int
holder_alive(int64_t owner)
{
	pid_t pid = (pid_t)(owner >> 32);

	return kill(pid, 0) == 0 || errno == EPERM;
}

static int
lock_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct tc_ctx *c = arg;
	MDB_val k = { ID_LEN, c->id }, v;
	unsigned char buf[16];
	int rc;

	c->acquired = 0;
	rc = kv_get(txn, s->rtlock, &k, &v);
	if (rc == 0 && v.mv_size == 16) {
		/* A live holder within its time keeps it; a dead one not. */
		if ((int64_t)store_get64(v.mv_data) > store_now(s) &&
		    holder_alive((int64_t)store_get64(
		    (unsigned char *)v.mv_data + 8)))
			return 0;
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	store_be64(buf, (uint64_t)store_now(s) + TOKCACHE_LOCK_TTL);
	store_be64(buf + 8, (uint64_t)c->owner);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	if ((rc = kv_put(txn, s->rtlock, &k, &v, 0)) == 0)
		c->acquired = 1;
	return rc;
}

enum store_err
tokcache_lock(struct store *s, const char *scope, const char *cred,
    int *acquired)
{
	struct tc_ctx c;
	enum store_err e;

	memset(&c, 0, sizeof(c));
	key_of(s, scope, cred, c.id);
	c.owner = lock_owner();
	e = store_write(s, lock_txn, &c);
	*acquired = c.acquired;
	return e;
}

static int
unlock_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct tc_ctx *c = arg;
	MDB_val k = { ID_LEN, c->id }, v;
	int rc;

	if ((rc = kv_get(txn, s->rtlock, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (v.mv_size == 16 && (int64_t)store_get64(
	    (unsigned char *)v.mv_data + 8) != c->owner)
		return 0;	/* someone else's by now */
	return kv_del(txn, s->rtlock, &k, NULL);
}

enum store_err
tokcache_unlock(struct store *s, const char *scope, const char *cred)
{
	struct tc_ctx c;

	memset(&c, 0, sizeof(c));
	key_of(s, scope, cred, c.id);
	c.owner = lock_owner();
	return store_write(s, unlock_txn, &c);
}

static long
since_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

int
tokcache_fetch(struct store *s, const char *scope, const char *cred,
    int force, tokcache_exchange_fn exchange, void *ctx,
    int (*idle)(void *), void *idle_ctx, char **value,
    enum tokcache_how *how)
{
	struct timespec t0;
	int64_t expires = 0;
	int got = 0, rc, waited = 0;

	*value = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (!force && tokcache_get(s, scope, cred, value, NULL) ==
		    STORE_OK) {
			*how = waited ? TOKCACHE_WAITED : TOKCACHE_HIT;
			return 0;
		}
		if (tokcache_lock(s, scope, cred, &got) != STORE_OK)
			return TOKCACHE_STORE;
		if (got)
			break;
		/* Someone else is exchanging: wait for its result. */
		force = 0;
		waited = 1;
		if (since_ms(&t0) > TOKCACHE_WAIT_MS ||
		    (idle && idle(idle_ctx)))
			return TOKCACHE_GAVE_UP;
		poll(NULL, 0, 50);
	}
	/* Won the lock; the cache may have been filled meanwhile. */
	if (!force && tokcache_get(s, scope, cred, value, NULL) == STORE_OK) {
		tokcache_unlock(s, scope, cred);
		*how = TOKCACHE_WAITED;
		return 0;
	}
	rc = exchange(ctx, value, &expires);
	if (rc == 0) {
		*how = TOKCACHE_EXCHANGED;
		/* A cache that cannot be written costs a later exchange. */
		tokcache_put(s, scope, cred, *value, expires);
	} else {
		free(*value);
		*value = NULL;
		tokcache_forget(s, scope, cred);
	}
	tokcache_unlock(s, scope, cred);
	return rc;
}
