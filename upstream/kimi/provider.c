/*
 * Kimi as a provider: its line of the table, its model (§4.5: one
 * upstream model, thinking and search switched per request), the
 * switches its names carry (§1.2), what users paste as a credential
 * (§4.1), the account check (GetSubscription) and the refresh that
 * `chat2api refresh` runs.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "store/accounts.h"
#include "upstream/kimi/internal.h"
#include "upstream/kimi/kimi.h"

#define KIMI_TOKEN_MIN	20	/* shorter Bearers are placeholders */
#define KIMI_CREATED	1769904000	/* 2026-02-01, cosmetic */
#define KIMI_PARTS_MAX	8	/* pieces of a token pasted as an array */

static const struct provider_model models[] = {
	{ "Kimi-K2.5", "kimi-k2.5", KIMI_CREATED, 0 },
	{ NULL, NULL, 0, 0 }
};

static const struct provider_field fields[] = {
	{ "token", "the refresh_token from www.kimi.com's Local Storage "
	  "(an array of pieces is joined with '.'), or an access token "
	  "(kimi-auth cookie, Authorization header) that lives ~15 minutes",
	  1, 0 },
};

/* Indexed by enum kimi_kind. */
static const char *const kinds[] = { "refresh", "access" };

static int
classify(const char *secret)
{
	return (int)kimi_kind_of(secret);
}

/* §1.2: "think" or "r1" thinks, "search" searches. */
static unsigned
name_flags(const char *name)
{
	unsigned f = 0;

	if (strcasestr(name, "think") != NULL || strcasestr(name, "r1") != NULL)
		f |= ROUTE_THINK;
	if (strcasestr(name, "search") != NULL)
		f |= ROUTE_SEARCH;
	return f;
}

/* A token as the store keeps it, neither too short nor a placeholder. */
static int
token_ok(const char *s, size_t n)
{
	return n >= KIMI_TOKEN_MIN && n <= KIMI_TOKEN_MAX &&
	    strncmp(s, "sk-", 3) != 0 && acct_secret_ok(s, n);
}

/* A JSON string, or an array of strings joined with '.' (§4.1). */
static char *
from_json(const char *s)
{
	struct json_object *o, *v;
	struct buf b;
	char *out = NULL;
	size_t i, n;

	if ((o = json_tokener_parse(s)) == NULL)
		return NULL;
	buf_init(&b, KIMI_TOKEN_MAX + 1);
	if (json_object_is_type(o, json_type_string))
		buf_adds(&b, json_object_get_string(o));
	else if (json_object_is_type(o, json_type_array) &&
	    (n = json_object_array_length(o)) > 0 && n <= KIMI_PARTS_MAX) {
		for (i = 0; i < n; i++) {
			v = json_object_array_get_idx(o, i);
			if (!json_object_is_type(v, json_type_string)) {
				b.failed = 1;
				break;
			}
			if (i > 0)
				buf_adds(&b, ".");
			buf_adds(&b, json_object_get_string(v));
		}
	} else
		b.failed = 1;
	if (!b.failed && token_ok(b.p, b.len))
		out = strndup(b.p, b.len);
	buf_free(&b);
	json_object_put(o);
	return out;
}

/*
 * What users paste: the token, "Bearer <token>", or Local Storage's
 * value as JSON (a string, or an array of pieces).
 */
static char *
normalize(const char *pasted)
{
	const char *s = pasted, *e;

	while (isspace((unsigned char)*s))
		s++;
	if (strncasecmp(s, "Bearer ", 7) == 0)
		for (s += 7; isspace((unsigned char)*s); s++)
			;
	if (*s == '[' || *s == '"')
		return from_json(s);
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	if (!token_ok(s, (size_t)(e - s)))
		return NULL;
	return strndup(s, (size_t)(e - s));
}

/*
 * The client's own Kimi token as the API key.  Only a JWT counts (both
 * of Kimi's tokens are): a placeholder such as "sk-xxx" is none.
 */
