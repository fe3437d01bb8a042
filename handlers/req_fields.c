/*
 * The request field table (see handlers/req_fields.h).  The messages
 * and codes follow OpenAI's API, so that a client written against it
 * reads our refusals the same way.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fcgi/jstrict.h"
#include "handlers/req_fields.h"
#include "handlers/session.h"
#include "upstream/jv.h"
#include "upstream/provider.h"

#define B	(REQ_CHAT | REQ_TEXT)
#define C	REQ_CHAT
#define P	REQ_TEXT

#define STOP_MAX	4	/* stop sequences, as OpenAI */
#define BIAS_MAX	1024	/* logit_bias entries */
#define META_MAX	16	/* metadata pairs, as OpenAI */
#define META_KEY	64
#define META_VAL	512
#define INT_BIG		9007199254740991.0	/* 2^53 - 1 */

static const char *
type_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_int:
		return "an integer";
	case json_type_double:
		return "a decimal";
	case json_type_string:
		return "a string";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	}
	return "an unknown type";
}

/* What a field expects, for the invalid_type message. */
static const char *
expected(unsigned t)
{
	static const struct { unsigned t; const char *s; } names[] = {
		{ REQ_T_STRING, "a string" },
		{ REQ_T_INT, "an integer" },
		{ REQ_T_NUMBER, "a decimal" },
		{ REQ_T_BOOL, "a boolean" },
		{ REQ_T_OBJECT, "an object" },
		{ REQ_T_ARRAY, "an array" },
		{ REQ_T_STRING | REQ_T_ARRAY, "a string or an array" },
		{ REQ_T_STRING | REQ_T_OBJECT, "a string or an object" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == t)
			return names[i].s;
	return "another type";
}

static int
is_int(struct json_object *v)
{
	double d;

	if (json_object_is_type(v, json_type_int))
		return 1;
	if (!json_object_is_type(v, json_type_double))
		return 0;
	d = json_object_get_double(v);
	return isfinite(d) && d == floor(d);
}

static int
type_ok(struct json_object *v, unsigned t)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return (t & REQ_T_STRING) != 0;
	case json_type_int:
		return (t & (REQ_T_INT | REQ_T_NUMBER)) != 0;
	case json_type_double:
		return (t & REQ_T_NUMBER) != 0 ||
		    ((t & REQ_T_INT) != 0 && is_int(v));
	case json_type_boolean:
		return (t & REQ_T_BOOL) != 0;
	case json_type_object:
		return (t & REQ_T_OBJECT) != 0;
	case json_type_array:
		return (t & REQ_T_ARRAY) != 0;
	default:
		return 0;
	}
}

static int
unsupported(struct chat_req_error *e, const char *param, const char *why)
{
	return chat_req_fail(e, "unsupported_value", param,
	    "Unsupported value for '%s': %s", param, why);
}

/* n, best_of: we answer one choice. */
static int
shape_one(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	if (json_object_get_double(v) == 1)
		return 0;
	return unsupported(e, f->name, "only 1 is supported; the web "
	    "backends return one answer per request.");
}

/* logprobs (chat), echo: no token data to give back. */
static int
shape_false(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	if (!json_object_get_boolean(v))
		return 0;
	return unsupported(e, f->name, "the web backends give no token "
	    "data; send false or leave it out.");
}

/* logprobs (legacy), top_logprobs: the same, as a count. */
static int
shape_zero(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	if (json_object_get_double(v) == 0)
		return 0;
	return unsupported(e, f->name, "the web backends give no token "
	    "data; send 0 or leave it out.");
}

static int
shape_empty(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	if (json_object_get_string_len(v) == 0)
		return 0;
	return unsupported(e, f->name, "there is no insertion mode on the "
	    "web backends.");
}

/* tools and tool_choice on /v1/completions */
static int
shape_chat_only(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	(void)v;
	return unsupported(e, f->name, "use /v1/chat/completions for "
	    "tools.");
}

