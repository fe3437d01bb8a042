/*
 * Prometheus series (see reqlog.h) in the "metrics" table: the key is a
 * type byte ('c' counter, 'h' histogram), the metric name, a NUL and the
 * labels as the exposition format writes them (already escaped); the
 * value one big-endian counter, or a histogram's buckets, sum and count.
 * Every process adds into the same rows, so a scrape of any one of them
 * sees the whole server.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/reqlog.h"
#include "store/store_priv.h"

#define KEY_MAX		512
#define HIST_WORDS	(METRICS_NBUCKETS + 3)
#define OTHER		"(other)"

const double metrics_bounds[METRICS_NBUCKETS] = {
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300
};

/* name="value" with \, " and newline escaped; 0 when it does not fit. */
static size_t
label(char *out, size_t cap, size_t off, const char *name, const char *val)
{
	size_t n = strlen(name), i;

	if (val == NULL || *val == '\0')
		val = "-";
	if (off + n + 5 > cap)
		return 0;
	if (off > 0)
		out[off++] = ',';
	memcpy(out + off, name, n);
	off += n;
	out[off++] = '=';
	out[off++] = '"';
	for (i = 0; val[i] && i < STATS_NAME_MAX; i++) {
		if (off + 3 > cap)
			return 0;
		if (val[i] == '\\' || val[i] == '"') {
			out[off++] = '\\';
			out[off++] = val[i];
		} else if (val[i] == '\n') {
			out[off++] = '\\';
			out[off++] = 'n';
		} else
			out[off++] = val[i];
	}
	if (off + 2 > cap)
		return 0;
	out[off++] = '"';
	out[off] = '\0';
	return off;
}

static size_t
series_key(unsigned char *key, int type, const char *name,
    const char *labels)
{
	size_t n = strlen(name), l = strlen(labels);

	if (2 + n + l > KEY_MAX)
		return 0;
	key[0] = (unsigned char)type;
	memcpy(key + 1, name, n);
	key[1 + n] = '\0';
	memcpy(key + 2 + n, labels, l);
	return 2 + n + l;
}

/*
 * The row of a series; a new one only while the table has room.  full:
 * the caller retries with its client-chosen labels folded.
 */
static int
find(struct store *s, struct kv_txn *txn, MDB_val *k, MDB_val *v, int *full)
{
	MDB_stat st;
	int rc;

	*full = 0;
	if ((rc = kv_get(txn, s->metrics, k, v)) != MDB_NOTFOUND)
		return rc;
	if ((rc = kv_stat(txn, s->metrics, &st)) != 0)
		return rc;
	*full = st.ms_entries >= METRICS_SERIES_MAX;
	return MDB_NOTFOUND;
}

static int
counter_add(struct store *s, struct kv_txn *txn, const char *name,
    const char *labels, const char *folded)
{
	unsigned char key[KEY_MAX], buf[8];
	MDB_val k, v;
	uint64_t n = 0;
	int rc, full;

	if ((k.mv_size = series_key(key, 'c', name, labels)) == 0)
		return 0;
	k.mv_data = key;
	rc = find(s, txn, &k, &v, &full);
	if (rc == 0)
		n = store_get_be64(&v);
	else if (rc != MDB_NOTFOUND)
		return rc;
	else if (full && folded != NULL)
		return counter_add(s, txn, name, folded, NULL);
	store_be64(buf, n + 1);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return kv_put(txn, s->metrics, &k, &v, 0);
}

static int
hist_add(struct store *s, struct kv_txn *txn, const char *name, const char *labels,
    uint64_t ms)
{
	unsigned char key[KEY_MAX], buf[HIST_WORDS * 8];
	MDB_val k, v;
	size_t i;
	int rc, full;

	if ((k.mv_size = series_key(key, 'h', name, labels)) == 0)
		return 0;
	k.mv_data = key;
	rc = find(s, txn, &k, &v, &full);
	if (rc == 0 && v.mv_size == sizeof(buf))
		memcpy(buf, v.mv_data, sizeof(buf));
	else if (rc == 0 || rc == MDB_NOTFOUND)
		memset(buf, 0, sizeof(buf));
	else
		return rc;
	for (i = 0; i < METRICS_NBUCKETS; i++)
		if ((double)ms <= metrics_bounds[i] * 1000.0)
			break;
	store_be64(buf + i * 8, store_get64(buf + i * 8) + 1);
	i = METRICS_NBUCKETS + 1;
	store_be64(buf + i * 8, store_get64(buf + i * 8) + ms);
	i++;
	store_be64(buf + i * 8, store_get64(buf + i * 8) + 1);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return kv_put(txn, s->metrics, &k, &v, 0);
}

