/*
 * Gateway seeds (store/seeds.h): resolving one for a request, the
 * operator's /seedtoken changes and listings, and forgetting them all.
 *
 * A pool seed keeps only the id of its account: the secret is read from
 * the account each time, so a rotated RefreshToken or a re-enabled
 * account is seen at once, and a removed or failed account makes the
 * seed move to another one at its next request.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/log.h"
#include "fcgi/rand.h"
#include "store/acct_rec.h"
#include "store/seed_priv.h"

#define SEED_COUNT_KEY	"seeds:count"
#define SEED_PLAIN_MAX	(SEED_LEN_MAX + SEED_TOKEN_MAX + ACCT_TEAM_MAX + 3)

/* ------------------------------------------------------------ count */

static int
count_add(struct store *s, struct kv_txn *txn, int delta, uint64_t *now)
{
	MDB_val k = { sizeof(SEED_COUNT_KEY) - 1, (void *)SEED_COUNT_KEY }, v;
	unsigned char buf[8];
	uint64_t n = 0;
	int rc;

	if ((rc = kv_get(txn, s->meta, &k, &v)) == 0)
		n = store_get_be64(&v);
	else if (rc != MDB_NOTFOUND)
		return rc;
	if (delta < 0 && n > 0)
		n--;
	else if (delta > 0)
		n++;
	if (now != NULL)
		*now = n;
	store_be64(buf, n);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return kv_put(txn, s->meta, &k, &v, 0);
}

/* ------------------------------------------------------------ resolve */

struct resolve {
	const char		*provider;
	const char		*seed;
	int			 create;
	unsigned char		 key[SEED_KEY_LEN];
	struct seed_cred	*out;
	char			*plain;		/* SEED_PLAIN_MAX */
	/* the account's secret, copied out of the map */
	unsigned char		*sealed;
	size_t			 sealed_len;
	char			 bad[ACCT_ID_LEN + 1];	/* needs another */
	enum seed_err		 why;
};

/* A usable account's sealed secret and team id into r. */
static int
take_account(struct store *s, struct kv_txn *txn, struct resolve *r,
    const char *id)
{
	char key[ACCT_KEY_MAX + 1];
	struct acct_rec rec;
	MDB_val k, v;
	int rc;

	if (strlen(id) != ACCT_ID_LEN || (k.mv_size = acct_key(r->provider,
	    id, key)) == 0)
		return MDB_NOTFOUND;
	k.mv_data = key;
	if ((rc = kv_get(txn, s->accounts, &k, &v)) != 0)
		return rc;
	if (acct_rec_decode(&k, &v, &rec, store_today(s)) < 0 ||
	    rec.info.status != ACCT_ACTIVE)
		return MDB_NOTFOUND;
	free(r->sealed);
	if ((r->sealed = malloc(rec.sealed_len)) == NULL)
		return ENOMEM;
	memcpy(r->sealed, rec.sealed, rec.sealed_len);
	r->sealed_len = rec.sealed_len;
	memcpy(r->out->account, id, ACCT_ID_LEN + 1);
	memcpy(r->out->team_id, rec.info.team_id, sizeof(r->out->team_id));
	return 0;
}

/*
 * The seed's record, opened: f[0] the seed, f[1] the account id or
 * token, f[2] the team id (pointing into plain).
 */
static int
read_seed(struct store *s, struct kv_txn *txn, const unsigned char *key,
    const char *seed, char *plain, struct seed_hdr *h, const char *f[3])
{
	MDB_val k = { SEED_KEY_LEN, (void *)key }, v;
	size_t plen;
	int rc;

	if ((rc = kv_get(txn, s->seeds, &k, &v)) != 0)
		return rc;
	if (seed_hdr_get(v.mv_data, v.mv_size, h) < 0 ||
	    seed_open(s, &k, &v, SEED_HDR_LEN, plain, SEED_PLAIN_MAX,
	    &plen) < 0 || seed_fields_unpack(plain, plen, f, 3) < 0 ||
	    (seed != NULL && strcmp(f[0], seed) != 0))
		return MDB_CORRUPTED;
	return 0;
}

