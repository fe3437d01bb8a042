/*
 * /v1/models and /v1/models/{id} in OpenAI's list/object shapes: the
 * built-in models of every provider that can answer now (one that needs
 * no account, or has an active one) and those its upstream lists itself
 * (provider.listed), then the names of the model mappings, owned by the
 * provider they lead to.  /v1/models/{id} resolves
 * through the same routing as a chat request.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "fcgi/resp.h"
#include "handlers/accounts_ops.h"
#include "handlers/apiauth.h"
#include "handlers/handlers.h"
#include "store/accounts.h"
#include "store/mappings.h"
#include "upstream/provider.h"
#include "upstream/route.h"

/*
 * Adds a model, or, when the name is listed already, says who owns it now
 * (a mapping of a built-in name takes it to another provider).
 */
static int
add_model(struct json_object *data, const char *id, long created,
    const char *owner, int wins)
{
	struct json_object *o;
	size_t i, n = json_object_array_length(data);

	for (i = 0; i < n; i++) {
		struct json_object *v, *m = json_object_array_get_idx(data, i);
		if (json_object_object_get_ex(m, "id", &v) &&
		    strcasecmp(json_object_get_string(v), id) == 0) {
			/* A mapping says where its name goes; a built-in
			 * name two providers share goes to the first. */
			if (wins)
				json_object_object_add(m, "owned_by",
				    json_object_new_string(owner));
			return 0;
		}
	}
	if ((o = json_object_new_object()) == NULL)
		return -1;
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "object", json_object_new_string("model"));
	json_object_object_add(o, "created", json_object_new_int64(created));
	json_object_object_add(o, "owned_by", json_object_new_string(owner));
	return json_object_array_add(data, o);
}

static int
serves(struct req *r, const struct provider *p)
{
	struct acct_counts c;

	if (p->flags & PROVIDER_ANON)
		return 1;
	return r->store != NULL && acct_count(r->store, p->id, &c) ==
	    STORE_OK && c.active + c.cooling > 0;
}

/* A mapping name as a model of the provider it routes to. */
static int
add_mapping(struct req *r, struct json_object *data, const char *name)
{
	struct route rt;

	if (strchr(name, '*') != NULL)
		return 0;	/* a pattern is no model name */
	if (route_resolve(r->cfg, r->store, r->arena, name, &rt) != ROUTE_OK)
		return 0;
	return add_model(data, name, rt.model != NULL ? rt.model->created :
	    0, rt.provider->id, 1);
}

struct list_ctx {
	struct req		*r;
	struct json_object	*data;
	int			 failed;
	const struct provider	*p;	/* whose listed models come */
};

static int
listed_model(void *arg, const char *id, long created)
{
	struct list_ctx *c = arg;

	if (add_model(c->data, id, created, c->p->id, 0) < 0)
		c->failed = 1;
	return c->failed;
}

static void
listed_with(void *arg, const struct provider_account *a)
{
	struct list_ctx *c = arg;
	struct provider_ctx x = { c->r->cfg, c->r->store, c->r->arena };

	(void)c->p->listed(&x, a, listed_model, c);
}

/*
 * What the provider's upstream lists itself: from its cache, else asked
 * with one of its active accounts (a failure just lists nothing more).
 */
static void
add_listed(struct list_ctx *c)
{
	struct provider_ctx x = { c->r->cfg, c->r->store, c->r->arena };

	if (c->p->listed == NULL || c->r->store == NULL)
		return;
	if (c->p->listed(&x, NULL, listed_model, c) == 1)
		accounts_with_one(c->r->store, c->p->id, listed_with, c);
}

static int
stored_mapping(void *arg, const struct mapping *m)
{
	struct list_ctx *c = arg;

	if (add_mapping(c->r, c->data, m->name) < 0)
		c->failed = 1;
	return c->failed;
}

enum app_err
h_models_list(struct req *r, const char *rest)
{
	const struct provider *const *pp;
	struct json_object *o, *data;
	struct api_auth auth;
	struct list_ctx c;
	enum app_err e;
	size_t i;
	int answered;

	(void)rest;
	/* REQUIRE_API_KEY covers the whole API, the list included. */
	if ((e = api_auth(r, &auth, &answered)) != APP_OK || answered)
		return e;
	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "object", json_object_new_string("list"));
	data = json_object_new_array();
	json_object_object_add(o, "data", data);
	c.r = r;
	c.data = data;
	c.failed = 0;
	c.p = NULL;
	for (pp = providers; *pp != NULL && !c.failed; pp++) {
		if (!serves(r, *pp))
			continue;
		for (i = 0; (*pp)->models[i].id != NULL; i++)
			if (!((*pp)->models[i].flags & MODEL_ALIAS) &&
			    add_model(data, (*pp)->models[i].id,
			    (*pp)->models[i].created, (*pp)->id, 0) < 0)
				c.failed = 1;
		c.p = *pp;
		add_listed(&c);
	}
	for (i = 0; i < r->cfg->model_mapping.n && !c.failed; i++)
		if (add_mapping(r, data, r->cfg->model_mapping.v[i].name) < 0)
			c.failed = 1;
	if (!c.failed && r->store != NULL)
		mapping_list(r->store, stored_mapping, &c);
	if (c.failed) {
		json_object_put(o);
		return APP_ENOMEM;
	}
	e = resp_json(r, 200, o);
	json_object_put(o);
	return e;
}

enum app_err
h_models_get(struct req *r, const char *id)
{
	struct json_object *o, *data, *m;
	struct api_auth auth;
	struct route rt;
	enum route_err re;
	enum app_err e;
	int answered;

	if ((e = api_auth(r, &auth, &answered)) != APP_OK || answered)
		return e;
	re = route_resolve(r->cfg, r->store, r->arena, id, &rt);
	if (re == ROUTE_ENOMEM)
		return APP_ENOMEM;
	/*
	 * The catch-all takes any name; only known ones are models (a name
	 * an upstream lists goes to its own provider).
	 */
	if (re != ROUTE_OK || (rt.model == NULL && rt.mapping == NULL &&
	    rt.provider == provider_default()))
		return resp_error(r, 404, "invalid_request_error",
		    "model_not_found", "model", "The model `%.128s` does not "
		    "exist or you do not have access to it.", id);
	if ((data = json_object_new_array()) == NULL)
		return APP_ENOMEM;
	if (add_model(data, id, rt.model != NULL ? rt.model->created : 0,
	    rt.provider->id, 1) < 0) {
		json_object_put(data);
		return APP_ENOMEM;
	}
	m = json_object_array_get_idx(data, 0);
	o = json_object_get(m);
	json_object_put(data);
	e = resp_json(r, 200, o);
	json_object_put(o);
	return e;
}