/* stop: a string or an array of up to four strings. */
static int
shape_strings(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	struct json_object *s;
	char param[64];
	size_t i, n;

	if (!json_object_is_type(v, json_type_array))
		return 0;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		s = json_object_array_get_idx(v, i);
		if (json_object_is_type(s, json_type_string))
			continue;
		snprintf(param, sizeof(param), "%s[%zu]", f->name, i);
		return chat_req_fail(e, "invalid_type", param,
		    "Invalid type for '%s': expected a string, but got %s "
		    "instead.", param, type_name(s));
	}
	return 0;
}

/* logit_bias: token ids (decimal strings) to numbers in -100..100. */
static int
shape_bias(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	size_t i, n;
	double d;

	json_object_object_foreach(v, key, val) {
		n = strlen(key);
		for (i = 0; i < n && key[i] >= '0' && key[i] <= '9'; i++)
			;
		if (n == 0 || n > 10 || i < n)
			return chat_req_fail(e, "invalid_value", f->name,
			    "Invalid '%s': the keys must be token ids "
			    "(integers), not '%.32s'.", f->name, key);
		if (val == NULL || !type_ok(val, REQ_T_NUMBER))
			return chat_req_fail(e, "invalid_type", f->name,
			    "Invalid type for '%s' of token %.12s: expected "
			    "a decimal, but got %s instead.", f->name, key,
			    val == NULL ? "null" : type_name(val));
		d = json_object_get_double(val);
		if (!(d >= -100 && d <= 100))
			return chat_req_fail(e, "invalid_value", f->name,
			    "Invalid '%s': the bias of token %.12s must be "
			    "between -100 and 100.", f->name, key);
	}
	return 0;
}

/* metadata: up to 16 short string pairs. */
static int
shape_metadata(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	json_object_object_foreach(v, key, val) {
		if (strlen(key) > META_KEY)
			return chat_req_fail(e, "invalid_value", f->name,
			    "Invalid '%s': keys are at most %d characters.",
			    f->name, META_KEY);
		if (val == NULL || !json_object_is_type(val, json_type_string))
			return chat_req_fail(e, "invalid_type", f->name,
			    "Invalid type for '%s.%.64s': expected a string, "
			    "but got %s instead.", f->name, key,
			    val == NULL ? "null" : type_name(val));
		if (json_object_get_string_len(val) > META_VAL)
			return chat_req_fail(e, "invalid_value", f->name,
			    "Invalid '%s': values are at most %d characters.",
			    f->name, META_VAL);
	}
	return 0;
}

/* stream_options: its members are booleans. */
static int
shape_stream_options(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	static const char *const keys[] = { "include_usage",
	    "include_obfuscation" };
	struct json_object *b;
	char param[64];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!json_object_object_get_ex(v, keys[i], &b) || b == NULL ||
		    json_object_is_type(b, json_type_boolean))
			continue;
		snprintf(param, sizeof(param), "%s.%s", f->name, keys[i]);
		return chat_req_fail(e, "invalid_type", param,
		    "Invalid type for '%s': expected a boolean, but got %s "
		    "instead.", param, type_name(b));
	}
	return 0;
}

/* A string out of a short list (written in the row's name). */
static int
one_of(struct json_object *v, const struct req_field *f,
    const char *const *ok, const char *list, struct chat_req_error *e)
{
	const char *s = json_object_get_string(v);

	for (; *ok != NULL; ok++)
		if (strcmp(s, *ok) == 0)
			return 0;
	return chat_req_fail(e, "invalid_value", f->name,
	    "Invalid value: '%.40s'. Supported values are: %s.", s, list);
}

static int
shape_verbosity(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	static const char *const ok[] = { "low", "medium", "high", NULL };

	return one_of(v, f, ok, "'low', 'medium' and 'high'", e);
}

