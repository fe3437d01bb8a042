/*
 * The two dialect writers behind the OpenAI sink, through a transport
 * that keeps what would go to the client: Anthropic's events and
 * message object (stop sequences held across pieces and characters,
 * block order, stop reasons), the Responses API's typed events (one
 * sequence, items opened and closed in order) and the record kept for
 * previous_response_id.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fcgi/conf.h"
#include "fcgi/io.h"
#include "fcgi/req.h"
#include "handlers/anthropic.h"
#include "handlers/responses.h"
#include "unit.h"

static struct buf wire, kept;

static int
w_write(struct req *r, const char *s, size_t n)
{
	(void)r;
	return buf_add(&wire, s, n);
}

static int
w_flush(struct req *r)
{
	(void)r;
	return 0;
}

static const char *
w_param(struct req *r, const char *k)
{
	(void)r, (void)k;
	return NULL;
}

static long
w_read(struct req *r, char *s, size_t n)
{
	(void)r, (void)s, (void)n;
	return 0;
}

static int
w_gone(struct req *r, int ms)
{
	(void)r, (void)ms;
	return 0;
}

static const struct req_io wio = { w_write, w_flush, w_param, w_read, w_gone };

/*
 * One answer: "R:" pieces are reasoning, "C:name:args" a tool call, the
 * rest text; each piece returns 0 unless stop says which one ends it.
 */
struct run {
	struct arena	 a;
	struct req	 r;
	struct chat_request cr;
	struct oa_sink	 oa;
	struct chat_sink k;
};

static void
start(struct run *u, int stream, const struct oa_writer *w, void *ctx)
{
	static struct config cfg;
	static char err[256];

	memset(u, 0, sizeof(*u));
	if (cfg.sse_keepalive == 0)
		ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), 0);
	buf_free(&wire);
	buf_init(&wire, 0);
	arena_init(&u->a, 0);
	u->r.io = &wio;
	u->r.arena = &u->a;
	u->r.cfg = &cfg;
	u->cr.stream = stream;
	u->cr.max_tokens = -1;
	oa_sink_init(&u->oa, &u->r, &u->cr, OA_CHAT, "m");
	u->oa.w = w;
	u->oa.wctx = ctx;
	oa_sink_bind(&u->oa, &u->k);
	ck_assert_int_eq(u->k.role(u->k.ctx, "assistant"), 0);
}

/* The pieces; the index of the one refused (-1: none). */
static int
feed(struct run *u, const char *const *p, size_t n)
{
	const char *c;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (strncmp(p[i], "R:", 2) == 0)
			rc = u->k.reasoning(u->k.ctx, p[i] + 2,
			    strlen(p[i]) - 2);
		else if (strncmp(p[i], "C:", 2) == 0) {
			c = strchr(p[i] + 2, ':');
			rc = oa_sink_tool_call(&u->oa, p[i] + 2,
			    (size_t)(c - p[i] - 2), c + 1, strlen(c + 1));
		} else
			rc = u->k.text(u->k.ctx, p[i], strlen(p[i]));
		if (rc != 0)
			return (int)i;
	}
	return -1;
}

static const char *
finish(struct run *u, enum chat_finish f)
{
	(void)u->k.finish(u->k.ctx, f, NULL);
	ck_assert_int_eq(oa_sink_complete(&u->oa), APP_OK);
	oa_sink_free(&u->oa);
	arena_free(&u->a);
	buf_add(&wire, "", 1);
	return wire.p;
}

/* The events of the wire: names and data, in order. */
static size_t
events(const char *w, char **names, struct json_object **ev, size_t max)
{
	struct json_tokener *tok = json_tokener_new();
	const char *p = w, *e, *d;
	size_t n = 0;

	while ((p = strstr(p, "event: ")) != NULL && n < max) {
		p += 7;
		d = strstr(p, "\ndata: ");
		e = strstr(p, "\n\n");
		ck_assert(d != NULL && e != NULL && d < e);
		names[n] = strndup(p, (size_t)(d - p));
		json_tokener_reset(tok);
		ev[n] = json_tokener_parse_ex(tok, d + 7, (int)(e - d - 7));
		ck_assert_ptr_nonnull(ev[n]);
		n++;
		p = e;
	}
	json_tokener_free(tok);
	return n;
}

