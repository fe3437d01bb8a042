/*
 * Qwen AI as a provider: its line of the table, the credential (the JWT
 * of chat.qwen.ai's Local Storage, with the browser's cookies and
 * anti-bot values as extra fields, §7.1), the switches its names carry
 * (§1.2) and the account check (GET /api/v2/user).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "upstream/qwenai/internal.h"
#include "upstream/qwenai/qwenai.h"

static const struct provider_field fields[] = {
	{ "token", "JWT from the Local Storage key \"token\" of chat.qwen.ai "
	  "(eyJ...)", 1, 0 },
	{ QA_FIELD_COOKIES, "the browser's whole Cookie string of chat.qwen.ai "
	  "(completions want cnaui, aui, sca, xlly_s, cna, token, _bl_uid, "
	  "x-ap)", 0, 0 },
	{ QA_FIELD_BX_UA, "anti-bot bx-ua of this browser session (default: "
	  "QWENAI_BX_UA)", 0, 0 },
	{ QA_FIELD_BX_UMIDTOKEN, "anti-bot bx-umidtoken of this browser "
	  "session (default: QWENAI_BX_UMIDTOKEN)", 0, 0 },
};

static const char *const kinds[] = { "jwt" };

static int
contains(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/*
 * §1.2: -thinking forces thinking on, -fast off (the client reads that
 * one off the name: a switch here can only add); else a name with
 * "think" or "r1" thinks.  Search is not Qwen AI's (auto_search false).
 */
static unsigned
name_flags(const char *name)
{
	if (ends_with(name, "-fast"))
		return 0;
	if (ends_with(name, "-thinking") || contains(name, "think") ||
	    contains(name, "r1"))
		return ROUTE_THINK;
	return 0;
}

/*
 * What users paste: the token, perhaps quoted or after "Bearer ", or the
 * whole cookie string, whose "token" cookie is the same JWT.
 */
static char *
normalize(const char *pasted)
{
	const char *s = pasted, *e, *t;
	size_t n;

	while (isspace((unsigned char)*s) || *s == '"')
		s++;
	if (strncasecmp(s, "Bearer ", 7) == 0)
		s += 7;
	if ((t = strstr(s, "token=eyJ")) != NULL && (t == s || t[-1] == ' ' ||
	    t[-1] == ';'))
		s = t + 6;
	for (e = s; *e && *e != ';' && *e != '"' &&
	    !isspace((unsigned char)*e); e++)
		;
	n = (size_t)(e - s);
	if (!qa_jwt_ok(s, n))
		return NULL;
	return strndup(s, n);
}

/* The client's own JWT as the API key; anything else is a placeholder. */
static int
raw_credential(struct arena *a, const char *bearer,
    struct provider_account *out)
{
	if (!qa_jwt_ok(bearer, strlen(bearer)))
		return 0;
	memset(out, 0, sizeof(*out));
	return (out->secret = arena_strdup(a, bearer)) != NULL;
}

static void
validate(const struct provider_ctx *x, const struct provider_account *a,
    struct provider_check *out)
{
	struct json_object *root, *data, *v;
	struct timespec t0;
	struct qa_call c;
	enum qa_err e;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	qa_call_init(&c, x, a);
	e = qa_api(&c, "user", "GET", "/api/v2/user", NULL, NULL, &root,
	    &data);
	out->latency_ms = call_ms_since(&t0);
	if (e == QA_OK) {
		if (json_object_object_get_ex(data, "email", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(out->email, sizeof(out->email), "%s",
			    json_object_get_string(v));
		if (out->email[0] == '\0' &&
		    !json_object_object_get_ex(data, "name", &v)) {
			out->verdict = PROVIDER_UNKNOWN;
			snprintf(out->message, sizeof(out->message),
			    "user answered without a user");
		} else {
			out->verdict = PROVIDER_VALID;
			snprintf(out->message, sizeof(out->message), "ok");
		}
		json_object_put(root);
		return;
	}
	if (e == QA_EXPIRED)
		out->verdict = PROVIDER_EXPIRED;
	else if (e == QA_REFUSED || (e == QA_HTTP && (c.status == 401 ||
	    c.status == 403)))
		out->verdict = PROVIDER_INVALID;
	else
		out->verdict = PROVIDER_UNKNOWN;
	snprintf(out->message, sizeof(out->message), "%.64s%s%.180s", c.code,
	    c.code[0] ? ": " : "", c.msg[0] ? c.msg : qa_strerror(e));
}

const struct provider qwenai_provider = {
	.id = "qwenai",
	.display = "Qwen AI",
	.flags = PROVIDER_SESSIONS,
	.models = qa_models,
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.kinds = kinds,
	.nkinds = sizeof(kinds) / sizeof(kinds[0]),
	.normalize = normalize,
	.raw_credential = raw_credential,
	.name_flags = name_flags,
	.chat = qwenai_chat,
	.validate = validate,
	.forget = qwenai_forget,
	.purge = qwenai_purge,
	.listed = qwenai_listed,
};
