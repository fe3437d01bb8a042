/*
 * One Qwen answer (§6.2-§6.4): the chat call with its query, nonce and
 * body, the stream through the SSE re-framer and the decoder into the
 * sink, and the upstream session deleted once the answer is out (the
 * caller runs that after writing it).  There is no login exchange: the
 * ticket cookie goes with every call.
 *
 * In a multi-turn session (provider_call.session) the upstream session is
 * kept after a complete answer, named with the answer's reqid; the next
 * turn sends only its new messages in that session_id, with that reqid as
 * parent_req_id and scene_param "continue_chat" (§6.2 shows only a first
 * turn: "first_turn" and parent_req_id "0"; the follow-up value is what
 * the web client is seen to send, not in the spec).
 *
 * The body may come compressed with any coding libcurl offered (curl's
 * own Accept-Encoding lists what it can decode, zstd and br included on
 * Debian); one it cannot decode is told to the client by name instead of
 * as a bare protocol error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "upstream/qwen/internal.h"
#include "upstream/qwen/prompt.h"
#include "upstream/qwen/stream.h"

#define QW_IDLE_S	120	/* thinking may be silent for long */
#define QW_ENC_MAX	64	/* bytes of a Content-Encoding we repeat */

/* ------------------------------------------------------------ delete */

struct qw_after {
	struct qw_call	 c;
	const char	*session;
};

/* session/delete/batch outside any answer; 0 deleted. */
static int
session_delete_now(struct qw_after *a)
{
	struct json_object *root;
	struct buf b;
	int rc = -1;

	a->c.sink = NULL;
	a->c.idle = NULL;	/* the client may be gone; clean up anyway */
	buf_init(&b, 0);
	buf_adds(&b, "{\"session_ids\":[");
	buf_json_str(&b, a->session, strlen(a->session));
	buf_adds(&b, "]}");
	if (!b.failed && qw_api(&a->c, "session/delete", QW_DELETE_PATH, b.p,
	    &root) == QW_STEP_OK) {
		json_object_put(root);
		rc = 0;
	} else
		log_info("qwen: session not deleted: %s", a->c.msg);
	buf_free(&b);
	return rc;
}

static void
session_delete(void *u)
{
	(void)session_delete_now(u);
}

/* Not inlined: the copy would sit in the frame a parked stream keeps. */
static void __attribute__((noinline))
defer_delete(const struct provider_call *pc, const struct qw_call *c,
    const char *session)
{
	struct qw_after a;

	if (session == NULL || *session == '\0' ||
	    (a.session = arena_strdup(c->arena, session)) == NULL)
		return;
	a.c = *c;
	(void)call_defer(pc, session_delete, &a, sizeof(a));
}

/* ------------------------------------------------------------ body */

/* Where this turn goes: a new session, or the one a session continues. */
struct turn {
	const char	*session;
	const char	*parent;	/* parent_req_id: "0" on a first turn */
	int		 cont;
};

static char *
chat_body(struct qw_call *c, const struct provider_call *pc,
    const char *req_id, const struct turn *t, long long ts)
{
	const struct route *rt = pc->route;
	const char *model = qw_upstream_model(rt);
	struct buf b;
	size_t plen;
	char *prompt, *out;

	if ((prompt = qw_prompt(c->arena, pc->req, &plen)) == NULL)
		return NULL;
	buf_init(&b, 0);
	/* deep_search is "1" for thinking as for searching (§6.2) */
	buf_printf(&b, "{\"deep_search\":\"%s\",\"req_id\":\"%s\","
	    "\"model\":", rt->flags & (ROUTE_THINK | ROUTE_SEARCH) ? "1" : "0",
	    req_id);
	buf_json_str(&b, model, strlen(model));
	buf_adds(&b, ",\"scene\":\"chat\",\"session_id\":");
	buf_json_str(&b, t->session, strlen(t->session));
	buf_adds(&b, ",\"sub_scene\":\"chat\",\"temporary\":false,"
	    "\"messages\":[{\"content\":");
	buf_json_str(&b, prompt, plen);
	buf_adds(&b, ",\"mime_type\":\"text/plain\",\"meta_data\":"
	    "{\"ori_query\":");
	buf_json_str(&b, prompt, plen);
	buf_adds(&b, "}}],\"from\":\"default\",\"parent_req_id\":");
	buf_json_str(&b, t->parent, strlen(t->parent));
	buf_printf(&b, ",\"enable_search\":%s,\"biz_data\":\"{\\\"entryPoint"
	    "\\\":\\\"tongyigw\\\"}\",\"scene_param\":\"%s\","
	    "\"chat_client\":\"h5\",\"client_tm\":\"%lld\","
	    "\"protocol_version\":\"v2\",\"biz_id\":\"ai_qwen\"}",
	    rt->flags & ROUTE_SEARCH ? "true" : "false", t->cont ?
	    "continue_chat" : "first_turn", ts);
	out = b.failed ? NULL : arena_strndup(c->arena, b.p, b.len);
	buf_free(&b);
	return out;
}

