/*
 * /admin: the console's page shell (head, navigation, logout) and the
 * overview, whose live part is also served alone (?fragment=1) for the
 * page's one small script to swap in.  Without JavaScript the page is
 * complete; it only does not refresh by itself.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "html/admin.h"
#include "html/escape.h"

static const char admin_css[] =
	"nav{display:flex;gap:14px;align-items:center}"
	"nav a{color:var(--acc);text-decoration:none}"
	"nav a.on{font-weight:600;color:var(--fg)}"
	".charts{display:grid;grid-template-columns:repeat(auto-fit,"
	"minmax(420px,1fr));gap:18px}"
	"svg.chart{width:100%;height:auto;display:block}"
	".stat b{white-space:nowrap}"
	".ch-bar{fill:var(--acc)}.ch-err{fill:var(--bad)}"
	".ch-line{fill:none;stroke:var(--acc);stroke-width:2}"
	".ch-dot{fill:var(--acc)}"
	".ch-axis{stroke:var(--line)}.ch-grid{stroke:var(--line);"
	"stroke-dasharray:3 3}"
	".ch-p50{stroke:var(--ok);stroke-dasharray:6 4}"
	".ch-p95{stroke:var(--warn);stroke-dasharray:6 4}"
	".ch-txt{fill:var(--mut);font-size:11px}"
	".ch-name{fill:var(--fg);font-size:12px}"
	"svg.use{width:120px;height:8px;display:block}.use-bg{fill:var(--line)}"
	"td form{display:inline}input[type=text],input[type=number],select{"
	"font:inherit;padding:6px 8px;border:1px solid var(--line);"
	"border-radius:6px;background:var(--bg);color:var(--fg)}"
	".grid{display:grid;grid-template-columns:repeat(auto-fit,"
	"minmax(200px,1fr));gap:10px}.grid input{width:100%}"
	"#tabs{margin:0 0 12px}";

/* Polls ?fragment=1 and swaps the live part; quiet on any failure. */
static const char admin_js_a[] =
	"(function(){var l=document.getElementById('live');"
	"if(!l||!window.fetch)return;setInterval(function(){"
	"fetch(location.pathname+'?fragment=1',{credentials:'same-origin',"
	"cache:'no-store'}).then(function(r){return r.ok?r.text():null})"
	".then(function(t){if(t!==null){l.innerHTML=t;"
	"l.setAttribute('data-refreshed',String(Date.now()));}})"
	".catch(function(){});},";
static const char admin_js_b[] = ");})();";

void
admin_html_head(struct buf *b, const struct tokens_page *pg, const char *title)
{
	buf_adds(b, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">"
	    "<meta name=\"referrer\" content=\"no-referrer\">"
	    "<meta name=\"robots\" content=\"noindex, nofollow\">"
	    "<link rel=\"icon\" href=\"data:,\"><title>");
	html_txts(b, title);
	buf_adds(b, " \xc2\xb7 chat2api admin</title><style nonce=\"");
	html_attrs(b, pg->nonce);
	buf_adds(b, "\">");
	buf_adds(b, tokens_css);
	buf_adds(b, admin_css);
	buf_adds(b, "</style></head>\n<body>");
}

/* The pages that exist, in the order of the navigation. */
static const struct {
	const char	*path, *name;
} nav_pages[] = {
	{ "/admin", "Overview" },
	{ "/admin/accounts", "Accounts" },
	{ "/admin/keys", "API keys" },
	{ "/admin/mappings", "Model mappings" },
	{ "/admin/logs", "Logs" },
	{ "/admin/sessions", "Sessions" },
	{ "/admin/settings", "Settings" },
	{ "/tokens", "ChatGPT pool" },
};

