/*
 * /admin/logs: the request log, newest first, with a GET filter form
 * (time range, status class, provider, model, text), a detail view per
 * entry with its redacted bodies, and links to the JSON and CSV export of
 * the same filter.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "html/admin.h"
#include "html/escape.h"
#include "upstream/provider.h"

static void
option(struct buf *b, const char *value, const char *label, const char *on)
{
	buf_adds(b, "<option value=\"");
	html_attrs(b, value);
	buf_adds(b, on != NULL && strcmp(on, value) == 0 ? "\" selected>" :
	    "\">");
	html_txts(b, label);
	buf_adds(b, "</option>");
}

/* The filter as query arguments, for the export links. */
static void
filter_query(struct buf *b, const struct admin_logs *v)
{
	const char *k[] = { "from", "status", "provider", "model", "q" };
	const char *val[] = { v->from, v->status, v->provider, v->model, v->q };
	size_t i;

	for (i = 0; i < 5; i++) {
		if (val[i] == NULL || *val[i] == '\0')
			continue;
		buf_adds(b, k[i]);
		buf_adds(b, "=");
		url_args(b, val[i]);
		buf_adds(b, "&");
	}
}

static void
filters(struct buf *b, const struct tokens_page *pg,
    const struct admin_logs *v)
{
	const struct provider *const *pv;
	static const struct { long s; const char *name; } since[] = {
		{ 900, "last 15 minutes" }, { 3600, "last hour" },
		{ 86400, "last day" }, { 7 * 86400, "last week" },
	};
	char val[32];
	struct buf q;
	size_t i;

	buf_adds(b, "<div class=\"card\" id=\"filters\"><form method=\"get\" "
	    "action=\"");
	html_attrs(b, pg->base);
	buf_adds(b, "/admin/logs\"><div class=\"grid\"><div><label "
	    "for=\"l-from\">time</label><select id=\"l-from\" name=\"from\">");
	option(b, "", "any time", v->from);
	for (i = 0; i < sizeof(since) / sizeof(since[0]); i++) {
		snprintf(val, sizeof(val), "%lld", v->now - since[i].s);
		option(b, val, since[i].name, v->from);
	}
	/* a range asked by a link keeps its own value */
	if (v->from != NULL && *v->from != '\0' && strchr(v->from, '.') == NULL)
		option(b, v->from, "since the time asked", v->from);
	buf_adds(b, "</select></div><div><label for=\"l-status\">status"
	    "</label><select id=\"l-status\" name=\"status\">");
	option(b, "", "any", v->status);
	option(b, "2xx", "2xx", v->status);
	option(b, "4xx", "4xx", v->status);
	option(b, "5xx", "5xx", v->status);
	buf_adds(b, "</select></div><div><label for=\"l-provider\">provider"
	    "</label><select id=\"l-provider\" name=\"provider\">");
	option(b, "", "any", v->provider);
	for (pv = providers; *pv != NULL; pv++)
		option(b, (*pv)->id, (*pv)->display, v->provider);
	buf_adds(b, "</select></div><div><label for=\"l-model\">model</label>"
	    "<input type=\"text\" id=\"l-model\" name=\"model\" value=\"");
	html_attrs(b, v->model != NULL ? v->model : "");
	buf_adds(b, "\"></div><div><label for=\"l-q\">text</label><input "
	    "type=\"text\" id=\"l-q\" name=\"q\" value=\"");
	html_attrs(b, v->q != NULL ? v->q : "");
	buf_adds(b, "\"></div></div><div class=\"row\"><button type=\"submit\" "
	    "id=\"filter-btn\">Filter</button>");
	buf_init(&q, 8192);
	filter_query(&q, v);
	buf_adds(b, "<a id=\"export-json\" href=\"");
	html_attrs(b, pg->base);
	buf_adds(b, "/admin/logs?");
	html_attrs(b, q.p != NULL ? q.p : "");
	buf_adds(b, "format=json\">JSON</a><a id=\"export-csv\" href=\"");
	html_attrs(b, pg->base);
	buf_adds(b, "/admin/logs?");
	html_attrs(b, q.p != NULL ? q.p : "");
	buf_adds(b, "format=csv\">CSV</a></div></form></div>");
	if (q.failed)
		b->failed = 1;
	buf_free(&q);
}

static void
when(struct buf *b, struct json_object *e)
{
	char s[40];

	tokens_fmt_time((int64_t)json_object_get_double(
	    json_object_object_get(e, "time")), s, sizeof(s));
	html_txts(b, s);
}

static void
td(struct buf *b, const char *cls, const char *v)
{
	buf_adds(b, "<td class=\"");
	html_attrs(b, cls);
	buf_adds(b, "\">");
	html_txts(b, v);
	buf_adds(b, "</td>");
}

