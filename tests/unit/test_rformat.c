/*
 * The request and answer sides of structured output (handlers/rformat.c):
 * every refusal of response_format is a 400 on "response_format"; the
 * instruction lands in the system message; fences around an answer are
 * stripped; answers are checked as JSON objects or against the schema;
 * the repair request carries the bad answer and the reason.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/chat_request.h"
#include "handlers/openai_sink.h"
#include "handlers/rformat.h"
#include "unit.h"

#define U	"\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
#define OBJ	"{\"type\":\"object\",\"properties\":{\"n\":{\"type\":" \
		"\"integer\"}},\"required\":[\"n\"],\"additionalProperties\":" \
		"false}"

static const struct { const char *rf, *code, *msg; } bad[] = {
	{ "[]", "invalid_type", "an object" },
	{ "{}", "missing_required_parameter", "response_format.type" },
	{ "{\"type\":1}", "invalid_type", "must be a string" },
	{ "{\"type\":\"xml\"}", "invalid_value", "'xml'" },
	{ "{\"type\":\"json_schema\"}", "missing_required_parameter",
	  "json_schema' must be an object" },
	{ "{\"type\":\"json_schema\",\"json_schema\":3}", "invalid_type",
	  "json_schema' must be an object" },
	{ "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{}}}",
	  "missing_required_parameter", "json_schema.name" },
	{ "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a b\"}}",
	  "invalid_value", "json_schema.name" },
	{ "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"\"}}",
	  "invalid_value", "json_schema.name" },
	{ "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\","
	  "\"strict\":\"yes\"}}", "invalid_type", "strict" },
	{ "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\","
	  "\"description\":7}}", "invalid_value", "description" },
	{ "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\","
	  "\"schema\":[]}}", "invalid_value", "a schema must be an object" },
	{ "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\","
	  "\"schema\":{\"type\":\"tuple\"}}}", "invalid_value",
	  "Invalid schema for response_format 'n' (unsupported schema): $: "
	  "unsupported type \"tuple\"" },
	{ "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\","
	  "\"strict\":true,\"schema\":{\"type\":\"object\",\"properties\":"
	  "{\"a\":{}}}}}", "invalid_value", "additionalProperties" },
};

static int
parse(struct arena *a, const char *rf, struct chat_request *cr,
    struct rf_req *out, struct json_object **root, struct chat_req_error *e)
{
	char body[4096];
	int rc;

	snprintf(body, sizeof(body), "{%s%s%s}", rf ? "\"response_format\":" :
	    "", rf ? rf : "", rf ? "," U : U);
	/* the field table (req_fields.c) refuses a wrong type first */
	if (chat_request_parse(a, body, strlen(body), cr, root, e) < 0)
		return -1;
	rc = rf_request_parse(a, *root, out, e);
	return rc;
}

START_TEST(rejects)
{
	struct arena a;
	struct chat_request cr;
	struct chat_req_error e;
	struct json_object *root;
	struct rf_req rf;

	arena_init(&a, 0);
	ck_assert_int_eq(parse(&a, bad[_i].rf, &cr, &rf, &root, &e), -1);
	ck_assert_int_eq(e.status, 400);
	ck_assert_str_eq(e.param, "response_format");
	ck_assert_str_eq(e.code, bad[_i].code);
	ck_assert_msg(strstr(e.message, bad[_i].msg) != NULL,
	    "%d: message \"%s\"", _i, e.message);
	json_object_put(root);
	arena_free(&a);
}
END_TEST

