/*
 * Who is calling the API (providers.md §10.6, chatgpt.md §7.1): the key a
 * client presents — "Authorization: Bearer", else "X-API-Key", else
 * "?api_key=" — is an AUTHORIZATION code, a proxy API key, or neither.
 * Codes and keys draw on the account pools.  What neither is may be the
 * client's own provider credential; that is the provider's to say, once
 * the model has picked the provider (handlers/chat.c).
 */
#ifndef HANDLERS_APIAUTH_H
#define HANDLERS_APIAUTH_H

#include "fcgi/req.h"
#include "store/apikeys.h"

enum api_caller {
	API_NONE,	/* no key presented */
	API_CODE,	/* an AUTHORIZATION code */
	API_KEY,	/* an enabled proxy API key */
	API_OTHER,	/* something else (a credential, or a wrong key) */
};

struct api_auth {
	enum api_caller		 who;
	const char		*bearer;	/* as presented, or NULL */
	const char		*value;		/* bearer before any ',' */
	const char		*suffix;	/* after the ',' (team id) */
	int			 protected;	/* codes or keys exist */
	struct apikey_info	 key;		/* API_KEY */
};

/*
 * Classifies the caller.  Answers the request itself (and returns with
 * *answered set) when it must be refused: a disabled key, REQUIRE_API_KEY
 * without a valid code or key (401), or an address blocked after too
 * many wrong keys (429).
 */
enum app_err	 api_auth(struct req *, struct api_auth *, int *answered);
/* The key as presented (Bearer, X-API-Key, ?api_key=), or NULL. */
const char	*api_presented(struct req *);
/* A key that was refused counts toward the address's throttle. */
enum app_err	 api_auth_refuse(struct req *, const struct api_auth *);

#endif
