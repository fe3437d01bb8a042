/*
 * Failure throttle for the admin routes: failed attempts per client in a
 * fixed window, shared by every worker process through LMDB, so guessing
 * an AUTHORIZATION code costs the same however many processes answer.
 * Keys are HMACs of scope and client address: the store holds no
 * addresses.  Value: window start (s) and failures, both big-endian.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/store_priv.h"

#define THROTTLE_KEY_LEN	16	/* bytes of the HMAC kept */
#define THROTTLE_PRUNE_AT	4096	/* entries before expired ones go */

struct throttle_ctx {
	unsigned char			 key[THROTTLE_KEY_LEN];
	const struct store_throttle	*lim;
	uint64_t			 now;
	long				 wait;	/* out: seconds blocked */
};

static void
throttle_key(struct store *s, const char *scope, const char *who,
    unsigned char out[THROTTLE_KEY_LEN])
{
	unsigned char mac[32];
	char in[STORE_THROTTLE_WHO_MAX + 64];
	int n;

	n = snprintf(in, sizeof(in), "%s\n%s", scope, who ? who : "");
	if (n < 0 || (size_t)n >= sizeof(in))
		n = (int)sizeof(in) - 1;
	store_mac(s, "throttle", in, (size_t)n, mac);
	memcpy(out, mac, THROTTLE_KEY_LEN);
}

/* Window start and count of a value; 0/0 when absent or malformed. */
static void
throttle_decode(const MDB_val *v, uint64_t *start, uint64_t *count)
{
	MDB_val half;

	*start = *count = 0;
	if (v->mv_size != 16)
		return;
	half.mv_size = 8;
	half.mv_data = v->mv_data;
	*start = store_get_be64(&half);
	half.mv_data = (unsigned char *)v->mv_data + 8;
	*count = store_get_be64(&half);
}

static long
throttle_wait(const struct throttle_ctx *c, uint64_t start, uint64_t count)
{
	uint64_t end = start + (uint64_t)c->lim->window_s;

	if (c->lim->max_fails <= 0 || count < (uint64_t)c->lim->max_fails ||
	    c->now >= end)
		return 0;
	return (long)(end - c->now);
}

static int
check_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct throttle_ctx *c = arg;
	MDB_val k = { THROTTLE_KEY_LEN, c->key }, v;
	uint64_t start, count;
	int rc;

	rc = kv_get(txn, s->throttle, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	throttle_decode(&v, &start, &count);
	c->wait = throttle_wait(c, start, count);
	return 0;
}

/* An entry whose window is over (judged by the window of this call). */
static int
window_over(const MDB_val *v, void *arg)
{
	const struct throttle_ctx *c = arg;
	uint64_t start, count;

	throttle_decode(v, &start, &count);
	return start + (uint64_t)c->lim->window_s <= c->now;
}

static int
fail_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct throttle_ctx *c = arg;
	MDB_val k = { THROTTLE_KEY_LEN, c->key }, v;
	unsigned char buf[16];
	uint64_t start = 0, count = 0;
	int rc;

	rc = kv_get(txn, s->throttle, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0)
		throttle_decode(&v, &start, &count);
	if (rc != 0 || start + (uint64_t)c->lim->window_s <= c->now) {
		start = c->now;
		count = 0;
		/* A new window: drop the finished ones of many addresses. */
		if ((rc = store_prune(txn, s->throttle, THROTTLE_PRUNE_AT,
		    window_over, c)) != 0)
			return rc;
	}
	count++;
	store_be64(buf, start);
	store_be64(buf + 8, count);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	if ((rc = kv_put(txn, s->throttle, &k, &v, 0)) != 0)
		return rc;
	c->wait = throttle_wait(c, start, count);
	return 0;
}

static int
clear_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct throttle_ctx *c = arg;
	MDB_val k = { THROTTLE_KEY_LEN, c->key };
	int rc;

	rc = kv_del(txn, s->throttle, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static enum store_err
throttle_run(struct store *s, const char *scope, const char *who,
    const struct store_throttle *lim, long *wait_s, store_txn_fn fn,
    int write)
{
	struct throttle_ctx c;
	enum store_err e;

	if (wait_s != NULL)
		*wait_s = 0;
	if (s == NULL || scope == NULL || lim == NULL || !s->have_key)
		return STORE_INVAL;
	if (lim->max_fails <= 0)
		return STORE_OK;	/* throttling off */
	memset(&c, 0, sizeof(c));
	throttle_key(s, scope, who, c.key);
	c.lim = lim;
	c.now = (uint64_t)store_now(s);
	e = write ? store_write(s, fn, &c) : store_read(s, fn, &c);
	if (e == STORE_OK && wait_s != NULL)
		*wait_s = c.wait;
	return e;
}

enum store_err
store_throttle_check(struct store *s, const char *scope, const char *who,
    const struct store_throttle *lim, long *wait_s)
{
	return throttle_run(s, scope, who, lim, wait_s, check_txn, 0);
}

enum store_err
store_throttle_fail(struct store *s, const char *scope, const char *who,
    const struct store_throttle *lim, long *wait_s)
{
	return throttle_run(s, scope, who, lim, wait_s, fail_txn, 1);
}

enum store_err
store_throttle_clear(struct store *s, const char *scope, const char *who,
    const struct store_throttle *lim)
{
	return throttle_run(s, scope, who, lim, NULL, clear_txn, 1);
}
