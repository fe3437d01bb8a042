/*
 * Cursors of the Redis backend: Redis's keys fetched 64 at a time (one
 * script: ZRANGEBYLEX or ZREVRANGEBYLEX, then HMGET), merged with the
 * transaction's overlay.  A cursor remembers the range its last batch
 * covers completely, so walking on costs a round trip per 64 entries.
 * The cursor's position is a key, not an index, so after a delete
 * MDB_NEXT simply gives the first key past it, as LMDB does.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/kv.h"
#include "store/kv_redis_txn.h"

#define BATCH		64

enum bound { B_INF, B_INCL, B_EXCL };

struct kvr_cursor {
	struct kvr_txn	*txn;
	MDB_dbi		 dbi;
	int		 pos;		/* 0 none, 1 on cur, 2 cur deleted */
	MDB_val		 cur;
	/* the last batch from Redis, ascending, and the key range in
	 * which it holds every key Redis has */
	MDB_val		 bk[BATCH], bv[BATCH];
	size_t		 bn;
	int		 have;
	enum bound	 lo_b, hi_b;
	MDB_val		 lo, hi;
};

int
kvr_cursor_open(struct kvr_txn *t, MDB_dbi dbi, struct kvr_cursor **out)
{
	struct kvr_cursor	*c;

	*out = NULL;
	if (!kvr_dbi_ok(t, dbi))
		return EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ENOMEM;
	c->txn = t;
	c->dbi = dbi;
	*out = c;
	return 0;
}

void
kvr_cursor_close(struct kvr_cursor *c)
{
	free(c);
}

/* Is every Redis key on the dir side of k (k NULL: from the far end)
 * inside the batch's range up to its edge? */
static int
covers_start(const struct kvr_cursor *c, const MDB_val *k, int dir, int incl)
{
	enum bound	 b = dir > 0 ? c->lo_b : c->hi_b;
	const MDB_val	*e = dir > 0 ? &c->lo : &c->hi;
	int		 cmp;

	if (!c->have)
		return 0;
	if (b == B_INF)
		return 1;
	if (k == NULL)
		return 0;
	cmp = kvr_keycmp(k, e) * dir;
	return cmp > 0 || (cmp == 0 && (b == B_INCL || !incl));
}

/* In the batch: the first key after k going dir (k NULL: the end), or
 * -1 if none there. */
static long
batch_pick(const struct kvr_cursor *c, const MDB_val *k, int dir, int incl)
{
	size_t	i;
	int	cmp;

	if (dir > 0) {
		for (i = 0; i < c->bn; i++) {
			cmp = k != NULL ? kvr_keycmp(&c->bk[i], k) : 1;
			if (cmp > 0 || (cmp == 0 && incl))
				return (long)i;
		}
		return -1;
	}
	for (i = c->bn; i-- > 0;) {
		cmp = k != NULL ? kvr_keycmp(&c->bk[i], k) : -1;
		if (cmp < 0 || (cmp == 0 && incl))
			return (long)i;
	}
	return -1;
}

/* "[key", "(key", or "-"/"+"; kept by the txn only while building. */
static int
lex_arg(const MDB_val *k, int incl, char *sign, char **buf, size_t *len)
{
	if (k == NULL) {
		*buf = sign;
		*len = 1;
		return 0;
	}
	if ((*buf = malloc(k->mv_size + 1)) == NULL)
		return ENOMEM;
	(*buf)[0] = incl ? '[' : '(';
	memcpy(*buf + 1, k->mv_data, k->mv_size);
	*len = k->mv_size + 1;
	return 0;
}

