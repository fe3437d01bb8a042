/*
 * pow.h - ChatGPT sentinel proof of work (protocols/chatgpt.md §3).
 *
 * The client proves work by finding a nonce i such that
 *     H(seed ‖ base64(json(config with [3]=i, [9]=i>>1)))
 * starts below a hex "difficulty".  H is SHA3-512 (§3.2); the 2026 FNV
 * variant (§14) only has a seam here (enum pow_algo), not an implementation.
 *
 * Typical use, once per upstream request:
 *
 *	struct pow_config	 cfg;
 *	struct pow_solver	*s = NULL;
 *	char			*p = NULL, *proof = NULL;
 *
 *	pow_config_defaults(&cfg, ua, script_src, dpl, time(NULL));
 *	pow_solver_new(&s, &cfg, NULL);
 *	pow_requirements_token(s, NULL, &p);	   // -> {"p": p}
 *	...chat-requirements answers seed + difficulty...
 *	rc = pow_proof_token(s, seed, diff, "000032", &proof);
 *	// POW_TOOHARD / POW_UNSOLVED -> 403 (see pow_strerror)
 *	free(p); free(proof); pow_solver_free(s);
 *
 * Cost: ~1.1 µs per try on a 2-vCPU AMD EPYC with AVX2 (4 tries per
 * SIMD batch), ~3.2 µs through OpenSSL one at a time; bench/pow_bench.
 * Expected tries: 16 for the requirements token, ~38 for "06bf7d"; the
 * hardest difficulty the default gate lets through ("000033") needs
 * ~330 000, i.e. about 0.4 s.
 *
 * Strings returned through char ** are malloc'd; the caller frees them.
 * A solver is not thread-safe (it owns scratch hash state); use one per
 * request or per thread.  Everything else is reentrant.
 */
#ifndef POW_H
#define POW_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define POW_CONFIG_LEN		18	/* elements in the §3.1 array */
#define POW_MAX_TRIES		500000UL	/* §3.2 cap */
#define POW_REQ_DIFFICULTY	"0fffff"	/* §3.3 */
#define POW_REQ_PREFIX		"gAAAAAC"	/* requirements token */
#define POW_PROOF_PREFIX	"gAAAAAB"	/* proof token */
#define POW_FALLBACK_PREFIX	"wQ8Lk5FbGpA2NcR9dShT6gYjU7VxZ4D"
#define POW_DEFAULT_LIMIT	"000032"	/* POW_DIFFICULTY default */
#define POW_HEAP_LIMIT		4294705152LL	/* config[2] */

/* Explicit input limits; longer inputs fail with POW_EINVAL. */
#define POW_SEED_MAX		256	/* bytes of seed */
#define POW_DIFFICULTY_MAX	128	/* hex digits (a whole SHA3-512) */
#define POW_JSON_MAX		16384	/* serialised config */
#define POW_TOKEN_MAX		32768	/* verify: whole token */

/* Buffer sizes for the helpers below (including the NUL). */
#define POW_SEED_BUFSZ		32
#define POW_DATE_BUFSZ		128
#define POW_UUID_BUFSZ		37
#define POW_DOUBLE_BUFSZ	32

enum pow_err {
	POW_OK = 0,
	POW_ENOMEM,	/* allocation failed */
	POW_EINVAL,	/* bad argument: NULL, too long, difficulty not hex */
	POW_ECRYPTO,	/* OpenSSL failed (fetch, digest or RAND) */
	POW_TOOHARD,	/* gate: difficulty <= POW_DIFFICULTY (§3.4) */
	POW_UNSOLVED,	/* no answer within max_tries; fallback returned */
	POW_EBADTOKEN,	/* verify: token malformed, or a fallback */
	POW_EMISMATCH,	/* verify: hash not below the difficulty */
};

/* The hash seam.  Only SHA3-512 exists today. */
enum pow_algo {
	POW_ALGO_SHA3_512 = 0,	/* §3.2 */
	/* POW_ALGO_FNV1A32: §14 (32-bit FNV-1a + fmix, "~S" suffix), TODO */
};

/*
 * How a hash prefix is compared with the difficulty (§3.2 step 5).  Both
 * read the difficulty as hex digits, case-insensitively, and look at the
 * first len(difficulty) hex digits of the hash; they differ only on exact
 * equality.  An empty difficulty accepts every hash under both rules.
 */
enum pow_rule {
	POW_RULE_BYTES = 0,	/* chat2api [C]: prefix < difficulty */
	POW_RULE_HEX,		/* g4f / sentinel JS: prefix <= difficulty */
};

/*
 * Inputs of the §3.1 config array, one member per element.  The caller
 * owns every pointed-to string; the solver copies what it needs, so the
 * struct may go away after pow_solver_new().  NULL strings are written as
 * "" except dpl, where NULL means JSON null.  Elements 3 and 9 are the
 * nonces and have no member.
 */
struct pow_config {
	long long	 screen;		/* [0] width + height */
	char		 date[POW_DATE_BUFSZ];	/* [1] Date().toString() */
	long long	 heap_limit;		/* [2] POW_HEAP_LIMIT */
	const char	*user_agent;		/* [4] */
	const char	*script_src;		/* [5] may be "" */
	const char	*dpl;			/* [6] build id; NULL: null */
	const char	*language;		/* [7] "en-US" */
	const char	*languages;		/* [8] "en-US,es-US,en,es" */
	const char	*nav_prop;		/* [10] "name\u2212value" */
	const char	*doc_prop;		/* [11] */
	const char	*win_prop;		/* [12] */
	double		 perf_now;		/* [13] performance.now() */
	char		 session_id[POW_UUID_BUFSZ];	/* [14] UUIDv4 */
	const char	*search_keys;		/* [15] "" */
	long long	 cores;			/* [16] hardwareConcurrency */
	double		 time_origin;		/* [17] performance.timeOrigin */
};