static int
set_token(struct resolve *r, const char *const f[3])
{
	r->out->source = SEED_SET;
	if ((r->out->secret = strdup(f[1])) == NULL)
		return ENOMEM;
	snprintf(r->out->team_id, sizeof(r->out->team_id), "%s", f[2]);
	return 0;
}

static int
resolve_read(struct store *s, struct kv_txn *txn, void *arg)
{
	struct resolve *r = arg;
	struct seed_hdr h;
	const char *f[3];
	int rc;

	if ((rc = read_seed(s, txn, r->key, r->seed, r->plain, &h, f)) != 0)
		return seed_fail(&r->why, rc == MDB_NOTFOUND ? SEED_UNKNOWN :
		    SEED_STORE);
	if (h.source == SEED_SET)
		return set_token(r, f);
	r->out->source = SEED_POOL;
	if ((rc = take_account(s, txn, r, f[1])) == MDB_NOTFOUND) {
		/* Removed, disabled or failed: the write path moves it. */
		snprintf(r->bad, sizeof(r->bad), "%s", f[1]);
		return seed_fail(&r->why, SEED_NOPOOL);
	}
	return rc;
}

/* One active account of the provider, uniformly at random. */
static int
pick_account(struct store *s, struct kv_txn *txn, struct resolve *r)
{
	char prefix[ACCT_PROVIDER_MAX + 2], chosen[ACCT_ID_LEN + 1];
	uint32_t today = store_today(s);
	struct acct_rec rec;
	struct kv_cursor *cur;
	MDB_val k, v;
	size_t plen, seen = 0;
	int rc;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s:", r->provider);
	if ((rc = kv_cursor_open(txn, s->accounts, &cur)) != 0)
		return rc;
	k.mv_size = plen;
	k.mv_data = prefix;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (acct_rec_decode(&k, &v, &rec, today) < 0 ||
		    rec.info.status != ACCT_ACTIVE ||
		    strcmp(rec.info.id, r->bad) == 0)
			continue;
		/* A reservoir of one: each of n is kept with chance 1/n. */
		if (rnd_below(++seen) == 0)
			memcpy(chosen, rec.info.id, sizeof(chosen));
	}
	kv_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (seen == 0)
		return seed_fail(&r->why, SEED_NOPOOL);
	return take_account(s, txn, r, chosen);
}

static int
put_seed(struct store *s, struct kv_txn *txn, const unsigned char *key,
    const struct seed_hdr *h, const char *const f[3])
{
	unsigned char hdr[SEED_HDR_LEN], *val;
	char *plain;
	size_t plen, vlen;
	MDB_val k = { SEED_KEY_LEN, (void *)key }, v;
	int rc;

	if ((plain = malloc(SEED_PLAIN_MAX)) == NULL)
		return ENOMEM;
	if ((plen = seed_fields_pack(plain, SEED_PLAIN_MAX, f, 3)) == 0) {
		free(plain);
		return EINVAL;
	}
	seed_hdr_put(hdr, h);
	val = seed_seal(s, &k, hdr, sizeof(hdr), plain, plen, &vlen);
	crypto_wipe(plain, plen);
	free(plain);
	if (val == NULL)
		return ENOMEM;
	v.mv_size = vlen;
	v.mv_data = val;
	rc = kv_put(txn, s->seeds, &k, &v, 0);
	free(val);
	return rc;
}

/* Creates the seed, or moves it off an account that is gone. */
static int
resolve_write(struct store *s, struct kv_txn *txn, void *arg)
{
	struct resolve *r = arg;
	struct seed_hdr h;
	const char *f[3];
	uint64_t n;
	int rc;

	rc = read_seed(s, txn, r->key, r->seed, r->plain, &h, f);
	if (rc == 0 && h.source == SEED_SET)
		return set_token(r, f);		/* an operator set it meanwhile */
	if (rc == 0 && strcmp(f[1], r->bad) != 0 &&
	    (rc = take_account(s, txn, r, f[1])) != MDB_NOTFOUND) {
		r->out->source = SEED_POOL;
		return rc;	/* another process moved it already */
	}
	if (rc == MDB_NOTFOUND && r->bad[0] == '\0') {
		if (!r->create)
			return seed_fail(&r->why, SEED_UNKNOWN);
		if ((rc = count_add(s, txn, 1, &n)) != 0)
			return rc;
		if (n > SEED_MAX)
			return seed_fail(&r->why, SEED_FULL);
		memset(&h, 0, sizeof(h));
		h.created = store_now(s);
	} else if (rc == MDB_CORRUPTED)
		return seed_fail(&r->why, SEED_STORE);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if ((rc = pick_account(s, txn, r)) != 0)
		return rc;
	h.source = SEED_POOL;
	r->out->source = SEED_POOL;
	r->out->assigned = 1;
	f[0] = r->seed;
	f[1] = r->out->account;
	f[2] = "";
	return put_seed(s, txn, r->key, &h, f);
}

