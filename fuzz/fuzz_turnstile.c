/*
 * fuzz_turnstile.c - libFuzzer driver for upstream/chatgpt/turnstile.c.
 *
 * Input layout: byte 0 selects the mode.
 *   even: the rest is the program text; it is XOR-ed with a fixed p and
 *         base64-encoded into dx, so the fuzzer works on the VM directly.
 *   odd:  the rest is "p\ndx" (raw inputs of the decoding layer).
 *
 * Oracles: the sanitizers; a known error code; a token only on success and
 * then standard padded base64; counters within the limits; and determinism:
 * the input is solved twice (performance.now and Math.random fixed) and
 * both runs must agree on everything, although each run keys its hash
 * tables with fresh random bytes.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *       fuzz/fuzz_turnstile.c upstream/chatgpt/turnstile.c \
 *       upstream/chatgpt/turnstile_value.c upstream/chatgpt/turnstile_json.c \
 *       upstream/chatgpt/turnstile_ops.c fcgi/b64.c \
 *       $(pkg-config --cflags --libs json-c libcrypto) -lm -o fuzz_turnstile
 *   ./fuzz_turnstile -max_total_time=60 -max_len=65536 fuzz/corpus/turnstile
 *
 * Without libFuzzer, -DFUZZ_STANDALONE adds a main() that runs the files
 * named on the command line, or with none fuzz/corpus/turnstile under
 * $top_srcdir (corpus replay for make check, gcc, valgrind).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/chatgpt/turnstile.h"

#define FUZZ_P	"gAAAAACWzQwMDAsIk1vbiBKYW4gMDYgMjAyNSAxMDowMDowMCBHTVQtMDUw"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static double
fixed_now(void *ctx)
{
	(void)ctx;
	return 1234.5;
}

static double
fixed_random(void *ctx)
{
	(void)ctx;
	return 0.25;
}

static const struct turnstile_opts fixed = { fixed_now, fixed_random, NULL };

struct result {
	enum turnstile_err	 rc;
	char			*token;
	struct turnstile_stats	 st;
	char			 err[160];
};

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
encode(const uint8_t *s, size_t n, const char *p)
{
	size_t	 plen = strlen(p), i, o = 0;
	char	*out = malloc((n + 2) / 3 * 4 + 1);

	if (out == NULL)
		abort();
	for (i = 0; i < n; i += 3) {
		uint8_t		 c[3] = { 0, 0, 0 };
		size_t		 k, m = n - i < 3 ? n - i : 3;
		uint32_t	 v;

		for (k = 0; k < m; k++)
			c[k] = s[i + k] ^ (uint8_t)p[(i + k) % plen];
		v = (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = m > 1 ? b64[(v >> 6) & 63] : '=';
		out[o++] = m > 2 ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static void
solve(const char *dx, size_t dxlen, const char *p, size_t plen,
    struct result *r)
{
	memset(r, 0, sizeof(*r));
	r->rc = turnstile_solve_ex(dx, dxlen, p, plen, &fixed, &r->token,
	    &r->st, r->err, sizeof(r->err));
}

static void
check(const struct result *r)
{
	size_t	 n, i;

	switch (r->rc) {
	case TURNSTILE_OK:
		if (r->token == NULL)
			abort();
		n = strlen(r->token);
		if (n % 4 != 0)
			abort();
		for (i = 0; i < n; i++)
			if (strchr(b64, r->token[i]) == NULL &&
			    !(r->token[i] == '=' && i + 2 >= n))
				abort();
		break;
	case TURNSTILE_EBADINPUT:
	case TURNSTILE_ENOMEM:
	case TURNSTILE_ELIMIT:
	case TURNSTILE_ENOTOKEN:
		if (r->token != NULL || r->err[0] == '\0')
			abort();
		break;
	default:
		abort();
	}
	if (r->st.steps > TURNSTILE_MAX_STEPS + 1 ||
	    r->st.skipped > r->st.steps)
		abort();
	if (strlen(turnstile_strerror(r->rc)) == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result	 a, b;
	char		*dx, *p;
	const char	*nl;
	size_t		 dxlen, plen;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		dx = encode(data + 1, size - 1, FUZZ_P);
		dxlen = strlen(dx);
		p = strdup(FUZZ_P);
		if (p == NULL)
			abort();
		plen = strlen(p);
	} else {
		nl = memchr(data + 1, '\n', size - 1);
		plen = nl != NULL ? (size_t)(nl - (const char *)data - 1) :
		    size - 1;
		if ((p = malloc(plen + 1)) == NULL)
			abort();
		memcpy(p, data + 1, plen);
		p[plen] = '\0';
		dxlen = nl != NULL ? size - plen - 2 : 0;
		if ((dx = malloc(dxlen + 1)) == NULL)
			abort();
		if (dxlen > 0)
			memcpy(dx, nl + 1, dxlen);
		dx[dxlen] = '\0';
	}
	solve(dx, dxlen, p, plen, &a);
	solve(dx, dxlen, p, plen, &b);
	check(&a);
	check(&b);
	if (a.rc != b.rc || a.st.steps != b.st.steps ||
	    a.st.skipped != b.st.skipped || a.st.work != b.st.work ||
	    strcmp(a.err, b.err) != 0 ||
	    (a.token != NULL && strcmp(a.token, b.token) != 0))
		abort();
	free(a.token);
	free(b.token);
	free(dx);
	free(p);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "turnstile"
#include "fuzz/replay.h"
#endif
