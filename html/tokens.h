/*
 * The /tokens pages: login, the pool overview with its forms, "disabled"
 * and "refused".  Plain HTML and inline CSS (allowed by a per-response CSP
 * nonce); no script, no external resource.  Every value is escaped here by
 * context (html/escape.h), so callers pass raw data.
 */
#ifndef HTML_TOKENS_H
#define HTML_TOKENS_H

#include <stddef.h>
#include <time.h>

#include "fcgi/buf.h"
#include "store/accounts.h"

#define TOKENS_ROWS_MAX		500	/* pool rows shown */
#define TOKENS_ERRORS_MAX	1000	/* error rows shown */

/* What every page needs. */
struct tokens_page {
	const char	*base;		/* mount + prefix: "" or "/pfx/secret" */
	const char	*nonce;		/* CSP style nonce */
	const char	*flash;		/* one line of feedback, or NULL */
	int		 flash_bad;	/* shown as an error */
	const char	*home;		/* "/admin": its login form; NULL: /tokens */
};

enum tokens_col { TOKENS_COL_ACTIVE, TOKENS_COL_COOLING, TOKENS_COL_ERROR,
	TOKENS_NCOLS };

#define TOKENS_KINDS_MAX	8

struct tokens_view {
	const char		*csrf;
	time_t			 now;
	time_t			 session_expires;
	size_t			 seeds;		/* of the gateway */
	struct acct_counts	 counts;
	/* the pool's credential kinds; [0] is unused by ChatGPT's */
	const char *const	*kind_names;
	size_t			 nkinds;
	/* [kind][column] */
	size_t			 grid[TOKENS_KINDS_MAX][TOKENS_NCOLS];
	const struct acct_info	*rows;
	size_t			 nrows, rows_total;
	const struct acct_info	*errors;
	size_t			 nerrors, errors_total;
};

/* The look shared with /admin (html/admin*.c). */
extern const char tokens_css[];

int	 tokens_html_main(struct buf *, const struct tokens_page *,
	    const struct tokens_view *);
int	 tokens_html_login(struct buf *, const struct tokens_page *);
int	 tokens_html_disabled(struct buf *, const struct tokens_page *);
int	 tokens_html_refused(struct buf *, const struct tokens_page *,
	    const char *why);
/* "2026-11-23 19:08:44 UTC", or "-" for 0. */
void	 tokens_fmt_time(int64_t, char *out, size_t outsz);

#endif
