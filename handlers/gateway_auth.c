/*
 * Whose gateway request this is (handlers/gateway.h): the login the
 * browser holds (a Bearer from the page's scripts, else the token
 * cookie), what kind it is, and the real access token behind it -- the
 * user's own, the exchange of their RefreshToken, or the account or
 * token of a seed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fcgi/resp.h"
#include "handlers/admin_auth.h"
#include "handlers/gateway.h"
#include "store/crypto.h"
#include "upstream/chatgpt/chatgpt.h"
#include "upstream/chatgpt/refresh.h"

#define GW_EMAIL_MAX	128
#define GW_ERR_MAX	256

static const struct {
	int		 status;
	const char	*text;
} gw_errs[GW__MAX] = {
	[GW_OK] = { 200, "success" },
	[GW_NOTOKEN] = { 401, "Unauthorized" },
	[GW_BADTOKEN] = { 401, "That is not an AccessToken, a RefreshToken "
	    "or a seed (seeds use letters, digits and - _ . ~)." },
	[GW_ADMINCODE] = { 401, "An AUTHORIZATION code is not a login: use "
	    "a seed, an AccessToken or a RefreshToken." },
	[GW_UNKNOWN] = { 401, "Invalid Seed" },
	[GW_NOPOOL] = { 503, "No ChatGPT account is available for new seeds." },
	[GW_FULL] = { 503, "No room for another seed." },
	[GW_THROTTLED] = { 429, "Too many new seeds from this address; try "
	    "again later." },
	[GW_REFRESH_BAD] = { 401, "The RefreshToken was refused." },
	[GW_REFRESH_FAIL] = { 502, "The RefreshToken could not be exchanged "
	    "now; try again." },
	[GW_STORE] = { 500, "Storage failure." },
	[GW_ENOMEM] = { 503, "The server is out of memory; try again." },
};

const char *
gw_strerror(enum gw_err e)
{
	return (unsigned)e < GW__MAX ? gw_errs[e].text : "unknown error";
}

int
gw_status_of(enum gw_err e)
{
	return (unsigned)e < GW__MAX ? gw_errs[e].status : 500;
}

enum app_err
gw_refuse(struct req *r, enum gw_err e)
{
	return gw_detail(r, gw_status_of(e), gw_strerror(e));
}

int
gw_token_ok(const char *s, size_t n)
{
	size_t i;

	if (s == NULL || n == 0 || n > GW_TOKEN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != '\0' &&
		    strchr("._~+/=-", c) != NULL)))
			return 0;
	}
	return 1;
}

enum gw_kind
gw_classify(const char *token)
{
	switch (chatgpt_token_kind(token)) {
	case CHATGPT_KIND_ACCESS:
		return GW_ACCESS;
	case CHATGPT_KIND_REFRESH:
		return GW_REFRESH;
	default:
		return GW_SEED;
	}
}

const char *
gw_login_of(struct req *r)
{
	const char *b = admin_bearer(r->auth);

	if (b != NULL && *b)
		return b;
	return gw_cookie(r, GW_COOKIE, GW_TOKEN_MAX);
}

/* A RefreshToken's access token, copied into the arena. */
static enum gw_err
exchange(struct req *r, const char *rt, const char **at)
{
	enum refresh_err re;
	char err[GW_ERR_MAX], *owned = NULL;

	if (r->store == NULL)
		return GW_STORE;
	re = chatgpt_refresh(r->cfg, r->store, rt, 0, &owned, gw_idle, r, err,
	    sizeof(err));
	switch (re) {
	case REFRESH_OK:
		*at = arena_strdup(r->arena, owned);
		crypto_wipe(owned, strlen(owned));
		free(owned);
		return *at != NULL ? GW_OK : GW_ENOMEM;
	case REFRESH_INVALID:
		return GW_REFRESH_BAD;
	case REFRESH_ENOMEM:
		return GW_ENOMEM;
	case REFRESH_STORE:
		return GW_STORE;
	default:
		return GW_REFRESH_FAIL;
	}
}

