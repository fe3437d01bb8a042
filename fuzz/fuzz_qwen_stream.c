/*
 * fuzz_qwen_stream.c - libFuzzer driver for upstream/qwen/stream.c and
 * snap.c behind the real SSE re-framer (upstream/sse.c).
 *
 * The input is the upstream body.  A sink that stops at call k is chosen
 * by a hash of the input, so plain .sse files are good seeds.  Oracles:
 *  - the sink contract, on every callback: role() once and before any
 *    text, reasoning or finish(); no reasoning once text has come;
 *    nothing after finish()/error(); text and reasoning never empty and
 *    valid UTF-8; error() with 401, 429 or 502, a type, a code of at most
 *    QWS_CODE_MAX bytes and a one-line, bounded, valid UTF-8 message;
 *  - the result: QWS_UPSTREAM exactly when error() was called; QWS_OK at
 *    the end means finish() was called; QWS_EMPTY means no call at all;
 *    done() after any terminal call or abort; started() after role();
 *  - chunking is invisible: the body fed whole and fed in pieces chosen
 *    by the hash give the same sink log and result;
 *  - the sanitizers (no crash, no leak).
 *
 *   make fuzz-qwen && mkdir -p /tmp/qws && \
 *       ./fuzz/fuzz_qwen_stream -max_total_time=60 /tmp/qws fuzz/corpus/qwen
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/qwen (make check).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/sink_oracle.h"
#include "upstream/qwen/stream.h"
#include "upstream/sse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct log {
	char	*p;
	size_t	 len, cap;
};

static void
log_add(struct log *b, const void *s, size_t n)
{
	size_t	 ncap;

	if (b->len + n + 1 > b->cap) {
		for (ncap = b->cap ? b->cap : 256; ncap < b->len + n + 1; )
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

/* ------------------------------------------------------------ checking sink */

struct rec {
	struct log	 log;
	int		 calls, abort_at;
	bool		 role, text, terminal, errored, finished;
};

static int
note(struct rec *r, char tag, const void *s, size_t n)
{
	if (r->terminal || (!r->role && tag != 'r' && tag != 'e'))
		abort();
	log_add(&r->log, &tag, 1);
	log_add(&r->log, &n, sizeof(n));
	log_add(&r->log, s, n);
	return ++r->calls == r->abort_at;
}

static int
s_role(void *ctx, const char *role)
{
	struct rec	*r = ctx;

	if (r->role || strcmp(role, "assistant") != 0)
		abort();
	r->role = true;
	return note(r, 'r', role, strlen(role));
}

static int
s_text(void *ctx, const char *s, size_t n)
{
	struct rec	*r = ctx;

	if (n == 0 || !oracle_utf8(s, n))
		abort();
	r->text = true;
	return note(r, 't', s, n);
}

static int
s_reasoning(void *ctx, const char *s, size_t n)
{
	struct rec	*r = ctx;

	if (n == 0 || !oracle_utf8(s, n) || r->text)
		abort();
	return note(r, 'k', s, n);
}

static int
s_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct rec	*r = ctx;
	int		 rc;

	if (f != CHAT_FINISH_STOP || u != NULL)
		abort();
	rc = note(r, 'f', "", 0);
	r->terminal = r->finished = true;
	return rc;
}

static int
s_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct rec	*r = ctx;
	size_t		 n, i;
	int		 rc;

	if ((status != 401 && status != 429 && status != 502) ||
	    type == NULL || *type == '\0' || code == NULL || *code == '\0' ||
	    strlen(code) > QWS_CODE_MAX || msg == NULL)
		abort();
	n = strlen(msg);
	if (n == 0 || n > QWS_ERRMSG_MAX || !oracle_utf8(msg, n))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20)
			abort();
	rc = note(r, 'e', msg, n);
	log_add(&r->log, code, strlen(code));
	r->terminal = r->errored = true;
	return rc;
}

/* ------------------------------------------------------------ runs */

struct run {
	struct rec		 rec;
	struct qw_stream	*st;
	enum qw_stream_err	 rc;
};

static int
on_event(void *ctx, const char *name, const char *data, size_t len)
{
	struct run	*u = ctx;

	u->rc = qw_stream_event(u->st, name, data, len);
	return u->rc != QWS_OK;
}

static void
run(const uint8_t *data, size_t size, int abort_at, uint32_t chunks,
    struct run *u)
{
	struct chat_sink	 sink = {
		.ctx = &u->rec, .role = s_role, .text = s_text,
		.reasoning = s_reasoning, .finish = s_finish,
		.error = s_error,
	};
	struct sse_parser	 p;
	size_t			 at = 0, step;

	memset(u, 0, sizeof(*u));
	u->rec.abort_at = abort_at;
	if (qw_stream_new(&u->st, &sink) != QWS_OK)
		abort();
	sse_init(&p, on_event, u, QWS_MAX_EVENT);
	while (at < size && !qw_stream_done(u->st)) {
		step = oracle_step(&chunks, size - at);
		if (sse_feed(&p, data + at, step) != SSE_OK)
			break;
		at += step;
	}
	if (u->rc == QWS_OK && !qw_stream_done(u->st))
		(void)sse_finish(&p, NULL);
	if (u->rc == QWS_OK)
		u->rc = qw_stream_end(u->st);
	else if (qw_stream_end(u->st) != u->rc ||
	    qw_stream_event(u->st, NULL, "{}", 2) != u->rc)
		abort();	/* errors are sticky */
	sse_free(&p);

	if ((u->rc == QWS_UPSTREAM) != u->rec.errored)
		abort();
	if (u->rc == QWS_OK && !u->rec.finished)
		abort();
	if (u->rc == QWS_EMPTY && u->rec.calls != 0)
		abort();
	if (u->rc == QWS_ABORT && u->rec.calls != abort_at)
		abort();
	if (qw_stream_done(u->st) != (u->rec.terminal || u->rc == QWS_ABORT))
		abort();
	if (qw_stream_started(u->st) != u->rec.role)
		abort();
	qw_stream_free(u->st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	 a, b;
	uint32_t	 h = oracle_hash(data, size);
	int		 abort_at;

	if (size > 1 << 20)
		return 0;
	abort_at = (h >> 5) % 8 == 0 ? (int)((h >> 8) % 16) + 1 : 0;
	run(data, size, abort_at, 0, &a);
	run(data, size, abort_at, h | 1, &b);
	if (a.rc != b.rc || a.rec.log.len != b.rec.log.len ||
	    (a.rec.log.len > 0 &&
	    memcmp(a.rec.log.p, b.rec.log.p, a.rec.log.len) != 0)) {
		fprintf(stderr, "whole and chunked runs differ\n");
		abort();
	}
	free(a.rec.log.p);
	free(b.rec.log.p);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "qwen"
#include "fuzz/replay.h"
#endif
