/*
 * fuzz_deepseek_stream.c - libFuzzer driver for upstream/deepseek/stream.c
 * behind the real SSE re-framer (upstream/sse.c).
 *
 * The input is the upstream body.  Options (thinking, search, a sink
 * that stops at call k) come from a hash of the input, so plain .sse
 * files are good seeds.  Oracles:
 *  - the sink contract, on every callback: role() once and before any
 *    text, reasoning or finish(); nothing after finish()/error(); text
 *    and reasoning never empty and valid UTF-8; error() with 429 or 502,
 *    a code and a one-line, bounded, valid UTF-8 message;
 *  - the result: DSS_UPSTREAM exactly when error() was called; DSS_OK
 *    at the end means finish() was called; done() after any terminal
 *    call or abort;
 *  - with opts.search, no "[citation:N]" survives in the answer;
 *  - chunking is invisible: the body fed whole and fed in pieces chosen
 *    by the hash give the same sink log and result;
 *  - the sanitizers (no crash, no leak).
 *
 *   make fuzz-deepseek && mkdir -p /tmp/dss && \
 *       ./fuzz/fuzz_deepseek_stream -max_total_time=60 /tmp/dss \
 *       fuzz/corpus/deepseek
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/deepseek (make
 * check).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/deepseek/stream.h"
#include "fuzz/sink_oracle.h"
#include "upstream/sse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
buf_add(struct buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t	 ncap = b->cap ? b->cap : 256;

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

/* ------------------------------------------------------------ checking sink */

struct rec {
	struct buf	 log;		/* every call, for the comparison */
	struct buf	 text;		/* the answer */
	int		 calls, abort_at;
	bool		 role, terminal, errored, finished;
};

static int
rec_call(struct rec *r, char tag, const void *s, size_t n)
{
	if (r->terminal || (!r->role && tag != 'r' && tag != 'e'))
		abort();
	buf_add(&r->log, &tag, 1);
	buf_add(&r->log, &n, sizeof(n));
	buf_add(&r->log, s, n);
	r->calls++;
	return r->abort_at != 0 && r->calls == r->abort_at;
}

static int
f_role(void *ctx, const char *role)
{
	struct rec	*r = ctx;

	if (r->role || strcmp(role, "assistant") != 0)
		abort();
	r->role = true;
	return rec_call(r, 'r', role, strlen(role));
}

static int
f_text(void *ctx, const char *s, size_t n)
{
	struct rec	*r = ctx;

	if (n == 0 || !oracle_utf8((const unsigned char *)s, n))
		abort();
	buf_add(&r->text, s, n);
	return rec_call(r, 't', s, n);
}

static int
f_reasoning(void *ctx, const char *s, size_t n)
{
	if (n == 0 || !oracle_utf8((const unsigned char *)s, n))
		abort();
	return rec_call(ctx, 'k', s, n);
}

static int
f_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct rec	*r = ctx;
	int		 rc;

	if (f != CHAT_FINISH_STOP || (u != NULL && (u->total_tokens < 0 ||
	    u->prompt_tokens != 0 || u->completion_tokens != 0)))
		abort();
	rc = rec_call(r, 'f', u != NULL ? &u->total_tokens : NULL,
	    u != NULL ? sizeof(u->total_tokens) : 0);
	r->terminal = r->finished = true;
	return rc;
}

static int
f_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct rec	*r = ctx;
	size_t		 n;
	int		 rc;

	if ((status != 429 && status != 502) || type == NULL ||
	    code == NULL || *code == '\0' || strlen(code) > 64 || msg == NULL)
		abort();
	n = strlen(msg);
	if (n == 0 || n > DSS_ERRMSG_MAX ||
	    !oracle_utf8((const unsigned char *)msg, n))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20)
			abort();
	rc = rec_call(r, 'e', msg, n);
	buf_add(&r->log, code, strlen(code));
	r->terminal = r->errored = true;
	return rc;
}

