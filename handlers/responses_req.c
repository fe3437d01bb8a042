/*
 * A /v1/responses body into an OpenAI chat body (see responses.h).  The
 * conversation is instructions (as the system message), the stored
 * history of previous_response_id, then the input items: messages with
 * input_text / input_image / input_file parts, function_call items
 * (assistant tool_calls), function_call_output items ("tool" messages),
 * item_reference to an item of a stored response.  Reasoning items are
 * dropped: no upstream takes earlier reasoning back.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/rand.h"
#include "handlers/responses.h"
#include "handlers/tools.h"
#include "upstream/jv.h"

#define BAD(code, param, ...)	chat_req_fail(e, code, param, __VA_ARGS__)

struct conv {
	json_object	*msgs;		/* chat messages of this turn */
	json_object	*calls;		/* open assistant tool_calls, or NULL */
	rsp_lookup_fn	 lookup;
	void		*lctx;
	struct chat_req_error *e;
};

void
rsp_opts_free(struct rsp_opts *o)
{
	json_object_put(o->echo);
	json_object_put(o->history);
	o->echo = o->history = NULL;
}

int
rsp_item_owner(const char *item, char *out, size_t outsz)
{
	const char *p = strchr(item, '_'), *q = strrchr(item, '_');
	size_t n;

	if (p == NULL || q <= p + 1)
		return -1;
	n = (size_t)(q - p - 1);
	if (n > RSP_ID_LEN - 5 || !chat_req_name_ok(p + 1, n, n) ||
	    memchr(p + 1, '-', n) != NULL || outsz < n + 6)
		return -1;
	snprintf(out, outsz, "resp_%.*s", (int)n, p + 1);
	return 0;
}

static json_object *
part(const char *type, const char *key, json_object *v)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "type", json_object_new_string(type));
	json_object_object_add(p, key, v);
	return p;
}

/* One content part of a message item as a chat part. */
static int
convert_part(json_object *it, const char *param, json_object **out,
    struct chat_req_error *e)
{
	const char *type = jv_cstr(it, "type");
	json_object *v, *u;

	*out = NULL;
	if (type == NULL)
		return BAD("missing_required_parameter", param, "Missing "
		    "required parameter: '%s.type'.", param);
	if (strcmp(type, "input_text") == 0 || strcmp(type, "output_text") ==
	    0 || strcmp(type, "text") == 0 || strcmp(type, "refusal") == 0) {
		v = jv_get(it, strcmp(type, "refusal") == 0 ? "refusal" :
		    "text");
		if (!json_object_is_type(v, json_type_string))
			return BAD("invalid_type", param, "Invalid type for "
			    "'%s.text': expected a string.", param);
		*out = part("text", "text", json_object_get(v));
		return 0;
	}
	if (strcmp(type, "input_image") == 0) {
		v = jv_get(it, "image_url");
		if (!json_object_is_type(v, json_type_string))
			return BAD("invalid_value", param, "'%s': only "
			    "image_url images are supported (no file_id).",
			    param);
		u = json_object_new_object();
		json_object_object_add(u, "url", json_object_get(v));
		if ((v = jv_get(it, "detail")) != NULL)
			json_object_object_add(u, "detail", json_object_get(v));
		*out = part("image_url", "image_url", u);
		return 0;
	}
	if (strcmp(type, "input_file") == 0) {
		v = jv_get(it, "file_data");
		if (!json_object_is_type(v, json_type_string))
			return BAD("invalid_value", param, "'%s': only "
			    "file_data files are supported (no file_id).",
			    param);
		u = json_object_new_object();
		json_object_object_add(u, "file_data", json_object_get(v));
		if ((v = jv_get(it, "filename")) != NULL)
			json_object_object_add(u, "filename",
			    json_object_get(v));
		*out = part("file", "file", u);
		return 0;
	}
	return BAD("invalid_value", param, "Invalid value for '%s.type': "
	    "'%.40s' is not supported here.", param, type);
}

