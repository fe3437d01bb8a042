/*
 * One request from parameters to finished response: URI validation,
 * prefixes, CORS preflight, routing, body limit, the handler, the request
 * log and counters (handlers/reqdone.c) and the access log.  Errors reach
 * the client exactly once, here.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/handle.h"
#include "fcgi/hex.h"
#include "fcgi/log.h"
#include "fcgi/resp.h"
#include "fcgi/router.h"
#include "handlers/reqdone.h"
#include "store/store.h"

#define URI_MAX		8192
#define BODY_DRAIN_MAX	(256LL << 20)

/*
 * Decodes %XX in the path and refuses what could escape a route: NULs,
 * control bytes and "." or ".." segments.
 */
static char *
decode_path(struct arena *a, const char *s, size_t len)
{
	char *out, *o, *seg;
	size_t i;
	int hi, lo;

	if (len == 0 || s[0] != '/' || (out = arena_alloc(a, len + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return NULL;
			if ((hi = hex_value(s[i + 1])) < 0 ||
			    (lo = hex_value(s[i + 2])) < 0)
				return NULL;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return NULL;
		*o++ = (char)c;
	}
	*o = '\0';
	for (seg = out; seg != NULL; seg = strchr(seg + 1, '/')) {
		if (strncmp(seg, "/.", 2) == 0 &&
		    (seg[2] == '/' || seg[2] == '\0' ||
		    (seg[2] == '.' && (seg[3] == '/' || seg[3] == '\0'))))
			return NULL;
	}
	return out;
}

/*
 * A CGI server still writing the body into our stdin aborts the whole
 * exchange if we exit first, so a refused body is read and dropped.
 */
static void
drain_body(struct req *r, long long want)
{
	char sink[16384];
	long n;

	while (want > 0 && (n = r->io->read(r, sink, sizeof(sink))) > 0)
		want -= n;
}

static enum app_err
read_body(struct req *r)
{
	const char *cl = req_param(r, "CONTENT_LENGTH");
	long long want = -1;
	size_t cap, got = 0;
	long n;
	char *end;

	if (cl != NULL && *cl != '\0') {
		errno = 0;
		want = strtoll(cl, &end, 10);
		if (errno || *end != '\0' || want < 0)
			return APP_BADREQ;
		if (want > r->cfg->max_body) {
			drain_body(r, want < BODY_DRAIN_MAX ? want :
			    BODY_DRAIN_MAX);
			return APP_TOOBIG;
		}
	}
	/* Without a length (chunked, unbuffered), read up to the limit. */
	cap = want >= 0 ? (size_t)want : 64 * 1024;
	if ((r->body = malloc(cap + 1)) == NULL)
		return APP_ENOMEM;
	for (;;) {
		if (got == cap) {
			char *nb;
			if (want >= 0)
				break;
			if (cap >= (size_t)r->cfg->max_body + 1) {
				free(r->body);
				r->body = NULL;
				return APP_TOOBIG;
			}
			cap *= 2;
			if (cap > (size_t)r->cfg->max_body + 1)
				cap = (size_t)r->cfg->max_body + 1;
			if ((nb = realloc(r->body, cap + 1)) == NULL)
				return APP_ENOMEM;
			r->body = nb;
		}
		n = r->io->read(r, r->body + got, cap - got);
		if (n < 0)
			return APP_HUP;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (want >= 0 && got < (size_t)want) {
		log_warn("short request body: %zu of %lld bytes", got, want);
		return APP_BADREQ;
	}
	if (got > (size_t)r->cfg->max_body)
		return APP_TOOBIG;
	r->body[got] = '\0';
	r->body_len = got;
	return APP_OK;
}

static void
access_log(struct req *r, const char *uri)
{
	char fp[LOG_FP_LEN];

	log_fingerprint(r->auth, fp);
	log_info("%s %s %d %lldms auth=%s%s", r->method, uri, r->status,
	    req_elapsed_ms(r), fp, r->hup ? " (client gone)" : "");
}

/* An open stream, counted for /stats and /metrics across processes. */
static void
stream_opened(struct req *r)
{
	if (r->store != NULL)
		store_streams_add(r->store, 1);
}

/*
 * 405 with the methods the path takes.  Its buffers live here, not in
 * fcgi_handle(), whose frame a parked stream keeps (BENCHMARKS.md §20).
 */
static enum app_err __attribute__((noinline))
method_not_allowed(struct req *r)
{
	const struct route *rt = NULL;
	const char *rest = "";
	char allow[128], allow_hdr[160], *p;

	(void)router_match(handler_routes, handler_nroutes, r->cfg, r->method,
	    r->path, &rt, &rest, allow, sizeof(allow));
	for (p = allow; *p; p++)
		if (*p == ' ')
			*p = ',';
	snprintf(allow_hdr, sizeof(allow_hdr), "Allow: %s, OPTIONS\r\n",
	    allow);
	return resp_error_hdr(r, 405, allow_hdr, "invalid_request_error",
	    "method_not_allowed", NULL, "Method %s not allowed for %s.",
	    r->method, r->path);
}

void
fcgi_handle(struct req *r)
{
	const struct route *rt = NULL;
	const char *uri, *q, *rest = "", *auth;
	size_t ulen, mlen;
	enum app_err e = APP_OK;
	enum route_match m;
	int count = 0;

	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->obs.ttfc_ms = -1;
	r->stream_opened = stream_opened;
	r->obs.pow_ms = -1;
	r->last_write_ms = req_now_ms();
	r->method = req_param(r, "REQUEST_METHOD");
	if (r->method == NULL || *r->method == '\0')
		r->method = "GET";
	uri = req_param(r, "REQUEST_URI");
	if (uri == NULL || *uri == '\0') {
		/* CGI servers without REQUEST_URI: rebuild it. */
		const char *sn = req_param(r, "SCRIPT_NAME"),
		    *pi = req_param(r, "PATH_INFO");
		uri = arena_printf(r->arena, "%s%s", pi ? "" : (sn ? sn : ""),
		    pi ? pi : "");
		q = req_param(r, "QUERY_STRING");
		if (uri != NULL && q != NULL && *q)
			uri = arena_printf(r->arena, "%s?%s", uri, q);
		if (uri == NULL || *uri == '\0')
			uri = "/";
	}
	auth = req_param(r, "HTTP_AUTHORIZATION");
	if (auth == NULL || *auth == '\0')
		auth = req_param(r, "REDIRECT_HTTP_AUTHORIZATION");
	r->auth = auth != NULL && *auth != '\0' ? auth : NULL;
	r->content_type = req_param(r, "CONTENT_TYPE");
	if (r->content_type != NULL && *r->content_type == '\0')
		r->content_type = NULL;

	ulen = strlen(uri);
	if (ulen > URI_MAX) {
		e = APP_BADREQ;
		goto fail;
	}
	q = memchr(uri, '?', ulen);
	r->query = q != NULL ? q + 1 : "";
	r->path = decode_path(r->arena, uri, q != NULL ? (size_t)(q - uri) :
	    ulen);
	if (r->path == NULL) {
		e = resp_error(r, 400, "invalid_request_error", "invalid_path",
		    NULL, "Malformed request path.");
		goto done;
	}
	mlen = strlen(r->cfg->mount);
	if (mlen && strncmp(r->path, r->cfg->mount, mlen) == 0 &&
	    (r->path[mlen] == '/' || r->path[mlen] == '\0'))
		r->path = r->path[mlen] ? r->path + mlen : "/";

	if (strcmp(r->method, "OPTIONS") == 0) {
		e = resp_no_content(r);
		goto done;
	}
	m = router_match(handler_routes, handler_nroutes, r->cfg, r->method,
	    r->path, &rt, &rest, NULL, 0);
	if (m == ROUTE_NOPATH) {
		e = resp_error(r, 404, "invalid_request_error", "not_found",
		    NULL, "Unknown request URL: %s %s.", r->method, r->path);
		goto done;
	}
	if (m == ROUTE_NOMETHOD) {
		e = method_not_allowed(r);
		goto done;
	}
	/* Redis down: say so at once rather than fail half-way. */
	if (r->store != NULL && !store_available(r->store)) {
		e = resp_store_unavailable(r);
		goto done;
	}
	count = (rt->flags & ROUTE_COUNT) != 0;
	if ((rt->flags & ROUTE_BODY) && (e = read_body(r)) != APP_OK)
		goto fail;
	if (count)
		reqdone_capture(r);
	e = rt->fn(r, rest);
	if (e == APP_OK || e == APP_HUP)
		goto done;
fail:
	/* a store error while Redis is gone is its outage, not our bug */
	if (!r->headers_sent && e == APP_STORE && r->store != NULL &&
	    !store_available(r->store))
		resp_store_unavailable(r);
	else if (!r->headers_sent)
		resp_app_error(r, e);
	else if (e != APP_HUP)
		resp_sse_error(r, "server_error", "internal_error",
		    app_strerror(e));
done:
	if (r->hup && r->status < 400)
		r->status = 499;
	if (r->obs.sse_open && r->store != NULL && r->stream_opened != NULL)
		store_streams_add(r->store, -1);
	/* the log, statistics and account outcome: one store write */
	reqdone_finish(r, rt != NULL ? rt->path : "-", count);
	access_log(r, r->path ? r->path : uri);
	free(r->body);
	r->body = NULL;
}
