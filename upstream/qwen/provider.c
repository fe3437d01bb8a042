/*
 * Qwen (qianwen.com, China) as a provider: its line of the table, its
 * models (§6.2: the display names map to upstream ids, Qwen3-Max to its
 * thinking agent when thinking is on), the switches its names carry
 * (§1.2), the client's own ticket as its key, and the account check.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "upstream/qwen/internal.h"
#include "upstream/qwen/qwen.h"

#define QW_CREATED	1764547200	/* 2025-12-01, cosmetic */
#define MAX_MODEL	"tongyi-qwen3-max-model-agent"
#define MAX_THINKING	"tongyi-qwen3-max-thinking-agent"

static const struct provider_model models[] = {
	{ "Qwen3", MAX_MODEL, QW_CREATED, 0 },
	{ "Qwen3-Max", MAX_MODEL, QW_CREATED, 0 },
	{ "Qwen3-Max-Thinking", MAX_THINKING, QW_CREATED, ROUTE_THINK },
	{ "Qwen3-Plus", "tongyi-qwen-plus-agent", QW_CREATED, 0 },
	{ "Qwen3.5-Plus", "Qwen3.5-Plus", QW_CREATED, 0 },
	{ "Qwen3-Flash", "qwen3-flash", QW_CREATED, 0 },
	{ "Qwen3-Coder", "qwen3-coder-plus", QW_CREATED, 0 },
	/* the upstream's own ids, for clients configured with them */
	{ MAX_MODEL, MAX_MODEL, QW_CREATED, 0 },
	{ MAX_THINKING, MAX_THINKING, QW_CREATED, ROUTE_THINK },
	{ "tongyi-qwen-plus-agent", "tongyi-qwen-plus-agent", QW_CREATED, 0 },
	{ NULL, NULL, 0, 0 }
};

static const struct provider_field fields[] = {
	{ "ticket", "the tongyi_sso_ticket cookie of www.qianwen.com (the "
	  "value, \"tongyi_sso_ticket=...\" or the whole Cookie header); "
	  "for an Alibaba Cloud login \"login_aliyunid_ticket=...\"", 1, 0 },
};

static const char *const kinds[] = { "sso_ticket", "aliyun_ticket" };

static int
contains(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

/* §1.2: "think" or "r1" switch thinking on, "search" searching. */
static unsigned
name_flags(const char *name)
{
	unsigned f = 0;

	if (contains(name, "think") || contains(name, "r1"))
		f |= ROUTE_THINK;
	if (contains(name, "search"))
		f |= ROUTE_SEARCH;
	return f;
}

const char *
qw_upstream_model(const struct route *rt)
{
	if ((rt->flags & ROUTE_THINK) && rt->upstream_model != NULL &&
	    strcmp(rt->upstream_model, MAX_MODEL) == 0)
		return MAX_THINKING;
	return rt->upstream_model != NULL ? rt->upstream_model : MAX_MODEL;
}

/*
 * The client's own ticket as the API key, in any form
 * qw_ticket_normalize() takes but a whole cookie header.  Placeholders
 * ("sk-...", short words) are no credential.
 */
static int
ticket_ok(const char *s, size_t n)
{
	struct json_object *jwt;
	char *t, *v;
	int ok;

	if (n < QW_TICKET_MIN || strncmp(s, "sk-", 3) == 0 ||
	    memchr(s, ';', n) != NULL || (t = strndup(s, n)) == NULL)
		return 0;
	v = qw_ticket_normalize(t);
	ok = v != NULL;
	/* a JWT is chat.qwen.ai's token, never a qianwen.com ticket */
	if (ok && (jwt = call_jwt_payload(v)) != NULL) {
		json_object_put(jwt);
		ok = 0;
	}
	free(t);
	free(v);
	return ok;
}

/* A comma list of tickets gives one of them (call_own_credential). */
static int
raw_credential(struct arena *a, const char *bearer,
    struct provider_account *out)
{
	char *t;

	if (!call_own_credential(a, bearer, ticket_ok, out) ||
	    (t = qw_ticket_normalize(out->secret)) == NULL)
		return 0;
	out->secret = arena_strdup(a, t);
	out->kind = qw_ticket_kind(t);
	free(t);
	return out->secret != NULL;
}

/* The session list answers success:true for a live login (§6.1). */
static void
validate(const struct provider_ctx *x, const struct provider_account *a,
    struct provider_check *out)
{
	struct json_object *root;
	struct timespec t0;
	struct qw_call c;
	enum qw_step_err se;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (qw_call_init(&c, x, a->secret) < 0) {
		out->verdict = PROVIDER_INVALID;
		snprintf(out->message, sizeof(out->message), "not a Qwen "
		    "ticket");
		return;
	}
	se = qw_api(&c, "session/page/list", QW_LIST_PATH, "{}", &root);
	out->latency_ms = call_ms_since(&t0);
	switch (se) {
	case QW_STEP_OK:
		json_object_put(root);
		out->verdict = PROVIDER_VALID;
		snprintf(out->message, sizeof(out->message), "ok");
		break;
	case QW_STEP_EXPIRED:
		out->verdict = PROVIDER_EXPIRED;
		snprintf(out->message, sizeof(out->message), "%.40s: %.180s",
		    c.code, c.msg[0] ? c.msg : "not logged in");
		break;
	default:
		out->verdict = c.status == 401 || c.status == 403 ?
		    PROVIDER_INVALID : PROVIDER_UNKNOWN;
		snprintf(out->message, sizeof(out->message), "%.40s%s%.180s",
		    c.code, c.code[0] ? ": " : "", c.msg[0] ? c.msg :
		    "no answer");
		break;
	}
}

const struct provider qwen_provider = {
	.id = "qwen",
	.display = "Qwen",
	.flags = PROVIDER_SESSIONS,
	.models = models,
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.kinds = kinds,
	.nkinds = sizeof(kinds) / sizeof(kinds[0]),
	.classify = qw_ticket_kind,
	.normalize = qw_ticket_normalize,
	.raw_credential = raw_credential,
	.name_flags = name_flags,
	.chat = qwen_chat,
	.validate = validate,
	.forget = qwen_forget,
};
