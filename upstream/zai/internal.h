/* Shared by the files of upstream/zai/ only. */
#ifndef UPSTREAM_ZAI_INTERNAL_H
#define UPSTREAM_ZAI_INTERNAL_H

#include <json-c/json.h>

#include "upstream/call.h"
#include "upstream/provider.h"
#include "upstream/zai/jwt.h"

/* What the real web client at this origin sends (§8.1, §8.2). */
#define ZAI_ORIGIN	"https://chat.z.ai"
#define ZAI_FE_VERSION	"prod-fe-1.0.241"
#define ZAI_UA		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) " \
			"AppleWebKit/537.36 (KHTML, like Gecko) " \
			"Chrome/144.0.0.0 Safari/537.36"
#define ZAI_MAX_JSON	(1u << 20)	/* a JSON answer we read */
#define ZAI_ID_MAX	128		/* a chat id we accept */
#define ZAI_DETAIL_MAX	300		/* upstream text in a message */

/* One conversation with the upstream, for one attempt or one check. */
struct zai_call {
	const struct config	*cfg;
	struct arena		*arena;
	const struct chat_sink	*sink;		/* NULL: no client to tell */
	const char		*base;		/* ZAI_BASE_URL */
	const char		*proxy;
	const char		*token;		/* the JWT */
	struct zai_claims	 claims;
	int			 expired;	/* claims.exp has passed */
	const char		*chat_id;
	int			(*idle)(void *);
	void			*idle_ctx;
	/* what the last failed step said (validate(), logs) */
	long			 status;	/* HTTP, 0: no answer */
	int			 cloudflare;	/* that answer was its page */
	char			 msg[ZAI_DETAIL_MAX + 1];
};

void	 zai_call_init(struct zai_call *, const struct provider_ctx *,
	    const char *token);
/*
 * The browser headers of §8.2 with the login (Bearer and cookie);
 * referer NULL: the origin; extra: one more header line, or NULL.
 */
const char **zai_headers(struct zai_call *, const char *referer,
	    const char *extra);
/*
 * A JSON call: method path under the base, body NULL for none.  0 with
 * *root the parsed answer (NULL when it was empty or not JSON); -1 when
 * it failed, told to the sink (if any) and kept in c->status/msg.
 */
int	 zai_api(struct zai_call *, const char *what, const char *method,
	    const char *path, const char *body, struct json_object **root);
/* A non-2xx answer of step what, told to the sink and kept in c. */
void	 zai_fail_http(struct zai_call *, const char *what,
	    const struct http_resp *);
/* A 2xx answer that is JSON instead of the stream (body may be NULL). */
void	 zai_fail_json(struct zai_call *, const char *what, const char *body);

/* client.c */
void	 zai_chat(const struct provider_call *);
int	 zai_purge(const struct provider_ctx *,
	    const struct provider_account *, struct provider_purge *);

#endif
