/*
 * chat2api store export|import FILE: the whole store as one sealed file
 * (store/transfer.c), to move an install from LMDB to Redis or back.
 * The store is the one CHAT2API_STORE names; both ends need the same
 * secret key.  "-" is standard output or input.  An import replaces
 * what the target held.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "handlers/cli.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: chat2api store export FILE|-\n"
	    "       chat2api store import FILE|-\n");
}

int
cli_store(const struct config *cfg, struct store *st, int argc, char **argv)
{
	char err[256];
	size_t n = 0;
	enum store_err e;
	FILE *f;
	int out, rc = 1;

	(void)cfg;
	if (argc != 4 || (strcmp(argv[2], "export") != 0 &&
	    strcmp(argv[2], "import") != 0)) {
		usage();
		return 2;
	}
	out = strcmp(argv[2], "export") == 0;
	if (strcmp(argv[3], "-") == 0)
		f = out ? stdout : stdin;
	else if ((f = fopen(argv[3], out ? "wbx" : "rb")) == NULL) {
		fprintf(stderr, "chat2api: %s: %s\n", argv[3], out ?
		    "cannot create it (it must not exist yet)" :
		    "cannot open it");
		return 1;
	}
	if (out) {
		e = store_export(st, f, &n);
		if (e != STORE_OK)
			cli_store_fail("store export", e, NULL);
		else {
			fprintf(stderr, "chat2api: exported %zu record(s)\n", n);
			rc = 0;
		}
	} else {
		e = store_import(st, f, &n, err, sizeof(err));
		if (e != STORE_OK)
			fprintf(stderr, "chat2api: store import: %s (%zu "
			    "record(s) imported before it)\n", err, n);
		else {
			fprintf(stderr, "chat2api: imported %zu record(s)\n", n);
			rc = 0;
		}
	}
	if (f != stdout && f != stdin && fclose(f) != 0 && out) {
		fprintf(stderr, "chat2api: %s: write failed\n", argv[3]);
		rc = 1;
	}
	return rc;
}
