#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>

#include "fcgi/hex.h"
#include "store/crypto.h"

static int
key_from_env(struct crypto_key *key, const char *v, char *err, size_t errsz)
{
	size_t i, n = strlen(v);
	unsigned int mdlen;

	if (n == 64) {
		for (i = 0; i < 32; i++) {
			int hi = hex_value(v[2 * i]);
			int lo = hex_value(v[2 * i + 1]);

			if (hi < 0 || lo < 0)
				break;
			key->k[i] = (unsigned char)(hi << 4 | lo);
		}
		if (i == 32)
			return 0;
	}
	if (n < 16) {
		snprintf(err, errsz, "CHAT2API_SECRET_KEY: accepts 64 hex "
		    "digits or a passphrase of at least 16 characters");
		return -1;
	}
	/* A passphrase: stretched once with SHA-256 (it is a server key). */
	EVP_Digest(v, n, key->k, &mdlen, EVP_sha256(), NULL);
	return 0;
}

static int
read_all(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int
crypto_key_load(struct crypto_key *key, const char *env, const char *dir,
    char *err, size_t errsz)
{
	char path[4096];
	unsigned char fresh[CRYPTO_KEY_LEN];
	int fd, tries;
	ssize_t w;

	if (env != NULL && *env != '\0')
		return key_from_env(key, env, err, errsz);
	snprintf(path, sizeof(path), "%s/secret.key", dir);
	for (tries = 0; tries < 50; tries++) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			struct stat st;
			if (fstat(fd, &st) == 0 && st.st_size == 0) {
				/* Another process is writing it right now. */
				close(fd);
				usleep(20 * 1000);
				continue;
			}
			if (read_all(fd, key->k, CRYPTO_KEY_LEN) < 0) {
				close(fd);
				snprintf(err, errsz, "%s: short or unreadable "
				    "key file", path);
				return -1;
			}
			close(fd);
			return 0;
		}
		if (errno != ENOENT)
			break;
		/* First start: exactly one process creates the key. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			break;
		if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
			close(fd);
			unlink(path);
			snprintf(err, errsz, "no randomness for the key");
			return -1;
		}
		w = write(fd, fresh, sizeof(fresh));
		if (w != (ssize_t)sizeof(fresh) || fsync(fd) < 0) {
			close(fd);
			unlink(path);
			break;
		}
		close(fd);
		memcpy(key->k, fresh, sizeof(fresh));
		crypto_wipe(fresh, sizeof(fresh));
		return 0;
	}
	snprintf(err, errsz, "%s: %s", path, strerror(errno));
	return -1;
}

int
crypto_seal(const struct crypto_key *key, const void *aad, size_t aadlen,
    const void *pt, size_t ptlen, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx;
	unsigned char *nonce = out, *ct = out + CRYPTO_NONCE_LEN;
	int n, rc = -1;

	if (RAND_bytes(nonce, CRYPTO_NONCE_LEN) != 1 ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->k, nonce) !=
	    1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &n, pt, (int)ptlen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_LEN,
	    ct + ptlen) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
crypto_open(const struct crypto_key *key, const void *aad, size_t aadlen,
    const unsigned char *in, size_t inlen, unsigned char *pt)
{
	EVP_CIPHER_CTX *ctx;
	size_t ctlen;
	int n, rc = -1;

	if (inlen < CRYPTO_OVERHEAD || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ctlen = inlen - CRYPTO_OVERHEAD;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->k, in) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1 ||
	    EVP_DecryptUpdate(ctx, pt, &n, in + CRYPTO_NONCE_LEN,
	    (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_LEN,
	    (void *)(in + CRYPTO_NONCE_LEN + ctlen)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + n, &n) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

void
crypto_mac(const struct crypto_key *key, const char *label, const void *data,
    size_t len, unsigned char out[CRYPTO_MAC_LEN])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	size_t outl = 0;

	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256",
	    0);
	params[1] = OSSL_PARAM_construct_end();
	/* The label (with its NUL) separates uses of the one key. */
	if (c == NULL || EVP_MAC_init(c, key->k, CRYPTO_KEY_LEN, params) != 1 ||
	    EVP_MAC_update(c, (const unsigned char *)label,
	    strlen(label) + 1) != 1 ||
	    EVP_MAC_update(c, data, len) != 1 ||
	    EVP_MAC_final(c, out, &outl, CRYPTO_MAC_LEN) != 1)
		memset(out, 0, CRYPTO_MAC_LEN);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
}

int
crypto_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

void
crypto_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}
