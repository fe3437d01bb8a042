/*
 * html/escape.c by context (and JSON strings, fcgi/buf.c), and the /tokens
 * templates fed hostile data:
 * nothing a token, an account id or an upstream error carries may come
 * out as markup.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fcgi/utf8.h"
#include "html/escape.h"
#include "html/tokens.h"
#include "unit.h"

static struct buf b;

static void
setup(void)
{
	buf_init(&b, 0);
}

static void
teardown(void)
{
	buf_free(&b);
}

static const char *
txt(const char *s)
{
	buf_reset(&b);
	ck_assert_int_eq(html_txts(&b, s), 0);
	return b.p ? b.p : "";
}

static const char *
jstr(const char *s, size_t n)
{
	buf_reset(&b);
	ck_assert_int_eq(buf_json_str(&b, s, n), 0);
	return b.p ? b.p : "";
}

static const char *
attr(const char *s)
{
	buf_reset(&b);
	ck_assert_int_eq(html_attrs(&b, s), 0);
	return b.p ? b.p : "";
}

static const char *
arg(const char *s)
{
	buf_reset(&b);
	ck_assert_int_eq(url_args(&b, s), 0);
	return b.p ? b.p : "";
}

/* JSON strings: always valid JSON, valid UTF-8 kept byte for byte. */
START_TEST(json_strings)
{
	ck_assert_str_eq(jstr("a\"b\\c\n\t\x01\x7f", 9),
	    "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\"");
	ck_assert_str_eq(jstr("\xe4\xbd\xa0\xf0\x9f\x98\x80 \xc3\xa9", 10),
	    "\"\xe4\xbd\xa0\xf0\x9f\x98\x80 \xc3\xa9\"");
	/* a path's %ff%fe, a cut sequence, an overlong form, a surrogate */
	ck_assert_str_eq(jstr("/\xff\xfe", 3), "\"/\\ufffd\\ufffd\"");
	ck_assert_str_eq(jstr("x\xe4\xbd", 3), "\"x\\ufffd\\ufffd\"");
	ck_assert_str_eq(jstr("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"");
	ck_assert_str_eq(jstr("\xed\xa0\x80", 3),
	    "\"\\ufffd\\ufffd\\ufffd\"");
	ck_assert_str_eq(jstr("a\0b", 3), "\"a\\u0000b\"");
}
END_TEST

START_TEST(text_specials)
{
	ck_assert_str_eq(txt("<script>alert('x')</script>"),
	    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	ck_assert_str_eq(txt("a & b \"c\""), "a &amp; b &quot;c&quot;");
	ck_assert_str_eq(txt("&amp;"), "&amp;amp;");
	ck_assert_str_eq(txt("plain text 123"), "plain text 123");
	ck_assert_str_eq(txt(""), "");
	buf_reset(&b);
	ck_assert_int_eq(html_txts(&b, NULL), 0);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(text_utf8_and_controls)
{
	/* Valid multi-byte text passes through untouched. */
	ck_assert_str_eq(txt("你好 🌍 é"), "你好 🌍 é");
	/* Tab and newline stay; other controls and DEL become U+FFFD. */
	ck_assert_str_eq(txt("a\tb\nc"), "a\tb\nc");
	ck_assert_str_eq(txt("a\x01" "b\x1b" "c\x7f"),
	    "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd");
	ck_assert_str_eq(txt("\r"), "\xef\xbf\xbd");
	/* Invalid UTF-8: lone continuation, overlong '<', surrogate, cut. */
	ck_assert_str_eq(txt("\x80"), "\xef\xbf\xbd");
	ck_assert_str_eq(txt("\xc0\xbc"), "\xef\xbf\xbd\xef\xbf\xbd");
	ck_assert_str_eq(txt("\xed\xa0\x80"),
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	ck_assert_str_eq(txt("ok\xe4\xbd"), "ok\xef\xbf\xbd\xef\xbf\xbd");
	ck_assert_str_eq(txt("\xf4\x90\x80\x80"),
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}
END_TEST

START_TEST(text_embedded_nul)
{
	/* With an explicit length a NUL is a control like any other. */
	buf_reset(&b);
	ck_assert_int_eq(html_txt(&b, "a\0<", 3), 0);
	ck_assert_str_eq(b.p, "a\xef\xbf\xbd&lt;");
}
END_TEST

START_TEST(utf8_lengths)
{
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"A", 1), 1);
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2),
	    2);
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xc3\xa9", 1),
	    0);
	ck_assert_uint_eq(utf8_seq_len(
	    (const unsigned char *)"\xe4\xbd\xa0", 3), 3);
	ck_assert_uint_eq(utf8_seq_len(
	    (const unsigned char *)"\xf0\x9f\x8c\x8d", 4), 4);
	ck_assert_uint_eq(utf8_seq_len(
	    (const unsigned char *)"\xe0\x80\xbc", 3), 0);	/* overlong */
	ck_assert_uint_eq(utf8_seq_len(
	    (const unsigned char *)"\xf0\x80\x80\xbc", 4), 0);
	ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xff", 1), 0);
}
END_TEST

START_TEST(attr_context)
{
	ck_assert_str_eq(attr("/pfx/secret/tokens"), "/pfx/secret/tokens");
	ck_assert_str_eq(attr("0123abcdef"), "0123abcdef");
	/* Quotes, brackets, spaces, = and backticks cannot end a value. */
	ck_assert_str_eq(attr("\" onmouseover=x"),
	    "&#x22;&#x20;onmouseover&#x3D;x");
	ck_assert_str_eq(attr("'><script>`"),
	    "&#x27;&#x3E;&#x3C;script&#x3E;&#x60;");
	ck_assert_str_eq(attr("a&b"), "a&#x26;b");
	ck_assert_str_eq(attr("é"), "é");
	ck_assert_str_eq(attr("a\nb"), "a&#x0A;b");
	ck_assert_str_eq(attr("\x01"), "\xef\xbf\xbd");
}
END_TEST

START_TEST(url_context)
{
	ck_assert_str_eq(arg("abc-._~XYZ09"), "abc-._~XYZ09");
	ck_assert_str_eq(arg("a b&c=d/e?f#g"),
	    "a%20b%26c%3Dd%2Fe%3Ff%23g");
	ck_assert_str_eq(arg("\"<>"), "%22%3C%3E");
	ck_assert_str_eq(arg("é"), "%C3%A9");
	ck_assert_str_eq(arg("\r\n"), "%0D%0A");
}
END_TEST

START_TEST(url_decode)
{
	char s[64];

	strcpy(s, "a+b%20c%2B%2b");
	ck_assert_int_eq(url_unarg(s, s, strlen(s), 1), 7);
	ck_assert_str_eq(s, "a b c++");
	strcpy(s, "a+b");
	ck_assert_int_eq(url_unarg(s, s, strlen(s), 0), 3);
	ck_assert_str_eq(s, "a+b");
	strcpy(s, "%e4%BD%a0");
	ck_assert_int_eq(url_unarg(s, s, strlen(s), 1), 3);
	ck_assert_str_eq(s, "\xe4\xbd\xa0");
	/* Truncated or non-hex escapes are malformed. */
	strcpy(s, "abc%4");
	ck_assert_int_eq(url_unarg(s, s, strlen(s), 1), -1);
	strcpy(s, "%zz");
	ck_assert_int_eq(url_unarg(s, s, strlen(s), 1), -1);
	strcpy(s, "%");
	ck_assert_int_eq(url_unarg(s, s, strlen(s), 1), -1);
	ck_assert_int_eq(url_unarg(s, "", 0, 1), 0);
	ck_assert_str_eq(s, "");
}
END_TEST

START_TEST(form_fields)
{
	static const char body[] = "csrf=abc123&text=eyJa%0D%0Aline+two%0A"
	    "&empty=&c%73rf2=x&flag&text=second";
	struct arena a;
	char *v;
	size_t n;

	arena_init(&a, 0);
	ck_assert_int_eq(form_field(&a, body, strlen(body), "csrf", &v, &n),
	    1);
	ck_assert_str_eq(v, "abc123");
	ck_assert_uint_eq(n, 6);
	/* The first of two wins; escapes and '+' are decoded. */
	ck_assert_int_eq(form_field(&a, body, strlen(body), "text", &v, &n),
	    1);
	ck_assert_str_eq(v, "eyJa\r\nline two\n");
	ck_assert_int_eq(form_field(&a, body, strlen(body), "empty", &v, &n),
	    1);
	ck_assert_uint_eq(n, 0);
	/* Keys compare decoded. */
	ck_assert_int_eq(form_field(&a, body, strlen(body), "csrf2", &v, &n),
	    1);
	ck_assert_str_eq(v, "x");
	/* A key without '=' has no value; a missing key is absent. */
	ck_assert_int_eq(form_field(&a, body, strlen(body), "flag", &v, &n),
	    0);
	ck_assert_int_eq(form_field(&a, body, strlen(body), "nope", &v, &n),
	    0);
	ck_assert_ptr_null(v);
	/* Prefixes of a key do not match. */
	ck_assert_int_eq(form_field(&a, body, strlen(body), "csr", &v, &n),
	    0);
	/* An encoded NUL or a broken escape makes the value malformed. */
	ck_assert_int_eq(form_field(&a, "code=a%00b", 10, "code", &v, &n),
	    -1);
	ck_assert_int_eq(form_field(&a, "code=a%0", 8, "code", &v, &n), -1);
	/* Only len bytes are looked at. */
	ck_assert_int_eq(form_field(&a, "code=abcdef", 8, "code", &v, &n),
	    1);
	ck_assert_str_eq(v, "abc");
	ck_assert_int_eq(form_field(&a, "", 0, "code", &v, &n), 0);
	arena_free(&a);
}
END_TEST

/* ---------------------------------------------------------- templates */

#define EVIL	"<script>alert(1)</script>\"'&"

static const char *const evil_kinds[] = { "token", "<i>kind</i>", EVIL,
	"other" };

static void
evil_info(struct acct_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	strcpy(ci->id, "0123456789abcdef0123456789abcdef");
	strcpy(ci->fingerprint, "<b>fp</b>x");
	strcpy(ci->provider, "chatgpt");
	strcpy(ci->label, EVIL);
	ci->kind = 3;
	ci->status = ACCT_ERROR;
	strcpy(ci->team_id, EVIL);
	strcpy(ci->last_error, "401 invalid: " EVIL);
	ci->error_count = 3;
	ci->last_error_at = 1700000000;
	ci->created_at = 1700000000;
}

START_TEST(template_escapes_everything)
{
	struct tokens_page pg = { "/pfx\"><script>", "n0nce", EVIL, 1, NULL };
	struct tokens_view v;
	struct acct_info ci;

	evil_info(&ci);
	memset(&v, 0, sizeof(v));
	v.kind_names = evil_kinds;
	v.nkinds = 4;
	v.csrf = "\"><script>csrf";
	v.now = 1700000100;
	v.session_expires = 1700040000;
	v.counts.total = v.counts.error = 1;
	v.grid[3][TOKENS_COL_ERROR] = 1;
	v.grid[2][TOKENS_COL_ACTIVE] = 1;
	v.rows = v.errors = &ci;
	v.nrows = v.rows_total = v.nerrors = v.errors_total = 1;
	ck_assert_int_eq(tokens_html_main(&b, &pg, &v), 0);
	/* The page has no script element and no unescaped value at all. */
	ck_assert_ptr_null(strstr(b.p, "<script"));
	ck_assert_ptr_null(strstr(b.p, "<b>fp"));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"));
	ck_assert_ptr_nonnull(strstr(b.p, "&lt;b&gt;fp&lt;/b&gt;x"));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "action=\"/pfx&#x22;&#x3E;&#x3C;script&#x3E;/tokens/upload\""));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "value=\"&#x22;&#x3E;&#x3C;script&#x3E;csrf\""));
	ck_assert_ptr_nonnull(strstr(b.p, "2023-11-14 22:13:20 UTC"));
	ck_assert_ptr_nonnull(strstr(b.p, "<style nonce=\"n0nce\">"));
	/* Every form posts its CSRF token. */
	{
		const char *p = b.p;
		int forms = 0, tokens = 0;
		while ((p = strstr(p, "<form ")) != NULL) {
			forms++;
			p++;
		}
		for (p = b.p; (p = strstr(p, "name=\"csrf\"")) != NULL; p++)
			tokens++;
		ck_assert_int_ge(forms, 6);
		ck_assert_int_eq(forms, tokens);
	}
}
END_TEST

