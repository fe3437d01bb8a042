/* Shared by the accounts tests: see acct_fixture.c. */
#ifndef ACCT_FIXTURE_H
#define ACCT_FIXTURE_H

#include <stdint.h>

#include "store/accounts.h"
#include "unit.h"

#define OK(e)		ck_assert_int_eq((e), STORE_OK)
#define IS(e, want)	ck_assert_int_eq((e), (want))
#define CG		"chatgpt"
#define DS		"deepseek"
#define NOID		"0123456789abcdef0123456789abcdef"

/* 2030-01-31 12:00 and 2030-02-01 00:00 in UTC+8 (Asia/Shanghai). */
#define NOON		1896062400LL
#define MIDNIGHT	1896105600LL

extern char		 dir[256];
extern struct store	*st;
extern char		 ids[8][ACCT_ID_LEN + 1];
extern char		 secs[8][64];

struct xp {
	int	n;
	char	secret[128], f0[64], v0[64];
	size_t	nf;
};

void	 setup(void);
void	 teardown(void);
void	 set_clock(struct store *, int64_t);
/* Past the end of the store's local day. */
void	 next_day(void);
/* Accounts first..first+n-1 of prov, added one second apart. */
void	 mkn(const char *prov, int first, int n, const uint32_t *limits,
	    const uint32_t *weights);
struct acct_pick_opts opts(const char *prov, enum acct_strategy);
/* Picks; the index in ids of what came (its secret checked), or -1. */
int	 pick_idx(struct store *, const struct acct_pick_opts *,
	    struct acct_pick_why *);
struct acct_info get_in(struct store *, const char *id);
#define get(id)	get_in(st, (id))
void	 record(const char *prov, const char *id, enum acct_outcome,
	    const char *reason, long cool_s, int refund);
/* Whether the data file holds needle (after a sync). */
int	 db_has(const char *needle);
int	 export_fn(void *, const struct acct_info *, const char *,
	    const struct acct_field *, size_t);

#endif
