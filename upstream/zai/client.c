/*
 * One Z.ai answer (§8.2): a chat created with the last user text, the
 * completion -- its URL carrying the browser's fingerprint as signed
 * query parameters, X-Signature over that text -- streamed through the
 * SSE re-framer and the decoder into the sink, and the chat deleted once
 * the answer is out (the caller runs that after writing it).  A chat per
 * answer keeps one client's conversation from leaking into another's;
 * the whole history goes up in the completion's messages.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "upstream/sse.h"
#include "upstream/zai/body.h"
#include "upstream/zai/internal.h"
#include "upstream/zai/sign.h"
#include "upstream/zai/stream.h"

#define ZAI_NEW_CHAT	"/api/v1/chats/new"
#define ZAI_COMPLETION	"/api/v2/chat/completions"
#define ZAI_CHATS	"/api/v1/chats/"
#define ZAI_ERR_BODY_MAX (64u << 10)

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An id safe in a URL path, a query, a header and a JSON string. */
static int
id_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
	    "VWXYZ0123456789-_.");

	return n > 0 && n <= ZAI_ID_MAX && s[n] == '\0';
}

static int
chat_create(struct zai_call *c, const struct provider_call *pc,
    const struct zai_history *h, const char *msg_id)
{
	struct json_object *root, *v;
	const char *body, *id;

	body = zai_new_chat_body(c->arena, pc->route->upstream_model, msg_id,
	    h, now_ms());
	if (body == NULL) {
		call_fail_nomem(c->sink);
		return -1;
	}
	if (zai_api(c, "chats/new", "POST", ZAI_NEW_CHAT, body, &root) < 0)
		return -1;
	if (json_object_object_get_ex(root, "id", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    id_ok(id = json_object_get_string(v)))
		c->chat_id = arena_strdup(c->arena, id);
	json_object_put(root);
	if (c->chat_id == NULL) {
		call_fail(c->sink, 502, "upstream_error", "upstream_error",
		    "Z.ai created no chat (chats/new answered no usable id).");
		return -1;
	}
	return 0;
}

/* Deleting the chat: after the answer, or after a failed attempt. */
static void
chat_delete(void *u)
{
	struct zai_call *c = u;
	struct json_object *root;
	const char *path;

	c->sink = NULL;
	c->idle = NULL;		/* the client may be gone; clean up anyway */
	if ((path = arena_printf(c->arena, ZAI_CHATS "%s", c->chat_id)) ==
	    NULL)
		return;
	if (zai_api(c, "chat delete", "DELETE", path, NULL, &root) == 0)
		json_object_put(root);
	else
		log_info("zai: chat not deleted: %s", c->msg);
}

struct stream_ctx {
	struct zai_call		*c;
	struct zai_stream	*dec;
	enum zai_stream_err	 dec_err;
	struct call_stream	 cs;
};

static int
on_event(void *u, const char *event, const char *data, size_t len)
{
	struct stream_ctx *sc = u;

	sc->dec_err = zai_stream_event(sc->dec, event, data, len);
	return sc->dec_err != ZS_OK;
}

static int
dec_done(void *u)
{
	return zai_stream_done(((struct stream_ctx *)u)->dec);
}

/* The signed URL of the completion (§8.3, §8.4). */
static char *
completion_url(struct zai_call *c, const struct zai_history *h,
    const char *request_id, int64_t ts, char sig[ZAI_SIG_HEX + 1])
{
	struct zai_query_in q;
	enum zai_sign_err se;
	struct buf b;
	char *url;

	if ((se = zai_sign(request_id, c->claims.user_id, h->last,
	    h->last_len, ts, NULL, sig)) != ZAI_SIGN_OK) {
		log_warn("zai: X-Signature: %s", zai_sign_strerror(se));
		return NULL;
	}
	memset(&q, 0, sizeof(q));
	q.ts_ms = ts;
	q.request_id = request_id;
	q.user_id = c->claims.user_id;
	q.token = c->token;
	q.chat_id = c->chat_id;
	q.user_agent = ZAI_UA;
	buf_init(&b, 0);
	buf_printf(&b, "%s" ZAI_COMPLETION "?", c->base);
	zai_query(&b, &q);
	url = b.failed ? NULL : arena_strndup(c->arena, b.p, b.len);
	buf_free(&b);
	return url;
}

/* After the transfer: what the decoder and the transport leave to say. */
static void
stream_end(struct stream_ctx *sc, enum up_err e)
{
	const struct chat_sink *k = sc->c->sink;
	enum zai_stream_err de = sc->dec_err;

	if (sc->cs.not_sse) {
		zai_fail_json(sc->c, "completion", call_stream_body(&sc->cs));
		return;
	}
	if (e != UP_OK && e != UP_ABORTED) {
		if (zai_stream_started(sc->dec))
			call_fail(k, 502, "upstream_error", "upstream_error",
			    "The Z.ai stream broke off: %s.", up_strerror(e));
		else
			call_fail_net(k, "zai", "completion", e);
		return;
	}
	if (de == ZS_OK && sc->cs.bad_frame)
		de = ZS_PROTO;	/* a malformed frame, not a client that left */
	if (e == UP_OK && de == ZS_OK && call_stream_finish(&sc->cs) != 0)
		de = sc->dec_err != ZS_OK ? sc->dec_err : ZS_PROTO;
	if (de == ZS_ABORT || de == ZS_UPSTREAM ||
	    (e == UP_ABORTED && de == ZS_OK))
		return;		/* the client left, or the sink has it */
	if (de == ZS_OK && !zai_stream_done(sc->dec)) {
		log_info("zai: the stream ended without \"done\"");
		if ((de = zai_stream_end(sc->dec)) == ZS_PROTO &&
		    !zai_stream_started(sc->dec)) {
			call_fail(k, 502, "upstream_error", "empty_answer",
			    "Z.ai ended the stream without an answer.");
			return;
		}
	}
	if (de == ZS_PROTO || de == ZS_ENOMEM)
		call_fail(k, 502, "upstream_error", "upstream_bad_stream",
		    "The Z.ai stream could not be decoded (%s).",
		    zai_stream_strerror(de));
}

static void
completion(struct zai_call *c, const struct provider_call *pc,
    const struct zai_history *h, const char *msg_id)
{
	const struct chat_sink *k = pc->sink;
	struct zai_completion_in in;
	struct zai_stream_opts so;
	struct stream_ctx sc;
	struct http_req req;
	struct http_resp resp;
	char request_id[37], sig[ZAI_SIG_HEX + 1];
	int64_t ts = now_ms();
	enum up_err e;

	memset(&sc, 0, sizeof(sc));
	memset(&resp, 0, sizeof(resp));
	memset(&so, 0, sizeof(so));
	so.expired = c->expired;
	sc.c = c;
	call_stream_init(&sc.cs, &resp, k, on_event, dec_done, &sc,
	    ZAI_ERR_BODY_MAX);
	call_uuid4(request_id);
	memset(&in, 0, sizeof(in));
	in.model = pc->route->upstream_model;
	in.chat_id = c->chat_id;
	in.request_id = request_id;
	in.msg_id = msg_id;
	in.think = (pc->route->flags & ROUTE_THINK) != 0;
	in.search = (pc->route->flags & ROUTE_SEARCH) != 0;
	in.now_ms = ts;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = completion_url(c, h, request_id, ts, sig);
	/* The real client sends the conversation's page as its referer. */
	req.headers = zai_headers(c, arena_printf(c->arena, ZAI_ORIGIN "/c/%s",
	    c->chat_id), arena_printf(c->arena, "x-signature: %s", sig));
	req.body = zai_completion_body(c->arena, h, &in);
	if (zai_stream_new(&sc.dec, k, &so) != ZS_OK || req.url == NULL ||
	    req.headers == NULL || req.body == NULL) {
		call_fail_nomem(k);
		goto out;
	}
	req.body_len = strlen(req.body);
	req.proxy = c->proxy;
	req.connect_timeout_ms = 10000;
	req.idle_timeout_s = 120;
	req.on_data = call_stream_data;
	req.data_ctx = &sc.cs;
	req.idle = pc->idle;
	req.idle_ctx = pc->idle_ctx;
	e = http_do(&req, &resp);
	if (e == UP_HTTP)
		zai_fail_http(c, "completion", &resp);
	else
		stream_end(&sc, e);
out:
	http_resp_free(&resp);
	call_stream_free(&sc.cs);
	zai_stream_free(sc.dec);
}

void
zai_chat(const struct provider_call *pc)
{
	struct provider_ctx x = { pc->cfg, pc->store, pc->arena };
	struct zai_history h;
	struct zai_call c;
	enum zai_body_err be;
	char msg_id[37];

	if (pc->account == NULL || pc->account->secret == NULL) {
		call_fail(pc->sink, 401, "invalid_request_error",
		    "missing_credential", "Z.ai answers only with an account: "
		    "add one (chat2api accounts add zai ...) or send your "
		    "chat.z.ai token as the API key.");
		return;
	}
	if ((be = zai_history(pc->arena, pc->req, &h)) != ZAI_BODY_OK) {
		if (be == ZAI_BODY_ENOMEM)
			call_fail_nomem(pc->sink);
		else
			call_fail(pc->sink, 400, "invalid_request_error",
			    be == ZAI_BODY_ATTACHMENT ? "unsupported_content" :
			    "empty_prompt", "%s.", zai_body_strerror(be));
		return;
	}
	zai_call_init(&c, &x, pc->account->secret);
	c.sink = pc->sink;
	c.idle = pc->idle;
	c.idle_ctx = pc->idle_ctx;
	if (c.base == NULL) {
		call_fail_nomem(pc->sink);
		return;
	}
	call_uuid4(msg_id);
	if (chat_create(&c, pc, &h, msg_id) < 0)
		return;
	/* From here on the chat exists: it goes, whatever happens. */
	call_defer(pc, chat_delete, &c, sizeof(c));
	completion(&c, pc, &h, msg_id);
}

/* Every chat of the account goes: DELETE /api/v1/chats/ with body true
 * (providers.md §8.2 step 3). */
int
zai_purge(const struct provider_ctx *x, const struct provider_account *a,
    struct provider_purge *out)
{
	struct json_object *root;
	struct zai_call c;

	memset(out, 0, sizeof(*out));
	out->deleted = -1;
	if (a == NULL || a->secret == NULL) {
		call_purge_fail(out, "zai", a, 0, 1, "no credential");
		return -1;
	}
	zai_call_init(&c, x, a->secret);
	if (c.base == NULL) {
		call_purge_fail(out, "zai", a, 0, 0, "out of memory");
		return -1;
	}
	if (zai_api(&c, "delete all chats", "DELETE", ZAI_CHATS, "true",
	    &root) == 0) {
		json_object_put(root);
		return call_purge_done(out, "zai", a, -1);
	}
	call_purge_fail(out, "zai", a, c.status, c.status == 401 ||
	    c.status == 403, c.msg);
	return -1;
}
