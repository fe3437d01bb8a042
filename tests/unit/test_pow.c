/*
 * Unit tests for upstream/chatgpt/pow.c, pow_sha3.c and pow_config.c:
 * the solver and the tokens against the worked examples of
 * protocols/chatgpt.md §3, the split-tail encoder, the difficulty gate,
 * the fallback, verify and the limits.  The building blocks (hash, base64,
 * comparator, number and date formatting, defaults) are in
 * test_pow_parts.c.  The .c files are included so the static pieces can be
 * checked against straightforward re-computations.
 */
#include "upstream/chatgpt/pow_sha3.c"
#include "upstream/chatgpt/pow_config.c"
#include "upstream/chatgpt/pow.c"

#include <limits.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "tests/unit/unit.h"

/* §3.5 fixed config. */
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

static const char example_json_19[] =
    "[4000,\"Mon Jan 06 2025 10:00:00 GMT-0500 (Eastern Standard Time)\","
    "4294705152,19,\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\","
    "\"https://cdn.oaistatic.com/assets/abc.js\",\"prod-0123456789abcdef\","
    "\"en-US\",\"en-US,es-US,en,es\",9,\"webdriver\xe2\x88\x92" "false\","
    "\"location\",\"onload\",1234.5,\"00000000-0000-4000-8000-000000000000\","
    "\"\",16,1736175600000.0]";

static const char row1_b64[] =
    "WzQwMDAsIk1vbiBKYW4gMDYgMjAyNSAxMDowMDowMCBHTVQtMDUwMCAoRWFzdGVybiBTdGFu"
    "ZGFyZCBUaW1lKSIsNDI5NDcwNTE1MiwxOSwiTW96aWxsYS81LjAgKFdpbmRvd3MgTlQgMTAu"
    "MDsgV2luNjQ7IHg2NCkgQXBwbGVXZWJLaXQvNTM3LjM2IChLSFRNTCwgbGlrZSBHZWNrbykg"
    "Q2hyb21lLzEzMS4wLjAuMCBTYWZhcmkvNTM3LjM2IiwiaHR0cHM6Ly9jZG4ub2Fpc3RhdGlj"
    "LmNvbS9hc3NldHMvYWJjLmpzIiwicHJvZC0wMTIzNDU2Nzg5YWJjZGVmIiwiZW4tVVMiLCJl"
    "bi1VUyxlcy1VUyxlbixlcyIsOSwid2ViZHJpdmVy4oiSZmFsc2UiLCJsb2NhdGlvbiIsIm9u"
    "bG9hZCIsMTIzNC41LCIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAiLCIi"
    "LDE2LDE3MzYxNzU2MDAwMDAuMF0=";

static const char row2_b64[] =
    "WzQwMDAsIk1vbiBKYW4gMDYgMjAyNSAxMDowMDowMCBHTVQtMDUwMCAoRWFzdGVybiBTdGFu"
    "ZGFyZCBUaW1lKSIsNDI5NDcwNTE1Miw5LCJNb3ppbGxhLzUuMCAoV2luZG93cyBOVCAxMC4w"
    "OyBXaW42NDsgeDY0KSBBcHBsZVdlYktpdC81MzcuMzYgKEtIVE1MLCBsaWtlIEdlY2tvKSBD"
    "aHJvbWUvMTMxLjAuMC4wIFNhZmFyaS81MzcuMzYiLCJodHRwczovL2Nkbi5vYWlzdGF0aWMu"
    "Y29tL2Fzc2V0cy9hYmMuanMiLCJwcm9kLTAxMjM0NTY3ODlhYmNkZWYiLCJlbi1VUyIsImVu"
    "LVVTLGVzLVVTLGVuLGVzIiw0LCJ3ZWJkcml2ZXLiiJJmYWxzZSIsImxvY2F0aW9uIiwib25s"
    "b2FkIiwxMjM0LjUsIjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMCIsIiIs"
    "MTYsMTczNjE3NTYwMDAwMC4wXQ==";

