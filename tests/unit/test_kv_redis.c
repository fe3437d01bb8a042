/* store/kv_redis*.c against a real redis-server on loopback: records,
 * LMDB's key order, cursors, the write overlay, atomic commits, a stolen
 * lock, an outage and its recovery, passwords, prefixes and dbs.  The
 * URL parser's own test is test_kv_redis_url.c. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#include "store/kv.h"
#include "store/kv_redis_priv.h"
#include "redis_fixture.h"
#include "unit.h"

static struct redis_fixture	*srv;

#define V(s)	((MDB_val){ strlen(s), (void *)(s) })

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* A backend on the shared server with a fresh prefix. */
static struct kvr *
open_fresh(int db, char *url, size_t urlsz)
{
	struct kvr	*r;
	char		 err[256], buf[512];

	if (url == NULL) {
		url = buf;
		urlsz = sizeof(buf);
	}
	ck_assert_ptr_nonnull(srv);
	redis_fixture_url(srv, db, url, urlsz);
	ck_assert_msg(kvr_open(&r, url, err, sizeof(err)) == 0, "%s", err);
	return r;
}

static void
put_s(struct kvr *r, MDB_dbi d, const char *k, const char *v)
{
	struct kvr_txn	*t;
	MDB_val		 kk = V(k), vv = V(v);

	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	ck_assert_int_eq(kvr_put(t, d, &kk, &vv), 0);
	ck_assert_int_eq(kvr_txn_commit(t), 0);
}

/* The value as a string ("" for NOTFOUND) from a read txn. */
static const char *
get_s(struct kvr *r, MDB_dbi d, const char *k, char *out, size_t outsz)
{
	struct kvr_txn	*t;
	MDB_val		 kk = V(k), v;
	int		 rc;

	ck_assert_int_eq(kvr_txn_begin(r, 0, &t), 0);
	rc = kvr_get(t, d, &kk, &v);
	ck_assert(rc == 0 || rc == MDB_NOTFOUND);
	snprintf(out, outsz, "%.*s", rc == 0 ? (int)v.mv_size : 0,
	    rc == 0 ? (char *)v.mv_data : "");
	kvr_txn_abort(t);
	return out;
}

/* Every key of the table through a cursor, joined with ',' (values
 * after '='). */
static const char *
scan_s(struct kvr_txn *t, MDB_dbi d, int back, char *out, size_t outsz)
{
	struct kvr_cursor	*c;
	MDB_val			 k, v;
	size_t			 n = 0;
	int			 rc;

	out[0] = '\0';
	ck_assert_int_eq(kvr_cursor_open(t, d, &c), 0);
	for (rc = kvr_cursor_get(c, &k, &v, back ? MDB_LAST : MDB_FIRST);
	    rc == 0; rc = kvr_cursor_get(c, &k, &v, back ? MDB_PREV :
	    MDB_NEXT))
		n += (size_t)snprintf(out + n, outsz - n, "%s%.*s=%.*s",
		    n ? "," : "", (int)k.mv_size, (char *)k.mv_data,
		    (int)v.mv_size, (char *)v.mv_data);
	ck_assert_int_eq(rc, MDB_NOTFOUND);
	kvr_cursor_close(c);
	return out;
}

