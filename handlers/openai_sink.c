#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "fcgi/rand.h"
#include "fcgi/resp.h"
#include "handlers/openai_sink.h"

#define OA_MAX_ANSWER	(16u << 20)

static const char *const finish_names[] = {
	[CHAT_FINISH_STOP] = "stop",
	[CHAT_FINISH_LENGTH] = "length",
	[CHAT_FINISH_CONTENT_FILTER] = "content_filter",
	[CHAT_FINISH_TOOL_CALLS] = "tool_calls",
};

/* §6.2: fingerprints OpenAI reports for some model versions. */
static const struct { const char *model, *fp; } fingerprints[] = {
	{ "gpt-3.5-turbo-0125", "fp_b28b39ffa8" },
	{ "gpt-3.5-turbo-1106", "fp_592ef5907d" },
	{ "gpt-4-turbo-2024-04-09", "fp_d1bac968b4" },
	{ "gpt-4o-2024-05-13", "fp_3aa7262c27" },
	{ "gpt-4o-mini-2024-07-18", "fp_c9aa9c0491" },
};

/*
 * Without a tokenizer table: about four bytes per token for ASCII text,
 * one token per non-ASCII character.  Good enough for usage figures.
 */
long
oa_estimate_tokens(const char *s, size_t n)
{
	size_t i, ascii = 0;
	long t = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80)
			ascii++;
		else if ((c & 0xc0) != 0x80)
			t++;
	}
	return t + (long)((ascii + 3) / 4);
}

long
oa_prompt_tokens(const struct chat_request *cr)
{
	size_t i, j;
	long t = 3;

	for (i = 0; i < cr->nmessages; i++) {
		t += 4;
		for (j = 0; j < cr->messages[i].nparts; j++) {
			const struct chat_part *p = &cr->messages[i].parts[j];
			if (p->type == CHAT_PART_TEXT)
				t += oa_estimate_tokens(p->text, p->len);
			else if (p->type == CHAT_PART_IMAGE)
				t += 85;
		}
	}
	return t;
}

void
oa_make_id(char *out, size_t outsz, const char *prefix)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[29];
	size_t i;

	rnd_bytes(rnd, sizeof(rnd));
	i = (size_t)snprintf(out, outsz, "%s", prefix);
	for (size_t k = 0; k < sizeof(rnd) && i + 1 < outsz; k++)
		out[i++] = alnum[rnd[k] % 62];
	out[i] = '\0';
}

void
oa_sink_init(struct oa_sink *s, struct req *r, const struct chat_request *cr,
    enum oa_format fmt, const char *model)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->r = r;
	s->cr = cr;
	s->err_msg = "";
	s->fmt = fmt;
	oa_make_id(s->id, sizeof(s->id), fmt == OA_TEXT ? "cmpl-" :
	    "chatcmpl-");
	s->created = (long)time(NULL);
	s->model = model;
	for (i = 0; i < sizeof(fingerprints) / sizeof(fingerprints[0]); i++)
		if (strcmp(fingerprints[i].model, s->model) == 0)
			s->fingerprint = fingerprints[i].fp;
	buf_init(&s->out, 0);
	buf_init(&s->head, 0);
	buf_init(&s->text, OA_MAX_ANSWER);
	buf_init(&s->reasoning, OA_MAX_ANSWER);
	buf_init(&s->calls, OA_MAX_ANSWER);
	s->usage.prompt_tokens = oa_prompt_tokens(cr);
}

void
oa_sink_reset_error(struct oa_sink *s)
{
	s->err_status = 0;
	s->retry_after = -1;
	s->err_msg = "";
}

void
oa_sink_set_vmsg(struct oa_sink *s, const char *fmt, va_list ap)
{
	if (s->err_buf == NULL &&
	    (s->err_buf = arena_alloc(s->r->arena, OA_ERR_MSG_MAX)) == NULL) {
		s->err_msg = "The server is out of memory.";
		return;
	}
	vsnprintf(s->err_buf, OA_ERR_MSG_MAX, fmt, ap);
	s->err_msg = s->err_buf;
}

