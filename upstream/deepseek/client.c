/*
 * One DeepSeek answer (§2.3): bearer, a new chat session, a proof of work,
 * the completion stream through the SSE re-framer and the decoder into
 * the sink, and the session deleted once the answer is out (the caller
 * runs that after writing it).  A session per answer keeps one client's
 * conversation from leaking into another's; the whole history goes up as
 * one flattened prompt (§2.5).
 *
 * In a multi-turn session (provider_call.session) the chat session is
 * kept after a complete answer and named with the answer's message id;
 * the next turn sends only its new messages with that id as
 * parent_message_id, in the same chat session.
 *
 * A cached bearer the upstream now refuses is fetched again once before
 * the account is called expired: DeepSeek may end a bearer early.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "upstream/deepseek/internal.h"
#include "upstream/deepseek/pow.h"
#include "upstream/deepseek/prompt.h"
#include "upstream/deepseek/stream.h"
#include "upstream/sse.h"

#define DS_TARGET_PATH	"/api/v0/chat/completion"
#define DS_ERR_BODY_MAX	(64u << 10)

/*
 * A step that may meet a stale cached bearer: fetch it again, once.
 * ds_api() tells the sink every failure but a refused login, which is
 * decided here.
 */
static enum ds_step_err
api_fresh(struct ds_call *c, const char *what, const char *path,
    const char *body, struct json_object **root, struct json_object **biz)
{
	enum ds_step_err se;

	se = ds_api(c, what, path, body, root, biz);
	if (se == DS_STEP_EXPIRED && c->bearer_cached) {
		if ((se = ds_bearer(c, 1, NULL, 0)) != DS_STEP_OK)
			return se;	/* ds_bearer told the sink */
		se = ds_api(c, what, path, body, root, biz);
	}
	if (se == DS_STEP_EXPIRED)
		ds_fail_expired(c, what);
	return se;
}

static int
session_create(struct ds_call *c)
{
	struct json_object *root, *biz, *v, *s;
	const char *id = NULL;

	if (api_fresh(c, "chat_session/create", "/api/v0/chat_session/create",
	    "{}", &root, &biz) != DS_STEP_OK)
		return -1;
	/* New shape: biz_data.chat_session.id; older: biz_data.id. */
	if (json_object_object_get_ex(biz, "chat_session", &s) &&
	    json_object_object_get_ex(s, "id", &v))
		id = json_object_get_string(v);
	else if (json_object_object_get_ex(biz, "id", &v))
		id = json_object_get_string(v);
	if (id != NULL && *id && strlen(id) <= 128)
		c->session = arena_strdup(c->arena, id);
	json_object_put(root);
	if (c->session == NULL) {
		call_fail(c->sink, 502, "upstream_error", "upstream_error",
		    "DeepSeek created no chat session.");
		return -1;
	}
	return 0;
}

/* Deleting the session: after the answer, or after a failed attempt. */
static void
session_delete(void *u)
{
	struct json_object *root, *biz;
	struct ds_call *c = u;
	const char *body;

	c->sink = NULL;
	c->idle = NULL;		/* the client may be gone; clean up anyway */
	body = arena_printf(c->arena, "{\"chat_session_id\":\"%s\"}",
	    c->session);
	if (body == NULL)
		return;
	if (ds_api(c, "chat_session/delete", "/api/v0/chat_session/delete",
	    body, &root, &biz) == DS_STEP_OK)
		json_object_put(root);
	else
		log_info("deepseek: chat session not deleted: %s", c->msg);
}

/* The challenge, solved, as the X-Ds-Pow-Response value. */
static char *
pow_answer(struct ds_call *c)
{
	struct json_object *root, *biz, *ch, *v;
	struct ds_pow_challenge pc;
	struct timespec t0;
	enum ds_pow_err pe;
	char *hdr = NULL, *out = NULL;
	long answer;

	if (api_fresh(c, "create_pow_challenge",
	    "/api/v0/chat/create_pow_challenge",
	    "{\"target_path\":\"" DS_TARGET_PATH "\"}", &root, &biz) !=
	    DS_STEP_OK)
		return NULL;
	memset(&pc, 0, sizeof(pc));
	if (!json_object_object_get_ex(biz, "challenge", &ch) ||
	    !json_object_is_type(ch, json_type_object)) {
		call_fail(c->sink, 502, "upstream_error", "upstream_error",
		    "DeepSeek sent no proof-of-work challenge.");
		goto out;
	}
#define STR(k, f) if (json_object_object_get_ex(ch, k, &v) && \
	    json_object_is_type(v, json_type_string)) pc.f = \
	    json_object_get_string(v)
	STR("algorithm", algorithm);
	STR("challenge", challenge);
	STR("salt", salt);
	STR("signature", signature);
	STR("target_path", target_path);
