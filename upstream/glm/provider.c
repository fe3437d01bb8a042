/*
 * GLM as a provider: its line of the table, its models (§3.7: one
 * upstream model, told apart by the chat mode and search switches), the
 * switches its names carry (§1.2), what users paste as a credential, and
 * the account check.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "upstream/glm/glm.h"
#include "upstream/glm/internal.h"

#define GLM_CREATED	1767225600	/* 2026-01-01, cosmetic */
#define GLM_COOKIE	"chatglm_refresh_token="

static const struct provider_model models[] = {
	{ "GLM-5", "glm-5", GLM_CREATED, 0 },
	{ "GLM-5-Think", "glm-5", GLM_CREATED, ROUTE_THINK },
	{ "GLM-5-Search", "glm-5", GLM_CREATED, ROUTE_SEARCH },
	{ "GLM-5-Think-Search", "glm-5", GLM_CREATED,
	  ROUTE_THINK | ROUTE_SEARCH },
	{ "GLM-5-DeepResearch", "glm-5", GLM_CREATED, ROUTE_DEEP_RESEARCH },
	{ NULL, NULL, 0, 0 }
};

static const struct provider_field fields[] = {
	{ "refresh_token", "the chatglm_refresh_token cookie of chatglm.cn "
	  "(the value, or a Cookie header holding it)", 1, 0 },
};

static const char *const kinds[] = { "refresh_token" };

/*
 * §1.2, §3.5: "think" or "zero" asks for the reasoning mode, "deepresearch"
 * for deep research.  Search has no word of its own: the -Search suffix
 * (upstream/route.c), web_search or X-Web-Search switch it.
 */
static unsigned
name_flags(const char *name)
{
	unsigned f = 0;

	if (strcasestr(name, "think") != NULL ||
	    strcasestr(name, "zero") != NULL)
		f |= ROUTE_THINK;
	if (strcasestr(name, "deepresearch") != NULL ||
	    strcasestr(name, "deep-research") != NULL ||
	    strcasestr(name, "deep_research") != NULL)
		f |= ROUTE_DEEP_RESEARCH;
	return f;
}

static int
token_ok(const char *s, size_t n)
{
	size_t i;

	if (n < GLM_TOKEN_MIN || n > GLM_TOKEN_MAX ||
	    strncmp(s, "sk-", 3) == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || strchr("\"\\,;=", s[i]) !=
		    NULL)
			return 0;
	return 1;
}

/* The token, or a Cookie header ("a=b; chatglm_refresh_token=...; c=d"). */
static char *
normalize(const char *pasted)
{
	const char *s = pasted, *e, *c;

	while (isspace((unsigned char)*s))
		s++;
	if ((c = strstr(s, GLM_COOKIE)) != NULL) {
		s = c + strlen(GLM_COOKIE);
		for (e = s; *e && *e != ';' && !isspace((unsigned char)*e); e++)
			;
	} else
		for (e = s + strlen(s); e > s &&
		    isspace((unsigned char)e[-1]); e--)
			;
	if (!token_ok(s, (size_t)(e - s)))
		return NULL;
	return strndup(s, (size_t)(e - s));
}

/* The client's own refresh token (or a comma list of them) as the API key. */
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
	struct glm_call c;
	enum glm_step gs;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	glm_call_init(&c, x, a);
	/* the exchange is the check (§3.1): ask, do not trust a cache */
	gs = c.base == NULL ? GLM_STEP_FAILED :
	    glm_access(&c, 1, out->email, sizeof(out->email));
	out->latency_ms = call_ms_since(&t0);
	switch (gs) {
	case GLM_STEP_OK:
		out->verdict = PROVIDER_VALID;
		snprintf(out->message, sizeof(out->message), "ok");
		break;
	case GLM_STEP_AUTH:
		out->verdict = glm_login_over(&c) ? PROVIDER_EXPIRED :
		    PROVIDER_INVALID;
		snprintf(out->message, sizeof(out->message), "%ld: %.200s",
		    c.code, c.msg[0] ? c.msg : "Unauthorized");
		break;
	default:
		out->verdict = PROVIDER_UNKNOWN;
		snprintf(out->message, sizeof(out->message), "%s",
		    c.msg[0] ? c.msg : "no answer");
		break;
	}
}

/* A cached access token that is still good is nothing to refresh. */
static int
refresh(const struct provider_ctx *x, const struct provider_account *a,
    int force, char *err, size_t errsz)
{
	struct glm_call c;

	glm_call_init(&c, x, a);
	if (c.base == NULL || glm_access(&c, force, NULL, 0) != GLM_STEP_OK) {
		snprintf(err, errsz, "%s", c.msg[0] ? c.msg : "failed");
		return -1;
	}
	return c.access_cached ? 1 : 0;
}

const struct provider glm_provider = {
	.id = "glm",
	.display = "GLM",
	.flags = PROVIDER_SESSIONS,
	.models = models,
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.kinds = kinds,
	.nkinds = sizeof(kinds) / sizeof(kinds[0]),
	.normalize = normalize,
	.raw_credential = raw_credential,
	.name_flags = name_flags,
	.chat = glm_chat,
	.validate = validate,
	.refresh = refresh,
	.forget = glm_forget,
	.purge = glm_purge,
};
