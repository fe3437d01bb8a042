/*
 * fuzz_gateway.c - libFuzzer driver for the gateway's parsers of upstream
 * bytes: the streaming host/secret rewriter (upstream/chatgpt/
 * site_rewrite.c), the page's React Router context
 * (site_ctx.c), the conversation stream capture (site_capture.c), and
 * the path readers of the proxy (site_route, gw_conv_id_of).
 *
 * Byte 0 of the input picks the target, byte 1 a split point, the rest
 * is the input.  Oracles besides the sanitizers:
 *  - rewriter: up to four patterns (NUL-separated before a 0x01 byte)
 *    rewrite the text the same whether it is fed whole, split at the
 *    split point, or byte by byte, and the same as a plain one-piece
 *    leftmost-longest replacement;
 *  - page: a page that injects fine injects fine again with the same
 *    count of accessToken entries, and its output never carries
 *    "</script" inside a rewritten context;
 *  - capture: whole or split, the same id and title; an id is always of
 *    the allowed shape;
 *  - paths: a routed path keeps its leading '/', a conversation id is
 *    36 characters; logins: every seed name is a valid login.
 *
 *   mkdir /tmp/fz && cd /tmp/fz && CC=clang CFLAGS='-g -O1
 *       -fsanitize=fuzzer-no-link,address,undefined' SRC/configure -q &&
 *       make libchat2api.a
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -ISRC
 *       SRC/fuzz/fuzz_gateway.c libchat2api.a $(pkg-config --libs fcgi
 *       libcurl json-c libcrypto lmdb) -lm -lpthread -o fuzz_gateway
 *   ./fuzz_gateway -max_total_time=300 /tmp/fz/corpus SRC/fuzz/corpus/gateway
 *
 * Without libFuzzer, -DFUZZ_STANDALONE adds a main() that replays the
 * files named on the command line, or $top_srcdir/fuzz/corpus/gateway.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "handlers/gateway.h"
#include "upstream/chatgpt/site.h"

#define CHECK(c)	do { if (!(c)) { fprintf(stderr, "fuzz_gateway: %s:%d: %s\n", \
			    __FILE__, __LINE__, #c); abort(); } } while (0)

#define PATS_MAX	4

static int
to_buf(void *b, const char *p, size_t n)
{
	return buf_add(b, p, n);
}

/* mode 0: whole, 1: split at `at`, 2: byte by byte. */
static void
rewrite(char **pat, size_t npat, const char *s, size_t n, size_t at,
    int mode, struct buf *out)
{
	struct site_rw rw;
	size_t i;

	site_rw_init(&rw, to_buf, out);
	for (i = 0; i < npat; i++)
		CHECK(site_rw_add(&rw, pat[i], "<R>") == 0);
	if (mode == 0)
		CHECK(site_rw_feed(&rw, s, n) == 0);
	else if (mode == 1) {
		CHECK(site_rw_feed(&rw, s, at) == 0);
		CHECK(site_rw_feed(&rw, s + at, n - at) == 0);
	} else
		for (i = 0; i < n; i++)
			CHECK(site_rw_feed(&rw, s + i, 1) == 0);
	CHECK(site_rw_finish(&rw) == 0);
	site_rw_free(&rw);
}

static void
naive(char **pat, size_t npat, const char *s, size_t n, struct buf *out)
{
	size_t i = 0, k, best;

	while (i < n) {
		best = 0;
		for (k = 0; k < npat; k++)
			if (strlen(pat[k]) > best && strlen(pat[k]) <= n - i &&
			    memcmp(s + i, pat[k], strlen(pat[k])) == 0)
				best = strlen(pat[k]);
		if (best == 0) {
			buf_add(out, s + i++, 1);
			continue;
		}
		buf_adds(out, "<R>");
		i += best;
	}
}

static void
fuzz_rewrite(const char *s, size_t n, size_t at)
{
	char *pat[PATS_MAX], *copy, *p, *end, *sep;
	struct buf a, b, c, d;
	size_t npat = 0, tlen;
	const char *text;

	/* "pat\0pat\0...\x01text": patterns, then the text. */
	if ((sep = memchr(s, 1, n)) == NULL)
		return;
	copy = strndup(s, (size_t)(sep - s));
	CHECK(copy != NULL);
	for (p = copy, end = copy + strlen(copy); p < end && npat < PATS_MAX;
	    p += strlen(p) + 1)
		if (*p)
			pat[npat++] = p;
	text = sep + 1;
	tlen = n - (size_t)(text - s);
	at = tlen ? at % (tlen + 1) : 0;
	buf_init(&a, 0);
	buf_init(&b, 0);
	buf_init(&c, 0);
	buf_init(&d, 0);
	rewrite(pat, npat, text, tlen, at, 0, &a);
	rewrite(pat, npat, text, tlen, at, 1, &b);
	rewrite(pat, npat, text, tlen, at, 2, &c);
	naive(pat, npat, text, tlen, &d);
	CHECK(a.len == b.len && a.len == c.len && a.len == d.len);
	CHECK(a.len == 0 || (memcmp(a.p, b.p, a.len) == 0 &&
	    memcmp(a.p, c.p, a.len) == 0 && memcmp(a.p, d.p, a.len) == 0));
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	buf_free(&d);
	free(copy);
}

