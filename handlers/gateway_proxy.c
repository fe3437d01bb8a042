/*
 * The gateway's reverse proxy (chatgpt.md §9.3).  The request goes out
 * with the account's own fingerprint, the real access token and only the
 * browser headers of the allow-list; the response comes back as it
 * arrives:
 *
 *   3xx			307 with the Location rewritten
 *   event streams		rewritten and flushed as they come; a seed's
 *				conversation id and title captured
 *   images, audio, video,	passed as is, with the headers that
 *   other binaries		describe them, never held in memory
 *   text			rewritten as it streams (hosts, the real
 *				token), only the allowed headers kept
 *   bodies to edit		(accounts check, statsig) held, at most
 *				GW_EDIT_MAX, changed, then rewritten
 *
 * Memory stays constant whatever the size of a body: curl's buffer, the
 * rewriter's window, the front server's record.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/resp.h"
#include "handlers/gateway.h"
#include "upstream/http.h"

#define PX_CTYPE_MAX	256
#define PX_KEEP_MAX	(16u << 10)	/* kept response header bytes */
#define PX_IDLE_S	120		/* a model may think this long */
#define PX_BUFFER	(64L << 10)	/* curl's receive buffer */
#define PX_FAKE_EMAIL	"chatgpt@openai.com"
/* Pages that are not ours (upstream HTML) may load only from here. */
#define PX_HTML_CSP	"Content-Security-Policy: default-src 'self'; " \
	"img-src 'self' data: blob:; media-src 'self' blob:; " \
	"style-src 'self' 'unsafe-inline'; font-src 'self' data:; " \
	"object-src 'none'; base-uri 'self'; frame-ancestors 'self'\r\n"

struct px {
	struct req		*r;
	struct gw_ident		*id;
	const struct gw_px_opts	*o;
	long			 status;
	char			 ctype[PX_CTYPE_MAX];
	char			 location[GW_LOCATION_MAX];
	char			 clen[24];
	int			 encoded;	/* curl decodes it */
	struct buf		 keep;		/* candidate header lines */
	enum gw_body		 kind;
	int			 head_done, redirected, editing, rewriting;
	struct site_rw		 rw;
	struct site_cap		 cap;
	int			 capturing, touched;
	struct buf		 edit;
	enum app_err		 werr;
};

static int
px_out(void *arg, const char *p, size_t n)
{
	struct px *x = arg;

	if (x->werr == APP_OK)
		x->werr = resp_write(x->r, p, n);
	return x->werr != APP_OK;
}

int
gw_rewriter(struct req *r, struct gw_ident *id, struct site_rw *rw,
    const struct site_target *t)
{
	const struct strlist *bases = &r->cfg->chatgpt_base_url;
	struct site_hosts h;
	const char *b;
	size_t i, n;
	int rc = 0;

	memset(&h, 0, sizeof(h));
	h.origin = gw_origin(r);
	h.host = gw_host(r);
	h.file_host = r->cfg->file_host;
	h.voice_host = r->cfg->voice_host;
	h.public_api = t != NULL && strncmp(t->path, "/public-api/", 12) == 0;
	h.sandbox = t != NULL && t->kind == SITE_SANDBOX;
	if (h.origin == NULL || h.host == NULL)
		return -1;
	rc |= site_rw_hosts(rw, r->arena, &h);
	/* Every configured base is the site (a mock, a private gateway). */
	for (i = 0; i < bases->n && i < 4; i++) {
		b = bases->v[i];
		for (n = strlen(b); n > 0 && b[n - 1] == '/'; n--)
			;
		if (n > 0 && strncmp(b, "https://chatgpt.com", n) != 0 &&
		    (b = arena_strndup(r->arena, b, n)) != NULL)
			rc |= site_rw_add(rw, b, h.origin);
	}
	/* The real token never reaches the browser, nor a seed its owner. */
	if (id != NULL && id->at != NULL && id->login != NULL &&
	    strcmp(id->at, id->login) != 0)
		rc |= site_rw_add(rw, id->at, id->login);
	if (id != NULL && id->kind == GW_SEED && id->email != NULL)
		rc |= site_rw_add(rw, id->email, PX_FAKE_EMAIL);
	return rc ? -1 : 0;
}

/* ------------------------------------------------------------ head */

