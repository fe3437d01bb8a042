/* Shared by the files of upstream/kimi/ only. */
#ifndef UPSTREAM_KIMI_INTERNAL_H
#define UPSTREAM_KIMI_INTERNAL_H

#include <json-c/json.h>

#include "upstream/call.h"
#include "upstream/kimi/token.h"
#include "upstream/provider.h"

/* What the web client at this origin calls (§4.1, §4.2, §4.5). */
#define KIMI_ORIGIN		"https://www.kimi.com"
#define KIMI_CHAT_PATH		"/apiv2/kimi.gateway.chat.v1.ChatService/Chat"
#define KIMI_DELETE_PATH	"/apiv2/kimi.chat.v1.ChatService/DeleteChat"
#define KIMI_SUB_PATH		"/apiv2/kimi.gateway.order.v1." \
				"SubscriptionService/GetSubscription"
#define KIMI_REFRESH_PATH	"/api/auth/token/refresh"
#define KIMI_SCENARIO		"SCENARIO_K2D5"
#define KIMI_MAX_JSON		(1u << 20)	/* a unary answer */
#define KIMI_ERR_BODY_MAX	(64u << 10)	/* an error body kept */

/* One account's calls to the upstream, for one attempt or one check. */
struct kimi_call {
	const struct config	*cfg;
	struct store		*store;		/* NULL: no token cache */
	struct arena		*arena;
	const struct chat_sink	*sink;		/* NULL: validate, clean-up */
	const char		*base;		/* KIMI_BASE_URL */
	const char		*proxy;
	const char		*secret;	/* the account's credential */
	const char		*account_id;	/* NULL: the client's own */
	enum kimi_kind		 kind;
	const char		*access;	/* the Bearer of the calls */
	int			 access_cached;	/* may be stale */
	struct kimi_claims	 claims;	/* of access */
	int			(*idle)(void *);
	void			*idle_ctx;
	/* what the last failed step said, for validate() and the logs */
	int			 status;	/* HTTP, or the Connect code's */
	char			 code[64];
	char			 msg[256];
};

enum kimi_step {
	KIMI_STEP_OK = 0,
	KIMI_STEP_REFUSED,	/* the credential was refused (401) */
	KIMI_STEP_FAILED,	/* anything else; the sink has been told */
};

void	 kimi_call_init(struct kimi_call *, const struct provider_ctx *,
	    const struct provider_account *);
/*
 * The browser's headers (§4.2) with "Authorization: Bearer bearer" and
 * the X-Msh-* / X-Traffic-Id headers of claims; ctype NULL: no body;
 * connect: a Connect call (Connect-Protocol-Version).
 */
const char **kimi_headers(struct kimi_call *, const char *bearer,
	    const struct kimi_claims *claims, const char *ctype, int connect);
/*
 * A unary Connect call (JSON in, JSON out) with c->access.  *root gets
 * the answer's object (json_object_put it).  A 401 is KIMI_STEP_REFUSED
 * and told to nobody: the caller may renew the token and try again.
 * Other failures go to the sink (when there is one) and into
 * c->status/code/msg.
 */
enum kimi_step kimi_unary(struct kimi_call *, const char *what,
	    const char *path, const char *body, struct json_object **root);
/*
 * An upstream failure told to the sink the way upstream/call.c maps
 * every provider's (401, 403, 429 with Retry-After, 5xx → 502 ...).
 */
void	 kimi_fail(struct kimi_call *, const char *what, int status,
	    const char *detail, long retry_after);
/* The account's login is over: 401 account_expired to the sink. */
void	 kimi_fail_expired(struct kimi_call *, const char *why);

/*
 * auth.c: c->access and its claims for c->secret -- the secret itself
 * when it is an access token, else an access token exchanged for the
 * refresh token (cached in LMDB until kimi_renew_at(), the refresh token
 * stored again when Kimi rotates it).  force skips the cache.  Failures
 * are told to the sink (when there is one).
 */
enum kimi_step kimi_access(struct kimi_call *, int force);

/* client.c */
void	 kimi_chat(const struct provider_call *);
int	 kimi_forget(const struct provider_ctx *,
	    const struct provider_account *, const char *chat_id);

#endif
