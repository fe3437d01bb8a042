/* Credential pool: kinds, encryption at rest, pool picks, bookkeeping. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/creds.h"
#include "store/crypto.h"
#include "store/store_priv.h"
#include "unit.h"

static char dir[256];
static struct store *st;

static void
setup(void)
{
	char err[128];

	strcpy(dir, "/tmp/c2a-creds-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(store_open(&st, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_key_init(st, NULL, err, sizeof(err)), STORE_OK);
}

static void
teardown(void)
{
	char cmd[300];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(kinds)
{
	ck_assert_int_eq(cred_detect_kind("eyJhbGciOiJIUzI1NiJ9.e30.x"),
	    CRED_ACCESS);
	ck_assert_int_eq(cred_detect_kind("fk-abcdef"), CRED_ACCESS);
	ck_assert_int_eq(cred_detect_kind(
	    "abcdefghijabcdefghijabcdefghijabcdefghij12345"), CRED_REFRESH);
	ck_assert_int_eq(cred_detect_kind("rt_new-format-token"), CRED_REFRESH);
	ck_assert_int_eq(cred_detect_kind("something"), CRED_OTHER);
}
END_TEST

START_TEST(key_file)
{
	char path[300];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/secret.key", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(sb.st_size, 32);
}
END_TEST

START_TEST(crypto_roundtrip_and_tamper)
{
	struct crypto_key k;
	unsigned char sealed[64 + CRYPTO_OVERHEAD], pt[64];
	char err[128];

	ck_assert_int_eq(crypto_key_load(&k, "00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff", NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(crypto_seal(&k, "aad", 3, "hello secret", 12, sealed),
	    0);
	ck_assert_int_eq(crypto_open(&k, "aad", 3, sealed, 12 + CRYPTO_OVERHEAD,
	    pt), 0);
	ck_assert_int_eq(memcmp(pt, "hello secret", 12), 0);
	ck_assert_int_eq(crypto_open(&k, "aaX", 3, sealed, 12 + CRYPTO_OVERHEAD,
	    pt), -1);
	sealed[CRYPTO_NONCE_LEN + 3] ^= 1;
	ck_assert_int_eq(crypto_open(&k, "aad", 3, sealed, 12 + CRYPTO_OVERHEAD,
	    pt), -1);
	ck_assert_int_eq(crypto_key_load(&k, "short", NULL, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(crypto_streq("abc", "abc"), 1);
	ck_assert_int_eq(crypto_streq("abc", "abd"), 0);
	ck_assert_int_eq(crypto_streq("abc", "abcd"), 0);
}
END_TEST

/* The secret must not appear in the database file in clear text. */
START_TEST(encrypted_at_rest)
{
	static const char secret[] = "eyJsecret-marker-0123456789";
	char path[300], *buf;
	FILE *f;
	long n;
	int added;

	ck_assert_int_eq(cred_add(st, secret, "acct-1", &added), STORE_OK);
	ck_assert_int_eq(added, 1);
	ck_assert_int_eq(cred_add(st, secret, NULL, &added), STORE_OK);
	ck_assert_int_eq(added, 0);
	store_sync(st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	fclose(f);
	ck_assert_ptr_null(memmem(buf, (size_t)n, "secret-marker", 13));
	ck_assert_ptr_nonnull(memmem(buf, (size_t)n, "acct-1", 6));
	free(buf);
}
END_TEST

static int
collect_fp(void *arg, const struct cred_info *i)
{
	strcpy(arg, i->fingerprint);
	return 0;
}

START_TEST(lines_dedupe_remove)
{
	static const char text[] = "# comment\n\neyJa.b.c\r\n  eyJa.b.c  \n"
	    "abcdefghijabcdefghijabcdefghijabcdefghij12345,team-7\n"
	    "bad token with spaces\nother-token\n";
	struct cred_counts c;
	struct cred_pick p;
	size_t added, dups;
	char fp[13] = "";
	int i;

	ck_assert_int_eq(cred_add_lines(st, text, sizeof(text) - 1, &added,
	    &dups), STORE_OK);
	ck_assert_uint_eq(added, 3);
	ck_assert_uint_eq(dups, 1);
	ck_assert_int_eq(cred_count(st, &c), STORE_OK);
	ck_assert_uint_eq(c.total, 3);
	ck_assert_uint_eq(c.by_kind[CRED_ACCESS], 1);
	ck_assert_uint_eq(c.by_kind[CRED_REFRESH], 1);
	ck_assert_uint_eq(c.by_kind[CRED_OTHER], 1);
	/* remove one by fingerprint; it is never picked again */
	ck_assert_int_eq(cred_add(st, "eyJgone.x.y", NULL, NULL), STORE_OK);
	cred_fingerprint("eyJgone.x.y", fp);
	ck_assert_int_eq(cred_remove(st, fp), STORE_OK);
	ck_assert_int_eq(cred_remove(st, fp), STORE_NOTFOUND);
	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(cred_pick(st, CRED_PICK_RANDOM, &p), STORE_OK);
		ck_assert_str_ne(p.secret, "eyJgone.x.y");
		if (strcmp(p.secret, "abcdefghijabcdefghijabcdefghijabcdefghij"
		    "12345") == 0)
			ck_assert_str_eq(p.info.account_id, "team-7");
		cred_pick_free(&p);
	}
	ck_assert_int_eq(cred_clear(st, &added), STORE_OK);
	ck_assert_uint_eq(added, 3);
	ck_assert_int_eq(cred_pick(st, CRED_PICK_RANDOM, &p), STORE_NOTFOUND);
	(void)collect_fp;
}
END_TEST

