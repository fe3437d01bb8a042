/*
 * fuzz_sse.c - libFuzzer driver for upstream/sse.c.
 *
 * Differential oracle: the input is parsed once in one piece and once cut
 * into chunks chosen by the input itself; both runs must produce the same
 * events, the same error and the same end-of-input verdict.  The sanitizers
 * catch memory errors.
 *
 * Input layout: byte 0 selects the event size limit, bytes 1..4 seed the
 * chunk sizes, the rest is the stream.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *       fuzz/fuzz_sse.c upstream/sse.c -o fuzz_sse
 *   ./fuzz_sse -max_total_time=60 fuzz/corpus/sse
 *
 * Without libFuzzer, -DFUZZ_STANDALONE adds a main() that replays the
 * files named on the command line, or the whole seed corpus when run
 * without arguments (for "make check", gcc or valgrind).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/sse.h"

struct log {
	unsigned char	*buf;
	size_t		 len, cap;
	size_t		 events;
	size_t		 abort_at;
};

static void
log_put(struct log *l, const void *p, size_t n)
{
	if (l->len + n > l->cap) {
		size_t	 ncap = l->cap ? l->cap : 256;

		while (ncap < l->len + n)
			ncap *= 2;
		if ((l->buf = realloc(l->buf, ncap)) == NULL)
			abort();
		l->cap = ncap;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

static int
log_cb(void *ctx, const char *name, const char *data, size_t len)
{
	struct log	*l = ctx;

	if (data[len] != '\0' || strlen(name) > SSE_NAME_MAX)
		abort();
	log_put(l, name, strlen(name) + 1);
	log_put(l, &len, sizeof(len));
	log_put(l, data, len);
	l->events++;
	return l->abort_at != 0 && l->events == l->abort_at;
}

struct outcome {
	struct log	 log;
	enum sse_err	 feed_err;
	enum sse_err	 finish_err;
	bool		 midline;
};

static void
run(struct outcome *o, const uint8_t *s, size_t len, size_t max_event,
    uint32_t seed, bool chunked)
{
	struct sse_parser	 p;
	size_t			 at = 0;

	sse_init(&p, log_cb, &o->log, max_event);
	o->feed_err = SSE_OK;
	while (at < len) {
		size_t		 n = len - at;
		enum sse_err	 rc;

		if (chunked) {
			/* xorshift32: small chunks, sometimes empty ones. */
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			if (n > seed % 17)
				n = seed % 17;
		}
		rc = sse_feed(&p, s + at, n);
		at += n;
		if (rc != SSE_OK) {
			o->feed_err = rc;
			break;
		}
	}
	o->midline = false;
	o->finish_err = sse_finish(&p, &o->midline);
	sse_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome	 a, b;
	size_t		 max_event;
	uint32_t	 seed;

	if (size < 5)
		return 0;
	/* Mostly tiny limits so SSE_TOOBIG paths get exercised too. */
	max_event = data[0] < 128 ? (size_t)data[0] + 1 : 0;
	seed = (uint32_t)data[1] | (uint32_t)data[2] << 8 |
	    (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
	seed |= 1;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.log.abort_at = b.log.abort_at = data[1] % 8;
	run(&a, data + 5, size - 5, max_event, seed, false);
	run(&b, data + 5, size - 5, max_event, seed, true);

	if (a.log.len != b.log.len ||
	    (a.log.len && memcmp(a.log.buf, b.log.buf, a.log.len) != 0) ||
	    a.feed_err != b.feed_err || a.finish_err != b.finish_err ||
	    (a.feed_err == SSE_OK && a.midline != b.midline))
		abort();
	free(a.log.buf);
	free(b.log.buf);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "sse"
#include "fuzz/replay.h"
#endif