static void
px_reset_head(struct px *x)
{
	x->ctype[0] = x->location[0] = x->clen[0] = '\0';
	x->encoded = 0;
	buf_reset(&x->keep);
}

/* One "Name: value" line of the upstream's head. */
static void
px_header(struct px *x, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len), *v;
	char name[64];
	size_t nlen, vlen;

	if (colon == NULL || (nlen = (size_t)(colon - line)) >= sizeof(name))
		return;
	memcpy(name, line, nlen);
	name[nlen] = '\0';
	for (v = colon + 1; v < line + len && (*v == ' ' || *v == '\t'); v++)
		;
	vlen = (size_t)(line + len - v);
	if (!gw_hdr_value_ok(v, vlen))
		return;
	if (strcasecmp(name, "content-type") == 0 && vlen < sizeof(x->ctype)) {
		memcpy(x->ctype, v, vlen);
		x->ctype[vlen] = '\0';
	} else if (strcasecmp(name, "location") == 0 &&
	    vlen < sizeof(x->location)) {
		memcpy(x->location, v, vlen);
		x->location[vlen] = '\0';
	} else if (strcasecmp(name, "content-length") == 0 &&
	    vlen < sizeof(x->clen)) {
		memcpy(x->clen, v, vlen);
		x->clen[vlen] = '\0';
	} else if (strcasecmp(name, "content-encoding") == 0 &&
	    strncasecmp(v, "identity", vlen) != 0)
		x->encoded = 1;
	else if (gw_hdr_kept(name, GW_BODY_BINARY) &&
	    x->keep.len + len + 2 < PX_KEEP_MAX) {
		buf_add(&x->keep, line, len);
		buf_adds(&x->keep, "\r\n");
	}
}

/* The kept lines of the upstream's head that suit kind. */
static void
px_kept(struct px *x, struct buf *h)
{
	const char *p = x->keep.p, *eol, *colon;
	char name[64];
	size_t n;

	while (p != NULL && *p) {
		if ((eol = strstr(p, "\r\n")) == NULL)
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		n = colon != NULL ? (size_t)(colon - p) : 0;
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			/* A stream is never cached, whatever it says. */
			if (gw_hdr_kept(name, x->kind) &&
			    (x->kind != GW_BODY_SSE ||
			    strcasecmp(name, "cache-control") != 0))
				buf_add(h, p, (size_t)(eol + 2 - p));
		}
		p = eol + 2;
	}
}

static void
px_redirect(struct px *x)
{
	struct buf loc;
	struct site_rw rw;

	buf_init(&loc, GW_LOCATION_MAX * 2);
	site_rw_init(&rw, site_rw_to_buf, &loc);
	if (gw_rewriter(x->r, x->id, &rw, x->o->t) < 0 ||
	    site_rw_feed(&rw, x->location, strlen(x->location)) < 0 ||
	    site_rw_finish(&rw) < 0 || loc.failed)
		x->werr = APP_ENOMEM;
	else
		x->werr = gw_redirect(x->r, 307, loc.p, NULL);
	site_rw_free(&rw);
	buf_free(&loc);
	x->redirected = 1;
}

/* The upstream's head is complete: ours goes out (or waits, to edit). */
static void
px_head(struct px *x)
{
	struct buf h;
	long st = x->status ? x->status : 502;

	x->head_done = 1;
	if (st >= 300 && st < 400 && x->location[0]) {
		px_redirect(x);
		return;
	}
	x->kind = gw_body_kind(x->ctype);
	if (x->o->edit != NULL && st >= 200 && st < 300 &&
	    x->kind == GW_BODY_TEXT) {
		x->editing = 1;
		buf_init(&x->edit, GW_EDIT_MAX);
		return;
	}
	buf_init(&h, 0);
	px_kept(x, &h);
	if (x->kind == GW_BODY_SSE)
		buf_adds(&h, "Cache-Control: no-cache\r\n"
		    "X-Accel-Buffering: no\r\n");
	if ((x->kind == GW_BODY_MEDIA || x->kind == GW_BODY_BINARY) &&
	    !x->encoded && x->clen[0] && !x->o->head_only)
		buf_printf(&h, "Content-Length: %s\r\n", x->clen);
	if (strncasecmp(x->ctype, "text/html", 9) == 0)
		buf_adds(&h, PX_HTML_CSP);
	if (x->o->resp_extra != NULL)
		buf_adds(&h, x->o->resp_extra);
	x->werr = h.failed ? APP_ENOMEM : gw_head(x->r, (int)st,
	    x->ctype[0] ? x->ctype : NULL, h.p);
	buf_free(&h);
	/* The browser learns at once that the answer started. */
	if (x->werr == APP_OK)
		x->werr = resp_flush(x->r);
	if (x->kind == GW_BODY_TEXT || x->kind == GW_BODY_SSE) {
		x->rewriting = 1;
		site_rw_init(&x->rw, px_out, x);
		if (gw_rewriter(x->r, x->id, &x->rw, x->o->t) < 0)
			x->werr = APP_ENOMEM;
	}
	if (x->kind == GW_BODY_SSE && x->o->seed != NULL && st >= 200 &&
	    st < 300) {
		x->capturing = 1;
		site_cap_init(&x->cap);
	}
}

