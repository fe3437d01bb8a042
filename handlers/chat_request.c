#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "handlers/chat_request.h"
#include "handlers/req_fields.h"

/*
 * The scalar fields, read after req_fields_check() has checked their
 * types and ranges: absent or null gives the default.
 */
static const char *
get_string(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
get_bool(struct json_object *o, const char *key, int def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return def;
	return json_object_get_boolean(v);
}

static double
get_number(struct json_object *o, const char *key, double def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int)))
		return def;
	return json_object_get_double(v);
}

static int
parse_role(const char *s, enum chat_role *out)
{
	int i;

	for (i = CHAT_ROLE_SYSTEM; i <= CHAT_ROLE_TOOL; i++)
		if (strcmp(s, chat_role_name((enum chat_role)i)) == 0) {
			*out = (enum chat_role)i;
			return 0;
		}
	/* Legacy OpenAI name for tool results. */
	if (strcmp(s, "function") == 0) {
		*out = CHAT_ROLE_TOOL;
		return 0;
	}
	return -1;
}

static int
parse_part(struct json_object *item, struct chat_part *p, size_t mi,
    size_t pi, struct chat_request *r, struct chat_req_error *e)
{
	struct json_object *t, *v, *u;
	const char *type;
	char param[64];

	snprintf(param, sizeof(param), "messages[%zu].content[%zu]", mi, pi);
	if (!json_object_is_type(item, json_type_object))
		return chat_req_fail(e, "invalid_type", param,
		    "'%s' must be an object.",
		    param);
	if (!json_object_object_get_ex(item, "type", &t) ||
	    !json_object_is_type(t, json_type_string))
		return chat_req_fail(e, "missing_required_parameter", param,
		    "'%s.type' is required.", param);
	type = json_object_get_string(t);
	memset(p, 0, sizeof(*p));
	if (strcmp(type, "text") == 0 || strcmp(type, "input_text") == 0) {
		if (!json_object_object_get_ex(item, "text", &v) ||
		    !json_object_is_type(v, json_type_string))
			return chat_req_fail(e, "invalid_type", param,
			    "'%s.text' must be a string.", param);
		p->type = CHAT_PART_TEXT;
		p->text = json_object_get_string(v);
		p->len = (size_t)json_object_get_string_len(v);
		r->text_bytes += p->len;
		return 0;
	}
	if (strcmp(type, "image_url") == 0) {
		if (!json_object_object_get_ex(item, "image_url", &v))
			return chat_req_fail(e, "missing_required_parameter",
			    param,
			    "'%s.image_url' is required.", param);
		if (json_object_is_type(v, json_type_string))
			u = v;
		else if (!json_object_is_type(v, json_type_object) ||
		    !json_object_object_get_ex(v, "url", &u) ||
		    !json_object_is_type(u, json_type_string))
			return chat_req_fail(e, "invalid_type", param,
			    "'%s.image_url.url' must be a string.", param);
		p->type = CHAT_PART_IMAGE;
		p->url = json_object_get_string(u);
		if (strncmp(p->url, "http://", 7) != 0 &&
		    strncmp(p->url, "https://", 8) != 0 &&
		    strncmp(p->url, "data:", 5) != 0)
			return chat_req_fail(e, "invalid_value", param,
			    "'%s' must be "
			    "an http(s) or data: URL.", param);
		if (json_object_is_type(v, json_type_object) &&
		    json_object_object_get_ex(v, "detail", &t) &&
		    json_object_is_type(t, json_type_string))
			p->detail = json_object_get_string(t);
		return 0;
	}
	if (strcmp(type, "file") == 0) {
		if (!json_object_object_get_ex(item, "file", &v) ||
		    !json_object_is_type(v, json_type_object) ||
		    !json_object_object_get_ex(v, "file_data", &u) ||
		    !json_object_is_type(u, json_type_string))
			return chat_req_fail(e, "invalid_type", param,
			    "'%s.file.file_data' must be a string.", param);
		p->type = CHAT_PART_FILE;
		p->url = json_object_get_string(u);
		return 0;
	}
	return chat_req_fail(e, "invalid_value", param,
	    "Unsupported content type "
	    "'%.40s' in '%s'.", type, param);
}

static int
parse_message(struct arena *a, struct json_object *m, size_t mi,
    struct chat_message *msg, struct chat_request *r,
    struct chat_req_error *e)
{
	struct json_object *v, *c;
	char param[64];
	size_t i, n;

