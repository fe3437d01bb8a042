/*
 * POST /v1/responses, GET and DELETE /v1/responses/{id} (see
 * responses.h).  Auth, routing, pools and retries are chat_serve's.  An
 * answer is stored (unless store is false or RESPONSES_TTL is 0) under
 * the key the client presented: previous_response_id, item_reference,
 * GET and DELETE see only that key's responses.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fcgi/log.h"
#include "fcgi/resp.h"
#include "handlers/apiauth.h"
#include "handlers/handlers.h"
#include "handlers/responses.h"
#include "store/responses.h"

struct rsp_ctx {
	struct req	*r;
	const char	*owner;
	const char	*id;
};

static const char *
owner_of(struct req *r)
{
	const char *k = api_presented(r);

	return k != NULL ? k : "";
}

static char *
lookup(void *u, const char *id)
{
	struct rsp_ctx *c = u;
	char *json = NULL;
	size_t len;

	if (c->r->store == NULL || rsp_store_get(c->r->store, id, c->owner,
	    &json, &len) != STORE_OK)
		return NULL;
	return json;
}

static void
keep(void *u, const char *rec, size_t len)
{
	struct rsp_ctx *c = u;
	enum store_err e;

	if (c->r->store == NULL || c->r->cfg->responses_ttl <= 0)
		return;
	e = rsp_store_put(c->r->store, c->id, c->owner, rec, len,
	    c->r->cfg->responses_ttl);
	if (e != STORE_OK)
		log_warn("responses: %s not stored: %s", c->id,
		    store_strerror(e));
}

enum app_err
h_responses(struct req *r, const char *rest)
{
	struct chat_req_error err;
	struct json_object *chat = NULL;
	struct rsp_opts *opts;
	struct rsp_out out;
	struct rsp_ctx c;
	const char *body;
	size_t len;
	enum app_err e;

	(void)rest;
	if (r->body_len == 0)
		return resp_error(r, 400, "invalid_request_error",
		    "missing_body", NULL, "The request needs a JSON body.");
	if ((opts = arena_calloc(r->arena, 1, sizeof(*opts))) == NULL)
		return APP_ENOMEM;
	c.r = r;
	c.owner = owner_of(r);
	memset(&err, 0, sizeof(err));
	if (rsp_request_convert(r->body, r->body_len, lookup, &c, &chat, opts,
	    &err) < 0) {
		rsp_opts_free(opts);
		return resp_error(r, err.status ? err.status : 400,
		    "invalid_request_error", err.code, err.param[0] ?
		    err.param : NULL, "%s", err.message);
	}
	c.id = opts->id;
	body = json_object_to_json_string_length(chat, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	rsp_out_init(&out, opts);
	out.keep = keep;
	out.keep_ctx = &c;
	e = body != NULL ? chat_serve_with(r, body, len, &rsp_writer, &out) :
	    APP_ENOMEM;
	rsp_out_free(&out);
	rsp_opts_free(opts);
	json_object_put(chat);
	return e;
}

static enum app_err
not_found(struct req *r, const char *id)
{
	return resp_error(r, 404, "invalid_request_error", NULL, NULL,
	    "No response found with id '%.64s'.", id);
}

static enum app_err
get_one(struct req *r, const char *id, const char *owner)
{
	struct json_object *rec, *resp;
	enum app_err e;
	char *json = NULL;
	size_t len;

	if (r->store == NULL || rsp_store_get(r->store, id, owner, &json,
	    &len) != STORE_OK)
		return not_found(r, id);
	rec = json_tokener_parse(json);
	free(json);
	if (!json_object_object_get_ex(rec, "response", &resp)) {
		json_object_put(rec);
		return not_found(r, id);
	}
	e = resp_json(r, 200, resp);
	json_object_put(rec);
	return e;
}

/* GET and DELETE /v1/responses/{id}. */
enum app_err
h_responses_item(struct req *r, const char *id)
{
	struct api_auth auth;
	const char *owner;
	enum store_err se;
	enum app_err e;
	int answered;
	char out[128];

	if ((e = api_auth(r, &auth, &answered)) != APP_OK || answered)
		return e;
	if (id == NULL || !chat_req_name_ok(id, strlen(id), 64))
		return not_found(r, id ? id : "");
	owner = owner_of(r);
	if (strcmp(r->method, "GET") == 0)
		return get_one(r, id, owner);
	se = r->store != NULL ? rsp_store_del(r->store, id, owner) :
	    STORE_NOTFOUND;
	if (se != STORE_OK)
		return not_found(r, id);
	snprintf(out, sizeof(out), "{\"id\":\"%s\",\"object\":\"response\","
	    "\"deleted\":true}", id);
	return resp_json_text(r, 200, out, strlen(out));
}
