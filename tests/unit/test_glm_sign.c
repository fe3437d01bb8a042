/*
 * Unit tests for upstream/glm/sign.c: the X-Timestamp digit rule and the
 * X-Sign MD5 of providers.md §3.3, held against the document's two
 * vectors, a second implementation of the digit rule, and a fresh
 * signature recomputed here.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "tests/unit/unit.h"
#include "upstream/glm/sign.h"

#define NONCE	"3f2b8c1e9a7d4e5f8b6c0d1a2e3f4a5b"

START_TEST(document_vectors)
{
	struct glm_sign	 s;

	ck_assert_int_eq(glm_sign_make(1735689600987LL, NONCE, &s), 0);
	ck_assert_str_eq(s.timestamp, "1735689600917");
	ck_assert_str_eq(s.nonce, NONCE);
	ck_assert_str_eq(s.sign, "419a89b24ab424367e66ebd667e7feee");
	ck_assert_int_eq(glm_sign_make(1700000000123LL, NONCE, &s), 0);
	ck_assert_str_eq(s.timestamp, "1700000000123");
	ck_assert_str_eq(s.sign, "911255f6d70a95b83f6969697e554d4c");
}
END_TEST

/* The rule spelled out another way: the sum of all digits but one. */
static void
other_rule(long long v, char *out)
{
	char	 a[32];
	int	 t = snprintf(a, sizeof(a), "%lld", v), sum = 0, i;

	for (i = 0; i < t; i++)
		sum += a[i] - '0';
	sum -= a[t - 2] - '0';
	a[t - 2] = (char)('0' + sum % 10);
	strcpy(out, a);
}

START_TEST(timestamp_rule)
{
	static const long long	 v[] = { 10, 99, 100, 1234, 999999999999LL,
				    1735689600987LL, 9223372036854775807LL };
	char			 got[GLM_TS_MAX + 1], want[32];
	size_t			 i;
	long long		 x;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_int_eq(glm_sign_timestamp(v[i], got, sizeof(got)), 0);
		other_rule(v[i], want);
		ck_assert_str_eq(got, want);
	}
	/* a spread of 13-digit times */
	for (x = 1700000000000LL; x < 1800000000000LL; x += 7777777771LL) {
		ck_assert_int_eq(glm_sign_timestamp(x, got, sizeof(got)), 0);
		other_rule(x, want);
		ck_assert_str_eq(got, want);
		ck_assert_uint_eq(strlen(got), 13);
	}
	ck_assert_str_eq((glm_sign_timestamp(10, got, sizeof(got)), got), "00");
	ck_assert_str_eq((glm_sign_timestamp(57, got, sizeof(got)), got), "77");
	ck_assert_int_eq(glm_sign_timestamp(-1, got, sizeof(got)), -1);
	ck_assert_int_eq(glm_sign_timestamp(7, got, sizeof(got)), -1);
	ck_assert_int_eq(glm_sign_timestamp(1735689600987LL, got, 13), -1);
	ck_assert_int_eq(glm_sign_timestamp(1735689600987LL, got, 14), 0);
}
END_TEST

static void
md5_hex(const char *s, char out[33])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0, i;

	ck_assert_int_eq(EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL), 1);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

START_TEST(fresh_signature)
{
	struct glm_sign	 s;
	struct timespec	 ts;
	long long	 now, got;
	char		 text[256], want[33], rule[32];
	size_t		 i;

	ck_assert_int_eq(glm_sign_now(&s), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	got = strtoll(s.timestamp, NULL, 10);
	/* only the tens digit moved: within 100 ms of the clock (+ slack) */
	ck_assert(llabs(now - got) < 2000);
	other_rule(got, rule);
	ck_assert_str_eq(rule, s.timestamp);
	/* a UUID nonce */
	ck_assert_uint_eq(strlen(s.nonce), 36);
	for (i = 0; i < 36; i++)
		ck_assert(i == 8 || i == 13 || i == 18 || i == 23 ?
		    s.nonce[i] == '-' : strchr("0123456789abcdef",
		    s.nonce[i]) != NULL);
	snprintf(text, sizeof(text), "%s-%s-%s", s.timestamp, s.nonce,
	    GLM_SIGN_SECRET);
	md5_hex(text, want);
	ck_assert_str_eq(s.sign, want);
	/* a second one has another nonce */
	{
		struct glm_sign	 t;

		ck_assert_int_eq(glm_sign_now(&t), 0);
		ck_assert_str_ne(t.nonce, s.nonce);
	}
}
END_TEST

START_TEST(bad_input)
{
	struct glm_sign	 s;
	char		 big[GLM_NONCE_MAX + 2];

	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(glm_sign_make(1735689600987LL, big, &s), -1);
	big[GLM_NONCE_MAX] = '\0';
	ck_assert_int_eq(glm_sign_make(1735689600987LL, big, &s), 0);
	ck_assert_int_eq(glm_sign_make(-5, NONCE, &s), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("glm_sign");
	TCase	*tc = tcase_create("all");

	tcase_add_test(tc, document_vectors);
	tcase_add_test(tc, timestamp_rule);
	tcase_add_test(tc, fresh_signature);
	tcase_add_test(tc, bad_input);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
