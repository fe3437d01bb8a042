/*
 * userToken → bearer (§2.1): GET /api/v0/users/current with the userToken
 * answers biz_data.token, the bearer every other call carries.  It is
 * kept in LMDB for its hour (store/tokcache.c), so one exchange serves all
 * processes, and concurrent first uses wait for one exchange.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "store/tokcache.h"
#include "upstream/deepseek/internal.h"

#define DS_BEARER_SCOPE	"deepseek-bearer"

struct exch {
	struct ds_call	*c;
	char		*email;
	size_t		 emailsz;
	enum ds_step_err se;
};

/* 0 with the bearer, or 1 (the userToken refused) / 2 (failed). */
static int
exchange(void *u, char **value, int64_t *expires)
{
	struct exch *x = u;
	struct ds_call *c = x->c;
	struct json_object *root, *biz, *v;
	const char *saved = c->bearer;

	*value = NULL;
	c->bearer = NULL;	/* this call carries the userToken */
	x->se = ds_api(c, "users/current", "/api/v0/users/current", NULL,
	    &root, &biz);
	c->bearer = saved;
	if (x->se == DS_STEP_EXPIRED)
		return 1;
	if (x->se != DS_STEP_OK)
		return 2;
	if (!json_object_object_get_ex(biz, "token", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0 ||
	    json_object_get_string_len(v) > 4096) {
		snprintf(c->msg, sizeof(c->msg), "users/current answered no "
		    "token");
		if (c->sink != NULL)
			call_fail(c->sink, 502, "upstream_error",
			    "upstream_error", "DeepSeek users/current answered "
			    "no token.");
		json_object_put(root);
		x->se = DS_STEP_FAILED;
		return 2;
	}
	*value = strdup(json_object_get_string(v));
	if (x->email != NULL && json_object_object_get_ex(biz, "email", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(x->email, x->emailsz, "%s", json_object_get_string(v));
	/* The upstream keeps it an hour; renew a little before. */
	*expires = (int64_t)time(NULL) + DS_BEARER_TTL - 60;
	json_object_put(root);
	return *value != NULL ? 0 : 2;
}

enum ds_step_err
ds_bearer(struct ds_call *c, int force, char *email, size_t emailsz)
{
	struct exch x = { c, email, emailsz, DS_STEP_OK };
	char fp[13];
	int rc;

	if (email != NULL)
		email[0] = '\0';
	rc = call_token(c->store, c->arena, DS_BEARER_SCOPE, c->user_token,
	    force, exchange, &x, c->idle, c->idle_ctx, &c->bearer,
	    &c->bearer_cached);
	if (rc == 0) {
		if (!c->bearer_cached) {
			log_fingerprint(c->user_token, fp);
			log_info("deepseek: bearer for %s fetched", fp);
		}
		return DS_STEP_OK;
	}
	if (rc == 1) {
		ds_fail_expired(c, "users/current");
		return DS_STEP_EXPIRED;
	}
	if (rc < 0 && c->sink != NULL)
		call_fail(c->sink, 503, "server_error", "store_error",
		    "The DeepSeek login could not be %s.", rc ==
		    TOKCACHE_GAVE_UP ? "waited for" : "cached");
	return DS_STEP_FAILED;
}
