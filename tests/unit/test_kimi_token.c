/*
 * Unit tests for upstream/kimi/token.c: the claims of Kimi's JWTs (the
 * identity headers come from them), the kind of a credential, and when
 * an access token is renewed.  The tokens are made for the test: the
 * header {"alg":"HS256","typ":"JWT"}, a payload as written beside each,
 * the signature "signature" (nothing here checks signatures).
 */
#include "config.h"

#include <string.h>

#include "tests/unit/unit.h"
#include "upstream/kimi/token.h"

#define HEAD	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
#define SIG	".c2lnbmF0dXJl"
/*
 * {"app_id":"kimi","typ":"access","sub":"d1kimiuser01",
 *  "device_id":"7470186037286404105","ssid":"1730000000000000001",
 *  "iat":1700000000,"exp":1700000900}
 */
#define ACCESS	HEAD "eyJhcHBfaWQiOiJraW1pIiwidHlwIjoiYWNjZXNzIiwic3ViIjoiZDFr" \
	"aW1pdXNlcjAxIiwiZGV2aWNlX2lkIjoiNzQ3MDE4NjAzNzI4NjQwNDEwNSIsInNzaWQi" \
	"OiIxNzMwMDAwMDAwMDAwMDAwMDAxIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAw" \
	"MDA5MDB9" SIG
/* {"app_id":"kimi","typ":"refresh","sub":"d1kimiuser01","iat":1700000000,
 *  "exp":1702592000} */
#define REFRESH	HEAD "eyJhcHBfaWQiOiJraW1pIiwidHlwIjoicmVmcmVzaCIsInN1YiI6Im" \
	"Qxa2ltaXVzZXIwMSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAyNTkyMDAwfQ" SIG
/* {"app_id":"kimi","typ":"access","sub":"u-1",
 *  "device_id":7470186037286404105,"ssid":"bad value","exp":1700000900} */
#define NUMERIC	HEAD "eyJhcHBfaWQiOiJraW1pIiwidHlwIjoiYWNjZXNzIiwic3ViIjoidS0" \
	"xIiwiZGV2aWNlX2lkIjo3NDcwMTg2MDM3Mjg2NDA0MTA1LCJzc2lkIjoiYmFkIHZhbHVl" \
	"IiwiZXhwIjoxNzAwMDAwOTAwfQ" SIG
/* {"app_id":"other","typ":"access","sub":"x"} */
#define OTHER	HEAD "eyJhcHBfaWQiOiJvdGhlciIsInR5cCI6ImFjY2VzcyIsInN1YiI6Im" \
	"gifQ" SIG

START_TEST(claims_access)
{
	struct kimi_claims c;

	ck_assert_int_eq(kimi_claims(ACCESS, &c), 0);
	ck_assert_int_eq(c.jwt, 1);
	ck_assert_str_eq(c.app_id, "kimi");
	ck_assert_str_eq(c.typ, "access");
	ck_assert_str_eq(c.sub, "d1kimiuser01");
	ck_assert_str_eq(c.device_id, "7470186037286404105");
	ck_assert_str_eq(c.ssid, "1730000000000000001");
	ck_assert_int_eq(c.iat, 1700000000);
	ck_assert_int_eq(c.exp, 1700000900);
}
END_TEST

START_TEST(claims_refresh_and_odd_values)
{
	struct kimi_claims c;

	ck_assert_int_eq(kimi_claims(REFRESH, &c), 0);
	ck_assert_str_eq(c.typ, "refresh");
	ck_assert_str_eq(c.device_id, "");
	ck_assert_int_eq(c.exp, 1702592000);
	/* a number is taken as its decimal; a value with a space is not */
	ck_assert_int_eq(kimi_claims(NUMERIC, &c), 0);
	ck_assert_str_eq(c.device_id, "7470186037286404105");
	ck_assert_str_eq(c.ssid, "");
	ck_assert_str_eq(c.sub, "u-1");
	ck_assert_int_eq(c.iat, 0);
}
END_TEST

START_TEST(claims_not_jwt)
{
	struct kimi_claims c;

	ck_assert_int_eq(kimi_claims("plain-refresh-token-0123456789", &c),
	    -1);
	ck_assert_int_eq(c.jwt, 0);
	ck_assert_str_eq(c.sub, "");
	ck_assert_int_eq(kimi_claims("a.b", &c), -1);
	ck_assert_int_eq(kimi_claims("a.eyJ9.c.d", &c), -1);
	ck_assert_int_eq(kimi_claims(".eyJhIjoxfQ.c", &c), -1);
	ck_assert_int_eq(kimi_claims("a.eyJhIjoxfQ.", &c), -1);
	ck_assert_int_eq(kimi_claims("a.!!!!.c", &c), -1);
	ck_assert_int_eq(kimi_claims("a.WzEsMl0.c", &c), -1);	/* [1,2] */
	ck_assert_int_eq(kimi_claims("a.eyJhIjo.c", &c), -1);	/* {"a": */
	ck_assert_int_eq(kimi_claims("a.e.c", &c), -1);
	ck_assert_int_eq(kimi_claims(NULL, &c), -1);
	/* {"a":1} with its padding: read */
	ck_assert_int_eq(kimi_claims("a.eyJhIjoxfQ==.c", &c), 0);
	ck_assert_int_eq(c.jwt, 1);
}
END_TEST

START_TEST(kinds)
{
	ck_assert_int_eq(kimi_kind_of(ACCESS), KIMI_KIND_ACCESS);
	ck_assert_int_eq(kimi_kind_of(NUMERIC), KIMI_KIND_ACCESS);
	ck_assert_int_eq(kimi_kind_of(REFRESH), KIMI_KIND_REFRESH);
	ck_assert_int_eq(kimi_kind_of(OTHER), KIMI_KIND_REFRESH);
	ck_assert_int_eq(kimi_kind_of("opaque-refresh-token-value"),
	    KIMI_KIND_REFRESH);
}
END_TEST

/* exp - iat is the life, whatever our clock says. */
START_TEST(renewal)
{
	struct kimi_claims c;
	const int64_t now = 1800000000;

	memset(&c, 0, sizeof(c));
	c.iat = 1700000000;
	c.exp = 1700000900;		/* 15 minutes: 2 early */
	ck_assert_int_eq(kimi_renew_at(&c, now), now + 900 - 120);
	c.exp = c.iat + 300;		/* 5 minutes: a fifth early */
	ck_assert_int_eq(kimi_renew_at(&c, now), now + 300 - 60);
	c.exp = c.iat + 4;		/* the mock's: a second early */
	ck_assert_int_eq(kimi_renew_at(&c, now), now + 3);
	c.exp = c.iat + 1;
	ck_assert_int_eq(kimi_renew_at(&c, now), now + 1);
	c.exp = c.iat + 86400;		/* a day: two minutes early */
	ck_assert_int_eq(kimi_renew_at(&c, now), now + 86400 - 120);
	c.iat = 0;			/* no iat: exp by our clock */
	c.exp = now + 600;
	ck_assert_int_eq(kimi_renew_at(&c, now), now + 600 - 120);
	c.exp = now - 5;
	ck_assert_int_eq(kimi_renew_at(&c, now), now);
	c.exp = 0;			/* no expiry named */
	ck_assert_int_eq(kimi_renew_at(&c, now), now + KIMI_ACCESS_TTL - 120);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("kimi_token");
	TCase *t = tcase_create("all");

	tcase_add_test(t, claims_access);
	tcase_add_test(t, claims_refresh_and_odd_values);
	tcase_add_test(t, claims_not_jwt);
	tcase_add_test(t, kinds);
	tcase_add_test(t, renewal);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
