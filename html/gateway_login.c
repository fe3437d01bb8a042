/*
 * The gateway's /login page (html/gateway.h): one form, posted to
 * /login, that works without JavaScript.  An empty entry keeps the
 * login the browser already has.
 */
#include "config.h"

#include "html/escape.h"
#include "html/gateway.h"

static const char css[] =
	":root{--bg:#f7f7f8;--fg:#202123;--mut:#6e6e80;--card:#fff;"
	"--line:#e5e5e5;--acc:#10a37f;--acc2:#0e8c6d;--bad:#b3261e;"
	"--badbg:#fcebea;--ok:#137a3a;--okbg:#e6f5ec}"
	"@media (prefers-color-scheme:dark){:root{--bg:#202123;--fg:#ececf1;"
	"--mut:#a0a0b0;--card:#2a2b32;--line:#3e3f4b;--badbg:#3a1816;"
	"--bad:#ff8a80;--okbg:#143222;--ok:#6fd39a}}"
	"*{box-sizing:border-box}body{margin:0;background:var(--bg);"
	"color:var(--fg);font:15px/1.5 system-ui,-apple-system,'Segoe UI',"
	"Roboto,sans-serif}"
	"main{max-width:440px;margin:70px auto;padding:0 16px}"
	".card{background:var(--card);border:1px solid var(--line);"
	"border-radius:12px;padding:26px 26px 20px}"
	"h1{font-size:22px;margin:0 0 6px}p{margin:0 0 14px}"
	".mut{color:var(--mut);font-size:13px}"
	"label{display:block;margin:0 0 6px;font-size:14px;color:var(--mut)}"
	"input{width:100%;font:13px/1.4 ui-monospace,Menlo,Consolas,monospace;"
	"padding:10px 12px;border:1px solid var(--line);border-radius:8px;"
	"background:var(--bg);color:var(--fg)}"
	"button{margin-top:14px;width:100%;font:inherit;padding:10px;"
	"border:0;border-radius:8px;background:var(--acc);color:#fff;"
	"cursor:pointer}button:hover{background:var(--acc2)}"
	".flash{padding:10px 12px;border-radius:8px;margin:0 0 14px}"
	".flash.bad{background:var(--badbg);color:var(--bad)}"
	".flash.ok{background:var(--okbg);color:var(--ok)}"
	"ul{margin:14px 0 0;padding-left:18px}";

int
gw_html_login(struct buf *b, const struct gw_html *h)
{
	buf_adds(b, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">"
	    "<meta name=\"robots\" content=\"noindex, nofollow\">"
	    "<link rel=\"icon\" href=\"data:,\"><title>Log in \xc2\xb7 "
	    "ChatGPT</title><style nonce=\"");
	html_attrs(b, h->nonce);
	buf_adds(b, "\">");
	buf_adds(b, css);
	buf_adds(b, "</style></head>\n<body><main><div class=\"card\" "
	    "id=\"login\"><h1>ChatGPT</h1><p class=\"mut\">through "
	    "chat2api</p>");
	if (h->flash != NULL && h->flash[0]) {
		buf_adds(b, h->flash_bad ? "<p class=\"flash bad\" "
		    "id=\"flash\" role=\"alert\">" : "<p class=\"flash ok\" "
		    "id=\"flash\" role=\"status\">");
		html_txts(b, h->flash);
		buf_adds(b, "</p>");
	}
	buf_adds(b, "<form method=\"post\" id=\"login-form\" action=\"");
	html_attrs(b, h->base);
	buf_adds(b, "/login\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_attrs(b, h->csrf);
	buf_adds(b, "\"><label for=\"token\">AccessToken, RefreshToken or "
	    "seed</label><input type=\"password\" id=\"token\" name=\"token\" "
	    "autocomplete=\"off\" spellcheck=\"false\" autofocus");
	if (!h->has_login)
		buf_adds(b, " required");
	buf_adds(b, "><button type=\"submit\" id=\"login-btn\">Start"
	    "</button></form><ul class=\"mut\">"
	    "<li>An AccessToken (<code>eyJ...</code>) or a RefreshToken uses "
	    "your own ChatGPT account.</li>"
	    "<li>Anything else is a <b>seed</b>: a name of your own that "
	    "stands for an account of this server. Each seed sees only its "
	    "own conversations; keep it secret like a password.</li>");
	if (h->has_login)
		buf_adds(b, "<li id=\"reuse\">Leave it empty to continue with "
		    "the login this browser used last.</li>");
	buf_adds(b, "</ul></div></main></body></html>\n");
	return b->failed ? -1 : 0;
}
