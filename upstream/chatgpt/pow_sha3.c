/*
 * pow_sha3.c - the hash seam of the ChatGPT proof of work: one table
 * entry per algorithm (today SHA3-512), the OpenSSL EVP single-try
 * state, the 4-lane SIMD Keccak the solver batches tries on, and
 * pow_hash().
 *
 * A try's varying tail is ~7 SHA3-512 blocks (everything after config[3]),
 * so the Keccak permutation is the whole cost of a try.  Tries are
 * independent, so the solver hashes four at a time in SIMD lanes
 * (sha3_x4_*, AVX2 when the CPU has it); OpenSSL EVP does the odd single
 * try, pow_hash() and pow_verify(), and is the reference the tests hold
 * the 4-lane code to.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fcgi/b64.h"
#include "fcgi/hex.h"
#include "pow_internal.h"

/* ------------------------------------------------------------------ */
/* the hash seam */

/*
 * SHA3-512 four lanes at a time.  A try re-absorbs everything after the
 * nonce (7 of 8 blocks), so the permutation is the whole cost; OpenSSL
 * runs one lane, while 4 lanes of 64 bits fill an AVX2 register and give
 * about three times the throughput.  The code uses GCC vector extensions,
 * built twice: for AVX2 (picked at run time) and for the baseline ISA.
 * Written from FIPS 202; the tests compare it with OpenSSL.
 */
#if defined(__GNUC__) || defined(__clang__)
#define POW_HAVE_X4	1
#define SHA3_RATE	72	/* SHA3-512: 1600 - 2 * 512 bits */

typedef uint64_t kv4 __attribute__((vector_size(32)));

