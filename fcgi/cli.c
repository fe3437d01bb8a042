/*
 * chat2api tokens add|list|remove|clear|export and chat2api refresh: a
 * server can be provisioned from a shell.  Listings show fingerprints;
 * only export prints secrets, and only to stdout.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/cli.h"
#include "fcgi/log.h"
#include "store/creds.h"
#include "store/crypto.h"
#include "upstream/chatgpt/refresh.h"

#define CLI_MAX_INPUT	(64u << 20)

int
cli_wants(int argc, char **argv)
{
	return argc >= 2 && (strcmp(argv[1], "tokens") == 0 ||
	    strcmp(argv[1], "refresh") == 0);
}

static void
cli_usage(void)
{
	fprintf(stderr,
	    "usage: chat2api tokens add [TOKEN[,ACCOUNT_ID] ...]  "
	    "(none: one per line on stdin)\n"
	    "       chat2api tokens list\n"
	    "       chat2api tokens remove FINGERPRINT|ID\n"
	    "       chat2api tokens clear\n"
	    "       chat2api tokens errors-clear\n"
	    "       chat2api tokens export\n"
	    "       chat2api refresh [--force]\n");
}

static char *
read_stdin(size_t *len)
{
	size_t cap = 65536, n = 0, r;
	char *buf = malloc(cap), *nb;

	while (buf != NULL && (r = fread(buf + n, 1, cap - n, stdin)) > 0) {
		n += r;
		if (n == cap) {
			if (cap >= CLI_MAX_INPUT ||
			    (nb = realloc(buf, cap * 2)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	*len = n;
	return buf;
}

static void
fmt_time(int64_t t, char *out, size_t sz)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0) {
		snprintf(out, sz, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
print_row(void *arg, const struct cred_info *i)
{
	char used[32], errat[32];
	const char *status = cred_status_name(i->status);

	(void)arg;
	if (i->status == CRED_ACTIVE && i->cooldown_until > time(NULL))
		status = "cooling";
	fmt_time(i->last_used_at, used, sizeof(used));
	fmt_time(i->last_error_at, errat, sizeof(errat));
	printf("%-12s  %-13s  %-7s  %-20s  %5u  %-20s  %-20s  %s\n",
	    i->fingerprint, cred_kind_name(i->kind), status,
	    i->account_id[0] ? i->account_id : "-", i->error_count, used,
	    errat, i->last_error[0] ? i->last_error : "");
	return 0;
}

static int
print_secret(void *arg, const struct cred_info *i, const char *secret)
{
	(void)arg;
	if (i->account_id[0])
		printf("%s,%s\n", secret, i->account_id);
	else
		printf("%s\n", secret);
	return 0;
}

static int
cli_tokens(struct store *st, int argc, char **argv)
{
	struct cred_counts c;
	enum store_err e = STORE_OK;
	size_t added = 0, dups = 0, n, len;
	char *text;
	int i;

	if (argc < 3) {
		cli_usage();
		return 2;
	}
	if (strcmp(argv[2], "add") == 0) {
		if (argc == 3) {
			if ((text = read_stdin(&len)) == NULL) {
				fprintf(stderr, "chat2api: cannot read stdin\n");
				return 1;
			}
			e = cred_add_lines(st, text, len, &added, &dups);
			crypto_wipe(text, len);
			free(text);
		} else {
			for (i = 3; i < argc && e == STORE_OK; i++) {
				size_t a = 0, d = 0;
				e = cred_add_lines(st, argv[i], strlen(argv[i]),
				    &a, &d);
				added += a;
				dups += d;
			}
		}
		if (e == STORE_OK)
			printf("added %zu, already present %zu\n", added, dups);
	} else if (strcmp(argv[2], "list") == 0) {
		printf("%-12s  %-13s  %-7s  %-20s  %5s  %-20s  %-20s  %s\n",
		    "FINGERPRINT", "KIND", "STATUS", "ACCOUNT", "ERRS",
		    "LAST USED", "LAST ERROR AT", "LAST ERROR");
		e = cred_list(st, print_row, NULL);
		if (e == STORE_OK && (e = cred_count(st, &c)) == STORE_OK)
			printf("# %zu total, %zu active, %zu cooling, %zu "
			    "error\n", c.total, c.active, c.cooling, c.error);
	} else if (strcmp(argv[2], "remove") == 0 && argc == 4) {
		e = cred_remove(st, argv[3]);
		if (e == STORE_OK)
			printf("removed\n");
	} else if (strcmp(argv[2], "clear") == 0) {
		if ((e = cred_clear(st, &n)) == STORE_OK)
			printf("removed %zu\n", n);
	} else if (strcmp(argv[2], "errors-clear") == 0) {
		if ((e = cred_errors_clear(st)) == STORE_OK)
			printf("error list cleared\n");
	} else if (strcmp(argv[2], "export") == 0) {
		e = cred_export(st, print_secret, NULL);
	} else {
		cli_usage();
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

int
cli_run(const struct config *cfg, int argc, char **argv)
{
	struct store *st = NULL;
	enum store_err e;
	size_t ok, failed;
	char err[256];
	int rc = 1, force;

	if ((e = store_open(&st, cfg->data_dir, (size_t)cfg->map_size)) !=
	    STORE_OK) {
		fprintf(stderr, "chat2api: CHAT2API_DATA_DIR=%s: %s\n",
		    cfg->data_dir, store_strerror(e));
		return 1;
	}
	if (store_key_init(st, cfg->secret_key, err, sizeof(err)) !=
	    STORE_OK) {
		fprintf(stderr, "chat2api: %s\n", err);
		goto out;
	}
	if (strcmp(argv[1], "tokens") == 0)
		rc = cli_tokens(st, argc, argv);
	else {
		force = argc >= 3 && strcmp(argv[2], "--force") == 0;
		if (argc > 3 || (argc == 3 && !force)) {
			cli_usage();
			rc = 2;
			goto out;
		}
		if (chatgpt_refresh_all(cfg, st, force, &ok, &failed) < 0) {
			fprintf(stderr, "chat2api: refresh: cannot read the "
			    "credentials\n");
			goto out;
		}
		printf("refreshed %zu, failed %zu\n", ok, failed);
		rc = failed ? 1 : 0;
	}
out:
	store_close(st);
	return rc;
}
