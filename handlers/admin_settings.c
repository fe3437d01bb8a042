/*
 * /admin/sessions and /admin/settings over mgmt_sessions*, mgmt_config:
 * list the live sessions, end one or the expired ones (their upstream
 * chats deleted), and show the effective configuration.
 */
#include "config.h"

#include <string.h>

#include "handlers/admin.h"
#include "handlers/handlers.h"
#include "handlers/mgmt.h"
#include "html/admin.h"

#define ADM_SESSIONS	"/admin/sessions"

static enum app_err
sessions_page(struct tok *t, int status)
{
	struct json_object *rows;
	struct mgmt_err err;
	struct buf b;

	if ((rows = mgmt_sessions(t->r->store, NULL, &err)) == NULL)
		return tok_json_error(t, err.status, "server_error", err.code,
		    NULL, err.message, NULL);
	buf_init(&b, TOK_PAGE_MAX);
	admin_html_sessions(&b, &t->pg, t->auth.via == ADMIN_SESSION ?
	    t->auth.csrf : "", rows);
	json_object_put(rows);
	return tok_html(t, status, &b, NULL);
}

static void
sessions_flash(struct tok *t)
{
	const char *m = req_query_get(t->r, "m");

	if (m != NULL && strcmp(m, "ended") == 0)
		t->pg.flash = "Session ended, its upstream chat deleted.";
	else if (m != NULL && strcmp(m, "pruned") == 0)
		t->pg.flash = "The expired sessions are ended.";
	else
		tok_flash(t);
}

enum app_err
h_admin_sessions(struct req *r, const char *rest)
{
	struct tok t;
	enum app_err e;

	(void)rest;
	adm_init(&t, r, ADM_SESSIONS);
	if (!adm_page_gate(&t, &e))
		return e;
	sessions_flash(&t);
	return sessions_page(&t, 200);
}

enum app_err
h_admin_sessions_post(struct req *r, const char *rest)
{
	struct tok t;
	struct json_object *o;
	struct mgmt_err err;
	const char *id;
	enum app_err e;
	int bad;

	adm_init(&t, r, ADM_SESSIONS);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if (strcmp(rest, "prune") == 0)
		o = mgmt_sessions_end(r->cfg, r->store, r->arena, NULL, 1, &err);
	else if (strcmp(rest, "end") == 0) {
		id = tok_arg(&t, "id", &bad);
		o = id != NULL && *id != '\0' ? mgmt_session_end(r->cfg,
		    r->store, r->arena, id, &err) : mgmt_fail(&err, 400,
		    "invalid_id", "Which session? The form lost its id.");
	} else
		o = mgmt_fail(&err, 404, "not_found", "No such action.");
	if (o == NULL) {
		if (!t.html)
			return tok_json_error(&t, err.status,
			    "invalid_request_error", err.code, NULL,
			    err.message, NULL);
		t.pg.flash = arena_printf(r->arena, "%s", err.message);
		t.pg.flash_bad = 1;
		return sessions_page(&t, err.status);
	}
	json_object_put(o);
	return tok_redirect(&t, rest[0] == 'p' ? "m=pruned" : "m=ended", NULL,
	    NULL);
}

enum app_err
h_admin_settings(struct req *r, const char *rest)
{
	struct tok t;
	struct json_object *rows;
	struct mgmt_err err;
	struct buf b;
	enum app_err e;

	(void)rest;
	adm_init(&t, r, "/admin/settings");
	if (!adm_page_gate(&t, &e))
		return e;
	tok_flash(&t);
	if ((rows = mgmt_config(r->cfg, &err)) == NULL)
		return tok_json_error(&t, err.status, "server_error", err.code,
		    NULL, err.message, NULL);
	buf_init(&b, TOK_PAGE_MAX);
	admin_html_settings(&b, &t.pg, t.auth.via == ADMIN_SESSION ?
	    t.auth.csrf : "", rows);
	json_object_put(rows);
	return tok_html(&t, 200, &b, NULL);
}
