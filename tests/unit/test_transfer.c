/*
 * store/transfer.c: an export imports back record for record, into the
 * other backend too (the suite runs on LMDB, then on Redis); an import
 * replaces the target; a changed, cut, foreign-key or newer file is
 * refused before the target is touched.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_priv.h"
#include "tests/unit/store_backend.h"

#define KEY_A	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"
#define KEY_B	"1123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"

static char dira[64], dirb[64], file[64];
static struct store *a, *b;

static void
open_key(struct store **s, const char *key)
{
	char err[128];

	ck_assert_int_eq(store_key_init(*s, key, err, sizeof(err)), STORE_OK);
}

static void
setup(void)
{
	int fd;

	strcpy(dira, "/tmp/c2a-xfa-XXXXXX");
	strcpy(dirb, "/tmp/c2a-xfb-XXXXXX");
	strcpy(file, "/tmp/c2a-xff-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dira));
	ck_assert_ptr_nonnull(mkdtemp(dirb));
	ck_assert_int_ge(fd = mkstemp(file), 0);
	close(fd);
	/* a runs on the suite's backend, b always on LMDB */
	ck_assert_int_eq(unit_store_open(&a, dira, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_open(&b, dirb, 1 << 20), STORE_OK);
	open_key(&a, KEY_A);
	open_key(&b, KEY_A);
}

static void
teardown(void)
{
	char cmd[256];

	store_close(a);
	store_close(b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s'", dira, dirb, file);
	ck_assert_int_eq(system(cmd), 0);
}

struct fill {
	size_t	table;		/* index into store_tables */
	int	n, size;
	char	tag;
};

static int
fill_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	const struct fill *f = arg;
	unsigned char key[16], *val;
	MDB_val k, v;
	int i, rc = 0;

	if ((val = malloc((size_t)f->size)) == NULL)
		return ENOMEM;
	for (i = 0; i < f->n && rc == 0; i++) {
		/* binary keys: a zero byte and a high byte in each */
		key[0] = (unsigned char)f->tag;
		key[1] = 0;
		key[2] = 0xff;
		snprintf((char *)key + 3, sizeof(key) - 3, "%06d", i);
		memset(val, (i * 7 + f->tag) & 0xff, (size_t)f->size);
		k.mv_size = 9;
		k.mv_data = key;
		v.mv_size = (size_t)f->size;
		v.mv_data = val;
		rc = kv_put(txn, STORE_DBI(s, f->table), &k, &v, 0);
	}
	free(val);
	return rc;
}

static void
fill(struct store *s, const char *table, int n, int size, char tag)
{
	struct fill f = { 0, n, size, tag };

	for (f.table = 0; f.table < STORE_NTABLES; f.table++)
		if (strcmp(store_tables[f.table].name, table) == 0)
			break;
	ck_assert_uint_lt(f.table, STORE_NTABLES);
	ck_assert_int_eq(store_write(s, fill_txn, &f), STORE_OK);
}

/* A digest-free comparison: every table's records, in order, as text. */
struct dump {
	char	*buf;
	size_t	 len;
	FILE	*f;
};

static int
dump_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	FILE *f = arg;
	struct kv_cursor *cur;
	MDB_val k, v;
	size_t i, j;
	int rc;

	for (i = 0; i < STORE_NTABLES; i++) {
		if (strcmp(store_tables[i].name, "meta") == 0)
			continue;
		fprintf(f, "[%s]\n", store_tables[i].name);
		if ((rc = kv_cursor_open(txn, STORE_DBI(s, i), &cur)) != 0)
			return rc;
		for (rc = kv_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
			for (j = 0; j < k.mv_size; j++)
				fprintf(f, "%02x", ((unsigned char *)k.mv_data)[j]);
			fprintf(f, " %zu", v.mv_size);
			for (j = 0; j < v.mv_size; j++)
				fprintf(f, "%02x", ((unsigned char *)v.mv_data)[j]);
			fputc('\n', f);
		}
		kv_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	return 0;
}

static char *
dump(struct store *s)
{
	struct dump d = { NULL, 0, NULL };

	d.f = open_memstream(&d.buf, &d.len);
	ck_assert_ptr_nonnull(d.f);
	ck_assert_int_eq(store_read(s, dump_txn, d.f), STORE_OK);
	fclose(d.f);
	return d.buf;
}

static void
export_to(struct store *s, size_t want)
{
	FILE *f = fopen(file, "wb");
	size_t n = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(store_export(s, f, &n), STORE_OK);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(n, want);
}

static enum store_err
import_from(struct store *s, char *err, size_t errsz)
{
	FILE *f = fopen(file, "rb");
	enum store_err e;
	size_t n;

	ck_assert_ptr_nonnull(f);
	e = store_import(s, f, &n, err, errsz);
	fclose(f);
	return e;
}