static int
on_header(void *arg, const char *line, size_t len)
{
	struct px *x = arg;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		const char *sp = memchr(line, ' ', len);
		px_reset_head(x);
		x->status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
		return 0;
	}
	if (len > 0) {
		px_header(x, line, len);
		return 0;
	}
	/* The blank line: an interim 1xx head is followed by the real one. */
	if (x->status >= 100 && x->status < 200)
		return 0;
	px_head(x);
	return x->werr != APP_OK;
}

/* ------------------------------------------------------------ body */

/* The seed owns the conversation as soon as the stream names it. */
static void
px_capture(struct px *x, const char *p, size_t n)
{
	site_cap_feed(&x->cap, p, n);
	if (x->cap.have_id && !x->touched) {
		x->touched = 1;
		if (seed_conv_touch(x->r->store, x->o->seed, x->cap.conv_id,
		    NULL) != SEED_OK)
			log_warn("gateway: seed %s: conversation not listed",
			    x->id->fp);
	}
}

static int
on_data(void *arg, const char *p, size_t n)
{
	struct px *x = arg;

	if (!x->head_done)
		px_head(x);
	if (x->redirected || x->o->head_only || x->werr != APP_OK)
		return 1;
	if (x->editing)
		return buf_add(&x->edit, p, n) < 0;
	if (!x->rewriting)
		return resp_write(x->r, p, n) != APP_OK;
	if (x->capturing)
		px_capture(x, p, n);
	if (site_rw_feed(&x->rw, p, n) < 0)
		return 1;
	/* An event goes to the browser the moment it arrives. */
	if (x->kind == GW_BODY_SSE && x->werr == APP_OK)
		x->werr = resp_flush(x->r);
	return x->werr != APP_OK;
}

/* The held body, changed by o->edit, then out like any text. */
static void
px_edited(struct px *x)
{
	struct json_object *o = NULL;
	const char *s = x->edit.p ? x->edit.p : "";
	size_t len = x->edit.len;

	x->editing = 0;
	if (len > 0 && (o = json_tokener_parse(s)) != NULL &&
	    x->o->edit(x->r, x->id, o) == 0)
		s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	x->kind = GW_BODY_TEXT;
	x->werr = gw_head(x->r, (int)x->status, x->ctype, "Cache-Control: "
	    "no-store\r\n");
	x->rewriting = 1;
	site_rw_init(&x->rw, px_out, x);
	if (x->werr == APP_OK && (gw_rewriter(x->r, x->id, &x->rw,
	    x->o->t) < 0 || site_rw_feed(&x->rw, s, len) < 0) &&
	    x->werr == APP_OK)
		x->werr = APP_ENOMEM;
	json_object_put(o);
}

static int
query_ok(const char *q)
{
	for (; *q; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '#')
			return 0;
	return 1;
}

/* The request's headers: the account's, the browser's allowed, extra. */
static const char **
px_headers(struct px *x, struct site_call *sc, int has_body)
{
	struct call_hdrs h;
	const char **p;

	call_hdrs_init(&h, x->r->arena);
	for (p = site_call_headers(sc); p != NULL && *p != NULL; p++)
		if (has_body || strncasecmp(*p, "content-type:", 13) != 0)
			gw_hdr_put(&h, *p);
	gw_hdr_collect(x->r, &h, x->o->own_sentinel);
	for (p = x->o->extra; p != NULL && *p != NULL; p++)
		gw_hdr_put(&h, *p);
	return call_hdrs_done(&h);
}

