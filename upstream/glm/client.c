/*
 * One GLM answer (§3.4): the access token, the image and file parts
 * uploaded, assistant/stream with the §3.5 body through the SSE
 * re-framer and the decoder into the sink, and the conversation deleted
 * once the answer is out (the caller runs that after writing it).  A new
 * conversation per answer keeps one client's history from leaking into
 * another's; the whole history goes up as one flattened prompt.
 *
 * In a multi-turn session (provider_call.session) the conversation is
 * kept after a complete answer; the next turn sends only its new messages
 * with that conversation_id, and GLM answers in the same conversation.
 *
 * A cached access token the upstream now refuses is exchanged again once
 * before the account is called refused or expired: GLM may end an
 * access token early.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "upstream/glm/body.h"
#include "upstream/glm/internal.h"
#include "upstream/glm/stream.h"

#define GLM_ERR_BODY_MAX	(64u << 10)

/* Deleting the conversation: after the answer, or after a failed one. */
struct glm_after {
	struct glm_call	 c;
	const char	*assistant;
	const char	*conv;
};

static void
conversation_delete(void *u)
{
	struct glm_after *a = u;
	struct glm_call *c = &a->c;
	struct json_object *root, *res;
	struct buf b;

	c->sink = NULL;
	c->idle = NULL;		/* the client may be gone; clean up anyway */
	buf_init(&b, 0);
	buf_adds(&b, "{\"assistant_id\":");
	buf_json_str(&b, a->assistant, strlen(a->assistant));
	buf_adds(&b, ",\"conversation_id\":");
	buf_json_str(&b, a->conv, strlen(a->conv));
	buf_adds(&b, "}");
	if (!b.failed && glm_api_fresh(c, "conversation/delete",
	    GLM_PATH_DELETE, b.p, b.len, NULL, &root, &res) == GLM_STEP_OK)
		json_object_put(root);
	else
		log_info("glm: conversation not deleted: %s", c->msg);
	buf_free(&b);
}

/* Not inlined: the copy would sit in the frame a parked stream keeps. */
static void __attribute__((noinline))
defer_delete(const struct provider_call *pc, const struct glm_call *c,
    const char *assistant, const char *conv)
{
	struct glm_after a;

	if (conv == NULL || (a.conv = arena_strdup(c->arena, conv)) == NULL)
		return;
	a.c = *c;
	a.assistant = assistant;
	(void)call_defer(pc, conversation_delete, &a, sizeof(a));
}

struct stream_ctx {
	struct glm_stream	*dec;
	enum glm_stream_err	 dec_err;
	struct call_stream	 cs;
};

static int
on_event(void *u, const char *event, const char *data, size_t len)
{
	struct stream_ctx *sc = u;

	sc->dec_err = glm_stream_event(sc->dec, event, data, len);
	return sc->dec_err != GLMS_OK;
}

static int
dec_done(void *u)
{
	return glm_stream_done(((struct stream_ctx *)u)->dec);
}

/*
 * An answer that is a JSON envelope instead of a stream (HTTP 200 with a
 * code, or an error status): 1 when it says the access token is refused
 * (for the caller to decide), else 0 with the sink told.
 */
static int
fail_body(struct glm_call *c, const char *body, const struct http_resp *r)
{
	struct json_object *root = NULL, *res;

	c->code = -1;
	c->msg[0] = '\0';
	if (body != NULL && body[0] == '{' &&
	    (root = json_tokener_parse(body)) != NULL)
		glm_envelope(c, root, &res);
	json_object_put(root);
	if (r->status == 401 || c->code == 401 || glm_login_over(c))
		return 1;
	if (r->status >= 400)
		call_fail_http(c->sink, "glm", "stream", r, c->msg[0] ? c->msg :
		    NULL);
	else
		call_fail(c->sink, 502, "upstream_error", "upstream_error",
		    "GLM answered the chat with an error instead of a stream "
		    "(code %ld): %s", c->code, c->msg[0] ? c->msg :
		    "no message");
	return 0;
}

