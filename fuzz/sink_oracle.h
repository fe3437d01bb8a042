/*
 * sink_oracle.h - what the stream decoders' unit tests and fuzz drivers
 * check alike: text handed to a sink is valid UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), and the upstream
 * body is fed whole or in pieces chosen from a hash of it, so that a run
 * can show chunking is invisible.  Inline, so a program takes only what
 * it uses.
 */
#ifndef FUZZ_SINK_ORACLE_H
#define FUZZ_SINK_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool
oracle_utf8(const void *s, size_t n)
{
	const unsigned char *u = s;
	size_t i, j, k;

	for (i = 0; i < n; i += k) {
		k = u[i] < 0x80 ? 1 : u[i] < 0xc2 ? 0 : u[i] < 0xe0 ? 2 :
		    u[i] < 0xf0 ? 3 : u[i] < 0xf5 ? 4 : 0;
		if (k == 0 || i + k > n)
			return false;
		for (j = 1; j < k; j++)
			if ((u[i + j] & 0xc0) != 0x80)
				return false;
		if (k > 2 && ((u[i] == 0xe0 && u[i + 1] < 0xa0) ||
		    (u[i] == 0xed && u[i + 1] > 0x9f) ||
		    (u[i] == 0xf0 && u[i + 1] < 0x90) ||
		    (u[i] == 0xf4 && u[i + 1] > 0x8f)))
			return false;
	}
	return true;
}

/* FNV-1a: options and chunking taken from the input itself. */
static inline uint32_t
oracle_hash(const uint8_t *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *s++) * 16777619u;
	return h;
}

/*
 * The size of the next piece of the left bytes: all of them when
 * *chunks is 0, else 1 to 16 from an LCG stepped over *chunks.
 */
static inline size_t
oracle_step(uint32_t *chunks, size_t left)
{
	size_t step;

	if (*chunks == 0)
		return left;
	step = 1 + (*chunks & 15);
	*chunks = *chunks * 1103515245u + 12345u;
	return step < left ? step : left;
}

#endif
