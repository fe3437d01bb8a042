/*
 * Account records (store/accounts.c, acct_rec.c): kinds, encryption at
 * rest with the extra fields, duplicates, pasted lines, errors and
 * cool-downs, a wrong key, changes, rotation, providers kept apart.
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
	OK(unit_store_open(&s2, dir, 1 << 20));
	/* Redis, shared by hosts, refuses another key before any use */
	if (unit_on_redis()) {
		IS(store_key_init(s2, "a different passphrase!", err,
		    sizeof(err)), STORE_INVAL);
		ck_assert_ptr_nonnull(strstr(err, "another secret key"));
		store_close(s2);
		return;
	}
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

static Suite *
accounts_suite(void)
{
	Suite *s = suite_create("accounts");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kinds_and_names);
	tcase_add_test(tc, key_file_and_crypto);
	tcase_add_test(tc, encrypted_at_rest_and_fields);
	tcase_add_test(tc, add_dedupe_remove);
	tcase_add_test(tc, lines_paste);
	tcase_add_test(tc, errors_and_cooldown);
	tcase_add_test(tc, wrong_key_is_detected);
	tcase_add_test(tc, set_changes);
	tcase_add_test(tc, rotate);
	tcase_add_test(tc, rotate_then_add_old);
	tcase_add_test(tc, providers_apart);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN_BACKENDS(accounts_suite)
