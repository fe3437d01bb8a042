/*
 * pow.c - DeepSeekHashV1 proof of work; see pow.h and
 * protocols/providers.md §2.6.
 *
 * Shape, for speed: a try hashes prefix ‖ decimal(n), prefix = salt "_"
 * expire_at "_" fixed per challenge.  For the usual salt the message and
 * its padding fit one 136-byte block, and all of that block except the
 * one or two lanes that hold the digits and the 0x06 pad byte is the same
 * for every try.  So a try is: take a precomputed state, XOR two lanes,
 * run the 23 rounds.  A longer prefix absorbs its whole blocks once and
 * the state after them stands in for zero.  Tries are independent, so 8
 * (AVX-512) or 4 (AVX2) run side by side in SIMD lanes, picked at run
 * time; the portable code does one at a time.  The last round computes
 * only lane 0 (digest bytes 0..7), enough to reject a try; a lane that
 * passes is re-hashed in full before it is believed.
 *
 * A digit count whose digits or pad byte would spill into a further block
 * (a prefix ending just short of a block boundary) hashes each try in
 * full instead: correct, only slower.
 *
 * The round is written once, as a macro over the lane type of each path
 * (uint64_t, or a GCC vector of 4 or 8 of them); for AVX-512 GCC turns
 * its rotates and three-input logic into vprolq and vpternlogq.  Written
 * from FIPS 202 plus the §2.6 change; the unit tests hold every path to a
 * plain textbook Keccak.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/b64.h"
#include "fcgi/hex.h"
#include "pow.h"

#define DS_RATE		136	/* SHA3-256: (1600 - 2 * 256) / 8 bytes */
#define DS_RATE_W	(DS_RATE / 8)
#define DS_DIGITS_MAX	7	/* of DS_POW_DIFFICULTY_MAX - 1 */
#define DS_PREFIX_MAX	(DS_POW_SALT_MAX + 1 + 19 + 1)	/* 19: INT64_MAX */
#define DS_MSG_MAX	(DS_PREFIX_MAX + DS_DIGITS_MAX + 1)	/* + NUL */

/* The digits plus the pad byte must fit one 64-bit window (dec_window). */
_Static_assert(DS_POW_DIFFICULTY_MAX <= 10000000L,
    "decimal(n) must fit DS_DIGITS_MAX digits");

/* RC[0..23] of FIPS 202; DeepSeekHashV1 runs rounds 1..23. */
static const uint64_t ds_rc[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* ------------------------------------------------------------------ */
/* the permutation, for any lane type T */

#define RL(v, n)	(((v) << (n)) | ((v) >> (64 - (n))))
#define CHI(a, b, c)	((a) ^ (~(b) & (c)))

/* Locals a00..a24 hold lane x + 5y; they stay in registers. */
#define KECCAK_LOAD(T, s)						\
	T a00 = (s)[0], a01 = (s)[1], a02 = (s)[2], a03 = (s)[3];	\
	T a04 = (s)[4], a05 = (s)[5], a06 = (s)[6], a07 = (s)[7];	\
	T a08 = (s)[8], a09 = (s)[9], a10 = (s)[10], a11 = (s)[11];	\
	T a12 = (s)[12], a13 = (s)[13], a14 = (s)[14], a15 = (s)[15];	\
	T a16 = (s)[16], a17 = (s)[17], a18 = (s)[18], a19 = (s)[19];	\
	T a20 = (s)[20], a21 = (s)[21], a22 = (s)[22], a23 = (s)[23];	\
	T a24 = (s)[24]

#define KECCAK_STORE(s) do {						\
	(s)[0] = a00; (s)[1] = a01; (s)[2] = a02; (s)[3] = a03;		\
	(s)[4] = a04; (s)[5] = a05; (s)[6] = a06; (s)[7] = a07;		\
	(s)[8] = a08; (s)[9] = a09; (s)[10] = a10; (s)[11] = a11;	\
	(s)[12] = a12; (s)[13] = a13; (s)[14] = a14; (s)[15] = a15;	\
	(s)[16] = a16; (s)[17] = a17; (s)[18] = a18; (s)[19] = a19;	\
	(s)[20] = a20; (s)[21] = a21; (s)[22] = a22; (s)[23] = a23;	\
	(s)[24] = a24;							\
} while (0)

