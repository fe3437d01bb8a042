/*
 * Who may manage the credential pool: the holders of an AUTHORIZATION
 * code.  A browser logs in once and gets a stateless session cookie
 * (expiry, nonce and code id, signed with store_mac); every form it posts
 * carries a CSRF token derived from that cookie under another label.
 * Scripts send "Authorization: Bearer <code>" instead and need no CSRF.
 *
 * Logging out revokes the session server-side (store/revoke.c keeps its
 * HMAC until it would have expired, at most 12 h), so a copied cookie
 * stops working too; removing the code from AUTHORIZATION, or changing
 * the secret key, invalidates every session made with it at the next
 * request.
 */
#ifndef HANDLERS_ADMIN_AUTH_H
#define HANDLERS_ADMIN_AUTH_H

#include <stddef.h>
#include <time.h>

#include "fcgi/buf.h"
#include "fcgi/conf.h"
#include "fcgi/req.h"

#define ADMIN_SESSION_TTL	(12 * 60 * 60)
#define ADMIN_COOKIE		"c2a_admin"
#define ADMIN_COOKIE_HOST	"__Host-c2a_admin"	/* Secure and Path=/ */
#define ADMIN_SESSION_MAX	160
#define ADMIN_CSRF_LEN		64

struct store;

/* --- the parts without a request (unit-tested on their own) */

/* 1 when at least one AUTHORIZATION code is configured. */
int	 admin_enabled(const struct config *);
/*
 * 1 when code equals one of the configured codes.  Every code is compared
 * (no early exit) through SHA-256 digests, so neither the content nor the
 * length of a configured code shows in the timing.
 */
int	 admin_code_ok(const struct config *, const char *code, size_t len);
/*
 * 1 when got equals the secret want (MANAGEMENT_SECRET, METRICS_CODE),
 * compared as SHA-256 digests in constant time; 0 when either is empty.
 */
int	 admin_secret_ok(const char *want, const char *got);
/* A fresh session value for a login with code at now; -1 on failure. */
int	 admin_session_new(struct store *, const char *code, size_t len,
	    time_t now, char out[ADMIN_SESSION_MAX]);
/*
 * 1 when value is a session this key signed, not expired at now, made
 * with a code that is still configured, and not logged out; *expires
 * gets its expiry.
 */
int	 admin_session_ok(struct store *, const struct config *,
	    const char *value, time_t now, time_t *expires);
/* The CSRF token of a session: 64 hex digits. */
void	 admin_csrf(struct store *, const char *session,
	    char out[ADMIN_CSRF_LEN + 1]);
int	 admin_csrf_ok(struct store *, const char *session, const char *token);
/*
 * Next value of cookie name in a Cookie header, from *cursor on (start it
 * at the header).  1 found (copied into out), 0 no more.  Values too long
 * for out are skipped.
 */
int	 admin_cookie_next(const char **cursor, const char *name, char *out,
	    size_t outsz);
/* The credentials of "Bearer <x>" (scheme case-insensitive), or NULL. */
const char	*admin_bearer(const char *authorization);

/* --- per request */

enum admin_via { ADMIN_ANON, ADMIN_SESSION, ADMIN_BEARER };

enum admin_verdict {
	ADMIN_OK,		/* via session or Bearer */
	ADMIN_DISABLED,		/* no AUTHORIZATION configured */
	ADMIN_NOAUTH,		/* no (valid) session, no Bearer */
	ADMIN_BADBEARER,	/* a Bearer that is no configured code */
	ADMIN_THROTTLED,	/* too many failures from this address */
};

struct admin_auth {
	enum admin_via	 via;
	char		 session[ADMIN_SESSION_MAX];
	char		 csrf[ADMIN_CSRF_LEN + 1];
	time_t		 expires;
	long		 retry_after;	/* ADMIN_THROTTLED: seconds */
};

enum admin_verdict admin_check(struct req *, struct admin_auth *);
/*
 * Failed codes per client address, across processes (store/throttle.c):
 * admin_throttled() is 1 while the address is blocked (*wait_s: seconds
 * left); admin_failed() counts one failure; admin_succeeded() forgets.
 */
int	 admin_throttled(struct req *, long *wait_s);
void	 admin_failed(struct req *);
void	 admin_succeeded(struct req *);
/* HTTPS=on from the front server: the cookie gets Secure. */
int	 admin_https(struct req *);
const char	*admin_cookie_name(struct req *);
/*
 * A browser-sent POST must come from our own pages: Sec-Fetch-Site, when
 * the browser sends it, must be same-origin or none (typed by the user).
 */
int	 admin_fetch_ok(struct req *);
/* Appends the Set-Cookie line for value, or one that deletes it (NULL). */
int	 admin_set_cookie(struct req *, struct buf *, const char *value);

#endif
