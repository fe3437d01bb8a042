#include "config.h"

#include <string.h>

#include <openssl/rand.h>

#include "fcgi/rand.h"

/* xoshiro256** state, one per thread. */
static __thread uint64_t	 s[4];
static __thread int		 seeded;

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
rnd_u64(void)
{
	uint64_t r, t;

	if (!seeded) {
		if (RAND_bytes((unsigned char *)s, sizeof(s)) != 1 ||
		    (s[0] | s[1] | s[2] | s[3]) == 0)
			s[0] = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)&r;
		seeded = 1;
	}
	r = rotl(s[1] * 5, 7) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

void
rnd_bytes(void *p, size_t n)
{
	unsigned char *o = p;
	uint64_t v;

	while (n > 0) {
		size_t k = n < 8 ? n : 8;
		v = rnd_u64();
		memcpy(o, &v, k);
		o += k;
		n -= k;
	}
}

uint64_t
rnd_below(uint64_t n)
{
	/* Rejection keeps it uniform; the loop almost never repeats. */
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;

	do
		v = rnd_u64();
	while (v >= lim);
	return v % n;
}
