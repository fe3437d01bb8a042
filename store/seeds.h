/*
 * Gateway seeds (chatgpt.md §9.2, §9.4): a seed is a name a browser logs
 * in with instead of a credential.  It stands for a pool account (given
 * at random on first use with AUTO_SEED) or for a token an operator set
 * through /seedtoken, and it has a conversation list of its own, so
 * seeds that share an account still see only their own conversations.
 *
 * Everything lives in the "seeds" table, shared by every process:
 *
 *   'S' mac(seed)                    the seed: source, created, count of
 *                                    conversations; sealed: the seed, the
 *                                    account id or token, the team id
 *   'C' mac(seed) id                 one conversation: flags, times;
 *                                    sealed: title, gizmo id
 *   'T' mac(seed) ~order(8) id       order index, newest first
 *
 * mac(seed) is 16 bytes of an HMAC under the store key, so the keys give
 * no seed away; everything secret is sealed (AES-GCM, the record's key as
 * associated data) like the account secrets.  Every change is one short
 * write transaction.
 */
#ifndef STORE_SEEDS_H
#define STORE_SEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "store/accounts.h"
#include "store/store.h"

#define SEED_LEN_MAX		128	/* bytes of a seed name */
#define SEED_TOKEN_MAX		ACCT_SECRET_MAX
#define SEED_CONV_ID_MAX	64
#define SEED_TITLE_MAX		256	/* bytes, UTF-8 */
#define SEED_GIZMO_MAX		64
#define SEED_CONVS_MAX		1000	/* per seed: the oldest are dropped */
#define SEED_MAX		100000	/* seeds in the store */
#define SEED_PAGE_MAX		100	/* conversations in one listing */
#define SEED_MAC_LEN		16
#define SEED_KEY_LEN		(1 + SEED_MAC_LEN)

enum seed_err {
	SEED_OK = 0,
	SEED_ENOMEM,
	SEED_INVAL,	/* a name, token or id out of shape */
	SEED_UNKNOWN,	/* no such seed (and none may be made) */
	SEED_NOPOOL,	/* no active account to give a new seed */
	SEED_FULL,	/* SEED_MAX seeds already */
	SEED_NOTFOUND,	/* no such conversation of this seed */
	SEED_STORE,	/* LMDB failed, or a record does not open */
	SEED__MAX
};

enum seed_source {
	SEED_POOL = 1,	/* an account of the pool, by id */
	SEED_SET = 2,	/* a token set through /seedtoken */
};

const char	*seed_strerror(enum seed_err);
/* 1..SEED_LEN_MAX of [A-Za-z0-9._~-]: safe in a cookie, URL and header. */
int		 seed_name_ok(const char *, size_t);
/* 1..SEED_CONV_ID_MAX of [A-Za-z0-9_-]. */
int		 seed_conv_id_ok(const char *, size_t);

/* What a seed stands for in one request (seed_cred_free wipes it). */
struct seed_cred {
	enum seed_source source;
	char		*secret;			/* AT or RT */
	char		 team_id[ACCT_TEAM_MAX + 1];	/* "" for none */
	char		 account[ACCT_ID_LEN + 1];	/* SEED_POOL */
	int		 assigned;	/* this call gave it an account */
};

/*
 * The credential of seed.  An unknown seed gets a random active account
 * of provider when create is set (SEED_UNKNOWN otherwise, SEED_NOPOOL
 * when there is none); a pool seed whose account was removed or failed
 * gets another one.
 */
enum seed_err	 seed_resolve(struct store *, const char *provider,
		    const char *seed, int create, struct seed_cred *);
void		 seed_cred_free(struct seed_cred *);

/* /seedtoken: seed -> token (and team id, "" or NULL for none). */
enum seed_err	 seed_set(struct store *, const char *seed, const char *token,
		    const char *team_id);
/* The seed and its conversations. */
enum seed_err	 seed_delete(struct store *, const char *seed);