/* The account's secret, opened (AAD: the account id). */
static enum seed_err
open_secret(struct store *s, struct resolve *r)
{
	size_t n;

	if (r->sealed_len < CRYPTO_OVERHEAD)
		return SEED_STORE;
	n = r->sealed_len - CRYPTO_OVERHEAD;
	if ((r->out->secret = malloc(n + 1)) == NULL)
		return SEED_ENOMEM;
	if (crypto_open(&s->key, r->out->account, ACCT_ID_LEN, r->sealed,
	    r->sealed_len, (unsigned char *)r->out->secret) < 0) {
		free(r->out->secret);
		r->out->secret = NULL;
		return SEED_STORE;
	}
	r->out->secret[n] = '\0';
	return SEED_OK;
}

enum seed_err
seed_resolve(struct store *s, const char *provider, const char *seed,
    int create, struct seed_cred *out)
{
	struct resolve r;
	enum store_err se;
	enum seed_err e;

	memset(out, 0, sizeof(*out));
	if (!s->have_key || !seed_name_ok(seed, strlen(seed)) ||
	    !acct_provider_ok(provider))
		return SEED_INVAL;
	memset(&r, 0, sizeof(r));
	r.provider = provider;
	r.seed = seed;
	r.create = create;
	r.out = out;
	seed_key(s, 'S', seed, r.key);
	if ((r.plain = malloc(SEED_PLAIN_MAX)) == NULL)
		return SEED_ENOMEM;
	/* A read first: most requests are of seeds that exist. */
	se = store_read(s, resolve_read, &r);
	if (se == STORE_NOTFOUND && (r.why == SEED_NOPOOL ||
	    (r.why == SEED_UNKNOWN && create))) {
		r.why = SEED_OK;
		seed_cred_free(out);
		se = store_write(s, resolve_write, &r);
	}
	crypto_wipe(r.plain, SEED_PLAIN_MAX);
	free(r.plain);
	e = seed_map(se, r.why);
	if (e == SEED_OK && out->secret == NULL)
		e = open_secret(s, &r);
	if (r.sealed != NULL) {
		crypto_wipe(r.sealed, r.sealed_len);
		free(r.sealed);
	}
	if (e != SEED_OK)
		seed_cred_free(out);
	return e;
}

void
seed_cred_free(struct seed_cred *c)
{
	if (c->secret != NULL) {
		crypto_wipe(c->secret, strlen(c->secret));
		free(c->secret);
	}
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------ admin */

struct admin {
	const char		*provider;
	const char		*seed;
	const char		*token;
	const char		*team;
	unsigned char		 key[SEED_KEY_LEN];
	char			*plain;
	struct seed_info	*info;
	int			(*fn)(void *, const struct seed_info *);
	void			*arg;
	size_t			 removed;
	enum seed_err		 why;
};

static int
set_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct admin *a = arg;
	struct seed_hdr h;
	const char *f[3];
	uint64_t n;
	int rc;

	rc = read_seed(s, txn, a->key, NULL, a->plain, &h, f);
	if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED) {
		/* New (or unreadable: replaced, its list kept). */
		if (rc == MDB_NOTFOUND) {
			if ((rc = count_add(s, txn, 1, &n)) != 0)
				return rc;
			if (n > SEED_MAX)
				return seed_fail(&a->why, SEED_FULL);
		}
		memset(&h, 0, sizeof(h));
		h.created = store_now(s);
	} else if (rc != 0)
		return rc;
	h.source = SEED_SET;
	f[0] = a->seed;
	f[1] = a->token;
	f[2] = a->team != NULL ? a->team : "";
	return put_seed(s, txn, a->key, &h, f);
}