START_TEST(accepts)
{
	struct arena a;
	struct chat_request cr;
	struct chat_req_error e;
	struct json_object *root;
	struct rf_req rf;
	const char *t;

	arena_init(&a, 0);
	ck_assert_int_eq(parse(&a, NULL, &cr, &rf, &root, &e), 0);
	ck_assert_int_eq(rf.type, RF_TEXT);
	ck_assert_int_eq(rf_prompt_apply(&a, &cr, &rf), 0);
	ck_assert_uint_eq(cr.nmessages, 1);
	json_object_put(root);
	ck_assert_int_eq(parse(&a, "{\"type\":\"text\"}", &cr, &rf, &root,
	    &e), 0);
	ck_assert_int_eq(rf.type, RF_TEXT);
	json_object_put(root);

	/* json_object: a new system message */
	ck_assert_int_eq(parse(&a, "{\"type\":\"json_object\"}", &cr, &rf,
	    &root, &e), 0);
	ck_assert_int_eq(rf.type, RF_JSON_OBJECT);
	ck_assert_int_eq(rf_prompt_apply(&a, &cr, &rf), 0);
	ck_assert_uint_eq(cr.nmessages, 2);
	ck_assert_int_eq(cr.messages[0].role, CHAT_ROLE_SYSTEM);
	t = cr.messages[0].parts[0].text;
	ck_assert(strncmp(t, RF_MARK, strlen(RF_MARK)) == 0);
	ck_assert_ptr_nonnull(strstr(t, "object"));
	json_object_put(root);

	/* json_schema: appended to the system message, schema compact */
	ck_assert_int_eq(chat_request_parse(&a, "{\"response_format\":"
	    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"num\","
	    "\"strict\":true,\"schema\":" OBJ "}},\"messages\":[{\"role\":"
	    "\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\","
	    "\"content\":\"x\"}]}", strlen("{\"response_format\":"
	    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"num\","
	    "\"strict\":true,\"schema\":" OBJ "}},\"messages\":[{\"role\":"
	    "\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\","
	    "\"content\":\"x\"}]}"), &cr, &root, &e), 0);
	ck_assert_int_eq(rf_request_parse(&a, root, &rf, &e), 0);
	ck_assert_int_eq(rf.type, RF_JSON_SCHEMA);
	ck_assert(rf.strict);
	ck_assert_str_eq(rf.name, "num");
	ck_assert_str_eq(rf.schema_text, OBJ);
	ck_assert_int_eq(rf_prompt_apply(&a, &cr, &rf), 0);
	ck_assert_uint_eq(cr.nmessages, 2);
	t = cr.messages[0].parts[0].text;
	ck_assert(strncmp(t, "Be brief.\n\n" RF_MARK, 11 + strlen(RF_MARK)) ==
	    0);
	ck_assert_ptr_nonnull(strstr(t, "\nSchema: " OBJ));
	ck_assert_uint_eq(cr.messages[0].parts[0].len, strlen(t));
	json_object_put(root);
	arena_free(&a);
}
END_TEST

static const struct { const char *in, *out; } fences[] = {
	{ "{\"a\":1}", "{\"a\":1}" },
	{ "  \n{\"a\":1}\n\n", "{\"a\":1}" },
	{ "```json\n{\"a\":1}\n```", "{\"a\":1}" },
	{ "```\n{\"a\":1}\n```\n", "{\"a\":1}" },
	{ "\n```JSON  \r\n  {\"a\":1}  \n```  ", "{\"a\":1}" },
	{ "```json {\"a\":1}```", "```json {\"a\":1}```" },	/* no line */
	{ "Here: ```json\n{}\n```", "Here: ```json\n{}\n```" },
	{ "```", "```" },
	{ "", "" },
};

START_TEST(unfence)
{
	size_t off, len;

	rf_unfence(fences[_i].in, strlen(fences[_i].in), &off, &len);
	ck_assert_uint_eq(len, strlen(fences[_i].out));
	ck_assert(memcmp(fences[_i].in + off, fences[_i].out, len) == 0);
}
END_TEST

