/*
 * Context management (handlers/context.c): sliding and tokens keep the
 * system messages and a suffix of whole turns, never lose the last user
 * turn, keep a tool call with its results, stay in step with the body's
 * messages array (the tool emulation reads both), and log only counts.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi/buf.h"
#include "fcgi/conf.h"
#include "fcgi/log.h"
#include "handlers/chat_request.h"
#include "handlers/context.h"
#include "handlers/tools.h"
#include "unit.h"

#define PAD_MAX	4096

/*
 * A body from a spec, one letter a message: s system, d developer,
 * u user, a assistant, c assistant with a tool call, t its tool result.
 * Message i says "m<i>", padded with x to pad bytes.
 */
static char *
body_of(const char *spec, size_t pad)
{
	struct buf b;
	char text[PAD_MAX + 16];
	size_t i, n;
	char *out;

	buf_init(&b, 0);
	buf_adds(&b, "{\"model\":\"m\",\"messages\":[");
	for (i = 0; spec[i]; i++) {
		n = (size_t)snprintf(text, sizeof(text), "m%zu", i);
		while (n < pad && n < PAD_MAX)
			text[n++] = 'x';
		text[n] = '\0';
		if (i > 0)
			buf_adds(&b, ",");
		switch (spec[i]) {
		case 's':
		case 'd':
			buf_printf(&b, "{\"role\":\"%s\",\"content\":\"%s\"}",
			    spec[i] == 's' ? "system" : "developer", text);
			break;
		case 'u':
			buf_printf(&b, "{\"role\":\"user\",\"content\":\"%s\"}",
			    text);
			break;
		case 'a':
			buf_printf(&b, "{\"role\":\"assistant\",\"content\":"
			    "\"%s\"}", text);
			break;
		case 'c':
			buf_printf(&b, "{\"role\":\"assistant\",\"content\":"
			    "\"%s\",\"tool_calls\":[{\"id\":\"c%zu\",\"type\":"
			    "\"function\",\"function\":{\"name\":\"f\","
			    "\"arguments\":\"{}\"}}]}", text, i);
			break;
		case 't':
			buf_printf(&b, "{\"role\":\"tool\",\"tool_call_id\":"
			    "\"c%zu\",\"content\":\"%s\"}", i, text);
			break;
		}
	}
	buf_adds(&b, "]}");
	ck_assert(!b.failed);
	out = strndup(b.p, b.len);
	buf_free(&b);
	return out;
}

/* The indices of the messages kept, "0,3,4", checked against the body. */
static void
kept(const struct chat_request *cr, struct json_object *root, char *out,
    size_t outsz)
{
	struct json_object *msgs, *jm, *v;
	size_t i, n = 0;
	const char *t;

	out[0] = '\0';
	ck_assert(json_object_object_get_ex(root, "messages", &msgs));
	ck_assert_uint_eq(json_object_array_length(msgs), cr->nmessages);
	for (i = 0; i < cr->nmessages; i++) {
		t = cr->messages[i].parts[0].text;
		ck_assert(t[0] == 'm');
		jm = json_object_array_get_idx(msgs, i);
		ck_assert(json_object_object_get_ex(jm, "content", &v));
		ck_assert_str_eq(json_object_get_string(v), t);
		n += (size_t)snprintf(out + n, outsz - n, "%s%ld",
		    i ? "," : "", strtol(t + 1, NULL, 10));
	}
}

static size_t
run(const char *spec, size_t pad, enum ctx_strategy s, long maxm, long maxt,
    char *out, size_t outsz)
{
	struct chat_request cr;
	struct chat_req_error e;
	struct json_object *root = NULL;
	struct ctx_conf c;
	struct arena a;
	char *body = body_of(spec, pad);
	size_t dropped, bytes;

	arena_init(&a, 0);
	ck_assert_int_eq(chat_request_parse(&a, body, strlen(body), &cr,
	    &root, &e), 0);
	bytes = cr.text_bytes;
	c.strategy = s;
	c.max_messages = maxm;
	c.max_tokens = maxt;
	dropped = ctx_apply(root, &cr, &c, "test");
	kept(&cr, root, out, outsz);
	ck_assert_uint_eq(cr.text_bytes + dropped * (pad > 2 ? pad : 2) >=
	    bytes, 1);
	json_object_put(root);
	arena_free(&a);
	free(body);
	return dropped;
}

START_TEST(none_keeps_all)
{
	char k[256];

	ck_assert_uint_eq(run("suauauau", 0, CTX_NONE, 2, 1, k, sizeof(k)),
	    0);
	ck_assert_str_eq(k, "0,1,2,3,4,5,6,7");
}
END_TEST

