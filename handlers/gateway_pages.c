/*
 * The gateway's pages (chatgpt.md §9.1): /, /c/<id>, /g/<id> and /gpts
 * serve ChatGPT's live page, fetched with the login's real account and
 * kept briefly per process and account (GATEWAY_PAGE_TTL), its hosts
 * made ours and its React Router context given the browser's own login;
 * when the page cannot be had, our own chat page.  /login logs in (a
 * form that needs no script, CSRF-safe), /auth/logout out.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "fcgi/resp.h"
#include "handlers/admin_auth.h"
#include "handlers/gateway.h"
#include "handlers/handlers.h"
#include "html/escape.h"
#include "html/gateway.h"
#include "store/crypto.h"
#include "upstream/http.h"

#define PAGE_SLOTS	16		/* pages kept per process */
#define PAGE_KEY_LEN	64		/* hex SHA-256 of base and token */
#define LOGIN_LABEL	"chat2api gateway login v1"
#define FAKE_EMAIL	"chatgpt@openai.com"
#define MIRROR_CSP	"Content-Security-Policy: default-src 'self'; " \
	"script-src 'self' 'nonce-%s' 'wasm-unsafe-eval'; " \
	"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " \
	"font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; " \
	"worker-src 'self' blob:; frame-src 'self'; object-src 'none'; " \
	"base-uri 'self'; form-action 'self'; frame-ancestors 'self'\r\n"
#define OWN_CSP		"Content-Security-Policy: default-src 'none'; " \
	"script-src 'nonce-%s'; style-src 'nonce-%s'; connect-src 'self'; " \
	"img-src data:; form-action 'self'; base-uri 'none'; " \
	"frame-ancestors 'none'\r\n"

/* ------------------------------------------------------------ cache */

struct page_slot {
	char	 key[PAGE_KEY_LEN + 1];
	char	*page;
	size_t	 len;
	time_t	 at;
};

static pthread_mutex_t	 cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct page_slot	 cache[PAGE_SLOTS];

