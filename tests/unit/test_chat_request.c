/* Request validation at the edge: every bad body is a clear 400. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "handlers/chat_request.h"
#include "unit.h"

static const struct { const char *body, *code, *param; } bad[] = {
	{ "", "invalid_json", "" },
	{ "{\"model\":\"gpt-4o\",", "invalid_json", "" },
	{ "{\"messages\":[]} trailing", "invalid_json", "" },
	{ "[1,2]", "invalid_type", "" },
	{ "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}garbage",
	  "invalid_json", "" },
	{ "{'messages':[{'role':'user','content':'x'}]}", "invalid_json", "" },
	{ "{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}",
	  "invalid_json", "" },
	{ "{\"model\":\"gpt-4o\"}", "missing_required_parameter", "messages" },
	{ "{\"messages\":{}}", "invalid_type", "messages" },
	{ "{\"messages\":[]}", "empty_array", "messages" },
	{ "{\"messages\":[1]}", "invalid_type", "messages[0]" },
	{ "{\"messages\":[{\"content\":\"x\"}]}", "missing_required_parameter",
	  "messages[0].role" },
	{ "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}",
	  "invalid_value", "messages[0].role" },
	{ "{\"messages\":[{\"role\":\"user\"}]}", "missing_required_parameter",
	  "messages[0].content" },
	{ "{\"messages\":[{\"role\":\"user\",\"content\":42}]}", "invalid_type",
	  "messages[0].content" },
	{ "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"video\"}]}]}",
	  "invalid_value", "messages[0].content[0]" },
	{ "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]}]}",
	  "missing_required_parameter", "messages[0].content[0]" },
	{ "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
	  "\"image_url\":{\"url\":\"ftp://x\"}}]}]}", "invalid_value",
	  "messages[0].content[0]" },
	{ "{\"model\":7,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
	  "invalid_type", "model" },
	{ "{\"stream\":\"yes\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
	  "invalid_type", "stream" },
	{ "{\"temperature\":3,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
	  "decimal_above_max_value", "temperature" },
	{ "{\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
	  "integer_below_min_value", "max_tokens" },
	{ "{\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
	  "unsupported_value", "n" },
	{ "{\"stream_options\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
	  "invalid_type", "stream_options" },
};

START_TEST(rejects)
{
	struct arena a;
	struct chat_request r;
	struct chat_req_error e;
	struct json_object *root;

	arena_init(&a, 0);
	ck_assert_int_eq(chat_request_parse(&a, bad[_i].body,
	    strlen(bad[_i].body), &r, &root, &e), -1);
	ck_assert_ptr_null(root);
	ck_assert_int_eq(e.status, 400);
	ck_assert_msg(strcmp(e.code, bad[_i].code) == 0, "%s: code %s want %s",
	    bad[_i].body, e.code, bad[_i].code);
	ck_assert_msg(strcmp(e.param, bad[_i].param) == 0, "%s: param %s",
	    bad[_i].body, e.param);
	ck_assert_uint_gt(strlen(e.message), 10);
	arena_free(&a);
}
END_TEST

START_TEST(accepts)
{
	static const char body[] = "{\"model\":\"gpt-4o\",\"stream\":true,"
	    "\"stream_options\":{\"include_usage\":true},\"max_tokens\":50,"
	    "\"temperature\":0.5,\"messages\":["
	    "{\"role\":\"developer\",\"content\":\"be brief\"},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi \"},"
	    "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;"
	    "base64,AA==\",\"detail\":\"low\"}}]},"
	    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]},"
	    "{\"role\":\"tool\",\"content\":\"42\",\"tool_call_id\":\"c1\"}],"
	    "\"conversation_id\":\"c-1\",\"history_disabled\":false}";
	struct arena a;
	struct chat_request r;
	struct chat_req_error e;
	struct json_object *root;

	arena_init(&a, 0);
	ck_assert_int_eq(chat_request_parse(&a, body, sizeof(body) - 1, &r,
	    &root, &e), 0);
	ck_assert_str_eq(r.model, "gpt-4o");
	ck_assert_int_eq(r.stream, 1);
	ck_assert_int_eq(r.include_usage, 1);
	ck_assert_int_eq(r.max_tokens, 50);
	ck_assert_uint_eq(r.nmessages, 4);
	ck_assert_int_eq(r.messages[0].role, CHAT_ROLE_DEVELOPER);
	ck_assert_uint_eq(r.messages[1].nparts, 2);
	ck_assert_int_eq(r.messages[1].parts[1].type, CHAT_PART_IMAGE);
	ck_assert_str_eq(r.messages[1].parts[1].detail, "low");
	ck_assert_uint_eq(r.messages[2].nparts, 0);
	ck_assert_int_eq(r.messages[3].role, CHAT_ROLE_TOOL);
	ck_assert_str_eq(r.conversation_id, "c-1");
	ck_assert_int_eq(r.history_disabled, 0);
	ck_assert_uint_eq(r.text_bytes, 3 + 8 + 2);
	json_object_put(root);
	arena_free(&a);
}
END_TEST

/* UPLOAD_BY_URL: "<url> <url> question" in user turns (§11.1). */
START_TEST(split_urls)
{
	static const char body[] = "{\"messages\":["
	    "{\"role\":\"system\",\"content\":\"http://sys.example/x keep\"},"
	    "{\"role\":\"user\",\"content\":\" http://no.example/lead-space\"},"
	    "{\"role\":\"user\",\"content\":\"https://a.example/cat.png "
	    "http://b.example/n.txt  what are these? "
	    "again https://a.example/cat.png \"},"
	    "{\"role\":\"user\",\"content\":\"http:// not a url\"},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"text\","
	    "\"text\":\"https://parts.example/stay\"}]},"
	    "{\"role\":\"user\",\"content\":\"https://only.example/u\"}]}";
	struct arena a;
	struct chat_request r;
	struct chat_req_error e;
	struct json_object *root;
	size_t before;

	arena_init(&a, 0);
	ck_assert_int_eq(chat_request_parse(&a, body, sizeof(body) - 1, &r,
	    &root, &e), 0);
	before = r.text_bytes;
	ck_assert_int_eq(chat_request_split_urls(&a, &r), 0);
	/* system prompt, leading space, bare scheme, parts: untouched */
	ck_assert_uint_eq(r.messages[0].nparts, 1);
	ck_assert_int_eq(r.messages[0].string_content, 1);
	ck_assert_uint_eq(r.messages[1].nparts, 1);
	ck_assert_uint_eq(r.messages[3].nparts, 1);
	ck_assert_str_eq(r.messages[3].parts[0].text, "http:// not a url");
	ck_assert_uint_eq(r.messages[4].nparts, 1);
	ck_assert_int_eq(r.messages[4].parts[0].type, CHAT_PART_TEXT);
	/* two URLs; every occurrence of one is removed, the rest trimmed */
	ck_assert_uint_eq(r.messages[2].nparts, 3);
	ck_assert_int_eq(r.messages[2].string_content, 0);
	ck_assert_int_eq(r.messages[2].parts[0].type, CHAT_PART_TEXT);
	ck_assert_str_eq(r.messages[2].parts[0].text, "what are these? again");
	ck_assert_uint_eq(r.messages[2].parts[0].len, 21);
	ck_assert_int_eq(r.messages[2].parts[1].type, CHAT_PART_IMAGE);
	ck_assert_str_eq(r.messages[2].parts[1].url, "https://a.example/cat.png");
	ck_assert_str_eq(r.messages[2].parts[2].url, "http://b.example/n.txt");
	/* a URL alone leaves an empty text part */
	ck_assert_uint_eq(r.messages[5].nparts, 2);
	ck_assert_uint_eq(r.messages[5].parts[0].len, 0);
	ck_assert_str_eq(r.messages[5].parts[1].url, "https://only.example/u");
	/* text_bytes follows the text that is left */
	ck_assert_uint_eq(r.text_bytes, before - (strlen("https://a.example/"
	    "cat.png http://b.example/n.txt  what are these? again "
	    "https://a.example/cat.png ") - 21) -
	    strlen("https://only.example/u"));
	json_object_put(root);
	arena_free(&a);
}
END_TEST

