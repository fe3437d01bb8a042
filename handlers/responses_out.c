/*
 * The answer of /v1/responses (see responses.h): one response object, or
 * its typed events in OpenAI's order, each with a sequence_number:
 * response.created, response.in_progress, then per output item
 * output_item.added, its parts and deltas and their .done events,
 * output_item.done, and response.completed (or .incomplete, .failed).
 * Reasoning is a reasoning item with one summary part; text a message
 * item with one output_text part; each tool call a function_call item.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/resp.h"
#include "handlers/responses.h"

#define RSP_MAX_ANSWER	(16u << 20)

enum { IT_NONE = -1, IT_REASONING, IT_MESSAGE };

void
rsp_out_init(struct rsp_out *o, const struct rsp_opts *opts)
{
	memset(o, 0, sizeof(*o));
	o->opts = opts;
	o->item = IT_NONE;
	o->created = (long)time(NULL);
	buf_init(&o->output, RSP_MAX_ANSWER);
	buf_init(&o->calls, RSP_MAX_ANSWER);
	buf_init(&o->ev, 0);
	buf_init(&o->obj, 0);
}

void
rsp_out_free(struct rsp_out *o)
{
	buf_free(&o->output);
	buf_free(&o->calls);
	buf_free(&o->ev);
	buf_free(&o->obj);
}

static const char *
rid(const struct rsp_out *o)
{
	return o->opts->id + 5;		/* after "resp_" */
}

/*
 * The response object into o->obj.  err: the failure's message, or
 * NULL.
 */
static void
object(struct oa_sink *s, const char *status, const char *err, int usage)
{
	struct rsp_out *o = s->wctx;
	struct buf *b = &o->obj;
	const char *echo;
	size_t n;
	long rt;

	buf_reset(b);
	buf_printf(b, "{\"id\":\"%s\",\"object\":\"response\",\"created_at\":"
	    "%ld,\"status\":\"%s\",\"error\":", o->opts->id, o->created,
	    status);
	if (err != NULL) {
		buf_adds(b, "{\"code\":\"server_error\",\"message\":");
		buf_json_str(b, err, strlen(err));
		buf_adds(b, "}");
	} else
		buf_adds(b, "null");
	buf_adds(b, ",\"incomplete_details\":");
	if (strcmp(status, "incomplete") == 0)
		buf_printf(b, "{\"reason\":\"%s\"}", s->finish ==
		    CHAT_FINISH_CONTENT_FILTER ? "content_filter" :
		    "max_output_tokens");
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"model\":");
	buf_json_str(b, s->model, strlen(s->model));
	buf_adds(b, ",\"output\":[");
	if (o->output.len > 0)
		buf_add(b, o->output.p, o->output.len);
	buf_adds(b, "],\"usage\":");
	if (usage) {
		rt = oa_estimate_tokens(s->reasoning.p, s->reasoning.len);
		buf_printf(b, "{\"input_tokens\":%ld,\"input_tokens_details\":"
		    "{\"cached_tokens\":0},\"output_tokens\":%ld,"
		    "\"output_tokens_details\":{\"reasoning_tokens\":%ld},"
		    "\"total_tokens\":%ld}", s->usage.prompt_tokens,
		    s->usage.completion_tokens, rt, s->usage.prompt_tokens +
		    s->usage.completion_tokens);
	} else
		buf_adds(b, "null");
	/* the request's fields, as OpenAI repeats them */
	echo = json_object_to_json_string_length(o->opts->echo,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (echo != NULL && n > 2) {
		buf_adds(b, ",");
		buf_add(b, echo + 1, n - 2);
	}
	buf_adds(b, "}");
}

/* Starts an event: its type and sequence number. */
static void
ev_begin(struct rsp_out *o, const char *type)
{
	buf_reset(&o->ev);
	buf_printf(&o->ev, "{\"type\":\"%s\",\"sequence_number\":%ld", type,
	    o->seq++);
}

/* Ends the event begun and holds it for the end of the upstream read. */
static int
ev_send(struct oa_sink *s, const char *type)
{
	struct rsp_out *o = s->wctx;

	buf_adds(&o->ev, "}");
	if (o->ev.failed)
		return -1;
	if (resp_sse_event_put(s->r, type, o->ev.p, o->ev.len) != APP_OK) {
		s->aborted = 1;
		return -1;
	}
	s->pending = 1;
	return 0;
}

