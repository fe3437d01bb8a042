/*
 * Picking an account for a request, and recording how the attempt went.
 *
 * A pick is one write transaction: it reads the provider's range, keeps
 * the usable accounts as candidates, chooses by strategy, reserves one of
 * today's uses and stamps the last use.  Cursors live in the meta table
 * under "lb:<provider>", so round-robin and weighted picks are fair across
 * every process on the data dir.
 *
 * Weighted picks walk the cycle of total weight W with a stride coprime to
 * W: every W picks give each account exactly its weight, interleaved
 * rather than in runs.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "store/acct_rec.h"
#include "store/crypto.h"

static const char *const strategy_names[ACCT__STRATEGY_MAX] = {
	[ACCT_ROUND_ROBIN] = "round-robin",
	[ACCT_FILL_FIRST] = "fill-first",
	[ACCT_FAILOVER] = "failover",
	[ACCT_WEIGHTED] = "weighted",
	[ACCT_RANDOM] = "random",
};

const char *
acct_strategy_name(enum acct_strategy s)
{
	return (unsigned)s < ACCT__STRATEGY_MAX ? strategy_names[s] : "?";
}

int
acct_strategy_parse(const char *s, enum acct_strategy *out)
{
	int i;

	for (i = 0; i < ACCT__STRATEGY_MAX; i++)
		if (strcasecmp(s, strategy_names[i]) == 0) {
			*out = (enum acct_strategy)i;
			return 0;
		}
	return -1;
}

struct cand {
	char		 key[ACCT_KEY_MAX + 1];
	size_t		 klen;
	int64_t		 created_at;
	int64_t		 last_fail_at;
	uint32_t	 fail_streak;
	uint32_t	 weight;
	int		 skipped;
	int		 preferred;
};

struct pick_ctx {
	const struct acct_pick_opts	*o;
	struct acct_pick		*out;
	struct acct_pick_why		*why;
	struct cand			*c;
	size_t				 n, cap;
	unsigned char			*sealed, *fields;
	size_t				 sealed_len, fields_len;
};

static int
was_tried(const struct acct_pick_opts *o, const char *id)
{
	size_t i;

	for (i = 0; i < o->nskip; i++)
		if (strcmp(o->skip[i], id) == 0)
			return 1;
	return 0;
}

/* Sorts into the operator's order: oldest first, then by id. */
static int
by_age(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int
in_failure(const struct cand *c, int64_t now)
{
	return c->fail_streak > 0 && now - c->last_fail_at < ACCT_FAIL_WINDOW;
}

/* The next value of this provider's cursor (then stored + 1). */
static int
cursor_next(struct store *s, struct kv_txn *txn, const char *provider,
    uint64_t *val)
{
	char key[ACCT_PROVIDER_MAX + 4];
	unsigned char buf[8];
	MDB_val k, v;
	int rc;

	k.mv_size = (size_t)snprintf(key, sizeof(key), "lb:%s", provider);
	k.mv_data = key;
	*val = 0;
	if ((rc = kv_get(txn, s->meta, &k, &v)) == 0)
		*val = store_get_be64(&v);
	else if (rc != MDB_NOTFOUND)
		return rc;
	store_be64(buf, *val + 1);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return kv_put(txn, s->meta, &k, &v, 0);
}

static int
choose(struct store *s, struct kv_txn *txn, struct pick_ctx *c, size_t *at)
{
	const struct acct_pick_opts *o = c->o;
	int64_t now = store_now(s);
	uint64_t cur, total = 0, pos;
	size_t i, bits;
	int rc;

	for (i = 0; i < c->n; i++)
		if (c->c[i].preferred) {
			*at = i;
			return 0;
		}
	switch (o->strategy) {
	case ACCT_FILL_FIRST:
		qsort(c->c, c->n, sizeof(*c->c), by_age);
		*at = 0;
		return 0;
	case ACCT_FAILOVER:
		qsort(c->c, c->n, sizeof(*c->c), by_age);
		for (i = 0; i < c->n; i++)
			if (!in_failure(&c->c[i], now)) {
				*at = i;
				return 0;
			}
		/* All failing: the one that failed longest ago. */
		for (*at = 0, i = 1; i < c->n; i++)
			if (c->c[i].last_fail_at < c->c[*at].last_fail_at)
				*at = i;
		return 0;
	case ACCT_RANDOM:
		RAND_bytes((unsigned char *)&cur, sizeof(cur));
		*at = (size_t)(cur % c->n);
		return 0;
	case ACCT_WEIGHTED:
		for (i = 0; i < c->n; i++)
			total += c->c[i].weight ? c->c[i].weight : 1;
		/*
		 * The cursor's low bits reversed walk the cycle in a
		 * low-discrepancy order; values past total are skipped,
		 * at most one in a row.
		 */
		for (bits = 0; (UINT64_C(1) << bits) < total; bits++)
			;
		do {
			if ((rc = cursor_next(s, txn, o->provider, &cur)) != 0)
				return rc;
			for (pos = 0, i = 0; i < bits; i++, cur >>= 1)
				pos = pos << 1 | (cur & 1);
		} while (pos >= total);
		for (i = 0; i < c->n; i++) {
			uint64_t w = c->c[i].weight ? c->c[i].weight : 1;
			if (pos < w)
				break;
			pos -= w;
		}
		*at = i < c->n ? i : c->n - 1;
		return 0;
	default:
		if ((rc = cursor_next(s, txn, o->provider, &cur)) != 0)
			return rc;
		*at = (size_t)(cur % c->n);
		return 0;
	}
}

static int
add_cand(struct pick_ctx *c, const MDB_val *k, const struct acct_rec *r,
    int skipped)
{
	struct cand *nc;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		if ((nc = realloc(c->c, c->cap * sizeof(*nc))) == NULL)
			return ENOMEM;
		c->c = nc;
	}
	nc = &c->c[c->n++];
	memcpy(nc->key, k->mv_data, k->mv_size);
	nc->key[k->mv_size] = '\0';
	nc->klen = k->mv_size;
	nc->created_at = r->info.created_at;
	nc->last_fail_at = r->info.last_fail_at;
	nc->fail_streak = r->info.fail_streak;
	nc->weight = r->info.weight;
	nc->skipped = skipped;
	nc->preferred = c->o->prefer != NULL &&
	    (strcmp(c->o->prefer, r->info.id) == 0 ||
	    strcmp(c->o->prefer, r->info.fingerprint) == 0);
	return 0;
}

