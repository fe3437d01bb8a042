/*
 * chat2api tokens add|list|remove|clear|errors-clear|export: the pool of
 * the catch-all provider (ChatGPT) in the reference's terms — one token
 * per line, "token,account_id" for a team.  `accounts` is the general
 * form of the same records.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers/acct_lines.h"
#include "handlers/cli.h"
#include "store/accounts.h"
#include "store/crypto.h"
#include "store/tokcache.h"
#include "upstream/provider.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: chat2api tokens add [TOKEN[,ACCOUNT_ID] ...]  "
	    "(none: one per line on stdin)\n"
	    "       chat2api tokens list\n"
	    "       chat2api tokens remove FINGERPRINT|ID\n"
	    "       chat2api tokens clear\n"
	    "       chat2api tokens errors-clear\n"
	    "       chat2api tokens export\n");
}

static int
print_row(void *arg, const struct acct_info *i)
{
	const struct provider *p = arg;
	char used[32], errat[32];
	const char *status = acct_status_name(i->status);

	if (i->status == ACCT_ACTIVE && i->cooldown_until > time(NULL))
		status = "cooling";
	cli_fmt_time(i->last_used_at, used, sizeof(used));
	cli_fmt_time(i->last_error_at, errat, sizeof(errat));
	printf("%-12s  %-13s  %-8s  %-20s  %5u  %-20s  %-20s  %s\n",
	    i->fingerprint, provider_kind_name(p, i->kind), status,
	    i->team_id[0] ? i->team_id : "-", i->error_count, used, errat,
	    i->last_error[0] ? i->last_error : "");
	return 0;
}

static int
print_secret(void *arg, const struct acct_info *i, const char *secret,
    const struct acct_field *f, size_t nf)
{
	(void)arg;
	(void)f;
	(void)nf;
	if (i->team_id[0])
		printf("%s,%s\n", secret, i->team_id);
	else
		printf("%s\n", secret);
	return 0;
}

static enum store_err
add(struct store *st, const struct provider *p, int argc, char **argv,
    struct acct_lines_result *sum)
{
	struct acct_lines_result res;
	enum store_err e = STORE_OK;
	size_t len;
	char *text;
	int i;

	memset(sum, 0, sizeof(*sum));
	if (argc == 3) {
		if ((text = cli_read_stdin(&len)) == NULL)
			return STORE_ENOMEM;
		e = acct_lines_add(st, p, text, len, sum);
		crypto_wipe(text, len);
		free(text);
		return e;
	}
	for (i = 3; i < argc && e == STORE_OK; i++) {
		e = acct_lines_add(st, p, argv[i], strlen(argv[i]), &res);
		sum->added += res.added;
		sum->dups += res.dups;
		sum->skipped += res.skipped;
	}
	return e;
}

int
cli_tokens(const struct config *cfg, struct store *st, int argc, char **argv)
{
	const struct provider *p = provider_default();
	struct acct_lines_result res;
	struct acct_counts c;
	enum store_err e = STORE_OK;
	size_t n;

	(void)cfg;
	if (argc < 3 || p == NULL) {
		usage();
		return 2;
	}
	if (strcmp(argv[2], "add") == 0) {
		if ((e = add(st, p, argc, argv, &res)) == STORE_OK)
			printf("added %zu, already present %zu, skipped %zu "
			    "(not a token)\n", res.added, res.dups,
			    res.skipped);
	} else if (strcmp(argv[2], "list") == 0) {
		printf("%-12s  %-13s  %-8s  %-20s  %5s  %-20s  %-20s  %s\n",
		    "FINGERPRINT", "KIND", "STATUS", "ACCOUNT", "ERRS",
		    "LAST USED", "LAST ERROR AT", "LAST ERROR");
		e = acct_list(st, p->id, print_row, (void *)p);
		if (e == STORE_OK && (e = acct_count(st, p->id, &c)) ==
		    STORE_OK)
			printf("# %zu total, %zu active, %zu cooling, %zu "
			    "error\n", c.total, c.active, c.cooling,
			    c.error + c.expired + c.inactive);
	} else if (strcmp(argv[2], "remove") == 0 && argc == 4) {
		if ((e = acct_remove(st, p->id, argv[3])) == STORE_OK)
			printf("removed\n");
	} else if (strcmp(argv[2], "clear") == 0) {
		if ((e = acct_clear(st, p->id, &n)) == STORE_OK) {
			tokcache_clear(st);
			printf("removed %zu\n", n);
		}
	} else if (strcmp(argv[2], "errors-clear") == 0) {
		if ((e = acct_errors_clear(st, p->id)) == STORE_OK)
			printf("error list cleared\n");
	} else if (strcmp(argv[2], "export") == 0) {
		e = acct_export(st, p->id, print_secret, NULL);
	} else {
		usage();
		return 2;
	}
	if (e != STORE_OK) {
		fprintf(stderr, "chat2api: tokens %s: %s\n", argv[2],
		    e == STORE_NOTFOUND ? "no such credential" :
		    store_strerror(e));
		return 1;
	}
	return 0;
}