/* An event whose only field is the response object. */
static int
ev_response(struct oa_sink *s, const char *type)
{
	struct rsp_out *o = s->wctx;

	ev_begin(o, type);
	buf_adds(&o->ev, ",\"response\":");
	buf_add(&o->ev, o->obj.p, o->obj.len);
	return ev_send(s, type);
}

/* The item ids: kind, the response's random part, the output index. */
static void
item_id(struct rsp_out *o, const char *kind)
{
	snprintf(o->item_id, sizeof(o->item_id), "%s_%s_%d", kind, rid(o),
	    o->nitems);
}

/* ,"item_id":...,"output_index":n and, for content, the part's index. */
static void
ev_where(struct rsp_out *o, const char *index_key)
{
	buf_printf(&o->ev, ",\"item_id\":\"%s\",\"output_index\":%d",
	    o->item_id, o->nitems);
	if (index_key != NULL)
		buf_printf(&o->ev, ",\"%s\":0", index_key);
}

static int
item_open(struct oa_sink *s, int kind)
{
	struct rsp_out *o = s->wctx;

	o->item = kind;
	o->from = kind == IT_MESSAGE ? s->text.len : s->reasoning.len;
	item_id(o, kind == IT_MESSAGE ? "msg" : "rs");
	if (!s->cr->stream)
		return 0;
	ev_begin(o, "response.output_item.added");
	buf_printf(&o->ev, ",\"output_index\":%d,\"item\":", o->nitems);
	if (kind == IT_MESSAGE)
		buf_printf(&o->ev, "{\"id\":\"%s\",\"type\":\"message\","
		    "\"status\":\"in_progress\",\"role\":\"assistant\","
		    "\"content\":[]}", o->item_id);
	else
		buf_printf(&o->ev, "{\"id\":\"%s\",\"type\":\"reasoning\","
		    "\"summary\":[]}", o->item_id);
	if (ev_send(s, "response.output_item.added") < 0)
		return -1;
	if (kind == IT_MESSAGE) {
		ev_begin(o, "response.content_part.added");
		ev_where(o, "content_index");
		buf_adds(&o->ev, ",\"part\":{\"type\":\"output_text\","
		    "\"text\":\"\",\"annotations\":[]}");
		return ev_send(s, "response.content_part.added");
	}
	ev_begin(o, "response.reasoning_summary_part.added");
	ev_where(o, "summary_index");
	buf_adds(&o->ev, ",\"part\":{\"type\":\"summary_text\",\"text\":\"\"}");
	return ev_send(s, "response.reasoning_summary_part.added");
}

/* The finished item's JSON into b. */
static void
item_json(struct rsp_out *o, struct buf *b, const char *t, size_t n)
{
	if (o->item == IT_MESSAGE) {
		buf_printf(b, "{\"id\":\"%s\",\"type\":\"message\",\"status\":"
		    "\"completed\",\"role\":\"assistant\",\"content\":[{"
		    "\"type\":\"output_text\",\"text\":", o->item_id);
		buf_json_str(b, t, n);
		buf_adds(b, ",\"annotations\":[],\"logprobs\":[]}]}");
	} else {
		buf_printf(b, "{\"id\":\"%s\",\"type\":\"reasoning\","
		    "\"summary\":[{\"type\":\"summary_text\",\"text\":",
		    o->item_id);
		buf_json_str(b, t, n);
		buf_adds(b, "}]}");
	}
}

