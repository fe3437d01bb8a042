/*
 * The request side of tool calling: every refusal of the tool fields is
 * a 400 naming its parameter; the tool section is byte for byte the one
 * in tests/unit/data/tools/; the history is re-encoded into call and
 * result blocks; TOOL_PROMPT and tool_choice decide the injection.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/chat_request.h"
#include "handlers/tools.h"
#include "unit.h"

#define U	"{\"role\":\"user\",\"content\":\"hi\"}"
#define FN(n)	"{\"type\":\"function\",\"function\":{\"name\":\"" n "\"}}"

static const struct { const char *body, *code, *param; } bad[] = {
	{ "{\"tools\":{},\"messages\":[" U "]}", "invalid_type", "tools" },
	{ "{\"tools\":[],\"messages\":[" U "]}", "empty_array", "tools" },
	{ "{\"tools\":[1],\"messages\":[" U "]}", "invalid_type", "tools[0]" },
	{ "{\"tools\":[{\"function\":{\"name\":\"f\"}}],\"messages\":[" U "]}",
	  "missing_required_parameter", "tools[0].type" },
	{ "{\"tools\":[{\"type\":\"retrieval\"}],\"messages\":[" U "]}",
	  "invalid_value", "tools[0].type" },
	{ "{\"tools\":[" FN("f") ",{\"type\":\"code_interpreter\"}],"
	  "\"messages\":[" U "]}", "invalid_value", "tools[1].type" },
	{ "{\"tools\":[{\"type\":\"function\"}],\"messages\":[" U "]}",
	  "missing_required_parameter", "tools[0].function" },
	{ "{\"tools\":[{\"type\":\"function\",\"function\":[]}],\"messages\":["
	  U "]}", "invalid_type", "tools[0].function" },
	{ "{\"tools\":[{\"type\":\"function\",\"function\":{}}],\"messages\":["
	  U "]}", "missing_required_parameter", "tools[0].function.name" },
	{ "{\"tools\":[" FN("a b") "],\"messages\":[" U "]}", "invalid_value",
	  "tools[0].function.name" },
	{ "{\"tools\":[" FN("") "],\"messages\":[" U "]}", "invalid_value",
	  "tools[0].function.name" },
	{ "{\"tools\":[" FN("x12345678901234567890123456789012345678901234567"
	  "890123456789012345") "],\"messages\":[" U "]}", "invalid_value",
	  "tools[0].function.name" },
	{ "{\"tools\":[" FN("f") "," FN("f") "],\"messages\":[" U "]}",
	  "invalid_value", "tools[1].function.name" },
	{ "{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
	  "\"description\":7}}],\"messages\":[" U "]}", "invalid_type",
	  "tools[0].function.description" },
	{ "{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
	  "\"parameters\":\"x\"}}],\"messages\":[" U "]}", "invalid_type",
	  "tools[0].function.parameters" },
	{ "{\"tool_choice\":\"auto\",\"messages\":[" U "]}", "invalid_value",
	  "tool_choice" },
	{ "{\"tools\":[" FN("f") "],\"tool_choice\":\"always\",\"messages\":["
	  U "]}", "invalid_value", "tool_choice" },
	{ "{\"tools\":[" FN("f") "],\"tool_choice\":5,\"messages\":[" U "]}",
	  "invalid_type", "tool_choice" },
	{ "{\"tools\":[" FN("f") "],\"tool_choice\":{\"type\":\"function\","
	  "\"function\":{\"name\":\"g\"}},\"messages\":[" U "]}",
	  "invalid_value", "tool_choice" },
	{ "{\"tools\":[" FN("f") "],\"tool_choice\":{\"type\":\"x\"},"
	  "\"messages\":[" U "]}", "invalid_value", "tool_choice.type" },
	{ "{\"tools\":[" FN("f") "],\"tool_choice\":{\"type\":\"function\"},"
	  "\"messages\":[" U "]}", "missing_required_parameter",
	  "tool_choice.function" },
	{ "{\"tools\":[" FN("f") "],\"parallel_tool_calls\":1,\"messages\":["
	  U "]}", "invalid_type", "parallel_tool_calls" },
	{ "{\"messages\":[" U ",{\"role\":\"assistant\",\"content\":null,"
	  "\"tool_calls\":{}}]}", "invalid_type", "messages[1].tool_calls" },
	{ "{\"messages\":[" U ",{\"role\":\"assistant\",\"tool_calls\":[{"
	  "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":"
	  "\"{}\"}}]}]}", "missing_required_parameter",
	  "messages[1].tool_calls[0].id" },
	{ "{\"messages\":[" U ",{\"role\":\"assistant\",\"tool_calls\":[{"
	  "\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}"
	  "]}", "missing_required_parameter",
	  "messages[1].tool_calls[0].function.arguments" },
	{ "{\"messages\":[" U ",{\"role\":\"assistant\",\"tool_calls\":[{"
	  "\"id\":\"c\",\"type\":\"web\",\"function\":{\"name\":\"f\","
	  "\"arguments\":\"{}\"}}]}]}", "invalid_value",
	  "messages[1].tool_calls[0].type" },
	{ "{\"messages\":[" U ",{\"role\":\"tool\",\"content\":\"r\"}]}",
	  "missing_required_parameter", "messages[1].tool_call_id" },
	{ "{\"messages\":[" U ",{\"role\":\"tool\",\"content\":\"r\","
	  "\"tool_call_id\":5}]}", "invalid_type", "messages[1].tool_call_id" },
};

static int
parse(struct arena *a, const char *body, struct chat_request *cr,
    struct tools_req *tr, struct json_object **root, struct chat_req_error *e)
{
	/* the field table (req_fields.c) refuses a wrong type first */
	if (chat_request_parse(a, body, strlen(body), cr, root, e) < 0)
		return -1;
	return tools_request_parse(a, *root, cr, tr, e);
}

