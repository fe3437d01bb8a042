/*
 * chat2api models map|unmap|list|route: the model mappings kept in LMDB
 * (MODEL_MAPPING from the environment comes before them), the built-in
 * names, and where a name goes right now.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/arena.h"
#include "handlers/cli.h"
#include "store/mappings.h"
#include "upstream/provider.h"
#include "upstream/route.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: chat2api models map NAME TARGET [--provider P] "
	    "[--account ID]\n"
	    "       chat2api models unmap NAME\n"
	    "       chat2api models list\n"
	    "       chat2api models route NAME\n"
	    "NAME may hold * wildcards (gpt-*, *-mini, *).\n");
}

static int
map(struct store *st, int argc, char **argv)
{
	struct mapping m;
	enum store_err e;
	int i;

	if (argc < 5) {
		usage();
		return 2;
	}
	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "%s", argv[3]);
	snprintf(m.target, sizeof(m.target), "%s", argv[4]);
	for (i = 5; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--provider") == 0) {
			if (provider_by_id(argv[++i]) == NULL) {
				fprintf(stderr, "chat2api: no provider %s\n",
				    argv[i]);
				return 2;
			}
			snprintf(m.provider, sizeof(m.provider), "%s", argv[i]);
		} else if (i + 1 < argc && strcmp(argv[i], "--account") == 0)
			snprintf(m.account, sizeof(m.account), "%s", argv[++i]);
		else {
			usage();
			return 2;
		}
	}
	if (strlen(argv[3]) > MAPPING_NAME_MAX ||
	    strlen(argv[4]) > MAPPING_NAME_MAX) {
		fprintf(stderr, "chat2api: names are at most %d bytes\n",
		    MAPPING_NAME_MAX);
		return 2;
	}
	if ((e = mapping_put(st, &m)) != STORE_OK)
		return cli_store_fail("models map", e, NULL);
	printf("mapped %s -> %s\n", m.name, m.target);
	return 0;
}

static int
row(void *arg, const struct mapping *m)
{
	(void)arg;
	printf("%-32s  %-32s  %-9s  %-12s  stored\n", m->name, m->target,
	    m->provider[0] ? m->provider : "-", m->account[0] ? m->account :
	    "-");
	return 0;
}

static int
list(const struct config *cfg, struct store *st)
{
	const struct provider *const *p;
	const struct model_map *m;
	enum store_err e;
	size_t i;

	printf("%-32s  %-32s  %-9s  %-12s  %s\n", "NAME", "TARGET",
	    "PROVIDER", "ACCOUNT", "FROM");
	for (i = 0; i < cfg->model_mapping.n; i++) {
		m = &cfg->model_mapping.v[i];
		printf("%-32s  %-32s  %-9s  %-12s  MODEL_MAPPING\n", m->name,
		    m->target, m->provider ? m->provider : "-",
		    m->account ? m->account : "-");
	}
	if ((e = mapping_list(st, row, NULL)) != STORE_OK)
		return cli_store_fail("models list", e, NULL);
	printf("\n%-32s  %s\n", "BUILT-IN MODEL", "PROVIDER");
	for (p = providers; *p != NULL; p++)
		for (i = 0; (*p)->models[i].id != NULL; i++)
			printf("%-32s  %s\n", (*p)->models[i].id, (*p)->id);
	return 0;
}

static int
route(const struct config *cfg, struct store *st, const char *name)
{
	struct arena a;
	struct route rt;
	enum route_err re;

	arena_init(&a, 1u << 20);
	if ((re = route_resolve(cfg, st, &a, name, &rt)) != ROUTE_OK) {
		fprintf(stderr, "chat2api: %s: %s\n", name,
		    route_strerror(re));
		arena_free(&a);
		return 1;
	}
	printf("provider: %s\nmodel: %s\nreported as: %s\nthink: %s\n"
	    "search: %s\nmapping: %s\naccount: %s\n", rt.provider->id,
	    rt.upstream_model, rt.reported,
	    rt.flags & ROUTE_THINK ? "yes" : "no",
	    rt.flags & ROUTE_SEARCH ? "yes" : "no",
	    rt.mapping ? rt.mapping : (rt.model ? "- (built-in)" :
	    "- (catch-all)"), rt.pin_account ? rt.pin_account : "any");
	arena_free(&a);
	return 0;
}

int
cli_models(const struct config *cfg, struct store *st, int argc,
    char **argv)
{
	enum store_err e;

	if (argc < 3) {
		usage();
		return 2;
	}
	if (strcmp(argv[2], "map") == 0)
		return map(st, argc, argv);
	if (strcmp(argv[2], "list") == 0 && argc == 3)
		return list(cfg, st);
	if (strcmp(argv[2], "route") == 0 && argc == 4)
		return route(cfg, st, argv[3]);
	if (strcmp(argv[2], "unmap") == 0 && argc == 4) {
		if ((e = mapping_remove(st, argv[3])) != STORE_OK)
			return cli_store_fail("models unmap", e,
			    "no such mapping");
		printf("unmapped %s\n", argv[3]);
		return 0;
	}
	usage();
	return 2;
}
