/*
 * The /admin console's templates (html/admin_*.c).  The look, the login
 * form and the escaping are /tokens' (html/tokens.h, html/escape.h);
 * every value is escaped here by context, so callers pass raw data.
 */
#ifndef HTML_ADMIN_H
#define HTML_ADMIN_H

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "html/tokens.h"

#define ADMIN_SHARE_MAX		8	/* bars in a share chart */
#define ADMIN_REFRESH_MS	10000	/* the overview's live refresh */

/* What the overview shows; stats is mgmt_statistics() for today. */
struct admin_overview {
	const char		*csrf;
	long			 uptime;	/* seconds */
	struct json_object	*stats;
	const char		*today;		/* "YYYYMMDD" in stats' days */
	double			 p50_ms, p95_ms;	/* -1: no request yet */
};

/* The shell every console page shares (html/admin_overview.c). */
void	 admin_html_head(struct buf *, const struct tokens_page *,
	    const char *title);
void	 admin_html_topbar(struct buf *, const struct tokens_page *,
	    const char *csrf, const char *on);
void	 admin_html_flash(struct buf *, const struct tokens_page *);
/* <form method=post action=BASE+path> with the CSRF field. */
void	 admin_form_open(struct buf *, const struct tokens_page *,
	    const char *path, const char *csrf);
void	 admin_hidden(struct buf *, const char *name, const char *value);
/* A member of o: the string ("" when absent), the integer (0). */
const char	*admin_jstr(struct json_object *, const char *);
long long	 admin_jint(struct json_object *, const char *);

/* The whole page, or (fragment) only what the live refresh replaces. */
int	 admin_html_overview(struct buf *, const struct tokens_page *,
	    const struct admin_overview *, int fragment);

/* html/admin_accounts.c: accounts per provider (json: mgmt_accounts()) */
struct admin_accounts {
	const char		*csrf;
	const char		*provider;	/* the tab shown; NULL: all */
	struct json_object	*rows;
};
int	 admin_html_accounts(struct buf *, const struct tokens_page *,
	    const struct admin_accounts *);

/* The step before "delete all upstream chats" of one account. */
struct admin_purge {
	const char	*csrf;
	const char	*tab;		/* the provider tab to go back to */
	const char	*id, *provider, *fingerprint, *label;
};
int	 admin_html_purge_confirm(struct buf *, const struct tokens_page *,
	    const struct admin_purge *);

/* html/admin_keys.c: API keys (json: mgmt_keys()) */
struct admin_keys {
	const char		*csrf;
	struct json_object	*rows;
	const char		*created_name;	/* just made: shown once */
	const char		*created_key;
	const char		*once;		/* the create form's token */
};
int	 admin_html_keys(struct buf *, const struct tokens_page *,
	    const struct admin_keys *);

/* html/admin_mappings.c: model mappings (mgmt_mappings()) and where a
 * name goes (mgmt_resolve(); NULL: not asked, or err when it failed) */
struct admin_mappings {
	const char		*csrf;
	struct json_object	*rows;
	const char		*asked;		/* the name in the box */
	struct json_object	*resolved;
	const char		*resolve_err;
};
int	 admin_html_mappings(struct buf *, const struct tokens_page *,
	    const struct admin_mappings *);

/* html/admin_logs.c: the request log (mgmt_logs()) with its filter form,
 * or one entry (mgmt_log_get()) */
struct admin_logs {
	const char		*csrf;
	struct json_object	*rows;		/* the list, or NULL */
	struct json_object	*entry;		/* the detail, or NULL */
	/* the filter as asked, for the form and the export links */
	const char		*from, *status, *provider, *model, *q;
	long long		 now;
};
int	 admin_html_logs(struct buf *, const struct tokens_page *,
	    const struct admin_logs *);

/* html/admin_settings.c: the live sessions (mgmt_sessions()) with end
 * and prune forms, and the effective configuration (mgmt_config()) */
int	 admin_html_sessions(struct buf *, const struct tokens_page *,
	    const char *csrf, struct json_object *rows);
int	 admin_html_settings(struct buf *, const struct tokens_page *,
	    const char *csrf, struct json_object *rows);

/* html/admin_svg.c: the charts, drawn as inline SVG */
struct admin_bar {
	const char	*name;
	double		 value;
};
/* Columns per time bucket (a minute, an hour), errors stacked in another
 * colour, oldest first; span labels the left end ("-60 min"). */
void	 admin_svg_minutes(struct buf *, const char *title, const char *span,
	    const double *total, const double *errors, size_t n);
/* A line of values per bucket with horizontal p50/p95 marks. */
void	 admin_svg_latency(struct buf *, const char *title, const char *span,
	    const double *avg_ms, size_t n, double p50_ms, double p95_ms);
/* Horizontal bars with their names and shares of the sum. */
void	 admin_svg_share(struct buf *, const char *title,
	    const struct admin_bar *, size_t n);

#endif
