/*
 * sign.h - the X-Timestamp / X-Nonce / X-Sign triple every GLM call
 * carries (providers.md §3.3):
 *
 *  - the timestamp is the epoch in milliseconds as decimal digits, with
 *    its second-to-last digit replaced by (the sum of all the other
 *    digits) mod 10;
 *  - the nonce is a random UUID (with dashes here; the web client's
 *    checker also sends 32 hex digits, the server takes both);
 *  - the sign is the lowercase hex MD5 of "TIMESTAMP-NONCE-SECRET" with
 *    the secret of the web client.
 *
 * Pure functions but glm_sign_now(), which reads the clock and draws the
 * nonce; the unit tests hold the document's two vectors against the rest.
 */
#ifndef UPSTREAM_GLM_SIGN_H
#define UPSTREAM_GLM_SIGN_H

#include <stddef.h>

#define GLM_SIGN_SECRET		"8a1317a7468aa3ad86e997d08f3f31cb"
#define GLM_TS_MAX		20	/* digits of a 64-bit ms time */
#define GLM_NONCE_MAX		64

struct glm_sign {
	char	timestamp[GLM_TS_MAX + 1];
	char	nonce[GLM_NONCE_MAX + 1];
	char	sign[33];
};

/*
 * The X-Timestamp of now_ms into out; 0, or -1 when now_ms is negative,
 * has fewer than two digits or does not fit.
 */
int	 glm_sign_timestamp(long long now_ms, char *out, size_t outsz);
/* The whole triple for a given time and nonce; 0 or -1 (as above). */
int	 glm_sign_make(long long now_ms, const char *nonce, struct glm_sign *);
/* The triple for now with a fresh random nonce. */
int	 glm_sign_now(struct glm_sign *);

#endif