/* Independent hash: plain one-shot EVP, no state cloning. */
static void
sha3_oneshot(const char *a, const char *b, unsigned char out[64])
{
	EVP_MD_CTX	*c = EVP_MD_CTX_new();

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(EVP_DigestInit_ex(c, EVP_sha3_512(), NULL), 1);
	ck_assert_int_eq(EVP_DigestUpdate(c, a, strlen(a)), 1);
	ck_assert_int_eq(EVP_DigestUpdate(c, b, strlen(b)), 1);
	ck_assert_int_eq(EVP_DigestFinal_ex(c, out, NULL), 1);
	EVP_MD_CTX_free(c);
}

static void
hex(const unsigned char *h, size_t n, char *out)
{
	for (size_t k = 0; k < n; k++)
		sprintf(out + 2 * k, "%02x", h[k]);
}

START_TEST(config_json_example)
{
	struct pow_config	 c;
	char			*j = NULL;
	size_t			 n = 0;

	example_config(&c);
	ck_assert_int_eq(pow_config_json(&c, 19, 9, &j, &n), POW_OK);
	ck_assert_str_eq(j, example_json_19);
	ck_assert_uint_eq(n, strlen(example_json_19));
	free(j);

	/* dpl NULL is JSON null (page fetch failed). */
	c.dpl = NULL;
	ck_assert_int_eq(pow_config_json(&c, 0, 0, &j, NULL), POW_OK);
	ck_assert_ptr_nonnull(strstr(j, ",null,\"en-US\","));
	free(j);
}
END_TEST

struct example {
	const char	*seed;
	const char	*difficulty;
	unsigned long	 nonce;
	const char	*hash_prefix;
	size_t		 b64_len;
	const char	*b64;
};

static const struct example examples[] = {
	{ "0.42", "0fffff", 19, "0a18fdadd4324623bece52bf92d1cccb", 532,
	    row1_b64 },
	{ "0.8863307117434009", "06bf7d", 9, "0064d3e2bd987a7a56e9bd21452ef0c5",
	    532, row2_b64 },
	{ "0.5", "00fff0", 194, "00c209544f1df0e1e132590dd07c11e4", 536, NULL },
};

START_TEST(worked_examples)
{
	const struct example	*e = &examples[_i];
	struct pow_config	 c;
	struct pow_opts		 o = { POW_ALGO_SHA3_512, POW_RULE_BYTES, 0, false };
	unsigned char		 h[64];
	char			 x[129];

	example_config(&c);
	/* Both comparison rules must find the same first i (§3.5). */
	for (int rule = POW_RULE_BYTES; rule <= POW_RULE_HEX; rule++) {
		struct pow_solver	*s = NULL;
		char			*ans = NULL;
		unsigned long		 nonce = 0;

		o.rule = (enum pow_rule)rule;
		ck_assert_int_eq(pow_solver_new(&s, &c, &o), POW_OK);
		ck_assert_int_eq(pow_solve(s, e->seed, e->difficulty, &ans,
		    &nonce), POW_OK);
		ck_assert_uint_eq(nonce, e->nonce);
		ck_assert_uint_eq(strlen(ans), e->b64_len);
		if (e->b64 != NULL)
			ck_assert_str_eq(ans, e->b64);
		sha3_oneshot(e->seed, ans, h);
		hex(h, 16, x);
		ck_assert_str_eq(x, e->hash_prefix);
		free(ans);
		pow_solver_free(s);
	}
}
END_TEST

START_TEST(example_tokens)
{
	struct pow_config	 c;
	struct pow_solver	*s = NULL;
	char			*t = NULL, want[600];

	example_config(&c);
	ck_assert_int_eq(pow_solver_new(&s, &c, NULL), POW_OK);

	ck_assert_int_eq(pow_requirements_token(s, "0.42", &t), POW_OK);
	snprintf(want, sizeof(want), "gAAAAAC%s", row1_b64);
	ck_assert_str_eq(t, want);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES, "0.42",
	    "0fffff", t, false), POW_OK);
	free(t);

	ck_assert_int_eq(pow_proof_token(s, "0.8863307117434009", "06bf7d",
	    POW_DEFAULT_LIMIT, &t), POW_OK);
	snprintf(want, sizeof(want), "gAAAAAB%s", row2_b64);
	ck_assert_str_eq(t, want);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.8863307117434009", "06bf7d", t, true), POW_OK);
	free(t);

	/* Random seed: still a requirements token, found quickly. */
	ck_assert_int_eq(pow_requirements_token(s, NULL, &t), POW_OK);
	ck_assert_int_eq(strncmp(t, "gAAAAAC", 7), 0);
	ck_assert(b64_valid(t + 7, strlen(t + 7)));
	free(t);
	pow_solver_free(s);
}
END_TEST

