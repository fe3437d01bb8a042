/*
 * GET HOST/ for the build id ("dpl") and a script URL, both inputs of the
 * PoW config (§1 row 1, §3.1).  Cached process-wide for 15 minutes; a
 * failed fetch is cached too, so an unreachable page costs one try per
 * period, not one per request.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "upstream/chatgpt/internal.h"

#define PAGE_TTL	(15 * 60)

static pthread_mutex_t	 page_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cg_page	 cached;
static time_t		 cached_at;
static char		 cached_host[256];

/* Copies the value of attr="..." found after p, or returns NULL. */
static const char *
attr_value(const char *p, const char *attr, char *out, size_t outsz)
{
	const char *v, *end;

	if ((v = strstr(p, attr)) == NULL)
		return NULL;
	v += strlen(attr);
	if ((end = strchr(v, '"')) == NULL || (size_t)(end - v) >= outsz)
		return NULL;
	memcpy(out, v, (size_t)(end - v));
	out[end - v] = '\0';
	return end;
}

static void
parse_page(const char *html, const char *host, struct cg_page *pg)
{
	char src[512];
	const char *p = html, *c, *u;

	memset(pg, 0, sizeof(*pg));
	while ((p = strstr(p, "<script")) != NULL) {
		const char *close = strchr(p, '>');
		p += 7;
		if (close == NULL)
			break;
		if ((c = strstr(p, "src=\"")) == NULL || c > close)
			continue;
		if (attr_value(c, "src=\"", src, sizeof(src)) == NULL)
			continue;
		if (pg->script[0] == '\0') {
			if (src[0] == '/')
				snprintf(pg->script, sizeof(pg->script), "%s%s",
				    host, src);
			else
				snprintf(pg->script, sizeof(pg->script), "%s",
				    src);
		}
		/* dpl: the first "c/<segment>/_" in a script URL */
		if (!pg->have_dpl && (u = strstr(src, "c/")) != NULL) {
			const char *seg = u + 2, *slash = strchr(seg, '/');
			if (slash && slash > seg && slash[1] == '_' &&
			    (size_t)(slash + 2 - u) < sizeof(pg->dpl)) {
				memcpy(pg->dpl, u, (size_t)(slash + 2 - u));
				pg->dpl[slash + 2 - u] = '\0';
				pg->have_dpl = 1;
			}
		}
	}
	if (!pg->have_dpl && attr_value(html, "data-build=\"", pg->dpl,
	    sizeof(pg->dpl)) != NULL)
		pg->have_dpl = 1;
	if (pg->script[0] == '\0')
		snprintf(pg->script, sizeof(pg->script),
		    "https://chatgpt.com/backend-api/sentinel/sdk.js");
}

void
cg_page_get(struct cg_call *c, struct cg_page *out)
{
	struct http_req req;
	struct http_resp resp;
	const char *hdrs[CG_MAX_HEADERS + 1];
	time_t now = time(NULL);
	enum up_err e;
	size_t i, n = 0;

	pthread_mutex_lock(&page_mu);
	if (cached_at && now - cached_at < PAGE_TTL &&
	    strcmp(cached_host, c->host) == 0) {
		*out = cached;
		pthread_mutex_unlock(&page_mu);
		return;
	}
	pthread_mutex_unlock(&page_mu);

	/* The page is fetched without credentials. */
	for (i = 0; i < c->nhdrs && n < CG_MAX_HEADERS; i++)
		if (strncmp(c->hdrs[i], "authorization:", 14) != 0 &&
		    strncmp(c->hdrs[i], "chatgpt-account-id:", 19) != 0)
			hdrs[n++] = c->hdrs[i];
	hdrs[n] = NULL;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = arena_printf(c->arena, "%s/", c->host);
	req.headers = hdrs;
	req.proxy = c->proxy;
	req.total_timeout_ms = 5000;
	req.max_body = 2u << 20;
	req.idle = c->pc->idle;
	req.idle_ctx = c->pc->idle_ctx;
	e = http_do(&req, &resp);
	if (e == UP_OK)
		parse_page(resp.body, c->host, out);
	else {
		log_info("chatgpt: page fetch failed: %s (status %ld)",
		    up_strerror(e), resp.status);
		parse_page("", c->host, out);
	}
	http_resp_free(&resp);
	if (e == UP_ABORTED)
		return;
	pthread_mutex_lock(&page_mu);
	cached = *out;
	cached_at = now;
	snprintf(cached_host, sizeof(cached_host), "%s", c->host);
	pthread_mutex_unlock(&page_mu);
}
