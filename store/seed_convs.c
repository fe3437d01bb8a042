/*
 * The conversation list of a seed (store/seeds.h): touched when the seed
 * streams a conversation, patched and removed as the web UI does, read a
 * page at a time newest first, checked before the seed may open one.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/seed_priv.h"

#define CONV_PLAIN_MAX	(SEED_TITLE_MAX + SEED_GIZMO_MAX + 2)

/* ------------------------------------------------------------ conversations */

struct conv {
	const char			*seed;
	const char			*id;
	size_t				 idlen;
	unsigned char			 skey[SEED_KEY_LEN];
	const char			*title;
	const struct seed_conv_patch	*patch;
	int				 owned;
	int				 archived;
	size_t				 offset, limit, n, total;
	struct seed_conv		*out;
	int64_t				 now;
	enum seed_err			 why;
};

static size_t
conv_key(const unsigned char *skey, const char *id, size_t idlen,
    unsigned char *out)
{
	out[0] = 'C';
	memcpy(out + 1, skey + 1, SEED_MAC_LEN);
	memcpy(out + SEED_KEY_LEN, id, idlen);
	return SEED_KEY_LEN + idlen;
}

/* Newest first: the order is stored inverted. */
static size_t
order_key(const unsigned char *skey, int64_t order, const char *id,
    size_t idlen, unsigned char *out)
{
	out[0] = 'T';
	memcpy(out + 1, skey + 1, SEED_MAC_LEN);
	store_be64(out + SEED_KEY_LEN, UINT64_MAX - (uint64_t)order);
	memcpy(out + SEED_KEY_LEN + 8, id, idlen);
	return SEED_KEY_LEN + 8 + idlen;
}

