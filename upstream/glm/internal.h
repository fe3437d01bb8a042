/* Shared by the files of upstream/glm/ only. */
#ifndef UPSTREAM_GLM_INTERNAL_H
#define UPSTREAM_GLM_INTERNAL_H

#include <json-c/json.h>

#include "upstream/call.h"
#include "upstream/provider.h"

/* What the web client at this origin sends (§3.1, §3.2, §3.4). */
#define GLM_ORIGIN		"https://chatglm.cn"
#define GLM_REFERER		GLM_ORIGIN "/main/alltoolsdetail"
#define GLM_PATH_REFRESH	"/chatglm/user-api/user/refresh"
#define GLM_PATH_STREAM		"/chatglm/backend-api/assistant/stream"
#define GLM_PATH_UPLOAD		"/chatglm/backend-api/assistant/file_upload"
#define GLM_PATH_DELETE		\
	"/chatglm/backend-api/assistant/conversation/delete"
#define GLM_PATH_BULK_DELETE	\
	"/chatglm/mainchat-api/conversation/bulk_delete"

#define GLM_ACCESS_TTL		3600	/* s an access token is kept (§3.1) */
#define GLM_TOKEN_MIN		20	/* shorter Bearers are placeholders */
#define GLM_TOKEN_MAX		4096
#define GLM_ID_MAX		128	/* conversation, source ids */
#define GLM_URL_MAX		2048
#define GLM_MAX_JSON		(1u << 20)
#define GLM_UPLOADS_MAX		16	/* image and file parts a request */
#define GLM_UPLOAD_BYTES	(20u << 20)

/* Codes the upstream answers for a login that is over (§3.1). */
#define GLM_ERR_TOKEN_INVALID	40001
#define GLM_ERR_TOKEN_EXPIRED	40102

/* One conversation with the upstream, for one attempt. */
struct glm_call {
	const struct config	*cfg;
	struct store		*store;		/* NULL: no token cache */
	struct arena		*arena;
	const struct chat_sink	*sink;		/* NULL: validate() */
	const char		*base;		/* GLM_BASE_URL */
	const char		*proxy;
	const char		*account_id;	/* NULL: the client's own */
	const char		*refresh;	/* maybe rotated */
	const char		*access;	/* from user/refresh */
	int			 access_cached;	/* may be stale */
	int			(*idle)(void *);
	void			*idle_ctx;
	/* what the last failed step said, for validate() and the caller */
	int			 status;	/* HTTP */
	long			 code;		/* GLM code/status, -1: none */
	char			 msg[256];
};

enum glm_step {
	GLM_STEP_OK = 0,
	GLM_STEP_AUTH,		/* 401, 40001 or 40102: decided by the caller */
	GLM_STEP_FAILED,	/* anything else; the sink has been told */
};

void	 glm_call_init(struct glm_call *, const struct provider_ctx *,
	    const struct provider_account *);
/*
 * The §3.2 headers, signed anew: bearer (the refresh token for the
 * exchange, the access token otherwise), the content type of the body
 * (NULL: JSON), referer (NULL: the chat page).
 */
const char **glm_headers(struct glm_call *, const char *bearer,
	    const char *ctype, const char *referer);
/*
 * A JSON call: POST body (len bytes, of ctype) to path with bearer;
 * *result gets the envelope's "result" object, or NULL when it has none
 * (json_object_put *root).  Failures but GLM_STEP_AUTH go to the sink
 * (when there is one); all go into c->status/code/msg.
 */
enum glm_step glm_api(struct glm_call *, const char *what, const char *path,
	    const char *body, size_t len, const char *ctype,
	    const char *bearer, struct json_object **root,
	    struct json_object **result);
/* {code|status, message, result}: 0 when a code is 0; fills c->code/msg. */
int	 glm_envelope(struct glm_call *, struct json_object *root,
	    struct json_object **result);
/* A non-empty string of at most max bytes at o.key, or NULL. */
const char *glm_json_str(struct json_object *o, const char *key, size_t max);
/* c->code (or the message) says the login itself is over. */
int	 glm_login_over(const struct glm_call *);
/*
 * A GLM_STEP_AUTH that stands: tells the sink 401 account_expired (the
 * refresh token is over: 40001, 40102) or 401 invalid_api_key (refused).
 */
void	 glm_fail_auth(struct glm_call *, const char *what);
void	 glm_oom(struct glm_call *);

/* auth.c: the access token of c->refresh, cached in LMDB. */
enum glm_step glm_access(struct glm_call *, int force, char *email,
	    size_t emailsz);

/*
 * glm_api() with the access token, which may be a stale cached one: on
 * GLM_STEP_AUTH it is exchanged again and the call made once more; an
 * auth failure that stands is told to the sink (glm_fail_auth).
 */
enum glm_step glm_api_fresh(struct glm_call *, const char *what,
	    const char *path, const char *body, size_t len, const char *ctype,
	    struct json_object **root, struct json_object **result);

/* upload.c: one uploaded image or file part, referenced in the body. */
struct glm_ref {
	int		 image;
	const char	*source_id;
	const char	*file_url;
};
/* 0 with refs (maybe none), or -1 with the sink told. */
int	 glm_upload_parts(struct glm_call *, const struct chat_request *,
	    struct glm_ref **refs, size_t *nrefs);

/* client.c */
void	 glm_chat(const struct provider_call *);
int	 glm_forget(const struct provider_ctx *,
	    const struct provider_account *, const char *chat_id);

/* purge.c: every conversation of the account (§3.4), bounded */
#define GLM_PURGE_PAGE		100	/* ids a list page and a bulk_delete */
#define GLM_PURGE_PAGES		50	/* list pages one purge reads */
int	 glm_purge(const struct provider_ctx *,
	    const struct provider_account *, struct provider_purge *);
/*
 * One page of recent_list's result: the conversation ids (at most max,
 * each of 1..GLM_ID_MAX bytes, copied into the arena) and has_more
 * (absent: 0).  -1 when the page does not have that shape.
 */
int	 glm_recent_page(struct arena *, struct json_object *result,
	    const char **ids, size_t max, size_t *n, int *has_more);

#endif
