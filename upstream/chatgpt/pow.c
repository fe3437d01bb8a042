/*
 * pow.c - ChatGPT sentinel proof of work: the solver, the difficulty
 * test and the requirements / proof tokens; see pow.h and
 * protocols/chatgpt.md §3.  The hash (SHA3-512, 4 SIMD lanes) is in
 * pow_sha3.c, the config and its JSON in pow_config.c.
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
	if ((s->ops = pow_hash_ops_for(opts->algo)) == NULL)
		goto fail;
	if ((rc = s->ops->state_new(&s->hs)) != POW_OK)
		goto fail;

	if ((rc = pow_config_parts(cfg, &b, &oi, &oj)) != POW_OK)
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
	na = s->rem0_len + pow_utoa(i, (char *)a + s->rem0_len);
	k1 = (3 - na % 3) % 3;
	memcpy(a + na, s->p1, k1);
	o += b64_encode(a, na + k1, o);
	memcpy(o, s->t1[k1], s->t1_len[k1]);
	o += s->t1_len[k1];

	memcpy(a, s->r1[k1], s->r1_len[k1]);
	na = s->r1_len[k1] + pow_utoa(j, (char *)a + s->r1_len[k1]);
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
	const struct pow_hash_ops	*ops = pow_hash_ops_for(algo);
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
