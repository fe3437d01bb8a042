/*
 * API key records.  Key: 32 hex of HMAC("api-key", key).  Value:
 * version, enabled, created, last use, requests, then the name and the
 * display hint.  Listings and commands name a key by the first 12 hex of
 * its record key, which reveal nothing of the key itself.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "store/apikeys.h"
#include "store/crypto.h"
#include "store/store_priv.h"

#define REC_VERSION	1
#define REC_HDR		32
#define KEY_HEX		32

static void
key_of(struct store *s, const char *key, char out[KEY_HEX + 1])
{
	static const char h[] = "0123456789abcdef";
	unsigned char mac[CRYPTO_MAC_LEN];
	int i;

	crypto_mac(&s->key, "api-key", key, strlen(key), mac);
	for (i = 0; i < KEY_HEX / 2; i++) {
		out[2 * i] = h[mac[i] >> 4];
		out[2 * i + 1] = h[mac[i] & 15];
	}
	out[KEY_HEX] = '\0';
}

/* value: 0 version, 1 enabled, 2 name len, 3 hint len, 8 created,
 * 16 last used, 24 requests, 32 name, hint */
static int
decode(const MDB_val *k, const MDB_val *v, struct apikey_info *in)
{
	const unsigned char *p = v->mv_data;
	size_t nl, hl;

	if (k->mv_size != KEY_HEX || v->mv_size < REC_HDR ||
	    p[0] != REC_VERSION)
		return -1;
	nl = p[2];
	hl = p[3];
	if (nl > APIKEY_NAME_MAX || hl >= sizeof(in->hint) ||
	    REC_HDR + nl + hl != v->mv_size)
		return -1;
	memset(in, 0, sizeof(*in));
	memcpy(in->id, k->mv_data, APIKEY_ID_LEN);
	in->enabled = p[1];
	in->created_at = (int64_t)store_get64(p + 8);
	in->last_used_at = (int64_t)store_get64(p + 16);
	in->requests = store_get64(p + 24);
	memcpy(in->name, p + REC_HDR, nl);
	memcpy(in->hint, p + REC_HDR + nl, hl);
	return 0;
}

static int
encode_put(struct kv_txn *txn, MDB_dbi dbi, const MDB_val *k,
    const struct apikey_info *in)
{
	unsigned char buf[REC_HDR + APIKEY_NAME_MAX + 16];
	size_t nl = strlen(in->name), hl = strlen(in->hint);
	MDB_val v;

	memset(buf, 0, REC_HDR);
	buf[0] = REC_VERSION;
	buf[1] = (unsigned char)(in->enabled != 0);
	buf[2] = (unsigned char)nl;
	buf[3] = (unsigned char)hl;
	store_be64(buf + 8, (uint64_t)in->created_at);
	store_be64(buf + 16, (uint64_t)in->last_used_at);
	store_be64(buf + 24, (uint64_t)in->requests);
	memcpy(buf + REC_HDR, in->name, nl);
	memcpy(buf + REC_HDR + nl, in->hint, hl);
	v.mv_size = REC_HDR + nl + hl;
	v.mv_data = buf;
	return kv_put(txn, dbi, (MDB_val *)k, &v, 0);
}

struct key_ctx {
	char			 hex[KEY_HEX + 1];
	const char		*id;		/* 12-hex prefix lookups */
	struct apikey_info	*info;
	int			 count, enabled, found;
	int			 op;		/* 0 create 1 check 2 enable 3 rm */
};

static int
create_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct key_ctx *c = arg;
	MDB_val k = { KEY_HEX, c->hex };
	MDB_stat st;
	int rc;

	if ((rc = kv_stat(txn, s->apikeys, &st)) != 0)
		return rc;
	if (st.ms_entries >= APIKEY_MAX_RECORDS)
		return MDB_MAP_FULL;
	return encode_put(txn, s->apikeys, &k, c->info);
}

enum store_err
apikey_create(struct store *s, const char *name, char *key,
    struct apikey_info *info)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[48];
	struct key_ctx c;
	enum store_err e;
	size_t i, nl = name ? strlen(name) : 0;

	if (!s->have_key || nl > APIKEY_NAME_MAX)
		return STORE_INVAL;
	for (i = 0; i < nl; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return STORE_INVAL;
	/* 62 does not divide 256: redraw the few bytes that would bias. */
	memcpy(key, "sk-", 3);
	for (i = 0; i < sizeof(rnd); ) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return STORE_IO;
		for (size_t j = 0; j < sizeof(rnd) && i < 48; j++)
			if (rnd[j] < 248)
				key[3 + i++] = alnum[rnd[j] % 62];
	}
	key[APIKEY_LEN] = '\0';
	crypto_wipe(rnd, sizeof(rnd));
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", name ? name : "");
	snprintf(info->hint, sizeof(info->hint), "%.7s...%s", key,
	    key + APIKEY_LEN - 4);
	info->enabled = 1;
	info->created_at = store_now(s);
	memset(&c, 0, sizeof(c));
	key_of(s, key, c.hex);
	memcpy(info->id, c.hex, APIKEY_ID_LEN);
	c.info = info;
	if ((e = store_write(s, create_txn, &c)) == STORE_OK)
		e = store_sync(s);
	return e;
}

