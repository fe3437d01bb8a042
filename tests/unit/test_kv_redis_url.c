/* store/kv_redis_url.c: the Redis URL, its limits and its masked
 * description; no server needed. */
#include "config.h"

#include <string.h>

#include "store/kv_redis_priv.h"
#include "unit.h"

START_TEST(url_parse)
{
	struct kvr_url	u;
	char		err[256], d[512];

	ck_assert_int_eq(kvr_url_parse("redis://127.0.0.1", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.host, "127.0.0.1");
	ck_assert_int_eq(u.port, 6379);
	ck_assert_int_eq(u.db, 0);
	ck_assert_str_eq(u.prefix, "chat2api:");
	ck_assert_str_eq(u.pass, "");
	ck_assert_int_eq(kvr_url_parse("redis://:p%40ss%3Aw@r.example:6380/7"
	    "?prefix=blue:", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.pass, "p@ss:w");
	ck_assert_str_eq(u.host, "r.example");
	ck_assert_int_eq(u.port, 6380);
	ck_assert_int_eq(u.db, 7);
	ck_assert_str_eq(u.prefix, "blue:");
	kvr_url_describe(&u, d, sizeof(d));
	ck_assert_str_eq(d, "redis://:***@r.example:6380/7?prefix=blue:");
	ck_assert_int_eq(kvr_url_parse("redis://bob:pw@[::1]:7000/", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.user, "bob");
	ck_assert_str_eq(u.host, "::1");
	kvr_url_describe(&u, d, sizeof(d));
	ck_assert_str_eq(d, "redis://bob:***@[::1]:7000/0?prefix=chat2api:");
	ck_assert_int_eq(kvr_url_parse("redis://h?prefix=", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.prefix, "");

	/* rediss: TLS, with an optional CA file */
	ck_assert_int_eq(kvr_url_parse("rediss://:pw@h:6380/2?prefix=p:&"
	    "ca=/etc/ssl/ca.pem", &u, err, sizeof(err)), 0);
	ck_assert_int_eq(u.tls, 1);
	ck_assert_str_eq(u.host, "h");
	ck_assert_int_eq(u.port, 6380);
	ck_assert_int_eq(u.db, 2);
	ck_assert_str_eq(u.prefix, "p:");
	ck_assert_str_eq(u.ca, "/etc/ssl/ca.pem");
	kvr_url_describe(&u, d, sizeof(d));
	ck_assert_str_eq(d, "rediss://:***@h:6380/2?prefix=p:&ca=/etc/ssl/"
	    "ca.pem");
	ck_assert_int_eq(kvr_url_parse("rediss://h?ca=/x&prefix=q", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.ca, "/x");
	ck_assert_str_eq(u.prefix, "q");
	ck_assert_int_eq(kvr_url_parse("redis://h?ca=/x", &u, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "rediss"));
	ck_assert_int_eq(kvr_url_parse("rediss://h?ca=rel/x", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("rediss://h?ca=", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("rediss://h?prefix", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("redisss://h", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("redis://:topsecret@h:0", &u, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(strstr(err, "topsecret"));
	ck_assert_ptr_nonnull(strstr(err, "port"));
	ck_assert_int_eq(kvr_url_parse("redis://h:65536", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("redis://h:65535/15", &u, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(kvr_url_parse("redis://h/16", &u, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "db"));
	ck_assert_int_eq(kvr_url_parse("redis://h/1x", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("redis://", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("http://h", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("redis://pw@h", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("redis://:@h", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("redis://:a%00b@h", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("redis://h?db=1", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("redis://h?prefix=a&x=1", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("redis://h o", &u, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(kvr_url_parse("redis://h/0?prefix="
	    "12345678901234567890123456789012345678901234567890123456789012345",
	    &u, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "64"));
}
END_TEST

static Suite *
kv_redis_url_suite(void)
{
	Suite	*s = suite_create("kv_redis_url");
	TCase	*tc = tcase_create("url");

	tcase_add_test(tc, url_parse);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(kv_redis_url_suite)
