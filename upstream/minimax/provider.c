/*
 * MiniMax as a provider: its line of the table, its models (one upstream
 * agent: nothing about the model, thinking or search is sent, §5.5), the
 * credential forms users paste (§5.1) and the account check, which is a
 * fresh device registration.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/arena.h"
#include "upstream/minimax/internal.h"
#include "upstream/minimax/minimax.h"

#define MM_CREATED	1767225600	/* 2026-01-01, cosmetic */

static const struct provider_model models[] = {
	{ "MiniMax-M2.7", NULL, MM_CREATED, 0 },
	{ "MiniMax-M2.5", NULL, MM_CREATED, 0 },
	{ NULL, NULL, 0, 0 }
};

static const struct provider_field fields[] = {
	{ "token", "the _token JWT from the Local Storage of "
	  "agent.minimaxi.com, or \"<realUserID>+<JWT>\"", 1, 0 },
	{ "real_user_id", "realUserID from the Local Storage JSON "
	  "user_detail_agent (default: the one in front of the JWT, else the "
	  "JWT's own user id)", 0, 0 },
};

static const char *const kinds[] = { "jwt" };

/* "<realUserID>+<JWT>" or a JWT, trimmed; NULL when it is neither. */
static char *
normalize(const char *pasted)
{
	struct arena a;
	struct mm_cred c;
	enum mm_cred_err e;
	char *out = NULL;
	size_t n;

	arena_init(&a, 0);
	e = mm_cred_parse(&a, pasted, NULL, &c);
	/* the id may come later, as --set real_user_id=... */
	if (e == MMC_OK && strchr(pasted, '+') != NULL) {
		n = strlen(c.uid) + strlen(c.jwt) + 2;
		if ((out = malloc(n)) != NULL)
			snprintf(out, n, "%s+%s", c.uid, c.jwt);
	} else if (e == MMC_OK || e == MMC_NO_UID)
		out = strdup(c.jwt);
	arena_free(&a);
	return out;
}

/*
 * The client's own credential as the API key: "<realUserID>+<JWT>", or a
 * JWT that names its user.  Anything else ("sk-...") is a placeholder.
 */
static int
raw_credential(struct arena *a, const char *bearer,
    struct provider_account *out)
{
	struct mm_cred c;

	if (mm_cred_parse(a, bearer, NULL, &c) != MMC_OK)
		return 0;
	memset(out, 0, sizeof(*out));
	return (out->secret = arena_strdup(a, bearer)) != NULL;
}

static void
validate(const struct provider_ctx *x, const struct provider_account *a,
    struct provider_check *out)
{
	struct timespec t0;
	struct mm_call c;
	enum mm_cred_err ce;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((ce = mm_call_init(&c, x, a)) != MMC_OK) {
		out->verdict = ce == MMC_ENOMEM ? PROVIDER_UNKNOWN :
		    PROVIDER_INVALID;
		snprintf(out->message, sizeof(out->message), "%s",
		    mm_cred_strerror(ce));
		return;
	}
	/* the registration is the check (§5.1): ask, do not trust a cache */
	switch (mm_device(&c, 1)) {
	case MM_STEP_OK:
		out->verdict = PROVIDER_VALID;
		snprintf(out->message, sizeof(out->message), "ok (user %s)",
		    c.cred.uid);
		break;
	case MM_STEP_EXPIRED:
		out->verdict = PROVIDER_EXPIRED;
		snprintf(out->message, sizeof(out->message), "%ld: %.200s",
		    c.code, c.msg[0] ? c.msg : "the login has expired");
		break;
	default:
		out->verdict = c.status == 401 || c.status == 403 ?
		    PROVIDER_INVALID : PROVIDER_UNKNOWN;
		snprintf(out->message, sizeof(out->message), "%s",
		    c.msg[0] ? c.msg : "no answer");
		break;
	}
	out->latency_ms = call_ms_since(&t0);
}

const struct provider minimax_provider = {
	.id = "minimax",
	.display = "MiniMax",
	.flags = PROVIDER_SESSIONS,
	.models = models,
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.kinds = kinds,
	.nkinds = sizeof(kinds) / sizeof(kinds[0]),
	.normalize = normalize,
	.raw_credential = raw_credential,
	.chat = minimax_chat,
	.validate = validate,
	.forget = minimax_forget,
};
