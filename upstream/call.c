/*
 * The toolkit every provider's calls share (see call.h).  Failures are
 * mapped once here, so a 401 or a Cloudflare page reads the same to a
 * client whichever provider answered it, and the handlers' failover can
 * rely on the status: 401/403 say "this account", 429 "later", 5xx and
 * transport failures "try another".  The plumbing of a streamed answer
 * and of the clean-up after it is here too, for the same reason.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "fcgi/b64.h"
#include "fcgi/coro.h"
#include "fcgi/log.h"
#include "fcgi/rand.h"
#include "store/tokcache.h"
#include "upstream/call.h"

#define DETAIL_MAX	300
#define JWT_DEPTH	16

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
	size_t n = strlen(s);
	char *out, *o;

	if (n > ((size_t)-1 - 1) / 3 || (out = arena_alloc(a, 3 * n + 1)) ==
	    NULL)
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

int
call_own_credential(struct arena *a, const char *bearer,
    int (*ok)(const char *, size_t), struct provider_account *out)
{
	const char *p, *comma, *s;
	size_t n = 1, pick, i;

	for (p = bearer; *p; p++)
		n += *p == ',';
	pick = n > 1 ? (size_t)rnd_below(n) : 0;
	for (p = bearer, i = 0; i < pick; i++)
		p = strchr(p, ',') + 1;
	comma = strchr(p, ',');
	n = comma != NULL ? (size_t)(comma - p) : strlen(p);
	if (!ok(p, n) || (s = arena_strndup(a, p, n)) == NULL)
		return 0;
	memset(out, 0, sizeof(*out));
	out->secret = s;
	return 1;
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
call_fail_nomem(const struct chat_sink *k)
{
	if (k != NULL)
		call_fail(k, 503, "server_error", "overloaded",
		    "Out of memory.");
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

void
call_fail_answer(const struct chat_sink *k, const char *provider,
    const char *display, const char *what, enum up_err e,
    const struct http_resp *r, long code, char *msg, size_t msgsz)
{
	if (e == UP_HTTP && r->status >= 400) {
		if (k != NULL)
			call_fail_http(k, provider, what, r, msg[0] ? msg :
			    NULL);
		if (msg[0] == '\0')
			snprintf(msg, msgsz, "HTTP %ld", r->status);
	} else if (e != UP_OK && e != UP_HTTP) {
		snprintf(msg, msgsz, "%s", up_strerror(e));
		if (k != NULL)
			call_fail_net(k, provider, what, e);
	} else {
		if (msg[0] == '\0')
			snprintf(msg, msgsz, "an answer without the expected "
			    "data");
		if (k != NULL)
			call_fail(k, 502, "upstream_error", "upstream_error",
			    "%s %s failed (code %ld): %s", display, what, code,
			    msg);
	}
}

void
call_purge_fail(struct provider_purge *out, const char *provider,
    const struct provider_account *a, long status, int login,
    const char *msg)
{
	char fp[LOG_FP_LEN];

	out->status = status;
	out->login = login;
	out->err = status == 0 ? UP_NETWORK : status < 200 || status >= 300 ?
	    UP_HTTP : UP_PROTO;
	snprintf(out->message, sizeof(out->message), "%s", msg != NULL &&
	    *msg != '\0' ? msg : up_strerror(out->err));
	log_fingerprint(a != NULL && a->secret != NULL ? a->secret : "", fp);
	log_info("%s: chats of account %s not deleted: %s (HTTP %ld)",
	    provider, fp, out->message, status);
}

int
call_purge_done(struct provider_purge *out, const char *provider,
    const struct provider_account *a, long deleted)
{
	char fp[LOG_FP_LEN];

	out->err = UP_OK;
	out->deleted = deleted;
	log_fingerprint(a->secret, fp);
	if (deleted >= 0)
		log_info("%s: %ld chats of account %s deleted", provider,
		    deleted, fp);
	else
		log_info("%s: every chat of account %s deleted", provider, fp);
	return 0;
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

/*
 * Per request: the coroutine's (a request may park and continue on
 * another thread), the thread's outside one.
 */
struct pow_acc {
	long	ms;
	int	n;
};

static void
pow_dtor_init(void)
{
	coro_local_dtor(CORO_SLOT_POW, free);
}

static __thread struct pow_acc	pow_thread;

static struct pow_acc *
pow_acc(void)
{
	void **slot = coro_local(CORO_SLOT_POW);

	if (slot == NULL)
		return &pow_thread;
	if (*slot == NULL) {
		static pthread_once_t once = PTHREAD_ONCE_INIT;
		pthread_once(&once, pow_dtor_init);
		*slot = calloc(1, sizeof(struct pow_acc));
	}
	return *slot != NULL ? *slot : &pow_thread;
}

void
call_pow_add(long ms)
{
	struct pow_acc *p = pow_acc();

	p->ms += ms > 0 ? ms : 0;
	p->n++;
}

long
call_pow_take(int *solves)
{
	struct pow_acc *p = pow_acc();
	long ms = p->ms;

	*solves = p->n;
	p->ms = 0;
	p->n = 0;
	return ms;
}