static int
convert_msg(struct conv *c, json_object *it, const char *param)
{
	struct chat_req_error *e = c->e;
	const char *role = jv_cstr(it, "role");
	json_object *content = jv_get(it, "content"), *m, *parts, *p;
	char pp[64];
	size_t i;

	if (role == NULL || (strcmp(role, "user") != 0 && strcmp(role,
	    "assistant") != 0 && strcmp(role, "system") != 0 &&
	    strcmp(role, "developer") != 0))
		return BAD("invalid_value", param, "Invalid value for "
		    "'%s.role': expected 'user', 'assistant', 'system' or "
		    "'developer'.", param);
	m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string(role));
	if (json_object_is_type(content, json_type_string))
		json_object_object_add(m, "content", json_object_get(content));
	else if (json_object_is_type(content, json_type_array)) {
		parts = json_object_new_array();
		json_object_object_add(m, "content", parts);
		for (i = 0; i < json_object_array_length(content); i++) {
			snprintf(pp, sizeof(pp), "%s.content[%zu]", param, i);
			if (convert_part(json_object_array_get_idx(content, i),
			    pp, &p, e) < 0) {
				json_object_put(m);
				return -1;
			}
			json_object_array_add(parts, p);
		}
	} else {
		json_object_put(m);
		return BAD("invalid_type", param, "Invalid type for "
		    "'%s.content': expected a string or an array.", param);
	}
	json_object_array_add(c->msgs, m);
	c->calls = NULL;
	return 0;
}

/* Consecutive calls go into one assistant message. */
static int
convert_call(struct conv *c, json_object *it, const char *param)
{
	struct chat_req_error *e = c->e;
	const char *id = jv_cstr(it, "call_id"), *name = jv_cstr(it, "name");
	const char *args = jv_cstr(it, "arguments");
	json_object *m, *tc, *f;

	if (id == NULL || name == NULL || args == NULL)
		return BAD("missing_required_parameter", param, "'%s': a "
		    "function_call needs call_id, name and arguments.", param);
	if (c->calls == NULL) {
		m = json_object_new_object();
		json_object_object_add(m, "role",
		    json_object_new_string("assistant"));
		json_object_object_add(m, "content", NULL);
		c->calls = json_object_new_array();
		json_object_object_add(m, "tool_calls", c->calls);
		json_object_array_add(c->msgs, m);
	}
	tc = json_object_new_object();
	json_object_object_add(tc, "id", json_object_new_string(id));
	json_object_object_add(tc, "type", json_object_new_string("function"));
	f = json_object_new_object();
	json_object_object_add(f, "name", json_object_new_string(name));
	json_object_object_add(f, "arguments", json_object_new_string(args));
	json_object_object_add(tc, "function", f);
	json_object_array_add(c->calls, tc);
	return 0;
}

static int
convert_output(struct conv *c, json_object *it, const char *param)
{
	struct chat_req_error *e = c->e;
	const char *id = jv_cstr(it, "call_id");
	json_object *out = jv_get(it, "output"), *m, *p, *t;
	struct buf b;
	size_t i;

	if (id == NULL || out == NULL)
		return BAD("missing_required_parameter", param, "'%s': a "
		    "function_call_output needs call_id and output.", param);
	m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("tool"));
	json_object_object_add(m, "tool_call_id", json_object_new_string(id));
	if (json_object_is_type(out, json_type_array)) {
		/* the text parts of an output list */
		buf_init(&b, CHAT_MAX_TEXT);
		for (i = 0; i < json_object_array_length(out); i++) {
			p = json_object_array_get_idx(out, i);
			if ((t = jv_get(p, "text")) != NULL &&
			    json_object_is_type(t, json_type_string))
				buf_add(&b, json_object_get_string(t),
				    (size_t)json_object_get_string_len(t));
		}
		json_object_object_add(m, "content", json_object_new_string_len(
		    b.p ? b.p : "", (int)b.len));
		buf_free(&b);
	} else if (json_object_is_type(out, json_type_string))
		json_object_object_add(m, "content", json_object_get(out));
	else {
		json_object_put(m);
		return BAD("invalid_type", param, "Invalid type for "
		    "'%s.output': expected a string.", param);
	}
	json_object_array_add(c->msgs, m);
	c->calls = NULL;
	return 0;
}

static int convert_item(struct conv *, json_object *, const char *, int);

