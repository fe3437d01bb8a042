/*
 * chat2api accounts add|list|remove|enable|disable|set|validate|purge:
 * the accounts of every provider.  An account is named by the fingerprint
 * `list` shows (or its full 32-hex id).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers/accounts_ops.h"
#include "handlers/cli.h"
#include "handlers/mgmt.h"
#include "store/accounts.h"
#include "store/crypto.h"
#include "upstream/provider.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: chat2api accounts add PROVIDER CREDENTIAL|- [--label L] "
	    "[--daily-limit N]\n"
	    "                [--weight W] [--set FIELD=VALUE]...\n"
	    "       chat2api accounts list [PROVIDER]\n"
	    "       chat2api accounts remove|enable|disable ID\n"
	    "       chat2api accounts set ID [--daily-limit N] [--weight W] "
	    "[--label L]\n"
	    "       chat2api accounts validate [ID|PROVIDER]\n"
	    "       chat2api accounts purge ID\n"
	    "providers:");
	for (const struct provider *const *p = providers; *p; p++)
		fprintf(stderr, " %s", (*p)->id);
	fprintf(stderr, "\n");
}

/* The value of an option that takes one; -1 for a usage error. */
static int
opt_value(int argc, char **argv, int *i, const char *name, const char **out)
{
	if (strcmp(argv[*i], name) != 0)
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "chat2api: %s needs a value\n", name);
		return -1;
	}
	*out = argv[++*i];
	return 1;
}

static int
add(struct store *st, int argc, char **argv)
{
	const struct provider *p;
	const struct provider_field *pf;
	struct acct_field fields[ACCT_FIELDS_MAX];
	struct accounts_new it;
	const char *v, *eq;
	char *cred = NULL, id[ACCT_ID_LEN + 1], err[256];
	size_t nf = 0, len;
	long n;
	int i, rc = 2, got, added;

	if (argc < 5 || (p = provider_by_id(argv[3])) == NULL) {
		if (argc >= 4)
			fprintf(stderr, "chat2api: no provider %s\n", argv[3]);
		usage();
		return 2;
	}
	memset(&it, 0, sizeof(it));
	it.provider = p->id;
	for (i = 5; i < argc; i++) {
		if ((got = opt_value(argc, argv, &i, "--label", &it.label)) < 0)
			goto out;
		if (got)
			continue;
		if ((got = opt_value(argc, argv, &i, "--daily-limit", &v)) < 0)
			goto out;
		if (got) {
			if ((n = cli_number(v)) < 0 || n > ACCT_LIMIT_MAX)
				goto badnum;
			it.daily_limit = (uint32_t)n;
			continue;
		}
		if ((got = opt_value(argc, argv, &i, "--weight", &v)) < 0)
			goto out;
		if (got) {
			if ((n = cli_number(v)) < 1 || n > ACCT_WEIGHT_MAX)
				goto badnum;
			it.weight = (uint32_t)n;
			continue;
		}
		if ((got = opt_value(argc, argv, &i, "--set", &v)) < 0)
			goto out;
		if (!got || (eq = strchr(v, '=')) == NULL) {
			fprintf(stderr, "chat2api: unknown option %s\n",
			    argv[i]);
			goto out;
		}
		if ((pf = accounts_field_of(p, v, (size_t)(eq - v))) == NULL) {
			fprintf(stderr, "chat2api: %s accounts have no field "
			    "%.*s\n", p->id, (int)(eq - v), v);
			goto out;
		}
		if (nf < ACCT_FIELDS_MAX) {
			fields[nf].name = pf->name;	/* v goes on to '=' */
			fields[nf++].value = eq + 1;
		}
	}
	it.fields = fields;
	it.nfields = nf;
	rc = 1;
	if (strcmp(argv[4], "-") == 0) {
		if ((cred = cli_read_stdin(&len)) == NULL)
			goto out;
		while (len > 0 && (cred[len - 1] == '\n' ||
		    cred[len - 1] == '\r' || cred[len - 1] == ' '))
			cred[--len] = '\0';
	} else if ((cred = strdup(argv[4])) == NULL)
		goto out;
	it.credential = cred;
	if (accounts_add_one(st, &it, id, &added, err, sizeof(err)) < 0) {
		fprintf(stderr, "chat2api: accounts add: %s (see "
		    "chat2api(8))\n", err);
		goto out;
	}
	printf("%s %s account %s\n", added ? "added" : "already present:",
	    p->id, id);
	rc = 0;
	goto out;
badnum:
	fprintf(stderr, "chat2api: %s: not a valid number\n", argv[i]);
out:
	if (cred != NULL) {
		crypto_wipe(cred, strlen(cred));
		free(cred);
	}
	return rc;
}

