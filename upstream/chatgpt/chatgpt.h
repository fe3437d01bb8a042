/*
 * The ChatGPT web upstream (chatgpt.md §1-§7): anonymous (backend-anon)
 * and AccessToken (backend-api) modes, RefreshTokens exchanged on the way,
 * sentinel with proof of work, turnstile and arkose, both stream
 * encodings.
 */
#ifndef UPSTREAM_CHATGPT_H
#define UPSTREAM_CHATGPT_H

#include <stddef.h>
#include <stdint.h>

#include "upstream/provider.h"

/* Credential kinds (their numbers are those of the schema 1 pool). */
enum chatgpt_kind {
	CHATGPT_KIND_ACCESS = 1,	/* eyJ... JWT, or fk-... share token */
	CHATGPT_KIND_REFRESH = 2,	/* 45 chars, or rt_... / rt-... */
	CHATGPT_KIND_OTHER = 3,		/* anything else: used as an AT */
};

extern const struct provider	chatgpt_provider;

int	 chatgpt_token_kind(const char *secret);
/* The e-mail and expiry (0: none) in an AccessToken's JWT payload. */
void	 chatgpt_jwt_claims(const char *at, char *email, size_t emailsz,
	    int64_t *exp);

#endif