START_TEST(put_get_del)
{
	struct kvr	*r = open_fresh(0, NULL, 0);
	struct kvr_txn	*t;
	MDB_dbi		 a, b, a2;
	MDB_val		 k = V("k1"), v;
	char		 buf[64];
	size_t		 n;

	ck_assert_int_eq(kvr_table(r, "alpha", &a), 0);
	ck_assert_int_eq(kvr_table(r, "beta", &b), 0);
	ck_assert_int_eq(kvr_table(r, "alpha", &a2), 0);
	ck_assert_uint_eq(a, 0);
	ck_assert_uint_eq(b, 1);
	ck_assert_uint_eq(a2, a);
	ck_assert_int_eq(kvr_table(r, "bad name", &a2), EINVAL);
	ck_assert_int_eq(kvr_available(r), 1);

	put_s(r, a, "k1", "one");
	put_s(r, b, "k1", "other");
	ck_assert_str_eq(get_s(r, a, "k1", buf, sizeof(buf)), "one");
	ck_assert_str_eq(get_s(r, b, "k1", buf, sizeof(buf)), "other");
	put_s(r, a, "k1", "uno");
	ck_assert_str_eq(get_s(r, a, "k1", buf, sizeof(buf)), "uno");

	ck_assert_int_eq(kvr_txn_begin(r, 0, &t), 0);
	ck_assert_int_eq(kvr_put(t, a, &k, &k), EACCES);
	ck_assert_int_eq(kvr_entries(t, a, &n), 0);
	ck_assert_uint_eq(n, 1);
	k = V("");
	ck_assert_int_eq(kvr_get(t, a, &k, &v), MDB_BAD_VALSIZE);
	ck_assert_int_eq(kvr_get(t, 9, &k, &v), EINVAL);
	kvr_txn_abort(t);

	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	k = V("k1");
	ck_assert_int_eq(kvr_del(t, a, &k), 0);
	ck_assert_int_eq(kvr_del(t, a, &k), MDB_NOTFOUND);
	k = V("never");
	ck_assert_int_eq(kvr_del(t, a, &k), MDB_NOTFOUND);
	ck_assert_int_eq(kvr_txn_commit(t), 0);
	ck_assert_str_eq(get_s(r, a, "k1", buf, sizeof(buf)), "");
	ck_assert_str_eq(get_s(r, b, "k1", buf, sizeof(buf)), "other");
	kvr_close(r);
}
END_TEST

START_TEST(binary_keys_in_lmdb_order)
{
	/* memcmp order, a shorter key before its extensions */
	static const struct { const char *s; size_t n; } keys[] = {
		{ "\x00", 1 }, { "\x00\x00", 2 }, { "\x01", 1 }, { "a", 1 },
		{ "a\x00", 2 }, { "a\x00z", 3 }, { "ab", 2 }, { "a\xff", 2 },
		{ "b", 1 }, { "\xff", 1 }, { "\xff\x00", 2 }, { "\xff\xff", 2 },
	};
	const size_t		 nk = sizeof(keys) / sizeof(keys[0]);
	struct kvr		*r = open_fresh(0, NULL, 0);
	struct kvr_txn		*t;
	struct kvr_cursor	*c;
	MDB_dbi			 d;
	MDB_val			 k, v;
	size_t			 i, n;
	int			 rc;

	ck_assert_int_eq(kvr_table(r, "bin", &d), 0);
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	for (i = nk; i-- > 0;) {	/* inserted backwards */
		k.mv_data = (void *)keys[i].s;
		k.mv_size = keys[i].n;
		v.mv_data = &i;
		v.mv_size = sizeof(i);
		ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
	}
	ck_assert_int_eq(kvr_txn_commit(t), 0);

	ck_assert_int_eq(kvr_txn_begin(r, 0, &t), 0);
	ck_assert_int_eq(kvr_cursor_open(t, d, &c), 0);
	for (i = 0, rc = kvr_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = kvr_cursor_get(c, &k, &v, MDB_NEXT), i++) {
		ck_assert_uint_lt(i, nk);
		ck_assert_uint_eq(k.mv_size, keys[i].n);
		ck_assert_mem_eq(k.mv_data, keys[i].s, keys[i].n);
		ck_assert_uint_eq(v.mv_size, sizeof(size_t));
		memcpy(&n, v.mv_data, sizeof(n));
		ck_assert_uint_eq(n, i);
	}
	ck_assert_int_eq(rc, MDB_NOTFOUND);
	ck_assert_uint_eq(i, nk);
	/* SET_RANGE between binary keys: "a\x00y" lands on "a\x00z" */
	k.mv_data = "a\x00y";
	k.mv_size = 3;
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_SET_RANGE), 0);
	ck_assert_uint_eq(k.mv_size, 3);
	ck_assert_mem_eq(k.mv_data, "a\x00z", 3);
	kvr_cursor_close(c);
	kvr_txn_abort(t);
	kvr_close(r);
}
END_TEST

/* 150 keys k000..k298 (even numbers): more than two batches. */
static void
fill_150(struct kvr *r, MDB_dbi d)
{
	struct kvr_txn	*t;
	char		 kb[16], vb[16];
	MDB_val		 k, v;
	int		 i;

	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	for (i = 0; i < 150; i++) {
		snprintf(kb, sizeof(kb), "k%03d", 2 * i);
		snprintf(vb, sizeof(vb), "v%d", 2 * i);
		k = V(kb);
		v = V(vb);
		ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
	}
	ck_assert_int_eq(kvr_txn_commit(t), 0);
}