/* No i below the documented one is accepted by either rule. */
START_TEST(examples_no_earlier_answer)
{
	struct pow_config	 c;
	struct difficulty	 d;

	example_config(&c);
	for (size_t k = 0; k < 2; k++) {
		ck_assert_int_eq(difficulty_parse(examples[k].difficulty, 64,
		    &d), POW_OK);
		for (unsigned long i = 0; i < examples[k].nonce; i++) {
			char		*j = NULL, *b;
			size_t		 n;
			unsigned char	 h[64];

			ck_assert_int_eq(pow_config_json(&c, i, i >> 1, &j, &n),
			    POW_OK);
			b = malloc(B64_ENCLEN(n) + 1);
			ck_assert_ptr_nonnull(b);
			b[b64_encode((unsigned char *)j, n, b)] = '\0';
			sha3_oneshot(examples[k].seed, b, h);
			ck_assert(!difficulty_met(h, &d, POW_RULE_BYTES));
			ck_assert(!difficulty_met(h, &d, POW_RULE_HEX));
			free(b);
			free(j);
		}
	}
}
END_TEST

/* The split-tail encoder against encoding the whole JSON, for all nine
 * (P0 mod 3, P1 mod 3) shapes and nonces across digit-count changes. */
START_TEST(fast_tail_matches_full_encoding)
{
	static const unsigned long	 nonces[] = { 0, 1, 2, 3, 9, 10, 11,
	    99, 100, 101, 998, 999, 1000, 1001, 9999, 10000, 99999, 100000,
	    100001, 499998, 499999, 1234567, 4294967295UL, ULONG_MAX };
	static const char		*pads[] = { "", "x", "xy" };

	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 3; b++)
			for (int p = 0; p < 3; p++) {
		struct pow_config	 c;
		struct pow_solver	*s = NULL;
		char			 ua[256], lang[32], nav[64];

		example_config(&c);
		snprintf(c.date, sizeof(c.date), "Mon Jan 06 2025%s",
		    pads[a]);
		snprintf(ua, sizeof(ua), "%s%s", c.user_agent, pads[b]);
		c.user_agent = ua;
		snprintf(lang, sizeof(lang), "en%s", pads[p]);
		c.languages = lang;
		snprintf(nav, sizeof(nav), "a\"\\\x01\xc3\xa9%s", pads[p]);
		c.nav_prop = nav;
		ck_assert_int_eq(pow_solver_new(&s, &c, NULL), POW_OK);
		for (size_t k = 0; k < sizeof(nonces) / sizeof(nonces[0]); k++)
			for (unsigned long dj = 0; dj < 3; dj++) {
			unsigned long	 i = nonces[k];
			unsigned long	 j = i / 2 + dj;
			char		*json = NULL, *full, *fast;
			size_t		 n, tl;

			ck_assert_int_eq(pow_config_json(&c, i, j, &json, &n),
			    POW_OK);
			full = malloc(B64_ENCLEN(n) + 1);
			fast = malloc(s->head_len + B64_ENCLEN(n) + 8);
			ck_assert_ptr_nonnull(full);
			ck_assert_ptr_nonnull(fast);
			full[b64_encode((unsigned char *)json, n, full)] = '\0';
			memcpy(fast, s->work, s->head_len);
			tl = solver_tail(s, i, j, fast + s->head_len);
			fast[s->head_len + tl] = '\0';
			ck_assert_str_eq(fast, full);
			free(full);
			free(fast);
			free(json);
		}
		pow_solver_free(s);
	}
}
END_TEST