#undef STR
	if (json_object_object_get_ex(ch, "expire_at", &v))
		pc.expire_at = json_object_get_int64(v);
	if (json_object_object_get_ex(ch, "difficulty", &v))
		pc.difficulty = (long)json_object_get_int64(v);
	if (pc.target_path == NULL)
		pc.target_path = DS_TARGET_PATH;
	if (pc.algorithm == NULL || pc.challenge == NULL || pc.salt == NULL ||
	    pc.signature == NULL)
		pe = DS_POW_INVAL;
	else {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		pe = ds_pow_solve(&pc, &answer);
		call_pow_add(call_ms_since(&t0));
		if (pe == DS_POW_OK)
			pe = ds_pow_header(&pc, answer, &hdr);
	}
	if (pe != DS_POW_OK) {
		call_fail(c->sink, 502, "upstream_error", "pow_failed",
		    "DeepSeek's proof of work could not be answered: %s.",
		    ds_pow_strerror(pe));
		goto out;
	}
	out = arena_strdup(c->arena, hdr);
out:
	free(hdr);
	json_object_put(root);
	return out;
}

static char *
completion_body(struct ds_call *c, const struct provider_call *pc)
{
	const struct route *rt = pc->route;
	struct buf b;
	size_t plen;
	char *prompt, *out;

	if ((prompt = ds_prompt(c->arena, pc->req, &plen)) == NULL)
		return NULL;
	buf_init(&b, 0);
	buf_adds(&b, "{\"chat_session_id\":");
	buf_json_str(&b, c->session, strlen(c->session));
	buf_adds(&b, ",\"parent_message_id\":");
	/* DeepSeek's message ids are integers */
	if (c->parent != NULL)
		buf_adds(&b, c->parent);
	else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"prompt\":");
	buf_json_str(&b, prompt, plen);
	buf_printf(&b, ",\"ref_file_ids\":[],\"thinking_enabled\":%s,"
	    "\"search_enabled\":%s", rt->flags & ROUTE_THINK ? "true" :
	    "false", rt->flags & ROUTE_SEARCH ? "true" : "false");
	if (rt->flags & ROUTE_EXPERT)
		buf_adds(&b, ",\"model_type\":\"expert\"");
	buf_adds(&b, "}");
	out = b.failed ? NULL : arena_strndup(c->arena, b.p, b.len);
	buf_free(&b);
	return out;
}

struct stream_ctx {
	struct ds_call		*c;
	struct ds_stream	*dec;
	enum ds_stream_err	 dec_err;
	struct call_stream	 cs;
};

static int
on_event(void *u, const char *event, const char *data, size_t len)
{
	struct stream_ctx *sc = u;

	sc->dec_err = ds_stream_event(sc->dec, event, data, len);
	return sc->dec_err != DSS_OK;
}

static int
dec_done(void *u)
{
	return ds_stream_done(((struct stream_ctx *)u)->dec);
}

