/*
 * What store/seeds.c and store/seed_convs.c share: the record codecs
 * (fixed big-endian headers, then NUL-separated fields that are sealed),
 * the keys, sealing, the errors and the clock.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/seed_priv.h"

#define SEED_LABEL	"chat2api seed v1"

static const char *const seed_errs[SEED__MAX] = {
	[SEED_OK] = "success",
	[SEED_ENOMEM] = "out of memory",
	[SEED_INVAL] = "invalid seed, token or conversation id",
	[SEED_UNKNOWN] = "unknown seed",
	[SEED_NOPOOL] = "no active account for a new seed",
	[SEED_FULL] = "too many seeds",
	[SEED_NOTFOUND] = "no such conversation of this seed",
	[SEED_STORE] = "storage failure",
};

const char *
seed_strerror(enum seed_err e)
{
	return (unsigned)e < SEED__MAX ? seed_errs[e] : "unknown error";
}

/*
 * A transaction that fails for a reason of ours sets why and returns
 * MDB_NOTFOUND (which the store neither logs nor retries).
 */
enum seed_err
seed_map(enum store_err se, enum seed_err why)
{
	if (why != SEED_OK)
		return why;
	switch (se) {
	case STORE_OK:		return SEED_OK;
	case STORE_ENOMEM:	return SEED_ENOMEM;
	case STORE_NOTFOUND:	return SEED_NOTFOUND;
	case STORE_INVAL:	return SEED_INVAL;
	default:		return SEED_STORE;
	}
}

int
seed_fail(enum seed_err *why, enum seed_err e)
{
	*why = e;
	return MDB_NOTFOUND;
}

static int
name_chars_ok(const char *s, size_t n, size_t max, const char *extra)
{
	size_t i;

	if (s == NULL || n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != '\0' &&
		    strchr(extra, c) != NULL)))
			return 0;
	}
	return 1;
}

int
seed_name_ok(const char *s, size_t n)
{
	return name_chars_ok(s, n, SEED_LEN_MAX, "._~-");
}

int
seed_conv_id_ok(const char *s, size_t n)
{
	return name_chars_ok(s, n, SEED_CONV_ID_MAX, "_-");
}

void
seed_key(struct store *s, char pfx, const char *seed,
    unsigned char out[SEED_KEY_LEN])
{
	unsigned char mac[CRYPTO_MAC_LEN];

	store_mac(s, SEED_LABEL, seed, strlen(seed), mac);
	out[0] = (unsigned char)pfx;
	memcpy(out + 1, mac, SEED_MAC_LEN);
}

int64_t
seed_now_ms(const struct store *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec + (store_now(s) - (int64_t)time(NULL))) *
	    1000 + ts.tv_nsec / 1000000;
}

/* hdr || seal(plain), AAD = the record's key; malloc'd. */
unsigned char *
seed_seal(struct store *s, const MDB_val *k, const unsigned char *hdr,
    size_t hlen, const char *plain, size_t plen, size_t *vlen)
{
	unsigned char *v;

	*vlen = hlen + plen + CRYPTO_OVERHEAD;
	if ((v = malloc(*vlen)) == NULL)
		return NULL;
	memcpy(v, hdr, hlen);
	if (crypto_seal(&s->key, k->mv_data, k->mv_size, plain, plen,
	    v + hlen) < 0) {
		free(v);
		return NULL;
	}
	return v;
}

/* The sealed part after hlen bytes of v, opened into out (outsz). */
int
seed_open(struct store *s, const MDB_val *k, const MDB_val *v, size_t hlen,
    char *out, size_t outsz, size_t *plen)
{
	size_t n;

	if (v->mv_size < hlen + CRYPTO_OVERHEAD)
		return -1;
	n = v->mv_size - hlen - CRYPTO_OVERHEAD;
	if (n + 1 > outsz)
		return -1;
	if (crypto_open(&s->key, k->mv_data, k->mv_size,
	    (const unsigned char *)v->mv_data + hlen, v->mv_size - hlen,
	    (unsigned char *)out) < 0)
		return -1;
	out[n] = '\0';
	*plen = n;
	return 0;
}


void
seed_hdr_put(unsigned char out[SEED_HDR_LEN], const struct seed_hdr *h)
{
	out[0] = SEED_REC_VERSION;
	out[1] = (unsigned char)h->source;
	store_be64(out + 2, (uint64_t)h->created);
	store_put32(out + 10, h->nconvs);
}

int
seed_hdr_get(const void *p, size_t len, struct seed_hdr *h)
{
	const unsigned char *b = p;

	if (len < SEED_HDR_LEN || b[0] != SEED_REC_VERSION ||
	    (b[1] != SEED_POOL && b[1] != SEED_SET))
		return -1;
	h->source = (enum seed_source)b[1];
	h->created = (int64_t)store_get64(b + 2);
	h->nconvs = store_get32(b + 10);
	return 0;
}

void
seed_conv_hdr_put(unsigned char out[SEED_CONV_HDR_LEN],
    const struct seed_conv_hdr *h)
{
	out[0] = SEED_REC_VERSION;
	out[1] = h->archived ? 1 : 0;
	store_be64(out + 2, (uint64_t)h->order_ms);
	store_be64(out + 10, (uint64_t)h->create_ms);
	store_be64(out + 18, (uint64_t)h->update_ms);
}

int
seed_conv_hdr_get(const void *p, size_t len, struct seed_conv_hdr *h)
{
	const unsigned char *b = p;

	if (len < SEED_CONV_HDR_LEN || b[0] != SEED_REC_VERSION || b[1] > 1)
		return -1;
	h->archived = b[1];
	h->order_ms = (int64_t)store_get64(b + 2);
	h->create_ms = (int64_t)store_get64(b + 10);
	h->update_ms = (int64_t)store_get64(b + 18);
	return 0;
}

size_t
seed_fields_pack(char *out, size_t outsz, const char *const *f, size_t n)
{
	size_t i, len, used = 0;

	for (i = 0; i < n; i++) {
		len = f[i] != NULL ? strlen(f[i]) : 0;
		if (len + 1 > outsz - used)
			return 0;
		if (len)
			memcpy(out + used, f[i], len);
		used += len;
		out[used++] = '\0';
	}
	return used;
}

int
seed_fields_unpack(const char *p, size_t len, const char **f, size_t n)
{
	size_t i = 0, k = 0;

	if (len == 0 || p[len - 1] != '\0')
		return -1;
	f[k++] = p;
	for (i = 0; i + 1 < len; i++)
		if (p[i] == '\0') {
			if (k == n)
				return -1;
			f[k++] = p + i + 1;
		}
	return k == n ? 0 : -1;
}
