/*
 * fuzz_glm_stream.c - libFuzzer driver for upstream/glm/stream.c and
 * render.c behind the real SSE re-framer (upstream/sse.c).
 *
 * The input is the upstream body; a hash of it picks the chunk sizes
 * and a sink that stops at call k, so plain .sse files are good seeds.
 * Oracles:
 *  - the sink contract on every call: role() once and first (error()
 *    may come alone), nothing after finish() or error(); text and
 *    reasoning never empty, always valid UTF-8; error() with 401, 429 or
 *    502, a short code and a one-line, bounded, valid UTF-8 message;
 *  - the outcome: GLMS_UPSTREAM exactly when error() came, GLMS_OK at
 *    the end only when finish() came (or GLMS_ABORT when finish() was
 *    the stopping call), GLMS_ABORT at the stopping call;
 *    done() and started() agree with the calls;
 *  - chunking is invisible: the body whole and in pieces give the same
 *    calls;
 *  - a snapshot said twice says nothing new: every event fed twice gives
 *    the same calls (the cumulative protocol's repeats);
 *  - the sanitizers (no crash, no leak).
 *
 *   make fuzz-glm && mkdir -p /tmp/glms && \
 *       ./fuzz/fuzz_glm_stream -max_total_time=60 /tmp/glms fuzz/corpus/glm
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/glm (make check).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/buf.h"
#include "fcgi/utf8.h"
#include "upstream/glm/stream.h"
#include "upstream/sse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct calls {
	struct buf	 log;		/* every call, tagged, for comparing */
	int		 n, stop_at;
	bool		 role, over, errored, finished;
};

static bool
clean(const char *s, size_t n, bool line)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, k;

	for (i = 0; i < n; i += k) {
		if ((k = utf8_seq_len(u + i, n - i)) == 0)
			return false;
		if (line && k == 1 && u[i] < 0x20)
			return false;
	}
	return true;
}

/* Logs one call; 1 when the sink wants to stop here. */
static int
note(struct calls *c, char tag, const char *s, size_t n)
{
	if (c->over || (!c->role && tag != 'r' && tag != 'e'))
		abort();
	if (buf_add(&c->log, &tag, 1) < 0 || buf_add(&c->log, &n,
	    sizeof(n)) < 0 || buf_add(&c->log, s, n) < 0)
		abort();
	return ++c->n == c->stop_at;
}

static int
c_role(void *u, const char *role)
{
	struct calls	*c = u;

	if (c->role || strcmp(role, "assistant") != 0)
		abort();
	c->role = true;
	return note(c, 'r', role, strlen(role));
}

static int
c_text(void *u, const char *s, size_t n)
{
	if (n == 0 || !clean(s, n, false))
		abort();
	return note(u, 't', s, n);
}

static int
c_think(void *u, const char *s, size_t n)
{
	if (n == 0 || !clean(s, n, false))
		abort();
	return note(u, 'k', s, n);
}

static int
c_finish(void *u, enum chat_finish f, const struct chat_usage *us)
{
	struct calls	*c = u;
	int		 rc;

	if (f != CHAT_FINISH_STOP || us != NULL)
		abort();
	rc = note(c, 'f', "", 0);
	c->over = c->finished = true;
	return rc;
}

static int
c_error(void *u, int status, const char *type, const char *code,
    const char *msg)
{
	struct calls	*c = u;
	size_t		 n;
	int		 rc;

	if ((status != 401 && status != 429 && status != 502) ||
	    type == NULL || code == NULL || *code == '\0' ||
	    strlen(code) > 64 || msg == NULL)
		abort();
	n = strlen(msg);
	if (n == 0 || n > GLMS_ERRMSG_MAX || !clean(msg, n, true))
		abort();
	rc = note(c, 'e', msg, n);
	if (buf_adds(&c->log, code) < 0)
		abort();
	c->over = c->errored = true;
	return rc;
}

struct run {
	struct calls		 c;
	struct glm_stream	*st;
	enum glm_stream_err	 rc;
	bool			 twice;
};

static int
on_event(void *u, const char *name, const char *data, size_t len)
{
	struct run	*r = u;

	r->rc = glm_stream_event(r->st, name, data, len);
	if (r->twice && r->rc == GLMS_OK)
		r->rc = glm_stream_event(r->st, name, data, len);
	return r->rc != GLMS_OK;
}

static void
run(const uint8_t *data, size_t size, int stop_at, uint32_t chunks,
    bool twice, struct run *r)
{
	struct chat_sink	 k = { .ctx = &r->c, .role = c_role,
				    .text = c_text, .reasoning = c_think,
				    .finish = c_finish, .error = c_error };
	struct sse_parser	 p;
	size_t			 at = 0, step;

	memset(r, 0, sizeof(*r));
	buf_init(&r->c.log, 0);
	r->c.stop_at = stop_at;
	r->twice = twice;
	if (glm_stream_new(&r->st, &k) != GLMS_OK)
		abort();
	sse_init(&p, on_event, r, 0);
	while (at < size) {
		/* chunks == 0: one piece; else 1..32 bytes from the hash */
		step = chunks == 0 ? size - at : 1 + (chunks >> 7 & 31);
		chunks = chunks * 1664525u + 1013904223u;
		if (step > size - at)
			step = size - at;
		if (sse_feed(&p, data + at, step) != SSE_OK)
			break;
		at += step;
	}
	if (r->rc == GLMS_OK)
		(void)sse_finish(&p, NULL);
	if (r->rc == GLMS_OK)
		r->rc = glm_stream_end(r->st);
	else if (glm_stream_end(r->st) != r->rc ||
	    glm_stream_event(r->st, NULL, "{}", 2) != r->rc)
		abort();	/* sticky */
	sse_free(&p);
	if ((r->rc == GLMS_UPSTREAM) != r->c.errored ||
	    (r->rc == GLMS_OK && !r->c.finished) ||
	    (r->c.finished && r->rc != GLMS_OK && r->rc != GLMS_ABORT) ||
	    (r->rc == GLMS_ABORT && r->c.n != stop_at) ||
	    glm_stream_done(r->st) != (r->c.over || r->rc == GLMS_ABORT) ||
	    glm_stream_started(r->st) != r->c.role)
		abort();
	glm_stream_free(r->st);
}

static void
same(const struct run *a, const struct run *b, const char *what)
{
	if (a->rc != b->rc || a->c.log.len != b->c.log.len ||
	    (a->c.log.len > 0 && memcmp(a->c.log.p, b->c.log.p,
	    a->c.log.len) != 0)) {
		fprintf(stderr, "%s: the calls differ\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	 whole, pieces, twice;
	uint32_t	 h = 2166136261u;
	size_t		 i;
	int		 stop_at;

	if (size > 1 << 20)
		return 0;
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	stop_at = h % 8 == 0 ? (int)(h >> 3 & 15) + 1 : 0;
	run(data, size, stop_at, 0, false, &whole);
	run(data, size, stop_at, h | 1, false, &pieces);
	run(data, size, stop_at, 0, true, &twice);
	same(&whole, &pieces, "whole and in pieces");
	same(&whole, &twice, "once and twice");
	buf_free(&whole.c.log);
	buf_free(&pieces.c.log);
	buf_free(&twice.c.log);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "glm"
#include "fuzz/replay.h"
#endif
