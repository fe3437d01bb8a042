/*
 * /admin/mappings: the model mappings (MODEL_MAPPING's and the stored
 * ones), a form to add one, a button to remove each stored one, and the
 * "where does this name go?" box, a plain GET form: asking changes
 * nothing, so it needs no CSRF token.
 */
#include "config.h"

#include <string.h>

#include "html/admin.h"
#include "html/escape.h"
#include "upstream/provider.h"

static void
cell(struct buf *b, const char *cls, const char *v)
{
	buf_adds(b, "<td class=\"");
	html_attrs(b, cls);
	buf_adds(b, "\">");
	if (v != NULL && *v != '\0')
		html_txts(b, v);
	else
		buf_adds(b, "<span class=\"mut\">-</span>");
	buf_adds(b, "</td>");
}

static void
resolve_box(struct buf *b, const struct tokens_page *pg,
    const struct admin_mappings *v)
{
	struct json_object *o = v->resolved, *x;

	buf_adds(b, "<div class=\"card\" id=\"resolve\"><h2>Where does this "
	    "name go?</h2><form method=\"get\" action=\"");
	html_attrs(b, pg->base);
	buf_adds(b, "/admin/mappings\"><div class=\"row\"><input type=\"text\" "
	    "name=\"model\" id=\"model\" maxlength=\"200\" required value=\"");
	html_attrs(b, v->asked != NULL ? v->asked : "");
	buf_adds(b, "\"><button type=\"submit\" id=\"resolve-btn\">Resolve"
	    "</button></div></form>");
	if (v->resolve_err != NULL) {
		buf_adds(b, "<p class=\"flash bad\" id=\"resolved\">");
		html_txts(b, v->resolve_err);
		buf_adds(b, "</p>");
	} else if (o != NULL) {
		buf_adds(b, "<table id=\"resolved\"><tr><th>Provider</th>"
		    "<th>Upstream model</th><th>Via</th><th>Mapping</th>"
		    "<th>Pinned account</th><th>Strategy</th>"
		    "<th class=\"n\">Usable accounts</th><th>Think</th>"
		    "<th>Search</th></tr><tr>");
		cell(b, "provider", admin_jstr(o, "provider"));
		cell(b, "upstream", admin_jstr(o, "upstream_model"));
		cell(b, "via", admin_jstr(o, "via"));
		cell(b, "mapping", admin_jstr(o, "mapping"));
		cell(b, "account", admin_jstr(o, "account"));
		cell(b, "strategy", admin_jstr(o, "strategy"));
		buf_printf(b, "<td class=\"n usable\">%lld</td>",
		    admin_jint(o, "usable_accounts"));
		x = json_object_object_get(o, "think");
		cell(b, "think", json_object_get_boolean(x) ? "yes" : "no");
		x = json_object_object_get(o, "search");
		cell(b, "search", json_object_get_boolean(x) ? "yes" : "no");
		buf_adds(b, "</tr></table>");
	}
	buf_adds(b, "</div>");
}

static void
add_form(struct buf *b, const struct tokens_page *pg,
    const struct admin_mappings *v)
{
	const struct provider *const *pv;

	buf_adds(b, "<div class=\"card\" id=\"add\"><h2>Add a mapping</h2>");
	admin_form_open(b, pg, "/admin/mappings/add", v->csrf);
	buf_adds(b, "<div class=\"grid\"><div><label for=\"m-name\">name "
	    "clients send</label><input type=\"text\" id=\"m-name\" "
	    "name=\"name\" required maxlength=\"200\"></div><div><label "
	    "for=\"m-target\">model it becomes</label><input type=\"text\" "
	    "id=\"m-target\" name=\"target\" required maxlength=\"200\"></div>"
	    "<div><label for=\"m-provider\">provider (optional)</label>"
	    "<select id=\"m-provider\" name=\"provider\"><option value=\"\">"
	    "by the model</option>");
	for (pv = providers; *pv != NULL; pv++) {
		buf_adds(b, "<option value=\"");
		html_attrs(b, (*pv)->id);
		buf_adds(b, "\">");
		html_txts(b, (*pv)->display);
		buf_adds(b, "</option>");
	}
	buf_adds(b, "</select></div><div><label for=\"m-account\">pinned "
	    "account (optional: id or fingerprint)</label><input type=\"text\" "
	    "id=\"m-account\" name=\"account\" maxlength=\"64\"></div></div>"
	    "<div class=\"row\"><button type=\"submit\" id=\"add-btn\">Add"
	    "</button></div></form></div>");
}

int
admin_html_mappings(struct buf *b, const struct tokens_page *pg,
    const struct admin_mappings *v)
{
	struct json_object *m;
	size_t i, n = v->rows != NULL ? json_object_array_length(v->rows) : 0;

	admin_html_head(b, pg, "Model mappings");
	admin_html_topbar(b, pg, v->csrf, "/admin/mappings");
	buf_adds(b, "<main>");
	admin_html_flash(b, pg);
	resolve_box(b, pg, v);
	buf_adds(b, "<div class=\"card\" id=\"mappings\"><h2>Model mappings"
	    "</h2><div class=\"scroll\"><table><tr><th>Name</th><th>Target"
	    "</th><th>Provider</th><th>Account</th><th>Source</th><th></th>"
	    "</tr>");
	for (i = 0; i < n; i++) {
		m = json_object_array_get_idx(v->rows, i);
		buf_adds(b, "<tr>");
		cell(b, "name", admin_jstr(m, "name"));
		cell(b, "target", admin_jstr(m, "target"));
		cell(b, "provider", admin_jstr(m, "provider"));
		cell(b, "account", admin_jstr(m, "account"));
		cell(b, "source", admin_jstr(m, "source"));
		buf_adds(b, "<td>");
		/* MODEL_MAPPING's own are changed in the configuration */
		if (strcmp(admin_jstr(m, "source"), "store") == 0) {
			admin_form_open(b, pg, "/admin/mappings/delete",
			    v->csrf);
			admin_hidden(b, "name", admin_jstr(m, "name"));
			buf_adds(b, "<button class=\"small danger\" "
			    "type=\"submit\">Remove</button></form>");
		}
		buf_adds(b, "</td></tr>");
	}
	buf_adds(b, "</table></div>");
	if (n == 0)
		buf_adds(b, "<p class=\"mut\" id=\"none\">No mappings: model "
		    "names go where their provider is.</p>");
	buf_adds(b, "</div>");
	add_form(b, pg, v);
	buf_adds(b, "</main></body></html>\n");
	return b->failed ? -1 : 0;
}
