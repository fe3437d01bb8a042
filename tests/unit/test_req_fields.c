/*
 * The request field table: every row gets a good value, a value of the
 * wrong type and values out of its range, through the same strict body
 * parser the handlers use; then the shapes and the rules between fields.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fcgi/buf.h"
#include "handlers/chat_request.h"
#include "handlers/req_fields.h"
#include "unit.h"

/* A body for api with name set to the JSON text value (last key wins). */
static void
body_for(struct buf *b, unsigned api, const char *name, const char *value)
{
	buf_reset(b);
	if (api == REQ_CHAT)
		buf_adds(b, "{\"messages\":[{\"role\":\"user\",\"content\":"
		    "\"x\"}],\"stream\":true");
	else
		buf_adds(b, "{\"prompt\":\"x\",\"stream\":true");
	if (name != NULL) {
		buf_adds(b, ",");
		buf_json_str(b, name, strlen(name));
		buf_printf(b, ":%s", value);
	}
	buf_adds(b, "}");
	ck_assert(!b->failed);
}

/* 0, or -1 with e filled: what a handler sees. */
static int
check_body(const struct buf *b, unsigned api, struct chat_req_error *e)
{
	struct json_object *root = NULL;
	int rc;

	memset(e, 0, sizeof(*e));
	if (req_body_parse(b->p, b->len, &root, e) < 0)
		return -1;
	rc = req_fields_check(root, api, e);
	json_object_put(root);
	return rc;
}

static void
expect(unsigned api, const char *name, const char *value, const char *code,
    const char *param)
{
	struct chat_req_error e;
	struct buf b;
	int rc;

	buf_init(&b, 0);
	body_for(&b, api, name, value);
	rc = check_body(&b, api, &e);
	if (code == NULL)
		ck_assert_msg(rc == 0, "%s=%.60s: refused (%s %s: %s)", name,
		    value, e.code, e.param, e.message);
	else {
		ck_assert_msg(rc == -1, "%s=%.60s: accepted, want %s", name,
		    value, code);
		ck_assert_int_eq(e.status, 400);
		ck_assert_msg(strcmp(e.code, code) == 0,
		    "%s=%.60s: code %s, want %s (%s)", name, value, e.code,
		    code, e.message);
		ck_assert_msg(strcmp(e.param, param) == 0,
		    "%s=%.60s: param %s, want %s", name, value, e.param,
		    param);
		ck_assert(e.message[0] != '\0');
	}
	buf_free(&b);
}

/* Good values where the type alone does not make one. */
static const struct { unsigned api; const char *name, *good; } goods[] = {
	{ REQ_CHAT, "messages", "[{\"role\":\"system\",\"content\":\"s\"}]" },
	{ REQ_TEXT, "prompt", "\"p\"" },
	{ REQ_TEXT, "logprobs", "0" },
	{ REQ_CHAT, "logprobs", "false" },
	{ REQ_CHAT, "top_logprobs", "0" },
	{ REQ_TEXT, "echo", "false" },
	{ REQ_TEXT, "suffix", "\"\"" },
	{ REQ_TEXT, "best_of", "1" },
	{ REQ_CHAT, "verbosity", "\"low\"" },
	{ REQ_TEXT, "service_tier", "\"auto\"" },
	{ REQ_CHAT, "service_tier", "\"flex\"" },
	{ REQ_CHAT, "stream_options", "{\"include_usage\":true}" },
	{ REQ_TEXT, "stream_options", "{\"include_usage\":false}" },
	{ REQ_CHAT, "stop", "[\"a\",\"b\"]" },
	{ REQ_CHAT, "logit_bias", "{\"50256\":-100,\"13\":2.5}" },
	{ REQ_CHAT, "metadata", "{\"k\":\"v\"}" },
	{ REQ_CHAT, "modalities", "[\"text\"]" },
	{ REQ_CHAT, "tool_choice", "\"none\"" },
};

static const char *
good_value(const struct req_field *f, unsigned api)
{
	size_t i;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++)
		if ((goods[i].api & api) && strcmp(goods[i].name, f->name) == 0)
			return goods[i].good;
	if (f->types & REQ_T_INT)
		return f->min <= 1 && f->max >= 1 ? "1" : "0";
	if (f->types & REQ_T_NUMBER)
		return "0.5";
	if (f->types & REQ_T_STRING)
		return "\"a\"";
	if (f->types & REQ_T_BOOL)
		return "true";
	if (f->types & REQ_T_OBJECT)
		return "{}";
	return "[]";
}

static const char *
wrong_value(const struct req_field *f)
{
	if (!(f->types & REQ_T_OBJECT))
		return "{\"a\":1}";
	if (!(f->types & REQ_T_STRING))
		return "\"s\"";
	return "true";
}

