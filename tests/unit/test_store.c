/* LMDB store: counters, cross-process exactness, map growth, schema. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store_priv.h"
#include "tests/unit/store_backend.h"
#include "unit.h"

static char dir[256];

static void
setup(void)
{
	strcpy(dir, "/tmp/c2a-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static uint64_t
model_count(struct store_stats *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nmodels; i++)
		if (strcmp(st->models[i].name, name) == 0)
			return st->models[i].n;
	return 0;
}

START_TEST(count_and_read)
{
	struct store *s;
	struct store_stats st;
	struct arena a;

	ck_assert_int_eq(unit_store_open(&s, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_count_request(s, "gpt-4o", 1), STORE_OK);
	ck_assert_int_eq(store_count_request(s, "gpt-4o", 0), STORE_OK);
	ck_assert_int_eq(store_count_request(s, NULL, 1), STORE_OK);
	ck_assert_int_eq(store_count_request(s, "o1", 1), STORE_OK);
	arena_init(&a, 0);
	ck_assert_int_eq(store_read_stats(s, &a, &st), STORE_OK);
	ck_assert_uint_eq(st.total, 4);
	ck_assert_uint_eq(st.success, 3);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_uint_eq(model_count(&st, "gpt-4o"), 2);
	ck_assert_uint_eq(model_count(&st, "o1"), 1);
	store_close(s);
	/* survives a reopen */
	ck_assert_int_eq(unit_store_open(&s, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_read_stats(s, &a, &st), STORE_OK);
	ck_assert_uint_eq(st.total, 4);
	store_close(s);
	arena_free(&a);
}
END_TEST

START_TEST(model_bounds)
{
	struct store *s;
	struct store_stats st;
	struct arena a;
	char name[128];
	int i;

	ck_assert_int_eq(unit_store_open(&s, dir, 1 << 20), STORE_OK);
	memset(name, 'x', 100);
	name[100] = '\0';
	ck_assert_int_eq(store_count_request(s, name, 1), STORE_OK);
	for (i = 0; i < STORE_MODELS_MAX + 20; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		ck_assert_int_eq(store_count_request(s, name, 1), STORE_OK);
	}
	arena_init(&a, 0);
	ck_assert_int_eq(store_read_stats(s, &a, &st), STORE_OK);
	ck_assert_uint_le(st.nmodels, STORE_MODELS_MAX + 1);
	ck_assert_uint_ge(model_count(&st, "(other)"), 20);
	ck_assert_uint_eq(st.total, STORE_MODELS_MAX + 21);
	arena_free(&a);
	store_close(s);
}
END_TEST

/* Four processes hammer the same env; not one increment may be lost. */
START_TEST(cross_process)
{
	struct store *s;
	struct store_stats st;
	struct arena a;
	pid_t pids[4];
	int i, j, status;

	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			if (unit_store_open(&s, dir, 1 << 20) != STORE_OK)
				_exit(1);
			for (j = 0; j < 250; j++)
				if (store_count_request(s, i % 2 ? "a" : "b",
				    j % 5 != 0) != STORE_OK)
					_exit(2);
			store_close(s);
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ck_assert_int_eq(unit_store_open(&s, dir, 1 << 20), STORE_OK);
	arena_init(&a, 0);
	ck_assert_int_eq(store_read_stats(s, &a, &st), STORE_OK);
	ck_assert_uint_eq(st.total, 1000);
	ck_assert_uint_eq(st.failed, 200);
	ck_assert_uint_eq(model_count(&st, "a"), 500);
	ck_assert_uint_eq(model_count(&st, "b"), 500);
	arena_free(&a);
	store_close(s);
}
END_TEST

struct count_arg {
	MDB_dbi	dbi;
	size_t	n;
};

static int
count_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct count_arg *c = arg;
	MDB_stat st;
	int rc;

	(void)s;
	if ((rc = kv_stat(txn, c->dbi, &st)) == 0)
		c->n = st.ms_entries;
	return rc;
}

static size_t
db_entries(struct store *s, MDB_dbi dbi)
{
	struct count_arg c = { dbi, 0 };

	ck_assert_int_eq(store_read(s, count_txn, &c), STORE_OK);
	return c.n;
}

