/*
 * The tool filter in front of the OpenAI writer, through a transport
 * that keeps what would go to the client: the stream's tool_calls
 * chunks as OpenAI sends them (a first chunk with index, id, type, name
 * and empty arguments, then the arguments), finish_reason "tool_calls",
 * and the non-stream message with content null and tool_calls.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fcgi/conf.h"
#include "fcgi/io.h"
#include "fcgi/req.h"
#include "handlers/openai_sink.h"
#include "handlers/tools.h"
#include "unit.h"

static struct buf wire;

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

static const struct tools_fn fns[] = {
	{ "get_weather", NULL, NULL }, { "now", NULL, NULL },
};

/* An answer in pieces through the filter; the wire, NUL-terminated. */
static const char *
answer(int stream, const char *const *pieces, size_t np, size_t max_calls)
{
	static struct config cfg;
	static char err[256];
	struct arena a;
	struct req r;
	struct chat_request cr;
	struct tools_req tr;
	struct oa_sink oa;
	struct chat_sink down, k;
	struct tools_sink ts;
	size_t i;

	if (cfg.sse_keepalive == 0)
		ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), 0);
	buf_free(&wire);
	buf_init(&wire, 0);
	arena_init(&a, 0);
	memset(&r, 0, sizeof(r));
	r.io = &wio;
	r.arena = &a;
	r.cfg = &cfg;
	memset(&cr, 0, sizeof(cr));
	cr.stream = stream;
	cr.max_tokens = -1;
	memset(&tr, 0, sizeof(tr));
	tr.fns = (struct tools_fn *)fns;
	tr.nfns = 2;
	tr.parallel = max_calls != 1;
	oa_sink_init(&oa, &r, &cr, OA_CHAT, "m");
	oa_sink_bind(&oa, &down);
	tools_sink_init(&ts, &tr, &oa, &down);
	tools_sink_bind(&ts, &k);
	ck_assert_int_eq(k.role(k.ctx, "assistant"), 0);
	for (i = 0; i < np; i++) {
		ck_assert_int_eq(k.text(k.ctx, pieces[i], strlen(pieces[i])),
		    0);
		ck_assert_int_eq(k.flush(k.ctx), 0);
	}
	ck_assert_int_eq(k.finish(k.ctx, CHAT_FINISH_STOP, NULL), 0);
	ck_assert_int_eq(oa_sink_complete(&oa), APP_OK);
	tools_sink_free(&ts);
	oa_sink_free(&oa);
	arena_free(&a);
	buf_add(&wire, "", 1);
	return wire.p;
}

static const char *const two_calls[] = {
	"Let me look.\n[func", "tion_calls]\n[call:get_weather]{\"city\":",
	"\"Paris\"}[/call]\n[call:now]{}[/call]\n[/function_calls]\n",
};

/* The JSON of each "data:" line of the stream, in order. */
static size_t
events(const char *w, struct json_object **ev, size_t max)
{
	const char *p = w, *e;
	size_t n = 0;
	char *line;

	while ((p = strstr(p, "data: ")) != NULL && n < max) {
		p += 6;
		e = strstr(p, "\n\n");
		ck_assert_ptr_nonnull(e);
		line = strndup(p, (size_t)(e - p));
		ev[n++] = strcmp(line, "[DONE]") == 0 ? NULL :
		    json_tokener_parse(line);
		free(line);
		p = e;
	}
	return n;
}

static const char *
jpath(struct json_object *o, const char *path)
{
	char key[64];
	const char *p = path, *d;
	size_t n;

	while (o != NULL && *p) {
		d = strchr(p, '.');
		n = d ? (size_t)(d - p) : strlen(p);
		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (json_object_is_type(o, json_type_array)) {
			if ((size_t)atoi(key) >= json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, (size_t)atoi(key));
		} else if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		p += n + (d != NULL);
	}
	return o == NULL ? "null" : json_object_get_string(o);
}

START_TEST(stream)
{
	struct json_object *ev[16];
	const char *w = answer(1, two_calls, 3, 0), *id;
	size_t n, i;

	n = events(w, ev, 16);
	/* role, text, call 0 head + args, call 1 head + args, finish, DONE */
	ck_assert_uint_eq(n, 8);
	ck_assert_str_eq(jpath(ev[0], "choices.0.delta.role"), "assistant");
	ck_assert_str_eq(jpath(ev[1], "choices.0.delta.content"),
	    "Let me look.");
	ck_assert_str_eq(jpath(ev[2], "choices.0.delta.tool_calls.0.index"),
	    "0");
	id = jpath(ev[2], "choices.0.delta.tool_calls.0.id");
	ck_assert_uint_eq(strlen(id), 29);
	ck_assert(strncmp(id, "call_", 5) == 0);
	ck_assert_str_eq(jpath(ev[2], "choices.0.delta.tool_calls.0.type"),
	    "function");
	ck_assert_str_eq(jpath(ev[2],
	    "choices.0.delta.tool_calls.0.function.name"), "get_weather");
	ck_assert_str_eq(jpath(ev[2],
	    "choices.0.delta.tool_calls.0.function.arguments"), "");
	ck_assert_ptr_null(jpath(ev[3], "choices.0.delta.tool_calls.0.id"));
	ck_assert_str_eq(jpath(ev[3],
	    "choices.0.delta.tool_calls.0.function.arguments"),
	    "{\"city\":\"Paris\"}");
	ck_assert_str_eq(jpath(ev[4], "choices.0.delta.tool_calls.0.index"),
	    "1");
	ck_assert_str_eq(jpath(ev[4],
	    "choices.0.delta.tool_calls.0.function.name"), "now");
	ck_assert_str_eq(jpath(ev[5],
	    "choices.0.delta.tool_calls.0.function.arguments"), "{}");
	ck_assert_str_eq(jpath(ev[6], "choices.0.finish_reason"),
	    "tool_calls");
	ck_assert_ptr_null(ev[7]);
	for (i = 0; i < n; i++)
		json_object_put(ev[i]);
	ck_assert_ptr_null(strstr(w, "[func"));
}
END_TEST