/* Keeps the candidates that were not tried, unless only tried ones are. */
static void
drop_tried(struct pick_ctx *c)
{
	size_t i, j, fresh = 0;

	for (i = 0; i < c->n; i++)
		fresh += !c->c[i].skipped;
	if (fresh == 0 && c->o->reuse_skipped)
		return;
	for (i = j = 0; i < c->n; i++)
		if (!c->c[i].skipped)
			c->c[j++] = c->c[i];
	c->n = j;
}

static int
pick_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct pick_ctx *c = arg;
	struct acct_pick_why *w = c->why;
	char prefix[ACCT_PROVIDER_MAX + 2];
	uint32_t today = store_today(s);
	int64_t now = store_now(s);
	struct acct_rec r;
	struct kv_cursor *cur;
	MDB_val k, v;
	size_t plen, at;
	int rc;

	c->n = 0;
	memset(w, 0, sizeof(*w));
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s:",
	    c->o->provider);
	if ((rc = kv_cursor_open(txn, s->accounts, &cur)) != 0)
		return rc;
	k.mv_size = plen;
	k.mv_data = prefix;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (acct_rec_decode(&k, &v, &r, today) < 0)
			continue;
		w->total++;
		if (r.info.status == ACCT_INACTIVE)
			w->inactive++;
		else if (r.info.status == ACCT_ERROR)
			w->error++;
		else if (r.info.status == ACCT_EXPIRED)
			w->expired++;
		else if (r.info.cooldown_until > now) {
			if (w->cooling++ == 0 ||
			    r.info.cooldown_until - now < w->cooling_left)
				w->cooling_left = r.info.cooldown_until - now;
		}
		else if (r.info.daily_limit &&
		    r.info.today_use >= r.info.daily_limit)
			w->over_limit++;
		else if (was_tried(c->o, r.info.id)) {
			w->skipped++;
			if ((rc = add_cand(c, &k, &r, 1)) != 0)
				break;
		} else if ((rc = add_cand(c, &k, &r, 0)) != 0)
			break;
	}
	kv_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	drop_tried(c);
	if (c->n == 0)
		return MDB_NOTFOUND;
	if ((rc = choose(s, txn, c, &at)) != 0)
		return rc;
	k.mv_size = c->c[at].klen;
	k.mv_data = c->c[at].key;
	if ((rc = kv_get(txn, s->accounts, &k, &v)) != 0)
		return rc;
	if (acct_rec_decode(&k, &v, &r, today) < 0)
		return MDB_CORRUPTED;
	/* Copy out before the rewrite below moves the map. */
	c->sealed_len = r.sealed_len;
	c->fields_len = r.sealed_fields_len;
	if ((c->sealed = malloc(r.sealed_len + 1)) == NULL ||
	    (c->fields = malloc(r.sealed_fields_len + 1)) == NULL)
		return ENOMEM;
	memcpy(c->sealed, r.sealed, r.sealed_len);
	memcpy(c->fields, r.sealed_fields, r.sealed_fields_len);
	r.sealed = c->sealed;
	r.sealed_fields = c->fields;
	r.info.last_used_at = now;
	r.day_use = acct_rec_today(&r, today) + 1;
	r.use_day = today;
	r.info.today_use = r.day_use;
	c->out->info = r.info;
	c->out->counted = 1;
	return acct_rec_put(txn, s->accounts, NULL, &r);
}