static int
check_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct key_ctx *c = arg;
	MDB_val k = { KEY_HEX, c->hex }, v;
	int rc;

	if ((rc = kv_get(txn, s->apikeys, &k, &v)) != 0)
		return rc;
	if (decode(&k, &v, c->info) < 0)
		return MDB_NOTFOUND;
	c->found = 1;
	if (!c->count || !c->info->enabled)
		return 0;
	c->info->requests++;
	c->info->last_used_at = store_now(s);
	return encode_put(txn, s->apikeys, &k, c->info);
}

/* A good key's use, inside the request's final write (store/reqdone.c). */
int
apikey_use_txn(struct store *s, struct kv_txn *txn, const char *candidate)
{
	struct apikey_info info;
	struct key_ctx c;
	int rc;

	if (!s->have_key || strlen(candidate) < APIKEY_MIN ||
	    strlen(candidate) > APIKEY_MAX)
		return 0;
	memset(&c, 0, sizeof(c));
	key_of(s, candidate, c.hex);
	c.info = &info;
	c.count = 1;
	rc = check_txn(s, txn, &c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum store_err
apikey_check(struct store *s, const char *candidate, int count,
    struct apikey_info *info)
{
	struct key_ctx c;
	size_t n = strlen(candidate);

	if (!s->have_key)
		return STORE_INVAL;
	if (n < APIKEY_MIN || n > APIKEY_MAX)
		return STORE_NOTFOUND;
	memset(&c, 0, sizeof(c));
	key_of(s, candidate, c.hex);
	c.info = info;
	c.count = count;
	/* A read transaction when nothing is counted. */
	return count ? store_write(s, check_txn, &c) :
	    store_read(s, check_txn, &c);
}

struct list_ctx {
	int	(*fn)(void *, const struct apikey_info *);
	void	*arg;
};

static int
list_one(struct kv_cursor *cur, MDB_val *k, MDB_val *v, void *arg)
{
	struct list_ctx *c = arg;
	struct apikey_info in;

	(void)cur;
	return decode(k, v, &in) == 0 && c->fn(c->arg, &in) != 0 ?
	    STORE_EACH_STOP : 0;
}

static int
list_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	return store_each(txn, s->apikeys, list_one, arg);
}

enum store_err
apikey_list(struct store *s, int (*fn)(void *, const struct apikey_info *),
    void *arg)
{
	struct list_ctx c = { fn, arg };

	return store_read(s, list_txn, &c);
}

/* Enable, disable or remove the record whose key starts with c->id. */
static int
change_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct key_ctx *c = arg;
	struct apikey_info in;
	struct kv_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = kv_cursor_open(txn, s->apikeys, &cur)) != 0)
		return rc;
	k.mv_size = APIKEY_ID_LEN;
	k.mv_data = (void *)c->id;
	rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && (k.mv_size != KEY_HEX ||
	    memcmp(k.mv_data, c->id, APIKEY_ID_LEN) != 0))
		rc = MDB_NOTFOUND;
	if (rc == 0 && decode(&k, &v, &in) < 0)
		rc = MDB_NOTFOUND;
	if (rc == 0) {
		c->found = 1;
		if (c->op == 3)
			rc = kv_cursor_del(cur, 0);
		else {
			in.enabled = c->enabled;
			rc = encode_put(txn, s->apikeys, &k, &in);
		}
	}
	kv_cursor_close(cur);
	return rc;
}

static enum store_err
change(struct store *s, const char *id, int op, int enabled)
{
	struct key_ctx c;
	enum store_err e;
	size_t i;

	if (strlen(id) != APIKEY_ID_LEN)
		return STORE_INVAL;
	for (i = 0; i < APIKEY_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return STORE_INVAL;
	memset(&c, 0, sizeof(c));
	c.id = id;
	c.op = op;
	c.enabled = enabled;
	if ((e = store_write(s, change_txn, &c)) != STORE_OK)
		return e;
	return store_sync(s);
}

enum store_err
apikey_enable(struct store *s, const char *id, int enabled)
{
	return change(s, id, 2, enabled);
}

enum store_err
apikey_remove(struct store *s, const char *id)
{
	return change(s, id, 3, 0);
}

static int
count_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	MDB_stat st;
	int rc;

	if ((rc = kv_stat(txn, s->apikeys, &st)) == 0)
		*(size_t *)arg = st.ms_entries;
	return rc;
}

enum store_err
apikey_count(struct store *s, size_t *n)
{
	*n = 0;
	return store_read(s, count_txn, n);
}
