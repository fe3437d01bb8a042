/*
 * The toolkit every provider's calls share (see call.h).  Failures are
 * mapped once here, so a 401 or a Cloudflare page reads the same to a
 * client whichever provider answered it, and the handlers' failover can
 * rely on the status: 401/403 say "this account", 429 "later", 5xx and
 * transport failures "try another".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "fcgi/log.h"
#include "fcgi/rand.h"
#include "upstream/call.h"

#define DETAIL_MAX	300

void
call_hdrs_init(struct call_hdrs *h, struct arena *a)
{
	h->arena = a;
	h->n = 0;
	h->v[0] = NULL;
}

void
call_hdr(struct call_hdrs *h, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = arena_vprintf(h->arena, fmt, ap);
	va_end(ap);
	if (s != NULL && h->n < CALL_MAX_HEADERS) {
		h->v[h->n++] = s;
		h->v[h->n] = NULL;
	}
}

const char **
call_hdrs_done(struct call_hdrs *h)
{
	const char **out;

	if ((out = arena_calloc(h->arena, h->n + 1, sizeof(*out))) == NULL)
		return NULL;
	memcpy(out, h->v, h->n * sizeof(*out));
	return out;
}

void
call_uuid4(char out[37])
{
	unsigned char b[16];

	rnd_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

char *
call_pct_encode(struct arena *a, const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out, *o;

	if ((out = arena_alloc(a, strlen(s) * 3 + 1)) == NULL)
		return NULL;
	for (o = out; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~' || strchr(keep, c) != NULL) {
			*o++ = (char)c;
			continue;
		}
		*o++ = '%';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	}
	*o = '\0';
	return out;
}

const char *
call_base(struct arena *a, const struct strlist *l)
{
	const char *b;
	size_t n;

	if (l->n == 0)
		return NULL;
	b = l->v[l->n > 1 ? rnd_below(l->n) : 0];
	n = strlen(b);
	while (n > 0 && b[n - 1] == '/')
		n--;
	return arena_strndup(a, b, n);
}

unsigned
call_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

const char *
call_proxy(struct arena *a, const struct strlist *l, const char *cred,
    int sticky)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	const char *p, *brace;
	char hex[33];

	if (l->n == 0)
		return NULL;
	p = l->v[sticky && cred != NULL ? call_hash(cred) % l->n :
	    rnd_below(l->n)];
	if ((brace = strstr(p, "{}")) == NULL)
		return p;
	EVP_Digest(cred ? cred : "", cred ? strlen(cred) : 0, md, &n,
	    EVP_md5(), NULL);
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return arena_printf(a, "%.*s%s%s", (int)(brace - p), p, hex,
	    brace + 2);
}

void
call_vfail(const struct chat_sink *k, int status, const char *type,
    const char *code, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	k->error(k->ctx, status, type, code, msg);
}

void
call_fail(const struct chat_sink *k, int status, const char *type,
    const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	call_vfail(k, status, type, code, fmt, ap);
	va_end(ap);
}

void
call_fail_net(const struct chat_sink *k, const char *provider,
    const char *what, enum up_err e)
{
	log_info("%s: %s failed: %s", provider, what, up_strerror(e));
	if (e == UP_TIMEOUT)
		call_fail(k, 504, "upstream_error", "upstream_timeout",
		    "The %s upstream did not answer in time (%s).", provider,
		    what);
	else
		call_fail(k, 502, "upstream_error", "upstream_unreachable",
		    "The %s upstream could not be reached (%s: %s).",
		    provider, what, up_strerror(e));
}

/* A challenge (cf_chl_opt) or one of Cloudflare's own error pages. */
int
call_is_cloudflare(const struct http_resp *r)
{
	return r->body != NULL && (strstr(r->body, "cf_chl_opt") != NULL ||
	    strstr(r->body, "challenge-platform") != NULL ||
	    strstr(r->body, "cf-error-details") != NULL ||
	    (strcasestr(r->body, "cloudflare") != NULL &&
	    strcasestr(r->body, "<html") != NULL));
}

long
call_retry_after(const struct http_resp *r)
{
	char *end;
	long v;

	if (r->retry_after == NULL)
		return -1;
	v = strtol(r->retry_after, &end, 10);
	return end != r->retry_after && v >= 0 && v < 86400 * 7 ? v : -1;
}

/* The body as one short line, for messages and logs. */
static void
one_line(const struct http_resp *r, const char *detail, char *out,
    size_t outsz)
{
	size_t i;

	snprintf(out, outsz, "%.*s", DETAIL_MAX, detail != NULL ? detail :
	    r->body != NULL ? r->body : "");
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
}

void
call_fail_http(const struct chat_sink *k, const char *provider,
    const char *what, const struct http_resp *r, const char *detail)
{
	char d[DETAIL_MAX + 1];
	long ra;
	int st = (int)r->status;

	one_line(r, detail, d, sizeof(d));
	log_info("%s: %s answered %d: %s", provider, what, st,
	    call_is_cloudflare(r) ? "(a Cloudflare page)" : d);
	if (call_is_cloudflare(r)) {
		call_fail(k, st == 503 ? 503 : 403, "upstream_error",
		    "cf_challenge", "The %s upstream answered with a "
		    "Cloudflare page; the server's IP needs a better "
		    "reputation or a proxy (PROXY_URL).", provider);
		return;
	}
	switch (st) {
	case 400:
		call_fail(k, 400, "invalid_request_error",
		    "upstream_bad_request", "The %s upstream rejected the "
		    "request: %s", provider, d);
		break;
	case 401:
		call_fail(k, 401, "invalid_request_error", "invalid_api_key",
		    "The %s upstream rejected the credential: %s", provider,
		    *d ? d : "Unauthorized");
		break;
	case 403:
		call_fail(k, 403, "upstream_error", "upstream_forbidden",
		    "The %s upstream refused the request: %s", provider,
		    *d ? d : "Forbidden");
		break;
	case 429:
		if ((ra = call_retry_after(r)) >= 0 && k->retry_after != NULL)
			k->retry_after(k->ctx, ra);
		call_fail(k, 429, "rate_limit_error", "rate_limit_exceeded",
		    "Rate limited by the %s upstream%s%s", provider,
		    *d ? ": " : ".", d);
		break;
	default:
		call_fail(k, 502, "upstream_error", "upstream_error",
		    "The %s upstream answered %d (%s): %s", provider, st,
		    what, d);
		break;
	}
}

long
call_ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)((t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000);
}
