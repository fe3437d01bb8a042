/*
 * Revoked tokens: a signed, stateless value (the /tokens session cookie)
 * that must stop working before its own expiry, e.g. at logout.  Each
 * entry is an HMAC of scope and value, so the store never holds a usable
 * token, and it lives only until the value would have expired anyway.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/store_priv.h"

#define REVOKE_KEY_LEN		16
#define REVOKE_PRUNE_AT		1024	/* entries before expired ones go */

struct revoke_ctx {
	unsigned char	 key[REVOKE_KEY_LEN];
	uint64_t	 until;		/* revoke: when the value expires */
	uint64_t	 now;
	int		 found;		/* check: out */
	int		 once;		/* revoke: only when not there yet */
};

static void
revoke_key(struct store *s, const char *scope, const char *value,
    unsigned char out[REVOKE_KEY_LEN])
{
	unsigned char mac[32];
	char label[64];

	snprintf(label, sizeof(label), "revoke %s", scope);
	store_mac(s, label, value, strlen(value), mac);
	memcpy(out, mac, REVOKE_KEY_LEN);
}

static int
expired(const MDB_val *v, void *arg)
{
	const struct revoke_ctx *c = arg;

	return v->mv_size != 8 || store_get_be64(v) <= c->now;
}

static int
revoke_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct revoke_ctx *c = arg;
	MDB_val k = { REVOKE_KEY_LEN, c->key }, v;
	unsigned char buf[8];
	int rc;

	if ((rc = store_prune(txn, s->revoked, REVOKE_PRUNE_AT, expired,
	    c)) != 0)
		return rc;
	/* once: a live entry means the value was used; the txn is shared
	 * by every process, so two uses cannot both find it fresh */
	if (c->once && (rc = kv_get(txn, s->revoked, &k, &v)) != MDB_NOTFOUND) {
		if (rc != 0)
			return rc;
		if (v.mv_size == 8 && store_get_be64(&v) > c->now) {
			c->found = 1;
			return 0;
		}
	}
	store_be64(buf, c->until);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return kv_put(txn, s->revoked, &k, &v, 0);
}

static int
check_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct revoke_ctx *c = arg;
	MDB_val k = { REVOKE_KEY_LEN, c->key }, v;
	int rc;

	rc = kv_get(txn, s->revoked, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	c->found = v.mv_size == 8 && store_get_be64(&v) > c->now;
	return 0;
}

enum store_err
store_revoke(struct store *s, const char *scope, const char *value,
    time_t until)
{
	struct revoke_ctx c;

	if (s == NULL || scope == NULL || value == NULL || !s->have_key)
		return STORE_INVAL;
	memset(&c, 0, sizeof(c));
	revoke_key(s, scope, value, c.key);
	c.until = until > 0 ? (uint64_t)until : 0;
	c.now = (uint64_t)store_now(s);
	if (c.until <= c.now)
		return STORE_OK;	/* expired already: nothing to do */
	return store_write(s, revoke_txn, &c);
}

enum store_err
store_revoke_once(struct store *s, const char *scope, const char *value,
    time_t until, int *fresh)
{
	struct revoke_ctx c;
	enum store_err e;

	*fresh = 0;
	if (s == NULL || scope == NULL || value == NULL || !s->have_key)
		return STORE_INVAL;
	memset(&c, 0, sizeof(c));
	revoke_key(s, scope, value, c.key);
	c.until = until > 0 ? (uint64_t)until : 0;
	c.now = (uint64_t)store_now(s);
	c.once = 1;
	if (c.until <= c.now)
		return STORE_INVAL;	/* a one-time value needs a lifetime */
	if ((e = store_write(s, revoke_txn, &c)) == STORE_OK)
		*fresh = !c.found;
	return e;
}

enum store_err
store_is_revoked(struct store *s, const char *scope, const char *value,
    int *revoked)
{
	struct revoke_ctx c;
	enum store_err e;

	*revoked = 0;
	if (s == NULL || scope == NULL || value == NULL || !s->have_key)
		return STORE_INVAL;
	memset(&c, 0, sizeof(c));
	revoke_key(s, scope, value, c.key);
	c.now = (uint64_t)store_now(s);
	if ((e = store_read(s, check_txn, &c)) == STORE_OK)
		*revoked = c.found;
	return e;
}