START_TEST(template_other_pages)
{
	struct tokens_page pg = { "", "abc", "Wrong <code>.", 1, NULL };

	ck_assert_int_eq(tokens_html_login(&b, &pg), 0);
	ck_assert_ptr_nonnull(strstr(b.p, "Wrong &lt;code&gt;."));
	ck_assert_ptr_nonnull(strstr(b.p, "action=\"/tokens/login\""));
	ck_assert_ptr_nonnull(strstr(b.p, "type=\"password\""));
	ck_assert_ptr_null(strstr(b.p, "name=\"csrf\""));
	/* the console's login is the same form, posted to /admin/login */
	buf_reset(&b);
	pg.home = "/admin";
	ck_assert_int_eq(tokens_html_login(&b, &pg), 0);
	ck_assert_ptr_nonnull(strstr(b.p, "action=\"/admin/login\""));
	pg.home = NULL;
	buf_reset(&b);
	pg.flash = NULL;
	ck_assert_int_eq(tokens_html_disabled(&b, &pg), 0);
	ck_assert_ptr_nonnull(strstr(b.p, "AUTHORIZATION="));
	ck_assert_ptr_null(strstr(b.p, "<form"));
	buf_reset(&b);
	ck_assert_int_eq(tokens_html_refused(&b, &pg, "bad <csrf>"), 0);
	ck_assert_ptr_nonnull(strstr(b.p, "bad &lt;csrf&gt;"));
}
END_TEST

