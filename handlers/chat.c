/*
 * POST /v1/chat/completions: validate the body, route the model to a
 * provider, decide who pays (the client's own credential, an account of
 * the pool, or nobody), and hand the attempts to handlers/chat_attempt.c.
 * No provider is named here: what differs between them is in their table
 * line (upstream/provider.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/log.h"
#include "fcgi/resp.h"
#include "handlers/apiauth.h"
#include "handlers/chat_attempt.h"
#include "handlers/chat_request.h"
#include "handlers/context.h"
#include "handlers/handlers.h"
#include "handlers/openai_sink.h"
#include "handlers/rformat.h"
#include "handlers/session.h"
#include "handlers/tools.h"
#include "store/accounts.h"
#include "upstream/provider.h"
#include "upstream/route.h"

/* The model when a body names none: the catch-all provider's first. */
static const char *
default_model(void)
{
	const struct provider *p = provider_default();

	if (p == NULL)
		return "auto";
	if (p->default_model != NULL)
		return p->default_model;
	return p->models != NULL && p->models[0].id != NULL ?
	    p->models[0].id : "auto";
}

static int
header_true(struct req *r, const char *name)
{
	const char *v = req_param(r, name);

	return v != NULL && (strcasecmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

/*
 * Thinking and search from the body, else the headers (§1.1).  Any
 * reasoning effort but "none" switches thinking on: no provider grades
 * it.
 */
static void
request_flags(struct req *r, const struct chat_request *cr, struct route *rt)
{
	const char *effort = cr->reasoning_effort;

	if (effort == NULL)
		effort = req_param(r, "HTTP_X_REASONING_EFFORT");
	if (effort != NULL && *effort && strcasecmp(effort, "none") != 0)
		rt->flags |= ROUTE_THINK;
	if (cr->web_search > 0 || (cr->web_search < 0 &&
	    header_true(r, "HTTP_X_WEB_SEARCH")))
		rt->flags |= ROUTE_SEARCH;
	if (cr->deep_research > 0 || (cr->deep_research < 0 &&
	    header_true(r, "HTTP_X_DEEP_RESEARCH")))
		rt->flags |= ROUTE_DEEP_RESEARCH;
}

/*
 * Who pays (providers.md §10.6, chatgpt.md §7.1): a code or key draws on
 * the provider's accounts; another key may be the client's own
 * credential, if the provider recognises it; otherwise a placeholder,
 * which a protected server refuses and an open one serves anonymously
 * (where the provider can) or from the pool.
 */
static enum app_err
plan(struct req *r, const struct api_auth *a, const struct route *rt,
    struct chat_plan *p, int *answered)
{
	const struct provider *pv = rt->provider;
	struct provider_account *own;

	memset(p, 0, sizeof(*p));
	*answered = 0;
	p->protected = a->protected;
	if (a->who == API_CODE || a->who == API_KEY) {
		p->mode = PAY_POOL;
		return APP_OK;
	}
	if (a->who == API_OTHER && pv->raw_credential != NULL) {
		if ((own = arena_calloc(r->arena, 1, sizeof(*own))) == NULL)
			return APP_ENOMEM;
		if (pv->raw_credential(r->arena, a->bearer, own)) {
			p->mode = PAY_OWN;
			p->own = own;
			return APP_OK;
		}
	}
	if (a->who == API_OTHER && a->protected) {
		*answered = 1;
		return api_auth_refuse(r, a);
	}
	if (pv->flags & PROVIDER_ANON) {
		p->mode = PAY_ANON;
		return APP_OK;
	}
	if (a->protected) {
		*answered = 1;
		return api_auth_refuse(r, a);
	}
	p->mode = PAY_POOL;
	return APP_OK;
}

/* Whether a provider takes the client's own credential as it is. */
struct own_try {
	struct req		*r;
	const struct api_auth	*a;
};

static int
takes_own(const struct provider *p, void *u)
{
	struct own_try *t = u;
	struct provider_account own;

	memset(&own, 0, sizeof(own));
	return p->raw_credential != NULL &&
	    p->raw_credential(t->r->arena, t->a->bearer, &own);
}

/* A name of OpenAI's own, which the catch-all provider serves. */
static int
openai_name(const char *m)
{
	static const char *const pfx[] = { "gpt-", "chatgpt-", "o1", "o3",
	    "o4", "o5", "text-", NULL };
	size_t i;

	for (i = 0; pfx[i] != NULL; i++)
		if (strncasecmp(m, pfx[i], strlen(pfx[i])) == 0)
			return 1;
	return 0;
}

/* TOOL_PROMPT and TOOL_FORMAT (validated by fcgi/conf.c). */
static void
tools_conf(const struct config *cfg, enum tools_mode *m, enum tools_format *f)
{
	const char *v = cfg->tool_prompt;

	*m = TOOLS_AUTO;
	if (v != NULL && strcmp(v, "always") == 0)
		*m = TOOLS_ALWAYS;
	else if (v != NULL && strcmp(v, "never") == 0)
		*m = TOOLS_NEVER;
	v = cfg->tool_format;
	*f = v != NULL && strcmp(v, "xml") == 0 ? TOOLS_XML : TOOLS_BRACKET;
}

static enum acct_strategy
strategy_of(const struct config *cfg, const struct provider *pv)
{
	enum acct_strategy s = ACCT_ROUND_ROBIN;
	const char *name = config_lb_strategy(cfg, pv->id);

	if (name != NULL)
		acct_strategy_parse(name, &s);
	return s;
}

/*
 * The body, its tools and its response_format, checked; -1 with *e once
 * the client has its 400.  A function of its own so that the error's
 * buffers are not in serve()'s frame, which a parked stream keeps
 * (BENCHMARKS.md §20).
 */
static int __attribute__((noinline))
parse(struct req *r, const char *body, size_t len, enum oa_format fmt,
    struct chat_request *cr, struct json_object **root, struct tools_req *tr,
    struct rf_req *rf, enum app_err *e)
{
	struct chat_req_error err;

	if (chat_request_parse(r->arena, body, len, cr, root, &err) < 0) {
		/* The legacy prompt is the chat body's only message. */
		if (fmt == OA_TEXT &&
		    strncmp(err.param, "messages[0].content", 19) == 0)
			snprintf(err.param, sizeof(err.param), "prompt");
		goto fail;
	}
	if (tools_request_parse(r->arena, *root, cr, tr, &err) < 0 ||
	    rf_request_parse(r->arena, *root, rf, &err) < 0) {
		json_object_put(*root);
		*root = NULL;
		goto fail;
	}
	return 0;
fail:
	*e = resp_error(r, err.status, "invalid_request_error", err.code,
	    err.param[0] ? err.param : NULL, "%s", err.message);
	return -1;
}

/*
 * From the parsed body to the plan of the attempts: the caller known,
 * the model routed, the history trimmed and the tools and response
 * format turned into prompt text, the session opened.  0, or -1 with *e
 * once the request is answered or failed.  Not inlined: what it needs
 * only here (the caller's key, the owner search, the session's new
 * turns) stays out of serve()'s frame, which a parked stream keeps
 * (BENCHMARKS.md §20).
 */
static int __attribute__((noinline))
prepare(struct req *r, enum oa_format fmt, const struct oa_writer *w,
    struct chat_request *cr, struct json_object *root, struct tools_req *tr,
    struct rf_req *rf, struct session *ss, struct route *rt,
    struct chat_plan *p, enum app_err *e)
{
	struct api_auth auth;
	struct own_try ot;
	struct ctx_conf cc;
	struct tools_req ntr;
	enum tools_mode tm;
	enum tools_format tf;
	enum route_err re;
	const char *hdr;
	int answered;

	if (fmt != OA_CHAT)
		rf->type = RF_TEXT;
	/* the digests, before anything below edits the messages; a legacy
	 * completion has no conversation to continue */
	if (fmt == OA_CHAT && session_begin(ss, r, root, cr) < 0) {
		*e = APP_ENOMEM;
		return -1;
	}
	if (cr->model == NULL || *cr->model == '\0')
		cr->model = default_model();
	r->model = arena_strdup(r->arena, cr->model);
	if ((*e = api_auth(r, &auth, &answered)) != APP_OK || answered)
		return -1;
	if ((re = route_resolve(r->cfg, r->store, r->arena, cr->model, rt)) !=
	    ROUTE_OK) {
		if (re == ROUTE_ENOMEM)
			*e = APP_ENOMEM;
		else if (re == ROUTE_UNKNOWN)
			*e = resp_error(r, 404, "invalid_request_error",
			    "model_not_found", "model", "The model `%s` does "
			    "not exist.", cr->model);
		else
			*e = resp_error(r, 500, "server_error", "bad_mapping",
			    NULL, "The model `%s` is mapped to a provider this "
			    "server does not have (%s).", cr->model,
			    route_strerror(re));
		return -1;
	}
	/*
	 * The other dialects' clients name other vendors' models: there a
	 * name nobody knows or maps is a 404, not ChatGPT's catch-all
	 * (which still takes OpenAI's own names, dated or new).
	 */
	if (w != NULL && (rt->flags & ROUTE_FALLBACK) &&
	    !openai_name(cr->model)) {
		*e = resp_error(r, 404, "invalid_request_error",
		    "model_not_found", "model", "The model `%s` does not exist "
		    "here: map it to a provider's model (chat2api models map).",
		    cr->model);
		return -1;
	}
	/* a shared name goes to the owner that takes the client's own key */
	ot.r = r;
	ot.a = &auth;
	if (auth.who == API_OTHER && !takes_own(rt->provider, &ot))
		(void)route_other_owner(r->store, cr->model, rt, takes_own,
		    &ot);
	request_flags(r, cr, rt);
	/* A long history trimmed for this provider, tool turns still whole. */
	ctx_conf_of(r->cfg, rt->provider->id, &cc);
	(void)ctx_apply(root, cr, &cc, rt->provider->id);
	/* Tools become text before any provider flattens the messages. */
	tools_conf(r->cfg, &tm, &tf);
	if (tools_prompt_apply(r->arena, root, cr, tr, tm, tf) < 0) {
		*e = APP_ENOMEM;
		return -1;
	}
	if (rf_prompt_apply(r->arena, cr, rf) < 0) {
		*e = APP_ENOMEM;
		return -1;
	}
	if (r->cfg->upload_by_url &&
	    chat_request_split_urls(r->arena, cr) < 0) {
		*e = APP_ENOMEM;
		return -1;
	}
	/* The team id: the provider's header, then "key,team", the body. */
	if (rt->provider->team_header != NULL &&
	    (hdr = req_param(r, rt->provider->team_header)) != NULL && *hdr)
		cr->account_id = hdr;
	else if (auth.suffix != NULL && auth.who != API_OTHER)
		cr->account_id = auth.suffix;
	if ((*e = plan(r, &auth, rt, p, &answered)) != APP_OK || answered)
		return -1;
	p->strategy = strategy_of(r->cfg, rt->provider);
	p->tools = tr->injected ? tr : NULL;
	p->rf = rf->type != RF_TEXT ? rf : NULL;
	session_open(ss, rt, p->mode == PAY_POOL, p->rf != NULL,
	    tr->injected ? tr->section : NULL);
	if (ss->found) {
		/* the new turns re-encoded as the whole history was; the
		 * tool section again only when the chat was taught another */
		ntr = *tr;
		if (tools_prompt_apply(r->arena, ss->root, &ss->cr, &ntr,
		    tr->injected && ss->resend_section ? TOOLS_ALWAYS :
		    TOOLS_NEVER, tf) < 0 ||
		    (r->cfg->upload_by_url &&
		    chat_request_split_urls(r->arena, &ss->cr) < 0)) {
			*e = APP_ENOMEM;
			return -1;
		}
	}
	return 0;
}

/*
 * One chat body (len bytes) through auth, routing, accounts, provider and
 * retries, the answer written in fmt, or by w when a dialect gives one.
 * /v1/completions arrives here with its prompt already turned into a chat
 * body, /v1/messages and /v1/responses with theirs.
 */
static enum app_err
serve(struct req *r, const char *body, size_t len, enum oa_format fmt,
    const struct oa_writer *w, void *wctx)
{
	struct chat_request cr;
	struct json_object *root = NULL;
	struct route rt;
	struct chat_plan p;
	struct tools_req tr;
	struct rf_req rf;
	/* malloc'd: a parked stream keeps this frame (BENCHMARKS §20) */
	struct session *ss;
	struct provider_after drop;
	enum app_err e;

	if ((ss = malloc(sizeof(*ss))) == NULL)
		return APP_ENOMEM;
	session_clear(ss);
	if (parse(r, body, len, fmt, &cr, &root, &tr, &rf, &e) < 0) {
		free(ss);
		return e;
	}
	if (prepare(r, fmt, w, &cr, root, &tr, &rf, ss, &rt, &p, &e) == 0) {
		p.sess = ss;
		p.writer = w;
		p.writer_ctx = wctx;
		e = chat_attempts(r, &cr, &rt, &p, fmt);
	}
	/* chat_attempts ended it; here only what an early exit left */
	session_end(ss, &drop);
	json_object_put(root);
	free(ss);
	return e;
}

enum app_err
chat_serve(struct req *r, const char *body, size_t len, enum oa_format fmt)
{
	return serve(r, body, len, fmt, NULL, NULL);
}

enum app_err
chat_serve_with(struct req *r, const char *body, size_t len,
    const struct oa_writer *w, void *ctx)
{
	return serve(r, body, len, OA_CHAT, w, ctx);
}

/*
 * The prompt tokens a chat body would report in its usage, tool prompt
 * included (count_tokens).  0, or -1 with err filled.
 */
int
chat_prompt_estimate(struct req *r, const char *body, size_t len,
    long *tokens, struct chat_req_error *err)
{
	struct chat_request cr;
	struct json_object *root = NULL;
	struct tools_req tr;
	enum tools_mode tm;
	enum tools_format tf;
	int rc = -1;

	if (chat_request_parse(r->arena, body, len, &cr, &root, err) < 0)
		return -1;
	if (tools_request_parse(r->arena, root, &cr, &tr, err) < 0)
		goto out;
	tools_conf(r->cfg, &tm, &tf);
	if (tools_prompt_apply(r->arena, root, &cr, &tr, tm, tf) < 0) {
		chat_req_fail(err, "server_error", NULL, "Out of memory.");
		goto out;
	}
	*tokens = oa_prompt_tokens(&cr);
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

enum app_err
h_chat_completions(struct req *r, const char *rest)
{
	(void)rest;
	if (r->body_len == 0)
		return resp_error(r, 400, "invalid_request_error",
		    "missing_body", NULL, "The request needs a JSON body.");
	return chat_serve(r, r->body, r->body_len, OA_CHAT);
}
