/*
 * The session table (see sessions.h).  Two sub-databases: "sessions",
 * key → record, and "sess_exp", big-endian expiry ‖ key → nothing, so the
 * oldest records are found without a scan.
 *
 * Record: version(1) created(8) expires(8) turns(4) named(1) section(16),
 * then four strings each with a 2-byte length: provider, account, chat,
 * parent.
 */
#include "config.h"

#include <string.h>

#include "store/sessions.h"
#include "store/store_priv.h"

#define SESS_VERSION	1
#define SESS_FIXED	(22 + STORE_SESSION_SECTION)
#define SESS_EXP_KEY	(8 + STORE_SESSION_KEY)

struct sess_ctx {
	const struct store_session	*in;
	const unsigned char		*taken;		/* put: the claim */
	struct store_session		*out;		/* take */
	struct store_session		*gone;
	size_t				 ngone_max, ngone;
	int				 found;
	int64_t				 now;
	int				(*fn)(void *, const struct store_session *);
	void				*arg;
};

static size_t
put_str(unsigned char *p, const char *s)
{
	size_t n = strlen(s);

	p[0] = (unsigned char)(n >> 8);
	p[1] = (unsigned char)n;
	memcpy(p + 2, s, n);
	return n + 2;
}

static int
get_str(const unsigned char **p, const unsigned char *end, char *out,
    size_t outsz)
{
	size_t n;

	if (end - *p < 2)
		return -1;
	n = (size_t)(*p)[0] << 8 | (*p)[1];
	*p += 2;
	if ((size_t)(end - *p) < n || n >= outsz)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return 0;
}

static size_t
encode(const struct store_session *r, unsigned char *buf)
{
	unsigned char *p = buf;

	*p++ = SESS_VERSION;
	store_be64(p, (uint64_t)r->created);
	store_be64(p + 8, (uint64_t)r->expires);
	store_put32(p + 16, r->turns);
	p[20] = (r->named ? 1 : 0) | (r->claimed ? 2 : 0);
	memcpy(p + 21, r->section, STORE_SESSION_SECTION);
	p += 21 + STORE_SESSION_SECTION;
	p += put_str(p, r->provider);
	p += put_str(p, r->account);
	p += put_str(p, r->chat_id);
	p += put_str(p, r->parent_id);
	return (size_t)(p - buf);
}

static int
decode(const MDB_val *k, const MDB_val *v, struct store_session *r)
{
	const unsigned char *p = v->mv_data, *end = p + v->mv_size;

	memset(r, 0, sizeof(*r));
	if (k->mv_size != STORE_SESSION_KEY || v->mv_size < SESS_FIXED ||
	    p[0] != SESS_VERSION)
		return -1;
	memcpy(r->key, k->mv_data, STORE_SESSION_KEY);
	r->created = (int64_t)store_get64(p + 1);
	r->expires = (int64_t)store_get64(p + 9);
	r->turns = store_get32(p + 17);
	r->named = p[21] & 1;
	r->claimed = (p[21] & 2) != 0;
	memcpy(r->section, p + 22, STORE_SESSION_SECTION);
	p += 22 + STORE_SESSION_SECTION;
	if (get_str(&p, end, r->provider, sizeof(r->provider)) < 0 ||
	    get_str(&p, end, r->account, sizeof(r->account)) < 0 ||
	    get_str(&p, end, r->chat_id, sizeof(r->chat_id)) < 0 ||
	    get_str(&p, end, r->parent_id, sizeof(r->parent_id)) < 0)
		return -1;
	return 0;
}

static void
exp_key(unsigned char out[SESS_EXP_KEY], int64_t expires,
    const unsigned char key[STORE_SESSION_KEY])
{
	store_be64(out, (uint64_t)expires);
	memcpy(out + 8, key, STORE_SESSION_KEY);
}

/* Deletes the record under k and its index entry; *r gets it. */
static int
remove_rec(struct store *s, struct kv_txn *txn, const unsigned char *key,
    struct store_session *r, int *found)
{
	unsigned char ek[SESS_EXP_KEY];
	MDB_val k = { STORE_SESSION_KEY, (void *)key }, v, x;
	int rc;

