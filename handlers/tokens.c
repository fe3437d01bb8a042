/*
 * /tokens: the credential pool page, its login and logout, also under
 * API_PREFIX.  Unlike the reference, nothing here is open: a browser logs
 * in with an AUTHORIZATION code (session cookie + CSRF token on every
 * form), a script sends "Authorization: Bearer <code>".  Listings show
 * fingerprints, never secrets, and no token ever reaches the log.  The
 * actions that change the pool are in handlers/tokens_edit.c.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "handlers/handlers.h"
#include "handlers/tokens.h"
#include "html/escape.h"
#include "store/accounts.h"
#include "store/seeds.h"
#include "upstream/provider.h"

/* ------------------------------------------------------------ GET /tokens */

struct gather {
	struct tokens_view	*v;
	struct acct_info	*rows, *errs;
};

static int
gather_one(void *arg, const struct acct_info *ci)
{
	struct gather *g = arg;
	struct tokens_view *v = g->v;
	size_t k = ci->kind >= 0 && (size_t)ci->kind < v->nkinds &&
	    ci->kind < TOKENS_KINDS_MAX ? (size_t)ci->kind : 0;
	int col;

	if (ci->status != ACCT_ACTIVE)
		col = TOKENS_COL_ERROR;
	else if (ci->cooldown_until > (int64_t)v->now)
		col = TOKENS_COL_COOLING;
	else
		col = TOKENS_COL_ACTIVE;
	v->grid[k][col]++;
	if (v->nrows < TOKENS_ROWS_MAX)
		g->rows[v->nrows++] = *ci;
	v->rows_total++;
	if (ci->status == ACCT_ERROR || ci->status == ACCT_EXPIRED) {
		if (v->nerrors < TOKENS_ERRORS_MAX)
			g->errs[v->nerrors++] = *ci;
		v->errors_total++;
	}
	return 0;
}

static enum app_err
tok_counts_json(struct tok *t)
{
	const struct provider *p = provider_by_id(tok_provider());
	struct acct_counts c;
	struct json_object *o, *k;
	enum store_err se;
	size_t i;

	if ((se = acct_count(t->r->store, tok_provider(), &c)) != STORE_OK)
		return tok_store_err(se);
	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "tokens_count",
	    json_object_new_int64((int64_t)c.active));
	json_object_object_add(o, "total",
	    json_object_new_int64((int64_t)c.total));
	json_object_object_add(o, "active",
	    json_object_new_int64((int64_t)c.active));
	json_object_object_add(o, "cooling",
	    json_object_new_int64((int64_t)c.cooling));
	json_object_object_add(o, "error",
	    json_object_new_int64((int64_t)(c.error + c.expired)));
	k = json_object_new_object();
	for (i = p->nkinds > 1 ? 1 : 0; i < p->nkinds && i < 8; i++)
		json_object_object_add(k, p->kinds[i],
		    json_object_new_int64((int64_t)c.by_kind[i]));
	json_object_object_add(o, "by_kind", k);
	return tok_json(t, 200, o, NULL);
}

enum app_err
h_tokens_page(struct req *r, const char *rest)
{
	struct tok t;
	struct tokens_view v;
	struct gather g;
	struct buf b;
	enum store_err se;

	(void)rest;
	tok_init(&t, r);
	t.html = 1;
	if (r->store == NULL)
		return APP_STORE;
	switch (admin_check(r, &t.auth)) {
	case ADMIN_DISABLED:
		return tok_disabled(&t);
	case ADMIN_BADBEARER:
		return tok_bad_bearer(&t);
	case ADMIN_THROTTLED:
		return tok_throttled(&t, t.auth.retry_after);
	case ADMIN_NOAUTH:
		tok_flash(&t);
		return tok_page_login(&t, 200);
	case ADMIN_OK:
		break;
	}
	/* A script asking with its Bearer gets the counts. */
	if (t.auth.via == ADMIN_BEARER)
		return tok_counts_json(&t);
	tok_flash(&t);

	memset(&v, 0, sizeof(v));
	v.csrf = t.auth.csrf;
	v.now = time(NULL);
	v.session_expires = t.auth.expires;
	seed_count(r->store, &v.seeds);
	if ((se = acct_count(r->store, tok_provider(), &v.counts)) !=
	    STORE_OK)
		return tok_store_err(se);
	v.kind_names = provider_by_id(tok_provider())->kinds;
	v.nkinds = provider_by_id(tok_provider())->nkinds;
	g.v = &v;
	g.rows = arena_calloc(r->arena, TOKENS_ROWS_MAX, sizeof(*g.rows));
	g.errs = arena_calloc(r->arena, TOKENS_ERRORS_MAX, sizeof(*g.errs));
	if (g.rows == NULL || g.errs == NULL)
		return APP_ENOMEM;
	if ((se = acct_list(r->store, tok_provider(), gather_one, &g)) !=
	    STORE_OK)
		return tok_store_err(se);
	v.rows = g.rows;
	v.errors = g.errs;
	buf_init(&b, TOK_PAGE_MAX);
	tokens_html_main(&b, &t.pg, &v);
	return tok_html(&t, 200, &b, NULL);
}

