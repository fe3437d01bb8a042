/*
 * sign.h - what makes a MiniMax request acceptable (providers.md §5.1,
 * §5.3, §5.4), as pure functions without I/O so the unit tests can hold
 * them to the protocol document's vector:
 *
 *  - the credential: "<realUserID>+<JWT>" or a JWT alone; the user id,
 *    when not given as the account's real_user_id field or in front of
 *    the JWT, is read from the JWT's payload (user.id, then id, then
 *    sub);
 *  - the query string every call carries, keys in their fixed order and
 *    values not URL-encoded (the upstream signs the text as sent);
 *  - the two signature headers: yy = md5hex(encodeURIComponent(path "?"
 *    query) "_" body md5hex(unix) "ooui") and x-signature =
 *    md5hex(ts JWT body), ts in seconds and unix in milliseconds of the
 *    same instant.
 */
#ifndef UPSTREAM_MINIMAX_SIGN_H
#define UPSTREAM_MINIMAX_SIGN_H

#include <stddef.h>

#define MM_JWT_MAX	4096	/* bytes of the _token */
#define MM_ID_MAX	64	/* bytes of an id: user, device, chat */
#define MM_PAYLOAD_MAX	8192	/* decoded JWT payload */
#define MM_YY_SALT	"ooui"

struct arena;

enum mm_cred_err {
	MMC_OK = 0,
	MMC_NOT_JWT,	/* the token is no JWT */
	MMC_BAD_UID,	/* a user id with characters a query cannot carry */
	MMC_NO_UID,	/* no user id anywhere */
	MMC_ENOMEM,
};

struct mm_cred {
	const char	*jwt;
	const char	*uid;		/* realUserID */
};

const char	*mm_cred_strerror(enum mm_cred_err);

/* s[0..n) has the shape of a JWT (three base64url parts). */
int		 mm_jwt_shape(const char *s, size_t n);
/* s[0..n) can stand in the query as a user or device id. */
int		 mm_id_ok(const char *s, size_t n);
/*
 * The user id in the JWT's payload (user.id, id, sub; a string or a
 * number), in the arena; NULL when there is none.
 */
char		*mm_jwt_uid(struct arena *, const char *jwt);
/*
 * A stored or pasted secret ("<uid>+<JWT>" or a JWT) and the account's
 * real_user_id field (NULL: none) into *out, strings copied into the
 * arena.
 * Surrounding whitespace is ignored.
 */
enum mm_cred_err mm_cred_parse(struct arena *, const char *secret,
		    const char *field_uid, struct mm_cred *out);

/* What the query string of one call says (§5.3). */
struct mm_query {
	const char	*uuid;		/* realUserID; register: a fresh uuid */
	const char	*device_id;	/* NULL or "": left out */
	const char	*user_id;	/* realUserID */
	const char	*unix_ms;	/* epoch milliseconds, decimal */
	const char	*jwt;
};

/* The query string (without "?"), in the arena; NULL out of memory. */
char		*mm_query(struct arena *, const struct mm_query *);

/* md5 of s[0..n) in lower-case hex. */
void		 mm_md5hex(const void *s, size_t n, char out[33]);
/*
 * What JavaScript's encodeURIComponent keeps besides RFC 3986's
 * unreserved characters: call_pct_encode(a, s, MM_URI_KEEP) is it.
 */
#define MM_URI_KEEP	"!*'()"
/*
 * yy for path (which may hold a '?' already), query, body and unix_ms;
 * -1 out of memory.
 */
int		 mm_yy(struct arena *, const char *path, const char *query,
		    const char *body, const char *unix_ms, char out[33]);
/* x-signature for ts (epoch seconds), the JWT and the body. */
void		 mm_xsig(long long ts, const char *jwt, const char *body,
		    char out[33]);

#endif