START_TEST(sliding_window)
{
	char k[256];

	/* system first, developer in the middle: both stay */
	ck_assert_uint_eq(run("suauadua", 0, CTX_SLIDING, 3, 0, k, sizeof(k)),
	    3);
	ck_assert_str_eq(k, "0,4,5,6,7");
	ck_assert_uint_eq(run("suauauau", 0, CTX_SLIDING, 4, 0, k, sizeof(k)),
	    3);
	ck_assert_str_eq(k, "0,4,5,6,7");
	/* N at and over the count: nothing goes */
	ck_assert_uint_eq(run("suau", 0, CTX_SLIDING, 3, 0, k, sizeof(k)), 0);
	ck_assert_uint_eq(run("suau", 0, CTX_SLIDING, 20, 0, k, sizeof(k)),
	    0);
	ck_assert_str_eq(k, "0,1,2,3");
	/* no system message at all */
	ck_assert_uint_eq(run("uauau", 0, CTX_SLIDING, 1, 0, k, sizeof(k)), 4);
	ck_assert_str_eq(k, "4");
}
END_TEST

START_TEST(last_user_stays)
{
	char k[256];

	/* a window of 1 would keep only the assistant turn */
	ck_assert_uint_eq(run("suaua", 0, CTX_SLIDING, 1, 0, k, sizeof(k)), 2);
	ck_assert_str_eq(k, "0,3,4");
	/* a user turn followed by a tool loop: the loop stays with it */
	ck_assert_uint_eq(run("suauctct", 0, CTX_SLIDING, 2, 0, k, sizeof(k)),
	    2);
	ck_assert_str_eq(k, "0,3,4,5,6,7");
	/* no user turn: the last unit */
	ck_assert_uint_eq(run("saaa", 0, CTX_SLIDING, 1, 0, k, sizeof(k)), 2);
	ck_assert_str_eq(k, "0,3");
	/* system only: nothing to drop */
	ck_assert_uint_eq(run("sd", 0, CTX_SLIDING, 1, 0, k, sizeof(k)), 0);
	ck_assert_uint_eq(run("sd", 0, CTX_TOKENS, 1, 1, k, sizeof(k)), 0);
}
END_TEST

START_TEST(tool_units_whole)
{
	char k[256];

	/* the window's edge falls between a call and its result: both go */
	ck_assert_uint_eq(run("sucttau", 0, CTX_SLIDING, 3, 0, k, sizeof(k)),
	    4);
	ck_assert_str_eq(k, "0,5,6");
	/* ... or both stay: one more in the window */
	ck_assert_uint_eq(run("sucttau", 0, CTX_SLIDING, 5, 0, k, sizeof(k)),
	    1);
	ck_assert_str_eq(k, "0,2,3,4,5,6");
	/* a stray result with no call before it is a unit of its own */
	ck_assert_uint_eq(run("stuau", 0, CTX_SLIDING, 3, 0, k, sizeof(k)), 1);
	ck_assert_str_eq(k, "0,2,3,4");
}
END_TEST

/* Each message of 400 bytes: 4 + 100 tokens; the reply primer 3. */
START_TEST(tokens_budget)
{
	char k[256];

	/* 8 messages: 835 tokens; 420 takes the system and three more */
	ck_assert_uint_eq(run("suauauau", 400, CTX_TOKENS, 0, 420, k,
	    sizeof(k)), 4);
	ck_assert_str_eq(k, "0,5,6,7");
	/* exactly at the budget: kept */
	ck_assert_uint_eq(run("suau", 400, CTX_TOKENS, 0, 419, k, sizeof(k)),
	    0);
	ck_assert_uint_eq(run("suau", 400, CTX_TOKENS, 0, 418, k, sizeof(k)),
	    1);
	ck_assert_str_eq(k, "0,2,3");
	/* far too small: the minimum goes, not an error */
	ck_assert_uint_eq(run("suauau", 400, CTX_TOKENS, 0, 10, k, sizeof(k)),
	    4);
	ck_assert_str_eq(k, "0,5");
	/* a tool unit goes whole, even when half of it would do */
	ck_assert_uint_eq(run("sucttu", 400, CTX_TOKENS, 0, 420, k,
	    sizeof(k)), 4);
	ck_assert_str_eq(k, "0,5");
	ck_assert_uint_eq(run("sucttu", 400, CTX_TOKENS, 0, 600, k,
	    sizeof(k)), 1);
	ck_assert_str_eq(k, "0,2,3,4,5");
}
END_TEST

START_TEST(estimate)
{
	struct chat_part p[2];
	struct chat_message m;

	memset(&m, 0, sizeof(m));
	memset(p, 0, sizeof(p));
	p[0].type = CHAT_PART_TEXT;
	p[0].text = "abcdefgh\xc3\xa9";	/* 8 ASCII and one é */
	p[0].len = 10;
	p[1].type = CHAT_PART_IMAGE;
	m.parts = p;
	m.nparts = 2;
	ck_assert_int_eq(ctx_message_tokens(&m), 4 + 2 + 1 + 85);
}
END_TEST