START_TEST(cursor_ops)
{
	struct kvr		*r = open_fresh(0, NULL, 0);
	struct kvr_txn		*t;
	struct kvr_cursor	*c;
	MDB_dbi			 d, e;
	MDB_val			 k, v;
	char			 want[16];
	int			 i, rc;

	ck_assert_int_eq(kvr_table(r, "cur", &d), 0);
	ck_assert_int_eq(kvr_table(r, "empty", &e), 0);
	fill_150(r, d);
	ck_assert_int_eq(kvr_txn_begin(r, 0, &t), 0);

	ck_assert_int_eq(kvr_cursor_open(t, e, &c), 0);
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_FIRST), MDB_NOTFOUND);
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_LAST), MDB_NOTFOUND);
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_GET_CURRENT), EINVAL);
	kvr_cursor_close(c);

	ck_assert_int_eq(kvr_cursor_open(t, d, &c), 0);
	/* NEXT on a fresh cursor is FIRST */
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_NEXT), 0);
	ck_assert_mem_eq(k.mv_data, "k000", 4);
	for (i = 1, rc = 0; (rc = kvr_cursor_get(c, &k, &v, MDB_NEXT)) == 0;
	    i++) {
		snprintf(want, sizeof(want), "k%03d", 2 * i);
		ck_assert_uint_eq(k.mv_size, 4);
		ck_assert_mem_eq(k.mv_data, want, 4);
	}
	ck_assert_int_eq(rc, MDB_NOTFOUND);
	ck_assert_int_eq(i, 150);
	/* the cursor stays on the last key: GET_CURRENT, then PREV all the
	 * way down */
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_GET_CURRENT), 0);
	ck_assert_mem_eq(k.mv_data, "k298", 4);
	ck_assert_mem_eq(v.mv_data, "v298", 4);
	for (i = 296; (rc = kvr_cursor_get(c, &k, &v, MDB_PREV)) == 0;
	    i -= 2) {
		snprintf(want, sizeof(want), "k%03d", i);
		ck_assert_mem_eq(k.mv_data, want, 4);
	}
	ck_assert_int_eq(rc, MDB_NOTFOUND);
	ck_assert_int_eq(i, -2);

	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_LAST), 0);
	ck_assert_mem_eq(k.mv_data, "k298", 4);
	k = V("k101");		/* between keys */
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_SET_RANGE), 0);
	ck_assert_mem_eq(k.mv_data, "k102", 4);
	ck_assert_mem_eq(v.mv_data, "v102", 4);
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_PREV), 0);
	ck_assert_mem_eq(k.mv_data, "k100", 4);
	k = V("k200");		/* exact */
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_SET_RANGE), 0);
	ck_assert_mem_eq(k.mv_data, "k200", 4);
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_NEXT), 0);
	ck_assert_mem_eq(k.mv_data, "k202", 4);
	k = V("k299");		/* past the end */
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_SET_RANGE),
	    MDB_NOTFOUND);
	k = V("a");		/* before the start */
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_SET_RANGE), 0);
	ck_assert_mem_eq(k.mv_data, "k000", 4);
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_PREV), MDB_NOTFOUND);
	ck_assert_int_eq(kvr_cursor_get(c, &k, &v, MDB_SET), EINVAL);
	kvr_cursor_close(c);
	kvr_txn_abort(t);
	kvr_close(r);
}
END_TEST

