/*
 * chat2api sessions list|prune|clear|end: the multi-turn sessions
 * (handlers/session.h).  Requests prune a few expired sessions as they
 * go; prune does all of them now (e.g. from cron on a quiet server),
 * clear ends every session (of a provider), end one by its id.  Each
 * deletes the sessions' upstream chats unless SESSION_DELETE=false.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "handlers/cli.h"
#include "handlers/session.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: chat2api sessions list\n"
	    "       chat2api sessions prune\n"
	    "       chat2api sessions clear [PROVIDER]\n"
	    "       chat2api sessions end ID\n");
}

static int
row(void *arg, const struct store_session *r)
{
	char created[32], expires[32], id[SESSION_ID_LEN + 1];

	(void)arg;
	cli_fmt_time(r->created, created, sizeof(created));
	cli_fmt_time(r->expires, expires, sizeof(expires));
	session_id_of(r, id);
	printf("%s  %-9s  %-8.8s  %5u  %-20s  %-20s  %s%s\n", id,
	    r->provider, r->account, r->turns, created, expires, r->chat_id,
	    r->claimed ? " (answering)" : "");
	return 0;
}

int
cli_sessions(const struct config *cfg, struct store *st, int argc,
    char **argv)
{
	struct arena a;
	size_t ended = 0, deleted = 0;
	enum store_err e = STORE_OK;
	const char *what;

	if (argc == 3 && strcmp(argv[2], "list") == 0) {
		printf("%-64s  %-9s  %-8s  %5s  %-20s  %-20s  %s\n", "ID",
		    "PROVIDER", "ACCOUNT", "TURNS", "STARTED", "EXPIRES",
		    "CHAT");
		if ((e = store_session_each(st, row, NULL)) != STORE_OK)
			return cli_store_fail("sessions list", e, NULL);
		return 0;
	}
	arena_init(&a, 0);
	if (argc == 3 && strcmp(argv[2], "prune") == 0) {
		what = "sessions prune";
		if ((e = session_prune_all(cfg, st, &a, &ended, &deleted)) ==
		    STORE_OK)
			printf("%zu expired session(s) ended, %zu upstream "
			    "chat(s) deleted\n", ended, deleted);
	} else if ((argc == 3 || argc == 4) &&
	    strcmp(argv[2], "clear") == 0) {
		what = "sessions clear";
		if ((e = session_end_all(cfg, st, &a, argc == 4 ? argv[3] :
		    NULL, &ended, &deleted)) == STORE_OK)
			printf("%zu session(s) ended, %zu upstream chat(s) "
			    "deleted\n", ended, deleted);
	} else if (argc == 4 && strcmp(argv[2], "end") == 0) {
		what = "sessions end";
		if ((e = session_end_id(cfg, st, &a, argv[3], &deleted)) ==
		    STORE_OK)
			printf("session ended, %zu upstream chat(s) deleted\n",
			    deleted);
	} else {
		arena_free(&a);
		usage();
		return 2;
	}
	arena_free(&a);
	if (e != STORE_OK)
		return cli_store_fail(what, e, "no such live session (or a "
		    "request is answering in it)");
	return 0;
}
