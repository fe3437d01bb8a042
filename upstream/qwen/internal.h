/* Shared by the files of upstream/qwen/ only. */
#ifndef UPSTREAM_QWEN_INTERNAL_H
#define UPSTREAM_QWEN_INTERNAL_H

#include <json-c/json.h>

#include "upstream/call.h"
#include "upstream/provider.h"

/* The real hosts (§6); QWEN_BASE_URL replaces both. */
#define QW_ORIGIN		"https://www.qianwen.com"
#define QW_CHAT_HOST		"https://chat2.qianwen.com"
#define QW_API_HOST		"https://chat2-api.qianwen.com"
#define QW_CHAT_PATH		"/api/v2/chat"
#define QW_LIST_PATH		"/api/v2/session/page/list"
#define QW_DELETE_PATH		"/api/v1/session/delete/batch"

/* The login cookies (§6.1); login_tongyi_ticket died in 2024. */
#define QW_SSO_COOKIE		"tongyi_sso_ticket"
#define QW_ALIYUN_COOKIE	"login_aliyunid_ticket"
#define QW_TICKET_MIN		16
#define QW_TICKET_MAX		4096

#define QW_HEX_ID		32	/* ut, req_id, session_id */
#define QW_NONCE_LEN		12	/* [a-z0-9] */
#define QW_MAX_JSON		(1u << 20)
#define QW_ERR_BODY_MAX		(64u << 10)
#define QW_CODE_MAX		64

/* One conversation with the upstream: an answer, a check or a delete. */
struct qw_call {
	const struct config	*cfg;
	struct arena		*arena;
	const struct chat_sink	*sink;		/* NULL: tell nobody */
	const char		*chat_base;	/* the chat host */
	const char		*api_base;	/* list and delete */
	const char		*proxy;
	const char		*cookie;	/* "name=value" */
	/* ut and X-DeviceId */
	char			 device[QW_HEX_ID + 1];
	int			(*idle)(void *);
	void			*idle_ctx;
	/* what the last failed step said */
	int			 status;	/* HTTP, 0: none */
	char			 code[QW_CODE_MAX + 1];
	char			 msg[256];
};

enum qw_step_err {
	QW_STEP_OK = 0,
	QW_STEP_EXPIRED,	/* NOT_LOGIN: the ticket's login is over */
	QW_STEP_FAILED,		/* anything else; the sink has been told */
};

/* api.c */
/* 0, or -1 when the ticket is unusable (or out of memory). */
int	 qw_call_init(struct qw_call *, const struct provider_ctx *,
	    const char *ticket);
/* The stable device id of a ticket: 32 hex of SHA-256("qwen-device:"…). */
void	 qw_device_id(const char *ticket, char out[QW_HEX_ID + 1]);
void	 qw_nonce(char out[QW_NONCE_LEN + 1]);
/* 32 random hex digits (req_id, session_id). */
void	 qw_hex_id(char out[QW_HEX_ID + 1]);
/*
 * The query every call carries (§6.1, §6.2), in the reference's order;
 * with a nonce, also nonce and timestamp (the chat).
 */
char	*qw_query(struct arena *, const char *device, const char *nonce,
	    long long ts_ms);
/* The browser headers; api: the list/delete host's extras too. */
const char **qw_headers(struct qw_call *, int api);
/*
 * The JSON envelope {success, code, errorCode, errorMsg, ...}: 0 when it
 * says success, else -1 with c->code and c->msg filled.
 */
int	 qw_envelope(struct qw_call *, struct json_object *);
/*
 * An error the upstream answered (c->status, c->code, c->msg) told to
 * the sink: a login that is over is "account_expired", a rate limit 429,
 * the rest 502.  Returns QW_STEP_EXPIRED or QW_STEP_FAILED.
 */
enum qw_step_err qw_fail(struct qw_call *, const char *what);
/* POST path?query on the list/delete host; *root the answer's JSON. */
enum qw_step_err qw_api(struct qw_call *, const char *what, const char *path,
	    const char *body, struct json_object **root);

/*
 * ticket.c: what a user pasted as the stored ticket (malloc'd), or NULL;
 * its kind (0 sso, 1 aliyun); the stored ticket as the cookie
 * "name=value" (arena), or NULL.
 */
char	*qw_ticket_normalize(const char *pasted);
int	 qw_ticket_kind(const char *secret);
const char *qw_cookie(struct arena *, const char *ticket);
/* provider.c */
/* The model the upstream is asked for, thinking included. */
const char *qw_upstream_model(const struct route *);

/* client.c */
void	 qwen_chat(const struct provider_call *);
int	 qwen_forget(const struct provider_ctx *,
	    const struct provider_account *, const char *chat_id);

#endif