START_TEST(difficulty_gate)
{
	struct pow_config	 c;
	struct pow_solver	*s = NULL;
	char			*t = (char *)1;

	/* §3.4: difficulty <= limit as strings means too hard. */
	ck_assert(pow_difficulty_too_high("000032", "000032"));
	ck_assert(pow_difficulty_too_high("000031", "000032"));
	ck_assert(pow_difficulty_too_high("000000", "000032"));
	ck_assert(pow_difficulty_too_high("00001", "000032"));
	ck_assert(!pow_difficulty_too_high("000033", "000032"));
	ck_assert(!pow_difficulty_too_high("00003a", "000032"));
	ck_assert(!pow_difficulty_too_high("0000321", "000032"));
	ck_assert(!pow_difficulty_too_high("06bf7d", "000032"));
	ck_assert(!pow_difficulty_too_high("0fffff", "000032"));
	/* The README default. */
	ck_assert(pow_difficulty_too_high("000032", "00003a"));
	ck_assert(pow_difficulty_too_high("00003a", "00003a"));
	ck_assert(!pow_difficulty_too_high("00003b", "00003a"));
	/* String order, not numeric: 'A' sorts before 'a' and '0'-'9'. */
	ck_assert(!pow_difficulty_too_high("00003A", "000032"));
	ck_assert(pow_difficulty_too_high("00003A", "00003a"));
	ck_assert(!pow_difficulty_too_high("000032", NULL));

	example_config(&c);
	ck_assert_int_eq(pow_solver_new(&s, &c, NULL), POW_OK);
	ck_assert_int_eq(pow_proof_token(s, "0.1", "000032", "000032", &t),
	    POW_TOOHARD);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(pow_proof_token(s, "0.1", "000010", "000032", &t),
	    POW_TOOHARD);
	ck_assert_str_eq(pow_strerror(POW_TOOHARD),
	    "Proof of work difficulty too high");
	/* No gate: solved (or not) like any other. */
	ck_assert_int_eq(pow_proof_token(s, "0.8863307117434009", "06bf7d",
	    NULL, &t), POW_OK);
	free(t);
	pow_solver_free(s);
}
END_TEST

START_TEST(fallback)
{
	struct pow_config	 c;
	struct pow_solver	*s = NULL;
	struct pow_opts		 o = { POW_ALGO_SHA3_512, POW_RULE_BYTES, 50, false };
	char			*f, *a = NULL, *t = NULL;
	unsigned long		 n = 0;

	f = pow_fallback("0.42");
	ck_assert_str_eq(f, "wQ8Lk5FbGpA2NcR9dShT6gYjU7VxZ4DIjAuNDIi");
	free(f);
	f = pow_fallback("");
	ck_assert_str_eq(f, "wQ8Lk5FbGpA2NcR9dShT6gYjU7VxZ4DIiI=");
	free(f);
	ck_assert_ptr_null(pow_fallback(NULL));

	/* "000000" with the strict rule can never be met. */
	example_config(&c);
	ck_assert_int_eq(pow_solver_new(&s, &c, &o), POW_OK);
	ck_assert_int_eq(pow_solve(s, "0.42", "000000", &a, &n), POW_UNSOLVED);
	ck_assert_str_eq(a, "wQ8Lk5FbGpA2NcR9dShT6gYjU7VxZ4DIjAuNDIi");
	ck_assert_uint_eq(n, 50);
	free(a);

	ck_assert_int_eq(pow_proof_token(s, "0.42", "000000", NULL, &t),
	    POW_UNSOLVED);
	ck_assert_str_eq(t, "gAAAAABwQ8Lk5FbGpA2NcR9dShT6gYjU7VxZ4DIjAuNDIi");
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_HEX, "0.42",
	    "ffff", t, true), POW_EBADTOKEN);
	free(t);
	ck_assert_str_eq(pow_strerror(POW_UNSOLVED),
	    "Failed to solve proof of work");
	pow_solver_free(s);
}
END_TEST

