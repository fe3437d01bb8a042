/*
 * Accounts already stored: removing, reading and changing one, clearing
 * errors, rotating a secret, listing (with or without the secrets) and
 * counting.  Each is one transaction over the provider's key range.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/log.h"
#include "store/acct_rec.h"
#include "store/crypto.h"

/* ------------------------------------------------------------ scans */

/*
 * Calls fn for every record of provider (NULL: all) in key order; fn may
 * delete or rewrite the current record through the cursor.  fn returns 0
 * to go on, 1 to stop, or an LMDB rc.
 */
typedef int (*scan_fn)(struct store *, struct kv_cursor *, MDB_val *,
    struct acct_rec *, void *);

static int
scan(struct store *s, struct kv_txn *txn, const char *provider, scan_fn fn,
    void *arg)
{
	char prefix[ACCT_PROVIDER_MAX + 2];
	uint32_t today = store_today(s);
	struct acct_rec r;
	struct kv_cursor *cur;
	MDB_val k, v;
	size_t plen = 0;
	int rc, op;

	if (provider != NULL)
		plen = (size_t)snprintf(prefix, sizeof(prefix), "%s:",
		    provider);
	if ((rc = kv_cursor_open(txn, s->accounts, &cur)) != 0)
		return rc;
	k.mv_size = plen;
	k.mv_data = prefix;
	op = plen ? MDB_SET_RANGE : MDB_FIRST;
	for (rc = kv_cursor_get(cur, &k, &v, op); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (plen && (k.mv_size < plen ||
		    memcmp(k.mv_data, prefix, plen) != 0)) {
			rc = MDB_NOTFOUND;
			break;
		}
		if (acct_rec_decode(&k, &v, &r, today) < 0)
			continue;
		if ((rc = fn(s, cur, &k, &r, arg)) != 0)
			break;
	}
	kv_cursor_close(cur);
	if (rc == 1 || rc == MDB_NOTFOUND)
		rc = 0;
	return rc;
}

/* Rewrites the record under the cursor. */
static int
rewrite(struct store *s, struct kv_cursor *cur, MDB_val *k, struct acct_rec *r)
{
	(void)k;
	return acct_rec_put(kv_cursor_txn(cur), s->accounts, cur, r);
}

static int
matches(const struct acct_rec *r, const char *id_or_fp)
{
	return strcmp(r->info.id, id_or_fp) == 0 ||
	    strcmp(r->info.fingerprint, id_or_fp) == 0;
}

static int
id_shape_ok(const char *id_or_fp)
{
	size_t n = strlen(id_or_fp);

	return n == 12 || n == ACCT_ID_LEN;
}

/* ------------------------------------------------------------ remove */

struct rm_ctx {
	const char	*key;
	size_t		 removed;
};

static int
rm_fn(struct store *s, struct kv_cursor *cur, MDB_val *k, struct acct_rec *r,
    void *arg)
{
	struct rm_ctx *c = arg;
	int rc;

	(void)s;
	(void)k;
	if (c->key != NULL && !matches(r, c->key))
		return 0;
	if ((rc = kv_cursor_del(cur, 0)) != 0)
		return rc;
	c->removed++;
	return 0;
}

struct rm_args {
	const char	*provider;
	struct rm_ctx	 c;
};

static int
rm_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct rm_args *a = arg;

	a->c.removed = 0;
	return scan(s, txn, a->provider, rm_fn, &a->c);
}

enum store_err
acct_remove(struct store *s, const char *provider, const char *id_or_fp)
{
	struct rm_args a = { provider, { id_or_fp, 0 } };
	enum store_err e;

	if (!id_shape_ok(id_or_fp))
		return STORE_INVAL;
	if ((e = store_write(s, rm_txn, &a)) != STORE_OK)
		return e;
	if (a.c.removed == 0)
		return STORE_NOTFOUND;
	return store_sync(s);
}

enum store_err
acct_clear(struct store *s, const char *provider, size_t *removed)
{
	struct rm_args a = { provider, { NULL, 0 } };
	enum store_err e;

	if ((e = store_write(s, rm_txn, &a)) == STORE_OK)
		e = store_sync(s);
	if (removed)
		*removed = a.c.removed;
	return e;
}

/* ------------------------------------------------------------ get, set */

struct one_ctx {
	const char			*key;
	const struct acct_change	*ch;
	const char			*secret;	/* rotate */
	struct acct_info		*out;
	int				 found;
};

static int
get_fn(struct store *s, struct kv_cursor *cur, MDB_val *k, struct acct_rec *r,
    void *arg)
{
	struct one_ctx *c = arg;

	(void)s;
	(void)cur;
	(void)k;
	if (!matches(r, c->key))
		return 0;
	*c->out = r->info;
	c->found = 1;
	return 1;
}

