/* Proxy API keys (store/apikeys.c): shown once, kept only as an HMAC. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/apikeys.h"
#include "store/store_priv.h"
#include "tests/unit/store_backend.h"
#include "unit.h"

#define OK(e)		ck_assert_int_eq((e), STORE_OK)
#define IS(e, want)	ck_assert_int_eq((e), (want))
#define MANY		200

static char dir[256];
static struct store *st;

static void
setup(void)
{
	char err[128];

	strcpy(dir, "/tmp/c2a-keys-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	OK(unit_store_open(&st, dir, 1 << 20));
	OK(store_key_init(st, NULL, err, sizeof(err)));
}

static void
teardown(void)
{
	char cmd[300];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	IS(system(cmd), 0);
}

static int
db_has(const char *needle, size_t n)
{
	OK(store_sync(st));
	return unit_backend_has(dir, needle, n);
}

static int
is_hex12(const char *id)
{
	size_t i;

	for (i = 0; i < APIKEY_ID_LEN; i++)
		if (!isdigit((unsigned char)id[i]) && !(id[i] >= 'a' &&
		    id[i] <= 'f'))
			return 0;
	return id[APIKEY_ID_LEN] == '\0';
}

START_TEST(create_shown_once)
{
	struct apikey_info in, chk;
	char key[APIKEY_LEN + 1], key2[APIKEY_LEN + 1], hint[32];
	size_t i, n;

	OK(apikey_count(st, &n));
	IS(n, 0);
	OK(apikey_create(st, "ci bot", key, &in));
	IS(strlen(key), APIKEY_LEN);
	IS(strncmp(key, "sk-", 3), 0);
	for (i = 3; i < APIKEY_LEN; i++)
		ck_assert_msg(isalnum((unsigned char)key[i]), "key char %zu",
		    i);
	ck_assert(is_hex12(in.id));
	ck_assert_str_eq(in.name, "ci bot");
	IS(in.enabled, 1);
	IS(in.requests, 0);
	IS(in.last_used_at, 0);
	ck_assert_int_ge(in.created_at, store_now(st) - 5);
	snprintf(hint, sizeof(hint), "%.7s...%s", key, key + APIKEY_LEN - 4);
	ck_assert_str_eq(in.hint, hint);
	/* the key is not in the data file; only its first 7 and last 4 */
	IS(db_has(key, APIKEY_LEN), 0);
	IS(db_has(key + 7, APIKEY_LEN - 11), 0);
	IS(db_has(key + 10, 20), 0);
	IS(db_has("ci bot", 6), 1);
	/* two keys differ, in key and id */
	OK(apikey_create(st, NULL, key2, &chk));
	ck_assert_str_ne(key, key2);
	ck_assert_str_ne(in.id, chk.id);
	ck_assert_str_eq(chk.name, "");
	OK(apikey_count(st, &n));
	IS(n, 2);
	/* names: printable, bounded */
	{
		char name[APIKEY_NAME_MAX + 2];

		memset(name, 'n', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		IS(apikey_create(st, name, key2, &chk), STORE_INVAL);
		name[APIKEY_NAME_MAX] = '\0';
		OK(apikey_create(st, name, key2, &chk));
		ck_assert_str_eq(chk.name, name);
		IS(apikey_create(st, "a\nb", key2, &chk), STORE_INVAL);
		IS(apikey_create(st, "del\x7f", key2, &chk), STORE_INVAL);
	}
}
END_TEST

