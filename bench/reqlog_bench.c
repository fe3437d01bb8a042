/*
 * reqlog_bench.c - what the end of a request costs the store: the one
 * write transaction of store_request_done (request log, per-day
 * statistics, Prometheus series, /stats counters, the account outcome
 * and the API key's use), with the log off, on, and on with 2 KiB
 * bodies, next to the three separate writes the same bookkeeping took
 * before the log (acct_record, store_count_request, apikey_check).
 *
 *   make bench/reqlog_bench
 *   ./bench/reqlog_bench [-n REQUESTS] [-d DIR]
 *
 * A fresh LMDB in DIR (default a temp dir, removed after) holds one
 * account and one key; each mode writes REQUESTS (default 20000) times.
 * Figures: process CPU µs and wall µs per request, and LMDB write
 * transactions per request (the environment's last txn id).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/apikeys.h"
#include "store/reqlog.h"
#include "store/store_priv.h"

static double
now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static size_t
txnid(struct store *st)
{
	MDB_envinfo info;

	mdb_env_info(st->env, &info);
	return info.me_last_txnid;
}

int
main(int argc, char **argv)
{
	static const char *const modes[] = { "before: three writes",
	    "one batch, log off", "one batch, log on",
	    "one batch, log on, bodies" };
	char dir[256] = "/tmp/c2a-reqlog-bench-XXXXXX", err[128], body[2048];
	char id[ACCT_ID_LEN + 1], key[APIKEY_LEN + 1], cmd[300];
	struct apikey_info ki;
	struct acct_result res;
	struct acct_new an;
	struct store_done d;
	struct store *st;
	size_t n = 20000, i, added, t0;
	double c0, w0;
	int ch, m, own = 1;

	while ((ch = getopt(argc, argv, "n:d:")) != -1) {
		if (ch == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (ch == 'd') {
			snprintf(dir, sizeof(dir), "%s", optarg);
			own = 0;
		} else {
			fprintf(stderr,
			    "usage: reqlog_bench [-n N] [-d DIR]\n");
			return 2;
		}
	}
	if (own && mkdtemp(dir) == NULL)
		return 1;
	if (store_open(&st, dir, 64u << 20) != STORE_OK ||
	    store_key_init(st, NULL, err, sizeof(err)) != STORE_OK)
		return 1;
	memset(&an, 0, sizeof(an));
	an.provider = "deepseek";
	an.secret = "dsBenchSecretForTheRequestLog0123456789";
	an.secret_len = strlen(an.secret);
	if (acct_add(st, &an, 1, &added, NULL, id) != STORE_OK ||
	    apikey_create(st, "bench", key, &ki) != STORE_OK)
		return 1;
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	memset(&res, 0, sizeof(res));
	res.outcome = ACCT_OUT_OK;
	res.latency_ms = 80;
	printf("| end of a request | CPU µs | wall µs | writes |\n"
	    "|---|---|---|---|\n");
	for (m = 0; m < 4; m++) {
		t0 = txnid(st);
		c0 = now(CLOCK_PROCESS_CPUTIME_ID);
		w0 = now(CLOCK_MONOTONIC);
		for (i = 0; i < n; i++) {
			if (m == 0) {
				acct_record(st, "deepseek", id, &res);
				store_count_request(st, "DeepSeek-V3.2", 1);
				apikey_check(st, key, 1, &ki);
				continue;
			}
			memset(&d, 0, sizeof(d));
			d.count = 1;
			d.route = "/v1/chat/completions";
			d.log.method = "POST";
			d.log.route = "/v1/chat/completions";
			d.log.model = "DeepSeek-V3.2";
			d.log.provider = "deepseek";
			d.log.account = "0123456789ab";
			d.log.key = "bench";
			d.log.error = "";
			d.log.req_body = d.log.resp_body = m == 3 ? body : "";
			d.log.req_len = d.log.resp_len = m == 3 ?
			    sizeof(body) - 1 : 0;
			d.log.status = 200;
			d.log.latency_ms = 80;
			d.log.ttfc_ms = 20;
			d.conf.max_entries = m == 1 ? 0 : 10000;
			d.conf.retention_s = 7 * 86400;
			d.acct_provider = "deepseek";
			d.acct_id = id;
			d.acct_res = &res;
			d.api_key = key;
			d.pow_ms = -1;
			if (store_request_done(st, &d) != STORE_OK)
				return 1;
		}
		printf("| %s | %.1f | %.1f | %.2f |\n", modes[m],
		    (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)n,
		    (now(CLOCK_MONOTONIC) - w0) / (double)n,
		    (double)(txnid(st) - t0) / (double)n);
	}
	store_close(st);
	if (own) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