START_TEST(overlay_merge)
{
	char			 url[512], err[256], buf[256];
	struct kvr		*r = open_fresh(0, url, sizeof(url)), *other;
	struct kvr_txn		*t;
	MDB_dbi			 d, od;
	MDB_val			 k, v;
	size_t			 n;

	ck_assert_int_eq(kvr_open(&other, url, err, sizeof(err)), 0);
	ck_assert_int_eq(kvr_table(r, "ov", &d), 0);
	ck_assert_int_eq(kvr_table(other, "ov", &od), 0);
	put_s(r, d, "a", "1");
	put_s(r, d, "c", "3");
	put_s(r, d, "e", "5");

	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	k = V("b"); v = V("2");
	ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
	k = V("c");
	ck_assert_int_eq(kvr_del(t, d, &k), 0);
	k = V("e"); v = V("five");
	ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
	k = V("f"); v = V("6");
	ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
	/* the txn sees its writes */
	k = V("b");
	ck_assert_int_eq(kvr_get(t, d, &k, &v), 0);
	ck_assert_mem_eq(v.mv_data, "2", 1);
	k = V("c");
	ck_assert_int_eq(kvr_get(t, d, &k, &v), MDB_NOTFOUND);
	ck_assert_str_eq(scan_s(t, d, 0, buf, sizeof(buf)),
	    "a=1,b=2,e=five,f=6");
	ck_assert_str_eq(scan_s(t, d, 1, buf, sizeof(buf)),
	    "f=6,e=five,b=2,a=1");
	ck_assert_int_eq(kvr_entries(t, d, &n), 0);
	ck_assert_uint_eq(n, 4);	/* a, b, e, f: as the txn sees it */
	/* another connection does not, until the commit */
	ck_assert_str_eq(get_s(other, od, "b", buf, sizeof(buf)), "");
	ck_assert_str_eq(get_s(other, od, "c", buf, sizeof(buf)), "3");
	ck_assert_int_eq(kvr_txn_commit(t), 0);
	ck_assert_str_eq(get_s(other, od, "b", buf, sizeof(buf)), "2");
	ck_assert_str_eq(get_s(other, od, "c", buf, sizeof(buf)), "");
	ck_assert_str_eq(get_s(other, od, "e", buf, sizeof(buf)), "five");
	ck_assert_int_eq(kvr_txn_begin(other, 0, &t), 0);
	ck_assert_str_eq(scan_s(t, od, 0, buf, sizeof(buf)),
	    "a=1,b=2,e=five,f=6");
	kvr_txn_abort(t);
	kvr_close(other);
	kvr_close(r);
}
END_TEST

START_TEST(delete_while_iterating)
{
	struct kvr		*r = open_fresh(0, NULL, 0);
	struct kvr_txn		*t;
	struct kvr_cursor	*c;
	MDB_dbi			 d;
	MDB_val			 k, v, nv = V("new");
	char			 want[16];
	int			 i, rc, seen = 0;
	size_t			 n;

	ck_assert_int_eq(kvr_table(r, "dwi", &d), 0);
	fill_150(r, d);
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	ck_assert_int_eq(kvr_cursor_open(t, d, &c), 0);
	/* delete k000, k004, ...; rewrite the others */
	for (i = 0, rc = kvr_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    i++, rc = kvr_cursor_get(c, &k, &v, MDB_NEXT)) {
		snprintf(want, sizeof(want), "k%03d", 2 * i);
		ck_assert_mem_eq(k.mv_data, want, 4);
		seen++;
		if (i % 2 == 0) {
			ck_assert_int_eq(kvr_cursor_del(c), 0);
			ck_assert_int_eq(kvr_cursor_del(c), EINVAL);
			ck_assert_int_eq(kvr_cursor_get(c, NULL, NULL,
			    MDB_GET_CURRENT), 0);
		} else
			ck_assert_int_eq(kvr_cursor_put(c, &nv), 0);
	}
	ck_assert_int_eq(rc, MDB_NOTFOUND);
	ck_assert_int_eq(seen, 150);
	kvr_cursor_close(c);
	ck_assert_int_eq(kvr_txn_commit(t), 0);

	ck_assert_int_eq(kvr_txn_begin(r, 0, &t), 0);
	ck_assert_int_eq(kvr_entries(t, d, &n), 0);
	ck_assert_uint_eq(n, 75);
	ck_assert_int_eq(kvr_cursor_open(t, d, &c), 0);
	for (i = 0, rc = kvr_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    i++, rc = kvr_cursor_get(c, &k, &v, MDB_NEXT)) {
		snprintf(want, sizeof(want), "k%03d", 4 * i + 2);
		ck_assert_mem_eq(k.mv_data, want, 4);
		ck_assert_uint_eq(v.mv_size, 3);
		ck_assert_mem_eq(v.mv_data, "new", 3);
	}
	ck_assert_int_eq(i, 75);
	kvr_cursor_close(c);
	kvr_txn_abort(t);
	kvr_close(r);
}
END_TEST