static int
shape_tier(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	static const char *const ok[] = { "auto", "default", "flex", "scale",
	    "priority", NULL };

	return one_of(v, f, ok, "'auto', 'default', 'flex', 'scale' and "
	    "'priority'", e);
}

/* A session's name (handlers/session.h): printable ASCII, no spaces. */
static int
shape_session(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	const char *s = json_object_get_string(v);
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return chat_req_fail(e, "invalid_value", f->name,
			    "A session_id is printable ASCII without spaces.");
	return i == 0 ? chat_req_fail(e, "invalid_value", f->name,
	    "A session_id is not empty.") : 0;
}

#define S	REQ_T_STRING
#define I	REQ_T_INT
#define N	REQ_T_NUMBER
#define BO	REQ_T_BOOL
#define O	REQ_T_OBJECT
#define A	REQ_T_ARRAY

static const struct req_field fields[] = {
	/* name, apis, types, flags, min, max, maxlen, minlen, shape */
	{ "model", B, S, 0, 0, 0, CHAT_MAX_MODEL, 0, NULL },
	{ "messages", C, A, REQ_F_REQUIRED, 0, 0, CHAT_MAX_MESSAGES, 1,
	  NULL },
	{ "prompt", P, S | A, REQ_F_REQUIRED, 0, 0, 0, 0, NULL },
	{ "stream", B, BO, 0, 0, 0, 0, 0, NULL },
	{ "stream_options", B, O, 0, 0, 0, 0, 0, shape_stream_options },
	{ "max_tokens", B, I, 0, 1, 2147483647, 0, 0, NULL },
	{ "max_completion_tokens", C, I, 0, 1, 2147483647, 0, 0, NULL },
	{ "temperature", B, N, 0, 0, 2, 0, 0, NULL },
	{ "top_p", B, N, 0, 0, 1, 0, 0, NULL },
	{ "n", B, I, 0, 1, 128, 0, 0, shape_one },
	{ "best_of", P, I, 0, 0, 20, 0, 0, shape_one },
	{ "stop", B, S | A, 0, 0, 0, STOP_MAX, 0, shape_strings },
	{ "presence_penalty", B, N, 0, -2, 2, 0, 0, NULL },
	{ "frequency_penalty", B, N, 0, -2, 2, 0, 0, NULL },
	{ "logit_bias", B, O, 0, 0, 0, BIAS_MAX, 0, shape_bias },
	{ "seed", B, I, 0, -INT_BIG, INT_BIG, 0, 0, NULL },
	{ "logprobs", C, BO, 0, 0, 0, 0, 0, shape_false },
	{ "logprobs", P, I, 0, 0, 5, 0, 0, shape_zero },
	{ "top_logprobs", C, I, 0, 0, 20, 0, 0, shape_zero },
	{ "echo", P, BO, 0, 0, 0, 0, 0, shape_false },
	{ "suffix", P, S, 0, 0, 0, 0, 0, shape_empty },
	{ "user", B, S, 0, 0, 0, 256, 0, NULL },
	{ "tools", C, A, 0, 0, 0, 0, 0, NULL },
	{ "tools", P, ~0u, 0, 0, 0, 0, 0, shape_chat_only },
	{ "tool_choice", C, S | O, 0, 0, 0, 0, 0, NULL },
	{ "tool_choice", P, ~0u, 0, 0, 0, 0, 0, shape_chat_only },
	{ "parallel_tool_calls", C, BO, 0, 0, 0, 0, 0, NULL },
	{ "functions", C, A, 0, 0, 0, 0, 0, NULL },
	{ "function_call", C, S | O, 0, 0, 0, 0, 0, NULL },
	{ "response_format", C, O, 0, 0, 0, 0, 0, NULL },
	{ "reasoning_effort", C, S, 0, 0, 0, 16, 0, NULL },
	{ "verbosity", C, S, 0, 0, 0, 0, 0, shape_verbosity },
	{ "service_tier", B, S, 0, 0, 0, 0, 0, shape_tier },
	{ "store", C, BO, 0, 0, 0, 0, 0, NULL },
	{ "metadata", C, O, 0, 0, 0, META_MAX, 0, shape_metadata },
	{ "modalities", C, A, 0, 0, 0, 4, 0, shape_strings },
	{ "audio", C, O, 0, 0, 0, 0, 0, NULL },
	{ "prediction", C, O, 0, 0, 0, 0, 0, NULL },
	{ "web_search_options", C, O, 0, 0, 0, 0, 0, NULL },
	{ "prompt_cache_key", C, S, 0, 0, 0, 1024, 0, NULL },
	{ "safety_identifier", C, S, 0, 0, 0, 256, 0, NULL },
	/* ours (README, "Request extensions") */
	{ "reasoningEffort", C, S, REQ_F_EXT, 0, 0, 16, 0, NULL },
	{ "web_search", C, BO, REQ_F_EXT, 0, 0, 0, 0, NULL },
	{ "deep_research", C, BO, REQ_F_EXT, 0, 0, 0, 0, NULL },
	{ "history_disabled", C, BO, REQ_F_EXT, 0, 0, 0, 0, NULL },
	{ "conversation_id", C, S, REQ_F_EXT, 0, 0, CHAT_MAX_ID, 0, NULL },
	{ "parent_message_id", C, S, REQ_F_EXT, 0, 0, CHAT_MAX_ID, 0,
	  NULL },
	{ "Chatgpt-Account-Id", C, S, REQ_F_EXT, 0, 0, CHAT_MAX_ID, 0,
	  NULL },
	{ "session_id", C, S, REQ_F_EXT, 0, 0, SESSION_NAME_MAX, 0,
	  shape_session },
};

