/*
 * The API's edge check (see apiauth.h).  Wrong keys count against the
 * client address on the same throttle as the /tokens login; while an
 * address is blocked even the right code or key is refused, so a guess
 * made then tells nothing.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/resp.h"
#include "handlers/admin_auth.h"
#include "handlers/apiauth.h"

static enum app_err
throttled(struct req *r, long wait)
{
	char hdr[48];

	snprintf(hdr, sizeof(hdr), "Retry-After: %ld\r\n", wait);
	return resp_error_hdr(r, 429, hdr, "rate_limit_error",
	    "too_many_failures", NULL, "Too many wrong API keys from this "
	    "address; wait %ld s before trying again.", wait);
}

enum app_err
api_auth_refuse(struct req *r, const struct api_auth *a)
{
	long wait;

	if (a->bearer == NULL)
		return resp_error(r, 401, "invalid_request_error",
		    "missing_api_key", NULL, "An API key is required: send "
		    "\"Authorization: Bearer <key>\" (or X-API-Key).");
	if (admin_throttled(r, &wait))
		return throttled(r, wait);
	admin_failed(r);
	return resp_error(r, 401, "invalid_request_error", "invalid_api_key",
	    NULL, "Incorrect API key provided: not an authorization code or "
	    "API key of this server%s.", r->cfg->require_api_key ? "" :
	    ", nor a credential of the model's provider");
}

/* The presented key: Bearer, then X-API-Key, then ?api_key= (§10.6). */
const char *
api_presented(struct req *r)
{
	const char *v;

	if ((v = admin_bearer(r->auth)) != NULL && *v)
		return v;
	if ((v = req_param(r, "HTTP_X_API_KEY")) != NULL && *v)
		return v;
	if ((v = req_query_get(r, "api_key")) != NULL && *v)
		return v;
	return NULL;
}

enum app_err
api_auth(struct req *r, struct api_auth *a, int *answered)
{
	const struct config *cfg = r->cfg;
	const char *comma;
	size_t nkeys = 0;
	long wait;

	memset(a, 0, sizeof(*a));
	*answered = 0;
	/* A connection that died since the edge's check: a key cannot be
	 * told from a wrong one now, so no 401 that would make a client
	 * drop a good key. */
	if (r->store != NULL &&
	    apikey_count(r->store, &nkeys) == STORE_UNAVAILABLE) {
		*answered = 1;
		return resp_store_unavailable(r);
	}
	a->protected = cfg->authorization.n > 0 || nkeys > 0;
	if ((a->bearer = api_presented(r)) == NULL) {
		a->who = API_NONE;
		if (!cfg->require_api_key)
			return APP_OK;
		*answered = 1;
		return api_auth_refuse(r, a);
	}
	/* "code,team_id": the team id goes upstream with a pooled token. */
	if ((comma = strchr(a->bearer, ',')) != NULL) {
		a->value = arena_strndup(r->arena, a->bearer,
		    (size_t)(comma - a->bearer));
		a->suffix = comma[1] ? comma + 1 : NULL;
		if (a->value == NULL)
			return APP_ENOMEM;
	} else
		a->value = a->bearer;
	a->who = API_OTHER;
	if (cfg->authorization.n &&
	    admin_code_ok(cfg, a->value, strlen(a->value)))
		a->who = API_CODE;
	else if (nkeys && apikey_check(r->store, a->value, 0, &a->key) ==
	    STORE_OK)
		a->who = API_KEY;
	if (a->who != API_OTHER && admin_throttled(r, &wait)) {
		*answered = 1;
		return throttled(r, wait);
	}
	if (a->who == API_KEY) {
		if (!a->key.enabled) {
			*answered = 1;
			admin_failed(r);
			return resp_error(r, 401, "invalid_request_error",
			    "invalid_api_key", NULL, "This API key is "
			    "disabled.");
		}
		/* Counted once it is known to be good, in the request's
		 * final store write (handlers/reqdone.c). */
		r->obs.api_key = a->value;
		r->obs.key_name = arena_strdup(r->arena, a->key.name[0] ?
		    a->key.name : a->key.id);
	}
	if (a->who == API_OTHER && cfg->require_api_key) {
		*answered = 1;
		return api_auth_refuse(r, a);
	}
	return APP_OK;
}
