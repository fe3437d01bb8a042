/*
 * The request log (see reqlog.h): its record codec, the append with its
 * incremental pruning, and the queries.
 *
 * A record is a version byte, the status, flags, latency and time to the
 * first chunk, then nine strings, each a 16-bit big-endian length and
 * its bytes: method, route, model, provider, account, key, error and the
 * two bodies.  Strings are cut at REQLOG_STR_MAX, bodies at
 * REQLOG_BODY_MAX (the caller cuts them at LOG_BODY_MAX before).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "store/reqlog.h"
#include "store/store_priv.h"

#define REC_VERSION	1
#define REC_HEAD	12	/* version, flags, status, latency, ttfc */
#define REC_NSTR	9
#define F_STREAM	0x01

static const char *const *
str_slots(const struct reqlog_entry *e, const char *out[REC_NSTR])
{
	out[0] = e->method;
	out[1] = e->route;
	out[2] = e->model;
	out[3] = e->provider;
	out[4] = e->account;
	out[5] = e->key;
	out[6] = e->error;
	out[7] = e->req_body;
	out[8] = e->resp_body;
	return out;
}

static size_t
slot_len(const struct reqlog_entry *e, const char *s, int i)
{
	size_t n;

	if (s == NULL)
		return 0;
	if (i == 7)
		n = e->req_len;
	else if (i == 8)
		n = e->resp_len;
	else
		n = strlen(s);
	if (n > (i >= 7 ? REQLOG_BODY_MAX : REQLOG_STR_MAX))
		n = i >= 7 ? REQLOG_BODY_MAX : REQLOG_STR_MAX;
	return n;
}

size_t
reqlog_encode(const struct reqlog_entry *e, unsigned char *buf, size_t cap)
{
	const char *s[REC_NSTR];
	size_t off = REC_HEAD, n;
	uint32_t ttfc = e->ttfc_ms < 0 ? UINT32_MAX : (uint32_t)e->ttfc_ms;
	int i;

	str_slots(e, s);
	if (cap < REC_HEAD)
		return 0;
	buf[0] = REC_VERSION;
	buf[1] = e->stream ? F_STREAM : 0;
	buf[2] = (unsigned char)((unsigned)e->status >> 8);
	buf[3] = (unsigned char)e->status;
	store_put32(buf + 4, e->latency_ms);
	store_put32(buf + 8, ttfc);
	for (i = 0; i < REC_NSTR; i++) {
		n = slot_len(e, s[i], i);
		if (off + 2 + n > cap)
			return 0;
		buf[off] = (unsigned char)(n >> 8);
		buf[off + 1] = (unsigned char)n;
		if (n)
			memcpy(buf + off + 2, s[i], n);
		off += 2 + n;
	}
	return off;
}

int
reqlog_decode(struct arena *a, const unsigned char *p, size_t len,
    struct reqlog_entry *e)
{
	const char **slots[REC_NSTR];
	size_t off = REC_HEAD, n, lens[REC_NSTR];
	uint32_t ttfc;
	int i;

	memset(e, 0, sizeof(*e));
	slots[0] = &e->method;
	slots[1] = &e->route;
	slots[2] = &e->model;
	slots[3] = &e->provider;
	slots[4] = &e->account;
	slots[5] = &e->key;
	slots[6] = &e->error;
	slots[7] = &e->req_body;
	slots[8] = &e->resp_body;
	/* only what reqlog_encode writes: a record round-trips exactly */
	if (len < REC_HEAD || p[0] != REC_VERSION || (p[1] & ~F_STREAM) != 0)
		return -1;
	e->stream = (p[1] & F_STREAM) != 0;
	e->status = p[2] << 8 | p[3];
	e->latency_ms = store_get32(p + 4);
	ttfc = store_get32(p + 8);
	if (ttfc != UINT32_MAX && ttfc > INT32_MAX)
		return -1;
	e->ttfc_ms = ttfc == UINT32_MAX ? -1 : (int32_t)ttfc;
	for (i = 0; i < REC_NSTR; i++) {
		if (off + 2 > len)
			return -1;
		n = (size_t)p[off] << 8 | p[off + 1];
		off += 2;
		if (n > len - off || n > (i >= 7 ? REQLOG_BODY_MAX :
		    REQLOG_STR_MAX) || (i < 7 && memchr(p + off, '\0', n)))
			return -1;
		if ((*slots[i] = arena_strndup(a, (const char *)p + off, n)) ==
		    NULL)
			return -1;
		lens[i] = n;
		off += n;
	}
	e->req_len = lens[7];
	e->resp_len = lens[8];
	return off == len ? 0 : -1;
}

