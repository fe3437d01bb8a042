/*
 * The ChatGPT gateway (chatgpt.md §9), with ENABLE_GATEWAY=true: people
 * log in at /login with an AccessToken, a RefreshToken or a seed, and
 * use ChatGPT's own web UI through this server.
 *
 *   gateway_pages.c    /, /c/..., /g/..., /gpts: the live page, filled
 *                      in; /login, /auth/logout; the fallback chat page
 *   gateway_proxy.c    the reverse proxy of §9.3, streaming
 *   gateway_fake.c     the faked, intercepted and banned routes of §9.2
 *                      and the seeds' own conversation lists
 *   gateway_admin.c    /seedtoken and /auth/refresh (§9.6)
 *   gateway_auth.c     whose request it is: token, seed, real account
 *   gateway_headers.c  what passes: header allow-lists, body kinds
 *
 * The browser only ever holds its own login (the seed, or its own
 * token): the real access token goes upstream and nowhere else, no
 * cookie of ours goes upstream, and every text that comes back has the
 * site's hosts and the real token replaced before it leaves.
 */
#ifndef HANDLERS_GATEWAY_H
#define HANDLERS_GATEWAY_H

#include <stddef.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "fcgi/req.h"
#include "store/seeds.h"
#include "upstream/call.h"
#include "upstream/chatgpt/site.h"

#define GW_TOKEN_MAX		8192	/* a login: AT, RT or seed */
#define GW_COOKIE		"token"
#define GW_COOKIE_TTL		(365 * 86400)
#define GW_LOGIN_COOKIE		"c2a_gw_login"	/* the login form's nonce */
#define GW_LOGIN_TTL		3600
#define GW_HOST_MAX		255
#define GW_HEADER_MAX		8192	/* one forwarded header value */
#define GW_LOCATION_MAX		4096
#define GW_EDIT_MAX		(1u << 20)	/* bodies the gateway edits */
#define GW_HTML_MAX		(1u << 20)	/* pages of our own */
#define GW_LIST_DEFAULT		28
#define GW_PROVIDER		"chatgpt"
/* New seeds one client address may make per CHAT2API_ADMIN_FAIL_WINDOW. */
#define GW_NEW_SEEDS		30

enum gw_kind {
	GW_ANON = 0,	/* no login: assets, backend-anon */
	GW_ACCESS,	/* the user's own AccessToken */
	GW_REFRESH,	/* the user's own RefreshToken */
	GW_SEED,	/* a seed: a pool account or a token set for it */
};

enum gw_err {
	GW_OK = 0,
	GW_NOTOKEN,	/* no Bearer, no cookie */
	GW_BADTOKEN,	/* not the shape of any login */
	GW_ADMINCODE,	/* an AUTHORIZATION code is not a login */
	GW_UNKNOWN,	/* an unknown seed with AUTO_SEED=false */
	GW_NOPOOL,	/* no account for a new seed */
	GW_FULL,	/* no room for another seed */
	GW_THROTTLED,	/* this address made too many seeds of late */
	GW_REFRESH_BAD,	/* the RefreshToken was refused for good */
	GW_REFRESH_FAIL,	/* it could not be exchanged now */
	GW_STORE,
	GW_ENOMEM,
	GW__MAX
};

/* Whose request this is. */
struct gw_ident {
	enum gw_kind	 kind;
	const char	*login;		/* as the browser holds it */
	const char	*at;		/* the real access token; NULL: anon */
	const char	*team;		/* chatgpt-account-id, or NULL */
	const char	*email;		/* of the real account (seeds) */
	char		 fp[LOG_FP_LEN];	/* of login, for the log */
};

/* How a response body passes (gateway_headers.c). */
enum gw_body {
	GW_BODY_TEXT,	/* rewritten as it streams */
	GW_BODY_SSE,	/* rewritten and flushed event by event */
	GW_BODY_MEDIA,	/* image, audio, video: as is, with its headers */
	GW_BODY_BINARY,	/* anything else: as is */
};

/* ------------------------------------------------------------ auth */

const char	*gw_strerror(enum gw_err);
/* 1..GW_TOKEN_MAX of [A-Za-z0-9._~+/=-]: safe in a cookie and header. */
int		 gw_token_ok(const char *, size_t);
enum gw_kind	 gw_classify(const char *token);
/* The Bearer, else the token cookie (arena), else NULL. */
const char	*gw_login_of(struct req *);
/* create: an unknown seed may get an account (with AUTO_SEED). */
enum gw_err	 gw_resolve(struct req *, const char *token, int create,
		    struct gw_ident *);
