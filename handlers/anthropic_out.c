/*
 * The answer of /v1/messages (see anthropic.h): one message object, or
 * its stream — message_start, ping, then each content block (thinking,
 * text, tool_use) as content_block_start, deltas and content_block_stop,
 * then message_delta with the stop reason and usage, and message_stop.
 * Every event carries its name twice, as Anthropic sends it: on the
 * "event:" line and as "type" in the data.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/resp.h"
#include "handlers/anthropic.h"

#define ANT_MAX_ANSWER	(16u << 20)

enum { BLK_NONE = -1, BLK_THINKING, BLK_TEXT, BLK_TOOL };

void
ant_out_init(struct ant_out *o, const struct ant_opts *opts)
{
	memset(o, 0, sizeof(*o));
	o->opts = opts;
	o->block = BLK_NONE;
	oa_make_id(o->id, sizeof(o->id), "msg_");
	buf_init(&o->hold, ANT_MAX_ANSWER);
	buf_init(&o->blocks, ANT_MAX_ANSWER);
	buf_init(&o->ev, 0);
}

void
ant_out_free(struct ant_out *o)
{
	buf_free(&o->hold);
	buf_free(&o->blocks);
	buf_free(&o->ev);
}

const char *
ant_error_type(int status)
{
	switch (status) {
	case 400:
	case 413:
	case 422:
		return status == 413 ? "request_too_large" :
		    "invalid_request_error";
	case 401:
		return "authentication_error";
	case 402:
		return "billing_error";
	case 403:
		return "permission_error";
	case 404:
		return "not_found_error";
	case 429:
		return "rate_limit_error";
	case 503:
	case 529:
		return "overloaded_error";
	case 504:
		return "timeout_error";
	default:
		return "api_error";
	}
}

void
ant_error_body(struct buf *b, const char *type, const char *msg)
{
	buf_printf(b, "{\"type\":\"error\",\"error\":{\"type\":\"%s\","
	    "\"message\":", type);
	buf_json_str(b, msg, strlen(msg));
	buf_adds(b, "}}");
}

static const char *
stop_reason(const struct oa_sink *s, const struct ant_out *o)
{
	if (o->stop_hit != NULL)
		return "stop_sequence";
	switch (s->finish) {
	case CHAT_FINISH_LENGTH:
		return "max_tokens";
	case CHAT_FINISH_TOOL_CALLS:
		return "tool_use";
	case CHAT_FINISH_CONTENT_FILTER:
		return "refusal";
	default:
		return "end_turn";
	}
}

/* One event, held for the end of the upstream read. */
static int
event(struct oa_sink *s, const char *name)
{
	struct ant_out *o = s->wctx;

	if (o->ev.failed)
		return -1;
	if (resp_sse_event_put(s->r, name, o->ev.p, o->ev.len) != APP_OK) {
		s->aborted = 1;
		return -1;
	}
	s->pending = 1;
	return 0;
}

static int
block_stop(struct oa_sink *s)
{
	struct ant_out *o = s->wctx;

	if (o->block == BLK_NONE)
		return 0;
	if (o->block == BLK_THINKING) {
		/* no signature to give: the upstream is not Anthropic */
		buf_reset(&o->ev);
		buf_printf(&o->ev, "{\"type\":\"content_block_delta\","
		    "\"index\":%d,\"delta\":{\"type\":\"signature_delta\","
		    "\"signature\":\"\"}}", o->index);
		if (event(s, "content_block_delta") < 0)
			return -1;
	}
	buf_reset(&o->ev);
	buf_printf(&o->ev, "{\"type\":\"content_block_stop\",\"index\":%d}",
	    o->index);
	o->block = BLK_NONE;
	return event(s, "content_block_stop");
}

/* Opens a thinking or text block unless one of that kind is open. */
static int
block_start(struct oa_sink *s, int kind)
{
	struct ant_out *o = s->wctx;

	if (o->block == kind)
		return 0;
	if (block_stop(s) < 0)
		return -1;
	if (o->nblocks >= ANT_MAX_BLOCKS)
		return -1;
	o->index = o->nblocks++;
	o->block = kind;
	buf_reset(&o->ev);
	buf_printf(&o->ev, "{\"type\":\"content_block_start\",\"index\":%d,"
	    "\"content_block\":%s}", o->index, kind == BLK_THINKING ?
	    "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}" :
	    "{\"type\":\"text\",\"text\":\"\"}");
	return event(s, "content_block_start");
}

