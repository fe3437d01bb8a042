/*
 * One MiniMax answer (§5.5): the device, send_msg with the whole
 * conversation flattened, then get_chat_detail polled until the chat is
 * answered, each snapshot turned into deltas by the decoder (poll.c) and
 * written as it comes; the chat is deleted once the answer is out (the
 * caller runs that after writing it).
 *
 * The reference polls every 500 ms and gives up after a minute, losing
 * longer answers.  Here the pace adapts: a poll that shows something new
 * brings the next one MINIMAX_POLL_MIN_MS later; one that shows nothing
 * stretches the wait by half, up to MINIMAX_POLL_MAX_MS, so a slow
 * answer costs few polls and a fast one arrives promptly.  The whole
 * answer may take MINIMAX_ANSWER_TIMEOUT seconds; past that it ends with
 * an error, never a silent end.  Between polls the request's idle hook
 * runs, so keep-alives go out and a client that left stops the polling.
 *
 * In a multi-turn session (provider_call.session) the chat is kept after
 * a complete answer, named with the id of the answer's last AI message;
 * the next turn sends only its new messages with send_msg's chat_id, and
 * the decoder reads only the AI messages after that one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/buf.h"
#include "fcgi/coro.h"
#include "fcgi/log.h"
#include "upstream/minimax/internal.h"
#include "upstream/minimax/poll.h"
#include "upstream/minimax/prompt.h"

#define MM_IDLE_STEP_MS		50	/* between two idle() calls */
#define MM_PARK_MIN_MS		100	/* shorter waits stay on the thread */
#define MM_POLL_TIMEOUT_MS	10000	/* one get_chat_detail */
#define MM_POLL_RETRIES		3	/* failed polls in a row tolerated */
#define MM_DELETE_TRIES		3
#define MM_DELETE_WAIT_MS	2000	/* "chat is running": again later */
#define MM_RUNNING		"chat is running"

/*
 * Sleeps ms, calling idle (if any) in between; non-zero: it said stop.
 * On a coroutine the wait parks (fcgi/coro.h): an answer being polled
 * holds a thread only while a poll is in flight, and a client that
 * leaves meanwhile is seen by the loop and by idle() after it.
 */
static int
wait_ms(long ms, int (*idle)(void *), void *ctx)
{
	struct timespec t0, ts;
	long left;

	if (ms >= MM_PARK_MIN_MS && coro_parkable()) {
		if (idle != NULL && idle(ctx) != 0)
			return 1;
		if (coro_sleep(ms) == 0)
			return idle != NULL && idle(ctx) != 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (idle != NULL && idle(ctx) != 0)
			return 1;
		if ((left = ms - call_ms_since(&t0)) <= 0)
			return 0;
		if (left > MM_IDLE_STEP_MS)
			left = MM_IDLE_STEP_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = left * 1000000L;
		nanosleep(&ts, NULL);
	}
}

/* MiniMax takes no files through this interface: say so, not drop them. */
static int
has_files(const struct chat_request *req)
{
	size_t i, k;

	for (i = 0; i < req->nmessages; i++)
		for (k = 0; k < req->messages[i].nparts; k++)
			if (req->messages[i].parts[k].type != CHAT_PART_TEXT)
				return 1;
	return 0;
}

struct mm_chat {
	const char	*id;		/* as returned */
	int		 numeric;	/* an integer in JSON */
};

