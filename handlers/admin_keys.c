/*
 * /admin/keys: the API keys page and its forms, over mgmt_key_*.  The
 * answer to "create" is the page itself with the new key on it (no
 * redirect: the key must not travel in a URL or be shown twice); the
 * other actions answer 303 back with a message.
 */
#include "config.h"

#include <string.h>

#include "handlers/admin.h"
#include "handlers/handlers.h"
#include "handlers/mgmt.h"
#include "html/admin.h"

#define ADM_KEYS	"/admin/keys"

static const struct {
	const char	*key, *text;
} adm_flashes[] = {
	{ "enabled", "Key enabled." },
	{ "disabled", "Key disabled: requests with it are refused." },
	{ "deleted", "Key deleted." },
};

static void
adm_flash(struct tok *t)
{
	const char *m = req_query_get(t->r, "m");
	size_t i;

	for (i = 0; m != NULL && i < sizeof(adm_flashes) /
	    sizeof(adm_flashes[0]); i++)
		if (strcmp(m, adm_flashes[i].key) == 0) {
			t->pg.flash = adm_flashes[i].text;
			return;
		}
	tok_flash(t);
}

static enum app_err
page(struct tok *t, int status, const char *name, const char *key)
{
	struct admin_keys v;
	struct mgmt_err err;
	struct buf b;

	memset(&v, 0, sizeof(v));
	v.csrf = t->auth.via == ADMIN_SESSION ? t->auth.csrf : "";
	v.created_name = name;
	v.created_key = key;
	if ((v.rows = mgmt_keys(t->r->store, &err)) == NULL)
		return tok_json_error(t, err.status, "server_error", err.code,
		    NULL, err.message, NULL);
	buf_init(&b, TOK_PAGE_MAX);
	admin_html_keys(&b, &t->pg, &v);
	json_object_put(v.rows);
	return tok_html(t, status, &b, NULL);
}

enum app_err
h_admin_keys(struct req *r, const char *rest)
{
	struct tok t;
	enum app_err e;

	(void)rest;
	adm_init(&t, r, ADM_KEYS);
	if (!adm_page_gate(&t, &e))
		return e;
	adm_flash(&t);
	return page(&t, 200, NULL, NULL);
}

static enum app_err
refused(struct tok *t, const struct mgmt_err *err)
{
	if (!t->html)
		return tok_json_error(t, err->status, "invalid_request_error",
		    err->code, NULL, err->message, NULL);
	t->pg.flash = arena_printf(t->r->arena, "%s", err->message);
	t->pg.flash_bad = 1;
	return page(t, err->status, NULL, NULL);
}

enum app_err
h_admin_keys_post(struct req *r, const char *rest)
{
	struct tok t;
	struct json_object *o = NULL, *x;
	struct mgmt_err err;
	const char *id, *name, *m;
	char who[LOG_FP_LEN];
	enum app_err e;
	int bad;

	adm_init(&t, r, ADM_KEYS);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if (strcmp(rest, "create") == 0) {
		name = tok_arg(&t, "name", &bad);
		if ((o = mgmt_key_create(r->store, name, &err)) == NULL)
			return refused(&t, &err);
		log_info("admin: API key created by %s", tok_who(&t, who));
		t.pg.flash = "Key created.";
		/* the key lives in o until the page is written */
		e = page(&t, 200, admin_jstr(o, "name"),
		    json_object_object_get_ex(o, "key", &x) ?
		    json_object_get_string(x) : "");
		json_object_put(o);
		return e;
	}
	id = tok_arg(&t, "id", &bad);
	if (id == NULL || *id == '\0' || strlen(id) > TOK_ID_MAX) {
		err = (struct mgmt_err){ 400, "invalid_id",
		    "Which key? The form lost its id." };
		return refused(&t, &err);
	}
	if (strcmp(rest, "enable") == 0 || strcmp(rest, "disable") == 0) {
		o = mgmt_key_enable(r->store, id, rest[0] == 'e', &err);
		m = rest[0] == 'e' ? "m=enabled" : "m=disabled";
	} else if (strcmp(rest, "delete") == 0) {
		o = mgmt_key_delete(r->store, id, &err);
		m = "m=deleted";
	} else {
		err = (struct mgmt_err){ 404, "not_found", "No such action." };
		return refused(&t, &err);
	}
	if (o == NULL)
		return refused(&t, &err);
	json_object_put(o);
	return tok_redirect(&t, m, NULL, NULL);
}
