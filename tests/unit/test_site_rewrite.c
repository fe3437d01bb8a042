/*
 * upstream/chatgpt/site_rewrite.c: the streaming replacer finds every
 * match whatever the feeds' boundaries (checked against a plain
 * one-piece implementation at every split and byte by byte), prefers the
 * longest match, holds back no more than a match could need, stops on a
 * failing output; and the host set of a mirror response.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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

/* The plain meaning: left to right, the longest pattern at each place. */
static void
naive(const char *const *pat, size_t npat, const char *in, struct buf *b)
{
	size_t i = 0, k, best, blen, n = strlen(in);

	while (i < n) {
		best = npat;
		blen = 0;
		for (k = 0; k < npat; k += 2)
			if (strlen(pat[k]) > blen && strncmp(in + i, pat[k],
			    strlen(pat[k])) == 0) {
				best = k;
				blen = strlen(pat[k]);
			}
		if (best == npat) {
			buf_add(b, in + i, 1);
			i++;
			continue;
		}
		buf_adds(b, pat[best + 1]);
		i += blen;
	}
}

/* in fed as pieces of step bytes (0: split once at `at`). */
static const char *
run(const char *const *pat, size_t npat, const char *in, size_t step,
    size_t at)
{
	struct site_rw rw;
	size_t i, n = strlen(in), k;

	buf_reset(&out);
	site_rw_init(&rw, site_rw_to_buf, &out);
	for (k = 0; k < npat; k += 2)
		ck_assert_int_eq(site_rw_add(&rw, pat[k], pat[k + 1]), 0);
	if (step == 0) {
		ck_assert_int_eq(site_rw_feed(&rw, in, at), 0);
		ck_assert_int_eq(site_rw_feed(&rw, in + at, n - at), 0);
	} else
		for (i = 0; i < n; i += step)
			ck_assert_int_eq(site_rw_feed(&rw, in + i,
			    n - i < step ? n - i : step), 0);
	ck_assert_int_eq(site_rw_finish(&rw), 0);
	site_rw_free(&rw);
	return out.p != NULL ? out.p : "";
}

static void
every_split(const char *const *pat, size_t npat, const char *in)
{
	struct buf want;
	size_t at, n = strlen(in);

	buf_init(&want, 0);
	naive(pat, npat, in, &want);
	buf_add(&want, "", 0);
	for (at = 0; at <= n; at++)
		ck_assert_str_eq(run(pat, npat, in, 0, at), want.p ? want.p :
		    "");
	ck_assert_str_eq(run(pat, npat, in, 1, 0), want.p ? want.p : "");
	ck_assert_str_eq(run(pat, npat, in, 3, 0), want.p ? want.p : "");
	buf_free(&want);
}

START_TEST(basics)
{
	static const char *const p[] = { "https://chatgpt.com", "https://me",
	    "chatgpt.com/ces", "me/ces", "cdn", "" };

	ck_assert_str_eq(run(p, 6, "a https://chatgpt.com/x b", 0, 0),
	    "a https://me/x b");
	ck_assert_str_eq(run(p, 6, "https://chatgpt.com/ces/v1", 0, 0),
	    "https://me/ces/v1");
	ck_assert_str_eq(run(p, 6, "chatgpt.com/ces", 0, 0), "me/ces");
	ck_assert_str_eq(run(p, 6, "cdncdnx", 0, 0), "x");
	ck_assert_str_eq(run(p, 6, "", 0, 0), "");
	ck_assert_str_eq(run(p, 6, "no match here", 0, 0), "no match here");
	ck_assert_str_eq(run(p, 6, "https://chatgpt.co", 0, 0),
	    "https://chatgpt.co");
	every_split(p, 6, "https://chatgpt.com/a chatgpt.com/ces cdn https://"
	    "chatgpt.comhttps://chatgpt.com/ces/ https://chatgpt.co");
}
END_TEST

START_TEST(longest_wins)
{
	static const char *const p[] = { "ab", "1", "abcd", "2", "bc", "3",
	    "abc", "4" };

	ck_assert_str_eq(run(p, 8, "abcd", 0, 0), "2");
	ck_assert_str_eq(run(p, 8, "abce", 0, 0), "4e");
	ck_assert_str_eq(run(p, 8, "abx", 0, 0), "1x");
	ck_assert_str_eq(run(p, 8, "xbc", 0, 0), "x3");
	every_split(p, 8, "abcdabceabxbcabcabababcdd");
}
END_TEST

