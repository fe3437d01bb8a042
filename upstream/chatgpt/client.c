/*
 * One ChatGPT answer: pick host, proxy and identity, run the sentinel,
 * post the conversation and feed its SSE stream through the re-framer and
 * the decoder into the sink.  Every failure ends up in sink->error.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "fcgi/log.h"
#include "fcgi/rand.h"
#include "store/crypto.h"
#include "upstream/chatgpt/chatgpt.h"
#include "upstream/chatgpt/internal.h"
#include "upstream/chatgpt/refresh.h"
#include "upstream/chatgpt/models.h"
#include "upstream/call.h"
#include "upstream/chatgpt/stream.h"
#include "upstream/sse.h"

#define DEFAULT_UA "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " \
	"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 " \
	"Safari/537.36 Edg/130.0.0.0"

const struct cg_proto cg_proto_2025 = {
	"2025", "/sentinel/chat-requirements", "/conversation", 0
};

/* A stable UUIDv4-shaped id derived from the credential (§2.2). */
static void
device_id_for(const char *token, char out[37])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx;

	if (token == NULL) {
		call_uuid4(out);
		return;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		call_uuid4(out);
		return;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, "chat2api-device-id:", 19);
	EVP_DigestUpdate(ctx, token, strlen(token));
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x40);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4],
	    md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13],
	    md[14], md[15]);
}

static unsigned
rnd_index(size_t n)
{
	return n ? (unsigned)rnd_below(n) : 0;
}

const char *
cg_header(struct cg_call *c, const char *fmt, ...)
{
	va_list ap;
	char *h;

	va_start(ap, fmt);
	h = arena_vprintf(c->arena, fmt, ap);
	va_end(ap);
	if (h != NULL && c->nhdrs < CG_MAX_HEADERS - 1) {
		c->hdrs[c->nhdrs++] = h;
		c->hdrs[c->nhdrs] = NULL;
	}
	return h;
}

static int
same_header(const char *a, const char *b)
{
	const char *ca = strchr(a, ':'), *cb = strchr(b, ':');

	return ca && cb && ca - a == cb - b &&
	    strncasecmp(a, b, (size_t)(ca - a)) == 0;
}

/* The base headers, each replaced by a same-named one of extra. */
const char **
cg_headers_plus(struct cg_call *c, const char **extra)
{
	const char **all;
	size_t i, j, n = 0, k = 0;

	for (i = 0; extra[i]; i++)
		n++;
	if ((all = arena_calloc(c->arena, c->nhdrs + n + 1,
	    sizeof(*all))) == NULL)
		return NULL;
	for (i = 0; i < c->nhdrs; i++) {
		for (j = 0; j < n && !same_header(c->hdrs[i], extra[j]); j++)
			;
		if (j == n)
			all[k++] = c->hdrs[i];
	}
	memcpy(all + k, extra, n * sizeof(*all));
	return all;
}

static void
base_headers(struct cg_call *c)
{
	c->nhdrs = 0;
	cg_header(c, "accept: */*");
	cg_header(c, "accept-language: en-US,en;q=0.9");
	cg_header(c, "content-type: application/json");
	cg_header(c, "oai-language: %s", c->cfg->oai_language);
	cg_header(c, "origin: %s", c->host);
	cg_header(c, "priority: u=1, i");
	cg_header(c, "referer: %s/", c->host);
	cg_header(c, "sec-fetch-dest: empty");
	cg_header(c, "sec-fetch-mode: cors");
	cg_header(c, "sec-fetch-site: same-origin");
	cg_header(c, "user-agent: %s", c->ua);
	cg_header(c, "oai-device-id: %s", c->device_id);
	if (strstr(c->ua, "Chrome/") != NULL) {
		cg_header(c, "sec-ch-ua: \"Chromium\";v=\"130\", "
		    "\"Not?A_Brand\";v=\"99\"");
		cg_header(c, "sec-ch-ua-mobile: ?0");
		cg_header(c, "sec-ch-ua-platform: \"Windows\"");
	}
	if (c->token)
		cg_header(c, "authorization: Bearer %s", c->token);
	if (c->account_id)
		cg_header(c, "chatgpt-account-id: %s", c->account_id);
	if (c->cfg->auth_key[0])
		cg_header(c, "authkey: %s", c->cfg->auth_key);
}