static const struct {
	int schema;
	const char *answer;
	enum rf_err want;
	const char *msg;
} answers[] = {
	{ 0, "{\"x\":[1,2]}", RF_OK, "{\"x\":[1,2]}" },
	{ 0, "```json\n{\"x\":1}\n```", RF_OK, NULL },
	{ 0, "[1]", RF_INVALID, "not an object" },
	{ 0, "{\"x\":1} and more", RF_INVALID, "at byte 8" },
	{ 0, "{'x':1}", RF_OK, "{\"x\":1}" },	/* made strict */
	{ 0, "{ \"a\" : \"/\" ,\n \"b\": 1.50 }", RF_OK,
	  "{\"a\":\"/\",\"b\":1.50}" },
	{ 0, "{\"x\":1,}", RF_INVALID, "not valid JSON" },
	{ 0, "{\"x\":", RF_INVALID, "not valid JSON" },
	{ 0, "  ", RF_INVALID, "empty" },
	{ 1, "{\"n\":3}", RF_OK, "{\"n\":3}" },
	{ 1, "```json\n{\"n\":3}\n```", RF_OK, NULL },
	{ 1, "{\"n\":\"3\"}", RF_INVALID, "$.n: expected integer, got string" },
	{ 1, "{}", RF_INVALID, "$: missing required property \"n\"" },
	{ 1, "{\"n\":1,\"m\":2}", RF_INVALID, "property \"m\" is not allowed" },
	{ 1, "Sure! {\"n\":1}", RF_INVALID, "not valid JSON" },
};

START_TEST(check)
{
	struct rf_req rf;
	char msg[JSCHEMA_MSG_MAX];
	struct buf out;
	enum rf_err e;

	memset(&rf, 0, sizeof(rf));
	rf.type = RF_JSON_OBJECT;
	if (answers[_i].schema) {
		rf.type = RF_JSON_SCHEMA;
		rf.schema = json_tokener_parse(OBJ);
	}
	buf_init(&out, 0);
	e = rf_check(&rf, answers[_i].answer, strlen(answers[_i].answer),
	    &out, msg, sizeof(msg));
	ck_assert_msg(e == answers[_i].want, "%d: %d (%s)", _i, e, msg);
	if (e != RF_OK && answers[_i].msg != NULL)
		ck_assert_msg(strstr(msg, answers[_i].msg) != NULL,
		    "%d: message \"%s\"", _i, msg);
	if (e == RF_OK && answers[_i].msg != NULL) {
		ck_assert_uint_eq(out.len, strlen(answers[_i].msg));
		ck_assert(memcmp(out.p, answers[_i].msg, out.len) == 0);
	}
	if (e == RF_OK)
		ck_assert(out.p[0] == '{' && out.p[out.len - 1] == '}');
	buf_free(&out);
	json_object_put(rf.schema);
}
END_TEST

START_TEST(repair)
{
	struct arena a;
	struct chat_request cr, out;
	struct chat_req_error e;
	struct json_object *root;
	struct rf_req rf;
	size_t before;

	arena_init(&a, 0);
	ck_assert_int_eq(parse(&a, "{\"type\":\"json_object\"}", &cr, &rf,
	    &root, &e), 0);
	ck_assert_int_eq(rf_prompt_apply(&a, &cr, &rf), 0);
	before = cr.text_bytes;
	ck_assert_int_eq(rf_repair_request(&a, &cr, "nope", 4,
	    "the answer is not valid JSON", &out), 0);
	ck_assert_uint_eq(out.nmessages, cr.nmessages + 2);
	ck_assert_uint_eq(cr.text_bytes, before);	/* untouched */
	ck_assert_int_eq(out.messages[2].role, CHAT_ROLE_ASSISTANT);
	ck_assert_str_eq(out.messages[2].parts[0].text, "nope");
	ck_assert_int_eq(out.messages[3].role, CHAT_ROLE_USER);
	ck_assert(strncmp(out.messages[3].parts[0].text, RF_REPAIR_MARK,
	    strlen(RF_REPAIR_MARK)) == 0);
	ck_assert_ptr_nonnull(strstr(out.messages[3].parts[0].text,
	    "not valid JSON"));
	ck_assert_uint_eq(out.text_bytes, before + 4 +
	    out.messages[3].parts[0].len);
	json_object_put(root);
	arena_free(&a);
	ck_assert_str_eq(rf_strerror(RF_INVALID),
	    "the answer does not match response_format");
}
END_TEST


/* The sink: a recording down sink stands for the OpenAI writer. */
struct rec {
	struct oa_sink	*oa;
	char		 log[1024];
};

static void
rec_add(struct rec *r, const char *what, const char *s, size_t n)
{
	size_t l = strlen(r->log);

	snprintf(r->log + l, sizeof(r->log) - l, "%s(%.*s)", what, (int)n, s);
}