static uint64_t
now_us(const struct store *s)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)(tv.tv_sec + s->clock_skew) * 1000000u +
	    (uint64_t)tv.tv_usec;
}

/*
 * Drops at most REQLOG_PRUNE_STEP of the oldest entries that are over
 * the count or the age: a request pays a bounded share of the clean-up,
 * and a log that grew while it was bigger shrinks over a few writes.
 */
static int
prune(struct store *s, struct kv_txn *txn, const struct reqlog_conf *c,
    uint64_t now)
{
	struct kv_cursor *cur;
	MDB_stat st;
	MDB_val k, v;
	uint64_t cutoff = 0;
	size_t n, i;
	int rc;

	if ((rc = kv_stat(txn, s->reqlog, &st)) != 0)
		return rc;
	n = st.ms_entries;
	if (c->retention_s > 0 && now > (uint64_t)c->retention_s * 1000000u)
		cutoff = now - (uint64_t)c->retention_s * 1000000u;
	if ((rc = kv_cursor_open(txn, s->reqlog, &cur)) != 0)
		return rc;
	for (i = 0; i < REQLOG_PRUNE_STEP; i++) {
		if ((rc = kv_cursor_get(cur, &k, &v, MDB_FIRST)) != 0)
			break;
		if (n <= c->max_entries && (k.mv_size != 8 ||
		    store_get64(k.mv_data) >= cutoff))
			break;
		if ((rc = kv_cursor_del(cur, 0)) != 0)
			break;
		n--;
	}
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
reqlog_put_txn(struct store *s, struct kv_txn *txn, struct reqlog_entry *e,
    const struct reqlog_conf *c, unsigned char *buf, size_t cap)
{
	struct kv_cursor *cur;
	MDB_val k, v;
	unsigned char key[8];
	uint64_t id = now_us(s), last;
	size_t len;
	int rc;

	if (c->max_entries == 0)
		return 0;
	if ((rc = kv_cursor_open(txn, s->reqlog, &cur)) != 0)
		return rc;
	rc = kv_cursor_get(cur, &k, &v, MDB_LAST);
	kv_cursor_close(cur);
	if (rc == 0 && k.mv_size == 8 && (last = store_get64(k.mv_data)) >=
	    id)
		id = last + 1;	/* a clock step back, or the same µs */
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	e->id = id;
	if ((len = reqlog_encode(e, buf, cap)) == 0)
		return EINVAL;
	store_be64(key, id);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	v.mv_size = len;
	v.mv_data = buf;
	if ((rc = kv_put(txn, s->reqlog, &k, &v, MDB_APPEND)) != 0 &&
	    rc != MDB_KEYEXIST)
		return rc;
	if (rc == MDB_KEYEXIST && (rc = kv_put(txn, s->reqlog, &k, &v, 0)))
		return rc;
	return prune(s, txn, c, id);
}

static int
class_ok(int status, int cls)
{
	return cls == 0 || status / 100 == cls;
}

static int
has(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	if (hay == NULL)
		return 0;
	for (i = 0; hay[i]; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return 1;
	return n == 0;
}

static int
matches(const struct reqlog_filter *f, const struct reqlog_entry *e)
{
	if (!class_ok(e->status, f->status_class))
		return 0;
	if (f->provider != NULL && strcmp(f->provider, e->provider) != 0)
		return 0;
	if (f->model != NULL && strcasecmp(f->model, e->model) != 0)
		return 0;
	if (f->text != NULL && *f->text && !has(e->route, f->text) &&
	    !has(e->model, f->text) && !has(e->error, f->text) &&
	    !has(e->key, f->text) && !has(e->account, f->text) &&
	    !has(e->provider, f->text))
		return 0;
	return 1;
}

struct query_ctx {
	struct arena			*arena;		/* reqlog_get */
	const struct reqlog_filter	*f;
	int				(*fn)(void *,
					    const struct reqlog_entry *);
	void				*arg;
	uint64_t			 want;	/* reqlog_get */
	struct reqlog_entry		*one;
};

static int
query_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct query_ctx *q = arg;
	const struct reqlog_filter *f = q->f;
	struct reqlog_entry e;
	struct kv_cursor *cur;
	MDB_val k, v;
	unsigned char key[8];
	struct arena scratch;
	size_t seen = 0, sent = 0;
	int rc;

	if ((rc = kv_cursor_open(txn, s->reqlog, &cur)) != 0)
		return rc;
	arena_init(&scratch, 4u << 20);
	/* Newest first: from the entry at or before to_us backwards. */
	if (f->to_us != 0) {
		store_be64(key, f->to_us);
		k.mv_size = sizeof(key);
		k.mv_data = key;
		rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && store_get64(k.mv_data) > f->to_us)
			rc = kv_cursor_get(cur, &k, &v, MDB_PREV);
		else if (rc == MDB_NOTFOUND)
			rc = kv_cursor_get(cur, &k, &v, MDB_LAST);
	} else
		rc = kv_cursor_get(cur, &k, &v, MDB_LAST);
	for (; rc == 0 && seen < REQLOG_SCAN_MAX;
	    rc = kv_cursor_get(cur, &k, &v, MDB_PREV), seen++) {
		if (k.mv_size != 8)
			continue;
		if (f->from_us != 0 && store_get64(k.mv_data) < f->from_us)
			break;
		/* Each entry's strings live until the next one's. */
		arena_reset(&scratch);
		if (reqlog_decode(&scratch, v.mv_data, v.mv_size, &e) < 0)
			continue;
		e.id = store_get64(k.mv_data);
		if (!matches(f, &e))
			continue;
		if (q->fn(q->arg, &e) != 0 || (f->limit && ++sent >= f->limit))
			break;
	}
	kv_cursor_close(cur);
	arena_free(&scratch);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum store_err
reqlog_query(struct store *s, const struct reqlog_filter *f,
    int (*fn)(void *, const struct reqlog_entry *), void *arg)
{
	struct query_ctx q;

	memset(&q, 0, sizeof(q));
	q.f = f;
	q.fn = fn;
	q.arg = arg;
	return store_read(s, query_txn, &q);
}

static int
get_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct query_ctx *q = arg;
	unsigned char key[8];
	MDB_val k = { sizeof(key), key }, v;
	int rc;

	store_be64(key, q->want);
	if ((rc = kv_get(txn, s->reqlog, &k, &v)) != 0)
		return rc;
	if (reqlog_decode(q->arena, v.mv_data, v.mv_size, q->one) < 0)
		return MDB_CORRUPTED;
	q->one->id = q->want;
	return 0;
}

enum store_err
reqlog_get(struct store *s, struct arena *a, uint64_t id,
    struct reqlog_entry *out)
{
	struct query_ctx q;

	memset(&q, 0, sizeof(q));
	q.arena = a;
	q.want = id;
	q.one = out;
	return store_read(s, get_txn, &q);
}

static int
count_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	MDB_stat st;
	int rc;

	if ((rc = kv_stat(txn, s->reqlog, &st)) == 0)
		*(size_t *)arg = st.ms_entries;
	return rc;
}

enum store_err
reqlog_count(struct store *s, size_t *n)
{
	*n = 0;
	return store_read(s, count_txn, n);
}
