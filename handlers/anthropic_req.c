/*
 * A /v1/messages body into an OpenAI chat body (see anthropic.h).  What
 * has a place in the chat body goes there and is validated again by
 * chat_request_parse and tools_request_parse: system blocks become the
 * system message, tool_use blocks assistant tool_calls, tool_result
 * blocks "tool" messages, images image_url parts, thinking the
 * reasoning flag.  What Anthropic checks and the chat body does not
 * (max_tokens required, roles, block types) is checked here.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "handlers/anthropic.h"
#include "handlers/tools.h"
#include "upstream/jv.h"

#define BAD(code, param, ...)	chat_req_fail(e, code, param, __VA_ARGS__)

static json_object *
text_part(const char *s, size_t n)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "type", json_object_new_string("text"));
	json_object_object_add(p, "text", json_object_new_string_len(s,
	    (int)n));
	return p;
}

/* One string from a text block's "text" (param names it). */
static int
block_text(json_object *b, const char *param, const char **s, size_t *n,
    struct chat_req_error *e)
{
	if ((*s = jv_str(jv_get(b, "text"), n)) == NULL)
		return BAD("invalid_type", param, "%s.text: Field required "
		    "(a string).", param);
	return 0;
}

/* An image block's source as an image_url part. */
static int
image_part(json_object *b, const char *param, json_object **out,
    struct chat_req_error *e)
{
	json_object *src = jv_get(b, "source"), *p, *u;
	const char *type = jv_cstr(src, "type"), *mt, *data, *url;
	char *s;
	size_t n;

	*out = NULL;
	if (type != NULL && strcmp(type, "base64") == 0) {
		mt = jv_cstr(src, "media_type");
		data = jv_str(jv_get(src, "data"), &n);
		if (mt == NULL || data == NULL || strlen(mt) > 64)
			return BAD("invalid_value", param, "%s.source: a "
			    "base64 image needs media_type and data.", param);
		if ((s = malloc(strlen(mt) + n + 16)) == NULL)
			return BAD("server_error", NULL, "Out of memory.");
		n = (size_t)sprintf(s, "data:%s;base64,%s", mt, data);
		u = json_object_new_string_len(s, (int)n);
		free(s);
	} else if (type != NULL && strcmp(type, "url") == 0 &&
	    (url = jv_cstr(src, "url")) != NULL)
		u = json_object_new_string(url);
	else
		return BAD("invalid_value", param, "%s.source.type: expected "
		    "'base64' or 'url'.", param);
	p = json_object_new_object();
	json_object_object_add(p, "type", json_object_new_string("image_url"));
	json_object_object_add(p, "image_url", json_object_new_object());
	json_object_object_add(jv_get(p, "image_url"), "url", u);
	*out = p;
	return 0;
}

/* A tool_result's content (a string or text blocks) as one string. */
static int
result_text(json_object *b, const char *param, json_object **out,
    struct chat_req_error *e)
{
	json_object *c = jv_get(b, "content"), *it;
	struct buf t;
	const char *s;
	size_t i, n;

	*out = NULL;
	if (c == NULL) {
		*out = json_object_new_string("");
		return 0;
	}
	if (json_object_is_type(c, json_type_string)) {
		*out = json_object_get(c);
		return 0;
	}
	if (!json_object_is_type(c, json_type_array))
		return BAD("invalid_type", param, "%s.content: expected a "
		    "string or an array of blocks.", param);
	buf_init(&t, CHAT_MAX_TEXT);
	for (i = 0; i < json_object_array_length(c); i++) {
		it = json_object_array_get_idx(c, i);
		if (!jv_is(jv_get(it, "type"), "text"))
			continue;	/* an image in a result: no place */
		if ((s = jv_str(jv_get(it, "text"), &n)) == NULL)
			continue;
		if (t.len > 0)
			buf_adds(&t, "\n");
		buf_add(&t, s, n);
	}
	if (t.failed) {
		buf_free(&t);
		return BAD("invalid_value", param, "%s.content is too long.",
		    param);
	}
	*out = json_object_new_string_len(t.p ? t.p : "", (int)t.len);
	buf_free(&t);
	return 0;
}

static json_object *
tool_message(const char *id, json_object *content, int is_error)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "role", json_object_new_string("tool"));
	json_object_object_add(m, "tool_call_id", json_object_new_string(id));
	if (is_error) {
		/* the model should know the call failed */
		char *s = NULL;
		const char *c = json_object_get_string(content);

		if (asprintf(&s, "Error: %s", c) >= 0) {
			json_object_put(content);
			content = json_object_new_string(s);
			free(s);
		}
	}
	json_object_object_add(m, "content", content);
	return m;
}

