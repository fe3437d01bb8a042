/* /, /health and /stats. */
#include "config.h"

#include <time.h>

#include "fcgi/resp.h"
#include "handlers/handlers.h"
#include "handlers/mgmt.h"
#include "store/store.h"

void
h_status_init(void)
{
	mgmt_stats_init();
}

enum app_err
h_index(struct req *r, const char *rest)
{
	struct json_object *o, *ep;
	const char *pfx = r->cfg->api_prefix;
	enum app_err e;

	(void)rest;
	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "name", json_object_new_string(PACKAGE));
	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	ep = json_object_new_array();
	json_object_array_add(ep, json_object_new_string("/health"));
	/* With API_PREFIX set, the API paths are a secret: don't list them. */
	if (pfx[0] == '\0') {
		json_object_array_add(ep, json_object_new_string("/stats"));
		json_object_array_add(ep,
		    json_object_new_string("/v1/models"));
		json_object_array_add(ep,
		    json_object_new_string("/v1/chat/completions"));
		json_object_array_add(ep,
		    json_object_new_string("/v1/completions"));
	}
	json_object_object_add(o, "endpoints", ep);
	e = resp_json(r, 200, o);
	json_object_put(o);
	return e;
}

enum app_err
h_health(struct req *r, const char *rest)
{
	struct json_object *o;
	enum app_err e;

	(void)rest;
	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "uptime",
	    json_object_new_int64(mgmt_uptime()));
	e = resp_json(r, 200, o);
	json_object_put(o);
	return e;
}

enum app_err
h_stats(struct req *r, const char *rest)
{
	struct store_stats st;
	struct json_object *o, *models;
	enum store_err se;
	enum app_err e;
	size_t i;

	(void)rest;
	if (r->store == NULL)
		return APP_STORE;
	if ((se = store_read_stats(r->store, r->arena, &st)) != STORE_OK)
		return se == STORE_ENOMEM ? APP_ENOMEM : APP_STORE;
	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "total", json_object_new_int64(
	    (int64_t)st.total));
	json_object_object_add(o, "success", json_object_new_int64(
	    (int64_t)st.success));
	json_object_object_add(o, "failed", json_object_new_int64(
	    (int64_t)st.failed));
	json_object_object_add(o, "success_rate", json_object_new_double(
	    st.total ? (double)st.success / (double)st.total : 0.0));
	models = json_object_new_object();
	for (i = 0; i < st.nmodels; i++)
		json_object_object_add(models, st.models[i].name,
		    json_object_new_int64((int64_t)st.models[i].n));
	json_object_object_add(o, "models", models);
	json_object_object_add(o, "uptime",
	    json_object_new_int64(mgmt_uptime()));
	/* the request log's numbers: latency, rate, streams, providers */
	if (mgmt_stats_add(r->store, o) < 0) {
		json_object_put(o);
		return APP_STORE;
	}
	e = resp_json(r, 200, o);
	json_object_put(o);
	return e;
}
