/*
 * Per-day totals and minute buckets (see reqlog.h), in the "stats"
 * table.  Keys:
 *
 *   be32 day | kind | name	totals of one day (day 0: all time)
 *   be32 day | '#' | kind	how many names that day and kind has
 *   0xff | be64 minute		the minute bucket (minutes since the epoch)
 *
 * Days are YYYYMMDD (< 0x02000000), so their first byte is never 0xff.
 * Values are five big-endian 64-bit counters (struct stats_counts).
 * Names come from clients (models) or operators (keys): each day and
 * kind keeps at most STATS_NAMES_MAX of them, the rest are "(other)".
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "store/reqlog.h"
#include "store/store_priv.h"

#define VAL_LEN		40
#define KEY_MAX		(4 + 1 + STATS_NAME_MAX)
#define MINUTE_TAG	0xff
#define OTHER		"(other)"

static void
put_counts(unsigned char *p, const struct stats_counts *c)
{
	store_be64(p, c->requests);
	store_be64(p + 8, c->errors);
	store_be64(p + 16, c->latency_ms);
	store_be64(p + 24, c->ttfc_ms);
	store_be64(p + 32, c->ttfc_n);
}

static void
get_counts(const MDB_val *v, struct stats_counts *c)
{
	const unsigned char *p = v->mv_data;

	memset(c, 0, sizeof(*c));
	if (v->mv_size != VAL_LEN)
		return;
	c->requests = store_get64(p);
	c->errors = store_get64(p + 8);
	c->latency_ms = store_get64(p + 16);
	c->ttfc_ms = store_get64(p + 24);
	c->ttfc_n = store_get64(p + 32);
}

static int
add_at(struct kv_txn *txn, MDB_dbi dbi, MDB_val *k, const struct stats_counts *d)
{
	unsigned char buf[VAL_LEN];
	struct stats_counts c;
	MDB_val v;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = kv_get(txn, dbi, k, &v)) == 0)
		get_counts(&v, &c);
	else if (rc != MDB_NOTFOUND)
		return rc;
	c.requests += d->requests;
	c.errors += d->errors;
	c.latency_ms += d->latency_ms;
	c.ttfc_ms += d->ttfc_ms;
	c.ttfc_n += d->ttfc_n;
	put_counts(buf, &c);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return kv_put(txn, dbi, k, &v, 0);
}

static size_t
day_key(unsigned char *key, uint32_t day, int kind, const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	store_put32(key, day);
	key[4] = (unsigned char)kind;
	if (n > STATS_NAME_MAX) {
		name = OTHER;
		n = strlen(OTHER);
	}
	if (n)
		memcpy(key + 5, name, n);
	return 5 + n;
}

/* The name's own row, or "(other)" once the day has too many names. */
static int
bump_name(struct store *s, struct kv_txn *txn, uint32_t day, int kind,
    const char *name, const struct stats_counts *d)
{
	unsigned char key[KEY_MAX], nkey[6];
	MDB_val k, v, nk = { sizeof(nkey), nkey };
	unsigned char nbuf[8];
	uint64_t names = 0;
	int rc;

	if (name == NULL || *name == '\0')
		return 0;
	k.mv_size = day_key(key, day, kind, name);
	k.mv_data = key;
	if ((rc = kv_get(txn, s->stats, &k, &v)) == 0)
		return add_at(txn, s->stats, &k, d);
	if (rc != MDB_NOTFOUND)
		return rc;
	store_put32(nkey, day);
	nkey[4] = '#';
	nkey[5] = (unsigned char)kind;
	if ((rc = kv_get(txn, s->stats, &nk, &v)) == 0)
		names = store_get_be64(&v);
	else if (rc != MDB_NOTFOUND)
		return rc;
	if (names >= STATS_NAMES_MAX) {
		k.mv_size = day_key(key, day, kind, OTHER);
		return add_at(txn, s->stats, &k, d);
	}
	store_be64(nbuf, names + 1);
	v.mv_size = sizeof(nbuf);
	v.mv_data = nbuf;
	if ((rc = kv_put(txn, s->stats, &nk, &v, 0)) != 0)
		return rc;
	return add_at(txn, s->stats, &k, d);
}