START_TEST(drop_and_abort)
{
	struct kvr	*r = open_fresh(0, NULL, 0);
	struct kvr_txn	*t;
	MDB_dbi		 d;
	MDB_val		 k, v;
	char		 buf[256];
	size_t		 n;

	ck_assert_int_eq(kvr_table(r, "drop", &d), 0);
	put_s(r, d, "a", "1");
	put_s(r, d, "b", "2");
	/* abort leaves nothing, and frees the lock at once */
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	k = V("z"); v = V("26");
	ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
	ck_assert_int_eq(kvr_drop(t, d), 0);
	kvr_txn_abort(t);
	ck_assert_str_eq(get_s(r, d, "z", buf, sizeof(buf)), "");
	ck_assert_str_eq(get_s(r, d, "a", buf, sizeof(buf)), "1");

	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	ck_assert_int_eq(kvr_drop(t, d), 0);
	k = V("a");
	ck_assert_int_eq(kvr_get(t, d, &k, &v), MDB_NOTFOUND);
	k = V("c"); v = V("3");
	ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
	ck_assert_str_eq(scan_s(t, d, 0, buf, sizeof(buf)), "c=3");
	ck_assert_int_eq(kvr_entries(t, d, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(kvr_txn_commit(t), 0);
	ck_assert_int_eq(kvr_txn_begin(r, 0, &t), 0);
	ck_assert_str_eq(scan_s(t, d, 0, buf, sizeof(buf)), "c=3");
	ck_assert_int_eq(kvr_entries(t, d, &n), 0);
	ck_assert_uint_eq(n, 1);
	kvr_txn_abort(t);
	/* an empty write txn commits and releases the lock */
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	ck_assert_int_eq(kvr_txn_commit(t), 0);
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	kvr_txn_abort(t);
	kvr_close(r);
}
END_TEST

struct counter_arg {
	struct kvr	*r;
	MDB_dbi		 d;
	int		 fails;
};

static void *
count_500(void *p)
{
	struct counter_arg	*a = p;
	struct kvr_txn		*t;
	MDB_val			 k = V("n"), v;
	unsigned long		 n;
	int			 i;

	for (i = 0; i < 500; i++) {
		if (kvr_txn_begin(a->r, 1, &t) != 0) {
			a->fails++;
			continue;
		}
		n = 0;
		if (kvr_get(t, a->d, &k, &v) == 0 && v.mv_size == sizeof(n))
			memcpy(&n, v.mv_data, sizeof(n));
		n++;
		v.mv_data = &n;
		v.mv_size = sizeof(n);
		if (kvr_put(t, a->d, &k, &v) != 0 || kvr_txn_commit(t) != 0)
			a->fails++;
	}
	return NULL;
}

START_TEST(two_threads_count_to_1000)
{
	struct kvr		*r = open_fresh(0, NULL, 0);
	struct counter_arg	 a[2];
	pthread_t		 th[2];
	struct kvr_txn		*t;
	MDB_val			 k = V("n"), v;
	unsigned long		 n;
	double			 t0;
	int			 i;

	memset(a, 0, sizeof(a));
	for (i = 0; i < 2; i++) {
		a[i].r = r;
		ck_assert_int_eq(kvr_table(r, "count", &a[i].d), 0);
	}
	t0 = now_us();
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, count_500,
		    &a[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("# redis: 1000 contended counter txns in %.0f ms\n",
	    (now_us() - t0) / 1000);
	ck_assert_int_eq(a[0].fails + a[1].fails, 0);
	ck_assert_int_eq(kvr_txn_begin(r, 0, &t), 0);
	ck_assert_int_eq(kvr_get(t, a[0].d, &k, &v), 0);
	ck_assert_uint_eq(v.mv_size, sizeof(n));
	memcpy(&n, v.mv_data, sizeof(n));
	ck_assert_uint_eq(n, 1000);
	kvr_txn_abort(t);
	kvr_close(r);
}
END_TEST

/* A raw connection to the fixture, for meddling with the lock. */
static redisContext *
raw(void)
{
	struct timeval	 tv = { 1, 0 };
	redisContext	*c = redisConnectWithTimeout("127.0.0.1",
			    redis_fixture_port(srv), tv);

	ck_assert(c != NULL && !c->err);
	return c;
}

START_TEST(lost_lock)
{
	char		 url[512], buf[64];
	struct kvr	*r = open_fresh(0, url, sizeof(url));
	struct kvr_url	 u;
	struct kvr_txn	*t;
	redisContext	*rc = raw();
	redisReply	*rep;
	MDB_dbi		 d;
	MDB_val		 k = V("x"), v = V("1");
	double		 t0;

	ck_assert_int_eq(kvr_url_parse(url, &u, buf, sizeof(buf)), 0);
	ck_assert_int_eq(kvr_table(r, "lk", &d), 0);
	/* stolen: someone else holds it now */
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
	rep = redisCommand(rc, "SET %slock thief PX 5000", u.prefix);
	freeReplyObject(rep);
	ck_assert_int_eq(kvr_txn_commit(t), KV_LOST);
	ck_assert_str_eq(get_s(r, d, "x", buf, sizeof(buf)), "");
	/* the thief's lock is not ours to release... */
	rep = redisCommand(rc, "GET %slock", u.prefix);
	ck_assert_int_eq(rep->type, REDIS_REPLY_STRING);
	ck_assert_str_eq(rep->str, "thief");
	freeReplyObject(rep);
	/* ...so a writer waits; expired (gone): lost too */
	freeReplyObject(redisCommand(rc, "DEL %slock", u.prefix));
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
	freeReplyObject(redisCommand(rc, "DEL %slock", u.prefix));
	ck_assert_int_eq(kvr_txn_commit(t), KV_LOST);
	ck_assert_str_eq(get_s(r, d, "x", buf, sizeof(buf)), "");

	/* a held lock: the writer waits for it, then gets it */
	freeReplyObject(redisCommand(rc, "SET %slock other PX 300",
	    u.prefix));
	t0 = now_us();
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	ck_assert_double_ge(now_us() - t0, 200000);
	rep = redisCommand(rc, "GET %slock", u.prefix);
	ck_assert_int_eq(rep->type, REDIS_REPLY_STRING);
	ck_assert_str_ne(rep->str, "other");
	freeReplyObject(rep);
	/* abort gives it back at once */
	kvr_txn_abort(t);
	rep = redisCommand(rc, "EXISTS %slock", u.prefix);
	ck_assert_int_eq(rep->integer, 0);
	freeReplyObject(rep);
	redisFree(rc);
	kvr_close(r);
}
END_TEST

/* Longer than the lock's 5 s: a txn that keeps working keeps it. */
START_TEST(long_txn_keeps_lock)
{
	struct kvr	*r = open_fresh(0, NULL, 0);
	struct kvr_txn	*t;
	MDB_dbi		 d;
	MDB_val		 k = V("a"), v = V("1");
	char		 buf[64];
	int		 i;

	ck_assert_int_eq(kvr_table(r, "long", &d), 0);
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
		nanosleep(&(struct timespec){ 1, 600000000 }, NULL);
	}
	ck_assert_int_eq(kvr_get(t, d, &k, &v), 0);
	ck_assert_int_eq(kvr_txn_commit(t), 0);
	ck_assert_str_eq(get_s(r, d, "a", buf, sizeof(buf)), "1");
	kvr_close(r);
}
END_TEST

START_TEST(outage_and_recovery)
{
	struct redis_fixture	*own = redis_fixture_start(NULL);
	struct kvr		*r;
	struct kvr_txn		*t;
	char			 url[512], err[256], buf[64];
	MDB_dbi			 d;
	MDB_val			 k = V("x"), v;
	double			 t0, dt;
	int			 i, rc;

	ck_assert_ptr_nonnull(own);
	redis_fixture_url(own, 0, url, sizeof(url));
	ck_assert_int_eq(kvr_open(&r, url, err, sizeof(err)), 0);
	ck_assert_int_eq(kvr_table(r, "out", &d), 0);
	put_s(r, d, "x", "kept");
	ck_assert_int_eq(redis_fixture_stop(own), 0);

	/* the first call finds the connection dead; later ones answer at
	 * once from the backoff */
	for (i = 0; i < 5; i++) {
		t0 = now_us();
		rc = kvr_txn_begin(r, 1, &t);
		if (rc == 0) {
			rc = kvr_get(t, d, &k, &v);
			kvr_txn_abort(t);
		}
		dt = now_us() - t0;
		ck_assert_int_eq(rc, KV_DOWN);
		ck_assert_msg(dt < 100000, "took %.0f us", dt);
	}
	ck_assert_int_eq(kvr_available(r), 0);
	ck_assert_int_eq(kvr_txn_begin(r, 0, &t), KV_DOWN);

	ck_assert_int_eq(redis_fixture_restart(own), 0);
	for (i = 0; i < 60 && !kvr_available(r); i++)	/* backoff <= 2 s */
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	ck_assert_int_eq(kvr_available(r), 1);
	ck_assert_str_eq(get_s(r, d, "x", buf, sizeof(buf)), "kept");
	put_s(r, d, "y", "after");
	ck_assert_str_eq(get_s(r, d, "y", buf, sizeof(buf)), "after");
	kvr_close(r);
	redis_fixture_free(own);
}
END_TEST

START_TEST(passwords)
{
	struct redis_fixture	*own = redis_fixture_start("pw-Secret_123");
	struct kvr		*r;
	struct kvr_txn		*t;
	char			 url[512], err[256], buf[64];
	MDB_dbi			 d;

	ck_assert_ptr_nonnull(own);
	snprintf(url, sizeof(url), "redis://:wrong@127.0.0.1:%d/0",
	    redis_fixture_port(own));
	ck_assert_int_eq(kvr_open(&r, url, err, sizeof(err)), 0);
	ck_assert_ptr_null(strstr(kvr_describe(r), "wrong"));
	ck_assert_ptr_nonnull(strstr(kvr_describe(r), ":***@"));
	ck_assert_int_eq(kvr_available(r), 0);
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), KV_DOWN);
	kvr_close(r);
	/* no password at all: the server says NOAUTH */
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0",
	    redis_fixture_port(own));
	ck_assert_int_eq(kvr_open(&r, url, err, sizeof(err)), 0);
	ck_assert_int_eq(kvr_table(r, "p", &d), 0);
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), KV_DOWN);
	kvr_close(r);

	redis_fixture_url(own, 0, url, sizeof(url));
	ck_assert_int_eq(kvr_open(&r, url, err, sizeof(err)), 0);
	ck_assert_ptr_null(strstr(kvr_describe(r), "Secret"));
	ck_assert_int_eq(kvr_available(r), 1);
	ck_assert_int_eq(kvr_table(r, "p", &d), 0);
	put_s(r, d, "a", "b");
	ck_assert_str_eq(get_s(r, d, "a", buf, sizeof(buf)), "b");
	kvr_close(r);
	redis_fixture_free(own);
}
END_TEST

