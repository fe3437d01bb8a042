/*
 * The chat_sink filter between a provider and the OpenAI writer when our
 * tool prompt is in: text goes through the call scanner; calls become
 * tool_calls of the answer.  What may only frame a call block waits for
 * the next text: blanks at the end of a piece, a Markdown fence opened
 * before the block, and the fence that closes after it; so the line
 * breaks and fences a model puts around its calls never turn into a
 * content of their own.  Everything else passes untouched.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "handlers/openai_sink.h"
#include "handlers/tools.h"

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Where the tail of s that may only frame a call block starts: blanks,
 * and before them a fence opener at a line start ("```" and a language,
 * or the first backticks of one, the rest to come).
 */
static size_t
frame_start(const char *s, size_t n)
{
	size_t k = n, j, b = 0;

	while (k > 0 && is_blank(s[k - 1]))
		k--;
	j = k;
	while (j > 0 && isalpha((unsigned char)s[j - 1]))
		j--;
	while (b < 3 && j > b && s[j - b - 1] == '`')
		b++;
	if ((b == 3 || (b > 0 && j == k)) && (j == b || s[j - b - 1] == '\n')) {
		k = j - b;
		while (k > 0 && is_blank(s[k - 1]))
			k--;
	}
	return k;
}

/*
 * Right after a call: the length of a fence closer (blanks, "```",
 * blanks to the line end) at the start of s, 0 when there is none, or
 * -1 when more text must tell.
 */
static long
closer(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_blank(s[i]))
		i++;
	if (n - i < 3)
		return memcmp(s + i, "```", n - i) == 0 ? -1 : 0;
	if (memcmp(s + i, "```", 3) != 0)
		return 0;
	for (i += 3; i < n && s[i] != '\n'; i++)
		if (!is_blank(s[i]))
			return 0;	/* "```js": a new code block */
	if (i == n)
		return -1;
	return (long)i + 1;
}

/* Whether s is a whole fence closer, at the end of the answer. */
static int
closer_at_end(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_blank(s[i]))
		i++;
	if (n - i < 3 || memcmp(s + i, "```", 3) != 0)
		return 0;
	for (i += 3; i < n; i++)
		if (!is_blank(s[i]))
			return 0;
	return 1;
}

/* Text out of the scanner, after what was held. */
static int
t_text(void *ctx, const char *s, size_t n)
{
	struct tools_sink *t = ctx;
	size_t k;
	long c;
	int rc;

	if (t->ws.len > 0) {
		buf_reset(&t->tmp);
		buf_add(&t->tmp, t->ws.p, t->ws.len);
		if (buf_add(&t->tmp, s, n) != 0)
			return -1;
		buf_reset(&t->ws);
		s = t->tmp.p;
		n = t->tmp.len;
	}
	if (t->after_call) {
		if ((c = closer(s, n)) < 0)
			return buf_add(&t->ws, s, n) != 0 ? -1 : 0;
		t->after_call = 0;
		s += c;
		n -= (size_t)c;
	}
	if ((k = frame_start(s, n)) > 0 &&
	    (rc = t->down->text(t->down->ctx, s, k)) != 0)
		return rc;
	return buf_add(&t->ws, s + k, n - k) != 0 ? -1 : 0;
}

static int
t_call(void *ctx, const char *name, size_t nl, const char *args, size_t al)
{
	struct tools_sink *t = ctx;

	buf_reset(&t->ws);	/* a call's surroundings, not content */
	t->after_call = 1;
	return oa_sink_tool_call(t->oa, name, nl, args, al);
}

/* Whether b holds more than blanks. */
static int
has_text(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (!is_blank(b->p[i]))
			return 1;
	return 0;
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
	/* the fence after the last call closes at the end of the answer */
	if (t->after_call && closer_at_end(t->ws.p, t->ws.len))
		buf_reset(&t->ws);
	/* with calls, blanks at the end are their surroundings */
	if (e == TOOLS_OK && t->ws.len > 0 && (t->oa->ncalls == 0 ||
	    has_text(&t->ws)))
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
	buf_init(&t->tmp, 0);
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
	buf_free(&t->tmp);
}