START_TEST(rejects)
{
	struct arena a;
	struct chat_request cr;
	struct chat_req_error e;
	struct tools_req tr;
	struct json_object *root = NULL;

	arena_init(&a, 0);
	ck_assert_int_eq(parse(&a, bad[_i].body, &cr, &tr, &root, &e), -1);
	ck_assert_int_eq(e.status, 400);
	ck_assert_msg(strcmp(e.code, bad[_i].code) == 0, "%s: code %s want %s",
	    bad[_i].body, e.code, bad[_i].code);
	ck_assert_msg(strcmp(e.param, bad[_i].param) == 0, "%s: param %s "
	    "want %s", bad[_i].body, e.param, bad[_i].param);
	ck_assert(e.message[0] != '\0');
	json_object_put(root);
	arena_free(&a);
}
END_TEST

static const char tools_body[] = "{\"tools\":["
    "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
    "\"description\":\"The weather of a city now.\",\"parameters\":"
    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
    "\"required\":[\"city\"]}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"now\"}}],";

static char *
body_with(const char *rest)
{
	char *s = malloc(strlen(tools_body) + strlen(rest) + 1);

	strcpy(s, tools_body);
	strcat(s, rest);
	return s;
}

/* TOOLS_GOLDEN=write rewrites the file with got (review the diff). */
static char *
slurp(const char *name, const char *got)
{
	const char *top = getenv("top_srcdir"), *w = getenv("TOOLS_GOLDEN");
	char path[1024], *s;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/tests/unit/data/tools/%s",
	    top ? top : ".", name);
	if (w != NULL && strcmp(w, "write") == 0 &&
	    (fp = fopen(path, "wb")) != NULL) {
		fputs(got, fp);
		fclose(fp);
	}
	ck_assert_msg((fp = fopen(path, "rb")) != NULL, "%s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	s = calloc(1, (size_t)n + 1);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return s;
}

static const struct {
	const char	*rest, *file;
	enum tools_format f;
} golden[] = {
	{ "\"messages\":[" U "]}", "prompt_bracket.txt", TOOLS_BRACKET },
	{ "\"messages\":[" U "]}", "prompt_xml.txt", TOOLS_XML },
	{ "\"parallel_tool_calls\":false,\"tool_choice\":\"required\","
	  "\"messages\":[" U "]}", "prompt_required.txt", TOOLS_BRACKET },
	{ "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
	  "\"now\"}},\"messages\":[" U "]}", "prompt_named.txt", TOOLS_XML },
};

START_TEST(prompt_golden)
{
	struct arena a;
	struct chat_request cr;
	struct chat_req_error e;
	struct tools_req tr;
	struct json_object *root = NULL;
	char *body = body_with(golden[_i].rest), *want, *got;

	arena_init(&a, 0);
	ck_assert_int_eq(parse(&a, body, &cr, &tr, &root, &e), 0);
	ck_assert_uint_eq(tr.nfns, 2);
	got = tools_prompt_text(&a, &tr, golden[_i].f);
	want = slurp(golden[_i].file, got);
	ck_assert_str_eq(got, want);
	free(want);
	free(body);
	json_object_put(root);
	arena_free(&a);
}
END_TEST

