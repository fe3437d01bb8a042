/* Runs a store suite on LMDB, then on Redis (tests/unit/store_backend.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/store_backend.h"
#ifdef HAVE_REDIS
#include "tests/unit/redis_fixture.h"

static struct redis_fixture *fixture;
#endif

const char *unit_backend;

int
unit_on_redis(void)
{
	return unit_backend != NULL;
}

enum store_err
unit_store_open(struct store **out, const char *dir, size_t map_size)
{
#ifdef HAVE_REDIS
	char url[256];

	if (unit_backend != NULL)
		return store_open_backend(out, redis_fixture_url(fixture, 0,
		    url, sizeof(url)), dir, map_size);
#endif
	return store_open(out, dir, map_size);
}

static void
run(Suite *(*suite_fn)(void), const char *label, int *run_n, int *failed)
{
	SRunner *sr = srunner_create(suite_fn());
	int n, f;

	srunner_run_all(sr, CK_NORMAL);
	n = srunner_ntests_run(sr);
	f = srunner_ntests_failed(sr);
	srunner_free(sr);
	printf("# %s: %d passed, %d failed\n", label, n - f, f);
	*run_n += n;
	*failed += f;
}

int
unit_main_backends(Suite *(*suite_fn)(void))
{
	int n = 0, failed = 0;

	unit_backend = NULL;
	run(suite_fn, "lmdb", &n, &failed);
#ifdef HAVE_REDIS
	/* CI builds --with-redis and installs redis-server: no server is a
	 * failure, not a skip. */
	if ((fixture = redis_fixture_start(NULL)) == NULL) {
		printf("# redis: redis-server could not be started\n");
		n++;
		failed++;
	} else {
		unit_backend = "redis";
		run(suite_fn, "redis", &n, &failed);
		redis_fixture_free(fixture);
		fixture = NULL;
		unit_backend = NULL;
	}
#endif
	printf("# counts: %d passed, %d failed\n", n - failed, failed);
	return failed == 0 && n > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