/*
 * Base URL, user agent, device id, proxy and base headers of c->token
 * (NULL: anonymous) at c->host: the same for the API and the gateway,
 * so one credential always looks like one browser.
 */
void
cg_identity(struct cg_call *c)
{
	const struct config *cfg = c->cfg;

	c->base = arena_printf(c->arena, "%s/%s", c->host,
	    c->token ? "backend-api" : "backend-anon");
	c->ua = cfg->user_agents.n ? cfg->user_agents.v[c->token ?
	    call_hash(c->token) % cfg->user_agents.n :
	    rnd_index(cfg->user_agents.n)] : DEFAULT_UA;
	device_id_for(c->token, c->device_id);
	/* PROXY_URL: sticky per credential, random when anonymous. */
	c->proxy = call_proxy(c->arena, &cfg->proxy_url, c->token, 1);
	base_headers(c);
}

struct stream_ctx {
	struct cg_call		*c;
	const struct chat_sink	*sink;
	struct sse_parser	 sse;
	struct chatgpt_stream	*dec;
	enum chatgpt_stream_err	 dec_err;
};

static int
on_event(void *u, const char *event, const char *data, size_t len)
{
	struct stream_ctx *sc = u;

	sc->dec_err = chatgpt_stream_event(sc->dec, event, data, len);
	return sc->dec_err != CGS_OK;
}

static int
on_data(void *u, const char *p, size_t n)
{
	struct stream_ctx *sc = u;

	/* Once the answer is complete the rest of the transfer is noise. */
	if (chatgpt_stream_done(sc->dec))
		return 1;
	if (sse_feed(&sc->sse, p, n) != SSE_OK)
		return 1;
	if (sc->sink->flush != NULL && sc->sink->flush(sc->sink->ctx) != 0)
		return 1;
	return 0;
}

