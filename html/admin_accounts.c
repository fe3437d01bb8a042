/*
 * /admin/accounts: every provider's accounts with their status, today's
 * use against the daily limit, weight, label and last error, a form per
 * action (validate, enable or disable, delete), bulk validation, and the
 * add form with the selected provider's own credential fields.  Forms
 * POST with the CSRF token and land back here (303) with a message.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "html/admin.h"
#include "html/escape.h"
#include "upstream/provider.h"

#define jstr	admin_jstr
#define jint	admin_jint

static void
form_open(struct buf *b, const struct tokens_page *pg, const char *action,
    const char *csrf)
{
	char path[64];

	snprintf(path, sizeof(path), "/admin/accounts/%s", action);
	admin_form_open(b, pg, path, csrf);
}

#define hidden	admin_hidden

/* One small form: a button that acts on one account. */
static void
row_action(struct buf *b, const struct tokens_page *pg,
    const struct admin_accounts *v, const char *action, const char *id,
    const char *label, int danger)
{
	form_open(b, pg, action, v->csrf);
	hidden(b, "id", id);
	if (v->provider != NULL)
		hidden(b, "provider", v->provider);
	buf_adds(b, danger ? "<button class=\"small danger\" type=\"submit\">" :
	    "<button class=\"small plain\" type=\"submit\">");
	html_txts(b, label);
	buf_adds(b, "</button></form> ");
}

static void
tabs(struct buf *b, const struct tokens_page *pg, const char *on)
{
	const struct provider *const *pv;

	buf_adds(b, "<nav class=\"row\" id=\"tabs\"><a href=\"");
	html_attrs(b, pg->base);
	buf_adds(b, on == NULL ? "/admin/accounts\" class=\"on\">All</a>" :
	    "/admin/accounts\">All</a>");
	for (pv = providers; *pv != NULL; pv++) {
		buf_adds(b, "<a href=\"");
		html_attrs(b, pg->base);
		buf_adds(b, "/admin/accounts?provider=");
		url_args(b, (*pv)->id);
		buf_adds(b, on != NULL && strcmp(on, (*pv)->id) == 0 ?
		    "\" class=\"on\">" : "\">");
		html_txts(b, (*pv)->display);
		buf_adds(b, "</a>");
	}
	buf_adds(b, "</nav>");
}

static void
row(struct buf *b, const struct tokens_page *pg,
    const struct admin_accounts *v, struct json_object *a)
{
	const char *id = jstr(a, "id"), *st = jstr(a, "status");
	long long lim = jint(a, "daily_limit"), use = jint(a, "today_use");
	double pct = lim > 0 ? (double)use * 100.0 / (double)lim : 0;

	buf_adds(b, "<tr data-fp=\"");
	html_attrs(b, jstr(a, "fingerprint"));
	buf_adds(b, "\"><td>");
	html_txts(b, jstr(a, "provider"));
	buf_adds(b, "</td><td class=\"fp\">");
	html_txts(b, jstr(a, "fingerprint"));
	buf_adds(b, "</td><td class=\"label\">");
	html_txts(b, jstr(a, "label"));
	buf_adds(b, "</td><td class=\"st-");
	html_attrs(b, st);
	buf_adds(b, "\">");
	html_txts(b, st);
	buf_adds(b, "</td><td>");
	/* an SVG bar: the CSP allows no style attribute */
	if (lim > 0)
		buf_printf(b, "<svg class=\"use\" viewBox=\"0 0 100 8\" "
		    "role=\"img\"><title>%lld of %lld</title><rect "
		    "class=\"use-bg\" width=\"100\" height=\"8\"/><rect "
		    "class=\"ch-bar\" width=\"%.1f\" height=\"8\"/></svg>"
		    "<span class=\"mut\">%lld / %lld</span>", use, lim,
		    pct > 100 ? 100 : pct, use, lim);
	else
		buf_printf(b, "<span class=\"mut\">%lld / no limit</span>", use);
	buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"reason\">",
	    jint(a, "weight"));
	html_txts(b, jstr(a, "last_error"));
	buf_adds(b, "</td><td>");
	row_action(b, pg, v, "validate", id, "Validate", 0);
	if (strcmp(st, "inactive") == 0)
		row_action(b, pg, v, "enable", id, "Enable", 0);
	else
		row_action(b, pg, v, "disable", id, "Disable", 0);
	row_action(b, pg, v, "delete", id, "Delete", 1);
	buf_adds(b, "</td></tr>");
}

