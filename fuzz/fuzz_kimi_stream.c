/*
 * fuzz_kimi_stream.c - libFuzzer driver for upstream/kimi/stream.c and
 * the Connect envelope reader under it (upstream/kimi/connect.c).
 *
 * The input is the upstream response body.  A sink that stops at call k
 * is chosen from a hash of the input, so plain bodies are good seeds.
 * Oracles:
 *  - the sink contract on every callback: role() once and before
 *    anything else; nothing after finish(); text and reasoning never
 *    empty and valid UTF-8; error() never (the decoder records errors);
 *  - the result: KS_OK means finish() was called; KS_UPSTREAM means
 *    ks_error() has a status in 400..599, a code of [A-Za-z0-9_.-] and a
 *    non-empty one-line message of valid UTF-8; ks_done() after finish,
 *    a recorded error or an abort; the ids are of the promised shape;
 *  - chunking is invisible: the body whole and in pieces chosen by the
 *    hash (cutting headers too) give the same sink log, result and
 *    error;
 *  - the sanitizers (no crash, no leak).
 *
 *   make fuzz-kimi && mkdir -p /tmp/ks && \
 *       ./fuzz/fuzz_kimi_stream -max_total_time=60 /tmp/ks fuzz/corpus/kimi
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/kimi (make check):
 * the bodies of tests/unit/data/kimi as bytes, and cases found by
 * fuzzing.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/kimi/stream.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct rec {
	struct buf	 log;		/* every call, to compare runs */
	int		 calls, abort_at, role, finished;
};

static int
utf8_ok(const char *s, size_t n)
{
	struct buf b;
	int ok;

	buf_init(&b, 0);
	if (buf_add_utf8(&b, s, n, SIZE_MAX, 0) < 0)
		abort();
	ok = b.len == n && (n == 0 || memcmp(b.p, s, n) == 0);
	buf_free(&b);
	return ok;
}

static int
rec_call(struct rec *r, char tag, const char *s, size_t n)
{
	if (r->finished || (!r->role && tag != 'r'))
		abort();
	buf_add(&r->log, &tag, 1);
	buf_add(&r->log, &n, sizeof(n));
	buf_add(&r->log, s, n);
	return ++r->calls == r->abort_at;
}

static int
f_role(void *ctx, const char *role)
{
	struct rec *r = ctx;

	if (r->role || strcmp(role, "assistant") != 0)
		abort();
	r->role = 1;
	return rec_call(r, 'r', role, strlen(role));
}

static int
f_text(void *ctx, const char *s, size_t n)
{
	if (n == 0 || !utf8_ok(s, n))
		abort();
	return rec_call(ctx, 't', s, n);
}

static int
f_reasoning(void *ctx, const char *s, size_t n)
{
	if (n == 0 || !utf8_ok(s, n))
		abort();
	return rec_call(ctx, 'k', s, n);
}

static int
f_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct rec *r = ctx;
	int rc;

	if (f != CHAT_FINISH_STOP || u != NULL)
		abort();
	rc = rec_call(r, 'f', "", 0);
	r->finished = 1;
	return rc;
}

static int
f_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	(void)ctx; (void)status; (void)type; (void)code; (void)msg;
	abort();
}

static int
id_ok(const char *id)
{
	size_t n;

	if (id == NULL)
		return 1;
	n = strlen(id);
	return n > 0 && n <= KS_ID_MAX && strspn(id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") == n;
}

static void
check_error(const struct ks_error *e)
{
	size_t i, n;

	if (e == NULL || e->status < 400 || e->status > 599 ||
	    strspn(e->code, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(e->code))
		abort();
	n = strlen(e->message);
	if (n == 0 || n > KS_ERRMSG_MAX || !utf8_ok(e->message, n))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)e->message[i] < 0x20)
			abort();
}

struct run {
	struct rec		 rec;
	enum ks_err		 rc;
	struct ks_error		 err;
};

static void
run(const uint8_t *data, size_t size, int abort_at, uint32_t chunks,
    struct run *u)
{
	struct chat_sink sink = {
		.ctx = &u->rec, .role = f_role, .text = f_text,
		.reasoning = f_reasoning, .finish = f_finish, .error = f_error,
	};
	struct kimi_stream *st;
	size_t at = 0, step;

	memset(u, 0, sizeof(*u));
	buf_init(&u->rec.log, 0);
	u->rec.abort_at = abort_at;
	if (ks_new(&st, &sink) != KS_OK)
		abort();
	while (at < size && u->rc == KS_OK) {
		/* chunks == 0: one piece; else sizes 1..8 from the hash */
		step = chunks == 0 ? size - at : 1 + (chunks & 7);
		chunks = chunks * 1103515245u + 12345u;
		if (step > size - at)
			step = size - at;
		u->rc = ks_feed(st, data + at, step);
		at += step;
	}
	if (u->rc == KS_OK)
		u->rc = ks_end(st);
	if (ks_end(st) != u->rc)
		abort();		/* sticky */
	/* finished: answered, or the sink stopped it at finish() itself */
	if ((u->rc == KS_OK) != (u->rec.finished && u->rc != KS_ABORT))
		abort();
	if (u->rc == KS_UPSTREAM) {
		check_error(ks_error(st));
		u->err = *ks_error(st);
	} else if (ks_error(st) != NULL)
		abort();
	if (u->rc == KS_ABORT && u->rec.calls != abort_at)
		abort();
	if (ks_done(st) != (u->rc == KS_OK || u->rc == KS_UPSTREAM ||
	    u->rc == KS_ABORT))
		abort();
	if (ks_started(st) != u->rec.role)
		abort();
	if (!id_ok(ks_chat_id(st)) || !id_ok(ks_message_id(st)))
		abort();
	ks_free(st);
}

static uint32_t
fnv(const uint8_t *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *s++) * 16777619u;
	return h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a, b;
	uint32_t h = fnv(data, size);
	int abort_at;

	if (size > 1 << 20)
		return 0;
	abort_at = h % 8 == 0 ? (int)((h >> 8) % 16) + 1 : 0;
	run(data, size, abort_at, 0, &a);
	run(data, size, abort_at, h | 1, &b);
	if (a.rc != b.rc || a.rec.log.len != b.rec.log.len ||
	    (a.rec.log.len > 0 &&
	    memcmp(a.rec.log.p, b.rec.log.p, a.rec.log.len) != 0) ||
	    a.err.status != b.err.status || a.err.retry_after !=
	    b.err.retry_after || a.err.end_stream != b.err.end_stream ||
	    strcmp(a.err.code, b.err.code) != 0 ||
	    strcmp(a.err.message, b.err.message) != 0) {
		fprintf(stderr, "whole and chunked runs differ\n");
		abort();
	}
	buf_free(&a.rec.log);
	buf_free(&b.rec.log);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "kimi"
#include "fuzz/replay.h"
#endif
