/*
 * jwt.h - what Z.ai's login token says about its user (§8.1).  The token
 * is a JWT whose payload names the user: "id" (else "user_id", "uid",
 * "sub"), which the completion URL and X-Signature carry, and "email",
 * which tells a guest ("...@guest.com") from an account.  The signature
 * is the upstream's to check; nothing here trusts the claims beyond
 * putting them where the browser would.
 */
#ifndef UPSTREAM_ZAI_JWT_H
#define UPSTREAM_ZAI_JWT_H

#include <stddef.h>
#include <stdint.h>

#define ZAI_JWT_MAX		8192	/* bytes of a token we accept */
#define ZAI_JWT_MIN		32	/* shorter ones are placeholders */
#define ZAI_USER_ID_MAX		128
#define ZAI_EMAIL_MAX		127
#define ZAI_GUEST_USER		"guest"	/* the browser's fallback */
#define ZAI_GUEST_DOMAIN	"@guest.com"

enum zai_jwt_err {
	ZAI_JWT_OK = 0,
	ZAI_JWT_SHAPE,		/* not three base64url parts, or too long */
	ZAI_JWT_BASE64,		/* the payload does not decode */
	ZAI_JWT_JSON,		/* the payload is no JSON object */
	ZAI_JWT__MAX
};

struct zai_claims {
	char	 user_id[ZAI_USER_ID_MAX + 1];	/* ZAI_GUEST_USER: none */
	char	 email[ZAI_EMAIL_MAX + 1];	/* "" when none */
	int64_t	 exp;				/* 0: none given */
	int	 guest;				/* a guest login */
};

const char	*zai_jwt_strerror(enum zai_jwt_err);

/* s[0..n) looks like a JWT: three non-empty base64url parts. */
int		 zai_jwt_shape(const char *s, size_t n);

/*
 * The claims of jwt (NUL-terminated).  Whatever the result, *c is
 * filled: a token that cannot be read is a guest's (user_id "guest").
 */
enum zai_jwt_err zai_jwt_claims(const char *jwt, struct zai_claims *c);

/* The login's expiry has passed (exp given and before now). */
int		 zai_jwt_expired(const struct zai_claims *, int64_t now);

#endif
