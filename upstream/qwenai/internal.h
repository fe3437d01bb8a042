/* Shared by the files of upstream/qwenai/ only. */
#ifndef UPSTREAM_QWENAI_INTERNAL_H
#define UPSTREAM_QWENAI_INTERNAL_H

#include <json-c/json.h>

#include "upstream/call.h"
#include "upstream/provider.h"
#include "upstream/qwenai/errors.h"

/* What the real web client at this origin sends (§7.2). */
#define QA_ORIGIN		"https://chat.qwen.ai"
/* QWENAI_USER_AGENT when it is empty: the browser of §7.2 */
#define QA_USER_AGENT		"Mozilla/5.0 (Macintosh; Intel Mac OS X " \
				"10_15_7) AppleWebKit/537.36 (KHTML, like " \
				"Gecko) Chrome/145.0.0.0 Safari/537.36"
#define QA_MODELS_VERSION	"0.2.35"	/* the Version /api/models gets */
#define QA_MAX_JSON		(1u << 20)	/* a JSON answer */
#define QA_ERR_BODY_MAX		(64u << 10)	/* an error body instead of SSE */
#define QA_ID_MAX		128	/* a chat id */
#define QA_API_TIMEOUT_MS	15000
#define QA_IDLE_TIMEOUT_S	120	/* a completion silent this long */
/* The account's extra credential fields (§10.3, chat2api accounts add --set). */
#define QA_FIELD_COOKIES	"cookies"
#define QA_FIELD_BX_UA		"bx_ua"
#define QA_FIELD_BX_UMIDTOKEN	"bx_umidtoken"

/* One conversation with the upstream, for one attempt or one check. */
struct qa_call {
	const struct config	*cfg;
	struct store		*store;
	struct arena		*arena;
	const struct chat_sink	*sink;		/* NULL: nobody to tell */
	const char		*base;		/* QWENAI_BASE_URL */
	const char		*proxy;
	const char		*token;		/* the JWT */
	const char		*cookies;	/* NULL: none */
	const char		*bx_ua;		/* NULL: not sent */
	const char		*bx_umidtoken;
	const char		*chat_id;	/* once created */
	int			(*idle)(void *);
	void			*idle_ctx;
	/* what the last failed step said, for validate() and logs */
	enum qa_err		 err;
	long			 status;	/* HTTP, 0: none */
	char			 code[QA_CODE_MAX + 1];
	char			 msg[QA_MSG_MAX + 1];
};

/* api.c */
void	 qa_call_init(struct qa_call *, const struct provider_ctx *,
	    const struct provider_account *);
/*
 * The §7.2 headers: referer NULL means the origin; version NULL means
 * QWENAI_VERSION; stream adds what the completion sends.
 */
const char **qa_headers(struct qa_call *, const char *referer,
	    const char *version, int stream);
/*
 * method path under the base with body (NULL: none).  QA_OK with *root
 * (json_object_put it) and *data (its "data", may be NULL); otherwise
 * the failure is in c->err/status/code/msg and the sink (if any) has
 * been told.
 */
enum qa_err qa_api(struct qa_call *, const char *what, const char *method,
	    const char *path, const char *version, const char *body,
	    struct json_object **root, struct json_object **data);
/*
 * An upstream answer judged: QA_OK with *root and *data as qa_api()
 * gives them, or the failure recorded and told as qa_api() does.
 */
enum qa_err qa_judge(struct qa_call *, const char *what, enum up_err,
	    const struct http_resp *, struct json_object **root,
	    struct json_object **data);
/* Classifies and tells the sink (if any) what c->code/msg/status say. */
enum qa_err qa_fail(struct qa_call *, const char *what, enum qa_err);
/* The sentence for a Bad_Request: which cookies the account lacks. */
const char *qa_cookie_hint(struct qa_call *);

/* client.c */
void	 qwenai_chat(const struct provider_call *);
int	 qwenai_forget(const struct provider_ctx *,
	    const struct provider_account *, const char *chat_id);
int	 qwenai_purge(const struct provider_ctx *,
	    const struct provider_account *, struct provider_purge *);

/* models.c */
extern const struct provider_model qa_models[];
int	 qwenai_listed(const struct provider_ctx *,
	    const struct provider_account *, provider_model_fn, void *);

#endif