void
admin_html_topbar(struct buf *b, const struct tokens_page *pg,
    const char *csrf, const char *on)
{
	size_t i;

	buf_adds(b, "<header><h1>chat2api <span>\xc2\xb7 admin</span></h1>"
	    "<nav>");
	for (i = 0; i < sizeof(nav_pages) / sizeof(nav_pages[0]); i++) {
		buf_adds(b, "<a href=\"");
		html_attrs(b, pg->base);
		html_attrs(b, nav_pages[i].path);
		buf_adds(b, strcmp(nav_pages[i].path, on) == 0 ?
		    "\" class=\"on\">" : "\">");
		html_txts(b, nav_pages[i].name);
		buf_adds(b, "</a>");
	}
	if (csrf != NULL) {
		buf_adds(b, "<form method=\"post\" action=\"");
		html_attrs(b, pg->base);
		buf_adds(b, "/admin/logout\" id=\"logout\"><input type=\"hidden\" "
		    "name=\"csrf\" value=\"");
		html_attrs(b, csrf);
		buf_adds(b, "\"><button class=\"plain\" type=\"submit\">"
		    "Log out</button></form>");
	}
	buf_adds(b, "</nav></header>\n");
}

void
admin_html_flash(struct buf *b, const struct tokens_page *pg)
{
	if (pg->flash == NULL || pg->flash[0] == '\0')
		return;
	buf_adds(b, pg->flash_bad ? "<p class=\"flash bad\" id=\"flash\" "
	    "role=\"alert\">" : "<p class=\"flash ok\" id=\"flash\" "
	    "role=\"status\">");
	html_txts(b, pg->flash);
	buf_adds(b, "</p>");
}

void
admin_form_open(struct buf *b, const struct tokens_page *pg,
    const char *path, const char *csrf)
{
	buf_adds(b, "<form method=\"post\" action=\"");
	html_attrs(b, pg->base);
	html_attrs(b, path);
	buf_adds(b, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_attrs(b, csrf != NULL ? csrf : "");
	buf_adds(b, "\">");
}

void
admin_hidden(struct buf *b, const char *name, const char *value)
{
	buf_adds(b, "<input type=\"hidden\" name=\"");
	html_attrs(b, name);
	buf_adds(b, "\" value=\"");
	html_attrs(b, value);
	buf_adds(b, "\">");
}

const char *
admin_jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o != NULL && json_object_object_get_ex(o, k, &v) &&
	    json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
}

long long
admin_jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o != NULL && json_object_object_get_ex(o, k, &v) && v != NULL ?
	    (long long)json_object_get_int64(v) : 0;
}

/* ------------------------------------------------------------ reading */

static struct json_object *
jget(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o != NULL && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static double
jnum(struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);

	return v != NULL ? json_object_get_double(v) : 0;
}

/* The top ADMIN_SHARE_MAX names of {name: {requests}} by requests. */
static size_t
top_bars(struct json_object *map, struct admin_bar *out)
{
	struct admin_bar t;
	size_t n = 0, i;

	if (map == NULL || !json_object_is_type(map, json_type_object))
		return 0;
	json_object_object_foreach(map, k, v) {
		t.name = k;
		t.value = jnum(v, "requests");
		if (t.value <= 0)
			continue;
		if (n < ADMIN_SHARE_MAX)
			out[n++] = t;
		else if (t.value > out[n - 1].value)
			out[n - 1] = t;
		else
			continue;
		for (i = n - 1; i > 0 && out[i].value > out[i - 1].value; i--) {
			t = out[i];
			out[i] = out[i - 1];
			out[i - 1] = t;
		}
	}
	return n;
}

/* ------------------------------------------------------------ writing */

static void
stat_box(struct buf *b, const char *id, const char *value, const char *label)
{
	buf_adds(b, "<div class=\"stat\"><b id=\"");
	html_attrs(b, id);
	buf_adds(b, "\">");
	html_txts(b, value);
	buf_adds(b, "</b><span>");
	html_txts(b, label);
	buf_adds(b, "</span></div>");
}

static void
numbers(struct buf *b, const struct admin_overview *v, struct json_object *day,
    struct json_object *now)
{
	struct json_object *tot = jget(day, "total");
	double req = jnum(tot, "requests"), ok = jnum(tot, "success");
	char s[64];
	long u = v->uptime;