START_TEST(prefix_and_db)
{
	char		 u1[512], u2[512], u3[512], err[256], buf[64];
	struct kvr	*r1 = open_fresh(0, u1, sizeof(u1));
	struct kvr	*r2 = open_fresh(0, u2, sizeof(u2)), *r3;
	struct kvr_url	 u;
	MDB_dbi		 d1, d2, d3;
	redisContext	*c = raw();
	redisReply	*rep;

	ck_assert_int_eq(kvr_table(r1, "same", &d1), 0);
	ck_assert_int_eq(kvr_table(r2, "same", &d2), 0);
	put_s(r1, d1, "k", "one");
	ck_assert_str_eq(get_s(r2, d2, "k", buf, sizeof(buf)), "");
	put_s(r2, d2, "k", "two");
	ck_assert_str_eq(get_s(r1, d1, "k", buf, sizeof(buf)), "one");

	/* r1's prefix on db 3: a separate keyspace */
	ck_assert_int_eq(kvr_url_parse(u1, &u, err, sizeof(err)), 0);
	snprintf(u3, sizeof(u3), "redis://127.0.0.1:%d/3?prefix=%s",
	    redis_fixture_port(srv), u.prefix);
	ck_assert_int_eq(kvr_open(&r3, u3, err, sizeof(err)), 0);
	ck_assert_int_eq(kvr_table(r3, "same", &d3), 0);
	ck_assert_str_eq(get_s(r3, d3, "k", buf, sizeof(buf)), "");
	put_s(r3, d3, "k", "three");
	ck_assert_str_eq(get_s(r1, d1, "k", buf, sizeof(buf)), "one");
	rep = redisCommand(c, "SELECT 3");
	freeReplyObject(rep);
	rep = redisCommand(c, "HGET %sh:same k", u.prefix);
	ck_assert_int_eq(rep->type, REDIS_REPLY_STRING);
	ck_assert_str_eq(rep->str, "three");
	freeReplyObject(rep);
	redisFree(c);
	kvr_close(r1);
	kvr_close(r2);
	kvr_close(r3);
}
END_TEST

