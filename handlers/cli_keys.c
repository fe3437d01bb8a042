/*
 * chat2api keys add|list|enable|disable|remove: the proxy API keys
 * (providers.md §10.6).  A key is printed once, when it is made; the
 * store keeps only its HMAC, so a lost key is replaced, not recovered.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "handlers/cli.h"
#include "store/apikeys.h"
#include "store/crypto.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: chat2api keys add [--name NAME]\n"
	    "       chat2api keys list\n"
	    "       chat2api keys enable|disable|remove ID\n");
}

static int
row(void *arg, const struct apikey_info *k)
{
	char created[32], used[32];

	(void)arg;
	cli_fmt_time(k->created_at, created, sizeof(created));
	cli_fmt_time(k->last_used_at, used, sizeof(used));
	printf("%-12s  %-8s  %-15s  %-20s  %-20s  %8llu  %s\n", k->id,
	    k->enabled ? "enabled" : "disabled", k->hint, created, used,
	    (unsigned long long)k->requests, k->name[0] ? k->name : "-");
	return 0;
}

int
cli_keys(const struct config *cfg, struct store *st, int argc, char **argv)
{
	struct apikey_info info;
	char key[APIKEY_LEN + 1];
	const char *name = NULL;
	enum store_err e;

	(void)cfg;
	if (argc < 3) {
		usage();
		return 2;
	}
	if (strcmp(argv[2], "add") == 0) {
		if (argc == 5 && strcmp(argv[3], "--name") == 0)
			name = argv[4];
		else if (argc != 3) {
			usage();
			return 2;
		}
		if ((e = apikey_create(st, name, key, &info)) != STORE_OK)
			return cli_store_fail("keys add", e, NULL);
		/* The only time the key is shown. */
		printf("%s\n", key);
		fprintf(stderr, "key %s created; it is shown once, store it "
		    "now\n", info.id);
		crypto_wipe(key, sizeof(key));
		return 0;
	}
	if (strcmp(argv[2], "list") == 0 && argc == 3) {
		printf("%-12s  %-8s  %-15s  %-20s  %-20s  %8s  %s\n", "ID",
		    "STATUS", "KEY", "CREATED", "LAST USED", "REQUESTS",
		    "NAME");
		if ((e = apikey_list(st, row, NULL)) != STORE_OK)
			return cli_store_fail("keys list", e, NULL);
		return 0;
	}
	if (argc != 4) {
		usage();
		return 2;
	}
	if (strcmp(argv[2], "enable") == 0 || strcmp(argv[2], "disable") == 0)
		e = apikey_enable(st, argv[3], argv[2][0] == 'e');
	else if (strcmp(argv[2], "remove") == 0)
		e = apikey_remove(st, argv[3]);
	else {
		usage();
		return 2;
	}
	if (e != STORE_OK)
		return cli_store_fail(argv[2], e, "no such key (give the 12 hex "
		    "digits `keys list` shows)");
	printf("%sd\n", argv[2]);	/* enabled, disabled, removed */
	return 0;
}