static int
w_open(struct oa_sink *s)
{
	struct ant_out *o = s->wctx;

	buf_reset(&o->ev);
	buf_printf(&o->ev, "{\"type\":\"message_start\",\"message\":{"
	    "\"id\":\"%s\",\"type\":\"message\",\"role\":\"assistant\","
	    "\"model\":", o->id);
	buf_json_str(&o->ev, s->model, strlen(s->model));
	buf_printf(&o->ev, ",\"content\":[],\"stop_reason\":null,"
	    "\"stop_sequence\":null,\"usage\":{\"input_tokens\":%ld,"
	    "\"output_tokens\":1}}}", s->usage.prompt_tokens);
	if (event(s, "message_start") < 0)
		return -1;
	buf_reset(&o->ev);
	buf_adds(&o->ev, "{\"type\":\"ping\"}");
	return event(s, "ping");
}

/* Text as it may go out: to the stream, or kept for the answer. */
static int
put_text(struct oa_sink *s, int kind, const char *t, size_t n)
{
	struct ant_out *o = s->wctx;

	if (n == 0)
		return 0;
	if (!s->cr->stream) {
		if (buf_add(kind == BLK_THINKING ? &s->reasoning : &s->text,
		    t, n) < 0)
			return oa_sink_end(s, CHAT_FINISH_LENGTH);
		return 0;
	}
	if (block_start(s, kind) < 0)
		return -1;
	buf_reset(&o->ev);
	buf_printf(&o->ev, "{\"type\":\"content_block_delta\",\"index\":%d,"
	    "\"delta\":{\"type\":\"%s\",\"%s\":", o->index, kind ==
	    BLK_THINKING ? "thinking_delta" : "text_delta", kind ==
	    BLK_THINKING ? "thinking" : "text");
	buf_json_str(&o->ev, t, n);
	buf_adds(&o->ev, "}}");
	return event(s, "content_block_delta");
}

/*
 * With stop sequences the text's tail is held until it can no longer be
 * the start of one; a hit sends what precedes it and ends the answer.
 */
static int
w_delta(struct oa_sink *s, int reasoning, const char *t, size_t n)
{
	struct ant_out *o = s->wctx;
	const struct ant_opts *op = o->opts;
	const char *hit = NULL, *p;
	size_t i, at = 0, out, keep;

	if (reasoning)
		return put_text(s, BLK_THINKING, t, n);
	if (op == NULL || op->nstops == 0)
		return put_text(s, BLK_TEXT, t, n);
	if (buf_add(&o->hold, t, n) < 0)
		return oa_sink_end(s, CHAT_FINISH_LENGTH);
	for (i = 0; i < op->nstops; i++) {
		p = memmem(o->hold.p, o->hold.len, op->stops[i],
		    strlen(op->stops[i]));
		if (p != NULL && (hit == NULL ||
		    (size_t)(p - o->hold.p) < at)) {
			hit = op->stops[i];
			at = (size_t)(p - o->hold.p);
		}
	}
	if (hit != NULL) {
		o->stop_hit = hit;
		if (put_text(s, BLK_TEXT, o->hold.p, at) < 0)
			return -1;
		buf_reset(&o->hold);
		return oa_sink_end(s, CHAT_FINISH_STOP);
	}
	keep = op->stop_max > 0 ? op->stop_max - 1 : 0;
	if (o->hold.len <= keep)
		return 0;
	out = o->hold.len - keep;
	/* never split a character */
	while (out > 0 && ((unsigned char)o->hold.p[out] & 0xc0) == 0x80)
		out--;
	if (put_text(s, BLK_TEXT, o->hold.p, out) < 0)
		return -1;
	memmove(o->hold.p, o->hold.p + out, o->hold.len - out);
	o->hold.len -= out;
	return 0;
}

static int
w_tool_call(struct oa_sink *s, const char *cid, const char *name, size_t nl,
    const char *args, size_t al)
{
	struct ant_out *o = s->wctx;
	struct buf *b;
	char id[32];		/* toolu_ and 24 characters */

	(void)cid;
	/* text held for a stop sequence ends where the call begins */
	if (o->hold.len > 0) {
		if (put_text(s, BLK_TEXT, o->hold.p, o->hold.len) < 0)
			return -1;
		buf_reset(&o->hold);
	}
	oa_make_id(id, sizeof(id), "toolu_");
	if (!s->cr->stream) {
		b = &o->blocks;
		if (b->len > 0)
			buf_adds(b, ",");
		buf_printf(b, "{\"type\":\"tool_use\",\"id\":\"%s\","
		    "\"name\":", id);
		buf_json_str(b, name, nl);
		buf_adds(b, ",\"input\":");
		buf_add(b, args, al);
		buf_adds(b, "}");
		return b->failed ? oa_sink_end(s, CHAT_FINISH_LENGTH) : 0;
	}
	if (block_stop(s) < 0 || o->nblocks >= ANT_MAX_BLOCKS)
		return -1;
	o->index = o->nblocks++;
	o->block = BLK_TOOL;
	buf_reset(&o->ev);
	buf_printf(&o->ev, "{\"type\":\"content_block_start\",\"index\":%d,"
	    "\"content_block\":{\"type\":\"tool_use\",\"id\":\"%s\","
	    "\"name\":", o->index, id);
	buf_json_str(&o->ev, name, nl);
	buf_adds(&o->ev, ",\"input\":{}}}");
	if (event(s, "content_block_start") < 0)
		return -1;
	buf_reset(&o->ev);
	buf_printf(&o->ev, "{\"type\":\"content_block_delta\",\"index\":%d,"
	    "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":",
	    o->index);
	buf_json_str(&o->ev, args, al);
	buf_adds(&o->ev, "}}");
	if (event(s, "content_block_delta") < 0)
		return -1;
	return block_stop(s);
}

