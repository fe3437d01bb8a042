/*
 * refresh token → access token (§3.1): POST user/refresh with the refresh
 * token as the Bearer answers result.access_token, the Bearer of every
 * other call, and may answer a new refresh_token.  The access token is
 * kept in LMDB for its hour (store/tokcache.c), so one exchange serves
 * every process and concurrent first uses wait for it.
 *
 * A rotated refresh token replaces the account's secret (acct_rotate:
 * sealed, one write transaction) before anything else uses it, and the
 * access token is cached under it as well: the next pick of the account
 * carries the new token and finds its access token without another
 * exchange.  The old token is not sent again; a request that took the
 * account before another process rotated it finds the new one in the
 * store when the old one is refused.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "store/accounts.h"
#include "store/crypto.h"
#include "store/tokcache.h"
#include "upstream/glm/internal.h"

#define GLM_ACCESS_SCOPE	"glm-access"

struct exch {
	struct glm_call	*c;
	char		*email;
	size_t		 emailsz;
	enum glm_step	 gs;
};

/* The upstream handed back another refresh token: keep it. */
static void
rotated(struct glm_call *c, const char *rt, const char *access,
    int64_t expires)
{
	char old[LOG_FP_LEN], new[LOG_FP_LEN];
	enum store_err e;
	char *keep;

	log_fingerprint(c->refresh, old);
	log_fingerprint(rt, new);
	if (!acct_secret_ok(rt, strlen(rt))) {
		log_warn("glm: the upstream rotated %s into a token we cannot "
		    "store; keeping the old one", old);
		return;
	}
	if ((keep = arena_strdup(c->arena, rt)) == NULL)
		return;
	if (c->store != NULL && c->account_id != NULL) {
		if ((e = acct_rotate(c->store, c->account_id, rt)) ==
		    STORE_OK)
			log_info("glm: account %s: refresh token rotated to %s "
			    "and stored", old, new);
		else
			log_warn("glm: account %s: refresh token rotated to %s "
			    "but not stored: %s", old, new, store_strerror(e));
	} else
		log_info("glm: the client's refresh token %s was rotated to "
		    "%s; the client keeps the old one", old, new);
	if (c->store != NULL)
		tokcache_put(c->store, GLM_ACCESS_SCOPE, rt, access, expires);
	c->refresh = keep;
}

/* 0 with the access token, or 1 (the refresh token refused) / 2 (failed). */
static int
exchange(void *u, char **value, int64_t *expires)
{
	struct exch *x = u;
	struct glm_call *c = x->c;
	struct json_object *root, *res, *user;
	const char *at, *rt, *s;

	*value = NULL;
	x->gs = glm_api(c, "user/refresh", GLM_PATH_REFRESH, "{}", 2, NULL,
	    c->refresh, &root, &res);
	if (x->gs == GLM_STEP_AUTH)
		return 1;
	if (x->gs != GLM_STEP_OK)
		return 2;
	if ((at = glm_json_str(res, "access_token", GLM_TOKEN_MAX)) == NULL) {
		snprintf(c->msg, sizeof(c->msg), "user/refresh answered no "
		    "access token");
		if (c->sink != NULL)
			call_fail(c->sink, 502, "upstream_error",
			    "upstream_error", "GLM user/refresh answered no "
			    "access token.");
		json_object_put(root);
		x->gs = GLM_STEP_FAILED;
		return 2;
	}
	/* The upstream keeps it an hour; renew a little before. */
	*expires = (int64_t)time(NULL) + GLM_ACCESS_TTL - 60;
	if ((*value = strdup(at)) == NULL) {
		json_object_put(root);
		return 2;
	}
	if ((rt = glm_json_str(res, "refresh_token", GLM_TOKEN_MAX)) != NULL &&
	    strcmp(rt, c->refresh) != 0)
		rotated(c, rt, at, *expires);
	if (x->email != NULL && json_object_object_get_ex(res, "user", &user) &&
	    ((s = glm_json_str(user, "email", 120)) != NULL ||
	    (s = glm_json_str(user, "name", 120)) != NULL ||
	    (s = glm_json_str(user, "nickname", 120)) != NULL))
		snprintf(x->email, x->emailsz, "%s", s);
	json_object_put(root);
	return 0;
}

struct stored {
	const char	*id;
	char		*secret;
};

static int
find_stored(void *u, const struct acct_info *i, const char *secret,
    const struct acct_field *f, size_t nf)
{
	struct stored *s = u;

	(void)f;
	(void)nf;
	if (strcmp(i->id, s->id) != 0)
		return 0;
	s->secret = strdup(secret);
	return 1;
}

/*
 * The refresh token was refused: if another process rotated the stored
 * one since this request took the account, that one is to be used (1,
 * c->refresh replaced); else 0.
 */
static int
rotated_meanwhile(struct glm_call *c)
{
	struct stored s = { c->account_id, NULL };
	const char *now = NULL;

	if (c->store == NULL || c->account_id == NULL)
		return 0;
	(void)acct_export(c->store, "glm", find_stored, &s);
	if (s.secret == NULL)
		return 0;
	if (strcmp(s.secret, c->refresh) != 0)
		now = arena_strdup(c->arena, s.secret);
	crypto_wipe(s.secret, strlen(s.secret));
	free(s.secret);
	if (now == NULL)
		return 0;
	log_info("glm: the account's refresh token was rotated by another "
	    "process; using the stored one");
	c->refresh = now;
	return 1;
}

enum glm_step
glm_access(struct glm_call *c, int force, char *email, size_t emailsz)
{
	struct exch x = { c, email, emailsz, GLM_STEP_OK };
	char fp[LOG_FP_LEN];
	int rc;

	if (email != NULL)
		email[0] = '\0';
	/* exchange() may rotate c->refresh; the cache key is the old one */
	rc = call_token(c->store, c->arena, GLM_ACCESS_SCOPE, c->refresh, force,
	    exchange, &x, c->idle, c->idle_ctx, &c->access, &c->access_cached);
	if (rc == 1 && rotated_meanwhile(c))
		rc = call_token(c->store, c->arena, GLM_ACCESS_SCOPE,
		    c->refresh, force, exchange, &x, c->idle, c->idle_ctx,
		    &c->access, &c->access_cached);
	if (rc == 0) {
		if (!c->access_cached) {
			log_fingerprint(c->refresh, fp);
			log_info("glm: access token for %s fetched", fp);
		}
		return GLM_STEP_OK;
	}
	if (rc == 1) {
		glm_fail_auth(c, "user/refresh");
		return GLM_STEP_AUTH;
	}
	if (rc < 0) {
		snprintf(c->msg, sizeof(c->msg), "the token cache failed");
		if (c->sink != NULL)
			call_fail(c->sink, 503, "server_error", "store_error",
			    "The GLM login could not be %s.", rc ==
			    TOKCACHE_GAVE_UP ? "waited for" : "cached");
	}
	return GLM_STEP_FAILED;
}

enum glm_step
glm_api_fresh(struct glm_call *c, const char *what, const char *path,
    const char *body, size_t len, const char *ctype,
    struct json_object **root, struct json_object **result)
{
	enum glm_step gs;

	gs = glm_api(c, what, path, body, len, ctype, c->access, root, result);
	if (gs == GLM_STEP_AUTH && c->access_cached) {
		if ((gs = glm_access(c, 1, NULL, 0)) != GLM_STEP_OK)
			return gs;	/* glm_access told the sink */
		gs = glm_api(c, what, path, body, len, ctype, c->access, root,
		    result);
	}
	if (gs == GLM_STEP_AUTH)
		glm_fail_auth(c, what);
	return gs;
}
