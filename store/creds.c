/*
 * Credential records.  Key: 32 hex digits of HMAC(store key, secret), so a
 * token uploaded twice is one record and the key reveals nothing.  Value:
 * a fixed header, the account id, the last error, and the secret sealed
 * with AES-256-GCM (the key id is the associated data, so a sealed secret
 * cannot be moved to another record).  Every change is one short write
 * transaction; picks happen inside one too, so a removed credential can
 * never be handed out afterwards, by any process.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "fcgi/log.h"
#include "store/creds.h"
#include "store/store_priv.h"

#define REC_VERSION	1
#define REC_HDR		60
#define RT_LOCK_TTL	30	/* seconds an exchange may hold the lock */

static const char K_RR[] = "rr_cursor";

struct rec {
	struct cred_info	 info;
	const unsigned char	*sealed;	/* points into the map */
	size_t			 sealed_len;
};

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put64(unsigned char *p, int64_t v)
{
	store_be64(p, (uint64_t)v);
}

static int64_t
get64(const unsigned char *p)
{
	MDB_val v = { 8, (void *)p };

	return (int64_t)store_get_be64(&v);
}

void
cred_fingerprint(const char *secret, char out[13])
{
	log_fingerprint(secret, out);
}

enum cred_kind
cred_detect_kind(const char *s)
{
	size_t n = strlen(s);

	if (strncmp(s, "eyJ", 3) == 0 || strncmp(s, "fk-", 3) == 0)
		return CRED_ACCESS;
	if (n == 45 || strncmp(s, "rt_", 3) == 0 || strncmp(s, "rt-", 3) == 0)
		return CRED_REFRESH;
	return CRED_OTHER;
}

const char *
cred_kind_name(enum cred_kind k)
{
	switch (k) {
	case CRED_ACCESS:	return "access_token";
	case CRED_REFRESH:	return "refresh_token";
	default:		return "other";
	}
}

const char *
cred_status_name(enum cred_status s)
{
	return s == CRED_ERROR ? "error" : "active";
}

/* A credential is one printable token: no spaces, controls or quotes. */
static int
secret_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CRED_SECRET_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

