/*
 * rediss:// (store/kv_redis_tls.c) against a real redis-server that
 * speaks only TLS: the store works over it, with a password and values
 * larger than one TLS record; a server whose certificate another CA
 * signed, or that names another host, is refused; so is a plain
 * redis:// to the TLS port.  The certificates are made here with the
 * openssl command.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/kv.h"
#include "store/kv_redis_priv.h"
#include "tests/unit/redis_fixture.h"
#include "unit.h"

static char dir[64];
static struct redis_fixture *fx;

/* script, run in the test's directory */
static void
sh(const char *script)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cd '%s' && %s", dir, script);
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* A CA, a server certificate it signs for 127.0.0.1 only, another CA. */
static void
make_certs(void)
{
	sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
	    "-subj /CN=c2a-test-ca -keyout ca.key -out ca.pem 2>/dev/null &&"
	    " openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 "
	    "-keyout srv.key -out srv.csr 2>/dev/null && "
	    "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && "
	    "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
	    "-CAcreateserial -days 2 -extfile ext.cnf -out srv.pem "
	    "2>/dev/null && cat srv.pem ca.pem > chain.pem && "
	    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
	    "-subj /CN=other-ca -keyout other.key -out other.pem 2>/dev/null");
}

static void
setup(void)
{
	char cert[128], key[128];

	strcpy(dir, "/tmp/c2a-tls-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	make_certs();
	snprintf(cert, sizeof(cert), "%s/chain.pem", dir);
	snprintf(key, sizeof(key), "%s/srv.key", dir);
	fx = redis_fixture_start_tls("tls-secret", cert, key);
	ck_assert_ptr_nonnull(fx);
}

static void
teardown(void)
{
	char cmd[128];

	redis_fixture_free(fx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct kvr *
open_url(const char *scheme, const char *host, const char *ca)
{
	struct kvr *r;
	char url[512], err[256];

	snprintf(url, sizeof(url), "%s://:tls-secret@%s:%d/0?prefix=tls:%s%s%s",
	    scheme, host, redis_fixture_port(fx), ca ? "&ca=" : "",
	    ca ? dir : "", ca ? ca : "");
	ck_assert_msg(kvr_open(&r, url, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_null(strstr(kvr_describe(r), "tls-secret"));
	return r;
}

START_TEST(round_trip)
{
	struct kvr *r = open_url("rediss", "127.0.0.1", "/ca.pem");
	struct kvr_txn *t;
	MDB_dbi d;
	MDB_val k = { 3, "key" }, v, got;
	char *big;
	int i;

	ck_assert_str_eq(strncmp(kvr_describe(r), "rediss://", 9) == 0 ?
	    "rediss" : kvr_describe(r), "rediss");
	ck_assert_int_eq(kvr_table(r, "t", &d), 0);
	/* 100 kB: many TLS records each way */
	big = malloc(100000);
	for (i = 0; i < 100000; i++)
		big[i] = (char)('a' + i % 26);
	v.mv_size = 100000;
	v.mv_data = big;
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), 0);
	ck_assert_int_eq(kvr_put(t, d, &k, &v), 0);
	ck_assert_int_eq(kvr_txn_commit(t), 0);
	ck_assert_int_eq(kvr_txn_begin(r, 0, &t), 0);
	ck_assert_int_eq(kvr_get(t, d, &k, &got), 0);
	ck_assert_uint_eq(got.mv_size, 100000);
	ck_assert_int_eq(memcmp(got.mv_data, big, 100000), 0);
	kvr_txn_abort(t);
	ck_assert_int_eq(kvr_available(r), 1);
	free(big);
	kvr_close(r);
}
END_TEST

/* Each refusal: the first call is KV_DOWN, at once. */
static void
refused(struct kvr *r)
{
	struct kvr_txn *t = NULL;

	ck_assert_int_eq(kvr_available(r), 0);
	ck_assert_int_eq(kvr_txn_begin(r, 1, &t), KV_DOWN);
	kvr_close(r);
}

START_TEST(another_ca)
{
	refused(open_url("rediss", "127.0.0.1", "/other.pem"));
}
END_TEST

/* The certificate names 127.0.0.1, not localhost. */
START_TEST(another_name)
{
	refused(open_url("rediss", "localhost", "/ca.pem"));
}
END_TEST

/* Not our CA, and not in the system's store either. */
START_TEST(system_store_refuses)
{
	refused(open_url("rediss", "127.0.0.1", NULL));
}
END_TEST

START_TEST(plain_to_tls_port)
{
	refused(open_url("redis", "127.0.0.1", NULL));
}
END_TEST

START_TEST(ca_file_missing)
{
	struct kvr *r;
	char url[256], err[256];

	snprintf(url, sizeof(url), "rediss://127.0.0.1:%d?ca=%s/nope.pem",
	    redis_fixture_port(fx), dir);
	ck_assert_int_eq(kvr_open(&r, url, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "nope.pem"));
}
END_TEST

static Suite *
kv_redis_tls_suite(void)
{
	Suite *s = suite_create("kv_redis_tls");
	TCase *tc = tcase_create("tls");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, another_ca);
	tcase_add_test(tc, another_name);
	tcase_add_test(tc, system_store_refuses);
	tcase_add_test(tc, plain_to_tls_port);
	tcase_add_test(tc, ca_file_missing);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(kv_redis_tls_suite)
