/*
 * Accounts: the upstream credentials of every provider, in LMDB, shared
 * by every process on the data dir.  One record per account: provider,
 * label, the credential (AES-256-GCM at rest) and its extra fields,
 * status, the last error, today's use against a daily limit, weight and
 * counters.  Listings carry only a fingerprint of the secret.
 *
 * Record keys are "<provider>:<id>" so one provider's accounts are one
 * range of the table.  The id is 32 hex digits of an HMAC of the secret
 * as it was when the account was added; it stays when a provider rotates
 * the secret, and for ChatGPT it is the id the credential pool of schema
 * 1 used, so every old reference keeps working.
 *
 * Picks, counts and outcome bookkeeping are each one short write
 * transaction: two processes can never both take the last use of a day,
 * and a removed account is never handed out again.
 */
#ifndef STORE_ACCOUNTS_H
#define STORE_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define ACCT_ID_LEN		32	/* hex chars */
#define ACCT_PROVIDER_MAX	15	/* [a-z0-9_] */
#define ACCT_LABEL_MAX		64
#define ACCT_TEAM_MAX		128	/* ChatGPT workspace (account) id */
#define ACCT_EMAIL_MAX		128
#define ACCT_REASON_MAX		256
#define ACCT_SECRET_MAX		16384
#define ACCT_FIELDS_MAX		8	/* extra credential fields */
#define ACCT_FIELD_NAME_MAX	32
#define ACCT_FIELD_VALUE_MAX	8192
#define ACCT_WEIGHT_MAX		100
#define ACCT_LIMIT_MAX		10000000
#define ACCT_MAX_RECORDS	100000
#define ACCT_FAIL_WINDOW	60	/* s a soft failure keeps failover away */

enum acct_status {
	ACCT_ACTIVE = 0,
	ACCT_ERROR = 1,		/* the upstream refused it (401/403) */
	ACCT_INACTIVE = 2,	/* disabled by the operator */
	ACCT_EXPIRED = 3,	/* the upstream said the login expired */
	ACCT__STATUS_MAX
};

/* What a listing shows: never the secret. */
struct acct_info {
	char		 id[ACCT_ID_LEN + 1];
	char		 fingerprint[13];
	char		 provider[ACCT_PROVIDER_MAX + 1];
	int		 kind;		/* provider-defined, e.g. refresh token */
	enum acct_status status;
	char		 label[ACCT_LABEL_MAX + 1];
	char		 team_id[ACCT_TEAM_MAX + 1];
	char		 email[ACCT_EMAIL_MAX + 1];
	uint32_t	 error_count;
	char		 last_error[ACCT_REASON_MAX + 1];
	int64_t		 last_error_at;
	int64_t		 last_used_at;
	int64_t		 created_at;
	int64_t		 cooldown_until;	/* 429: skipped until then */
	uint32_t	 daily_limit;		/* 0: none */
	uint32_t	 today_use;		/* uses on the store's today */
	uint32_t	 weight;		/* 1..ACCT_WEIGHT_MAX */
	uint64_t	 requests, successes, failures;
	uint32_t	 last_latency_ms;
	uint32_t	 fail_streak;		/* soft failures in a row */
	int64_t		 last_fail_at;
};

struct acct_field {
	const char	*name;
	const char	*value;
};

/* One account to add. */
struct acct_new {
	const char		*provider;
	const char		*secret;
	size_t			 secret_len;
	int			 kind;
	const char		*team_id;	/* may be NULL */
	size_t			 team_len;
	const char		*label;		/* may be NULL */
	uint32_t		 daily_limit;
	uint32_t		 weight;	/* 0: 1 */
	const struct acct_field	*fields;
	size_t			 nfields;
};

/* An account taken for one request, with its secret (wipe + free). */
struct acct_pick {
	struct acct_info	 info;
	char			*secret;
	struct acct_field	*fields;	/* one malloc'd block */
	size_t			 nfields;
	int			 counted;	/* today's use was reserved */
};

enum acct_strategy {
	ACCT_ROUND_ROBIN = 0,
	ACCT_FILL_FIRST,	/* one account until its daily limit */
	ACCT_FAILOVER,		/* first healthy one in order */
	ACCT_WEIGHTED,		/* by weight, interleaved, exact per cycle */
	ACCT_RANDOM,
	ACCT__STRATEGY_MAX
};

struct acct_pick_opts {
	const char		*provider;
	enum acct_strategy	 strategy;
	const char		*prefer;	/* pinned id or fingerprint */
	const char *const	*skip;		/* ids this request tried */
	size_t			 nskip;
	int			 reuse_skipped;	/* none left: a tried one */
};

