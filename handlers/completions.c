/*
 * POST /v1/completions, the legacy text API that IDE plugins and older
 * SDKs still call.  The web backends only chat, so the prompt becomes the
 * single user message of a chat body, which then takes the same road as
 * /v1/chat/completions (validation, auth, pool, retries); the answer is
 * written as text_completion objects.  What a chat cannot honour (echo,
 * suffix, several prompts or choices, token-id prompts, logprobs) is
 * refused with a 400 instead of being silently ignored: the field table
 * (handlers/req_fields.c) for the fields, prompt_of() for the prompt.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "fcgi/resp.h"
#include "handlers/handlers.h"
#include "handlers/openai_sink.h"
#include "handlers/req_fields.h"

/* Fields copied from the completions body into the chat body as-is. */
static const char *const passed[] = { "model", "stream", "stream_options",
    "max_tokens", "temperature", "top_p", "user" };

static enum app_err
unsupported(struct req *r, const char *param, const char *why)
{
	return resp_error(r, 400, "invalid_request_error", "unsupported_value",
	    param, "'%s' %s", param, why);
}

/* The prompt as one string: a string, or an array of exactly one. */
static enum app_err
prompt_of(struct req *r, struct json_object *o, struct json_object **out)
{
	struct json_object *p;

	*out = NULL;
	if (!json_object_object_get_ex(o, "prompt", &p) || p == NULL)
		return resp_error(r, 400, "invalid_request_error",
		    "missing_required_parameter", "prompt",
		    "'prompt' is required.");
	if (json_object_is_type(p, json_type_array)) {
		if (json_object_array_length(p) != 1)
			return unsupported(r, "prompt", "must hold exactly one "
			    "prompt here: the web backends answer one "
			    "conversation per request.");
		p = json_object_array_get_idx(p, 0);
		if (json_object_is_type(p, json_type_int) ||
		    json_object_is_type(p, json_type_array))
			return unsupported(r, "prompt", "as token ids is not "
			    "supported; send the text.");
	}
	if (!json_object_is_type(p, json_type_string))
		return resp_error(r, 400, "invalid_request_error",
		    "invalid_type", "prompt", "'prompt' must be a string or "
		    "an array of one string.");
	*out = p;
	return APP_OK;
}

static enum app_err
refuse(struct req *r, const struct chat_req_error *err)
{
	return resp_error(r, err->status, "invalid_request_error", err->code,
	    err->param[0] ? err->param : NULL, "%s", err->message);
}

enum app_err
h_completions(struct req *r, const char *rest)
{
	struct chat_req_error err;
	struct json_object *o = NULL, *chat = NULL, *msgs, *msg, *prompt, *v;
	const char *body;
	size_t i, len;
	enum app_err e;

	(void)rest;
	memset(&err, 0, sizeof(err));
	if (r->body_len == 0)
		return resp_error(r, 400, "invalid_request_error",
		    "missing_body", NULL, "The request needs a JSON body.");
	/* the field table refuses what a chat cannot honour */
	if (req_body_parse(r->body, r->body_len, &o, &err) < 0 ||
	    req_fields_check(o, REQ_TEXT, &err) < 0) {
		e = refuse(r, &err);
		goto done;
	}
	if ((e = prompt_of(r, o, &prompt)) != APP_OK || prompt == NULL)
		goto done;

	chat = json_object_new_object();
	for (i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		if (json_object_object_get_ex(o, passed[i], &v))
			json_object_object_add(chat, passed[i],
			    json_object_get(v));
	msgs = json_object_new_array();
	msg = json_object_new_object();
	json_object_object_add(msg, "role", json_object_new_string("user"));
	json_object_object_add(msg, "content", json_object_get(prompt));
	json_object_array_add(msgs, msg);
	json_object_object_add(chat, "messages", msgs);
	body = json_object_to_json_string_length(chat, JSON_C_TO_STRING_PLAIN,
	    &len);
	e = body != NULL ? chat_serve(r, body, len, OA_TEXT) : APP_ENOMEM;
done:
	json_object_put(chat);
	json_object_put(o);
	return e;
}