/* Adds delta to the seed's count of conversations; *n gets the new one. */
static int
count_convs(struct store *s, struct kv_txn *txn, struct conv *c, int delta,
    uint32_t *n)
{
	MDB_val k = { SEED_KEY_LEN, c->skey }, v;
	struct seed_hdr h;
	unsigned char *copy;
	int rc;

	if ((rc = kv_get(txn, s->seeds, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? seed_fail(&c->why, SEED_UNKNOWN) : rc;
	if (seed_hdr_get(v.mv_data, v.mv_size, &h) < 0)
		return seed_fail(&c->why, SEED_STORE);
	if (delta < 0 && h.nconvs > 0)
		h.nconvs--;
	else if (delta > 0)
		h.nconvs++;
	if (n != NULL)
		*n = h.nconvs;
	if (delta == 0)
		return 0;
	/* Only the header changes; the sealed part keeps its key as AAD. */
	if ((copy = malloc(v.mv_size)) == NULL)
		return ENOMEM;
	memcpy(copy, v.mv_data, v.mv_size);
	seed_hdr_put(copy, &h);
	v.mv_data = copy;
	rc = kv_put(txn, s->seeds, &k, &v, 0);
	free(copy);
	return rc;
}

/* The record of a conversation: header, title and gizmo id. */
static int
read_conv(struct store *s, struct kv_txn *txn, const MDB_val *k,
    struct seed_conv_hdr *h, char *plain, const char *f[2])
{
	MDB_val v;
	size_t plen;
	int rc;

	if ((rc = kv_get(txn, s->seeds, (MDB_val *)k, &v)) != 0)
		return rc;
	if (seed_conv_hdr_get(v.mv_data, v.mv_size, h) < 0 ||
	    seed_open(s, k, &v, SEED_CONV_HDR_LEN, plain, CONV_PLAIN_MAX,
	    &plen) < 0 || seed_fields_unpack(plain, plen, f, 2) < 0)
		return MDB_CORRUPTED;
	return 0;
}

static int
put_conv(struct store *s, struct kv_txn *txn, const MDB_val *k,
    const struct seed_conv_hdr *h, const char *title, const char *gizmo)
{
	unsigned char hdr[SEED_CONV_HDR_LEN], *val;
	char plain[CONV_PLAIN_MAX];
	const char *f[2];
	size_t plen, vlen;
	MDB_val v;
	int rc;

	f[0] = title;
	f[1] = gizmo;
	if ((plen = seed_fields_pack(plain, sizeof(plain), f, 2)) == 0)
		return EINVAL;
	seed_conv_hdr_put(hdr, h);
	if ((val = seed_seal(s, k, hdr, sizeof(hdr), plain, plen, &vlen)) ==
	    NULL)
		return ENOMEM;
	v.mv_size = vlen;
	v.mv_data = val;
	rc = kv_put(txn, s->seeds, (MDB_val *)k, &v, 0);
	free(val);
	return rc;
}

/* Drops the oldest conversation of the seed (the last of its order). */
static int
drop_oldest(struct store *s, struct kv_txn *txn, struct conv *c)
{
	unsigned char end[SEED_KEY_LEN + 9], ckey[SEED_KEY_LEN +
	    SEED_CONV_ID_MAX];
	struct kv_cursor *cur;
	MDB_val k, v, ck;
	int rc;

	end[0] = 'T';
	memcpy(end + 1, c->skey + 1, SEED_MAC_LEN);
	memset(end + SEED_KEY_LEN, 0xff, 9);
	if ((rc = kv_cursor_open(txn, s->seeds, &cur)) != 0)
		return rc;
	k.mv_size = sizeof(end);
	k.mv_data = end;
	rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	rc = kv_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
	if (rc == 0 && (k.mv_size <= SEED_KEY_LEN + 8 ||
	    k.mv_size > SEED_KEY_LEN + 8 + SEED_CONV_ID_MAX ||
	    memcmp(k.mv_data, end, SEED_KEY_LEN) != 0))
		rc = MDB_NOTFOUND;
	if (rc == 0) {
		ck.mv_size = conv_key(c->skey, (char *)k.mv_data +
		    SEED_KEY_LEN + 8, k.mv_size - SEED_KEY_LEN - 8, ckey);
		ck.mv_data = ckey;
		if ((rc = kv_cursor_del(cur, 0)) == 0)
			rc = kv_del(txn, s->seeds, &ck, NULL);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	kv_cursor_close(cur);
	if (rc == 0)
		rc = count_convs(s, txn, c, -1, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
touch_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct conv *c = arg;
	unsigned char ckey[SEED_KEY_LEN + SEED_CONV_ID_MAX];
	unsigned char tkey[SEED_KEY_LEN + 8 + SEED_CONV_ID_MAX];
	char plain[CONV_PLAIN_MAX], title[SEED_TITLE_MAX + 1] = "";
	char gizmo[SEED_GIZMO_MAX + 1] = "";
	struct seed_conv_hdr h;
	const char *f[2];
	MDB_val k, tk, empty = { 0, "" };
	uint32_t n = 0;
	int rc;

	k.mv_size = conv_key(c->skey, c->id, c->idlen, ckey);
	k.mv_data = ckey;
	rc = read_conv(s, txn, &k, &h, plain, f);
	if (rc == 0) {
		snprintf(title, sizeof(title), "%s", f[0]);
		snprintf(gizmo, sizeof(gizmo), "%s", f[1]);
		tk.mv_size = order_key(c->skey, h.order_ms, c->id, c->idlen,
		    tkey);
		tk.mv_data = tkey;
		if ((rc = kv_del(txn, s->seeds, &tk, NULL)) != 0 &&
		    rc != MDB_NOTFOUND)
			return rc;
		if ((rc = count_convs(s, txn, c, 0, &n)) != 0)
			return rc;
	} else if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED) {
		if ((rc = count_convs(s, txn, c, 1, &n)) != 0)
			return rc;
		memset(&h, 0, sizeof(h));
		h.create_ms = c->now;
	} else
		return rc;
	if (c->title != NULL)
		snprintf(title, sizeof(title), "%s", c->title);
	h.order_ms = c->now;
	h.update_ms = c->now;
	tk.mv_size = order_key(c->skey, h.order_ms, c->id, c->idlen, tkey);
	tk.mv_data = tkey;
	if ((rc = put_conv(s, txn, &k, &h, title, gizmo)) != 0 ||
	    (rc = kv_put(txn, s->seeds, &tk, &empty, 0)) != 0)
		return rc;
	return n > SEED_CONVS_MAX ? drop_oldest(s, txn, c) : 0;
}

static int
owned_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct conv *c = arg;
	unsigned char ckey[SEED_KEY_LEN + SEED_CONV_ID_MAX];
	MDB_val k, v;
	int rc;

	k.mv_size = conv_key(c->skey, c->id, c->idlen, ckey);
	k.mv_data = ckey;
	rc = kv_get(txn, s->seeds, &k, &v);
	c->owned = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
patch_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct conv *c = arg;
	unsigned char ckey[SEED_KEY_LEN + SEED_CONV_ID_MAX];
	unsigned char tkey[SEED_KEY_LEN + 8 + SEED_CONV_ID_MAX];
	char plain[CONV_PLAIN_MAX], title[SEED_TITLE_MAX + 1];
	char gizmo[SEED_GIZMO_MAX + 1];
	struct seed_conv_hdr h;
	const char *f[2];
	MDB_val k, tk;
	int rc;

	k.mv_size = conv_key(c->skey, c->id, c->idlen, ckey);
	k.mv_data = ckey;
	if ((rc = read_conv(s, txn, &k, &h, plain, f)) != 0)
		return rc == MDB_NOTFOUND ? seed_fail(&c->why, SEED_NOTFOUND) : rc;
	if (c->patch == NULL) {
		/* Remove: the record, its place in the order, the count. */
		tk.mv_size = order_key(c->skey, h.order_ms, c->id, c->idlen,
		    tkey);
		tk.mv_data = tkey;
		if ((rc = kv_del(txn, s->seeds, &k, NULL)) != 0 ||
		    ((rc = kv_del(txn, s->seeds, &tk, NULL)) != 0 &&
		    rc != MDB_NOTFOUND))
			return rc;
		return count_convs(s, txn, c, -1, NULL);
	}
	snprintf(title, sizeof(title), "%s", f[0]);
	snprintf(gizmo, sizeof(gizmo), "%s", f[1]);
	if (c->patch->set & SEED_PATCH_TITLE)
		snprintf(title, sizeof(title), "%s", c->patch->title ?
		    c->patch->title : "");
	if (c->patch->set & SEED_PATCH_ARCHIVED)
		h.archived = c->patch->archived != 0;
	h.update_ms = c->now;
	return put_conv(s, txn, &k, &h, title, gizmo);
}

static int
list_convs_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct conv *c = arg;
	unsigned char pfx[SEED_KEY_LEN], ckey[SEED_KEY_LEN + SEED_CONV_ID_MAX];
	char plain[CONV_PLAIN_MAX];
	struct seed_conv_hdr h;
	struct seed_conv *o;
	const char *f[2], *id;
	struct kv_cursor *cur;
	MDB_val k, v, ck;
	size_t idlen;
	int rc;

	c->n = c->total = 0;
	pfx[0] = 'T';
	memcpy(pfx + 1, c->skey + 1, SEED_MAC_LEN);
	if ((rc = kv_cursor_open(txn, s->seeds, &cur)) != 0)
		return rc;
	k.mv_size = sizeof(pfx);
	k.mv_data = pfx;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < sizeof(pfx) || memcmp(k.mv_data, pfx,
		    sizeof(pfx)) != 0)
			break;
		if (k.mv_size <= SEED_KEY_LEN + 8 ||
		    k.mv_size > SEED_KEY_LEN + 8 + SEED_CONV_ID_MAX)
			continue;
		id = (const char *)k.mv_data + SEED_KEY_LEN + 8;
		idlen = k.mv_size - SEED_KEY_LEN - 8;
		ck.mv_size = conv_key(c->skey, id, idlen, ckey);
		ck.mv_data = ckey;
		if (read_conv(s, txn, &ck, &h, plain, f) != 0 ||
		    h.archived != c->archived)
			continue;
		if (c->total++ < c->offset || c->n >= c->limit)
			continue;
		o = &c->out[c->n++];
		memset(o, 0, sizeof(*o));
		memcpy(o->id, id, idlen);
		snprintf(o->title, sizeof(o->title), "%s", f[0]);
		snprintf(o->gizmo_id, sizeof(o->gizmo_id), "%s", f[1]);
		o->archived = h.archived;
		o->create_ms = h.create_ms;
		o->update_ms = h.update_ms;
	}
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static enum seed_err
conv_run(struct store *s, const char *seed, const char *id, struct conv *c,
    store_txn_fn fn, int write)
{
	enum store_err se;

	if (!s->have_key || !seed_name_ok(seed, strlen(seed)) ||
	    (id != NULL && !seed_conv_id_ok(id, strlen(id))))
		return SEED_INVAL;
	c->seed = seed;
	c->id = id;
	c->idlen = id != NULL ? strlen(id) : 0;
	c->now = seed_now_ms(s);
	seed_key(s, 'S', seed, c->skey);
	se = write ? store_write(s, fn, c) : store_read(s, fn, c);
	return seed_map(se, c->why);
}

/* A title as the store keeps it: whole UTF-8 characters only. */
static void
clip_title(const char *in, char out[SEED_TITLE_MAX + 1])
{
	size_t n = strlen(in);

	if (n > SEED_TITLE_MAX) {
		n = SEED_TITLE_MAX;
		while (n > 0 && ((unsigned char)in[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, in, n);
	out[n] = '\0';
}

enum seed_err
seed_conv_touch(struct store *s, const char *seed, const char *id,
    const char *title)
{
	char clipped[SEED_TITLE_MAX + 1];
	struct conv c;

	memset(&c, 0, sizeof(c));
	if (title != NULL) {
		clip_title(title, clipped);
		c.title = clipped;
	}
	return conv_run(s, seed, id, &c, touch_txn, 1);
}

enum seed_err
seed_conv_owned(struct store *s, const char *seed, const char *id,
    int *owned)
{
	struct conv c;
	enum seed_err e;

	memset(&c, 0, sizeof(c));
	e = conv_run(s, seed, id, &c, owned_txn, 0);
	*owned = e == SEED_OK && c.owned;
	return e;
}

enum seed_err
seed_conv_patch(struct store *s, const char *seed, const char *id,
    const struct seed_conv_patch *p)
{
	char clipped[SEED_TITLE_MAX + 1];
	struct seed_conv_patch cp = *p;
	struct conv c;

	memset(&c, 0, sizeof(c));
	if ((cp.set & SEED_PATCH_TITLE) && cp.title != NULL) {
		clip_title(cp.title, clipped);
		cp.title = clipped;
	}
	c.patch = &cp;
	return conv_run(s, seed, id, &c, patch_txn, 1);
}

enum seed_err
seed_conv_remove(struct store *s, const char *seed, const char *id)
{
	struct conv c;

	memset(&c, 0, sizeof(c));
	return conv_run(s, seed, id, &c, patch_txn, 1);
}

enum seed_err
seed_conv_list(struct store *s, const char *seed, int archived,
    size_t offset, size_t limit, struct seed_conv *out, size_t *n,
    size_t *total)
{
	struct conv c;
	enum seed_err e;

	memset(&c, 0, sizeof(c));
	c.archived = archived != 0;
	c.offset = offset;
	c.limit = limit < SEED_PAGE_MAX ? limit : SEED_PAGE_MAX;
	c.out = out;
	e = conv_run(s, seed, NULL, &c, list_convs_txn, 0);
	*n = e == SEED_OK ? c.n : 0;
	*total = e == SEED_OK ? c.total : 0;
	return e;
}
