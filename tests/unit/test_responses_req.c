/*
 * handlers/responses_req.c: a /v1/responses body (with the stored
 * conversation it continues) becomes the chat body the pipeline
 * validates; every refusal names its parameter.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "handlers/responses.h"
#include "unit.h"

/* One stored response: resp_AB12, a message and a call in its output. */
static const char record[] = "{\"response\":{\"id\":\"resp_AB12\","
    "\"output\":[{\"id\":\"msg_AB12_0\",\"type\":\"message\",\"role\":"
    "\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":"
    "\"earlier\"}]}]},\"history\":[{\"role\":\"user\",\"content\":\"q1\"},"
    "{\"role\":\"assistant\",\"content\":\"a1\"}]}";
static int lookups;

static char *
lookup(void *ctx, const char *id)
{
	(void)ctx;
	lookups++;
	return strcmp(id, "resp_AB12") == 0 ? strdup(record) : NULL;
}

static const struct { const char *body, *code, *param; int status; } bad[] = {
	{ "{", "invalid_json", "", 400 },
	{ "{\"model\":\"m\"}", "missing_required_parameter", "input", 400 },
	{ "{\"input\":5}", "invalid_type", "input", 400 },
	{ "{\"input\":[{\"type\":\"message\",\"role\":\"tool\",\"content\":"
	  "\"x\"}]}", "invalid_value", "input[0]", 400 },
	{ "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
	  "\"input_audio\"}]}]}", "invalid_value", "input[0].content[0]", 400 },
	{ "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
	  "\"input_image\",\"file_id\":\"f\"}]}]}", "invalid_value",
	  "input[0].content[0]", 400 },
	{ "{\"input\":[{\"type\":\"function_call\",\"name\":\"f\"}]}",
	  "missing_required_parameter", "input[0]", 400 },
	{ "{\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c\"}]}",
	  "missing_required_parameter", "input[0]", 400 },
	{ "{\"input\":[{\"type\":\"item_reference\",\"id\":\"msg_ZZ_0\"}]}",
	  "invalid_value", "input[0]", 400 },
	{ "{\"input\":[{\"type\":\"web_search_call\"}]}", "invalid_value",
	  "input[0]", 400 },
	{ "{\"input\":\"x\",\"tools\":[{\"type\":\"file_search\"}]}",
	  "invalid_value", "tools[0]", 400 },
	{ "{\"input\":\"x\",\"tools\":[{\"type\":\"function\"}]}",
	  "missing_required_parameter", "tools[0]", 400 },
	{ "{\"input\":\"x\",\"tool_choice\":{\"type\":\"web_search\"},"
	  "\"tools\":[]}", "invalid_value", "tool_choice", 400 },
	{ "{\"input\":\"x\",\"text\":{\"format\":{\"type\":\"xml\"}}}",
	  "invalid_value", "text.format.type", 400 },
	{ "{\"input\":\"x\",\"store\":\"yes\"}", "invalid_type", "store", 400 },
	{ "{\"input\":\"x\",\"reasoning\":\"high\"}", "invalid_type",
	  "reasoning", 400 },
	{ "{\"input\":\"x\",\"metadata\":[1]}", "invalid_value", "metadata",
	  400 },
	{ "{\"input\":\"x\",\"previous_response_id\":\"resp_nope\"}",
	  "previous_response_not_found", "previous_response_id", 404 },
};

START_TEST(rejects)
{
	struct json_object *chat = (void *)1;
	struct chat_req_error e;
	struct rsp_opts o;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(rsp_request_convert(bad[_i].body,
	    strlen(bad[_i].body), lookup, NULL, &chat, &o, &e), -1);
	rsp_opts_free(&o);
	ck_assert_ptr_null(chat);
	ck_assert_int_eq(e.status, bad[_i].status);
	ck_assert_msg(strcmp(e.code, bad[_i].code) == 0 &&
	    strcmp(e.param, bad[_i].param) == 0, "%s: %s %s (%s)",
	    bad[_i].body, e.code, e.param, e.message);
}
END_TEST

static const char *
js(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
}

static struct json_object *
conv(const char *body, struct rsp_opts *o)
{
	struct json_object *chat = NULL;
	struct chat_req_error e;

	memset(&e, 0, sizeof(e));
	ck_assert_msg(rsp_request_convert(body, strlen(body), lookup, NULL,
	    &chat, o, &e) == 0, "%s: %s", body, e.message);
	return chat;
}

START_TEST(converts)
{
	struct rsp_opts o;
	struct json_object *c, *v;

	c = conv("{\"model\":\"m\",\"input\":\"hi\",\"instructions\":\"Be "
	    "brief.\",\"max_output_tokens\":50,\"stream\":true,\"reasoning\":"
	    "{\"effort\":\"low\",\"summary\":\"auto\"},\"metadata\":{\"a\":"
	    "\"b\"},\"store\":false,\"text\":{\"format\":{\"type\":"
	    "\"json_schema\",\"name\":\"n\",\"schema\":{\"type\":\"object\"},"
	    "\"strict\":true}}}", &o);
	ck_assert_str_eq(js(c), "{\"model\":\"m\",\"stream\":true,"
	    "\"max_tokens\":50,\"reasoning_effort\":\"low\",\"response_format\":"
	    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\","
	    "\"schema\":{\"type\":\"object\"},\"strict\":true}},\"messages\":[{"
	    "\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\","
	    "\"content\":\"hi\"}]}");
	ck_assert_int_eq(o.store, 0);
	ck_assert_int_eq(o.summary, 1);
	ck_assert_uint_eq(strlen(o.id), RSP_ID_LEN);
	ck_assert(strncmp(o.id, "resp_", 5) == 0);
	/* the echo repeats the request, with OpenAI's defaults */
	ck_assert(json_object_object_get_ex(o.echo, "metadata", &v));
	ck_assert_str_eq(js(v), "{\"a\":\"b\"}");
	ck_assert(json_object_object_get_ex(o.echo, "tool_choice", &v));
	ck_assert_str_eq(json_object_get_string(v), "auto");
	ck_assert(json_object_object_get_ex(o.echo, "store", &v));
	ck_assert(!json_object_get_boolean(v));
	/* the instructions are not part of the kept conversation */
	ck_assert_str_eq(js(o.history), "[{\"role\":\"user\",\"content\":"
	    "\"hi\"}]");
	json_object_put(c);
	rsp_opts_free(&o);
}
END_TEST

