/*
 * The /tokens page templates.  Literal markup goes out with buf_adds();
 * every value goes through the escaping helper of its context.  Forms
 * work without JavaScript: they POST and the server answers 303 back to
 * /tokens with a flash message.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "html/escape.h"
#include "html/tokens.h"

const char tokens_css[] =
	":root{--bg:#f5f6f8;--fg:#1d2330;--mut:#5d6675;--card:#fff;"
	"--line:#dfe3ea;--acc:#2456d6;--acc2:#1b44ad;--ok:#137a3a;"
	"--okbg:#e6f5ec;--bad:#b3261e;--badbg:#fcebea;--warn:#8a5a00}"
	"@media (prefers-color-scheme:dark){:root{--bg:#12151b;--fg:#e4e8ef;"
	"--mut:#9aa3b2;--card:#1b2029;--line:#2d3440;--acc:#6f9bff;"
	"--acc2:#8fb1ff;--ok:#6fd39a;--okbg:#143222;--bad:#ff8a80;"
	"--badbg:#3a1816;--warn:#f0c060}}"
	"*{box-sizing:border-box}"
	"body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 "
	"system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
	"header{display:flex;align-items:center;justify-content:space-between;"
	"padding:14px 24px;border-bottom:1px solid var(--line);"
	"background:var(--card)}"
	"h1{font-size:18px;margin:0}h1 span{color:var(--mut);font-weight:400}"
	"h2{font-size:16px;margin:0 0 12px}"
	"main{max-width:1040px;margin:0 auto;padding:20px 16px 40px}"
	".card{background:var(--card);border:1px solid var(--line);"
	"border-radius:10px;padding:18px 20px;margin:0 0 18px}"
	".narrow{max-width:420px;margin:60px auto}"
	".stats{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 14px}"
	".stat{flex:1 1 110px;border:1px solid var(--line);border-radius:8px;"
	"padding:10px 14px}.stat b{display:block;font-size:26px;"
	"font-variant-numeric:tabular-nums}.stat span{color:var(--mut);"
	"font-size:13px}"
	"table{width:100%;border-collapse:collapse;font-size:14px}"
	"th,td{text-align:left;padding:6px 8px;border-bottom:1px solid "
	"var(--line);vertical-align:top}th{color:var(--mut);font-weight:600}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	"td.reason{word-break:break-word;max-width:420px}"
	"code,.fp{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
	"monospace;font-size:13px}"
	".scroll{overflow-x:auto}"
	"textarea,input[type=password]{width:100%;font:13px/1.4 ui-monospace,"
	"SFMono-Regular,Menlo,Consolas,monospace;padding:8px 10px;"
	"border:1px solid var(--line);border-radius:6px;background:var(--bg);"
	"color:var(--fg)}"
	"textarea{min-height:150px;resize:vertical}"
	"label{display:block;margin:0 0 6px;color:var(--mut);font-size:14px}"
	"button{font:inherit;font-size:14px;padding:7px 14px;border-radius:6px;"
	"border:1px solid var(--acc);background:var(--acc);color:#fff;"
	"cursor:pointer}button:hover{background:var(--acc2)}"
	"button.plain{background:transparent;color:var(--acc)}"
	"button.danger{border-color:var(--bad);background:var(--bad)}"
	"button.small{padding:2px 8px;font-size:12px}"
	".row{display:flex;flex-wrap:wrap;gap:10px;align-items:center;"
	"margin-top:10px}"
	".flash{padding:10px 14px;border-radius:8px;margin:0 0 18px}"
	".flash.ok{background:var(--okbg);color:var(--ok)}"
	".flash.bad{background:var(--badbg);color:var(--bad)}"
	".mut{color:var(--mut)}.st-error{color:var(--bad)}"
	".st-cooling{color:var(--warn)}.st-active{color:var(--ok)}"
	".danger-zone{display:grid;grid-template-columns:repeat(auto-fit,"
	"minmax(260px,1fr));gap:18px}"
	".danger-zone form{border:1px solid var(--line);border-radius:8px;"
	"padding:12px 14px}"
	".check{display:flex;gap:8px;align-items:center;color:var(--fg)}"
	"footer{color:var(--mut);font-size:13px;text-align:center;"
	"padding:0 0 30px}";

void
tokens_fmt_time(int64_t t, char *out, size_t outsz)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, outsz, "-");
}

static void
head(struct buf *b, const struct tokens_page *pg, const char *title)
{
	buf_adds(b, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">"
	    "<meta name=\"referrer\" content=\"no-referrer\">"
	    "<meta name=\"robots\" content=\"noindex, nofollow\">"
	    "<link rel=\"icon\" href=\"data:,\"><title>");
	html_txts(b, title);
	buf_adds(b, " \xc2\xb7 chat2api</title><style nonce=\"");
	html_attrs(b, pg->nonce);
	buf_adds(b, "\">");
	buf_adds(b, tokens_css);
	buf_adds(b, "</style></head>\n<body>");
}

/* action="BASE/PATH": the base comes from configuration, still escaped. */
static void
form_open(struct buf *b, const struct tokens_page *pg, const char *path,
    const char *id, const char *csrf)
{
	buf_adds(b, "<form method=\"post\" action=\"");
	html_attrs(b, pg->base);
	html_attrs(b, path);
	buf_adds(b, "\"");
	if (id != NULL) {
		buf_adds(b, " id=\"");
		html_attrs(b, id);
		buf_adds(b, "\"");
	}
	buf_adds(b, ">");
	if (csrf != NULL) {
		buf_adds(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
		html_attrs(b, csrf);
		buf_adds(b, "\">");
	}
}

static void
flash(struct buf *b, const struct tokens_page *pg)
{
	if (pg->flash == NULL || pg->flash[0] == '\0')
		return;
	buf_adds(b, pg->flash_bad ?
	    "<p class=\"flash bad\" id=\"flash\" role=\"alert\">" :
	    "<p class=\"flash ok\" id=\"flash\" role=\"status\">");
	html_txts(b, pg->flash);
	buf_adds(b, "</p>");
}

/* Shown for /admin (its login, its refusals): say so, not "tokens". */
static int
for_admin(const struct tokens_page *pg)
{
	return pg->home != NULL && strcmp(pg->home, "/admin") == 0;
}

static void
topbar(struct buf *b, const struct tokens_page *pg, const char *csrf)
{
	buf_adds(b, for_admin(pg) ?
	    "<header><h1>chat2api <span>\xc2\xb7 admin</span></h1>" :
	    "<header><h1>chat2api <span>\xc2\xb7 tokens</span></h1>");
	if (csrf != NULL) {
		form_open(b, pg, "/tokens/logout", "logout", csrf);
		buf_adds(b, "<button class=\"plain\" type=\"submit\">"
		    "Log out</button></form>");
	}
	buf_adds(b, "</header>\n");
}

static void
stat_box(struct buf *b, const char *id, size_t n, const char *label)
{
	buf_adds(b, "<div class=\"stat\"><b id=\"");
	html_attrs(b, id);
	buf_printf(b, "\">%zu</b><span>", n);
	html_txts(b, label);
	buf_adds(b, "</span></div>");
}

static const char *
kind_name(const struct tokens_view *v, int k)
{
	return k >= 0 && (size_t)k < v->nkinds ? v->kind_names[k] : "token";
}

static void
summary(struct buf *b, const struct tokens_view *v)
{
	static const char *const cols[TOKENS_NCOLS] = { "active", "cooling",
		"error" };
	size_t k, c, row;

	buf_adds(b, "<section class=\"card\" id=\"summary\"><h2>Pool</h2>"
	    "<div class=\"stats\">");
	stat_box(b, "count-active", v->counts.active, "active");
	stat_box(b, "count-cooling", v->counts.cooling, "cooling down");
	stat_box(b, "count-error", v->counts.error, "error");
	stat_box(b, "count-total", v->counts.total, "total");
	buf_adds(b, "</div><div class=\"scroll\"><table id=\"by-kind\">"
	    "<thead><tr><th>kind</th>");
	for (c = 0; c < TOKENS_NCOLS; c++) {
		buf_adds(b, "<th class=\"n\">");
		html_txts(b, cols[c]);
		buf_adds(b, "</th>");
	}
	buf_adds(b, "<th class=\"n\">total</th></tr></thead><tbody>");
	/* kind 0 is the generic "token", which ChatGPT does not use */
	for (k = v->nkinds > 1 ? 1 : 0; k < v->nkinds &&
	    k < TOKENS_KINDS_MAX; k++) {
		buf_adds(b, "<tr><td>");
		html_txts(b, kind_name(v, (int)k));
		buf_adds(b, "</td>");
		for (c = row = 0; c < TOKENS_NCOLS; c++) {
			buf_printf(b, "<td class=\"n\">%zu</td>", v->grid[k][c]);
			row += v->grid[k][c];
		}
		buf_printf(b, "<td class=\"n\">%zu</td></tr>", row);
	}
	buf_adds(b, "</tbody></table></div></section>\n");
}

static void
upload(struct buf *b, const struct tokens_page *pg, const struct tokens_view *v)
{
	buf_adds(b, "<section class=\"card\" id=\"upload\">"
	    "<h2>Upload tokens</h2>");
	form_open(b, pg, "/tokens/upload", "upload-form", v->csrf);
	buf_adds(b, "<label for=\"text\">One per line: AccessToken "
	    "(<code>eyJ\xe2\x80\xa6</code>), RefreshToken, or "
	    "<code>token,account_id</code>. Lines starting with <code>#</code> "
	    "are ignored; a token already in the pool is kept once. At most "
	    "1 MiB and 10000 lines.</label>"
	    "<textarea id=\"text\" name=\"text\" spellcheck=\"false\" "
	    "autocomplete=\"off\" autocapitalize=\"off\" required></textarea>"
	    "<div class=\"row\"><button type=\"submit\" id=\"upload-btn\">"
	    "Upload</button><span class=\"mut\">Stored encrypted; only "
	    "fingerprints are ever shown.</span></div></form></section>\n");
}

static const char *
status_of(const struct acct_info *ci, time_t now, const char **cls)
{
	if (ci->status != ACCT_ACTIVE) {
		*cls = "st-error";
		return acct_status_name(ci->status);
	}
	if (ci->cooldown_until > (int64_t)now) {
		*cls = "st-cooling";
		return "cooling";
	}
	*cls = "st-active";
	return acct_status_name(ci->status);
}

static void
errors(struct buf *b, const struct tokens_page *pg, const struct tokens_view *v)
{
	char when[40];
	size_t i;

	buf_printf(b, "<section class=\"card\" id=\"errors\">"
	    "<h2>Error tokens (<span id=\"errors-total\">%zu</span>)</h2>",
	    v->errors_total);
	if (v->nerrors == 0) {
		buf_adds(b, "<p class=\"mut\" id=\"no-errors\">No token is "
		    "marked as failing.</p></section>\n");
		return;
	}
	buf_adds(b, "<div class=\"scroll\"><table id=\"error-list\"><thead>"
	    "<tr><th>fingerprint</th><th>kind</th><th>reason</th>"
	    "<th>time</th><th class=\"n\">count</th></tr></thead><tbody>");
	for (i = 0; i < v->nerrors; i++) {
		const struct acct_info *ci = &v->errors[i];
		buf_adds(b, "<tr><td class=\"fp\">");
		html_txts(b, ci->fingerprint);
		buf_adds(b, "</td><td>");
		html_txts(b, kind_name(v, ci->kind));
		buf_adds(b, "</td><td class=\"reason\">");
		html_txts(b, ci->last_error);
		buf_adds(b, "</td><td>");
		tokens_fmt_time(ci->last_error_at, when, sizeof(when));
		html_txts(b, when);
		buf_printf(b, "</td><td class=\"n\">%" PRIu32 "</td></tr>",
		    ci->error_count);
	}
	buf_adds(b, "</tbody></table></div>");
	if (v->errors_total > v->nerrors)
		buf_printf(b, "<p class=\"mut\">%zu more not shown.</p>",
		    v->errors_total - v->nerrors);
	form_open(b, pg, "/tokens/errors/clear", "errors-clear-form", v->csrf);
	buf_adds(b, "<div class=\"row\"><button type=\"submit\">Reset error "
	    "status</button><span class=\"mut\">They go back into rotation."
	    "</span></div></form></section>\n");
}

static void
pool(struct buf *b, const struct tokens_page *pg, const struct tokens_view *v)
{
	char created[40], used[40];
	const char *st, *cls;
	size_t i;

	buf_printf(b, "<section class=\"card\" id=\"pool\">"
	    "<h2>Credentials (%zu)</h2>", v->rows_total);
	if (v->nrows == 0) {
		buf_adds(b, "<p class=\"mut\" id=\"pool-empty\">The pool is "
		    "empty: requests with an AUTHORIZATION code go out "
		    "anonymously.</p></section>\n");
		return;
	}
	buf_adds(b, "<div class=\"scroll\"><table id=\"pool-list\"><thead>"
	    "<tr><th>fingerprint</th><th>kind</th><th>status</th>"
	    "<th>account</th><th>added</th><th>last used</th><th></th></tr>"
	    "</thead><tbody>");
	for (i = 0; i < v->nrows; i++) {
		const struct acct_info *ci = &v->rows[i];
		st = status_of(ci, v->now, &cls);
		tokens_fmt_time(ci->created_at, created, sizeof(created));
		tokens_fmt_time(ci->last_used_at, used, sizeof(used));
		buf_adds(b, "<tr><td class=\"fp\">");
		html_txts(b, ci->fingerprint);
		buf_adds(b, "</td><td>");
		html_txts(b, kind_name(v, ci->kind));
		buf_adds(b, "</td><td class=\"");
		html_attrs(b, cls);
		buf_adds(b, "\">");
		html_txts(b, st);
		buf_adds(b, "</td><td class=\"account\">");
		html_txts(b, ci->team_id);
		buf_adds(b, "</td><td>");
		html_txts(b, created);
		buf_adds(b, "</td><td>");
		html_txts(b, used);
		buf_adds(b, "</td><td>");
		form_open(b, pg, "/tokens/remove", NULL, v->csrf);
		buf_adds(b, "<input type=\"hidden\" name=\"id\" value=\"");
		html_attrs(b, ci->id);
		buf_adds(b, "\"><button class=\"small plain\" type=\"submit\" "
		    "title=\"Remove this credential\">remove</button></form>"
		    "</td></tr>");
	}
	buf_adds(b, "</tbody></table></div>");
	if (v->rows_total > v->nrows)
		buf_printf(b, "<p class=\"mut\">%zu more not shown.</p>",
		    v->rows_total - v->nrows);
	buf_adds(b, "</section>\n");
}

static void
danger(struct buf *b, const struct tokens_page *pg, const struct tokens_view *v)
{
	buf_adds(b, "<section class=\"card\" id=\"danger\"><h2>Clear</h2>"
	    "<div class=\"danger-zone\">");
	form_open(b, pg, "/tokens/clear", "clear-form", v->csrf);
	buf_adds(b, "<p>Remove <strong>every</strong> token from the pool, "
	    "error ones included.</p><label class=\"check\"><input "
	    "type=\"checkbox\" name=\"confirm\" value=\"yes\" "
	    "id=\"clear-confirm\" required> I am sure</label><div "
	    "class=\"row\"><button class=\"danger\" type=\"submit\" "
	    "id=\"clear-btn\">Clear all tokens</button></div></form>");
	form_open(b, pg, "/seed_tokens/clear", "seeds-form", v->csrf);
	buf_printf(b, "<p>Forget every seed \xe2\x86\x92 token assignment of "
	    "the gateway (<span id=\"seed-count\">%zu</span> now) and their "
	    "conversation lists.</p>", v->seeds);
	buf_adds(b, "<label class=\"check\"><input type=\"checkbox\" "
	    "name=\"confirm\" value=\"yes\" id=\"seeds-confirm\" required> "
	    "I am sure</label><div class=\"row\"><button class=\"danger\" "
	    "type=\"submit\" id=\"seeds-btn\">Clear seed tokens</button></div>"
	    "</form></div></section>\n");
}

int
tokens_html_main(struct buf *b, const struct tokens_page *pg,
    const struct tokens_view *v)
{
	char until[40];

	head(b, pg, "Tokens");
	topbar(b, pg, v->csrf);
	buf_adds(b, "<main>");
	flash(b, pg);
	summary(b, v);
	upload(b, pg, v);
	errors(b, pg, v);
	pool(b, pg, v);
	danger(b, pg, v);
	buf_adds(b, "</main><footer>Session valid until ");
	tokens_fmt_time((int64_t)v->session_expires, until, sizeof(until));
	html_txts(b, until);
	buf_adds(b, ".</footer></body></html>\n");
	return b->failed ? -1 : 0;
}

int
tokens_html_login(struct buf *b, const struct tokens_page *pg)
{
	head(b, pg, "Log in");
	topbar(b, pg, NULL);
	buf_adds(b, "<main><div class=\"card narrow\" id=\"login\">"
	    "<h2>Log in</h2>");
	flash(b, pg);
	form_open(b, pg, for_admin(pg) ? "/admin/login" : "/tokens/login",
	    "login-form", NULL);
	buf_adds(b, "<label for=\"code\">Authorization code (one of "
	    "<code>AUTHORIZATION</code>)</label><input type=\"password\" "
	    "id=\"code\" name=\"code\" autocomplete=\"current-password\" "
	    "required autofocus><div class=\"row\"><button type=\"submit\" "
	    "id=\"login-btn\">Log in</button><span class=\"mut\">The session "
	    "lasts 12 hours.</span></div></form></div></main></body></html>\n");
	return b->failed ? -1 : 0;
}

int
tokens_html_disabled(struct buf *b, const struct tokens_page *pg)
{
	head(b, pg, "Token management disabled");
	topbar(b, pg, NULL);
	buf_adds(b, "<main><div class=\"card narrow\" id=\"disabled\">"
	    "<h2>Token management is disabled</h2>"
	    "<p>No <code>AUTHORIZATION</code> code is configured, and this "
	    "page never opens the credential pool to anyone without one.</p>"
	    "<p>To enable it, set a comma list of long random codes in the "
	    "environment of chat2api and restart it, e.g.</p>"
	    "<pre><code>AUTHORIZATION=$(openssl rand -hex 24)</code></pre>"
	    "<p>Then log in here with one of them. Scripts use "
	    "<code>Authorization: Bearer &lt;code&gt;</code> on the JSON "
	    "endpoints (<code>/tokens/upload</code>, <code>/tokens/clear</code>, "
	    "<code>/tokens/error</code>, <code>/seed_tokens/clear</code>).</p>"
	    "</div></main></body></html>\n");
	return b->failed ? -1 : 0;
}

int
tokens_html_refused(struct buf *b, const struct tokens_page *pg,
    const char *why)
{
	head(b, pg, "Request refused");
	topbar(b, pg, NULL);
	buf_adds(b, "<main><div class=\"card narrow\" id=\"refused\">"
	    "<h2>Request refused</h2><p class=\"flash bad\" role=\"alert\">");
	html_txts(b, why);
	buf_adds(b, "</p><p><a href=\"");
	html_attrs(b, pg->base);
	buf_adds(b, "/tokens\">Back to the tokens page</a></p></div></main>"
	    "</body></html>\n");
	return b->failed ? -1 : 0;
}
