/*
 * ds_pow_bench.c - time the DeepSeekHashV1 solver on random challenges.
 *
 *   make bench/ds_pow_bench	(pow.c is #included: do not link it)
 *   ./bench/ds_pow_bench [-n 200] [-d 144000] [-s SEED] [-i PATH]
 *
 * Each of the -n challenges gets a random hex salt (8..40 digits), a
 * random ms expire_at and an answer uniform in [0, difficulty); its hash
 * is the challenge.  Every solve is timed on the wall clock and checked.
 * Prints mean/p50/p95/max in ms, ns per hash and the SIMD path that ran
 * (the CPU-time figures are the ones to trust on a busy host);
 * -i forces a path (avx512, avx2, scalar) if the CPU has it.  Exits 1 on
 * a wrong answer.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Included, not linked: the bench is one self-contained compile. */
#include "upstream/deepseek/pow.c"

static uint64_t	 rng_state;

static uint64_t
rng(void)
{
	uint64_t	 z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
clock_ms(clockid_t id)
{
	struct timespec	 ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static long
number(const char *s, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < min || v > max) {
		fprintf(stderr, "ds_pow_bench: bad number %s\n", s);
		exit(2);
	}
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: ds_pow_bench [-n count] [-d difficulty] "
	    "[-s seed] [-i avx512|avx2|scalar]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const struct ds_impl	*im = ds_impl_best();
	long			 count = 200, diff = 144000;
	unsigned long long	 seed = 1;
	double			*ms, sum = 0, cpu0, cpu, tries = 0;
	int			 ch, bad = 0;

	while ((ch = getopt(argc, argv, "n:d:s:i:")) != -1) {
		switch (ch) {
		case 'n':
			count = number(optarg, 1, 1000000);
			break;
		case 'd':
			diff = number(optarg, 1, DS_POW_DIFFICULTY_MAX);
			break;
		case 's':
			seed = (unsigned long long)number(optarg, 0, LONG_MAX);
			break;
		case 'i':
			im = NULL;
			for (size_t k = 0; k < DS_NIMPLS; k++)
				if (strcmp(optarg, ds_impls[k].name) == 0)
					im = &ds_impls[k];
			if (im == NULL)
				usage();
			if (!im->usable()) {
				fprintf(stderr, "ds_pow_bench: this CPU "
				    "cannot run %s\n", im->name);
				return 2;
			}
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((ms = calloc((size_t)count, sizeof(*ms))) == NULL) {
		perror("calloc");
		return 1;
	}
	rng_state = seed;
	cpu0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < count; i++) {
		struct ds_pow_challenge	 c;
		char			 salt[41], hex[65], msg[128];
		unsigned char		 h[DS_POW_HASH_LEN];
		int64_t			 expire;
		long			 want, got = -1;
		size_t			 sl = 8 + rng() % 33;
		double			 t0;
		enum ds_pow_err		 rc;
		int			 len;

		for (size_t k = 0; k < sl; k++)
			salt[k] = "0123456789abcdef"[rng() % 16];
		salt[sl] = '\0';
		expire = 1700000000000LL + (int64_t)(rng() % 100000000000ULL);
		want = (long)(rng() % (uint64_t)diff);
		len = snprintf(msg, sizeof(msg), "%s_%" PRId64 "_%ld", salt,
		    expire, want);
		ds_pow_hash(msg, (size_t)len, h);
		for (int k = 0; k < DS_POW_HASH_LEN; k++)
			snprintf(hex + 2 * k, 3, "%02x", h[k]);
		c = (struct ds_pow_challenge){ DS_POW_ALGORITHM, hex, salt,
		    "00", "/api/v0/chat/completion", expire, diff };

		t0 = clock_ms(CLOCK_MONOTONIC);
		rc = ds_solve_with(&c, im, &got);
		ms[i] = clock_ms(CLOCK_MONOTONIC) - t0;
		sum += ms[i];
		tries += (double)want + 1;
		if (rc != DS_POW_OK || got != want) {
			fprintf(stderr, "challenge %ld: %s, answer %ld, "
			    "want %ld\n", i, ds_pow_strerror(rc), got, want);
			bad = 1;
		}
	}
	qsort(ms, (size_t)count, sizeof(*ms), cmp_double);
	printf("ds_pow: path %s (%d lanes), %ld challenges, difficulty %ld, "
	    "seed %llu\n", im->name, im->lanes, count, diff, seed);
	printf("ds_pow: mean %.3f ms  p50 %.3f ms  p95 %.3f ms  max %.3f ms\n",
	    sum / (double)count, ms[(count - 1) / 2],
	    ms[(size_t)((double)(count - 1) * 0.95)], ms[count - 1]);
	/* CPU time shrugs off other load on the host; wall time does not */
	cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	printf("ds_pow: %.1f ns/hash wall, %.1f ns/hash cpu; cpu mean %.3f ms "
	    "(%.0f hashes)\n", sum * 1e6 / tries, cpu * 1e6 / tries,
	    cpu / (double)count, tries);
	free(ms);
	return bad;
}
