/*
 * Z.ai as a provider: its line of the table, its models (§8.6), the
 * switches its names carry (§1.2), what users paste as the credential,
 * and the account check.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "upstream/zai/internal.h"
#include "upstream/zai/zai.h"

#define ZAI_CREATED	1767225600	/* 2026-01-01, cosmetic */
#define ZAI_SETTINGS	"/api/v1/users/user/settings"

/*
 * §8.6: the upstream ids are lower case but for GLM-5-Turbo; glm-4.6 is
 * served by glm-4.6v.  Names compare case-insensitively, so the upper
 * case the web page shows is what /v1/models lists.
 */
static const struct provider_model models[] = {
	{ "GLM-5-Turbo", "GLM-5-Turbo", ZAI_CREATED, 0 },
	{ "GLM-5", "glm-5", ZAI_CREATED, 0 },
	{ "GLM-4.7", "glm-4.7", ZAI_CREATED, 0 },
	{ "GLM-4.6V", "glm-4.6v", ZAI_CREATED, 0 },
	{ "GLM-4.6", "glm-4.6v", ZAI_CREATED, 0 },
	{ "GLM-4.5V", "glm-4.5v", ZAI_CREATED, 0 },
	{ "GLM-4.5-Air", "glm-4.5-air", ZAI_CREATED, 0 },
	{ NULL, NULL, 0, 0 }
};

static const struct provider_field fields[] = {
	{ "token", "the login token (JWT) of chat.z.ai: the \"token\" cookie "
	  "or Local Storage entry (\"token=...\" and a whole Cookie header "
	  "are taken too)", 1, 0 },
};

static const char *const kinds[] = { "jwt" };

/* §1.2: "think" or "r1" switches thinking on, "search" web search. */
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

/*
 * What users paste: the token, "token=<jwt>" or a whole Cookie header
 * holding it, quoted or not, or a JSON object with a "token" member.
 */
static char *
normalize(const char *pasted)
{
	struct json_object *o = NULL, *v;
	const char *s = pasted, *e, *t;
	char *out = NULL;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '{') {
		if ((o = json_tokener_parse(s)) != NULL &&
		    json_object_object_get_ex(o, "token", &v) &&
		    json_object_is_type(v, json_type_string))
			s = json_object_get_string(v);
		else
			goto out;
	}
	/* the cookie: at the start, or after "; " in a Cookie header */
	for (t = s; (t = strstr(t, "token=")) != NULL; t++)
		if (t == s || t[-1] == ' ' || t[-1] == ';') {
			s = t + 6;
			break;
		}
	for (e = s; *e != '\0' && *e != ';' && !isspace((unsigned char)*e);
	    e++)
		;
	if (*s == '"' && e > s + 1 && e[-1] == '"') {
		s++;
		e--;
	}
	if (zai_jwt_shape(s, (size_t)(e - s)))
		out = strndup(s, (size_t)(e - s));
out:
	json_object_put(o);
	return out;
}

/*
 * The client's own chat.z.ai token as its key.  Only a JWT whose payload
 * reads: placeholders ("sk-...") and other providers' keys are not.
 */
static int
raw_credential(struct arena *a, const char *bearer,
    struct provider_account *out)
{
	struct zai_claims c;

	if (zai_jwt_claims(bearer, &c) != ZAI_JWT_OK)
		return 0;
	memset(out, 0, sizeof(*out));
	return (out->secret = arena_strdup(a, bearer)) != NULL;
}

static void
validate(const struct provider_ctx *x, const struct provider_account *a,
    struct provider_check *out)
{
	struct json_object *root;
	struct timespec t0;
	struct zai_call c;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	zai_call_init(&c, x, a->secret);
	snprintf(out->email, sizeof(out->email), "%s", c.claims.email);
	/* §8.1: the settings answer 2xx to a login the upstream accepts */
	if (c.base != NULL && zai_api(&c, "users/user/settings", "GET",
	    ZAI_SETTINGS, NULL, &root) == 0) {
		json_object_put(root);
		out->verdict = PROVIDER_VALID;
		snprintf(out->message, sizeof(out->message), "ok%s",
		    c.claims.guest ? " (a guest login: GLM-5 and newer are "
		    "refused to it)" : "");
	} else if ((c.status == 401 || c.status == 403) && !c.cloudflare) {
		out->verdict = c.expired ? PROVIDER_EXPIRED : PROVIDER_INVALID;
		snprintf(out->message, sizeof(out->message), "%.200s%s", c.msg,
		    c.expired ? " (the token has expired)" : "");
	} else {
		out->verdict = PROVIDER_UNKNOWN;
		snprintf(out->message, sizeof(out->message), "%.200s",
		    c.msg[0] ? c.msg : "no answer");
	}
	out->latency_ms = call_ms_since(&t0);
}

/*
 * No PROVIDER_SESSIONS: §8.2 puts a user message into a chat only through
 * chats/new (current_user_message_id names that one message, its parent
 * null), the web client sends the whole history with every completion,
 * and the stream (§8.5) names no message of the answer to continue after.
 */
const struct provider zai_provider = {
	.id = "zai",
	.display = "Z.ai",
	.models = models,
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.kinds = kinds,
	.nkinds = sizeof(kinds) / sizeof(kinds[0]),
	.normalize = normalize,
	.raw_credential = raw_credential,
	.name_flags = name_flags,
	.chat = zai_chat,
	.purge = zai_purge,
	.validate = validate,
};
