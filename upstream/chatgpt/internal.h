/* Shared by the files of upstream/chatgpt/ only. */
#ifndef UPSTREAM_CHATGPT_INTERNAL_H
#define UPSTREAM_CHATGPT_INTERNAL_H

#include <stddef.h>

#include "fcgi/arena.h"
#include "fcgi/conf.h"
#include "upstream/http.h"
#include "upstream/provider.h"

/*
 * Endpoint paths and the PoW hash sit behind this seam so the 2026
 * protocol (§14: f/conversation, conduit token, FNV PoW) can be added as
 * a second table without touching the flow.
 */
struct cg_proto {
	const char	*name;
	const char	*requirements_path;	/* under BASE */
	const char	*conversation_path;	/* under BASE */
	int		 pow_algo;		/* enum pow_algo */
};

extern const struct cg_proto	cg_proto_2025;

#define CG_MAX_HEADERS	32

/* One uploaded image or file part (files.c). */
struct cg_upload {
	int		 done;
	unsigned char	*data;
	size_t		 size;
	const char	*mime;
	const char	*name;
	const char	*use_case;
	const char	*file_id;
	int		 is_image, width, height;
};

struct cg_call {
	const struct provider_call	*pc;
	const struct config		*cfg;
	const struct cg_proto		*proto;
	struct arena			*arena;
	const char			*host;		/* https://chatgpt.com */
	const char			*base;		/* host/backend-api */
	const char			*token;		/* NULL: anonymous */
	const char			*account_id;
	const char			*ua;
	const char			*proxy;
	char				 device_id[37];
	const char			*hdrs[CG_MAX_HEADERS];
	size_t				 nhdrs;		/* base headers */
	/* sentinel results */
	char				*req_token;
	const char			*chat_token;
	char				*proof_token;
	char				*turnstile_token;
	const char			*arkose_token;
	const char			*persona;
	const char			*slug;		/* upstream model */
	struct cg_upload		**uploads;	/* [message][part] */
};

/* page.c: build id and script URLs from GET HOST/, cached 15 minutes */
struct cg_page {
	char	dpl[128];
	char	script[512];
	int	have_dpl;
};
void	 cg_page_get(struct cg_call *, struct cg_page *);

/* sentinel.c: chat-requirements, PoW, turnstile, arkose.  0 or -1. */
int	 cg_sentinel(struct cg_call *);

/* body.c: the conversation request body (§4) */
char	*cg_conversation_body(struct cg_call *, size_t *len);

/* files.c: uploads every image/file part; 0, or -1 with the sink told */
int	 cg_upload_parts(struct cg_call *);
int	 cg_image_size(const unsigned char *, size_t, int *w, int *h);

/* errors.c: upstream failures as OpenAI errors, through the sink */
void	 cg_fail_http(struct cg_call *, const char *what,
	    const struct http_resp *);
void	 cg_fail_net(struct cg_call *, const char *what, enum up_err);
void	 cg_fail(struct cg_call *, int status, const char *type,
	    const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* client.c */
void	 chatgpt_chat(const struct provider_call *);

/* forget.c: a session's conversation goes (PATCH is_visible:false) */
int	 chatgpt_forget(const struct provider_ctx *,
	    const struct provider_account *, const char *chat_id);
/* c->host, c->token, c->account_id set: the rest of who c speaks as. */
void	 cg_identity(struct cg_call *);
const char *cg_header(struct cg_call *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
const char **cg_headers_plus(struct cg_call *, const char **extra);

#endif
