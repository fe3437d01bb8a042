/*
 * One Qwen AI answer (§7.3): a new chat for the model, the completion
 * stream through the SSE re-framer and the decoder into the sink, and
 * the chat deleted once the answer is out (the caller runs that after
 * writing it).  A chat per answer keeps one client's conversation from
 * leaking into another's; the whole history goes up as one flattened
 * prompt (prompt.h).
 *
 * In a multi-turn session (provider_call.session) the chat is kept after
 * a complete answer and named with the answer's response id (§7.4
 * "response.created"); the next turn sends only its new messages into
 * the same chat with that id as parent_id.
 *
 * Thinking follows §1.2: a name ending in -fast never thinks, whatever
 * the body asked; otherwise the route's switch (name or body) decides.
 * Search is not switched on: §7.3 keeps auto_search false.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "upstream/qwenai/internal.h"
#include "upstream/qwenai/prompt.h"
#include "upstream/qwenai/stream.h"
#include "upstream/sse.h"

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static int
thinking(const struct route *rt)
{
	if (rt->requested != NULL && ends_with(rt->requested, "-fast"))
		return 0;
	return (rt->flags & ROUTE_THINK) != 0;
}

/* A chat id as Qwen makes them: a uuid, or at least nothing to escape. */
static int
id_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > QA_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!(s[i] >= '0' && s[i] <= '9') && !(s[i] >= 'a' &&
		    s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
chat_new(struct qa_call *c, const char *model)
{
	struct json_object *root, *data, *v;
	struct buf b;
	const char *id;

	buf_init(&b, 0);
	buf_adds(&b, "{\"title\":\"OpenAI_API_Chat\",\"models\":[");
	buf_json_str(&b, model, strlen(model));
	buf_printf(&b, "],\"chat_mode\":\"normal\",\"chat_type\":\"t2t\","
	    "\"timestamp\":%lld,\"project_id\":\"\"}", now_ms());
	if (b.failed) {
		buf_free(&b);
		qa_fail(c, "chats/new", QA_ENOMEM);
		return -1;
	}
	if (qa_api(c, "chats/new", "POST", "/api/v2/chats/new", NULL, b.p,
	    &root, &data) != QA_OK) {
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	if (json_object_object_get_ex(data, "id", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    id_ok(id = json_object_get_string(v)))
		c->chat_id = arena_strdup(c->arena, id);
	json_object_put(root);
	if (c->chat_id == NULL) {
		qa_fail(c, "chats/new", QA_PROTO);
		return -1;
	}
	return 0;
}

/* DELETE /api/v2/chats/<id> (§7.3 step 3): 0, or -1 not deleted. */
static int
chat_remove(struct qa_call *c)
{
	struct json_object *root, *data;
	const char *path;

	c->sink = NULL;
	c->idle = NULL;		/* the client may be gone; clean up anyway */
	if ((path = arena_printf(c->arena, "/api/v2/chats/%s", c->chat_id)) ==
	    NULL)
		return -1;
	if (qa_api(c, "chat delete", "DELETE", path, NULL, NULL, &root,
	    &data) != QA_OK) {
		log_info("qwenai: chat not deleted: %s", c->msg);
		return -1;
	}
	json_object_put(root);
	return 0;
}

/* Deleting the chat: after the answer, or after a failed attempt. */
static void
chat_delete(void *u)
{
	(void)chat_remove(u);
}

static void
defer_delete(const struct provider_call *pc, const struct qa_call *c)
{
	struct qa_call *a;

	if (pc->after == NULL ||
	    (a = arena_alloc(c->arena, sizeof(*a))) == NULL)
		return;
	*a = *c;
	/* The account's strings are gone by then: keep copies. */
	a->token = arena_strdup(c->arena, c->token);
	a->cookies = c->cookies ? arena_strdup(c->arena, c->cookies) : NULL;
	a->bx_ua = c->bx_ua ? arena_strdup(c->arena, c->bx_ua) : NULL;
	a->bx_umidtoken = c->bx_umidtoken ? arena_strdup(c->arena,
	    c->bx_umidtoken) : NULL;
	if (a->token == NULL)
		return;
	pc->after->fn = chat_delete;
	pc->after->ctx = a;
}

/* The parent_id of a message: the answer it follows, or null. */
static void
parent_json(struct buf *b, const char *parent)
{
	if (parent != NULL)
		buf_json_str(b, parent, strlen(parent));
	else
		buf_adds(b, "null");
}

static char *
completion_body(struct qa_call *c, const struct provider_call *pc, int think,
    const char *parent)
{
	const char *model = pc->route->upstream_model;
	char fid[37], child[37], *prompt, *out;
	long long now = (long long)time(NULL);
	struct buf b;
	size_t plen;

	if ((prompt = qa_prompt(c->arena, pc->req, &plen)) == NULL)
		return NULL;
	call_uuid4(fid);
	call_uuid4(child);
	buf_init(&b, 0);
	buf_adds(&b, "{\"stream\":true,\"version\":\"2.1\","
	    "\"incremental_output\":true,\"chat_id\":");
	buf_json_str(&b, c->chat_id, strlen(c->chat_id));
	buf_adds(&b, ",\"chat_mode\":\"normal\",\"model\":");
	buf_json_str(&b, model, strlen(model));
	buf_adds(&b, ",\"parent_id\":");
	parent_json(&b, parent);
	buf_printf(&b, ",\"messages\":[{\"fid\":\"%s\",\"parentId\":", fid);
	parent_json(&b, parent);
	buf_printf(&b, ",\"childrenIds\":[\"%s\"],\"role\":\"user\","
	    "\"content\":", child);
	buf_json_str(&b, prompt, plen);
	buf_printf(&b, ",\"user_action\":\"chat\",\"files\":[],"
	    "\"timestamp\":%lld,\"models\":[", now);
	buf_json_str(&b, model, strlen(model));
	buf_printf(&b, "],\"chat_type\":\"t2t\",\"feature_config\":{"
	    "\"thinking_enabled\":%s,\"output_schema\":\"phase\","
	    "\"research_mode\":\"normal\",\"auto_thinking\":false,"
	    "\"thinking_format\":\"summary\",\"auto_search\":false},"
	    "\"extra\":{\"meta\":{\"subChatType\":\"t2t\"}},"
	    "\"sub_chat_type\":\"t2t\",\"parent_id\":",
	    think ? "true" : "false");
	parent_json(&b, parent);
	buf_printf(&b, "}],\"timestamp\":%lld}", now + 1);
	out = b.failed ? NULL : arena_strndup(c->arena, b.p, b.len);
	buf_free(&b);
	return out;
}

struct stream_ctx {
	struct qa_call		*c;
	struct call_stream		 cs;
	struct qa_stream	*dec;
	enum qa_stream_err	 dec_err;
};

static int
on_event(void *u, const char *event, const char *data, size_t len)
{
	struct stream_ctx *sc = u;

	sc->dec_err = qa_stream_event(sc->dec, event, data, len);
	return sc->dec_err != QAS_OK;
}

static int
dec_done(void *u)
{
	return qa_stream_done(((struct stream_ctx *)u)->dec);
}

/* A 200 that carried a JSON answer instead of the stream. */
static void
fail_body(struct stream_ctx *sc)
{
	struct http_resp r = *sc->cs.resp;
	struct buf *b = &sc->cs.body;
	struct json_object *root, *data;

	buf_add(b, "", 1);
	r.body = b->failed ? NULL : b->p;
	r.body_len = b->failed ? 0 : b->len - 1;
	if (qa_judge(sc->c, "completion", UP_OK, &r, &root, &data) ==
	    QA_OK) {
		json_object_put(root);
		qa_fail(sc->c, "completion", QA_PROTO);
	}
}

/* What the stream's end or break means, told to the sink if needed. */
static void
stream_end(struct stream_ctx *sc, enum up_err e)
{
	const struct chat_sink *k = sc->c->sink;
	enum qa_stream_err de = sc->dec_err;

	if (de == QAS_OK && sc->cs.bad_frame)
		de = QAS_PROTO;	/* a malformed frame, not a client that left */
	if (e == UP_OK && de == QAS_OK && call_stream_finish(&sc->cs) != 0)
		de = sc->dec_err != QAS_OK ? sc->dec_err : QAS_PROTO;
	if (de == QAS_ABORT || de == QAS_UPSTREAM)
		return;		/* the client left, or the sink has the error */
	if (e == UP_ABORTED && !qa_stream_done(sc->dec))
		return;		/* the client left */
	if (de == QAS_OK && !qa_stream_done(sc->dec)) {
		if (!qa_stream_started(sc->dec)) {
			call_fail(k, 502, "upstream_error", "empty_answer",
			    "Qwen AI ended the stream without an answer.");
			return;
		}
		log_info("qwenai: the stream ended without finished");
		de = qa_stream_end(sc->dec);
	}
	if (de == QAS_PROTO || de == QAS_ENOMEM)
		call_fail(k, 502, "upstream_error", "upstream_bad_stream",
		    "The Qwen AI stream could not be decoded (%s).",
		    qa_stream_strerror(de));
}

/*
 * 0 when the whole answer reached the sink and the upstream ended it;
 * *resp_id then names it (the parent of a next turn), or is "".
 */
static int
completion(struct qa_call *c, const struct provider_call *pc, int think,
    const char *parent, char resp_id[QAS_ID_MAX + 1])
{
	const struct chat_sink *k = pc->sink;
	struct qa_stream_opts so;
	struct stream_ctx sc;
	struct http_req req;
	struct http_resp resp;
	struct json_object *root, *data;
	long long exp = qa_jwt_exp(c->token);
	enum up_err e;
	int rc = -1;

	memset(&sc, 0, sizeof(sc));
	memset(&resp, 0, sizeof(resp));
	memset(&so, 0, sizeof(so));
	so.hint = qa_cookie_hint(c);
	so.expired = exp > 0 && exp <= (long long)time(NULL);
	sc.c = c;
	call_stream_init(&sc.cs, &resp, k, on_event, dec_done, &sc,
	    QA_ERR_BODY_MAX);
	if (qa_stream_new(&sc.dec, k, &so) != QAS_OK) {
		qa_fail(c, "completion", QA_ENOMEM);
		call_stream_free(&sc.cs);
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = arena_printf(c->arena, "%s/api/v2/chat/completions?chat_id="
	    "%s", c->base, c->chat_id);
	/* The real client sends the chat's page as its referer. */
	req.headers = qa_headers(c, arena_printf(c->arena, QA_ORIGIN "/c/%s",
	    c->chat_id), NULL, 1);
	req.body = completion_body(c, pc, think, parent);
	req.body_len = req.body != NULL ? strlen(req.body) : 0;
	if (req.url == NULL || req.headers == NULL || req.body == NULL) {
		qa_fail(c, "completion", QA_ENOMEM);
		goto out;
	}
	req.proxy = c->proxy;
	req.connect_timeout_ms = 10000;
	req.idle_timeout_s = QA_IDLE_TIMEOUT_S;
	req.max_body = QA_ERR_BODY_MAX;
	req.on_data = call_stream_data;
	req.data_ctx = &sc.cs;
	req.idle = pc->idle;
	req.idle_ctx = pc->idle_ctx;
	e = http_do(&req, &resp);
	if (e == UP_HTTP) {
		if (qa_judge(c, "completion", e, &resp, &root, &data) == QA_OK)
			json_object_put(root);
		goto out;
	}
	if (e != UP_OK && e != UP_ABORTED) {
		if (qa_stream_started(sc.dec))
			call_fail(k, 502, "upstream_error", "upstream_error",
			    "The Qwen AI stream broke off: %s.",
			    up_strerror(e));
		else
			call_fail_net(k, "qwenai", "completion", e);
		goto out;
	}
	if (sc.cs.not_sse) {
		fail_body(&sc);
		goto out;
	}
	stream_end(&sc, e);
	if (sc.dec_err == QAS_OK && !sc.cs.bad_frame &&
	    qa_stream_done(sc.dec) && qa_stream_finished_upstream(sc.dec)) {
		snprintf(resp_id, QAS_ID_MAX + 1, "%s",
		    qa_stream_response_id(sc.dec));
		rc = 0;
	}
out:
	http_resp_free(&resp);
	call_stream_free(&sc.cs);
	qa_stream_free(sc.dec);
	return rc;
}

/*
 * A complete answer in a session: the chat stays, named for the next
 * turn.  0 kept, -1 when there is nothing to continue after.
 */
static int
keep(const struct provider_call *pc, const struct qa_call *c,
    const char *resp_id)
{
	struct provider_session *ps = pc->session;

	if (ps == NULL || !id_ok(resp_id))
		return -1;
	return call_session_keep(ps, c->chat_id, resp_id);
}

void
qwenai_chat(const struct provider_call *pc)
{
	struct provider_ctx x = { pc->cfg, pc->store, pc->arena };
	const struct chat_part *part;
	struct qa_call c;
	char resp_id[QAS_ID_MAX + 1] = "";
	const char *parent = NULL;
	size_t msg;
	int cont;

	if (pc->account == NULL || pc->account->secret == NULL) {
		call_fail(pc->sink, 401, "invalid_request_error",
		    "missing_credential", "Qwen AI answers only with an "
		    "account: add one (chat2api accounts add qwenai ...) or "
		    "send your chat.qwen.ai token as the API key.");
		return;
	}
	/* §7 has no file upload: say so before anything goes upstream. */
	if ((part = qa_first_file(pc->req, &msg)) != NULL) {
		call_fail(pc->sink, 400, "invalid_request_error",
		    "unsupported_content", "Qwen AI takes text only here: "
		    "messages[%zu] has %s part; send the conversation without "
		    "it.", msg, part->type == CHAT_PART_IMAGE ? "an image" :
		    "a file");
		return;
	}
	qa_call_init(&c, &x, pc->account);
	c.sink = pc->sink;
	c.idle = pc->idle;
	c.idle_ctx = pc->idle_ctx;
	cont = pc->session != NULL && pc->session->chat_id != NULL;
	if (cont) {
		/* both went into the table from a stream: checked all the same */
		if (!id_ok(pc->session->chat_id) || pc->session->parent_id ==
		    NULL || !id_ok(pc->session->parent_id)) {
			call_fail(pc->sink, 502, "upstream_error",
			    "session_lost", "The Qwen AI chat of this session "
			    "cannot be continued.");
			return;
		}
		c.chat_id = pc->session->chat_id;
		parent = pc->session->parent_id;
	} else if (chat_new(&c, pc->route->upstream_model) < 0)
		return;
	if (completion(&c, pc, thinking(pc->route), parent, resp_id) == 0 &&
	    keep(pc, &c, resp_id) == 0)
		return;
	/*
	 * A chat of this answer alone goes, whatever happened (a continued
	 * one is the session's to end).
	 */
	if (!cont)
		defer_delete(pc, &c);
}

/* A session that ended: its chat goes (§7.3 step 3). */
int
qwenai_forget(const struct provider_ctx *x, const struct provider_account *a,
    const char *chat_id)
{
	struct qa_call c;

	if (a == NULL || a->secret == NULL || chat_id == NULL ||
	    !id_ok(chat_id))
		return -1;
	qa_call_init(&c, x, a);
	if (c.base == NULL)
		return -1;
	c.chat_id = chat_id;
	return chat_remove(&c);
}

/* Every chat of the account goes: DELETE /api/v2/chats/ (§7.3 step 3). */
int
qwenai_purge(const struct provider_ctx *x, const struct provider_account *a,
    struct provider_purge *out)
{
	struct json_object *root, *data;
	struct qa_call c;
	enum qa_err qe;

	memset(out, 0, sizeof(*out));
	out->deleted = -1;
	if (a == NULL || a->secret == NULL) {
		call_purge_fail(out, "qwenai", a, 0, 1, "no credential");
		return -1;
	}
	qa_call_init(&c, x, a);
	if ((qe = qa_api(&c, "delete all chats", "DELETE", "/api/v2/chats/",
	    NULL, NULL, &root, &data)) == QA_OK) {
		json_object_put(root);
		return call_purge_done(out, "qwenai", a, -1);
	}
	call_purge_fail(out, "qwenai", a, c.status, qe == QA_REFUSED ||
	    qe == QA_EXPIRED || qe == QA_FORBIDDEN, c.msg[0] != '\0' ? c.msg :
	    qa_strerror(qe));
	return -1;
}