static const char *
text_of(const struct chat_message *m)
{
	ck_assert_uint_eq(m->nparts, 1);
	ck_assert_int_eq(m->parts[0].type, CHAT_PART_TEXT);
	ck_assert_uint_eq(strlen(m->parts[0].text), m->parts[0].len);
	return m->parts[0].text;
}

#define LOOP "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"}," \
	"{\"role\":\"user\",\"content\":\"Weather in Paris and Rome?\"}," \
	"{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" \
	"{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":" \
	"\"get_weather\",\"arguments\":\"{\\\"city\\\": \\\"Paris\\\"}\"}}," \
	"{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":" \
	"\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Rome\\\"}\"}}]}," \
	"{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"18C\"}," \
	"{\"role\":\"tool\",\"tool_call_id\":\"call_2\",\"content\":[" \
	"{\"type\":\"text\",\"text\":\"21C\"}]}," \
	"{\"role\":\"assistant\",\"content\":\"Checking.\",\"tool_calls\":[" \
	"{\"id\":\"call_3\",\"type\":\"function\",\"function\":{\"name\":" \
	"\"now\",\"arguments\":\"\"}}]}]}"

static const struct {
	enum tools_format	 f;
	const char		*a1, *t1, *t2, *a2;
} loops[] = {
	{ TOOLS_BRACKET,
	  "[function_calls]\n[call:get_weather]{\"city\":\"Paris\"}[/call]\n"
	  "[call:get_weather]{\"city\":\"Rome\"}[/call]\n[/function_calls]",
	  "[TOOL_RESULT for call_1] 18C", "[TOOL_RESULT for call_2] 21C",
	  "Checking.\n\n[function_calls]\n[call:now]{}[/call]\n"
	  "[/function_calls]" },
	{ TOOLS_XML,
	  "<tool_use>\n<name>get_weather</name>\n<arguments>{\"city\":"
	  "\"Paris\"}</arguments>\n</tool_use>\n<tool_use>\n<name>get_weather"
	  "</name>\n<arguments>{\"city\":\"Rome\"}</arguments>\n</tool_use>",
	  "<tool_result id=\"call_1\">\n18C\n</tool_result>",
	  "<tool_result id=\"call_2\">\n21C\n</tool_result>",
	  "Checking.\n\n<tool_use>\n<name>now</name>\n<arguments>{}</arguments>\n"
	  "</tool_use>" },
};

START_TEST(history)
{
	struct arena a;
	struct chat_request cr;
	struct chat_req_error e;
	struct tools_req tr;
	struct json_object *root = NULL;
	char *body = body_with(LOOP), *section;
	const char *sys;
	size_t before, i, sum = 0;

	arena_init(&a, 0);
	ck_assert_int_eq(parse(&a, body, &cr, &tr, &root, &e), 0);
	ck_assert(tr.history);
	before = cr.nmessages;
	ck_assert_int_eq(tools_prompt_apply(&a, root, &cr, &tr, TOOLS_AUTO,
	    loops[_i].f), 0);
	ck_assert(tr.injected);
	ck_assert_uint_eq(cr.nmessages, before);
	section = tools_prompt_text(&a, &tr, loops[_i].f);
	sys = text_of(&cr.messages[0]);
	ck_assert(strncmp(sys, "Be brief.\n\n", 11) == 0);
	ck_assert_str_eq(sys + 11, section);
	ck_assert_str_eq(text_of(&cr.messages[1]), "Weather in Paris and Rome?");
	ck_assert_int_eq(cr.messages[2].role, CHAT_ROLE_ASSISTANT);
	ck_assert_str_eq(text_of(&cr.messages[2]), loops[_i].a1);
	ck_assert_int_eq(cr.messages[3].role, CHAT_ROLE_USER);
	ck_assert_str_eq(text_of(&cr.messages[3]), loops[_i].t1);
	ck_assert_int_eq(cr.messages[4].role, CHAT_ROLE_USER);
	ck_assert_str_eq(text_of(&cr.messages[4]), loops[_i].t2);
	ck_assert_str_eq(text_of(&cr.messages[5]), loops[_i].a2);
	for (i = 0; i < cr.nmessages; i++)
		sum += cr.messages[i].parts[0].len;
	ck_assert_uint_eq(cr.text_bytes, sum);
	free(body);
	json_object_put(root);
	arena_free(&a);
}
END_TEST

