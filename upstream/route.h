/*
 * Model routing: which provider answers a model name, with which model
 * and switches (providers.md §1.2, §10.5).  In this order:
 *
 *   1. mappings by exact name (MODEL_MAPPING first, then `models map`),
 *   2. mappings by * pattern, in the same order, first match wins,
 *   3. the providers' built-in names, also with a -Think, -Search or
 *      -Think-Search suffix (or Qwen AI's -Thinking, -Fast), then the
 *      names the upstreams list themselves (provider.listed, cached),
 *   4. the catch-all provider (ChatGPT: it maps any name to a slug).
 *
 * Names compare case-insensitively.  A mapping's target is resolved by
 * step 3 (within its pinned provider when it has one); a target no
 * provider knows goes to the pinned provider as is, or to the catch-all.
 */
#ifndef UPSTREAM_ROUTE_H
#define UPSTREAM_ROUTE_H

#include "upstream/provider.h"

struct store;

enum route_err {
	ROUTE_OK = 0,
	ROUTE_UNKNOWN,		/* no provider takes the name */
	ROUTE_BAD_PIN,		/* a mapping names a provider we lack */
	ROUTE_ENOMEM,
	ROUTE__MAX
};

const char	*route_strerror(enum route_err);

/*
 * Resolves requested into r (strings in arena).  store may be NULL (no
 * stored mappings).
 */
enum route_err	 route_resolve(const struct config *, struct store *,
		    struct arena *, const char *requested, struct route *r);

/*
 * For a client's own credential that r's provider does not take: the
 * same built-in name as another provider's that has it (GLM-5 is GLM's
 * and Z.ai's), the first for which accept() says yes.  1 with r
 * replaced, else 0 (a mapped name never moves).
 */
int		 route_other_owner(struct store *, const char *requested,
		    struct route *r,
		    int (*accept)(const struct provider *, void *), void *ctx);

/* Whether name matches pattern: '*' is any run, case-insensitive. */
int		 route_glob(const char *pattern, const char *name);

#endif
