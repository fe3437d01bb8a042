#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "fcgi/coro.h"
#include "fcgi/evloop.h"
#include "fcgi/log.h"
#include "upstream/http_multi.h"
#include "upstream/http.h"

#define HTTP_DEFAULT_MAX	(4u << 20)

static CURLSH		*share;
static pthread_mutex_t	 share_locks[CURL_LOCK_DATA_LAST];
static pthread_key_t	 easy_key;
static pthread_once_t	 key_once = PTHREAD_ONCE_INIT;

static const char *const up_errs[UP__MAX] = {
	[UP_OK] = "success",
	[UP_ENOMEM] = "out of memory",
	[UP_NETWORK] = "upstream unreachable",
	[UP_TIMEOUT] = "upstream timed out",
	[UP_ABORTED] = "transfer aborted",
	[UP_TOOBIG] = "upstream response too large",
	[UP_PROTO] = "upstream protocol error",
	[UP_HTTP] = "upstream HTTP error",
};

const char *
up_strerror(enum up_err e)
{
	if ((unsigned)e >= UP__MAX)
		return "unknown error";
	return up_errs[e];
}

static void
share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
	(void)h;
	(void)a;
	(void)u;
	pthread_mutex_lock(&share_locks[d]);
}

static void
share_unlock(CURL *h, curl_lock_data d, void *u)
{
	(void)h;
	(void)u;
	pthread_mutex_unlock(&share_locks[d]);
}

static void key_init(void);
static char *ca_file;		/* CHAT2API_CA_FILE; NULL: libcurl's */

static void
easy_destroy(void *p)
{
	curl_easy_cleanup(p);
}

int
http_global_init(void)
{
	int i;

	pthread_once(&key_once, key_init);
	if (share != NULL)
		return 0;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_locks[i], NULL);
	if ((share = curl_share_init()) == NULL)
		return -1;
	curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	return 0;
}

void
http_global_cleanup(void)
{
	if (share != NULL)
		curl_share_cleanup(share);
	share = NULL;
	free(ca_file);
	ca_file = NULL;
}

int
http_ca_file(const char *path)
{
	free(ca_file);
	ca_file = NULL;
	if (path != NULL && *path != '\0' && (ca_file = strdup(path)) == NULL)
		return -1;
	return 0;
}

static CURL *
easy_new(void)
{
	CURL *h;

	if ((h = curl_easy_init()) == NULL)
		return NULL;
	/* Cookies live per handle; http_cookies_reset() starts a session. */
	curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");
	return h;
}

/*
 * A request's handle and call depth: its coroutine's when it runs on one
 * (it may park and continue on another thread, cookies and all), else
 * the calling thread's.
 */
struct http_local {
	CURL	*easy;
	int	 depth;
};

static void
local_free(void *p)
{
	struct http_local *l = p;

	if (l->easy != NULL)
		curl_easy_cleanup(l->easy);
	free(l);
}

static void
key_init(void)
{
	pthread_key_create(&easy_key, easy_destroy);
	coro_local_dtor(CORO_SLOT_HTTP, local_free);
}

static struct http_local *
http_local(void)
{
	static __thread struct http_local thread_l;
	void **slot;

	pthread_once(&key_once, key_init);
	if ((slot = coro_local(CORO_SLOT_HTTP)) == NULL) {
		thread_l.easy = pthread_getspecific(easy_key);
		return &thread_l;
	}
	if (*slot == NULL)
		*slot = calloc(1, sizeof(struct http_local));
	return *slot;
}

/* The request's handle, created on first use. */
static CURL *
http_easy(struct http_local *l)
{
	/*
	 * No curl_easy_reset(): in 7.88 it orphans the COOKIEFILE list (a
	 * leak per call).  http_do() sets every option it uses instead.
	 */
	if (l->easy != NULL)
		return l->easy;
	if ((l->easy = easy_new()) == NULL)
		return NULL;
	if (coro_self() == NULL)
		pthread_setspecific(easy_key, l->easy);
	return l->easy;
}

void
http_cookies_reset(void)
{
	struct http_local *l = http_local();

	if (l != NULL && l->easy != NULL)
		curl_easy_setopt(l->easy, CURLOPT_COOKIELIST, "ALL");
}

