/*
 * Credential redaction for what the request log keeps (LOG_BODIES):
 * values of JSON members named like a credential (token, secret,
 * password, authorization, api key, cookie), "Bearer" values, and
 * strings shaped like keys or JWTs ("sk-...", "eyJ...") become
 * "[redacted]" (providers.md §10.10).
 */
#ifndef FCGI_REDACT_H
#define FCGI_REDACT_H

#include <stddef.h>

#include "fcgi/arena.h"

#define REDACT_MARK	"[redacted]"
#define REDACT_SLACK	512	/* input read past max to finish a token */

/*
 * in[0..len) redacted and cut to at most max bytes (at a UTF-8 character
 * boundary), in arena; *outlen its length.  NULL without memory.
 */
char	*redact_text(struct arena *, const char *in, size_t len, size_t max,
	    size_t *outlen);

#endif