void
oa_sink_set_msg(struct oa_sink *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	oa_sink_set_vmsg(s, fmt, ap);
	va_end(ap);
}

void
oa_sink_free(struct oa_sink *s)
{
	buf_free(&s->out);
	buf_free(&s->head);
	buf_free(&s->text);
	buf_free(&s->reasoning);
	buf_free(&s->calls);
}

/* Chunk scratch up to this size is freed after each flush. */
#define OA_OUT_KEEP	2048

/* The fields every chunk and the completion start with, up to "choices":[ */
static void
object_head(struct oa_sink *s, const char *object)
{
	struct buf *b = &s->out, *h = &s->head;

	/* the same for every chunk of a stream: formatted once */
	if (s->head_object != object) {
		buf_reset(h);
		buf_printf(h, "{\"id\":\"%s\",\"object\":\"%s\","
		    "\"created\":%ld,\"model\":", s->id, object, s->created);
		buf_json_str(h, s->model, strlen(s->model));
		if (s->fingerprint)
			buf_printf(h, ",\"system_fingerprint\":\"%s\"",
			    s->fingerprint);
		s->head_object = h->failed ? NULL : object;
	}
	buf_reset(b);
	if (h->failed)
		b->failed = 1;
	else
		buf_add(b, h->p, h->len);
	if (s->conversation_id && s->message_id) {
		buf_adds(b, ",\"conversation_id\":");
		buf_json_str(b, s->conversation_id, strlen(s->conversation_id));
		buf_adds(b, ",\"message_id\":");
		buf_json_str(b, s->message_id, strlen(s->message_id));
	}
	buf_adds(b, ",\"choices\":[");
}

static void
chunk_head(struct oa_sink *s)
{
	object_head(s, s->fmt == OA_TEXT ? "text_completion" :
	    "chat.completion.chunk");
}

static int
chunk_send(struct oa_sink *s)
{
	if (s->out.failed)
		return -1;
	/* Held until the end of the upstream read (s_flush). */
	if (resp_sse_put(s->r, s->out.p, s->out.len) != APP_OK) {
		s->aborted = 1;
		return -1;
	}
	s->pending = 1;
	return 0;
}

int
oa_sink_flush(struct oa_sink *s)
{
	if (!s->pending || s->aborted)
		return s->aborted ? -1 : 0;
	s->pending = 0;
	if (resp_flush(s->r) != APP_OK) {
		s->aborted = 1;
		return -1;
	}
	/* a parked stream idles between events: no chunk scratch meanwhile
	 * (BENCHMARKS.md §20); a long chunk's stays for the next */
	if (s->out.cap <= OA_OUT_KEEP)
		buf_free(&s->out);
	return 0;
}

static int
s_flush(void *ctx)
{
	return oa_sink_flush(ctx);
}

/* One choice delta: key is "content" or "reasoning_content" or NULL. */
static int
send_delta(struct oa_sink *s, const char *key, const char *txt, size_t n,
    const char *finish)
{
	struct buf *b = &s->out;

	if (s->fmt == OA_TEXT && key != NULL && strcmp(key, "content") != 0)
		return 0;	/* completions have no reasoning channel */
	chunk_head(s);
	if (s->fmt == OA_TEXT) {
		buf_adds(b, "{\"text\":");
		buf_json_str(b, key != NULL ? txt : "", key != NULL ? n : 0);
		buf_adds(b, ",\"index\":0");
	} else {
		buf_adds(b, "{\"index\":0,\"delta\":{");
		if (key != NULL) {
			buf_printf(b, "\"%s\":", key);
			buf_json_str(b, txt, n);
		}
		buf_adds(b, "}");
	}
	buf_adds(b, ",\"logprobs\":null,\"finish_reason\":");
	if (finish)
		buf_printf(b, "\"%s\"", finish);
	else
		buf_adds(b, "null");
	buf_adds(b, "}]");
	if (s->cr->include_usage)
		buf_adds(b, ",\"usage\":null");
	buf_adds(b, "}");
	return chunk_send(s);
}

