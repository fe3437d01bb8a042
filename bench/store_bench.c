/*
 * store_bench.c - the store's share of one pooled chat request, on LMDB
 * or on Redis: the API key looked up (a read), an account taken
 * round-robin with today's use reserved (a write), and the request's
 * final bookkeeping (store_request_done: log entry, statistics, counters,
 * the account's outcome, the key's use; a write).
 *
 *   make bench/store_bench
 *   ./bench/store_bench [-n REQUESTS] [-s STORE] [-d DIR]
 *
 * STORE is lmdb (default) or a CHAT2API_STORE redis:// URL; give Redis a
 * ?prefix= of its own (the run adds three accounts and a key there).  DIR
 * holds the LMDB or the secret key (default a temp dir, removed after).
 * Prints one markdown row: CPU µs and wall µs per request, the process's
 * CPU only (Redis's own CPU is not in it).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/accounts.h"
#include "store/apikeys.h"
#include "store/reqlog.h"
#include "store/store.h"

static double
now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One request's store work; 0 or -1. */
static int
one_request(struct store *st, const char *key)
{
	struct acct_pick_opts po;
	struct acct_pick_why why;
	struct acct_result res;
	struct apikey_info ki;
	struct acct_pick p;
	struct store_done d;
	enum store_err e;

	if (apikey_check(st, key, 0, &ki) != STORE_OK)
		return -1;
	memset(&po, 0, sizeof(po));
	po.provider = "deepseek";
	po.strategy = ACCT_ROUND_ROBIN;
	memset(&p, 0, sizeof(p));
	if (acct_pick(st, &po, &p, &why) != STORE_OK)
		return -1;
	memset(&res, 0, sizeof(res));
	res.outcome = ACCT_OUT_OK;
	res.latency_ms = 80;
	memset(&d, 0, sizeof(d));
	d.count = 1;
	d.route = "/v1/chat/completions";
	d.log.method = "POST";
	d.log.route = "/v1/chat/completions";
	d.log.model = "DeepSeek-V3.2";
	d.log.provider = "deepseek";
	d.log.account = p.info.fingerprint;
	d.log.key = "bench";
	d.log.error = "";
	d.log.req_body = d.log.resp_body = "";
	d.log.status = 200;
	d.log.latency_ms = 80;
	d.log.ttfc_ms = 20;
	d.conf.max_entries = 10000;
	d.conf.retention_s = 7 * 86400;
	d.acct_provider = "deepseek";
	d.acct_id = p.info.id;
	d.acct_res = &res;
	d.api_key = key;
	d.pow_ms = -1;
	e = store_request_done(st, &d);
	acct_pick_free(&p);
	return e == STORE_OK ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const char *const secrets[] = {
	    "dsStoreBenchSecretNumberOne0123456789abcdef",
	    "dsStoreBenchSecretNumberTwo0123456789abcdef",
	    "dsStoreBenchSecretNumberThree123456789abcdef" };
	char dir[256] = "/tmp/c2a-store-bench-XXXXXX", err[256], cmd[300];
	char id[ACCT_ID_LEN + 1], key[APIKEY_LEN + 1];
	const char *backend = "lmdb";
	struct apikey_info ki;
	struct acct_new an;
	struct store *st = NULL;
	size_t n = 5000, i, added;
	double c0, w0;
	int ch, own = 1, rc = 1;

	while ((ch = getopt(argc, argv, "n:s:d:")) != -1) {
		if (ch == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (ch == 's')
			backend = optarg;
		else if (ch == 'd') {
			snprintf(dir, sizeof(dir), "%s", optarg);
			own = 0;
		} else {
			fprintf(stderr, "usage: store_bench [-n N] "
			    "[-s lmdb|redis://...] [-d DIR]\n");
			return 2;
		}
	}
	if (n == 0 || (own && mkdtemp(dir) == NULL))
		return 2;
	if (store_open_backend(&st, backend, dir, 256u << 20) != STORE_OK ||
	    store_key_init(st, NULL, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "store_bench: cannot open the store\n");
		goto out;
	}
	for (i = 0; i < 3; i++) {
		memset(&an, 0, sizeof(an));
		an.provider = "deepseek";
		an.secret = secrets[i];
		an.secret_len = strlen(secrets[i]);
		if (acct_add(st, &an, 1, &added, NULL, id) != STORE_OK)
			goto out;
	}
	if (apikey_create(st, "bench", key, &ki) != STORE_OK)
		goto out;
	/* Warm up: connections, caches, the first day's keys. */
	for (i = 0; i < 50 && i < n; i++)
		if (one_request(st, key) < 0)
			goto out;
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	w0 = now(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++)
		if (one_request(st, key) < 0) {
			fprintf(stderr, "store_bench: request %zu failed\n", i);
			goto out;
		}
	printf("| %s | %.1f | %.1f |\n", strncmp(backend, "redis", 5) == 0 ?
	    "Redis (loopback)" : "LMDB",
	    (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)n,
	    (now(CLOCK_MONOTONIC) - w0) / (double)n);
	rc = 0;
out:
	store_close(st);
	if (own) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}