	*found = 0;
	if ((rc = kv_get(txn, s->sessions, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (decode(&k, &v, r) == 0) {
		*found = 1;
		exp_key(ek, r->expires, key);
		x.mv_size = sizeof(ek);
		x.mv_data = ek;
		rc = kv_del(txn, s->sess_exp, &x, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	return kv_del(txn, s->sessions, &k, NULL);
}

/*
 * Takes out up to ngone_max expired records, oldest first: the first
 * index entry, while it has expired, goes with its record.
 */
static int
prune(struct store *s, struct kv_txn *txn, struct sess_ctx *c)
{
	unsigned char key[STORE_SESSION_KEY];
	struct kv_cursor *cur;
	MDB_val k, v;
	int rc, found, stale = 0;

	while (c->ngone < c->ngone_max) {
		if ((rc = kv_cursor_open(txn, s->sess_exp, &cur)) != 0)
			return rc;
		if ((rc = kv_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
			stale = k.mv_size != SESS_EXP_KEY;
			if (!stale && (int64_t)store_get64(k.mv_data) > c->now)
				rc = MDB_NOTFOUND;	/* the oldest lives */
			else {
				if (!stale)
					memcpy(key, (unsigned char *)k.mv_data +
					    8, STORE_SESSION_KEY);
				rc = kv_cursor_del(cur, 0);
			}
		}
		kv_cursor_close(cur);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc != 0)
			return rc;
		if (stale)
			continue;
		if ((rc = remove_rec(s, txn, key, &c->gone[c->ngone],
		    &found)) != 0)
			return rc;
		if (found)
			c->ngone++;
	}
	return 0;
}

/* The record and its index entry (none there yet). */
static int
write_rec(struct store *s, struct kv_txn *txn, const struct store_session *r)
{
	unsigned char buf[SESS_FIXED + 4 * (STORE_SESSION_ID_MAX + 2)];
	unsigned char ek[SESS_EXP_KEY];
	MDB_val k, v, x = { 0, NULL };
	int rc;

	k.mv_size = STORE_SESSION_KEY;
	k.mv_data = (void *)r->key;
	v.mv_size = encode(r, buf);
	v.mv_data = buf;
	if ((rc = kv_put(txn, s->sessions, &k, &v, 0)) != 0)
		return rc;
	exp_key(ek, r->expires, r->key);
	k.mv_size = sizeof(ek);
	k.mv_data = ek;
	return kv_put(txn, s->sess_exp, &k, &x, 0);
}

static int
take_txn(struct store *s, struct kv_txn *txn, void *u)
{
	struct sess_ctx *c = u;
	struct store_session claim;
	MDB_val k = { STORE_SESSION_KEY, (void *)c->in->key }, v;
	int rc, found;

	if ((rc = kv_get(txn, s->sessions, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	/* expired ones wait for prune, which hands their chats back */
	if (decode(&k, &v, c->out) < 0 || c->out->expires <= c->now ||
	    c->out->claimed)
		return 0;
	if ((rc = remove_rec(s, txn, c->in->key, &claim, &found)) != 0)
		return rc;
	claim.claimed = 1;
	claim.expires = c->now + STORE_SESSION_CLAIM_S;
	if ((rc = write_rec(s, txn, &claim)) != 0)
		return rc;
	c->found = 1;
	return 0;
}

enum store_err
store_session_take(struct store *s, const unsigned char key[STORE_SESSION_KEY],
    struct store_session *out)
{
	struct store_session in;
	struct sess_ctx c;
	enum store_err e;

	if (s == NULL || key == NULL || out == NULL)
		return STORE_INVAL;
	memset(&c, 0, sizeof(c));
	memcpy(in.key, key, STORE_SESSION_KEY);
	c.in = &in;
	c.out = out;
	c.now = store_now(s);
	if ((e = store_write(s, take_txn, &c)) != STORE_OK)
		return e;
	return c.found ? STORE_OK : STORE_NOTFOUND;
}

static int
drop_txn(struct store *s, struct kv_txn *txn, void *u)
{
	struct sess_ctx *c = u;
	struct store_session old;

	return remove_rec(s, txn, c->in->key, &old, &c->found);
}

enum store_err
store_session_drop(struct store *s, const unsigned char key[STORE_SESSION_KEY])
{
	struct store_session in;
	struct sess_ctx c;

	if (s == NULL || key == NULL)
		return STORE_INVAL;
	memset(&c, 0, sizeof(c));
	memcpy(in.key, key, STORE_SESSION_KEY);
	c.in = &in;
	return store_write(s, drop_txn, &c);
}

static int
put_txn(struct store *s, struct kv_txn *txn, void *u)
{
	struct sess_ctx *c = u;
	struct store_session old;
	int rc, found;

	if ((rc = prune(s, txn, c)) != 0)
		return rc;
	/* the claim ends: its chat lives on in the new record */
	if (c->taken != NULL && memcmp(c->taken, c->in->key,
	    STORE_SESSION_KEY) != 0 && (rc = remove_rec(s, txn, c->taken,
	    &old, &found)) != 0)
		return rc;
	if ((rc = remove_rec(s, txn, c->in->key, &old, &found)) != 0)
		return rc;
	/* a named session moved on to another chat: the old one goes */
	if (found && strcmp(old.chat_id, c->in->chat_id) != 0 &&
	    c->ngone < c->ngone_max)
		c->gone[c->ngone++] = old;
	return write_rec(s, txn, c->in);
}

static int
fits(const struct store_session *r)
{
	return strlen(r->provider) < sizeof(r->provider) &&
	    strlen(r->account) <= STORE_SESSION_ACCT_MAX &&
	    strlen(r->chat_id) <= STORE_SESSION_ID_MAX &&
	    strlen(r->parent_id) <= STORE_SESSION_ID_MAX;
}

enum store_err
store_session_put(struct store *s, const struct store_session *rec,
    long ttl_s, const unsigned char *taken, struct store_session *gone,
    size_t ngone_max, size_t *ngone)
{
	struct store_session r;
	struct sess_ctx c;
	enum store_err e;

	*ngone = 0;
	if (s == NULL || rec == NULL || !fits(rec) || ttl_s <= 0 ||
	    (gone == NULL && ngone_max > 0))
		return STORE_INVAL;
	memset(&c, 0, sizeof(c));
	r = *rec;
	c.now = store_now(s);
	r.created = r.created > 0 ? r.created : c.now;
	r.expires = c.now + ttl_s;
	r.claimed = 0;
	c.in = &r;
	c.taken = taken;
	c.gone = gone;
	c.ngone_max = ngone_max;
	e = store_write(s, put_txn, &c);
	*ngone = e == STORE_OK ? c.ngone : 0;
	return e;
}

static int
expired_txn(struct store *s, struct kv_txn *txn, void *u)
{
	return prune(s, txn, u);
}

enum store_err
store_session_expired(struct store *s, struct store_session *gone,
    size_t ngone_max, size_t *ngone)
{
	struct sess_ctx c;
	enum store_err e;

	*ngone = 0;
	if (s == NULL || gone == NULL)
		return STORE_INVAL;
	memset(&c, 0, sizeof(c));
	c.gone = gone;
	c.ngone_max = ngone_max;
	c.now = store_now(s);
	e = store_write(s, expired_txn, &c);
	*ngone = e == STORE_OK ? c.ngone : 0;
	return e;
}

static int
each_one(struct kv_cursor *cur, MDB_val *k, MDB_val *v, void *u)
{
	struct sess_ctx *c = u;
	struct store_session r;

	(void)cur;
	if (decode(k, v, &r) < 0 || r.expires <= c->now)
		return 0;
	return c->fn(c->arg, &r) ? STORE_EACH_STOP : 0;
}

static int
each_txn(struct store *s, struct kv_txn *txn, void *u)
{
	return store_each(txn, s->sessions, each_one, u);
}

enum store_err
store_session_each(struct store *s,
    int (*fn)(void *, const struct store_session *), void *arg)
{
	struct sess_ctx c;

	if (s == NULL || fn == NULL)
		return STORE_INVAL;
	memset(&c, 0, sizeof(c));
	c.fn = fn;
	c.arg = arg;
	c.now = store_now(s);
	return store_read(s, each_txn, &c);
}
