/*
 * The account record codec.  Layout (version 2, big-endian):
 *
 *	  0 version	  1 kind	  2 status	  3 reserved
 *	  4 error_count	  8 created_at	 16 last_used_at	 24 last_error_at
 *	 32 cooldown	 40 last_fail_at	 48 daily_limit	 52 use_day
 *	 56 day_use	 60 weight	 64 requests	 72 successes
 *	 80 failures	 88 latency_ms	 92 fail_streak	 96 mac[16]
 *	112 fingerprint[12]		124 sealed_len	128 fields_len
 *	132 provider, label, team, email lengths (1 byte each)
 *	136 last_error length (2)	138 reserved (2)
 *	140 provider label team email last_error sealed fields
 *
 * Day use is stored with its day, so a new day starts at zero without any
 * job: the count of another day simply does not count.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/acct_rec.h"
#include "store/crypto.h"

#define HDR		140

void
acct_hex(const unsigned char *p, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = h[p[i] >> 4];
		out[2 * i + 1] = h[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ChatGPT keeps the label of schema 1 so its ids do not change. */
void
acct_secret_mac(struct store *s, const char *provider, const char *secret,
    size_t n, unsigned char mac[ACCT_MAC_LEN])
{
	unsigned char full[CRYPTO_MAC_LEN];
	char label[32 + ACCT_PROVIDER_MAX];

	if (strcmp(provider, "chatgpt") == 0)
		snprintf(label, sizeof(label), "cred-id");
	else
		snprintf(label, sizeof(label), "cred-id:%s", provider);
	crypto_mac(&s->key, label, secret, n, full);
	memcpy(mac, full, ACCT_MAC_LEN);
}

size_t
acct_key(const char *provider, const char *id, char *key)
{
	int n = snprintf(key, ACCT_KEY_MAX + 1, "%s:%s", provider, id);

	return n > 0 && n <= ACCT_KEY_MAX ? (size_t)n : 0;
}

uint32_t
acct_rec_today(const struct acct_rec *r, uint32_t today)
{
	return r->use_day == today ? r->day_use : 0;
}

/* A short string of the variable part into a fixed buffer. */
static int
take(const unsigned char **p, const unsigned char *end, size_t n,
    char *out, size_t max)
{
	if (n > max || (size_t)(end - *p) < n)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return 0;
}

int
acct_rec_decode(const MDB_val *k, const MDB_val *v, struct acct_rec *r,
    uint32_t today)
{
	const unsigned char *p = v->mv_data, *q, *end;
	const char *colon;
	struct acct_info *in = &r->info;
	size_t plen;

	if (v->mv_size < HDR || p[0] != ACCT_REC_VERSION ||
	    k->mv_size > ACCT_KEY_MAX || k->mv_size < ACCT_ID_LEN + 2)
		return -1;
	colon = memchr(k->mv_data, ':', k->mv_size);
	if (colon == NULL || k->mv_size - (size_t)(colon -
	    (const char *)k->mv_data) - 1 != ACCT_ID_LEN)
		return -1;
	memset(r, 0, sizeof(*r));
	memcpy(in->id, colon + 1, ACCT_ID_LEN);
	in->kind = p[1];
	in->status = p[2] < ACCT__STATUS_MAX ? (enum acct_status)p[2] :
	    ACCT_ERROR;
	in->error_count = store_get32(p + 4);
	in->created_at = (int64_t)store_get64(p + 8);
	in->last_used_at = (int64_t)store_get64(p + 16);
	in->last_error_at = (int64_t)store_get64(p + 24);
	in->cooldown_until = (int64_t)store_get64(p + 32);
	in->last_fail_at = (int64_t)store_get64(p + 40);
	in->daily_limit = store_get32(p + 48);
	r->use_day = store_get32(p + 52);
	r->day_use = store_get32(p + 56);
	in->weight = store_get32(p + 60);
	in->requests = store_get64(p + 64);
	in->successes = store_get64(p + 72);
	in->failures = store_get64(p + 80);
	in->last_latency_ms = store_get32(p + 88);
	in->fail_streak = store_get32(p + 92);
	memcpy(r->mac, p + 96, ACCT_MAC_LEN);
	memcpy(in->fingerprint, p + 112, 12);
	r->sealed_len = store_get32(p + 124);
	r->sealed_fields_len = store_get32(p + 128);
	in->today_use = acct_rec_today(r, today);
	q = p + HDR;
	end = p + v->mv_size;
	plen = p[132];
	if (take(&q, end, plen, in->provider, ACCT_PROVIDER_MAX) < 0 ||
	    take(&q, end, p[133], in->label, ACCT_LABEL_MAX) < 0 ||
	    take(&q, end, p[134], in->team_id, ACCT_TEAM_MAX) < 0 ||
	    take(&q, end, p[135], in->email, ACCT_EMAIL_MAX) < 0 ||
	    take(&q, end, (size_t)(p[136] << 8 | p[137]), in->last_error,
	    ACCT_REASON_MAX) < 0)
		return -1;
	/* The key names the provider too; they must agree. */
	if ((size_t)(colon - (const char *)k->mv_data) != plen ||
	    memcmp(k->mv_data, in->provider, plen) != 0)
		return -1;
	if ((size_t)(end - q) != r->sealed_len + r->sealed_fields_len)
		return -1;
	r->sealed = q;
	r->sealed_fields = q + r->sealed_len;
	return 0;
}

