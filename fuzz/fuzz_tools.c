/*
 * fuzz_tools.c - libFuzzer driver for the tool-call scanner
 * (handlers/tools_parse.c) and the argument repair (tools_json.c).
 *
 * The input is an answer's text.  Options (names restricted to a list
 * or any, one call at most) come from a hash of the input.  Oracles:
 *  - every call's arguments parse, strictly, as a JSON object, and its
 *    name matches [A-Za-z0-9_-]{1,64} (and the list, when there is one);
 *  - chunking is invisible: fed whole, in pieces chosen by the hash and
 *    (small inputs) byte by byte, the text and calls are the same;
 *  - nothing is taken back: at every moment of a chunked run, what was
 *    given out is a prefix of the whole run's result, so a partial
 *    marker is never let out as text that a call then replaces;
 *  - text without '[' and '<' comes out untouched; the text given out is
 *    never longer than the input;
 *  - the sanitizers (no crash, no leak).
 *
 *   make fuzz-tools && mkdir -p /tmp/ft && \
 *       ./fuzz/fuzz_tools -max_total_time=60 /tmp/ft fuzz/corpus/tools
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/tools (make check).
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/tools.h"
#include "fuzz/sink_oracle.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct tools_fn fns[] = {
	{ "f", NULL, NULL }, { "g", NULL, NULL }, { "get_weather", NULL, NULL },
};

struct rec {
	struct buf	 log;		/* text and calls, in order */
	size_t		 text;		/* bytes of text */
	const struct buf *ref;		/* the whole run's log, or NULL */
	bool		 list;
	bool		 in_text;	/* the log ends in text */
};

static void
given(struct rec *r)
{
	if (r->ref != NULL && (r->log.len > r->ref->len ||
	    memcmp(r->log.p, r->ref->p, r->log.len) != 0)) {
		fprintf(stderr, "output taken back\n");
		abort();
	}
}

static int
r_text(void *ctx, const char *s, size_t n)
{
	struct rec *r = ctx;

	if (n == 0)
		abort();
	/* one tag per run of text: how it was cut does not show */
	if (!r->in_text)
		buf_add(&r->log, "T", 1);
	r->in_text = true;
	buf_add(&r->log, s, n);
	r->text += n;
	given(r);
	return 0;
}

static int
r_call(void *ctx, const char *name, size_t nl, const char *args, size_t al)
{
	struct rec *r = ctx;
	struct json_tokener *tok;
	struct json_object *o;
	size_t i;
	bool known = !r->list;

	if (nl == 0 || nl > TOOLS_NAME_MAX)
		abort();
	for (i = 0; i < nl; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-')
			abort();
	for (i = 0; r->list && i < sizeof(fns) / sizeof(fns[0]); i++)
		if (strlen(fns[i].name) == nl &&
		    memcmp(fns[i].name, name, nl) == 0)
			known = true;
	if (!known)
		abort();
	if ((tok = json_tokener_new()) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, args, (int)al);
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    json_tokener_get_parse_end(tok) != al) {
		fprintf(stderr, "bad arguments: %.*s\n", (int)al, args);
		abort();
	}
	json_object_put(o);
	json_tokener_free(tok);
	r->in_text = false;
	buf_add(&r->log, "C", 1);
	buf_add(&r->log, name, nl);
	buf_add(&r->log, "\n", 1);
	buf_add(&r->log, args, al);
	given(r);
	return 0;
}

static void
run(const uint8_t *data, size_t size, uint32_t h, uint32_t chunks,
    bool bytes, const struct buf *ref, struct rec *r)
{
	struct tools_parse_cb cb = { r, r_text, r_call };
	struct tools_parser p;
	size_t at = 0, step;

	memset(r, 0, sizeof(*r));
	buf_init(&r->log, 0);
	r->ref = ref;
	r->list = (h & 1) != 0;
	tools_parse_init(&p, &cb);
	if (r->list) {
		p.fns = fns;
		p.nfns = sizeof(fns) / sizeof(fns[0]);
	}
	if ((h & 6) == 0)
		p.max_calls = 1;
	while (at < size) {
		step = bytes ? 1 : oracle_step(&chunks, size - at);
		if (tools_parse_feed(&p, (const char *)data + at, step) !=
		    TOOLS_OK)
			abort();
		at += step;
	}
	if (tools_parse_end(&p) != TOOLS_OK)
		abort();
	tools_parse_free(&p);
	if (r->text > size)
		abort();
}

static void
same(const struct rec *a, const struct rec *b)
{
	if (a->log.len != b->log.len || (a->log.len > 0 &&
	    memcmp(a->log.p, b->log.p, a->log.len) != 0)) {
		fprintf(stderr, "whole and chunked runs differ\n");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec a, b, c;
	uint32_t h = oracle_hash(data, size);

	if (size > 1 << 20)
		return 0;
	run(data, size, h, 0, false, NULL, &a);
	run(data, size, h, h | 1, false, &a.log, &b);
	same(&a, &b);
	if (size <= 4096) {
		run(data, size, h, 0, true, &a.log, &c);
		same(&a, &c);
		buf_free(&c.log);
	}
	if (memchr(data, '[', size) == NULL && memchr(data, '<', size) ==
	    NULL) {
		if (size > 0 && (a.log.len != size + 1 ||
		    memcmp(a.log.p + 1, data, size) != 0))
			abort();
	}
	buf_free(&a.log);
	buf_free(&b.log);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "tools"
#include "fuzz/replay.h"
#endif
