/*
 * The Redis backend's transactions.  A read transaction reads Redis
 * directly (no snapshot: each call sees the last commit).  A write
 * transaction holds the lock key <prefix>lock, keeps its writes in an
 * overlay (per table: a sorted array of puts and deletes, and a
 * "dropped" flag) that every read of the transaction merges over Redis,
 * and lands them at commit in one script that first checks the lock is
 * still ours.  Every MDB_val handed out points into memory the
 * transaction owns (kept replies, overlay copies) until it ends.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/rand.h"
#include "store/kv.h"
#include "store/kv_redis_txn.h"

#define LOCK_TTL_MS	"5000"
#define LOCK_EXTEND_US	(2500 * 1000)	/* half the lock's life */
#define LOCK_WAIT_US	(10 * 1000 * 1000)
#define LOCK_WAKE_WAIT	"0.05"	/* s: a BLPOP's longest wait for a release */
#define VAL_MAX		(256u << 20)

int
kvr_keycmp(const MDB_val *a, const MDB_val *b)
{
	size_t	n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
	int	c = n > 0 ? memcmp(a->mv_data, b->mv_data, n) : 0;

	if (c != 0)
		return c;
	return a->mv_size < b->mv_size ? -1 : a->mv_size > b->mv_size;
}

static void *
keep_blob(struct kvr_txn *t, size_t n)
{
	struct kvr_keep	*k = malloc(sizeof(*k) + (n ? n : 1));

	if (k == NULL)
		return NULL;
	k->rep = NULL;
	k->next = t->keep;
	t->keep = k;
	return k->data;
}

int
kvr_keep_reply(struct kvr_txn *t, redisReply *rep)
{
	struct kvr_keep	*k = malloc(sizeof(*k));

	if (k == NULL) {
		freeReplyObject(rep);
		return ENOMEM;
	}
	k->rep = rep;
	k->next = t->keep;
	t->keep = k;
	return 0;
}

/* Up to KVR_RCACHE_MAX reads are kept (a lookup is a walk of them). */
#define KVR_RCACHE_MAX	128

static void
remember(struct kvr_txn *t, MDB_dbi dbi, const MDB_val *k, const MDB_val *v)
{
	struct kvr_rc	*c;
	char		*kb;

	if (t->nrcache >= KVR_RCACHE_MAX ||
	    (c = keep_blob(t, sizeof(*c) + k->mv_size)) == NULL)
		return;		/* only a lost saving */
	kb = (char *)(c + 1);
	memcpy(kb, k->mv_data, k->mv_size);
	c->dbi = dbi;
	c->k.mv_data = kb;
	c->k.mv_size = k->mv_size;
	c->found = v != NULL;
	if (v != NULL)
		c->v = *v;
	c->next = t->rcache;
	t->rcache = c;
	t->nrcache++;
}

static void
txn_free(struct kvr_txn *t)
{
	struct kvr_keep	*k;
	unsigned	 i;

	while ((k = t->keep) != NULL) {
		t->keep = k->next;
		if (k->rep != NULL)
			freeReplyObject(k->rep);
		free(k);
	}
	for (i = 0; i < KVR_TABLES_MAX; i++)
		if (t->ov[i] != NULL) {
			free(t->ov[i]->e);
			free(t->ov[i]);
		}
	free(t);
}

int
kvr_dbi_ok(const struct kvr_txn *t, MDB_dbi dbi)
{
	return dbi < KVR_TABLES_MAX && kvr_table_name(t->r, dbi) != NULL;
}

int
kvr_key_ok(const MDB_val *k)
{
	return k != NULL && k->mv_size > 0 && k->mv_size <= KVR_KEY_MAX;
}

/* ------------------------------------------------------------ overlay */