	buf_adds(b, "<div class=\"stats\">");
	if (u >= 86400)
		snprintf(s, sizeof(s), "%ldd %ldh", u / 86400, u % 86400 / 3600);
	else
		snprintf(s, sizeof(s), "%ldh %02ldm", u / 3600, u % 3600 / 60);
	stat_box(b, "uptime", s, "uptime");
	snprintf(s, sizeof(s), "%.0f", req);
	stat_box(b, "requests", s, "requests today");
	if (req > 0)
		snprintf(s, sizeof(s), "%.1f%%", ok * 100.0 / req);
	else
		snprintf(s, sizeof(s), "-");
	stat_box(b, "success-rate", s, "success rate today");
	snprintf(s, sizeof(s), "%.0f ms", jnum(tot, "avg_latency"));
	stat_box(b, "avg-latency", s, "average latency today");
	if (v->p95_ms >= 0)
		snprintf(s, sizeof(s), "%.0f ms", v->p95_ms);
	else
		snprintf(s, sizeof(s), "-");
	stat_box(b, "p95-latency", s, "p95 latency");
	snprintf(s, sizeof(s), "%.1f", jnum(now, "requests_per_minute"));
	stat_box(b, "rpm", s, "requests per minute");
	snprintf(s, sizeof(s), "%.0f", jnum(now, "active_streams"));
	stat_box(b, "streams", s, "open streams");
	buf_adds(b, "</div>");
}

#define ADMIN_BUCKETS_MAX	60	/* the last hour's minutes */

/* A series of {requests, errors, avg_latency} buckets, oldest first. */
struct series {
	double	tot[ADMIN_BUCKETS_MAX], err[ADMIN_BUCKETS_MAX];
	double	lat[ADMIN_BUCKETS_MAX];
	size_t	n;
};

static void
series_read(struct series *s, struct json_object *arr)
{
	struct json_object *e;
	size_t i;

	s->n = 0;
	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(arr) &&
	    s->n < ADMIN_BUCKETS_MAX; i++, s->n++) {
		e = json_object_array_get_idx(arr, i);
		s->tot[s->n] = jnum(e, "requests");
		s->err[s->n] = jnum(e, "errors");
		s->lat[s->n] = jnum(e, "avg_latency");
	}
}

static void
charts(struct buf *b, const struct admin_overview *v, struct json_object *day)
{
	struct series hour, last_day;
	struct admin_bar bars[ADMIN_SHARE_MAX];
	size_t n;

	series_read(&hour, jget(v->stats, "last_hour"));
	series_read(&last_day, jget(v->stats, "last_day"));
	buf_adds(b, "<div class=\"charts\"><div class=\"card\" "
	    "id=\"chart-rpm\"><h2>Requests and errors per minute, last hour"
	    "</h2>");
	admin_svg_minutes(b, "Requests (blue) and errors (red) per minute",
	    "-60 min", hour.tot, hour.err, hour.n);
	buf_adds(b, "</div><div class=\"card\" id=\"chart-rpm-day\"><h2>"
	    "Requests and errors per hour, last day</h2>");
	admin_svg_minutes(b, "Requests (blue) and errors (red) per hour",
	    "-24 h", last_day.tot, last_day.err, last_day.n);
	buf_adds(b, "</div><div class=\"card\" id=\"chart-latency\"><h2>"
	    "Latency, last hour</h2>");
	admin_svg_latency(b, "Average latency per minute, p50 and p95",
	    "-60 min", hour.lat, hour.n, v->p50_ms, v->p95_ms);
	buf_adds(b, "</div><div class=\"card\" id=\"chart-latency-day\"><h2>"
	    "Latency, last day</h2>");
	admin_svg_latency(b, "Average latency per hour, p50 and p95",
	    "-24 h", last_day.lat, last_day.n, v->p50_ms, v->p95_ms);
	buf_adds(b, "</div><div class=\"card\" id=\"chart-providers\"><h2>"
	    "Requests by provider, today</h2>");
	n = top_bars(jget(day, "providers"), bars);
	admin_svg_share(b, "Share by provider", bars, n);
	buf_adds(b, "</div><div class=\"card\" id=\"chart-models\"><h2>"
	    "Requests by model, today</h2>");
	n = top_bars(jget(day, "models"), bars);
	admin_svg_share(b, "Share by model", bars, n);
	buf_adds(b, "</div></div>");
}

