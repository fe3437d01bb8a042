/*
 * The credential pool in LMDB, shared by every process on the data dir.
 * Secrets are encrypted at rest (AES-256-GCM, store/crypto.c); listings
 * carry only a fingerprint.  Records are keyed by an HMAC of the secret,
 * so uploading the same token twice keeps one record.
 */
#ifndef STORE_CREDS_H
#define STORE_CREDS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

enum cred_kind {
	CRED_ACCESS = 1,	/* eyJ... JWT access token, or fk-... share token */
	CRED_REFRESH,		/* 45-char (or rt-...) refresh token */
	CRED_OTHER,		/* anything else: used as an access token */
};

enum cred_status {
	CRED_ACTIVE = 0,
	CRED_ERROR,		/* 401/403 or refresh failure: skipped */
};

#define CRED_ID_LEN		32	/* hex chars of the record key */
#define CRED_SECRET_MAX		16384
#define CRED_ACCOUNT_MAX	128
#define CRED_REASON_MAX		256
#define CRED_MAX_RECORDS	100000

/* What a listing shows: never the secret. */
struct cred_info {
	char		 id[CRED_ID_LEN + 1];
	char		 fingerprint[13];	/* log_fingerprint() of it */
	enum cred_kind	 kind;
	enum cred_status status;
	char		 account_id[CRED_ACCOUNT_MAX + 1];
	uint32_t	 error_count;
	char		 last_error[CRED_REASON_MAX + 1];
	int64_t		 last_error_at;
	int64_t		 last_used_at;
	int64_t		 created_at;
	int64_t		 cooldown_until;	/* 429: skipped until then */
};

/* A credential picked for one request; secret is malloc'd, wipe+free. */
struct cred_pick {
	struct cred_info	 info;
	char			*secret;
};

enum cred_pick_mode { CRED_PICK_RANDOM, CRED_PICK_ROUND_ROBIN };

enum cred_kind	 cred_detect_kind(const char *secret);
const char	*cred_kind_name(enum cred_kind);
const char	*cred_status_name(enum cred_status);

/* Adds or refreshes one credential; *added 1 if it was new. */
enum store_err	 cred_add(struct store *, const char *secret,
		    const char *account_id, int *added);
/*
 * Adds every non-empty line not starting with '#'; a line may be
 * "secret,account_id".  Counts what was added and what was a duplicate.
 */
enum store_err	 cred_add_lines(struct store *, const char *text,
		    size_t len, size_t *added, size_t *dups);
enum store_err	 cred_remove(struct store *, const char *id_or_fp);
enum store_err	 cred_clear(struct store *, size_t *removed);
/* Visits every record in key order; the callback returns 0 to go on. */
enum store_err	 cred_list(struct store *,
		    int (*fn)(void *, const struct cred_info *), void *);
/* Like cred_list but with the decrypted secret (export, refresh). */
enum store_err	 cred_export(struct store *,
		    int (*fn)(void *, const struct cred_info *, const char *),
		    void *);

struct cred_counts {
	size_t	total, active, error, cooling;
	size_t	by_kind[4];	/* indexed by enum cred_kind */
};
enum store_err	 cred_count(struct store *, struct cred_counts *);

/*
 * Picks an active, not cooling credential: uniformly at random, or the
 * next in a round-robin cursor kept in LMDB (fair across processes).
 * STORE_NOTFOUND when the pool has none.
 */
enum store_err	 cred_pick(struct store *, enum cred_pick_mode,
		    struct cred_pick *);
void		 cred_pick_free(struct cred_pick *);

/* Outcome bookkeeping for the request that used a credential. */
enum store_err	 cred_mark_error(struct store *, const char *id,
		    const char *reason);
enum store_err	 cred_mark_cooldown(struct store *, const char *id,
		    int64_t until);
enum store_err	 cred_errors_clear(struct store *);

/* Seeds (gateway): seed -> credential id.  Cleared by /seed_tokens/clear. */
enum store_err	 cred_seeds_clear(struct store *, size_t *removed);

/*
 * RefreshToken -> AccessToken cache, keyed by an HMAC of the RT.  lookup
 * gives STORE_NOTFOUND when missing or expired.  The exchange lock makes
 * concurrent requests for one RT (in any process) do a single exchange:
 * acquire returns 1 to the one that must exchange, 0 to the others, who
 * wait for the cache (cred_rt_wait).
 */
enum store_err	 cred_rt_lookup(struct store *, const char *rt, char **at,
		    int64_t *expires);
enum store_err	 cred_rt_store(struct store *, const char *rt, const char *at,
		    int64_t expires);
enum store_err	 cred_rt_forget(struct store *, const char *rt);
enum store_err	 cred_rt_lock(struct store *, const char *rt, int *acquired);
enum store_err	 cred_rt_unlock(struct store *, const char *rt);

/* The record id a secret would have (whether stored or not). */
enum store_err	 cred_id_of(struct store *, const char *secret,
		    char out[CRED_ID_LEN + 1]);

/* A fingerprint that can be shown anywhere (12 hex of SHA-256). */
void		 cred_fingerprint(const char *secret, char out[13]);

#endif