START_TEST(secret_and_hosts)
{
	/* A token-sized pattern across every boundary. */
	char tok[2100], in[5000], want[300];
	const char *p[4];
	size_t i;

	for (i = 0; i < sizeof(tok) - 1; i++)
		tok[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
	tok[0] = 'e';
	tok[sizeof(tok) - 1] = '\0';
	p[0] = tok;
	p[1] = "my-seed";
	p[2] = "https://cdn.oaistatic.com";
	p[3] = "http://o";
	snprintf(in, sizeof(in), "{\"a\":\"%s\",\"b\":\"https://cdn.oaistatic."
	    "com/x\",\"c\":\"%.*s\"}", tok, 100, tok);
	/* The whole token goes; its first 100 bytes alone are no match. */
	snprintf(want, sizeof(want), "{\"a\":\"my-seed\",\"b\":\"http://o/x\","
	    "\"c\":\"%.*s\"}", 100, tok);
	ck_assert_str_eq(run(p, 4, in, 1, 0), want);
	every_split(p, 4, in);
}
END_TEST

START_TEST(streams_at_once)
{
	static const char *const p[] = { "https://chatgpt.com", "X" };
	struct site_rw rw;

	/* Text that cannot begin a pattern is never held back. */
	buf_reset(&out);
	site_rw_init(&rw, site_rw_to_buf, &out);
	ck_assert_int_eq(site_rw_add(&rw, p[0], p[1]), 0);
	ck_assert_int_eq(site_rw_feed(&rw, "data: {\"a\":1}\n\n", 15), 0);
	ck_assert_int_eq(out.len, 15);
	/* A possible start waits, but no longer than it could match. */
	ck_assert_int_eq(site_rw_feed(&rw, "data: https://chat", 18), 0);
	ck_assert_int_eq(out.len, 15 + 6);
	ck_assert_int_eq(site_rw_feed(&rw, "bot\n\n", 5), 0);
	ck_assert_str_eq(out.p, "data: {\"a\":1}\n\ndata: https://chatbot\n\n");
	ck_assert_int_eq(site_rw_feed(&rw, "https://chatgpt.c", 17), 0);
	ck_assert_int_eq(site_rw_finish(&rw), 0);
	ck_assert_str_eq(out.p + 38, "https://chatgpt.c");
	ck_assert_int_eq(out.len, 38 + 17);
	site_rw_free(&rw);
}
END_TEST

START_TEST(big_input)
{
	static const char *const p[] = { "https://chatgpt.com", "https://o" };
	struct site_rw rw;
	char *big;
	size_t n = 3 * SITE_RW_CHUNK + 77, i, count = 0;

	/* More than a pass at once, matches placed across the passes. */
	big = malloc(n + 1);
	for (i = 0; i < n; i++)
		big[i] = 'x';
	for (i = 10; i + 19 < n; i += SITE_RW_CHUNK - 7) {
		memcpy(big + i, p[0], 19);
		count++;
	}
	big[n] = '\0';
	buf_reset(&out);
	site_rw_init(&rw, site_rw_to_buf, &out);
	ck_assert_int_eq(site_rw_add(&rw, p[0], p[1]), 0);
	ck_assert_int_eq(site_rw_feed(&rw, big, n), 0);
	ck_assert_int_eq(site_rw_finish(&rw), 0);
	ck_assert_int_eq(out.len, n - count * 10);
	site_rw_free(&rw);
	free(big);
}
END_TEST

static int
refuse(void *ctx, const char *p, size_t n)
{
	(void)p;
	(void)n;
	return ++*(int *)ctx > 1;
}

START_TEST(limits_and_failure)
{
	struct site_rw rw;
	char longp[SITE_RW_FROM_MAX + 1];
	int calls = 0, i;

	site_rw_init(&rw, site_rw_to_buf, &out);
	ck_assert_int_eq(site_rw_add(&rw, "", "x"), -1);
	ck_assert_int_eq(site_rw_add(&rw, NULL, "x"), -1);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_int_eq(site_rw_add(&rw, longp, "x"), -1);
	for (i = 0; i < SITE_RW_PATTERNS; i++)
		ck_assert_int_eq(site_rw_add(&rw, "p", "q"), 0);
	ck_assert_int_eq(site_rw_add(&rw, "p", "q"), -1);
	site_rw_free(&rw);

	site_rw_init(&rw, site_rw_to_buf, &out);
	ck_assert_int_eq(site_rw_add(&rw, "a", "b"), 0);
	ck_assert_int_eq(site_rw_feed(&rw, "x", 1), 0);
	/* The window is sized by the patterns: none after the first feed. */
	ck_assert_int_eq(site_rw_add(&rw, "c", "d"), -1);
	site_rw_free(&rw);

	/* An output that fails stops it, and it stays stopped. */
	site_rw_init(&rw, refuse, &calls);
	ck_assert_int_eq(site_rw_add(&rw, "a", "b"), 0);
	ck_assert_int_eq(site_rw_feed(&rw, "xxaxx", 5), -1);
	ck_assert_int_eq(site_rw_feed(&rw, "yy", 2), -1);
	ck_assert_int_eq(site_rw_finish(&rw), -1);
	site_rw_free(&rw);
	/* No patterns: a plain pass-through. */
	buf_reset(&out);
	site_rw_init(&rw, site_rw_to_buf, &out);
	ck_assert_int_eq(site_rw_feed(&rw, "as is", 5), 0);
	ck_assert_int_eq(site_rw_finish(&rw), 0);
	ck_assert_str_eq(out.p, "as is");
	site_rw_free(&rw);
}
END_TEST

static const char *
hosts(const struct site_hosts *h, const char *in)
{
	struct site_rw rw;
	struct arena a;

	arena_init(&a, 0);
	buf_reset(&out);
	site_rw_init(&rw, site_rw_to_buf, &out);
	ck_assert_int_eq(site_rw_hosts(&rw, &a, h), 0);
	ck_assert_int_eq(site_rw_feed(&rw, in, strlen(in)), 0);
	ck_assert_int_eq(site_rw_finish(&rw), 0);
	site_rw_free(&rw);
	arena_free(&a);
	return out.p;
}

START_TEST(host_set)
{
	struct site_hosts h;

	memset(&h, 0, sizeof(h));
	h.origin = "https://gw.example:8443";
	h.host = "gw.example:8443";
	h.base = "https://chatgpt.com";
	h.file_host = "";
	h.voice_host = NULL;
	ck_assert_str_eq(hosts(&h, "https://chatgpt.com/c/1 "
	    "https://cdn.oaistatic.com/assets/a.js https://ab.chatgpt.com/v1/"
	    " //chatgpt.com/ces/v1 https://web-sandbox.oaiusercontent.com/s "
	    "https://files.oaiusercontent.com/f wss://webrtc.chatgpt.com/r"),
	    "https://gw.example:8443/c/1 https://gw.example:8443/assets/a.js "
	    "https://gw.example:8443/v1/ //gw.example:8443/ces/v1 "
	    "https://gw.example:8443/sandbox/s https://files.oaiusercontent."
	    "com/f wss://webrtc.chatgpt.com/r");
	h.file_host = "files.gw.example";
	h.voice_host = "voice.gw.example";
	ck_assert_str_eq(hosts(&h, "https://files.oaiusercontent.com/f "
	    "wss://webrtc.chatgpt.com/r"), "https://files.gw.example/f "
	    "wss://voice.gw.example/r");
	/* public-api answers keep the site's own hosts. */
	h.public_api = 1;
	ck_assert_str_eq(hosts(&h, "https://chatgpt.com/g/1 "
	    "https://web-sandbox.oaiusercontent.com/s https://cdn.oaistatic."
	    "com/a"), "https://chatgpt.com/g/1 https://web-sandbox."
	    "oaiusercontent.com/s https://gw.example:8443/a");
	h.public_api = 0;
	/* A sandbox page loads its assets from under /sandbox. */
	h.sandbox = 1;
	ck_assert_str_eq(hosts(&h, "<script src=\"/assets/x.js\">"),
	    "<script src=\"/sandbox/assets/x.js\">");
	h.sandbox = 0;
	/* Another base is the site itself. */
	h.base = "http://127.0.0.1:5000";
	ck_assert_str_eq(hosts(&h, "http://127.0.0.1:5000/backend-api/x "
	    "https://chatgpt.com/y"), "https://gw.example:8443/backend-api/x "
	    "https://gw.example:8443/y");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("site_rewrite");
	TCase *t = tcase_create("rewrite");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, basics);
	tcase_add_test(t, longest_wins);
	tcase_add_test(t, secret_and_hosts);
	tcase_add_test(t, streams_at_once);
	tcase_add_test(t, big_input);
	tcase_add_test(t, limits_and_failure);
	tcase_add_test(t, host_set);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