struct pow_opts {
	enum pow_algo	 algo;
	enum pow_rule	 rule;
	unsigned long	 max_tries;	/* 0: POW_MAX_TRIES */
	bool		 no_simd;	/* one try at a time via OpenSSL only
					   (benchmarks, debugging) */
};

struct pow_solver;

/*
 * Fill cfg the way chat2api does (§3.1): random screen, cores and
 * navigator/document/window properties, the current date in UTC-5, a
 * fresh UUIDv4, performance timings from the clock.  user_agent NULL
 * gives a desktop Chrome UA; script_src NULL gives the sentinel sdk.js
 * fallback; dpl is used as is (NULL: JSON null).  The strings must outlive
 * cfg.  Randomness comes from OpenSSL RAND_bytes.
 */
enum pow_err	 pow_config_defaults(struct pow_config *cfg,
		    const char *user_agent, const char *script_src,
		    const char *dpl, time_t now);

/*
 * Serialise cfg with config[3] = i and config[9] = j as §3.1 says: compact,
 * non-ASCII raw, floats in Python repr.  *json is NUL-terminated.
 */
enum pow_err	 pow_config_json(const struct pow_config *cfg,
		    unsigned long i, unsigned long j, char **json, size_t *len);

/*
 * Prepare a solver for cfg: serialise once, split around the nonces,
 * pre-encode the invariant base64 and fetch the digest.  opts NULL means
 * SHA3-512, POW_RULE_BYTES, POW_MAX_TRIES.
 */
enum pow_err	 pow_solver_new(struct pow_solver **sp,
		    const struct pow_config *cfg, const struct pow_opts *opts);
void		 pow_solver_free(struct pow_solver *s);

/*
 * §3.2.  POW_OK: *answer is the accepted base64 and *nonce (if not NULL)
 * the accepted i.  POW_UNSOLVED: *answer is pow_fallback(seed) and *nonce
 * the number of tries made.  Other errors: *answer is NULL.
 */
enum pow_err	 pow_solve(struct pow_solver *s, const char *seed,
		    const char *difficulty, char **answer,
		    unsigned long *nonce);

/*
 * §3.3: "gAAAAAC" + pow_solve(seed, "0fffff").  seed NULL draws a random
 * one (pow_random_seed).  On POW_UNSOLVED *token still holds the fallback
 * token, which chat2api sends anyway.
 */
enum pow_err	 pow_requirements_token(struct pow_solver *s,
		    const char *seed, char **token);

/*
 * §3.4: gate, then "gAAAAAB" + pow_solve(seed, difficulty).  If limit is
 * not NULL and pow_difficulty_too_high(difficulty, limit), returns
 * POW_TOOHARD without solving (*token NULL).  On POW_UNSOLVED *token holds
 * the fallback token; chat2api answers 403 instead of sending it.
 */
enum pow_err	 pow_proof_token(struct pow_solver *s, const char *seed,
		    const char *difficulty, const char *limit, char **token);

/* §3.2 step 2: POW_FALLBACK_PREFIX + base64("\"" seed "\""); NULL on ENOMEM. */
char		*pow_fallback(const char *seed);

/*
 * §3.4 gate: true when difficulty <= limit as a byte-wise string
 * comparison (lexicographically smaller = harder).  NULL limit: false.
 */
bool		 pow_difficulty_too_high(const char *difficulty,
		    const char *limit);

/*
 * Check a token the way a server would: prefix POW_PROOF_PREFIX (proof
 * true) or POW_REQ_PREFIX, a well-formed base64 body that is not a
 * fallback, and H(seed ‖ body) below difficulty under rule.  POW_OK when
 * valid, POW_EBADTOKEN or POW_EMISMATCH when not, POW_EINVAL for bad
 * arguments (NULL, unknown algo/rule, difficulty not hex).  For tests and
 * mocks: a real server cannot check a requirements token, whose seed
 * never leaves the client.
 */
enum pow_err	 pow_verify(enum pow_algo algo, enum pow_rule rule,
		    const char *seed, const char *difficulty, const char *token,
		    bool proof);

/* Python str(random.random()): a random double in [0,1), shortest repr. */
enum pow_err	 pow_random_seed(char buf[POW_SEED_BUFSZ]);

/* JS Date().toString() in fixed UTC-5, e.g. "Mon Jan 06 2025 10:00:00
 * GMT-0500 (Eastern Standard Time)".  Locale-independent. */
void		 pow_format_date(time_t t, char buf[POW_DATE_BUFSZ]);

/* Python repr(float): shortest round-trip digits, "1234.5", "1e+16",
 * "1736175600000.0".  Non-finite values give "NaN"/"Infinity" like
 * json.dumps.  Returns the length. */
size_t		 pow_repr_double(double v, char buf[POW_DOUBLE_BUFSZ]);

/* Raw digest of the selected algorithm (for tests); out needs 64 bytes.
 * Returns the digest length or 0 on error. */
size_t		 pow_hash(enum pow_algo algo, const void *p, size_t n,
		    unsigned char *out);

const char	*pow_strerror(enum pow_err err);

#endif