/* An item_reference: the item as a stored response wrote it. */
static int
convert_ref(struct conv *c, json_object *it, const char *param)
{
	struct chat_req_error *e = c->e;
	const char *id = jv_cstr(it, "id");
	json_object *rec = NULL, *out, *x;
	char rid[64], *s = NULL;
	size_t i;
	int rc = -1;

	if (id == NULL)
		return BAD("missing_required_parameter", param, "'%s': an "
		    "item_reference needs an id.", param);
	if (rsp_item_owner(id, rid, sizeof(rid)) == 0 && c->lookup != NULL)
		s = c->lookup(c->lctx, rid);
	if (s != NULL)
		rec = json_tokener_parse(s);
	free(s);
	out = jv_get(jv_get(rec, "response"), "output");
	for (i = 0; json_object_is_type(out, json_type_array) &&
	    i < json_object_array_length(out); i++) {
		x = json_object_array_get_idx(out, i);
		if (jv_is(jv_get(x, "id"), id)) {
			rc = convert_item(c, x, param, 0);
			break;
		}
	}
	if (rc < 0 && e->message[0] == '\0')
		BAD("invalid_value", param, "Item with id '%.64s' not found.",
		    id);
	json_object_put(rec);
	return rc;
}

static int
convert_item(struct conv *c, json_object *it, const char *param, int refs)
{
	struct chat_req_error *e = c->e;
	const char *type = jv_cstr(it, "type");

	if (!json_object_is_type(it, json_type_object))
		return BAD("invalid_type", param, "Invalid type for '%s': "
		    "expected an object.", param);
	if (type == NULL && jv_get(it, "role") != NULL)
		type = "message";
	if (type == NULL)
		return BAD("missing_required_parameter", param, "Missing "
		    "required parameter: '%s.type'.", param);
	if (strcmp(type, "message") == 0)
		return convert_msg(c, it, param);
	if (strcmp(type, "function_call") == 0)
		return convert_call(c, it, param);
	if (strcmp(type, "function_call_output") == 0)
		return convert_output(c, it, param);
	if (strcmp(type, "reasoning") == 0)
		return 0;
	if (strcmp(type, "item_reference") == 0 && refs)
		return convert_ref(c, it, param);
	return BAD("invalid_value", param, "Invalid value for '%s.type': "
	    "'%.40s' is not supported here.", param, type);
}

static int
convert_input(struct conv *c, json_object *in)
{
	struct chat_req_error *e = c->e;
	json_object *m;
	char param[48];
	size_t i, n;

	if (json_object_is_type(in, json_type_string)) {
		m = json_object_new_object();
		json_object_object_add(m, "role",
		    json_object_new_string("user"));
		json_object_object_add(m, "content", json_object_get(in));
		json_object_array_add(c->msgs, m);
		return 0;
	}
	if (!json_object_is_type(in, json_type_array))
		return BAD("invalid_type", "input", "Invalid type for 'input': "
		    "expected a string or an array of items.");
	if ((n = json_object_array_length(in)) > RSP_MAX_ITEMS)
		return BAD("invalid_value", "input", "Invalid 'input': at most "
		    "%d items.", RSP_MAX_ITEMS);
	for (i = 0; i < n; i++) {
		snprintf(param, sizeof(param), "input[%zu]", i);
		if (convert_item(c, json_object_array_get_idx(in, i), param,
		    1) < 0)
			return -1;
	}
	return 0;
}

/* Function tools as chat tools; any other kind is refused. */
static int
convert_tools(json_object *in, json_object *chat, struct chat_req_error *e)
{
	json_object *tools = jv_get(in, "tools"), *out, *t, *f, *v;
	const char *name, *type;
	size_t i;
	char param[32];

	if (tools == NULL)
		return 0;
	if (!json_object_is_type(tools, json_type_array))
		return BAD("invalid_type", "tools", "Invalid type for 'tools': "
		    "expected an array.");
	out = json_object_new_array();
	json_object_object_add(chat, "tools", out);
	for (i = 0; i < json_object_array_length(tools); i++) {
		t = json_object_array_get_idx(tools, i);
		snprintf(param, sizeof(param), "tools[%zu]", i);
		if ((type = jv_cstr(t, "type")) == NULL ||
		    strcmp(type, "function") != 0)
			return BAD("invalid_value", param, "Invalid value for "
			    "'%s.type': only 'function' tools are supported "
			    "here.", param);
		if ((name = jv_cstr(t, "name")) == NULL)
			return BAD("missing_required_parameter", param,
			    "Missing required parameter: '%s.name'.", param);
		json_object_array_add(out, tools_fn_object(name,
		    jv_get(t, "description"), jv_get(t, "parameters")));
	}
	v = jv_get(in, "tool_choice");
	if (json_object_is_type(v, json_type_string))
		json_object_object_add(chat, "tool_choice", json_object_get(v));
	else if (v != NULL) {
		if (!jv_is(jv_get(v, "type"), "function") ||
		    (name = jv_cstr(v, "name")) == NULL)
			return BAD("invalid_value", "tool_choice", "Invalid "
			    "value for 'tool_choice': expected a string or "
			    "{\"type\":\"function\",\"name\":...}.");
		t = json_object_new_object();
		json_object_object_add(t, "type",
		    json_object_new_string("function"));
		f = json_object_new_object();
		json_object_object_add(f, "name", json_object_new_string(name));
		json_object_object_add(t, "function", f);
		json_object_object_add(chat, "tool_choice", t);
	}
	if ((v = jv_get(in, "parallel_tool_calls")) != NULL)
		json_object_object_add(chat, "parallel_tool_calls",
		    json_object_get(v));
	return 0;
}