START_TEST(errors_and_cooldown)
{
	struct cred_pick p;
	struct cred_counts c;
	char bad_id[CRED_ID_LEN + 1];
	int i;

	cred_add(st, "eyJone.a.a", NULL, NULL);
	cred_add(st, "eyJtwo.b.b", NULL, NULL);
	cred_add(st, "eyJthree.c.c", NULL, NULL);
	ck_assert_int_eq(cred_pick(st, CRED_PICK_ROUND_ROBIN, &p), STORE_OK);
	strcpy(bad_id, p.info.id);
	ck_assert_int_eq(cred_mark_error(st, p.info.id, "401 from upstream"),
	    STORE_OK);
	cred_pick_free(&p);
	ck_assert_int_eq(cred_pick(st, CRED_PICK_ROUND_ROBIN, &p), STORE_OK);
	ck_assert_int_eq(cred_mark_cooldown(st, p.info.id, time(NULL) + 60),
	    STORE_OK);
	cred_pick_free(&p);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(cred_pick(st, CRED_PICK_ROUND_ROBIN, &p),
		    STORE_OK);
		ck_assert_str_ne(p.info.id, bad_id);
		cred_pick_free(&p);
	}
	ck_assert_int_eq(cred_count(st, &c), STORE_OK);
	ck_assert_uint_eq(c.active, 1);
	ck_assert_uint_eq(c.error, 1);
	ck_assert_uint_eq(c.cooling, 1);
	ck_assert_int_eq(cred_errors_clear(st), STORE_OK);
	ck_assert_int_eq(cred_count(st, &c), STORE_OK);
	ck_assert_uint_eq(c.active, 3);
}
END_TEST

