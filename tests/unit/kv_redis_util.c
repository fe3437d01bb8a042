/* Helpers of the Redis backend's unit tests (kv_redis_util.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kv_redis_util.h"
#include "unit.h"

struct redis_fixture	*srv;

double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* A backend on the shared server with a fresh prefix. */
struct kvr *
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

void
put_s(struct kvr *r, MDB_dbi d, const char *k, const char *v)
{
	struct kvr_txn	*t;
	MDB_val		 kk = V(k), vv = V(v);

	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	ck_assert_int_eq(kvr_put(t, d, &kk, &vv), 0);
	ck_assert_int_eq(kvr_txn_commit(t), 0);
}

/* The value as a string ("" for NOTFOUND) from a read txn. */
const char *
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
const char *
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


/* 150 keys k000..k298 (even numbers): more than two batches. */
void
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
