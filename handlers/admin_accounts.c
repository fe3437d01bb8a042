/*
 * /admin/accounts: the accounts page and its forms.  Every action is the
 * management layer's (mgmt_account_*); this file only reads the form,
 * calls it and answers 303 back to the page with a message from a fixed
 * table (numbers only from the query), or the page with the layer's own
 * message when it refused.  "Delete all upstream chats" asks first: a
 * POST without confirm=yes answers the question page.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/admin.h"
#include "handlers/handlers.h"
#include "handlers/mgmt.h"
#include "html/admin.h"
#include "html/escape.h"
#include "upstream/provider.h"

#define ADM_ACCOUNTS	"/admin/accounts"

static const struct {
	const char	*key, *text;
	int		 bad;
} adm_flashes[] = {
	{ "added", "Account validated and added.", 0 },
	{ "dup", "That account was already there; it has been validated "
	  "again.", 0 },
	{ "refused", "The provider refused that credential: nothing was "
	  "saved.", 1 },
	{ "enabled", "Account enabled.", 0 },
	{ "disabled", "Account disabled.", 0 },
	{ "deleted", "Account deleted.", 0 },
};

static unsigned long
qnum(struct req *r, const char *k)
{
	const char *v = req_query_get(r, k);
	unsigned long n;
	char *end;

	if (v == NULL || *v == '\0' || strlen(v) > 9)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	return errno || *end != '\0' ? 0 : n;
}

static void
adm_flash(struct tok *t)
{
	const char *m = req_query_get(t->r, "m");
	size_t i;

	if (m != NULL && strcmp(m, "purged") == 0) {
		/* a: the chats, when the provider said how many */
		t->pg.flash = req_query_get(t->r, "a") != NULL ?
		    arena_printf(t->r->arena, "Every upstream chat of the "
		    "account was deleted (%lu); %lu sessions ended.",
		    qnum(t->r, "a"), qnum(t->r, "d")) :
		    arena_printf(t->r->arena, "Every upstream chat of the "
		    "account was deleted; %lu sessions ended.",
		    qnum(t->r, "d"));
		return;
	}
	if (m != NULL && strcmp(m, "validated") == 0) {
		t->pg.flash = arena_printf(t->r->arena, "Validated: %lu of %lu "
		    "valid.", qnum(t->r, "a"), qnum(t->r, "d"));
		t->pg.flash_bad = qnum(t->r, "a") != qnum(t->r, "d");
		return;
	}
	for (i = 0; m != NULL && i < sizeof(adm_flashes) /
	    sizeof(adm_flashes[0]); i++)
		if (strcmp(m, adm_flashes[i].key) == 0) {
			t->pg.flash = adm_flashes[i].text;
			t->pg.flash_bad = adm_flashes[i].bad;
			return;
		}
	tok_flash(t);	/* login, logout, session */
}

/* The provider a request names, from the table (never the raw input). */
static const struct provider *
named_provider(const char *s)
{
	return s != NULL && *s != '\0' ? provider_by_id(s) : NULL;
}

static enum app_err
page(struct tok *t, int status, const struct provider *p)
{
	struct admin_accounts v;
	struct mgmt_err err;
	struct buf b;
	enum app_err e;

	memset(&v, 0, sizeof(v));
	v.csrf = t->auth.via == ADMIN_SESSION ? t->auth.csrf : "";
	v.provider = p != NULL ? p->id : NULL;
	if ((v.rows = mgmt_accounts(t->r->store, v.provider, &err)) == NULL)
		return tok_json_error(t, err.status, "server_error", err.code,
		    NULL, err.message, NULL);
	t->script = 1;	/* bulk validation's progress (html/admin_accounts.c) */
	buf_init(&b, TOK_PAGE_MAX);
	admin_html_accounts(&b, &t->pg, &v);
	json_object_put(v.rows);
	e = tok_html(t, status, &b, NULL);
	return e;
}

enum app_err
h_admin_accounts(struct req *r, const char *rest)
{
	struct tok t;
	enum app_err e;

	(void)rest;
	adm_init(&t, r, ADM_ACCOUNTS);
	if (!adm_page_gate(&t, &e))
		return e;
	adm_flash(&t);
	return page(&t, 200, named_provider(req_query_get(r, "provider")));
}

