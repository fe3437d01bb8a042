/*
 * ChatGPT as a provider: its line of the table, its credential kinds,
 * and the account check (validate) and RefreshToken exchange (refresh)
 * the accounts commands and pages run outside a request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "store/crypto.h"
#include "upstream/call.h"
#include "upstream/chatgpt/chatgpt.h"
#include "upstream/chatgpt/internal.h"
#include "upstream/chatgpt/models.h"
#include "upstream/chatgpt/refresh.h"

#define CHECK_PATH	"/backend-api/accounts/check/v4-2023-04-27"

static const char *const kinds[] = {
	"token", "access_token", "refresh_token", "other",
};

static const struct provider_field fields[] = {
	{ "token", "AccessToken (eyJ...), RefreshToken or share token", 1, 0 },
	{ "account_id", "team or workspace id (ChatGPT-Account-ID)", 0, 1 },
};

int
chatgpt_token_kind(const char *s)
{
	size_t n = strlen(s);

	if (strncmp(s, "eyJ", 3) == 0 || strncmp(s, "fk-", 3) == 0)
		return CHATGPT_KIND_ACCESS;
	if (n == 45 || strncmp(s, "rt_", 3) == 0 || strncmp(s, "rt-", 3) == 0)
		return CHATGPT_KIND_REFRESH;
	return CHATGPT_KIND_OTHER;
}

static int
classify(const char *secret)
{
	return chatgpt_token_kind(secret);
}

/*
 * "token" or "token,account_id" (§16.1): the client's AccessToken or
 * RefreshToken.  Any other key is no credential of ours.
 */
static int
raw_credential(struct arena *a, const char *bearer,
    struct provider_account *out)
{
	const char *comma = strchr(bearer, ',');
	char *tok;
	int kind;

	tok = comma != NULL ? arena_strndup(a, bearer,
	    (size_t)(comma - bearer)) : arena_strdup(a, bearer);
	if (tok == NULL)
		return 0;
	kind = chatgpt_token_kind(tok);
	if (kind != CHATGPT_KIND_ACCESS && kind != CHATGPT_KIND_REFRESH)
		return 0;
	memset(out, 0, sizeof(*out));
	out->secret = tok;
	out->kind = kind;
	out->team_id = comma != NULL && comma[1] ? comma + 1 : NULL;
	return 1;
}

void
chatgpt_jwt_claims(const char *at, char *email, size_t emailsz, int64_t *exp)
{
	struct json_object *o, *prof, *v;

	*exp = 0;
	if ((o = call_jwt_payload(at)) == NULL)
		return;
	if (json_object_object_get_ex(o, "exp", &v))
		*exp = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "https://api.openai.com/profile",
	    &prof) && json_object_object_get_ex(prof, "email", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(email, emailsz, "%s", json_object_get_string(v));
	json_object_put(o);
}

static void
validate(const struct provider_ctx *x, const struct provider_account *a,
    struct provider_check *out)
{
	struct call_hdrs h;
	struct http_req req;
	struct http_resp resp;
	struct timespec t0;
	enum refresh_err re;
	const char *token = a->secret, *base;
	char *at = NULL;
	int64_t exp = 0;
	enum up_err e;

	memset(out, 0, sizeof(*out));
	memset(&resp, 0, sizeof(resp));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (chatgpt_token_kind(token) == CHATGPT_KIND_REFRESH) {
		re = chatgpt_refresh(x->cfg, x->store, token, 0, &at, NULL,
		    NULL, out->message, sizeof(out->message));
		if (re != REFRESH_OK) {
			out->verdict = re == REFRESH_INVALID ?
			    PROVIDER_INVALID : PROVIDER_UNKNOWN;
			goto out;
		}
		token = at;
	}
	chatgpt_jwt_claims(token, out->email, sizeof(out->email), &exp);
	base = call_base(x->arena, &x->cfg->chatgpt_base_url);
	call_hdrs_init(&h, x->arena);
	call_hdr(&h, "accept: application/json");
	call_hdr(&h, "authorization: Bearer %s", token);
	call_hdr(&h, "oai-language: %s", x->cfg->oai_language);
	if (a->team_id != NULL && *a->team_id)
		call_hdr(&h, "chatgpt-account-id: %s", a->team_id);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = arena_printf(x->arena, "%s%s", base, CHECK_PATH);
	req.headers = call_hdrs_done(&h);
	req.proxy = call_proxy(x->arena, &x->cfg->proxy_url, token, 1);
	req.total_timeout_ms = 15000;
	e = http_do(&req, &resp);
	out->latency_ms = call_ms_since(&t0);
	if (e == UP_OK) {
		out->verdict = PROVIDER_VALID;
		snprintf(out->message, sizeof(out->message), "ok");
	} else if (e == UP_HTTP && (resp.status == 401 ||
	    resp.status == 403) && !call_is_cloudflare(&resp)) {
		out->verdict = exp > 0 && exp < (int64_t)time(NULL) ?
		    PROVIDER_EXPIRED : PROVIDER_INVALID;
		snprintf(out->message, sizeof(out->message), "%ld: the "
		    "upstream refused the token%s", resp.status,
		    out->verdict == PROVIDER_EXPIRED ? " (expired)" : "");
	} else {
		out->verdict = PROVIDER_UNKNOWN;
		snprintf(out->message, sizeof(out->message), "%s (status %ld)",
		    up_strerror(e), resp.status);
	}
out:
	http_resp_free(&resp);
	if (at != NULL) {
		crypto_wipe(at, strlen(at));
		free(at);
	}
}

static int
refresh(const struct provider_ctx *x, const struct provider_account *a,
    int force, char *err, size_t errsz)
{
	enum refresh_err re;
	char *at = NULL;

	if (chatgpt_token_kind(a->secret) != CHATGPT_KIND_REFRESH)
		return 1;	/* an AccessToken: nothing to refresh */
	re = chatgpt_refresh(x->cfg, x->store, a->secret, force, &at, NULL,
	    NULL, err, errsz);
	if (at != NULL) {
		crypto_wipe(at, strlen(at));
		free(at);
	}
	return re == REFRESH_OK ? 0 : -1;
}

const struct provider chatgpt_provider = {
	.id = "chatgpt",
	.display = "ChatGPT",
	/* anonymous answers; and any name maps to some slug (§6.1) */
	.flags = PROVIDER_ANON | PROVIDER_CATCHALL | PROVIDER_SESSIONS,
	.models = chatgpt_models,
	.default_model = CHATGPT_DEFAULT_MODEL,
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.team_header = "HTTP_CHATGPT_ACCOUNT_ID",	/* §16.1 */
	.kinds = kinds,
	.nkinds = sizeof(kinds) / sizeof(kinds[0]),
	.classify = classify,
	.raw_credential = raw_credential,
	.reported = chatgpt_model_response_name,
	.chat = chatgpt_chat,
	.validate = validate,
	.refresh = refresh,
	.forget = chatgpt_forget,
};
