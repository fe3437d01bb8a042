/*
 * pow_internal.h - shared by the files of the ChatGPT proof of work only
 * (pow.c, pow_sha3.c, pow_config.c): the hash seam and the JSON buffer.
 * The public interface is pow.h.
 */
#ifndef UPSTREAM_CHATGPT_POW_INTERNAL_H
#define UPSTREAM_CHATGPT_POW_INTERNAL_H

#include <stddef.h>

#include "pow.h"

#define POW_DIGEST_MAX	64	/* SHA3-512 */

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

/* A bounded growable buffer for the JSON text. */
struct jbuf {
	char		*p;
	size_t		 len, cap;
	enum pow_err	 err;
};

/* pow_sha3.c */
const struct pow_hash_ops	*pow_hash_ops_for(enum pow_algo algo);

/* pow_config.c */
enum pow_err	pow_config_parts(const struct pow_config *cfg, struct jbuf *b,
	    size_t *oi, size_t *oj);
size_t	pow_utoa(unsigned long v, char *out);

#endif /* UPSTREAM_CHATGPT_POW_INTERNAL_H */
