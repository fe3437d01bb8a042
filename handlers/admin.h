/*
 * Shared by the /admin handlers (handlers/admin*.c): the console's request
 * state is /tokens' (handlers/tokens.h) with another home.
 */
#ifndef HANDLERS_ADMIN_H
#define HANDLERS_ADMIN_H

#include "handlers/tokens.h"

/* tok_init() for a console page whose redirects land on home. */
void	 adm_init(struct tok *, struct req *, const char *home);
/*
 * The gate of a console page (GET): 1 when the page may be shown,
 * 0 when the answer (login form, 401, 403, 429) has been sent; *e holds
 * the result of sending it.
 */
int	 adm_page_gate(struct tok *, enum app_err *e);

#endif
