/*
 * The responses table (see responses.h).  Value: an 8-byte big-endian
 * expiry, then the record sealed with the id and the owner's MAC as
 * associated data: a record moved to another id, or read with another
 * owner's key, does not open.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/responses.h"
#include "store/store_priv.h"

struct rsp_ctx {
	const char	*id;
	unsigned char	 aad[RSP_STORE_ID_MAX + CRYPTO_MAC_LEN];
	size_t		 aadlen;
	unsigned char	*val;		/* put: expiry | sealed */
	size_t		 vlen;
	uint64_t	 now;
	char		*json;		/* get: out */
	size_t		 len;
	int		 del;		/* get: delete once opened */
};

static enum store_err
rsp_ctx_init(struct store *s, struct rsp_ctx *c, const char *id,
    const char *owner)
{
	size_t n;

	memset(c, 0, sizeof(c[0]));
	if (s == NULL || id == NULL || !s->have_key ||
	    (n = strlen(id)) == 0 || n > RSP_STORE_ID_MAX)
		return STORE_INVAL;
	c->id = id;
	memcpy(c->aad, id, n);
	store_mac(s, "response owner", owner ? owner : "", owner ?
	    strlen(owner) : 0, c->aad + n);
	c->aadlen = n + CRYPTO_MAC_LEN;
	c->now = (uint64_t)store_now(s);
	return STORE_OK;
}

static int
expired(const MDB_val *v, void *arg)
{
	const struct rsp_ctx *c = arg;

	return v->mv_size < 8 || store_get_be64(&(MDB_val){ 8, v->mv_data }) <=
	    c->now;
}

/*
 * Bounded clean-up: from the new id (random) on, a few records in key
 * order; the expired ones go.  Every put looks at a different place, so
 * the table stays near its live size at a constant cost per answer.
 */
static int
prune_near(struct store *s, struct kv_txn *txn, struct rsp_ctx *c, MDB_val *from)
{
	struct kv_cursor *cur;
	MDB_val k = *from, v;
	MDB_stat st;
	int rc, n;

	if ((rc = kv_stat(txn, s->responses, &st)) != 0)
		return rc;
	if (st.ms_entries < RSP_STORE_PRUNE_AT)
		return 0;
	if ((rc = kv_cursor_open(txn, s->responses, &cur)) != 0)
		return rc;
	rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	for (n = 0; n < RSP_STORE_PRUNE_SCAN; n++) {
		if (rc == MDB_NOTFOUND)		/* past the end: wrap */
			rc = kv_cursor_get(cur, &k, &v, MDB_FIRST);
		if (rc != 0)
			break;
		if (expired(&v, c) && (rc = kv_cursor_del(cur, 0)) != 0)
			break;
		/* after a delete, MDB_NEXT gives the one that followed */
		rc = kv_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
put_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct rsp_ctx *c = arg;
	MDB_val k = { strlen(c->id), (void *)c->id };
	MDB_val v = { c->vlen, c->val };
	int rc;

	if ((rc = prune_near(s, txn, c, &k)) != 0)
		return rc;
	return kv_put(txn, s->responses, &k, &v, 0);
}

static int
get_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct rsp_ctx *c = arg;
	MDB_val k = { strlen(c->id), (void *)c->id }, v;
	const unsigned char *p;
	int rc;

	if ((rc = kv_get(txn, s->responses, &k, &v)) != 0)
		return rc;
	p = v.mv_data;
	if (v.mv_size < 8 + CRYPTO_OVERHEAD || expired(&v, c))
		return MDB_NOTFOUND;
	c->len = v.mv_size - 8 - CRYPTO_OVERHEAD;
	if ((c->json = malloc(c->len + 1)) == NULL)
		return ENOMEM;
	if (crypto_open(&s->key, c->aad, c->aadlen, p + 8, v.mv_size - 8,
	    (unsigned char *)c->json) < 0) {
		free(c->json);
		c->json = NULL;
		return MDB_NOTFOUND;	/* another owner's, or damaged */
	}
	c->json[c->len] = '\0';
	if (c->del)
		return kv_del(txn, s->responses, &k, NULL);
	return 0;
}

enum store_err
rsp_store_put(struct store *s, const char *id, const char *owner,
    const char *json, size_t len, int64_t ttl_s)
{
	struct rsp_ctx c;
	enum store_err e;

	if ((e = rsp_ctx_init(s, &c, id, owner)) != STORE_OK)
		return e;
	if (len > RSP_STORE_MAX || ttl_s <= 0)
		return STORE_INVAL;
	c.vlen = 8 + len + CRYPTO_OVERHEAD;
	if ((c.val = malloc(c.vlen)) == NULL)
		return STORE_ENOMEM;
	store_be64(c.val, c.now + (uint64_t)ttl_s);
	if (crypto_seal(&s->key, c.aad, c.aadlen, json, len, c.val + 8) < 0)
		e = STORE_LMDB;
	else
		e = store_write(s, put_txn, &c);
	free(c.val);
	return e;
}

enum store_err
rsp_store_get(struct store *s, const char *id, const char *owner, char **json,
    size_t *len)
{
	struct rsp_ctx c;
	enum store_err e;

	*json = NULL;
	*len = 0;
	if ((e = rsp_ctx_init(s, &c, id, owner)) != STORE_OK)
		return e == STORE_INVAL && s != NULL && s->have_key ?
		    STORE_NOTFOUND : e;
	if ((e = store_read(s, get_txn, &c)) == STORE_OK) {
		*json = c.json;
		*len = c.len;
	}
	return e;
}

enum store_err
rsp_store_del(struct store *s, const char *id, const char *owner)
{
	struct rsp_ctx c;
	enum store_err e;

	if ((e = rsp_ctx_init(s, &c, id, owner)) != STORE_OK)
		return e == STORE_INVAL && s != NULL && s->have_key ?
		    STORE_NOTFOUND : e;
	c.del = 1;
	e = store_write(s, get_txn, &c);
	free(c.json);
	return e;
}
