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
#include "store/crypto.h"
#include "upstream/provider.h"

int
mgmt_can_purge(const char *provider)
{
	const struct provider *pv;

	return provider != NULL && (pv = provider_by_id(provider)) != NULL &&
	    pv->purge != NULL;
}

/* The account as the store holds it, copied out of the transaction. */
struct purge_job {
	const char		*id;
	struct arena		*arena;
	struct acct_info	 info;
	char			*secret;
	struct acct_field	*fields;
	size_t			 nfields;
	int			 found, oom;
};

static int
copy_out(void *u, const struct acct_info *ai, const char *secret,
    const struct acct_field *f, size_t nf)
{
	struct purge_job *j = u;
	size_t i;

	if (strcmp(ai->id, j->id) != 0)
		return 0;
	j->found = 1;
	j->info = *ai;
	if ((j->secret = arena_strdup(j->arena, secret)) == NULL ||
	    (nf > 0 && (j->fields = arena_calloc(j->arena, nf,
	    sizeof(*j->fields))) == NULL)) {
		j->oom = 1;
		return 1;
	}
	j->nfields = nf;	/* calloc'd: wipe() skips what is not copied */
	for (i = 0; i < nf; i++)
		if ((j->fields[i].name = arena_strdup(j->arena,
		    f[i].name)) == NULL || (j->fields[i].value =
		    arena_strdup(j->arena, f[i].value)) == NULL) {
			j->oom = 1;
			return 1;
		}
	return 1;
}

/* The copies go as soon as the call is over: fields may hold secrets. */
static void
wipe(struct purge_job *j)
{
	size_t i;

	if (j->secret != NULL)
		crypto_wipe(j->secret, strlen(j->secret));
	for (i = 0; i < j->nfields; i++)
		if (j->fields[i].value != NULL)
			crypto_wipe((char *)j->fields[i].value,
			    strlen(j->fields[i].value));
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
	const struct provider *pv;
	struct provider_account pa;
	struct provider_purge out;
	struct provider_ctx x;
	struct acct_info info;
	struct purge_job j;
	enum store_err e;
	int rc;
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
	if ((pv = provider_by_id(info.provider)) == NULL || pv->purge == NULL)
		return mgmt_fail(err, 400, "not_supported", "%s has no way to "
		    "delete all chats of an account; nothing was deleted.",
		    pv != NULL ? pv->display : info.provider);
	/* the upstream is asked outside any transaction */
	memset(&j, 0, sizeof(j));
	j.id = info.id;
	j.arena = a;
	e = acct_export(st, pv->id, copy_out, &j);
	if (e == STORE_OK && j.oom)
		e = STORE_ENOMEM;
	if (e != STORE_OK) {
		wipe(&j);
		return mgmt_fail(err, 503, "store_error", "The store failed: "
		    "%s.", store_strerror(e));
	}
	if (!j.found)
		return mgmt_fail(err, 404, "not_found", "No such account.");
	accounts_provider_account(&j.info, j.secret, j.fields, j.nfields, &pa);
	x.cfg = cfg;
	x.store = st;
	x.arena = a;
	rc = pv->purge(&x, &pa, &out);
	wipe(&j);
	if (rc != 0) {
		/* the status once, where the message has not said it */
		snprintf(why, sizeof(why), "HTTP %ld", out.status);
		if (out.status == 0 || strstr(out.message, why) != NULL)
			why[0] = '\0';
		else
			snprintf(why, sizeof(why), " (HTTP %ld)", out.status);
		return mgmt_fail(err, 502, out.login ? "account_refused" :
		    "upstream_error", "%s did not delete the chats: %s%s.",
		    pv->display, out.message, why);
	}
	/* the chats are gone whatever the store says now: report both */
	if ((e = session_drop_account(st, info.provider, info.id,
	    &dropped)) != STORE_OK)
		return mgmt_fail(err, 503, "store_error", "The chats were "
		    "deleted, but the account's sessions could not be "
		    "dropped: %s.", store_strerror(e));
	return purged(&info, out.deleted, dropped);
}