enum seed_err
seed_set(struct store *s, const char *seed, const char *token,
    const char *team)
{
	struct admin a;
	enum store_err se;

	if (!s->have_key || !seed_name_ok(seed, strlen(seed)) ||
	    token == NULL || !acct_secret_ok(token, strlen(token)) ||
	    (team != NULL && *team && !acct_team_ok(team, strlen(team))))
		return SEED_INVAL;
	memset(&a, 0, sizeof(a));
	a.seed = seed;
	a.token = token;
	a.team = team;
	seed_key(s, 'S', seed, a.key);
	if ((a.plain = malloc(SEED_PLAIN_MAX)) == NULL)
		return SEED_ENOMEM;
	se = store_write(s, set_txn, &a);
	crypto_wipe(a.plain, SEED_PLAIN_MAX);
	free(a.plain);
	if (se == STORE_OK)
		se = store_sync(s);
	return seed_map(se, a.why);
}

/* Deletes every key that starts with prefix (plen bytes). */
static int
del_range(struct kv_txn *txn, MDB_dbi dbi, const unsigned char *prefix,
    size_t plen, size_t *n)
{
	struct kv_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = kv_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	k.mv_size = plen;
	k.mv_data = (void *)prefix;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		/* After a delete, MDB_NEXT gives the entry that followed. */
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if ((rc = kv_cursor_del(cur, 0)) != 0)
			break;
		if (n != NULL)
			(*n)++;
	}
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
delete_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct admin *a = arg;
	MDB_val k = { SEED_KEY_LEN, a->key };
	unsigned char pfx[SEED_KEY_LEN];
	int rc;

	if ((rc = kv_del(txn, s->seeds, &k, NULL)) == MDB_NOTFOUND)
		return seed_fail(&a->why, SEED_UNKNOWN);
	if (rc != 0 || (rc = count_add(s, txn, -1, NULL)) != 0)
		return rc;
	memcpy(pfx, a->key, sizeof(pfx));
	pfx[0] = 'C';
	if ((rc = del_range(txn, s->seeds, pfx, sizeof(pfx), NULL)) != 0)
		return rc;
	pfx[0] = 'T';
	return del_range(txn, s->seeds, pfx, sizeof(pfx), NULL);
}

enum seed_err
seed_delete(struct store *s, const char *seed)
{
	struct admin a;
	enum store_err se;

	if (!s->have_key || !seed_name_ok(seed, strlen(seed)))
		return SEED_INVAL;
	memset(&a, 0, sizeof(a));
	seed_key(s, 'S', seed, a.key);
	se = store_write(s, delete_txn, &a);
	return seed_map(se, a.why);
}

/* The listing of one record (v under k), opened into a->plain. */
static int
info_of(struct store *s, struct kv_txn *txn, struct admin *a, const MDB_val *k,
    const MDB_val *v, struct seed_info *out)
{
	char key[ACCT_KEY_MAX + 1];
	struct acct_rec rec;
	struct seed_hdr h;
	const char *f[3];
	MDB_val ak, av;
	size_t plen;

	if (seed_hdr_get(v->mv_data, v->mv_size, &h) < 0 ||
	    seed_open(s, k, v, SEED_HDR_LEN, a->plain, SEED_PLAIN_MAX,
	    &plen) < 0 || seed_fields_unpack(a->plain, plen, f, 3) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	snprintf(out->seed, sizeof(out->seed), "%s", f[0]);
	out->source = h.source;
	out->created = h.created;
	out->conversations = h.nconvs;
	snprintf(out->fingerprint, sizeof(out->fingerprint), "-");
	if (h.source == SEED_SET)
		log_fingerprint(f[1], out->fingerprint);
	else if ((ak.mv_size = acct_key(a->provider, f[1], key)) != 0) {
		/* A pool seed shows its account as /tokens does. */
		ak.mv_data = key;
		if (kv_get(txn, s->accounts, &ak, &av) == 0 &&
		    acct_rec_decode(&ak, &av, &rec, store_today(s)) == 0)
			memcpy(out->fingerprint, rec.info.fingerprint,
			    sizeof(out->fingerprint));
	}
	crypto_wipe(a->plain, plen);
	return 0;
}

static int
info_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct admin *a = arg;
	MDB_val k = { SEED_KEY_LEN, a->key }, v;
	int rc;

	if ((rc = kv_get(txn, s->seeds, &k, &v)) != 0)
		return seed_fail(&a->why, rc == MDB_NOTFOUND ? SEED_UNKNOWN :
		    SEED_STORE);
	if (info_of(s, txn, a, &k, &v, a->info) < 0 ||
	    strcmp(a->info->seed, a->seed) != 0)
		return seed_fail(&a->why, SEED_STORE);
	return 0;
}