START_TEST(template_limits_fail_cleanly)
{
	struct tokens_page pg = { "", "abc", NULL, 0, NULL };
	struct buf small;

	/* A page over the buffer's limit fails instead of being cut. */
	buf_init(&small, 512);
	ck_assert_int_eq(tokens_html_login(&small, &pg), -1);
	ck_assert_int_eq(small.failed, 1);
	buf_free(&small);
}
END_TEST

START_TEST(time_format)
{
	char t[40];

	tokens_fmt_time(0, t, sizeof(t));
	ck_assert_str_eq(t, "-");
	tokens_fmt_time(86400, t, sizeof(t));
	ck_assert_str_eq(t, "1970-01-02 00:00:00 UTC");
}
END_TEST

static Suite *
escape_suite(void)
{
	Suite *s = suite_create("escape");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, json_strings);
	tcase_add_test(tc, text_specials);
	tcase_add_test(tc, text_utf8_and_controls);
	tcase_add_test(tc, text_embedded_nul);
	tcase_add_test(tc, utf8_lengths);
	tcase_add_test(tc, attr_context);
	tcase_add_test(tc, url_context);
	tcase_add_test(tc, url_decode);
	tcase_add_test(tc, form_fields);
	tcase_add_test(tc, template_escapes_everything);
	tcase_add_test(tc, template_other_pages);
	tcase_add_test(tc, template_limits_fail_cleanly);
	tcase_add_test(tc, time_format);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(escape_suite)