/* Printed, not asserted: the cost on loopback of the three things the
 * store does most, with appendfsync always (the fixture's) and
 * everysec (what the round trips and scripts cost by themselves). */
static void
time_ops(struct kvr *r, MDB_dbi d, const char *fsync)
{
	struct kvr_txn		*t;
	struct kvr_cursor	*c;
	MDB_val			 k = V("k100"), v;
	double			 t0;
	int			 i, n, rc;

	ck_assert_int_eq(kvr_txn_begin(r, 0, &t), 0);
	t0 = now_us();
	for (i = 0; i < 2000; i++)
		ck_assert_int_eq(kvr_get(t, d, &k, &v), 0);
	printf("# redis (appendfsync %s): %.1f us per get\n", fsync,
	    (now_us() - t0) / 2000);
	kvr_txn_abort(t);
	t0 = now_us();
	for (i = 0; i < 300; i++) {
		ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
		ck_assert_int_eq(kvr_get(t, d, &k, &v), 0);
		ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
		ck_assert_int_eq(kvr_txn_commit(t), 0);
	}
	printf("# redis (appendfsync %s): %.1f us per write txn "
	    "(1 get + 1 put)\n", fsync, (now_us() - t0) / 300);
	t0 = now_us();
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(kvr_txn_begin(r, 0, &t), 0);
		ck_assert_int_eq(kvr_cursor_open(t, d, &c), 0);
		for (n = 0, rc = kvr_cursor_get(c, &k, &v, MDB_FIRST);
		    rc == 0 && ++n < 64;
		    rc = kvr_cursor_get(c, &k, &v, MDB_NEXT))
			;
		ck_assert_int_eq(n, 64);
		kvr_cursor_close(c);
		kvr_txn_abort(t);
	}
	printf("# redis (appendfsync %s): %.1f us per 64-entry cursor "
	    "scan\n", fsync, (now_us() - t0) / 200);
}