/* Column parities C[x] and D[x] = C[x-1] ^ rotl(C[x+1], 1) of θ. */
#define KECCAK_THETA(T)							\
	T c0 = a00 ^ a05 ^ a10 ^ a15 ^ a20;				\
	T c1 = a01 ^ a06 ^ a11 ^ a16 ^ a21;				\
	T c2 = a02 ^ a07 ^ a12 ^ a17 ^ a22;				\
	T c3 = a03 ^ a08 ^ a13 ^ a18 ^ a23;				\
	T c4 = a04 ^ a09 ^ a14 ^ a19 ^ a24;				\
	T d0 = c4 ^ RL(c1, 1), d1 = c0 ^ RL(c2, 1);			\
	T d2 = c1 ^ RL(c3, 1), d3 = c2 ^ RL(c4, 1);			\
	T d4 = c3 ^ RL(c0, 1)

/* One round: θ; ρ and π as B[y, 2x + 3y] = rotl(A[x, y], r[x][y]); χ; ι. */
#define KECCAK_ROUND(T, rc) do {					\
	KECCAK_THETA(T);						\
	T b00 = a00 ^ d0, b01 = RL(a06 ^ d1, 44);			\
	T b02 = RL(a12 ^ d2, 43), b03 = RL(a18 ^ d3, 21);		\
	T b04 = RL(a24 ^ d4, 14), b05 = RL(a03 ^ d3, 28);		\
	T b06 = RL(a09 ^ d4, 20), b07 = RL(a10 ^ d0, 3);		\
	T b08 = RL(a16 ^ d1, 45), b09 = RL(a22 ^ d2, 61);		\
	T b10 = RL(a01 ^ d1, 1), b11 = RL(a07 ^ d2, 6);			\
	T b12 = RL(a13 ^ d3, 25), b13 = RL(a19 ^ d4, 8);		\
	T b14 = RL(a20 ^ d0, 18), b15 = RL(a04 ^ d4, 27);		\
	T b16 = RL(a05 ^ d0, 36), b17 = RL(a11 ^ d1, 10);		\
	T b18 = RL(a17 ^ d2, 15), b19 = RL(a23 ^ d3, 56);		\
	T b20 = RL(a02 ^ d2, 62), b21 = RL(a08 ^ d3, 55);		\
	T b22 = RL(a14 ^ d4, 39), b23 = RL(a15 ^ d0, 41);		\
	T b24 = RL(a21 ^ d1, 2);					\
	a00 = CHI(b00, b01, b02) ^ (rc); a01 = CHI(b01, b02, b03);	\
	a02 = CHI(b02, b03, b04); a03 = CHI(b03, b04, b00);		\
	a04 = CHI(b04, b00, b01);					\
	a05 = CHI(b05, b06, b07); a06 = CHI(b06, b07, b08);		\
	a07 = CHI(b07, b08, b09); a08 = CHI(b08, b09, b05);		\
	a09 = CHI(b09, b05, b06);					\
	a10 = CHI(b10, b11, b12); a11 = CHI(b11, b12, b13);		\
	a12 = CHI(b12, b13, b14); a13 = CHI(b13, b14, b10);		\
	a14 = CHI(b14, b10, b11);					\
	a15 = CHI(b15, b16, b17); a16 = CHI(b16, b17, b18);		\
	a17 = CHI(b17, b18, b19); a18 = CHI(b18, b19, b15);		\
	a19 = CHI(b19, b15, b16);					\
	a20 = CHI(b20, b21, b22); a21 = CHI(b21, b22, b23);		\
	a22 = CHI(b22, b23, b24); a23 = CHI(b23, b24, b20);		\
	a24 = CHI(b24, b20, b21);					\
} while (0)

/*
 * The permutation on LANES independent states s[lane][25]: the tests
 * hold each path to the reference through it, and the scalar one is the
 * hash of ds_pow_hash.  Defined by a macro because C has no templates.
 */
#define DS_PERM_DEFINE(name, T, LANES)					\
static void								\
name(uint64_t (*s)[25])							\
{									\
	T	 v[25];							\
	int	 i, w;							\
									\
	for (w = 0; w < 25; w++) {					\
		uint64_t l[LANES];					\
									\
		for (i = 0; i < LANES; i++)				\
			l[i] = s[i][w];					\
		memcpy(&v[w], l, sizeof(v[w]));				\
	}								\
	{								\
		KECCAK_LOAD(T, v);					\
		for (int r = 1; r < 24; r++)				\
			KECCAK_ROUND(T, ds_rc[r]);			\
		KECCAK_STORE(v);					\
	}								\
	for (w = 0; w < 25; w++) {					\
		uint64_t l[LANES];					\
									\
		memcpy(l, &v[w], sizeof(v[w]));				\
		for (i = 0; i < LANES; i++)				\
			s[i][w] = l[i];					\
	}								\
}