/* Decode base64 with OpenSSL, independently of pow.c. */
static char *
unbase64(const char *b, size_t *n)
{
	size_t		 len = strlen(b);
	unsigned char	*out = malloc(len / 4 * 3 + 1);
	int		 r;

	ck_assert_ptr_nonnull(out);
	r = EVP_DecodeBlock(out, (const unsigned char *)b, (int)len);
	ck_assert_int_ge(r, 0);
	*n = (size_t)r;
	while (*n > 0 && len > 0 && b[--len] == '=')
		(*n)--;
	out[*n] = '\0';
	return (char *)out;
}

/* Solve a random config at an easy difficulty, then check everything
 * about the answer from first principles. */
START_TEST(easy_solve_reverified)
{
	struct pow_config	 c;
	struct pow_solver	*s = NULL;
	char			 seed[POW_SEED_BUFSZ];
	char			*ans = NULL, *json, x[129];
	unsigned char		 h[64];
	unsigned long		 nonce = ULONG_MAX;
	size_t			 n;
	struct json_object	*arr, *e;

	ck_assert_int_eq(pow_config_defaults(&c, NULL, NULL, "prod-abc",
	    time(NULL)), POW_OK);
	ck_assert_int_eq(pow_random_seed(seed), POW_OK);
	ck_assert_int_eq(pow_solver_new(&s, &c, NULL), POW_OK);
	ck_assert_int_eq(pow_solve(s, seed, "1fff", &ans, &nonce), POW_OK);
	ck_assert_uint_lt(nonce, POW_MAX_TRIES);

	sha3_oneshot(seed, ans, h);
	hex(h, 64, x);
	ck_assert_msg(strncmp(x, "1fff", 4) < 0, "hash %s", x);

	json = unbase64(ans, &n);
	ck_assert_uint_eq(strlen(json), n);
	arr = json_tokener_parse(json);
	ck_assert_ptr_nonnull(arr);
	ck_assert(json_object_is_type(arr, json_type_array));
	ck_assert_uint_eq(json_object_array_length(arr), POW_CONFIG_LEN);
	e = json_object_array_get_idx(arr, 3);
	ck_assert(json_object_is_type(e, json_type_int));
	ck_assert_uint_eq((unsigned long)json_object_get_int64(e), nonce);
	e = json_object_array_get_idx(arr, 9);
	ck_assert(json_object_is_type(e, json_type_int));
	ck_assert_uint_eq((unsigned long)json_object_get_int64(e), nonce >> 1);
	ck_assert_int_eq(json_object_get_int64(json_object_array_get_idx(arr,
	    2)), POW_HEAP_LIMIT);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(arr,
	    6)), "prod-abc");
	json_object_put(arr);
	free(json);

	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES, seed,
	    "1fff", ans, false), POW_EBADTOKEN);	/* no prefix */
	free(ans);
	pow_solver_free(s);
}
END_TEST

START_TEST(verify)
{
	char		 tok[600], bad[600];
	unsigned char	 h[64];
	char		 x[129];

	snprintf(tok, sizeof(tok), "gAAAAAB%s", row2_b64);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.8863307117434009", "06bf7d", tok, true), POW_OK);
	/* Wrong kind, wrong seed, harder difficulty, flipped character. */
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.8863307117434009", "06bf7d", tok, false), POW_EBADTOKEN);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.42", "06bf7d", tok, true), POW_EMISMATCH);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.8863307117434009", "0064d3", tok, true), POW_EMISMATCH);
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[100] = bad[100] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.8863307117434009", "06bf7d", bad, true), POW_EMISMATCH);
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[100] = '*';
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.8863307117434009", "06bf7d", bad, true), POW_EBADTOKEN);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.8863307117434009", "06bf7d", "gAAAAAB", true), POW_EBADTOKEN);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.8863307117434009", "06bf7d", "", true), POW_EBADTOKEN);

	/* Exact equality of prefix and difficulty: only the hex rule. */
	sha3_oneshot("0.8863307117434009", row2_b64, h);
	hex(h, 3, x);
	ck_assert_str_eq(x, "0064d3");
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_HEX,
	    "0.8863307117434009", "0064d3", tok, true), POW_OK);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.8863307117434009", "0064d4", tok, true), POW_OK);
	/* Odd lengths and upper case compare as hex digits. */
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_HEX,
	    "0.8863307117434009", "0064D", tok, true), POW_OK);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.8863307117434009", "0064D", tok, true), POW_EMISMATCH);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.8863307117434009", "", tok, true), POW_OK);

	/* Bad arguments. */
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    "0.1", "06bf7g", tok, true), POW_EINVAL);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, POW_RULE_BYTES,
	    NULL, "06bf7d", tok, true), POW_EINVAL);
	ck_assert_int_eq(pow_verify((enum pow_algo)9, POW_RULE_BYTES,
	    "0.1", "06bf7d", tok, true), POW_EINVAL);
	ck_assert_int_eq(pow_verify(POW_ALGO_SHA3_512, (enum pow_rule)5,
	    "0.1", "06bf7d", tok, true), POW_EINVAL);
}
END_TEST

