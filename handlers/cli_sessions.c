/*
 * chat2api sessions list|prune|clear: the multi-turn sessions
 * (handlers/session.h).  Requests prune a few expired sessions as they
 * go; prune does all of them now (e.g. from cron on a quiet server), and
 * clear ends every session.  Both delete the sessions' upstream chats
 * unless SESSION_DELETE=false.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/cli.h"
#include "handlers/session.h"

#define CLI_SESS_BATCH	64

static void
usage(void)
{
	fprintf(stderr,
	    "usage: chat2api sessions list\n"
	    "       chat2api sessions prune\n"
	    "       chat2api sessions clear [PROVIDER]\n");
}

static int
row(void *arg, const struct store_session *r)
{
	char created[32], expires[32];

	(void)arg;
	cli_fmt_time(r->created, created, sizeof(created));
	cli_fmt_time(r->expires, expires, sizeof(expires));
	printf("%-9s  %-8.8s  %5u  %-20s  %-20s  %s\n", r->provider,
	    r->account, r->turns, created, expires, r->chat_id);
	return 0;
}

/* Deletes what came back, unless the operator keeps the chats. */
static size_t
forget(const struct config *cfg, struct store *st,
    const struct store_session *gone, size_t n)
{
	struct arena a;
	size_t done;

	if (!cfg->session_delete || n == 0)
		return 0;
	arena_init(&a, 0);
	done = session_forget(cfg, st, &a, gone, n);
	arena_free(&a);
	return done;
}

struct collect {
	const char		*provider;
	struct store_session	*v;
	size_t			 n, cap;
};

static int
collect(void *arg, const struct store_session *r)
{
	struct collect *c = arg;
	struct store_session *nv;

	if (c->provider != NULL && strcmp(c->provider, r->provider) != 0)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		if ((nv = realloc(c->v, c->cap * sizeof(*nv))) == NULL)
			return 1;
		c->v = nv;
	}
	c->v[c->n++] = *r;
	return 0;
}

/* Every expired session ended, its chat deleted; -1 when the store fails. */
static int
prune(const struct config *cfg, struct store *st, size_t *ended,
    size_t *deleted)
{
	struct store_session gone[CLI_SESS_BATCH];
	enum store_err e;
	size_t n;

	do {
		if ((e = store_session_expired(st, gone, CLI_SESS_BATCH, &n)) !=
		    STORE_OK)
			return cli_store_fail("sessions prune", e, NULL), -1;
		*ended += n;
		*deleted += forget(cfg, st, gone, n);
	} while (n == CLI_SESS_BATCH);
	return 0;
}

static int
clear(const struct config *cfg, struct store *st, const char *provider)
{
	struct collect c;
	struct store_session got;
	size_t i, ended = 0, deleted = 0;
	enum store_err e;

	if (prune(cfg, st, &ended, &deleted) < 0)
		return 1;
	memset(&c, 0, sizeof(c));
	c.provider = provider;
	if ((e = store_session_each(st, collect, &c)) != STORE_OK) {
		free(c.v);
		return cli_store_fail("sessions clear", e, NULL);
	}
	for (i = 0; i < c.n; i++) {
		/* a request holding it now finishes it: then it is its */
		if (store_session_take(st, c.v[i].key, &got) != STORE_OK)
			continue;
		ended++;
		deleted += forget(cfg, st, &got, 1);
		if ((e = store_session_drop(st, got.key)) != STORE_OK) {
			free(c.v);
			return cli_store_fail("sessions clear", e, NULL);
		}
	}
	printf("%zu session(s) ended, %zu upstream chat(s) deleted\n", ended,
	    deleted);
	free(c.v);
	return 0;
}

int
cli_sessions(const struct config *cfg, struct store *st, int argc,
    char **argv)
{
	size_t ended = 0, deleted = 0;
	enum store_err e;

	if (argc == 3 && strcmp(argv[2], "list") == 0) {
		printf("%-9s  %-8s  %5s  %-20s  %-20s  %s\n", "PROVIDER",
		    "ACCOUNT", "TURNS", "STARTED", "EXPIRES", "CHAT");
		if ((e = store_session_each(st, row, NULL)) != STORE_OK)
			return cli_store_fail("sessions list", e, NULL);
		return 0;
	}
	if (argc == 3 && strcmp(argv[2], "prune") == 0) {
		if (prune(cfg, st, &ended, &deleted) < 0)
			return 1;
		printf("%zu expired session(s) ended, %zu upstream chat(s) "
		    "deleted\n", ended, deleted);
		return 0;
	}
	if ((argc == 3 || argc == 4) && strcmp(argv[2], "clear") == 0)
		return clear(cfg, st, argc == 4 ? argv[3] : NULL);
	usage();
	return 2;
}