START_TEST(check_with_and_without_counting)
{
	struct apikey_info in, chk;
	char key[APIKEY_LEN + 1], other[APIKEY_LEN + 1], longer[300];
	int i;

	OK(apikey_create(st, "k", key, &in));
	for (i = 0; i < 3; i++) {
		OK(apikey_check(st, key, 0, &chk));
		ck_assert_str_eq(chk.id, in.id);
		ck_assert_str_eq(chk.name, "k");
		ck_assert_str_eq(chk.hint, in.hint);
		IS(chk.enabled, 1);
		IS(chk.requests, 0);
		IS(chk.last_used_at, 0);
	}
	store_set_clock_skew(st, 1000);
	for (i = 1; i <= 3; i++) {
		OK(apikey_check(st, key, 1, &chk));
		IS(chk.requests, i);
	}
	ck_assert_int_ge(chk.last_used_at, in.created_at + 1000);
	OK(apikey_check(st, key, 0, &chk));
	IS(chk.requests, 3);
	/* not keys: another, one character off, a prefix, bounds */
	memcpy(other, key, sizeof(other));
	other[20] = other[20] == 'a' ? 'b' : 'a';
	IS(apikey_check(st, other, 0, &chk), STORE_NOTFOUND);
	IS(apikey_check(st, other, 1, &chk), STORE_NOTFOUND);
	other[APIKEY_LEN - 1] = '\0';
	memcpy(other, key, APIKEY_LEN - 1);
	IS(apikey_check(st, other, 0, &chk), STORE_NOTFOUND);
	IS(apikey_check(st, "", 0, &chk), STORE_NOTFOUND);
	IS(apikey_check(st, "sk-short", 1, &chk), STORE_NOTFOUND);
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	IS(apikey_check(st, longer, 1, &chk), STORE_NOTFOUND);
	/* the misses counted nothing */
	OK(apikey_check(st, key, 0, &chk));
	IS(chk.requests, 3);
}
END_TEST

START_TEST(disable_enable_remove)
{
	struct apikey_info in, chk;
	char key[APIKEY_LEN + 1], id[APIKEY_ID_LEN + 1];
	size_t n;

	OK(apikey_create(st, "d", key, &in));
	OK(apikey_check(st, key, 1, &chk));
	IS(chk.requests, 1);
	OK(apikey_enable(st, in.id, 0));
	/* still a key (so the caller can say "disabled"), never counted */
	OK(apikey_check(st, key, 1, &chk));
	IS(chk.enabled, 0);
	IS(chk.requests, 1);
	ck_assert_str_eq(chk.name, "d");
	OK(apikey_enable(st, in.id, 1));
	OK(apikey_check(st, key, 1, &chk));
	IS(chk.enabled, 1);
	IS(chk.requests, 2);
	/* ids: 12 lower-case hex, and only one that exists */
	IS(apikey_enable(st, "abc", 0), STORE_INVAL);
	IS(apikey_enable(st, "ABCDEF012345", 0), STORE_INVAL);
	IS(apikey_enable(st, "0123456789abc", 0), STORE_INVAL);
	IS(apikey_remove(st, "0123456789ag"), STORE_INVAL);
	snprintf(id, sizeof(id), "%s", in.id);
	id[11] = id[11] == '0' ? '1' : '0';
	IS(apikey_enable(st, id, 0), STORE_NOTFOUND);
	IS(apikey_remove(st, id), STORE_NOTFOUND);
	OK(apikey_check(st, key, 0, &chk));
	IS(chk.enabled, 1);
	OK(apikey_remove(st, in.id));
	IS(apikey_check(st, key, 0, &chk), STORE_NOTFOUND);
	IS(apikey_check(st, key, 1, &chk), STORE_NOTFOUND);
	IS(apikey_remove(st, in.id), STORE_NOTFOUND);
	IS(apikey_enable(st, in.id, 1), STORE_NOTFOUND);
	OK(apikey_count(st, &n));
	IS(n, 0);
}
END_TEST

struct seen {
	char	ids[MANY][APIKEY_ID_LEN + 1];
	int	n, stop_at;
};

static int
list_fn(void *arg, const struct apikey_info *in)
{
	struct seen *s = arg;

	ck_assert_int_lt(s->n, MANY);
	ck_assert(is_hex12(in->id));
	IS(strncmp(in->hint, "sk-", 3), 0);
	memcpy(s->ids[s->n++], in->id, APIKEY_ID_LEN + 1);
	return s->n == s->stop_at;
}