static int
print_row(void *arg, const struct acct_info *i)
{
	const struct provider *p = provider_by_id(i->provider);
	char limit[32], used[32];
	const char *status = acct_status_name(i->status);

	(void)arg;
	if (i->status == ACCT_ACTIVE && i->cooldown_until > time(NULL))
		status = "cooling";
	if (i->daily_limit)
		snprintf(limit, sizeof(limit), "%u/%u", i->today_use,
		    i->daily_limit);
	else
		snprintf(limit, sizeof(limit), "%u/-", i->today_use);
	cli_fmt_time(i->last_used_at, used, sizeof(used));
	printf("%-12s  %-9s  %-13s  %-8s  %-11s  %6u  %7u  %8llu  %8llu  "
	    "%-20s  %-16s  %s\n", i->fingerprint, i->provider,
	    p != NULL ? provider_kind_name(p, i->kind) : "?", status, limit,
	    i->weight, i->last_latency_ms, (unsigned long long)i->successes,
	    (unsigned long long)i->failures, used,
	    i->label[0] ? i->label : "-", i->last_error);
	return 0;
}

static int
list(struct store *st, int argc, char **argv)
{
	const char *prov = argc >= 4 ? argv[3] : NULL;
	struct acct_counts c;
	enum store_err e;

	if (prov != NULL && provider_by_id(prov) == NULL) {
		fprintf(stderr, "chat2api: no provider %s\n", prov);
		return 2;
	}
	printf("%-12s  %-9s  %-13s  %-8s  %-11s  %6s  %7s  %8s  %8s  %-20s  "
	    "%-16s  %s\n", "ID", "PROVIDER", "KIND", "STATUS", "TODAY/LIMIT",
	    "WEIGHT", "LAT_MS", "OK", "FAILED", "LAST USED", "LABEL",
	    "LAST ERROR");
	if ((e = acct_list(st, prov, print_row, NULL)) != STORE_OK ||
	    (e = acct_count(st, prov, &c)) != STORE_OK)
		return cli_store_fail("accounts list", e, NULL);
	printf("# %zu total, %zu usable now, %zu cooling, %zu over today's "
	    "limit, %zu error, %zu expired, %zu disabled\n", c.total,
	    c.usable, c.cooling, c.over_limit, c.error, c.expired,
	    c.inactive);
	return 0;
}

static int
set(struct store *st, int argc, char **argv)
{
	struct acct_change ch;
	const char *v;
	long n;
	int i, got;
	enum store_err e;

	if (argc < 5) {
		usage();
		return 2;
	}
	memset(&ch, 0, sizeof(ch));
	for (i = 4; i < argc; i++) {
		if ((got = opt_value(argc, argv, &i, "--label", &v)) < 0)
			return 2;
		if (got) {
			ch.set |= ACCT_SET_LABEL;
			ch.label = v;
			continue;
		}
		if ((got = opt_value(argc, argv, &i, "--daily-limit", &v)) < 0)
			return 2;
		if (got) {
			if ((n = cli_number(v)) < 0 || n > ACCT_LIMIT_MAX) {
				fprintf(stderr, "chat2api: --daily-limit: 0 "
				    "(none) to %d\n", ACCT_LIMIT_MAX);
				return 2;
			}
			ch.set |= ACCT_SET_LIMIT;
			ch.daily_limit = (uint32_t)n;
			continue;
		}
		if ((got = opt_value(argc, argv, &i, "--weight", &v)) < 0)
			return 2;
		if (got) {
			if ((n = cli_number(v)) < 1 || n > ACCT_WEIGHT_MAX) {
				fprintf(stderr, "chat2api: --weight: 1 to %d\n",
				    ACCT_WEIGHT_MAX);
				return 2;
			}
			ch.set |= ACCT_SET_WEIGHT;
			ch.weight = (uint32_t)n;
			continue;
		}
		fprintf(stderr, "chat2api: unknown option %s\n", argv[i]);
		return 2;
	}
	if ((e = acct_set(st, argv[3], &ch)) != STORE_OK)
		return cli_store_fail("accounts set", e, "no such account");
	printf("updated\n");
	return 0;
}