START_TEST(nonstream)
{
	struct json_object *o;
	const char *w = answer(0, two_calls, 3, 0), *body;

	body = strstr(w, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	o = json_tokener_parse(body + 4);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(jpath(o, "choices.0.message.content"), "Let me look.");
	ck_assert_str_eq(jpath(o, "choices.0.finish_reason"), "tool_calls");
	ck_assert_str_eq(jpath(o, "choices.0.message.tool_calls.0.type"),
	    "function");
	ck_assert_str_eq(jpath(o,
	    "choices.0.message.tool_calls.0.function.arguments"),
	    "{\"city\":\"Paris\"}");
	ck_assert_str_eq(jpath(o,
	    "choices.0.message.tool_calls.1.function.name"), "now");
	json_object_put(o);
}
END_TEST

static const char *const only_call[] = {
	"\n\n<tool_use><name>now</name>", "<arguments>{}</arguments></tool_use>",
	"\n",
};

START_TEST(content_null)
{
	struct json_object *o;
	const char *w = answer(0, only_call, 3, 0);

	o = json_tokener_parse(strstr(w, "\r\n\r\n") + 4);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(jpath(o, "choices.0.message.content"), "null");
	ck_assert_str_eq(jpath(o,
	    "choices.0.message.tool_calls.0.function.name"), "now");
	json_object_put(o);
}
END_TEST

static const char *const no_call[] = {
	"Plain [answer] with <tags> ", "and a trailing line\n\n",
};

START_TEST(plain)
{
	struct json_object *o;
	const char *w = answer(0, no_call, 2, 0);

	o = json_tokener_parse(strstr(w, "\r\n\r\n") + 4);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(jpath(o, "choices.0.message.content"),
	    "Plain [answer] with <tags> and a trailing line\n\n");
	ck_assert_str_eq(jpath(o, "choices.0.finish_reason"), "stop");
	ck_assert_ptr_null(jpath(o, "choices.0.message.tool_calls"));
	json_object_put(o);
}
END_TEST

START_TEST(one_at_most)
{
	struct json_object *o;
	const char *w = answer(0, two_calls, 3, 1);

	o = json_tokener_parse(strstr(w, "\r\n\r\n") + 4);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(jpath(o,
	    "choices.0.message.tool_calls.0.function.name"), "get_weather");
	ck_assert_ptr_null(jpath(o, "choices.0.message.tool_calls.1"));
	ck_assert_str_eq(jpath(o, "choices.0.message.content"),
	    "Let me look.[call:now]{}[/call]");
	json_object_put(o);
}
END_TEST

/* Fences and blank lines around a block frame it: they are not content. */
static const struct {
	const char	*pieces[4];
	const char	*content;	/* "null": none */
	size_t		 calls;
} framed[] = {
	{ { "Sure.\n```json\n", "[function_calls]\n[call:now]{}[/call]\n"
	    "[/function_calls]\n``", "`\n", NULL }, "Sure.", 1 },
	{ { "```\n[call:now]{}[/call]\n```", NULL }, "null", 1 },
	{ { "\n\n```", "xml\n<tool_use><name>now</name></tool_use>\n", "```",
	    NULL }, "null", 1 },
	{ { "Here:\n```python\n", "print(1)\n```\n", NULL },
	  "Here:\n```python\nprint(1)\n```\n", 0 },
	{ { "[call:now]{}[/call]\n```js\nx()\n```", NULL },
	  "\n```js\nx()\n```", 1 },
	{ { "[call:now]{}[/call]\nDone.\n", NULL }, "\nDone.", 1 },
	{ { "[call:now]{}[/call]\n`", NULL }, "\n`", 1 },
	{ { "a ``` b", " and ```", NULL }, "a ``` b and ```", 0 },
	{ { "Sure.\n``", "`json\n[call:now]{}[/call]", NULL }, "Sure.", 1 },
	{ { "x\n`", "y`\n`", NULL }, "x\n`y`\n`", 0 },
};

START_TEST(frames)
{
	struct json_object *o;
	const char *w;
	size_t np = 0;

	while (np < 4 && framed[_i].pieces[np] != NULL)
		np++;
	w = answer(0, framed[_i].pieces, np, 0);
	o = json_tokener_parse(strstr(w, "\r\n\r\n") + 4);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(jpath(o, "choices.0.message.content"),
	    framed[_i].content);
	if (framed[_i].calls)
		ck_assert_str_eq(jpath(o,
		    "choices.0.message.tool_calls.0.function.name"), "now");
	else
		ck_assert_ptr_null(jpath(o, "choices.0.message.tool_calls"));
	json_object_put(o);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("tools_sink");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, stream);
	tcase_add_test(tc, nonstream);
	tcase_add_test(tc, content_null);
	tcase_add_test(tc, plain);
	tcase_add_test(tc, one_at_most);
	tcase_add_loop_test(tc, frames, 0, sizeof(framed) / sizeof(framed[0]));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