/* The page differs by account: the key is a digest of base and token. */
static void
page_key(const char *base, const char *at, char out[PAGE_KEY_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	EVP_MD_CTX *ctx;

	memset(md, 0, sizeof(md));
	if ((ctx = EVP_MD_CTX_new()) != NULL) {
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
		EVP_DigestUpdate(ctx, base, strlen(base) + 1);
		EVP_DigestUpdate(ctx, at != NULL ? at : "", at != NULL ?
		    strlen(at) : 0);
		EVP_DigestFinal_ex(ctx, md, &n);
		EVP_MD_CTX_free(ctx);
	}
	for (i = 0; i < PAGE_KEY_LEN / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[PAGE_KEY_LEN] = '\0';
}

/* A copy of a fresh page, malloc'd; NULL when there is none. */
static char *
cache_get(const char *key, long ttl, size_t *len)
{
	time_t now = time(NULL);
	char *copy = NULL;
	size_t i;

	if (ttl <= 0)
		return NULL;
	pthread_mutex_lock(&cache_mu);
	for (i = 0; i < PAGE_SLOTS; i++)
		if (cache[i].page != NULL && strcmp(cache[i].key, key) == 0 &&
		    now - cache[i].at < ttl) {
			if ((copy = malloc(cache[i].len + 1)) != NULL) {
				memcpy(copy, cache[i].page, cache[i].len + 1);
				*len = cache[i].len;
			}
			break;
		}
	pthread_mutex_unlock(&cache_mu);
	return copy;
}

static void
cache_put(const char *key, const char *page, size_t len)
{
	struct page_slot *s = &cache[0];
	char *copy;
	size_t i;

	if ((copy = malloc(len + 1)) == NULL)
		return;
	memcpy(copy, page, len + 1);
	pthread_mutex_lock(&cache_mu);
	/* The same key, else an empty slot, else the oldest. */
	for (i = 0; i < PAGE_SLOTS; i++) {
		if (strcmp(cache[i].key, key) == 0 || cache[i].page == NULL) {
			s = &cache[i];
			break;
		}
		if (cache[i].at < s->at)
			s = &cache[i];
	}
	free(s->page);
	memcpy(s->key, key, sizeof(s->key));
	s->page = copy;
	s->len = len;
	s->at = time(NULL);
	pthread_mutex_unlock(&cache_mu);
}

/* ------------------------------------------------------------ our pages */

static enum app_err
own_page(struct req *r, int status, struct gw_html *h, struct buf *page,
    const char *extra)
{
	struct buf hdr;
	enum app_err e;

	buf_init(&hdr, 0);
	buf_printf(&hdr, OWN_CSP, h->nonce, h->nonce);
	buf_adds(&hdr, "Cache-Control: no-store\r\nX-Frame-Options: DENY\r\n");
	if (extra != NULL)
		buf_adds(&hdr, extra);
	e = page->failed || hdr.failed ? APP_ENOMEM : gw_send(r, status,
	    "text/html; charset=utf-8", hdr.p, page->p, page->len);
	buf_free(&hdr);
	buf_free(page);
	return e;
}

/* The login form's CSRF token: a MAC of the nonce in its cookie. */
static void
login_csrf(struct req *r, const char *nonce, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[CRYPTO_MAC_LEN];
	size_t i;

	store_mac(r->store, LOGIN_LABEL, nonce, strlen(nonce), mac);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[64] = '\0';
}

static enum app_err
login_page(struct req *r, int status, const char *flash, const char *extra)
{
	struct gw_html h;
	struct buf page, hdr;
	char nonce[33], form[33], csrf[65];
	enum app_err e;

	if (r->store == NULL)
		return gw_detail(r, 500, "The store is unavailable.");
	memset(&h, 0, sizeof(h));
	gw_nonce(nonce);
	gw_nonce(form);
	login_csrf(r, form, csrf);
	h.base = r->cfg->mount;
	h.nonce = nonce;
	h.csrf = csrf;
	h.flash = flash;
	h.flash_bad = status >= 400;
	h.has_login = gw_cookie(r, GW_COOKIE, GW_TOKEN_MAX) != NULL;
	buf_init(&page, GW_HTML_MAX);
	gw_html_login(&page, &h);
	buf_init(&hdr, 0);
	gw_set_cookie(r, &hdr, GW_LOGIN_COOKIE, form, GW_LOGIN_TTL, "Strict");
	if (extra != NULL)
		buf_adds(&hdr, extra);
	e = hdr.failed ? APP_ENOMEM : own_page(r, status, &h, &page, hdr.p);
	buf_free(&hdr);
	return e;
}

enum app_err
h_gw_login_page(struct req *r, const char *rest)
{
	(void)rest;
	return login_page(r, 200, NULL, NULL);
}

/* The token cookie set, and a browser switching logins starts clean. */
static enum app_err
logged_in(struct req *r, const struct gw_ident *id, const char *to)
{
	const char *old = gw_cookie(r, GW_COOKIE, GW_TOKEN_MAX);
	struct buf h;
	enum app_err e;

	buf_init(&h, 0);
	gw_set_cookie(r, &h, GW_COOKIE, id->login, GW_COOKIE_TTL, "Lax");
	gw_set_cookie(r, &h, GW_LOGIN_COOKIE, NULL, 0, "Strict");
	if (old != NULL && strcmp(old, id->login) != 0)
		buf_adds(&h, "Clear-Site-Data: \"storage\"\r\n");
	buf_adds(&h, "Referrer-Policy: no-referrer\r\n");
	log_info("gateway: login (%s) %s", id->kind == GW_SEED ? "seed" :
	    id->kind == GW_REFRESH ? "refresh token" : "access token", id->fp);
	e = h.failed ? APP_ENOMEM : gw_redirect(r, 303, to, h.p);
	buf_free(&h);
	return e;
}

enum app_err
h_gw_login(struct req *r, const char *rest)
{
	const char *nonce, *to;
	char want[65], *csrf = NULL, *token = NULL;
	size_t n = 0, cn = 0;
	struct gw_ident id;
	enum gw_err ge;

	(void)rest;
	if (r->store == NULL)
		return gw_detail(r, 500, "The store is unavailable.");
	nonce = gw_cookie(r, GW_LOGIN_COOKIE, 64);
	if (r->body != NULL)
		form_field(r->arena, r->body, r->body_len, "csrf", &csrf, &cn);
	if (nonce != NULL)
		login_csrf(r, nonce, want);
	/* The form must be ours, posted from our page, this hour. */
	if (!admin_fetch_ok(r) || nonce == NULL || csrf == NULL ||
	    !crypto_streq(want, csrf)) {
		log_warn("gateway: login refused: missing or wrong form token");
		return login_page(r, 403, "The form expired or came from "
		    "another site; please try again.", NULL);
	}
	if (r->body != NULL && form_field(r->arena, r->body, r->body_len,
	    "token", &token, &n) < 0)
		token = NULL;
	while (token != NULL && n > 0 && (token[n - 1] == ' ' ||
	    token[n - 1] == '\n' || token[n - 1] == '\r' ||
	    token[n - 1] == '\t'))
		token[--n] = '\0';
	while (token != NULL && (*token == ' ' || *token == '\t' ||
	    *token == '\n' || *token == '\r'))
		token++;
	/* An empty entry keeps the last login (§9.1). */
	if (token == NULL || *token == '\0')
		token = (char *)gw_cookie(r, GW_COOKIE, GW_TOKEN_MAX);
	if (token == NULL)
		return login_page(r, 400, "Enter an AccessToken, a "
		    "RefreshToken or a seed.", NULL);
	if ((ge = gw_resolve(r, token, 1, &id)) != GW_OK) {
		log_info("gateway: login refused: %s", gw_strerror(ge));
		return login_page(r, gw_status_of(ge), gw_strerror(ge), NULL);
	}
	to = arena_printf(r->arena, "%s/", r->cfg->mount);
	return logged_in(r, &id, to != NULL ? to : "/");
}

enum app_err
h_gw_logout(struct req *r, const char *rest)
{
	struct buf h;
	const char *to;
	enum app_err e;

	(void)rest;
	buf_init(&h, 0);
	gw_set_cookie(r, &h, GW_COOKIE, NULL, 0, "Lax");
	/* The web UI keeps conversations in the browser: they go too. */
	buf_adds(&h, "Clear-Site-Data: \"cache\", \"storage\"\r\n");
	to = arena_printf(r->arena, "%s/login", r->cfg->mount);
	e = h.failed || to == NULL ? APP_ENOMEM : gw_redirect(r, 302, to, h.p);
	buf_free(&h);
	return e;
}

/* /gpts.data: the store's route data, as the reference answers it. */
enum app_err
h_gw_gpts_data(struct req *r, const char *rest)
{
	const char *ref = req_param(r, "HTTP_REFERER");
	struct buf b;
	enum app_err e;

	(void)rest;
	if (ref == NULL || !gw_hdr_value_ok(ref, strlen(ref)) ||
	    strlen(ref) > GW_LOCATION_MAX)
		ref = "";
	buf_init(&b, 0);
	buf_adds(&b, "[{\"_1\":2},\"routes/gpts._index\",{\"_3\":4},\"data\","
	    "{\"_5\":6,\"_7\":8},\"kind\",\"store\",\"referrer\",");
	buf_json_str(&b, ref, strlen(ref));
	buf_adds(&b, "]\n");
	e = b.failed ? APP_ENOMEM : gw_send(r, 200, "text/x-script; "
	    "charset=utf-8", "Cache-Control: no-store\r\n", b.p, b.len);
	buf_free(&b);
	return e;
}

/* ------------------------------------------------------------ the mirror */

int
gw_navigation(struct req *r)
{
	const char *mode = req_param(r, "HTTP_SEC_FETCH_MODE");
	const char *acc = req_param(r, "HTTP_ACCEPT");

	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		return 0;
	if (mode != NULL && *mode)
		return strcmp(mode, "navigate") == 0;
	return acc != NULL && strstr(acc, "text/html") != NULL;
}

/* The browser's language: the oai-locale cookie, else Accept-Language. */
static const char *
locale_of(struct req *r)
{
	const char *l = gw_cookie(r, "oai-locale", SITE_LOCALE_MAX), *al;
	size_t n;

	if (l != NULL && site_locale_ok(l, strlen(l)))
		return l;
	if ((al = req_param(r, "HTTP_ACCEPT_LANGUAGE")) == NULL)
		return NULL;
	n = strcspn(al, ",;");
	while (n > 0 && al[n - 1] == ' ')
		n--;
	return site_locale_ok(al, n) ? arena_strndup(r->arena, al, n) : NULL;
}

static enum app_err
fallback(struct req *r, const char *why)
{
	struct gw_html h;
	struct buf page;
	char nonce[33];

	memset(&h, 0, sizeof(h));
	gw_nonce(nonce);
	h.base = r->cfg->mount;
	h.nonce = nonce;
	buf_init(&page, GW_HTML_MAX);
	gw_html_chat(&page, &h, why);
	return own_page(r, 200, &h, &page, NULL);
}

/* The live page, from the cache or the site; NULL when it failed. */
static char *
live_page(struct req *r, struct gw_ident *id, const char *base, size_t *len)
{
	struct site_call *sc;
	char key[PAGE_KEY_LEN + 1], *page;
	enum site_err se;
	long status;

	page_key(base, id->at, key);
	if ((page = cache_get(key, r->cfg->gateway_page_ttl, len)) != NULL)
		return page;
	http_cookies_reset();
	if ((sc = site_call_new(r->arena, r->cfg, base, id->at, id->team,
	    gw_idle, r)) == NULL)
		return NULL;
	if ((se = site_page_fetch(sc, &page, len, &status)) != SITE_OK) {
		log_info("gateway: %s: the live page failed: %s (%ld)", id->fp,
		    site_strerror(se), status);
		return NULL;
	}
	if (r->cfg->gateway_page_ttl > 0)
		cache_put(key, page, *len);
	return page;
}

/* The page filled in for this browser, its hosts and secrets ours. */
static enum app_err
serve_live(struct req *r, struct gw_ident *id, const char *page, size_t len)
{
	struct site_page_opts po;
	struct site_rw rw;
	struct buf filled, out, hdr;
	char nonce[33];
	size_t ntokens = 0;
	enum site_err se;
	enum app_err e;

	gw_nonce(nonce);
	memset(&po, 0, sizeof(po));
	po.token = id->login;
	po.locale = locale_of(r);
	po.email = id->kind == GW_SEED ? FAKE_EMAIL : NULL;
	po.nonce = nonce;
	buf_init(&filled, 0);
	buf_init(&out, 0);
	se = site_page_inject(&filled, page, len, &po, &ntokens);
	if (se != SITE_OK || ntokens == 0) {
		buf_free(&filled);
		log_info("gateway: %s: the live page is unusable: %s", id->fp,
		    se != SITE_OK ? site_strerror(se) : "no login context");
		return fallback(r, "ChatGPT's page came without a login; "
		    "this is chat2api's own chat page.");
	}
	site_rw_init(&rw, site_rw_to_buf, &out);
	if (gw_rewriter(r, id, &rw, NULL) < 0 ||
	    site_rw_feed(&rw, filled.p, filled.len) < 0 ||
	    site_rw_finish(&rw) < 0 || out.failed) {
		site_rw_free(&rw);
		buf_free(&filled);
		buf_free(&out);
		return APP_ENOMEM;
	}
	site_rw_free(&rw);
	buf_free(&filled);
	buf_init(&hdr, 0);
	buf_printf(&hdr, MIRROR_CSP, nonce);
	buf_adds(&hdr, "Cache-Control: no-store\r\n");
	e = hdr.failed ? APP_ENOMEM : gw_send(r, 200, "text/html; "
	    "charset=utf-8", hdr.p, out.p, out.len);
	buf_free(&hdr);
	buf_free(&out);
	return e;
}

enum app_err
gw_page(struct req *r)
{
	struct gw_ident id;
	const char *q = req_query_get(r, "token"), *token, *to;
	char *page, *dec;
	size_t len;
	ssize_t n;
	enum gw_err ge;
	enum app_err e;

	if (gw_websocket(r))
		return gw_detail(r, 426, "This gateway does not carry "
		    "WebSockets.");
	/* /?token=...: a login by link, then the same page without it. */
	if (q != NULL && *q) {
		if ((dec = arena_strdup(r->arena, q)) == NULL ||
		    (n = url_unarg(dec, dec, strlen(dec), 1)) < 0 ||
		    memchr(dec, '\0', (size_t)n) != NULL)
			return login_page(r, 400, gw_strerror(GW_BADTOKEN),
			    NULL);
		if ((ge = gw_resolve(r, dec, 1, &id)) != GW_OK)
			return login_page(r, gw_status_of(ge), gw_strerror(ge),
			    NULL);
		to = arena_printf(r->arena, "%s%s", r->cfg->mount, r->path);
		return logged_in(r, &id, to != NULL ? to : "/");
	}
	if ((token = gw_cookie(r, GW_COOKIE, GW_TOKEN_MAX)) == NULL) {
		to = arena_printf(r->arena, "%s/login", r->cfg->mount);
		return gw_redirect(r, 302, to != NULL ? to : "/login", NULL);
	}
	if ((ge = gw_resolve(r, token, 1, &id)) != GW_OK) {
		struct buf h;
		/* A login that no longer works is forgotten. */
		buf_init(&h, 0);
		if (ge != GW_REFRESH_FAIL && ge != GW_STORE &&
		    ge != GW_ENOMEM && ge != GW_NOPOOL)
			gw_set_cookie(r, &h, GW_COOKIE, NULL, 0, "Lax");
		e = login_page(r, gw_status_of(ge), gw_strerror(ge), h.p);
		buf_free(&h);
		return e;
	}
	if ((page = live_page(r, &id, gw_base(r), &len)) == NULL)
		return fallback(r, "ChatGPT's page could not be loaded; this "
		    "is chat2api's own chat page.");
	e = serve_live(r, &id, page, len);
	free(page);
	return e;
}

enum app_err
h_gw_home(struct req *r, const char *rest)
{
	(void)rest;
	return gw_page(r);
}