START_TEST(conf)
{
	struct config cfg;
	struct ctx_conf c;

	memset(&cfg, 0, sizeof(cfg));
	ctx_conf_of(NULL, "kimi", &c);
	ck_assert_int_eq(c.strategy, CTX_NONE);
	ck_assert_int_eq(c.max_messages, CTX_DEFAULT_MESSAGES);
	ck_assert_int_eq(c.max_tokens, 120000);
	cfg.context_strategy = "tokens";
	ctx_conf_of(&cfg, "chatgpt", &c);
	ck_assert_int_eq(c.strategy, CTX_TOKENS);
	ck_assert_int_eq(c.max_tokens, 8000);
	ctx_conf_of(&cfg, "nosuch", &c);
	ck_assert_int_eq(c.max_tokens, CTX_DEFAULT_TOKENS);
	cfg.context_max_tokens = 123;
	cfg.context_max_messages = 7;
	cfg.context_strategy = "sliding";
	ctx_conf_of(&cfg, "chatgpt", &c);
	ck_assert_int_eq(c.strategy, CTX_SLIDING);
	ck_assert_int_eq(c.max_tokens, 123);
	ck_assert_int_eq(c.max_messages, 7);
	ck_assert_int_eq(ctx_provider_budget(NULL), CTX_DEFAULT_TOKENS);
}
END_TEST

/* After a trim the tool emulation still pairs each turn with its JSON. */
START_TEST(tools_after_trim)
{
	struct chat_request cr;
	struct chat_req_error e;
	struct json_object *root = NULL;
	struct tools_req tr;
	struct ctx_conf c = { CTX_SLIDING, 4, 0 };
	struct arena a;
	char *body = body_of("suaucttu", 0);

	arena_init(&a, 0);
	ck_assert_int_eq(chat_request_parse(&a, body, strlen(body), &cr,
	    &root, &e), 0);
	ck_assert_int_eq(tools_request_parse(&a, root, &cr, &tr, &e), 0);
	ck_assert_uint_eq(ctx_apply(root, &cr, &c, "test"), 3);
	ck_assert_int_eq(tools_prompt_apply(&a, root, &cr, &tr, TOOLS_AUTO,
	    TOOLS_BRACKET), 0);
	ck_assert_uint_eq(cr.nmessages, 5);
	ck_assert_int_eq(cr.messages[2].role, CHAT_ROLE_USER);
	ck_assert_str_eq(cr.messages[2].parts[0].text,
	    "[TOOL_RESULT for c5] m5");
	ck_assert_str_eq(cr.messages[3].parts[0].text,
	    "[TOOL_RESULT for c6] m6");
	ck_assert_ptr_nonnull(strstr(cr.messages[1].parts[0].text,
	    "[call:f]{}[/call]"));
	json_object_put(root);
	arena_free(&a);
	free(body);
}
END_TEST

/* What went is logged at debug, as counts: never the text. */
START_TEST(debug_log)
{
	char path[] = "/tmp/c2a-ctx-XXXXXX", spec[64], buf[4096], err[128];
	char k[256];
	int fd = mkstemp(path);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	snprintf(spec, sizeof(spec), "file:%s", path);
	ck_assert_int_eq(log_open(spec, LOG_LVL_DEBUG, err, sizeof(err)), 0);
	ck_assert_uint_eq(run("suauctu", 40, CTX_SLIDING, 1, 0, k, sizeof(k)),
	    5);
	ck_assert_uint_eq(run("suau", 400, CTX_TOKENS, 0, 5, k, sizeof(k)), 2);
	log_close();
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "context sliding for test: dropped "
	    "5 of 7 messages (2 user, 2 assistant, 1 tool; 200 bytes of "
	    "text), 2 kept"));
	ck_assert_ptr_nonnull(strstr(buf, "context tokens for test: dropped "
	    "2 of 4"));
	ck_assert_ptr_nonnull(strstr(buf, "over the budget of 5; sent "
	    "anyway"));
	ck_assert_ptr_null(strstr(buf, "xxxx"));
	ck_assert_ptr_null(strstr(buf, "m1"));
	close(fd);
	unlink(path);
}
END_TEST

static Suite *
context_suite(void)
{
	Suite *s = suite_create("context");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, none_keeps_all);
	tcase_add_test(tc, sliding_window);
	tcase_add_test(tc, last_user_stays);
	tcase_add_test(tc, tool_units_whole);
	tcase_add_test(tc, tokens_budget);
	tcase_add_test(tc, estimate);
	tcase_add_test(tc, conf);
	tcase_add_test(tc, tools_after_trim);
	tcase_add_test(tc, debug_log);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(context_suite)