static int
all_digits(const char *s)
{
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/*
 * cont: the chat a session continues (its id as send_msg answered it:
 * digits go as an integer, as delete_chat takes it), or NULL for a new
 * one.
 */
static int
send_msg(struct mm_call *c, const struct provider_call *pc,
    const char *cont, struct mm_chat *chat)
{
	struct json_object *root, *top, *data, *v;
	struct buf b;
	char *prompt, *body;
	size_t plen;
	int rc = -1;

	if ((prompt = mm_prompt(c->arena, pc->req, &plen)) == NULL) {
		call_fail(c->sink, 413, "invalid_request_error",
		    "context_length_exceeded", "The conversation is too long "
		    "for MiniMax.");
		return -1;
	}
	if (plen == 0) {
		call_fail(c->sink, 400, "invalid_request_error", "empty_prompt",
		    "The messages hold no text for MiniMax to answer.");
		return -1;
	}
	buf_init(&b, MM_PROMPT_MAX + 4096);
	buf_adds(&b, "{\"msg_type\":1,\"text\":");
	buf_json_str(&b, prompt, plen);
	buf_adds(&b, ",\"chat_type\":1,\"attachments\":[],"
	    "\"selected_mcp_tools\":[],\"backend_config\":{},"
	    "\"sub_agent_ids\":[]");
	if (cont != NULL && all_digits(cont))
		buf_printf(&b, ",\"chat_id\":%s", cont);
	else if (cont != NULL) {
		buf_adds(&b, ",\"chat_id\":");
		buf_json_str(&b, cont, strlen(cont));
	}
	buf_adds(&b, "}");
	body = b.failed ? NULL : arena_strndup(c->arena, b.p, b.len);
	buf_free(&b);
	if (body == NULL) {
		call_fail_nomem(c->sink);
		return -1;
	}
	if (mm_api(c, "send_msg", MM_PATH_SEND, NULL, body, &root) !=
	    MM_STEP_OK)
		return -1;
	/* top level as §5.5 has it; under "data" as other answers do */
	top = root;
	if (!json_object_object_get_ex(top, "chat_id", &v) &&
	    json_object_object_get_ex(top, "data", &data) &&
	    json_object_is_type(data, json_type_object))
		top = data;
	if ((chat->id = mm_json_id(c, top, "chat_id")) != NULL) {
		json_object_object_get_ex(top, "chat_id", &v);
		chat->numeric = json_object_is_type(v, json_type_int);
		rc = 0;
	} else
		call_fail(c->sink, 502, "upstream_error", "upstream_error",
		    "MiniMax send_msg answered no chat id.");
	json_object_put(root);
	return rc;
}

/* The chat deleted after the answer, or after a failed attempt. */
struct mm_after {
	struct mm_call	 c;
	struct mm_chat	 chat;
};

/* delete_chat outside any answer; 0 deleted. */
static int
delete_chat(struct mm_call *c, const char *id)
{
	struct json_object *root;
	const char *body;
	struct buf b;
	int i;

	c->sink = NULL;
	c->idle = NULL;		/* the client may be gone; clean up anyway */
	/* §5.5: an integer here, whatever send_msg answered */
	buf_init(&b, 0);
	buf_adds(&b, "{\"chat_id\":");
	if (all_digits(id))
		buf_adds(&b, id);
	else
		buf_json_str(&b, id, strlen(id));
	buf_adds(&b, "}");
	body = b.failed ? NULL : arena_strndup(c->arena, b.p, b.len);
	buf_free(&b);
	if (body == NULL)
		return -1;
	for (i = 0; i < MM_DELETE_TRIES; i++) {
		if (i > 0)
			wait_ms(MM_DELETE_WAIT_MS, NULL, NULL);
		if (mm_api(c, "delete_chat", MM_PATH_DELETE, NULL, body,
		    &root) == MM_STEP_OK) {
			json_object_put(root);
			return 0;
		}
		/* the upstream is still writing: it lets go in a moment */
		if (strstr(c->msg, MM_RUNNING) == NULL)
			break;
	}
	log_info("minimax: chat not deleted: %s", c->msg);
	return -1;
}

static void
chat_delete(void *u)
{
	struct mm_after *a = u;

	(void)delete_chat(&a->c, a->chat.id);
}

static void
defer_delete(const struct provider_call *pc, const struct mm_call *c,
    const struct mm_chat *chat)
{
	struct mm_after *a;

	if (pc->after == NULL ||
	    (a = arena_alloc(c->arena, sizeof(*a))) == NULL)
		return;
	a->c = *c;
	a->chat = *chat;
	pc->after->fn = chat_delete;
	pc->after->ctx = a;
}

/* The poll pace of §5.5 as configured, the minimum never over the top. */
struct pace {
	long	min, max, cur;
};

static void
pace_init(struct pace *p, const struct config *cfg)
{
	p->max = cfg->minimax_poll_max_ms;
	p->min = cfg->minimax_poll_min_ms < p->max ?
	    cfg->minimax_poll_min_ms : p->max;
	p->cur = p->min;
}

/* Fast while the answer moves; half as long again each time it does not. */
static void
pace_next(struct pace *p, int changed)
{
	p->cur = changed ? p->min : p->cur + p->cur / 2;
	if (p->cur > p->max)
		p->cur = p->max;
}

/* One failed poll; 1 when the answer cannot go on (the sink told). */
static int
poll_failed(struct mm_call *c, struct mm_poll *dec, enum up_err e,
    const struct http_resp *r, int *fails)
{
	const struct chat_sink *k = c->sink;

	/* a refusal is final; a hiccup of a long answer is not */
	if (e == UP_HTTP && r->status < 500) {
		call_fail_http(k, "minimax", "get_chat_detail", r, NULL);
		return 1;
	}
	if (++*fails <= MM_POLL_RETRIES) {
		log_info("minimax: get_chat_detail failed (%s), polling on",
		    e == UP_HTTP ? "5xx" : up_strerror(e));
		return 0;
	}
	if (mm_poll_started(dec))
		call_fail(k, 502, "upstream_error", "upstream_error",
		    "MiniMax stopped answering the polls of the answer (%s).",
		    e == UP_HTTP ? "HTTP 5xx" : up_strerror(e));
	else if (e == UP_HTTP)
		call_fail_http(k, "minimax", "get_chat_detail", r, NULL);
	else
		call_fail_net(k, "minimax", "get_chat_detail", e);
	return 1;
}

/*
 * Polls the answer to its end; 0 when it reached the sink whole, with
 * the id of its last AI message in last (the next turn's anchor).
 */
static int
poll_answer(struct mm_call *c, const struct provider_call *pc,
    const struct mm_chat *chat, char last[MMP_ID_MAX + 1])
{
	const struct chat_sink *k = pc->sink;
	struct mm_poll_opts o = { !pc->req->stream, NULL };
	struct mm_poll *dec = NULL;
	struct http_resp resp;
	struct timespec t0;
	struct pace pace;
	enum mm_poll_err pe;
	enum up_err e;
	long long left;
	const char *body, *id;
	int fails = 0, rc = -1;

	if (pc->session != NULL && pc->session->chat_id != NULL)
		o.after = pc->session->parent_id;
	body = arena_printf(c->arena, chat->numeric ? "{\"chat_id\":%s}" :
	    "{\"chat_id\":\"%s\"}", chat->id);
	if (body == NULL || mm_poll_new(&dec, k, &o) != MMP_OK) {
		call_fail_nomem(k);
		return -1;
	}
	pace_init(&pace, c->cfg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (wait_ms(pace.cur, pc->idle, pc->idle_ctx))
			break;		/* the client left */
		left = c->cfg->minimax_answer_timeout * 1000LL - call_ms_since(&t0);
		if (left <= 0) {
			call_fail(k, 504, "upstream_error", "upstream_timeout",
			    "MiniMax did not finish the answer within %ld s "
			    "(MINIMAX_ANSWER_TIMEOUT).",
			    c->cfg->minimax_answer_timeout);
			break;
		}
		e = mm_post(c, MM_PATH_DETAIL, NULL, body, left <
		    MM_POLL_TIMEOUT_MS ? (long)left : MM_POLL_TIMEOUT_MS,
		    MMP_MAX_BODY, &resp);
		if (e == UP_ABORTED) {
			http_resp_free(&resp);
			break;
		}
		if (e == UP_ENOMEM) {
			http_resp_free(&resp);
			call_fail_nomem(k);
			break;
		}
		if (e != UP_OK) {
			if (poll_failed(c, dec, e, &resp, &fails)) {
				http_resp_free(&resp);
				break;
			}
			http_resp_free(&resp);
			pace_next(&pace, 0);
			continue;
		}
		fails = 0;
		pe = mm_poll_feed(dec, resp.body != NULL ? resp.body : "",
		    resp.body_len);
		http_resp_free(&resp);
		if (pe == MMP_PROTO || pe == MMP_ENOMEM) {
			call_fail(k, 502, "upstream_error",
			    "upstream_bad_answer", "MiniMax answered a poll "
			    "with something that could not be read (%s).",
			    mm_poll_strerror(pe));
			break;
		}
		if (pe == MMP_OK && mm_poll_done(dec) &&
		    (id = mm_poll_message_id(dec)) != NULL) {
			snprintf(last, MMP_ID_MAX + 1, "%s", id);
			rc = 0;		/* finished */
		}
		if (pe != MMP_OK || mm_poll_done(dec))
			break;		/* the sink has it, or the client left */
		if (k->flush != NULL && k->flush(k->ctx) != 0)
			break;
		pace_next(&pace, mm_poll_changed(dec));
	}
	if (mm_poll_rewrites(dec) > 0)
		log_info("minimax: the upstream rewrote %ld snapshot(s) of an "
		    "answer", mm_poll_rewrites(dec));
	mm_poll_free(dec);
	return rc;
}

void
minimax_chat(const struct provider_call *pc)
{
	struct provider_ctx x = { pc->cfg, pc->store, pc->arena };
	struct provider_session *ps = pc->session;
	const char *cont = NULL;
	char last[MMP_ID_MAX + 1];
	struct mm_call c;
	struct mm_chat chat;
	enum mm_cred_err ce;

	if (pc->account == NULL || pc->account->secret == NULL) {
		call_fail(pc->sink, 401, "invalid_request_error",
		    "missing_credential", "MiniMax answers only with an "
		    "account: add one (chat2api accounts add minimax ...) or "
		    "send \"<realUserID>+<JWT>\" as the API key.");
		return;
	}
	if (has_files(pc->req)) {
		call_fail(pc->sink, 400, "invalid_request_error",
		    "unsupported_content", "MiniMax takes text only here: "
		    "images and files cannot be sent to it.");
		return;
	}
	if ((ce = mm_call_init(&c, &x, pc->account)) != MMC_OK) {
		if (ce == MMC_ENOMEM)
			call_fail_nomem(pc->sink);
		else
			call_fail(pc->sink, 401, "invalid_request_error",
			    "invalid_api_key", "The MiniMax credential is "
			    "unusable: %s.", mm_cred_strerror(ce));
		return;
	}
	c.sink = pc->sink;
	c.idle = pc->idle;
	c.idle_ctx = pc->idle_ctx;
	/* a continued chat needs the anchor its answer comes after */
	if (ps != NULL && ps->chat_id != NULL && ps->parent_id != NULL)
		cont = ps->chat_id;
	else if (ps != NULL && ps->chat_id != NULL) {
		call_fail(pc->sink, 502, "upstream_error", "upstream_error",
		    "The MiniMax session lost its place in the chat.");
		return;
	}
	if (mm_device(&c, 0) != MM_STEP_OK ||
	    send_msg(&c, pc, cont, &chat) < 0)
		return;
	if (poll_answer(&c, pc, &chat, last) == 0 && ps != NULL &&
	    call_session_keep(ps, chat.id, last) == 0)
		return;		/* the session owns the chat from here on */
	/* A chat of this answer alone goes, whatever happened. */
	if (cont == NULL)
		defer_delete(pc, &c, &chat);
}

/* A session that ended: its chat goes (delete_chat, §5.5). */
int
minimax_forget(const struct provider_ctx *x, const struct provider_account *a,
    const char *chat_id)
{
	struct mm_call c;

	if (a == NULL || a->secret == NULL || chat_id == NULL ||
	    *chat_id == '\0' || strlen(chat_id) > MMP_ID_MAX)
		return -1;
	if (mm_call_init(&c, x, a) != MMC_OK ||
	    mm_device(&c, 0) != MM_STEP_OK)
		return -1;
	return delete_chat(&c, chat_id);
}
