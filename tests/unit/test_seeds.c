/*
 * store/seeds.c, store/seed_convs.c, store/seed_rec.c: the record codecs,
 * a seed's credential (assigned from the pool, moved off an account that
 * went, set by the operator), the admin listing, and the conversation
 * list of a seed (order, titles, archive, pages, removal, the cap), all
 * sealed: no seed, token or title in the data file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/log.h"
#include "store/seeds.h"
#include "acct_fixture.h"
#include "tests/unit/store_backend.h"

#define SEEDERR(e, want)	ck_assert_int_eq((e), (want))

static const char *
resolve(const char *seed, int create, struct seed_cred *c)
{
	enum seed_err e = seed_resolve(st, CG, seed, create, c);

	return e == SEED_OK ? c->secret : seed_strerror(e);
}

/* ------------------------------------------------------------ codecs */

START_TEST(names)
{
	ck_assert(seed_name_ok("alice", 5));
	ck_assert(seed_name_ok("A.b_c~d-9", 9));
	ck_assert(!seed_name_ok("", 0));
	ck_assert(!seed_name_ok("with space", 10));
	ck_assert(!seed_name_ok("semi;colon", 10));
	ck_assert(!seed_name_ok("quote\"", 6));
	ck_assert(!seed_name_ok("pct%41", 6));
	ck_assert(!seed_name_ok("nul\0x", 5));
	ck_assert(!seed_name_ok("caf\xc3\xa9", 5));
	ck_assert(seed_name_ok("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 128));
	ck_assert(!seed_name_ok("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 129));
	ck_assert(seed_conv_id_ok("6a2b4c1d-0000-4000-8000-000000000001", 36));
	ck_assert(!seed_conv_id_ok("a/b", 3));
	ck_assert(!seed_conv_id_ok("a.b", 3));
}
END_TEST

START_TEST(headers)
{
	struct seed_hdr h = { SEED_SET, 1896062400LL, 77 }, g;
	struct seed_conv_hdr c = { 1, 1896062400123LL, 1896062400001LL,
	    1896062400999LL }, d;
	unsigned char buf[SEED_CONV_HDR_LEN];

	seed_hdr_put(buf, &h);
	ck_assert_int_eq(buf[0], SEED_REC_VERSION);
	ck_assert_int_eq(seed_hdr_get(buf, SEED_HDR_LEN, &g), 0);
	ck_assert_int_eq(g.source, SEED_SET);
	ck_assert_int_eq(g.created, h.created);
	ck_assert_int_eq(g.nconvs, 77);
	ck_assert_int_eq(seed_hdr_get(buf, SEED_HDR_LEN - 1, &g), -1);
	buf[0] = 2;
	ck_assert_int_eq(seed_hdr_get(buf, SEED_HDR_LEN, &g), -1);
	buf[0] = SEED_REC_VERSION;
	buf[1] = 9;
	ck_assert_int_eq(seed_hdr_get(buf, SEED_HDR_LEN, &g), -1);

	seed_conv_hdr_put(buf, &c);
	ck_assert_int_eq(seed_conv_hdr_get(buf, sizeof(buf), &d), 0);
	ck_assert_int_eq(d.archived, 1);
	ck_assert_int_eq(d.order_ms, c.order_ms);
	ck_assert_int_eq(d.create_ms, c.create_ms);
	ck_assert_int_eq(d.update_ms, c.update_ms);
	ck_assert_int_eq(seed_conv_hdr_get(buf, sizeof(buf) - 1, &d), -1);
	buf[1] = 2;
	ck_assert_int_eq(seed_conv_hdr_get(buf, sizeof(buf), &d), -1);
}
END_TEST

START_TEST(fields)
{
	const char *in[3] = { "seed", "", "team" }, *out[3];
	char buf[32];
	size_t n;

	n = seed_fields_pack(buf, sizeof(buf), in, 3);
	ck_assert_int_eq(n, 11);
	ck_assert_int_eq(memcmp(buf, "seed\0\0team\0", 11), 0);
	ck_assert_int_eq(seed_fields_unpack(buf, n, out, 3), 0);
	ck_assert_str_eq(out[0], "seed");
	ck_assert_str_eq(out[1], "");
	ck_assert_str_eq(out[2], "team");
	/* Too few, too many, not NUL-ended, nothing. */
	ck_assert_int_eq(seed_fields_unpack(buf, n, out, 2), -1);
	ck_assert_int_eq(seed_fields_unpack(buf, 5, out, 3), -1);
	ck_assert_int_eq(seed_fields_unpack(buf, n - 1, out, 3), -1);
	ck_assert_int_eq(seed_fields_unpack(buf, 0, out, 1), -1);
	/* It does not fit: 0, never a cut record. */
	ck_assert_int_eq(seed_fields_pack(buf, 10, in, 3), 0);
	in[1] = NULL;
	ck_assert_int_eq(seed_fields_pack(buf, sizeof(buf), in, 3), 11);
}
END_TEST

/* ------------------------------------------------------------ seeds */

START_TEST(no_pool)
{
	struct seed_cred c;

	SEEDERR(seed_resolve(st, CG, "alice", 0, &c), SEED_UNKNOWN);
	SEEDERR(seed_resolve(st, CG, "alice", 1, &c), SEED_NOPOOL);
	ck_assert_ptr_null(c.secret);
	/* Nothing was kept of the attempt. */
	mkn(CG, 0, 1, NULL, NULL);
	SEEDERR(seed_resolve(st, CG, "alice", 0, &c), SEED_UNKNOWN);
	SEEDERR(seed_resolve(st, CG, "bad seed", 1, &c), SEED_INVAL);
	SEEDERR(seed_resolve(st, "no such provider!", "alice", 1, &c),
	    SEED_INVAL);
}
END_TEST

START_TEST(assigned_and_kept)
{
	struct seed_cred c;
	char acct[ACCT_ID_LEN + 1];
	int i;

	mkn(CG, 0, 3, NULL, NULL);
	ck_assert_str_eq(resolve("alice", 1, &c), c.secret);
	ck_assert_int_eq(c.assigned, 1);
	ck_assert_int_eq(c.source, SEED_POOL);
	ck_assert(strstr(c.secret, "chatgpt-secret-") == c.secret);
	memcpy(acct, c.account, sizeof(acct));
	seed_cred_free(&c);
	/* The same account every time after, from any call. */
	for (i = 0; i < 5; i++) {
		ck_assert_str_eq(resolve("alice", i & 1, &c), c.secret);
		ck_assert_int_eq(c.assigned, 0);
		ck_assert_str_eq(c.account, acct);
		seed_cred_free(&c);
	}
	/* DeepSeek's accounts are not ChatGPT's. */
	mkn(DS, 3, 2, NULL, NULL);
	ck_assert_str_eq(resolve("bob", 1, &c), c.secret);
	ck_assert(strncmp(c.secret, "chatgpt-", 8) == 0);
	seed_cred_free(&c);
}
END_TEST

START_TEST(random_over_the_pool)
{
	struct seed_cred c;
	char name[32];
	int seen[3] = { 0, 0, 0 }, i, k;

	mkn(CG, 0, 3, NULL, NULL);
	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "seed-%d", i);
		ck_assert_str_eq(resolve(name, 1, &c), c.secret);
		for (k = 0; k < 3 && strcmp(c.account, ids[k]) != 0; k++)
			;
		ck_assert_int_lt(k, 3);
		seen[k]++;
		seed_cred_free(&c);
	}
	/* 60 draws over 3: each gets some (a miss is 3 * (2/3)^60). */
	ck_assert(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
}
END_TEST

START_TEST(moves_off_a_gone_account)
{
	struct acct_change ch;
	struct seed_cred c;
	char first[ACCT_ID_LEN + 1];
	int k;

	mkn(CG, 0, 2, NULL, NULL);
	ck_assert_str_eq(resolve("alice", 1, &c), c.secret);
	memcpy(first, c.account, sizeof(first));
	seed_cred_free(&c);
	memset(&ch, 0, sizeof(ch));
	ch.set = ACCT_SET_STATUS;
	ch.status = ACCT_INACTIVE;
	OK(acct_set(st, first, &ch));
	/* Disabled: the seed moves, even where it may not be created. */
	ck_assert_str_eq(resolve("alice", 0, &c), c.secret);
	ck_assert_int_eq(c.assigned, 1);
	ck_assert_str_ne(c.account, first);
	k = strcmp(c.account, ids[0]) == 0 ? 0 : 1;
	ck_assert_str_eq(c.secret, secs[k]);
	OK(acct_remove(st, CG, c.account));
	seed_cred_free(&c);
	/* Removed, and nothing else active: no pool. */
	SEEDERR(seed_resolve(st, CG, "alice", 1, &c), SEED_NOPOOL);
	/* Enabled again: back on it. */
	ch.status = ACCT_ACTIVE;
	OK(acct_set(st, first, &ch));
	ck_assert_str_eq(resolve("alice", 0, &c), c.secret);
	ck_assert_str_eq(c.account, first);
	seed_cred_free(&c);
}
END_TEST

static int
count_fn(void *arg, const struct seed_info *i)
{
	(void)i;
	++*(int *)arg;
	return 0;
}

START_TEST(operator_set)
{
	static const char tok[] = "eyJoperator.set.token-marker";
	struct seed_info info;
	struct seed_cred c;
	char fp[13];
	int seen = 0;

	SEEDERR(seed_set(st, "carol", tok, "team-1"), SEED_OK);
	/* No pool needed: the seed stands for the token it was set to. */
	ck_assert_str_eq(resolve("carol", 0, &c), tok);
	ck_assert_int_eq(c.source, SEED_SET);
	ck_assert_str_eq(c.team_id, "team-1");
	seed_cred_free(&c);
	SEEDERR(seed_info(st, CG, "carol", &info), SEED_OK);
	ck_assert_str_eq(info.seed, "carol");
	ck_assert_int_eq(info.source, SEED_SET);
	log_fingerprint(tok, fp);
	ck_assert_str_eq(info.fingerprint, fp);
	SEEDERR(seed_info(st, CG, "nobody", &info), SEED_UNKNOWN);
	/* Set again: replaced, not added. */
	SEEDERR(seed_set(st, "carol", "rt_second-token-marker", NULL), SEED_OK);
	ck_assert_str_eq(resolve("carol", 0, &c), "rt_second-token-marker");
	ck_assert_str_eq(c.team_id, "");
	seed_cred_free(&c);
	mkn(CG, 0, 1, NULL, NULL);
	ck_assert_str_eq(resolve("dave", 1, &c), secs[0]);
	seed_cred_free(&c);
	SEEDERR(seed_list(st, CG, count_fn, &seen), SEED_OK);
	ck_assert_int_eq(seen, 2);	/* two seeds */
	SEEDERR(seed_info(st, CG, "dave", &info), SEED_OK);
	ck_assert_int_eq(info.source, SEED_POOL);
	ck_assert_str_eq(info.fingerprint, get(ids[0]).fingerprint);
	/* Bad input. */
	SEEDERR(seed_set(st, "bad seed", tok, NULL), SEED_INVAL);
	SEEDERR(seed_set(st, "erin", "two words", NULL), SEED_INVAL);
	SEEDERR(seed_set(st, "erin", tok, "bad team id"), SEED_INVAL);
	/* Removal: the seed and its list. */
	SEEDERR(seed_conv_touch(st, "carol", "conv-1", "t"), SEED_OK);
	SEEDERR(seed_delete(st, "carol"), SEED_OK);
	SEEDERR(seed_delete(st, "carol"), SEED_UNKNOWN);
	SEEDERR(seed_resolve(st, CG, "carol", 0, &c), SEED_UNKNOWN);
	SEEDERR(seed_set(st, "carol", tok, NULL), SEED_OK);
	{
		struct seed_conv out[4];
		size_t n, total;
		SEEDERR(seed_conv_list(st, "carol", 0, 0, 4, out, &n, &total),
		    SEED_OK);
		ck_assert_int_eq(total, 0);
	}
	ck_assert(!db_has(tok));
	ck_assert(!db_has("carol"));
	ck_assert(!db_has("team-1"));
}
END_TEST

START_TEST(clear_counts_seeds)
{
	struct seed_cred c;
	size_t removed = 99;

	mkn(CG, 0, 1, NULL, NULL);
	ck_assert_str_eq(resolve("a1", 1, &c), secs[0]);
	seed_cred_free(&c);
	SEEDERR(seed_set(st, "a2", "eyJx.y.z", NULL), SEED_OK);
	SEEDERR(seed_conv_touch(st, "a1", "c-1", NULL), SEED_OK);
	SEEDERR(seed_conv_touch(st, "a1", "c-2", NULL), SEED_OK);
	OK(store_seeds_clear(st, &removed));
	ck_assert_int_eq(removed, 2);	/* seeds, not their records */
	SEEDERR(seed_resolve(st, CG, "a2", 0, &c), SEED_UNKNOWN);
	OK(store_seeds_clear(st, &removed));
	ck_assert_int_eq(removed, 0);
}
END_TEST

/* ------------------------------------------------------------ lists */

static size_t
list(const char *seed, int archived, size_t offset, size_t limit,
    struct seed_conv *out, size_t *total)
{
	size_t n;

	SEEDERR(seed_conv_list(st, seed, archived, offset, limit, out, &n,
	    total), SEED_OK);
	return n;
}

START_TEST(conversations)
{
	struct seed_conv out[SEED_PAGE_MAX];
	struct seed_conv_patch p;
	struct seed_info info;
	size_t n, total;
	int owned;

	SEEDERR(seed_set(st, "alice", "eyJa.b.c", NULL), SEED_OK);
	SEEDERR(seed_set(st, "bob", "eyJa.b.c", NULL), SEED_OK);
	SEEDERR(seed_conv_touch(st, "nobody", "c-1", NULL), SEED_UNKNOWN);
	SEEDERR(seed_conv_touch(st, "alice", "c-1", "First"), SEED_OK);
	set_clock(st, NOON + 200);
	SEEDERR(seed_conv_touch(st, "alice", "c-2", NULL), SEED_OK);
	set_clock(st, NOON + 300);
	SEEDERR(seed_conv_touch(st, "alice", "c-3", "Third"), SEED_OK);
	n = list("alice", 0, 0, 10, out, &total);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(total, 3);
	ck_assert_str_eq(out[0].id, "c-3");
	ck_assert_str_eq(out[1].id, "c-2");
	ck_assert_str_eq(out[2].id, "c-1");
	ck_assert_str_eq(out[2].title, "First");
	ck_assert_str_eq(out[1].title, "");
	/* A stream in an old conversation moves it to the front; a NULL
	 * title keeps the one it had. */
	set_clock(st, NOON + 400);
	SEEDERR(seed_conv_touch(st, "alice", "c-1", NULL), SEED_OK);
	n = list("alice", 0, 0, 10, out, &total);
	ck_assert_str_eq(out[0].id, "c-1");
	ck_assert_str_eq(out[0].title, "First");
	ck_assert(out[0].update_ms > out[0].create_ms);
	/* Pages. */
	n = list("alice", 0, 1, 1, out, &total);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(total, 3);
	ck_assert_str_eq(out[0].id, "c-3");
	ck_assert_int_eq(list("alice", 0, 5, 10, out, &total), 0);
	ck_assert_int_eq(total, 3);
	/* Bob has none of them. */
	ck_assert_int_eq(list("bob", 0, 0, 10, out, &total), 0);
	SEEDERR(seed_conv_owned(st, "bob", "c-1", &owned), SEED_OK);
	ck_assert_int_eq(owned, 0);
	SEEDERR(seed_conv_owned(st, "alice", "c-1", &owned), SEED_OK);
	ck_assert_int_eq(owned, 1);
	SEEDERR(seed_conv_remove(st, "bob", "c-1"), SEED_NOTFOUND);
	/* Patch: title and archive; archived ones list apart. */
	memset(&p, 0, sizeof(p));
	p.set = SEED_PATCH_TITLE | SEED_PATCH_ARCHIVED;
	p.title = "Renamed \xe2\x9c\x93";
	p.archived = 1;
	SEEDERR(seed_conv_patch(st, "alice", "c-2", &p), SEED_OK);
	ck_assert_int_eq(list("alice", 0, 0, 10, out, &total), 2);
	ck_assert_int_eq(list("alice", 1, 0, 10, out, &total), 1);
	ck_assert_str_eq(out[0].id, "c-2");
	ck_assert_str_eq(out[0].title, "Renamed \xe2\x9c\x93");
	ck_assert_int_eq(out[0].archived, 1);
	SEEDERR(seed_conv_patch(st, "alice", "c-9", &p), SEED_NOTFOUND);
	/* Removed (PATCH is_visible=false). */
	SEEDERR(seed_conv_remove(st, "alice", "c-2"), SEED_OK);
	ck_assert_int_eq(list("alice", 1, 0, 10, out, &total), 0);
	SEEDERR(seed_conv_owned(st, "alice", "c-2", &owned), SEED_OK);
	ck_assert_int_eq(owned, 0);
	SEEDERR(seed_info(st, CG, "alice", &info), SEED_OK);
	ck_assert_int_eq(info.conversations, 2);
	/* Bad ids. */
	SEEDERR(seed_conv_touch(st, "alice", "../x", NULL), SEED_INVAL);
	SEEDERR(seed_conv_owned(st, "alice", "", &owned), SEED_INVAL);
	ck_assert(!db_has("Renamed"));
	ck_assert(!db_has("First"));
}
END_TEST

START_TEST(title_clipped)
{
	struct seed_conv out[2];
	char long_title[600];
	size_t total, i;

	SEEDERR(seed_set(st, "alice", "eyJa.b.c", NULL), SEED_OK);
	/* 255 ASCII then a 3-byte character: cut before it, not inside. */
	memset(long_title, 'a', 255);
	strcpy(long_title + 255, "\xe2\x82\xac and more");
	SEEDERR(seed_conv_touch(st, "alice", "c-1", long_title), SEED_OK);
	ck_assert_int_eq(list("alice", 0, 0, 2, out, &total), 1);
	ck_assert_int_eq(strlen(out[0].title), 255);
	for (i = 0; i < 255; i++)
		ck_assert_int_eq(out[0].title[i], 'a');
}
END_TEST

START_TEST(capped)
{
	struct seed_conv out[SEED_PAGE_MAX];
	struct seed_info info;
	char id[32];
	size_t total;
	int i, owned;

	SEEDERR(seed_set(st, "alice", "eyJa.b.c", NULL), SEED_OK);
	for (i = 0; i <= SEED_CONVS_MAX; i++) {
		set_clock(st, NOON + 1000 + i);
		snprintf(id, sizeof(id), "c-%d", i);
		SEEDERR(seed_conv_touch(st, "alice", id, NULL), SEED_OK);
	}
	/* The oldest went; the list holds exactly the cap. */
	SEEDERR(seed_conv_owned(st, "alice", "c-0", &owned), SEED_OK);
	ck_assert_int_eq(owned, 0);
	SEEDERR(seed_conv_owned(st, "alice", "c-1", &owned), SEED_OK);
	ck_assert_int_eq(owned, 1);
	SEEDERR(seed_info(st, CG, "alice", &info), SEED_OK);
	ck_assert_int_eq(info.conversations, SEED_CONVS_MAX);
	ck_assert_int_eq(list("alice", 0, 0, SEED_PAGE_MAX + 50, out, &total),
	    SEED_PAGE_MAX);
	ck_assert_int_eq(total, SEED_CONVS_MAX);
	ck_assert_str_eq(out[0].id, "c-1000");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("seeds");
	TCase *t = tcase_create("codec");

	tcase_add_test(t, names);
	tcase_add_test(t, headers);
	tcase_add_test(t, fields);
	suite_add_tcase(s, t);
	t = tcase_create("seeds");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, no_pool);
	tcase_add_test(t, assigned_and_kept);
	tcase_add_test(t, random_over_the_pool);
	tcase_add_test(t, moves_off_a_gone_account);
	tcase_add_test(t, operator_set);
	tcase_add_test(t, clear_counts_seeds);
	tcase_add_test(t, conversations);
	tcase_add_test(t, title_clipped);
	tcase_add_test(t, capped);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN_BACKENDS(suite)
