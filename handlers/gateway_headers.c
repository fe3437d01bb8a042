/*
 * What passes the gateway (handlers/gateway.h): which browser headers go
 * upstream (§9.3 step 3: never a cookie, never our Authorization as is),
 * which upstream headers come back (step 10), and how a body passes by
 * its content type.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "handlers/gateway.h"

/*
 * Browser headers the site needs.  Identity headers (user-agent,
 * oai-device-id, authorization, origin, referer, accept-language) come
 * from the account's own fingerprint instead.
 */
static const char *const forwarded[] = {
	"accept",
	"content-type",
	"oai-echo-logs",
	"oai-language",
	"oai-client-version",
	"oai-client-build-number",
	"sec-fetch-dest",
	"sec-fetch-mode",
	"sec-fetch-site",
	"openai-sentinel-chat-requirements-token",
	"openai-sentinel-chat-requirements-prepare-token",
	"openai-sentinel-proof-token",
	"openai-sentinel-turnstile-token",
	"openai-sentinel-arkose-token",
	"openai-sentinel-so-token",
	"x-conduit-token",
	"x-openai-target-path",
	"x-openai-target-route",
};

/* Upstream headers that describe the body; everything else stays. */
static const char *const kept_text[] = {
	"cache-control", "content-type", "expires", "content-disposition",
};
/* A file as is may also keep what lets a browser cache and seek it. */
static const char *const kept_raw[] = {
	"etag", "last-modified", "accept-ranges", "content-range",
};

static int
in(const char *const *list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(list[i], name) == 0)
			return 1;
	return 0;
}

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

int
gw_hdr_forwarded(const char *name)
{
	return in(forwarded, NITEMS(forwarded), name);
}

int
gw_hdr_kept(const char *name, enum gw_body kind)
{
	if (in(kept_text, NITEMS(kept_text), name))
		return 1;
	return (kind == GW_BODY_MEDIA || kind == GW_BODY_BINARY) &&
	    in(kept_raw, NITEMS(kept_raw), name);
}

int
gw_hdr_value_ok(const char *v, size_t n)
{
	size_t i;

	if (n > GW_HEADER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
			return 0;
	return 1;
}

void
gw_hdr_put(struct call_hdrs *h, const char *line)
{
	const char *colon = strchr(line, ':');
	size_t n, i;

	if (colon == NULL)
		return;
	n = (size_t)(colon - line) + 1;
	for (i = 0; i < h->n; i++)
		if (strncasecmp(h->v[i], line, n) == 0) {
			h->v[i] = line;
			return;
		}
	if (h->n < CALL_MAX_HEADERS) {
		h->v[h->n++] = line;
		h->v[h->n] = NULL;
	}
}

void
gw_hdr_collect(struct req *r, struct call_hdrs *h, int without_sentinel)
{
	char param[96];
	const char *v, *line;
	size_t i, k;

	for (i = 0; i < NITEMS(forwarded); i++) {
		if (without_sentinel &&
		    strncmp(forwarded[i], "openai-sentinel-", 16) == 0)
			continue;
		/* accept-language -> HTTP_ACCEPT_LANGUAGE (CGI's naming) */
		k = (size_t)snprintf(param, sizeof(param), "HTTP_");
		for (v = forwarded[i]; *v && k + 1 < sizeof(param); v++)
			param[k++] = *v == '-' ? '_' :
			    (char)toupper((unsigned char)*v);
		param[k] = '\0';
		if (strcmp(forwarded[i], "content-type") == 0)
			v = r->content_type;
		else
			v = req_param(r, param);
		if (v == NULL || *v == '\0' || !gw_hdr_value_ok(v, strlen(v)))
			continue;
		if ((line = arena_printf(r->arena, "%s: %s", forwarded[i],
		    v)) != NULL)
			gw_hdr_put(h, line);
	}
}

static int
ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return strncasecmp(ct, want, n) == 0;
}

enum gw_body
gw_body_kind(const char *ct)
{
	if (ct == NULL || *ct == '\0')
		return GW_BODY_BINARY;
	/* text/event-stream and the like (§9.3 step 10: "stream") */
	if (strcasestr(ct, "stream") != NULL &&
	    !ctype_is(ct, "application/octet-stream"))
		return GW_BODY_SSE;
	if (ctype_is(ct, "image/") || ctype_is(ct, "audio/") ||
	    ctype_is(ct, "video/"))
		return GW_BODY_MEDIA;
	if (ctype_is(ct, "text/") || ctype_is(ct, "application/json") ||
	    ctype_is(ct, "application/javascript") ||
	    ctype_is(ct, "application/x-javascript") ||
	    ctype_is(ct, "application/ecmascript") ||
	    ctype_is(ct, "application/xml") ||
	    ctype_is(ct, "application/manifest+json") ||
	    strcasestr(ct, "+json") != NULL || strcasestr(ct, "+xml") != NULL)
		return GW_BODY_TEXT;
	return GW_BODY_BINARY;
}