const struct req_field *
req_fields_table(size_t *n)
{
	*n = sizeof(fields) / sizeof(fields[0]);
	return fields;
}

/* A number against [min, max], worded as OpenAI does. */
static int
check_range(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	const char *kind = (f->types & REQ_T_INT) ? "integer" : "decimal";
	double d = json_object_get_double(v);

	if (d < f->min)
		return chat_req_fail(e, (f->types & REQ_T_INT) ?
		    "integer_below_min_value" : "decimal_below_min_value",
		    f->name, "Invalid '%s': %s below minimum value. Expected "
		    "a value >= %.17g, but got %.32s instead.", f->name, kind,
		    f->min, json_object_get_string(v));
	if (!(d <= f->max))
		return chat_req_fail(e, (f->types & REQ_T_INT) ?
		    "integer_above_max_value" : "decimal_above_max_value",
		    f->name, "Invalid '%s': %s above maximum value. Expected "
		    "a value <= %.17g, but got %.32s instead.", f->name, kind,
		    f->max, json_object_get_string(v));
	return 0;
}

static int
check_field(struct json_object *v, const struct req_field *f,
    struct chat_req_error *e)
{
	size_t n;

	if (f->types != ~0u && !type_ok(v, f->types))
		return chat_req_fail(e, "invalid_type", f->name,
		    "Invalid type for '%s': expected %s, but got %s instead.",
		    f->name, expected(f->types), type_name(v));
	switch (json_object_get_type(v)) {
	case json_type_int:
	case json_type_double:
		if ((f->types & (REQ_T_INT | REQ_T_NUMBER)) &&
		    (f->min != 0 || f->max != 0) && check_range(v, f, e) < 0)
			return -1;
		break;
	case json_type_string:
		n = (size_t)json_object_get_string_len(v);
		if (f->maxlen && n > f->maxlen)
			return chat_req_fail(e, "string_above_max_length",
			    f->name, "Invalid '%s': string too long. Expected "
			    "a string with maximum length %zu, but got a "
			    "string with length %zu instead.", f->name,
			    f->maxlen, n);
		break;
	case json_type_array:
		n = json_object_array_length(v);
		if (n < f->minlen)
			return chat_req_fail(e, "empty_array", f->name,
			    "Invalid '%s': empty array. Expected an array with "
			    "minimum length %zu, but got an empty array "
			    "instead.", f->name, f->minlen);
		if (f->maxlen && n > f->maxlen)
			return chat_req_fail(e, "array_above_max_length",
			    f->name, "Invalid '%s': array too long. Expected "
			    "an array with maximum length %zu, but got an "
			    "array with length %zu instead.", f->name,
			    f->maxlen, n);
		break;
	case json_type_object:
		n = (size_t)json_object_object_length(v);
		if (f->maxlen && n > f->maxlen)
			return chat_req_fail(e, "invalid_value", f->name,
			    "Invalid '%s': too many keys. Expected at most "
			    "%zu, but got %zu.", f->name, f->maxlen, n);
		break;
	default:
		break;
	}
	return f->shape != NULL ? f->shape(v, f, e) : 0;
}

