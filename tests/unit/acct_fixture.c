/*
 * What the accounts tests share (tests/unit/test_acct*.c): a fresh store
 * in a temporary dir per test, a clock set to known local times, accounts
 * made by number, picks checked against the secrets they were made with.
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


char dir[256];
struct store *st;
char ids[8][ACCT_ID_LEN + 1];
char secs[8][64];

void
setup(void)
{
	char err[128];

	/* Asia/Shanghai's rule, spelled so that no tzdata is needed. */
	setenv("TZ", "CST-8", 1);
	tzset();
	strcpy(dir, "/tmp/c2a-acct-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	OK(unit_store_open(&st, dir, 1 << 20));
	OK(store_key_init(st, NULL, err, sizeof(err)));
	memset(ids, 0, sizeof(ids));
}

void
teardown(void)
{
	char cmd[300];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	IS(system(cmd), 0);
}

void
set_clock(struct store *s, int64_t t)
{
	store_set_clock_skew(s, t - (int64_t)time(NULL));
}

/* Past the end of the store's local day. */
void
next_day(void)
{
	set_clock(st, store_now(st) + store_day_left(st) + 1);
}

/* Accounts first..first+n-1 of prov, added one second apart. */
void
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

struct acct_pick_opts
opts(const char *prov, enum acct_strategy s)
{
	struct acct_pick_opts o;

	memset(&o, 0, sizeof(o));
	o.provider = prov;
	o.strategy = s;
	return o;
}

/* Picks; the index in ids of what came (its secret checked), or -1. */
int
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

struct acct_info
get_in(struct store *s, const char *id)
{
	struct acct_info in;

	OK(acct_get(s, id, &in));
	return in;
}

void
record(const char *prov, const char *id, enum acct_outcome out,
    const char *reason, long cool_s, int refund)
{
	struct acct_result r = { out, 120, reason, cool_s, refund };

	OK(acct_record(st, prov, id, &r));
}

/* Whether the data file holds needle (after a sync). */
int
db_has(const char *needle)
{
	OK(store_sync(st));
	return unit_backend_has(dir, needle, strlen(needle));
}

int
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
