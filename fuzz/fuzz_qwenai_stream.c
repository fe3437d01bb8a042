/*
 * fuzz_qwenai_stream.c - libFuzzer driver for upstream/qwenai/stream.c
 * behind the real SSE re-framer (upstream/sse.c).
 *
 * The input is the upstream body.  The options (the expired flag) and a
 * sink that stops at call k come from a hash of the input, so plain .sse
 * files are good seeds.  Oracles:
 *  - the sink contract on every callback: role() once and before any
 *    text, reasoning or finish(); nothing after finish()/error(); text
 *    and reasoning never empty and valid UTF-8; error() with 401, 403,
 *    429 or 502, a code and a one-line, bounded, valid UTF-8 message;
 *  - the result: QAS_UPSTREAM exactly when error() was called; QAS_OK at
 *    the end means finish() was called; done() after any terminal call
 *    or abort; the response id at most QAS_ID_MAX bytes;
 *  - chunking is invisible: the body whole and in pieces chosen by the
 *    hash give the same sink log and result;
 *  - the sanitizers (no crash, no leak).
 *
 *   make fuzz-qwenai && mkdir -p /tmp/qas && \
 *       ./fuzz/fuzz_qwenai_stream -max_total_time=60 /tmp/qas fuzz/corpus/qwenai
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/qwenai (make check).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/utf8.h"
#include "upstream/qwenai/stream.h"
#include "upstream/sse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct tape {
	char	*p;
	size_t	 len;
};

static void
tape_add(struct tape *t, char tag, const void *s, size_t n)
{
	if ((t->p = realloc(t->p, t->len + n + 1 + sizeof(n))) == NULL)
		abort();
	t->p[t->len++] = tag;
	memcpy(t->p + t->len, &n, sizeof(n));
	t->len += sizeof(n);
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

static bool
utf8(const char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += k)
		if ((k = utf8_seq_len((const unsigned char *)s + i, n - i)) == 0)
			return false;
	return true;
}

struct sink_state {
	struct tape	 tape;
	int		 calls, stop_at;
	bool		 role, ended, errored, finished;
};

static int
note(struct sink_state *k, char tag, const void *s, size_t n)
{
	if (k->ended || (!k->role && tag != 'r' && tag != 'e'))
		abort();
	tape_add(&k->tape, tag, s, n);
	return ++k->calls == k->stop_at;
}

static int
k_role(void *u, const char *r)
{
	struct sink_state *k = u;

	if (k->role || strcmp(r, "assistant") != 0)
		abort();
	k->role = true;
	return note(k, 'r', r, strlen(r));
}

static int
k_piece(void *u, const char *s, size_t n)
{
	if (n == 0 || !utf8(s, n))
		abort();
	return note(u, 't', s, n);
}

static int
k_reasoning(void *u, const char *s, size_t n)
{
	if (n == 0 || !utf8(s, n))
		abort();
	return note(u, 'k', s, n);
}

static int
k_finish(void *u, enum chat_finish f, const struct chat_usage *us)
{
	struct sink_state *k = u;
	long v[4] = { (long)f, 0, 0, 0 };
	int rc;

	if (us != NULL) {
		if (us->prompt_tokens < 0 || us->completion_tokens < 0 ||
		    us->total_tokens < 0)
			abort();
		v[1] = us->prompt_tokens;
		v[2] = us->completion_tokens;
		v[3] = us->total_tokens;
	}
	rc = note(k, 'f', v, sizeof(v));
	k->ended = k->finished = true;
	return rc;
}

static int
k_error(void *u, int status, const char *type, const char *code,
    const char *msg)
{
	struct sink_state *k = u;
	size_t n = strlen(msg), i;
	int rc;

	if ((status != 401 && status != 403 && status != 429 &&
	    status != 502) || type == NULL || code == NULL || *code == '\0' ||
	    n == 0 || n > QAS_ERRMSG_MAX + 1 + QAS_HINT_MAX || !utf8(msg, n))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20)
			abort();
	rc = note(k, 'e', msg, n);
	tape_add(&k->tape, 'c', code, strlen(code));
	k->ended = k->errored = true;
	return rc;
}

struct pass {
	struct sink_state	 k;
	struct qa_stream	*st;
	enum qa_stream_err	 rc;
};

static int
on_event(void *u, const char *name, const char *data, size_t len)
{
	struct pass *p = u;

	p->rc = qa_stream_event(p->st, name, data, len);
	return p->rc != QAS_OK;
}

static void
pass(const uint8_t *data, size_t size, int expired, int stop_at,
    uint32_t chunks, struct pass *p)
{
	struct chat_sink sink = { .ctx = &p->k, .role = k_role,
	    .text = k_piece, .reasoning = k_reasoning, .finish = k_finish,
	    .error = k_error };
	struct qa_stream_opts o = { "Hint.", expired };
	struct sse_parser sp;
	size_t at = 0, n;

	memset(p, 0, sizeof(*p));
	p->k.stop_at = stop_at;
	if (qa_stream_new(&p->st, &sink, &o) != QAS_OK)
		abort();
	sse_init(&sp, on_event, p, 0);
	while (at < size) {
		n = chunks == 0 ? size - at : 1 + (chunks & 15);
		chunks = chunks * 1103515245u + 12345u;
		if (n > size - at)
			n = size - at;
		if (sse_feed(&sp, data + at, n) != SSE_OK)
			break;
		at += n;
	}
	if (p->rc == QAS_OK)
		(void)sse_finish(&sp, NULL);
	if (p->rc == QAS_OK)
		p->rc = qa_stream_end(p->st);
	else if (qa_stream_end(p->st) != p->rc ||
	    qa_stream_event(p->st, NULL, "{}", 2) != p->rc)
		abort();	/* sticky */
	sse_free(&sp);
	if ((p->rc == QAS_UPSTREAM) != p->k.errored ||
	    (p->rc == QAS_OK && !p->k.finished) ||
	    (p->rc == QAS_ABORT && p->k.calls != stop_at) ||
	    qa_stream_done(p->st) != (p->k.ended || p->rc == QAS_ABORT) ||
	    qa_stream_started(p->st) != p->k.role ||
	    strlen(qa_stream_response_id(p->st)) > QAS_ID_MAX)
		abort();
	qa_stream_free(p->st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pass a, b;
	uint32_t h = 2166136261u;
	size_t i;
	int stop_at;

	if (size > (1u << 20))
		return 0;
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	stop_at = (h >> 5) % 8 == 0 ? (int)((h >> 8) % 16) + 1 : 0;
	pass(data, size, (int)(h & 1), stop_at, 0, &a);
	pass(data, size, (int)(h & 1), stop_at, h | 1, &b);
	if (a.rc != b.rc || a.k.tape.len != b.k.tape.len ||
	    (a.k.tape.len > 0 && memcmp(a.k.tape.p, b.k.tape.p,
	    a.k.tape.len) != 0)) {
		fprintf(stderr, "whole and chunked runs differ\n");
		abort();
	}
	free(a.k.tape.p);
	free(b.k.tape.p);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "qwenai"
#include "fuzz/replay.h"
#endif