void
http_thread_cleanup(void)
{
	CURL *h;

	pthread_once(&key_once, key_init);
	if ((h = pthread_getspecific(easy_key)) != NULL) {
		curl_easy_cleanup(h);
		pthread_setspecific(easy_key, NULL);
	}
}

struct xfer {
	const struct http_req	*req;
	struct http_resp	*resp;
	CURL			*h;
	size_t			 cap, max;
	int			 aborted, toobig;
	struct coro		*parked;	/* on the loop for it */
	int			 paused;
};

static int
buffer_append(struct xfer *x, const char *p, size_t n)
{
	struct http_resp *r = x->resp;
	char *nb;
	size_t ncap;

	if (r->body_len + n > x->max) {
		x->toobig = 1;
		return -1;
	}
	if (r->body_len + n + 1 > x->cap) {
		ncap = x->cap ? x->cap : 4096;
		while (ncap < r->body_len + n + 1)
			ncap *= 2;
		if ((nb = realloc(r->body, ncap)) == NULL)
			return -1;
		r->body = nb;
		x->cap = ncap;
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

static void
unpause(void *u)
{
	struct xfer *x = u;

	if (x->paused) {
		x->paused = 0;
		curl_easy_pause(x->h, CURLPAUSE_CONT);
	}
}

static size_t
on_write(char *p, size_t sz, size_t n, void *u)
{
	struct xfer *x = u;
	long status = 0;

	n *= sz;
	/*
	 * Parked, a client that reads slower than the upstream writes
	 * holds the transfer (as a blocking write would), not our memory.
	 */
	if (x->parked != NULL && coro_congested(x->parked)) {
		x->paused = 1;
		coro_on_drain(x->parked, unpause, x);
		return CURL_WRITEFUNC_PAUSE;
	}
	if (x->req->on_data != NULL) {
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		if ((status >= 200 && status < 300) ||
		    x->req->data_any_status) {
			if (x->req->on_data(x->req->data_ctx, p, n) != 0) {
				x->aborted = 1;
				return CURL_WRITEFUNC_ERROR;
			}
			return n;
		}
	}
	if (buffer_append(x, p, n) < 0)
		return CURL_WRITEFUNC_ERROR;
	return n;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *u)
{
	struct xfer *x = u;
	size_t len = sz * n, k;
	char **dst = NULL;
	const char *v;

	if (x->req->on_header != NULL &&
	    x->req->on_header(x->req->header_ctx, p, len) != 0) {
		x->aborted = 1;
		return 0;
	}
	if (len > 13 && strncasecmp(p, "content-type:", 13) == 0)
		dst = &x->resp->content_type, k = 13;
	else if (len > 9 && strncasecmp(p, "location:", 9) == 0)
		dst = &x->resp->location, k = 9;
	else if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0)
		dst = &x->resp->retry_after, k = 12;
	else if (len > 17 && strncasecmp(p, "content-encoding:", 17) == 0)
		dst = &x->resp->content_encoding, k = 17;
	else
		return len;
	for (v = p + k; v < p + len && (*v == ' ' || *v == '\t'); v++)
		;
	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	free(*dst);
	*dst = strndup(v, (size_t)(p + len - v));
	return sz * n;
}

static int
on_progress(void *u, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct xfer *x = u;

	(void)a; (void)b; (void)c; (void)d;
	if (x->req->idle != NULL && x->req->idle(x->req->idle_ctx) != 0) {
		x->aborted = 1;
		return 1;
	}
	return 0;
}

const char *
http_encodings(void)
{
	/* what CURLOPT_ACCEPT_ENCODING "" offers, by the codecs built in */
	static const char *const lists[8] = {
		"identity", "deflate, gzip", "br", "deflate, gzip, br", "zstd",
		"deflate, gzip, zstd", "br, zstd", "deflate, gzip, br, zstd",
	};
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	return lists[(v->features & CURL_VERSION_LIBZ ? 1 : 0) |
	    (v->features & CURL_VERSION_BROTLI ? 2 : 0) |
	    (v->features & CURL_VERSION_ZSTD ? 4 : 0)];
}

enum up_err
http_do(const struct http_req *req, struct http_resp *resp)
{
	struct curl_slist *hdrs = NULL, *t;
	struct xfer x;
	const char **hp;
	struct http_local *l;
	CURLcode cc;
	CURL *h;
	enum up_err e;
	int nested;

	memset(resp, 0, sizeof(*resp));
	memset(&x, 0, sizeof(x));
	x.req = req;
	x.resp = resp;
	x.max = req->max_body ? req->max_body : HTTP_DEFAULT_MAX;
	/* The request's handle is busy when we are called from inside one
	 * of its callbacks: a nested request gets a handle of its own. */
	if ((l = http_local()) == NULL)
		return UP_ENOMEM;
	nested = l->depth > 0 || evloop_is_loop_thread();
	if ((h = nested ? easy_new() : http_easy(l)) == NULL)
		return UP_ENOMEM;
	x.h = h;
	for (hp = req->headers; hp != NULL && *hp != NULL; hp++) {
		if ((t = curl_slist_append(hdrs, *hp)) == NULL) {
			curl_slist_free_all(hdrs);
			if (nested)
				curl_easy_cleanup(h);
			return UP_ENOMEM;
		}
		hdrs = t;
	}
	/* Suppress curl's own "Expect: 100-continue" round trip. */
	if ((t = curl_slist_append(hdrs, "Expect:")) != NULL)
		hdrs = t;
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_SHARE, share);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	/* Explicit, so the environment (httpoxy) never picks a proxy. */
	curl_easy_setopt(h, CURLOPT_PROXY, req->proxy ? req->proxy : "");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    req->connect_timeout_ms ? req->connect_timeout_ms : 10000L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
	    req->idle_timeout_s ? req->idle_timeout_s : 60L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->total_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, 60L);
	/*
	 * A parked stream's events are small and it is one of thousands:
	 * libcurl's least, 1 KiB (a larger event comes in several calls,
	 * which the SSE parser joins).  Otherwise 8 KiB instead of 16:
	 * threads are many.
	 */
	if (req->on_data != NULL && !nested && coro_parkable())
		x.parked = coro_self();
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, req->buffer_size ?
	    req->buffer_size : x.parked != NULL ? 1024L : 8192L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, req->idle != NULL ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
	if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	l->depth++;
	/*
	 * A streamed answer waits long and works little: its coroutine
	 * parks and the loop drives the transfer (BENCHMARKS.md §20).
	 */
	if (x.parked == NULL || http_multi_perform(h, &cc) < 0) {
		x.parked = NULL;
		cc = curl_easy_perform(h);
	}
	x.parked = NULL;
	l->depth--;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_slist_free_all(hdrs);
	if (nested)
		curl_easy_cleanup(h);
	else {
		/* The handle outlives the request: drop pointers to our stack. */
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	}
	switch (cc) {
	case CURLE_OK:
		e = resp->status >= 200 && resp->status < 300 ? UP_OK : UP_HTTP;
		break;
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		e = x.aborted ? UP_ABORTED : x.toobig ? UP_TOOBIG : UP_ENOMEM;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		e = UP_TIMEOUT;
		break;
	case CURLE_OUT_OF_MEMORY:
		e = UP_ENOMEM;
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_WEIRD_SERVER_REPLY:
		e = UP_PROTO;
		break;
	default:
		e = UP_NETWORK;
		break;
	}
	/* Not the query: one upstream (Z.ai) carries a token in it.  A
	 * certificate nobody trusts is the operator's to fix: said louder. */
	if (cc == CURLE_PEER_FAILED_VERIFICATION ||
	    cc == CURLE_SSL_CACERT_BADFILE)
		log_warn("upstream %.*s: %s (see CHAT2API_CA_FILE)",
		    (int)strcspn(req->url, "?"), req->url,
		    curl_easy_strerror(cc));
	else if (e != UP_OK && e != UP_HTTP && e != UP_ABORTED)
		log_debug("upstream %s %.*s: %s", req->method,
		    (int)strcspn(req->url, "?"), req->url,
		    curl_easy_strerror(cc));
	if (resp->body == NULL && (resp->body = strdup("")) == NULL)
		return UP_ENOMEM;
	return e;
}

void
http_resp_free(struct http_resp *r)
{
	free(r->body);
	free(r->content_type);
	free(r->location);
	free(r->retry_after);
	free(r->content_encoding);
	memset(r, 0, sizeof(*r));
}
