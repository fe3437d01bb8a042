/*
 * store/kv_redis_conn.c and the write lock against a real redis-server:
 * two threads counting exactly; a lock lost mid-txn lands nothing; a
 * long txn keeps its lock; an outage answers at once and recovers with
 * the data; passwords, prefixes and dbs; the costs, printed.
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
kv_redis_conn_suite(void)
{
	Suite	*s = suite_create("kv_redis_conn");
	TCase	*srvc = tcase_create("server");

	srv = redis_fixture_start(NULL);
	tcase_set_timeout(srvc, 60);
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

UNIT_MAIN(kv_redis_conn_suite)
