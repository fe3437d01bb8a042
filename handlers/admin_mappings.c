/*
 * /admin/mappings: the model mappings page, its add and remove forms
 * (mgmt_mapping_add/delete) and the resolve box (mgmt_resolve), which is
 * a GET: ?model=NAME shows where that name goes right now.
 */
#include "config.h"

#include <string.h>

#include "handlers/admin.h"
#include "handlers/handlers.h"
#include "handlers/mgmt.h"
#include "html/admin.h"
#include "html/escape.h"

#define ADM_MAPPINGS	"/admin/mappings"
#define ADM_MODEL_MAX	200	/* bytes of a name in the resolve box */

static void
adm_flash(struct tok *t)
{
	const char *m = req_query_get(t->r, "m");

	if (m != NULL && strcmp(m, "added") == 0)
		t->pg.flash = "Mapping added.";
	else if (m != NULL && strcmp(m, "removed") == 0)
		t->pg.flash = "Mapping removed.";
	else
		tok_flash(t);
}

static enum app_err
page(struct tok *t, int status)
{
	struct admin_mappings v;
	struct mgmt_err err;
	struct buf b;
	const char *q;
	char *name;

	memset(&v, 0, sizeof(v));
	v.csrf = t->auth.via == ADMIN_SESSION ? t->auth.csrf : "";
	if ((v.rows = mgmt_mappings(t->r->cfg, t->r->store, &err)) == NULL)
		return tok_json_error(t, err.status, "server_error", err.code,
		    NULL, err.message, NULL);
	/* the query comes raw: decode it as a form's GET sends it */
	if ((q = req_query_get(t->r, "model")) != NULL && *q != '\0') {
		if ((name = arena_alloc(t->r->arena, strlen(q) + 1)) == NULL)
			return APP_ENOMEM;
		if (url_unarg(name, q, strlen(q), 1) < 0)
			v.resolve_err = "That model name is not encoded right.";
		v.asked = name;
	}
	if (v.resolve_err != NULL)
		v.asked = NULL;
	else if (v.asked != NULL && strlen(v.asked) > ADM_MODEL_MAX)
		v.resolve_err = "A model name has at most 200 bytes.";
	else if (v.asked != NULL && (v.resolved = mgmt_resolve(t->r->cfg,
	    t->r->store, v.asked, &err)) == NULL)
		v.resolve_err = arena_printf(t->r->arena, "%s", err.message);
	buf_init(&b, TOK_PAGE_MAX);
	admin_html_mappings(&b, &t->pg, &v);
	json_object_put(v.rows);
	json_object_put(v.resolved);
	return tok_html(t, status, &b, NULL);
}

enum app_err
h_admin_mappings(struct req *r, const char *rest)
{
	struct tok t;
	enum app_err e;

	(void)rest;
	adm_init(&t, r, ADM_MAPPINGS);
	if (!adm_page_gate(&t, &e))
		return e;
	adm_flash(&t);
	return page(&t, 200);
}

static enum app_err
refused(struct tok *t, const struct mgmt_err *err)
{
	if (!t->html)
		return tok_json_error(t, err->status, "invalid_request_error",
		    err->code, NULL, err->message, NULL);
	t->pg.flash = arena_printf(t->r->arena, "%s", err->message);
	t->pg.flash_bad = 1;
	return page(t, err->status);
}

/* A form field into body as a string member, when given. */
static void
member(struct tok *t, struct json_object *body, const char *name)
{
	int bad;
	const char *v = tok_arg(t, name, &bad);

	if (v != NULL && *v != '\0')
		json_object_object_add(body, name, json_object_new_string(v));
}

enum app_err
h_admin_mappings_post(struct req *r, const char *rest)
{
	struct tok t;
	struct json_object *o, *body;
	struct mgmt_err err;
	const char *name;
	enum app_err e;
	int bad;

	adm_init(&t, r, ADM_MAPPINGS);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if (strcmp(rest, "add") == 0) {
		body = json_object_new_object();
		member(&t, body, "name");
		member(&t, body, "target");
		member(&t, body, "provider");
		member(&t, body, "account");
		o = mgmt_mapping_add(r->store, body, &err);
		json_object_put(body);
		if (o == NULL)
			return refused(&t, &err);
		json_object_put(o);
		return tok_redirect(&t, "m=added", NULL, NULL);
	}
	if (strcmp(rest, "delete") != 0) {
		err = (struct mgmt_err){ 404, "not_found", "No such action." };
		return refused(&t, &err);
	}
	name = tok_arg(&t, "name", &bad);
	if (name == NULL || *name == '\0') {
		err = (struct mgmt_err){ 400, "invalid_name",
		    "Which mapping? The form lost its name." };
		return refused(&t, &err);
	}
	if ((o = mgmt_mapping_delete(r->store, name, &err)) == NULL)
		return refused(&t, &err);
	json_object_put(o);
	return tok_redirect(&t, "m=removed", NULL, NULL);
}