/* ------------------------------------------------------------------ */
/* the sponge, one message at a time */

static inline uint64_t
ld64le(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void
ds_block_words(uint64_t w[DS_RATE_W], const unsigned char blk[DS_RATE])
{
	for (int i = 0; i < DS_RATE_W; i++)
		w[i] = ld64le(blk + 8 * i);
}

DS_PERM_DEFINE(ds_perm_x1, uint64_t, 1)

/* Absorb whole blocks p[0 .. nblk * DS_RATE) into st. */
static void
ds_absorb(uint64_t st[25], const unsigned char *p, size_t nblk)
{
	uint64_t	 w[DS_RATE_W];

	for (size_t b = 0; b < nblk; b++, p += DS_RATE) {
		ds_block_words(w, p);
		for (int i = 0; i < DS_RATE_W; i++)
			st[i] ^= w[i];
		ds_perm_x1((uint64_t (*)[25])st);
	}
}

/* Absorb the last n bytes of a message into st, pad, squeeze the digest. */
static void
ds_finish(uint64_t st[25], const unsigned char *p, size_t n,
    unsigned char out[DS_POW_HASH_LEN])
{
	unsigned char	 last[DS_RATE];
	size_t		 whole = n / DS_RATE;

	ds_absorb(st, p, whole);
	n -= whole * DS_RATE;
	memset(last, 0, sizeof(last));
	if (n > 0)
		memcpy(last, p + whole * DS_RATE, n);
	last[n] = 0x06;			/* SHA3 domain bits + first pad bit */
	last[DS_RATE - 1] |= 0x80;	/* last pad bit */
	ds_absorb(st, last, 1);
	for (int i = 0; i < DS_POW_HASH_LEN; i++)
		out[i] = (unsigned char)(st[i / 8] >> (8 * (i % 8)));
}

void
ds_pow_hash(const void *msg, size_t len, unsigned char out[DS_POW_HASH_LEN])
{
	uint64_t	 st[25] = { 0 };

	ds_finish(st, msg, len, out);
}

/* ------------------------------------------------------------------ */
/* decimal counters */

/*
 * A counter keeps decimal digit k (units first) in byte k, stored as
 * digit + 0xf6: a byte that passes 9 wraps and carries into the next one
 * just as binary addition does, so adding k <= 9 is an add plus a fix-up
 * of the bytes that wrapped (high bit now clear) back to digit + 0xf6.
 */
#define DEC_ZERO	0xf6f6f6f6f6f6f6f6ULL
#define DEC_HIGH	0x8080808080808080ULL
#define DEC_ASCII	0xc6c6c6c6c6c6c6c6ULL	/* 0xf6 - '0' per byte */

static inline uint64_t
dec_init(long n)
{
	uint64_t	 c = DEC_ZERO;

	for (int k = 0; n > 0; k++, n /= 10)
		c += (uint64_t)(n % 10) << (8 * k);
	return c;
}

static inline uint64_t
dec_add(uint64_t c, unsigned k)
{
	uint64_t	 t = c + k;
	uint64_t	 m = ~t & DEC_HIGH;

	/* (m << 1) - (m >> 7) is 0xff in exactly the wrapped bytes */
	return t + (((m << 1) - (m >> 7)) & DEC_ZERO);
}

/* The `digits` low digits, most significant first, then the 0x06 pad. */
static inline uint64_t
dec_window(uint64_t c, int digits)
{
	uint64_t	 a = __builtin_bswap64(c - DEC_ASCII);

	return a >> (8 * (8 - digits)) | (uint64_t)0x06 << (8 * digits);
}

/* ------------------------------------------------------------------ */
/* the solver */

struct ds_job {
	unsigned char	 msg[DS_MSG_MAX];	/* prefix, room for digits */
	size_t		 plen;			/* prefix bytes */
	size_t		 whole;		/* of them, in blocks absorbed in base */
	uint64_t	 base[25];
	unsigned char	 want[DS_POW_HASH_LEN];	/* hex-decoded challenge */
};

/* All n with the same digit count, when they fit one final block. */
struct ds_group {
	const struct ds_job	*job;
	uint64_t		 k[25];	/* base ^ final block without digits */
	uint64_t		 want0;	/* digest lane 0 that we look for */
	int			 digits;
	int			 lane;	/* first lane the digits touch */
	unsigned		 shift;	/* their bit offset in it */
};

/* Full hash of prefix ‖ decimal(n), compared with the challenge. */
static bool
ds_try(const struct ds_job *job, long n)
{
	unsigned char	 msg[DS_MSG_MAX], h[DS_POW_HASH_LEN];
	uint64_t	 st[25];
	int		 len;

	memcpy(msg, job->msg, job->plen);
	len = snprintf((char *)msg + job->plen, DS_DIGITS_MAX + 1, "%ld", n);
	memcpy(st, job->base, sizeof(st));
	ds_finish(st, msg + job->whole, job->plen - job->whole + (size_t)len,
	    h);
	return memcmp(h, job->want, sizeof(h)) == 0;
}

/* Tries of one digit count that spill into a further block, one by one. */
static long
ds_scan_slow(const struct ds_job *job, long from, long to)
{
	for (long n = from; n < to; n++)
		if (ds_try(job, n))
			return n;
	return -1;
}

/* Set g up for `digits`-digit tries; false if they need a further block. */
static bool
ds_group_init(struct ds_group *g, const struct ds_job *job, int digits)
{
	unsigned char	 blk[DS_RATE];
	uint64_t	 w[DS_RATE_W];
	size_t		 off = job->plen - job->whole;

	if (off + (size_t)digits + 1 > DS_RATE)
		return false;
	memset(blk, 0, sizeof(blk));
	memcpy(blk, job->msg + job->whole, off);
	blk[DS_RATE - 1] = 0x80;	/* the digits window XORs in the 0x06 */
	ds_block_words(w, blk);
	for (int i = 0; i < 25; i++)
		g->k[i] = job->base[i] ^ (i < DS_RATE_W ? w[i] : 0);
	g->job = job;
	g->want0 = ld64le(job->want);
	g->digits = digits;
	g->lane = (int)(off / 8);
	g->shift = (unsigned)(off % 8) * 8;
	return true;
}

/*
 * The smallest n in [from, to) of group g that hashes to the challenge,
 * or -1; LANES tries per step, lane i trying n + i.  The window of digits
 * and pad byte straddles lanes g->lane and g->lane + 1 (the high part is
 * 0 when it does not, and g->lane + 1 <= 17 is still inside the state).
 * Lanes past `to` compute garbage that is never looked at.
 */
#define DS_SCAN_DEFINE(name, T, LANES)					\
static long								\
name(const struct ds_group *g, long from, long to)			\
{									\
	T		 k[25], st[25], v;				\
	uint64_t	 lo[LANES], hi[LANES], h[LANES], ctr;		\
	int		 i, w;						\
									\
	for (w = 0; w < 25; w++)					\
		k[w] = (T){ 0 } + g->k[w];				\
	ctr = dec_init(from);						\
	for (long n = from; n < to; n += LANES) {			\
		for (i = 0; i < LANES; i++) {				\
			uint64_t x = dec_window(dec_add(ctr,		\
			    (unsigned)i), g->digits);			\
									\
			lo[i] = x << g->shift;				\
			hi[i] = x >> (63 - g->shift) >> 1;		\
		}							\
		ctr = dec_add(ctr, LANES);				\
		memcpy(st, k, sizeof(st));				\
		memcpy(&v, lo, sizeof(v));				\
		st[g->lane] ^= v;					\
		memcpy(&v, hi, sizeof(v));				\
		st[g->lane + 1] ^= v;					\
		{							\
			KECCAK_LOAD(T, st);				\
			for (int r = 1; r < 23; r++)			\
				KECCAK_ROUND(T, ds_rc[r]);		\
			{	/* round 23, lane 0 only */		\
				KECCAK_THETA(T);			\
				T b0 = a00 ^ d0;			\
				T b1 = RL(a06 ^ d1, 44);		\
				T b2 = RL(a12 ^ d2, 43);		\
									\
				(void)d3;				\
				(void)d4;				\
				v = CHI(b0, b1, b2) ^ ds_rc[23];	\
			}						\
		}							\
		memcpy(h, &v, sizeof(h));				\
		for (i = 0; i < LANES; i++)				\
			if (h[i] == g->want0 && n + i < to &&		\
			    ds_try(g->job, n + i))			\
				return n + i;				\
	}								\
	return -1;							\
}

DS_SCAN_DEFINE(ds_scan_x1, uint64_t, 1)

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define DS_HAVE_X86	1

/*
 * The macros above, compiled for wider vectors under a target attribute;
 * __builtin_cpu_supports (which also checks that the OS saves the wider
 * registers) picks one at run time, so the binary still runs on any
 * x86-64.
 */
typedef uint64_t kv4 __attribute__((vector_size(32)));
typedef uint64_t kv8 __attribute__((vector_size(64)));

__attribute__((target("avx2")))
DS_PERM_DEFINE(ds_perm_x4, kv4, 4)
__attribute__((target("avx2")))
DS_SCAN_DEFINE(ds_scan_x4, kv4, 4)
__attribute__((target("avx512f")))
DS_PERM_DEFINE(ds_perm_x8, kv8, 8)
__attribute__((target("avx512f")))
DS_SCAN_DEFINE(ds_scan_x8, kv8, 8)

static bool
ds_cpu_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}