static int
s_role(void *ctx, const char *role)
{
	struct oa_sink *s = ctx;
	struct buf *b = &s->out;

	(void)role;
	if (s->started)
		return 0;
	s->started = 1;
	s->started_ms = req_now_ms();
	if (!s->cr->stream)
		return 0;
	if (resp_sse_start(s->r) != APP_OK) {
		s->aborted = 1;
		return -1;
	}
	if (s->w != NULL)
		return s->w->open(s);
	if (s->fmt == OA_TEXT)
		return 0;	/* completions streams carry no role chunk */
	chunk_head(s);
	buf_adds(b, "{\"index\":0,\"delta\":{\"role\":\"assistant\","
	    "\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]");
	if (s->cr->include_usage)
		buf_adds(b, ",\"usage\":null");
	buf_adds(b, "}");
	return chunk_send(s);
}

static int
s_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct oa_sink *s = ctx;
	struct buf *b = &s->out;

	if (s->finished)
		return 0;
	if (!s->started && s_role(ctx, "assistant") != 0)
		return -1;
	s->finished = 1;
	if (s->ncalls > 0 && f == CHAT_FINISH_STOP)
		f = CHAT_FINISH_TOOL_CALLS;
	s->finish = f;
	s->usage.completion_tokens = s->completion_tokens;
	if (u != NULL && u->prompt_tokens > 0)
		s->usage.prompt_tokens = u->prompt_tokens;
	if (u != NULL && u->completion_tokens > 0)
		s->usage.completion_tokens = u->completion_tokens;
	/* An upstream that only counts the whole turn (DeepSeek). */
	if (u != NULL && u->total_tokens > s->usage.prompt_tokens &&
	    u->completion_tokens <= 0)
		s->usage.completion_tokens = u->total_tokens -
		    s->usage.prompt_tokens;
	if (s->w != NULL)
		return s->w->finish(s);
	if (!s->cr->stream)
		return 0;
	if (send_delta(s, NULL, NULL, 0, finish_names[f]) < 0)
		return -1;
	if (s->cr->include_usage) {
		chunk_head(s);
		buf_printf(b, "],\"usage\":{\"prompt_tokens\":%ld,"
		    "\"completion_tokens\":%ld,\"total_tokens\":%ld}}",
		    s->usage.prompt_tokens, s->usage.completion_tokens,
		    s->usage.prompt_tokens + s->usage.completion_tokens);
		if (chunk_send(s) < 0)
			return -1;
	}
	s->pending = 0;		/* [DONE] flushes */
	if (resp_sse_done(s->r) != APP_OK) {
		s->aborted = 1;
		return -1;
	}
	return 0;
}

/* Text or reasoning; stops the upstream once max_tokens is reached. */
static int
s_emit(struct oa_sink *s, const char *key, struct buf *acc, const char *t,
    size_t n)
{
	if (s->finished || n == 0)
		return s->finished ? -1 : 0;
	if (!s->started && s_role(s, "assistant") != 0)
		return -1;
	s->completion_tokens += oa_estimate_tokens(t, n);
	if (s->w != NULL) {
		if (s->w->delta(s, acc == &s->reasoning, t, n) < 0)
			return -1;
	} else if (s->cr->stream) {
		if (send_delta(s, key, t, n, NULL) < 0)
			return -1;
	} else if (buf_add(acc, t, n) < 0) {
		/* An answer over 16 MiB: end it as if max_tokens hit. */
		return s_finish(s, CHAT_FINISH_LENGTH, NULL), -1;
	}
	if (s->cr->max_tokens > 0 &&
	    s->completion_tokens >= s->cr->max_tokens) {
		s_finish(s, CHAT_FINISH_LENGTH, NULL);
		return -1;
	}
	return 0;
}

static int
s_text(void *ctx, const char *t, size_t n)
{
	struct oa_sink *s = ctx;

	if (s->tap != NULL)
		s->tap(s->tap_ctx, NULL, 0, t, n);
	return s_emit(s, "content", &s->text, t, n);
}

static int
s_reasoning(void *ctx, const char *t, size_t n)
{
	struct oa_sink *s = ctx;

	return s_emit(s, "reasoning_content", &s->reasoning, t, n);
}

/*
 * As OpenAI streams a call: a first chunk with its index, id, type, name
 * and empty arguments, then the arguments.
 */