/* When the section goes in, and where. */
static const struct {
	const char	*rest;
	enum tools_mode	 mode;
	int		 injected;
	size_t		 added;		/* messages added */
} modes[] = {
	{ "\"messages\":[" U "]}", TOOLS_AUTO, 1, 1 },
	{ "\"messages\":[" U "]}", TOOLS_ALWAYS, 1, 1 },
	{ "\"messages\":[" U "]}", TOOLS_NEVER, 0, 0 },
	{ "\"tool_choice\":\"none\",\"messages\":[" U "]}", TOOLS_AUTO, 0, 0 },
	{ "\"messages\":[{\"role\":\"developer\",\"content\":\"x\"}," U "]}",
	  TOOLS_AUTO, 1, 0 },
	{ "\"messages\":[{\"role\":\"system\",\"content\":[{\"type\":\"text\","
	  "\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}," U "]}",
	  TOOLS_AUTO, 1, 0 },
	{ "\"messages\":[{\"role\":\"system\",\"content\":\"You are Roo, a "
	  "coder.\"}," U "]}", TOOLS_AUTO, 0, 0 },
	{ "\"messages\":[{\"role\":\"system\",\"content\":\"## Tools\\n...\"},"
	  U "]}", TOOLS_ALWAYS, 1, 0 },
	{ "\"messages\":[" U ",{\"role\":\"system\",\"content\":\"Use "
	  "<tool_use> tags.\"}]}", TOOLS_AUTO, 0, 0 },
};

START_TEST(injection)
{
	struct arena a;
	struct chat_request cr;
	struct chat_req_error e;
	struct tools_req tr;
	struct json_object *root = NULL;
	char *body = body_with(modes[_i].rest);
	size_t before;

	arena_init(&a, 0);
	ck_assert_int_eq(parse(&a, body, &cr, &tr, &root, &e), 0);
	before = cr.nmessages;
	ck_assert_int_eq(tools_prompt_apply(&a, root, &cr, &tr, modes[_i].mode,
	    TOOLS_BRACKET), 0);
	ck_assert_int_eq(tr.injected, modes[_i].injected);
	ck_assert_uint_eq(cr.nmessages, before + modes[_i].added);
	if (modes[_i].injected) {
		ck_assert(cr.messages[0].role == CHAT_ROLE_SYSTEM ||
		    cr.messages[0].role == CHAT_ROLE_DEVELOPER);
		ck_assert_ptr_nonnull(strstr(text_of(&cr.messages[0]),
		    "# Functions you can call"));
	}
	free(body);
	json_object_put(root);
	arena_free(&a);
}
END_TEST

START_TEST(choices)
{
	struct arena a;
	struct chat_request cr;
	struct chat_req_error e;
	struct tools_req tr;
	struct json_object *root = NULL;
	char *body;

	arena_init(&a, 0);
	body = body_with("\"messages\":[" U "]}");
	ck_assert_int_eq(parse(&a, body, &cr, &tr, &root, &e), 0);
	ck_assert_int_eq(tr.choice, TOOLS_CHOICE_AUTO);
	ck_assert(tr.parallel);
	ck_assert_str_eq(tr.fns[0].schema, "{\"type\":\"object\",\"properties\":"
	    "{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}");
	ck_assert_ptr_null(tr.fns[1].schema);
	json_object_put(root);
	free(body);
	body = body_with("\"tool_choice\":{\"type\":\"function\",\"function\":"
	    "{\"name\":\"now\"}},\"parallel_tool_calls\":false,\"messages\":["
	    U "]}");
	ck_assert_int_eq(parse(&a, body, &cr, &tr, &root, &e), 0);
	ck_assert_int_eq(tr.choice, TOOLS_CHOICE_NAMED);
	ck_assert_str_eq(tr.named, "now");
	ck_assert(!tr.parallel);
	json_object_put(root);
	free(body);
	/* no tools, no history: nothing to do */
	ck_assert_int_eq(parse(&a, "{\"messages\":[" U "]}", &cr, &tr, &root,
	    &e), 0);
	ck_assert_int_eq(tr.choice, TOOLS_CHOICE_NONE);
	ck_assert_int_eq(tools_prompt_apply(&a, root, &cr, &tr, TOOLS_ALWAYS,
	    TOOLS_BRACKET), 0);
	ck_assert(!tr.injected);
	ck_assert_str_eq(text_of(&cr.messages[0]), "hi");
	json_object_put(root);
	arena_free(&a);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("tools_prompt");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, rejects, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_loop_test(tc, prompt_golden, 0,
	    sizeof(golden) / sizeof(golden[0]));
	tcase_add_loop_test(tc, history, 0, sizeof(loops) / sizeof(loops[0]));
	tcase_add_loop_test(tc, injection, 0, sizeof(modes) / sizeof(modes[0]));
	tcase_add_test(tc, choices);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
