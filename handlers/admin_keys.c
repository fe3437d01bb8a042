/*
 * /admin/keys: the API keys page and its forms, over mgmt_key_*.  The
 * answer to "create" is the page itself with the new key on it (no
 * redirect: the key must not travel in a URL or be shown twice); the
 * other actions answer 303 back with a message.  The create form carries
 * a one-time token, so a reload that posts it again makes no second key.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "handlers/admin.h"
#include "handlers/handlers.h"
#include "handlers/mgmt.h"
#include "html/admin.h"

#define ADM_KEYS	"/admin/keys"
#define ONCE_SCOPE	"admin key form"
#define ONCE_BYTES	16
#define ONCE_TTL_S	(13 * 3600)	/* past the session's 12 hours */

static const struct {
	const char	*key, *text;
} adm_flashes[] = {
	{ "enabled", "Key enabled." },
	{ "disabled", "Key disabled: requests with it are refused." },
	{ "deleted", "Key deleted." },
	{ "once", "That form was sent already, so no second key was made. "
	  "A key is shown only once, on the page that created it." },
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
			t->pg.flash_bad = strcmp(m, "once") == 0;
			return;
		}
	tok_flash(t);
}

static enum app_err
page(struct tok *t, int status, const char *name, const char *key)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[ONCE_BYTES];
	char once[2 * ONCE_BYTES + 1];
	struct admin_keys v;
	struct mgmt_err err;
	struct buf b;
	size_t i;

	memset(&v, 0, sizeof(v));
	v.csrf = t->auth.via == ADMIN_SESSION ? t->auth.csrf : "";
	/* a fresh one-time token for this page's create form */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return APP_ENOMEM;
	for (i = 0; i < sizeof(rnd); i++) {
		once[2 * i] = hex[rnd[i] >> 4];
		once[2 * i + 1] = hex[rnd[i] & 15];
	}
	once[2 * sizeof(rnd)] = '\0';
	v.once = once;
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

static int
once_shape_ok(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return s != NULL && i == 2 * ONCE_BYTES;
}

/*
 * A form post's one-time token: 1 the first time; otherwise 0 with the
 * answer sent (*e): 303 "sent already", or the page again when the
 * token is missing, e.g. from a page cached before there was one.
 */
static int
once_fresh(struct tok *t, enum app_err *e)
{
	const char *once;
	int bad, fresh = 0;

	once = tok_arg(t, "once", &bad);
	if (!once_shape_ok(once)) {
		*e = refused(t, &(struct mgmt_err){ 400, "invalid_form",
		    "This form is out of date: create the key again from "
		    "this page." });
		return 0;
	}
	if (store_revoke_once(t->r->store, ONCE_SCOPE, once,
	    time(NULL) + ONCE_TTL_S, &fresh) != STORE_OK) {
		*e = refused(t, &(struct mgmt_err){ 503, "store_error",
		    "The store cannot be written; no key was made." });
		return 0;
	}
	if (!fresh) {
		*e = tok_redirect(t, "m=once", NULL, NULL);
		return 0;
	}
	return 1;
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
		if (t.html && !once_fresh(&t, &e))
			return e;
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