static size_t
revoked_entries(struct store *s)
{
	return db_entries(s, s->revoked);
}

static size_t
throttle_entries(struct store *s)
{
	return db_entries(s, s->throttle);
}

/* Failures per (scope, who) across processes; window expiry; pruning. */
START_TEST(throttle)
{
	static const struct store_throttle lim = { 3, 60 }, off = { 0, 60 },
	    one = { 1, 1 };
	struct store *s;
	char err[128], who[32];
	long wait = -1;
	time_t t0;
	pid_t pid;
	int i, status;

	ck_assert_int_eq(unit_store_open(&s, dir, 1 << 20), STORE_OK);
	/* no key yet: refused, not silently open */
	ck_assert_int_eq(store_throttle_fail(s, "admin", "1.2.3.4", &lim,
	    &wait), STORE_INVAL);
	ck_assert_int_eq(store_key_init(s, "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef", err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_throttle_check(s, "admin", "1.2.3.4", &lim,
	    &wait), STORE_OK);
	ck_assert_int_eq(wait, 0);
	/* two failures here, the third in another process */
	t0 = time(NULL);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(store_throttle_fail(s, "admin", "1.2.3.4",
		    &lim, &wait), STORE_OK);
		ck_assert_int_eq(wait, 0);
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store *c;

		if (unit_store_open(&c, dir, 1 << 20) != STORE_OK ||
		    store_key_init(c, "0123456789abcdef0123456789abcdef"
		    "0123456789abcdef0123456789abcdef", err, sizeof(err)) !=
		    STORE_OK ||
		    store_throttle_fail(c, "admin", "1.2.3.4", &lim, &wait) !=
		    STORE_OK || wait < 1 || wait > 60)
			_exit(1);
		store_close(c);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(store_throttle_check(s, "admin", "1.2.3.4", &lim,
	    &wait), STORE_OK);
	/* the window began before the first failure; a slow host only
	 * makes the rest of it shorter */
	ck_assert_int_ge(wait, (long)(t0 + 60 - time(NULL)));
	ck_assert_int_le(wait, 60);
	/* other addresses, other scopes and max_fails 0 are not blocked */
	store_throttle_check(s, "admin", "1.2.3.5", &lim, &wait);
	ck_assert_int_eq(wait, 0);
	store_throttle_check(s, "other", "1.2.3.4", &lim, &wait);
	ck_assert_int_eq(wait, 0);
	store_throttle_check(s, "admin", "1.2.3.4", &off, &wait);
	ck_assert_int_eq(wait, 0);
	/* clear forgets */
	ck_assert_int_eq(store_throttle_clear(s, "admin", "1.2.3.4", &lim),
	    STORE_OK);
	store_throttle_check(s, "admin", "1.2.3.4", &lim, &wait);
	ck_assert_int_eq(wait, 0);
	/* the window ends by itself */
	store_throttle_fail(s, "admin", "9.9.9.9", &one, &wait);
	ck_assert_int_eq(wait, 1);
	s->clock_skew += 2;
	store_throttle_check(s, "admin", "9.9.9.9", &one, &wait);
	ck_assert_int_eq(wait, 0);
	s->clock_skew -= 2;
	/* many addresses: expired entries go once the table is large */
	for (i = 0; i < 4100; i++) {
		snprintf(who, sizeof(who), "10.0.%d.%d", i / 256, i % 256);
		ck_assert_int_eq(store_throttle_fail(s, "admin", who, &lim,
		    &wait), STORE_OK);
	}
	ck_assert_uint_ge(throttle_entries(s), 4096);
	s->clock_skew += 2;
	/* judged by the window of the call: all of them are over now */
	store_throttle_fail(s, "admin", "fresh", &one, &wait);
	ck_assert_uint_eq(throttle_entries(s), 1);
	store_close(s);
}
END_TEST

/* Revocation: per scope and value, across processes, until expiry. */
/* store_each: key order, a stop, a delete under the cursor, an error. */
struct each {
	char	 seen[8];
	int	 stop_at, del_at, err_at, n;
};

static int
each_one(struct kv_cursor *cur, MDB_val *k, MDB_val *v, void *arg)
{
	struct each *e = arg;

	(void)v;
	e->seen[e->n++] = *(char *)k->mv_data;
	if (e->n == e->del_at)
		return kv_cursor_del(cur, 0);
	if (e->n == e->err_at)
		return EIO;
	return e->n == e->stop_at ? STORE_EACH_STOP : 0;
}

static int
each_fill(struct store *s, struct kv_txn *txn, void *arg)
{
	MDB_val k, v;
	const char *p;
	int rc;

	(void)arg;
	for (p = "cab"; *p != '\0'; p++) {
		k.mv_size = v.mv_size = 1;
		k.mv_data = v.mv_data = (void *)p;
		if ((rc = kv_put(txn, s->mappings, &k, &v, 0)) != 0)
			return rc;
	}
	return 0;
}

static struct each each_arg;

static int
each_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	(void)arg;
	memset(each_arg.seen, 0, sizeof(each_arg.seen));
	each_arg.n = 0;
	return store_each(txn, s->mappings, each_one, &each_arg);
}

