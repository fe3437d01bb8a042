/*
 * What the stream decoders' unit tests share: a fixture read whole from
 * tests/unit/data/<dir>, and an upstream body fed through the SSE
 * re-framer cut once at a byte or in pieces, the way libcurl may hand it
 * over.  Header-only, like unit.h: each test program includes it once.
 */
#ifndef UNIT_STREAM_H
#define UNIT_STREAM_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "upstream/sse.h"

/* The file, NUL-terminated (its length in *lenp), or NULL if unreadable. */
static inline char *
unit_slurp(const char *dir, const char *name, size_t *lenp)
{
	const char	*top = getenv("top_srcdir");
	char		 path[1024], *buf;
	FILE		*f;
	long		 n;

	snprintf(path, sizeof(path), "%s/tests/unit/data/%s/%s",
	    top ? top : ".", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert((n = ftell(f)) >= 0);
	rewind(f);
	ck_assert_ptr_nonnull(buf = malloc((size_t)n + 1));
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

/*
 * buf[0..len) into p: in pieces of step bytes (0: whole), one of them
 * ending at cut; stops at the first error (the parser keeps it).
 */
static inline void
unit_sse_feed(struct sse_parser *p, const char *buf, size_t len, size_t cut,
    size_t step)
{
	size_t	 at, n;

	for (at = 0; at < len; at += n) {
		n = step != 0 ? step : len - at;
		if (at < cut && at + n > cut)
			n = cut - at;
		if (n > len - at)
			n = len - at;
		if (sse_feed(p, buf + at, n) != SSE_OK)
			break;
	}
}

#endif
