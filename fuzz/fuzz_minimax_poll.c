/*
 * fuzz_minimax_poll.c - libFuzzer driver for upstream/minimax/poll.c, the
 * decoder of MiniMax's polled answers.
 *
 * The input is a list of get_chat_detail answers, one per line (JSON
 * carries its newlines escaped, so a snapshot is one line).  The mode
 * (stream or final_only) and a sink that stops at call k come from a
 * hash of the input.  Oracles:
 *  - the sink contract, on every callback: role() once and before any
 *    text, reasoning or finish(); nothing after finish()/error(); text
 *    and reasoning never empty and valid UTF-8; error() with 401 or 502,
 *    a code and a one-line, valid UTF-8 message;
 *  - the result: MMP_UPSTREAM exactly when error() was called; done()
 *    after finish(), error() or an abort;
 *  - a poll answered twice changes nothing: feeding every line twice
 *    gives the same sink log and result (but where the chat ended
 *    without an answer: that counts polls), and the repeat is not
 *    "changed";
 *  - the sanitizers (no crash, no leak).
 *
 *   make fuzz-minimax && mkdir -p /tmp/mmp && \
 *       ./fuzz/fuzz_minimax_poll -max_total_time=60 /tmp/mmp \
 *       fuzz/corpus/minimax
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/minimax (make
 * check).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/minimax/poll.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct log {
	char	*p;
	size_t	 len, cap;
};

static void
log_add(struct log *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((b->p = realloc(b->p, ncap)) == NULL)
			abort();
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static bool
valid_utf8(const unsigned char *u, size_t n)
{
	size_t i = 0, k, j;

	while (i < n) {
		k = u[i] < 0x80 ? 1 : u[i] < 0xc2 ? 0 : u[i] < 0xe0 ? 2 :
		    u[i] < 0xf0 ? 3 : u[i] < 0xf5 ? 4 : 0;
		if (k == 0 || i + k > n)
			return false;
		for (j = 1; j < k; j++)
			if ((u[i + j] & 0xc0) != 0x80)
				return false;
		if (k > 2 && ((u[i] == 0xe0 && u[i + 1] < 0xa0) ||
		    (u[i] == 0xed && u[i + 1] > 0x9f) ||
		    (u[i] == 0xf0 && u[i + 1] < 0x90) ||
		    (u[i] == 0xf4 && u[i + 1] > 0x8f)))
			return false;
		i += k;
	}
	return true;
}

struct rec {
	struct log	 log;
	int		 calls, abort_at;
	bool		 role, terminal, errored, finished, empty;
};

static int
rec_call(struct rec *r, char tag, const void *s, size_t n)
{
	if (r->terminal || (!r->role && tag != 'r' && tag != 'e'))
		abort();
	log_add(&r->log, &tag, 1);
	log_add(&r->log, &n, sizeof(n));
	log_add(&r->log, s, n);
	r->calls++;
	return r->abort_at != 0 && r->calls == r->abort_at;
}

static int
f_role(void *ctx, const char *role)
{
	struct rec *r = ctx;

	if (r->role || strcmp(role, "assistant") != 0)
		abort();
	r->role = true;
	return rec_call(r, 'r', role, strlen(role));
}

static int
f_delta(void *ctx, char tag, const char *s, size_t n)
{
	if (n == 0 || !valid_utf8((const unsigned char *)s, n))
		abort();
	return rec_call(ctx, tag, s, n);
}

static int
f_text(void *ctx, const char *s, size_t n)
{
	return f_delta(ctx, 't', s, n);
}

static int
f_reasoning(void *ctx, const char *s, size_t n)
{
	return f_delta(ctx, 'k', s, n);
}

static int
f_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct rec *r = ctx;
	int rc;

	if (f != CHAT_FINISH_STOP || u != NULL)
		abort();
	rc = rec_call(r, 'f', "", 0);
	r->terminal = r->finished = true;
	return rc;
}

static int
f_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct rec *r = ctx;
	int rc;

	if ((status != 401 && status != 502) || type == NULL ||
	    code == NULL || *code == '\0' || strchr(msg, '\n') != NULL ||
	    !valid_utf8((const unsigned char *)msg, strlen(msg)))
		abort();
	rc = rec_call(r, 'e', msg, strlen(msg));
	r->terminal = r->errored = true;
	r->empty = strcmp(code, "empty_answer") == 0;
	return rc;
}

/* Feeds the lines (each twice with twice); the last result. */
static enum mm_poll_err
run(const uint8_t *data, size_t size, bool final_only, const char *after,
    int abort_at, bool twice, struct rec *r)
{
	struct chat_sink k = { r, f_role, f_text, f_reasoning, NULL, f_finish,
	    f_error, NULL, NULL };
	struct mm_poll_opts o = { final_only, after };
	struct mm_poll *p;
	enum mm_poll_err e = MMP_OK;
	const char *s = (const char *)data, *end = s + size, *nl;
	int rep;

	memset(r, 0, sizeof(*r));
	r->abort_at = abort_at;
	if (mm_poll_new(&p, &k, &o) != MMP_OK)
		abort();
	while (s < end && e == MMP_OK && !mm_poll_done(p)) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		for (rep = 0; rep < (twice ? 2 : 1); rep++) {
			e = mm_poll_feed(p, s, (size_t)(nl - s));
			if (e != MMP_OK || mm_poll_done(p))
				break;
			if (rep == 1 && mm_poll_changed(p))
				abort();
		}
		s = nl + 1;
	}
	if ((e == MMP_UPSTREAM) != r->errored)
		abort();
	if ((r->finished || r->errored || e == MMP_ABORT) && !mm_poll_done(p))
		abort();
	mm_poll_free(p);
	return e;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec a, b;
	enum mm_poll_err ea, eb;
	uint32_t h = 2166136261u;
	size_t i;
	bool final_only;
	const char *after;
	int abort_at;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	final_only = (h & 1) != 0;
	abort_at = (h >> 1) % 4 == 0 ? (int)((h >> 3) % 8) + 1 : 0;
	/* a continued chat's answer comes after AI message 7 */
	after = (h >> 6) % 3 == 0 ? "7" : NULL;
	ea = run(data, size, final_only, after, abort_at, false, &a);
	eb = run(data, size, final_only, after, abort_at, true, &b);
	if (!a.empty && !b.empty && (ea != eb || a.log.len != b.log.len ||
	    (a.log.len > 0 && memcmp(a.log.p, b.log.p, a.log.len) != 0)))
		abort();
	free(a.log.p);
	free(b.log.p);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "minimax"
#include "fuzz/replay.h"
#endif