/* A 200 that carried a JSON error instead of the stream. */
static void
fail_body(struct stream_ctx *sc)
{
	struct ds_call *c = sc->c;
	struct json_object *root = NULL, *biz;
	const char *body = call_stream_body(&sc->cs);

	if (body != NULL)
		root = json_tokener_parse(body);
	c->code = -1;
	c->msg[0] = '\0';
	/* envelope() fills code and msg; biz is not wanted */
	if (root != NULL) {
		struct json_object *v;
		if (json_object_object_get_ex(root, "code", &v))
			c->code = (long)json_object_get_int64(v);
		if (json_object_object_get_ex(root, "msg", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(c->msg, sizeof(c->msg), "%s",
			    json_object_get_string(v));
		(void)biz;
	}
	json_object_put(root);
	if (c->code == DS_ERR_INVALID_TOKEN) {
		ds_fail_expired(c, "completion");
		return;
	}
	call_fail(c->sink, 502, "upstream_error", "upstream_error",
	    "DeepSeek answered the completion with an error instead of a "
	    "stream (code %ld): %s", c->code, c->msg[0] ? c->msg :
	    "no message");
}

/* 0 when the whole answer reached the sink; *msg_id: its id upstream */
static int
completion(struct ds_call *c, const struct provider_call *pc,
    const char *pow, long *msg_id)
{
	const struct chat_sink *k = pc->sink;
	struct ds_stream_opts so;
	struct stream_ctx sc;
	struct http_req req;
	struct http_resp resp;
	const char *referer;
	enum ds_stream_err de;
	enum up_err e;
	int rc = -1;

	memset(&sc, 0, sizeof(sc));
	memset(&resp, 0, sizeof(resp));
	memset(&so, 0, sizeof(so));
	so.thinking = (pc->route->flags & ROUTE_THINK) != 0;
	so.search = (pc->route->flags & ROUTE_SEARCH) != 0;
	sc.c = c;
	call_stream_init(&sc.cs, &resp, k, on_event, dec_done, &sc,
	    DS_ERR_BODY_MAX);
	if (ds_stream_new(&sc.dec, k, &so) != DSS_OK) {
		call_fail_nomem(k);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = arena_printf(c->arena, "%s%s", c->base, DS_TARGET_PATH);
	/* The real client sends the conversation's page as its referer. */
	referer = arena_printf(c->arena, DS_ORIGIN "/a/chat/s/%s", c->session);
	req.headers = ds_headers(c, referer, arena_printf(c->arena,
	    "x-ds-pow-response: %s", pow));
	req.body = completion_body(c, pc);
	req.body_len = req.body != NULL ? strlen(req.body) : 0;
	if (req.url == NULL || req.headers == NULL || req.body == NULL) {
		call_fail_nomem(k);
		goto out;
	}
	req.proxy = c->proxy;
	req.connect_timeout_ms = 10000;
	req.idle_timeout_s = 120;
	req.on_data = call_stream_data;
	req.data_ctx = &sc.cs;
	req.idle = pc->idle;
	req.idle_ctx = pc->idle_ctx;
	e = http_do(&req, &resp);
	if (e == UP_HTTP) {
		call_fail_http(k, "deepseek", "completion", &resp, NULL);
		goto out;
	}
	if (e != UP_OK && e != UP_ABORTED) {
		if (ds_stream_started(sc.dec))
			call_fail(k, 502, "upstream_error", "upstream_error",
			    "The DeepSeek stream broke off: %s.",
			    up_strerror(e));
		else
			call_fail_net(k, "deepseek", "completion", e);
		goto out;
	}
	if (sc.cs.not_sse) {
		fail_body(&sc);
		goto out;
	}
	/* a malformed frame mid-stream is the upstream's fault, not a leave */
	if ((de = sc.dec_err) == DSS_OK && sc.cs.bad_frame)
		de = DSS_PROTO;
	if (e == UP_OK && de == DSS_OK && call_stream_finish(&sc.cs) != 0)
		de = sc.dec_err != DSS_OK ? sc.dec_err : DSS_PROTO;
	if (de == DSS_ABORT || de == DSS_UPSTREAM)
		goto out;	/* the client left, or the sink has the error */
	if (e == UP_ABORTED && !ds_stream_done(sc.dec))
		goto out;	/* the client left */
	if (de == DSS_OK && !ds_stream_done(sc.dec)) {
		if (!ds_stream_finished_upstream(sc.dec))
			log_info("deepseek: the stream ended without FINISHED");
		if (!ds_stream_started(sc.dec))
			call_fail(k, 502, "upstream_error", "empty_answer",
			    "DeepSeek ended the stream without an answer.");
		else
			de = ds_stream_end(sc.dec);
	}
	if (de == DSS_PROTO || de == DSS_ENOMEM)
		call_fail(k, 502, "upstream_error", "upstream_bad_stream",
		    "The DeepSeek stream could not be decoded (%s).",
		    ds_stream_strerror(de));
	else if (de == DSS_OK && ds_stream_done(sc.dec)) {
		*msg_id = ds_stream_message_id(sc.dec);
		rc = 0;
	}
out:
	http_resp_free(&resp);
	call_stream_free(&sc.cs);
	ds_stream_free(sc.dec);
	return rc;
}

/*
 * A complete answer in a session: the chat session stays, named for the
 * next turn.  0 kept, -1 when there is nothing to continue after.
 */
static int
keep(const struct provider_call *pc, const struct ds_call *c, long msg_id)
{
	struct provider_session *ps = pc->session;
	char parent[24];

	if (ps == NULL || msg_id < 0)
		return -1;
	snprintf(parent, sizeof(parent), "%ld", msg_id);
	return call_session_keep(ps, c->session, parent);
}

/* A parent_message_id as DeepSeek takes it: digits only. */
static const char *
parent_of(const struct provider_session *ps)
{
	const char *p = ps->parent_id;

	if (p == NULL || *p == '\0' || strspn(p, "0123456789") != strlen(p) ||
	    strlen(p) > 18)
		return NULL;
	return p;
}

/*
 * A chat session of this answer alone goes, whatever happened, once the
 * response is out.  By then the account's secret is freed; the bearer is
 * enough.  Not inlined: the copy would sit in the frame a parked stream
 * keeps (BENCHMARKS.md §20).
 */
static void __attribute__((noinline))
delete_later(const struct provider_call *pc, const struct ds_call *c)
{
	struct ds_call later = *c;

	later.user_token = NULL;
	call_defer(pc, session_delete, &later, sizeof(later));
}

void
deepseek_chat(const struct provider_call *pc)
{
	struct provider_ctx x = { pc->cfg, pc->store, pc->arena };
	struct ds_call c;
	const char *pow;
	long msg_id = -1;
	int cont;

	if (pc->account == NULL || pc->account->secret == NULL) {
		call_fail(pc->sink, 401, "invalid_request_error",
		    "missing_credential", "DeepSeek answers only with an "
		    "account: add one (chat2api accounts add deepseek ...) or "
		    "send your userToken as the API key.");
		return;
	}
	ds_call_init(&c, &x, pc->account->secret);
	c.sink = pc->sink;
	c.idle = pc->idle;
	c.idle_ctx = pc->idle_ctx;
	if (c.base == NULL) {
		call_fail_nomem(pc->sink);
		return;
	}
	cont = pc->session != NULL && pc->session->chat_id != NULL;
	if (cont) {
		c.session = pc->session->chat_id;
		c.parent = parent_of(pc->session);
	}
	if (ds_bearer(&c, 0, NULL, 0) != DS_STEP_OK ||
	    (!cont && session_create(&c) < 0))
		return;
	if ((pow = pow_answer(&c)) != NULL &&
	    completion(&c, pc, pow, &msg_id) == 0 && keep(pc, &c, msg_id) == 0)
		return;
	/* a continued chat session is the session's to end */
	if (!cont)
		delete_later(pc, &c);
}

/* A session that ended: its chat session goes (providers.md §2.3). */
int
deepseek_forget(const struct provider_ctx *x, const struct provider_account *a,
    const char *chat_id)
{
	struct json_object *root, *biz;
	struct ds_call c;
	const char *body;

	/* an id goes into JSON as it is: a uuid's characters only */
	if (a == NULL || a->secret == NULL || chat_id == NULL || *chat_id ==
	    '\0' || strspn(chat_id, "0123456789abcdefABCDEF-") !=
	    strlen(chat_id))
		return -1;
	ds_call_init(&c, x, a->secret);
	if (c.base == NULL || ds_bearer(&c, 0, NULL, 0) != DS_STEP_OK)
		return -1;
	body = arena_printf(c.arena, "{\"chat_session_id\":\"%s\"}", chat_id);
	if (body == NULL || ds_api(&c, "chat_session/delete",
	    "/api/v0/chat_session/delete", body, &root, &biz) != DS_STEP_OK)
		return -1;
	json_object_put(root);
	return 0;
}

/* Every chat session of the account goes: delete_all (providers.md §2.3). */
int
deepseek_purge(const struct provider_ctx *x, const struct provider_account *a,
    struct provider_purge *out)
{
	struct json_object *root, *biz;
	struct ds_call c;
	enum ds_step_err se;

	memset(out, 0, sizeof(*out));
	out->deleted = -1;
	if (a == NULL || a->secret == NULL) {
		call_purge_fail(out, "deepseek", a, 0, 1, "no credential");
		return -1;
	}
	ds_call_init(&c, x, a->secret);
	if (c.base == NULL) {
		call_purge_fail(out, "deepseek", a, 0, 0, "out of memory");
		return -1;
	}
	if ((se = ds_bearer(&c, 0, NULL, 0)) == DS_STEP_OK) {
		se = ds_api(&c, "chat_session/delete_all",
		    "/api/v0/chat_session/delete_all", "{}", &root, &biz);
		/* a cached bearer may be stale: fetch it once more */
		if (se == DS_STEP_EXPIRED && c.bearer_cached &&
		    (se = ds_bearer(&c, 1, NULL, 0)) == DS_STEP_OK)
			se = ds_api(&c, "chat_session/delete_all",
			    "/api/v0/chat_session/delete_all", "{}", &root,
			    &biz);
	}
	if (se == DS_STEP_OK) {
		json_object_put(root);
		return call_purge_done(out, "deepseek", a, -1);
	}
	call_purge_fail(out, "deepseek", a, c.status, se == DS_STEP_EXPIRED,
	    c.msg);
	return -1;
}