static int
item_close(struct oa_sink *s)
{
	struct rsp_out *o = s->wctx;
	struct buf *all;
	const char *t;
	size_t n;
	int msg = o->item == IT_MESSAGE;

	if (o->item == IT_NONE)
		return 0;
	all = msg ? &s->text : &s->reasoning;
	t = all->p ? all->p + o->from : "";
	n = all->len - o->from;
	if (o->output.len > 0)
		buf_adds(&o->output, ",");
	item_json(o, &o->output, t, n);
	if (s->cr->stream) {
		ev_begin(o, msg ? "response.output_text.done" :
		    "response.reasoning_summary_text.done");
		ev_where(o, msg ? "content_index" : "summary_index");
		buf_adds(&o->ev, ",\"text\":");
		buf_json_str(&o->ev, t, n);
		if (msg)
			buf_adds(&o->ev, ",\"logprobs\":[]");
		if (ev_send(s, msg ? "response.output_text.done" :
		    "response.reasoning_summary_text.done") < 0)
			return -1;
		ev_begin(o, msg ? "response.content_part.done" :
		    "response.reasoning_summary_part.done");
		ev_where(o, msg ? "content_index" : "summary_index");
		buf_adds(&o->ev, msg ? ",\"part\":{\"type\":\"output_text\","
		    "\"text\":" : ",\"part\":{\"type\":\"summary_text\","
		    "\"text\":");
		buf_json_str(&o->ev, t, n);
		buf_adds(&o->ev, msg ? ",\"annotations\":[]}" : "}");
		if (ev_send(s, msg ? "response.content_part.done" :
		    "response.reasoning_summary_part.done") < 0)
			return -1;
		ev_begin(o, "response.output_item.done");
		buf_printf(&o->ev, ",\"output_index\":%d,\"item\":", o->nitems);
		item_json(o, &o->ev, t, n);
		if (ev_send(s, "response.output_item.done") < 0)
			return -1;
	}
	o->item = IT_NONE;
	o->nitems++;
	return o->output.failed ? -1 : 0;
}

static int
w_open(struct oa_sink *s)
{
	object(s, "in_progress", NULL, 0);
	if (ev_response(s, "response.created") < 0)
		return -1;
	return ev_response(s, "response.in_progress");
}

static int
w_delta(struct oa_sink *s, int reasoning, const char *t, size_t n)
{
	struct rsp_out *o = s->wctx;
	int kind = reasoning ? IT_REASONING : IT_MESSAGE;

	if (o->item != kind && (item_close(s) < 0 || item_open(s, kind) < 0))
		return -1;
	if (buf_add(reasoning ? &s->reasoning : &s->text, t, n) < 0)
		return oa_sink_end(s, CHAT_FINISH_LENGTH);
	if (!s->cr->stream)
		return 0;
	ev_begin(o, reasoning ? "response.reasoning_summary_text.delta" :
	    "response.output_text.delta");
	ev_where(o, reasoning ? "summary_index" : "content_index");
	buf_adds(&o->ev, ",\"delta\":");
	buf_json_str(&o->ev, t, n);
	if (!reasoning)
		buf_adds(&o->ev, ",\"logprobs\":[]");
	return ev_send(s, reasoning ? "response.reasoning_summary_text.delta" :
	    "response.output_text.delta");
}

static void
call_json(struct rsp_out *o, struct buf *b, const char *status,
    const char *cid, const char *name, size_t nl, const char *args, size_t al)
{
	buf_printf(b, "{\"id\":\"%s\",\"type\":\"function_call\",\"status\":"
	    "\"%s\",\"call_id\":\"%s\",\"name\":", o->item_id, status, cid);
	buf_json_str(b, name, nl);
	buf_adds(b, ",\"arguments\":");
	buf_json_str(b, args, al);
	buf_adds(b, "}");
}