static void
list(struct buf *b, const struct tokens_page *pg, struct json_object *rows)
{
	struct json_object *e;
	size_t i, n = json_object_array_length(rows);

	buf_printf(b, "<div class=\"card\" id=\"log\"><h2>Requests (%zu shown)"
	    "</h2><div class=\"scroll\"><table><tr><th>Time</th><th>Route</th>"
	    "<th class=\"n\">Status</th><th>Model</th><th>Provider</th>"
	    "<th>Account</th><th>Key</th><th class=\"n\">Latency</th>"
	    "<th>Error</th><th></th></tr>", n);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(rows, i);
		buf_adds(b, "<tr data-id=\"");
		html_attrs(b, admin_jstr(e, "id"));
		buf_adds(b, "\"><td>");
		when(b, e);
		buf_adds(b, "</td>");
		td(b, "route", admin_jstr(e, "route"));
		buf_printf(b, "<td class=\"n status\">%lld</td>",
		    admin_jint(e, "status"));
		td(b, "model", admin_jstr(e, "model"));
		td(b, "provider", admin_jstr(e, "provider"));
		td(b, "fp", admin_jstr(e, "account"));
		td(b, "key", admin_jstr(e, "key"));
		buf_printf(b, "<td class=\"n\">%lld ms</td>",
		    admin_jint(e, "latency_ms"));
		td(b, "reason", admin_jstr(e, "error"));
		buf_adds(b, "<td><a class=\"detail\" href=\"");
		html_attrs(b, pg->base);
		buf_adds(b, "/admin/logs?id=");
		url_args(b, admin_jstr(e, "id"));
		buf_adds(b, "\">detail</a></td></tr>");
	}
	buf_adds(b, "</table></div>");
	if (n == 0)
		buf_adds(b, "<p class=\"mut\" id=\"none\">No request matches."
		    "</p>");
	buf_adds(b, "</div>");
}

static void
detail(struct buf *b, const struct tokens_page *pg, struct json_object *e)
{
	static const char *const keys[] = { "id", "method", "route", "model",
	    "provider", "account", "key", "error" };
	struct json_object *x;
	size_t i;

	buf_adds(b, "<div class=\"card\" id=\"entry\"><h2>Request</h2><table>"
	    "<tr><th>time</th><td>");
	when(b, e);
	buf_adds(b, "</td></tr>");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		buf_adds(b, "<tr><th>");
		html_txts(b, keys[i]);
		buf_adds(b, "</th>");
		td(b, keys[i], admin_jstr(e, keys[i]));
		buf_adds(b, "</tr>");
	}
	buf_printf(b, "<tr><th>status</th><td class=\"status\">%lld</td></tr>"
	    "<tr><th>latency</th><td>%lld ms</td></tr>",
	    admin_jint(e, "status"), admin_jint(e, "latency_ms"));
	x = json_object_object_get(e, "ttfc_ms");
	if (x != NULL)
		buf_printf(b, "<tr><th>first chunk</th><td>%lld ms</td></tr>",
		    (long long)json_object_get_int64(x));
	buf_printf(b, "<tr><th>stream</th><td>%s</td></tr></table>",
	    json_object_get_boolean(json_object_object_get(e, "stream")) ?
	    "yes" : "no");
	for (i = 0; i < 2; i++) {
		const char *k = i == 0 ? "request_body" : "response_body";
		buf_adds(b, i == 0 ? "<h2>Request body</h2>" :
		    "<h2>Response body</h2>");
		if (*admin_jstr(e, k) == '\0') {
			buf_adds(b, "<p class=\"mut\">Not kept (LOG_BODIES)."
			    "</p>");
			continue;
		}
		buf_adds(b, "<pre class=\"scroll\" id=\"");
		html_attrs(b, k);
		buf_adds(b, "\">");
		html_txts(b, admin_jstr(e, k));
		buf_adds(b, "</pre>");
	}
	buf_adds(b, "<p><a href=\"");
	html_attrs(b, pg->base);
	buf_adds(b, "/admin/logs\">Back to the log</a></p></div>");
}

int
admin_html_logs(struct buf *b, const struct tokens_page *pg,
    const struct admin_logs *v)
{
	admin_html_head(b, pg, "Logs");
	admin_html_topbar(b, pg, v->csrf, "/admin/logs");
	buf_adds(b, "<main>");
	admin_html_flash(b, pg);
	if (v->entry != NULL)
		detail(b, pg, v->entry);
	else {
		filters(b, pg, v);
		if (v->rows != NULL)
			list(b, pg, v->rows);
	}
	buf_adds(b, "</main></body></html>\n");
	return b->failed ? -1 : 0;
}