START_TEST(every_row)
{
	const struct req_field *t, *f;
	struct buf v;
	unsigned api;
	size_t n, k;
	char num[64];

	t = req_fields_table(&n);
	ck_assert_uint_ge(n, 40);
	f = &t[_i];
	ck_assert_uint_lt((size_t)_i, n);
	buf_init(&v, 0);
	for (api = REQ_CHAT; api <= REQ_TEXT; api <<= 1) {
		if (!(f->apis & api))
			continue;
		if (f->types == ~0u) {	/* never on this endpoint */
			expect(api, f->name, "[]", "unsupported_value",
			    f->name);
			continue;
		}
		expect(api, f->name, good_value(f, api), NULL, NULL);
		/* null is absent, unless the field is required */
		expect(api, f->name, "null", (f->flags & REQ_F_REQUIRED) ?
		    "missing_required_parameter" : NULL, f->name);
		expect(api, f->name, wrong_value(f), "invalid_type", f->name);
		if ((f->types & (REQ_T_INT | REQ_T_NUMBER)) &&
		    (f->min != 0 || f->max != 0)) {
			int whole = (f->types & REQ_T_INT) != 0;

			snprintf(num, sizeof(num), "%.17g", f->max + 1);
			expect(api, f->name, num, whole ?
			    "integer_above_max_value" :
			    "decimal_above_max_value", f->name);
			snprintf(num, sizeof(num), "%.17g", f->min - 1);
			expect(api, f->name, num, whole ?
			    "integer_below_min_value" :
			    "decimal_below_min_value", f->name);
			if (whole)
				expect(api, f->name, "1.5", "invalid_type",
				    f->name);
		}
		if ((f->types & REQ_T_STRING) && f->maxlen) {
			buf_reset(&v);
			buf_adds(&v, "\"");
			for (k = 0; k <= f->maxlen; k++)
				buf_adds(&v, "a");
			buf_adds(&v, "\"");
			expect(api, f->name, v.p, "string_above_max_length",
			    f->name);
		}
		if ((f->types & REQ_T_ARRAY) && f->maxlen) {
			buf_reset(&v);
			buf_adds(&v, "[");
			for (k = 0; k <= f->maxlen; k++)
				buf_adds(&v, k ? ",\"a\"" : "\"a\"");
			buf_adds(&v, "]");
			expect(api, f->name, v.p, "array_above_max_length",
			    f->name);
		}
		if ((f->types & REQ_T_ARRAY) && f->minlen)
			expect(api, f->name, "[]", "empty_array", f->name);
		if ((f->types & REQ_T_OBJECT) && f->maxlen) {
			buf_reset(&v);
			buf_adds(&v, "{");
			for (k = 0; k <= f->maxlen; k++)
				buf_printf(&v, "%s\"%zu\":\"1\"", k ? "," : "",
				    k);
			buf_adds(&v, "}");
			expect(api, f->name, v.p, "invalid_value", f->name);
		}
	}
	ck_assert(!v.failed);
	buf_free(&v);
}
END_TEST

/* What the types and ranges alone do not catch. */
static const struct {
	unsigned api;
	const char *name, *value, *code, *param;
} shapes[] = {
	{ REQ_CHAT, "n", "2", "unsupported_value", "n" },
	{ REQ_TEXT, "n", "3", "unsupported_value", "n" },
	{ REQ_TEXT, "best_of", "2", "unsupported_value", "best_of" },
	{ REQ_CHAT, "max_tokens", "0", "integer_below_min_value",
	  "max_tokens" },
	{ REQ_CHAT, "max_tokens", "2.0", NULL, NULL },
	{ REQ_CHAT, "max_completion_tokens", "-5", "integer_below_min_value",
	  "max_completion_tokens" },
	{ REQ_CHAT, "temperature", "2", NULL, NULL },
	{ REQ_CHAT, "temperature", "2.0001", "decimal_above_max_value",
	  "temperature" },
	{ REQ_CHAT, "temperature", "1e400", "decimal_above_max_value",
	  "temperature" },
	{ REQ_CHAT, "logprobs", "true", "unsupported_value", "logprobs" },
	{ REQ_TEXT, "logprobs", "2", "unsupported_value", "logprobs" },
	{ REQ_TEXT, "logprobs", "true", "invalid_type", "logprobs" },
	{ REQ_CHAT, "top_logprobs", "3", "unsupported_value",
	  "top_logprobs" },
	{ REQ_TEXT, "echo", "true", "unsupported_value", "echo" },
	{ REQ_TEXT, "suffix", "\"after\"", "unsupported_value", "suffix" },
	{ REQ_TEXT, "tools", "null", NULL, NULL },
	{ REQ_TEXT, "tool_choice", "\"auto\"", "unsupported_value",
	  "tool_choice" },
	{ REQ_CHAT, "stop", "\"END\"", NULL, NULL },
	{ REQ_TEXT, "stop", "[\"a\",\"b\",\"c\",\"d\"]", NULL, NULL },
	{ REQ_CHAT, "stop", "[\"a\",7]", "invalid_type", "stop[1]" },
	{ REQ_CHAT, "stop", "7", "invalid_type", "stop" },
	{ REQ_CHAT, "logit_bias", "{\"x1\":1}", "invalid_value",
	  "logit_bias" },
	{ REQ_CHAT, "logit_bias", "{\"\":1}", "invalid_value", "logit_bias" },
	{ REQ_CHAT, "logit_bias", "{\"5\":101}", "invalid_value",
	  "logit_bias" },
	{ REQ_CHAT, "logit_bias", "{\"5\":\"a\"}", "invalid_type",
	  "logit_bias" },
	{ REQ_CHAT, "logit_bias", "[1]", "invalid_type", "logit_bias" },
	{ REQ_CHAT, "metadata", "{\"a\":1}", "invalid_type", "metadata" },
	{ REQ_CHAT, "stream_options", "{\"include_usage\":1}",
	  "invalid_type", "stream_options.include_usage" },
	{ REQ_CHAT, "verbosity", "\"loud\"", "invalid_value", "verbosity" },
	{ REQ_CHAT, "service_tier", "\"gold\"", "invalid_value",
	  "service_tier" },
	{ REQ_CHAT, "modalities", "[\"text\",1]", "invalid_type",
	  "modalities[1]" },
	{ REQ_CHAT, "seed", "-42", NULL, NULL },
	{ REQ_CHAT, "seed", "\"42\"", "invalid_type", "seed" },
	{ REQ_CHAT, "tools", "{}", "invalid_type", "tools" },
	{ REQ_CHAT, "unknown_field", "{\"any\":[1]}", NULL, NULL },
	{ REQ_CHAT, "reasoning_effort", "\"high\"", NULL, NULL },
	{ REQ_CHAT, "web_search", "\"yes\"", "invalid_type", "web_search" },
};