/* text.format as response_format. */
static int
convert_format(json_object *in, json_object *chat, struct chat_req_error *e)
{
	json_object *f = jv_get(jv_get(in, "text"), "format"), *rf, *js, *v;
	const char *type = jv_cstr(f, "type");
	static const char *const keys[] = { "name", "schema", "strict",
	    "description" };
	size_t i;

	if (f == NULL || (type != NULL && strcmp(type, "text") == 0))
		return 0;
	rf = json_object_new_object();
	if (type != NULL && strcmp(type, "json_object") == 0)
		json_object_object_add(rf, "type",
		    json_object_new_string("json_object"));
	else if (type != NULL && strcmp(type, "json_schema") == 0) {
		json_object_object_add(rf, "type",
		    json_object_new_string("json_schema"));
		js = json_object_new_object();
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if ((v = jv_get(f, keys[i])) != NULL)
				json_object_object_add(js, keys[i],
				    json_object_get(v));
		json_object_object_add(rf, "json_schema", js);
	} else {
		json_object_put(rf);
		return BAD("invalid_value", "text.format.type", "Invalid value "
		    "for 'text.format.type': expected 'text', 'json_object' or "
		    "'json_schema'.");
	}
	json_object_object_add(chat, "response_format", rf);
	return 0;
}

/* The scalar fields, and what the response object repeats. */
static int
convert_scalars(json_object *in, json_object *chat, struct rsp_opts *o,
    struct chat_req_error *e)
{
	static const char *const same[] = { "model", "stream", "temperature",
	    "top_p", "user" };
	json_object *v, *echo = o->echo;
	size_t i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if ((v = jv_get(in, same[i])) != NULL)
			json_object_object_add(chat, same[i],
			    json_object_get(v));
	if ((v = jv_get(in, "max_output_tokens")) != NULL)
		json_object_object_add(chat, "max_tokens", json_object_get(v));
	v = jv_get(in, "reasoning");
	if (v != NULL && !json_object_is_type(v, json_type_object))
		return BAD("invalid_type", "reasoning", "Invalid type for "
		    "'reasoning': expected an object.");
	if (jv_cstr(v, "effort") != NULL) {
		json_object_object_add(chat, "reasoning_effort",
		    json_object_get(jv_get(v, "effort")));
		o->summary = !jv_is(jv_get(v, "effort"), "none");
	}
	if ((v = jv_get(in, "store")) != NULL) {
		if (!json_object_is_type(v, json_type_boolean))
			return BAD("invalid_type", "store", "Invalid type for "
			    "'store': expected a boolean.");
		o->store = json_object_get_boolean(v);
	}
	v = jv_get(in, "metadata");
	if (v != NULL && (!json_object_is_type(v, json_type_object) ||
	    json_object_object_length(v) > 16))
		return BAD("invalid_value", "metadata", "Invalid 'metadata': "
		    "expected an object of at most 16 pairs.");
#define ECHO(k, dflt) json_object_object_add(echo, k, jv_get(in, k) ? \
	json_object_get(jv_get(in, k)) : (dflt))
	ECHO("instructions", NULL);
	ECHO("max_output_tokens", NULL);
	ECHO("metadata", json_object_new_object());
	ECHO("parallel_tool_calls", json_object_new_boolean(1));
	ECHO("previous_response_id", NULL);
	ECHO("reasoning", json_tokener_parse("{\"effort\":null,"
	    "\"summary\":null}"));
	json_object_object_add(echo, "store", json_object_new_boolean(
	    o->store));
	ECHO("temperature", json_object_new_double(1.0));
	ECHO("text", json_tokener_parse("{\"format\":{\"type\":\"text\"}}"));
	ECHO("tool_choice", json_object_new_string("auto"));
	ECHO("tools", json_object_new_array());
	ECHO("top_p", json_object_new_double(1.0));
	json_object_object_add(echo, "truncation",
	    json_object_new_string("disabled"));
	ECHO("user", NULL);