static bool
ds_cpu_avx512(void)
{
	return __builtin_cpu_supports("avx512f");
}
#endif

static bool
ds_cpu_any(void)
{
	return true;
}

/* The code paths, best first; ds_impl_best() takes the first usable. */
struct ds_impl {
	const char	*name;
	int		 lanes;
	bool		 (*usable)(void);
	void		 (*perm)(uint64_t (*)[25]);
	long		 (*scan)(const struct ds_group *, long, long);
};

static const struct ds_impl ds_impls[] = {
#ifdef DS_HAVE_X86
	{ "avx512", 8, ds_cpu_avx512, ds_perm_x8, ds_scan_x8 },
	{ "avx2", 4, ds_cpu_avx2, ds_perm_x4, ds_scan_x4 },
#endif
	{ "scalar", 1, ds_cpu_any, ds_perm_x1, ds_scan_x1 },
};
#define DS_NIMPLS	(sizeof(ds_impls) / sizeof(ds_impls[0]))

static const struct ds_impl *
ds_impl_best(void)
{
	const struct ds_impl	*im = ds_impls;

	while (!im->usable())	/* the last, scalar, always is */
		im++;
	return im;
}

const char *
ds_pow_impl(void)
{
	return ds_impl_best()->name;
}

/* ------------------------------------------------------------------ */
/* validation */

