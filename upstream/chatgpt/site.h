/*
 * What speaks ChatGPT's web site for the gateway (chatgpt.md §9): where a
 * path of the site is served from, the identity (fingerprint, proxy) the
 * site is spoken to with, the live page and the sentinel, and the
 * rewriters of what comes back -- hosts and secrets in any text, the
 * React Router context of the page, the conversation id and title in a
 * conversation stream.
 */
#ifndef UPSTREAM_CHATGPT_SITE_H
#define UPSTREAM_CHATGPT_SITE_H

#include <stddef.h>

#include <json-c/json.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "fcgi/conf.h"
#include "upstream/sse.h"

enum site_err {
	SITE_OK = 0,
	SITE_ENOMEM,
	SITE_INVAL,	/* a pattern, path or argument out of bounds */
	SITE_TOOBIG,	/* a page or context over its limit */
	SITE_NOCTX,	/* the page has no React Router context to fill */
	SITE_BADCTX,	/* a context string that does not parse */
	SITE_NET,	/* the upstream could not be reached */
	SITE_HTTP,	/* it answered with an error status */
	SITE_ABORTED,	/* our client went away */
	SITE_SENTINEL,	/* the sentinel refused or could not be solved */
	SITE__MAX
};

const char	*site_strerror(enum site_err);

/* ------------------------------------------------------------ routes */

/*
 * Where a path of the mirror is served from (§9.3 step 2).  With the
 * default base (https://chatgpt.com) assets come from cdn.oaistatic.com,
 * statsig from ab.chatgpt.com, files and the sandbox from their
 * oaiusercontent.com hosts; with any other base (a private gateway, a
 * test mock) everything comes from that base.
 */
enum site_kind {
	SITE_NONE = 0,	/* not the site's: not proxied */
	SITE_BACKEND,	/* /backend-api/, /backend-anon/, /public-api/ ... */
	SITE_ASSET,	/* /assets/, /_next/: static, no credential */
	SITE_STATSIG,	/* /v1/initialize, /v1/rgstr */
	SITE_CES,	/* /ces/: analytics */
	SITE_SANDBOX,	/* /sandbox/...: code interpreter output */
	SITE_FILE,	/* /file-...: uploaded and generated files */
};

struct site_target {
	enum site_kind	 kind;
	const char	*base;	/* scheme://host, no trailing '/' */
	const char	*path;	/* upstream path, from '/' */
};

/* base: the configured CHATGPT_BASE_URL entry, without a trailing '/'. */
int		 site_route(const char *base, const char *path,
		    struct site_target *);

/* ------------------------------------------------------------ rewriting */

#define SITE_RW_PATTERNS	16
#define SITE_RW_FROM_MAX	16384	/* an access token fits */
#define SITE_RW_CHUNK		(64u << 10)	/* bytes scanned per pass */

/* Where rewritten bytes go; non-zero stops the rewriter. */
typedef int	(*site_out_fn)(void *ctx, const char *, size_t);

struct site_rw_pat {
	const char	*from, *to;
	size_t		 flen, tlen;
};

/*
 * A streaming replacer of fixed strings: at each position the longest
 * pattern that matches wins, left to right, and a match split across
 * two feeds is found as if the input came in one piece.  At most
 * SITE_RW_FROM_MAX - 1 bytes wait between feeds (only while they could
 * still begin a pattern), so memory stays constant and SSE events pass
 * at once.
 */
struct site_rw {
	struct site_rw_pat	 pat[SITE_RW_PATTERNS];
	size_t			 npat, maxlen;
	unsigned char		 first[256];	/* bytes that begin a pattern */
	char			*work;		/* carry, then a pass */
	size_t			 ncarry;
	site_out_fn		 out;
	void			*ctx;
	int			 failed;	/* sticky */
};

void		 site_rw_init(struct site_rw *, site_out_fn, void *ctx);
/* from and to must outlive the rewriter; -1 when full or too long. */
int		 site_rw_add(struct site_rw *, const char *from, const char *to);
int		 site_rw_feed(struct site_rw *, const char *, size_t);
/* Flushes what waited; 0 or -1 (out failed, or out of memory). */
int		 site_rw_finish(struct site_rw *);
void		 site_rw_free(struct site_rw *);
/* An out for a struct buf. */
int		 site_rw_to_buf(void *buf, const char *, size_t);