static int
w_tool_call(struct oa_sink *s, const char *cid, const char *name, size_t nl,
    const char *args, size_t al)
{
	struct rsp_out *o = s->wctx;

	if (item_close(s) < 0)
		return -1;
	item_id(o, "fc");
	if (o->output.len > 0)
		buf_adds(&o->output, ",");
	call_json(o, &o->output, "completed", cid, name, nl, args, al);
	/* the chat form, for the stored history */
	if (o->calls.len > 0)
		buf_adds(&o->calls, ",");
	buf_printf(&o->calls, "{\"id\":\"%s\",\"type\":\"function\","
	    "\"function\":{\"name\":", cid);
	buf_json_str(&o->calls, name, nl);
	buf_adds(&o->calls, ",\"arguments\":");
	buf_json_str(&o->calls, args, al);
	buf_adds(&o->calls, "}}");
	if (o->output.failed || o->calls.failed)
		return oa_sink_end(s, CHAT_FINISH_LENGTH);
	if (s->cr->stream) {
		ev_begin(o, "response.output_item.added");
		buf_printf(&o->ev, ",\"output_index\":%d,\"item\":", o->nitems);
		call_json(o, &o->ev, "in_progress", cid, name, nl, "", 0);
		if (ev_send(s, "response.output_item.added") < 0)
			return -1;
		ev_begin(o, "response.function_call_arguments.delta");
		ev_where(o, NULL);
		buf_adds(&o->ev, ",\"delta\":");
		buf_json_str(&o->ev, args, al);
		if (ev_send(s, "response.function_call_arguments.delta") < 0)
			return -1;
		ev_begin(o, "response.function_call_arguments.done");
		ev_where(o, NULL);
		buf_adds(&o->ev, ",\"name\":");
		buf_json_str(&o->ev, name, nl);
		buf_adds(&o->ev, ",\"arguments\":");
		buf_json_str(&o->ev, args, al);
		if (ev_send(s, "response.function_call_arguments.done") < 0)
			return -1;
		ev_begin(o, "response.output_item.done");
		buf_printf(&o->ev, ",\"output_index\":%d,\"item\":", o->nitems);
		call_json(o, &o->ev, "completed", cid, name, nl, args, al);
		if (ev_send(s, "response.output_item.done") < 0)
			return -1;
	}
	o->nitems++;
	return 0;
}

/* {"response":..., "history":[..., this answer]} for the next turn. */
static void
keep(struct oa_sink *s)
{
	struct rsp_out *o = s->wctx;
	struct buf rec;
	const char *h;
	size_t n;

	if (!o->opts->store || o->keep == NULL)
		return;
	buf_init(&rec, 0);
	buf_adds(&rec, "{\"response\":");
	buf_add(&rec, o->obj.p, o->obj.len);
	buf_adds(&rec, ",\"history\":");
	h = json_object_to_json_string_length(o->opts->history,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (h == NULL || n < 2)
		h = "[]", n = 2;
	buf_add(&rec, h, n - 1);
	buf_adds(&rec, n > 2 ? ",{\"role\":\"assistant\",\"content\":" :
	    "{\"role\":\"assistant\",\"content\":");
	if (s->text.len == 0 && o->calls.len > 0)
		buf_adds(&rec, "null");
	else
		buf_json_str(&rec, s->text.p ? s->text.p : "", s->text.len);
	if (o->calls.len > 0) {
		buf_adds(&rec, ",\"tool_calls\":[");
		buf_add(&rec, o->calls.p, o->calls.len);
		buf_adds(&rec, "]");
	}
	buf_adds(&rec, "}]}");
	if (!rec.failed)
		o->keep(o->keep_ctx, rec.p, rec.len);
	buf_free(&rec);
}

static int
w_finish(struct oa_sink *s)
{
	const char *status = s->finish == CHAT_FINISH_LENGTH ||
	    s->finish == CHAT_FINISH_CONTENT_FILTER ? "incomplete" :
	    "completed";

	if (item_close(s) < 0)
		return -1;
	object(s, status, NULL, 1);
	keep(s);
	if (!s->cr->stream)
		return 0;
	if (ev_response(s, *status == 'c' ? "response.completed" :
	    "response.incomplete") < 0)
		return -1;
	return oa_sink_flush(s);
}

static int
w_fail(struct oa_sink *s)
{
	struct rsp_out *o = s->wctx;

	o->item = IT_NONE;	/* the open item stays unfinished */
	object(s, "failed", s->err_msg, 0);
	if (ev_response(s, "response.failed") < 0)
		return -1;
	if (s->r->status < 400)
		s->r->status = 599;	/* logged and counted as failed */
	return oa_sink_flush(s);
}

static enum app_err
w_answer(struct oa_sink *s)
{
	struct rsp_out *o = s->wctx;

	if (o->obj.failed)
		return APP_ENOMEM;
	return resp_json_text(s->r, 200, o->obj.p, o->obj.len);
}

const struct oa_writer rsp_writer = {
	.open = w_open,
	.delta = w_delta,
	.tool_call = w_tool_call,
	.finish = w_finish,
	.fail = w_fail,
	.answer = w_answer,
};