static const char *
jstr(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v = o;

	if (a && !json_object_object_get_ex(v, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_get_string(v);
}

START_TEST(anthropic_stop_held)
{
	/* "STOP" arrives across three pieces after a two-byte character */
	static const char *const p[] = { "Hello wor", "ld é S", "TO",
	    "P more" };
	struct ant_opts op;
	struct ant_out o;
	struct run u;
	char *names[64];
	struct json_object *ev[64];
	struct buf text;
	size_t n, i;

	memset(&op, 0, sizeof(op));
	strcpy(op.stops[0], "STOP");
	strcpy(op.stops[1], "never");
	op.nstops = 2;
	op.stop_max = 5;
	ant_out_init(&o, &op);
	start(&u, 1, &ant_writer, &o);
	ck_assert_int_eq(feed(&u, p, 4), 3);	/* the hit stops upstream */
	n = events(finish(&u, CHAT_FINISH_STOP), names, ev, 64);
	ant_out_free(&o);
	buf_init(&text, 0);
	for (i = 0; i < n; i++)
		if (strcmp(names[i], "content_block_delta") == 0)
			buf_adds(&text, jstr(ev[i], "delta", "text"));
	buf_add(&text, "", 1);
	ck_assert_str_eq(text.p, "Hello world é ");
	ck_assert_str_eq(names[0], "message_start");
	ck_assert_str_eq(names[1], "ping");
	ck_assert_str_eq(names[2], "content_block_start");
	ck_assert_str_eq(names[n - 3], "content_block_stop");
	ck_assert_str_eq(names[n - 2], "message_delta");
	ck_assert_str_eq(jstr(ev[n - 2], "delta", "stop_reason"),
	    "stop_sequence");
	ck_assert_str_eq(jstr(ev[n - 2], "delta", "stop_sequence"), "STOP");
	ck_assert_str_eq(names[n - 1], "message_stop");
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(jstr(ev[i], "type", NULL), names[i]);
		free(names[i]);
		json_object_put(ev[i]);
	}
	buf_free(&text);
}
END_TEST

START_TEST(anthropic_blocks)
{
	static const char *const p[] = { "R:think", "R:ing", "Calling.",
	    "C:get_weather:{\"city\":\"Oslo\"}" };
	struct ant_opts op;
	struct ant_out o;
	struct run u;
	char *names[64];
	struct json_object *ev[64], *m, *c;
	const char *w;
	size_t n, i, blocks = 0;

	/* streamed: thinking (with its signature), text, tool_use */
	memset(&op, 0, sizeof(op));
	ant_out_init(&o, &op);
	start(&u, 1, &ant_writer, &o);
	ck_assert_int_eq(feed(&u, p, 4), -1);
	n = events(finish(&u, CHAT_FINISH_STOP), names, ev, 64);
	ant_out_free(&o);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i], "content_block_start") == 0) {
			ck_assert_int_eq(json_object_get_int(
			    json_object_object_get(ev[i], "index")), blocks);
			ck_assert_str_eq(jstr(ev[i], "content_block", "type"),
			    blocks == 0 ? "thinking" : blocks == 1 ? "text" :
			    "tool_use");
			blocks++;
		}
		if (strcmp(names[i], "content_block_delta") == 0 &&
		    strcmp(jstr(ev[i], "delta", "type"),
		    "input_json_delta") == 0)
			ck_assert_str_eq(jstr(ev[i], "delta", "partial_json"),
			    "{\"city\":\"Oslo\"}");
	}
	ck_assert_uint_eq(blocks, 3);
	ck_assert_str_eq(jstr(ev[n - 2], "delta", "stop_reason"), "tool_use");
	for (i = 0; i < n; i++) {
		free(names[i]);
		json_object_put(ev[i]);
	}
	/* non-stream: the same blocks in one message */
	ant_out_init(&o, &op);
	start(&u, 0, &ant_writer, &o);
	ck_assert_int_eq(feed(&u, p, 4), -1);
	w = finish(&u, CHAT_FINISH_STOP);
	ant_out_free(&o);
	w = strstr(w, "\r\n\r\n");
	ck_assert_ptr_nonnull(w);
	m = json_tokener_parse(w + 4);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(jstr(m, "type", NULL), "message");
	ck_assert_str_eq(jstr(m, "stop_reason", NULL), "tool_use");
	c = json_object_object_get(m, "content");
	ck_assert_uint_eq(json_object_array_length(c), 3);
	ck_assert_str_eq(jstr(json_object_array_get_idx(c, 0), "thinking",
	    NULL), "thinking");
	ck_assert_str_eq(jstr(json_object_array_get_idx(c, 1), "text", NULL),
	    "Calling.");
	ck_assert_str_eq(jstr(json_object_array_get_idx(c, 2), "input",
	    "city"), "Oslo");
	json_object_put(m);
}
END_TEST

static void
keep(void *ctx, const char *rec, size_t len)
{
	(void)ctx;
	buf_reset(&kept);
	buf_add(&kept, rec, len);
	buf_add(&kept, "", 1);
}

