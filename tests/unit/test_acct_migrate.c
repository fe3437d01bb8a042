/*
 * Schema 1 -> 2 (store/acct_migrate.c): a data dir written by the
 * previous release, its tokens back as chatgpt accounts, once.
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

#define OK(e)		ck_assert_int_eq((e), STORE_OK)
#define IS(e, want)	ck_assert_int_eq((e), (want))
#define CG		"chatgpt"
#define DS		"deepseek"
#define NOID		"0123456789abcdef0123456789abcdef"

/* 2030-01-31 12:00 and 2030-02-01 00:00 in UTC+8 (Asia/Shanghai). */
#define NOON		1896062400LL
#define MIDNIGHT	1896105600LL

/* ------------------------------------------------------------ migration */

struct v1_check {
	struct store	*s;
	char		 secret[16][128], team[16][128];
	int		 seen[16], n, unknown;
};

static int
v1_export_fn(void *arg, const struct acct_info *i, const char *secret,
    const struct acct_field *f, size_t nf)
{
	struct v1_check *c = arg;
	char id[ACCT_ID_LEN + 1], fp[LOG_FP_LEN];
	int k;

	(void)f;
	for (k = 0; k < c->n && strcmp(c->secret[k], secret) != 0; k++)
		;
	if (k == c->n) {
		c->unknown++;
		return 0;
	}
	c->seen[k]++;
	IS(nf, 0);
	ck_assert_str_eq(i->provider, CG);
	ck_assert_str_eq(i->team_id, c->team[k]);
	IS(i->kind, chatgpt_token_kind(secret));
	IS(i->weight, 1);
	/* the id of schema 1, and the fingerprint of the secret */
	OK(acct_id_of(c->s, CG, secret, id));
	ck_assert_str_eq(i->id, id);
	log_fingerprint(secret, fp);
	ck_assert_str_eq(i->fingerprint, fp);
	/* the fixture: foxtrot got a 401, golf cools down until 2100 */
	if (strcmp(secret, "eyJv1.foxtrot.sig") == 0) {
		IS(i->status, ACCT_ERROR);
		ck_assert_str_eq(i->last_error, "401 invalid_api_key: The "
		    "upstream rejected the access token");
		IS(i->error_count, 1);
		ck_assert_int_gt(i->last_error_at, 0);
	} else {
		IS(i->status, ACCT_ACTIVE);
		ck_assert_str_eq(i->last_error, "");
	}
	IS(i->cooldown_until, strcmp(secret, "eyJv1.golf.sig") == 0 ?
	    4102444800LL : 0);
	return 0;
}

/* meta: the schema version and the entries left in the old table */
static int
read_meta(struct store *s, struct kv_txn *txn, void *arg)
{
	MDB_val k = { 14, (void *)"schema_version" }, v;
	MDB_stat ms;
	uint64_t *out = arg;
	int rc;

	if ((rc = kv_get(txn, s->meta, &k, &v)) != 0 ||
	    (rc = kv_stat(txn, s->creds, &ms)) != 0)
		return rc;
	out[0] = store_get_be64(&v);
	out[1] = ms.ms_entries;
	return 0;
}

struct raw {
	char		key[ACCT_ID_LEN + 1];
	unsigned char	val[1024];
	MDB_val		k, v;
};

static int
put_raw(struct store *s, struct kv_txn *txn, void *arg)
{
	struct raw *r = arg;

	return kv_put(txn, s->creds, &r->k, &r->v, 0);
}

/* The first schema 1 record of the fixture, read with LMDB itself. */
static void
grab_v1(const char *d, struct raw *r)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;

	IS(mdb_env_create(&env), 0);
	IS(mdb_env_set_maxdbs(env, 16), 0);
	IS(mdb_env_open(env, d, MDB_RDONLY, 0660), 0);
	IS(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	IS(mdb_dbi_open(txn, "creds", 0, &dbi), 0);
	IS(mdb_cursor_open(txn, dbi, &cur), 0);
	IS(mdb_cursor_get(cur, &r->k, &r->v, MDB_FIRST), 0);
	IS(r->k.mv_size, ACCT_ID_LEN);
	ck_assert_uint_le(r->v.mv_size, sizeof(r->val));
	memcpy(r->key, r->k.mv_data, ACCT_ID_LEN);
	r->key[ACCT_ID_LEN] = '\0';
	memcpy(r->val, r->v.mv_data, r->v.mv_size);
	r->k.mv_data = r->key;
	r->v.mv_data = r->val;
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

static struct store *
open_v1(const char *d, uint64_t meta[2])
{
	struct store *s;
	char err[128];

	OK(store_open(&s, d, 1 << 20));
	OK(store_key_init(s, NULL, err, sizeof(err)));
	OK(store_read(s, read_meta, meta));
	return s;
}

START_TEST(migrate_v1)
{
	static struct v1_check c;
	const char *top = getenv("top_srcdir");
	struct acct_change ch = { .set = ACCT_SET_LABEL, .label = "since" };
	struct acct_counts n;
	struct raw raw;
	struct store *s;
	char v1[300], cmd[700], line[256], *comma;
	uint64_t meta[2];
	FILE *f;
	int k;

	ck_assert_msg(top != NULL, "top_srcdir is not set: run under make "
	    "check, or as top_srcdir=/path/to/source %s", "test_accounts");
	snprintf(v1, sizeof(v1), "%s/v1", dir);
	snprintf(cmd, sizeof(cmd), "cp -R '%s/tests/integration/data/store-v1' "
	    "'%s' && chmod -R u+w '%s'", top, v1, v1);
	ck_assert_msg(system(cmd) == 0, "no fixture under %s", top);
	snprintf(cmd, sizeof(cmd), "%s/export.txt", v1);
	ck_assert_ptr_nonnull(f = fopen(cmd, "r"));
	for (c.n = 0; c.n < 16 && fgets(line, sizeof(line), f) != NULL; ) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if ((comma = strchr(line, ',')) != NULL) {
			*comma = '\0';
			snprintf(c.team[c.n], 128, "%.127s", comma + 1);
		}
		snprintf(c.secret[c.n++], 128, "%.127s", line);
	}
	fclose(f);
	IS(c.n, 7);
	grab_v1(v1, &raw);
	c.s = s = open_v1(v1, meta);
	IS(meta[0], 2);
	IS(meta[1], 0);		/* the old table emptied */
	OK(acct_export(s, NULL, v1_export_fn, &c));
	IS(c.unknown, 0);
	for (k = 0; k < c.n; k++)
		ck_assert_msg(c.seen[k] == 1, "%s came back %d times",
		    c.secret[k], c.seen[k]);
	OK(acct_count(s, CG, &n));
	ck_assert(n.total == 7 && n.error == 1 && n.cooling == 1 &&
	    n.usable == 5);
	/*
	 * Opened again it does not migrate again: a schema 1 record put
	 * back into the old table stays there, and the account it would
	 * overwrite keeps the change made since.
	 */
	OK(acct_set(s, raw.key, &ch));
	OK(store_write(s, put_raw, &raw));
	store_close(s);
	s = open_v1(v1, meta);
	ck_assert(meta[0] == 2 && meta[1] == 1);
	OK(acct_count(s, CG, &n));
	IS(n.total, 7);
	ck_assert_str_eq(get_in(s, raw.key).label, "since");
	store_close(s);
}
END_TEST

static Suite *
acct_migrate_suite(void)
{
	Suite *s = suite_create("acct_migrate");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, migrate_v1);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(acct_migrate_suite)