static int
w_finish(struct oa_sink *s)
{
	struct ant_out *o = s->wctx;

	/* what was held for a stop sequence that never came */
	if (o->hold.len > 0) {
		if (put_text(s, BLK_TEXT, o->hold.p, o->hold.len) < 0)
			return -1;
		buf_reset(&o->hold);
	}
	if (!s->cr->stream)
		return 0;
	if (block_stop(s) < 0)
		return -1;
	buf_reset(&o->ev);
	buf_printf(&o->ev, "{\"type\":\"message_delta\",\"delta\":{"
	    "\"stop_reason\":\"%s\",\"stop_sequence\":", stop_reason(s, o));
	if (o->stop_hit != NULL)
		buf_json_str(&o->ev, o->stop_hit, strlen(o->stop_hit));
	else
		buf_adds(&o->ev, "null");
	buf_printf(&o->ev, "},\"usage\":{\"output_tokens\":%ld}}",
	    s->usage.completion_tokens);
	if (event(s, "message_delta") < 0)
		return -1;
	buf_reset(&o->ev);
	buf_adds(&o->ev, "{\"type\":\"message_stop\"}");
	if (event(s, "message_stop") < 0)
		return -1;
	return oa_sink_flush(s);
}

static int
w_fail(struct oa_sink *s)
{
	struct ant_out *o = s->wctx;

	buf_reset(&o->ev);
	ant_error_body(&o->ev, ant_error_type(s->err_status), s->err_msg);
	if (event(s, "error") < 0)
		return -1;
	if (s->r->status < 400)
		s->r->status = 599;	/* logged and counted as failed */
	return oa_sink_flush(s);
}

static enum app_err
w_answer(struct oa_sink *s)
{
	struct ant_out *o = s->wctx;
	struct buf *b = &o->ev;
	int n = 0;

	buf_reset(b);
	buf_printf(b, "{\"id\":\"%s\",\"type\":\"message\",\"role\":"
	    "\"assistant\",\"model\":", o->id);
	buf_json_str(b, s->model, strlen(s->model));
	buf_adds(b, ",\"content\":[");
	if (s->reasoning.len > 0) {
		buf_adds(b, "{\"type\":\"thinking\",\"thinking\":");
		buf_json_str(b, s->reasoning.p, s->reasoning.len);
		buf_adds(b, ",\"signature\":\"\"}");
		n++;
	}
	if (s->text.len > 0) {
		buf_adds(b, n ? ",{\"type\":\"text\",\"text\":" :
		    "{\"type\":\"text\",\"text\":");
		buf_json_str(b, s->text.p, s->text.len);
		buf_adds(b, ",\"citations\":null}");
		n++;
	}
	if (o->blocks.len > 0) {
		if (n)
			buf_adds(b, ",");
		buf_add(b, o->blocks.p, o->blocks.len);
	}
	buf_printf(b, "],\"stop_reason\":\"%s\",\"stop_sequence\":",
	    stop_reason(s, o));
	if (o->stop_hit != NULL)
		buf_json_str(b, o->stop_hit, strlen(o->stop_hit));
	else
		buf_adds(b, "null");
	buf_printf(b, ",\"usage\":{\"input_tokens\":%ld,"
	    "\"output_tokens\":%ld}}",
	    s->usage.prompt_tokens, s->usage.completion_tokens);
	if (b->failed)
		return APP_ENOMEM;
	return resp_json_text(s->r, 200, b->p, b->len);
}

const struct oa_writer ant_writer = {
	.open = w_open,
	.delta = w_delta,
	.tool_call = w_tool_call,
	.finish = w_finish,
	.fail = w_fail,
	.answer = w_answer,
};
