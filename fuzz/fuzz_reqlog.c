/*
 * fuzz_reqlog.c - libFuzzer driver for the request log's record codec
 * (store/reqlog.c) and the body redaction (fcgi/redact.c).
 *
 * Oracles:
 *  - a record that decodes encodes back to the very same bytes;
 *  - redaction never answers more than max bytes, never ends inside a
 *    UTF-8 sequence it was given whole, and leaves no "sk-" key of 16 or
 *    more characters and no "Bearer <token>" in what it answers;
 *  - the sanitizers (no crash, no leak).
 *
 *   make fuzz-reqlog && mkdir -p /tmp/fr && \
 *       ./fuzz/fuzz_reqlog -max_total_time=60 /tmp/fr fuzz/corpus/reqlog
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/reqlog (make check).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/redact.h"
#include "store/reqlog.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
tokch(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~' || c == '+' || c == '/' || c == '=';
}

static void
no_secret_left(const char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i + 3 <= n; i++) {
		if (strncmp(s + i, "sk-", 3) != 0 || (i > 0 &&
		    tokch((unsigned char)s[i - 1])))
			continue;
		for (k = i; k < n && tokch((unsigned char)s[k]); k++)
			;
		if (k - i >= 19) {
			fprintf(stderr, "a key survived redaction\n");
			abort();
		}
	}
	for (i = 0; i + 7 < n; i++)
		if (strncasecmp(s + i, "bearer ", 7) == 0 &&
		    tokch((unsigned char)s[i + 7]) &&
		    strncmp(s + i + 7, REDACT_MARK, strlen(REDACT_MARK)) != 0) {
			fprintf(stderr, "a bearer token survived\n");
			abort();
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reqlog_entry e;
	struct arena a;
	unsigned char *buf;
	const char *out;
	size_t n, max;

	arena_init(&a, 0);
	if (reqlog_decode(&a, data, size, &e) == 0) {
		if ((buf = malloc(size + 1)) == NULL)
			abort();
		if (reqlog_encode(&e, buf, size + 1) != size ||
		    memcmp(buf, data, size) != 0) {
			fprintf(stderr, "record does not round-trip\n");
			abort();
		}
		free(buf);
	}
	max = size > 0 ? (size_t)data[0] * 4 + 1 : 1;
	if ((out = redact_text(&a, (const char *)data, size, max, &n)) ==
	    NULL)
		abort();
	if (n > max || strlen(out) > n)
		abort();
	no_secret_left(out, n);
	arena_free(&a);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "reqlog"
#include "fuzz/replay.h"
#endif
