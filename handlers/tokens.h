/*
 * Shared by the /tokens handlers (handlers/tokens*.c) only: the state of
 * one request, and the answers, flash messages and the gate (login, CSRF,
 * origin) every action goes through.
 *
 * A browser form (application/x-www-form-urlencoded without a Bearer) is
 * answered with 303 back to /tokens and a flash message; anything else
 * gets JSON.  The pool shown is the catch-all provider's (ChatGPT's):
 * /admin will show every provider.
 */
#ifndef HANDLERS_TOKENS_H
#define HANDLERS_TOKENS_H

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "fcgi/req.h"
#include "handlers/admin_auth.h"
#include "html/tokens.h"
#include "store/store.h"

#define TOK_UPLOAD_MAX	(1L << 20)	/* bytes of one upload */
#define TOK_LINES_MAX	10000		/* lines of one upload */
#define TOK_PAGE_MAX	(16u << 20)	/* rendered page */
#define TOK_ID_MAX	64

struct tok {
	struct req		*r;
	struct admin_auth	 auth;
	struct tokens_page	 pg;
	char			 nonce[33];
	int			 form;	/* urlencoded body */
	int			 json;	/* JSON body */
	int			 html;	/* answer a browser form with 303 */
	int			 go;	/* tok_gate: the action may run */
	int			 script; /* the page runs its inline script */
	const char		*home;	/* "/tokens" or "/admin": redirects */
};

/* handlers/tokens_reply.c */
int		 tok_ctype_is(const char *ct, const char *want);
void		 tok_init(struct tok *, struct req *);
/* The provider whose pool /tokens manages. */
const char	*tok_provider(void);
enum app_err	 tok_json(struct tok *, int status, struct json_object *,
		    const char *extra);
enum app_err	 tok_json_error(struct tok *, int status, const char *type,
		    const char *code, const char *param, const char *msg,
		    const char *extra);
enum app_err	 tok_html(struct tok *, int status, struct buf *page,
		    const char *extra);
/* 303 to BASE<home>?query#fragment; extra may carry a Set-Cookie. */
enum app_err	 tok_redirect(struct tok *, const char *query,
		    const char *fragment, const char *extra);
/* handlers/tokens.c: login and logout, for /tokens and /admin alike */
enum app_err	 tok_login(struct tok *);
enum app_err	 tok_logout(struct tok *);
enum app_err	 tok_page_refused(struct tok *, int status, const char *why);
enum app_err	 tok_page_login(struct tok *, int status);
enum app_err	 tok_disabled(struct tok *);
enum app_err	 tok_throttled(struct tok *, long wait);
enum app_err	 tok_bad_bearer(struct tok *);
void		 tok_flash(struct tok *);
const char	*tok_who(struct tok *, char fp[LOG_FP_LEN]);
/*
 * Authentication, origin and CSRF for every POST action.  Sets t->go
 * when the action may run; otherwise the refusal has been sent.
 */
enum app_err	 tok_gate(struct tok *);
/* Form field or JSON string member; NULL when absent. */
const char	*tok_arg(struct tok *, const char *name, int *malformed);
enum app_err	 tok_store_err(enum store_err);
size_t		 tok_active(struct store *);
enum app_err	 tok_success(struct tok *, const char *k1, size_t v1,
		    const char *k2, size_t v2, const char *k3, size_t v3);

#endif