int
oa_sink_tool_call(struct oa_sink *s, const char *name, size_t nl,
    const char *args, size_t al)
{
	struct buf *b = &s->out;
	char id[30];		/* call_ and 24 characters, as OpenAI */
	size_t idx = s->ncalls;

	if (s->finished || (s->fmt != OA_CHAT && s->w == NULL))
		return -1;
	if (!s->started && s_role(s, "assistant") != 0)
		return -1;
	oa_make_id(id, sizeof(id), "call_");
	s->ncalls++;
	if (s->tap != NULL)
		s->tap(s->tap_ctx, name, nl, args, al);
	s->completion_tokens += oa_estimate_tokens(name, nl) +
	    oa_estimate_tokens(args, al);
	if (s->w != NULL)
		return s->w->tool_call(s, id, name, nl, args, al);
	if (!s->cr->stream) {
		b = &s->calls;
		if (idx > 0)
			buf_adds(b, ",");
		buf_printf(b, "{\"id\":\"%s\",\"type\":\"function\","
		    "\"function\":{\"name\":", id);
		buf_json_str(b, name, nl);
		buf_adds(b, ",\"arguments\":");
		buf_json_str(b, args, al);
		buf_adds(b, "}}");
		if (b->failed)
			return s_finish(s, CHAT_FINISH_LENGTH, NULL), -1;
		return 0;
	}
	chunk_head(s);
	buf_printf(b, "{\"index\":0,\"delta\":{\"tool_calls\":[{"
	    "\"index\":%zu,\"id\":\"%s\",\"type\":\"function\","
	    "\"function\":{\"name\":", idx, id);
	buf_json_str(b, name, nl);
	buf_adds(b, ",\"arguments\":\"\"}}]},\"logprobs\":null,"
	    "\"finish_reason\":null}]");
	if (s->cr->include_usage)
		buf_adds(b, ",\"usage\":null");
	buf_adds(b, "}");
	if (chunk_send(s) < 0)
		return -1;
	chunk_head(s);
	buf_printf(b, "{\"index\":0,\"delta\":{\"tool_calls\":[{"
	    "\"index\":%zu,\"function\":{\"arguments\":", idx);
	buf_json_str(b, args, al);
	buf_adds(b, "}}]},\"logprobs\":null,\"finish_reason\":null}]");
	if (s->cr->include_usage)
		buf_adds(b, ",\"usage\":null");
	buf_adds(b, "}");
	return chunk_send(s);
}

static int
s_meta(void *ctx, const char *conversation_id, const char *message_id)
{
	struct oa_sink *s = ctx;

	if (conversation_id)
		s->conversation_id = arena_strdup(s->r->arena, conversation_id);
	if (message_id)
		s->message_id = arena_strdup(s->r->arena, message_id);
	return 0;
}

static int
s_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct oa_sink *s = ctx;

	s->err_status = status;
	snprintf(s->err_type, sizeof(s->err_type), "%s", type ? type :
	    "upstream_error");
	snprintf(s->err_code, sizeof(s->err_code), "%s", code ? code : "");
	oa_sink_set_msg(s, "%s", msg ? msg : "Upstream error.");
	if (!s->started || s->finished)
		return 0;
	/* Mid-stream: the last event is the error, then [DONE]. */
	s->finished = 1;
	s->failed = 1;
	if (s->w != NULL) {
		if (s->cr->stream && s->w->fail(s) < 0)
			s->aborted = 1;
		return -1;
	}
	if (s->cr->stream && resp_sse_error(s->r, s->err_type, s->err_code[0] ?
	    s->err_code : NULL, s->err_msg) != APP_OK)
		s->aborted = 1;
	return -1;
}

int
oa_sink_end(struct oa_sink *s, enum chat_finish f)
{
	s_finish(s, f, NULL);
	return -1;
}

static int
s_retry_after(void *ctx, long seconds)
{
	struct oa_sink *s = ctx;

	s->retry_after = seconds;
	return 0;
}

