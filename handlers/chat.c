/*
 * POST /v1/chat/completions: validate, pick provider and credential, run
 * attempts until one starts an answer or a non-retryable error, and let
 * the OpenAI sink write the result.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "fcgi/log.h"
#include "fcgi/resp.h"
#include "handlers/chat_request.h"
#include "handlers/handlers.h"
#include "handlers/openai_sink.h"
#include "upstream/chatgpt/models.h"
#include "upstream/provider.h"

struct chat_ctx {
	struct req	*r;
	struct oa_sink	*sink;
};

/*
 * While the upstream thinks: before the answer starts only watch for a
 * hang-up; once a stream is open also send keep-alive comments.
 */
static int
chat_idle(void *u)
{
	struct chat_ctx *cc = u;
	struct req *r = cc->r;

	if (cc->sink->started && cc->sink->cr->stream)
		return sse_idle(r) != APP_OK;
	if (r->hup || r->io->gone(r, 0)) {
		r->hup = 1;
		cc->sink->aborted = 1;
		return 1;
	}
	return 0;
}

/* "Bearer X" or "Bearer X,account_id" (§16.1: both forms work). */
static void
parse_bearer(struct req *r, const char **token, const char **account)
{
	const char *a = r->auth, *comma;

	*token = NULL;
	*account = NULL;
	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return;
	for (a += 7; *a == ' '; a++)
		;
	if (*a == '\0')
		return;
	if ((comma = strchr(a, ',')) != NULL) {
		*token = arena_strndup(r->arena, a, (size_t)(comma - a));
		if (comma[1] != '\0')
			*account = arena_strdup(r->arena, comma + 1);
	} else
		*token = a;
}

static int
retryable(int status, const char *code)
{
	if (status >= 500)
		return 1;
	return status == 403 && strcmp(code, "upstream_not_started") == 0;
}

enum app_err
h_chat_completions(struct req *r, const char *rest)
{
	struct chat_request cr;
	struct chat_req_error err;
	struct json_object *root = NULL;
	struct oa_sink sink;
	struct chat_sink k;
	struct chat_ctx cc;
	struct provider_call pc;
	const struct provider *prov;
	const char *token, *account, *hdr;
	enum app_err e;
	long attempt;
	size_t i, j;

	(void)rest;
	if (r->body_len == 0)
		return resp_error(r, 400, "invalid_request_error",
		    "missing_body", NULL, "The request needs a JSON body.");
	if (chat_request_parse(r->arena, r->body, r->body_len, &cr, &root,
	    &err) < 0)
		return resp_error(r, err.status, "invalid_request_error",
		    err.code, err.param[0] ? err.param : NULL, "%s",
		    err.message);
	if (cr.model == NULL || *cr.model == '\0')
		cr.model = CHATGPT_DEFAULT_MODEL;
	r->model = arena_strdup(r->arena, cr.model);
	for (i = 0; i < cr.nmessages; i++)
		for (j = 0; j < cr.messages[i].nparts; j++)
			if (cr.messages[i].parts[j].type != CHAT_PART_TEXT) {
				json_object_put(root);
				return resp_error(r, 400,
				    "invalid_request_error", "unsupported_content",
				    "messages", "Image and file parts are not "
				    "supported yet; send text parts only.");
			}
	if ((prov = provider_for_model(cr.model)) == NULL) {
		json_object_put(root);
		return resp_error(r, 404, "invalid_request_error",
		    "model_not_found", "model", "The model `%s` does not "
		    "exist.", cr.model);
	}
	parse_bearer(r, &token, &account);
	/*
	 * SDKs cannot omit the API key, so a Bearer value that is no access
	 * token (eyJ..., a JWT) means "anonymous", like no header at all.
	 */
	if (token != NULL && strncmp(token, "eyJ", 3) != 0)
		token = NULL;
	if ((hdr = req_param(r, "HTTP_CHATGPT_ACCOUNT_ID")) != NULL && *hdr)
		account = hdr;
	else if (account == NULL && cr.account_id != NULL)
		account = cr.account_id;

	oa_sink_init(&sink, r, &cr);
	oa_sink_bind(&sink, &k);
	cc.r = r;
	cc.sink = &sink;
	memset(&pc, 0, sizeof(pc));
	pc.cfg = r->cfg;
	pc.arena = r->arena;
	pc.req = &cr;
	pc.credential = token;
	pc.account_id = account;
	pc.sink = &k;
	pc.idle = chat_idle;
	pc.idle_ctx = &cc;
	for (attempt = 0; attempt <= r->cfg->retry_times; attempt++) {
		oa_sink_reset_error(&sink);
		prov->chat(&pc);
		if (sink.started || sink.aborted || r->hup ||
		    sink.err_status == 0 ||
		    !retryable(sink.err_status, sink.err_code))
			break;
		log_info("%s: attempt %ld failed (%d %s), retrying",
		    prov->name, attempt + 1, sink.err_status, sink.err_code);
	}
	e = oa_sink_complete(&sink);
	oa_sink_free(&sink);
	json_object_put(root);
	return e;
}
