/*
 * "Delete all upstream chats" of one account (issue 15), for the
 * management API and the console alike: the provider's own bulk delete
 * (provider.purge, where its protocol has one), then the account's
 * sessions leave the table, so no later turn continues a chat that is
 * gone.  The secret is decrypted for the call only and never leaves.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "handlers/accounts_ops.h"
#include "handlers/mgmt.h"
#include "handlers/session.h"
#include "upstream/provider.h"

int
mgmt_can_purge(const char *provider)
{
	const struct provider *pv;

	return provider != NULL && (pv = provider_by_id(provider)) != NULL &&
	    pv->purge != NULL;
}

struct purge_job {
	const char		*id;
	const struct provider	*pv;
	struct provider_ctx	 x;
	struct provider_purge	 out;
	int			 done, rc;
};

static int
purge_with(void *u, const struct acct_info *ai, const char *secret,
    const struct acct_field *f, size_t nf)
{
	struct purge_job *j = u;
	struct provider_account pa;

	if (strcmp(ai->id, j->id) != 0)
		return 0;
	accounts_provider_account(ai, secret, f, nf, &pa);
	j->rc = j->pv->purge(&j->x, &pa, &j->out);
	j->done = 1;
	return 1;
}

static struct json_object *
purged(const struct acct_info *ai, long deleted, size_t dropped)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(ai->id));
	json_object_object_add(o, "provider",
	    json_object_new_string(ai->provider));
	json_object_object_add(o, "fingerprint",
	    json_object_new_string(ai->fingerprint));
	/* null: the upstream deleted them all without saying how many */
	json_object_object_add(o, "chats_deleted", deleted >= 0 ?
	    json_object_new_int64(deleted) : NULL);
	json_object_object_add(o, "sessions_dropped",
	    json_object_new_int64((int64_t)dropped));
	return o;
}

struct json_object *
mgmt_account_purge(const struct config *cfg, struct store *st,
    struct arena *a, const char *id, struct mgmt_err *err)
{
	struct acct_info info;
	struct purge_job j;
	enum store_err e;
	size_t dropped = 0;
	char why[32] = "";

	if (id == NULL || *id == '\0')
		return mgmt_fail(err, 400, "invalid_id", "Which account?");
	/* INVAL: not even the shape of an id or a fingerprint */
	if ((e = acct_get(st, id, &info)) == STORE_NOTFOUND ||
	    e == STORE_INVAL)
		return mgmt_fail(err, 404, "not_found", "No such account.");
	if (e != STORE_OK)
		return mgmt_fail(err, 503, "store_error", "The store failed: "
		    "%s.", store_strerror(e));
	memset(&j, 0, sizeof(j));
	if ((j.pv = provider_by_id(info.provider)) == NULL ||
	    j.pv->purge == NULL)
		return mgmt_fail(err, 400, "not_supported", "%s has no way to "
		    "delete all chats of an account; nothing was deleted.",
		    j.pv != NULL ? j.pv->display : info.provider);
	j.id = info.id;
	j.x.cfg = cfg;
	j.x.store = st;
	j.x.arena = a;
	if ((e = acct_export(st, j.pv->id, purge_with, &j)) != STORE_OK)
		return mgmt_fail(err, 503, "store_error", "The store failed: "
		    "%s.", store_strerror(e));
	if (!j.done)
		return mgmt_fail(err, 404, "not_found", "No such account.");
	if (j.rc != 0) {
		if (j.out.status != 0)
			snprintf(why, sizeof(why), " (HTTP %ld)", j.out.status);
		return mgmt_fail(err, 502, j.out.login ? "account_refused" :
		    "upstream_error", "%s did not delete the chats: %s%s.",
		    j.pv->display, j.out.message, why);
	}
	/* the chats are gone whatever the store says now: report both */
	if ((e = session_drop_account(st, info.provider, info.id,
	    &dropped)) != STORE_OK)
		return mgmt_fail(err, 503, "store_error", "The chats were "
		    "deleted, but the account's sessions could not be "
		    "dropped: %s.", store_strerror(e));
	return purged(&info, j.out.deleted, dropped);
}
