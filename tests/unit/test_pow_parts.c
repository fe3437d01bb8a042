/*
 * Unit tests for the building blocks of the ChatGPT proof of work
 * (upstream/chatgpt/pow_sha3.c, pow_config.c, pow.c): SHA3-512 known
 * answers and the 4-lane Keccak against OpenSSL, base64, the difficulty
 * comparator, number and date formatting, JSON escaping and the config
 * defaults.  The solver and the tokens are in test_pow.c.  The .c files
 * are included so the static pieces can be tested.
 */
#include "upstream/chatgpt/pow_sha3.c"
#include "upstream/chatgpt/pow_config.c"
#include "upstream/chatgpt/pow.c"

#include <limits.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "tests/unit/unit.h"

static void
hex(const unsigned char *h, size_t n, char *out)
{
	for (size_t k = 0; k < n; k++)
		sprintf(out + 2 * k, "%02x", h[k]);
}

START_TEST(sha3_known_answers)
{
	unsigned char	 h[64];
	char		 x[129];

	ck_assert_uint_eq(pow_hash(POW_ALGO_SHA3_512, "", 0, h), 64);
	hex(h, 64, x);
	ck_assert_str_eq(x, "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859"
	    "e0d1dcc1475c80a615b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e3"
	    "01758586281dcd26");
	ck_assert_uint_eq(pow_hash(POW_ALGO_SHA3_512, "abc", 3, h), 64);
	hex(h, 64, x);
	ck_assert_str_eq(x, "b751850b1a57168a5693cd924b6b096e08f621827444f70d"
	    "884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a5"
	    "6592f8274eec53f0");
	ck_assert_uint_eq(pow_hash((enum pow_algo)7, "abc", 3, h), 0);
}
END_TEST

START_TEST(base64_vectors)
{
	static const char	*in[] = { "", "f", "fo", "foo", "foob", "fooba",
	    "foobar" };
	static const char	*out[] = { "", "Zg==", "Zm8=", "Zm9v",
	    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char			 buf[16];

	for (size_t k = 0; k < 7; k++) {
		buf[b64_encode((const unsigned char *)in[k], strlen(in[k]),
		    buf)] = '\0';
		ck_assert_str_eq(buf, out[k]);
		ck_assert_uint_eq(B64_ENCLEN(strlen(in[k])), strlen(out[k]));
	}
	ck_assert(b64_valid("Zm9vYg==", 8));
	ck_assert(b64_valid("Zm9v", 4));
	ck_assert(!b64_valid("Zm9", 3));
	ck_assert(!b64_valid("Zm=v", 4));
	ck_assert(!b64_valid("Z===", 4));
	ck_assert(!b64_valid("Zm9-", 4));
	ck_assert(!b64_valid("", 0));
	ck_assert(!b64_valid("Zm\0v", 4));
}
END_TEST

START_TEST(comparator)
{
	struct difficulty	 d;
	unsigned char		 h[64] = { 0x06, 0xbf, 0x7d, 0x00 };

	ck_assert_int_eq(difficulty_parse("06bf7d", 64, &d), POW_OK);
	ck_assert(!difficulty_met(h, &d, POW_RULE_BYTES));
	ck_assert(difficulty_met(h, &d, POW_RULE_HEX));
	h[2] = 0x7c;
	ck_assert(difficulty_met(h, &d, POW_RULE_BYTES));
	h[2] = 0x7e;
	ck_assert(!difficulty_met(h, &d, POW_RULE_HEX));
	h[0] = 0x10;
	ck_assert(!difficulty_met(h, &d, POW_RULE_HEX));
	h[0] = 0x05;
	h[1] = 0xff;
	ck_assert(difficulty_met(h, &d, POW_RULE_BYTES));

	ck_assert_int_eq(difficulty_parse("", 64, &d), POW_OK);
	ck_assert(difficulty_met(h, &d, POW_RULE_BYTES));
	ck_assert_int_eq(difficulty_parse("0x1234", 64, &d), POW_EINVAL);
	ck_assert_int_eq(difficulty_parse(" 1234", 64, &d), POW_EINVAL);
	ck_assert_int_eq(difficulty_parse(NULL, 64, &d), POW_EINVAL);
	{
		char	 big[POW_DIFFICULTY_MAX + 2];

		memset(big, 'f', sizeof(big));
		big[POW_DIFFICULTY_MAX] = '\0';
		ck_assert_int_eq(difficulty_parse(big, 64, &d), POW_OK);
		memset(h, 0xff, sizeof(h));
		ck_assert(!difficulty_met(h, &d, POW_RULE_BYTES));
		ck_assert(difficulty_met(h, &d, POW_RULE_HEX));
		big[POW_DIFFICULTY_MAX] = 'f';
		big[POW_DIFFICULTY_MAX + 1] = '\0';
		ck_assert_int_eq(difficulty_parse(big, 64, &d), POW_EINVAL);
	}
}
END_TEST

START_TEST(repr_double)
{
	static const struct {
		double		 v;
		const char	*s;
	} t[] = {
		{ 1234.5, "1234.5" },
		{ 1736175600000.0, "1736175600000.0" },
		{ 0.1, "0.1" },
		{ 0.3, "0.3" },
		{ 1e16, "1e+16" },
		{ 1e15, "1000000000000000.0" },
		{ 0.0001, "0.0001" },
		{ 0.00001, "1e-05" },
		{ -2.5, "-2.5" },
		{ 0.0, "0.0" },
		{ -0.0, "-0.0" },
		{ 123456789.123, "123456789.123" },
		{ 1.5e-7, "1.5e-07" },
		{ 5e-324, "5e-324" },
		{ 1.5e-323, "1.5e-323" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 0.8863307117434009, "0.886330711743401" },
		{ 9007199254740993.0, "9007199254740992.0" },
		{ 1e22, "1e+22" },
		{ 123456.78901234, "123456.78901234" },
		{ 1152921504606846976.0, "1.152921504606847e+18" },
		{ INFINITY, "Infinity" },
		{ -INFINITY, "-Infinity" },
		{ NAN, "NaN" },
	};
	char	 buf[POW_DOUBLE_BUFSZ];

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		size_t	 n = pow_repr_double(t[k].v, buf);

		ck_assert_str_eq(buf, t[k].s);
		ck_assert_uint_eq(n, strlen(t[k].s));
	}
}
END_TEST

