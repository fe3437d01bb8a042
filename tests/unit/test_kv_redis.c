/*
 * store/kv_redis.c and kv_redis_cursor.c against a real redis-server:
 * puts, gets and deletes; binary keys in LMDB's order; every cursor op;
 * a write txn's overlay seen by its own reads and by no one else until
 * the commit; deletes while iterating; drop and abort.  Locks, threads
 * and outages: test_kv_redis_conn.c.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#include "kv_redis_util.h"
#include "unit.h"

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

/* A txn reads a key once: again it sees the same value (a read txn),
 * or its own write over it (a write txn). */
START_TEST(reads_once)
{
	struct kvr	*r = open_fresh(0, NULL, 0);
	struct kvr_txn	*t;
	MDB_dbi		 d;
	MDB_val		 k = V("x"), v, w = V("mine");
	char		 buf[64];

	ck_assert_int_eq(kvr_table(r, "rc", &d), 0);
	put_s(r, d, "x", "1");
	ck_assert_int_eq(kvr_txn_begin(r, 0, &t), 0);
	ck_assert_int_eq(kvr_get(t, d, &k, &v), 0);
	ck_assert_mem_eq(v.mv_data, "1", 1);
	put_s(r, d, "x", "2");		/* another txn commits meanwhile */
	ck_assert_int_eq(kvr_get(t, d, &k, &v), 0);
	ck_assert_mem_eq(v.mv_data, "1", 1);
	k = V("absent");
	ck_assert_int_eq(kvr_get(t, d, &k, &v), MDB_NOTFOUND);
	put_s(r, d, "absent", "now");
	ck_assert_int_eq(kvr_get(t, d, &k, &v), MDB_NOTFOUND);
	kvr_txn_abort(t);
	ck_assert_str_eq(get_s(r, d, "x", buf, sizeof(buf)), "2");
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	k = V("x");
	ck_assert_int_eq(kvr_get(t, d, &k, &v), 0);
	ck_assert_mem_eq(v.mv_data, "2", 1);
	ck_assert_int_eq(kvr_put(t, d, &k, &w), 0);
	ck_assert_int_eq(kvr_get(t, d, &k, &v), 0);
	ck_assert_uint_eq(v.mv_size, 4);
	ck_assert_mem_eq(v.mv_data, "mine", 4);
	ck_assert_int_eq(kvr_del(t, d, &k), 0);
	ck_assert_int_eq(kvr_get(t, d, &k, &v), MDB_NOTFOUND);
	ck_assert_int_eq(kvr_txn_commit(t), 0);
	ck_assert_str_eq(get_s(r, d, "x", buf, sizeof(buf)), "");
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
	tcase_add_test(srvc, reads_once);
	suite_add_tcase(s, srvc);
	return s;
}

UNIT_MAIN(kv_redis_suite)
