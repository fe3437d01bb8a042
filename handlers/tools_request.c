/*
 * The tool fields of a chat body, validated as OpenAI does: "tools"
 * (function tools only), "tool_choice", "parallel_tool_calls", and the
 * tool turns of the history (assistant "tool_calls", "tool" messages
 * with their "tool_call_id").  Each refusal names its parameter.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "handlers/chat_request.h"
#include "handlers/tools.h"

/* obj[key] as a string of at most max bytes; absent: *out NULL. */
static int
get_str(struct json_object *o, const char *key, size_t max, const char *param,
    int required, const char **out, struct chat_req_error *e)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
		if (required)
			return chat_req_fail(e, "missing_required_parameter",
			    param,
			    "Missing required parameter: '%s'.", param);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return chat_req_fail(e, "invalid_type", param,
		    "Invalid type for '%s': "
		    "expected a string.", param);
	if ((size_t)json_object_get_string_len(v) > max)
		return chat_req_fail(e, "string_above_max_length", param,
		    "Invalid '%s':"
		    " string too long (the limit is %zu).", param, max);
	*out = json_object_get_string(v);
	return 0;
}

static int
parse_tool(struct arena *a, struct json_object *t, size_t i,
    struct tools_req *tr, size_t *total, struct chat_req_error *e)
{
	struct json_object *f, *v;
	struct tools_fn *fn = &tr->fns[i];
	const char *type, *js;
	char param[64];
	size_t k;

	snprintf(param, sizeof(param), "tools[%zu]", i);
	if (!json_object_is_type(t, json_type_object))
		return chat_req_fail(e, "invalid_type", param,
		    "Invalid type for '%s': "
		    "expected an object.", param);
	snprintf(param, sizeof(param), "tools[%zu].type", i);
	if (get_str(t, "type", 32, param, 1, &type, e) < 0)
		return -1;
	if (strcmp(type, "function") != 0)
		return chat_req_fail(e, "invalid_value", param,
		    "Invalid value: '%s'. "
		    "Supported values are: 'function'.", type);
	snprintf(param, sizeof(param), "tools[%zu].function", i);
	if (!json_object_object_get_ex(t, "function", &f) || f == NULL)
		return chat_req_fail(e, "missing_required_parameter", param,
		    "Missing required parameter: '%s'.", param);
	if (!json_object_is_type(f, json_type_object))
		return chat_req_fail(e, "invalid_type", param,
		    "Invalid type for '%s': "
		    "expected an object.", param);
	snprintf(param, sizeof(param), "tools[%zu].function.name", i);
	if (get_str(f, "name", 256, param, 1, &fn->name, e) < 0)
		return -1;
	if (!chat_req_name_ok(fn->name, strlen(fn->name),
	    TOOLS_NAME_MAX))
		return chat_req_fail(e, "invalid_value", param,
		    "Invalid '%s': string does not match pattern. Expected a "
		    "string that matches the pattern '^[a-zA-Z0-9_-]{1,%d}$'.",
		    param, TOOLS_NAME_MAX);
	for (k = 0; k < i; k++)
		if (strcmp(tr->fns[k].name, fn->name) == 0)
			return chat_req_fail(e, "invalid_value", param,
			    "Invalid '%s': "
			    "the function name '%s' is used twice.", param,
			    fn->name);
	snprintf(param, sizeof(param), "tools[%zu].function.description", i);
	if (get_str(f, "description", TOOLS_MAX_DESC, param, 0,
	    &fn->description, e) < 0)
		return -1;
	snprintf(param, sizeof(param), "tools[%zu].function.parameters", i);
	if (json_object_object_get_ex(f, "parameters", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_object))
			return chat_req_fail(e, "invalid_type", param,
			    "Invalid type for "
			    "'%s': expected an object (a JSON schema).", param);
		js = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		if (js == NULL)
			return chat_req_fail(e, "server_error", "",
			    "Out of memory.");
		if (strlen(js) > TOOLS_MAX_SCHEMA)
			return chat_req_fail(e, "invalid_value", param,
			    "Invalid '%s': "
			    "the schema is longer than %u bytes.", param,
			    TOOLS_MAX_SCHEMA);
		if ((fn->schema = arena_strdup(a, js)) == NULL)
			return chat_req_fail(e, "server_error", "",
			    "Out of memory.");
	}
	*total += strlen(fn->name) + (fn->description ?
	    strlen(fn->description) : 0) + (fn->schema ? strlen(fn->schema) :
	    0);
	if (*total > TOOLS_MAX_PROMPT)
		return chat_req_fail(e, "invalid_value", "tools",
		    "Invalid 'tools': the "
		    "tools take more than %u bytes.", TOOLS_MAX_PROMPT);
	return 0;
}

