/*
 * Model mappings kept in LMDB (`chat2api models map`), in the order they
 * were made: a requested name (or a * pattern) → a target model,
 * optionally pinned to a provider or an account.  MODEL_MAPPING from the
 * environment comes first; these follow.  Matching is not done here
 * (upstream/route.c): the store only keeps the list.
 */
#ifndef STORE_MAPPINGS_H
#define STORE_MAPPINGS_H

#include <stdint.h>

#include "store/store.h"

#define MAPPING_NAME_MAX	128
#define MAPPING_PROVIDER_MAX	15
#define MAPPING_ACCOUNT_MAX	32
#define MAPPING_MAX_RECORDS	1000

struct mapping {
	char	name[MAPPING_NAME_MAX + 1];	/* may hold '*' */
	char	target[MAPPING_NAME_MAX + 1];
	char	provider[MAPPING_PROVIDER_MAX + 1];	/* "" : any */
	char	account[MAPPING_ACCOUNT_MAX + 1];	/* "" : any */
};

/* Adds, or replaces the mapping of the same name (keeping its place). */
enum store_err	 mapping_put(struct store *, const struct mapping *);
enum store_err	 mapping_remove(struct store *, const char *name);
/* In insertion order; 0 from fn goes on. */
enum store_err	 mapping_list(struct store *,
		    int (*fn)(void *, const struct mapping *), void *);

#endif