/* Significant digits of a decimal string, leading and trailing zeros cut. */
static void
sig_digits(const char *s, char *out)
{
	size_t	 n = 0;

	for (; *s != '\0' && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && (n > 0 || *s != '0'))
			out[n++] = *s;
	while (n > 1 && out[n - 1] == '0')
		n--;
	out[n] = '\0';
}

START_TEST(repr_double_random)
{
	/* The 15-digits-first shortcut against the plain 1..17 search. */
	uint64_t	 x = 0x9e3779b97f4a7c15ULL;
	char		 buf[POW_DOUBLE_BUFSZ], tmp[40], a[24], b[24];

	for (int i = 0; i < 200000; i++) {
		double	 v;
		int	 prec;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		switch (i % 4) {
		case 0:	/* any finite bit pattern */
			memcpy(&v, &x, sizeof(v));
			if (!isfinite(v) || v == 0)
				continue;
			break;
		case 1:	/* performance.now()-like: ms with a fraction */
			v = (double)(x % 100000000) / 10.0 + 0.05 * (x >> 60);
			break;
		case 2:	/* Math.random() */
			v = (double)(x >> 11) / 9007199254740992.0;
			break;
		default: /* short decimals */
			v = (double)(x % 1000000) / 1000.0;
			break;
		}
		if (v == 0)
			continue;
		for (prec = 1; prec < 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
			if (strtod(tmp, NULL) == v)
				break;
		}
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		pow_repr_double(v, buf);
		ck_assert(strtod(buf, NULL) == v);
		sig_digits(tmp, a);
		sig_digits(buf, b);
		ck_assert_msg(strcmp(a, b) == 0, "%.17g: %s vs %s", v, buf, tmp);
	}
}
END_TEST

START_TEST(json_escaping)
{
	struct jbuf	 b = { 0 };

	/* json.dumps(..., ensure_ascii=False): DEL and '/' stay raw. */
	jb_str(&b, "q\"b\\s/\x01\x1f\x7f\n\t\r\b\f\xc3\xa9\xe2\x88\x92"
	    "\xf0\x9f\x98\x80");
	ck_assert_int_eq(b.err, POW_OK);
	ck_assert_str_eq(b.p, "\"q\\\"b\\\\s/\\u0001\\u001f\x7f\\n\\t\\r\\b\\f"
	    "\xc3\xa9\xe2\x88\x92\xf0\x9f\x98\x80\"");
	free(b.p);
}
END_TEST

START_TEST(date_and_seed)
{
	char	 buf[POW_DATE_BUFSZ], seed[POW_SEED_BUFSZ];
	double	 v;
	char	*end;

	pow_format_date(1736175600, buf);
	ck_assert_str_eq(buf,
	    "Mon Jan 06 2025 10:00:00 GMT-0500 (Eastern Standard Time)");
	pow_format_date(0, buf);
	ck_assert_str_eq(buf,
	    "Wed Dec 31 1969 19:00:00 GMT-0500 (Eastern Standard Time)");
	for (int k = 0; k < 1000; k++) {
		ck_assert_int_eq(pow_random_seed(seed), POW_OK);
		v = strtod(seed, &end);
		ck_assert(*end == '\0');
		ck_assert(v >= 0 && v < 1);
	}
}
END_TEST