static int
batch_fetch(struct kvr_cursor *c, const MDB_val *k, int dir, int incl)
{
	struct kvr	*r = c->txn->r;
	char		 z[KVR_TKEY_MAX], hk[KVR_TKEY_MAX], cnt[8];
	char		 minus[] = "-", plus[] = "+", *from = NULL;
	const char	*av[6];
	size_t		 al[6], i, n, j;
	redisReply	*rep;
	int		 rc = 0;

	if ((rc = kvr_txn_touch(c->txn)) != 0)
		return rc;
	if ((al[0] = kvr_tkey(r, c->dbi, 'z', z, sizeof(z))) == 0 ||
	    (al[1] = kvr_tkey(r, c->dbi, 'h', hk, sizeof(hk))) == 0)
		return EINVAL;
	av[0] = z;
	av[1] = hk;
	if ((rc = lex_arg(k, incl, dir > 0 ? minus : plus, &from,
	    &al[dir > 0 ? 2 : 3])) != 0)
		return rc;
	av[dir > 0 ? 2 : 3] = from;
	av[dir > 0 ? 3 : 2] = dir > 0 ? plus : minus;
	al[dir > 0 ? 3 : 2] = 1;
	snprintf(cnt, sizeof(cnt), "%d", BATCH);
	av[4] = cnt;
	al[4] = strlen(cnt);
	av[5] = dir > 0 ? "0" : "1";
	al[5] = 1;
	rep = kvr_script(r, KVR_S_RANGE, 2, 6, av, al, &rc);
	if (from != minus && from != plus)
		free(from);
	if (rep == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0 ||
	    rep->elements / 2 > BATCH) {
		freeReplyObject(rep);
		return KV_DOWN;
	}
	n = rep->elements / 2;
	for (i = 0; i < n; i++) {
		j = dir > 0 ? i : n - 1 - i;	/* ascending either way */
		if (rep->element[2 * i]->type != REDIS_REPLY_STRING ||
		    rep->element[2 * i + 1]->type != REDIS_REPLY_STRING) {
			freeReplyObject(rep);
			return KV_DOWN;
		}
		c->bk[j].mv_data = rep->element[2 * i]->str;
		c->bk[j].mv_size = rep->element[2 * i]->len;
		c->bv[j].mv_data = rep->element[2 * i + 1]->str;
		c->bv[j].mv_size = rep->element[2 * i + 1]->len;
	}
	if ((rc = kvr_keep_reply(c->txn, rep)) != 0) {
		c->have = 0;
		return rc;
	}
	c->bn = n;
	c->have = 1;
	/* the range starts at k and reaches the last key got, or the end
	 * when the batch was not full */
	if (dir > 0) {
		c->lo_b = k == NULL ? B_INF : incl ? B_INCL : B_EXCL;
		c->lo = k != NULL ? *k : c->lo;
		c->hi_b = n < BATCH ? B_INF : B_INCL;
		c->hi = n > 0 ? c->bk[n - 1] : c->hi;
	} else {
		c->hi_b = k == NULL ? B_INF : incl ? B_INCL : B_EXCL;
		c->hi = k != NULL ? *k : c->hi;
		c->lo_b = n < BATCH ? B_INF : B_INCL;
		c->lo = n > 0 ? c->bk[0] : c->lo;
	}
	return 0;
}

/* Redis's next key from k going dir, overlay ignored. */
static int
redis_next(struct kvr_cursor *c, const MDB_val *k, int dir, int incl,
    MDB_val *rk, MDB_val *rv)
{
	long	i;
	int	rc;

	if (covers_start(c, k, dir, incl)) {
		if ((i = batch_pick(c, k, dir, incl)) >= 0)
			goto found;
		if ((dir > 0 ? c->hi_b : c->lo_b) == B_INF)
			return MDB_NOTFOUND;
	}
	if ((rc = batch_fetch(c, k, dir, incl)) != 0)
		return rc;
	if ((i = batch_pick(c, k, dir, incl)) < 0)
		return MDB_NOTFOUND;
found:
	*rk = c->bk[i];
	*rv = c->bv[i];
	return 0;
}