void
oa_sink_bind(struct oa_sink *s, struct chat_sink *k)
{
	k->retry_after = s_retry_after;
	k->ctx = s;
	k->role = s_role;
	k->text = s_text;
	k->reasoning = s_reasoning;
	k->meta = s_meta;
	k->finish = s_finish;
	k->error = s_error;
	k->flush = s_flush;
}

/* The kept error as the whole answer; a 429 says when to come back. */
static enum app_err
error_answer(struct oa_sink *s)
{
	const char *code = s->err_code[0] ? s->err_code : NULL;
	char hdr[48];

	if (s->err_status == 429 && s->retry_after >= 0) {
		snprintf(hdr, sizeof(hdr), "Retry-After: %ld\r\n",
		    s->retry_after);
		return resp_error_hdr(s->r, 429, hdr, s->err_type, code, NULL,
		    "%s", s->err_msg);
	}
	return resp_error(s->r, s->err_status, s->err_type, code, NULL, "%s",
	    s->err_msg);
}

enum app_err
oa_sink_complete(struct oa_sink *s)
{
	struct buf *b;

	if (s->aborted)
		return APP_HUP;
	if (!s->started) {
		if (s->err_status)
			return error_answer(s);
		return resp_error(s->r, 502, "upstream_error",
		    "upstream_incomplete", NULL,
		    "The upstream ended without an answer.");
	}
	if (s->cr->stream) {
		if (oa_sink_flush(s) != 0)
			return APP_HUP;
		if (!s->finished && s->w != NULL) {
			/* finished: s_error only keeps the error */
			s->finished = s->failed = 1;
			s_error(s, 502, "upstream_error", "upstream_incomplete",
			    "The upstream stream ended early.");
			return s->w->fail(s) < 0 ? APP_HUP : APP_OK;
		}
		if (!s->finished && resp_sse_error(s->r, "upstream_error",
		    "upstream_incomplete", "The upstream stream ended early.") !=
		    APP_OK)
			return APP_HUP;
		return APP_OK;
	}
	if (s->failed)
		return error_answer(s);
	if (!s->finished)
		return resp_error(s->r, 502, "upstream_error",
		    "upstream_incomplete", NULL,
		    "The upstream ended without an answer.");
	if (s->text.len == 0 && s->ncalls == 0 &&
	    (s->reasoning.len == 0 || s->fmt == OA_TEXT))
		return resp_error(s->r, 502, "upstream_error", "empty_answer",
		    NULL, "The upstream returned no content.");
	if (s->w != NULL)
		return s->w->answer(s);
	/* Written directly: the fixed shape needs no json-c tree. */
	b = &s->out;
	if (s->fmt == OA_TEXT) {
		object_head(s, "text_completion");
		buf_adds(b, "{\"text\":");
		buf_json_str(b, s->text.p ? s->text.p : "", s->text.len);
		buf_adds(b, ",\"index\":0");
	} else {
		object_head(s, "chat.completion");
		buf_adds(b, "{\"index\":0,\"message\":{\"role\":"
		    "\"assistant\",\"content\":");
		if (s->ncalls > 0 && s->text.len == 0)
			buf_adds(b, "null");	/* as OpenAI, with tool_calls */
		else
			buf_json_str(b, s->text.p ? s->text.p : "",
			    s->text.len);
		if (s->ncalls > 0) {
			buf_adds(b, ",\"tool_calls\":[");
			buf_add(b, s->calls.p, s->calls.len);
			buf_adds(b, "]");
		}
		if (s->reasoning.len) {
			buf_adds(b, ",\"reasoning_content\":");
			buf_json_str(b, s->reasoning.p, s->reasoning.len);
		}
		buf_adds(b, "}");
	}
	buf_printf(b, ",\"logprobs\":null,\"finish_reason\":\"%s\"}],"
	    "\"usage\":{\"prompt_tokens\":%ld,\"completion_tokens\":%ld,"
	    "\"total_tokens\":%ld}}", finish_names[s->finish],
	    s->usage.prompt_tokens, s->usage.completion_tokens,
	    s->usage.prompt_tokens + s->usage.completion_tokens);
	if (b->failed)
		return APP_ENOMEM;
	return resp_json_text(s->r, 200, b->p, b->len);
}
