/* Shared by the files of upstream/minimax/ only. */
#ifndef UPSTREAM_MINIMAX_INTERNAL_H
#define UPSTREAM_MINIMAX_INTERNAL_H

#include <json-c/json.h>

#include "upstream/call.h"
#include "upstream/minimax/sign.h"
#include "upstream/provider.h"

/* What the real web client at this origin sends (§5.2). */
#define MM_ORIGIN		"https://agent.minimaxi.com"
#define MM_DEVICE_TTL		10800	/* s a registered device lasts */
#define MM_MAX_JSON		(1u << 20)	/* answers but the poll's */
#define MM_API_TIMEOUT_MS	15000

#define MM_PATH_REGISTER	"/v1/api/user/device/register"
#define MM_PATH_SEND		"/matrix/api/v1/chat/send_msg"
#define MM_PATH_DETAIL		"/matrix/api/v1/chat/get_chat_detail"
#define MM_PATH_DELETE		"/matrix/api/v1/chat/delete_chat"

/* One conversation with the upstream, for one attempt. */
struct mm_call {
	const struct config	*cfg;
	struct store		*store;		/* NULL: no device cache */
	struct arena		*arena;
	const struct chat_sink	*sink;		/* NULL: validate(), after */
	const char		*base;		/* MINIMAX_BASE_URL */
	const char		*proxy;
	struct mm_cred		 cred;
	const char		*cache_key;	/* "<uid>+<JWT>" */
	const char		*device;	/* deviceIDStr */
	int			(*idle)(void *);
	void			*idle_ctx;
	/* what the last failed step said, for validate() and logs */
	int			 status;	/* HTTP, 0: none */
	long			 code;		/* envelope code */
	char			 msg[256];
};

enum mm_step {
	MM_STEP_OK = 0,
	MM_STEP_EXPIRED,	/* code 1001: the login is over */
	MM_STEP_FAILED,		/* anything else; the sink has been told */
};

/*
 * The call for an account (its secret and real_user_id field); the
 * sink, if any, has been told when the credential is unusable.
 */
enum mm_cred_err mm_call_init(struct mm_call *, const struct provider_ctx *,
		    const struct provider_account *);
/*
 * POST body to path under the base, signed, with the query of this call
 * (query NULL) or uuid, device_id and user_id of the one given (the clock
 * and the JWT are filled in); the raw answer in *resp (free it).
 */
enum up_err	 mm_post(struct mm_call *, const char *path,
		    const struct mm_query *query,
		    const char *body, long timeout_ms, size_t max_body,
		    struct http_resp *resp);
/*
 * mm_post of a JSON call whose envelope says whether it worked; *root the
 * answer on MM_STEP_OK (json_object_put it).  Failures go to the sink
 * (when there is one) and into c->status/code/msg.
 */
enum mm_step	 mm_api(struct mm_call *, const char *what, const char *path,
		    const struct mm_query *query, const char *body,
		    struct json_object **root);
/* A member as a short id (string or integer) in the arena, or NULL. */
const char	*mm_json_id(struct mm_call *, struct json_object *,
		    const char *key);

/* device.c: c->device for the account, cached MM_DEVICE_TTL in LMDB. */
enum mm_step	 mm_device(struct mm_call *, int force);

/* client.c */
void		 minimax_chat(const struct provider_call *);
int		 minimax_forget(const struct provider_ctx *,
		    const struct provider_account *, const char *chat_id);

#endif