/* Why nothing could be picked (or what was passed over). */
struct acct_pick_why {
	size_t	total, inactive, error, expired, cooling, over_limit, skipped;
	int64_t	cooling_left;	/* s until the first cooling one is back */
};

enum acct_outcome {
	ACCT_OUT_OK,		/* answered */
	ACCT_OUT_SOFT,		/* 5xx, network: counts toward failover */
	ACCT_OUT_ERROR,		/* 401/403: status error */
	ACCT_OUT_EXPIRED,	/* the provider says the login expired */
	ACCT_OUT_LIMITED,	/* 429: cools down until cooldown_until */
	ACCT_OUT_REFUSED,	/* the request's own fault (400, 404): counted only */
};

struct acct_result {
	enum acct_outcome	 outcome;
	uint32_t		 latency_ms;
	const char		*reason;	/* for errors */
	long			 cooldown_s;	/* LIMITED: from now */
	int			 refund;	/* give today's use back */
};

/* Partial change of an account; a field applies when its flag is set. */
struct acct_change {
	unsigned	 set;
#define ACCT_SET_LABEL	0x01
#define ACCT_SET_LIMIT	0x02
#define ACCT_SET_WEIGHT	0x04
#define ACCT_SET_STATUS	0x08	/* also clears the error and cool-down */
#define ACCT_SET_EMAIL	0x10
#define ACCT_SET_LATENCY 0x20
	const char	*label;
	uint32_t	 daily_limit;
	uint32_t	 weight;
	enum acct_status status;
	const char	*email;
	uint32_t	 latency_ms;
	const char	*reason;	/* with ACCT_SET_STATUS: last error */
};

const char	*acct_status_name(enum acct_status);
int		 acct_status_parse(const char *, enum acct_status *);
const char	*acct_strategy_name(enum acct_strategy);
int		 acct_strategy_parse(const char *, enum acct_strategy *);
int		 acct_provider_ok(const char *);
/* What a secret and a team id may hold (one printable token each). */
int		 acct_secret_ok(const char *, size_t);
int		 acct_team_ok(const char *, size_t);

/* The id a secret of a provider gets when added. */
enum store_err	 acct_id_of(struct store *, const char *provider,
		    const char *secret, char out[ACCT_ID_LEN + 1]);

/*
 * Adds accounts in one transaction (all or none).  A secret the provider
 * already has is a duplicate: its team id, when given, is updated.
 * first_id, if not NULL, gets the id of the first item.
 */
enum store_err	 acct_add(struct store *, const struct acct_new *, size_t n,
		    size_t *added, size_t *dups, char *first_id);
/* By id or fingerprint; provider NULL: any. */
enum store_err	 acct_remove(struct store *, const char *provider,
		    const char *id_or_fp);
enum store_err	 acct_clear(struct store *, const char *provider,
		    size_t *removed);
enum store_err	 acct_get(struct store *, const char *id_or_fp,
		    struct acct_info *);
enum store_err	 acct_set(struct store *, const char *id_or_fp,
		    const struct acct_change *);
/* Puts every error, expired and cooling account of provider back. */
enum store_err	 acct_errors_clear(struct store *, const char *provider);
/* A provider rotated the secret: keep the account, replace the secret. */
enum store_err	 acct_rotate(struct store *, const char *id,
		    const char *secret);

/* Visits records in key order (provider NULL: all); 0 from fn goes on. */
enum store_err	 acct_list(struct store *, const char *provider,
		    int (*fn)(void *, const struct acct_info *), void *);
/* The same with the secret and fields decrypted (export, refresh). */
enum store_err	 acct_export(struct store *, const char *provider,
		    int (*fn)(void *, const struct acct_info *, const char *,
		    const struct acct_field *, size_t), void *);

struct acct_counts {
	size_t	total, active, error, expired, inactive, cooling, over_limit;
	size_t	usable;		/* could serve a request now */
	size_t	by_kind[8];
};
enum store_err	 acct_count(struct store *, const char *provider,
		    struct acct_counts *);

/*
 * Takes a usable account of opts->provider by its strategy and reserves
 * one of today's uses.  STORE_NOTFOUND when none is usable; why says
 * what was passed over.
 */
enum store_err	 acct_pick(struct store *, const struct acct_pick_opts *,
		    struct acct_pick *, struct acct_pick_why *);
void		 acct_pick_free(struct acct_pick *);
/* What acct_pick_free() does to a pick's secret and fields alone. */
void		 acct_secrets_free(char *secret, struct acct_field *,
		    size_t nfields);
const char	*acct_pick_field(const struct acct_pick *, const char *name);

/* One attempt's outcome: counters, latency, status, cool-down. */
enum store_err	 acct_record(struct store *, const char *provider,
		    const char *id, const struct acct_result *);

#endif
