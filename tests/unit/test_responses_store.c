/*
 * store/responses.c: a stored response reads back for its owner only,
 * expires, is deleted once, and refuses what is out of bounds.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/responses.h"
#include "store/store_priv.h"
#include "tests/unit/store_backend.h"
#include "unit.h"

static char dir[256];
static struct store *s;

static void
setup(void)
{
	char err[128];

	strcpy(dir, "/tmp/c2a-rsp-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(unit_store_open(&s, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_key_init(s, "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef", err, sizeof(err)), STORE_OK);
}

static void
teardown(void)
{
	char cmd[300];

	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(round_trip)
{
	static const char rec[] = "{\"response\":{\"id\":\"resp_1\"}}";
	char *json;
	size_t len;

	ck_assert_int_eq(rsp_store_put(s, "resp_1", "key-a", rec,
	    strlen(rec), 60), STORE_OK);
	ck_assert_int_eq(rsp_store_get(s, "resp_1", "key-a", &json, &len),
	    STORE_OK);
	ck_assert_uint_eq(len, strlen(rec));
	ck_assert_str_eq(json, rec);
	free(json);
	/* another key, or none, sees nothing */
	ck_assert_int_eq(rsp_store_get(s, "resp_1", "key-b", &json, &len),
	    STORE_NOTFOUND);
	ck_assert_ptr_null(json);
	ck_assert_int_eq(rsp_store_get(s, "resp_1", NULL, &json, &len),
	    STORE_NOTFOUND);
	ck_assert_int_eq(rsp_store_del(s, "resp_1", "key-b"), STORE_NOTFOUND);
	ck_assert_int_eq(rsp_store_get(s, "resp_2", "key-a", &json, &len),
	    STORE_NOTFOUND);
	/* deleted once */
	ck_assert_int_eq(rsp_store_del(s, "resp_1", "key-a"), STORE_OK);
	ck_assert_int_eq(rsp_store_del(s, "resp_1", "key-a"), STORE_NOTFOUND);
	ck_assert_int_eq(rsp_store_get(s, "resp_1", "key-a", &json, &len),
	    STORE_NOTFOUND);
}
END_TEST

START_TEST(expiry)
{
	char *json;
	size_t len;

	ck_assert_int_eq(rsp_store_put(s, "resp_e", "", "{}", 2, 10),
	    STORE_OK);
	ck_assert_int_eq(rsp_store_get(s, "resp_e", "", &json, &len),
	    STORE_OK);
	free(json);
	store_set_clock_skew(s, 11);
	ck_assert_int_eq(rsp_store_get(s, "resp_e", "", &json, &len),
	    STORE_NOTFOUND);
}
END_TEST

static int
count_txn(struct store *st, struct kv_txn *txn, void *arg)
{
	MDB_stat ms;
	int rc;

	if ((rc = kv_stat(txn, st->responses, &ms)) == 0)
		*(size_t *)arg = ms.ms_entries;
	return rc;
}

static size_t
entries(void)
{
	size_t n = 0;

	ck_assert_int_eq(store_read(s, count_txn, &n), STORE_OK);
	return n;
}

START_TEST(prune)
{
	char id[32], *json;
	size_t len;
	int i;

	for (i = 0; i < RSP_STORE_PRUNE_AT; i++) {
		snprintf(id, sizeof(id), "resp_old%04d", i);
		ck_assert_int_eq(rsp_store_put(s, id, "", "{}", 2, 10),
		    STORE_OK);
	}
	ck_assert_uint_eq(entries(), RSP_STORE_PRUNE_AT);
	store_set_clock_skew(s, 11);
	/* each put looks at a few records near its id, no more */
	ck_assert_int_eq(rsp_store_put(s, "resp_new0", "", "{}", 2, 10),
	    STORE_OK);
	ck_assert_uint_eq(entries(), RSP_STORE_PRUNE_AT + 1 -
	    RSP_STORE_PRUNE_SCAN);
	for (i = 1; i < 64; i++) {
		snprintf(id, sizeof(id), "resp_new%d", i);
		ck_assert_int_eq(rsp_store_put(s, id, "", "{}", 2, 10),
		    STORE_OK);
	}
	ck_assert_uint_lt(entries(), RSP_STORE_PRUNE_AT);
	/* the live ones stay */
	ck_assert_int_eq(rsp_store_get(s, "resp_new5", "", &json, &len),
	    STORE_OK);
	free(json);
}
END_TEST

START_TEST(limits)
{
	char *big, id[80];

	ck_assert_int_eq(rsp_store_put(s, "", "", "{}", 2, 10), STORE_INVAL);
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	ck_assert_int_eq(rsp_store_put(s, id, "", "{}", 2, 10), STORE_INVAL);
	ck_assert_int_eq(rsp_store_put(s, "resp_x", "", "{}", 2, 0),
	    STORE_INVAL);
	big = calloc(1, RSP_STORE_MAX + 2);
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(rsp_store_put(s, "resp_x", "", big, RSP_STORE_MAX + 1,
	    10), STORE_INVAL);
	free(big);
}
END_TEST

static Suite *
responses_store_suite(void)
{
	Suite *su = suite_create("responses_store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, expiry);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, prune);
	suite_add_tcase(su, tc);
	return su;
}

UNIT_MAIN_BACKENDS(responses_store_suite)