/* What an admin listing shows: never the secret. */
struct seed_info {
	char		 seed[SEED_LEN_MAX + 1];
	enum seed_source source;
	char		 fingerprint[13];	/* of the token or account */
	int64_t		 created;
	uint32_t	 conversations;
};
/* provider: whose accounts pool seeds name (for their fingerprint). */
enum seed_err	 seed_info(struct store *, const char *provider,
		    const char *seed, struct seed_info *);
enum seed_err	 seed_list(struct store *, const char *provider,
		    int (*fn)(void *, const struct seed_info *), void *);
/* How many seeds there are (a counter kept with them: no scan). */
enum seed_err	 seed_count(struct store *, size_t *);

/* One conversation of a seed, as the gateway lists it. */
struct seed_conv {
	char		 id[SEED_CONV_ID_MAX + 1];
	char		 title[SEED_TITLE_MAX + 1];
	char		 gizmo_id[SEED_GIZMO_MAX + 1];
	int		 archived;
	int64_t		 create_ms, update_ms;	/* unix milliseconds */
};

/*
 * A conversation the seed just streamed: added, or moved to the front;
 * a non-NULL title replaces the stored one.  Past SEED_CONVS_MAX the
 * oldest is dropped.
 */
enum seed_err	 seed_conv_touch(struct store *, const char *seed,
		    const char *id, const char *title);
/* *owned = 1 when id is in the seed's list. */
enum seed_err	 seed_conv_owned(struct store *, const char *seed,
		    const char *id, int *owned);

/* A PATCH of a conversation: the fields whose flag is set change. */
struct seed_conv_patch {
	unsigned	 set;
#define SEED_PATCH_TITLE	0x01
#define SEED_PATCH_ARCHIVED	0x02
	const char	*title;
	int		 archived;
};
enum seed_err	 seed_conv_patch(struct store *, const char *seed,
		    const char *id, const struct seed_conv_patch *);
enum seed_err	 seed_conv_remove(struct store *, const char *seed,
		    const char *id);
/*
 * A page of the seed's list, newest first: conversations whose archived
 * flag equals archived, from offset, at most limit (<= SEED_PAGE_MAX) of
 * them into out; *total counts every match.
 */
enum seed_err	 seed_conv_list(struct store *, const char *seed,
		    int archived, size_t offset, size_t limit,
		    struct seed_conv *out, size_t *n, size_t *total);

/*
 * The record codecs (store/seed_rec.c), exposed for the unit tests.
 * A seed record: version, source, created, count, then the sealed part.
 * A conversation record: version, flags, order, created, updated, then
 * the sealed part.  Sealed parts hold NUL-separated fields.
 */
#define SEED_REC_VERSION	1
#define SEED_HDR_LEN		14
#define SEED_CONV_HDR_LEN	26

struct seed_hdr {
	enum seed_source source;
	int64_t		 created;
	uint32_t	 nconvs;
};
struct seed_conv_hdr {
	int		 archived;
	int64_t		 order_ms, create_ms, update_ms;
};
void	 seed_hdr_put(unsigned char out[SEED_HDR_LEN], const struct seed_hdr *);
int	 seed_hdr_get(const void *, size_t, struct seed_hdr *);
void	 seed_conv_hdr_put(unsigned char out[SEED_CONV_HDR_LEN],
	    const struct seed_conv_hdr *);
int	 seed_conv_hdr_get(const void *, size_t, struct seed_conv_hdr *);
/*
 * n strings joined by NUL into out (outsz bytes); the length, or 0 when
 * a field holds a NUL or it does not fit.
 */
size_t	 seed_fields_pack(char *out, size_t outsz, const char *const *f,
	    size_t n);
/* Splits exactly n NUL-separated fields of p (len bytes, NUL-ended). */
int	 seed_fields_unpack(const char *p, size_t len, const char **f,
	    size_t n);

#endif