	snprintf(param, sizeof(param), "messages[%zu]", mi);
	if (!json_object_is_type(m, json_type_object))
		return chat_req_fail(e, "invalid_type", param,
		    "'%s' must be an object.",
		    param);
	if (!json_object_object_get_ex(m, "role", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(param, sizeof(param), "messages[%zu].role", mi);
		return chat_req_fail(e, "missing_required_parameter", param,
		    "'%s' is required and must be a string.", param);
	}
	if (parse_role(json_object_get_string(v), &msg->role) < 0) {
		snprintf(param, sizeof(param), "messages[%zu].role", mi);
		return chat_req_fail(e, "invalid_value", param,
		    "Invalid value '%.32s' "
		    "for '%s': expected system, developer, user, assistant or "
		    "tool.", json_object_get_string(v), param);
	}
	if (json_object_object_get_ex(m, "name", &v) &&
	    json_object_is_type(v, json_type_string))
		msg->name = json_object_get_string(v);
	if (!json_object_object_get_ex(m, "content", &c) || c == NULL) {
		/* Only an assistant turn that called tools may omit it. */
		if (msg->role == CHAT_ROLE_ASSISTANT &&
		    json_object_object_get_ex(m, "tool_calls", &v))
			return 0;
		snprintf(param, sizeof(param), "messages[%zu].content", mi);
		return chat_req_fail(e, "missing_required_parameter", param,
		    "'%s' is required.", param);
	}
	if (json_object_is_type(c, json_type_string)) {
		if ((msg->parts = arena_calloc(a, 1, sizeof(*msg->parts))) ==
		    NULL)
			return chat_req_fail(e, "server_error", NULL,
			    "Out of memory.");
		msg->nparts = 1;
		msg->string_content = 1;
		msg->parts[0].type = CHAT_PART_TEXT;
		msg->parts[0].text = json_object_get_string(c);
		msg->parts[0].len = (size_t)json_object_get_string_len(c);
		r->text_bytes += msg->parts[0].len;
		return 0;
	}
	snprintf(param, sizeof(param), "messages[%zu].content", mi);
	if (!json_object_is_type(c, json_type_array))
		return chat_req_fail(e, "invalid_type", param,
		    "'%s' must be a string "
		    "or an array of content parts.", param);
	n = json_object_array_length(c);
	if (n > CHAT_MAX_PARTS)
		return chat_req_fail(e, "invalid_value", param,
		    "'%s' has more than %d "
		    "parts.", param, CHAT_MAX_PARTS);
	if (n && (msg->parts = arena_calloc(a, n, sizeof(*msg->parts))) ==
	    NULL)
		return chat_req_fail(e, "server_error", NULL, "Out of memory.");
	for (i = 0; i < n; i++)
		if (parse_part(json_object_array_get_idx(c, i), &msg->parts[i],
		    mi, i, r, e) < 0)
			return -1;
	msg->nparts = n;
	return 0;
}

int
chat_request_parse(struct arena *a, const char *body, size_t len,
    struct chat_request *r, struct json_object **rootp,
    struct chat_req_error *e)
{
	struct json_object *root = NULL, *v, *msgs;
	size_t i, n;
	double d;

	*rootp = NULL;
	memset(r, 0, sizeof(*r));
	memset(e, 0, sizeof(*e));
	if (req_body_parse(body, len, &root, e) < 0)
		return -1;
	if (req_fields_check(root, REQ_CHAT, e) < 0)
		goto fail;
	/* the table checked messages: an array of 1..CHAT_MAX_MESSAGES */
	json_object_object_get_ex(root, "messages", &msgs);
	n = json_object_array_length(msgs);
	if ((r->messages = arena_calloc(a, n, sizeof(*r->messages))) == NULL) {
		chat_req_fail(e, "server_error", NULL, "Out of memory.");
		goto fail;
	}
	for (i = 0; i < n; i++)
		if (parse_message(a, json_object_array_get_idx(msgs, i), i,
		    &r->messages[i], r, e) < 0)
			goto fail;
	r->nmessages = n;
	if (r->text_bytes > CHAT_MAX_TEXT) {
		e->status = 400;
		chat_req_fail(e, "context_length_exceeded", "messages",
		    "The messages "
		    "hold %zu bytes of text; the limit is %u.", r->text_bytes,
		    CHAT_MAX_TEXT);
		goto fail;
	}
	r->model = get_string(root, "model");
	r->stream = get_bool(root, "stream", 0);
	if (json_object_object_get_ex(root, "stream_options", &v))
		r->include_usage = get_bool(v, "include_usage", 0);
	d = get_number(root, "max_completion_tokens", -1);
	if (d < 0)
		d = get_number(root, "max_tokens", -1);
	r->max_tokens = d < 0 ? -1 : (long)d;
	r->temperature = get_number(root, "temperature", -1);
	r->top_p = get_number(root, "top_p", -1);
	r->user = get_string(root, "user");
	/* camelCase as some clients send it (§1.1) */
	if ((r->reasoning_effort = get_string(root, "reasoning_effort")) ==
	    NULL)
		r->reasoning_effort = get_string(root, "reasoningEffort");
	r->conversation_id = get_string(root, "conversation_id");
	r->parent_message_id = get_string(root, "parent_message_id");
	r->account_id = get_string(root, "Chatgpt-Account-Id");
	r->history_disabled = get_bool(root, "history_disabled", -1);
	r->web_search = get_bool(root, "web_search", -1);
	r->deep_research = get_bool(root, "deep_research", -1);
	*rootp = root;
	return 0;
fail:
	json_object_put(root);
	memset(r, 0, sizeof(*r));
	return -1;
}
