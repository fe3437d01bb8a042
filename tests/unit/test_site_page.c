/*
 * upstream/chatgpt/site_ctx.c and site_capture.c: the React Router
 * context of a page filled in (by the members that name accessToken,
 * locale and email, and by the reference's "the element after the key"),
 * written back as a string that cannot close its script, nonces on every
 * script, integrity attributes gone, broken contexts refused; and the
 * conversation id and title of a stream, whatever its chunking and format.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "upstream/chatgpt/site.h"
#include "unit.h"

static struct buf out;

static void
setup(void)
{
	buf_init(&out, 0);
}

static void
teardown(void)
{
	buf_free(&out);
}

static char *
slurp(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[1024], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/tests/unit/data/gateway/%s",
	    top != NULL && *top ? top : ".", name);
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	ck_assert_ptr_nonnull(buf = malloc((size_t)n + 1));
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static enum site_err
inject(const char *page, const struct site_page_opts *o, size_t *n)
{
	buf_reset(&out);
	return site_page_inject(&out, page, strlen(page), o, n);
}

/*
 * The i-th enqueue'd context of the output, decoded: our escapes are
 * JSON's, so json-c reads the literal back.
 */
static struct json_object *
context(int i)
{
	const char *p = out.p;
	struct json_object *s, *arr;
	const char *q, *end;
	char *lit;

	while (i-- >= 0) {
		ck_assert_ptr_nonnull(p = strstr(p, "enqueue(\""));
		p += 8;
	}
	/* The closing quote: the first one no backslash escapes. */
	for (end = p + 1; *end && *end != '"'; end++)
		if (*end == '\\' && end[1] != '\0')
			end++;
	ck_assert_int_eq(*end, '"');
	ck_assert_ptr_nonnull(lit = strndup(p, (size_t)(end - p + 1)));
	ck_assert_ptr_nonnull(s = json_tokener_parse(lit));
	free(lit);
	q = json_object_get_string(s);
	if (q[0] == 'P')
		q = strchr(q, ':') + 1;
	arr = json_tokener_parse(q);
	json_object_put(s);
	ck_assert_ptr_nonnull(arr);
	return arr;
}

static const char *
elem(struct json_object *arr, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(arr, i));
}

START_TEST(live_page)
{
	struct site_page_opts o = { "my-seed", "de-DE", "chatgpt@openai.com",
	    "N0NCE" };
	struct json_object *arr;
	char *page;
	size_t len, n = 0;

	page = slurp("page_live.html", &len);
	ck_assert_int_eq(site_page_inject(&out, page, len, &o, &n), SITE_OK);
	ck_assert_int_eq(n, 1);
	arr = context(0);
	ck_assert_str_eq(elem(arr, 14), "my-seed");
	ck_assert_str_eq(elem(arr, 10), "de-DE");
	ck_assert_str_eq(elem(arr, 18), "chatgpt@openai.com");
	ck_assert_str_eq(elem(arr, 13), "accessToken");
	ck_assert_str_eq(elem(arr, 20), "Mock User");
	json_object_put(arr);
	ck_assert_ptr_null(strstr(out.p, "eyJhbGciOi"));
	ck_assert_ptr_null(strstr(out.p, "mock@example.com"));
	ck_assert_ptr_null(strstr(out.p, " integrity="));
	ck_assert_ptr_nonnull(strstr(out.p, " data-integrity=\"sha384-"));
	ck_assert_ptr_null(strstr(out.p, "<script>"));
	ck_assert_ptr_null(strstr(out.p, "<script src"));
	ck_assert_ptr_nonnull(strstr(out.p, "<script nonce=\"N0NCE\" type="
	    "\"module\""));
	/* Without an e-mail to put, the account's stays (its own user). */
	o.email = NULL;
	o.locale = NULL;
	ck_assert_int_eq(site_page_inject(&out, page, len, &o, &n), SITE_OK);
	ck_assert_ptr_nonnull(strstr(out.p, "mock@example.com"));
	ck_assert_ptr_nonnull(strstr(out.p, "\\\"en-US\\\""));
	free(page);
}
END_TEST

