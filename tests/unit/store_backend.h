/*
 * The store's unit tests on both backends: a program whose main is
 * UNIT_MAIN_BACKENDS runs its suite on LMDB, then (built --with-redis)
 * again on a real redis-server started for it on a loopback port.  Its
 * tests open their store with unit_store_open, which gives each a fresh
 * key prefix on Redis, so tests never see each other's keys.
 */
#ifndef UNIT_STORE_BACKEND_H
#define UNIT_STORE_BACKEND_H

#include <check.h>
#include <stddef.h>

#include "store/store.h"

/* NULL while the suite runs on LMDB, else the fixture's base URL. */
extern const char	*unit_backend;

enum store_err	 unit_store_open(struct store **, const char *dir,
		    size_t map_size);
/* Whether the bytes the backend keeps on disk for the store in dir
 * (LMDB's data.mdb, Redis's append-only file) hold needle. */
int		 unit_backend_has(const char *dir, const void *needle,
		    size_t n);
int		 unit_file_has(const char *path, const void *needle, size_t n);
/* 1 when the suite runs on Redis (tests of LMDB's own files skip). */
int		 unit_on_redis(void);
int		 unit_main_backends(Suite *(*suite_fn)(void));

#define UNIT_MAIN_BACKENDS(suite_fn)					\
int main(void)								\
{									\
	return unit_main_backends(suite_fn);				\
}

#endif