static int
parse_choice(struct json_object *root, struct tools_req *tr,
    struct chat_req_error *e)
{
	struct json_object *c, *f;
	const char *s;
	size_t i;

	tr->choice = tr->nfns > 0 ? TOOLS_CHOICE_AUTO : TOOLS_CHOICE_NONE;
	if (!json_object_object_get_ex(root, "tool_choice", &c) || c == NULL)
		return 0;
	if (json_object_is_type(c, json_type_string)) {
		s = json_object_get_string(c);
		if (strcmp(s, "none") == 0)
			tr->choice = TOOLS_CHOICE_NONE;
		else if (strcmp(s, "auto") == 0)
			tr->choice = TOOLS_CHOICE_AUTO;
		else if (strcmp(s, "required") == 0)
			tr->choice = TOOLS_CHOICE_REQUIRED;
		else
			return chat_req_fail(e, "invalid_value", "tool_choice",
			    "Invalid value: '%.40s'. Supported values are: "
			    "'none', 'auto' and 'required'.", s);
	} else if (json_object_is_type(c, json_type_object)) {
		if (get_str(c, "type", 32, "tool_choice.type", 1, &s, e) < 0)
			return -1;
		if (strcmp(s, "function") != 0)
			return chat_req_fail(e, "invalid_value",
			    "tool_choice.type",
			    "Invalid value: '%.40s'. Supported values are: "
			    "'function'.", s);
		if (!json_object_object_get_ex(c, "function", &f) ||
		    !json_object_is_type(f, json_type_object))
			return chat_req_fail(e, "missing_required_parameter",
			    "tool_choice.function", "Missing required "
			    "parameter: 'tool_choice.function'.");
		if (get_str(f, "name", 256, "tool_choice.function.name", 1,
		    &s, e) < 0)
			return -1;
		tr->choice = TOOLS_CHOICE_NAMED;
		tr->named = s;
	} else
		return chat_req_fail(e, "invalid_type", "tool_choice",
		    "Invalid type for "
		    "'tool_choice': expected a string or an object.");
	if (tr->nfns == 0 && tr->choice != TOOLS_CHOICE_NONE)
		return chat_req_fail(e, "invalid_value", "tool_choice",
		    "Invalid value "
		    "for 'tool_choice': 'tool_choice' is only allowed when "
		    "'tools' are specified.");
	if (tr->choice != TOOLS_CHOICE_NAMED)
		return 0;
	for (i = 0; i < tr->nfns; i++)
		if (strcmp(tr->fns[i].name, tr->named) == 0)
			return 0;
	return chat_req_fail(e, "invalid_value", "tool_choice",
	    "Invalid value for "
	    "'tool_choice': no function named '%.64s' in 'tools'.", tr->named);
}

/* The tool turns of messages[i] (m), checked. */
static int
parse_turn(struct json_object *m, size_t i, const struct chat_message *cm,
    struct tools_req *tr, struct chat_req_error *e)
{
	struct json_object *calls, *c, *f;
	const char *s;
	char param[80];
	size_t j, n;