/* 303 back to the page of provider p with message m. */
static enum app_err
back(struct tok *t, const struct provider *p, const char *m,
    unsigned long a, unsigned long d)
{
	const char *q;

	q = arena_printf(t->r->arena, "%s%s%sm=%s", p != NULL ? "provider=" :
	    "", p != NULL ? p->id : "", p != NULL ? "&" : "", m);
	if (q != NULL && strcmp(m, "validated") == 0)
		q = arena_printf(t->r->arena, "%s&a=%lu&d=%lu", q, a, d);
	if (q == NULL)
		return APP_ENOMEM;
	return tok_redirect(t, q, NULL, NULL);
}

/* The layer refused: the page again, with its message. */
static enum app_err
refused(struct tok *t, const struct provider *p, const struct mgmt_err *err)
{
	if (!t->html)
		return tok_json_error(t, err->status, "invalid_request_error",
		    err->code, NULL, err->message, NULL);
	t->pg.flash = arena_printf(t->r->arena, "%s", err->message);
	t->pg.flash_bad = 1;
	return page(t, err->status, p);
}

/* A whole number in [lo, hi] from the form; -1 when malformed. */
static long
form_num(struct tok *t, const char *name, long lo, long hi, long def)
{
	int bad;
	const char *v = tok_arg(t, name, &bad);
	char *end;
	long n;

	if (bad)
		return -1;
	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	return errno || *end != '\0' || n < lo || n > hi ? -1 : n;
}

static enum app_err
do_add(struct tok *t, const struct provider *p)
{
	struct json_object *body, *fields, *o, *chk, *acc, *x;
	struct mgmt_err err;
	const char *cred, *label, *fv, *verdict = NULL;
	long limit, weight;
	char key[48], who[LOG_FP_LEN];
	size_t i;
	int bad, added = 0;

	if (p == NULL)
		return refused(t, NULL, &(struct mgmt_err){ 400,
		    "unknown_provider", "Pick a provider." });
	cred = tok_arg(t, "credential", &bad);
	label = tok_arg(t, "label", &bad);
	limit = form_num(t, "daily_limit", 0, 10000000, 0);
	weight = form_num(t, "weight", 1, 100, 1);
	if (cred == NULL || *cred == '\0' || limit < 0 || weight < 0)
		return refused(t, p, &(struct mgmt_err){ 400, "invalid_form",
		    "A credential is required; the daily limit is 0 or more, "
		    "the weight 1 to 100." });
	body = json_object_new_object();
	fields = json_object_new_object();
	json_object_object_add(body, "provider", json_object_new_string(p->id));
	json_object_object_add(body, "credential",
	    json_object_new_string(cred));
	if (label != NULL && *label != '\0')
		json_object_object_add(body, "label",
		    json_object_new_string(label));
	json_object_object_add(body, "daily_limit",
	    json_object_new_int64(limit));
	json_object_object_add(body, "weight", json_object_new_int64(weight));
	for (i = 1; i < p->nfields; i++) {
		snprintf(key, sizeof(key), "f_%s", p->fields[i].name);
		if ((fv = tok_arg(t, key, &bad)) != NULL && *fv != '\0')
			json_object_object_add(fields, p->fields[i].name,
			    json_object_new_string(fv));
	}
	json_object_object_add(body, "fields", fields);
	json_object_object_add(body, "validate", json_object_new_boolean(1));
	o = mgmt_account_add(t->r->cfg, t->r->store, body, &err);
	json_object_put(body);
	if (o == NULL)
		return refused(t, p, &err);
	if (json_object_object_get_ex(o, "added", &x))
		added = json_object_get_boolean(x);
	chk = json_object_object_get_ex(o, "validation", &x) ?
	    json_object_array_get_idx(x, 0) : NULL;
	if (chk != NULL && json_object_object_get_ex(chk, "verdict", &x))
		verdict = json_object_get_string(x);
	/* validated before it is kept: a refused new account goes again */
	if (added && (verdict == NULL || strcmp(verdict, "invalid") == 0 ||
	    strcmp(verdict, "expired") == 0) &&
	    json_object_object_get_ex(o, "account", &acc) &&
	    json_object_object_get_ex(acc, "id", &x)) {
		json_object_put(mgmt_account_delete(t->r->store,
		    json_object_get_string(x), &err));
		json_object_put(o);
		return back(t, p, "refused", 0, 0);
	}
	json_object_put(o);
	log_info("admin: %s account added by %s", p->id, tok_who(t, who));
	return back(t, p, added ? "added" : "dup", 0, 0);
}

