/*
 * The request log and the statistics behind /stats, /metrics and the
 * management API.  Every counted API request ends in one write
 * transaction (store_request_done) that appends its log entry, prunes a
 * few expired ones, bumps the per-day totals, the minute buckets and the
 * Prometheus series, and records the last attempt's account outcome: the
 * log costs the request path no write of its own.
 *
 * Log keys are the entry's time in microseconds since the epoch, made
 * unique under the writer lock (one more than the last when two collide),
 * so an id is also a timestamp and a time range is a key range.
 */
#ifndef STORE_REQLOG_H
#define STORE_REQLOG_H

#include <stddef.h>
#include <stdint.h>

#include "store/accounts.h"
#include "store/store.h"

#define REQLOG_STR_MAX		255	/* route, model, error ...: cut */
#define REQLOG_BODY_MAX		65535	/* LOG_BODY_MAX's ceiling */
#define REQLOG_PRUNE_STEP	8	/* old entries dropped per write */
#define REQLOG_SCAN_MAX		200000	/* entries a query looks at */
#define REQLOG_ERRS_MAX		8	/* upstream errors per request */
#define STATS_NAME_MAX		64	/* longer names count as "(other)" */
#define STATS_NAMES_MAX		512	/* distinct names per day and kind */
#define STATS_MINUTES		1440	/* minute buckets kept (one day) */
#define METRICS_SERIES_MAX	4096	/* labelled series kept */
#define METRICS_NBUCKETS	11	/* histogram bounds, + +Inf */

/* One request as the log keeps it; strings NUL-terminated. */
struct reqlog_entry {
	uint64_t	 id;		/* µs since the epoch; unique */
	const char	*method, *route, *model, *provider, *account, *key;
	const char	*error;		/* "" when none */
	const char	*req_body, *resp_body;	/* "" unless LOG_BODIES */
	size_t		 req_len, resp_len;
	int		 status;
	int		 stream;
	uint32_t	 latency_ms;
	int32_t		 ttfc_ms;	/* -1: no chunk was sent */
};

struct reqlog_conf {
	size_t		 max_entries;	/* 0: no log (statistics still) */
	int64_t		 retention_s;	/* 0: kept until max_entries */
};

struct store_upstream_err {
	const char	*provider, *kind;
};

/* Everything one request's final write records. */
struct store_done {
	struct reqlog_entry		 log;	/* id is assigned */
	struct reqlog_conf		 conf;
	const char			*route;	/* the table's, for labels */
	int				 count;	/* also the /stats counters */
	const struct store_upstream_err	*errs;
	size_t				 nerrs;
	/* the last attempt's account outcome, deferred to this write */
	const char			*acct_provider, *acct_id;
	const struct acct_result	*acct_res;
	const char			*api_key;	/* its use is counted */
	long				 pow_ms;	/* -1: no proof of work */
};

enum store_err	 store_request_done(struct store *, struct store_done *);

/* Queries, newest first. */
struct reqlog_filter {
	uint64_t	 from_us, to_us;	/* 0: open */
	int		 status_class;		/* 2, 3, 4, 5; 0: any */
	const char	*provider, *model;	/* exact; NULL: any */
	const char	*text;	/* in route, model, error, key, account */
	size_t		 limit;
};

/* fn gets entries until it answers nonzero; strings last for the call. */
enum store_err	 reqlog_query(struct store *, const struct reqlog_filter *,
		    int (*fn)(void *, const struct reqlog_entry *), void *);
enum store_err	 reqlog_get(struct store *, struct arena *, uint64_t id,
		    struct reqlog_entry *);
enum store_err	 reqlog_count(struct store *, size_t *);

/* The log's codec (store/reqlog.c), for the tests and the fuzzer. */
size_t		 reqlog_encode(const struct reqlog_entry *, unsigned char *,
		    size_t cap);
int		 reqlog_decode(struct arena *, const unsigned char *, size_t,
		    struct reqlog_entry *);

/* Per-day (and all-time: day 0) totals by kind of name (store/stats.c). */
enum stats_kind {
	STATS_TOTAL = 't',
	STATS_PROVIDER = 'p',
	STATS_MODEL = 'm',
	STATS_ACCOUNT = 'a',
	STATS_KEY = 'k',
};

struct stats_counts {
	uint64_t	 requests, errors;	/* errors: status >= 400 */
	uint64_t	 latency_ms;		/* sums */
	uint64_t	 ttfc_ms, ttfc_n;
};

/* Days in [from, to] (YYYYMMDD; 0 and 0: all time only), kind 0: all. */
enum store_err	 stats_daily(struct store *, uint32_t from, uint32_t to,
		    int kind, int (*fn)(void *, uint32_t day, int kind,
		    const char *name, const struct stats_counts *), void *);
/* The last n minutes up to now, oldest first, into out[n]. */
enum store_err	 stats_minutes(struct store *, size_t n,
		    struct stats_counts *out);

/*
 * Prometheus series (store/metrics.c): counters and histograms keyed by
 * name and rendered labels, summed over every process by the store.
 */
extern const double metrics_bounds[METRICS_NBUCKETS];	/* seconds */
struct metrics_hist {
	uint64_t	 bucket[METRICS_NBUCKETS + 1];	/* not cumulative */
	uint64_t	 sum_ms, count;
};
enum store_err	 metrics_each(struct store *,
		    int (*counter)(void *, const char *name,
		    const char *labels, uint64_t),
		    int (*hist)(void *, const char *name, const char *labels,
		    const struct metrics_hist *), void *);

#endif
