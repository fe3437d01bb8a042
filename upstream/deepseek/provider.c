/*
 * DeepSeek as a provider: its line of the table, its models (§2.8: all of
 * them one upstream model, told apart by the thinking and search flags),
 * the switches its names carry (§1.2), and the account check.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "upstream/deepseek/deepseek.h"
#include "upstream/deepseek/internal.h"

#define DS_TOKEN_MIN	20	/* shorter Bearers are placeholders */
#define DS_CREATED	1764547200	/* 2025-12-01, cosmetic */

static const struct provider_model models[] = {
	{ "DeepSeek-V3.2", "deepseek-chat", DS_CREATED, 0 },
	{ "DeepSeek-R1", "deepseek-chat", DS_CREATED, ROUTE_THINK },
	{ "DeepSeek-Search", "deepseek-chat", DS_CREATED, ROUTE_SEARCH },
	{ "DeepSeek-R1-Search", "deepseek-chat", DS_CREATED,
	  ROUTE_THINK | ROUTE_SEARCH },
	/* the names of DeepSeek's own API, for clients configured for it */
	{ "deepseek-chat", "deepseek-chat", DS_CREATED, 0 },
	{ "deepseek-reasoner", "deepseek-chat", DS_CREATED, ROUTE_THINK },
	{ NULL, NULL, 0, 0 }
};

static const struct provider_field fields[] = {
	{ "token", "userToken from the browser's Local Storage of "
	  "chat.deepseek.com (the value, or the whole {\"value\":...} JSON)",
	  1, 0 },
};

static const char *const kinds[] = { "user_token" };

static int
contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/* §1.2: the client-facing name switches thinking, search and expert. */
static unsigned
name_flags(const char *name)
{
	unsigned f = 0;

	if (contains(name, "r1") || contains(name, "think") ||
	    contains(name, "reasoner"))
		f |= ROUTE_THINK;
	if (contains(name, "search"))
		f |= ROUTE_SEARCH;
	if (contains(name, "expert"))
		f |= ROUTE_EXPERT;
	return f;
}

static int
token_ok(const char *s, size_t n)
{
	size_t i;

	if (n < DS_TOKEN_MIN || n > 4096 || strncmp(s, "sk-", 3) == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\' ||
		    s[i] == ',')
			return 0;
	return 1;
}

/*
 * What users paste: the token, or Local Storage's whole {"value": ...}
 * object (§2.1).
 */
static char *
normalize(const char *pasted)
{
	struct json_object *o, *v;
	const char *s = pasted, *e;
	char *out = NULL;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '{') {
		if ((o = json_tokener_parse(s)) == NULL)
			return NULL;
		if (json_object_object_get_ex(o, "value", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    token_ok(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)))
			out = strdup(json_object_get_string(v));
		json_object_put(o);
		return out;
	}
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	if (!token_ok(s, (size_t)(e - s)))
		return NULL;
	return strndup(s, (size_t)(e - s));
}

/* The client's own userToken (or a comma list of them) as the API key. */
static int
raw_credential(struct arena *a, const char *bearer,
    struct provider_account *out)
{
	return call_own_credential(a, bearer, token_ok, out);
}

static void
validate(const struct provider_ctx *x, const struct provider_account *a,
    struct provider_check *out)
{
	struct timespec t0;
	struct ds_call c;
	enum ds_step_err se;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ds_call_init(&c, x, a->secret);
	/* users/current is the check (§2.1): fetch, do not trust a cache */
	se = ds_bearer(&c, 1, out->email, sizeof(out->email));
	out->latency_ms = call_ms_since(&t0);
	switch (se) {
	case DS_STEP_OK:
		out->verdict = PROVIDER_VALID;
		snprintf(out->message, sizeof(out->message), "ok");
		break;
	case DS_STEP_EXPIRED:
		out->verdict = c.status == 401 || c.status == 403 ?
		    PROVIDER_INVALID : PROVIDER_EXPIRED;
		snprintf(out->message, sizeof(out->message), "%ld: %.200s",
		    c.code, c.msg[0] ? c.msg : "Authorization Failed");
		break;
	default:
		out->verdict = PROVIDER_UNKNOWN;
		snprintf(out->message, sizeof(out->message), "%s",
		    c.msg[0] ? c.msg : "no answer");
		break;
	}
}

const struct provider deepseek_provider = {
	.id = "deepseek",
	.display = "DeepSeek",
	.flags = PROVIDER_SESSIONS,
	.models = models,
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.kinds = kinds,
	.nkinds = sizeof(kinds) / sizeof(kinds[0]),
	.normalize = normalize,
	.raw_credential = raw_credential,
	.name_flags = name_flags,
	.chat = deepseek_chat,
	.validate = validate,
	.forget = deepseek_forget,
	.purge = deepseek_purge,
};
