/*
 * /admin/logs: the request log page.  The filter is the management API's
 * own (mgmt_log_filter: the same query arguments), the rows mgmt_logs(),
 * one entry mgmt_log_get(), and ?format=csv|json the same export the API
 * gives, behind the console's login instead of MANAGEMENT_SECRET.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers/admin.h"
#include "handlers/handlers.h"
#include "handlers/mgmt.h"
#include "html/admin.h"
#include "html/escape.h"

#define ADM_LOGS	"/admin/logs"
#define ADM_LOG_ROWS	200	/* rows shown without a limit */

/* A query argument, decoded; NULL when absent or empty. */
static const char *
qarg(struct req *r, const char *key)
{
	char *v = NULL;
	size_t n;

	if (form_field(r->arena, r->query, strlen(r->query), key, &v,
	    &n) <= 0 || n == 0)
		return NULL;
	return v;
}

/* The page with the layer's message instead of rows; *status its code. */
static void
failed(struct tok *t, const struct mgmt_err *err, int *status)
{
	t->pg.flash = arena_printf(t->r->arena, "%s", err->message);
	t->pg.flash_bad = 1;
	*status = err->status;
}

enum app_err
h_admin_logs(struct req *r, const char *rest)
{
	struct tok t;
	struct admin_logs v;
	struct reqlog_filter f;
	struct mgmt_err err;
	struct buf b;
	const char *fmt, *id;
	unsigned long long n;
	char *end;
	enum app_err e;
	int status = 200;

	(void)rest;
	adm_init(&t, r, ADM_LOGS);
	if (!adm_page_gate(&t, &e))
		return e;
	memset(&v, 0, sizeof(v));
	v.csrf = t.auth.via == ADMIN_SESSION ? t.auth.csrf : "";
	v.now = (long long)time(NULL);
	v.from = qarg(r, "from");
	v.status = qarg(r, "status");
	v.provider = qarg(r, "provider");
	v.model = qarg(r, "model");
	v.q = qarg(r, "q");
	fmt = qarg(r, "format");
	if ((id = qarg(r, "id")) != NULL) {
		errno = 0;
		n = strtoull(id, &end, 10);
		if (errno || *end != '\0' || *id < '0' || *id > '9')
			failed(&t, &(struct mgmt_err){ 400, "invalid_id",
			    "That is no log entry id." }, &status);
		else if ((v.entry = mgmt_log_get(r->store, r->arena, n,
		    &err)) == NULL)
			failed(&t, &err, &status);
	} else if (mgmt_log_filter(r, &f, &err) < 0)
		failed(&t, &err, &status);
	else {
		/* the form sends its empty fields too: empty is "any" */
		if (f.provider != NULL && *f.provider == '\0')
			f.provider = NULL;
		if (f.model != NULL && *f.model == '\0')
			f.model = NULL;
		if (f.text != NULL && *f.text == '\0')
			f.text = NULL;
		if (f.limit == 0)
			f.limit = ADM_LOG_ROWS;
		if (fmt != NULL && strcmp(fmt, "csv") == 0)
			return mgmt_logs_csv(r, &f);
		if ((v.rows = mgmt_logs(r->store, &f, &err)) == NULL)
			failed(&t, &err, &status);
		else if (fmt != NULL && strcmp(fmt, "json") == 0)
			return tok_json(&t, 200, v.rows, "Content-Disposition: "
			    "attachment; filename=\"chat2api-log.json\"\r\n");
	}
	buf_init(&b, TOK_PAGE_MAX);
	admin_html_logs(&b, &t.pg, &v);
	json_object_put(v.rows);
	json_object_put(v.entry);
	return tok_html(&t, status, &b, NULL);
}
