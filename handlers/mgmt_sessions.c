/*
 * The multi-turn sessions as the management layer shows them (see
 * mgmt.h): the live ones, and ending them (handlers/session_admin.c).
 */
#include "config.h"

#include <string.h>

#include "handlers/mgmt.h"
#include "handlers/session.h"

struct list_ctx {
	const char		*provider;
	struct json_object	*arr;
	int			 nomem;
};

static int
one(void *u, const struct store_session *r)
{
	struct list_ctx *c = u;
	struct json_object *o;
	char id[SESSION_ID_LEN + 1];

	if (c->provider != NULL && strcmp(c->provider, r->provider) != 0)
		return 0;
	if ((o = json_object_new_object()) == NULL) {
		c->nomem = 1;
		return 1;
	}
	session_id_of(r, id);
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "provider",
	    json_object_new_string(r->provider));
	json_object_object_add(o, "account", json_object_new_string(r->account));
	json_object_object_add(o, "chat_id", json_object_new_string(r->chat_id));
	json_object_object_add(o, "turns", json_object_new_int64(r->turns));
	json_object_object_add(o, "created", json_object_new_int64(r->created));
	json_object_object_add(o, "expires", json_object_new_int64(r->expires));
	json_object_object_add(o, "named", json_object_new_boolean(r->named));
	json_object_object_add(o, "answering",
	    json_object_new_boolean(r->claimed));
	json_object_array_add(c->arr, o);
	return 0;
}

struct json_object *
mgmt_sessions(struct store *st, const char *provider, struct mgmt_err *err)
{
	struct list_ctx c;
	enum store_err e;

	memset(&c, 0, sizeof(c));
	c.provider = provider;
	if ((c.arr = json_object_new_array()) == NULL)
		return mgmt_fail(err, 500, "no_memory", "Out of memory.");
	if ((e = store_session_each(st, one, &c)) != STORE_OK || c.nomem) {
		json_object_put(c.arr);
		return mgmt_fail(err, 503, "store_error", "The store failed: %s.",
		    c.nomem ? "out of memory" : store_strerror(e));
	}
	return c.arr;
}

static struct json_object *
ended(size_t n, size_t deleted)
{
	struct json_object *o = json_object_new_object();

	if (o != NULL) {
		json_object_object_add(o, "ended", json_object_new_int64(
		    (int64_t)n));
		json_object_object_add(o, "chats_deleted",
		    json_object_new_int64((int64_t)deleted));
	}
	return o;
}

struct json_object *
mgmt_sessions_end(const struct config *cfg, struct store *st,
    struct arena *a, const char *provider, int expired_only,
    struct mgmt_err *err)
{
	size_t n = 0, deleted = 0;
	enum store_err e;

	e = expired_only ? session_prune_all(cfg, st, a, &n, &deleted) :
	    session_end_all(cfg, st, a, provider, &n, &deleted);
	if (e != STORE_OK)
		return mgmt_fail(err, 503, "store_error", "The store failed: "
		    "%s.", store_strerror(e));
	return ended(n, deleted);
}

struct json_object *
mgmt_session_end(const struct config *cfg, struct store *st,
    struct arena *a, const char *id, struct mgmt_err *err)
{
	size_t deleted = 0;
	enum store_err e;

	if ((e = session_end_id(cfg, st, a, id, &deleted)) == STORE_NOTFOUND)
		return mgmt_fail(err, 404, "not_found", "No such live session "
		    "(or a request is answering in it now).");
	if (e != STORE_OK)
		return mgmt_fail(err, 503, "store_error", "The store failed: "
		    "%s.", store_strerror(e));
	return ended(1, deleted);
}