/*
 * Anyone may make a seed (AUTO_SEED): one address may make only so many
 * in a window, counted across processes, so nobody fills the store.
 */
static int
new_seed_allowed(struct req *r, int count)
{
	struct store_throttle lim = { GW_NEW_SEEDS,
	    r->cfg->admin_fail_window };
	const char *who = req_param(r, "REMOTE_ADDR");
	long wait = 0;

	if (who == NULL || *who == '\0')
		who = "-";
	if (count)
		return store_throttle_fail(r->store, "gateway-seed", who,
		    &lim, &wait) == STORE_OK;
	return store_throttle_check(r->store, "gateway-seed", who, &lim,
	    &wait) != STORE_OK || wait == 0;
}

static enum gw_err
seed_creds(struct req *r, const char *seed, int create, struct gw_ident *id)
{
	struct seed_cred c;
	enum seed_err se;
	enum gw_err e = GW_OK;
	char fp[LOG_FP_LEN];

	if (r->store == NULL)
		return GW_STORE;
	create = create && r->cfg->auto_seed;
	se = seed_resolve(r->store, GW_PROVIDER, seed, 0, &c);
	if (se == SEED_UNKNOWN && create) {
		if (!new_seed_allowed(r, 0)) {
			log_warn("gateway: too many new seeds from %s",
			    req_param(r, "REMOTE_ADDR") != NULL ?
			    req_param(r, "REMOTE_ADDR") : "-");
			return GW_THROTTLED;
		}
		se = seed_resolve(r->store, GW_PROVIDER, seed, 1, &c);
		if (se == SEED_OK && c.assigned)
			new_seed_allowed(r, 1);
	}
	switch (se) {
	case SEED_OK:
		break;
	case SEED_INVAL:
		return GW_BADTOKEN;
	case SEED_UNKNOWN:
		return GW_UNKNOWN;
	case SEED_NOPOOL:
		return GW_NOPOOL;
	case SEED_FULL:
		return GW_FULL;
	case SEED_ENOMEM:
		return GW_ENOMEM;
	default:
		return GW_STORE;
	}
	if (c.assigned) {
		log_fingerprint(c.secret, fp);
		log_info("gateway: seed %s got account %s", id->fp, fp);
	}
	if (c.team_id[0] && (id->team = arena_strdup(r->arena, c.team_id)) ==
	    NULL)
		e = GW_ENOMEM;
	else if (chatgpt_token_kind(c.secret) == CHATGPT_KIND_REFRESH)
		e = exchange(r, c.secret, &id->at);
	else if ((id->at = arena_strdup(r->arena, c.secret)) == NULL)
		e = GW_ENOMEM;
	seed_cred_free(&c);
	return e;
}

enum gw_err
gw_resolve(struct req *r, const char *token, int create, struct gw_ident *id)
{
	char email[GW_EMAIL_MAX];
	int64_t exp;
	size_t n;
	enum gw_err e;

	memset(id, 0, sizeof(*id));
	if (token == NULL || *token == '\0')
		return GW_NOTOKEN;
	n = strlen(token);
	if (!gw_token_ok(token, n))
		return GW_BADTOKEN;
	/* Compared in constant time, and never kept as a seed. */
	if (admin_code_ok(r->cfg, token, n))
		return GW_ADMINCODE;
	if ((id->login = arena_strdup(r->arena, token)) == NULL)
		return GW_ENOMEM;
	log_fingerprint(token, id->fp);
	id->kind = gw_classify(token);
	switch (id->kind) {
	case GW_ACCESS:
		id->at = id->login;
		return GW_OK;
	case GW_REFRESH:
		return exchange(r, token, &id->at);
	default:
		break;
	}
	if (!seed_name_ok(token, n))
		return GW_BADTOKEN;
	if ((e = seed_creds(r, token, create, id)) != GW_OK)
		return e;
	/* A seed must not learn whose account it uses. */
	email[0] = '\0';
	chatgpt_jwt_claims(id->at, email, sizeof(email), &exp);
	if (email[0] && (id->email = arena_strdup(r->arena, email)) == NULL)
		return GW_ENOMEM;
	return GW_OK;
}