enum seed_err
seed_info(struct store *s, const char *provider, const char *seed,
    struct seed_info *out)
{
	struct admin a;
	enum store_err se;

	if (!s->have_key || !seed_name_ok(seed, strlen(seed)) ||
	    !acct_provider_ok(provider))
		return SEED_INVAL;
	memset(&a, 0, sizeof(a));
	a.provider = provider;
	a.seed = seed;
	a.info = out;
	seed_key(s, 'S', seed, a.key);
	if ((a.plain = malloc(SEED_PLAIN_MAX)) == NULL)
		return SEED_ENOMEM;
	se = store_read(s, info_txn, &a);
	free(a.plain);
	return seed_map(se, a.why);
}

static int
list_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct admin *a = arg;
	struct seed_info info;
	struct kv_cursor *cur;
	MDB_val k = { 1, "S" }, v;
	int rc;

	if ((rc = kv_cursor_open(txn, s->seeds, &cur)) != 0)
		return rc;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != SEED_KEY_LEN ||
		    ((unsigned char *)k.mv_data)[0] != 'S')
			break;
		if (info_of(s, txn, a, &k, &v, &info) < 0)
			continue;	/* another key's: skipped, not fatal */
		if (a->fn(a->arg, &info) != 0)
			break;
	}
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum seed_err
seed_list(struct store *s, const char *provider,
    int (*fn)(void *, const struct seed_info *), void *arg)
{
	struct admin a;
	enum store_err se;

	if (!s->have_key || !acct_provider_ok(provider))
		return SEED_INVAL;
	memset(&a, 0, sizeof(a));
	a.provider = provider;
	a.fn = fn;
	a.arg = arg;
	if ((a.plain = malloc(SEED_PLAIN_MAX)) == NULL)
		return SEED_ENOMEM;
	se = store_read(s, list_txn, &a);
	free(a.plain);
	return seed_map(se, a.why);
}

static int
clear_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct admin *a = arg;
	MDB_val k = { sizeof(SEED_COUNT_KEY) - 1, (void *)SEED_COUNT_KEY };
	struct kv_cursor *cur;
	MDB_val ck = { 1, "S" }, v;
	int rc;

	a->removed = 0;
	if ((rc = kv_cursor_open(txn, s->seeds, &cur)) != 0)
		return rc;
	for (rc = kv_cursor_get(cur, &ck, &v, MDB_SET_RANGE); rc == 0 &&
	    ((unsigned char *)ck.mv_data)[0] == 'S';
	    rc = kv_cursor_get(cur, &ck, &v, MDB_NEXT))
		a->removed++;
	kv_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if ((rc = kv_drop(txn, s->seeds)) != 0)
		return rc;
	rc = kv_del(txn, s->meta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
count_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	MDB_val k = { sizeof(SEED_COUNT_KEY) - 1, (void *)SEED_COUNT_KEY }, v;
	int rc;

	if ((rc = kv_get(txn, s->meta, &k, &v)) == 0)
		*(size_t *)arg = (size_t)store_get_be64(&v);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum seed_err
seed_count(struct store *s, size_t *n)
{
	*n = 0;
	return seed_map(store_read(s, count_txn, n), SEED_OK);
}

/* store/store.h: /seed_tokens/clear forgets every seed and its list. */
enum store_err
store_seeds_clear(struct store *s, size_t *removed)
{
	struct admin a;
	enum store_err e;

	memset(&a, 0, sizeof(a));
	if ((e = store_write(s, clear_txn, &a)) == STORE_OK)
		e = store_sync(s);
	if (removed)
		*removed = a.removed;
	return e;
}