START_TEST(items)
{
	struct rsp_opts o;
	struct json_object *c;

	/*
	 * parts, consecutive calls in one assistant message, outputs as
	 * "tool" messages, reasoning dropped, a reference resolved
	 */
	c = conv("{\"input\":[{\"type\":\"item_reference\",\"id\":"
	    "\"msg_AB12_0\"},{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"input_text\",\"text\":\"see\"},{\"type\":\"input_image\","
	    "\"image_url\":\"https://x.test/i.png\",\"detail\":\"low\"}]},"
	    "{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[]},"
	    "{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"f\","
	    "\"arguments\":\"{}\"},{\"type\":\"function_call\",\"call_id\":\"c2\","
	    "\"name\":\"g\",\"arguments\":\"{\\\"a\\\":1}\"},{\"type\":"
	    "\"function_call_output\",\"call_id\":\"c1\",\"output\":\"r1\"},"
	    "{\"type\":\"function_call_output\",\"call_id\":\"c2\",\"output\":"
	    "[{\"type\":\"input_text\",\"text\":\"r2\"}]}],\"tools\":[{\"type\":"
	    "\"function\",\"name\":\"f\",\"parameters\":{}}],\"tool_choice\":"
	    "{\"type\":\"function\",\"name\":\"f\"}}", &o);
	ck_assert_str_eq(js(c), "{\"tools\":[{\"type\":\"function\","
	    "\"function\":{\"name\":\"f\",\"parameters\":{}}}],\"tool_choice\":"
	    "{\"type\":\"function\",\"function\":{\"name\":\"f\"}},\"messages\":"
	    "[{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"earlier\"}]},{\"role\":\"user\",\"content\":[{\"type\":\"text\","
	    "\"text\":\"see\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
	    "\"https://x.test/i.png\",\"detail\":\"low\"}}]},{\"role\":"
	    "\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\","
	    "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":"
	    "\"{}\"}},{\"id\":\"c2\",\"type\":\"function\",\"function\":{"
	    "\"name\":\"g\",\"arguments\":\"{\\\"a\\\":1}\"}}]},{\"role\":"
	    "\"tool\",\"tool_call_id\":\"c1\",\"content\":\"r1\"},{\"role\":"
	    "\"tool\",\"tool_call_id\":\"c2\",\"content\":\"r2\"}]}");
	json_object_put(c);
	rsp_opts_free(&o);
}
END_TEST

START_TEST(previous)
{
	struct rsp_opts o;
	struct json_object *c;

	/* the stored history first, then the new turn; kept together */
	c = conv("{\"input\":\"q2\",\"instructions\":\"sys\","
	    "\"previous_response_id\":\"resp_AB12\"}", &o);
	ck_assert_str_eq(js(c), "{\"messages\":[{\"role\":\"system\","
	    "\"content\":\"sys\"},{\"role\":\"user\",\"content\":\"q1\"},"
	    "{\"role\":\"assistant\",\"content\":\"a1\"},{\"role\":\"user\","
	    "\"content\":\"q2\"}]}");
	ck_assert_str_eq(js(o.history), "[{\"role\":\"user\",\"content\":"
	    "\"q1\"},{\"role\":\"assistant\",\"content\":\"a1\"},{\"role\":"
	    "\"user\",\"content\":\"q2\"}]");
	ck_assert_int_eq(o.store, 1);
	json_object_put(c);
	rsp_opts_free(&o);
}
END_TEST

START_TEST(item_owner)
{
	char out[64];

	ck_assert_int_eq(rsp_item_owner("msg_AB12_0", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "resp_AB12");
	ck_assert_int_eq(rsp_item_owner("fc_AB12_17", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "resp_AB12");
	ck_assert_int_eq(rsp_item_owner("msg_AB12", out, sizeof(out)), -1);
	ck_assert_int_eq(rsp_item_owner("msg__0", out, sizeof(out)), -1);
	ck_assert_int_eq(rsp_item_owner("msg_A-B_0", out, sizeof(out)), -1);
	ck_assert_int_eq(rsp_item_owner("nounderscore", out, sizeof(out)), -1);
	ck_assert_int_eq(rsp_item_owner("msg_AB12_0", out, 9), -1);
	ck_assert_int_eq(rsp_item_owner("msg_"
	    "0123456789012345678901234567890_0", out, sizeof(out)), -1);
}
END_TEST

static Suite *
responses_req_suite(void)
{
	Suite *s = suite_create("responses_req");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, rejects, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, converts);
	tcase_add_test(tc, items);
	tcase_add_test(tc, previous);
	tcase_add_test(tc, item_owner);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(responses_req_suite)
