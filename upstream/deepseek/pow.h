/*
 * pow.h - DeepSeek proof of work, DeepSeekHashV1 (protocols/providers.md
 * §2.6).
 *
 * H is SHA3-256 whose Keccak permutation skips the first round (23 rounds,
 * RC[1..23]).  POST /api/v0/chat/create_pow_challenge answers a challenge;
 * the client finds the n in [0, difficulty) with
 *     H(salt "_" expire_at "_" n) == hex-decode(challenge)
 * and sends it back, base64'd as JSON, in the X-Ds-Pow-Response header:
 *
 *	struct ds_pow_challenge	 ch = { algorithm, challenge, salt,
 *				    signature, target_path, expire_at,
 *				    difficulty };
 *	long			 n;
 *	char			*hdr = NULL;
 *
 *	if ((rc = ds_pow_solve(&ch, &n)) != DS_POW_OK ||
 *	    (rc = ds_pow_header(&ch, n, &hdr)) != DS_POW_OK)
 *		... ds_pow_strerror(rc) ...
 *	... "X-Ds-Pow-Response: " hdr ...
 *	free(hdr);
 *
 * Cost at difficulty 144000 (~72 000 hashes on average), one thread on a
 * 2-vCPU AMD EPYC: mean 2.6 ms with AVX-512 (~36 ns a hash), 7.4 ms with
 * AVX2, 21 ms with the portable scalar code; bench/ds_pow_bench measures
 * it.  DS_POW_DIFFICULTY_MAX bounds the work so an upstream cannot pin a
 * worker's CPU (worst case ~0.2 s AVX-512, ~1.5 s scalar).
 *
 * Everything is reentrant and uses only the caller's stack (under 8 KB):
 * concurrent solves in worker threads need no locking.  Strings in the
 * challenge are borrowed, not kept.
 */
#ifndef DS_POW_H
#define DS_POW_H

#include <stddef.h>
#include <stdint.h>

#define DS_POW_HASH_LEN		32	/* SHA3-256 digest */
#define DS_POW_ALGORITHM	"DeepSeekHashV1"

/* Edge limits; anything outside fails with DS_POW_INVAL. */
#define DS_POW_CHALLENGE_LEN	64	/* hex digits, either case */
#define DS_POW_SALT_MAX		256	/* bytes */
#define DS_POW_SIGNATURE_MAX	512	/* bytes */
#define DS_POW_PATH_MAX		256	/* bytes of target_path */
#define DS_POW_DIFFICULTY_MAX	5000000L

enum ds_pow_err {
	DS_POW_OK = 0,
	DS_POW_ENOMEM,		/* allocation failed */
	DS_POW_ALGO,		/* algorithm is not DeepSeekHashV1 */
	DS_POW_INVAL,		/* bad challenge hex, salt, signature,
				   target_path, expire_at or difficulty */
	DS_POW_NOTFOUND,	/* no n below difficulty */
	DS_POW__MAX
};

/* The fields of data.biz_data.challenge (§2.3). */
struct ds_pow_challenge {
	const char	*algorithm;	/* "DeepSeekHashV1" */
	const char	*challenge;	/* 64 hex digits: the wanted H */
	const char	*salt;		/* printable ASCII, no '"' or '\\' */
	const char	*signature;	/* idem; echoed in the header */
	const char	*target_path;	/* idem; echoed in the header */
	int64_t		 expire_at;	/* ms epoch, >= 0 */
	long		 difficulty;	/* 1 .. DS_POW_DIFFICULTY_MAX */
};

const char	*ds_pow_strerror(enum ds_pow_err);

/* H(msg): DeepSeekHashV1 of len bytes (msg may be NULL if len is 0). */
void		 ds_pow_hash(const void *msg, size_t len,
		    unsigned char out[DS_POW_HASH_LEN]);

/*
 * Find the smallest n in [0, difficulty) whose hash is the challenge.
 * DS_POW_NOTFOUND if there is none; *answer is only set on DS_POW_OK.
 */
enum ds_pow_err	 ds_pow_solve(const struct ds_pow_challenge *, long *answer);

/*
 * The X-Ds-Pow-Response value: standard base64 of the compact JSON
 * {"algorithm","challenge","salt","answer","signature","target_path"} in
 * that order, answer as a JSON integer.  *out is malloc'd and
 * NUL-terminated; the caller frees it.  The answer must lie in
 * [0, difficulty); it is not re-verified.
 */
enum ds_pow_err	 ds_pow_header(const struct ds_pow_challenge *, long answer,
		    char **out);

/* Which code path ds_pow_solve uses here: "avx512", "avx2" or "scalar". */
const char	*ds_pow_impl(void);

#endif
