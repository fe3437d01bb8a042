/*
 * Every path of the site the mirror serves (the gateway's fallback
 * route): whose request it is, the faked and banned routes, the seed's
 * guard on conversations that are not its own, then the proxy -- with
 * the conversation post (FORCE_NO_HISTORY, the server's sentinel, the
 * seed's capture), PATCHes that keep the seed's list in step, and the
 * bodies the gateway edits on the way back.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "fcgi/resp.h"
#include "handlers/gateway.h"
#include "handlers/handlers.h"
#include "upstream/http.h"

#define SENTINEL_HEADERS	8
#define STATSIG_KEY		"client-tnE5GCU2F2cTxRiMbvTczMDT1jpwIigZHsZSdqiy4u"
#define STATSIG_DEPTH		32

static int
is_conversation_post(const char *path)
{
	static const char *const posts[] = { "/backend-api/conversation",
	    "/backend-api/f/conversation", "/backend-anon/conversation",
	    "/backend-anon/f/conversation", "/backend-alt/conversation" };
	size_t i;

	for (i = 0; i < sizeof(posts) / sizeof(posts[0]); i++)
		if (strcmp(path, posts[i]) == 0)
			return 1;
	return 0;
}

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static enum app_err
not_yours(struct req *r, const char *cid)
{
	const char *msg = arena_printf(r->arena, "Can't load conversation %s",
	    cid);

	return gw_detail(r, 404, msg != NULL ? msg : "Not found");
}

/* 1 when the seed may use conversation cid; else the 404 is sent. */
static int
seed_owns(struct req *r, struct gw_ident *id, const char *cid,
    enum app_err *e)
{
	int owned = 0;

	if (id->kind != GW_SEED || cid == NULL)
		return 1;
	if (seed_conv_owned(r->store, id->login, cid, &owned) != SEED_OK ||
	    !owned) {
		log_info("gateway: seed %s: conversation of another refused",
		    id->fp);
		*e = not_yours(r, cid);
		return 0;
	}
	return 1;
}

/* POST .../conversation: §9.4 capture, FORCE_NO_HISTORY, §9.5 sentinel. */
static enum app_err
conversation(struct req *r, struct gw_ident *id, struct gw_px_opts *o)
{
	const char *hdrs[SENTINEL_HEADERS], *model = NULL, *cid = NULL;
	struct json_object *body = NULL, *v;
	char err[256];
	enum site_err se;
	enum app_err e = APP_OK;
	long status;
	int history = 1;

	if (r->body != NULL && r->body_len > 0)
		body = json_tokener_parse(r->body);
	if (json_object_is_type(body, json_type_object)) {
		cid = jstr(body, "conversation_id");
		model = jstr(body, "model");
		if (cid != NULL && !seed_owns(r, id, cid, &e))
			goto out;
		if (r->cfg->force_no_history) {
			json_object_object_add(body,
			    "history_and_training_disabled",
			    json_object_new_boolean(1));
			o->body = json_object_to_json_string_length(body,
			    JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE, &o->body_len);
		}
		history = !(json_object_object_get_ex(body,
		    "history_and_training_disabled", &v) &&
		    json_object_get_boolean(v));
	}
	/*
	 * NO_SENTINEL, or a browser that did none (our fallback page): the
	 * API's own sentinel, for this account, from this server.
	 */
	if (r->cfg->no_sentinel || req_param(r,
	    "HTTP_OPENAI_SENTINEL_CHAT_REQUIREMENTS_TOKEN") == NULL) {
		se = site_sentinel(o->sc, model, hdrs, SENTINEL_HEADERS, err,
		    sizeof(err));
		if (se == SITE_ABORTED) {
			e = APP_HUP;
			goto out;
		}
		if (se != SITE_OK) {
			log_info("gateway: %s: sentinel failed: %s", id->fp,
			    err);
			e = gw_detail(r, 403, "Sentinel failed");
			goto out;
		}
		o->extra = hdrs;
		o->own_sentinel = 1;
	}
	if (r->cfg->no_sentinel && r->cfg->x_sign[0] &&
	    gw_hdr_value_ok(r->cfg->x_sign, strlen(r->cfg->x_sign)))
		o->resp_extra = arena_printf(r->arena, "x-sign: %s\r\n",
		    r->cfg->x_sign);
	if (id->kind == GW_SEED && history)
		o->seed = id->login;
	e = gw_proxy(r, id, o, &status);
out:
	json_object_put(body);	/* o->body points into it until here */
	return e;
}