/* ------------------------------------------------------------ login/out */

/* One login for /tokens and /admin: t->home says where it lands. */
enum app_err
tok_login(struct tok *tp)
{
	struct tok t = *tp;
	struct req *r = t.r;
	struct buf ck;
	char session[ADMIN_SESSION_MAX], *code = NULL;
	const char *addr;
	size_t len = 0;
	long wait;
	enum app_err e;
	int got;

	t.html = 1;
	if (r->store == NULL)
		return APP_STORE;
	if (!admin_enabled(r->cfg))
		return tok_disabled(&t);
	if (!admin_fetch_ok(r))
		return tok_page_refused(&t, 403, "The login form must be sent "
		    "from this site's own page.");
	got = t.form && r->body != NULL ? form_field(r->arena, r->body,
	    r->body_len, "code", &code, &len) : 0;
	if (got != 1 || len == 0) {
		t.pg.flash = "Enter one of the AUTHORIZATION codes.";
		t.pg.flash_bad = 1;
		return tok_page_login(&t, 400);
	}
	/* Checked before the code, so guessing stops while blocked. */
	if (admin_throttled(r, &wait))
		return tok_throttled(&t, wait);
	if (!admin_code_ok(r->cfg, code, len)) {
		addr = req_param(r, "REMOTE_ADDR");
		log_warn("tokens: failed login from %s",
		    addr != NULL ? addr : "?");
		admin_failed(r);
		t.pg.flash = "Wrong code.";
		t.pg.flash_bad = 1;
		return tok_page_login(&t, 401);
	}
	admin_succeeded(r);
	if (admin_session_new(r->store, code, len, time(NULL), session) < 0)
		return APP_SYSTEM;
	buf_init(&ck, 4096);
	admin_set_cookie(r, &ck, session);
	if (ck.failed) {
		buf_free(&ck);
		return APP_ENOMEM;
	}
	log_info("tokens: login");
	e = tok_redirect(&t, "m=login", NULL, ck.p);
	buf_free(&ck);
	return e;
}

enum app_err
tok_logout(struct tok *tp)
{
	struct tok t = *tp;
	struct req *r = t.r;
	struct buf ck;
	enum app_err e;

	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	/* Server-side too: a copy of the cookie must not outlive the logout. */
	if (t.auth.via == ADMIN_SESSION && store_revoke(r->store, "session",
	    t.auth.session, t.auth.expires) != STORE_OK)
		return APP_STORE;
	if (!t.html)
		return tok_success(&t, NULL, 0, NULL, 0, NULL, 0);
	buf_init(&ck, 4096);
	admin_set_cookie(r, &ck, NULL);
	if (ck.failed) {
		buf_free(&ck);
		return APP_ENOMEM;
	}
	e = tok_redirect(&t, "m=logout", NULL, ck.p);
	buf_free(&ck);
	return e;
}

enum app_err
h_tokens_login(struct req *r, const char *rest)
{
	struct tok t;

	(void)rest;
	tok_init(&t, r);
	return tok_login(&t);
}

enum app_err
h_tokens_logout(struct req *r, const char *rest)
{
	struct tok t;

	(void)rest;
	tok_init(&t, r);
	return tok_logout(&t);
}
