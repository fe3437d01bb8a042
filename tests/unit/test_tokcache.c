/*
 * The derived-token cache (store/tokcache.c): expiry, the exchange lock,
 * and one exchange for many processes through tokcache_fetch().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fcgi/log.h"
#include "handlers/acct_lines.h"
#include "store/accounts.h"
#include "store/crypto.h"
#include "store/store_priv.h"
#include "store/tokcache.h"
#include "upstream/chatgpt/chatgpt.h"
#include "upstream/deepseek/deepseek.h"
#include "acct_fixture.h"
#include "tests/unit/store_backend.h"

#define OK(e)		ck_assert_int_eq((e), STORE_OK)
#define IS(e, want)	ck_assert_int_eq((e), (want))
#define CG		"chatgpt"
#define DS		"deepseek"
#define NOID		"0123456789abcdef0123456789abcdef"

/* 2030-01-31 12:00 and 2030-02-01 00:00 in UTC+8 (Asia/Shanghai). */
#define NOON		1896062400LL
#define MIDNIGHT	1896105600LL

/* ------------------------------------------------------------ tokcache */

static pid_t
child_store(struct store **s2)
{
	char err[64];
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0 && (unit_store_open(s2, dir, 1 << 20) != STORE_OK ||
	    store_key_init(*s2, NULL, err, sizeof(err)) != STORE_OK))
		_exit(1);
	return pid;
}

static void
reap(pid_t pid)
{
	int status;

	IS(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(tokcache_and_lock)
{
	static const char rt[] = "abcdefghijabcdefghijabcdefghijabcdefghij12345";
	char *v = NULL, big[TOKCACHE_VALUE_MAX + 2];
	int64_t exp = 0, now = store_now(st);
	struct store *s2;
	int got;
	pid_t pid;

	IS(tokcache_get(st, "chatgpt-rt", rt, &v, &exp), STORE_NOTFOUND);
	OK(tokcache_lock(st, "chatgpt-rt", rt, &got));
	IS(got, 1);
	OK(tokcache_lock(st, "chatgpt-rt", rt, &got));
	IS(got, 0);	/* held by a live holder (us) */
	OK(tokcache_lock(st, DS, rt, &got));
	IS(got, 1);	/* another scope, another lock */
	OK(tokcache_put(st, "chatgpt-rt", rt, "eyJfresh.at.x", now + 100));
	IS(db_has("eyJfresh"), 0);
	OK(tokcache_unlock(st, "chatgpt-rt", rt));
	OK(tokcache_get(st, "chatgpt-rt", rt, &v, &exp));
	ck_assert_str_eq(v, "eyJfresh.at.x");
	IS(exp, now + 100);
	free(v);
	IS(tokcache_get(st, DS, rt, &v, NULL), STORE_NOTFOUND);
	/* expiry by the store's clock */
	store_set_clock_skew(st, 101);
	IS(tokcache_get(st, "chatgpt-rt", rt, &v, NULL), STORE_NOTFOUND);
	store_set_clock_skew(st, 0);
	OK(tokcache_forget(st, "chatgpt-rt", rt));
	IS(tokcache_get(st, "chatgpt-rt", rt, &v, NULL), STORE_NOTFOUND);
	OK(tokcache_put(st, "a", rt, "x1", now + 50));
	OK(tokcache_put(st, "b", rt, "x2", now + 50));
	OK(tokcache_clear(st));
	IS(tokcache_get(st, "b", rt, &v, NULL), STORE_NOTFOUND);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	IS(tokcache_put(st, "a", rt, big, now + 50), STORE_INVAL);
	/* a holder that died frees the lock at once */
	if ((pid = child_store(&s2)) == 0)
		_exit(tokcache_lock(s2, "x", rt, &got) != STORE_OK || !got);
	reap(pid);
	OK(tokcache_lock(st, "x", rt, &got));
	IS(got, 1);
}
END_TEST

static int
exchange(void *arg, char **value, int64_t *expires)
{
	int *calls = arg;

	if (++*calls > 2)
		return 42;
	*value = strdup(*calls == 1 ? "first" : "second");
	*expires = (int64_t)time(NULL) + 3600;
	return 0;
}

static int
give_up(void *arg)
{
	++*(int *)arg;
	return 1;
}

START_TEST(tokcache_fetch_across_processes)
{
	enum tokcache_how how;
	struct store *s2;
	char *v, c;
	int calls = 0, idles = 0, toc[2], toch[2], got;
	pid_t pid;

	IS(tokcache_fetch(st, "s", "c1", 0, exchange, &calls, NULL, NULL, &v,
	    &how), 0);
	IS(how, TOKCACHE_EXCHANGED);
	ck_assert_str_eq(v, "first");
	free(v);
	IS(tokcache_fetch(st, "s", "c1", 0, exchange, &calls, NULL, NULL, &v,
	    &how), 0);
	IS(how, TOKCACHE_HIT);
	ck_assert_str_eq(v, "first");
	free(v);
	IS(tokcache_fetch(st, "s", "c1", 1, exchange, &calls, NULL, NULL, &v,
	    &how), 0);
	IS(how, TOKCACHE_EXCHANGED);
	ck_assert_str_eq(v, "second");
	free(v);
	/* a failed exchange: its code, and the cache is forgotten */
	IS(tokcache_fetch(st, "s", "c1", 1, exchange, &calls, NULL, NULL, &v,
	    &how), 42);
	ck_assert_ptr_null(v);
	IS(tokcache_get(st, "s", "c1", &v, NULL), STORE_NOTFOUND);
	/* another process exchanges: we give up, or wait for its result */
	calls = 0;
	IS(pipe(toc), 0);
	IS(pipe(toch), 0);
	if ((pid = child_store(&s2)) == 0) {
		if (tokcache_lock(s2, "s", "c2", &got) != STORE_OK || !got ||
		    write(toc[1], "L", 1) != 1 || read(toch[0], &c, 1) != 1)
			_exit(1);
		usleep(150 * 1000);
		if (tokcache_put(s2, "s", "c2", "theirs",
		    (int64_t)time(NULL) + 60) != STORE_OK ||
		    tokcache_unlock(s2, "s", "c2") != STORE_OK)
			_exit(2);
		store_close(s2);
		_exit(0);
	}
	IS(read(toc[0], &c, 1), 1);
	IS(tokcache_fetch(st, "s", "c2", 0, exchange, &calls, give_up, &idles,
	    &v, &how), TOKCACHE_GAVE_UP);
	IS(idles, 1);
	IS(write(toch[1], "G", 1), 1);
	IS(tokcache_fetch(st, "s", "c2", 0, exchange, &calls, NULL, NULL, &v,
	    &how), 0);
	IS(how, TOKCACHE_WAITED);
	ck_assert_str_eq(v, "theirs");
	free(v);
	IS(calls, 0);
	reap(pid);
	close(toc[0]);
	close(toc[1]);
	close(toch[0]);
	close(toch[1]);
}
END_TEST

static Suite *
tokcache_suite(void)
{
	Suite *s = suite_create("tokcache");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tokcache_and_lock);
	tcase_add_test(tc, tokcache_fetch_across_processes);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN_BACKENDS(tokcache_suite)