static int
bump_minute(struct store *s, struct kv_txn *txn, uint64_t minute,
    const struct stats_counts *d)
{
	unsigned char key[9], first[9];
	struct kv_cursor *cur;
	MDB_val k = { sizeof(key), key }, fk, v;
	int rc, i;

	key[0] = MINUTE_TAG;
	store_be64(key + 1, minute);
	if ((rc = add_at(txn, s->stats, &k, d)) != 0)
		return rc;
	/* A bucket or two older than a day goes with each request. */
	if ((rc = kv_cursor_open(txn, s->stats, &cur)) != 0)
		return rc;
	first[0] = MINUTE_TAG;
	memset(first + 1, 0, 8);
	for (i = 0; i < 2; i++) {
		fk.mv_size = sizeof(first);
		fk.mv_data = first;
		if ((rc = kv_cursor_get(cur, &fk, &v, MDB_SET_RANGE)) != 0)
			break;
		if (fk.mv_size != 9 || ((unsigned char *)fk.mv_data)[0] !=
		    MINUTE_TAG || store_get64((unsigned char *)fk.mv_data + 1) +
		    STATS_MINUTES > minute)
			break;
		if ((rc = kv_cursor_del(cur, 0)) != 0)
			break;
	}
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
stats_bump_txn(struct store *s, struct kv_txn *txn, const struct reqlog_entry *e,
    uint32_t today)
{
	struct stats_counts d;
	uint32_t days[2] = { today, 0 };
	size_t i;
	int rc;

	memset(&d, 0, sizeof(d));
	d.requests = 1;
	d.errors = e->status >= 400;
	d.latency_ms = e->latency_ms;
	if (e->ttfc_ms >= 0) {
		d.ttfc_ms = (uint64_t)e->ttfc_ms;
		d.ttfc_n = 1;
	}
	for (i = 0; i < 2; i++) {
		unsigned char key[KEY_MAX];
		MDB_val k = { day_key(key, days[i], STATS_TOTAL, NULL), key };

		if ((rc = add_at(txn, s->stats, &k, &d)) != 0 ||
		    (rc = bump_name(s, txn, days[i], STATS_PROVIDER,
		    e->provider, &d)) != 0 ||
		    (rc = bump_name(s, txn, days[i], STATS_MODEL, e->model,
		    &d)) != 0 ||
		    (rc = bump_name(s, txn, days[i], STATS_ACCOUNT, e->account,
		    &d)) != 0 ||
		    (rc = bump_name(s, txn, days[i], STATS_KEY, e->key, &d)))
			return rc;
	}
	return bump_minute(s, txn, (uint64_t)store_now(s) / 60, &d);
}

struct daily_ctx {
	uint32_t	 from, to;
	int		 kind;
	int		(*fn)(void *, uint32_t, int, const char *,
			    const struct stats_counts *);
	void		*arg;
};

static int
daily_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct daily_ctx *c = arg;
	struct stats_counts cnt;
	char name[STATS_NAME_MAX + 1];
	unsigned char start[4];
	struct kv_cursor *cur;
	MDB_val k, v;
	const unsigned char *p;
	uint32_t day;
	int rc;

	if ((rc = kv_cursor_open(txn, s->stats, &cur)) != 0)
		return rc;
	store_put32(start, c->from);
	k.mv_size = sizeof(start);
	k.mv_data = start;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		p = k.mv_data;
		if (k.mv_size < 5 || p[0] == MINUTE_TAG)
			break;
		if ((day = store_get32(p)) > c->to)
			break;
		if (p[4] == '#' || (c->kind != 0 && p[4] != c->kind))
			continue;
		memcpy(name, p + 5, k.mv_size - 5);
		name[k.mv_size - 5] = '\0';
		get_counts(&v, &cnt);
		if (c->fn(c->arg, day, p[4], name, &cnt) != 0)
			break;
	}
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum store_err
stats_daily(struct store *s, uint32_t from, uint32_t to, int kind,
    int (*fn)(void *, uint32_t, int, const char *,
    const struct stats_counts *), void *arg)
{
	struct daily_ctx c = { from, to, kind, fn, arg };

	if (from > to)
		return STORE_INVAL;
	return store_read(s, daily_txn, &c);
}

struct minutes_ctx {
	size_t			 n;
	struct stats_counts	*out;
	uint64_t		 first;
};

static int
minutes_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct minutes_ctx *c = arg;
	unsigned char key[9];
	struct kv_cursor *cur;
	MDB_val k = { sizeof(key), key }, v;
	const unsigned char *p;
	uint64_t m;
	int rc;

	key[0] = MINUTE_TAG;
	store_be64(key + 1, c->first);
	if ((rc = kv_cursor_open(txn, s->stats, &cur)) != 0)
		return rc;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		p = k.mv_data;
		if (k.mv_size != 9 || p[0] != MINUTE_TAG)
			break;
		m = store_get64(p + 1);
		if (m >= c->first + c->n)
			break;
		get_counts(&v, &c->out[m - c->first]);
	}
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum store_err
stats_minutes(struct store *s, size_t n, struct stats_counts *out)
{
	struct minutes_ctx c;
	uint64_t now = (uint64_t)store_now(s) / 60;

	if (n == 0 || n > STATS_MINUTES)
		return STORE_INVAL;
	memset(out, 0, n * sizeof(*out));
	c.n = n;
	c.out = out;
	c.first = now + 1 - n;
	return store_read(s, minutes_txn, &c);
}