START_TEST(each)
{
	struct store *s;

	ck_assert_int_eq(unit_store_open(&s, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_write(s, each_fill, NULL), STORE_OK);
	each_arg = (struct each){ .stop_at = 0 };
	ck_assert_int_eq(store_read(s, each_txn, NULL), STORE_OK);
	ck_assert_str_eq(each_arg.seen, "abc");
	each_arg = (struct each){ .stop_at = 2 };
	ck_assert_int_eq(store_read(s, each_txn, NULL), STORE_OK);
	ck_assert_str_eq(each_arg.seen, "ab");
	each_arg = (struct each){ .del_at = 2 };
	ck_assert_int_eq(store_write(s, each_txn, NULL), STORE_OK);
	ck_assert_str_eq(each_arg.seen, "abc");
	each_arg = (struct each){ .stop_at = 0 };
	ck_assert_int_eq(store_read(s, each_txn, NULL), STORE_OK);
	ck_assert_str_eq(each_arg.seen, "ac");
	each_arg = (struct each){ .err_at = 1 };
	ck_assert_int_ne(store_read(s, each_txn, NULL), STORE_OK);
	ck_assert_str_eq(each_arg.seen, "a");
	store_close(s);
}
END_TEST

START_TEST(revocation)
{
	struct store *s, *c;
	char err[128], v[32];
	int revoked = -1, i, fresh = -1;
	time_t now = time(NULL);
	static const char key[] = "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef";

	ck_assert_int_eq(unit_store_open(&s, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_revoke(s, "session", "v1", now + 60),
	    STORE_INVAL);	/* no key */
	ck_assert_int_eq(store_key_init(s, key, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_is_revoked(s, "session", "v1", &revoked),
	    STORE_OK);
	ck_assert_int_eq(revoked, 0);
	ck_assert_int_eq(store_revoke(s, "session", "v1", now + 60), STORE_OK);
	/* another process (its own environment) sees it */
	ck_assert_int_eq(unit_store_open(&c, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_key_init(c, key, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_is_revoked(c, "session", "v1", &revoked),
	    STORE_OK);
	ck_assert_int_eq(revoked, 1);
	store_close(c);
	/* other values and scopes are not */
	store_is_revoked(s, "session", "v2", &revoked);
	ck_assert_int_eq(revoked, 0);
	store_is_revoked(s, "other", "v1", &revoked);
	ck_assert_int_eq(revoked, 0);
	/* an entry ends with the value's own expiry */
	ck_assert_int_eq(store_revoke(s, "session", "short", time(NULL) + 2),
	    STORE_OK);
	store_is_revoked(s, "session", "short", &revoked);
	ck_assert_int_eq(revoked, 1);
	s->clock_skew += 3;
	store_is_revoked(s, "session", "short", &revoked);
	ck_assert_int_eq(revoked, 0);
	s->clock_skew -= 3;
	/* already expired: nothing stored */
	ck_assert_int_eq(store_revoke(s, "session", "old", now - 5), STORE_OK);
	store_is_revoked(s, "session", "old", &revoked);
	ck_assert_int_eq(revoked, 0);
	/* many entries: expired ones are pruned, live ones stay */
	now = store_now(s);
	for (i = 0; i < 1100; i++) {
		snprintf(v, sizeof(v), "bulk-%d", i);
		ck_assert_int_eq(store_revoke(s, "session", v, now + 3600),
		    STORE_OK);
	}
	/* all live: over the mark, none may go */
	ck_assert_uint_ge(revoked_entries(s), 1100);
	s->clock_skew += 3601;
	ck_assert_int_eq(store_revoke(s, "session", "last",
	    store_now(s) + 60), STORE_OK);
	/* left: "last" only; v1 (60 s) went with the bulk */
	ck_assert_uint_eq(revoked_entries(s), 1);
	store_is_revoked(s, "session", "last", &revoked);
	ck_assert_int_eq(revoked, 1);
	store_is_revoked(s, "session", "v1", &revoked);
	ck_assert_int_eq(revoked, 0);
	/* one-time values: fresh once, then used, in every process */
	ck_assert_int_eq(store_revoke_once(s, "form", "t1", store_now(s) + 60,
	    &fresh), STORE_OK);
	ck_assert_int_eq(fresh, 1);
	ck_assert_int_eq(store_revoke_once(s, "form", "t1", store_now(s) + 60,
	    &fresh), STORE_OK);
	ck_assert_int_eq(fresh, 0);
	ck_assert_int_eq(unit_store_open(&c, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_key_init(c, key, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_revoke_once(c, "form", "t1", store_now(c) + 60,
	    &fresh), STORE_OK);
	ck_assert_int_eq(fresh, 0);
	ck_assert_int_eq(store_revoke_once(c, "other", "t1", store_now(c) + 60,
	    &fresh), STORE_OK);
	ck_assert_int_eq(fresh, 1);
	store_close(c);
	store_is_revoked(s, "form", "t1", &revoked);
	ck_assert_int_eq(revoked, 1);
	/* once its time is over, the value is fresh again */
	s->clock_skew += 61;
	ck_assert_int_eq(store_revoke_once(s, "form", "t1", store_now(s) + 60,
	    &fresh), STORE_OK);
	ck_assert_int_eq(fresh, 1);
	s->clock_skew -= 61;
	ck_assert_int_eq(store_revoke_once(s, "form", "t2", store_now(s) - 1,
	    &fresh), STORE_INVAL);
	ck_assert_int_eq(fresh, 0);
	store_close(s);
}
END_TEST

/* A 64 KiB map fills at once: writes must grow it, not fail. */
START_TEST(map_growth)
{
	struct store *s;
	char name[64];
	size_t before;
	int i;

	ck_assert_int_eq(unit_store_open(&s, dir, 64 * 1024), STORE_OK);
	before = store_map_size(s);
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "model-%04d-%040d", i, i);
		ck_assert_int_eq(store_count_request(s, name, 1), STORE_OK);
	}
	/* Redis has no map: the 2,000 writes above are the test there */
	if (!unit_on_redis())
		ck_assert_uint_gt(store_map_size(s), before);
	store_close(s);
}
END_TEST

static int
set_schema(struct store *s, struct kv_txn *txn, void *arg)
{
	unsigned char buf[8];
	MDB_val k = { 14, (void *)"schema_version" }, v = { 8, buf };

	store_be64(buf, *(uint64_t *)arg);
	return kv_put(txn, s->meta, &k, &v, 0);
}

START_TEST(schema_newer)
{
	struct store *s;
	uint64_t v = STORE_SCHEMA_VERSION + 1;

	ck_assert_int_eq(unit_store_open(&s, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_write(s, set_schema, &v), STORE_OK);
	store_close(s);
	ck_assert_int_eq(unit_store_open(&s, dir, 1 << 20), STORE_SCHEMA);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(bad_dir)
{
	struct store *s;

	ck_assert_int_ne(unit_store_open(&s, "/proc/nope/x", 1 << 20), STORE_OK);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(store_strerror(STORE_FULL), "database full");
	ck_assert_str_eq(store_strerror((enum store_err)99), "unknown error");
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, each);
	tcase_add_test(tc, count_and_read);
	tcase_add_test(tc, model_bounds);
	tcase_add_test(tc, cross_process);
	tcase_add_test(tc, map_growth);
	tcase_add_test(tc, throttle);
	tcase_add_test(tc, revocation);
	tcase_add_test(tc, schema_newer);
	tcase_add_test(tc, bad_dir);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN_BACKENDS(store_suite)