/* 1..max bytes of printable ASCII that JSON can carry unescaped. */
static bool
ds_field_ok(const char *s, size_t max)
{
	size_t	 n;

	if (s == NULL || (n = strnlen(s, max + 1)) == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' ||
		    s[i] == '\\')
			return false;
	return true;
}

static enum ds_pow_err
ds_check(const struct ds_pow_challenge *ch)
{
	if (ch == NULL || ch->algorithm == NULL)
		return DS_POW_INVAL;
	if (strcmp(ch->algorithm, DS_POW_ALGORITHM) != 0)
		return DS_POW_ALGO;
	if (ch->challenge == NULL ||
	    strnlen(ch->challenge, DS_POW_CHALLENGE_LEN + 1) !=
	    DS_POW_CHALLENGE_LEN)
		return DS_POW_INVAL;
	for (int i = 0; i < DS_POW_CHALLENGE_LEN; i++)
		if (hex_value((unsigned char)ch->challenge[i]) < 0)
			return DS_POW_INVAL;
	if (!ds_field_ok(ch->salt, DS_POW_SALT_MAX) ||
	    !ds_field_ok(ch->signature, DS_POW_SIGNATURE_MAX) ||
	    !ds_field_ok(ch->target_path, DS_POW_PATH_MAX))
		return DS_POW_INVAL;
	if (ch->expire_at < 0 || ch->difficulty < 1 ||
	    ch->difficulty > DS_POW_DIFFICULTY_MAX)
		return DS_POW_INVAL;
	return DS_POW_OK;
}

/* ------------------------------------------------------------------ */
/* solve */

