/*
 * One Kimi answer (§4.2, §4.4): the access token, the Chat body as one
 * Connect envelope, the response stream through the decoder into the
 * sink, and the chat deleted once the answer is out (the caller runs
 * that after writing it).  A chat per answer keeps one client's
 * conversation out of another's; the whole history goes up as one
 * flattened prompt (§4.3).
 *
 * In a multi-turn session (provider_call.session) the chat is kept after
 * a complete answer, named with the answer's message id; the next turn
 * sends only its new messages with that chat_id and the message id as
 * parent_id, and Kimi answers in the same chat.
 *
 * A cached access token that Kimi refuses before anything reached the
 * client -- a 401, or an "unauthenticated" error in the stream -- is
 * renewed once and the call made again: Kimi may end a token before its
 * time.  After "done" the response is read on to its end-of-stream
 * envelope, briefly, so the connection can serve the next call.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "upstream/kimi/connect.h"
#include "upstream/kimi/internal.h"
#include "upstream/kimi/prompt.h"
#include "upstream/kimi/stream.h"

#define KIMI_AFTER_DONE_MS	2000		/* for the end-of-stream */
#define KIMI_AFTER_DONE_MAX	(64u << 10)	/* bytes read after done */
#define KIMI_MAX_CHATS		2		/* one per try */
#define KIMI_TRIES		2		/* a refused token renewed once */

enum chat_rc { CHAT_OVER, CHAT_RETRY };

/* The chats of this attempt, deleted after the answer. */
struct kimi_after {
	struct kimi_call	 c;
	const char		*chats[KIMI_MAX_CHATS];
	size_t			 n;
};

