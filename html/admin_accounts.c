/*
 * /admin/accounts: every provider's accounts with their status, today's
 * use against the daily limit, weight, label and last error, a form per
 * action (validate, enable or disable, delete, and "delete all upstream
 * chats" where the provider has it), bulk validation, and the add form
 * with the selected provider's own credential fields.  Forms POST with
 * the CSRF token and land back here (303) with a message; the purge asks
 * first on a page of its own, so it needs no script.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "html/admin.h"
#include "html/escape.h"
#include "upstream/provider.h"

/*
 * Bulk validation one account at a time, with JavaScript: each row's own
 * validate form is posted (its CSRF token included) and its answer, the
 * page after the 303, gives the verdict (a=1: valid) and the row as it
 * is now.  Without JavaScript the bulk form validates all in one POST.
 */
static const char bulk_js[] =
	"(function(){var f=document.getElementById('bulk-form'),"
	"p=document.getElementById('bulk-progress'),"
	"s=document.getElementById('bulk-status'),"
	"b=document.getElementById('bulk-validate');"
	"if(!f||!p||!s||!b||!window.fetch||!window.DOMParser||"
	"!window.URLSearchParams)return;"
	"function flash(t,bad){var e=document.getElementById('flash'),"
	"m=document.querySelector('main');if(!e){e=document.createElement('p');"
	"e.id='flash';m.insertBefore(e,m.firstChild);}"
	"e.className='flash '+(bad?'bad':'ok');"
	"e.setAttribute('role',bad?'alert':'status');e.textContent=t;}"
	"f.addEventListener('submit',function(ev){"
	"var fs=[].slice.call(document.querySelectorAll("
	"'#accounts tr[data-fp] form[action$=\"/accounts/validate\"]'));"
	"if(!fs.length)return;ev.preventDefault();"
	"var n=fs.length,i=0,ok=0;b.disabled=true;p.max=n;p.value=0;"
	"p.hidden=false;"
	"function done(t,bad){b.disabled=false;s.textContent='';flash(t,bad);}"
	"function step(){if(i>=n)return done('Validated: '+ok+' of '+n+"
	"' valid.',ok!==n);"
	"var fm=fs[i],tr=fm.closest('tr'),fp=tr.getAttribute('data-fp');"
	"s.textContent='Checking '+(i+1)+' of '+n+'\xe2\x80\xa6';"
	"fetch(fm.action,{method:'POST',credentials:'same-origin',"
	"cache:'no-store',body:new URLSearchParams(new FormData(fm))})"
	".then(function(r){var u=new URL(r.url);"
	"if(!r.ok||u.searchParams.get('m')!=='validated')throw 0;"
	"if(u.searchParams.get('a')==='1')ok++;return r.text();})"
	/* only the row is parsed: the page's <style> has another nonce */
	".then(function(t){var k=/^[0-9a-f]+$/.test(fp)?t.indexOf("
	"'<tr data-fp=\"'+fp+'\">'):-1,e=k<0?-1:t.indexOf('</tr>',k),x=null;"
	"if(e>0)x=new DOMParser().parseFromString('<table><tbody>'+"
	"t.slice(k,e+5)+'</tbody></table>','text/html').querySelector('tr');"
	"if(x&&tr.parentNode)tr.parentNode.replaceChild("
	"document.importNode(x,true),tr);i++;p.value=i;step();})"
	".catch(function(){done('Stopped after '+i+' of '+n+': the server "
	"did not answer as expected. Reload the page.',true);});}"
	"step();});})();";

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
	const struct provider *pv;
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
	if ((pv = provider_by_id(jstr(a, "provider"))) != NULL &&
	    pv->purge != NULL)
		row_action(b, pg, v, "purge", id, "Delete all upstream chats",
		    1);
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
	buf_adds(b, "<form method=\"post\" id=\"bulk-form\" action=\"");
	html_attrs(b, pg->base);
	buf_adds(b, "/admin/accounts/validate\">");
	hidden(b, "csrf", v->csrf != NULL ? v->csrf : "");
	if (v->provider != NULL)
		hidden(b, "provider", v->provider);
	buf_printf(b, "<div class=\"row\"><button type=\"submit\" "
	    "id=\"bulk-validate\">Validate all %zu</button>"
	    "<progress id=\"bulk-progress\" max=\"%zu\" value=\"0\" "
	    "hidden></progress><span id=\"bulk-status\" class=\"mut\" "
	    "role=\"status\"></span></div></form>", n, n ? n : 1);
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
	buf_adds(b, "</main><script nonce=\"");
	html_attrs(b, pg->nonce);
	buf_adds(b, "\">");
	buf_adds(b, bulk_js);
	buf_adds(b, "</script></body></html>\n");
	return b->failed ? -1 : 0;
}

int
admin_html_purge_confirm(struct buf *b, const struct tokens_page *pg,
    const struct admin_purge *v)
{
	const struct provider *p = provider_by_id(v->provider);

	admin_html_head(b, pg, "Delete all upstream chats");
	admin_html_topbar(b, pg, v->csrf, "/admin/accounts");
	buf_adds(b, "<main>");
	admin_html_flash(b, pg);
	buf_adds(b, "<div class=\"card\" id=\"purge\"><h2>Delete all "
	    "upstream chats?</h2><p>Every chat of the ");
	html_txts(b, p != NULL ? p->display : v->provider);
	buf_adds(b, " account <span class=\"fp\">");
	html_txts(b, v->fingerprint);
	buf_adds(b, "</span>");
	if (v->label != NULL && *v->label != '\0') {
		buf_adds(b, " (<span class=\"label\">");
		html_txts(b, v->label);
		buf_adds(b, "</span>)");
	}
	buf_adds(b, " is deleted at the provider, not only those chat2api "
	    "made, and its sessions here end. This cannot be undone.</p>");
	form_open(b, pg, "purge", v->csrf);
	hidden(b, "id", v->id);
	if (v->tab != NULL)
		hidden(b, "provider", v->tab);
	hidden(b, "confirm", "yes");
	buf_adds(b, "<div class=\"row\"><button class=\"danger\" "
	    "type=\"submit\" id=\"purge-yes\">Delete all chats</button>"
	    "<a id=\"purge-cancel\" href=\"");
	html_attrs(b, pg->base);
	buf_adds(b, "/admin/accounts");
	if (v->tab != NULL) {
		buf_adds(b, "?provider=");
		url_args(b, v->tab);
	}
	buf_adds(b, "\">Cancel</a></div></form></div></main></body>"
	    "</html>\n");
	return b->failed ? -1 : 0;
}
