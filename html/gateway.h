/*
 * The gateway's own pages: /login, and the small chat page served when
 * ChatGPT's live page cannot be.  No CDN, no external script, style or
 * font: inline CSS and script carry the response's CSP nonce, and every
 * value is escaped here by context (html/escape.h).
 */
#ifndef HTML_GATEWAY_H
#define HTML_GATEWAY_H

#include "fcgi/buf.h"

struct gw_html {
	const char	*base;		/* the mount: "" or "/chat2api" */
	const char	*nonce;		/* CSP nonce of this response */
	const char	*flash;		/* one line of feedback, or NULL */
	int		 flash_bad;
	const char	*csrf;		/* the login form's token */
	int		 has_login;	/* a login cookie is there to reuse */
};

int	 gw_html_login(struct buf *, const struct gw_html *);
/* note: why this page and not ChatGPT's (shown to the user). */
int	 gw_html_chat(struct buf *, const struct gw_html *, const char *note);

#endif
