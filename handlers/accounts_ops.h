/*
 * Operations over stored accounts that ask their providers: validate
 * (status, e-mail, latency written back) and refresh (RefreshToken
 * exchanges and the like).  The CLI runs them now; the console and the
 * scheduled refresh run the same code.
 */
#ifndef HANDLERS_ACCOUNTS_OPS_H
#define HANDLERS_ACCOUNTS_OPS_H

#include <stddef.h>

#include "fcgi/conf.h"
#include "store/accounts.h"
#include "upstream/provider.h"

/* A stored account as the provider sees it (pointers into the inputs). */
void	 accounts_provider_account(const struct acct_info *, const char *secret,
	    const struct acct_field *, size_t nfields,
	    struct provider_account *);
/* The same from an account's parts (team_id "" for none). */
void	 accounts_provider_account_of(const char *id, int kind,
	    const char *team_id, const char *secret, const struct acct_field *,
	    size_t nfields, struct provider_account *);

/* One account's check, as validate reports it. */
struct accounts_checked {
	struct acct_info	 info;		/* after the update */
	struct provider_check	 check;
};

/*
 * Validates the accounts that which names: an id or fingerprint, a
 * provider id, or NULL (all).  fn is called after each (may be NULL).
 * -1 when which matches nothing or the store fails.
 */
int	 accounts_validate(const struct config *, struct store *,
	    const char *which, void (*fn)(void *,
	    const struct accounts_checked *), void *arg);

/*
 * fn with one active account of provider (secret and fields decrypted
 * for the call only), for a look-up that needs any login, such as the
 * upstream's model list.  1 when there is none, -1 on a store failure.
 */
int	 accounts_with_one(struct store *, const char *provider,
	    void (*fn)(void *, const struct provider_account *), void *arg);

/*
 * One account as an operator gives it (handlers/accounts_add.c): fields
 * by the provider's names (the team field becomes the team id), the
 * credential normalised and classified by the provider.  -1 with err
 * saying why; *added 0 when the provider already has that credential.
 */
struct accounts_new {
	const char		*provider;
	const char		*credential;
	const char		*label;		/* may be NULL */
	uint32_t		 daily_limit;	/* 0: none */
	uint32_t		 weight;	/* 0: 1 */
	const struct acct_field	*fields;
	size_t			 nfields;
};
int	 accounts_add_one(struct store *, const struct accounts_new *,
	    char id[ACCT_ID_LEN + 1], int *added, char *err, size_t errsz);
const struct provider_field *accounts_field_of(const struct provider *,
	    const char *name, size_t len);

/* Every account whose provider has refresh(): counts what worked. */
int	 accounts_refresh_all(const struct config *, struct store *,
	    int force, size_t *ok, size_t *failed);

#endif