/* ------------------------------------------------------------ stream */

struct stream_ctx {
	struct qw_call		*c;
	const struct chat_sink	*sink;
	struct http_resp	*resp;
	struct call_stream	 cs;
	struct qw_stream	*dec;
	enum qw_stream_err	 dec_err;
};

static int
on_event(void *u, const char *event, const char *data, size_t len)
{
	struct stream_ctx *sc = u;

	sc->dec_err = qw_stream_event(sc->dec, event, data, len);
	return sc->dec_err != QWS_OK;
}

static int
dec_done(void *u)
{
	return qw_stream_done(((struct stream_ctx *)u)->dec);
}

/* A 200 that carried a refusal (or anything else) instead of a stream. */
static void
fail_body(struct stream_ctx *sc)
{
	struct qw_call *c = sc->c;
	struct json_object *root = NULL;
	const char *body = call_stream_body(&sc->cs);

	if (body != NULL)
		root = json_tokener_parse(body);
	if (root != NULL && qw_envelope(c, root) < 0)
		qw_fail(c, "chat");
	else
		call_fail(sc->sink, 502, "upstream_error", "upstream_error",
		    "Qwen answered the chat with %s instead of a stream.",
		    sc->resp->content_type != NULL ? sc->resp->content_type :
		    "an untyped body");
	json_object_put(root);
}

/* Every coding of a Content-Encoding list is one libcurl decodes. */
static int
codings_known(const char *enc)
{
	const char *known = http_encodings(), *p = enc, *hit;
	size_t n;

	while (*p != '\0') {
		p += strspn(p, " ,\t");
		if ((n = strcspn(p, " ,\t")) == 0)
			break;
		for (hit = strcasestr(known, p); hit != NULL;
		    hit = strcasestr(hit + 1, p))
			if ((hit == known || hit[-1] == ' ') &&
			    (hit[n] == '\0' || hit[n] == ','))
				break;
		if (hit == NULL && !(n == 8 && strncasecmp(p, "identity",
		    8) == 0))
			return 0;
		p += n;
	}
	return 1;
}

/* The transfer failed without an HTTP error: say how. */
static void
fail_transfer(struct stream_ctx *sc, enum up_err e)
{
	const char *enc = sc->resp->content_encoding;

	if (e == UP_PROTO && enc != NULL && *enc != '\0' &&
	    strcasecmp(enc, "identity") != 0) {
		if (!codings_known(enc))
			call_fail(sc->sink, 502, "upstream_error",
			    "unsupported_encoding", "The Qwen upstream "
			    "compressed its answer as \"%.*s\", which this "
			    "libcurl cannot decode (it decodes %s).",
			    QW_ENC_MAX, enc, http_encodings());
		else
			call_fail(sc->sink, 502, "upstream_error",
			    "upstream_bad_stream", "The Qwen answer could "
			    "not be decompressed (%.*s): the data is corrupt.",
			    QW_ENC_MAX, enc);
		log_info("qwen: chat: content encoding %.*s failed",
		    QW_ENC_MAX, enc);
		return;
	}
	if (qw_stream_started(sc->dec))
		call_fail(sc->sink, 502, "upstream_error", "upstream_error",
		    "The Qwen stream broke off: %s.", up_strerror(e));
	else
		call_fail_net(sc->sink, "qwen", "chat", e);
}

