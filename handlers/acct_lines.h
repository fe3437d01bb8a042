/*
 * Credentials as people paste them: one per line, "#" comments and blank
 * lines ignored, "secret,team_id" where the provider has team ids
 * (ChatGPT).  /tokens uploads and `chat2api tokens add` take this form;
 * lines that are no credential are counted as skipped, never stored.
 */
#ifndef HANDLERS_ACCT_LINES_H
#define HANDLERS_ACCT_LINES_H

#include <stddef.h>

#include "store/accounts.h"
#include "upstream/provider.h"

struct acct_lines_result {
	size_t	lines;		/* not blank, not a comment */
	size_t	added, dups, skipped;
};

/* All lines in one transaction: all are stored, or none. */
enum store_err	 acct_lines_add(struct store *, const struct provider *,
		    const char *text, size_t len, struct acct_lines_result *);

#endif
