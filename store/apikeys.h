/*
 * Proxy API keys (providers.md §10.6): random keys an operator hands to
 * clients, beside the AUTHORIZATION codes.  Only an HMAC of a key is
 * stored (under the store's secret key), so the table cannot give a key
 * back; it is shown once, when created.  A lookup is one LMDB get by that
 * HMAC, so checking a key costs the same whether it exists or not.
 */
#ifndef STORE_APIKEYS_H
#define STORE_APIKEYS_H

#include <stdint.h>

#include "store/store.h"

#define APIKEY_LEN		51	/* "sk-" + 48 letters and digits */
#define APIKEY_MIN		16	/* shorter is no key */
#define APIKEY_MAX		256
#define APIKEY_ID_LEN		12	/* hex shown in listings */
#define APIKEY_NAME_MAX		64
#define APIKEY_MAX_RECORDS	10000

struct apikey_info {
	char		 id[APIKEY_ID_LEN + 1];
	char		 name[APIKEY_NAME_MAX + 1];
	char		 hint[16];	/* "sk-AbCd…wxyz" */
	int		 enabled;
	int64_t		 created_at;
	int64_t		 last_used_at;
	uint64_t	 requests;
};

/* A new key into key (APIKEY_LEN + 1 bytes); shown once. */
enum store_err	 apikey_create(struct store *, const char *name, char *key,
		    struct apikey_info *);
/*
 * STORE_OK with info when candidate is a key (enabled or not; check
 * info.enabled), STORE_NOTFOUND when it is none.  With count, an enabled
 * key's use is recorded (requests, last use).
 */
enum store_err	 apikey_check(struct store *, const char *candidate,
		    int count, struct apikey_info *);
enum store_err	 apikey_list(struct store *,
		    int (*fn)(void *, const struct apikey_info *), void *);
/* id: the 12 hex of a listing. */
enum store_err	 apikey_enable(struct store *, const char *id, int enabled);
enum store_err	 apikey_remove(struct store *, const char *id);
/* Whether any key exists (REQUIRE_API_KEY hints, /v1/models). */
enum store_err	 apikey_count(struct store *, size_t *n);

#endif