static void
add_form(struct buf *b, const struct tokens_page *pg,
    const struct admin_accounts *v, const struct provider *p)
{
	size_t i;

	buf_adds(b, "<div class=\"card\" id=\"add\"><h2>Add a ");
	html_txts(b, p->display);
	buf_adds(b, " account</h2>");
	form_open(b, pg, "add", v->csrf);
	hidden(b, "provider", p->id);
	buf_adds(b, "<div class=\"grid\">");
	for (i = 0; i < p->nfields; i++) {
		buf_adds(b, "<div><label for=\"f-");
		html_attrs(b, p->fields[i].name);
		buf_adds(b, "\">");
		html_txts(b, p->fields[i].name);
		if (p->fields[i].help != NULL) {
			buf_adds(b, " <span class=\"mut\">(");
			html_txts(b, p->fields[i].help);
			buf_adds(b, ")</span>");
		}
		buf_adds(b, "</label><input type=\"");
		buf_adds(b, i == 0 ? "password" : "text");
		buf_adds(b, "\" id=\"f-");
		html_attrs(b, p->fields[i].name);
		buf_adds(b, "\" name=\"");
		buf_adds(b, i == 0 ? "credential\"" : "f_");
		if (i > 0) {
			html_attrs(b, p->fields[i].name);
			buf_adds(b, "\"");
		}
		buf_adds(b, i == 0 || p->fields[i].required ?
		    " required autocomplete=\"off\"></div>" :
		    " autocomplete=\"off\"></div>");
	}
	if (p->nfields == 0)
		buf_adds(b, "<div><label for=\"f-credential\">credential</label>"
		    "<input type=\"password\" id=\"f-credential\" "
		    "name=\"credential\" required autocomplete=\"off\"></div>");
	buf_adds(b, "<div><label for=\"f-label\">label</label><input "
	    "type=\"text\" id=\"f-label\" name=\"label\" maxlength=\"64\"></div>"
	    "<div><label for=\"f-limit\">daily limit (0: none)</label><input "
	    "type=\"number\" id=\"f-limit\" name=\"daily_limit\" min=\"0\" "
	    "value=\"0\"></div><div><label for=\"f-weight\">weight</label>"
	    "<input type=\"number\" id=\"f-weight\" name=\"weight\" min=\"1\" "
	    "max=\"100\" value=\"1\"></div></div><div class=\"row\">"
	    "<button type=\"submit\" id=\"add-btn\">Validate and add</button>"
	    "<span class=\"mut\">The provider is asked first; an account it "
	    "refuses is not saved.</span></div></form></div>");
}

int
admin_html_accounts(struct buf *b, const struct tokens_page *pg,
    const struct admin_accounts *v)
{
	const struct provider *p = v->provider != NULL ?
	    provider_by_id(v->provider) : NULL;
	size_t i, n = v->rows != NULL ? json_object_array_length(v->rows) : 0;

	admin_html_head(b, pg, "Accounts");
	admin_html_topbar(b, pg, v->csrf, "/admin/accounts");
	buf_adds(b, "<main>");
	admin_html_flash(b, pg);
	tabs(b, pg, v->provider);
	buf_adds(b, "<div class=\"card\" id=\"accounts\"><h2>Accounts</h2>");
	form_open(b, pg, "validate", v->csrf);
	if (v->provider != NULL)
		hidden(b, "provider", v->provider);
	buf_printf(b, "<div class=\"row\"><button type=\"submit\" "
	    "id=\"bulk-validate\">Validate all %zu</button></div></form>", n);
	buf_adds(b, "<div class=\"scroll\"><table><tr><th>Provider</th>"
	    "<th>Fingerprint</th><th>Label</th><th>Status</th>"
	    "<th>Today / limit</th><th class=\"n\">Weight</th>"
	    "<th>Last error</th><th></th></tr>");
	for (i = 0; i < n; i++)
		row(b, pg, v, json_object_array_get_idx(v->rows, i));
	buf_adds(b, "</table></div>");
	if (n == 0)
		buf_adds(b, "<p class=\"mut\" id=\"none\">No accounts here "
		    "yet.</p>");
	buf_adds(b, "</div>");
	if (p != NULL)
		add_form(b, pg, v, p);
	else
		buf_adds(b, "<p class=\"mut\">Pick a provider above to add "
		    "an account with its credential fields.</p>");
	buf_adds(b, "</main></body></html>\n");
	return b->failed ? -1 : 0;
}