/* PATCH of a seed's conversation: the seed's list follows the site. */
static enum app_err
patch(struct req *r, struct gw_ident *id, struct gw_px_opts *o,
    const char *cid)
{
	struct seed_conv_patch p;
	struct json_object *body, *v;
	enum app_err e;
	long status;

	if ((e = gw_proxy(r, id, o, &status)) != APP_OK || status < 200 ||
	    status >= 300)
		return e;
	if ((body = json_tokener_parse(r->body != NULL ? r->body : "")) ==
	    NULL)
		return e;
	memset(&p, 0, sizeof(p));
	if (json_object_object_get_ex(body, "is_visible", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    !json_object_get_boolean(v))
		seed_conv_remove(r->store, id->login, cid);
	else {
		if ((p.title = jstr(body, "title")) != NULL)
			p.set |= SEED_PATCH_TITLE;
		if (json_object_object_get_ex(body, "is_archived", &v)) {
			p.set |= SEED_PATCH_ARCHIVED;
			p.archived = json_object_get_boolean(v);
		}
		if (p.set)
			seed_conv_patch(r->store, id->login, cid, &p);
	}
	json_object_put(body);
	return e;
}

/* statsig (§9.2): every "ip" reads 8.8.8.8, every "country" US. */
static void
statsig_mask(struct json_object *o, int depth)
{
	size_t i, n;

	if (depth > STATSIG_DEPTH)
		return;
	if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			statsig_mask(json_object_array_get_idx(o, i),
			    depth + 1);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, k, v) {
		if (strcmp(k, "ip") == 0)
			json_object_object_add(o, k,
			    json_object_new_string("8.8.8.8"));
		else if (strcmp(k, "country") == 0)
			json_object_object_add(o, k,
			    json_object_new_string("US"));
		else
			statsig_mask(v, depth + 1);
	}
}

static int
edit_statsig(struct req *r, struct gw_ident *id, struct json_object *o)
{
	(void)r;
	(void)id;
	statsig_mask(o, 0);
	return 0;
}

/* accounts/check for a seed: the account's user id stays ours. */
static int
edit_accounts(struct req *r, struct gw_ident *id, struct json_object *o)
{
	struct json_object *accts, *acct;
	const char *aid;
	char *uid;

	(void)id;
	if (!json_object_object_get_ex(o, "accounts", &accts) ||
	    !json_object_is_type(accts, json_type_object))
		return 0;
	json_object_object_foreach(accts, k, v) {
		(void)k;
		if (!json_object_object_get_ex(v, "account", &acct) ||
		    !json_object_is_type(acct, json_type_object) ||
		    (aid = jstr(acct, "account_id")) == NULL ||
		    (uid = arena_printf(r->arena, "user-chatgpt__%s", aid)) ==
		    NULL)
			continue;
		json_object_object_add(acct, "account_user_id",
		    json_object_new_string(uid));
	}
	return 0;
}

static const char **
statsig_headers(struct req *r)
{
	const char **h = arena_calloc(r->arena, 5, sizeof(*h));
	struct timespec ts;

	if (h == NULL)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	h[0] = "statsig-sdk-type: js-client";
	h[1] = "statsig-api-key: " STATSIG_KEY;
	h[2] = "statsig-sdk-version: 5.1.0";
	h[3] = arena_printf(r->arena, "statsig-client-time: %lld",
	    (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	return h;
}

enum app_err
h_gw_site(struct req *r, const char *rest)
{
	struct site_target t;
	struct gw_px_opts o;
	struct gw_ident id;
	const char *base, *token, *cid;
	enum gw_err ge;
	enum app_err e = APP_OK;
	long status;

	(void)rest;
	if (gw_websocket(r))
		return gw_detail(r, 426, "This gateway does not carry "
		    "WebSockets.");
	base = gw_base(r);
	if (site_route(base, r->path, &t) < 0) {
		/* A deep link into the web UI, reloaded. */
		if (gw_navigation(r))
			return gw_page(r);
		return resp_error(r, 404, "invalid_request_error", "not_found",
		    NULL, "Unknown request URL: %s %s.", r->method, r->path);
	}
	memset(&id, 0, sizeof(id));
	token = t.kind == SITE_ASSET ? NULL : gw_login_of(r);
	if (token != NULL && (ge = gw_resolve(r, token, 1, &id)) != GW_OK)
		return gw_refuse(r, ge);
	/*
	 * No cookie of an earlier request on this thread (nor of a token
	 * exchange just now) goes along; the sentinel's go on to the post.
	 */
	http_cookies_reset();
	if (token == NULL && strncmp(r->path, "/backend-api/", 13) == 0)
		return gw_refuse(r, GW_NOTOKEN);
	if (gw_fake(r, &id, &e))
		return e;
	cid = gw_conv_id_of(r->arena, r->path);
	if (!seed_owns(r, &id, cid, &e))
		return e;
	memset(&o, 0, sizeof(o));
	o.t = &t;
	o.head_only = strcmp(r->method, "HEAD") == 0;
	/* The logged-out API (backend-anon) is spoken to anonymously. */
	if ((o.sc = site_call_new(r->arena, r->cfg, base,
	    strncmp(r->path, "/backend-anon/", 14) == 0 ? NULL : id.at,
	    id.team, gw_idle, r)) == NULL)
		return APP_ENOMEM;
	if (strcmp(r->method, "POST") == 0 && is_conversation_post(r->path))
		return conversation(r, &id, &o);
	if (strcmp(r->method, "PATCH") == 0 && cid != NULL &&
	    id.kind == GW_SEED)
		return patch(r, &id, &o, cid);
	if (t.kind == SITE_STATSIG) {
		o.edit = edit_statsig;
		if ((o.extra = statsig_headers(r)) == NULL)
			return APP_ENOMEM;
	} else if (id.kind == GW_SEED && strcmp(r->path,
	    "/backend-api/accounts/check/v4-2023-04-27") == 0)
		o.edit = edit_accounts;
	return gw_proxy(r, &id, &o, &status);
}
