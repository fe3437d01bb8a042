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

/* Every account whose provider has refresh(): counts what worked. */
int	 accounts_refresh_all(const struct config *, struct store *,
	    int force, size_t *ok, size_t *failed);

#endif
