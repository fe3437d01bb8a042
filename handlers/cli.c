/*
 * The command line's entry: which family, the store opened once, and the
 * helpers the families share.  `chat2api refresh` is here too: it walks
 * every provider's accounts (handlers/accounts_refresh.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "handlers/accounts_ops.h"
#include "handlers/cli.h"

static const struct {
	const char	*name;
	int		(*fn)(const struct config *, struct store *, int,
			    char **);
} families[] = {
	{ "tokens", cli_tokens },
	{ "accounts", cli_accounts },
	{ "keys", cli_keys },
	{ "models", cli_models },
	{ "sessions", cli_sessions },
	{ "store", cli_store },
	{ "refresh", NULL },
};

#define NFAMILIES	(sizeof(families) / sizeof(families[0]))

int
cli_wants(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return 0;
	for (i = 0; i < NFAMILIES; i++)
		if (strcmp(argv[1], families[i].name) == 0)
			return 1;
	return 0;
}

char *
cli_read_stdin(size_t *len)
{
	size_t cap = 65536, n = 0, r;
	char *buf = malloc(cap), *nb;

	while (buf != NULL && (r = fread(buf + n, 1, cap - n - 1, stdin)) > 0) {
		n += r;
		if (n + 1 == cap) {
			if (cap >= CLI_MAX_INPUT ||
			    (nb = realloc(buf, cap * 2)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (buf != NULL)
		buf[n] = '\0';
	*len = n;
	return buf;
}

void
cli_fmt_time(int64_t t, char *out, size_t sz)
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

int
cli_store_fail(const char *what, enum store_err e, const char *notfound)
{
	fprintf(stderr, "chat2api: %s: %s\n", what,
	    e == STORE_NOTFOUND && notfound != NULL ? notfound :
	    e == STORE_INVAL ? "invalid value" : store_strerror(e));
	return 1;
}

long
cli_number(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	v = strtol(s, &end, 10);
	return *end == '\0' && v >= 0 ? v : -1;
}

static int
cli_refresh(const struct config *cfg, struct store *st, int argc,
    char **argv)
{
	size_t ok, failed;
	int force = argc >= 3 && strcmp(argv[2], "--force") == 0;

	if (argc > 3 || (argc == 3 && !force)) {
		fprintf(stderr, "usage: chat2api refresh [--force]\n");
		return 2;
	}
	if (accounts_refresh_all(cfg, st, force, &ok, &failed) < 0) {
		fprintf(stderr, "chat2api: refresh: cannot read the "
		    "accounts\n");
		return 1;
	}
	printf("refreshed %zu, failed %zu\n", ok, failed);
	return failed ? 1 : 0;
}

int
cli_run(const struct config *cfg, int argc, char **argv)
{
	struct store *st = NULL;
	enum store_err e;
	char err[256];
	size_t i;
	int rc = 1;

	if ((e = store_open_backend(&st, cfg->store, cfg->data_dir,
	    (size_t)cfg->map_size)) != STORE_OK) {
		fprintf(stderr, "chat2api: CHAT2API_DATA_DIR=%s: %s\n",
		    cfg->data_dir, store_strerror(e));
		return 1;
	}
	if (store_key_init(st, cfg->secret_key, err, sizeof(err)) !=
	    STORE_OK) {
		fprintf(stderr, "chat2api: %s\n", err);
		goto out;
	}
	if (cfg->test_routes && cfg->test_clock_skew)
		store_set_clock_skew(st, cfg->test_clock_skew);
	for (i = 0; i < NFAMILIES; i++)
		if (strcmp(argv[1], families[i].name) == 0)
			break;
	rc = families[i].fn != NULL ? families[i].fn(cfg, st, argc, argv) :
	    cli_refresh(cfg, st, argc, argv);
out:
	store_close(st);
	return rc;
}