int
acct_rec_put(struct kv_txn *txn, MDB_dbi dbi, struct kv_cursor *cur,
    const struct acct_rec *r)
{
	const struct acct_info *in = &r->info;
	size_t lp = strlen(in->provider), ll = strlen(in->label),
	    lt = strlen(in->team_id), le = strlen(in->email),
	    lr = strlen(in->last_error), size;
	char key[ACCT_KEY_MAX + 1];
	unsigned char *buf, *q;
	MDB_val k, v;
	int rc;

	if (lp > ACCT_PROVIDER_MAX || ll > ACCT_LABEL_MAX ||
	    lt > ACCT_TEAM_MAX || le > ACCT_EMAIL_MAX || lr > ACCT_REASON_MAX)
		return EINVAL;
	if ((k.mv_size = acct_key(in->provider, in->id, key)) == 0)
		return EINVAL;
	k.mv_data = key;
	size = HDR + lp + ll + lt + le + lr + r->sealed_len +
	    r->sealed_fields_len;
	if ((buf = calloc(1, size)) == NULL)
		return ENOMEM;
	buf[0] = ACCT_REC_VERSION;
	buf[1] = (unsigned char)in->kind;
	buf[2] = (unsigned char)in->status;
	store_put32(buf + 4, in->error_count);
	store_be64(buf + 8, (uint64_t)in->created_at);
	store_be64(buf + 16, (uint64_t)in->last_used_at);
	store_be64(buf + 24, (uint64_t)in->last_error_at);
	store_be64(buf + 32, (uint64_t)in->cooldown_until);
	store_be64(buf + 40, (uint64_t)in->last_fail_at);
	store_put32(buf + 48, in->daily_limit);
	store_put32(buf + 52, r->use_day);
	store_put32(buf + 56, r->day_use);
	store_put32(buf + 60, in->weight);
	store_be64(buf + 64, (uint64_t)in->requests);
	store_be64(buf + 72, (uint64_t)in->successes);
	store_be64(buf + 80, (uint64_t)in->failures);
	store_put32(buf + 88, in->last_latency_ms);
	store_put32(buf + 92, in->fail_streak);
	memcpy(buf + 96, r->mac, ACCT_MAC_LEN);
	memcpy(buf + 112, in->fingerprint, 12);
	store_put32(buf + 124, (uint32_t)r->sealed_len);
	store_put32(buf + 128, (uint32_t)r->sealed_fields_len);
	buf[132] = (unsigned char)lp;
	buf[133] = (unsigned char)ll;
	buf[134] = (unsigned char)lt;
	buf[135] = (unsigned char)le;
	buf[136] = (unsigned char)(lr >> 8);
	buf[137] = (unsigned char)lr;
	q = buf + HDR;
	memcpy(q, in->provider, lp);
	q += lp;
	memcpy(q, in->label, ll);
	q += ll;
	memcpy(q, in->team_id, lt);
	q += lt;
	memcpy(q, in->email, le);
	q += le;
	memcpy(q, in->last_error, lr);
	q += lr;
	if (r->sealed_len)
		memcpy(q, r->sealed, r->sealed_len);
	q += r->sealed_len;
	if (r->sealed_fields_len)
		memcpy(q, r->sealed_fields, r->sealed_fields_len);
	v.mv_size = size;
	v.mv_data = buf;
	/* Under an iterating cursor the record is replaced in place. */
	rc = cur != NULL ? kv_cursor_put(cur, &k, &v, MDB_CURRENT) :
	    kv_put(txn, dbi, &k, &v, 0);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ fields */

/* Plain form: per field a name length byte, the name, a 2-byte value
 * length and the value. */
int
acct_fields_seal(struct store *s, const char *id,
    const struct acct_field *f, size_t n, unsigned char **out,
    size_t *outlen)
{
	unsigned char *pt = NULL, *q;
	char aad[ACCT_ID_LEN + 8];
	size_t i, len = 0, nl, vl;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (n == 0)
		return 0;
	if (n > ACCT_FIELDS_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		nl = strlen(f[i].name);
		vl = strlen(f[i].value);
		if (nl == 0 || nl > ACCT_FIELD_NAME_MAX ||
		    vl > ACCT_FIELD_VALUE_MAX)
			return -1;
		len += 3 + nl + vl;
	}
	if ((pt = malloc(len)) == NULL ||
	    (*out = malloc(len + CRYPTO_OVERHEAD)) == NULL)
		goto fail;
	for (i = 0, q = pt; i < n; i++) {
		nl = strlen(f[i].name);
		vl = strlen(f[i].value);
		*q++ = (unsigned char)nl;
		memcpy(q, f[i].name, nl);
		q += nl;
		*q++ = (unsigned char)(vl >> 8);
		*q++ = (unsigned char)vl;
		memcpy(q, f[i].value, vl);
		q += vl;
	}
	snprintf(aad, sizeof(aad), "%s/fields", id);
	if (crypto_seal(&s->key, aad, strlen(aad), pt, len, *out) < 0)
		goto fail;
	*outlen = len + CRYPTO_OVERHEAD;
	rc = 0;
fail:
	if (pt != NULL) {
		crypto_wipe(pt, len);
		free(pt);
	}
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * One block holds the array and the strings it points to, so a single
 * free (after a wipe of the whole block) releases it.
 */
int
acct_fields_open(struct store *s, const char *id, const unsigned char *sealed,
    size_t len, struct acct_field **out, size_t *n)
{
	unsigned char *pt = NULL, *p, *end;
	char aad[ACCT_ID_LEN + 8], *blk = NULL, *str;
	size_t ptlen, cnt = 0, nl, vl, i;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (len == 0)
		return 0;
	if (len < CRYPTO_OVERHEAD)
		return -1;
	ptlen = len - CRYPTO_OVERHEAD;
	if ((pt = malloc(ptlen + 1)) == NULL)
		return -1;
	snprintf(aad, sizeof(aad), "%s/fields", id);
	if (crypto_open(&s->key, aad, strlen(aad), sealed, len, pt) < 0)
		goto fail;
	for (p = pt, end = pt + ptlen; p < end; cnt++) {
		if ((size_t)(end - p) < 3 || (nl = *p) + 3 > (size_t)(end - p))
			goto fail;
		vl = (size_t)(p[1 + nl] << 8 | p[2 + nl]);
		if (3 + nl + vl > (size_t)(end - p))
			goto fail;
		p += 3 + nl + vl;
	}
	if (cnt > ACCT_FIELDS_MAX ||
	    (blk = malloc(cnt * sizeof(**out) + ptlen + 2 * cnt)) == NULL)
		goto fail;
	*out = (struct acct_field *)(void *)blk;
	str = blk + cnt * sizeof(**out);
	for (i = 0, p = pt; i < cnt; i++) {
		nl = *p;
		vl = (size_t)(p[1 + nl] << 8 | p[2 + nl]);
		memcpy(str, p + 1, nl);
		str[nl] = '\0';
		(*out)[i].name = str;
		str += nl + 1;
		memcpy(str, p + 3 + nl, vl);
		str[vl] = '\0';
		(*out)[i].value = str;
		str += vl + 1;
		p += 3 + nl + vl;
	}
	*n = cnt;
	rc = 0;
fail:
	crypto_wipe(pt, ptlen);
	free(pt);
	if (rc < 0) {
		*out = NULL;
		*n = 0;
	}
	return rc;
}