	if (cm->role == CHAT_ROLE_TOOL) {
		snprintf(param, sizeof(param), "messages[%zu].tool_call_id", i);
		if (get_str(m, "tool_call_id", TOOLS_MAX_ID, param,
		    m != NULL && !json_object_object_get_ex(m, "name", NULL),
		    &s, e) < 0)
			return -1;
		tr->history = 1;
		return 0;
	}
	if (cm->role != CHAT_ROLE_ASSISTANT ||
	    !json_object_object_get_ex(m, "tool_calls", &calls) ||
	    calls == NULL)
		return 0;
	snprintf(param, sizeof(param), "messages[%zu].tool_calls", i);
	if (!json_object_is_type(calls, json_type_array))
		return chat_req_fail(e, "invalid_type", param,
		    "Invalid type for '%s': "
		    "expected an array.", param);
	if ((n = json_object_array_length(calls)) > TOOLS_MAX_CALLS)
		return chat_req_fail(e, "array_above_max_length", param,
		    "Invalid '%s': "
		    "more than %d calls.", param, TOOLS_MAX_CALLS);
	for (j = 0; j < n; j++) {
		c = json_object_array_get_idx(calls, j);
		snprintf(param, sizeof(param), "messages[%zu].tool_calls[%zu]",
		    i, j);
		if (!json_object_is_type(c, json_type_object))
			return chat_req_fail(e, "invalid_type", param,
			    "Invalid type "
			    "for '%s': expected an object.", param);
		snprintf(param, sizeof(param),
		    "messages[%zu].tool_calls[%zu].id", i, j);
		if (get_str(c, "id", TOOLS_MAX_ID, param, 1, &s, e) < 0)
			return -1;
		snprintf(param, sizeof(param),
		    "messages[%zu].tool_calls[%zu].type", i, j);
		if (get_str(c, "type", 32, param, 0, &s, e) < 0)
			return -1;
		if (s != NULL && strcmp(s, "function") != 0)
			return chat_req_fail(e, "invalid_value", param,
			    "Invalid value: "
			    "'%.40s'. Supported values are: 'function'.", s);
		snprintf(param, sizeof(param),
		    "messages[%zu].tool_calls[%zu].function", i, j);
		if (!json_object_object_get_ex(c, "function", &f) ||
		    !json_object_is_type(f, json_type_object))
			return chat_req_fail(e, "missing_required_parameter",
			    param,
			    "Missing required parameter: '%s'.", param);
		snprintf(param, sizeof(param),
		    "messages[%zu].tool_calls[%zu].function.name", i, j);
		if (get_str(f, "name", TOOLS_NAME_MAX, param, 1, &s, e) < 0)
			return -1;
		snprintf(param, sizeof(param),
		    "messages[%zu].tool_calls[%zu].function.arguments", i, j);
		if (get_str(f, "arguments", TOOLS_MAX_CALL, param, 1, &s,
		    e) < 0)
			return -1;
	}
	tr->history |= n > 0;
	return 0;
}

struct json_object *
tools_fn_object(const char *name, struct json_object *description,
    struct json_object *parameters)
{
	struct json_object *fn, *f;

	fn = json_object_new_object();
	f = json_object_new_object();
	json_object_object_add(fn, "type", json_object_new_string("function"));
	json_object_object_add(fn, "function", f);
	json_object_object_add(f, "name", json_object_new_string(name));
	if (description != NULL)
		json_object_object_add(f, "description",
		    json_object_get(description));
	if (parameters != NULL)
		json_object_object_add(f, "parameters",
		    json_object_get(parameters));
	return fn;
}

int
tools_request_parse(struct arena *a, struct json_object *root,
    const struct chat_request *cr, struct tools_req *tr,
    struct chat_req_error *e)
{
	struct json_object *tools, *msgs, *v;
	size_t i, n, total = 0;

	memset(tr, 0, sizeof(*tr));
	tr->parallel = 1;
	if (json_object_object_get_ex(root, "tools", &tools) && tools != NULL) {
		if (!json_object_is_type(tools, json_type_array))
			return chat_req_fail(e, "invalid_type", "tools",
			    "Invalid type "
			    "for 'tools': expected an array.");
		n = json_object_array_length(tools);
		if (n == 0)
			return chat_req_fail(e, "empty_array", "tools",
			    "Invalid 'tools':"
			    " empty array. Expected an array with minimum "
			    "length 1.");
		if (n > TOOLS_MAX_TOOLS)
			return chat_req_fail(e, "array_above_max_length",
			    "tools",
			    "Invalid 'tools': array too long. Expected an "
			    "array with maximum length %d, but got %zu.",
			    TOOLS_MAX_TOOLS, n);
		if ((tr->fns = arena_calloc(a, n, sizeof(*tr->fns))) == NULL)
			return chat_req_fail(e, "server_error", "",
			    "Out of memory.");
		for (i = 0; i < n; i++) {
			if (parse_tool(a, json_object_array_get_idx(tools, i),
			    i, tr, &total, e) < 0)
				return -1;
			tr->nfns = i + 1;
		}
	}
	if (parse_choice(root, tr, e) < 0)
		return -1;
	if (json_object_object_get_ex(root, "parallel_tool_calls", &v) &&
	    v != NULL) {
		if (!json_object_is_type(v, json_type_boolean))
			return chat_req_fail(e, "invalid_type",
			    "parallel_tool_calls",
			    "Invalid type for 'parallel_tool_calls': expected "
			    "a boolean.");
		tr->parallel = json_object_get_boolean(v);
	}
	if (!json_object_object_get_ex(root, "messages", &msgs))
		return 0;
	for (i = 0; i < cr->nmessages; i++)
		if (parse_turn(json_object_array_get_idx(msgs, i), i,
		    &cr->messages[i], tr, e) < 0)
			return -1;
	return 0;
}