static int
d_role(void *ctx, const char *role)
{
	struct rec *r = ctx;

	r->oa->started = 1;
	rec_add(r, "role", role, strlen(role));
	return 0;
}

static int
d_text(void *ctx, const char *s, size_t n)
{
	rec_add(ctx, "text", s, n);
	return 0;
}

static int
d_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	(void)f;
	(void)u;
	rec_add(ctx, "finish", "", 0);
	return 0;
}

static int
d_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	(void)type;
	(void)msg;
	ck_assert_int_eq(status, 502);
	rec_add(ctx, "error", code, strlen(code));
	return -1;
}

START_TEST(sink)
{
	struct oa_sink oa;
	struct rec r;
	struct chat_sink down, k;
	struct rf_sink f;
	struct rf_req rf;

	memset(&oa, 0, sizeof(oa));
	memset(&r, 0, sizeof(r));
	memset(&down, 0, sizeof(down));
	memset(&rf, 0, sizeof(rf));
	r.oa = &oa;
	down.ctx = &r;
	down.role = d_role;
	down.text = d_text;
	down.finish = d_finish;
	down.error = d_error;
	rf.type = RF_JSON_OBJECT;
	rf_sink_init(&f, &rf, &oa, &down);
	rf_sink_bind(&f, &k);

	/* a good answer in pieces: role at once, the JSON at the finish */
	ck_assert_int_eq(k.text(k.ctx, "```json\n{\"a\":", 13), 0);
	ck_assert_str_eq(r.log, "role(assistant)");
	ck_assert_int_eq(k.text(k.ctx, " 1}\n```", 7), 0);
	ck_assert_int_eq(k.finish(k.ctx, CHAT_FINISH_STOP, NULL), 0);
	ck_assert_str_eq(r.log, "role(assistant)text({\"a\":1})finish()");
	rf_sink_free(&f);

	/* a bad one: nothing goes out, a repair is asked, then the error */
	r.log[0] = '\0';
	rf_sink_init(&f, &rf, &oa, &down);
	rf_sink_bind(&f, &k);
	ck_assert_int_eq(k.text(k.ctx, "no json", 7), 0);
	ck_assert_int_eq(k.finish(k.ctx, CHAT_FINISH_STOP, NULL), 0);
	ck_assert(f.need_repair);
	ck_assert_str_eq(r.log, "");
	ck_assert_ptr_nonnull(strstr(f.why, "not valid JSON"));
	rf_sink_round(&f);
	ck_assert(!f.need_repair);
	ck_assert_int_eq(k.text(k.ctx, "[1]", 3), 0);
	ck_assert_int_ne(k.finish(k.ctx, CHAT_FINISH_STOP, NULL), 0);
	ck_assert_str_eq(r.log, "error(invalid_structured_output)");
	rf_sink_free(&f);

	/* the repair fits */
	r.log[0] = '\0';
	rf_sink_init(&f, &rf, &oa, &down);
	rf_sink_bind(&f, &k);
	k.text(k.ctx, "{x", 2);
	k.finish(k.ctx, CHAT_FINISH_STOP, NULL);
	rf_sink_round(&f);
	k.text(k.ctx, "{\"x\":true}", 10);
	ck_assert_int_eq(k.finish(k.ctx, CHAT_FINISH_STOP, NULL), 0);
	ck_assert_str_eq(r.log, "text({\"x\":true})finish()");
	rf_sink_free(&f);

	/* a tool call answered: the text is not checked */
	r.log[0] = '\0';
	oa.ncalls = 1;
	rf_sink_init(&f, &rf, &oa, &down);
	rf_sink_bind(&f, &k);
	k.text(k.ctx, "calling", 7);
	ck_assert_int_eq(k.finish(k.ctx, CHAT_FINISH_STOP, NULL), 0);
	ck_assert_str_eq(r.log, "text(calling)finish()");
	rf_sink_free(&f);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("rformat");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, rejects, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, accepts);
	tcase_add_loop_test(tc, unfence, 0, sizeof(fences) / sizeof(fences[0]));
	tcase_add_loop_test(tc, check, 0, sizeof(answers) / sizeof(answers[0]));
	tcase_add_test(tc, repair);
	tcase_add_test(tc, sink);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