START_TEST(limits)
{
	struct pow_config	 c;
	struct pow_solver	*s = NULL;
	char			*big, *a = (char *)1, seed[POW_SEED_MAX + 2];

	example_config(&c);
	big = malloc(POW_JSON_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'u', POW_JSON_MAX);
	big[POW_JSON_MAX] = '\0';
	c.user_agent = big;
	ck_assert_int_eq(pow_solver_new(&s, &c, NULL), POW_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(pow_config_json(&c, 0, 0, &a, NULL), POW_EINVAL);
	ck_assert_ptr_null(a);
	free(big);

	example_config(&c);
	ck_assert_int_eq(pow_solver_new(&s, NULL, NULL), POW_EINVAL);
	ck_assert_int_eq(pow_solver_new(NULL, &c, NULL), POW_EINVAL);
	{
		struct pow_opts	 o = { (enum pow_algo)3, POW_RULE_BYTES, 0,
		    false };

		ck_assert_int_eq(pow_solver_new(&s, &c, &o), POW_EINVAL);
	}
	ck_assert_int_eq(pow_solver_new(&s, &c, NULL), POW_OK);
	memset(seed, '1', sizeof(seed));
	seed[POW_SEED_MAX + 1] = '\0';
	ck_assert_int_eq(pow_solve(s, seed, "0fffff", &a, NULL), POW_EINVAL);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(pow_solve(s, NULL, "0fffff", &a, NULL), POW_EINVAL);
	ck_assert_int_eq(pow_solve(s, "0.1", "xyz", &a, NULL), POW_EINVAL);
	ck_assert_int_eq(pow_solve(s, "0.1", NULL, &a, NULL), POW_EINVAL);
	ck_assert_int_eq(pow_solve(s, "0.1", "0fffff", NULL, NULL),
	    POW_EINVAL);
	ck_assert_int_eq(pow_requirements_token(NULL, "0.1", &a), POW_EINVAL);
	ck_assert_int_eq(pow_proof_token(s, NULL, "0fffff", NULL, &a),
	    POW_EINVAL);
	ck_assert_str_eq(pow_strerror((enum pow_err)99), "unknown error");
	pow_solver_free(s);
	pow_solver_free(NULL);
}
END_TEST

/* First i whose hash prefix (hex, first 16 digits) is <= want. */
static unsigned long
oracle_first(const struct pow_config *c, const char *seed, const char *want,
    unsigned long upto)
{
	for (unsigned long i = 0; i < upto; i++) {
		char		*j = NULL, *b, x[17];
		size_t		 n;
		unsigned char	 h[64];
		bool		 ok;

		ck_assert_int_eq(pow_config_json(c, i, i >> 1, &j, &n), POW_OK);
		b = malloc(B64_ENCLEN(n) + 1);
		ck_assert_ptr_nonnull(b);
		b[b64_encode((unsigned char *)j, n, b)] = '\0';
		sha3_oneshot(seed, b, h);
		hex(h, 8, x);
		ok = strcmp(x, want) <= 0;
		free(b);
		free(j);
		if (ok)
			return i;
	}
	return ULONG_MAX;
}

/*
 * Solver, batched and one by one, against a brute-force oracle, with
 * nonces across 9->10 and 19->20 (where i, j gain a digit and a batch
 * may need to fall back to single tries).  Difficulty = the exact hash
 * prefix of try k with the inclusive rule, so the answer is known.
 */
START_TEST(solver_matches_oracle)
{
	int	 fallbacks = 0;

	for (int pad = 0; pad < 72; pad += 1) {
		struct pow_config	 c;
		char			 ua[512];
		char			 x[24][17];

		example_config(&c);
		snprintf(ua, sizeof(ua), "%s%.*s", c.user_agent, pad,
		    "................................................"
		    "........................................");
		c.user_agent = ua;
		for (unsigned long k = 0; k < 24; k++) {
			char		*j = NULL, *b;
			size_t		 n;
			unsigned char	 h[64];

			ck_assert_int_eq(pow_config_json(&c, k, k >> 1, &j, &n),
			    POW_OK);
			b = malloc(B64_ENCLEN(n) + 1);
			ck_assert_ptr_nonnull(b);
			b[b64_encode((unsigned char *)j, n, b)] = '\0';
			sha3_oneshot("0.7", b, h);
			hex(h, 8, x[k]);
			free(b);
			free(j);
		}
		for (unsigned long k = 7; k < 24; k += (pad % 3) + 1) {
			unsigned long	 want = oracle_first(&c, "0.7", x[k], 24);

			for (int mode = 0; mode < 2; mode++) {
				struct pow_solver	*s = NULL;
				struct pow_opts		 o = { POW_ALGO_SHA3_512,
				    POW_RULE_HEX, 24, mode == 1 };
				char			*ans = NULL;
				unsigned long		 got = 0;
				unsigned char		 h[64];
				char			 y[17];

				ck_assert_int_eq(pow_solver_new(&s, &c, &o),
				    POW_OK);
				ck_assert(s->use_x4 == (mode == 0 &&
				    s->ops->digest_x4 != NULL));
				ck_assert_int_eq(pow_solve(s, "0.7", x[k], &ans,
				    &got), POW_OK);
				ck_assert_uint_eq(got, want);
				sha3_oneshot("0.7", ans, h);
				hex(h, 8, y);
				ck_assert_str_eq(y, x[want]);
				free(ans);
				pow_solver_free(s);
			}
		}
#ifdef POW_HAVE_X4
		/* Count configurations that really exercised the fallback. */
		{
			struct pow_solver	*s = NULL;
			char			*t[POW_LANES];
			size_t			 n[POW_LANES];
			unsigned char		 h[POW_LANES][POW_DIGEST_MAX];

			ck_assert_int_eq(pow_solver_new(&s, &c, NULL), POW_OK);
			ck_assert_int_eq(s->ops->begin(s->hs, "0.7", 3), POW_OK);
			ck_assert_int_eq(s->ops->absorb(s->hs, s->work,
			    s->head_len), POW_OK);
			for (unsigned long i = 0; i + 4 <= 24; i += 4) {
				for (int l = 0; l < POW_LANES; l++) {
					t[l] = s->lt[l];
					n[l] = solver_tail(s, i + (unsigned)l,
					    (i + (unsigned)l) >> 1, t[l]);
				}
				if (s->ops->digest_x4(s->hs, t, n, h) ==
				    POW_EINVAL)
					fallbacks++;
			}
			pow_solver_free(s);
		}
#endif
	}
#ifdef POW_HAVE_X4
	ck_assert_int_gt(fallbacks, 0);
#endif
}
END_TEST

static Suite *
pow_suite(void)
{
	Suite	*s = suite_create("pow");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, config_json_example);
	tcase_add_loop_test(tc, worked_examples, 0,
	    sizeof(examples) / sizeof(examples[0]));
	tcase_add_test(tc, example_tokens);
	tcase_add_test(tc, examples_no_earlier_answer);
	tcase_add_test(tc, fast_tail_matches_full_encoding);
	tcase_add_test(tc, difficulty_gate);
	tcase_add_test(tc, fallback);
	tcase_add_test(tc, easy_solve_reverified);
	tcase_add_test(tc, verify);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, solver_matches_oracle);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(pow_suite)
