/*
 * fuzz_zai_stream.c - libFuzzer driver for upstream/zai/stream.c (and
 * text.c) behind the real SSE re-framer (upstream/sse.c).
 *
 * The input is the upstream body.  The options (an expired login, a sink
 * that stops at its k-th call) and the chunking come from a hash of the
 * input, so plain .sse files are good seeds.  What must hold:
 *  - the sink contract on every call: role() once, first (error() may
 *    come alone); nothing after finish() or error(); text and reasoning
 *    non-empty valid UTF-8; error() with a status the mapping can give,
 *    a short code and a non-empty, bounded, one-line UTF-8 message;
 *  - the results: ZS_UPSTREAM exactly when error() was called (unless
 *    that call was the stopping one), ZS_OK at the end only after
 *    finish(), ZS_ABORT only at the stopping call;
 *    zai_stream_done() after any end, zai_stream_started() iff role();
 *    errors sticky;
 *  - chunking is invisible: the body fed whole and in pieces of 1..16
 *    bytes gives the same sink calls and result;
 *  - the sanitizers: no crash, no leak, no undefined behaviour.
 *
 *   make fuzz-zai && mkdir -p /tmp/zs && \
 *       ./fuzz/fuzz_zai_stream -max_total_time=60 /tmp/zs fuzz/corpus/zai
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/zai (make check).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/sink_oracle.h"
#include "upstream/sse.h"
#include "upstream/zai/stream.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Every sink call as bytes: tag, length, payload. */
struct trace {
	unsigned char	*p;
	size_t		 len, cap;
};

static void
trace_add(struct trace *t, char tag, const void *s, size_t n)
{
	size_t need = t->len + 1 + sizeof(n) + n;

	if (need > t->cap) {
		t->cap = need * 2;
		if ((t->p = realloc(t->p, t->cap)) == NULL)
			abort();
	}
	t->p[t->len++] = (unsigned char)tag;
	memcpy(t->p + t->len, &n, sizeof(n));
	t->len += sizeof(n);
	if (n > 0)
		memcpy(t->p + t->len, s, n);
	t->len += n;
}

struct probe {
	struct trace	 t;
	int		 calls, stop_at;
	bool		 role, ended, errored, finished;
};

static int
note(struct probe *p, char tag, const void *s, size_t n)
{
	if (p->ended || (!p->role && tag != 'r' && tag != 'e'))
		abort();
	trace_add(&p->t, tag, s, n);
	return ++p->calls == p->stop_at;
}

static int
p_role(void *ctx, const char *role)
{
	struct probe *p = ctx;

	if (p->role || strcmp(role, "assistant") != 0)
		abort();
	p->role = true;
	return note(p, 'r', role, strlen(role));
}

static int
p_delta(struct probe *p, char tag, const char *s, size_t n)
{
	if (n == 0 || !oracle_utf8(s, n))
		abort();
	return note(p, tag, s, n);
}

static int
p_text(void *ctx, const char *s, size_t n)
{
	return p_delta(ctx, 't', s, n);
}

static int
p_think(void *ctx, const char *s, size_t n)
{
	return p_delta(ctx, 'k', s, n);
}

static int
p_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct probe *p = ctx;
	long v[3] = { 0, 0, 0 };
	int rc;

	if (f != CHAT_FINISH_STOP)
		abort();
	if (u != NULL) {
		v[0] = u->prompt_tokens;
		v[1] = u->completion_tokens;
		v[2] = u->total_tokens;
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[0] > ZS_TOKENS_MAX ||
		    v[1] > ZS_TOKENS_MAX || v[2] > ZS_TOKENS_MAX ||
		    v[0] + v[1] + v[2] == 0)
			abort();
	}
	rc = note(p, 'f', v, sizeof(v));
	p->ended = p->finished = true;
	return rc;
}

static int
p_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct probe *p = ctx;
	size_t n, i;
	int rc;

	if ((status != 400 && status != 401 && status != 403 &&
	    status != 429 && status != 502) || type == NULL || code == NULL ||
	    *code == '\0' || strlen(code) > ZS_CODE_MAX || msg == NULL)
		abort();
	n = strlen(msg);
	if (n == 0 || n > ZS_ERRMSG_MAX || !oracle_utf8(msg, n))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20)
			abort();
	rc = note(p, 'e', msg, n);
	trace_add(&p->t, 'c', code, strlen(code));
	p->ended = p->errored = true;
	return rc;
}

struct run {
	struct probe		 p;
	struct zai_stream	*st;
	enum zai_stream_err	 rc;
};

static int
on_event(void *ctx, const char *name, const char *data, size_t len)
{
	struct run *u = ctx;

	u->rc = zai_stream_event(u->st, name, data, len);
	return u->rc != ZS_OK;
}

static void
run(const uint8_t *data, size_t size, const struct zai_stream_opts *o,
    int stop_at, uint32_t chunks, struct run *u)
{
	struct chat_sink k = { .ctx = &u->p, .role = p_role, .text = p_text,
	    .reasoning = p_think, .finish = p_finish, .error = p_error };
	struct sse_parser sse;
	size_t at = 0, step;

	memset(u, 0, sizeof(*u));
	u->p.stop_at = stop_at;
	if (zai_stream_new(&u->st, &k, o) != ZS_OK)
		abort();
	sse_init(&sse, on_event, u, 0);
	while (at < size) {
		step = oracle_step(&chunks, size - at);
		if (sse_feed(&sse, data + at, step) != SSE_OK)
			break;
		at += step;
	}
	if (u->rc == ZS_OK)
		(void)sse_finish(&sse, NULL);
	if (u->rc == ZS_OK && !zai_stream_done(u->st))
		u->rc = zai_stream_end(u->st);
	else if (u->rc != ZS_OK && (zai_stream_end(u->st) != u->rc ||
	    zai_stream_event(u->st, NULL, "{}", 2) != u->rc))
		abort();	/* errors are sticky */
	sse_free(&sse);

	/* error() stopped by the sink is ZS_ABORT, else ZS_UPSTREAM */
	if ((u->rc == ZS_UPSTREAM && !u->p.errored) || (u->p.errored &&
	    u->rc != ZS_UPSTREAM && u->rc != ZS_ABORT))
		abort();
	if (u->rc == ZS_OK && !u->p.finished)
		abort();
	if (u->rc == ZS_ABORT && u->p.calls != stop_at)
		abort();
	if (zai_stream_done(u->st) != (u->p.ended || u->rc == ZS_ABORT))
		abort();
	if (zai_stream_started(u->st) != u->p.role)
		abort();
	zai_stream_free(u->st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zai_stream_opts o;
	struct run a, b;
	uint32_t h = oracle_hash(data, size);
	int stop_at;

	if (size > 1 << 20)
		return 0;
	memset(&o, 0, sizeof(o));
	o.expired = (int)(h & 1);
	stop_at = (h >> 3) % 8 == 0 ? (int)((h >> 6) % 16) + 1 : 0;
	run(data, size, &o, stop_at, 0, &a);
	run(data, size, &o, stop_at, h | 1, &b);
	if (a.rc != b.rc || a.p.t.len != b.p.t.len || (a.p.t.len > 0 &&
	    memcmp(a.p.t.p, b.p.t.p, a.p.t.len) != 0)) {
		fprintf(stderr, "whole and chunked runs differ\n");
		abort();
	}
	free(a.p.t.p);
	free(b.p.t.p);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "zai"
#include "fuzz/replay.h"
#endif
