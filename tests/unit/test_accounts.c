/*
 * Accounts (store/accounts.c, acct_pick.c, acct_migrate.c) and the
 * derived-token cache (store/tokcache.c): encryption at rest, every
 * strategy with exact counts, daily limits per local day, outcomes,
 * exactness across processes, and the schema 1 -> 2 migration.
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
#include "unit.h"

#define OK(e)		ck_assert_int_eq((e), STORE_OK)
#define IS(e, want)	ck_assert_int_eq((e), (want))
#define CG		"chatgpt"
#define DS		"deepseek"
#define NOID		"0123456789abcdef0123456789abcdef"

/* 2030-01-31 12:00 and 2030-02-01 00:00 in UTC+8 (Asia/Shanghai). */
#define NOON		1896062400LL
#define MIDNIGHT	1896105600LL

static char dir[256];
static struct store *st;
static char ids[8][ACCT_ID_LEN + 1];
static char secs[8][64];

static void
setup(void)
{
	char err[128];

	/* Asia/Shanghai's rule, spelled so that no tzdata is needed. */
	setenv("TZ", "CST-8", 1);
	tzset();
	strcpy(dir, "/tmp/c2a-acct-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	OK(store_open(&st, dir, 1 << 20));
	OK(store_key_init(st, NULL, err, sizeof(err)));
	memset(ids, 0, sizeof(ids));
}

static void
teardown(void)
{
	char cmd[300];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	IS(system(cmd), 0);
}

static void
set_clock(struct store *s, int64_t t)
{
	store_set_clock_skew(s, t - (int64_t)time(NULL));
}

/* Past the end of the store's local day. */
static void
next_day(void)
{
	set_clock(st, store_now(st) + store_day_left(st) + 1);
}

/* Accounts first..first+n-1 of prov, added one second apart. */
static void
mkn(const char *prov, int first, int n, const uint32_t *limits,
    const uint32_t *weights)
{
	struct acct_new a;
	size_t added, dups;
	int i;

	for (i = first; i < first + n; i++) {
		snprintf(secs[i], sizeof(secs[i]), "%s-secret-%d-marker", prov,
		    i);
		memset(&a, 0, sizeof(a));
		a.provider = prov;
		a.secret = secs[i];
		a.secret_len = strlen(secs[i]);
		a.daily_limit = limits ? limits[i - first] : 0;
		a.weight = weights ? weights[i - first] : 0;
		set_clock(st, NOON + i);
		OK(acct_add(st, &a, 1, &added, &dups, ids[i]));
		IS(added, 1);
		IS(dups, 0);
	}
	set_clock(st, NOON + 100);
}

static struct acct_pick_opts
opts(const char *prov, enum acct_strategy s)
{
	struct acct_pick_opts o;

	memset(&o, 0, sizeof(o));
	o.provider = prov;
	o.strategy = s;
	return o;
}

/* Picks; the index in ids of what came (its secret checked), or -1. */
static int
pick_idx(struct store *s, const struct acct_pick_opts *o,
    struct acct_pick_why *w)
{
	struct acct_pick p;
	enum store_err e;
	int i;

	if ((e = acct_pick(s, o, &p, w)) == STORE_NOTFOUND)
		return -1;
	OK(e);
	IS(p.counted, 1);
	for (i = 0; i < 8 && strcmp(p.info.id, ids[i]) != 0; i++)
		;
	ck_assert_int_lt(i, 8);
	ck_assert_str_eq(p.secret, secs[i]);
	ck_assert_str_eq(p.info.provider, o->provider);
	acct_pick_free(&p);
	return i;
}

static struct acct_info
get_in(struct store *s, const char *id)
{
	struct acct_info in;

	OK(acct_get(s, id, &in));
	return in;
}
#define get(id)	get_in(st, (id))

static void
record(const char *prov, const char *id, enum acct_outcome out,
    const char *reason, long cool_s, int refund)
{
	struct acct_result r = { out, 120, reason, cool_s, refund };

	OK(acct_record(st, prov, id, &r));
}

/* Whether the data file holds needle (after a sync). */
static int
db_has(const char *needle)
{
	char path[300], *buf;
	FILE *f;
	long n;
	int found;

	OK(store_sync(st));
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	ck_assert_ptr_nonnull(buf = malloc((size_t)n));
	IS(fread(buf, 1, (size_t)n, f), n);
	fclose(f);
	found = memmem(buf, (size_t)n, needle, strlen(needle)) != NULL;
	free(buf);
	return found;
}

struct xp {
	int	n;
	char	secret[128], f0[64], v0[64];
	size_t	nf;
};

static int
export_fn(void *arg, const struct acct_info *i, const char *secret,
    const struct acct_field *f, size_t nf)
{
	struct xp *x = arg;

	(void)i;
	x->n++;
	snprintf(x->secret, sizeof(x->secret), "%s", secret);
	if ((x->nf = nf) > 0) {
		snprintf(x->f0, sizeof(x->f0), "%s", f[0].name);
		snprintf(x->v0, sizeof(x->v0), "%s", f[0].value);
	}
	return 0;
}

START_TEST(kinds_and_names)
{
	enum acct_strategy s;
	enum acct_status x;

	IS(chatgpt_token_kind("eyJhbGciOiJIUzI1NiJ9.e30.x"),
	    CHATGPT_KIND_ACCESS);
	IS(chatgpt_token_kind("fk-abcdef"), CHATGPT_KIND_ACCESS);
	IS(chatgpt_token_kind("abcdefghijabcdefghijabcdefghijabcdefghij12345"),
	    CHATGPT_KIND_REFRESH);
	IS(chatgpt_token_kind("rt_new-format"), CHATGPT_KIND_REFRESH);
	IS(chatgpt_token_kind("rt-old-format"), CHATGPT_KIND_REFRESH);
	IS(chatgpt_token_kind("something"), CHATGPT_KIND_OTHER);
	IS(chatgpt_provider.classify("rt_x"), CHATGPT_KIND_REFRESH);
	IS(acct_strategy_parse("Fill-First", &s), 0);
	IS(s, ACCT_FILL_FIRST);
	IS(acct_strategy_parse("weighted", &s), 0);
	IS(s, ACCT_WEIGHTED);
	IS(acct_strategy_parse("fastest", &s), -1);
	ck_assert_str_eq(acct_strategy_name(ACCT_ROUND_ROBIN), "round-robin");
	IS(acct_status_parse("EXPIRED", &x), 0);
	IS(x, ACCT_EXPIRED);
	IS(acct_status_parse("gone", &x), -1);
	ck_assert_str_eq(acct_status_name(ACCT_INACTIVE), "inactive");
	IS(acct_provider_ok(DS), 1);
	IS(acct_provider_ok("my_prov2"), 1);
	IS(acct_provider_ok("DeepSeek"), 0);
	IS(acct_provider_ok(""), 0);
	IS(acct_provider_ok("a:b"), 0);
	IS(acct_provider_ok("sixteen_chars_xx"), 0);
}
END_TEST

START_TEST(key_file_and_crypto)
{
	struct crypto_key k;
	unsigned char sealed[64 + CRYPTO_OVERHEAD], pt[64];
	char path[300], err[128];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/secret.key", dir);
	IS(stat(path, &sb), 0);
	IS(sb.st_mode & 0777, 0600);
	IS(sb.st_size, 32);
	IS(crypto_key_load(&k, "00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff", NULL, err, sizeof(err)), 0);
	IS(crypto_seal(&k, "aad", 3, "hello secret", 12, sealed), 0);
	IS(crypto_open(&k, "aad", 3, sealed, 12 + CRYPTO_OVERHEAD, pt), 0);
	IS(memcmp(pt, "hello secret", 12), 0);
	IS(crypto_open(&k, "aaX", 3, sealed, 12 + CRYPTO_OVERHEAD, pt), -1);
	sealed[CRYPTO_NONCE_LEN + 3] ^= 1;
	IS(crypto_open(&k, "aad", 3, sealed, 12 + CRYPTO_OVERHEAD, pt), -1);
	IS(crypto_key_load(&k, "short", NULL, err, sizeof(err)), -1);
	IS(crypto_streq("abc", "abc"), 1);
	IS(crypto_streq("abc", "abd"), 0);
	IS(crypto_streq("abc", "abcd"), 0);
}
END_TEST

/* Secrets and extra fields are sealed; labels and team ids are not. */
START_TEST(encrypted_at_rest_and_fields)
{
	static const struct acct_field f[] = {
		{ "real_user_id", "uid-marker-777" }, { "device", "dev-9" } };
	struct acct_field many[ACCT_FIELDS_MAX + 1];
	struct acct_new a = { .provider = DS, .secret = "eyJsecret-marker-12",
	    .secret_len = 19, .team_id = "team-visible", .team_len = 12,
	    .label = "label-visible", .fields = f, .nfields = 2 };
	struct acct_pick_opts o = opts(DS, ACCT_ROUND_ROBIN);
	struct acct_pick p;
	struct xp x;
	char longname[ACCT_FIELD_NAME_MAX + 2];
	size_t i;

	OK(acct_add(st, &a, 1, NULL, NULL, NULL));
	IS(db_has("secret-marker"), 0);
	IS(db_has("uid-marker-777"), 0);
	IS(db_has("real_user_id"), 0);
	IS(db_has("team-visible"), 1);
	IS(db_has("label-visible"), 1);
	OK(acct_pick(st, &o, &p, NULL));
	ck_assert_str_eq(p.secret, "eyJsecret-marker-12");
	IS(p.nfields, 2);
	ck_assert_str_eq(acct_pick_field(&p, "real_user_id"), "uid-marker-777");
	ck_assert_str_eq(acct_pick_field(&p, "device"), "dev-9");
	ck_assert_ptr_null(acct_pick_field(&p, "nope"));
	ck_assert_str_eq(p.info.team_id, "team-visible");
	ck_assert_str_eq(p.info.label, "label-visible");
	acct_pick_free(&p);
	memset(&x, 0, sizeof(x));
	OK(acct_export(st, DS, export_fn, &x));
	IS(x.n, 1);
	ck_assert_str_eq(x.secret, "eyJsecret-marker-12");
	IS(x.nf, 2);
	ck_assert_str_eq(x.f0, "real_user_id");
	ck_assert_str_eq(x.v0, "uid-marker-777");
	/* too many fields, a long name, an empty one */
	for (i = 0; i < ACCT_FIELDS_MAX + 1; i++)
		many[i] = f[0];
	a.secret = "another-secret-1234567";
	a.secret_len = strlen(a.secret);
	a.fields = many;
	a.nfields = ACCT_FIELDS_MAX + 1;
	IS(acct_add(st, &a, 1, NULL, NULL, NULL), STORE_INVAL);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	many[0].name = longname;
	a.nfields = 1;
	IS(acct_add(st, &a, 1, NULL, NULL, NULL), STORE_INVAL);
	many[0].name = "";
	IS(acct_add(st, &a, 1, NULL, NULL, NULL), STORE_INVAL);
}
END_TEST

START_TEST(add_dedupe_remove)
{
	static const char rt[] = "abcdefghijabcdefghijabcdefghijabcdefghij12345";
	struct acct_new a[4] = {
		{ .provider = CG, .secret = "eyJa.b.c", .secret_len = 8,
		  .kind = CHATGPT_KIND_ACCESS },
		{ .provider = CG, .secret = "eyJa.b.c", .secret_len = 8 },
		{ .provider = CG, .secret = rt, .secret_len = 45,
		  .kind = CHATGPT_KIND_REFRESH },
		{ .provider = CG, .secret = "other-token", .secret_len = 11,
		  .kind = CHATGPT_KIND_OTHER } };
#define FINE	.provider = CG, .secret = "fine-token", .secret_len = 10
	static const struct acct_new bad[] = {
		{ .provider = CG, .secret = "bad token", .secret_len = 9 },
		{ .provider = CG, .secret = "quo\"te", .secret_len = 6 },
		{ .provider = CG, .secret = "", .secret_len = 0 },
		{ .provider = "Chat", .secret = "fine-token", .secret_len = 10 },
		{ FINE, .weight = ACCT_WEIGHT_MAX + 1 },
		{ FINE, .daily_limit = ACCT_LIMIT_MAX + 1 },
		{ FINE, .kind = 8 },
		{ FINE, .label = "two\nlines" },
		{ FINE, .team_id = "team 1", .team_len = 6 } };
#undef FINE
	struct acct_counts c;
	struct acct_info in;
	struct acct_pick_opts o = opts(CG, ACCT_RANDOM);
	struct acct_pick p;
	size_t added, dups, i;
	char first[ACCT_ID_LEN + 1], fp[LOG_FP_LEN], id[ACCT_ID_LEN + 1];

	OK(acct_add(st, a, 4, &added, &dups, first));
	IS(added, 3);
	IS(dups, 1);		/* the same secret twice in one batch */
	OK(acct_id_of(st, CG, "eyJa.b.c", id));
	ck_assert_str_eq(first, id);
	OK(acct_count(st, CG, &c));
	IS(c.total, 3);
	IS(c.by_kind[CHATGPT_KIND_ACCESS], 1);
	IS(c.by_kind[CHATGPT_KIND_REFRESH], 1);
	IS(c.by_kind[CHATGPT_KIND_OTHER], 1);
	/* a duplicate with a team id keeps it */
	a[2].team_id = "team-7";
	a[2].team_len = 6;
	OK(acct_add(st, &a[2], 1, &added, &dups, NULL));
	IS(added, 0);
	IS(dups, 1);
	log_fingerprint(rt, fp);
	ck_assert_str_eq(get(fp).team_id, "team-7");
	IS(get(fp).kind, CHATGPT_KIND_REFRESH);
	/* bad input: refused, and nothing of its batch is added */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		IS(acct_add(st, &bad[i], 1, NULL, NULL, NULL), STORE_INVAL);
	a[3] = bad[0];
	a[0].secret = "eyJnew.b.c";
	a[0].secret_len = 10;
	IS(acct_add(st, a, 4, &added, NULL, NULL), STORE_INVAL);
	IS(added, 0);
	OK(acct_count(st, NULL, &c));
	IS(c.total, 3);
	/* remove by fingerprint, then by id; never picked again */
	log_fingerprint("eyJa.b.c", fp);
	IS(acct_remove(st, DS, fp), STORE_NOTFOUND);
	OK(acct_remove(st, NULL, fp));
	IS(acct_remove(st, NULL, fp), STORE_NOTFOUND);
	IS(acct_remove(st, NULL, "short"), STORE_INVAL);
	OK(acct_id_of(st, CG, "other-token", id));
	OK(acct_remove(st, CG, id));
	IS(acct_get(st, id, &in), STORE_NOTFOUND);
	for (i = 0; i < 20; i++) {
		OK(acct_pick(st, &o, &p, NULL));
		ck_assert_str_eq(p.secret, rt);
		ck_assert_str_eq(p.info.team_id, "team-7");
		acct_pick_free(&p);
	}
	OK(acct_clear(st, NULL, &added));
	IS(added, 1);
	IS(acct_pick(st, &o, &p, NULL), STORE_NOTFOUND);
}
END_TEST

/* Pasted lines (handlers/acct_lines.c): comments, blanks, teams, junk. */
START_TEST(lines_paste)
{
	static const char cg[] = "# comment\n\neyJa.b.c\r\n  eyJa.b.c  \n"
	    "abcdefghijabcdefghijabcdefghijabcdefghij12345,team-7\n"
	    "bad token with spaces\nrt_x,bad team\nother-token";
	static const char ds[] = "{\"value\":\"ds-user-token-0123456789\","
	    "\"__version\":\"0\"}\n  ds-user-token-0123456789  \nshort\n"
	    "sk-placeholder-xxxxxxxxxxxxxxxx\nds-with,comma-0123456789xx\n"
	    "{\"value\": 5}\n";
	struct acct_lines_result r;
	struct acct_counts c;
	struct xp x;
	char fp[LOG_FP_LEN];

	OK(acct_lines_add(st, &chatgpt_provider, cg, sizeof(cg) - 1, &r));
	ck_assert(r.lines == 6 && r.added == 3 && r.dups == 1 &&
	    r.skipped == 2);
	OK(acct_count(st, CG, &c));
	IS(c.total, 3);
	IS(c.by_kind[CHATGPT_KIND_ACCESS], 1);
	IS(c.by_kind[CHATGPT_KIND_REFRESH], 1);
	IS(c.by_kind[CHATGPT_KIND_OTHER], 1);
	log_fingerprint("abcdefghijabcdefghijabcdefghijabcdefghij12345", fp);
	ck_assert_str_eq(get(fp).team_id, "team-7");
	/* DeepSeek: the Local Storage JSON is its token; no team ids */
	OK(acct_lines_add(st, &deepseek_provider, ds, sizeof(ds) - 1, &r));
	ck_assert(r.lines == 6 && r.added == 1 && r.dups == 1 &&
	    r.skipped == 4);
	memset(&x, 0, sizeof(x));
	OK(acct_export(st, DS, export_fn, &x));
	IS(x.n, 1);
	ck_assert_str_eq(x.secret, "ds-user-token-0123456789");
	OK(acct_lines_add(st, &deepseek_provider, "\n# only\n", 8, &r));
	ck_assert(r.lines == 0 && r.added == 0);
}
END_TEST

START_TEST(errors_and_cooldown)
{
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	struct acct_counts c;
	int i;

	mkn(CG, 0, 3, NULL, NULL);
	record(CG, ids[0], ACCT_OUT_ERROR, "401 from upstream", 0, 0);
	record(CG, ids[1], ACCT_OUT_LIMITED, NULL, 60, 0);
	for (i = 0; i < 10; i++)
		IS(pick_idx(st, &o, NULL), 2);
	OK(acct_count(st, CG, &c));
	IS(c.active, 1);
	IS(c.error, 1);
	IS(c.cooling, 1);
	IS(c.usable, 1);
	OK(acct_errors_clear(st, CG));
	OK(acct_count(st, CG, &c));
	IS(c.active, 3);
	IS(c.usable, 3);
	ck_assert_str_eq(get(ids[0]).last_error, "");
	IS(get(ids[1]).cooldown_until, 0);
}
END_TEST

/* Children pick with their own environment; results come by pipe. */
static void
fork_pickers(int nproc, int picks, const struct acct_pick_opts *o,
    int record_ok, int counts[8])
{
	pid_t pids[16];
	int fds[2], i, j, k, status;
	unsigned char b;

	IS(pipe(fds), 0);
	for (i = 0; i < nproc; i++) {
		ck_assert_int_ge(pids[i] = fork(), 0);
		if (pids[i] != 0)
			continue;
		struct store *s2;
		char err[64];

		close(fds[0]);
		if (store_open(&s2, dir, 1 << 20) != STORE_OK ||
		    store_key_init(s2, NULL, err, sizeof(err)) != STORE_OK)
			_exit(1);
		store_set_clock_skew(s2, st->clock_skew);
		for (j = 0; j < picks; j++) {
			struct acct_pick p;
			struct acct_result r = { ACCT_OUT_OK, 5, NULL, 0, 0 };
			enum store_err e = acct_pick(s2, o, &p, NULL);

			if (e == STORE_NOTFOUND)
				break;
			if (e != STORE_OK)
				_exit(2);
			for (k = 0; k < 8 && strcmp(ids[k], p.info.id); k++)
				;
			b = (unsigned char)k;
			if (k == 8 || strcmp(p.secret, secs[k]) != 0 ||
			    write(fds[1], &b, 1) != 1)
				_exit(3);
			if (record_ok && acct_record(s2, o->provider,
			    p.info.id, &r) != STORE_OK)
				_exit(4);
			acct_pick_free(&p);
		}
		store_close(s2);
		_exit(0);
	}
	close(fds[1]);
	memset(counts, 0, 8 * sizeof(int));
	while (read(fds[0], &b, 1) == 1)
		counts[b]++;
	close(fds[0]);
	for (i = 0; i < nproc; i++) {
		IS(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

/* Four processes share one round-robin cursor: exactly fair. */
START_TEST(round_robin_fair_across_processes)
{
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	int counts[8], i;

	mkn(CG, 0, 4, NULL, NULL);
	fork_pickers(4, 60, &o, 0, counts);
	for (i = 0; i < 4; i++)
		IS(counts[i], 60);
}
END_TEST

/* Eight processes against daily limits: no use lost, doubled or over. */
START_TEST(limits_exact_across_processes)
{
	static const uint32_t lim[] = { 5, 7, 11 };
	struct acct_pick_opts o = opts(DS, ACCT_ROUND_ROBIN);
	struct acct_pick_why w;
	struct acct_info in;
	int counts[8], i;

	mkn(DS, 0, 3, lim, NULL);
	fork_pickers(8, 40, &o, 1, counts);
	for (i = 0; i < 3; i++) {
		IS(counts[i], lim[i]);
		in = get(ids[i]);
		IS(in.today_use, lim[i]);
		IS(in.requests, lim[i]);
		IS(in.successes, lim[i]);
	}
	IS(pick_idx(st, &o, &w), -1);
	IS(w.over_limit, 3);
}
END_TEST

START_TEST(wrong_key_is_detected)
{
	struct acct_pick_opts o = opts(CG, ACCT_RANDOM);
	struct acct_pick_why w;
	struct acct_pick p;
	struct acct_counts c;
	struct store *s2;
	struct xp x;
	char err[128];

	mkn(CG, 0, 1, NULL, NULL);
	OK(store_open(&s2, dir, 1 << 20));
	OK(store_key_init(s2, "a different passphrase!", err, sizeof(err)));
	memset(&x, 0, sizeof(x));
	OK(acct_export(s2, CG, export_fn, &x));
	IS(x.n, 0);
	IS(acct_pick(s2, &o, &p, &w), STORE_NOTFOUND);
	IS(w.error, 1);
	OK(acct_count(s2, CG, &c));
	IS(c.error, 1);
	IS(get(ids[0]).today_use, 0);	/* the reserved use given back */
	store_close(s2);
}
END_TEST

START_TEST(strategy_round_robin)
{
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	int seq[30], counts[3] = { 0 }, i;

	mkn(CG, 0, 3, NULL, NULL);
	for (i = 0; i < 30; i++)
		counts[seq[i] = pick_idx(st, &o, NULL)]++;
	for (i = 0; i < 3; i++)
		IS(counts[i], 10);
	for (i = 3; i < 30; i++)
		IS(seq[i], seq[i - 3]);
	ck_assert(seq[0] != seq[1] && seq[1] != seq[2] && seq[0] != seq[2]);
}
END_TEST

START_TEST(strategy_fill_first)
{
	static const uint32_t lim[] = { 3, 2, 0 };
	static const int want[10] = { 0, 0, 0, 1, 1, 2, 2, 2, 2, 2 };
	struct acct_pick_opts o = opts(CG, ACCT_FILL_FIRST);
	int i;

	mkn(CG, 0, 3, lim, NULL);
	for (i = 0; i < 10; i++)
		IS(pick_idx(st, &o, NULL), want[i]);
	/* a refund on the oldest brings it back first */
	record(CG, ids[0], ACCT_OUT_SOFT, NULL, 0, 1);
	IS(pick_idx(st, &o, NULL), 0);
	IS(pick_idx(st, &o, NULL), 2);
}
END_TEST

START_TEST(strategy_failover)
{
	struct acct_pick_opts o = opts(CG, ACCT_FAILOVER);
	int i;

	mkn(CG, 0, 3, NULL, NULL);
	for (i = 0; i < 3; i++)
		IS(pick_idx(st, &o, NULL), 0);
	record(CG, ids[0], ACCT_OUT_SOFT, NULL, 0, 0);
	for (i = 0; i < 3; i++)
		IS(pick_idx(st, &o, NULL), 1);
	record(CG, ids[1], ACCT_OUT_SOFT, NULL, 0, 0);
	IS(pick_idx(st, &o, NULL), 2);
	set_clock(st, NOON + 100 + ACCT_FAIL_WINDOW - 2);
	IS(pick_idx(st, &o, NULL), 2);
	set_clock(st, NOON + 100 + ACCT_FAIL_WINDOW + 1);
	IS(pick_idx(st, &o, NULL), 0);
	/* all failing: the one that failed longest ago */
	record(CG, ids[2], ACCT_OUT_SOFT, NULL, 0, 0);
	set_clock(st, NOON + 100 + ACCT_FAIL_WINDOW + 5);
	record(CG, ids[0], ACCT_OUT_SOFT, NULL, 0, 0);
	record(CG, ids[1], ACCT_OUT_SOFT, NULL, 0, 0);
	IS(pick_idx(st, &o, NULL), 2);
	/* an answer ends the streak at once */
	record(CG, ids[0], ACCT_OUT_OK, NULL, 0, 0);
	IS(pick_idx(st, &o, NULL), 0);
}
END_TEST

START_TEST(strategy_weighted)
{
	static const uint32_t wt[] = { 1, 2, 3 };
	struct acct_pick_opts o = opts(CG, ACCT_WEIGHTED);
	int seq[60], counts[3] = { 0 }, win[3], i, j, run = 1, maxrun = 1;

	mkn(CG, 0, 3, NULL, wt);
	for (i = 0; i < 60; i++)
		counts[seq[i] = pick_idx(st, &o, NULL)]++;
	IS(counts[0], 10);
	IS(counts[1], 20);
	IS(counts[2], 30);
	/* exact in every 6 in a row ... */
	for (i = 0; i + 6 <= 60; i++) {
		memset(win, 0, sizeof(win));
		for (j = i; j < i + 6; j++)
			win[seq[j]]++;
		ck_assert(win[0] == 1 && win[1] == 2 && win[2] == 3);
	}
	/* ... and interleaved: never a whole weight in one run */
	for (i = 1; i < 60; i++)
		if ((run = seq[i] == seq[i - 1] ? run + 1 : 1) > maxrun)
			maxrun = run;
	ck_assert_msg(maxrun <= 2, "weighted picks come in runs of %d: "
	    "%d%d%d%d%d%d", maxrun, seq[0], seq[1], seq[2], seq[3], seq[4],
	    seq[5]);
}
END_TEST

START_TEST(strategy_random)
{
	struct acct_pick_opts o = opts(CG, ACCT_RANDOM);
	int counts[3] = { 0 }, i;

	mkn(CG, 0, 3, NULL, NULL);
	for (i = 0; i < 300; i++)
		counts[pick_idx(st, &o, NULL)]++;
	/* expected 100 each; under 50 has odds below 1e-8 */
	for (i = 0; i < 3; i++)
		ck_assert_int_ge(counts[i], 50);
}
END_TEST

/* Seconds left of the day at a clock set just now: one may have passed. */
static void
assert_left(int64_t want)
{
	int64_t left = store_day_left(st);

	ck_assert_msg(left == want || left == want - 1, "day left %lld, "
	    "want %lld", (long long)left, (long long)want);
}

START_TEST(day_boundary)
{
	set_clock(st, MIDNIGHT - 10);
	IS(store_today(st), 20300131);
	assert_left(10);
	set_clock(st, MIDNIGHT + 10);
	IS(store_today(st), 20300201);
	assert_left(86400 - 10);
	/* the same instant is still January 31 in UTC */
	setenv("TZ", "UTC0", 1);
	tzset();
	IS(store_today(st), 20300131);
	assert_left(8 * 3600 - 10);
	setenv("TZ", "CST-8", 1);
	tzset();
	/* a month and a year end */
	set_clock(st, MIDNIGHT + 58 * 86400 + 3600);
	IS(store_today(st), 20300331);
	next_day();
	IS(store_today(st), 20300401);
	set_clock(st, MIDNIGHT + 333 * 86400 + 3600);
	IS(store_today(st), 20301231);
	next_day();
	IS(store_today(st), 20310101);
}
END_TEST

/* A: limit 2, B: limit 1; picks until none is left. */
static void
use_up(const struct acct_pick_opts *o)
{
	int counts[2] = { 0 }, i;

	for (i = 0; i < 3; i++)
		counts[pick_idx(st, o, NULL)]++;
	IS(counts[0], 2);
	IS(counts[1], 1);
}

START_TEST(daily_limit_and_refund)
{
	static const uint32_t lim[] = { 2, 1 };
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	struct acct_pick_why w;
	struct acct_counts c;

	mkn(CG, 0, 2, lim, NULL);
	use_up(&o);
	IS(pick_idx(st, &o, &w), -1);
	IS(w.total, 2);
	IS(w.over_limit, 2);
	IS(get(ids[0]).today_use, 2);
	OK(acct_count(st, CG, &c));
	IS(c.over_limit, 2);
	IS(c.usable, 0);
	/* an outcome without refund keeps the use; with one gives it back */
	record(CG, ids[0], ACCT_OUT_SOFT, NULL, 0, 0);
	IS(get(ids[0]).today_use, 2);
	record(CG, ids[0], ACCT_OUT_SOFT, NULL, 0, 1);
	IS(get(ids[0]).today_use, 1);
	IS(pick_idx(st, &o, NULL), 0);
	IS(pick_idx(st, &o, &w), -1);
	/* a new local day: usable again, counted from zero */
	next_day();
	IS(store_today(st), 20300201);
	IS(get(ids[0]).today_use, 0);
	OK(acct_count(st, CG, &c));
	IS(c.usable, 2);
	use_up(&o);
	IS(pick_idx(st, &o, NULL), -1);
	/* a refund of yesterday's use leaves today's alone */
	next_day();
	record(CG, ids[0], ACCT_OUT_OK, NULL, 0, 1);
	IS(get(ids[0]).today_use, 0);
	use_up(&o);
	IS(pick_idx(st, &o, NULL), -1);
}
END_TEST

START_TEST(outcomes)
{
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	struct acct_pick_why w;
	struct acct_result r = { ACCT_OUT_OK, 0, NULL, 0, 0 };
	struct acct_info in;
	struct acct_counts c;
	int seen[4] = { 0 }, i;

	mkn(CG, 0, 4, NULL, NULL);
	record(CG, ids[0], ACCT_OUT_ERROR, "401: bad token", 0, 0);
	in = get(ids[0]);
	IS(in.status, ACCT_ERROR);
	ck_assert_str_eq(in.last_error, "401: bad token");
	IS(in.error_count, 1);
	IS(in.requests, 1);
	IS(in.failures, 1);
	IS(in.last_latency_ms, 120);
	ck_assert_int_ge(in.last_error_at, NOON + 100);
	record(CG, ids[1], ACCT_OUT_EXPIRED, "login expired", 0, 0);
	IS(get(ids[1]).status, ACCT_EXPIRED);
	ck_assert_str_eq(get(ids[1]).last_error, "login expired");
	record(CG, ids[2], ACCT_OUT_LIMITED, NULL, 300, 0);
	record(CG, ids[2], ACCT_OUT_LIMITED, NULL, 100, 0);
	in = get(ids[2]);
	IS(in.status, ACCT_ACTIVE);
	/* from the store's now (NOON + 100), not shortened by the second */
	ck_assert(in.cooldown_until >= NOON + 400 &&
	    in.cooldown_until <= NOON + 402);
	for (i = 0; i < 3; i++)
		IS(pick_idx(st, &o, &w), 3);
	ck_assert(w.total == 4 && w.error == 1 && w.expired == 1 &&
	    w.cooling == 1 && w.over_limit == 0);
	OK(acct_count(st, CG, &c));
	ck_assert(c.error == 1 && c.expired == 1 && c.cooling == 1 &&
	    c.usable == 1);
	set_clock(st, NOON + 405);
	for (i = 0; i < 4; i++)
		seen[pick_idx(st, &o, NULL)]++;
	IS(seen[2], 2);
	IS(seen[3], 2);
	/* soft failures count a streak; an answer ends it */
	record(CG, ids[3], ACCT_OUT_SOFT, NULL, 0, 0);
	record(CG, ids[3], ACCT_OUT_SOFT, NULL, 0, 0);
	in = get(ids[3]);
	IS(in.status, ACCT_ACTIVE);
	IS(in.fail_streak, 2);
	IS(in.failures, 2);
	ck_assert_int_ge(in.last_fail_at, NOON + 405);
	record(CG, ids[3], ACCT_OUT_OK, NULL, 0, 0);
	in = get(ids[3]);
	ck_assert(in.fail_streak == 0 && in.successes == 1 &&
	    in.failures == 2 && in.requests == 3 && in.error_count == 0);
	IS(acct_record(st, CG, "nope", &r), STORE_INVAL);
	IS(acct_record(st, CG, NOID, &r), STORE_NOTFOUND);
	IS(acct_record(st, DS, ids[3], &r), STORE_NOTFOUND);
}
END_TEST

START_TEST(skip_and_prefer)
{
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	struct acct_pick_why w;
	const char *skip[3] = { ids[0], ids[1], ids[2] };
	char fp[LOG_FP_LEN];
	int i, k;

	mkn(CG, 0, 3, NULL, NULL);
	o.skip = skip;
	o.nskip = 2;
	for (i = 0; i < 4; i++)
		IS(pick_idx(st, &o, &w), 2);
	IS(w.skipped, 2);
	o.nskip = 3;
	IS(pick_idx(st, &o, &w), -1);
	IS(w.skipped, 3);
	o.reuse_skipped = 1;
	ck_assert_int_ge(pick_idx(st, &o, NULL), 0);
	/* a pinned account wins while usable; by id or fingerprint */
	o = opts(CG, ACCT_ROUND_ROBIN);
	o.prefer = ids[1];
	for (i = 0; i < 4; i++)
		IS(pick_idx(st, &o, NULL), 1);
	log_fingerprint(secs[2], fp);
	o.prefer = fp;
	for (i = 0; i < 3; i++)
		IS(pick_idx(st, &o, NULL), 2);
	o.prefer = ids[1];
	record(CG, ids[1], ACCT_OUT_ERROR, "401", 0, 0);
	for (i = 0; i < 4; i++) {
		k = pick_idx(st, &o, NULL);
		ck_assert(k == 0 || k == 2);
	}
	o.prefer = NOID;
	ck_assert_int_ge(pick_idx(st, &o, NULL), 0);
}
END_TEST

START_TEST(set_changes)
{
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	struct acct_pick_why w;
	struct acct_change ch = { .set = ACCT_SET_LABEL | ACCT_SET_LIMIT |
	    ACCT_SET_WEIGHT | ACCT_SET_EMAIL | ACCT_SET_LATENCY,
	    .label = "primary", .daily_limit = 5, .weight = 7,
	    .email = "a@example.com", .latency_ms = 333 };
	char lbl[ACCT_LABEL_MAX + 2], fp[LOG_FP_LEN];
	const struct acct_change bad[] = {
		{ .set = ACCT_SET_WEIGHT, .weight = 0 },
		{ .set = ACCT_SET_WEIGHT, .weight = ACCT_WEIGHT_MAX + 1 },
		{ .set = ACCT_SET_LIMIT, .daily_limit = ACCT_LIMIT_MAX + 1 },
		{ .set = ACCT_SET_STATUS, .status = ACCT__STATUS_MAX },
		{ .set = ACCT_SET_LABEL, .label = "a\nb" },
		{ .set = ACCT_SET_LABEL, .label = lbl },
		{ .set = ACCT_SET_EMAIL, .email = "tab\there" } };
	struct acct_info in;
	size_t i;

	mkn(CG, 0, 2, NULL, NULL);
	log_fingerprint(secs[0], fp);
	OK(acct_set(st, fp, &ch));
	in = get(ids[0]);
	ck_assert_str_eq(in.label, "primary");
	ck_assert_str_eq(in.email, "a@example.com");
	ck_assert(in.daily_limit == 5 && in.weight == 7 &&
	    in.last_latency_ms == 333);
	/* invalid values are refused and change nothing */
	memset(lbl, 'x', sizeof(lbl) - 1);
	lbl[sizeof(lbl) - 1] = '\0';
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		IS(acct_set(st, ids[0], &bad[i]), STORE_INVAL);
	in = get(ids[0]);
	ck_assert_str_eq(in.label, "primary");
	ck_assert(in.weight == 7 && in.daily_limit == 5);
	ch.set = ACCT_SET_LABEL;
	IS(acct_set(st, "abc", &ch), STORE_INVAL);
	IS(acct_set(st, NOID, &ch), STORE_NOTFOUND);
	lbl[ACCT_LABEL_MAX] = '\0';	/* exactly the maximum */
	ch.label = lbl;
	OK(acct_set(st, ids[0], &ch));
	IS(strlen(get(ids[0]).label), ACCT_LABEL_MAX);
	/* status: inactive is skipped; error with a reason; active clears */
	ch.set = ACCT_SET_STATUS;
	ch.status = ACCT_INACTIVE;
	OK(acct_set(st, ids[0], &ch));
	for (i = 0; i < 3; i++)
		IS(pick_idx(st, &o, &w), 1);
	IS(w.inactive, 1);
	ch.status = ACCT_ERROR;
	ch.reason = "banned by hand";
	OK(acct_set(st, ids[0], &ch));
	in = get(ids[0]);
	IS(in.status, ACCT_ERROR);
	ck_assert_str_eq(in.last_error, "banned by hand");
	IS(in.error_count, 1);
	record(CG, ids[1], ACCT_OUT_LIMITED, NULL, 9999, 0);
	ch.status = ACCT_ACTIVE;
	ch.reason = NULL;
	OK(acct_set(st, ids[0], &ch));
	OK(acct_set(st, ids[1], &ch));
	ck_assert_str_eq(get(ids[0]).last_error, "");
	IS(get(ids[0]).status, ACCT_ACTIVE);
	IS(get(ids[1]).cooldown_until, 0);
}
END_TEST

#define OLD_RT	"rt_old-secret-aaaa"
#define NEW_RT	"rt_new-secret-bb"

static void
add_and_rotate(char *id)
{
	struct acct_new a = { .provider = CG, .secret = OLD_RT,
	    .secret_len = strlen(OLD_RT) };

	OK(acct_add(st, &a, 1, NULL, NULL, id));
	record(CG, id, ACCT_OUT_OK, NULL, 0, 0);
	OK(acct_rotate(st, id, NEW_RT));
}

START_TEST(rotate)
{
	struct acct_pick_opts o = opts(CG, ACCT_ROUND_ROBIN);
	struct acct_new a = { .provider = CG, .secret = NEW_RT,
	    .secret_len = strlen(NEW_RT) };
	struct acct_pick p;
	struct xp x;
	size_t added, dups;
	char id[ACCT_ID_LEN + 1], first[ACCT_ID_LEN + 1], fp[LOG_FP_LEN];

	add_and_rotate(id);
	log_fingerprint(NEW_RT, fp);
	ck_assert_str_eq(get(id).fingerprint, fp);
	IS(get(id).successes, 1);
	OK(acct_pick(st, &o, &p, NULL));
	ck_assert_str_eq(p.info.id, id);
	ck_assert_str_eq(p.secret, NEW_RT);
	acct_pick_free(&p);
	memset(&x, 0, sizeof(x));
	OK(acct_export(st, NULL, export_fn, &x));
	IS(x.n, 1);
	ck_assert_str_eq(x.secret, NEW_RT);
	/* the new secret is a duplicate of the rotated account */
	OK(acct_add(st, &a, 1, &added, &dups, first));
	ck_assert(added == 0 && dups == 1);
	ck_assert_str_eq(first, id);
	IS(acct_rotate(st, NOID, NEW_RT), STORE_NOTFOUND);
	IS(acct_rotate(st, id, "has space"), STORE_INVAL);
	IS(acct_rotate(st, "abc", NEW_RT), STORE_INVAL);
}
END_TEST

/*
 * The old secret has the id the account keeps: adding it again (an old
 * export imported) must not overwrite the rotated account.
 */
START_TEST(rotate_then_add_old)
{
	struct acct_new a = { .provider = CG, .secret = OLD_RT,
	    .secret_len = strlen(OLD_RT) };
	struct xp x;
	size_t added, dups;
	char id[ACCT_ID_LEN + 1];

	add_and_rotate(id);
	OK(acct_add(st, &a, 1, &added, &dups, NULL));
	IS(added + dups, 1);
	memset(&x, 0, sizeof(x));
	OK(acct_export(st, NULL, export_fn, &x));
	IS(x.n, 1);
	ck_assert_msg(strcmp(x.secret, NEW_RT) == 0, "the rotated account "
	    "now holds \"%s\"", x.secret);
	IS(get(id).successes, 1);
}
END_TEST

static int
list_fn(void *arg, const struct acct_info *i)
{
	int *n = arg;

	n[strcmp(i->provider, DS) == 0]++;
	return 0;
}

START_TEST(providers_apart)
{
	struct acct_pick_opts oc = opts(CG, ACCT_ROUND_ROBIN),
	    od = opts(DS, ACCT_ROUND_ROBIN);
	struct acct_counts c;
	struct acct_new a = { .provider = DS };
	struct acct_pick p;
	size_t n;
	char id2[ACCT_ID_LEN + 1];
	int counts[8] = { 0 }, seen[2] = { 0 }, i;

	mkn(CG, 0, 2, NULL, NULL);
	mkn(DS, 2, 3, NULL, NULL);
	/* one secret under both providers: two accounts, two ids */
	a.secret = secs[0];
	a.secret_len = strlen(secs[0]);
	OK(acct_add(st, &a, 1, &n, NULL, id2));
	IS(n, 1);
	ck_assert_str_ne(id2, ids[0]);
	OK(acct_count(st, CG, &c));
	IS(c.total, 2);
	OK(acct_count(st, DS, &c));
	IS(c.total, 4);
	OK(acct_count(st, NULL, &c));
	IS(c.total, 6);
	OK(acct_list(st, DS, list_fn, seen));
	ck_assert(seen[0] == 0 && seen[1] == 4);
	OK(acct_remove(st, DS, id2));
	for (i = 0; i < 6; i++)
		counts[pick_idx(st, &od, NULL)]++;
	for (i = 0; i < 4; i++)
		counts[pick_idx(st, &oc, NULL)]++;
	for (i = 0; i < 5; i++)
		IS(counts[i], 2);
	record(CG, ids[0], ACCT_OUT_ERROR, "x", 0, 0);
	record(DS, ids[2], ACCT_OUT_ERROR, "x", 0, 0);
	OK(acct_errors_clear(st, DS));
	IS(get(ids[2]).status, ACCT_ACTIVE);
	IS(get(ids[0]).status, ACCT_ERROR);
	OK(acct_clear(st, DS, &n));
	IS(n, 3);
	IS(acct_pick(st, &od, &p, NULL), STORE_NOTFOUND);
	OK(acct_count(st, NULL, &c));
	IS(c.total, 2);
	od.provider = "Deep-Seek";
	IS(acct_pick(st, &od, &p, NULL), STORE_INVAL);
}
END_TEST

/* ------------------------------------------------------------ tokcache */

static pid_t
child_store(struct store **s2)
{
	char err[64];
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0 && (store_open(s2, dir, 1 << 20) != STORE_OK ||
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
read_meta(struct store *s, MDB_txn *txn, void *arg)
{
	MDB_val k = { 14, (void *)"schema_version" }, v;
	MDB_stat ms;
	uint64_t *out = arg;
	int rc;

	if ((rc = mdb_get(txn, s->meta, &k, &v)) != 0 ||
	    (rc = mdb_stat(txn, s->creds, &ms)) != 0)
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
put_raw(struct store *s, MDB_txn *txn, void *arg)
{
	struct raw *r = arg;

	return mdb_put(txn, s->creds, &r->k, &r->v, 0);
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
accounts_suite(void)
{
	Suite *s = suite_create("accounts");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kinds_and_names);
	tcase_add_test(tc, key_file_and_crypto);
	tcase_add_test(tc, encrypted_at_rest_and_fields);
	tcase_add_test(tc, add_dedupe_remove);
	tcase_add_test(tc, lines_paste);
	tcase_add_test(tc, errors_and_cooldown);
	tcase_add_test(tc, round_robin_fair_across_processes);
	tcase_add_test(tc, limits_exact_across_processes);
	tcase_add_test(tc, wrong_key_is_detected);
	tcase_add_test(tc, strategy_round_robin);
	tcase_add_test(tc, strategy_fill_first);
	tcase_add_test(tc, strategy_failover);
	tcase_add_test(tc, strategy_weighted);
	tcase_add_test(tc, strategy_random);
	tcase_add_test(tc, day_boundary);
	tcase_add_test(tc, daily_limit_and_refund);
	tcase_add_test(tc, outcomes);
	tcase_add_test(tc, skip_and_prefer);
	tcase_add_test(tc, set_changes);
	tcase_add_test(tc, rotate);
	tcase_add_test(tc, rotate_then_add_old);
	tcase_add_test(tc, providers_apart);
	tcase_add_test(tc, tokcache_and_lock);
	tcase_add_test(tc, tokcache_fetch_across_processes);
	tcase_add_test(tc, migrate_v1);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(accounts_suite)
