/*
 * fcgi/b64.c: the encoder against RFC 4648 §10, the decoder under each
 * flag (what the JWT readers, the Turnstile VM's atob and the PoW
 * checks rely on), and a round trip over every length.
 */
#include "config.h"

#include <string.h>

#include "fcgi/b64.h"
#include "unit.h"

static char enc[64];
static unsigned char dec[64];

static const char *
e(const char *s)
{
	enc[b64_encode(s, strlen(s), enc)] = '\0';
	return enc;
}

/* s decoded under flags, NUL-terminated; NULL when it does not decode */
static const char *
d(const char *s, int flags)
{
	long n;

	if ((n = b64_decode(s, strlen(s), dec, sizeof(dec) - 1, flags)) < 0)
		return NULL;
	dec[n] = '\0';
	return (const char *)dec;
}

START_TEST(encode_rfc4648)
{
	ck_assert_str_eq(e(""), "");
	ck_assert_str_eq(e("f"), "Zg==");
	ck_assert_str_eq(e("fo"), "Zm8=");
	ck_assert_str_eq(e("foo"), "Zm9v");
	ck_assert_str_eq(e("foob"), "Zm9vYg==");
	ck_assert_str_eq(e("fooba"), "Zm9vYmE=");
	ck_assert_str_eq(e("foobar"), "Zm9vYmFy");
	ck_assert_str_eq(e("\xfb\xff"), "+/8=");
	ck_assert_int_eq(B64_ENCLEN(5), 8);
}
END_TEST

START_TEST(value_alphabets)
{
	ck_assert_int_eq(b64_value('A', 0), 0);
	ck_assert_int_eq(b64_value('z', 0), 51);
	ck_assert_int_eq(b64_value('9', 0), 61);
	ck_assert_int_eq(b64_value('+', B64_STD), 62);
	ck_assert_int_eq(b64_value('/', B64_STD), 63);
	ck_assert_int_eq(b64_value('-', B64_STD), -1);
	ck_assert_int_eq(b64_value('-', B64_URL), 62);
	ck_assert_int_eq(b64_value('_', B64_URL), 63);
	ck_assert_int_eq(b64_value('+', B64_URL), -1);
	ck_assert_int_eq(b64_value('=', B64_STD | B64_URL), -1);
	ck_assert_int_eq(b64_value('\0', B64_STD | B64_URL), -1);
}
END_TEST

START_TEST(decode_jwt_style)
{
	/* unpadded, or padded with any run of '=' */
	ck_assert_str_eq(d("eyJpZCI6MX0", B64_URL), "{\"id\":1}");
	ck_assert_str_eq(d("eyJpZCI6MX0=", B64_URL), "{\"id\":1}");
	ck_assert_str_eq(d("eyJpZCI6MX0===", B64_URL), "{\"id\":1}");
	ck_assert_str_eq(d("", B64_URL), "");
	ck_assert_str_eq(d("-_8", B64_URL), "\xfb\xff");
	ck_assert_ptr_null(d("+/8", B64_URL));
	ck_assert_str_eq(d("+/8", B64_STD | B64_URL), "\xfb\xff");
	ck_assert_ptr_null(d("eyJpZCI6MX0xy", B64_URL));	/* 4n+1 */
	ck_assert_ptr_null(d("ey=J", B64_URL));
	ck_assert_ptr_null(d("Zm 9v", B64_URL));
}
END_TEST

START_TEST(decode_forgiving)
{
	int f = B64_STD | B64_FORGIVING;

	ck_assert_str_eq(d("Zm9v YmFy\n", f), "foobar");
	ck_assert_str_eq(d(" Zm9vYg = = ", f), "foob");
	ck_assert_str_eq(d("Zm9vYg", f), "foob");
	ck_assert_ptr_null(d("Zm9vYg=", f));	/* '=' not to a multiple of 4 */
	ck_assert_ptr_null(d("Zm9v===", f));
	ck_assert_ptr_null(d("Zg===", f));
	ck_assert_ptr_null(d("Z", f));
	ck_assert_ptr_null(d("-_8=", f));
	ck_assert_str_eq(d("", f), "");
	ck_assert_str_eq(d(" \t", f), "");
}
END_TEST

START_TEST(decode_bounded)
{
	unsigned char out[3];

	ck_assert_int_eq(b64_decode("Zm9v", 4, out, 3, B64_STD), 3);
	ck_assert_int_eq(b64_decode("Zm9vYg", 6, out, 3, B64_STD), -1);
	ck_assert_int_eq(b64_decode("Zm9v", 4, out, 0, B64_STD), -1);
}
END_TEST

START_TEST(round_trip)
{
	unsigned char in[40], out[B64_DECLEN(B64_ENCLEN(40))];
	char txt[B64_ENCLEN(40)];
	size_t n, i, m;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 200);
	for (n = 0; n <= sizeof(in); n++) {
		m = b64_encode(in, n, txt);
		ck_assert_uint_eq(m, B64_ENCLEN(n));
		ck_assert_int_eq(b64_decode(txt, m, out, sizeof(out),
		    B64_STD | B64_FORGIVING), (long)n);
		ck_assert_mem_eq(in, out, n);
		ck_assert_int_eq(b64_decode(txt, m, out, sizeof(out), B64_STD),
		    (long)n);
		ck_assert_mem_eq(in, out, n);
	}
}
END_TEST

static Suite *
b64_suite(void)
{
	Suite *s = suite_create("b64");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, encode_rfc4648);
	tcase_add_test(tc, value_alphabets);
	tcase_add_test(tc, decode_jwt_style);
	tcase_add_test(tc, decode_forgiving);
	tcase_add_test(tc, decode_bounded);
	tcase_add_test(tc, round_trip);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(b64_suite)