static const uint64_t keccak_rc[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

#define ROL(v, n)	(((v) << (n)) | ((v) >> (64 - (n))))

/* Keccak-f[1600] on 4 states; a[x + 5y].  Locals keep it in registers. */
static inline __attribute__((always_inline)) void
keccak_f4(kv4 *a)
{
	kv4	 a00 = a[0], a01 = a[1], a02 = a[2], a03 = a[3], a04 = a[4];
	kv4	 a05 = a[5], a06 = a[6], a07 = a[7], a08 = a[8], a09 = a[9];
	kv4	 a10 = a[10], a11 = a[11], a12 = a[12], a13 = a[13];
	kv4	 a14 = a[14], a15 = a[15], a16 = a[16], a17 = a[17];
	kv4	 a18 = a[18], a19 = a[19], a20 = a[20], a21 = a[21];
	kv4	 a22 = a[22], a23 = a[23], a24 = a[24];

	for (int r = 0; r < 24; r++) {
		kv4 c0 = a00 ^ a05 ^ a10 ^ a15 ^ a20;
		kv4 c1 = a01 ^ a06 ^ a11 ^ a16 ^ a21;
		kv4 c2 = a02 ^ a07 ^ a12 ^ a17 ^ a22;
		kv4 c3 = a03 ^ a08 ^ a13 ^ a18 ^ a23;
		kv4 c4 = a04 ^ a09 ^ a14 ^ a19 ^ a24;
		kv4 d0 = c4 ^ ROL(c1, 1), d1 = c0 ^ ROL(c2, 1);
		kv4 d2 = c1 ^ ROL(c3, 1), d3 = c2 ^ ROL(c4, 1);
		kv4 d4 = c3 ^ ROL(c0, 1);
		/* theta, rho and pi: b[y, 2x + 3y] = rot(a[x, y], r[x, y]) */
		kv4 b00 = a00 ^ d0, b01 = ROL(a06 ^ d1, 44);
		kv4 b02 = ROL(a12 ^ d2, 43), b03 = ROL(a18 ^ d3, 21);
		kv4 b04 = ROL(a24 ^ d4, 14), b05 = ROL(a03 ^ d3, 28);
		kv4 b06 = ROL(a09 ^ d4, 20), b07 = ROL(a10 ^ d0, 3);
		kv4 b08 = ROL(a16 ^ d1, 45), b09 = ROL(a22 ^ d2, 61);
		kv4 b10 = ROL(a01 ^ d1, 1), b11 = ROL(a07 ^ d2, 6);
		kv4 b12 = ROL(a13 ^ d3, 25), b13 = ROL(a19 ^ d4, 8);
		kv4 b14 = ROL(a20 ^ d0, 18), b15 = ROL(a04 ^ d4, 27);
		kv4 b16 = ROL(a05 ^ d0, 36), b17 = ROL(a11 ^ d1, 10);
		kv4 b18 = ROL(a17 ^ d2, 15), b19 = ROL(a23 ^ d3, 56);
		kv4 b20 = ROL(a02 ^ d2, 62), b21 = ROL(a08 ^ d3, 55);
		kv4 b22 = ROL(a14 ^ d4, 39), b23 = ROL(a15 ^ d0, 41);
		kv4 b24 = ROL(a21 ^ d1, 2);
		/* chi */
		a00 = b00 ^ (~b01 & b02); a01 = b01 ^ (~b02 & b03);
		a02 = b02 ^ (~b03 & b04); a03 = b03 ^ (~b04 & b00);
		a04 = b04 ^ (~b00 & b01);
		a05 = b05 ^ (~b06 & b07); a06 = b06 ^ (~b07 & b08);
		a07 = b07 ^ (~b08 & b09); a08 = b08 ^ (~b09 & b05);
		a09 = b09 ^ (~b05 & b06);
		a10 = b10 ^ (~b11 & b12); a11 = b11 ^ (~b12 & b13);
		a12 = b12 ^ (~b13 & b14); a13 = b13 ^ (~b14 & b10);
		a14 = b14 ^ (~b10 & b11);
		a15 = b15 ^ (~b16 & b17); a16 = b16 ^ (~b17 & b18);
		a17 = b17 ^ (~b18 & b19); a18 = b18 ^ (~b19 & b15);
		a19 = b19 ^ (~b15 & b16);
		a20 = b20 ^ (~b21 & b22); a21 = b21 ^ (~b22 & b23);
		a22 = b22 ^ (~b23 & b24); a23 = b23 ^ (~b24 & b20);
		a24 = b24 ^ (~b20 & b21);
		/* iota */
		a00 ^= keccak_rc[r];
	}
	a[0] = a00; a[1] = a01; a[2] = a02; a[3] = a03; a[4] = a04;
	a[5] = a05; a[6] = a06; a[7] = a07; a[8] = a08; a[9] = a09;
	a[10] = a10; a[11] = a11; a[12] = a12; a[13] = a13; a[14] = a14;
	a[15] = a15; a[16] = a16; a[17] = a17; a[18] = a18; a[19] = a19;
	a[20] = a20; a[21] = a21; a[22] = a22; a[23] = a23; a[24] = a24;
}

static inline __attribute__((always_inline)) uint64_t
ld64le(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/*
 * Start from base (the same state in every lane), absorb `blocks` padded
 * rate blocks from each of m[0..3], write four 64-byte digests.  Vectors
 * stay on the stack of this function so their alignment is the
 * compiler's business.
 */
static inline __attribute__((always_inline)) void
sha3_x4_body(const uint64_t base[25], unsigned char *const m[POW_LANES],
    size_t blocks, unsigned char out[POW_LANES][POW_DIGEST_MAX])
{
	kv4	 a[25];

	for (int w = 0; w < 25; w++)
		a[w] = (kv4){ base[w], base[w], base[w], base[w] };
	for (size_t b = 0; b < blocks; b++) {
		size_t	 off = b * SHA3_RATE;

		for (int w = 0; w < SHA3_RATE / 8; w++)
			a[w] ^= (kv4){ ld64le(m[0] + off + 8 * w),
			    ld64le(m[1] + off + 8 * w),
			    ld64le(m[2] + off + 8 * w),
			    ld64le(m[3] + off + 8 * w) };
		keccak_f4(a);
	}
	for (int l = 0; l < POW_LANES; l++)
		for (int w = 0; w < 8; w++)
			for (int k = 0; k < 8; k++)
				out[l][8 * w + k] =
				    (unsigned char)(a[w][l] >> (8 * k));
}

typedef void (*sha3_x4_fn)(const uint64_t *, unsigned char *const *,
    size_t, unsigned char (*)[POW_DIGEST_MAX]);

static void
sha3_x4_plain(const uint64_t base[25], unsigned char *const m[POW_LANES],
    size_t blocks, unsigned char out[POW_LANES][POW_DIGEST_MAX])
{
	sha3_x4_body(base, m, blocks, out);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static void
sha3_x4_avx2(const uint64_t base[25], unsigned char *const m[POW_LANES],
    size_t blocks, unsigned char out[POW_LANES][POW_DIGEST_MAX])
{
	sha3_x4_body(base, m, blocks, out);
}
#endif

static sha3_x4_fn
sha3_x4_pick(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (__builtin_cpu_supports("avx2"))
		return sha3_x4_avx2;
#endif
	return sha3_x4_plain;
}

/* One lane, for the prefix: absorb a full block into a scalar state. */
static void
sha3_block1(uint64_t st[25], const unsigned char *blk)
{
	kv4	 a[25];

	for (int w = 0; w < 25; w++) {
		uint64_t v = st[w];

		if (w < SHA3_RATE / 8)
			v ^= ld64le(blk + 8 * w);
		a[w] = (kv4){ v, v, v, v };
	}
	keccak_f4(a);
	for (int w = 0; w < 25; w++)
		st[w] = a[w][0];
}
#endif /* POW_HAVE_X4 */

struct sha3_state {
	EVP_MD		*md;	/* fetched once: no lookup per try */
	EVP_MD_CTX	*base;	/* has absorbed the prefix */
	EVP_MD_CTX	*work;	/* clone of base, per try */
#ifdef POW_HAVE_X4
	/* The same prefix for the 4-lane path: full blocks + the rest. */
	uint64_t	 kst[25];
	unsigned char	 pend[SHA3_RATE];
	size_t		 pend_len;
	unsigned char	*lane[POW_LANES];	/* pend ‖ tail ‖ padding */
	size_t		 lane_cap;
	sha3_x4_fn	 x4;
#endif
};

static void
sha3_free(void *p)
{
	struct sha3_state	*st = p;

	if (st == NULL)
		return;
	EVP_MD_CTX_free(st->work);
	EVP_MD_CTX_free(st->base);
	EVP_MD_free(st->md);
#ifdef POW_HAVE_X4
	for (int l = 0; l < POW_LANES; l++)
		free(st->lane[l]);
#endif
	free(st);
}

static enum pow_err
sha3_new(void **stp)
{
	struct sha3_state	*st;
	enum pow_err		 rc = POW_ECRYPTO;

	*stp = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return POW_ENOMEM;
	if ((st->md = EVP_MD_fetch(NULL, "SHA3-512", NULL)) == NULL)
		goto fail;
	if ((st->base = EVP_MD_CTX_new()) == NULL ||
	    (st->work = EVP_MD_CTX_new()) == NULL)
		goto fail;
#ifdef POW_HAVE_X4
	st->x4 = sha3_x4_pick();
#endif
	*stp = st;
	return POW_OK;
fail:
	sha3_free(st);
	return rc;
}

static enum pow_err
sha3_absorb(void *p, const void *data, size_t n)
{
	struct sha3_state	*st = p;

	if (EVP_DigestUpdate(st->base, data, n) != 1)
		return POW_ECRYPTO;
#ifdef POW_HAVE_X4
	{
		const unsigned char	*d = data;

		while (n > 0) {
			size_t	 k = SHA3_RATE - st->pend_len;

			if (k > n)
				k = n;
			memcpy(st->pend + st->pend_len, d, k);
			st->pend_len += k;
			d += k;
			n -= k;
			if (st->pend_len == SHA3_RATE) {
				sha3_block1(st->kst, st->pend);
				st->pend_len = 0;
			}
		}
	}
#endif
	return POW_OK;
}

static enum pow_err
sha3_begin(void *p, const void *data, size_t n)
{
	struct sha3_state	*st = p;

	if (EVP_DigestInit_ex(st->base, st->md, NULL) != 1)
		return POW_ECRYPTO;
#ifdef POW_HAVE_X4
	memset(st->kst, 0, sizeof(st->kst));
	st->pend_len = 0;
#endif
	return sha3_absorb(p, data, n);
}

static enum pow_err
sha3_digest(void *p, const void *tail, size_t n, unsigned char *out)
{
	struct sha3_state	*st = p;

	if (EVP_MD_CTX_copy_ex(st->work, st->base) != 1 ||
	    (n > 0 && EVP_DigestUpdate(st->work, tail, n) != 1) ||
	    EVP_DigestFinal_ex(st->work, out, NULL) != 1)
		return POW_ECRYPTO;
	return POW_OK;
}

#ifdef POW_HAVE_X4
static enum pow_err
sha3_digest_x4(void *p, char *const tail[POW_LANES],
    const size_t n[POW_LANES], unsigned char out[POW_LANES][POW_DIGEST_MAX])
{
	struct sha3_state	*st = p;
	size_t			 total, blocks, need;

	/* pad10*1 adds at least one byte, so blocks = total / rate + 1. */
	total = st->pend_len + n[0];
	blocks = total / SHA3_RATE + 1;
	for (int l = 1; l < POW_LANES; l++)
		if ((st->pend_len + n[l]) / SHA3_RATE + 1 != blocks)
			return POW_EINVAL;
	need = blocks * SHA3_RATE;
	if (need > st->lane_cap) {
		for (int l = 0; l < POW_LANES; l++) {
			unsigned char	*nb = realloc(st->lane[l], need);

			if (nb == NULL)
				return POW_ENOMEM;
			st->lane[l] = nb;
		}
		st->lane_cap = need;
	}
	for (int l = 0; l < POW_LANES; l++) {
		unsigned char	*m = st->lane[l];

		total = st->pend_len + n[l];
		memcpy(m, st->pend, st->pend_len);
		memcpy(m + st->pend_len, tail[l], n[l]);
		memset(m + total, 0, need - total);
		m[total] ^= 0x06;		/* SHA3 domain bits + first 1 */
		m[need - 1] ^= 0x80;		/* final 1 of pad10*1 */
	}
	st->x4(st->kst, st->lane, blocks, out);
	return POW_OK;
}
#endif

static const struct pow_hash_ops pow_hashes[] = {
	{ POW_ALGO_SHA3_512, "", 64, sha3_new, sha3_free, sha3_begin,
	    sha3_absorb, sha3_digest,
#ifdef POW_HAVE_X4
	    sha3_digest_x4
#else
	    NULL
#endif
	},
};

const struct pow_hash_ops *
pow_hash_ops_for(enum pow_algo algo)
{
	for (size_t i = 0; i < sizeof(pow_hashes) / sizeof(pow_hashes[0]); i++)
		if (pow_hashes[i].algo == algo)
			return &pow_hashes[i];
	return NULL;
}

size_t
pow_hash(enum pow_algo algo, const void *p, size_t n, unsigned char *out)
{
	const struct pow_hash_ops	*ops = pow_hash_ops_for(algo);
	void				*st = NULL;
	size_t				 len = 0;

	if (ops == NULL || ops->state_new(&st) != POW_OK)
		goto out;
	if (ops->begin(st, p, n) != POW_OK ||
	    ops->digest(st, NULL, 0, out) != POW_OK)
		goto out;
	len = ops->digest_len;
out:
	if (ops != NULL)
		ops->state_free(st);
	return len;
}