static int
account_ok(const char *s, size_t n)
{
	size_t i;

	if (n > CRED_ACCOUNT_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = h[p[i] >> 4];
		out[2 * i + 1] = h[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
make_id(struct store *s, const char *label, const char *secret, size_t n,
    char out[CRED_ID_LEN + 1])
{
	unsigned char mac[CRYPTO_MAC_LEN];

	crypto_mac(&s->key, label, secret, n, mac);
	hex(mac, CRED_ID_LEN / 2, out);
}

enum store_err
cred_id_of(struct store *s, const char *secret, char out[CRED_ID_LEN + 1])
{
	if (!s->have_key)
		return STORE_INVAL;
	make_id(s, "cred-id", secret, strlen(secret), out);
	return STORE_OK;
}

static int
rec_decode(const MDB_val *k, const MDB_val *v, struct rec *r)
{
	const unsigned char *p = v->mv_data;
	size_t alen, rlen, slen;

	if (k->mv_size != CRED_ID_LEN || v->mv_size < REC_HDR ||
	    p[0] != REC_VERSION)
		return -1;
	memset(r, 0, sizeof(*r));
	memcpy(r->info.id, k->mv_data, CRED_ID_LEN);
	r->info.kind = (enum cred_kind)p[1];
	r->info.status = (enum cred_status)p[2];
	r->info.error_count = get32(p + 4);
	r->info.created_at = get64(p + 8);
	r->info.last_used_at = get64(p + 16);
	r->info.last_error_at = get64(p + 24);
	r->info.cooldown_until = get64(p + 32);
	alen = (size_t)(p[40] << 8 | p[41]);
	rlen = (size_t)(p[42] << 8 | p[43]);
	memcpy(r->info.fingerprint, p + 44, 12);
	slen = get32(p + 56);
	if (alen > CRED_ACCOUNT_MAX || rlen > CRED_REASON_MAX ||
	    REC_HDR + alen + rlen + slen != v->mv_size)
		return -1;
	memcpy(r->info.account_id, p + REC_HDR, alen);
	memcpy(r->info.last_error, p + REC_HDR + alen, rlen);
	r->sealed = p + REC_HDR + alen + rlen;
	r->sealed_len = slen;
	return 0;
}

/* Serialises info + sealed into buf (caller sizes it). */
static size_t
rec_encode(const struct cred_info *in, const unsigned char *sealed,
    size_t slen, unsigned char *buf)
{
	size_t alen = strlen(in->account_id), rlen = strlen(in->last_error);

	memset(buf, 0, REC_HDR);
	buf[0] = REC_VERSION;
	buf[1] = (unsigned char)in->kind;
	buf[2] = (unsigned char)in->status;
	put32(buf + 4, in->error_count);
	put64(buf + 8, in->created_at);
	put64(buf + 16, in->last_used_at);
	put64(buf + 24, in->last_error_at);
	put64(buf + 32, in->cooldown_until);
	buf[40] = (unsigned char)(alen >> 8);
	buf[41] = (unsigned char)alen;
	buf[42] = (unsigned char)(rlen >> 8);
	buf[43] = (unsigned char)rlen;
	memcpy(buf + 44, in->fingerprint, 12);
	put32(buf + 56, (uint32_t)slen);
	memcpy(buf + REC_HDR, in->account_id, alen);
	memcpy(buf + REC_HDR + alen, in->last_error, rlen);
	memcpy(buf + REC_HDR + alen + rlen, sealed, slen);
	return REC_HDR + alen + rlen + slen;
}

static size_t
rec_size(const struct cred_info *in, size_t slen)
{
	return REC_HDR + strlen(in->account_id) + strlen(in->last_error) +
	    slen;
}

/* Rewrites a record's header fields, keeping its sealed secret. */
static int
rec_rewrite(MDB_txn *txn, MDB_dbi dbi, const struct rec *r)
{
	MDB_val k = { CRED_ID_LEN, (void *)r->info.id }, v;
	unsigned char *buf;
	int rc;

	if ((buf = malloc(rec_size(&r->info, r->sealed_len))) == NULL)
		return ENOMEM;
	v.mv_size = rec_encode(&r->info, r->sealed, r->sealed_len, buf);
	v.mv_data = buf;
	rc = mdb_put(txn, dbi, &k, &v, 0);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------ add */

struct add_item {
	const char	*secret;
	size_t		 slen;
	const char	*account;
	size_t		 alen;
};

struct add_ctx {
	struct add_item	*items;
	size_t		 n;
	size_t		 added, dups;
};

static int
add_txn(struct store *s, MDB_txn *txn, void *arg)
{
	struct add_ctx *c = arg;
	struct cred_info info;
	unsigned char *buf = NULL, *sealed = NULL;
	MDB_val k, v;
	MDB_stat st;
	char *secret = NULL;
	size_t i;
	int rc = 0;

	c->added = c->dups = 0;
	if ((rc = mdb_stat(txn, s->creds, &st)) != 0)
		return rc;
	for (i = 0; i < c->n; i++) {
		struct add_item *it = &c->items[i];
		struct rec old;

		if ((secret = strndup(it->secret, it->slen)) == NULL)
			return ENOMEM;
		memset(&info, 0, sizeof(info));
		make_id(s, "cred-id", secret, it->slen, info.id);
		k.mv_size = CRED_ID_LEN;
		k.mv_data = info.id;
		rc = mdb_get(txn, s->creds, &k, &v);
		if (rc == 0 && rec_decode(&k, &v, &old) == 0) {
			/* A duplicate: an account id given now is kept. */
			c->dups++;
			if (it->alen && (it->alen != strlen(old.info.account_id)
			    || memcmp(old.info.account_id, it->account,
			    it->alen) != 0)) {
				memcpy(old.info.account_id, it->account,
				    it->alen);
				old.info.account_id[it->alen] = '\0';
				if ((rc = rec_rewrite(txn, s->creds, &old)))
					goto out;
			}
			crypto_wipe(secret, it->slen);
			free(secret);
			secret = NULL;
			continue;
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			goto out;
		if (st.ms_entries + c->added >= CRED_MAX_RECORDS) {
			rc = MDB_MAP_FULL;
			goto out;
		}
		info.kind = cred_detect_kind(secret);
		info.status = CRED_ACTIVE;
		info.created_at = store_now(s);
		memcpy(info.account_id, it->account, it->alen);
		cred_fingerprint(secret, info.fingerprint);
		if ((sealed = malloc(it->slen + CRYPTO_OVERHEAD)) == NULL ||
		    (buf = malloc(rec_size(&info, it->slen + CRYPTO_OVERHEAD)))
		    == NULL) {
			rc = ENOMEM;
			goto out;
		}
		if (crypto_seal(&s->key, info.id, CRED_ID_LEN, secret, it->slen,
		    sealed) < 0) {
			rc = EIO;
			goto out;
		}
		v.mv_size = rec_encode(&info, sealed, it->slen +
		    CRYPTO_OVERHEAD, buf);
		v.mv_data = buf;
		if ((rc = mdb_put(txn, s->creds, &k, &v, 0)) != 0)
			goto out;
		c->added++;
		crypto_wipe(secret, it->slen);
		free(secret);
		free(sealed);
		free(buf);
		secret = NULL;
		sealed = buf = NULL;
	}
out:
	if (secret) {
		crypto_wipe(secret, strlen(secret));
		free(secret);
	}
	free(sealed);
	free(buf);
	return rc;
}

static enum store_err
add_items(struct store *s, struct add_item *items, size_t n, size_t *added,
    size_t *dups)
{
	struct add_ctx c = { items, n, 0, 0 };
	enum store_err e;

	if (!s->have_key)
		return STORE_INVAL;
	e = store_write(s, add_txn, &c);
	if (e == STORE_OK)
		e = store_sync(s);	/* credentials do not wait a second */
	if (added)
		*added = c.added;
	if (dups)
		*dups = c.dups;
	return e;
}

enum store_err
cred_add(struct store *s, const char *secret, const char *account,
    int *added)
{
	struct add_item it;
	size_t a = 0;
	enum store_err e;

	it.secret = secret;
	it.slen = strlen(secret);
	it.account = account ? account : "";
	it.alen = account ? strlen(account) : 0;
	if (!secret_ok(it.secret, it.slen) || !account_ok(it.account, it.alen))
		return STORE_INVAL;
	e = add_items(s, &it, 1, &a, NULL);
	if (added)
		*added = a == 1;
	return e;
}

enum store_err
cred_add_lines(struct store *s, const char *text, size_t len, size_t *added,
    size_t *dups)
{
	struct add_item *items;
	const char *p = text, *end = text + len, *eol, *a, *b, *comma;
	size_t n = 0, cap = 0;
	enum store_err e;

	*added = *dups = 0;
	items = NULL;
	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		for (a = p; a < eol && isspace((unsigned char)*a); a++)
			;
		for (b = eol; b > a && isspace((unsigned char)b[-1]); b--)
			;
		p = eol + 1;
		if (a == b || *a == '#')
			continue;
		if (n == cap) {
			struct add_item *ni;
			cap = cap ? cap * 2 : 64;
			if ((ni = realloc(items, cap * sizeof(*ni))) == NULL) {
				free(items);
				return STORE_ENOMEM;
			}
			items = ni;
		}
		comma = memchr(a, ',', (size_t)(b - a));
		items[n].secret = a;
		items[n].slen = comma ? (size_t)(comma - a) : (size_t)(b - a);
		items[n].account = comma ? comma + 1 : "";
		items[n].alen = comma ? (size_t)(b - comma - 1) : 0;
		/* Lines that are no token are skipped, not stored. */
		if (!secret_ok(items[n].secret, items[n].slen) ||
		    !account_ok(items[n].account, items[n].alen))
			continue;
		n++;
	}
	e = n ? add_items(s, items, n, added, dups) : STORE_OK;
	free(items);
	return e;
}

/* ---------------------------------------------------------- remove/clear */

struct rm_ctx {
	const char	*key;
	size_t		 removed;
};

static int
remove_txn(struct store *s, MDB_txn *txn, void *arg)
{
	struct rm_ctx *c = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	struct rec r;
	int rc;

	c->removed = 0;
	if ((rc = mdb_cursor_open(txn, s->creds, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (rec_decode(&k, &v, &r) < 0)
			continue;
		if (strcmp(r.info.id, c->key) != 0 &&
		    strcmp(r.info.fingerprint, c->key) != 0)
			continue;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		c->removed++;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = c->removed ? 0 : MDB_NOTFOUND;
	return rc;
}

enum store_err
cred_remove(struct store *s, const char *id_or_fp)
{
	struct rm_ctx c = { id_or_fp, 0 };
	enum store_err e;

	if (strlen(id_or_fp) != 12 && strlen(id_or_fp) != CRED_ID_LEN)
		return STORE_INVAL;
	if ((e = store_write(s, remove_txn, &c)) == STORE_OK)
		e = store_sync(s);
	return e;
}

struct drop_ctx {
	MDB_dbi		 dbi;
	size_t		 removed;
};

static int
drop_txn(struct store *s, MDB_txn *txn, void *arg)
{
	struct drop_ctx *c = arg;
	MDB_stat st;
	int rc;

	(void)s;
	if ((rc = mdb_stat(txn, c->dbi, &st)) != 0)
		return rc;
	c->removed = st.ms_entries;
	return mdb_drop(txn, c->dbi, 0);
}

static enum store_err
drop_all(struct store *s, MDB_dbi dbi, size_t *removed)
{
	struct drop_ctx c = { dbi, 0 };
	enum store_err e;

	if ((e = store_write(s, drop_txn, &c)) == STORE_OK)
		e = store_sync(s);
	if (removed)
		*removed = c.removed;
	return e;
}

enum store_err
cred_clear(struct store *s, size_t *removed)
{
	enum store_err e;

	if ((e = drop_all(s, s->creds, removed)) != STORE_OK)
		return e;
	/* Cached exchanges belong to the credentials just removed. */
	return drop_all(s, s->rtcache, NULL);
}

enum store_err
cred_seeds_clear(struct store *s, size_t *removed)
{
	return drop_all(s, s->seeds, removed);
}

/* ---------------------------------------------------------- listing */

struct list_ctx {
	int		(*fn)(void *, const struct cred_info *);
	int		(*xfn)(void *, const struct cred_info *, const char *);
	void		 *arg;
};

static int
list_txn(struct store *s, MDB_txn *txn, void *arg)
{
	struct list_ctx *c = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	struct rec r;
	unsigned char *pt;
	int rc, stop = 0;

	if ((rc = mdb_cursor_open(txn, s->creds, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !stop;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (rec_decode(&k, &v, &r) < 0)
			continue;
		if (c->fn != NULL) {
			stop = c->fn(c->arg, &r.info);
			continue;
		}
		if (r.sealed_len < CRYPTO_OVERHEAD ||
		    (pt = malloc(r.sealed_len - CRYPTO_OVERHEAD + 1)) == NULL)
			continue;
		if (crypto_open(&s->key, r.info.id, CRED_ID_LEN, r.sealed,
		    r.sealed_len, pt) == 0) {
			pt[r.sealed_len - CRYPTO_OVERHEAD] = '\0';
			stop = c->xfn(c->arg, &r.info, (char *)pt);
		} else
			log_warn("store: credential %s cannot be decrypted "
			    "(another CHAT2API_SECRET_KEY?)", r.info.fingerprint);
		crypto_wipe(pt, r.sealed_len - CRYPTO_OVERHEAD);
		free(pt);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum store_err
cred_list(struct store *s, int (*fn)(void *, const struct cred_info *),
    void *arg)
{
	struct list_ctx c = { fn, NULL, arg };

	return store_read(s, list_txn, &c);
}

enum store_err
cred_export(struct store *s,
    int (*fn)(void *, const struct cred_info *, const char *), void *arg)
{
	struct list_ctx c = { NULL, fn, arg };

	if (!s->have_key)
		return STORE_INVAL;
	return store_read(s, list_txn, &c);
}

static int
eligible(const struct cred_info *i, int64_t now)
{
	return i->status == CRED_ACTIVE && i->cooldown_until <= now;
}

struct count_ctx {
	struct cred_counts	*out;
	int64_t			 now;
};

static int
count_fn(void *arg, const struct cred_info *i)
{
	struct count_ctx *cc = arg;
	struct cred_counts *c = cc->out;
	int64_t now = cc->now;

	c->total++;
	if (i->status == CRED_ERROR)
		c->error++;
	else if (i->cooldown_until > now)
		c->cooling++;
	else
		c->active++;
	if ((unsigned)i->kind < 4)
		c->by_kind[i->kind]++;
	return 0;
}

enum store_err
cred_count(struct store *s, struct cred_counts *out)
{
	struct count_ctx cc = { out, store_now(s) };

	memset(out, 0, sizeof(*out));
	return cred_list(s, count_fn, &cc);
}

/* ---------------------------------------------------------- pick */

struct pick_ctx {
	enum cred_pick_mode	 mode;
	struct cred_pick	*out;
	unsigned char		*sealed;
	size_t			 sealed_len;
};

static int
pick_txn(struct store *s, MDB_txn *txn, void *arg)
{
	struct pick_ctx *c = arg;
	MDB_cursor *cur = NULL;
	MDB_val k, v, rk = { sizeof(K_RR) - 1, (void *)K_RR }, rv;
	unsigned char cbuf[8];
	struct rec r;
	uint64_t cursor = 0, n = 0, want, i = 0;
	int64_t now = store_now(s);
	int rc;

	if ((rc = mdb_cursor_open(txn, s->creds, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (rec_decode(&k, &v, &r) == 0 && eligible(&r.info, now))
			n++;
	if (n == 0) {
		mdb_cursor_close(cur);
		return MDB_NOTFOUND;
	}
	if (c->mode == CRED_PICK_ROUND_ROBIN) {
		if (mdb_get(txn, s->meta, &rk, &rv) == 0)
			cursor = store_get_be64(&rv);
		want = cursor % n;
		store_be64(cbuf, cursor + 1);
		rv.mv_size = sizeof(cbuf);
		rv.mv_data = cbuf;
		if ((rc = mdb_put(txn, s->meta, &rk, &rv, 0)) != 0)
			goto out;
	} else {
		uint64_t rnd = 0;
		RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
		want = rnd % n;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (rec_decode(&k, &v, &r) < 0 || !eligible(&r.info, now))
			continue;
		if (i++ == want)
			break;
	}
	if (rc != 0)
		goto out;
	/* Copy out before the map moves under the rewrite below. */
	if ((c->sealed = malloc(r.sealed_len)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	memcpy(c->sealed, r.sealed, r.sealed_len);
	c->sealed_len = r.sealed_len;
	r.sealed = c->sealed;
	r.info.last_used_at = now;
	c->out->info = r.info;
	mdb_cursor_close(cur);
	cur = NULL;
	rc = rec_rewrite(txn, s->creds, &r);
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	return rc;
}

enum store_err
cred_pick(struct store *s, enum cred_pick_mode mode, struct cred_pick *out)
{
	struct pick_ctx c;
	enum store_err e;
	size_t n;
	int tries;

	memset(out, 0, sizeof(*out));
	if (!s->have_key)
		return STORE_INVAL;
	for (tries = 0; tries < 8; tries++) {
		memset(&c, 0, sizeof(c));
		c.mode = mode;
		c.out = out;
		if ((e = store_write(s, pick_txn, &c)) != STORE_OK) {
			free(c.sealed);
			return e;
		}
		n = c.sealed_len - CRYPTO_OVERHEAD;
		if (c.sealed_len >= CRYPTO_OVERHEAD &&
		    (out->secret = malloc(n + 1)) != NULL &&
		    crypto_open(&s->key, out->info.id, CRED_ID_LEN, c.sealed,
		    c.sealed_len, (unsigned char *)out->secret) == 0) {
			out->secret[n] = '\0';
			free(c.sealed);
			return STORE_OK;
		}
		free(c.sealed);
		free(out->secret);
		out->secret = NULL;
		/* Undecryptable: take it out of rotation and pick again. */
		cred_mark_error(s, out->info.id, "cannot decrypt: the data dir "
		    "was written with another CHAT2API_SECRET_KEY");
	}
	return STORE_NOTFOUND;
}

void
cred_pick_free(struct cred_pick *p)
{
	if (p->secret != NULL) {
		crypto_wipe(p->secret, strlen(p->secret));
		free(p->secret);
	}
	memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------- outcomes */

struct mark_ctx {
	const char	*id;
	const char	*reason;
	int64_t		 until;
	int		 what;	/* 0 error, 1 cooldown */
};

static int
mark_txn(struct store *s, MDB_txn *txn, void *arg)
{
	struct mark_ctx *c = arg;
	MDB_val k = { CRED_ID_LEN, (void *)c->id }, v;
	struct rec r;
	int rc;

	if ((rc = mdb_get(txn, s->creds, &k, &v)) != 0)
		return rc;
	if (rec_decode(&k, &v, &r) < 0)
		return MDB_CORRUPTED;
	if (c->what == 0) {
		r.info.status = CRED_ERROR;
		r.info.error_count++;
		r.info.last_error_at = store_now(s);
		snprintf(r.info.last_error, sizeof(r.info.last_error), "%s",
		    c->reason ? c->reason : "error");
	} else
		r.info.cooldown_until = c->until;
	return rec_rewrite(txn, s->creds, &r);
}

enum store_err
cred_mark_error(struct store *s, const char *id, const char *reason)
{
	struct mark_ctx c = { id, reason, 0, 0 };

	if (strlen(id) != CRED_ID_LEN)
		return STORE_INVAL;
	return store_write(s, mark_txn, &c);
}

enum store_err
cred_mark_cooldown(struct store *s, const char *id, int64_t until)
{
	struct mark_ctx c = { id, NULL, until, 1 };

	if (strlen(id) != CRED_ID_LEN)
		return STORE_INVAL;
	return store_write(s, mark_txn, &c);
}

static int
errors_clear_txn(struct store *s, MDB_txn *txn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	struct rec r;
	int rc;

	(void)arg;
	if ((rc = mdb_cursor_open(txn, s->creds, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (rec_decode(&k, &v, &r) < 0 || (r.info.status ==
		    CRED_ACTIVE && r.info.cooldown_until == 0))
			continue;
		r.info.status = CRED_ACTIVE;
		r.info.cooldown_until = 0;
		r.info.last_error[0] = '\0';
		/* Rewriting under an open cursor: re-put and move on. */
		{
			unsigned char *buf = malloc(rec_size(&r.info,
			    r.sealed_len));
			MDB_val nv;
			if (buf == NULL) {
				rc = ENOMEM;
				break;
			}
			nv.mv_size = rec_encode(&r.info, r.sealed, r.sealed_len,
			    buf);
			nv.mv_data = buf;
			rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT);
			free(buf);
			if (rc != 0)
				break;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum store_err
cred_errors_clear(struct store *s)
{
	return store_write(s, errors_clear_txn, NULL);
}

/* ---------------------------------------------------------- RT cache */

struct rt_ctx {
	char		 id[CRED_ID_LEN + 1];
	const char	*at;
	int64_t		 expires;
	unsigned char	*sealed;
	size_t		 sealed_len;
	int		 acquired;
	int64_t		 owner;
};

static int
rt_get_txn(struct store *s, MDB_txn *txn, void *arg)
{
	struct rt_ctx *c = arg;
	MDB_val k = { CRED_ID_LEN, c->id }, v;
	int rc;

	if ((rc = mdb_get(txn, s->rtcache, &k, &v)) != 0)
		return rc;
	if (v.mv_size < 8 + CRYPTO_OVERHEAD)
		return MDB_NOTFOUND;
	c->expires = get64(v.mv_data);
	c->sealed_len = v.mv_size - 8;
	if ((c->sealed = malloc(c->sealed_len)) == NULL)
		return ENOMEM;
	memcpy(c->sealed, (unsigned char *)v.mv_data + 8, c->sealed_len);
	return 0;
}

enum store_err
cred_rt_lookup(struct store *s, const char *rt, char **at, int64_t *expires)
{
	struct rt_ctx c;
	enum store_err e;
	size_t n;

	*at = NULL;
	memset(&c, 0, sizeof(c));
	make_id(s, "rt-id", rt, strlen(rt), c.id);
	if ((e = store_read(s, rt_get_txn, &c)) != STORE_OK)
		return e;
	if (c.expires <= store_now(s)) {
		free(c.sealed);
		return STORE_NOTFOUND;
	}
	n = c.sealed_len - CRYPTO_OVERHEAD;
	if ((*at = malloc(n + 1)) == NULL) {
		free(c.sealed);
		return STORE_ENOMEM;
	}
	if (crypto_open(&s->key, c.id, CRED_ID_LEN, c.sealed, c.sealed_len,
	    (unsigned char *)*at) < 0) {
		free(*at);
		*at = NULL;
		free(c.sealed);
		return STORE_NOTFOUND;
	}
	(*at)[n] = '\0';
	free(c.sealed);
	if (expires)
		*expires = c.expires;
	return STORE_OK;
}

static int
rt_put_txn(struct store *s, MDB_txn *txn, void *arg)
{
	struct rt_ctx *c = arg;
	MDB_val k = { CRED_ID_LEN, c->id }, v = { c->sealed_len, c->sealed };

	return mdb_put(txn, s->rtcache, &k, &v, 0);
}

enum store_err
cred_rt_store(struct store *s, const char *rt, const char *at,
    int64_t expires)
{
	struct rt_ctx c;
	enum store_err e;
	size_t n = strlen(at);

	memset(&c, 0, sizeof(c));
	make_id(s, "rt-id", rt, strlen(rt), c.id);
	c.sealed_len = 8 + n + CRYPTO_OVERHEAD;
	if ((c.sealed = malloc(c.sealed_len)) == NULL)
		return STORE_ENOMEM;
	put64(c.sealed, expires);
	if (crypto_seal(&s->key, c.id, CRED_ID_LEN, at, n, c.sealed + 8) < 0) {
		free(c.sealed);
		return STORE_IO;
	}
	if ((e = store_write(s, rt_put_txn, &c)) == STORE_OK)
		e = store_sync(s);
	free(c.sealed);
	return e;
}

static int
rt_del_txn(struct store *s, MDB_txn *txn, void *arg)
{
	struct rt_ctx *c = arg;
	MDB_val k = { CRED_ID_LEN, c->id };
	int rc = mdb_del(txn, s->rtcache, &k, NULL);

	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum store_err
cred_rt_forget(struct store *s, const char *rt)
{
	struct rt_ctx c;

	memset(&c, 0, sizeof(c));
	make_id(s, "rt-id", rt, strlen(rt), c.id);
	return store_write(s, rt_del_txn, &c);
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
rt_lock_txn(struct store *s, MDB_txn *txn, void *arg)
{
	struct rt_ctx *c = arg;
	MDB_val k = { CRED_ID_LEN, c->id }, v;
	unsigned char buf[16];
	int rc;

	c->acquired = 0;
	rc = mdb_get(txn, s->rtlock, &k, &v);
	if (rc == 0 && v.mv_size == 16) {
		int64_t until = get64(v.mv_data),
		    owner = get64((unsigned char *)v.mv_data + 8);
		/* A live holder within its time keeps it; a dead one not. */
		if (until > store_now(s) && holder_alive(owner))
			return 0;
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	put64(buf, store_now(s) + RT_LOCK_TTL);
	put64(buf + 8, c->owner);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	if ((rc = mdb_put(txn, s->rtlock, &k, &v, 0)) == 0)
		c->acquired = 1;
	return rc;
}

enum store_err
cred_rt_lock(struct store *s, const char *rt, int *acquired)
{
	struct rt_ctx c;
	enum store_err e;

	memset(&c, 0, sizeof(c));
	make_id(s, "rt-id", rt, strlen(rt), c.id);
	c.owner = lock_owner();
	e = store_write(s, rt_lock_txn, &c);
	*acquired = c.acquired;
	return e;
}

static int
rt_unlock_txn(struct store *s, MDB_txn *txn, void *arg)
{
	struct rt_ctx *c = arg;
	MDB_val k = { CRED_ID_LEN, c->id }, v;
	int rc;

	if ((rc = mdb_get(txn, s->rtlock, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (v.mv_size == 16 && get64((unsigned char *)v.mv_data + 8) !=
	    c->owner)
		return 0;	/* someone else's by now */
	return mdb_del(txn, s->rtlock, &k, NULL);
}

enum store_err
cred_rt_unlock(struct store *s, const char *rt)
{
	struct rt_ctx c;

	memset(&c, 0, sizeof(c));
	make_id(s, "rt-id", rt, strlen(rt), c.id);
	c.owner = lock_owner();
	return store_write(s, rt_unlock_txn, &c);
}
