/*
 * Secrets at rest: AES-256-GCM with a 32-byte key from
 * CHAT2API_SECRET_KEY (64 hex digits, or any passphrase of 16+ bytes,
 * hashed) or from <data dir>/secret.key, created mode 0600 on first start.
 * The same key signs session cookies and CSRF tokens (HMAC-SHA-256).
 */
#ifndef STORE_CRYPTO_H
#define STORE_CRYPTO_H

#include <stddef.h>

#define CRYPTO_KEY_LEN		32
#define CRYPTO_NONCE_LEN	12
#define CRYPTO_TAG_LEN		16
#define CRYPTO_OVERHEAD		(CRYPTO_NONCE_LEN + CRYPTO_TAG_LEN)
#define CRYPTO_MAC_LEN		32

struct crypto_key {
	unsigned char	k[CRYPTO_KEY_LEN];
};

int	 crypto_key_load(struct crypto_key *, const char *env_value,
	    const char *data_dir, char *err, size_t errsz);
/* out must hold ptlen + CRYPTO_OVERHEAD bytes: nonce | ciphertext | tag */
int	 crypto_seal(const struct crypto_key *, const void *aad, size_t aadlen,
	    const void *pt, size_t ptlen, unsigned char *out);
/* pt must hold inlen - CRYPTO_OVERHEAD bytes; -1 when tampered with */
int	 crypto_open(const struct crypto_key *, const void *aad, size_t aadlen,
	    const unsigned char *in, size_t inlen, unsigned char *pt);
void	 crypto_mac(const struct crypto_key *, const char *label,
	    const void *data, size_t len, unsigned char out[CRYPTO_MAC_LEN]);
/* Constant-time equality of two strings (length leaks, content not). */
int	 crypto_streq(const char *a, const char *b);
void	 crypto_wipe(void *, size_t);

#endif