static void
fuzz_page(const char *s, size_t n)
{
	struct site_page_opts o = { "the-seed", "en-US", "x@y", "N" };
	struct buf a, b;
	size_t n1 = 0, n2 = 0;
	const char *p;

	buf_init(&a, 0);
	buf_init(&b, 0);
	if (site_page_inject(&a, s, n, &o, &n1) == SITE_OK) {
		CHECK(site_page_inject(&b, a.p ? a.p : "", a.len, &o, &n2) ==
		    SITE_OK);
		CHECK(n1 == n2);
		/*
		 * What we wrote back cannot close a script element: each
		 * literal read as the injector reads them, one after the
		 * other (what a literal holds is not looked into again).
		 */
		for (p = a.p; p != NULL && (p = strstr(p,
		    "streamController.enqueue(")) != NULL; ) {
			const char *q = p + 25;
			while (*q == ' ' || *q == '\t' || *q == '\n' ||
			    *q == '\r' || *q == '\f' || *q == '\v')
				q++;
			p = q;
			if (*q++ != '"')
				continue;
			while (*q && *q != '"') {
				CHECK(*q != '<');
				q += *q == '\\' && q[1] ? 2 : 1;
			}
			p = *q ? q + 1 : q;
		}
	}
	buf_free(&a);
	buf_free(&b);
}

static void
capture(const char *s, size_t n, size_t at, struct site_cap *c)
{
	site_cap_init(c);
	site_cap_feed(c, s, at);
	site_cap_feed(c, s + at, n - at);
	site_cap_finish(c);
}

static void
fuzz_capture(const char *s, size_t n, size_t at)
{
	struct site_cap a, b;
	size_t i;

	capture(s, n, 0, &a);
	capture(s, n, n ? at % (n + 1) : 0, &b);
	CHECK(a.have_id == b.have_id && a.have_title == b.have_title);
	CHECK(!a.have_id || strcmp(a.conv_id, b.conv_id) == 0);
	CHECK(!a.have_title || strcmp(a.title, b.title) == 0);
	if (a.have_id) {
		CHECK(strlen(a.conv_id) > 0 && strlen(a.conv_id) <= SITE_ID_MAX);
		for (i = 0; a.conv_id[i]; i++)
			CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
			    "OPQRSTUVWXYZ0123456789-_", a.conv_id[i]) != NULL);
	}
	CHECK(strlen(a.title) <= SITE_TITLE_MAX);
	site_cap_free(&a);
	site_cap_free(&b);
}

static void
fuzz_paths(const char *s, size_t n)
{
	struct site_target t;
	struct arena a;
	const char *id;
	char *path;

	if ((path = strndup(s, n)) == NULL)
		return;
	if (site_route("https://chatgpt.com", path, &t) == 0)
		CHECK(t.path[0] == '/' && t.kind != SITE_NONE);
	if (site_route("http://127.0.0.1:1", path, &t) == 0)
		CHECK(strcmp(t.path, path) == 0);
	arena_init(&a, 0);
	if ((id = gw_conv_id_of(&a, path)) != NULL)
		CHECK(strlen(id) == 36);
	/* A seed is a login (the other way round it need not be). */
	if (seed_name_ok(path, strlen(path)))
		CHECK(gw_token_ok(path, strlen(path)));
	if (gw_token_ok(path, strlen(path)))
		CHECK(gw_classify(path) <= GW_SEED);
	arena_free(&a);
	free(path);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 2;
	size_t n, at;

	if (size < 2)
		return 0;
	n = size - 2;
	at = data[1];
	switch (data[0] % 4) {
	case 0:
		fuzz_rewrite(s, n, at);
		break;
	case 1:
		fuzz_page(s, n);
		break;
	case 2:
		fuzz_capture(s, n, at * 37);
		break;
	default:
		fuzz_paths(s, n);
		break;
	}
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS	"gateway"
#include "replay.h"
#endif
