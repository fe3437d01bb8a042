/*
 * /admin/sessions and /admin/settings: the live multi-turn sessions with
 * a form to end one and one to end the expired ones, and the effective
 * configuration, each variable with its source (secrets say only that
 * they are set: mgmt_config() never hands out their value).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "html/admin.h"
#include "html/escape.h"

static void
td(struct buf *b, const char *cls, const char *v)
{
	buf_adds(b, "<td class=\"");
	html_attrs(b, cls);
	buf_adds(b, "\">");
	html_txts(b, v);
	buf_adds(b, "</td>");
}

int
admin_html_sessions(struct buf *b, const struct tokens_page *pg,
    const char *csrf, struct json_object *rows)
{
	struct json_object *s;
	size_t i, n = rows != NULL ? json_object_array_length(rows) : 0;
	char when[40];

	admin_html_head(b, pg, "Sessions");
	admin_html_topbar(b, pg, csrf, "/admin/sessions");
	buf_adds(b, "<main>");
	admin_html_flash(b, pg);
	buf_adds(b, "<div class=\"card\" id=\"sessions\"><h2>Live sessions"
	    "</h2>");
	admin_form_open(b, pg, "/admin/sessions/prune", csrf);
	buf_adds(b, "<div class=\"row\"><button type=\"submit\" "
	    "id=\"prune-btn\">End the expired ones</button></div></form>"
	    "<div class=\"scroll\"><table><tr><th>Id</th><th>Provider</th>"
	    "<th>Account</th><th class=\"n\">Turns</th><th>Started</th>"
	    "<th>Expires</th><th></th></tr>");
	for (i = 0; i < n; i++) {
		s = json_object_array_get_idx(rows, i);
		buf_adds(b, "<tr>");
		td(b, "fp", admin_jstr(s, "id"));
		td(b, "provider", admin_jstr(s, "provider"));
		td(b, "fp", admin_jstr(s, "account"));
		buf_printf(b, "<td class=\"n\">%lld</td>",
		    admin_jint(s, "turns"));
		tokens_fmt_time(admin_jint(s, "created"), when, sizeof(when));
		td(b, "time", when);
		tokens_fmt_time(admin_jint(s, "expires"), when, sizeof(when));
		td(b, "time", when);
		buf_adds(b, "<td>");
		admin_form_open(b, pg, "/admin/sessions/end", csrf);
		admin_hidden(b, "id", admin_jstr(s, "id"));
		buf_adds(b, "<button class=\"small danger\" type=\"submit\">"
		    "End</button></form></td></tr>");
	}
	buf_adds(b, "</table></div>");
	if (n == 0)
		buf_adds(b, "<p class=\"mut\" id=\"none\">No live sessions."
		    "</p>");
	buf_adds(b, "</div></main></body></html>\n");
	return b->failed ? -1 : 0;
}

int
admin_html_settings(struct buf *b, const struct tokens_page *pg,
    const char *csrf, struct json_object *rows)
{
	struct json_object *c;
	size_t i, n = rows != NULL ? json_object_array_length(rows) : 0;

	admin_html_head(b, pg, "Settings");
	admin_html_topbar(b, pg, csrf, "/admin/settings");
	buf_adds(b, "<main>");
	admin_html_flash(b, pg);
	buf_adds(b, "<div class=\"card\" id=\"settings\"><h2>Effective "
	    "configuration</h2><p class=\"mut\">Read-only: the environment "
	    "(or the files it names) sets these at start. Secrets show only "
	    "whether they are set.</p><div class=\"scroll\"><table><tr>"
	    "<th>Variable</th><th>Value</th><th>Source</th><th>What</th></tr>");
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(rows, i);
		buf_adds(b, "<tr data-name=\"");
		html_attrs(b, admin_jstr(c, "name"));
		buf_adds(b, "\"><td><code>");
		html_txts(b, admin_jstr(c, "name"));
		buf_adds(b, "</code></td>");
		td(b, "value", admin_jstr(c, "value"));
		td(b, "source", admin_jstr(c, "source"));
		td(b, "mut", admin_jstr(c, "help"));
		buf_adds(b, "</tr>");
	}
	buf_adds(b, "</table></div></div></main></body></html>\n");
	return b->failed ? -1 : 0;
}