/* An HTTP error: a login that is over says so in JSON, whatever the status. */
static void
fail_http(struct stream_ctx *sc)
{
	struct qw_call *c = sc->c;
	struct json_object *root = NULL;

	c->status = (int)sc->resp->status;
	if (sc->resp->body_len > 0 && sc->resp->body[0] == '{')
		root = json_tokener_parse(sc->resp->body);
	if (root != NULL && qw_envelope(c, root) < 0 &&
	    qw_error_status(c->code, c->msg) == 401)
		qw_fail(c, "chat");
	else
		call_fail_http(sc->sink, "qwen", "chat", sc->resp,
		    root != NULL && c->msg[0] ? c->msg : NULL);
	json_object_put(root);
}

/* The decoder's verdict once the transfer is over; 0: answered whole. */
static int
finish_stream(struct stream_ctx *sc, enum up_err e)
{
	enum qw_stream_err de;

	/* a malformed frame mid-stream is the upstream's fault, not a leave */
	if ((de = sc->dec_err) == QWS_OK && sc->cs.bad_frame)
		de = QWS_PROTO;
	if (e == UP_OK && de == QWS_OK && call_stream_finish(&sc->cs) != 0)
		de = sc->dec_err != QWS_OK ? sc->dec_err : QWS_PROTO;
	if (de == QWS_ABORT || de == QWS_UPSTREAM)
		return -1;	/* the client left, or the sink has the error */
	if (de == QWS_OK && e == UP_ABORTED && !qw_stream_done(sc->dec))
		return -1;	/* the client left */
	if (de == QWS_OK && !qw_stream_done(sc->dec)) {
		if (!qw_stream_finished_upstream(sc->dec))
			log_info("qwen: the stream ended without complete");
		de = qw_stream_end(sc->dec);
	}
	if (qw_stream_rewrites(sc->dec) > 0)
		log_info("qwen: %u snapshots did not extend the answer",
		    qw_stream_rewrites(sc->dec));
	if (de == QWS_EMPTY)
		call_fail(sc->sink, 502, "upstream_error", "empty_answer",
		    "Qwen ended the stream without an answer.");
	else if (de == QWS_PROTO || de == QWS_ENOMEM)
		call_fail(sc->sink, 502, "upstream_error",
		    "upstream_bad_stream", "The Qwen stream could not be "
		    "decoded (%s).", qw_stream_strerror(de));
	return de == QWS_OK ? 0 : -1;
}

/*
 * A complete answer in a session: the upstream session stays, named for
 * the next turn by its id and the answer's reqid (the stream's, else the
 * ones sent).
 */
static void
keep(const struct provider_call *pc, const struct stream_ctx *sc,
    const struct turn *t, const char *req_id)
{
	struct provider_session *ps = pc->session;
	const char *sid = qw_stream_session(sc->dec);
	const char *rid = qw_stream_reqid(sc->dec);

	(void)call_session_keep(ps, *sid != '\0' ? sid : t->session,
	    *rid != '\0' ? rid : req_id);
}

