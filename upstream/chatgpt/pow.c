/*
 * pow.c - ChatGPT sentinel proof of work; see pow.h and
 * protocols/chatgpt.md §3.
 *
 * Speed: a try hashes seed ‖ base64(json).  The json only changes at the
 * two nonces, so it is serialised once and cut into three invariant parts
 *     P0 <i> P1 <j> P2
 * The base64 of P0 (cut to a multiple of 3 bytes) is constant, and so is
 * the base64 of P1 and of P2 for each of the three possible byte
 * alignments; they are encoded once.  A try only encodes the few bytes
 * around each nonce and copies the rest.  The hash state that absorbed
 * seed ‖ base64(P0) is kept and cloned per try, so a try only absorbs the
 * varying tail.
 *
 * That tail is still ~7 SHA3-512 blocks (everything after config[3]), so
 * the Keccak permutation is the whole cost of a try.  Tries are
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
#include "pow.h"

#define POW_DIGEST_MAX	64	/* SHA3-512 */

/* ------------------------------------------------------------------ */
/* base64 */

/* Well-formed padded base64 (what b64_encode can produce)? */
static bool
b64_valid(const char *s, size_t n)
{
	size_t	 pad = 0;

	if (n == 0 || n % 4 != 0)
		return false;
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (b64_value((unsigned char)s[i], B64_STD) < 0)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* the hash seam */

#define POW_LANES	4	/* tries hashed side by side by digest_x4 */

/*
 * One algorithm = a state that absorbs an invariant prefix once
 * (begin/absorb) and then finishes prefix ‖ tail as often as asked
 * without losing the prefix (digest).  digest_x4, if present, does four
 * such digests at once; it may refuse a batch with POW_EINVAL (the tails
 * need different block counts) and the solver then does them one by one.
 * A new algorithm (§14 FNV) adds one table entry; the solver is unchanged.
 */
struct pow_hash_ops {
	enum pow_algo	 algo;
	const char	*suffix;	/* appended to every token */
	size_t		 digest_len;
	enum pow_err	(*state_new)(void **stp);
	void		(*state_free)(void *st);
	enum pow_err	(*begin)(void *st, const void *p, size_t n);
	enum pow_err	(*absorb)(void *st, const void *p, size_t n);
	enum pow_err	(*digest)(void *st, const void *tail, size_t n,
			    unsigned char *out);
	enum pow_err	(*digest_x4)(void *st, char *const tail[POW_LANES],
			    const size_t n[POW_LANES],
			    unsigned char out[POW_LANES][POW_DIGEST_MAX]);
};

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

static const struct pow_hash_ops *
hash_ops(enum pow_algo algo)
{
	for (size_t i = 0; i < sizeof(pow_hashes) / sizeof(pow_hashes[0]); i++)
		if (pow_hashes[i].algo == algo)
			return &pow_hashes[i];
	return NULL;
}

size_t
pow_hash(enum pow_algo algo, const void *p, size_t n, unsigned char *out)
{
	const struct pow_hash_ops	*ops = hash_ops(algo);
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

/* ------------------------------------------------------------------ */
/* difficulty */

struct difficulty {
	unsigned char	 nib[POW_DIFFICULTY_MAX];
	size_t		 n;
};

static enum pow_err
difficulty_parse(const char *s, size_t digest_len, struct difficulty *d)
{
	size_t	 n;

	if (s == NULL)
		return POW_EINVAL;
	n = strlen(s);
	if (n > POW_DIFFICULTY_MAX || n > digest_len * 2)
		return POW_EINVAL;
	for (size_t k = 0; k < n; k++) {
		int	 v = hex_value((unsigned char)s[k]);

		if (v < 0)
			return POW_EINVAL;
		d->nib[k] = (unsigned char)v;
	}
	d->n = n;
	return POW_OK;
}

/*
 * Compare the first n hex digits of h with the difficulty.  Almost every
 * try is decided by the first digit, so a nibble loop is as fast as any.
 */
static bool
difficulty_met(const unsigned char *h, const struct difficulty *d,
    enum pow_rule rule)
{
	for (size_t k = 0; k < d->n; k++) {
		unsigned	 hn = k & 1 ? h[k >> 1] & 15 : h[k >> 1] >> 4;

		if (hn != d->nib[k])
			return hn < d->nib[k];
	}
	/*
	 * Equal prefix: [C] compares len(diff) hash bytes with len/2
	 * difficulty bytes, so the longer (hash) side is greater.
	 */
	return rule == POW_RULE_HEX || d->n == 0;
}

bool
pow_difficulty_too_high(const char *difficulty, const char *limit)
{
	if (limit == NULL)
		return false;
	if (difficulty == NULL)
		return true;
	/* Python str <= str on ASCII is strcmp on unsigned bytes. */
	return strcmp(difficulty, limit) <= 0;
}

/* ------------------------------------------------------------------ */
/* formatting helpers */

size_t
pow_repr_double(double v, char buf[POW_DOUBLE_BUFSZ])
{
	char	 tmp[40], digits[24], *o = buf;
	int	 prec, exp10 = 0, decpt;
	size_t	 nd = 0;
	bool	 neg;
	char	*e;

	if (isnan(v))
		return (size_t)snprintf(buf, POW_DOUBLE_BUFSZ, "NaN");
	if (isinf(v))
		return (size_t)snprintf(buf, POW_DOUBLE_BUFSZ, "%s",
		    v > 0 ? "Infinity" : "-Infinity");
	if (v == 0)
		return (size_t)snprintf(buf, POW_DOUBLE_BUFSZ, "%s",
		    signbit(v) ? "-0.0" : "0.0");

	/*
	 * Shortest digit count that reads back to the same double.  15
	 * digits are always tried first: 15-digit decimals lie further
	 * apart than doubles, so if any k <= 15 digits read back, the
	 * 15-digit rounding is those k digits padded with zeros, which the
	 * trailing-zero strip below removes.  One or three conversions
	 * instead of up to seventeen.  Subnormals have fewer bits, so they
	 * take the full search.
	 */
	for (prec = fabs(v) >= DBL_MIN ? 15 : 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
	neg = tmp[0] == '-';
	e = strchr(tmp, 'e');
	for (char *c = tmp; c < e; c++)	/* skips sign and decimal point */
		if (*c >= '0' && *c <= '9')
			digits[nd++] = *c;
	exp10 = atoi(e + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	decpt = exp10 + 1;

	if (neg)
		*o++ = '-';
	if (decpt > -4 && decpt <= 16) {
		/* Python repr: positional notation, always with a dot. */
		if (decpt <= 0) {
			*o++ = '0';
			*o++ = '.';
			for (int z = 0; z < -decpt; z++)
				*o++ = '0';
			memcpy(o, digits, nd);
			o += nd;
		} else if ((size_t)decpt >= nd) {
			memcpy(o, digits, nd);
			o += nd;
			for (size_t z = nd; z < (size_t)decpt; z++)
				*o++ = '0';
			*o++ = '.';
			*o++ = '0';
		} else {
			memcpy(o, digits, (size_t)decpt);
			o += decpt;
			*o++ = '.';
			memcpy(o, digits + decpt, nd - (size_t)decpt);
			o += nd - (size_t)decpt;
		}
	} else {
		*o++ = digits[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, digits + 1, nd - 1);
			o += nd - 1;
		}
		o += snprintf(o, 8, "e%c%02d", exp10 < 0 ? '-' : '+',
		    exp10 < 0 ? -exp10 : exp10);
	}
	*o = '\0';
	return (size_t)(o - buf);
}

void
pow_format_date(time_t t, char buf[POW_DATE_BUFSZ])
{
	static const char	*days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm		 tm;

	/* chat2api pins the zone to UTC-5 whatever the host says. */
	t -= 5 * 3600;
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(buf, POW_DATE_BUFSZ,
	    "%s %s %02d %04d %02d:%02d:%02d GMT-0500 (Eastern Standard Time)",
	    days[tm.tm_wday % 7], months[tm.tm_mon % 12], tm.tm_mday,
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * The config picks, the session UUID and the requirements seed only have
 * to look random: a per-thread xorshift128+ seeded once from OpenSSL
 * saves a DRBG call (and OpenSSL's getpid() fork check) per value.
 */
static __thread uint64_t	 rng_s[2];
static __thread int		 rng_seeded;

static enum pow_err
rng_u64(uint64_t *v)
{
	uint64_t	 a, b;

	if (!rng_seeded) {
		if (RAND_bytes((unsigned char *)rng_s, sizeof(rng_s)) != 1)
			return POW_ECRYPTO;
		rng_s[0] |= 1;		/* never the all-zero state */
		rng_seeded = 1;
	}
	a = rng_s[0];
	b = rng_s[1];
	rng_s[0] = b;
	a ^= a << 23;
	rng_s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
	*v = rng_s[1] + b;
	return POW_OK;
}

static enum pow_err
rand_u32(uint32_t *v)
{
	uint64_t	 r;

	if (rng_u64(&r) != POW_OK)
		return POW_ECRYPTO;
	*v = (uint32_t)(r >> 32);
	return POW_OK;
}

enum pow_err
pow_random_seed(char buf[POW_SEED_BUFSZ])
{
	uint64_t	 r;

	if (rng_u64(&r) != POW_OK)
		return POW_ECRYPTO;
	/* 53 random bits, as Python's random.random(). */
	pow_repr_double((double)(r >> 11) / 9007199254740992.0, buf);
	return POW_OK;
}

static enum pow_err
uuid4(char buf[POW_UUID_BUFSZ])
{
	unsigned char	 u[16];
	uint64_t	 r[2];

	if (rng_u64(&r[0]) != POW_OK || rng_u64(&r[1]) != POW_OK)
		return POW_ECRYPTO;
	memcpy(u, r, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(buf, POW_UUID_BUFSZ, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
	    u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
	    u[14], u[15]);
	return POW_OK;
}

/* ------------------------------------------------------------------ */
/* config */

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MINUS		"\xe2\x88\x92"	/* U+2212, the [10] separator */

static const long long	 screens[] = { 3000, 4000, 3120, 4160 };
static const long long	 core_counts[] = { 8, 16, 24, 32 };
static const char	*doc_props[] = { "_reactListeningo743lnnpvdg",
    "location" };
/* A sample of what a desktop Chrome exposes; any plausible entry works. */
static const char	*nav_props[] = {
	"webdriver" MINUS "false", "vendor" MINUS "Google Inc.",
	"cookieEnabled" MINUS "true", "pdfViewerEnabled" MINUS "true",
	"hardwareConcurrency" MINUS "16", "hardwareConcurrency" MINUS "32",
	"language" MINUS "en-US", "onLine" MINUS "true",
	"maxTouchPoints" MINUS "0", "productSub" MINUS "20030107",
	"vendorSub" MINUS "", "appCodeName" MINUS "Mozilla",
	"appName" MINUS "Netscape", "product" MINUS "Gecko",
	"platform" MINUS "Win32", "deviceMemory" MINUS "8",
	"storage" MINUS "[object StorageManager]",
	"geolocation" MINUS "[object Geolocation]",
	"clipboard" MINUS "[object Clipboard]",
	"mediaDevices" MINUS "[object MediaDevices]",
	"locks" MINUS "[object LockManager]",
	"permissions" MINUS "[object Permissions]",
	"userActivation" MINUS "[object UserActivation]",
	"connection" MINUS "[object NetworkInformation]",
	"gpu" MINUS "[object GPU]", "usb" MINUS "[object USB]",
	"hid" MINUS "[object HID]", "serial" MINUS "[object Serial]",
	"keyboard" MINUS "[object Keyboard]",
	"wakeLock" MINUS "[object WakeLock]",
	"credentials" MINUS "[object CredentialsContainer]",
	"serviceWorker" MINUS "[object ServiceWorkerContainer]",
	"xr" MINUS "[object XRSystem]",
	"sendBeacon" MINUS "function sendBeacon() { [native code] }",
	"javaEnabled" MINUS "function javaEnabled() { [native code] }",
};
static const char	*win_props[] = {
	"0", "window", "self", "document", "name", "location",
	"customElements", "history", "navigation", "locationbar", "menubar",
	"personalbar", "scrollbars", "statusbar", "toolbar", "status",
	"closed", "frames", "length", "top", "opener", "parent",
	"frameElement", "navigator", "origin", "external", "screen",
	"innerWidth", "innerHeight", "scrollX", "pageXOffset", "scrollY",
	"pageYOffset", "visualViewport", "screenX", "screenY", "outerWidth",
	"outerHeight", "devicePixelRatio", "clientInformation", "screenLeft",
	"screenTop", "isSecureContext", "trustedTypes", "performance",
	"crypto", "indexedDB", "sessionStorage", "localStorage", "onload",
	"onfocus", "onmessage", "fetch", "requestIdleCallback", "matchMedia",
	"caches", "cookieStore", "scheduler", "__NEXT_DATA__",
	"_oaiHandleSessionExpired",
};

#define DEFAULT_UA	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) " \
	"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 " \
	"Safari/537.36"
#define DEFAULT_SCRIPT	"https://chatgpt.com/backend-api/sentinel/sdk.js"

enum pow_err
pow_config_defaults(struct pow_config *cfg, const char *user_agent,
    const char *script_src, const char *dpl, time_t now)
{
	uint32_t	 r[5];
	struct timespec	 mono, real;
	double		 perf_ms;
	enum pow_err	 rc;

	memset(cfg, 0, sizeof(*cfg));
	for (size_t k = 0; k < NELEM(r); k++)
		if ((rc = rand_u32(&r[k])) != POW_OK)
			return rc;
	if ((rc = uuid4(cfg->session_id)) != POW_OK)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	perf_ms = (double)mono.tv_sec * 1e3 + (double)mono.tv_nsec / 1e6;

	cfg->screen = screens[r[0] % NELEM(screens)];
	pow_format_date(now, cfg->date);
	cfg->heap_limit = POW_HEAP_LIMIT;
	cfg->user_agent = user_agent != NULL ? user_agent : DEFAULT_UA;
	cfg->script_src = script_src != NULL ? script_src : DEFAULT_SCRIPT;
	cfg->dpl = dpl;
	cfg->language = "en-US";
	cfg->languages = "en-US,es-US,en,es";
	cfg->nav_prop = nav_props[r[1] % NELEM(nav_props)];
	cfg->doc_prop = doc_props[r[2] % NELEM(doc_props)];
	cfg->win_prop = win_props[r[3] % NELEM(win_props)];
	cfg->perf_now = perf_ms;
	cfg->search_keys = "";
	cfg->cores = core_counts[r[4] % NELEM(core_counts)];
	cfg->time_origin = (double)real.tv_sec * 1e3 +
	    (double)real.tv_nsec / 1e6 - perf_ms;
	return POW_OK;
}

/* A bounded growable buffer for the JSON text. */
struct jbuf {
	char		*p;
	size_t		 len, cap;
	enum pow_err	 err;
};

static void
jb_put(struct jbuf *b, const void *s, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (b->err != POW_OK)
		return;
	if (n > POW_JSON_MAX - b->len) {
		b->err = POW_EINVAL;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 512;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = POW_ENOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
jb_ch(struct jbuf *b, char c)
{
	jb_put(b, &c, 1);
}

/* json.dumps(ensure_ascii=False): escape only '"', '\\' and C0 controls. */
static void
jb_str(struct jbuf *b, const char *s)
{
	const char	*run;
	char		 esc[8];

	if (s == NULL)
		s = "";
	jb_ch(b, '"');
	for (run = s; *s != '\0'; s++) {
		unsigned char	 c = (unsigned char)*s;
		const char	*e = NULL;

		switch (c) {
		case '"':  e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		default:
			if (c >= 0x20)
				continue;
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			e = esc;
		}
		jb_put(b, run, (size_t)(s - run));
		jb_put(b, e, strlen(e));
		run = s + 1;
	}
	jb_put(b, run, (size_t)(s - run));
	jb_ch(b, '"');
}

static void
jb_int(struct jbuf *b, long long v)
{
	char	 tmp[24];

	jb_put(b, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%lld", v));
}

static void
jb_double(struct jbuf *b, double v)
{
	char	 tmp[POW_DOUBLE_BUFSZ];

	jb_put(b, tmp, pow_repr_double(v, tmp));
}

/*
 * The §3.1 array without the two nonces: P0 = [0, *oi), P1 = [*oi, *oj),
 * P2 = [*oj, len).  Element order and JSON types are the protocol.
 */
static enum pow_err
config_parts(const struct pow_config *cfg, struct jbuf *b, size_t *oi,
    size_t *oj)
{
	jb_ch(b, '[');
	jb_int(b, cfg->screen);				/* 0 */
	jb_ch(b, ',');
	jb_str(b, cfg->date);				/* 1 */
	jb_ch(b, ',');
	jb_int(b, cfg->heap_limit);			/* 2 */
	jb_ch(b, ',');
	*oi = b->len;					/* 3: i */
	jb_ch(b, ',');
	jb_str(b, cfg->user_agent);			/* 4 */
	jb_ch(b, ',');
	jb_str(b, cfg->script_src);			/* 5 */
	jb_ch(b, ',');
	if (cfg->dpl != NULL)				/* 6 */
		jb_str(b, cfg->dpl);
	else
		jb_put(b, "null", 4);
	jb_ch(b, ',');
	jb_str(b, cfg->language);			/* 7 */
	jb_ch(b, ',');
	jb_str(b, cfg->languages);			/* 8 */
	jb_ch(b, ',');
	*oj = b->len;					/* 9: j */
	jb_ch(b, ',');
	jb_str(b, cfg->nav_prop);			/* 10 */
	jb_ch(b, ',');
	jb_str(b, cfg->doc_prop);			/* 11 */
	jb_ch(b, ',');
	jb_str(b, cfg->win_prop);			/* 12 */
	jb_ch(b, ',');
	jb_double(b, cfg->perf_now);			/* 13 */
	jb_ch(b, ',');
	jb_str(b, cfg->session_id);			/* 14 */
	jb_ch(b, ',');
	jb_str(b, cfg->search_keys);			/* 15 */
	jb_ch(b, ',');
	jb_int(b, cfg->cores);				/* 16 */
	jb_ch(b, ',');
	jb_double(b, cfg->time_origin);			/* 17 */
	jb_ch(b, ']');
	return b->err;
}

/* Decimal digits of v; returns the length (at most 20). */
static size_t
utoa(unsigned long v, char *out)
{
	char	 tmp[24];
	size_t	 n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t k = 0; k < n; k++)
		out[k] = tmp[n - 1 - k];
	return n;
}

enum pow_err
pow_config_json(const struct pow_config *cfg, unsigned long i,
    unsigned long j, char **json, size_t *len)
{
	struct jbuf	 b = { 0 }, out = { 0 };
	size_t		 oi, oj;
	char		 num[24];
	enum pow_err	 rc;

	if (json == NULL)
		return POW_EINVAL;
	*json = NULL;
	if (cfg == NULL)
		return POW_EINVAL;
	if ((rc = config_parts(cfg, &b, &oi, &oj)) != POW_OK)
		goto fail;
	jb_put(&out, b.p, oi);
	jb_put(&out, num, utoa(i, num));
	jb_put(&out, b.p + oi, oj - oi);
	jb_put(&out, num, utoa(j, num));
	jb_put(&out, b.p + oj, b.len - oj);
	if ((rc = out.err) != POW_OK)
		goto fail;
	free(b.p);
	*json = out.p;
	if (len != NULL)
		*len = out.len;
	return POW_OK;
fail:
	free(b.p);
	free(out.p);
	return rc;
}

/* ------------------------------------------------------------------ */
/* solver */

struct pow_solver {
	const struct pow_hash_ops *ops;
	void		*hs;		/* hash state */
	enum pow_rule	 rule;
	unsigned long	 max_tries;

	char		*json;		/* P0 P1 P2 back to back */
	const char	*p1, *p2;
	size_t		 len1, len2;

	unsigned char	 rem0[2];	/* P0 bytes after its last full group */
	size_t		 rem0_len;
	/* base64 of P1[k..] and P2[k..] for the three alignments k */
	char		*t1[3], *t2[3];
	size_t		 t1_len[3], t2_len[3];
	unsigned char	 r1[3][2];	/* P1 bytes left after t1[k] */
	size_t		 r1_len[3];

	char		*work;		/* base64(P0 cut) ‖ varying tail */
	size_t		 head_len;
	char		*lt[POW_LANES];	/* tails of a 4-lane batch */
	bool		 use_x4;	/* ops->digest_x4 batches */
};

void
pow_solver_free(struct pow_solver *s)
{
	if (s == NULL)
		return;
	if (s->ops != NULL)
		s->ops->state_free(s->hs);
	for (int k = 0; k < 3; k++) {
		free(s->t1[k]);
		free(s->t2[k]);
	}
	for (int l = 0; l < POW_LANES; l++)
		free(s->lt[l]);
	free(s->work);
	free(s->json);
	free(s);
}

enum pow_err
pow_solver_new(struct pow_solver **sp, const struct pow_config *cfg,
    const struct pow_opts *opts)
{
	struct pow_opts		 def = { POW_ALGO_SHA3_512, POW_RULE_BYTES, 0,
				     false };
	struct pow_solver	*s = NULL;
	struct jbuf		 b = { 0 };
	size_t			 oi, oj, l0, tail_max;
	enum pow_err		 rc = POW_EINVAL;

	if (sp == NULL)
		return POW_EINVAL;
	*sp = NULL;
	if (cfg == NULL)
		goto fail;
	if (opts == NULL)
		opts = &def;
	if (opts->rule != POW_RULE_BYTES && opts->rule != POW_RULE_HEX)
		goto fail;
	rc = POW_ENOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	s->rule = opts->rule;
	s->max_tries = opts->max_tries ? opts->max_tries : POW_MAX_TRIES;
	rc = POW_EINVAL;
	if ((s->ops = hash_ops(opts->algo)) == NULL)
		goto fail;
	if ((rc = s->ops->state_new(&s->hs)) != POW_OK)
		goto fail;

	if ((rc = config_parts(cfg, &b, &oi, &oj)) != POW_OK)
		goto fail;
	s->json = b.p;
	b.p = NULL;
	s->p1 = s->json + oi;
	s->len1 = oj - oi;
	s->p2 = s->json + oj;
	s->len2 = b.len - oj;
	/* Both always hold at least ",x,": room for a 2-byte borrow. */
	if (s->len1 < 2 || s->len2 < 2) {
		rc = POW_EINVAL;
		goto fail;
	}

	rc = POW_ENOMEM;
	l0 = oi - oi % 3;
	s->rem0_len = oi - l0;
	memcpy(s->rem0, s->json + l0, s->rem0_len);
	for (size_t k = 0; k < 3; k++) {
		size_t	 m = (s->len1 - k) / 3 * 3;

		if ((s->t1[k] = malloc(B64_ENCLEN(m) + 1)) == NULL)
			goto fail;
		s->t1_len[k] = b64_encode((const unsigned char *)s->p1 + k, m,
		    s->t1[k]);
		s->r1_len[k] = s->len1 - k - m;
		memcpy(s->r1[k], s->p1 + k + m, s->r1_len[k]);

		if ((s->t2[k] = malloc(B64_ENCLEN(s->len2 - k) + 1)) == NULL)
			goto fail;
		s->t2_len[k] = b64_encode((const unsigned char *)s->p2 + k,
		    s->len2 - k, s->t2[k]);
	}
	/* Tail = rem0 i P1 j P2 with i, j up to 20 digits each. */
	tail_max = B64_ENCLEN(2 + 20 + s->len1 + 20 + s->len2) + 8;
	s->head_len = B64_ENCLEN(l0);
	if ((s->work = malloc(s->head_len + tail_max + 1)) == NULL)
		goto fail;
	if ((s->use_x4 = s->ops->digest_x4 != NULL && !opts->no_simd))
		for (int l = 0; l < POW_LANES; l++)
			if ((s->lt[l] = malloc(tail_max)) == NULL)
				goto fail;
	b64_encode((const unsigned char *)s->json, l0, s->work);
	*sp = s;
	return POW_OK;
fail:
	free(b.p);
	pow_solver_free(s);
	return rc;
}

/*
 * Write base64(rem0 i P1 j P2) at out.  Each piece handed to b64_encode
 * is a multiple of 3 bytes except the last, so the pieces concatenate to
 * the encoding of the whole.
 */
static size_t
solver_tail(const struct pow_solver *s, unsigned long i, unsigned long j,
    char *out)
{
	unsigned char	 a[2 + 24 + 2];
	size_t		 na, k1, k2;
	char		*o = out;

	memcpy(a, s->rem0, s->rem0_len);
	na = s->rem0_len + utoa(i, (char *)a + s->rem0_len);
	k1 = (3 - na % 3) % 3;
	memcpy(a + na, s->p1, k1);
	o += b64_encode(a, na + k1, o);
	memcpy(o, s->t1[k1], s->t1_len[k1]);
	o += s->t1_len[k1];

	memcpy(a, s->r1[k1], s->r1_len[k1]);
	na = s->r1_len[k1] + utoa(j, (char *)a + s->r1_len[k1]);
	k2 = (3 - na % 3) % 3;
	memcpy(a + na, s->p2, k2);
	o += b64_encode(a, na + k2, o);
	memcpy(o, s->t2[k2], s->t2_len[k2]);
	o += s->t2_len[k2];
	return (size_t)(o - out);
}

/* head ‖ tail as a new string. */
static char *
solver_answer(const struct pow_solver *s, const char *tail, size_t n)
{
	char	*a;

	if ((a = malloc(s->head_len + n + 1)) == NULL)
		return NULL;
	memcpy(a, s->work, s->head_len);
	memcpy(a + s->head_len, tail, n);
	a[s->head_len + n] = '\0';
	return a;
}

/*
 * Tries i .. i+3 in one 4-lane digest.  POW_OK with *answer set when one
 * was accepted (the lowest i wins, as in a sequential search), POW_OK
 * with *answer NULL when none was, POW_EINVAL when the batch cannot be
 * hashed together.
 */
static enum pow_err
solve_x4(struct pow_solver *s, unsigned long i, const struct difficulty *d,
    char **answer, unsigned long *nonce)
{
	unsigned char	 h[POW_LANES][POW_DIGEST_MAX];
	size_t		 n[POW_LANES];
	enum pow_err	 rc;

	for (int l = 0; l < POW_LANES; l++)
		n[l] = solver_tail(s, i + (unsigned long)l,
		    (i + (unsigned long)l) >> 1, s->lt[l]);
	if ((rc = s->ops->digest_x4(s->hs, s->lt, n, h)) != POW_OK)
		return rc;
	for (int l = 0; l < POW_LANES; l++) {
		if (!difficulty_met(h[l], d, s->rule))
			continue;
		if ((*answer = solver_answer(s, s->lt[l], n[l])) == NULL)
			return POW_ENOMEM;
		if (nonce != NULL)
			*nonce = i + (unsigned long)l;
		return POW_OK;
	}
	return POW_OK;
}

enum pow_err
pow_solve(struct pow_solver *s, const char *seed, const char *difficulty,
    char **answer, unsigned long *nonce)
{
	struct difficulty	 d;
	unsigned char		 h[POW_DIGEST_MAX];
	size_t			 seed_len, tail_len;
	unsigned long		 i;
	char			*tail;
	enum pow_err		 rc = POW_EINVAL;

	if (answer == NULL)
		return POW_EINVAL;
	*answer = NULL;
	if (s == NULL || seed == NULL ||
	    (seed_len = strlen(seed)) > POW_SEED_MAX)
		goto fail;
	if ((rc = difficulty_parse(difficulty, s->ops->digest_len, &d)) !=
	    POW_OK)
		goto fail;
	if ((rc = s->ops->begin(s->hs, seed, seed_len)) != POW_OK ||
	    (rc = s->ops->absorb(s->hs, s->work, s->head_len)) != POW_OK)
		goto fail;

	tail = s->work + s->head_len;
	for (i = 0; i < s->max_tries; ) {
		if (s->use_x4 && s->max_tries - i >= POW_LANES) {
			rc = solve_x4(s, i, &d, answer, nonce);
			if (rc == POW_OK && *answer != NULL)
				return POW_OK;
			if (rc == POW_OK) {
				i += POW_LANES;
				continue;
			}
			if (rc != POW_EINVAL)
				goto fail;
			/* Lanes of unequal block count: one by one below. */
		}
		tail_len = solver_tail(s, i, i >> 1, tail);
		if ((rc = s->ops->digest(s->hs, tail, tail_len, h)) != POW_OK)
			goto fail;
		if (difficulty_met(h, &d, s->rule)) {
			if ((*answer = strndup(s->work, s->head_len +
			    tail_len)) == NULL) {
				rc = POW_ENOMEM;
				goto fail;
			}
			if (nonce != NULL)
				*nonce = i;
			return POW_OK;
		}
		i++;
	}
	if ((*answer = pow_fallback(seed)) == NULL) {
		rc = POW_ENOMEM;
		goto fail;
	}
	if (nonce != NULL)
		*nonce = i;
	return POW_UNSOLVED;
fail:
	return rc;
}

char *
pow_fallback(const char *seed)
{
	size_t	 n, plen = sizeof(POW_FALLBACK_PREFIX) - 1;
	char	*quoted = NULL, *out = NULL;

	if (seed == NULL || (n = strlen(seed)) > POW_SEED_MAX)
		return NULL;
	if ((quoted = malloc(n + 2)) == NULL)
		goto out;
	quoted[0] = '"';
	memcpy(quoted + 1, seed, n);
	quoted[n + 1] = '"';
	if ((out = malloc(plen + B64_ENCLEN(n + 2) + 1)) == NULL)
		goto out;
	memcpy(out, POW_FALLBACK_PREFIX, plen);
	out[plen + b64_encode((unsigned char *)quoted, n + 2, out + plen)] =
	    '\0';
out:
	free(quoted);
	return out;
}

/* prefix ‖ body ‖ suffix, freeing body. */
static char *
token_wrap(const char *prefix, char *body, const char *suffix)
{
	size_t	 lp = strlen(prefix), lb = strlen(body), ls = strlen(suffix);
	char	*t;

	if ((t = malloc(lp + lb + ls + 1)) != NULL) {
		memcpy(t, prefix, lp);
		memcpy(t + lp, body, lb);
		memcpy(t + lp + lb, suffix, ls + 1);
	}
	free(body);
	return t;
}

static enum pow_err
solve_token(struct pow_solver *s, const char *seed, const char *difficulty,
    const char *prefix, char **token)
{
	char		*body = NULL;
	enum pow_err	 rc;

	rc = pow_solve(s, seed, difficulty, &body, NULL);
	if (rc != POW_OK && rc != POW_UNSOLVED)
		return rc;
	if ((*token = token_wrap(prefix, body, s->ops->suffix)) == NULL)
		return POW_ENOMEM;
	return rc;
}

enum pow_err
pow_requirements_token(struct pow_solver *s, const char *seed, char **token)
{
	char		 rnd[POW_SEED_BUFSZ];
	enum pow_err	 rc;

	if (token == NULL)
		return POW_EINVAL;
	*token = NULL;
	if (s == NULL)
		return POW_EINVAL;
	if (seed == NULL) {
		if ((rc = pow_random_seed(rnd)) != POW_OK)
			return rc;
		seed = rnd;
	}
	return solve_token(s, seed, POW_REQ_DIFFICULTY, POW_REQ_PREFIX, token);
}

enum pow_err
pow_proof_token(struct pow_solver *s, const char *seed,
    const char *difficulty, const char *limit, char **token)
{
	if (token == NULL)
		return POW_EINVAL;
	*token = NULL;
	if (s == NULL || seed == NULL || difficulty == NULL)
		return POW_EINVAL;
	if (pow_difficulty_too_high(difficulty, limit))
		return POW_TOOHARD;
	return solve_token(s, seed, difficulty, POW_PROOF_PREFIX, token);
}

enum pow_err
pow_verify(enum pow_algo algo, enum pow_rule rule, const char *seed,
    const char *difficulty, const char *token, bool proof)
{
	const struct pow_hash_ops	*ops = hash_ops(algo);
	const char			*prefix = proof ? POW_PROOF_PREFIX :
					    POW_REQ_PREFIX;
	struct difficulty		 d;
	unsigned char			 h[POW_DIGEST_MAX];
	size_t				 n, lp, ls;
	void				*st = NULL;
	enum pow_err			 rc = POW_EINVAL;

	if (ops == NULL || seed == NULL || token == NULL ||
	    strlen(seed) > POW_SEED_MAX ||
	    (rule != POW_RULE_BYTES && rule != POW_RULE_HEX))
		goto out;
	if ((rc = difficulty_parse(difficulty, ops->digest_len, &d)) != POW_OK)
		goto out;

	rc = POW_EBADTOKEN;
	lp = strlen(prefix);
	ls = strlen(ops->suffix);
	n = strnlen(token, POW_TOKEN_MAX + 1);
	if (n > POW_TOKEN_MAX || n < lp + ls ||
	    strncmp(token, prefix, lp) != 0 ||
	    strcmp(token + n - ls, ops->suffix) != 0)
		goto out;
	token += lp;
	n -= lp + ls;
	if (n >= sizeof(POW_FALLBACK_PREFIX) - 1 && strncmp(token,
	    POW_FALLBACK_PREFIX, sizeof(POW_FALLBACK_PREFIX) - 1) == 0)
		goto out;
	if (!b64_valid(token, n))
		goto out;

	if ((rc = ops->state_new(&st)) != POW_OK ||
	    (rc = ops->begin(st, seed, strlen(seed))) != POW_OK ||
	    (rc = ops->absorb(st, token, n)) != POW_OK ||
	    (rc = ops->digest(st, NULL, 0, h)) != POW_OK)
		goto out;
	rc = difficulty_met(h, &d, rule) ? POW_OK : POW_EMISMATCH;
out:
	if (ops != NULL)
		ops->state_free(st);
	return rc;
}

const char *
pow_strerror(enum pow_err err)
{
	switch (err) {
	case POW_OK:
		return "success";
	case POW_ENOMEM:
		return "out of memory";
	case POW_EINVAL:
		return "invalid argument";
	case POW_ECRYPTO:
		return "cryptographic library failure";
	case POW_TOOHARD:
		return "Proof of work difficulty too high";
	case POW_UNSOLVED:
		return "Failed to solve proof of work";
	case POW_EBADTOKEN:
		return "malformed proof-of-work token";
	case POW_EMISMATCH:
		return "proof-of-work answer does not meet the difficulty";
	}
	return "unknown error";
}