static int
raw_credential(struct arena *a, const char *bearer,
    struct provider_account *out)
{
	struct kimi_claims k;

	if (!token_ok(bearer, strlen(bearer)) || kimi_claims(bearer, &k) < 0)
		return 0;
	memset(out, 0, sizeof(*out));
	out->kind = (int)kimi_kind_of(bearer);
	return (out->secret = arena_strdup(a, bearer)) != NULL;
}

/* The subscription's user, as the account's e-mail column shows it. */
static void
subscriber(struct json_object *sub, char *out, size_t outsz)
{
	struct json_object *v;

	out[0] = '\0';
	if ((json_object_object_get_ex(sub, "userName", &v) ||
	    json_object_object_get_ex(sub, "userId", &v)) &&
	    json_object_is_type(v, json_type_string))
		snprintf(out, outsz, "%s", json_object_get_string(v));
}

/* GetSubscription (§4.1): valid iff 200 with a subscription object. */
static void
validate(const struct provider_ctx *x, const struct provider_account *a,
    struct provider_check *out)
{
	struct json_object *root = NULL, *sub = NULL;
	struct timespec t0;
	struct kimi_call c;
	enum kimi_step st;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kimi_call_init(&c, x, a);
	/* a fresh exchange: it checks the refresh token too */
	if ((st = kimi_access(&c, 1)) == KIMI_STEP_OK &&
	    (st = kimi_unary(&c, "GetSubscription", KIMI_SUB_PATH, "{}",
	    &root)) == KIMI_STEP_OK &&
	    (!json_object_object_get_ex(root, "subscription", &sub) ||
	    !json_object_is_type(sub, json_type_object))) {
		st = KIMI_STEP_REFUSED;
		snprintf(c.msg, sizeof(c.msg), "GetSubscription answered no "
		    "subscription");
	}
	out->latency_ms = call_ms_since(&t0);
	if (st == KIMI_STEP_OK) {
		out->verdict = PROVIDER_VALID;
		subscriber(sub, out->email, sizeof(out->email));
		snprintf(out->message, sizeof(out->message), "ok");
	} else if (st == KIMI_STEP_REFUSED) {
		/* a refused refresh or an expired token: log in again */
		out->verdict = c.access == NULL || (c.kind ==
		    KIMI_KIND_ACCESS && c.claims.exp > 0 && c.claims.exp <=
		    (int64_t)time(NULL)) ? PROVIDER_EXPIRED : PROVIDER_INVALID;
		snprintf(out->message, sizeof(out->message), "%d: %.200s",
		    c.status, c.msg[0] ? c.msg : "refused");
	} else {
		out->verdict = PROVIDER_UNKNOWN;
		snprintf(out->message, sizeof(out->message), "%s",
		    c.msg[0] ? c.msg : "no answer");
	}
	json_object_put(root);
}

/* `chat2api refresh`: renew the access token (and rotate) now. */
static int
refresh(const struct provider_ctx *x, const struct provider_account *a,
    int force, char *err, size_t errsz)
{
	struct kimi_call c;

	kimi_call_init(&c, x, a);
	if (c.kind == KIMI_KIND_ACCESS)
		return 1;
	if (kimi_access(&c, force) == KIMI_STEP_OK)
		return 0;
	snprintf(err, errsz, "%d %s", c.status, c.msg);
	return -1;
}

const struct provider kimi_provider = {
	.id = "kimi",
	.display = "Kimi",
	.flags = PROVIDER_SESSIONS,
	.models = models,
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.kinds = kinds,
	.nkinds = sizeof(kinds) / sizeof(kinds[0]),
	.classify = classify,
	.normalize = normalize,
	.raw_credential = raw_credential,
	.name_flags = name_flags,
	.chat = kimi_chat,
	.validate = validate,
	.refresh = refresh,
	.forget = kimi_forget,
};
