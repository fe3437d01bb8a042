/*
 * sign.h - what makes a Z.ai completion request acceptable (§8.3, §8.4):
 * the URL's query string, which carries the browser's fingerprint in a
 * fixed order, and X-Signature, an HMAC over the request id, the time,
 * the user and the last user text with a key that changes every five
 * minutes.
 *
 * X-Signature (verified against the independent browser vector):
 *	meta      = "requestId,<requestId>,timestamp,<ts>,user_id,<user_id>"
 *	canonical = meta "|" base64(prompt) "|" ts
 *	k         = hex(HMAC-SHA256(ZAI_SIGN_KEY, decimal(floor(ts / 300000))))
 *	signature = hex(HMAC-SHA256(the 64 characters of k, canonical))
 * ts is the epoch in ms, the same number as the query's timestamp and
 * signature_timestamp; hex is lowercase.
 *
 * The query is form-encoded as the browser's URLSearchParams does it:
 * ASCII letters, digits and "*-._" stay, a space becomes "+", every other
 * byte "%XX" (uppercase hex).
 */
#ifndef UPSTREAM_ZAI_SIGN_H
#define UPSTREAM_ZAI_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "fcgi/buf.h"

#define ZAI_SIGN_KEY		"key-@@@@)))()((9))-xxxx&&&%%%%%"
#define ZAI_SIGN_WINDOW_MS	300000
#define ZAI_SIG_HEX		64	/* characters of a signature */
#define ZAI_PROMPT_MAX		(8u << 20)	/* bytes signed at most */
#define ZAI_SIGN_ID_MAX		128	/* request and user id bytes */
#define ZAI_TIME_MAX		64	/* a formatted time, with room */

enum zai_sign_err {
	ZAI_SIGN_OK = 0,
	ZAI_SIGN_ENOMEM,
	ZAI_SIGN_TOOBIG,	/* a prompt or id over its limit */
	ZAI_SIGN_CRYPTO,	/* libcrypto refused */
	ZAI_SIGN__MAX
};

const char	*zai_sign_strerror(enum zai_sign_err);

/* k of the 5-minute window of ts_ms, 64 hex characters. */
enum zai_sign_err zai_sign_window_key(int64_t ts_ms, const char *key,
		    char out[ZAI_SIG_HEX + 1]);

/*
 * The canonical string of a request (buf_init'ed b, appended to) and
 * X-Signature of it.  key NULL: ZAI_SIGN_KEY.
 */
enum zai_sign_err zai_sign_canonical(struct buf *b, const char *request_id,
		    const char *user_id, const char *prompt, size_t plen,
		    int64_t ts_ms);
enum zai_sign_err zai_sign(const char *request_id, const char *user_id,
		    const char *prompt, size_t plen, int64_t ts_ms,
		    const char *key, char out[ZAI_SIG_HEX + 1]);

/* One form-encoded value appended to b; -1 when b failed. */
int		 zai_form_arg(struct buf *b, const char *s, size_t n);

/* What varies in the completion URL's query. */
struct zai_query_in {
	int64_t		 ts_ms;
	const char	*request_id;
	const char	*user_id;
	const char	*token;
	const char	*chat_id;
	const char	*user_agent;
};

/* The query (no "?") appended to b, in §8.3's order; -1 when b failed. */
int		 zai_query(struct buf *b, const struct zai_query_in *);

/* ts_ms as JavaScript's toISOString() and toUTCString() write it. */
void		 zai_time_iso(int64_t ts_ms, char out[ZAI_TIME_MAX]);
void		 zai_time_utc(int64_t ts_ms, char out[ZAI_TIME_MAX]);

#endif
