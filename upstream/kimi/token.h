/*
 * token.h - what Kimi's credentials say about themselves (providers.md
 * §4.1).  Both kinds are JWTs: the ~15-minute access token the web
 * client sends as its Bearer (payload app_id "kimi", typ "access", sub =
 * the user, device_id, ssid = the session), and the refresh token it
 * renews that with.  The X-Msh-Device-Id, X-Msh-Session-Id and
 * X-Traffic-Id headers of every call come from the access token's
 * claims.  Nothing here checks a signature: only Kimi can.
 */
#ifndef UPSTREAM_KIMI_TOKEN_H
#define UPSTREAM_KIMI_TOKEN_H

#include <stdint.h>

#define KIMI_TOKEN_MAX		8192	/* a credential or an issued token */
#define KIMI_CLAIM_MAX		128	/* sub, device_id, ssid */
#define KIMI_ACCESS_TTL		600	/* s, when a token names no expiry */
/*
 * An access token is exchanged again before it expires, by a fifth of
 * its life and at most KIMI_MARGIN_MAX seconds: it must still be good
 * when Kimi checks it, which is after a wait for another process's
 * exchange (up to 20 s), a connect through a proxy (up to 10 s) and
 * any drift between our clock and Kimi's.  Two minutes of a 15-minute
 * token cover all of that; the fifth keeps short-lived tokens (the
 * mock's) usable for most of their life.
 */
#define KIMI_MARGIN_MAX		120
#define KIMI_MARGIN_DIV		5
/* An access credential this far past its expiry is not even tried. */
#define KIMI_SKEW		300

enum kimi_kind {
	KIMI_KIND_REFRESH = 0,	/* exchanged for access tokens */
	KIMI_KIND_ACCESS = 1,	/* used as is until it expires */
};

struct kimi_claims {
	int	 jwt;			/* three parts, a JSON object payload */
	char	 typ[16];		/* "access", "refresh" or "" */
	char	 app_id[16];
	char	 sub[KIMI_CLAIM_MAX + 1];	/* "" when absent or unsafe */
	char	 device_id[KIMI_CLAIM_MAX + 1];
	char	 ssid[KIMI_CLAIM_MAX + 1];
	int64_t	 iat, exp;		/* 0 when absent */
};

/*
 * The claims of a JWT; 0, or -1 when token is no JWT (out is zeroed
 * then).  A claim that would not be safe in a header ([A-Za-z0-9._:-]
 * only, at most KIMI_CLAIM_MAX bytes; numbers are taken as decimals)
 * is left empty.
 */
int		 kimi_claims(const char *token, struct kimi_claims *out);

/* An access token (§4.1: app_id "kimi", typ "access"); else refresh. */
enum kimi_kind	 kimi_kind_of(const char *secret);

/*
 * When a freshly issued access token should be replaced: now plus its
 * life (exp - iat by Kimi's own clock, so a skewed local clock does not
 * matter; exp - now without iat; KIMI_ACCESS_TTL without exp) minus the
 * margin above.  now itself when it has no life left.
 */
int64_t		 kimi_renew_at(const struct kimi_claims *, int64_t now);

#endif