static void
fields_free(struct acct_field *f, size_t n)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < n; i++)
		crypto_wipe((char *)f[i].value, strlen(f[i].value));
	free(f);
}

enum store_err
acct_pick(struct store *s, const struct acct_pick_opts *o,
    struct acct_pick *out, struct acct_pick_why *why)
{
	struct acct_pick_why w0;
	struct pick_ctx c;
	struct acct_result undo;
	enum store_err e;
	size_t n;
	int tries;

	memset(out, 0, sizeof(*out));
	if (why == NULL)
		why = &w0;
	if (!s->have_key || !acct_provider_ok(o->provider))
		return STORE_INVAL;
	for (tries = 0; tries < 8; tries++) {
		memset(&c, 0, sizeof(c));
		c.o = o;
		c.out = out;
		c.why = why;
		e = store_write(s, pick_txn, &c);
		free(c.c);
		if (e != STORE_OK) {
			free(c.sealed);
			free(c.fields);
			return e;
		}
		n = c.sealed_len - CRYPTO_OVERHEAD;
		if (c.sealed_len >= CRYPTO_OVERHEAD &&
		    (out->secret = malloc(n + 1)) != NULL &&
		    crypto_open(&s->key, out->info.id, ACCT_ID_LEN, c.sealed,
		    c.sealed_len, (unsigned char *)out->secret) == 0 &&
		    acct_fields_open(s, out->info.id, c.fields, c.fields_len,
		    &out->fields, &out->nfields) == 0) {
			out->secret[n] = '\0';
			free(c.sealed);
			free(c.fields);
			return STORE_OK;
		}
		free(c.sealed);
		free(c.fields);
		if (out->secret != NULL) {
			crypto_wipe(out->secret, n);
			free(out->secret);
			out->secret = NULL;
		}
		/* Undecryptable: take it out of rotation and pick again. */
		memset(&undo, 0, sizeof(undo));
		undo.outcome = ACCT_OUT_ERROR;
		undo.refund = 1;
		undo.reason = "cannot decrypt: the data dir was written with "
		    "another CHAT2API_SECRET_KEY";
		acct_record(s, o->provider, out->info.id, &undo);
		memset(out, 0, sizeof(*out));
	}
	return STORE_NOTFOUND;
}