static int
get_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	return scan(s, txn, NULL, get_fn, arg);
}

enum store_err
acct_get(struct store *s, const char *id_or_fp, struct acct_info *out)
{
	struct one_ctx c = { id_or_fp, NULL, NULL, out, 0 };
	enum store_err e;

	if (!id_shape_ok(id_or_fp))
		return STORE_INVAL;
	if ((e = store_read(s, get_txn, &c)) != STORE_OK)
		return e;
	return c.found ? STORE_OK : STORE_NOTFOUND;
}

static void
apply(struct store *s, struct acct_info *in, const struct acct_change *ch)
{
	if (ch->set & ACCT_SET_LABEL)
		snprintf(in->label, sizeof(in->label), "%s",
		    ch->label ? ch->label : "");
	if (ch->set & ACCT_SET_LIMIT)
		in->daily_limit = ch->daily_limit;
	if (ch->set & ACCT_SET_WEIGHT)
		in->weight = ch->weight;
	if (ch->set & ACCT_SET_EMAIL)
		snprintf(in->email, sizeof(in->email), "%s",
		    ch->email ? ch->email : "");
	if (ch->set & ACCT_SET_LATENCY)
		in->last_latency_ms = ch->latency_ms;
	if (ch->set & ACCT_SET_STATUS) {
		in->status = ch->status;
		in->cooldown_until = 0;
		in->fail_streak = 0;
		if (ch->status == ACCT_ACTIVE || ch->status == ACCT_INACTIVE)
			in->last_error[0] = '\0';
		if (ch->reason != NULL) {
			snprintf(in->last_error, sizeof(in->last_error), "%s",
			    ch->reason);
			in->last_error_at = store_now(s);
			in->error_count++;
		}
	}
}

static int
set_fn(struct store *s, struct kv_cursor *cur, MDB_val *k, struct acct_rec *r,
    void *arg)
{
	struct one_ctx *c = arg;
	unsigned char *sealed = NULL;
	size_t n;
	int rc;

	if (!matches(r, c->key))
		return 0;
	c->found = 1;
	if (c->ch != NULL)
		apply(s, &r->info, c->ch);
	if (c->secret != NULL) {
		n = strlen(c->secret);
		if ((sealed = malloc(n + CRYPTO_OVERHEAD)) == NULL)
			return ENOMEM;
		if (crypto_seal(&s->key, r->info.id, ACCT_ID_LEN, c->secret, n,
		    sealed) < 0) {
			free(sealed);
			return EIO;
		}
		acct_secret_mac(s, r->info.provider, c->secret, n, r->mac);
		log_fingerprint(c->secret, r->info.fingerprint);
		r->sealed = sealed;
		r->sealed_len = n + CRYPTO_OVERHEAD;
	}
	rc = rewrite(s, cur, k, r);
	free(sealed);
	if (c->out != NULL)
		*c->out = r->info;
	return rc ? rc : 1;
}

static int
set_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	return scan(s, txn, NULL, set_fn, arg);
}

static int
change_ok(const struct acct_change *ch)
{
	if ((ch->set & ACCT_SET_LABEL) && ch->label &&
	    !acct_text_ok(ch->label, ACCT_LABEL_MAX))
		return 0;
	if ((ch->set & ACCT_SET_EMAIL) && ch->email &&
	    !acct_text_ok(ch->email, ACCT_EMAIL_MAX))
		return 0;
	if ((ch->set & ACCT_SET_WEIGHT) && (ch->weight < 1 ||
	    ch->weight > ACCT_WEIGHT_MAX))
		return 0;
	if ((ch->set & ACCT_SET_LIMIT) && ch->daily_limit > ACCT_LIMIT_MAX)
		return 0;
	if ((ch->set & ACCT_SET_STATUS) &&
	    (unsigned)ch->status >= ACCT__STATUS_MAX)
		return 0;
	return 1;
}

enum store_err
acct_set(struct store *s, const char *id_or_fp, const struct acct_change *ch)
{
	struct one_ctx c = { id_or_fp, ch, NULL, NULL, 0 };
	enum store_err e;

	if (!id_shape_ok(id_or_fp) || !change_ok(ch))
		return STORE_INVAL;
	if ((e = store_write(s, set_txn, &c)) != STORE_OK)
		return e;
	return c.found ? STORE_OK : STORE_NOTFOUND;
}

enum store_err
acct_rotate(struct store *s, const char *id, const char *secret)
{
	struct one_ctx c = { id, NULL, secret, NULL, 0 };
	enum store_err e;

	if (strlen(id) != ACCT_ID_LEN || !acct_secret_ok(secret, strlen(secret)) ||
	    !s->have_key)
		return STORE_INVAL;
	if ((e = store_write(s, set_txn, &c)) != STORE_OK)
		return e;
	if (!c.found)
		return STORE_NOTFOUND;
	return store_sync(s);
}