START_TEST(by_index_and_after)
{
	struct site_page_opts o = { "T", "fr", "x@y", NULL };
	struct json_object *arr;
	size_t n;

	/* Members by index; a key used twice; a value that is no string. */
	ck_assert_int_eq(inject("<script>a.streamController.enqueue(\""
	    "[{\\\"_1\\\":2,\\\"_3\\\":4},\\\"accessToken\\\",\\\"old\\\","
	    "\\\"k\\\",{\\\"_1\\\":5,\\\"_6\\\":7},\\\"old2\\\",\\\"email\\\","
	    "\\\"someone@site\\\",{\\\"_1\\\":0}]\\n\");</script>", &o, &n),
	    SITE_OK);
	ck_assert_int_eq(n, 2);
	arr = context(0);
	ck_assert_str_eq(elem(arr, 2), "T");
	ck_assert_str_eq(elem(arr, 5), "T");
	ck_assert_str_eq(elem(arr, 7), "x@y");
	json_object_put(arr);
	/* No object names the key: the element after it (the reference). */
	ck_assert_int_eq(inject("x.streamController.enqueue('[\"accessToken\","
	    "\"old\",\"locale\",\"en\",\"email\",\"not-an-address\"]\\n')", &o,
	    &n), SITE_OK);
	ck_assert_int_eq(n, 1);
	arr = context(0);
	ck_assert_str_eq(elem(arr, 1), "T");
	ck_assert_str_eq(elem(arr, 3), "fr");
	ck_assert_str_eq(elem(arr, 5), "not-an-address");
	json_object_put(arr);
	/* A deferred chunk: "P<n>:" stays. */
	ck_assert_int_eq(inject("s.streamController.enqueue(\"P12:[\\\"access"
	    "Token\\\",\\\"old\\\"]\\n\")", &o, &n), SITE_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(out.p, "enqueue(\"P12:[\\\"accessToken"
	    "\\\",\\\"T\\\"]\\n\")"));
}
END_TEST

START_TEST(escaped_out)
{
	struct site_page_opts o = { "T", NULL, "</script><img src=x>\xe2\x80\xa8"
	    "\"\\", NULL };
	struct json_object *arr;
	size_t n;

	ck_assert_int_eq(inject("c.streamController.enqueue(\"[\\\"accessToken"
	    "\\\",\\\"a\\\",\\\"email\\\",\\\"a@b\\\",\\\"\\\\u00e9\\\\ud83d"
	    "\\\\ude00 \\x41\\u0042\\\"]\")", &o, &n), SITE_OK);
	ck_assert_ptr_null(strstr(out.p, "</script"));
	ck_assert_ptr_null(strstr(out.p, "<img"));
	ck_assert_ptr_null(strstr(out.p, "\xe2\x80\xa8"));
	ck_assert_ptr_nonnull(strstr(out.p, "\\u003c/script\\u003e"));
	ck_assert_ptr_nonnull(strstr(out.p, "\\u2028"));
	arr = context(0);
	ck_assert_str_eq(elem(arr, 3), "</script><img src=x>\xe2\x80\xa8\"\\");
	ck_assert_str_eq(elem(arr, 4), "\xc3\xa9\xf0\x9f\x98\x80 AB");
	json_object_put(arr);
}
END_TEST

START_TEST(without_context)
{
	struct site_page_opts o = { "T", NULL, NULL, "n" };
	size_t n = 9;

	/* A logged-out page: nothing to fill, the caller falls back. */
	ck_assert_int_eq(inject("<html><script>x.streamController.enqueue("
	    "\"[{\\\"_1\\\":2},\\\"loaderData\\\",{}]\\n\");</script>", &o, &n),
	    SITE_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(inject("plain text <scripts> <script", &o, &n),
	    SITE_OK);
	ck_assert_str_eq(out.p, "plain text <scripts> <script");
	/* A context that is not JSON: left as it was, still escaped. */
	ck_assert_int_eq(inject("a.streamController.enqueue(\"not json "
	    "</x>\")", &o, &n), SITE_OK);
	ck_assert_str_eq(out.p, "a.streamController.enqueue(\"not json "
	    "\\u003c/x\\u003e\")");
	/* Not a literal: left alone. */
	ck_assert_int_eq(inject("function f(c){streamController.enqueue(c)}",
	    &o, &n), SITE_OK);
	ck_assert_str_eq(out.p, "function f(c){streamController.enqueue(c)}");
	/* Broken: refused, never half-written. */
	ck_assert_int_eq(inject("a.streamController.enqueue(\"[\\\"accessToken"
	    "\\\",\\\"x", &o, &n), SITE_BADCTX);
	ck_assert_int_eq(inject("a.streamController.enqueue(\"[1,\n2]\")", &o,
	    &n), SITE_BADCTX);
	ck_assert_int_eq(inject("a.streamController.enqueue(\"[\\\"accessToken"
	    "\\\",\\\"x\\\"] trailing\")", &o, &n), SITE_BADCTX);
	ck_assert_int_eq(inject("a.streamController.enqueue(\"\\u12\")", &o,
	    &n), SITE_BADCTX);
	o.token = NULL;
	ck_assert_int_eq(inject("x", &o, &n), SITE_INVAL);
}
END_TEST

START_TEST(too_big)
{
	struct site_page_opts o = { "T", NULL, NULL, NULL };
	char *page;
	size_t n, len = SITE_CTX_MAX + 100, i;

	page = malloc(len + 64);
	strcpy(page, "a.streamController.enqueue(\"");
	for (i = strlen(page); i < len; i++)
		page[i] = 'x';
	strcpy(page + len, "\")");
	ck_assert_int_eq(inject(page, &o, &n), SITE_TOOBIG);
	free(page);
	ck_assert_int_eq(site_page_inject(&out, "x", SITE_PAGE_MAX + 1, &o, &n),
	    SITE_TOOBIG);
}
END_TEST

START_TEST(locales)
{
	ck_assert(site_locale_ok("en-US", 5));
	ck_assert(site_locale_ok("zh-Hant-TW", 10));
	ck_assert(!site_locale_ok("e", 1));
	ck_assert(!site_locale_ok("1n", 2));
	ck_assert(!site_locale_ok("en US", 5));
	ck_assert(!site_locale_ok("</script>", 9));
	ck_assert(!site_locale_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 36));
}
END_TEST

