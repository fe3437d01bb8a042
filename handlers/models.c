/* /v1/models and /v1/models/{id} in OpenAI's list/object shapes. */
#include "config.h"

#include "fcgi/resp.h"
#include "handlers/handlers.h"
#include "upstream/chatgpt/models.h"

static struct json_object *
model_object(const struct chatgpt_model *m)
{
	struct json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(m->id));
	json_object_object_add(o, "object", json_object_new_string("model"));
	json_object_object_add(o, "created", json_object_new_int64(m->created));
	json_object_object_add(o, "owned_by", json_object_new_string("chatgpt"));
	return o;
}

enum app_err
h_models_list(struct req *r, const char *rest)
{
	struct json_object *o, *data, *m;
	enum app_err e;
	size_t i;

	(void)rest;
	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "object", json_object_new_string("list"));
	data = json_object_new_array_ext((int)chatgpt_nmodels);
	json_object_object_add(o, "data", data);
	for (i = 0; i < chatgpt_nmodels; i++) {
		if ((m = model_object(&chatgpt_models[i])) == NULL) {
			json_object_put(o);
			return APP_ENOMEM;
		}
		json_object_array_add(data, m);
	}
	e = resp_json(r, 200, o);
	json_object_put(o);
	return e;
}

enum app_err
h_models_get(struct req *r, const char *id)
{
	const struct chatgpt_model *m;
	struct json_object *o;
	enum app_err e;

	if ((m = chatgpt_model_find(id)) == NULL)
		return resp_error(r, 404, "invalid_request_error",
		    "model_not_found", "model", "The model `%.128s` does not "
		    "exist or you do not have access to it.", id);
	if ((o = model_object(m)) == NULL)
		return APP_ENOMEM;
	e = resp_json(r, 200, o);
	json_object_put(o);
	return e;
}
