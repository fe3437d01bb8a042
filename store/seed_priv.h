/* Shared by store/seeds.c, store/seed_convs.c and store/seed_rec.c only. */
#ifndef STORE_SEED_PRIV_H
#define STORE_SEED_PRIV_H

#include "store/seeds.h"
#include "store/store_priv.h"

/* 'S', 'C' or 'T' and 16 bytes of the seed's HMAC. */
void		 seed_key(struct store *, char pfx, const char *seed,
		    unsigned char out[SEED_KEY_LEN]);
/* Wall clock in ms, moved like store_now() in tests. */
int64_t		 seed_now_ms(const struct store *);
/* hdr || seal(plain) with the record's key as AAD; malloc'd. */
unsigned char	*seed_seal(struct store *, const MDB_val *k,
		    const unsigned char *hdr, size_t hlen, const char *plain,
		    size_t plen, size_t *vlen);
/* The sealed part after hlen bytes of v, opened into out (outsz). */
int		 seed_open(struct store *, const MDB_val *k, const MDB_val *v,
		    size_t hlen, char *out, size_t outsz, size_t *plen);
/*
 * A transaction that fails for a reason of ours sets *why and returns
 * MDB_NOTFOUND (which the store neither logs nor retries); seed_map()
 * turns the outcome into a seed_err.
 */
int		 seed_fail(enum seed_err *why, enum seed_err);
enum seed_err	 seed_map(enum store_err, enum seed_err why);

#endif