/* ------------------------------------------------------------ capture */

static void
capture(const char *data, size_t len, size_t step, struct site_cap *c)
{
	size_t i;

	site_cap_init(c);
	for (i = 0; i < len; i += step)
		site_cap_feed(c, data + i, len - i < step ? len - i : step);
	site_cap_finish(c);
}

static void
check_file(const char *name)
{
	struct site_cap c;
	char *data;
	size_t len, steps[] = { 1, 2, 7, 64, 4096, 1 << 20 }, i;

	data = slurp(name, &len);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		capture(data, len, steps[i], &c);
		ck_assert_int_eq(c.failed, 0);
		ck_assert_int_eq(c.have_id, 1);
		ck_assert_str_eq(c.conv_id,
		    "ed81abe1-d463-4887-aabf-5d2d608052c9");
		ck_assert_int_eq(c.have_title, 1);
		ck_assert_str_eq(c.title, "Mock: capture me");
		site_cap_free(&c);
	}
	free(data);
}

START_TEST(capture_v1)
{
	check_file("conv_v1.sse");
}
END_TEST

START_TEST(capture_old)
{
	check_file("conv_old.sse");
}
END_TEST

START_TEST(capture_edges)
{
	static const char s1[] =
	    "data: {\"conversation_id\":\"bad id!\"}\n\n"
	    "data: {\"conversation_id\":\"ok-1\"}\r\n\r\n"
	    "data: {\"conversation_id\":\"ok-2\"}\n\n"
	    "data: {\"type\":\"title_generation\",\"title\":\"a\\nb\\u0007c\"}\n\n"
	    "data: {\"type\":\"other\",\"title\":\"not this\"}\n\n"
	    "data: [DONE]\n\n";
	static const char s2[] = "data: {\"conversation_id\":\"xxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n\n";
	struct site_cap c;
	char *big;
	size_t n = SITE_CAP_EVENT_MAX + 10;

	capture(s1, sizeof(s1) - 1, 3, &c);
	ck_assert_str_eq(c.conv_id, "ok-1");	/* the first good one */
	ck_assert_str_eq(c.title, "a b c");	/* one line */
	site_cap_free(&c);
	/* An event too big to follow stops the capture, not the caller. */
	big = malloc(n);
	memset(big, 'x', n);
	memcpy(big, "data: {\"conversation_id\":", 25);
	capture(big, n, 8192, &c);
	ck_assert_int_eq(c.failed, 1);
	ck_assert_int_eq(c.have_id, 0);
	site_cap_feed(&c, "data: {\"conversation_id\":\"late\"}\n\n", 35);
	ck_assert_int_eq(c.have_id, 0);
	site_cap_free(&c);
	free(big);
	/* Too long an id; no id at all. */
	capture(s2, strlen(s2), 5, &c);
	ck_assert_int_eq(c.have_id, 0);
	site_cap_free(&c);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("site_page");
	TCase *t = tcase_create("context");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, live_page);
	tcase_add_test(t, by_index_and_after);
	tcase_add_test(t, escaped_out);
	tcase_add_test(t, without_context);
	tcase_add_test(t, too_big);
	tcase_add_test(t, locales);
	suite_add_tcase(s, t);
	t = tcase_create("capture");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, capture_v1);
	tcase_add_test(t, capture_old);
	tcase_add_test(t, capture_edges);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