void
acct_pick_free(struct acct_pick *p)
{
	acct_secrets_free(p->secret, p->fields, p->nfields);
	memset(p, 0, sizeof(*p));
}

void
acct_secrets_free(char *secret, struct acct_field *f, size_t n)
{
	if (secret != NULL) {
		crypto_wipe(secret, strlen(secret));
		free(secret);
	}
	fields_free(f, n);
}

const char *
acct_pick_field(const struct acct_pick *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nfields; i++)
		if (strcmp(p->fields[i].name, name) == 0)
			return p->fields[i].value;
	return NULL;
}

/* ------------------------------------------------------------ outcome */

struct rec_ctx {
	const char		*provider;
	const char		*id;
	const struct acct_result *res;
};

static void
learn(struct store *s, struct acct_rec *r, const struct acct_result *res,
    uint32_t today)
{
	struct acct_info *in = &r->info;
	int64_t now = store_now(s);

	in->requests++;
	if (res->latency_ms)
		in->last_latency_ms = res->latency_ms;
	if (res->refund && r->use_day == today && r->day_use > 0)
		r->day_use--;
	in->today_use = acct_rec_today(r, today);
	if (res->outcome == ACCT_OUT_OK) {
		in->successes++;
		in->fail_streak = 0;
		return;
	}
	if (res->outcome == ACCT_OUT_REFUSED)
		return;		/* the account did nothing wrong */
	in->failures++;
	in->fail_streak++;
	in->last_fail_at = now;
	switch (res->outcome) {
	case ACCT_OUT_ERROR:
	case ACCT_OUT_EXPIRED:
		in->status = res->outcome == ACCT_OUT_ERROR ? ACCT_ERROR :
		    ACCT_EXPIRED;
		in->error_count++;
		in->last_error_at = now;
		snprintf(in->last_error, sizeof(in->last_error), "%s",
		    res->reason ? res->reason : "error");
		break;
	case ACCT_OUT_LIMITED:
		if (now + res->cooldown_s > in->cooldown_until)
			in->cooldown_until = now + res->cooldown_s;
		break;
	default:
		break;
	}
}

int
acct_record_txn(struct store *s, struct kv_txn *txn, const char *provider,
    const char *id, const struct acct_result *res)
{
	struct rec_ctx c = { provider, id, res };
	char key[ACCT_KEY_MAX + 1];
	uint32_t today = store_today(s);
	struct acct_rec r;
	MDB_val k, v;
	int rc;

	if (strlen(id) != ACCT_ID_LEN || !acct_provider_ok(provider) ||
	    (k.mv_size = acct_key(c.provider, c.id, key)) == 0)
		return EINVAL;
	k.mv_data = key;
	if ((rc = kv_get(txn, s->accounts, &k, &v)) != 0)
		return rc;
	if (acct_rec_decode(&k, &v, &r, today) < 0)
		return MDB_CORRUPTED;
	learn(s, &r, c.res, today);
	return acct_rec_put(txn, s->accounts, NULL, &r);
}

static int
rec_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct rec_ctx *c = arg;

	return acct_record_txn(s, txn, c->provider, c->id, c->res);
}

enum store_err
acct_record(struct store *s, const char *provider, const char *id,
    const struct acct_result *res)
{
	struct rec_ctx c = { provider, id, res };

	if (strlen(id) != ACCT_ID_LEN || !acct_provider_ok(provider))
		return STORE_INVAL;
	return store_write(s, rec_txn, &c);
}