static int
errclear_fn(struct store *s, struct kv_cursor *cur, MDB_val *k, struct acct_rec *r,
    void *arg)
{
	(void)arg;
	if (r->info.status == ACCT_INACTIVE || (r->info.status == ACCT_ACTIVE &&
	    r->info.cooldown_until == 0 && r->info.fail_streak == 0))
		return 0;
	r->info.status = ACCT_ACTIVE;
	r->info.cooldown_until = 0;
	r->info.fail_streak = 0;
	r->info.last_error[0] = '\0';
	return rewrite(s, cur, k, r);
}

static int
errclear_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	return scan(s, txn, arg, errclear_fn, NULL);
}

enum store_err
acct_errors_clear(struct store *s, const char *provider)
{
	return store_write(s, errclear_txn, (void *)provider);
}

/* ------------------------------------------------------------ listing */

struct list_ctx {
	const char	*provider;
	int		(*fn)(void *, const struct acct_info *);
	int		(*xfn)(void *, const struct acct_info *, const char *,
			    const struct acct_field *, size_t);
	void		 *arg;
};

static int
list_fn(struct store *s, struct kv_cursor *cur, MDB_val *k, struct acct_rec *r,
    void *arg)
{
	struct list_ctx *c = arg;
	struct acct_field *f = NULL;
	unsigned char *pt;
	size_t n, nf = 0;
	int stop = 0;

	(void)cur;
	(void)k;
	if (c->fn != NULL)
		return c->fn(c->arg, &r->info) ? 1 : 0;
	if (r->sealed_len < CRYPTO_OVERHEAD)
		return 0;
	n = r->sealed_len - CRYPTO_OVERHEAD;
	if ((pt = malloc(n + 1)) == NULL)
		return ENOMEM;
	if (crypto_open(&s->key, r->info.id, ACCT_ID_LEN, r->sealed,
	    r->sealed_len, pt) == 0 && acct_fields_open(s, r->info.id,
	    r->sealed_fields, r->sealed_fields_len, &f, &nf) == 0) {
		pt[n] = '\0';
		stop = c->xfn(c->arg, &r->info, (char *)pt, f, nf);
	} else
		log_warn("store: account %s cannot be decrypted (another "
		    "CHAT2API_SECRET_KEY?)", r->info.fingerprint);
	crypto_wipe(pt, n);
	free(pt);
	if (f != NULL) {
		size_t i;
		for (i = 0; i < nf; i++)
			crypto_wipe((char *)f[i].value, strlen(f[i].value));
		free(f);
	}
	return stop ? 1 : 0;
}

static int
list_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct list_ctx *c = arg;

	return scan(s, txn, c->provider, list_fn, c);
}

enum store_err
acct_list(struct store *s, const char *provider,
    int (*fn)(void *, const struct acct_info *), void *arg)
{
	struct list_ctx c = { provider, fn, NULL, arg };

	return store_read(s, list_txn, &c);
}

enum store_err
acct_export(struct store *s, const char *provider,
    int (*fn)(void *, const struct acct_info *, const char *,
    const struct acct_field *, size_t), void *arg)
{
	struct list_ctx c = { provider, NULL, fn, arg };

	if (!s->have_key)
		return STORE_INVAL;
	return store_read(s, list_txn, &c);
}

struct count_ctx {
	struct acct_counts	*out;
	int64_t			 now;
};

static int
count_fn(void *arg, const struct acct_info *i)
{
	struct count_ctx *cc = arg;
	struct acct_counts *c = cc->out;

	c->total++;
	if ((unsigned)i->kind < sizeof(c->by_kind) / sizeof(c->by_kind[0]))
		c->by_kind[i->kind]++;
	switch (i->status) {
	case ACCT_ERROR:
		c->error++;
		return 0;
	case ACCT_EXPIRED:
		c->expired++;
		return 0;
	case ACCT_INACTIVE:
		c->inactive++;
		return 0;
	default:
		break;
	}
	if (i->cooldown_until > cc->now)
		c->cooling++;
	else
		c->active++;
	if (i->daily_limit && i->today_use >= i->daily_limit)
		c->over_limit++;
	else if (i->cooldown_until <= cc->now)
		c->usable++;
	return 0;
}

enum store_err
acct_count(struct store *s, const char *provider, struct acct_counts *out)
{
	struct count_ctx cc = { out, store_now(s) };

	memset(out, 0, sizeof(*out));
	return acct_list(s, provider, count_fn, &cc);
}