/* An assistant tool_use block as one entry of "tool_calls". */
static int
tool_call(json_object *b, const char *param, json_object **out,
    struct chat_req_error *e)
{
	json_object *c, *f, *in = jv_get(b, "input");
	const char *id = jv_cstr(b, "id"), *name = jv_cstr(b, "name");

	*out = NULL;
	if (id == NULL || name == NULL)
		return BAD("missing_required_parameter", param, "%s: a "
		    "tool_use block needs id and name.", param);
	c = json_object_new_object();
	json_object_object_add(c, "id", json_object_new_string(id));
	json_object_object_add(c, "type", json_object_new_string("function"));
	f = json_object_new_object();
	json_object_object_add(f, "name", json_object_new_string(name));
	json_object_object_add(f, "arguments", json_object_new_string(
	    in != NULL ? json_object_to_json_string_ext(in,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "{}"));
	json_object_object_add(c, "function", f);
	*out = c;
	return 0;
}

/*
 * messages[i] (m) appended to msgs as one or more chat messages: a user
 * turn's tool results go first, as "tool" messages, then its other parts.
 */
static int
convert_message(json_object *m, size_t i, json_object *msgs,
    struct chat_req_error *e)
{
	json_object *c = jv_get(m, "content"), *b, *parts, *calls, *x, *out;
	const char *role = jv_cstr(m, "role"), *type, *s;
	char param[64];
	size_t j, n;
	int assistant;

	snprintf(param, sizeof(param), "messages.%zu", i);
	if (!json_object_is_type(m, json_type_object))
		return BAD("invalid_type", param, "%s: expected an object.",
		    param);
	if (role == NULL || (strcmp(role, "user") != 0 &&
	    strcmp(role, "assistant") != 0))
		return BAD("invalid_value", param, "%s.role: Input should be "
		    "'user' or 'assistant'.", param);
	assistant = role[0] == 'a';
	if (json_object_is_type(c, json_type_string)) {
		out = json_object_new_object();
		json_object_object_add(out, "role",
		    json_object_new_string(role));
		json_object_object_add(out, "content", json_object_get(c));
		json_object_array_add(msgs, out);
		return 0;
	}
	if (!json_object_is_type(c, json_type_array))
		return BAD("invalid_type", param, "%s.content: expected a "
		    "string or an array of content blocks.", param);
	if (json_object_array_length(c) > CHAT_MAX_PARTS)
		return BAD("invalid_value", param, "%s.content: at most %d "
		    "blocks.", param, CHAT_MAX_PARTS);
	parts = json_object_new_array();
	calls = json_object_new_array();
	for (j = 0; j < json_object_array_length(c); j++) {
		b = json_object_array_get_idx(c, j);
		snprintf(param, sizeof(param), "messages.%zu.content.%zu", i,
		    j);
		if ((type = jv_cstr(b, "type")) == NULL) {
			BAD("invalid_value", param, "%s.type: Field required.",
			    param);
			goto fail;
		}
		x = NULL;
		if (strcmp(type, "text") == 0) {
			if (block_text(b, param, &s, &n, e) < 0)
				goto fail;
			x = text_part(s, n);
		} else if (strcmp(type, "image") == 0 && !assistant) {
			if (image_part(b, param, &x, e) < 0)
				goto fail;
		} else if (strcmp(type, "tool_result") == 0 && !assistant) {
			if ((s = jv_cstr(b, "tool_use_id")) == NULL) {
				BAD("missing_required_parameter", param,
				    "%s.tool_use_id: Field required.", param);
				goto fail;
			}
			if (result_text(b, param, &x, e) < 0)
				goto fail;
			json_object_array_add(msgs, tool_message(s, x,
			    json_object_get_boolean(jv_get(b, "is_error"))));
			x = NULL;
		} else if (strcmp(type, "tool_use") == 0 && assistant) {
			if (tool_call(b, param, &x, e) < 0)
				goto fail;
			json_object_array_add(calls, x);
			x = NULL;
		} else if (strcmp(type, "thinking") == 0 ||
		    strcmp(type, "redacted_thinking") == 0) {
			/* earlier reasoning: the upstream does not take it */
		} else {
			BAD("invalid_value", param, "%s.type: '%.40s' is not "
			    "supported in a %s turn here.", param, type, role);
			goto fail;
		}
		if (x != NULL)
			json_object_array_add(parts, x);
	}
	if (json_object_array_length(parts) == 0 &&
	    json_object_array_length(calls) == 0) {
		json_object_put(parts);
		json_object_put(calls);
		return 0;	/* only tool results, or only thinking */
	}
	out = json_object_new_object();
	json_object_object_add(out, "role", json_object_new_string(role));
	if (json_object_array_length(parts) > 0)
		json_object_object_add(out, "content", parts);
	else {
		json_object_put(parts);
		json_object_object_add(out, "content", NULL);
	}
	if (json_object_array_length(calls) > 0)
		json_object_object_add(out, "tool_calls", calls);
	else
		json_object_put(calls);
	json_object_array_add(msgs, out);
	return 0;
fail:
	json_object_put(parts);
	json_object_put(calls);
	return -1;
}

/* "system": a string or text blocks, as the first chat message. */
static int
convert_system(json_object *sys, json_object *msgs, struct chat_req_error *e)
{
	json_object *m, *parts, *b;
	const char *s;
	size_t i, n;

	if (sys == NULL)
		return 0;
	m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("system"));
	if (json_object_is_type(sys, json_type_string)) {
		json_object_object_add(m, "content", json_object_get(sys));
		json_object_array_add(msgs, m);
		return 0;
	}
	json_object_put(m);
	if (!json_object_is_type(sys, json_type_array) ||
	    json_object_array_length(sys) > ANT_MAX_SYSTEM)
		return BAD("invalid_type", "system", "system: expected a "
		    "string or at most %d text blocks.", ANT_MAX_SYSTEM);
	parts = json_object_new_array();
	for (i = 0; i < json_object_array_length(sys); i++) {
		b = json_object_array_get_idx(sys, i);
		if (!jv_is(jv_get(b, "type"), "text") ||
		    (s = jv_str(jv_get(b, "text"), &n)) == NULL) {
			json_object_put(parts);
			return BAD("invalid_value", "system", "system.%zu: "
			    "expected a text block.", i);
		}
		json_object_array_add(parts, text_part(s, n));
	}
	if (json_object_array_length(parts) == 0) {
		json_object_put(parts);
		return 0;
	}
	m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("system"));
	json_object_object_add(m, "content", parts);
	json_object_array_add(msgs, m);
	return 0;
}

