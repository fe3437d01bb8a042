/*
 * handlers/anthropic_req.c: a /v1/messages body becomes the chat body
 * the pipeline validates; every refusal names its parameter.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "handlers/anthropic.h"
#include "unit.h"

#define MSG	"\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"

static const struct { const char *body, *code, *param; } bad[] = {
	{ "{", "invalid_json", "" },
	{ "[]", "invalid_json", "" },
	{ "{\"max_tokens\":5," MSG "}", "missing_required_parameter", "model" },
	{ "{\"model\":\"m\"," MSG "}", "missing_required_parameter",
	  "max_tokens" },
	{ "{\"model\":\"m\",\"max_tokens\":0," MSG "}", "invalid_value",
	  "max_tokens" },
	{ "{\"model\":\"m\",\"max_tokens\":\"5\"," MSG "}", "invalid_value",
	  "max_tokens" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[]}", "invalid_value",
	  "messages" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"system\","
	  "\"content\":\"x\"}]}", "invalid_value", "messages.0" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
	  "\"content\":5}]}", "invalid_type", "messages.0" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
	  "\"content\":[{\"type\":\"video\"}]}]}", "invalid_value",
	  "messages.0.content.0" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
	  "\"content\":[{\"type\":\"tool_use\",\"id\":\"a\",\"name\":\"f\"}]}]}",
	  "invalid_value", "messages.0.content.0" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
	  "\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"file\"}}]}]}",
	  "invalid_value", "messages.0.content.0" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
	  "\"content\":[{\"type\":\"tool_result\"}]}]}",
	  "missing_required_parameter", "messages.0.content.0" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"temperature\":1.5," MSG "}",
	  "invalid_value", "temperature" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"system\":[{\"type\":\"image\"}],"
	  MSG "}", "invalid_value", "system" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"tools\":[{\"type\":"
	  "\"bash_20250124\",\"name\":\"bash\"}]," MSG "}", "invalid_value",
	  "tools" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"tool_choice\":{\"type\":\"tool\"},"
	  MSG "}", "missing_required_parameter", "tool_choice" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"stop_sequences\":[\"\"]," MSG
	  "}", "invalid_value", "stop_sequences" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"stop_sequences\":[\"a\",\"b\","
	  "\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]," MSG "}",
	  "invalid_value", "stop_sequences" },
	{ "{\"model\":\"m\",\"max_tokens\":5,\"thinking\":{\"type\":\"maybe\"},"
	  MSG "}", "invalid_value", "thinking" },
};

START_TEST(rejects)
{
	struct json_object *chat = (void *)1;
	struct chat_req_error e;
	struct ant_opts o;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(ant_request_convert(bad[_i].body,
	    strlen(bad[_i].body), 0, &chat, &o, &e), -1);
	ck_assert_ptr_null(chat);
	ck_assert_int_eq(e.status, 400);
	ck_assert_msg(strcmp(e.code, bad[_i].code) == 0 &&
	    strcmp(e.param, bad[_i].param) == 0, "%s: %s %s (%s)",
	    bad[_i].body, e.code, e.param, e.message);
	ck_assert(e.message[0] != '\0');
}
END_TEST

static struct json_object *
conv(const char *body, int count, struct ant_opts *o)
{
	struct json_object *chat = NULL;
	struct chat_req_error e;

	memset(&e, 0, sizeof(e));
	ck_assert_msg(ant_request_convert(body, strlen(body), count, &chat, o,
	    &e) == 0, "%s: %s", body, e.message);
	return chat;
}

static const char *
js(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
}

START_TEST(converts)
{
	struct ant_opts o;
	struct json_object *c;

	/* the scalars, a system string, thinking as the reasoning flag */
	c = conv("{\"model\":\"claude-x\",\"max_tokens\":64,\"stream\":true,"
	    "\"temperature\":0.5,\"system\":\"Be brief.\",\"metadata\":"
	    "{\"user_id\":\"u1\"},\"thinking\":{\"type\":\"enabled\","
	    "\"budget_tokens\":1024}," MSG "}", 0, &o);
	ck_assert_str_eq(js(c), "{\"model\":\"claude-x\",\"max_tokens\":64,"
	    "\"stream\":true,\"temperature\":0.5,\"user\":\"u1\","
	    "\"reasoning_effort\":\"medium\",\"messages\":[{\"role\":"
	    "\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\","
	    "\"content\":\"hi\"}]}");
	ck_assert_uint_eq(o.nstops, 0);
	json_object_put(c);
	/* count_tokens: no max_tokens needed, none passed on */
	c = conv("{\"model\":\"m\"," MSG "}", 1, &o);
	ck_assert_str_eq(js(c), "{\"model\":\"m\",\"messages\":[{\"role\":"
	    "\"user\",\"content\":\"hi\"}]}");
	json_object_put(c);
	/* blocks: system blocks, an image, stop sequences */
	c = conv("{\"model\":\"m\",\"max_tokens\":5,\"stop_sequences\":[\"END\","
	    "\"\\n\\nHuman:\"],\"system\":[{\"type\":\"text\",\"text\":\"a\"}],"
	    "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
	    "\"text\":\"look\"},{\"type\":\"image\",\"source\":{\"type\":"
	    "\"base64\",\"media_type\":\"image/png\",\"data\":\"QUJD\"}},"
	    "{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":"
	    "\"https://x.test/a.png\"}}]}]}", 0, &o);
	ck_assert_str_eq(js(c), "{\"model\":\"m\",\"max_tokens\":5,"
	    "\"messages\":[{\"role\":\"system\",\"content\":[{\"type\":\"text\","
	    "\"text\":\"a\"}]},{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"look\"},{\"type\":\"image_url\",\"image_url\":"
	    "{\"url\":\"data:image/png;base64,QUJD\"}},{\"type\":\"image_url\","
	    "\"image_url\":{\"url\":\"https://x.test/a.png\"}}]}]}");
	ck_assert_uint_eq(o.nstops, 2);
	ck_assert_str_eq(o.stops[1], "\n\nHuman:");
	ck_assert_uint_eq(o.stop_max, 8);
	json_object_put(c);
}
END_TEST

