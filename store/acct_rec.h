/*
 * The account record as LMDB stores it (store/ only).  A fixed header of
 * big-endian integers, then the short strings, then the sealed secret and
 * the sealed extra fields.  Decoding copies the header and strings out and
 * points at the sealed parts, which live in the map: copy them before the
 * transaction writes.
 */
#ifndef STORE_ACCT_REC_H
#define STORE_ACCT_REC_H

#include <lmdb.h>

#include "store/accounts.h"
#include "store/store_priv.h"

#define ACCT_REC_VERSION	2
#define ACCT_MAC_LEN		16	/* bytes of the secret's HMAC kept */
#define ACCT_KEY_MAX		(ACCT_PROVIDER_MAX + 1 + ACCT_ID_LEN)

struct acct_rec {
	struct acct_info	 info;
	uint32_t		 use_day;	/* YYYYMMDD of day_use */
	uint32_t		 day_use;
	unsigned char		 mac[ACCT_MAC_LEN];	/* of the current secret */
	const unsigned char	*sealed;	/* secret */
	size_t			 sealed_len;
	const unsigned char	*sealed_fields;	/* may be 0 bytes */
	size_t			 sealed_fields_len;
};

/* "<provider>:<id>" into key (ACCT_KEY_MAX + 1 bytes); its length. */
size_t	 acct_key(const char *provider, const char *id, char *key);
/* 0, or -1 when the value is not a record this version reads. */
int	 acct_rec_decode(const MDB_val *k, const MDB_val *v, struct acct_rec *,
	    uint32_t today);
/*
 * Puts r under its key (copying the sealed parts first, so they may
 * point into the map); with cur, replaces the record under that cursor.
 * An LMDB rc.
 */
int	 acct_rec_put(struct kv_txn *, MDB_dbi, struct kv_cursor *cur,
	    const struct acct_rec *);
/* Today's use as the record has it (0 on another day). */
uint32_t acct_rec_today(const struct acct_rec *, uint32_t today);

/* store/accounts.c: what a label or e-mail may hold. */
int	 acct_text_ok(const char *, size_t max);

/* The HMAC of a provider's secret; the id is its hex. */
void	 acct_secret_mac(struct store *, const char *provider,
	    const char *secret, size_t n, unsigned char mac[ACCT_MAC_LEN]);
void	 acct_hex(const unsigned char *, size_t, char *out);

/* Sealing of the extra fields (AAD: id + "/fields"). */
int	 acct_fields_seal(struct store *, const char *id,
	    const struct acct_field *, size_t n, unsigned char **out,
	    size_t *outlen);
int	 acct_fields_open(struct store *, const char *id,
	    const unsigned char *sealed, size_t len, struct acct_field **out,
	    size_t *n);

/* Schema 1 → 2 (store/acct_migrate.c), inside the opening transaction. */
int	 acct_migrate_v1(struct store *, struct kv_txn *, MDB_dbi creds,
	    MDB_dbi accounts, size_t *moved);

#endif