int
call_defer(const struct provider_call *pc, void (*fn)(void *),
    const void *state, size_t size)
{
	void *copy;

	if (pc->after == NULL || (copy = arena_alloc(pc->arena, size)) ==
	    NULL)
		return -1;
	memcpy(copy, state, size);
	pc->after->fn = fn;
	pc->after->ctx = copy;
	return 0;
}

void
call_stream_init(struct call_stream *cs, const struct http_resp *resp,
    const struct chat_sink *sink, sse_event_fn on_event, int (*done)(void *),
    void *ctx, size_t body_max)
{
	memset(cs, 0, sizeof(*cs));
	cs->resp = resp;
	cs->sink = sink;
	cs->done = done;
	cs->ctx = ctx;
	sse_init(&cs->sse, on_event, ctx, 0);
	buf_init(&cs->body, body_max);
}

int
call_stream_data(void *u, const char *p, size_t n)
{
	struct call_stream *cs = u;
	const char *ct = cs->resp->content_type;

	if (cs->not_sse || (ct != NULL && strstr(ct, "event-stream") == NULL)) {
		cs->not_sse = 1;
		return buf_add(&cs->body, p, n) < 0;
	}
	if (cs->done != NULL && cs->done(cs->ctx))
		return 1;
	if (sse_feed(&cs->sse, p, n) != SSE_OK) {
		/* the decoder's own stop is its business; a bad frame is ours */
		cs->bad_frame = cs->sse.err != SSE_ABORT;
		return 1;
	}
	return cs->sink->flush != NULL && cs->sink->flush(cs->sink->ctx) != 0;
}

void
call_stream_limit(struct call_stream *cs, size_t max_event)
{
	sse_init(&cs->sse, cs->sse.on_event, cs->sse.ctx, max_event);
}

int
call_stream_finish(struct call_stream *cs)
{
	if (sse_finish(&cs->sse, NULL) == SSE_OK)
		return 0;
	cs->bad_frame = cs->sse.err != SSE_ABORT;
	return -1;
}

const char *
call_stream_body(struct call_stream *cs)
{
	/* struct buf keeps its bytes NUL-terminated */
	return cs->body.failed || cs->body.len == 0 ? NULL : cs->body.p;
}

void
call_stream_free(struct call_stream *cs)
{
	sse_free(&cs->sse);
	buf_free(&cs->body);
}

struct json_object *
call_jwt_payload(const char *jwt)
{
	const char *p, *q;
	unsigned char *raw = NULL;
	json_tokener *tok = NULL;
	json_object *o = NULL;
	size_t n, len;
	long got;

	if (jwt == NULL || (p = strchr(jwt, '.')) == NULL || p == jwt ||
	    (q = strchr(p + 1, '.')) == NULL || q[1] == '\0' ||
	    strchr(q + 1, '.') != NULL)
		return NULL;
	for (n = (size_t)(q - p - 1); n > 0 && p[n] == '='; n--)
		;
	if (n == 0 || n > CALL_JWT_MAX || (raw = malloc(B64_DECLEN(n))) == NULL)
		return NULL;
	/* either alphabet: some issuers pad or use the standard one */
	if ((got = b64_decode(p + 1, n, raw, B64_DECLEN(n),
	    B64_STD | B64_URL)) < 0)
		goto out;
	len = (size_t)got;
	if ((tok = json_tokener_new_ex(JWT_DEPTH)) == NULL)
		goto out;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)raw, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
out:
	if (tok != NULL)
		json_tokener_free(tok);
	free(raw);
	return o;
}

int
call_token(struct store *st, struct arena *a, const char *scope,
    const char *cred, int force, int (*exchange)(void *, char **, int64_t *),
    void *ctx, int (*idle)(void *), void *idle_ctx, const char **out,
    int *cached)
{
	enum tokcache_how how = TOKCACHE_EXCHANGED;
	const char *copy;
	char *value = NULL;
	int64_t expires;
	int rc;

	if (st == NULL)
		rc = exchange(ctx, &value, &expires);
	else
		rc = tokcache_fetch(st, scope, cred, force, exchange, ctx, idle,
		    idle_ctx, &value, &how);
	if (rc != 0)
		return rc;
	copy = arena_strdup(a, value);
	free(value);
	if (copy == NULL)
		return TOKCACHE_STORE;
	*out = copy;
	*cached = how != TOKCACHE_EXCHANGED;
	return 0;
}

int
call_session_keep(struct provider_session *ps, const char *chat,
    const char *parent)
{
	if (ps->out == NULL && (ps->out = malloc(sizeof(*ps->out))) == NULL)
		return -1;
	snprintf(ps->out->chat, sizeof(ps->out->chat), "%s", chat);
	snprintf(ps->out->parent, sizeof(ps->out->parent), "%s",
	    parent != NULL ? parent : "");
	return 0;
}

void
call_session_clear(struct provider_session *ps)
{
	free(ps->out);
	ps->out = NULL;
}
