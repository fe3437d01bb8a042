/*
 * tools_bench.c - the cost of the tool-call scanner (handlers/tools_parse.c)
 * per streamed KiB of answer.
 *
 *   make bench/tools_bench
 *   ./bench/tools_bench [-k KIB] [-c CHUNK] [-r ROUNDS]
 *
 * Three answers of KIB KiB (default 1024): plain prose, prose with a '['
 * or '<' every 40 bytes or so (Markdown links, code, lists: the scanner's
 * slow path), and prose with a two-call bracket block after every KiB.
 * Each is fed in CHUNK-byte pieces (default 32, about what the upstreams
 * send per delta) ROUNDS times (default 20); the figure is the process
 * CPU time per KiB, best round, so a busy host inflates it less.  The
 * receiver only counts bytes and calls.  Exits 1 if a run loses text or
 * calls.  A fourth run is one call whose arguments hold a 64 KiB string
 * (a file a model writes): a call is decided when its end arrives, so
 * its bytes are rescanned as they come.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handlers/tools.h"

struct count {
	size_t	 text, calls;
};

static int
c_text(void *ctx, const char *s, size_t n)
{
	struct count *c = ctx;

	(void)s;
	c->text += n;
	return 0;
}

static int
c_call(void *ctx, const char *name, size_t nl, const char *a, size_t al)
{
	struct count *c = ctx;

	(void)name, (void)nl, (void)a, (void)al;
	c->calls++;
	return 0;
}

static const char prose[] = "The quick brown fox jumps over the lazy dog, "
    "and then it reads the weather report for the whole week ahead. ";
static const char marky[] = "See [the docs](https://example.com/a) or <b>x</b> "
    "and a[i] + b[j] = <c>; ";
static const char block[] = "\n[function_calls]\n"
    "[call:get_weather]{\"city\":\"Paris\",\"days\":[1,2,3]}[/call]\n"
    "[call:get_time]{\"city\":\"Rome\",\"tz\":\"CET\"}[/call]\n"
    "[/function_calls]\n";

/* kib KiB of pat, with blk after every KiB when given; *ncalls set. */
static char *
answer(size_t kib, const char *pat, const char *blk, size_t *len,
    size_t *ncalls)
{
	size_t cap = kib * 1024 + (blk ? kib * (strlen(blk) + 1) : 0) + 1024;
	size_t n = 0, next = 1024, pl = strlen(pat);
	char *s = malloc(cap);

	*ncalls = 0;
	if (s == NULL)
		exit(1);
	while (n + pl < kib * 1024) {
		memcpy(s + n, pat, pl);
		n += pl;
		if (blk != NULL && n >= next) {
			memcpy(s + n, blk, strlen(blk));
			n += strlen(blk);
			*ncalls += 2;
			next += 1024;
		}
	}
	*len = n;
	return s;
}

static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double
run(const char *label, const char *s, size_t n, size_t chunk, int rounds,
    size_t want_calls, size_t want_text)
{
	struct count c;
	struct tools_parse_cb cb = { &c, c_text, c_call };
	struct tools_parser p;
	double best = 0, t0, t;
	size_t at, step;
	int i;

	for (i = 0; i < rounds; i++) {
		memset(&c, 0, sizeof(c));
		t0 = cpu_ns();
		tools_parse_init(&p, &cb);
		p.max_calls = (size_t)-1;	/* not the per-answer cap */
		for (at = 0; at < n; at += step) {
			step = n - at < chunk ? n - at : chunk;
			if (tools_parse_feed(&p, s + at, step) != TOOLS_OK)
				exit(1);
		}
		if (tools_parse_end(&p) != TOOLS_OK)
			exit(1);
		tools_parse_free(&p);
		t = cpu_ns() - t0;
		if (i == 0 || t < best)
			best = t;
		if (c.calls != want_calls || (want_text && c.text != want_text)) {
			fprintf(stderr, "%s: %zu calls, %zu bytes of text\n",
			    label, c.calls, c.text);
			exit(1);
		}
	}
	printf("%-28s %8.0f ns/KiB  (%zu KiB, %zu-byte chunks, %zu calls)\n",
	    label, best / ((double)n / 1024), n / 1024, chunk, want_calls);
	return best;
}

int
main(int argc, char **argv)
{
	size_t kib = 1024, chunk = 32, n, calls;
	int rounds = 20, ch;
	char *s;

	while ((ch = getopt(argc, argv, "k:c:r:")) != -1) {
		switch (ch) {
		case 'k':
			kib = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			chunk = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: tools_bench [-k KIB] [-c CHUNK] "
			    "[-r ROUNDS]\n");
			return 2;
		}
	}
	if (kib == 0 || chunk == 0 || rounds < 1)
		return 2;
	s = answer(kib, prose, NULL, &n, &calls);
	run("plain text", s, n, chunk, rounds, 0, n);
	free(s);
	s = answer(kib, marky, NULL, &n, &calls);
	run("text with [ and <", s, n, chunk, rounds, 0, n);
	free(s);
	s = answer(kib, prose, block, &n, &calls);
	run("text + a 2-call block/KiB", s, n, chunk, rounds, calls, 0);
	free(s);
	n = 64 * 1024;
	if ((s = malloc(n + 64)) == NULL)
		return 1;
	memcpy(s, "[call:write]{\"text\":\"", 21);
	memset(s + 21, 'x', n - 21);
	memcpy(s + n, "\"}[/call]", 9);
	run("one call, 64 KiB arguments", s, n + 9, chunk, rounds, 1, 0);
	free(s);
	return 0;
}
