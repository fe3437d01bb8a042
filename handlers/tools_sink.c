/*
 * The chat_sink filter between a provider and the OpenAI writer when our
 * tool prompt is in: text goes through the call scanner; calls become
 * tool_calls of the answer.  Blanks at the end of a piece of text wait
 * for more text, so the line breaks around a call block never turn into
 * a content of their own.  Everything else passes untouched.
 */
#include "config.h"

#include <string.h>

#include "handlers/openai_sink.h"
#include "handlers/tools.h"

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Text out of the scanner: held blanks first, trailing blanks held. */
static int
t_text(void *ctx, const char *s, size_t n)
{
	struct tools_sink *t = ctx;
	size_t k = n;
	int rc;

	while (k > 0 && is_blank(s[k - 1]))
		k--;
	if (k > 0) {
		if (t->ws.len > 0) {
			rc = t->down->text(t->down->ctx, t->ws.p, t->ws.len);
			buf_reset(&t->ws);
			if (rc != 0)
				return rc;
		}
		if ((rc = t->down->text(t->down->ctx, s, k)) != 0)
			return rc;
	}
	if (buf_add(&t->ws, s + k, n - k) != 0)
		return -1;
	return 0;
}

static int
t_call(void *ctx, const char *name, size_t nl, const char *args, size_t al)
{
	struct tools_sink *t = ctx;

	buf_reset(&t->ws);	/* a call's surroundings, not content */
	return oa_sink_tool_call(t->oa, name, nl, args, al);
}

/* The end of the text: decide what is held, then the blanks. */
static int
settle(struct tools_sink *t)
{
	enum tools_err e;

	if (t->ended)
		return 0;
	t->ended = 1;
	e = tools_parse_end(&t->p);
	if (e == TOOLS_OK && t->ws.len > 0 && t->oa->ncalls == 0)
		t->down->text(t->down->ctx, t->ws.p, t->ws.len);
	buf_reset(&t->ws);
	return e == TOOLS_OK ? 0 : -1;
}

static int
f_role(void *ctx, const char *role)
{
	struct tools_sink *t = ctx;

	return t->down->role(t->down->ctx, role);
}

static int
f_text(void *ctx, const char *s, size_t n)
{
	struct tools_sink *t = ctx;

	if (t->ended)
		return -1;
	if (!t->oa->started && t->down->role(t->down->ctx, "assistant") != 0)
		return -1;
	return tools_parse_feed(&t->p, s, n) == TOOLS_OK ? 0 : -1;
}

static int
f_reasoning(void *ctx, const char *s, size_t n)
{
	struct tools_sink *t = ctx;

	return t->down->reasoning(t->down->ctx, s, n);
}

static int
f_meta(void *ctx, const char *cid, const char *mid)
{
	struct tools_sink *t = ctx;

	return t->down->meta(t->down->ctx, cid, mid);
}

static int
f_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct tools_sink *t = ctx;

	(void)settle(t);
	return t->down->finish(t->down->ctx, f, u);
}

static int
f_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct tools_sink *t = ctx;

	/* Mid-answer: what was held is the answer's text. */
	if (t->oa->started && !t->oa->finished)
		(void)settle(t);
	return t->down->error(t->down->ctx, status, type, code, msg);
}

static int
f_retry_after(void *ctx, long seconds)
{
	struct tools_sink *t = ctx;

	return t->down->retry_after(t->down->ctx, seconds);
}

static int
f_flush(void *ctx)
{
	struct tools_sink *t = ctx;

	return t->down->flush(t->down->ctx);
}

void
tools_sink_init(struct tools_sink *t, const struct tools_req *tr,
    struct oa_sink *oa, const struct chat_sink *down)
{
	struct tools_parse_cb cb;

	memset(t, 0, sizeof(*t));
	t->down = down;
	t->oa = oa;
	cb.ctx = t;
	cb.text = t_text;
	cb.call = t_call;
	tools_parse_init(&t->p, &cb);
	t->p.fns = tr->fns;
	t->p.nfns = tr->nfns;
	if (tr->choice == TOOLS_CHOICE_NAMED)
		t->p.only = tr->named;
	if (!tr->parallel)
		t->p.max_calls = 1;
	buf_init(&t->ws, 0);
}

void
tools_sink_bind(struct tools_sink *t, struct chat_sink *k)
{
	memset(k, 0, sizeof(*k));
	k->ctx = t;
	k->role = f_role;
	k->text = f_text;
	k->reasoning = f_reasoning;
	k->meta = f_meta;
	k->finish = f_finish;
	k->error = f_error;
	k->retry_after = f_retry_after;
	k->flush = f_flush;
}

void
tools_sink_free(struct tools_sink *t)
{
	tools_parse_free(&t->p);
	buf_free(&t->ws);
}