/*
 * After the stream: a complete answer in a session keeps its conversation
 * for the next turn; else a conversation this attempt started goes (a
 * continued one is the session's to end).
 */
static void
settle(const struct provider_call *pc, const struct glm_call *c,
    const char *assistant, const char *conv, int complete)
{
	struct provider_session *ps = pc->session;
	const char *cont = ps != NULL ? ps->chat_id : NULL;

	if (conv == NULL)
		conv = cont;	/* the stream did not name it again */
	if (conv == NULL)
		return;
	if (complete && ps != NULL) {
		/* GLM has no parent id */
		if (call_session_keep(ps, conv, NULL) == 0)
			return;
	}
	if (cont == NULL || strcmp(conv, cont) != 0)
		defer_delete(pc, c, assistant, conv);
}

enum attempt { A_DONE, A_AUTH };

/* One POST of the chat; A_AUTH when the access token was refused. */
static enum attempt
stream_once(struct glm_call *c, const struct provider_call *pc,
    const char *body, const char *assistant)
{
	const struct chat_sink *k = pc->sink;
	struct stream_ctx sc;
	struct http_req req;
	struct http_resp resp;
	enum glm_stream_err de;
	enum attempt at = A_DONE;
	enum up_err e;
	int complete = 0;

	memset(&sc, 0, sizeof(sc));
	memset(&resp, 0, sizeof(resp));
	call_stream_init(&sc.cs, &resp, k, on_event, dec_done, &sc,
	    GLM_ERR_BODY_MAX);
	/* a snapshot carries the whole answer so far: events grow long */
	call_stream_limit(&sc.cs, GLMS_MAX_EVENT);
	if (glm_stream_new(&sc.dec, k) != GLMS_OK) {
		glm_oom(c);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = arena_printf(c->arena, "%s%s", c->base, GLM_PATH_STREAM);
	req.headers = glm_headers(c, c->access, NULL, NULL);
	req.body = body;
	req.body_len = strlen(body);
	if (req.url == NULL || req.headers == NULL) {
		glm_oom(c);
		goto out;
	}
	req.proxy = c->proxy;
	req.connect_timeout_ms = 10000;
	req.idle_timeout_s = 120;
	req.max_body = GLM_ERR_BODY_MAX;
	req.idle = pc->idle;
	req.idle_ctx = pc->idle_ctx;
	req.on_data = call_stream_data;
	req.data_ctx = &sc.cs;
	e = http_do(&req, &resp);
	c->status = (int)resp.status;
	if (e == UP_HTTP || sc.cs.not_sse) {
		if (fail_body(c, e == UP_HTTP ? resp.body :
		    call_stream_body(&sc.cs), &resp))
			at = A_AUTH;
		goto out;
	}
	if (e != UP_OK && e != UP_ABORTED) {
		if (glm_stream_started(sc.dec))
			call_fail(k, 502, "upstream_error", "upstream_error",
			    "The GLM stream broke off: %s.", up_strerror(e));
		else
			call_fail_net(k, "glm", "stream", e);
		goto out;
	}
	/* a malformed frame mid-stream is the upstream's fault, not a leave */
	if ((de = sc.dec_err) == GLMS_OK && sc.cs.bad_frame)
		de = GLMS_PROTO;
	if (e == UP_OK && de == GLMS_OK && call_stream_finish(&sc.cs) != 0)
		de = sc.dec_err != GLMS_OK ? sc.dec_err : GLMS_PROTO;
	if (de == GLMS_ABORT || de == GLMS_UPSTREAM)
		goto out;	/* the client left, or the sink has the error */
	if (de == GLMS_OK && e == UP_ABORTED && !glm_stream_done(sc.dec))
		goto out;	/* the client left */
	if (de == GLMS_OK && !glm_stream_done(sc.dec)) {
		log_info("glm: the stream ended without finish");
		if ((de = glm_stream_end(sc.dec)) == GLMS_PROTO &&
		    !glm_stream_started(sc.dec)) {
			call_fail(k, 502, "upstream_error", "empty_answer",
			    "GLM ended the stream without an answer.");
			goto out;
		}
	}
	if (de == GLMS_PROTO || de == GLMS_ENOMEM)
		call_fail(k, 502, "upstream_error", "upstream_bad_stream",
		    "The GLM stream could not be decoded (%s).",
		    glm_stream_strerror(de));
	else
		complete = de == GLMS_OK && glm_stream_done(sc.dec);
out:
	/* the conversation exists once the stream named it */
	settle(pc, c, assistant, glm_stream_conversation(sc.dec), complete);
	http_resp_free(&resp);
	call_stream_free(&sc.cs);
	glm_stream_free(sc.dec);
	return at;
}

void
glm_chat(const struct provider_call *pc)
{
	struct provider_ctx x = { pc->cfg, pc->store, pc->arena };
	struct glm_ref *refs;
	struct glm_call c;
	const char *body, *assistant;
	size_t nrefs;

	if (pc->account == NULL || pc->account->secret == NULL) {
		call_fail(pc->sink, 401, "invalid_request_error",
		    "missing_credential", "GLM answers only with an account: "
		    "add one (chat2api accounts add glm ...) or send your "
		    "chatglm_refresh_token as the API key.");
		return;
	}
	glm_call_init(&c, &x, pc->account);
	c.sink = pc->sink;
	c.idle = pc->idle;
	c.idle_ctx = pc->idle_ctx;
	if (c.base == NULL) {
		glm_oom(&c);
		return;
	}
	if (glm_access(&c, 0, NULL, 0) != GLM_STEP_OK ||
	    glm_upload_parts(&c, pc->req, &refs, &nrefs) < 0)
		return;
	if ((body = glm_body(c.arena, pc->req, pc->route, refs, nrefs,
	    pc->session != NULL ? pc->session->chat_id : NULL)) == NULL) {
		glm_oom(&c);
		return;
	}
	assistant = glm_assistant(pc->route);
	if (stream_once(&c, pc, body, assistant) != A_AUTH)
		return;
	/* A cached access token may have ended early: once more, fresh. */
	if (c.access_cached) {
		if (glm_access(&c, 1, NULL, 0) != GLM_STEP_OK)
			return;
		if (stream_once(&c, pc, body, assistant) != A_AUTH)
			return;
	}
	glm_fail_auth(&c, "stream");
}

/*
 * A session that ended: its conversation goes.  bulk_delete (§3.4) takes
 * the id alone; the assistant it was held with is not kept.
 */
int
glm_forget(const struct provider_ctx *x, const struct provider_account *a,
    const char *chat_id)
{
	struct json_object *root, *res;
	struct glm_call c;
	struct buf b;
	int rc = -1;

	if (a == NULL || a->secret == NULL || chat_id == NULL ||
	    *chat_id == '\0' || strlen(chat_id) > GLM_ID_MAX)
		return -1;
	glm_call_init(&c, x, a);
	if (c.base == NULL || glm_access(&c, 0, NULL, 0) != GLM_STEP_OK)
		return -1;
	buf_init(&b, 0);
	buf_adds(&b, "{\"conversation_ids\":[");
	buf_json_str(&b, chat_id, strlen(chat_id));
	buf_adds(&b, "]}");
	if (!b.failed && glm_api_fresh(&c, "conversation/bulk_delete",
	    GLM_PATH_BULK_DELETE, b.p, b.len, NULL, &root, &res) ==
	    GLM_STEP_OK) {
		json_object_put(root);
		rc = 0;
	} else
		log_info("glm: conversation not deleted: %s", c.msg);
	buf_free(&b);
	return rc;
}