/* Anthropic's client tools as function tools; server tools refused. */
static int
convert_tools(json_object *tools, json_object *chat, struct chat_req_error *e)
{
	json_object *out, *t;
	const char *type, *name;
	size_t i;

	if (tools == NULL)
		return 0;
	if (!json_object_is_type(tools, json_type_array))
		return BAD("invalid_type", "tools", "tools: expected an "
		    "array.");
	out = json_object_new_array();
	json_object_object_add(chat, "tools", out);
	for (i = 0; i < json_object_array_length(tools); i++) {
		t = json_object_array_get_idx(tools, i);
		type = jv_cstr(t, "type");
		if (type != NULL && strcmp(type, "custom") != 0)
			return BAD("invalid_value", "tools", "tools.%zu.type: "
			    "'%.40s' is a server tool; only client tools "
			    "(name, input_schema) are supported here.", i,
			    type);
		if ((name = jv_cstr(t, "name")) == NULL)
			return BAD("missing_required_parameter", "tools",
			    "tools.%zu.name: Field required.", i);
		json_object_array_add(out, tools_fn_object(name,
		    jv_get(t, "description"), jv_get(t, "input_schema")));
	}
	return 0;
}

static int
convert_choice(json_object *c, json_object *chat, struct chat_req_error *e)
{
	const char *type = jv_cstr(c, "type"), *name;
	json_object *o;

	if (c == NULL)
		return 0;
	if (type == NULL)
		return BAD("invalid_value", "tool_choice", "tool_choice.type: "
		    "Field required.");
	if (json_object_get_boolean(jv_get(c, "disable_parallel_tool_use")))
		json_object_object_add(chat, "parallel_tool_calls",
		    json_object_new_boolean(0));
	if (strcmp(type, "auto") == 0 || strcmp(type, "none") == 0)
		o = json_object_new_string(type);
	else if (strcmp(type, "any") == 0)
		o = json_object_new_string("required");
	else if (strcmp(type, "tool") == 0) {
		if ((name = jv_cstr(c, "name")) == NULL)
			return BAD("missing_required_parameter", "tool_choice",
			    "tool_choice.name: Field required.");
		o = json_object_new_object();
		json_object_object_add(o, "type",
		    json_object_new_string("function"));
		json_object_object_add(o, "function", json_object_new_object());
		json_object_object_add(jv_get(o, "function"), "name",
		    json_object_new_string(name));
	} else
		return BAD("invalid_value", "tool_choice", "tool_choice.type: "
		    "expected 'auto', 'any', 'tool' or 'none'.");
	json_object_object_add(chat, "tool_choice", o);
	return 0;
}