#undef ECHO
	return 0;
}

/* The stored conversation of previous_response_id, into msgs. */
static int
previous(json_object *in, struct conv *c)
{
	struct chat_req_error *e = c->e;
	const char *id = jv_cstr(in, "previous_response_id");
	json_object *rec, *h;
	char *s;
	size_t i;

	if (jv_get(in, "previous_response_id") == NULL)
		return 0;
	if (id == NULL || strlen(id) > 64)
		return BAD("invalid_type", "previous_response_id", "Invalid "
		    "type for 'previous_response_id': expected an id.");
	if (c->lookup == NULL || (s = c->lookup(c->lctx, id)) == NULL) {
		BAD("previous_response_not_found", "previous_response_id",
		    "Previous response with id '%s' not found.", id);
		e->status = 404;
		return -1;
	}
	rec = json_tokener_parse(s);
	free(s);
	h = jv_get(rec, "history");
	for (i = 0; json_object_is_type(h, json_type_array) &&
	    i < json_object_array_length(h); i++)
		json_object_array_add(c->msgs, json_object_get(
		    json_object_array_get_idx(h, i)));
	json_object_put(rec);
	return 0;
}

int
rsp_request_convert(const char *body, size_t len, rsp_lookup_fn lookup,
    void *lctx, json_object **chat, struct rsp_opts *o,
    struct chat_req_error *e)
{
	struct json_tokener *tok;
	json_object *in = NULL, *out = NULL, *msgs, *m, *v;
	struct conv c;
	size_t i;
	int rc = -1;

	*chat = NULL;
	memset(o, 0, sizeof(*o));
	o->store = 1;
	oa_make_id(o->id, sizeof(o->id), "resp_");
	memset(&c, 0, sizeof(c));
	c.lookup = lookup;
	c.lctx = lctx;
	c.e = e;
	if ((tok = json_tokener_new_ex(64)) == NULL)
		return BAD("server_error", NULL, "Out of memory.");
	in = json_tokener_parse_ex(tok, body, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(in, json_type_object)) {
		BAD("invalid_json", NULL, "The body must be one JSON object.");
		goto done;
	}
	out = json_object_new_object();
	o->echo = json_object_new_object();
	o->history = c.msgs = json_object_new_array();
	if (convert_scalars(in, out, o, e) < 0 ||
	    convert_tools(in, out, e) < 0 || convert_format(in, out, e) < 0 ||
	    previous(in, &c) < 0)
		goto done;
	if ((v = jv_get(in, "input")) == NULL) {
		BAD("missing_required_parameter", "input", "Missing required "
		    "parameter: 'input'.");
		goto done;
	}
	if (convert_input(&c, v) < 0)
		goto done;
	/* instructions first; they do not carry over to the next turn */
	msgs = json_object_new_array();
	json_object_object_add(out, "messages", msgs);
	if ((v = jv_get(in, "instructions")) != NULL &&
	    json_object_is_type(v, json_type_string)) {
		m = json_object_new_object();
		json_object_object_add(m, "role",
		    json_object_new_string("system"));
		json_object_object_add(m, "content", json_object_get(v));
		json_object_array_add(msgs, m);
	}
	for (i = 0; i < json_object_array_length(c.msgs); i++)
		json_object_array_add(msgs, json_object_get(
		    json_object_array_get_idx(c.msgs, i)));
	*chat = out;
	out = NULL;
	rc = 0;
done:
	json_object_put(out);
	json_object_put(in);
	json_tokener_free(tok);
	return rc;
}