static enum app_err
do_validate(struct tok *t, const struct provider *p, const char *id)
{
	struct json_object *o, *x;
	struct mgmt_err err;
	unsigned long ok = 0, n, i;

	o = mgmt_account_validate(t->r->cfg, t->r->store, id != NULL &&
	    *id != '\0' ? id : p != NULL ? p->id : NULL, &err);
	if (o == NULL)
		return refused(t, p, &err);
	n = json_object_array_length(o);
	for (i = 0; i < n; i++)
		if (json_object_object_get_ex(json_object_array_get_idx(o, i),
		    "verdict", &x) && strcmp(json_object_get_string(x),
		    "valid") == 0)
			ok++;
	json_object_put(o);
	return back(t, p, "validated", ok, n);
}

/* The question first (no confirm=yes), then the layer's purge. */
static enum app_err
do_purge(struct tok *t, const struct provider *p, const char *id)
{
	struct json_object *o, *x;
	struct admin_purge v;
	struct acct_info info;
	struct mgmt_err err;
	const char *confirm, *q;
	char who[LOG_FP_LEN];
	struct buf b;
	long long chats = -1, dropped = 0;
	int bad;

	if (acct_get(t->r->store, id, &info) != STORE_OK)
		return refused(t, p, &(struct mgmt_err){ 404, "not_found",
		    "No such account." });
	if (!mgmt_can_purge(info.provider))
		return refused(t, p, &(struct mgmt_err){ 400, "not_supported",
		    "That provider has no way to delete all chats of an "
		    "account." });
	confirm = tok_arg(t, "confirm", &bad);
	if (confirm == NULL || strcmp(confirm, "yes") != 0) {
		memset(&v, 0, sizeof(v));
		v.csrf = t->auth.via == ADMIN_SESSION ? t->auth.csrf : "";
		v.tab = p != NULL ? p->id : NULL;
		v.id = info.id;
		v.provider = info.provider;
		v.fingerprint = info.fingerprint;
		v.label = info.label;
		buf_init(&b, TOK_PAGE_MAX);
		admin_html_purge_confirm(&b, &t->pg, &v);
		return tok_html(t, 200, &b, NULL);
	}
	if ((o = mgmt_account_purge(t->r->cfg, t->r->store, t->r->arena,
	    info.id, &err)) == NULL)
		return refused(t, p, &err);
	if (json_object_object_get_ex(o, "chats_deleted", &x) && x != NULL)
		chats = json_object_get_int64(x);
	if (json_object_object_get_ex(o, "sessions_dropped", &x))
		dropped = json_object_get_int64(x);
	json_object_put(o);
	log_info("admin: every upstream chat of %s account %s deleted by %s",
	    info.provider, info.fingerprint, tok_who(t, who));
	q = arena_printf(t->r->arena, "%s%s%sm=purged&d=%lld",
	    p != NULL ? "provider=" : "", p != NULL ? p->id : "",
	    p != NULL ? "&" : "", dropped);
	if (q != NULL && chats >= 0)
		q = arena_printf(t->r->arena, "%s&a=%lld", q, chats);
	if (q == NULL)
		return APP_ENOMEM;
	return tok_redirect(t, q, NULL, NULL);
}

enum app_err
h_admin_accounts_post(struct req *r, const char *rest)
{
	struct tok t;
	struct json_object *o = NULL;
	struct mgmt_err err;
	const struct provider *p;
	const char *id, *m = NULL;
	enum app_err e;
	int bad;

	adm_init(&t, r, ADM_ACCOUNTS);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	p = named_provider(tok_arg(&t, "provider", &bad));
	id = tok_arg(&t, "id", &bad);
	if (strcmp(rest, "add") == 0)
		return do_add(&t, p);
	if (strcmp(rest, "validate") == 0)
		return do_validate(&t, p, id);
	if (id == NULL || *id == '\0' || strlen(id) > TOK_ID_MAX)
		return refused(&t, p, &(struct mgmt_err){ 400, "invalid_id",
		    "Which account? The form lost its id." });
	if (strcmp(rest, "enable") == 0 || strcmp(rest, "disable") == 0) {
		o = mgmt_account_enable(r->store, id, rest[0] == 'e', &err);
		m = rest[0] == 'e' ? "enabled" : "disabled";
	} else if (strcmp(rest, "delete") == 0) {
		o = mgmt_account_delete(r->store, id, &err);
		m = "deleted";
	} else if (strcmp(rest, "purge") == 0)
		return do_purge(&t, p, id);
	else
		return refused(&t, p, &(struct mgmt_err){ 404, "not_found",
		    "No such action." });
	if (o == NULL)
		return refused(&t, p, &err);
	json_object_put(o);
	return back(&t, p, m, 0, 0);
}