/* Whose hosts a response of the mirror is rewritten to (§9.3 step 10). */
struct site_hosts {
	const char	*origin;	/* "https://our.host[/mount]" */
	const char	*host;		/* "our.host[/mount]" */
	const char	*base;		/* the upstream base */
	const char	*file_host;	/* FILE_HOST, or "" */
	const char	*voice_host;	/* VOICE_HOST, or "" */
	int		 public_api;	/* /public-api/: site hosts stay */
	int		 sandbox;	/* a sandbox answer: /assets moves */
};

int		 site_rw_hosts(struct site_rw *, struct arena *,
		    const struct site_hosts *);

/* ------------------------------------------------------------ the page */

#define SITE_PAGE_MAX		(4u << 20)	/* the page as fetched */
#define SITE_CTX_MAX		(2u << 20)	/* one context string */
#define SITE_LOCALE_MAX		35

struct site_page_opts {
	const char	*token;		/* into every accessToken */
	const char	*locale;	/* into every locale, or NULL */
	const char	*email;		/* into every email, or NULL: kept */
	const char	*nonce;		/* onto every <script> tag, or NULL */
};

/*
 * The page with every streamController.enqueue("...") context filled
 * in (§9.1) and a nonce on every script tag; integrity attributes are
 * renamed data-integrity (the assets are rewritten, their hashes
 * change).  *ntokens counts the accessToken entries
 * filled: a page without one is a logged-out page.
 */
enum site_err	 site_page_inject(struct buf *out, const char *page,
		    size_t len, const struct site_page_opts *,
		    size_t *ntokens);
/* A BCP 47-ish tag: letters, digits and '-', at most SITE_LOCALE_MAX. */
int		 site_locale_ok(const char *, size_t);

/* ------------------------------------------------------------ streams */

#define SITE_CAP_EVENT_MAX	(1u << 20)
#define SITE_ID_MAX		64
#define SITE_TITLE_MAX		256

/*
 * What a conversation stream says about itself, for the seed's list:
 * the first conversation id (old format: top level; v1: the root add's
 * "v") and the last title_generation title.  Events are parsed as JSON
 * only when they can hold one of the two.  A stream it cannot follow
 * only stops the capture; the bytes pass anyway.
 */
struct site_cap {
	struct sse_parser	 sse;
	char			 conv_id[SITE_ID_MAX + 1];
	char			 title[SITE_TITLE_MAX + 1];
	int			 have_id, have_title;
	int			 failed;
};

void		 site_cap_init(struct site_cap *);
void		 site_cap_feed(struct site_cap *, const char *, size_t);
void		 site_cap_finish(struct site_cap *);
void		 site_cap_free(struct site_cap *);

/* ------------------------------------------------------------ the site */

struct site_call;

/*
 * Who the site is spoken to as in this request: the fingerprint, device
 * id and proxy the API uses for this token (§2), host one base entry.
 * token NULL: anonymous.  Lives in the arena.
 */
struct site_call *site_call_new(struct arena *, const struct config *,
		    const char *host, const char *token,
		    const char *account_id, int (*idle)(void *),
		    void *idle_ctx);
/* The base headers (§2.1): NULL-terminated, in the arena. */
const char	**site_call_headers(struct site_call *);
const char	*site_call_proxy(struct site_call *);

/* GET host/ with this identity; *page malloc'd (NUL-terminated). */
enum site_err	 site_page_fetch(struct site_call *, char **page, size_t *len,
		    long *status);
/* GET host + path, parsed; the status either way. */
enum site_err	 site_get_json(struct site_call *, const char *path,
		    struct json_object **, long *status);
/*
 * The sentinel of the API (chat-requirements, proof of work, turnstile,
 * arkose) for a conversation with model: the header lines to send with
 * it, in the arena, NULL-terminated in hdrs (room for n).  err says why
 * it failed.
 */
enum site_err	 site_sentinel(struct site_call *, const char *model,
		    const char **hdrs, size_t n, char *err, size_t errsz);

#endif
