/* Runs a store suite on LMDB, then on Redis (tests/unit/store_backend.h). */
#include "config.h"

#include <stdio.h>
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int
unit_file_has(const char *path, const void *needle, size_t n)
{
	char *buf;
	FILE *f;
	long len;
	int found;

	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = len > 0 ? malloc((size_t)len) : NULL;
	found = buf != NULL && fread(buf, 1, (size_t)len, f) == (size_t)len &&
	    memmem(buf, (size_t)len, needle, n) != NULL;
	free(buf);
	fclose(f);
	return found;
}

#ifdef HAVE_REDIS
/* The server's files: its append-only log (Redis 7 keeps it in a
 * directory of its own) and any snapshot. */
static int
redis_files_have(const char *rdir, const void *needle, size_t n)
{
	char sub[512], path[1024];
	const char *dirs[2];
	struct dirent *de;
	DIR *d;
	int i, found = 0;

	snprintf(sub, sizeof(sub), "%s/appendonlydir", rdir);
	dirs[0] = rdir;
	dirs[1] = sub;
	for (i = 0; i < 2 && !found; i++) {
		if ((d = opendir(dirs[i])) == NULL)
			continue;
		while (!found && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i],
			    de->d_name);
			found = unit_file_has(path, needle, n);
		}
		closedir(d);
	}
	return found;
}
#endif

/*
 * On Redis the key prefix follows from the data dir, so a store opened
 * again on the same dir, in this process or a forked one, finds the
 * same data, as LMDB would, and another dir sees none of it.
 */
enum store_err
unit_store_open(struct store **out, const char *dir, size_t map_size)
{
#ifdef HAVE_REDIS
	char url[256];
	uint32_t h = 2166136261u;
	const char *p;

	if (unit_backend != NULL) {
		for (p = dir; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0?prefix="
		    "u%08x:", redis_fixture_port(fixture), h);
		return store_open_backend(out, url, dir, map_size);
	}
#endif
	return store_open(out, dir, map_size);
}

/* Whether the bytes the backend keeps on disk hold needle. */
int
unit_backend_has(const char *dir, const void *needle, size_t n)
{
	char path[512];

#ifdef HAVE_REDIS
	if (unit_backend != NULL)
		return redis_files_have(redis_fixture_dir(fixture), needle, n);
#endif
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	return unit_file_has(path, needle, n);
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