/* A chat id as the stream decoder takes them (stream.h), or 0. */
static int
id_ok(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	return n > 0 && n <= KS_ID_MAX && strspn(id,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.:-") == n;
}

/* DeleteChat, outside any answer; 0 deleted. */
static int
delete_chat(struct kimi_call *c, const char *id)
{
	struct json_object *root;
	enum kimi_step st;
	const char *body;
	int try;

	c->sink = NULL;
	c->idle = NULL;		/* the client may be gone; clean up anyway */
	if (!id_ok(id) || (body = arena_printf(c->arena,
	    "{\"chat_id\":\"%s\"}", id)) == NULL)
		return -1;
	/* the answer may have outlived the access token */
	for (try = 0, st = kimi_access(c, 0); st == KIMI_STEP_OK &&
	    try < KIMI_TRIES; try++) {
		if ((st = kimi_unary(c, "DeleteChat", KIMI_DELETE_PATH,
		    body, &root)) == KIMI_STEP_OK)
			json_object_put(root);
		if (st != KIMI_STEP_REFUSED || c->kind != KIMI_KIND_REFRESH)
			break;
		st = kimi_access(c, 1);
	}
	if (st != KIMI_STEP_OK) {
		log_info("kimi: chat not deleted: %d %s", c->status, c->msg);
		return -1;
	}
	return 0;
}

static void
delete_chats(void *u)
{
	struct kimi_after *a = u;
	size_t i;

	for (i = 0; i < a->n; i++)
		(void)delete_chat(&a->c, a->chats[i]);
}

/*
 * The clean-up runs after the attempt's account has been handed back:
 * what it needs of the account is copied into the request's arena.
 */
static void
defer_delete(const struct provider_call *pc, const struct kimi_call *c,
    struct kimi_after *a)
{
	if (a == NULL || a->n == 0 || pc->after == NULL)
		return;
	a->c = *c;
	if ((a->c.secret = arena_strdup(c->arena, c->secret)) == NULL ||
	    (c->account_id != NULL && (a->c.account_id =
	    arena_strdup(c->arena, c->account_id)) == NULL))
		return;
	pc->after->fn = delete_chats;
	pc->after->ctx = a;
}

/* §4.2: the body, framed as the one envelope of the request. */
static char *
chat_body(struct kimi_call *c, const struct provider_call *pc, size_t *lenp)
{
	unsigned flags = pc->route->flags;
	struct buf b;
	size_t plen;
	char *prompt, *out = NULL;

	const struct provider_session *ps = pc->session;
	const char *chat = "", *parent = "";

	if ((prompt = kimi_prompt(c->arena, pc->req, &plen)) == NULL)
		return NULL;
	if (ps != NULL && ps->chat_id != NULL) {
		chat = ps->chat_id;
		parent = ps->parent_id != NULL ? ps->parent_id : "";
	}
	buf_init(&b, 0);
	buf_adds(&b, "{\"scenario\":\"" KIMI_SCENARIO "\",\"chat_id\":");
	buf_json_str(&b, chat, strlen(chat));
	buf_adds(&b, ",\"tools\":");
	buf_adds(&b, flags & ROUTE_SEARCH ? "[{\"type\":\"TOOL_TYPE_SEARCH\","
	    "\"search\":{}}]" : "[]");
	buf_adds(&b, ",\"message\":{\"parent_id\":");
	buf_json_str(&b, parent, strlen(parent));
	buf_adds(&b, ",\"role\":\"user\","
	    "\"blocks\":[{\"message_id\":\"\",\"text\":{\"content\":");
	buf_json_str(&b, prompt, plen);
	buf_printf(&b, "}}],\"scenario\":\"" KIMI_SCENARIO "\"},\"options\":"
	    "{\"thinking\":%s}}", flags & ROUTE_THINK ? "true" : "false");
	if (!b.failed && (out = arena_alloc(c->arena, KC_HEADER_LEN +
	    b.len)) != NULL && kc_frame((unsigned char *)out, 0, b.p,
	    b.len) == 0)
		*lenp = KC_HEADER_LEN + b.len;
	else
		out = NULL;
	buf_free(&b);
	return out;
}

struct stream_ctx {
	struct kimi_call		*c;
	const struct provider_call	*pc;
	struct http_resp		*resp;
	struct kimi_stream		*st;
	enum ks_err			 ks;
	int				 not_connect;	/* an error body */
	struct buf			 err_body;
	int				 done;
	int				 complete;	/* answered whole */
	struct timespec			 done_at;
	size_t				 after_done;	/* bytes */
};

static int
on_data(void *u, const char *p, size_t n)
{
	struct stream_ctx *sc = u;
	const char *ct = sc->resp->content_type;
	const struct chat_sink *k = sc->pc->sink;

	/* A JSON error may come with 200: keep it for the message. */
	if (sc->not_connect || (ct != NULL && strstr(ct, "connect+json") ==
	    NULL)) {
		sc->not_connect = 1;
		buf_add(&sc->err_body, p, n);
		return 0;
	}
	if (sc->done && (sc->after_done += n) > KIMI_AFTER_DONE_MAX)
		return 1;
	if ((sc->ks = ks_feed(sc->st, p, n)) != KS_OK)
		return 1;
	if (ks_done(sc->st) && !sc->done) {
		sc->done = 1;
		clock_gettime(CLOCK_MONOTONIC, &sc->done_at);
		return 0;
	}
	if (!sc->done && k->flush != NULL && k->flush(k->ctx) != 0)
		return 1;
	return 0;
}

/* After the answer only the end-of-stream is awaited, and not long. */
static int
on_idle(void *u)
{
	struct stream_ctx *sc = u;

	if (sc->done)
		return call_ms_since(&sc->done_at) > KIMI_AFTER_DONE_MS;
	return sc->pc->idle != NULL && sc->pc->idle(sc->pc->idle_ctx);
}

/* Kimi refused the token: try again with a new one, or say so. */
static enum chat_rc
refused(struct kimi_call *c, int try, const char *detail)
{
	char fp[LOG_FP_LEN];

	if (c->kind == KIMI_KIND_REFRESH && c->access_cached &&
	    try + 1 < KIMI_TRIES) {
		log_fingerprint(c->secret, fp);
		log_info("kimi: the cached access token of %s was refused; "
		    "renewing it", fp);
		return CHAT_RETRY;
	}
	if (c->kind == KIMI_KIND_ACCESS && c->claims.exp > 0 &&
	    c->claims.exp <= (int64_t)time(NULL))
		kimi_fail_expired(c, "the access token expired (they live "
		    "about 15 minutes; add the refresh_token instead)");
	else
		kimi_fail(c, "chat", 401, detail, -1);
	return CHAT_OVER;
}

/* A 200 whose body is a JSON error instead of the stream.  Not inlined:
 * its message buffer would sit in the frame a parked stream keeps. */
static enum chat_rc __attribute__((noinline))
fail_body(struct stream_ctx *sc, int try)
{
	struct kc_end e;
	int status = 502;

	if (!sc->err_body.failed && kc_end_parse(sc->err_body.p,
	    sc->err_body.len, 1, &e) == 0 && e.error)
		status = ks_error_status(e.code);
	else
		snprintf(e.message, sizeof(e.message), "an answer that is not "
		    "a Connect stream");
	if (status == 401)
		return refused(sc->c, try, e.message);
	kimi_fail(sc->c, "chat", status, e.message, e.retry_after);
	return CHAT_OVER;
}

/*
 * What the transfer and the decoder ended with, told to the sink.  Not
 * inlined: its error text buffer would sit in the frame a parked stream
 * keeps (BENCHMARKS.md §20).
 */
static enum chat_rc __attribute__((noinline))
outcome(struct stream_ctx *sc, enum up_err e, int try)
{
	const struct chat_sink *k = sc->pc->sink;
	const struct ks_error *ke;
	struct kc_end ce;
	enum ks_err ks = sc->ks;

	if (e == UP_HTTP) {
		if (kc_end_parse(sc->resp->body, sc->resp->body_len, 1, &ce) < 0)
			ce.message[0] = '\0';
		if (sc->resp->status == 401 && !call_is_cloudflare(sc->resp))
			return refused(sc->c, try, ce.message);
		call_fail_http(k, "kimi", "chat", sc->resp, ce.message[0] ?
		    ce.message : NULL);
		return CHAT_OVER;
	}
	if (sc->not_connect)
		return fail_body(sc, try);
	if (ks == KS_OK && e == UP_OK)
		ks = ks_end(sc->st);
	if (ks == KS_OK && !ks_done(sc->st) && e != UP_ABORTED) {
		if (ks_started(sc->st))
			call_fail(k, 502, "upstream_error", "upstream_error",
			    "The Kimi stream broke off: %s.", up_strerror(e));
		else
			call_fail_net(k, "kimi", "chat", e);
		return CHAT_OVER;
	}
	switch (ks) {
	case KS_OK:		/* answered; or the client left (aborted) */
		sc->complete = ks_done(sc->st);
		break;
	case KS_ABORT:
		break;
	case KS_UPSTREAM:
		ke = ks_error(sc->st);
		if (ke->status == 401 && !ks_started(sc->st))
			return refused(sc->c, try, ke->message);
		kimi_fail(sc->c, "chat stream", ke->status, ke->message,
		    ke->retry_after);
		break;
	case KS_EMPTY:
		call_fail(k, 502, "upstream_error", "empty_answer",
		    "Kimi ended the stream without an answer.");
		break;
	default:
		call_fail(k, 502, "upstream_error", "upstream_bad_stream",
		    "The Kimi stream could not be decoded (%s).",
		    ks_strerror(ks));
		break;
	}
	return CHAT_OVER;
}

/*
 * A complete answer in a session: the chat stays, named for the next
 * turn by its id (the stream's, else the one continued) and the answer's
 * message id.  0 kept, -1 when there is nothing to continue after.
 */
static int
keep(const struct provider_call *pc, const char *chat, const char *msg)
{
	struct provider_session *ps = pc->session;

	if (ps == NULL || msg == NULL)
		return -1;
	if (chat == NULL)
		chat = ps->chat_id;
	if (chat == NULL)
		return -1;
	return call_session_keep(ps, chat, msg);
}

static enum chat_rc
chat_once(struct kimi_call *c, const struct provider_call *pc,
    const char *body, size_t blen, struct kimi_after *a, int try)
{
	struct stream_ctx sc;
	struct http_req req;
	struct http_resp resp;
	enum chat_rc rc = CHAT_OVER;
	const char *id, *cont;
	enum up_err e;

	cont = pc->session != NULL ? pc->session->chat_id : NULL;
	memset(&sc, 0, sizeof(sc));
	memset(&resp, 0, sizeof(resp));
	sc.c = c;
	sc.pc = pc;
	sc.resp = &resp;
	buf_init(&sc.err_body, KIMI_ERR_BODY_MAX);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = arena_printf(c->arena, "%s" KIMI_CHAT_PATH, c->base);
	req.headers = kimi_headers(c, c->access, &c->claims,
	    "application/connect+json", 1);
	if (ks_new(&sc.st, pc->sink) != KS_OK || req.url == NULL ||
	    req.headers == NULL) {
		call_fail_nomem(pc->sink);
		goto out;
	}
	req.body = body;
	req.body_len = blen;
	req.proxy = c->proxy;
	req.connect_timeout_ms = 10000;
	req.idle_timeout_s = 120;
	req.on_data = on_data;
	req.data_ctx = &sc;
	req.idle = on_idle;
	req.idle_ctx = &sc;
	e = http_do(&req, &resp);
	rc = outcome(&sc, e, try);
	id = ks_chat_id(sc.st);
	if (sc.complete && keep(pc, id, ks_message_id(sc.st)) == 0)
		goto out;
	/* a chat this attempt started goes; a continued one stays */
	if (id != NULL && a != NULL && a->n < KIMI_MAX_CHATS &&
	    (cont == NULL || strcmp(id, cont) != 0))
		a->chats[a->n++] = arena_strdup(c->arena, id);
	if (a != NULL && a->n > 0 && a->chats[a->n - 1] == NULL)
		a->n--;
out:
	http_resp_free(&resp);
	ks_free(sc.st);
	buf_free(&sc.err_body);
	return rc;
}

void
kimi_chat(const struct provider_call *pc)
{
	struct provider_ctx x = { pc->cfg, pc->store, pc->arena };
	struct kimi_after *after;
	struct kimi_call c;
	size_t blen = 0;
	long media;
	char *body;
	int try;

	if (pc->account == NULL || pc->account->secret == NULL) {
		call_fail(pc->sink, 401, "invalid_request_error",
		    "missing_credential", "Kimi answers only with an account: "
		    "add one (chat2api accounts add kimi ...) or send your "
		    "refresh token as the API key.");
		return;
	}
	if ((media = kimi_prompt_media(pc->req)) >= 0) {
		call_fail(pc->sink, 400, "invalid_request_error",
		    "unsupported_content", "Kimi takes text only here: "
		    "messages[%ld] has an image or file part, and uploading "
		    "to Kimi is not supported. Send the text alone, or use a "
		    "model of a provider that reads images.", media);
		return;
	}
	kimi_call_init(&c, &x, pc->account);
	c.sink = pc->sink;
	c.idle = pc->idle;
	c.idle_ctx = pc->idle_ctx;
	after = arena_calloc(c.arena, 1, sizeof(*after));
	if (c.base == NULL || after == NULL ||
	    (body = chat_body(&c, pc, &blen)) == NULL) {
		call_fail_nomem(pc->sink);
		return;
	}
	for (try = 0; try < KIMI_TRIES; try++)
		if (kimi_access(&c, try > 0) != KIMI_STEP_OK ||
		    chat_once(&c, pc, body, blen, after, try) != CHAT_RETRY)
			break;
	defer_delete(pc, &c, after);
}

/* A session that ended: its chat goes (DeleteChat, §4.5). */
int
kimi_forget(const struct provider_ctx *x, const struct provider_account *a,
    const char *chat_id)
{
	struct kimi_call c;

	if (a == NULL || a->secret == NULL || !id_ok(chat_id))
		return -1;
	kimi_call_init(&c, x, a);
	if (c.base == NULL)
		return -1;
	return delete_chat(&c, chat_id);
}