START_TEST(limits)
{
	struct arena a;
	struct chat_request r;
	struct chat_req_error e;
	struct json_object *root;
	char *body, *p;
	size_t i, n;

	arena_init(&a, 0);
	/* too many messages */
	n = CHAT_MAX_MESSAGES + 1;
	body = malloc(n * 40 + 64);
	p = body + sprintf(body, "{\"messages\":[");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s{\"role\":\"user\",\"content\":\"x\"}",
		    i ? "," : "");
	strcpy(p, "]}");
	ck_assert_int_eq(chat_request_parse(&a, body, strlen(body), &r, &root,
	    &e), -1);
	ck_assert_str_eq(e.param, "messages");
	free(body);
	/* too much text: one 9 MiB message */
	n = CHAT_MAX_TEXT + (1u << 20);
	body = malloc(n + 64);
	p = body + sprintf(body, "{\"messages\":[{\"role\":\"user\","
	    "\"content\":\"");
	memset(p, 'a', n);
	strcpy(p + n, "\"}]}");
	ck_assert_int_eq(chat_request_parse(&a, body, strlen(body), &r, &root,
	    &e), -1);
	ck_assert_str_eq(e.code, "context_length_exceeded");
	free(body);
	/* nesting deeper than the tokenizer allows */
	body = malloc(4096);
	p = body + sprintf(body, "{\"messages\":");
	for (i = 0; i < 200; i++)
		*p++ = '[';
	for (i = 0; i < 200; i++)
		*p++ = ']';
	strcpy(p, "}");
	ck_assert_int_eq(chat_request_parse(&a, body, strlen(body), &r, &root,
	    &e), -1);
	ck_assert_str_eq(e.code, "invalid_json");
	free(body);
	arena_free(&a);
}
END_TEST

static Suite *
chat_request_suite(void)
{
	Suite *s = suite_create("chat_request");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, rejects, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, accepts);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, split_urls);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(chat_request_suite)