int
req_fields_check(struct json_object *root, unsigned api,
    struct chat_req_error *e)
{
	struct json_object *v, *so;
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if ((fields[i].apis & api) == 0)
			continue;
		if (!json_object_object_get_ex(root, fields[i].name, &v) ||
		    v == NULL) {
			if (fields[i].flags & REQ_F_REQUIRED)
				return chat_req_fail(e,
				    "missing_required_parameter",
				    fields[i].name, "Missing required "
				    "parameter: '%s'.", fields[i].name);
			continue;
		}
		if (check_field(v, &fields[i], e) < 0)
			return -1;
	}
	if (json_object_object_get_ex(root, "stream_options", &so) &&
	    so != NULL && (!json_object_object_get_ex(root, "stream", &v) ||
	    !json_object_is_type(v, json_type_boolean) ||
	    !json_object_get_boolean(v)))
		return chat_req_fail(e, "invalid_value", "stream_options",
		    "The 'stream_options' parameter is only allowed when "
		    "'stream' is enabled.");
	return 0;
}

int
req_body_parse(const char *body, size_t len, struct json_object **rootp,
    struct chat_req_error *e)
{
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL;
	enum jstrict_err je;
	size_t off;

	*rootp = NULL;
	if ((je = jstrict_check(body, len, REQ_MAX_DEPTH, &off)) !=
	    JSTRICT_OK)
		return chat_req_fail(e, "invalid_json", NULL, "We could not "
		    "parse the JSON body of your request (%s at byte %zu).",
		    jstrict_strerror(je), off);
	/*
	 * The value starts at the first non-blank.  Only an object goes on
	 * to json-c, which waits for more after a bare number.
	 */
	for (off = 0; off < len && (body[off] == ' ' || body[off] == '\t' ||
	    body[off] == '\r' || body[off] == '\n'); off++)
		;
	if (off == len || body[off] != '{')
		return chat_req_fail(e, "invalid_type", NULL, "The request "
		    "body must be a JSON object.");
	if (len > INT_MAX)	/* json-c counts in int */
		return chat_req_fail(e, "invalid_json", NULL, "The body is "
		    "too large.");
	if ((tok = json_tokener_new_ex(REQ_MAX_DEPTH + 1)) == NULL)
		return chat_req_fail(e, "server_error", NULL,
		    "Out of memory.");
	root = json_tokener_parse_ex(tok, body, (int)len);
	json_tokener_free(tok);
	if (root == NULL)	/* checked above: only out of memory */
		return chat_req_fail(e, "server_error", NULL,
		    "Out of memory.");
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);	/* not reached: '{' opens it */
		return chat_req_fail(e, "invalid_type", NULL, "The request "
		    "body must be a JSON object.");
	}
	/* it lives as long as the answer streams: a history of messages
	 * is an object each, 16 member slots each (BENCHMARKS.md §20) */
	jv_compact(root);
	*rootp = root;
	return 0;
}
