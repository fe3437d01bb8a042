/*
 * /admin/keys: the proxy's API keys by name and hint with their use, a
 * create form, and a button each to disable or enable and to delete.  A
 * new key is on the page that answers its creation and nowhere else.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "html/admin.h"
#include "html/escape.h"

static void
action(struct buf *b, const struct tokens_page *pg, const char *csrf,
    const char *act, const char *id, const char *label, int danger)
{
	char path[64];

	snprintf(path, sizeof(path), "/admin/keys/%s", act);
	admin_form_open(b, pg, path, csrf);
	admin_hidden(b, "id", id);
	buf_adds(b, danger ? "<button class=\"small danger\" type=\"submit\">" :
	    "<button class=\"small plain\" type=\"submit\">");
	html_txts(b, label);
	buf_adds(b, "</button></form> ");
}

int
admin_html_keys(struct buf *b, const struct tokens_page *pg,
    const struct admin_keys *v)
{
	struct json_object *k;
	size_t i, n = v->rows != NULL ? json_object_array_length(v->rows) : 0;
	char when[40];
	int on;

	admin_html_head(b, pg, "API keys");
	admin_html_topbar(b, pg, v->csrf, "/admin/keys");
	buf_adds(b, "<main>");
	admin_html_flash(b, pg);
	if (v->created_key != NULL) {
		buf_adds(b, "<div class=\"card\" id=\"new-key\"><h2>New key \xe2\x80\x9c");
		html_txts(b, v->created_name);
		buf_adds(b, "\xe2\x80\x9d</h2><p>Copy it now: it is shown this "
		    "once and stored only as a hash.</p><p><code id=\"key\">");
		html_txts(b, v->created_key);
		buf_adds(b, "</code></p></div>");
	}
	buf_adds(b, "<div class=\"card\" id=\"create\"><h2>Create a key</h2>");
	admin_form_open(b, pg, "/admin/keys/create", v->csrf);
	if (v->once != NULL)
		admin_hidden(b, "once", v->once);
	buf_adds(b, "<div class=\"row\"><input type=\"text\" name=\"name\" "
	    "id=\"key-name\" maxlength=\"64\" required placeholder=\"name\">"
	    "<button type=\"submit\" id=\"create-btn\">Create</button></div>"
	    "</form></div>");
	buf_adds(b, "<div class=\"card\" id=\"keys\"><h2>API keys</h2>"
	    "<div class=\"scroll\"><table><tr><th>Name</th><th>Key</th>"
	    "<th>Status</th><th class=\"n\">Requests</th><th>Last use</th>"
	    "<th>Created</th><th></th></tr>");
	for (i = 0; i < n; i++) {
		k = json_object_array_get_idx(v->rows, i);
		on = json_object_get_boolean(json_object_object_get(k,
		    "enabled"));
		buf_adds(b, "<tr data-id=\"");
		html_attrs(b, admin_jstr(k, "id"));
		buf_adds(b, "\"><td class=\"name\">");
		html_txts(b, admin_jstr(k, "name"));
		buf_adds(b, "</td><td class=\"fp\">");
		html_txts(b, admin_jstr(k, "hint"));
		buf_adds(b, on ? "</td><td class=\"st-active\">enabled" :
		    "</td><td class=\"st-error\">disabled");
		buf_printf(b, "</td><td class=\"n\">%lld</td><td>",
		    admin_jint(k, "requests"));
		tokens_fmt_time(admin_jint(k, "last_used_at"), when,
		    sizeof(when));
		html_txts(b, when);
		buf_adds(b, "</td><td>");
		tokens_fmt_time(admin_jint(k, "created_at"), when, sizeof(when));
		html_txts(b, when);
		buf_adds(b, "</td><td>");
		action(b, pg, v->csrf, on ? "disable" : "enable",
		    admin_jstr(k, "id"), on ? "Disable" : "Enable", 0);
		action(b, pg, v->csrf, "delete", admin_jstr(k, "id"), "Delete",
		    1);
		buf_adds(b, "</td></tr>");
	}
	buf_adds(b, "</table></div>");
	if (n == 0)
		buf_adds(b, "<p class=\"mut\" id=\"none\">No keys yet.</p>");
	buf_adds(b, "</div></main></body></html>\n");
	return b->failed ? -1 : 0;
}