/* First index whose key is >= k. */
size_t
kvr_ov_lower(const struct kvr_ov *o, const MDB_val *k)
{
	size_t	lo = 0, hi = o->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (kvr_keycmp(&o->e[mid].k, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct kvr_ov_ent *
kvr_ov_find(const struct kvr_ov *o, const MDB_val *k)
{
	size_t	i;

	if (o == NULL)
		return NULL;
	i = kvr_ov_lower(o, k);
	return i < o->n && kvr_keycmp(&o->e[i].k, k) == 0 ? &o->e[i] : NULL;
}

static struct kvr_ov *
ov_get(struct kvr_txn *t, MDB_dbi dbi)
{
	if (t->ov[dbi] == NULL)
		t->ov[dbi] = calloc(1, sizeof(struct kvr_ov));
	return t->ov[dbi];
}

/* Records a put (v) or a delete (v NULL); old copies stay kept, since a
 * caller may still hold them. */
static int
ov_set(struct kvr_txn *t, MDB_dbi dbi, const MDB_val *k, const MDB_val *v)
{
	struct kvr_ov	*o = ov_get(t, dbi);
	struct kvr_ov_ent	*e, *ne;
	size_t		 i, vn = v != NULL ? v->mv_size : 0;
	char		*blob;

	if (o == NULL || (blob = keep_blob(t, k->mv_size + vn)) == NULL)
		return ENOMEM;
	memcpy(blob, k->mv_data, k->mv_size);
	if (vn > 0)
		memcpy(blob + k->mv_size, v->mv_data, vn);
	i = kvr_ov_lower(o, k);
	if (i == o->n || kvr_keycmp(&o->e[i].k, k) != 0) {
		if (o->n == o->cap) {
			ne = realloc(o->e, (o->cap ? o->cap * 2 : 16) *
			    sizeof(*ne));
			if (ne == NULL)
				return ENOMEM;
			o->e = ne;
			o->cap = o->cap ? o->cap * 2 : 16;
		}
		memmove(&o->e[i + 1], &o->e[i], (o->n - i) * sizeof(*ne));
		o->n++;
	}
	e = &o->e[i];
	e->k.mv_data = blob;
	e->k.mv_size = k->mv_size;
	e->v.mv_data = blob + k->mv_size;
	e->v.mv_size = vn;
	e->del = v == NULL;
	return 0;
}

/* --------------------------------------------------------- transactions */

static int
lock_take(struct kvr_txn *t)
{
	char		 wake[KVR_PREFIX_MAX + 16];
	const char	*av[6] = { "SET", t->r->lock_key, t->token, "NX", "PX",
			    LOCK_TTL_MS };
	const char	*bv[3] = { "BLPOP", wake, LOCK_WAKE_WAIT };
	long long	 deadline = kvr_now_us() + LOCK_WAIT_US;
	redisReply	*rep;
	int		 rc = 0, got;

	snprintf(wake, sizeof(wake), "%s:wake", t->r->lock_key);
	for (;;) {
		if ((rep = kvr_cmd(t->r, 6, av, NULL, &rc)) == NULL)
			return rc;
		got = rep->type == REDIS_REPLY_STATUS;
		freeReplyObject(rep);
		if (got)
			return 0;
		if (kvr_now_us() > deadline)
			return KV_BUSY;
		/*
		 * Wait for a release to wake us rather than poll: the lock
		 * changes hands in a round trip, not a sleep.  A holder
		 * that died wakes nobody; its lock expires, and the short
		 * wait finds it gone.
		 */
		if ((rep = kvr_cmd(t->r, 3, bv, NULL, &rc)) == NULL)
			return rc;
		freeReplyObject(rep);
	}
}

int
kvr_txn_begin(struct kvr *r, int write, struct kvr_txn **out)
{
	struct kvr_txn	*t;
	unsigned char	 raw[16];
	int		 rc, i;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ENOMEM;
	t->r = r;
	t->write = write != 0;
	if (t->write) {
		rnd_bytes(raw, sizeof(raw));
		for (i = 0; i < 16; i++)
			snprintf(t->token + 2 * i, 3, "%02x", raw[i]);
		if ((rc = lock_take(t)) != 0) {
			free(t);
			return rc;
		}
		t->locked_at = kvr_now_us();
	} else if (kvr_conn(r) == NULL) {
		free(t);
		return KV_DOWN;
	}
	*out = t;
	return 0;
}

static void
unlock(struct kvr_txn *t)
{
	const char	*av[2] = { t->r->lock_key, t->token };
	size_t		 al[2] = { strlen(av[0]), strlen(av[1]) };
	redisReply	*rep;
	int		 rc;

	if ((rep = kvr_script(t->r, KVR_S_UNLOCK, 1, 2, av, al, &rc)) != NULL)
		freeReplyObject(rep);
}

int
kvr_txn_touch(struct kvr_txn *t)
{
	const char	*av[3] = { t->r->lock_key, t->token, LOCK_TTL_MS };
	size_t		 al[3] = { strlen(av[0]), strlen(av[1]),
			    strlen(av[2]) };
	long long	 now;
	redisReply	*rep;
	int		 rc = 0;

	if (!t->write)
		return 0;
	if (t->lost)
		return KV_LOST;
	if ((now = kvr_now_us()) - t->locked_at < LOCK_EXTEND_US)
		return 0;
	if ((rep = kvr_script(t->r, KVR_S_EXTEND, 1, 3, av, al, &rc)) == NULL)
		return rc;
	if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
		t->locked_at = now;
	else
		t->lost = 1;
	freeReplyObject(rep);
	return t->lost ? KV_LOST : 0;
}

void
kvr_txn_abort(struct kvr_txn *t)
{
	if (t == NULL)
		return;
	if (t->write)
		unlock(t);
	txn_free(t);
}

/* Adds one argument to the commit's list (grown by doubling). */
static int
arg_add(const char ***av, size_t **al, size_t *n, size_t *cap,
    const void *p, size_t len)
{
	const char	**nav;
	size_t		 *nal;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		if ((nav = realloc(*av, *cap * sizeof(*nav))) == NULL)
			return ENOMEM;
		*av = nav;
		if ((nal = realloc(*al, *cap * sizeof(*nal))) == NULL)
			return ENOMEM;
		*al = nal;
	}
	(*av)[*n] = p;
	(*al)[(*n)++] = len;
	return 0;
}

int
kvr_txn_commit(struct kvr_txn *t)
{
	const char	**av = NULL, *name;
	size_t		 *al = NULL, n = 0, cap = 0, i, ops = 0;
	redisReply	 *rep = NULL;
	unsigned	  d;
	int		  rc = 0;
	struct kvr_ov	 *o;

	if (!t->write)
		goto done;
	if ((rc = kvr_txn_touch(t)) != 0)
		goto done;	/* lost: the lock is not ours to free */
	if ((rc = arg_add(&av, &al, &n, &cap, t->r->lock_key,
	    strlen(t->r->lock_key))) != 0 ||
	    (rc = arg_add(&av, &al, &n, &cap, t->token, 32)) != 0 ||
	    (rc = arg_add(&av, &al, &n, &cap, t->r->url.prefix,
	    strlen(t->r->url.prefix))) != 0)
		goto fail;
	for (d = 0; d < KVR_TABLES_MAX; d++) {
		if ((o = t->ov[d]) == NULL)
			continue;
		name = kvr_table_name(t->r, d);
		if (o->dropped) {
			ops++;
			if ((rc = arg_add(&av, &al, &n, &cap, "D", 1)) != 0 ||
			    (rc = arg_add(&av, &al, &n, &cap, name,
			    strlen(name))) != 0)
				goto fail;
		}
		for (i = 0; i < o->n; i++) {
			ops++;
			if ((rc = arg_add(&av, &al, &n, &cap,
			    o->e[i].del ? "X" : "P", 1)) != 0 ||
			    (rc = arg_add(&av, &al, &n, &cap, name,
			    strlen(name))) != 0 ||
			    (rc = arg_add(&av, &al, &n, &cap,
			    o->e[i].k.mv_data, o->e[i].k.mv_size)) != 0)
				goto fail;
			if (!o->e[i].del && (rc = arg_add(&av, &al, &n, &cap,
			    o->e[i].v.mv_data, o->e[i].v.mv_size)) != 0)
				goto fail;
		}
	}
	if (ops == 0) {
		unlock(t);
		goto done;
	}
	if ((rep = kvr_script(t->r, KVR_S_COMMIT, 1, (int)n, av, al,
	    &rc)) == NULL)
		goto fail;	/* if Redis is gone, the lock expires */
	rc = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1 ?
	    0 : KV_LOST;
	goto done;
fail:
	unlock(t);
done:
	if (rep != NULL)
		freeReplyObject(rep);
	free(av);
	free(al);
	txn_free(t);
	return rc;
}

/* ------------------------------------------------------------ records */

int
kvr_get(struct kvr_txn *t, MDB_dbi dbi, const MDB_val *k, MDB_val *v)
{
	char		 h[KVR_TKEY_MAX];
	const char	*av[3] = { "HGET", h, NULL };
	size_t		 al[3] = { 4, 0, 0 };
	struct kvr_ov	*o;
	struct kvr_ov_ent	*e;
	struct kvr_rc	*c;
	redisReply	*rep;
	int		 rc = 0;

	if (!kvr_dbi_ok(t, dbi))
		return EINVAL;
	if (!kvr_key_ok(k))
		return MDB_BAD_VALSIZE;
	if ((rc = kvr_txn_touch(t)) != 0)
		return rc;
	o = t->ov[dbi];
	if ((e = kvr_ov_find(o, k)) != NULL) {
		if (e->del)
			return MDB_NOTFOUND;
		*v = e->v;
		return 0;
	}
	if (o != NULL && o->dropped)
		return MDB_NOTFOUND;
	/* the txn's own writes came first; then what it already read */
	for (c = t->rcache; c != NULL; c = c->next)
		if (c->dbi == dbi && kvr_keycmp(&c->k, k) == 0) {
			if (!c->found)
				return MDB_NOTFOUND;
			*v = c->v;
			return 0;
		}
	al[1] = kvr_tkey(t->r, dbi, 'h', h, sizeof(h));
	av[2] = k->mv_data;
	al[2] = k->mv_size;
	if ((rep = kvr_cmd(t->r, 3, av, al, &rc)) == NULL)
		return rc;
	if (rep->type != REDIS_REPLY_STRING) {
		freeReplyObject(rep);
		remember(t, dbi, k, NULL);
		return MDB_NOTFOUND;
	}
	v->mv_data = rep->str;
	v->mv_size = rep->len;
	if ((rc = kvr_keep_reply(t, rep)) == 0)
		remember(t, dbi, k, v);
	return rc;
}

int
kvr_put(struct kvr_txn *t, MDB_dbi dbi, const MDB_val *k, const MDB_val *v)
{
	int	rc;

	if (!t->write)
		return EACCES;
	if (!kvr_dbi_ok(t, dbi))
		return EINVAL;
	if (!kvr_key_ok(k) || v == NULL || v->mv_size > VAL_MAX)
		return MDB_BAD_VALSIZE;
	if ((rc = kvr_txn_touch(t)) != 0)
		return rc;
	return ov_set(t, dbi, k, v);
}

int
kvr_del(struct kvr_txn *t, MDB_dbi dbi, const MDB_val *k)
{
	MDB_val	v;
	int	rc;

	if (!t->write)
		return EACCES;
	if ((rc = kvr_get(t, dbi, k, &v)) != 0)
		return rc;	/* MDB_NOTFOUND like LMDB */
	return ov_set(t, dbi, k, NULL);
}

int
kvr_drop(struct kvr_txn *t, MDB_dbi dbi)
{
	struct kvr_ov	*o;
	int		 rc;

	if (!t->write)
		return EACCES;
	if (!kvr_dbi_ok(t, dbi))
		return EINVAL;
	if ((rc = kvr_txn_touch(t)) != 0)
		return rc;
	if ((o = ov_get(t, dbi)) == NULL)
		return ENOMEM;
	o->n = 0;
	o->dropped = 1;
	return 0;
}

/*
 * Exact, as LMDB's: the committed count (HLEN) plus the keys this txn
 * adds, less those it deletes; whether each pending key is committed
 * costs one HEXISTS, and a txn holds few.  The request log prunes by
 * this count, so an estimate would let it grow by one per request.
 */
int
kvr_entries(struct kvr_txn *t, MDB_dbi dbi, size_t *out)
{
	char		 h[KVR_TKEY_MAX];
	const char	*av[3] = { "HLEN", h, NULL };
	size_t		 al[3] = { 4, 0, 0 }, i, n = 0;
	struct kvr_ov	*o;
	redisReply	*rep;
	long long	 total;
	int		 rc = 0, had;

	if (!kvr_dbi_ok(t, dbi))
		return EINVAL;
	if ((o = t->ov[dbi]) != NULL && o->dropped) {
		for (i = 0; i < o->n; i++)
			n += !o->e[i].del;
		*out = n;
		return 0;
	}
	al[1] = kvr_tkey(t->r, dbi, 'h', h, sizeof(h));
	if ((rep = kvr_cmd(t->r, 2, av, al, &rc)) == NULL)
		return rc;
	total = rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
	freeReplyObject(rep);
	for (i = 0; o != NULL && i < o->n; i++) {
		av[0] = "HEXISTS";
		al[0] = 7;
		av[2] = o->e[i].k.mv_data;
		al[2] = o->e[i].k.mv_size;
		if ((rep = kvr_cmd(t->r, 3, av, al, &rc)) == NULL)
			return rc;
		had = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
		freeReplyObject(rep);
		if (o->e[i].del && had)
			total--;
		else if (!o->e[i].del && !had)
			total++;
	}
	*out = total > 0 ? (size_t)total : 0;
	return 0;
}

/* Cursors: kv_redis_cursor.c. */