int
metrics_bump_txn(struct store *s, struct kv_txn *txn, const struct reqlog_entry *e,
    const char *route, const struct store_upstream_err *errs, size_t nerrs,
    long pow_ms)
{
	char l[KEY_MAX], f[KEY_MAX], st[8];
	size_t o, i;
	int rc;

	snprintf(st, sizeof(st), "%d", e->status);
	/* requests by route, status, provider and model */
	if ((o = label(l, sizeof(l), 0, "route", route)) == 0 ||
	    (o = label(l, sizeof(l), o, "status", st)) == 0 ||
	    (o = label(l, sizeof(l), o, "provider", e->provider)) == 0 ||
	    label(l, sizeof(l), o, "model", e->model) == 0)
		return 0;
	memcpy(f, l, o);
	f[o] = '\0';
	if (label(f, sizeof(f), o, "model", OTHER) == 0)
		return 0;
	if ((rc = counter_add(s, txn, "chat2api_requests_total", l, f)) != 0)
		return rc;
	if (label(l, sizeof(l), 0, "provider", e->provider) == 0)
		return 0;
	if ((rc = hist_add(s, txn, "chat2api_request_duration_seconds", l,
	    e->latency_ms)) != 0)
		return rc;
	if (e->ttfc_ms >= 0 && (rc = hist_add(s, txn,
	    "chat2api_time_to_first_chunk_seconds", l,
	    (uint64_t)e->ttfc_ms)) != 0)
		return rc;
	if (pow_ms >= 0 && (rc = hist_add(s, txn,
	    "chat2api_proof_of_work_seconds", l, (uint64_t)pow_ms)) != 0)
		return rc;
	for (i = 0; i < nerrs; i++) {
		if ((o = label(l, sizeof(l), 0, "provider",
		    errs[i].provider)) == 0 ||
		    label(l, sizeof(l), o, "kind", errs[i].kind) == 0)
			continue;
		if ((rc = counter_add(s, txn, "chat2api_upstream_errors_total",
		    l, NULL)) != 0)
			return rc;
	}
	return 0;
}

struct each_ctx {
	int	(*counter)(void *, const char *, const char *, uint64_t);
	int	(*hist)(void *, const char *, const char *,
		    const struct metrics_hist *);
	void	*arg;
};

static int
each_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct each_ctx *c = arg;
	struct metrics_hist h;
	char key[KEY_MAX + 1];
	const char *labels;
	struct kv_cursor *cur;
	MDB_val k, v;
	size_t i;
	int rc;

	if ((rc = kv_cursor_open(txn, s->metrics, &cur)) != 0)
		return rc;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 2 || k.mv_size > KEY_MAX)
			continue;
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		labels = key + strlen(key) + 1;
		if (labels > key + k.mv_size)
			continue;
		if (key[0] == 'c' && v.mv_size == 8) {
			if (c->counter(c->arg, key + 1, labels,
			    store_get_be64(&v)) != 0)
				break;
		} else if (key[0] == 'h' && v.mv_size == HIST_WORDS * 8) {
			for (i = 0; i <= METRICS_NBUCKETS; i++)
				h.bucket[i] = store_get64((unsigned char *)
				    v.mv_data + i * 8);
			h.sum_ms = store_get64((unsigned char *)v.mv_data +
			    (METRICS_NBUCKETS + 1) * 8);
			h.count = store_get64((unsigned char *)v.mv_data +
			    (METRICS_NBUCKETS + 2) * 8);
			if (c->hist(c->arg, key + 1, labels, &h) != 0)
				break;
		}
	}
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum store_err
metrics_each(struct store *s, int (*counter)(void *, const char *,
    const char *, uint64_t), int (*hist)(void *, const char *, const char *,
    const struct metrics_hist *), void *arg)
{
	struct each_ctx c = { counter, hist, arg };

	return store_read(s, each_txn, &c);
}