START_TEST(tool_turns)
{
	struct ant_opts o;
	struct json_object *c;

	/*
	 * tool_use becomes tool_calls (thinking dropped), tool_result a
	 * "tool" message before the turn's other parts, is_error marked
	 */
	c = conv("{\"model\":\"m\",\"max_tokens\":5,\"tools\":[{\"name\":\"f\","
	    "\"description\":\"d\",\"input_schema\":{\"type\":\"object\"}}],"
	    "\"tool_choice\":{\"type\":\"any\",\"disable_parallel_tool_use\":"
	    "true},\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":"
	    "\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":"
	    "\"t\",\"signature\":\"s\"},{\"type\":\"text\",\"text\":\"ok\"},"
	    "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"f\",\"input\":"
	    "{\"x\":1}}]},{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"r1\"},{\"type\":\"text\",\"text\":\"r2\"}]},"
	    "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_2\",\"content\":"
	    "\"bad\",\"is_error\":true},{\"type\":\"text\",\"text\":\"go on\"}]}]}",
	    0, &o);
	ck_assert_str_eq(js(c), "{\"model\":\"m\",\"max_tokens\":5,"
	    "\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":"
	    "\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],"
	    "\"tool_calls\":[{\"id\":\"toolu_1\",\"type\":\"function\","
	    "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":1}\"}}]},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"toolu_1\",\"content\":"
	    "\"r1\\nr2\"},{\"role\":\"tool\",\"tool_call_id\":\"toolu_2\","
	    "\"content\":\"Error: bad\"},{\"role\":\"user\",\"content\":[{"
	    "\"type\":\"text\",\"text\":\"go on\"}]}],\"tools\":[{\"type\":"
	    "\"function\",\"function\":{\"name\":\"f\",\"description\":\"d\","
	    "\"parameters\":{\"type\":\"object\"}}}],\"parallel_tool_calls\":"
	    "false,\"tool_choice\":\"required\"}");
	json_object_put(c);
	c = conv("{\"model\":\"m\",\"max_tokens\":5,\"tools\":[{\"name\":\"f\"}],"
	    "\"tool_choice\":{\"type\":\"tool\",\"name\":\"f\"}," MSG "}", 0, &o);
	ck_assert_ptr_nonnull(strstr(js(c), "\"tool_choice\":{\"type\":"
	    "\"function\",\"function\":{\"name\":\"f\"}}"));
	json_object_put(c);
}
END_TEST

static Suite *
anthropic_req_suite(void)
{
	Suite *s = suite_create("anthropic_req");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, rejects, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, converts);
	tcase_add_test(tc, tool_turns);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(anthropic_req_suite)
