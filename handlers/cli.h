/*
 * The command line: `chat2api tokens|accounts|keys|models|refresh ...`
 * work on the same data dir as the service, so a server can be
 * provisioned from a shell.  One file per command family
 * (handlers/cli_*.c); listings show fingerprints, and only
 * `tokens export` prints secrets, to stdout.
 */
#ifndef HANDLERS_CLI_H
#define HANDLERS_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "fcgi/conf.h"
#include "store/store.h"

/* 1 when argv names a subcommand (otherwise: serve). */
int	 cli_wants(int argc, char **argv);
int	 cli_run(const struct config *, int argc, char **argv);

/* The families; argv[1] is the family's name.  0, 1 failed, 2 usage. */
int	 cli_tokens(const struct config *, struct store *, int, char **);
int	 cli_accounts(const struct config *, struct store *, int, char **);
int	 cli_keys(const struct config *, struct store *, int, char **);
int	 cli_models(const struct config *, struct store *, int, char **);
int	 cli_sessions(const struct config *, struct store *, int, char **);
int	 cli_store(const struct config *, struct store *, int, char **);

/* Shared helpers (handlers/cli.c). */
#define CLI_MAX_INPUT	(64u << 20)
char	*cli_read_stdin(size_t *len);
void	 cli_fmt_time(int64_t, char *out, size_t sz);
/* "store error" on stderr for command what; returns 1. */
int	 cli_store_fail(const char *what, enum store_err, const char *notfound);
/* A non-negative integer option value, or -1. */
long	 cli_number(const char *);

#endif