static int
find(const struct seen *s, const char *id)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], id) == 0)
			return 1;
	return 0;
}

START_TEST(many_keys)
{
	static char keys[MANY][APIKEY_LEN + 1];
	static struct apikey_info in[MANY];
	static struct seen s;
	struct apikey_info chk;
	size_t n;
	int i, j;

	for (i = 0; i < MANY; i++) {
		char name[16];

		snprintf(name, sizeof(name), "key-%d", i);
		OK(apikey_create(st, name, keys[i], &in[i]));
	}
	OK(apikey_count(st, &n));
	IS(n, MANY);
	for (i = 0; i < MANY; i++)
		for (j = i + 1; j < MANY; j++)
			ck_assert_str_ne(in[i].id, in[j].id);
	memset(&s, 0, sizeof(s));
	OK(apikey_list(st, list_fn, &s));
	IS(s.n, MANY);
	for (i = 0; i < MANY; i++)
		ck_assert_msg(find(&s, in[i].id), "%s not listed", in[i].id);
	/* the listing stops when the callback says so */
	memset(&s, 0, sizeof(s));
	s.stop_at = 5;
	OK(apikey_list(st, list_fn, &s));
	IS(s.n, 5);
	/* every other one removed; the rest still work */
	for (i = 0; i < MANY; i += 2)
		OK(apikey_remove(st, in[i].id));
	OK(apikey_count(st, &n));
	IS(n, MANY / 2);
	for (i = 0; i < MANY; i++) {
		if (i % 2 == 0) {
			IS(apikey_check(st, keys[i], 1, &chk), STORE_NOTFOUND);
			continue;
		}
		OK(apikey_check(st, keys[i], 1, &chk));
		ck_assert_str_eq(chk.id, in[i].id);
		ck_assert_str_eq(chk.name, in[i].name);
		IS(chk.requests, 1);
	}
	memset(&s, 0, sizeof(s));
	OK(apikey_list(st, list_fn, &s));
	IS(s.n, MANY / 2);
	ck_assert(!find(&s, in[0].id) && find(&s, in[1].id));
}
END_TEST

/* Another process sees a key at once; a different secret key does not. */
START_TEST(across_stores)
{
	struct apikey_info in, chk;
	struct store *s2;
	char key[APIKEY_LEN + 1], err[128];
	size_t n;

	OK(apikey_create(st, "shared", key, &in));
	OK(unit_store_open(&s2, dir, 1 << 20));
	/* no secret key yet: refused, not silently open */
	IS(apikey_check(s2, key, 0, &chk), STORE_INVAL);
	IS(apikey_create(s2, "x", key, &chk), STORE_INVAL);
	OK(store_key_init(s2, NULL, err, sizeof(err)));
	OK(apikey_check(s2, key, 1, &chk));
	ck_assert_str_eq(chk.id, in.id);
	store_close(s2);
	OK(apikey_check(st, key, 0, &chk));
	IS(chk.requests, 1);
	OK(unit_store_open(&s2, dir, 1 << 20));
	if (unit_on_redis()) {	/* refused before any use */
		IS(store_key_init(s2, "another passphrase, long enough", err,
		    sizeof(err)), STORE_INVAL);
		store_close(s2);
		return;
	}
	OK(store_key_init(s2, "another passphrase, long enough", err,
	    sizeof(err)));
	IS(apikey_check(s2, key, 0, &chk), STORE_NOTFOUND);
	OK(apikey_count(s2, &n));
	IS(n, 1);
	store_close(s2);
}
END_TEST

static Suite *
apikeys_suite(void)
{
	Suite *s = suite_create("apikeys");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_shown_once);
	tcase_add_test(tc, check_with_and_without_counting);
	tcase_add_test(tc, disable_enable_remove);
	tcase_add_test(tc, many_keys);
	tcase_add_test(tc, across_stores);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN_BACKENDS(apikeys_suite)