START_TEST(timings)
{
	struct kvr	*r = open_fresh(0, NULL, 0);
	redisContext	*c = raw();
	MDB_dbi		 d;

	ck_assert_int_eq(kvr_table(r, "bench", &d), 0);
	fill_150(r, d);
	time_ops(r, d, "always");
	freeReplyObject(redisCommand(c, "CONFIG SET appendfsync everysec"));
	time_ops(r, d, "everysec");
	freeReplyObject(redisCommand(c, "CONFIG SET appendfsync always"));
	redisFree(c);
	kvr_close(r);
}
END_TEST

static Suite *
kv_redis_suite(void)
{
	Suite	*s = suite_create("kv_redis");
	TCase	*srvc = tcase_create("server");

	srv = redis_fixture_start(NULL);
	tcase_set_timeout(srvc, 60);
	tcase_add_test(srvc, put_get_del);
	tcase_add_test(srvc, binary_keys_in_lmdb_order);
	tcase_add_test(srvc, cursor_ops);
	tcase_add_test(srvc, overlay_merge);
	tcase_add_test(srvc, delete_while_iterating);
	tcase_add_test(srvc, drop_and_abort);
	tcase_add_test(srvc, two_threads_count_to_1000);
	tcase_add_test(srvc, lost_lock);
	tcase_add_test(srvc, long_txn_keeps_lock);
	tcase_add_test(srvc, outage_and_recovery);
	tcase_add_test(srvc, passwords);
	tcase_add_test(srvc, prefix_and_db);
	tcase_add_test(srvc, timings);
	suite_add_tcase(s, srvc);
	return s;
}

UNIT_MAIN(kv_redis_suite)