START_TEST(responses_stream)
{
	static const char *const p[] = { "R:why", "Hi", " there",
	    "C:f:{\"a\":1}" };
	static const char *const want[] = { "response.created",
	    "response.in_progress", "response.output_item.added",
	    "response.reasoning_summary_part.added",
	    "response.reasoning_summary_text.delta",
	    "response.reasoning_summary_text.done",
	    "response.reasoning_summary_part.done",
	    "response.output_item.done", "response.output_item.added",
	    "response.content_part.added", "response.output_text.delta",
	    "response.output_text.delta", "response.output_text.done",
	    "response.content_part.done", "response.output_item.done",
	    "response.output_item.added",
	    "response.function_call_arguments.delta",
	    "response.function_call_arguments.done",
	    "response.output_item.done", "response.completed" };
	struct json_object *ev[64], *rec, *h, *last;
	struct rsp_opts op;
	struct rsp_out o;
	struct run u;
	char *names[64];
	size_t n, i;

	memset(&op, 0, sizeof(op));
	strcpy(op.id, "resp_ABC");
	op.store = 1;
	op.echo = json_tokener_parse("{\"store\":true}");
	op.history = json_tokener_parse("[{\"role\":\"user\",\"content\":"
	    "\"q\"}]");
	rsp_out_init(&o, &op);
	o.keep = keep;
	buf_init(&kept, 0);
	start(&u, 1, &rsp_writer, &o);
	ck_assert_int_eq(feed(&u, p, 4), -1);
	n = events(finish(&u, CHAT_FINISH_STOP), names, ev, 64);
	rsp_out_free(&o);
	ck_assert_uint_eq(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(names[i], want[i]);
		ck_assert_str_eq(jstr(ev[i], "type", NULL), want[i]);
		ck_assert_int_eq(json_object_get_int(json_object_object_get(
		    ev[i], "sequence_number")), (int)i);
	}
	ck_assert_str_eq(jstr(ev[12], "text", NULL), "Hi there");
	ck_assert_str_eq(jstr(ev[12], "item_id", NULL), "msg_ABC_1");
	ck_assert_str_eq(jstr(ev[16], "item_id", NULL), "fc_ABC_2");
	last = json_object_object_get(ev[n - 1], "response");
	ck_assert_str_eq(jstr(last, "status", NULL), "completed");
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(
	    last, "output")), 3);
	ck_assert(json_object_get_boolean(json_object_object_get(last,
	    "store")));
	/* the kept record: the object, and the history with this answer */
	rec = json_tokener_parse(kept.p);
	ck_assert_ptr_nonnull(rec);
	ck_assert_str_eq(jstr(rec, "response", "id"), "resp_ABC");
	h = json_object_object_get(rec, "history");
	ck_assert_uint_eq(json_object_array_length(h), 2);
	ck_assert_str_eq(jstr(json_object_array_get_idx(h, 1), "content",
	    NULL), "Hi there");
	ck_assert_ptr_nonnull(strstr(json_object_to_json_string(
	    json_object_array_get_idx(h, 1)), "\"tool_calls\""));
	json_object_put(rec);
	for (i = 0; i < n; i++) {
		free(names[i]);
		json_object_put(ev[i]);
	}
	rsp_opts_free(&op);
	buf_free(&kept);
}
END_TEST

START_TEST(responses_incomplete)
{
	static const char *const p[] = { "cut" };
	struct json_object *o2;
	struct rsp_opts op;
	struct rsp_out o;
	struct run u;
	const char *w;

	/* non-stream, max tokens: status incomplete, nothing kept */
	memset(&op, 0, sizeof(op));
	strcpy(op.id, "resp_X");
	op.echo = json_object_new_object();
	op.history = json_object_new_array();
	rsp_out_init(&o, &op);
	o.keep = keep;
	buf_init(&kept, 0);
	start(&u, 0, &rsp_writer, &o);
	ck_assert_int_eq(feed(&u, p, 1), -1);
	w = finish(&u, CHAT_FINISH_LENGTH);
	rsp_out_free(&o);
	w = strstr(w, "\r\n\r\n");
	ck_assert_ptr_nonnull(w);
	o2 = json_tokener_parse(w + 4);
	ck_assert_str_eq(jstr(o2, "status", NULL), "incomplete");
	ck_assert_str_eq(jstr(o2, "incomplete_details", "reason"),
	    "max_output_tokens");
	ck_assert_uint_eq(kept.len, 0);		/* store was not asked */
	json_object_put(o2);
	rsp_opts_free(&op);
	buf_free(&kept);
}
END_TEST

START_TEST(error_types)
{
	static const struct { int status; const char *type; } t[] = {
		{ 400, "invalid_request_error" },
		{ 401, "authentication_error" },
		{ 403, "permission_error" }, { 404, "not_found_error" },
		{ 413, "request_too_large" }, { 429, "rate_limit_error" },
		{ 500, "api_error" }, { 502, "api_error" },
		{ 503, "overloaded_error" }, { 529, "overloaded_error" },
	};
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_str_eq(ant_error_type(t[i].status), t[i].type);
	buf_init(&b, 0);
	ant_error_body(&b, "not_found_error", "no \"such\" model");
	buf_add(&b, "", 1);
	ck_assert_str_eq(b.p, "{\"type\":\"error\",\"error\":{\"type\":"
	    "\"not_found_error\",\"message\":\"no \\\"such\\\" model\"}}");
	buf_free(&b);
}
END_TEST

static Suite *
dialect_out_suite(void)
{
	Suite *s = suite_create("dialect_out");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, anthropic_stop_held);
	tcase_add_test(tc, anthropic_blocks);
	tcase_add_test(tc, responses_stream);
	tcase_add_test(tc, responses_incomplete);
	tcase_add_test(tc, error_types);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(dialect_out_suite)