/* Asset references to download URLs (§1 rows 8, 9 and 10). */
static int
resolve_image(void *u, enum chatgpt_asset kind, const char *file_id,
    const char *conversation_id, const char *message_id, char **url)
{
	struct cg_call *c = u;
	struct http_req req;
	struct http_resp resp;
	struct json_object *o = NULL, *v;
	enum up_err e;
	int rc = -1;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	if (kind == CHATGPT_ASSET_SANDBOX) {
		if (conversation_id == NULL || message_id == NULL)
			return -1;
		req.url = arena_printf(c->arena, "%s/conversation/%s/interpreter/"
		    "download?message_id=%s&sandbox_path=%s", c->base,
		    conversation_id, call_pct_encode(c->arena, message_id, ""),
		    call_pct_encode(c->arena, file_id, ""));
	} else if (kind == CHATGPT_ASSET_SEDIMENT) {
		if (conversation_id == NULL)
			return -1;
		req.url = arena_printf(c->arena, "%s/conversation/%s/attachment/"
		    "%s/download", c->base, conversation_id, file_id);
	} else
		req.url = arena_printf(c->arena, "%s/files/%s/download",
		    c->base, file_id);
	req.headers = c->hdrs;
	req.proxy = c->proxy;
	req.total_timeout_ms = 10000;
	req.idle = c->pc->idle;
	req.idle_ctx = c->pc->idle_ctx;
	e = http_do(&req, &resp);
	if (e == UP_OK && (o = json_tokener_parse(resp.body)) != NULL &&
	    json_object_object_get_ex(o, "download_url", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0) {
		*url = strdup(json_object_get_string(v));
		rc = *url ? 0 : -1;
	}
	json_object_put(o);
	http_resp_free(&resp);
	return rc;
}

static void
not_started(struct cg_call *c, const char *upstream_msg)
{
	cg_fail(c, 403, "upstream_error", "upstream_not_started", "%s",
	    upstream_msg ? upstream_msg : "Our systems have detected unusual "
	    "activity coming from your system. Please try again later.");
}

/*
 * A complete answer in a session: the conversation stays upstream, and
 * the next turn goes after the answer's last message (§4.1).
 */
static void
keep(struct cg_call *c, const struct chatgpt_stream *dec)
{
	struct provider_session *ps = c->pc->session;
	const char *cid = chatgpt_stream_conversation_id(dec);
	const char *mid = chatgpt_stream_message_id(dec);

	if (ps == NULL || !chatgpt_stream_finished(dec) || cid == NULL ||
	    mid == NULL || strlen(cid) > PROVIDER_SESSION_ID_MAX ||
	    strlen(mid) > PROVIDER_SESSION_ID_MAX)
		return;
	(void)call_session_keep(ps, cid, mid);
}

static void
conversation(struct cg_call *c)
{
	const struct chat_sink *k = c->pc->sink;
	struct chatgpt_stream_opts so;
	struct stream_ctx sc;
	struct http_req req;
	struct http_resp resp;
	const char *extra[8];
	size_t n = 0, blen;
	enum chatgpt_stream_err de = CGS_OK;
	enum up_err e;
	char *body;

	memset(&sc, 0, sizeof(sc));
	memset(&resp, 0, sizeof(resp));
	if ((body = cg_conversation_body(c, &blen)) == NULL) {
		call_fail_nomem(c->pc->sink);
		return;
	}
	extra[n++] = "accept: text/event-stream";
	if (!c->cfg->conversation_only) {
		extra[n++] = arena_printf(c->arena,
		    "openai-sentinel-chat-requirements-token: %s",
		    c->chat_token);
		if (c->proof_token)
			extra[n++] = arena_printf(c->arena,
			    "openai-sentinel-proof-token: %s", c->proof_token);
		if (c->turnstile_token)
			extra[n++] = arena_printf(c->arena,
			    "openai-sentinel-turnstile-token: %s",
			    c->turnstile_token);
		if (c->arkose_token)
			extra[n++] = arena_printf(c->arena,
			    "openai-sentinel-arkose-token: %s",
			    c->arkose_token);
	}
	extra[n] = NULL;

	memset(&so, 0, sizeof(so));
	so.history = !(c->pc->req->history_disabled >= 0 ?
	    c->pc->req->history_disabled : c->cfg->history_disabled);
	so.resolve_image = resolve_image;
	so.resolve_ctx = c;
	sc.c = c;
	sc.sink = k;
	if (chatgpt_stream_new(&sc.dec, k, &so) != CGS_OK) {
		call_fail_nomem(c->pc->sink);
		return;
	}
	sse_init(&sc.sse, on_event, &sc, 0);

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = arena_printf(c->arena, "%s%s", c->base,
	    c->proto->conversation_path);
	req.headers = cg_headers_plus(c, extra);
	req.body = body;
	req.body_len = blen;
	req.proxy = c->proxy;
	req.connect_timeout_ms = 10000;
	req.idle_timeout_s = 120;
	req.on_data = on_data;
	req.data_ctx = &sc;
	req.idle = c->pc->idle;
	req.idle_ctx = c->pc->idle_ctx;
	e = http_do(&req, &resp);
	switch (e) {
	case UP_OK:
		if (sse_finish(&sc.sse, NULL) != SSE_OK && sc.dec_err == CGS_OK)
			sc.dec_err = CGS_PROTO;
		/* FALLTHROUGH */
	case UP_ABORTED:
		de = sc.dec_err;
		if (de == CGS_OK && e == UP_OK)
			de = chatgpt_stream_end(sc.dec);
		if (de == CGS_ABORT || (e == UP_ABORTED && de == CGS_OK &&
		    !chatgpt_stream_done(sc.dec)))
			break;		/* the client left */
		if (chatgpt_stream_started(sc.dec) &&
		    chatgpt_stream_done(sc.dec) && de != CGS_PROTO &&
		    de != CGS_ENOMEM)
			break;		/* the sink has had finish or error */
		if (!chatgpt_stream_started(sc.dec)) {
			if (de == CGS_PROTO || de == CGS_ENOMEM)
				cg_fail(c, 502, "upstream_error",
				    "upstream_bad_stream", "The upstream stream "
				    "could not be decoded (%s).",
				    chatgpt_stream_strerror(de));
			else
				not_started(c, chatgpt_stream_upstream_error(
				    sc.dec));
		} else if (de == CGS_PROTO || de == CGS_ENOMEM)
			cg_fail(c, 502, "upstream_error", "upstream_bad_stream",
			    "The upstream stream could not be decoded (%s).",
			    chatgpt_stream_strerror(de));
		break;
	case UP_HTTP:
		cg_fail_http(c, "conversation", &resp);
		break;
	default:
		cg_fail_net(c, "conversation", e);
		break;
	}
	keep(c, sc.dec);
	http_resp_free(&resp);
	sse_free(&sc.sse);
	chatgpt_stream_free(sc.dec);
}

static int
has_attachments(const struct chat_request *r)
{
	size_t i, j;

	for (i = 0; i < r->nmessages; i++)
		for (j = 0; j < r->messages[i].nparts; j++)
			if (r->messages[i].parts[j].type != CHAT_PART_TEXT)
				return 1;
	return 0;
}

/*
 * A RefreshToken is exchanged (once for all processes, then cached) and
 * the AccessToken it gives is what the call uses.  0, or -1 with the sink
 * told.  Not inlined: its buffer would stay in the frame a parked stream
 * keeps (BENCHMARKS.md §20).
 */
static int __attribute__((noinline))
access_token(struct cg_call *c, const struct provider_call *pc, char **owned)
{
	const struct provider_account *a = pc->account;
	enum refresh_err re;
	char err[256];

	*owned = NULL;
	c->token = a != NULL ? a->secret : NULL;
	if (a == NULL || chatgpt_token_kind(a->secret) != CHATGPT_KIND_REFRESH)
		return 0;
	if (pc->store == NULL) {
		cg_fail(c, 503, "server_error", "store_down", "The credential "
		    "store is unavailable, so a RefreshToken cannot be "
		    "exchanged.");
		return -1;
	}
	re = chatgpt_refresh(pc->cfg, pc->store, a->secret, 0, owned,
	    pc->idle, pc->idle_ctx, err, sizeof(err));
	if (re == REFRESH_OK) {
		c->token = *owned;
		return 0;
	}
	if (re == REFRESH_INVALID)
		cg_fail(c, 401, "invalid_request_error",
		    "invalid_refresh_token", "Could not exchange the "
		    "RefreshToken: %s.", err);
	else
		cg_fail(c, 502, "upstream_error", "refresh_failed", "Could not "
		    "exchange the RefreshToken: %s.", err);
	return -1;
}

void
chatgpt_chat(const struct provider_call *pc)
{
	const struct config *cfg = pc->cfg;
	const struct route *rt = pc->route;
	struct cg_call c;
	char *at = NULL;

	memset(&c, 0, sizeof(c));
	c.pc = pc;
	c.cfg = cfg;
	c.proto = &cg_proto_2025;
	c.arena = pc->arena;
	if (access_token(&c, pc, &at) < 0)
		return;
	/* The request's team id (header, body) before the account's. */
	c.account_id = pc->req->account_id != NULL ? pc->req->account_id :
	    pc->account != NULL ? pc->account->team_id : NULL;
	/* A built-in name carries its slug; any other name is mapped. */
	c.slug = rt->model != NULL ? rt->upstream_model :
	    chatgpt_model_slug(rt->upstream_model);
	c.host = cfg->chatgpt_base_url.v[rnd_index(cfg->chatgpt_base_url.n)];
	/* "https://host/" and "https://host" are the same base */
	if (c.host[strlen(c.host) - 1] == '/')
		c.host = arena_strndup(c.arena, c.host, strlen(c.host) - 1);
	cg_identity(&c);
	/* Cookies (oai-sc, __cf_bm ...) carry from page to sentinel to
	 * conversation within this answer, never across answers. */
	http_cookies_reset();
	if (!cfg->conversation_only && cg_sentinel(&c) < 0)
		goto out;
	if (has_attachments(pc->req) && cg_upload_parts(&c) < 0)
		goto out;
	conversation(&c);
out:
	free(c.req_token);
	free(c.proof_token);
	free(c.turnstile_token);
	if (at != NULL) {
		crypto_wipe(at, strlen(at));
		free(at);
	}
}