/* The refusal of a resolve, as {"detail": ...} with its status. */
enum app_err	 gw_refuse(struct req *, enum gw_err);
int		 gw_status_of(enum gw_err);

/* ------------------------------------------------------------ answers */

/* Our header block: Status, Content-Type, the common safety headers. */
enum app_err	 gw_head(struct req *, int status, const char *ctype,
		    const char *extra);
enum app_err	 gw_send(struct req *, int status, const char *ctype,
		    const char *extra, const char *body, size_t len);
/* {"detail": msg}, the shape the web UI reads. */
enum app_err	 gw_detail(struct req *, int status, const char *msg);
enum app_err	 gw_json(struct req *, int status, const char *json);
enum app_err	 gw_redirect(struct req *, int status, const char *location,
		    const char *extra);
/* HTTPS=on from the front server, or X-Forwarded-Proto. */
int		 gw_https(struct req *);
/* "https://host[/mount]" and "host[/mount]" of this request. */
const char	*gw_origin(struct req *);
const char	*gw_host(struct req *);
/* The value of a cookie (arena), or NULL. */
const char	*gw_cookie(struct req *, const char *name, size_t max);
/* Set-Cookie for name (value NULL: delete) into b. */
void		 gw_set_cookie(struct req *, struct buf *, const char *name,
		    const char *value, long max_age, const char *samesite);
/* Polled while waiting upstream: 1 once our client is gone. */
int		 gw_idle(void *req);
/* An upstream base for this request (one CHATGPT_BASE_URL entry). */
const char	*gw_base(struct req *);
/* A WebSocket upgrade: the gateway refuses those (FastCGI cannot). */
int		 gw_websocket(struct req *);
/* A CSP nonce (32 hex digits). */
void		 gw_nonce(char out[33]);

/* ------------------------------------------------------------ headers */

/* 1 when a browser header (any case) may go upstream (§9.3 step 3). */
int		 gw_hdr_forwarded(const char *name);
/* 1 when an upstream response header (any case) comes back. */
int		 gw_hdr_kept(const char *name, enum gw_body);
/* A header value we may pass on: printable, no CR or LF, bounded. */
int		 gw_hdr_value_ok(const char *, size_t);
/*
 * Adds the browser's forwarded headers to h (replacing same names);
 * without_sentinel: not its openai-sentinel-* ones.
 */
void		 gw_hdr_collect(struct req *, struct call_hdrs *,
		    int without_sentinel);
/* Puts "name: value" into h, replacing a header of that name. */
void		 gw_hdr_put(struct call_hdrs *, const char *line);
/* How a body of this content type passes. */
enum gw_body	 gw_body_kind(const char *ctype);

/* ------------------------------------------------------------ proxy */

struct gw_px_opts {
	const struct site_target *t;
	const char	*body;		/* NULL: the request's own */
	size_t		 body_len;
	const char	**extra;	/* request headers that win, NULL-ended */
	const char	*seed;		/* capture conversations for it */
	/* buffer a 2xx JSON body and change it before it goes out */
	int		(*edit)(struct req *, struct gw_ident *,
			    struct json_object *);
	const char	*resp_extra;	/* response header lines */
	int		 head_only;
	int		 own_sentinel;	/* the browser's sentinel headers go */
	struct site_call *sc;		/* the identity to use; NULL: a new one */
};

/* Proxies to o->t; *status gets the upstream's status (0: none). */
enum app_err	 gw_proxy(struct req *, struct gw_ident *,
		    const struct gw_px_opts *, long *status);
/* The rewriter of text for this request and identity. */
int		 gw_rewriter(struct req *, struct gw_ident *, struct site_rw *,
		    const struct site_target *);

/* ------------------------------------------------------------ fakes */

/*
 * The routes of §9.2 for this identity: 1 when the request was answered
 * here (*e its outcome), 0 when it goes to the proxy.
 */
int		 gw_fake(struct req *, struct gw_ident *, enum app_err *e);
/* A page of a seed's list as the web UI reads it. */
int		 gw_conv_list_json(struct buf *, const struct seed_conv *,
		    size_t n, size_t total, size_t limit, size_t offset);
/* The conversation id in /backend-api/conversation/<id>[/...], or NULL. */
const char	*gw_conv_id_of(struct arena *, const char *path);

/* ------------------------------------------------------------ pages */

/* The mirror page (or the fallback chat page) for this request. */
enum app_err	 gw_page(struct req *);
/* A navigation (a browser asking for a document). */
int		 gw_navigation(struct req *);

#endif