START_TEST(shape)
{
	expect(shapes[_i].api, shapes[_i].name, shapes[_i].value,
	    shapes[_i].code, shapes[_i].param);
}
END_TEST

/* stream_options needs stream; prompt and messages are required. */
START_TEST(between_fields)
{
	static const char *const bodies[] = {
		"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
		"\"stream_options\":{\"include_usage\":true}}",
		"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
		"\"stream\":false,\"stream_options\":{}}",
		"{\"prompt\":\"x\",\"stream_options\":{}}",
	};
	struct chat_req_error e;
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		buf_reset(&b);
		buf_adds(&b, bodies[i]);
		ck_assert_int_eq(check_body(&b, i < 2 ? REQ_CHAT : REQ_TEXT,
		    &e), -1);
		ck_assert_str_eq(e.code, "invalid_value");
		ck_assert_str_eq(e.param, "stream_options");
	}
	buf_reset(&b);
	buf_adds(&b, "{\"model\":\"m\"}");
	ck_assert_int_eq(check_body(&b, REQ_CHAT, &e), -1);
	ck_assert_str_eq(e.code, "missing_required_parameter");
	ck_assert_str_eq(e.param, "messages");
	ck_assert_int_eq(check_body(&b, REQ_TEXT, &e), -1);
	ck_assert_str_eq(e.param, "prompt");
	buf_free(&b);
}
END_TEST

/* The body itself: one object, strict JSON, nothing after it. */
START_TEST(bodies)
{
	static const struct { const char *s; const char *code; } cases[] = {
		{ "{\"prompt\":\"x\"}", NULL },
		{ "  {\"prompt\":\"x\"}\r\n ", NULL },
		{ "{\"prompt\":\"x\"}garbage", "invalid_json" },
		{ "{\"prompt\":\"x\"}{}", "invalid_json" },
		{ "{\"prompt\":'x'}", "invalid_json" },
		{ "{\"prompt\":\"x\",}", "invalid_json" },
		{ "{\"prompt\":\"\xc3\x28\"}", "invalid_json" },
		{ "[{\"prompt\":\"x\"}]", "invalid_type" },
		{ "null", "invalid_type" },
		{ "42", "invalid_type" },
		{ "\"{\"", "invalid_type" },
		{ "", "invalid_json" },
	};
	struct json_object *root;
	struct chat_req_error e;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		root = NULL;
		rc = req_body_parse(cases[i].s, strlen(cases[i].s), &root, &e);
		if (cases[i].code == NULL) {
			ck_assert_msg(rc == 0 && root != NULL, "%s: %s",
			    cases[i].s, e.message);
			json_object_put(root);
			continue;
		}
		ck_assert_msg(rc == -1 && root == NULL, "%s accepted",
		    cases[i].s);
		ck_assert_str_eq(e.code, cases[i].code);
		ck_assert_int_eq(e.status, 400);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("req_fields");
	TCase *tc = tcase_create("core");
	size_t n;

	req_fields_table(&n);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, every_row, 0, (int)n);
	tcase_add_loop_test(tc, shape, 0, sizeof(shapes) / sizeof(shapes[0]));
	tcase_add_test(tc, between_fields);
	tcase_add_test(tc, bodies);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