static int
status(struct store *st, const char *id, enum acct_status s)
{
	struct acct_change ch;
	enum store_err e;

	memset(&ch, 0, sizeof(ch));
	ch.set = ACCT_SET_STATUS;
	ch.status = s;
	if ((e = acct_set(st, id, &ch)) != STORE_OK)
		return cli_store_fail("accounts", e, "no such account");
	printf("%s\n", s == ACCT_ACTIVE ? "enabled" : "disabled");
	return 0;
}

static const char *const verdicts[] = {
	[PROVIDER_VALID] = "valid",
	[PROVIDER_INVALID] = "invalid",
	[PROVIDER_EXPIRED] = "expired",
	[PROVIDER_UNKNOWN] = "unknown",
};

static void
print_check(void *arg, const struct accounts_checked *c)
{
	int *bad = arg;

	if (c->check.verdict != PROVIDER_VALID)
		*bad = 1;
	printf("%-12s  %-9s  %-8s  %6ld ms  %-8s  %-24s  %s\n",
	    c->info.fingerprint, c->info.provider,
	    verdicts[c->check.verdict], c->check.latency_ms,
	    acct_status_name(c->info.status),
	    c->info.email[0] ? c->info.email : "-", c->check.message);
}

static int
validate(const struct config *cfg, struct store *st, int argc, char **argv)
{
	int bad = 0;

	if (accounts_validate(cfg, st, argc >= 4 ? argv[3] : NULL,
	    print_check, &bad) < 0) {
		fprintf(stderr, "chat2api: accounts validate: no such account "
		    "or provider, or the store failed\n");
		return 1;
	}
	return bad;
}

/* Every upstream chat of the account, by its provider's own bulk delete
 * (the management API's purge-chats). */
static int
purge(const struct config *cfg, struct store *st, const char *id)
{
	struct json_object *o, *x;
	struct mgmt_err err;
	struct arena a;
	long long chats = -1, dropped = 0;

	memset(&err, 0, sizeof(err));
	arena_init(&a, 0);
	o = mgmt_account_purge(cfg, st, &a, id, &err);
	if (o == NULL) {
		fprintf(stderr, "chat2api: accounts purge: %s\n", err.message);
		arena_free(&a);
		return 1;
	}
	if (json_object_object_get_ex(o, "chats_deleted", &x) && x != NULL)
		chats = json_object_get_int64(x);
	if (json_object_object_get_ex(o, "sessions_dropped", &x))
		dropped = json_object_get_int64(x);
	json_object_object_get_ex(o, "fingerprint", &x);
	if (chats >= 0)
		printf("%s: %lld upstream chat(s) deleted", json_object_get_string(x),
		    chats);
	else
		printf("%s: every upstream chat deleted",
		    json_object_get_string(x));
	printf(", %lld session(s) dropped\n", dropped);
	json_object_put(o);
	arena_free(&a);
	return 0;
}

int
cli_accounts(const struct config *cfg, struct store *st, int argc,
    char **argv)
{
	enum store_err e;

	if (argc < 3) {
		usage();
		return 2;
	}
	if (strcmp(argv[2], "add") == 0)
		return add(st, argc, argv);
	if (strcmp(argv[2], "list") == 0 && argc <= 4)
		return list(st, argc, argv);
	if (strcmp(argv[2], "set") == 0)
		return set(st, argc, argv);
	if (strcmp(argv[2], "validate") == 0 && argc <= 4)
		return validate(cfg, st, argc, argv);
	if (argc == 4 && strcmp(argv[2], "purge") == 0)
		return purge(cfg, st, argv[3]);
	if (argc == 4 && strcmp(argv[2], "enable") == 0)
		return status(st, argv[3], ACCT_ACTIVE);
	if (argc == 4 && strcmp(argv[2], "disable") == 0)
		return status(st, argv[3], ACCT_INACTIVE);
	if (argc == 4 && strcmp(argv[2], "remove") == 0) {
		if ((e = acct_remove(st, NULL, argv[3])) != STORE_OK)
			return cli_store_fail("accounts remove", e,
			    "no such account");
		printf("removed\n");
		return 0;
	}
	usage();
	return 2;
}