enum app_err
gw_proxy(struct req *r, struct gw_ident *id, const struct gw_px_opts *o,
    long *status)
{
	const struct site_target *t = o->t;
	struct site_call *sc;
	struct http_req req;
	struct http_resp resp;
	struct px x;
	const char *path, *token;
	int body;
	enum up_err e;

	*status = 0;
	if (!query_ok(r->query))
		return gw_detail(r, 400, "Malformed query string.");
	memset(&x, 0, sizeof(x));
	x.r = r;
	x.id = id;
	x.o = o;
	buf_init(&x.keep, PX_KEEP_MAX);
	/* Static files and the logged-out API carry no credential. */
	token = t->kind == SITE_ASSET || strncmp(t->path, "/backend-anon/",
	    14) == 0 ? NULL : id->at;
	sc = o->sc != NULL ? o->sc : site_call_new(r->arena, r->cfg, gw_base(r),
	    token, id->team, gw_idle, r);
	/* r->path is decoded: encoded again for the upstream's URL. */
	path = call_pct_encode(r->arena, t->path, "!$&'()*+,;=:@/");
	body = strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
	memset(&req, 0, sizeof(req));
	req.method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	req.url = path == NULL ? NULL : arena_printf(r->arena, "%s%s%s%s",
	    t->base, path, *r->query ? "?" : "", r->query);
	if (sc == NULL || req.url == NULL ||
	    (req.headers = px_headers(&x, sc, body)) == NULL) {
		buf_free(&x.keep);
		return APP_ENOMEM;
	}
	if (body) {
		req.body = o->body != NULL ? o->body : r->body;
		req.body_len = o->body != NULL ? o->body_len : r->body_len;
	}
	req.proxy = site_call_proxy(sc);
	req.connect_timeout_ms = 10000;
	req.idle_timeout_s = PX_IDLE_S;
	/* Files pass in fewer, larger pieces; streams come as they come. */
	req.buffer_size = PX_BUFFER;
	req.on_data = on_data;
	req.data_ctx = &x;
	req.data_any_status = 1;
	req.on_header = on_header;
	req.header_ctx = &x;
	req.idle = gw_idle;
	req.idle_ctx = r;
	e = http_do(&req, &resp);
	*status = x.status;
	/* A body to edit must come whole (and small), or not at all. */
	if (x.editing && (x.edit.failed || (e != UP_OK && e != UP_HTTP))) {
		x.editing = 0;
		if (!r->hup && !r->headers_sent)
			x.werr = gw_detail(r, 502, "The upstream's answer "
			    "could not be passed on.");
	} else if (x.editing)
		px_edited(&x);
	if (x.rewriting && site_rw_finish(&x.rw) < 0 && x.werr == APP_OK)
		x.werr = APP_ENOMEM;
	if (x.capturing) {
		site_cap_finish(&x.cap);
		if (x.cap.have_id && (x.cap.have_title || !x.touched) &&
		    seed_conv_touch(r->store, o->seed, x.cap.conv_id,
		    x.cap.have_title ? x.cap.title : NULL) != SEED_OK)
			log_warn("gateway: seed %s: conversation not listed",
			    id->fp);
		site_cap_free(&x.cap);
	}
	if (x.rewriting)
		site_rw_free(&x.rw);
	buf_free(&x.edit);
	buf_free(&x.keep);
	http_resp_free(&resp);
	if (r->hup)
		return APP_HUP;
	if (x.werr != APP_OK)
		return x.werr;
	switch (e) {
	case UP_OK:
	case UP_HTTP:
		break;
	case UP_ABORTED:
		if (x.redirected || o->head_only)
			break;
		return r->hup ? APP_HUP : APP_OK;
	case UP_TIMEOUT:
		log_info("gateway: %s %s: upstream timed out", r->method,
		    r->path);
		if (!r->headers_sent)
			return gw_detail(r, 504, "The upstream did not answer "
			    "in time.");
		return APP_OK;
	default:
		log_info("gateway: %s %s: %s", r->method, r->path,
		    up_strerror(e));
		if (!r->headers_sent)
			return gw_detail(r, 502, "The upstream could not be "
			    "reached.");
		return APP_OK;	/* cut short: the browser sees it end */
	}
	if (!r->headers_sent)
		px_head(&x);
	return r->headers_sent ? resp_flush(r) : x.werr;
}