START_TEST(round_trip)
{
	char err[256], *da, *db;

	fill(a, "accounts", 5, 300, 'a');
	fill(a, "apikeys", 3, 40, 'k');
	fill(a, "seeds", 2, 90, 's');
	fill(a, "reqlog", 4, 1, 'r');
	export_to(a, 14);
	ck_assert_int_eq(import_from(b, err, sizeof(err)), STORE_OK);
	da = dump(a);
	db = dump(b);
	ck_assert_str_eq(da, db);
	ck_assert_ptr_nonnull(strstr(db, "[accounts]\n61"));
	free(db);
	/* and back, onto the suite's backend, over what it held */
	fill(b, "mappings", 1, 8, 'm');
	fill(a, "throttle", 6, 8, 't');
	db = dump(b);
	export_to(b, 15);
	ck_assert_int_eq(import_from(a, err, sizeof(err)), STORE_OK);
	free(da);
	da = dump(a);
	ck_assert_str_eq(da, db);
	ck_assert_ptr_null(strstr(da, "[throttle]\n74"));
	free(da);
	free(db);
}
END_TEST

/* Many frames: 3,000 records of 1 KiB. */
START_TEST(large)
{
	char err[256], *da, *db;

	fill(a, "reqlog", 3000, 1024, 'L');
	export_to(a, 3000);
	ck_assert_int_eq(import_from(b, err, sizeof(err)), STORE_OK);
	da = dump(a);
	db = dump(b);
	ck_assert_uint_gt(strlen(da), 3000 * 2048);
	ck_assert_str_eq(da, db);
	free(da);
	free(db);
}
END_TEST

/* Rewrites the file with fn applied to its bytes. */
static void
mangle(void (*fn)(unsigned char *, size_t *))
{
	static unsigned char buf[1 << 20];
	size_t n;
	FILE *f = fopen(file, "rb");

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ck_assert_uint_lt(n, sizeof(buf));
	fn(buf, &n);
	f = fopen(file, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
	fclose(f);
}

static void flip_late(unsigned char *p, size_t *n) { p[*n - 40] ^= 1; }
static void cut_end(unsigned char *p, size_t *n) { (void)p; *n -= 20; }
static void newer(unsigned char *p, size_t *n) { (void)n; p[23] = 99; }
static void no_magic(unsigned char *p, size_t *n) { (void)n; p[0] = 'C'; }

START_TEST(refused_untouched)
{
	static void (*bad[])(unsigned char *, size_t *) = {
		flip_late, cut_end, newer, no_magic
	};
	static const char *why[] = {
		"does not open", "cut short", "newer", "not a chat2api"
	};
	char err[256], *before, *after;
	size_t i;

	fill(b, "accounts", 2, 20, 'b');
	before = dump(b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fill(a, "accounts", 3, 700, 'a');
		fill(a, "sessions", 300, 500, 'x');	/* several frames */
		export_to(a, 303);
		mangle(bad[i]);
		ck_assert_int_ne(import_from(b, err, sizeof(err)), STORE_OK);
		ck_assert_msg(strstr(err, why[i]) != NULL, "%zu: %s", i, err);
		after = dump(b);
		ck_assert_str_eq(before, after);
		free(after);
	}
	free(before);
}
END_TEST

START_TEST(other_key)
{
	char err[256], dirc[64], *dc;
	struct store *c;

	fill(a, "apikeys", 2, 40, 'k');
	export_to(a, 2);
	strcpy(dirc, "/tmp/c2a-xfc-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dirc));
	ck_assert_int_eq(store_open(&c, dirc, 1 << 20), STORE_OK);
	open_key(&c, KEY_B);
	ck_assert_int_eq(import_from(c, err, sizeof(err)), STORE_INVAL);
	ck_assert_ptr_nonnull(strstr(err, "another secret key"));
	dc = dump(c);
	ck_assert_ptr_null(strstr(dc, "6b00ff"));
	free(dc);
	store_close(c);
	snprintf(err, sizeof(err), "rm -rf '%s'", dirc);
	ck_assert_int_eq(system(err), 0);
}
END_TEST

/* An empty store's export empties the target. */
START_TEST(empty_empties)
{
	char err[256], *db;

	fill(b, "mappings", 3, 10, 'm');
	export_to(a, 0);
	ck_assert_int_eq(import_from(b, err, sizeof(err)), STORE_OK);
	db = dump(b);
	ck_assert_ptr_null(strstr(db, "6d00ff"));
	free(db);
}
END_TEST

static Suite *
transfer_suite(void)
{
	Suite *su = suite_create("transfer");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, large);
	tcase_add_test(tc, refused_untouched);
	tcase_add_test(tc, other_key);
	tcase_add_test(tc, empty_empties);
	suite_add_tcase(su, tc);
	return su;
}

UNIT_MAIN_BACKENDS(transfer_suite)