static int
convert_stops(json_object *v, struct ant_opts *o, struct chat_req_error *e)
{
	json_object *s;
	size_t i, n;

	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) > ANT_MAX_STOPS)
		return BAD("invalid_value", "stop_sequences", "stop_sequences: "
		    "expected an array of at most %d strings.", ANT_MAX_STOPS);
	for (i = 0; i < json_object_array_length(v); i++) {
		s = json_object_array_get_idx(v, i);
		if (jv_str(s, &n) == NULL || n == 0 || n > ANT_MAX_STOP_LEN ||
		    memchr(json_object_get_string(s), '\0', n) != NULL)
			return BAD("invalid_value", "stop_sequences",
			    "stop_sequences.%zu: expected a non-empty string "
			    "of at most %d bytes.", i, ANT_MAX_STOP_LEN);
		memcpy(o->stops[o->nstops++], json_object_get_string(s),
		    n + 1);
		if (n > o->stop_max)
			o->stop_max = n;
	}
	return 0;
}

/* The scalar fields: model, max_tokens, stream, sampling, thinking. */
static int
convert_scalars(json_object *in, json_object *chat, int count,
    struct chat_req_error *e)
{
	json_object *v, *th;
	const char *t;

	if ((v = jv_get(in, "model")) == NULL ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0)
		return BAD("missing_required_parameter", "model", "model: "
		    "Field required.");
	json_object_object_add(chat, "model", json_object_get(v));
	v = jv_get(in, "max_tokens");
	if (v == NULL && !count)
		return BAD("missing_required_parameter", "max_tokens",
		    "max_tokens: Field required.");
	if (v != NULL && (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 1))
		return BAD("invalid_value", "max_tokens", "max_tokens: Input "
		    "should be an integer of at least 1.");
	if (v != NULL && !count)
		json_object_object_add(chat, "max_tokens", json_object_get(v));
	if ((v = jv_get(in, "stream")) != NULL)
		json_object_object_add(chat, "stream", json_object_get(v));
	if ((v = jv_get(in, "temperature")) != NULL) {
		if (!json_object_is_type(v, json_type_double) &&
		    !json_object_is_type(v, json_type_int))
			return BAD("invalid_type", "temperature",
			    "temperature: expected a number.");
		if (json_object_get_double(v) < 0 ||
		    json_object_get_double(v) > 1)
			return BAD("invalid_value", "temperature",
			    "temperature: Input should be between 0 and 1.");
		json_object_object_add(chat, "temperature", json_object_get(v));
	}
	if ((v = jv_get(in, "top_p")) != NULL)
		json_object_object_add(chat, "top_p", json_object_get(v));
	if ((t = jv_cstr(jv_get(in, "metadata"), "user_id")) != NULL &&
	    strlen(t) <= 256)
		json_object_object_add(chat, "user", json_object_new_string(t));
	if ((th = jv_get(in, "thinking")) != NULL) {
		if ((t = jv_cstr(th, "type")) == NULL)
			return BAD("invalid_value", "thinking",
			    "thinking.type: Field required.");
		if (strcmp(t, "enabled") == 0 || strcmp(t, "adaptive") == 0)
			json_object_object_add(chat, "reasoning_effort",
			    json_object_new_string("medium"));
		else if (strcmp(t, "disabled") != 0)
			return BAD("invalid_value", "thinking",
			    "thinking.type: expected 'enabled', 'adaptive' or "
			    "'disabled'.");
	}
	return 0;
}

int
ant_request_convert(const char *body, size_t len, int count,
    json_object **chat, struct ant_opts *o, struct chat_req_error *e)
{
	struct json_tokener *tok;
	json_object *in = NULL, *out = NULL, *msgs, *v;
	size_t i, n;
	int rc = -1;

	*chat = NULL;
	memset(o, 0, sizeof(*o));
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
	if (convert_scalars(in, out, count, e) < 0)
		goto done;
	v = jv_get(in, "messages");
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) == 0) {
		BAD("invalid_value", "messages", "messages: expected a "
		    "non-empty array.");
		goto done;
	}
	if (n > CHAT_MAX_MESSAGES) {
		BAD("invalid_value", "messages", "messages: at most %d.",
		    CHAT_MAX_MESSAGES);
		goto done;
	}
	msgs = json_object_new_array();
	json_object_object_add(out, "messages", msgs);
	if (convert_system(jv_get(in, "system"), msgs, e) < 0)
		goto done;
	for (i = 0; i < n; i++)
		if (convert_message(json_object_array_get_idx(v, i), i, msgs,
		    e) < 0)
			goto done;
	if (json_object_array_length(msgs) == 0) {
		BAD("invalid_value", "messages", "messages: nothing to "
		    "answer.");
		goto done;
	}
	if (convert_tools(jv_get(in, "tools"), out, e) < 0 ||
	    convert_choice(jv_get(in, "tool_choice"), out, e) < 0 ||
	    convert_stops(jv_get(in, "stop_sequences"), o, e) < 0)
		goto done;
	*chat = out;
	out = NULL;
	rc = 0;
done:
	json_object_put(out);
	json_object_put(in);
	json_tokener_free(tok);
	return rc;
}
