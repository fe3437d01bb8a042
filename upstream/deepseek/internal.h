/* Shared by the files of upstream/deepseek/ only. */
#ifndef UPSTREAM_DEEPSEEK_INTERNAL_H
#define UPSTREAM_DEEPSEEK_INTERNAL_H

#include <json-c/json.h>

#include "upstream/call.h"
#include "upstream/provider.h"

/* What the real web client at this origin sends (§2.2). */
#define DS_ORIGIN		"https://chat.deepseek.com"
#define DS_BEARER_TTL		3600	/* s the bearer is cached (§2.1) */
#define DS_ERR_INVALID_TOKEN	40003	/* "Authorization Failed" */
#define DS_MAX_JSON		(1u << 20)

/* One conversation with the upstream, for one attempt. */
struct ds_call {
	const struct config	*cfg;
	struct store		*store;		/* NULL: no bearer cache */
	struct arena		*arena;
	const struct chat_sink	*sink;		/* NULL: validate() */
	const char		*base;		/* DEEPSEEK_BASE_URL */
	const char		*proxy;
	const char		*user_token;
	const char		*bearer;	/* from users/current */
	int			 bearer_cached;	/* may be stale */
	const char		*session;	/* chat_session id */
	const char		*parent;	/* message to answer after */
	int			(*idle)(void *);
	void			*idle_ctx;
	/* what the last failed step said, for validate() */
	int			 status;	/* HTTP or mapped */
	long			 code;		/* DeepSeek code / biz_code */
	char			 msg[256];
};

enum ds_step_err {
	DS_STEP_OK = 0,
	DS_STEP_EXPIRED,	/* 40003 or 401: the userToken is no good */
	DS_STEP_FAILED,		/* anything else; the sink has been told */
};

void	 ds_call_init(struct ds_call *, const struct provider_ctx *,
	    const char *user_token);
/*
 * The §2.2 headers with the bearer (the userToken before there is one);
 * referer NULL: the origin; extra: one more header line, or NULL.
 */
const char **ds_headers(struct ds_call *, const char *referer,
	    const char *extra);
/*
 * POST (body non-NULL) or GET path under the base; *biz gets
 * data.biz_data of the envelope, or NULL when it has none
 * (json_object_put *root).  Failures go to
 * the sink (when there is one) and into c->status/code/msg.
 */
enum ds_step_err ds_api(struct ds_call *, const char *what, const char *path,
	    const char *body, struct json_object **root,
	    struct json_object **biz);
/* Tells the sink (if any) that the userToken is refused. */
void	 ds_fail_expired(struct ds_call *, const char *what);

/* auth.c: the bearer of c->user_token, cached an hour in LMDB. */
enum ds_step_err ds_bearer(struct ds_call *, int force, char *email,
	    size_t emailsz);

/* client.c */
void	 deepseek_chat(const struct provider_call *);
int	 deepseek_forget(const struct provider_ctx *,
	    const struct provider_account *, const char *chat_id);
int	 deepseek_purge(const struct provider_ctx *,
	    const struct provider_account *, struct provider_purge *);

#endif