/* online / offline from the probe (handlers/mgmt_probe.c); "-" when
 * the provider has no account, so nobody asked. */
static void
reach_cell(struct buf *b, struct json_object *p)
{
	struct json_object *on = jget(p, "online");

	if (on == NULL) {
		buf_adds(b, "<td class=\"reach mut\" title=\"not probed: no "
		    "account\">-</td>");
		return;
	}
	if (json_object_get_boolean(on)) {
		buf_printf(b, "<td class=\"reach st-active\" title=\"HTTP %lld"
		    "\">online</td>", admin_jint(p, "probe_status"));
		return;
	}
	buf_adds(b, "<td class=\"reach st-error\" title=\"");
	html_attrs(b, admin_jstr(p, "probe_error"));
	buf_adds(b, "\">offline</td>");
}

static void
providers(struct buf *b, struct json_object *now)
{
	struct json_object *pv = jget(now, "providers");

	buf_adds(b, "<div class=\"card\" id=\"providers\"><h2>Providers</h2>"
	    "<div class=\"scroll\"><table><tr><th>Provider</th><th>Status</th>"
	    "<th class=\"n\">Active accounts</th><th class=\"n\">Accounts</th>"
	    "<th class=\"n\">Requests</th><th class=\"n\">Failed</th>"
	    "<th class=\"n\">Last latency</th></tr>");
	if (pv != NULL && json_object_is_type(pv, json_type_object)) {
		json_object_object_foreach(pv, k, p) {
			buf_adds(b, "<tr><td>");
			html_txts(b, k);
			buf_adds(b, "</td>");
			reach_cell(b, p);
			buf_printf(b, "<td class=\"n\">%.0f</td>"
			    "<td class=\"n\">%.0f</td><td class=\"n\">%.0f</td>"
			    "<td class=\"n\">%.0f</td>",
			    jnum(p, "active_accounts"), jnum(p, "accounts"),
			    jnum(p, "requests"), jnum(p, "failed"));
			if (jget(p, "last_latency_ms") != NULL)
				buf_printf(b, "<td class=\"n\">%.0f ms</td>",
				    jnum(p, "last_latency_ms"));
			else
				buf_adds(b, "<td class=\"n mut\">-</td>");
			buf_adds(b, "</tr>");
		}
	}
	buf_adds(b, "</table></div></div>");
}

static void
live(struct buf *b, const struct admin_overview *v)
{
	struct json_object *day = jget(jget(v->stats, "days"), v->today);
	struct json_object *now = jget(v->stats, "now");

	numbers(b, v, day, now);
	charts(b, v, day);
	providers(b, now);
}

int
admin_html_overview(struct buf *b, const struct tokens_page *pg,
    const struct admin_overview *v, int fragment)
{
	if (fragment) {
		live(b, v);
		return b->failed ? -1 : 0;
	}
	admin_html_head(b, pg, "Overview");
	admin_html_topbar(b, pg, v->csrf, "/admin");
	buf_adds(b, "<main>");
	admin_html_flash(b, pg);
	buf_adds(b, "<div id=\"live\" aria-live=\"polite\">");
	live(b, v);
	buf_adds(b, "</div></main><script nonce=\"");
	html_attrs(b, pg->nonce);
	buf_adds(b, "\">");
	buf_adds(b, admin_js_a);
	buf_printf(b, "%d", ADMIN_REFRESH_MS);
	buf_adds(b, admin_js_b);
	buf_adds(b, "</script></body></html>\n");
	return b->failed ? -1 : 0;
}