/* The prefix, its whole blocks absorbed, and the wanted digest. */
static void
ds_job_init(struct ds_job *job, const struct ds_pow_challenge *ch)
{
	int	 n;

	n = snprintf((char *)job->msg, sizeof(job->msg), "%s_%lld_",
	    ch->salt, (long long)ch->expire_at);
	job->plen = (size_t)n;	/* ds_check bounded it below DS_PREFIX_MAX */
	job->whole = job->plen / DS_RATE * DS_RATE;
	memset(job->base, 0, sizeof(job->base));
	ds_absorb(job->base, job->msg, job->whole / DS_RATE);
	for (int i = 0; i < DS_POW_HASH_LEN; i++)
		job->want[i] = (unsigned char)(
		    hex_value((unsigned char)ch->challenge[2 * i]) << 4 |
		    hex_value((unsigned char)ch->challenge[2 * i + 1]));
}

/*
 * Digit count by digit count, in increasing n, so the answer is the
 * smallest hit whatever the path.
 */
static enum ds_pow_err
ds_solve_with(const struct ds_pow_challenge *ch, const struct ds_impl *im,
    long *answer)
{
	struct ds_job	 job;
	struct ds_group	 g;
	enum ds_pow_err	 rc;
	long		 lo, p10, hi, n = -1;
	int		 d;

	if (answer == NULL)
		return DS_POW_INVAL;
	if ((rc = ds_check(ch)) != DS_POW_OK)
		return rc;
	ds_job_init(&job, ch);
	for (d = 1, lo = 0, p10 = 10; n < 0 && lo < ch->difficulty;
	    d++, lo = p10, p10 *= 10) {
		hi = p10 < ch->difficulty ? p10 : ch->difficulty;
		if (ds_group_init(&g, &job, d))
			n = im->scan(&g, lo, hi);
		else
			n = ds_scan_slow(&job, lo, hi);
	}
	if (n < 0)
		return DS_POW_NOTFOUND;
	*answer = n;
	return DS_POW_OK;
}

enum ds_pow_err
ds_pow_solve(const struct ds_pow_challenge *ch, long *answer)
{
	return ds_solve_with(ch, ds_impl_best(), answer);
}

/* ------------------------------------------------------------------ */
/* header */

enum ds_pow_err
ds_pow_header(const struct ds_pow_challenge *ch, long answer, char **out)
{
	static const char fmt[] = "{\"algorithm\":\"%s\",\"challenge\":\"%s\","
	    "\"salt\":\"%s\",\"answer\":%ld,\"signature\":\"%s\","
	    "\"target_path\":\"%s\"}";
	enum ds_pow_err	 rc;
	char		*json = NULL, *b64 = NULL;
	int		 n;

	if (out == NULL)
		return DS_POW_INVAL;
	*out = NULL;
	if ((rc = ds_check(ch)) != DS_POW_OK)
		return rc;
	if (answer < 0 || answer >= ch->difficulty)
		return DS_POW_INVAL;
	/* every field was checked: printable, no '"' or '\\', bounded */
	n = snprintf(NULL, 0, fmt, DS_POW_ALGORITHM, ch->challenge, ch->salt,
	    answer, ch->signature, ch->target_path);
	rc = DS_POW_ENOMEM;
	if (n < 0 || (json = malloc((size_t)n + 1)) == NULL ||
	    (b64 = malloc(B64_ENCLEN((size_t)n) + 1)) == NULL)
		goto fail;
	snprintf(json, (size_t)n + 1, fmt, DS_POW_ALGORITHM, ch->challenge,
	    ch->salt, answer, ch->signature, ch->target_path);
	b64[b64_encode(json, (size_t)n, b64)] = '\0';
	free(json);
	*out = b64;
	return DS_POW_OK;
fail:
	free(json);
	free(b64);
	return rc;
}

const char *
ds_pow_strerror(enum ds_pow_err e)
{
	static const char *const msg[DS_POW__MAX] = {
		[DS_POW_OK] = "success",
		[DS_POW_ENOMEM] = "out of memory",
		[DS_POW_ALGO] = "unsupported PoW algorithm "
		    "(want " DS_POW_ALGORITHM ")",
		[DS_POW_INVAL] = "invalid PoW challenge",
		[DS_POW_NOTFOUND] = "no PoW answer below the difficulty",
	};

	if ((unsigned)e >= DS_POW__MAX)
		return "unknown DeepSeek PoW error";
	return msg[e];
}