/* ------------------------------------------------------------ runs */

struct run {
	struct rec		 rec;
	struct ds_stream	*st;
	enum ds_stream_err	 rc;
};

static int
on_event(void *ctx, const char *name, const char *data, size_t len)
{
	struct run	*u = ctx;

	u->rc = ds_stream_event(u->st, name, data, len);
	return u->rc != DSS_OK;
}

/* A whole marker: "[citation:" 1..DSS_CITE_DIGITS digits "]". */
static bool
has_marker(const char *s, size_t n)
{
	for (size_t i = 0; i + 12 <= n; i++) {
		size_t	 d = 0;

		if (memcmp(s + i, "[citation:", 10) != 0)
			continue;
		while (i + 10 + d < n && s[i + 10 + d] >= '0' &&
		    s[i + 10 + d] <= '9')
			d++;
		if (d >= 1 && d <= DSS_CITE_DIGITS && i + 10 + d < n &&
		    s[i + 10 + d] == ']')
			return true;
	}
	return false;
}

static void
run(const uint8_t *data, size_t size, const struct ds_stream_opts *o,
    int abort_at, uint32_t chunks, struct run *u)
{
	struct chat_sink	 sink = {
		.ctx = &u->rec, .role = f_role, .text = f_text,
		.reasoning = f_reasoning, .finish = f_finish,
		.error = f_error,
	};
	struct sse_parser	 p;
	size_t			 at = 0, step;

	memset(u, 0, sizeof(*u));
	u->rec.abort_at = abort_at;
	if (ds_stream_new(&u->st, &sink, o) != DSS_OK)
		abort();
	sse_init(&p, on_event, u, 0);
	while (at < size) {
		step = oracle_step(&chunks, size - at);
		if (sse_feed(&p, data + at, step) != SSE_OK)
			break;
		at += step;
	}
	if (u->rc == DSS_OK)
		(void)sse_finish(&p, NULL);
	if (u->rc == DSS_OK)
		u->rc = ds_stream_end(u->st);
	else if (ds_stream_end(u->st) != u->rc ||
	    ds_stream_event(u->st, NULL, "{}", 2) != u->rc)
		abort();	/* errors are sticky */
	sse_free(&p);

	if ((u->rc == DSS_UPSTREAM) != u->rec.errored)
		abort();
	if (u->rc == DSS_OK && !u->rec.finished)
		abort();
	if (u->rc == DSS_ABORT && u->rec.calls != abort_at)
		abort();
	if (ds_stream_done(u->st) != (u->rec.terminal || u->rc == DSS_ABORT))
		abort();
	if (ds_stream_started(u->st) != u->rec.role)
		abort();
	if (o->search && has_marker(u->rec.text.p, u->rec.text.len))
		abort();
	ds_stream_free(u->st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_stream_opts	 o;
	struct run		 a, b;
	uint32_t		 h = oracle_hash(data, size);
	int			 abort_at;

	if (size > 1 << 20)
		return 0;
	memset(&o, 0, sizeof(o));
	o.thinking = (int)(h & 1);
	o.search = (int)((h >> 1) & 1) || (h & 0x1c) == 0;
	abort_at = (h >> 5) % 8 == 0 ? (int)((h >> 8) % 16) + 1 : 0;

	run(data, size, &o, abort_at, 0, &a);
	run(data, size, &o, abort_at, h | 1, &b);
	if (a.rc != b.rc || a.rec.log.len != b.rec.log.len ||
	    (a.rec.log.len > 0 &&
	    memcmp(a.rec.log.p, b.rec.log.p, a.rec.log.len) != 0)) {
		fprintf(stderr, "whole and chunked runs differ\n");
		abort();
	}
	free(a.rec.log.p);
	free(a.rec.text.p);
	free(b.rec.log.p);
	free(b.rec.text.p);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "deepseek"
#include "fuzz/replay.h"
#endif
