/*
 * pow_bench.c - proof-of-work tries per second.
 *
 * Solves at difficulty "000000" with the strict [C] rule, which no hash
 * can meet, so the solver makes exactly N tries and returns the fallback.
 *
 *   gcc -O2 -I. bench/pow_bench.c $(pkg-config --cflags --libs libcrypto) \
 *       -o pow_bench		(pow*.c are #included: do not link them)
 *   ./pow_bench [-s] [-1] [tries]	(default 500000, the protocol cap)
 *
 * Prints "pow: N tries in S s = X ns/try".  A second line times the naive
 * way (serialise, encode and hash the whole text per try) for comparison;
 * -s skips it.  -1 forces one try at a time through OpenSSL (no 4-lane
 * batches), to see what the SIMD path buys.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

/* Included, not linked: the bench is one self-contained compile. */
#include "upstream/chatgpt/pow_sha3.c"
#include "upstream/chatgpt/pow_config.c"
#include "upstream/chatgpt/pow.c"

static double
clock_s(clockid_t id)
{
	struct timespec	 ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this process: steadier than wall time on a busy host. */
static double
cpu(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static void
example_config(struct pow_config *c)
{
	memset(c, 0, sizeof(*c));
	c->screen = 4000;
	snprintf(c->date, sizeof(c->date), "%s",
	    "Mon Jan 06 2025 10:00:00 GMT-0500 (Eastern Standard Time)");
	c->heap_limit = POW_HEAP_LIMIT;
	c->user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
	    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
	    "Safari/537.36";
	c->script_src = "https://cdn.oaistatic.com/assets/abc.js";
	c->dpl = "prod-0123456789abcdef";
	c->language = "en-US";
	c->languages = "en-US,es-US,en,es";
	c->nav_prop = "webdriver\xe2\x88\x92" "false";
	c->doc_prop = "location";
	c->win_prop = "onload";
	c->perf_now = 1234.5;
	snprintf(c->session_id, sizeof(c->session_id), "%s",
	    "00000000-0000-4000-8000-000000000000");
	c->search_keys = "";
	c->cores = 16;
	c->time_origin = 1736175600000.0;
}

/* Per try: pow_config_json + EVP_EncodeBlock + a fresh SHA3-512. */
static double
naive(const struct pow_config *c, const char *seed, unsigned long n)
{
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	unsigned char	 h[64], b64[4096];
	double		 t0 = now();

	for (unsigned long i = 0; i < n; i++) {
		char	*json = NULL;
		size_t	 len;
		int	 bl;

		if (pow_config_json(c, i, i >> 1, &json, &len) != POW_OK ||
		    len > 3000)
			exit(1);
		bl = EVP_EncodeBlock(b64, (unsigned char *)json, (int)len);
		EVP_DigestInit_ex(ctx, EVP_sha3_512(), NULL);
		EVP_DigestUpdate(ctx, seed, strlen(seed));
		EVP_DigestUpdate(ctx, b64, (size_t)bl);
		EVP_DigestFinal_ex(ctx, h, NULL);
		free(json);
		if (h[0] == 0 && h[1] == 0 && h[2] == 0 && h[3] == 0)
			printf("unlikely\n");
	}
	EVP_MD_CTX_free(ctx);
	return now() - t0;
}

int
main(int argc, char *argv[])
{
	struct pow_config	 c;
	struct pow_opts		 o = { POW_ALGO_SHA3_512, POW_RULE_BYTES, 0, false };
	struct pow_solver	*s = NULL;
	unsigned long		 n = POW_MAX_TRIES, done = 0;
	bool			 skip_naive = false, single = false;
	const char		*seed = "0.8863307117434009";
	char			*ans = NULL;
	enum pow_err		 rc;
	double			 t, tc;

	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-s") == 0)
			skip_naive = true;
		else if (strcmp(argv[a], "-1") == 0)
			single = true;
		else if ((n = strtoul(argv[a], NULL, 10)) == 0) {
			fprintf(stderr, "usage: %s [-s] [-1] [tries]\n",
			    argv[0]);
			return 2;
		}
	}
	example_config(&c);
	o.max_tries = n;
	o.no_simd = single;
	if ((rc = pow_solver_new(&s, &c, &o)) != POW_OK) {
		fprintf(stderr, "pow_solver_new: %s\n", pow_strerror(rc));
		return 1;
	}
	t = now();
	tc = cpu();
	rc = pow_solve(s, seed, "000000", &ans, &done);
	tc = cpu() - tc;
	t = now() - t;
	if (rc != POW_UNSOLVED || done != n) {
		fprintf(stderr, "pow_solve: %s after %lu tries\n",
		    pow_strerror(rc), done);
		return 1;
	}
	printf("pow: %lu tries in %.3f s = %.1f ns/try (cpu %.1f ns/try, %s)\n",
	    n, t, t * 1e9 / (double)n, tc * 1e9 / (double)n,
	    single ? "one at a time" : "4-lane when the CPU allows");
	free(ans);
	pow_solver_free(s);
	if (skip_naive)
		return 0;

	n = n / 10 ? n / 10 : 1;
	t = naive(&c, seed, n);
	printf("naive: %lu tries in %.3f s = %.1f ns/try\n", n, t, t * 1e9 /
	    (double)n);
	return 0;
}