static void
chat(struct qw_call *c, const struct provider_call *pc)
{
	const struct chat_sink *k = pc->sink;
	struct stream_ctx sc;
	struct http_req req;
	struct http_resp resp;
	char req_id[QW_HEX_ID + 1], session[QW_HEX_ID + 1];
	char nonce[QW_NONCE_LEN + 1];
	const char *taken;
	struct timespec now;
	struct turn t;
	long long ts;
	enum up_err e;
	int ok = -1;

	memset(&sc, 0, sizeof(sc));
	memset(&resp, 0, sizeof(resp));
	sc.c = c;
	sc.sink = k;
	sc.resp = &resp;
	call_stream_init(&sc.cs, &resp, k, on_event, dec_done, &sc,
	    QW_ERR_BODY_MAX);
	/* a snapshot carries the whole answer so far: events grow long */
	call_stream_limit(&sc.cs, QWS_MAX_EVENT);
	if (qw_stream_new(&sc.dec, k) != QWS_OK) {
		call_fail_nomem(k);
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	ts = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	qw_hex_id(req_id);
	qw_hex_id(session);
	qw_nonce(nonce);
	t.session = session;
	t.parent = "0";
	t.cont = pc->session != NULL && pc->session->chat_id != NULL &&
	    pc->session->parent_id != NULL;
	if (t.cont) {
		t.session = pc->session->chat_id;
		t.parent = pc->session->parent_id;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = arena_printf(c->arena, "%s" QW_CHAT_PATH "?%s",
	    c->chat_base, qw_query(c->arena, c->device, nonce, ts));
	req.headers = qw_headers(c, 0);
	req.body = chat_body(c, pc, req_id, &t, ts);
	req.body_len = req.body != NULL ? strlen(req.body) : 0;
	if (req.url == NULL || req.headers == NULL || req.body == NULL) {
		call_fail_nomem(k);
		goto out;
	}
	req.proxy = c->proxy;
	req.connect_timeout_ms = 10000;
	req.idle_timeout_s = QW_IDLE_S;
	req.on_data = call_stream_data;
	req.data_ctx = &sc.cs;
	req.idle = pc->idle;
	req.idle_ctx = pc->idle_ctx;
	e = http_do(&req, &resp);
	if (e == UP_HTTP)
		fail_http(&sc);
	else if (e != UP_OK && e != UP_ABORTED)
		fail_transfer(&sc, e);
	else if (sc.cs.not_sse)
		fail_body(&sc);
	else
		ok = finish_stream(&sc, e);
	if (ok == 0 && pc->session != NULL) {
		keep(pc, &sc, &t, req_id);
		goto out;
	}
	/*
	 * Once the upstream took the chat (a stream came, naming the session
	 * or not), the session goes afterwards; a refusal made none.  A
	 * continued one is the multi-turn session's to end.
	 */
	taken = *qw_stream_session(sc.dec) != '\0' ? qw_stream_session(sc.dec) :
	    resp.status >= 200 && resp.status < 300 && !sc.cs.not_sse ?
	    t.session : NULL;
	if (taken != NULL && (!t.cont || strcmp(taken, t.session) != 0))
		defer_delete(pc, c, taken);
out:
	http_resp_free(&resp);
	call_stream_free(&sc.cs);
	qw_stream_free(sc.dec);
}

void
qwen_chat(const struct provider_call *pc)
{
	struct provider_ctx x = { pc->cfg, pc->store, pc->arena };
	struct qw_call c;

	if (pc->account == NULL || pc->account->secret == NULL) {
		call_fail(pc->sink, 401, "invalid_request_error",
		    "missing_credential", "Qwen answers only with an account: "
		    "add one (chat2api accounts add qwen ...) or send your "
		    "tongyi_sso_ticket as the API key.");
		return;
	}
	if (qw_prompt_has_files(pc->req)) {
		call_fail(pc->sink, 400, "invalid_request_error",
		    "unsupported_content", "Qwen (qianwen.com) takes text "
		    "only here: send the request without image or file "
		    "parts.");
		return;
	}
	if (qw_call_init(&c, &x, pc->account->secret) < 0) {
		call_fail(pc->sink, 401, "invalid_request_error",
		    "invalid_api_key", "That is no Qwen ticket.");
		return;
	}
	c.sink = pc->sink;
	c.idle = pc->idle;
	c.idle_ctx = pc->idle_ctx;
	chat(&c, pc);
}

/* A session that ended: its upstream session goes (§6.4). */
int
qwen_forget(const struct provider_ctx *x, const struct provider_account *a,
    const char *chat_id)
{
	struct qw_after after;

	if (a == NULL || a->secret == NULL || chat_id == NULL ||
	    *chat_id == '\0' || strlen(chat_id) > QWS_ID_MAX ||
	    qw_call_init(&after.c, x, a->secret) < 0)
		return -1;
	after.session = chat_id;
	return session_delete_now(&after);
}