/* Four processes share one round-robin cursor: exactly fair. */
START_TEST(round_robin_fair_across_processes)
{
	static const char *toks[] = { "eyJa.1.1", "eyJb.2.2", "eyJc.3.3",
	    "eyJd.4.4" };
	int counts[4] = { 0 }, fds[2], i, j, status;
	pid_t pids[4];
	char buf[64];

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(cred_add(st, toks[i], NULL, NULL), STORE_OK);
	ck_assert_int_eq(pipe(fds), 0);
	for (i = 0; i < 4; i++) {
		if ((pids[i] = fork()) == 0) {
			struct store *s2;
			struct cred_pick p;
			char err[64];
			close(fds[0]);
			if (store_open(&s2, dir, 1 << 20) != STORE_OK ||
			    store_key_init(s2, NULL, err, sizeof(err)))
				_exit(1);
			for (j = 0; j < 100; j++) {
				if (cred_pick(s2, CRED_PICK_ROUND_ROBIN, &p))
					_exit(2);
				snprintf(buf, sizeof(buf), "%c\n", p.secret[3]);
				if (write(fds[1], buf, 2) != 2)
					_exit(3);
				cred_pick_free(&p);
			}
			store_close(s2);
			_exit(0);
		}
	}
	close(fds[1]);
	while (read(fds[0], buf, 2) == 2)
		counts[buf[0] - 'a']++;
	close(fds[0]);
	for (i = 0; i < 4; i++) {
		waitpid(pids[i], &status, 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(counts[i], 100);
}
END_TEST

START_TEST(wrong_key_is_detected)
{
	struct store *s2;
	struct cred_pick p;
	struct cred_counts c;
	char err[128];

	cred_add(st, "eyJkeyed.a.b", NULL, NULL);
	ck_assert_int_eq(store_open(&s2, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_key_init(s2, "a different passphrase!", err,
	    sizeof(err)), STORE_OK);
	ck_assert_int_eq(cred_pick(s2, CRED_PICK_RANDOM, &p), STORE_NOTFOUND);
	ck_assert_int_eq(cred_count(s2, &c), STORE_OK);
	ck_assert_uint_eq(c.error, 1);
	store_close(s2);
}
END_TEST

START_TEST(rt_cache_and_lock)
{
	static const char rt[] = "abcdefghijabcdefghijabcdefghijabcdefghij12345";
	char *at = NULL;
	int64_t exp = 0;
	int got;

	ck_assert_int_eq(cred_rt_lookup(st, rt, &at, &exp), STORE_NOTFOUND);
	ck_assert_int_eq(cred_rt_lock(st, rt, &got), STORE_OK);
	ck_assert_int_eq(got, 1);
	ck_assert_int_eq(cred_rt_lock(st, rt, &got), STORE_OK);
	ck_assert_int_eq(got, 0);	/* held (by us: a live holder) */
	ck_assert_int_eq(cred_rt_store(st, rt, "eyJfresh.at.x", time(NULL) +
	    100), STORE_OK);
	ck_assert_int_eq(cred_rt_unlock(st, rt), STORE_OK);
	ck_assert_int_eq(cred_rt_lookup(st, rt, &at, &exp), STORE_OK);
	ck_assert_str_eq(at, "eyJfresh.at.x");
	free(at);
	ck_assert_int_eq(cred_rt_lock(st, rt, &got), STORE_OK);
	ck_assert_int_eq(got, 1);
	cred_rt_unlock(st, rt);
	ck_assert_int_eq(cred_rt_store(st, rt, "eyJold", time(NULL) - 1),
	    STORE_OK);
	ck_assert_int_eq(cred_rt_lookup(st, rt, &at, &exp), STORE_NOTFOUND);
	ck_assert_int_eq(cred_rt_forget(st, rt), STORE_OK);
}
END_TEST

static Suite *
creds_suite(void)
{
	Suite *s = suite_create("creds");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kinds);
	tcase_add_test(tc, key_file);
	tcase_add_test(tc, crypto_roundtrip_and_tamper);
	tcase_add_test(tc, encrypted_at_rest);
	tcase_add_test(tc, lines_dedupe_remove);
	tcase_add_test(tc, errors_and_cooldown);
	tcase_add_test(tc, round_robin_fair_across_processes);
	tcase_add_test(tc, wrong_key_is_detected);
	tcase_add_test(tc, rt_cache_and_lock);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(creds_suite)