START_TEST(defaults)
{
	struct pow_config	 c;
	char			*j = NULL;
	struct json_object	*arr;

	ck_assert_int_eq(pow_config_defaults(&c, "UA/1.0", "", NULL,
	    1736175600), POW_OK);
	ck_assert_str_eq(c.date,
	    "Mon Jan 06 2025 10:00:00 GMT-0500 (Eastern Standard Time)");
	ck_assert_uint_eq(strlen(c.session_id), 36);
	ck_assert(c.session_id[14] == '4');
	ck_assert(strchr("89ab", c.session_id[19]) != NULL);
	ck_assert(c.screen == 3000 || c.screen == 4000 || c.screen == 3120 ||
	    c.screen == 4160);
	ck_assert(c.cores == 8 || c.cores == 16 || c.cores == 24 ||
	    c.cores == 32);
	ck_assert_ptr_nonnull(strstr(c.nav_prop, "\xe2\x88\x92"));
	ck_assert(c.time_origin > 1.6e12);

	ck_assert_int_eq(pow_config_json(&c, 7, 3, &j, NULL), POW_OK);
	arr = json_tokener_parse(j);
	ck_assert_ptr_nonnull(arr);
	ck_assert_uint_eq(json_object_array_length(arr), POW_CONFIG_LEN);
	ck_assert(json_object_is_type(json_object_array_get_idx(arr, 0),
	    json_type_int));
	ck_assert(json_object_is_type(json_object_array_get_idx(arr, 6),
	    json_type_null));
	ck_assert(json_object_is_type(json_object_array_get_idx(arr, 13),
	    json_type_double));
	ck_assert(json_object_is_type(json_object_array_get_idx(arr, 17),
	    json_type_double));
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(arr,
	    4)), "UA/1.0");
	json_object_put(arr);
	free(j);

	/* NULL picks the documented fallbacks. */
	ck_assert_int_eq(pow_config_defaults(&c, NULL, NULL, NULL, 0), POW_OK);
	ck_assert_str_eq(c.script_src,
	    "https://chatgpt.com/backend-api/sentinel/sdk.js");
	ck_assert_ptr_nonnull(strstr(c.user_agent, "Chrome/"));
}
END_TEST

#ifdef POW_HAVE_X4
/* The 4-lane Keccak against OpenSSL: every prefix remainder, tails of
 * every length around block boundaries, both code paths. */
START_TEST(x4_matches_evp)
{
	static sha3_x4_fn	 fns[2];
	struct sha3_state	*st = NULL;
	unsigned char		 msg[400], h[POW_LANES][POW_DIGEST_MAX];
	unsigned char		 ref[POW_DIGEST_MAX];
	unsigned int		 x = 12345;
	int			 nfn = 0;

	fns[nfn++] = sha3_x4_plain;
	if (sha3_x4_pick() != sha3_x4_plain)
		fns[nfn++] = sha3_x4_pick();
	for (size_t k = 0; k < sizeof(msg); k++) {
		x = x * 1103515245u + 12345u;
		msg[k] = (unsigned char)(x >> 16);
	}
	ck_assert_int_eq(sha3_new((void **)&st), POW_OK);
	for (int f = 0; f < nfn; f++) {
		st->x4 = fns[f];
		for (size_t pre = 0; pre <= 150; pre += 1)
			for (size_t t = 0; t <= 160; t += pre % 2 ? 7 : 1) {
			char	*tails[POW_LANES];
			size_t	 n[POW_LANES];

			ck_assert_int_eq(sha3_begin(st, msg, pre), POW_OK);
			for (int l = 0; l < POW_LANES; l++) {
				tails[l] = (char *)msg + 100 + 17 * l;
				n[l] = t;
			}
			/* Lanes may differ in length within one block. */
			if (t >= 2 && (pre + t) % SHA3_RATE >= 2) {
				n[1] = t - 1;
				n[3] = t - 2;
			}
			ck_assert_int_eq(sha3_digest_x4(st, tails, n, h),
			    POW_OK);
			for (int l = 0; l < POW_LANES; l++) {
				ck_assert_int_eq(sha3_digest(st, tails[l], n[l],
				    ref), POW_OK);
				ck_assert_msg(memcmp(h[l], ref, 64) == 0,
				    "fn %d pre %zu tail %zu lane %d", f, pre,
				    n[l], l);
			}
		}
	}
	/* Different block counts cannot share a batch. */
	{
		char	*tails[POW_LANES] = { (char *)msg, (char *)msg,
		    (char *)msg, (char *)msg };
		size_t	 n[POW_LANES] = { 71, 71, 72, 71 };

		ck_assert_int_eq(sha3_begin(st, "", 0), POW_OK);
		ck_assert_int_eq(sha3_digest_x4(st, tails, n, h), POW_EINVAL);
	}
	sha3_free(st);
}
END_TEST
#endif

static Suite *
pow_parts_suite(void)
{
	Suite	*s = suite_create("pow_parts");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sha3_known_answers);
	tcase_add_test(tc, base64_vectors);
	tcase_add_test(tc, comparator);
	tcase_add_test(tc, repr_double);
	tcase_add_test(tc, repr_double_random);
	tcase_add_test(tc, json_escaping);
	tcase_add_test(tc, date_and_seed);
	tcase_add_test(tc, defaults);
#ifdef POW_HAVE_X4
	tcase_add_test(tc, x4_matches_evp);
#endif
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(pow_parts_suite)