/* The overlay's next put from k going dir. */
static const struct kvr_ov_ent *
ov_next(const struct kvr_ov *o, const MDB_val *k, int dir, int incl)
{
	size_t	i;

	if (o == NULL || o->n == 0)
		return NULL;
	if (dir > 0) {
		i = k == NULL ? 0 : kvr_ov_lower(o, k);
		if (k != NULL && !incl && i < o->n &&
		    kvr_keycmp(&o->e[i].k, k) == 0)
			i++;
		for (; i < o->n; i++)
			if (!o->e[i].del)
				return &o->e[i];
		return NULL;
	}
	i = k == NULL ? o->n : kvr_ov_lower(o, k);
	if (k != NULL && incl && i < o->n && kvr_keycmp(&o->e[i].k, k) == 0)
		i++;
	while (i-- > 0)
		if (!o->e[i].del)
			return &o->e[i];
	return NULL;
}

/* The merged view's next entry from k going dir. */
static int
merged_next(struct kvr_cursor *c, const MDB_val *k, int dir, int incl,
    MDB_val *ok, MDB_val *ov)
{
	const struct kvr_ov	*o = c->txn->ov[c->dbi];
	const struct kvr_ov_ent	*oe, *e;
	MDB_val			 rk = { 0, NULL }, rv = { 0, NULL }, from;
	const MDB_val		*at = k;
	int			 rc = MDB_NOTFOUND, rincl = incl;

	if (o == NULL || !o->dropped) {
		/* skip what the overlay deleted */
		while ((rc = redis_next(c, at, dir, rincl, &rk, &rv)) == 0 &&
		    (e = kvr_ov_find(o, &rk)) != NULL && e->del) {
			from = rk;
			at = &from;
			rincl = 0;
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	oe = ov_next(o, k, dir, incl);
	if (rc == MDB_NOTFOUND && oe == NULL)
		return MDB_NOTFOUND;
	if (oe != NULL && (rc == MDB_NOTFOUND ||
	    kvr_keycmp(&oe->k, &rk) * dir <= 0)) {
		*ok = oe->k;
		*ov = oe->v;
	} else {
		*ok = rk;
		*ov = rv;
	}
	return 0;
}

int
kvr_cursor_get(struct kvr_cursor *c, MDB_val *k, MDB_val *v,
    MDB_cursor_op op)
{
	MDB_val	rk, rv;
	int	rc;

	switch (op) {
	case MDB_FIRST:
		rc = merged_next(c, NULL, 1, 1, &rk, &rv);
		break;
	case MDB_LAST:
		rc = merged_next(c, NULL, -1, 1, &rk, &rv);
		break;
	case MDB_NEXT:
		rc = merged_next(c, c->pos ? &c->cur : NULL, 1, !c->pos,
		    &rk, &rv);
		break;
	case MDB_PREV:
		rc = merged_next(c, c->pos ? &c->cur : NULL, -1, !c->pos,
		    &rk, &rv);
		break;
	case MDB_SET_RANGE:
		if (k == NULL || !kvr_key_ok(k))
			return MDB_BAD_VALSIZE;
		rc = merged_next(c, k, 1, 1, &rk, &rv);
		break;
	case MDB_GET_CURRENT:
		if (c->pos == 0)
			return EINVAL;
		/* after a delete LMDB shows the entry that followed */
		if ((rc = merged_next(c, &c->cur, 1, c->pos == 1, &rk,
		    &rv)) != 0)
			return rc;
		if (k != NULL)
			*k = rk;
		if (v != NULL)
			*v = rv;
		return 0;
	default:
		return EINVAL;
	}
	if (rc != 0)
		return rc;
	c->cur = rk;
	c->pos = 1;
	if (k != NULL)
		*k = rk;
	if (v != NULL)
		*v = rv;
	return 0;
}

int
kvr_cursor_put(struct kvr_cursor *c, const MDB_val *v)
{
	int	rc;

	if (c->pos != 1)
		return EINVAL;
	if ((rc = kvr_put(c->txn, c->dbi, &c->cur, v)) != 0)
		return rc;
	return 0;
}

int
kvr_cursor_del(struct kvr_cursor *c)
{
	int	rc;

	if (c->pos != 1)
		return EINVAL;
	if ((rc = kvr_del(c->txn, c->dbi, &c->cur)) != 0)
		return rc;
	c->pos = 2;
	return 0;
}
