/*
 * Unit tests for upstream/zai/stream.c and text.c, the Z.ai stream
 * decoder.
 *
 * The fixtures in tests/unit/data/zai are written by hand from
 * providers.md §8.5; what each must give is in the table below.  Every
 * fixture goes through the real SSE re-framer (upstream/sse.c) whole,
 * cut in two at every byte, one byte at a time and with CRLF line
 * endings, and once per sink call with a sink that stops there.  Scripts
 * built in C cover the rest: markers and tags cut at every point, the
 * hold-back limits, the error mapping, limits and sticky errors.  The
 * recording sink checks the sink contract on every call.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/buf.h"
#include "fuzz/sink_oracle.h"
#include "tests/unit/unit.h"
#include "upstream/sse.h"
#include "upstream/zai/stream.h"
#include "upstream/zai/text.h"

#define OPEN	"\xe3\x80\x90"
#define CLOSE	"\xe3\x80\x91"

/* ------------------------------------------------------------ the sink */

struct log {
	char	 text[8192], think[8192], end[1024];
	size_t	 tlen, rlen;
	int	 calls, stop_at, role;
};

/* One more call: nothing after the end; role first (error may be alone). */
static int
called(struct log *l, char what)
{
	ck_assert_msg(l->end[0] == '\0', "a sink call after the end");
	if (what != 'r' && what != 'e')
		ck_assert_msg(l->role == 1, "text before role()");
	return ++l->calls == l->stop_at;
}

static int
s_role(void *ctx, const char *role)
{
	struct log *l = ctx;

	ck_assert_str_eq(role, "assistant");
	ck_assert_int_eq(l->role++, 0);
	ck_assert_int_eq(l->calls, 0);
	return called(l, 'r');
}

static int
piece(struct log *l, char *dst, size_t *len, const char *s, size_t n)
{
	ck_assert_msg(n > 0, "an empty delta");
	ck_assert_msg(oracle_utf8(s, n), "invalid UTF-8 to the sink");
	ck_assert_uint_lt(*len + n, 8192);
	memcpy(dst + *len, s, n);
	*len += n;
	dst[*len] = '\0';
	return called(l, 't');
}

static int
s_text(void *ctx, const char *s, size_t n)
{
	struct log *l = ctx;

	return piece(l, l->text, &l->tlen, s, n);
}

static int
s_think(void *ctx, const char *s, size_t n)
{
	struct log *l = ctx;

	return piece(l, l->think, &l->rlen, s, n);
}

static int
s_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct log *l = ctx;
	int rc = called(l, 'f');

	ck_assert_int_eq(f, CHAT_FINISH_STOP);
	if (u == NULL)
		snprintf(l->end, sizeof(l->end), "finish -");
	else
		snprintf(l->end, sizeof(l->end), "finish %ld %ld %ld",
		    u->prompt_tokens, u->completion_tokens, u->total_tokens);
	return rc;
}

static int
s_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct log *l = ctx;
	int rc = called(l, 'e');
	size_t i;

	ck_assert(oracle_utf8(msg, strlen(msg)));
	ck_assert_uint_le(strlen(msg), ZS_ERRMSG_MAX);
	for (i = 0; msg[i]; i++)
		ck_assert_msg((unsigned char)msg[i] >= 0x20, "a control in %s",
		    msg);
	snprintf(l->end, sizeof(l->end), "error %d %s %s %s", status, type,
	    code, msg);
	return rc;
}

struct run {
	struct log		 l;
	struct chat_sink	 k;
	struct zai_stream	*st;
	struct sse_parser	 sse;
	enum zai_stream_err	 rc;
};

static int
on_event(void *u, const char *name, const char *data, size_t len)
{
	struct run *r = u;

	r->rc = zai_stream_event(r->st, name, data, len);
	return r->rc != ZS_OK;
}

static void
begin(struct run *r, int stop_at, int expired)
{
	struct zai_stream_opts o = { expired };

	memset(r, 0, sizeof(*r));
	r->l.stop_at = stop_at;
	r->k = (struct chat_sink){ .ctx = &r->l, .role = s_role,
	    .text = s_text, .reasoning = s_think, .finish = s_finish,
	    .error = s_error };
	ck_assert_int_eq(zai_stream_new(&r->st, &r->k, &o), ZS_OK);
	sse_init(&r->sse, on_event, r, 0);
}

/* The bytes in pieces cut at the given offsets (ascending), then EOF. */
static void
feed_cut(struct run *r, const char *p, size_t n, const size_t *cuts,
    size_t ncuts)
{
	size_t at = 0, i, to;

	for (i = 0; i <= ncuts && r->rc == ZS_OK; i++) {
		to = i < ncuts ? cuts[i] : n;
		if (sse_feed(&r->sse, p + at, to - at) != SSE_OK)
			break;
		at = to;
	}
	if (r->rc == ZS_OK)
		sse_finish(&r->sse, NULL);
	if (r->rc == ZS_OK && !zai_stream_done(r->st))
		r->rc = zai_stream_end(r->st);
}

static void
finish_run(struct run *r)
{
	sse_free(&r->sse);
	zai_stream_free(r->st);
}

/* ------------------------------------------------------------ fixtures */

static const struct expect {
	const char		*file;
	const char		*text, *think, *end;
	enum zai_stream_err	 rc;
	int			 upstream_end;
} fixtures[] = {
	{ "basic.sse", "Hello, world!", "", "finish 10 5 15", ZS_OK, 1 },
	{ "think.sse", "Done thinking.", "Let me think < 3 times.",
	  "finish 7 9 16", ZS_OK, 1 },
	{ "think_details.sse", "Answer <details> stays.",
	  "Step one, step <b>two</b>.", "finish -", ZS_OK, 1 },
	{ "search.sse", "Z.ai is a chat service (" OPEN "plain" CLOSE
	  " stays).", "", "finish 10 5 15", ZS_OK, 1 },
	{ "error_data.sse", "Half an answer" OPEN "turn0", "",
	  "error 502 upstream_error upstream_error Z.ai: Upstream model error",
	  ZS_UPSTREAM, 0 },
	{ "error_top.sse", "Some text", "",
	  "error 502 upstream_error upstream_error Z.ai: Internal error",
	  ZS_UPSTREAM, 0 },
	{ "error_signature.sse", "", "", "error 502 upstream_error "
	  "signature_rejected Z.ai: 403: Signature validation failed: "
	  "\xe7\xad\xbe\xe5\x90\x8d\xe9\xaa\x8c\xe8\xaf\x81\xe5\xa4\xb1\xe8"
	  "\xb4\xa5", ZS_UPSTREAM, 0 },
	{ "error_guest.sse", "", "", "error 403 upstream_error "
	  "model_not_available Z.ai: Model not available for current user "
	  "level", ZS_UPSTREAM, 0 },
	{ "error_rate.sse", "", "Hmm", "error 429 rate_limit_error "
	  "rate_limit_exceeded Z.ai: Too many requests, slow down",
	  ZS_UPSTREAM, 0 },
	{ "error_string.sse", "x", "", "error 502 upstream_error "
	  "upstream_error Z.ai: Stream interrupted by the server",
	  ZS_UPSTREAM, 0 },
	{ "no_done.sse", "Cut short", "", "finish -", ZS_OK, 0 },
	{ "empty.sse", "", "", "", ZS_PROTO, 0 },
	{ "empty_done.sse", "", "", "finish 0 0 3", ZS_OK, 1 },
	{ "done_flag.sse", "Flag ends", "", "finish -", ZS_OK, 1 },
	{ "garbage.sse", "kept too", "", "finish 0 0 4", ZS_OK, 1 },
	{ "utf8.sse", "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad raw \xc3\xa9"
	  "\xe4\xb8\xad\xf0\x9f\x98\x80 bad \xef\xbf\xbd\xef\xbf\xbd( "
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end", "", "finish -", ZS_OK,
	  1 },
};

static char *
slurp(const char *name, size_t *n)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	FILE *f;
	char *p;
	long len;

	snprintf(path, sizeof(path), "%s/tests/unit/data/zai/%s",
	    top != NULL ? top : ".", name);
	ck_assert_msg((f = fopen(path, "rb")) != NULL, "%s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	ck_assert_ptr_nonnull(p = malloc((size_t)len + 1));
	ck_assert_uint_eq(fread(p, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	p[len] = '\0';
	*n = (size_t)len;
	return p;
}

static void
check(const struct expect *e, struct run *r, const char *how)
{
	ck_assert_msg(strcmp(r->l.text, e->text) == 0, "%s %s: text [%s]",
	    e->file, how, r->l.text);
	ck_assert_msg(strcmp(r->l.think, e->think) == 0, "%s %s: thinking [%s]",
	    e->file, how, r->l.think);
	ck_assert_msg(strcmp(r->l.end, e->end) == 0, "%s %s: end [%s]",
	    e->file, how, r->l.end);
	ck_assert_msg(r->rc == e->rc, "%s %s: rc %d", e->file, how, r->rc);
	ck_assert_int_eq(zai_stream_finished_upstream(r->st), e->upstream_end);
	ck_assert_int_eq(zai_stream_done(r->st), e->end[0] != '\0');
	/* sticky */
	ck_assert_int_eq(zai_stream_end(r->st), e->rc);
}

/* CR LF for every LF */
static char *
crlf(const char *p, size_t n, size_t *out)
{
	char *q = malloc(2 * n + 1);
	size_t i, o = 0;

	ck_assert_ptr_nonnull(q);
	for (i = 0; i < n; i++) {
		if (p[i] == '\n')
			q[o++] = '\r';
		q[o++] = p[i];
	}
	*out = o;
	return q;
}

START_TEST(t_fixture)
{
	const struct expect *e = &fixtures[_i];
	struct run r;
	size_t n, m, i, *cuts;
	char *p = slurp(e->file, &n), *q;
	int calls, k;

	begin(&r, 0, 0);
	feed_cut(&r, p, n, NULL, 0);
	check(e, &r, "whole");
	calls = r.l.calls;
	finish_run(&r);
	for (i = 1; i < n; i++) {
		begin(&r, 0, 0);
		feed_cut(&r, p, n, &i, 1);
		check(e, &r, "cut in two");
		finish_run(&r);
	}
	ck_assert_ptr_nonnull(cuts = malloc(n * sizeof(*cuts)));
	for (i = 0; i + 1 < n; i++)
		cuts[i] = i + 1;
	begin(&r, 0, 0);
	feed_cut(&r, p, n, cuts, n - 1);
	check(e, &r, "byte by byte");
	finish_run(&r);
	free(cuts);
	q = crlf(p, n, &m);
	begin(&r, 0, 0);
	feed_cut(&r, q, m, NULL, 0);
	check(e, &r, "CRLF");
	finish_run(&r);
	free(q);
	/* a sink that stops at each of its calls: nothing more comes */
	for (k = 1; k <= calls; k++) {
		begin(&r, k, 0);
		feed_cut(&r, p, n, NULL, 0);
		ck_assert_int_eq(r.l.calls, k);
		ck_assert(r.rc == ZS_ABORT || (k == calls && r.l.end[0]));
		ck_assert_int_eq(zai_stream_done(r.st), 1);
		finish_run(&r);
	}
	free(p);
}
END_TEST

/* ------------------------------------------------------------ scripts */

static enum zai_stream_err
answer(struct run *r, const char *phase, const char *text)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "{\"type\":\"chat:completion\",\"data\":"
	    "{\"phase\":\"%s\",\"delta_content\":\"%s\"}}", phase, text);
	return zai_stream_event(r->st, NULL, buf, strlen(buf));
}

static enum zai_stream_err
done(struct run *r)
{
	static const char d[] = "{\"type\":\"chat:completion\",\"data\":"
	    "{\"phase\":\"done\",\"done\":true}}";

	return zai_stream_event(r->st, NULL, d, sizeof(d) - 1);
}

/* text fed in two deltas cut at every byte (JSON-safe text only) */
static void
every_cut(const char *phase, const char *in, const char *want_text,
    const char *want_think)
{
	char a[1024], b[1024];
	size_t n = strlen(in), i;
	struct run r;

	for (i = 0; i <= n; i++) {
		/* a cut inside a character would make invalid UTF-8 deltas */
		if (i < n && ((unsigned char)in[i] & 0xc0) == 0x80)
			continue;
		snprintf(a, sizeof(a), "%.*s", (int)i, in);
		snprintf(b, sizeof(b), "%s", in + i);
		begin(&r, 0, 0);
		ck_assert_int_eq(answer(&r, phase, a), ZS_OK);
		ck_assert_int_eq(answer(&r, phase, b), ZS_OK);
		ck_assert_int_eq(done(&r), ZS_OK);
		ck_assert_msg(strcmp(r.l.text, want_text) == 0,
		    "cut %zu: text [%s]", i, r.l.text);
		ck_assert_msg(strcmp(r.l.think, want_think) == 0,
		    "cut %zu: thinking [%s]", i, r.l.think);
		finish_run(&r);
	}
}

START_TEST(t_markers_cut)
{
	every_cut("answer", "a" OPEN "turn12search345" CLOSE "b" OPEN "x"
	    CLOSE "c" OPEN "3\xe2\x80\xa0turn0search1" CLOSE "d",
	    "ab" OPEN "x" CLOSE "cd", "");
	/* not markers: no digits, no close, "search" without digits */
	every_cut("answer", OPEN "turnsearch" CLOSE OPEN "turn1search" CLOSE
	    "e" OPEN, OPEN "turnsearch" CLOSE OPEN "turn1search" CLOSE "e"
	    OPEN, "");
	/* an open bracket inside: the outer one is plain text */
	every_cut("answer", OPEN "a" OPEN "turn0search0" CLOSE "z",
	    OPEN "a" "z", "");
	every_cut("thinking", "<details type='reasoning' done='false'>Why"
	    "</details> <detailsx> </detail> <", "",
	    "Why <detailsx> </detail> <");
	every_cut("thinking", "a<details>b</details>c", "", "abc");
}
END_TEST

START_TEST(t_hold_limits)
{
	char big[ZAI_MARK_MAX + ZAI_TAG_MAX + 64];
	struct run r;
	size_t n;

	/* an open bracket never closed within the limit: plain text */
	n = (size_t)snprintf(big, sizeof(big), OPEN "%0*d", ZAI_MARK_MAX, 7);
	begin(&r, 0, 0);
	ck_assert_int_eq(answer(&r, "answer", big), ZS_OK);
	ck_assert_uint_eq(r.l.tlen, n);		/* nothing held */
	ck_assert_int_eq(done(&r), ZS_OK);
	ck_assert_str_eq(r.l.text, big);
	finish_run(&r);
	/* a held marker is let go when the phase changes, before the rest */
	begin(&r, 0, 0);
	ck_assert_int_eq(answer(&r, "answer", "x" OPEN "turn"), ZS_OK);
	ck_assert_str_eq(r.l.text, "x");
	ck_assert_int_eq(answer(&r, "thinking", "late thought <"), ZS_OK);
	ck_assert_str_eq(r.l.text, "x" OPEN "turn");
	ck_assert_str_eq(r.l.think, "late thought ");
	ck_assert_int_eq(zai_stream_end(r.st), ZS_OK);
	ck_assert_str_eq(r.l.think, "late thought <");
	ck_assert_str_eq(r.l.end, "finish -");
	finish_run(&r);
	/* a tag that never ends within the limit */
	n = (size_t)snprintf(big, sizeof(big), "<details %0*d", ZAI_TAG_MAX,
	    1);
	begin(&r, 0, 0);
	ck_assert_int_eq(answer(&r, "thinking", big), ZS_OK);
	ck_assert_uint_eq(r.l.rlen, n);
	finish_run(&r);
	/* the strippers alone */
	{
		char w[] = "ab" OPEN "turn1search2" CLOSE "cd" OPEN "tu";
		size_t hold, len = zai_cite_strip(w, strlen(w), &hold);

		ck_assert_uint_eq(len, 4);
		ck_assert_uint_eq(hold, 5);
		ck_assert(memcmp(w, "abcd" OPEN "tu", 9) == 0);
	}
	{
		char w[] = "x</details>y</det";
		size_t hold, len = zai_details_strip(w, strlen(w), &hold);

		ck_assert_uint_eq(len, 2);
		ck_assert_uint_eq(hold, 5);
		ck_assert(memcmp(w, "xy</det", 7) == 0);
	}
}
END_TEST

START_TEST(t_fault_map)
{
	static const struct {
		long		 code;
		const char	*detail;
		int		 expired;
		const char	*want;
	} v[] = {
		{ 403, "403: Signature validation failed: x", 0,
		  "502 upstream_error signature_rejected" },
		{ 0, "\xe7\xad\xbe\xe5\x90\x8d\xe9\xaa\x8c\xe8\xaf\x81\xe5\xa4"
		  "\xb1\xe8\xb4\xa5", 0,
		  "502 upstream_error signature_rejected" },
		{ 403, "Model not available for current user level", 0,
		  "403 upstream_error model_not_available" },
		{ 401, "Token expired", 1,
		  "401 invalid_request_error account_expired" },
		{ 401, "Invalid token", 0,
		  "401 invalid_request_error invalid_api_key" },
		{ 0, "401: Invalid token", 0,
		  "401 invalid_request_error invalid_api_key" },
		{ 0, "403: Forbidden", 0,
		  "403 upstream_error upstream_forbidden" },
		{ 429, "", 0, "429 rate_limit_error rate_limit_exceeded" },
		{ 0, "Rate limit reached", 0,
		  "429 rate_limit_error rate_limit_exceeded" },
		{ 400, "too long", 0,
		  "400 invalid_request_error upstream_bad_request" },
		{ 500, "oops", 0, "502 upstream_error upstream_error" },
		{ 0, NULL, 0, "502 upstream_error upstream_error" },
		{ 0, "12: not a status", 0,
		  "502 upstream_error upstream_error" },
	};
	struct zai_fault f;
	char got[128];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		zai_fault_of(v[i].code, v[i].detail, v[i].expired, &f);
		snprintf(got, sizeof(got), "%d %s %s", f.status, f.type,
		    f.code);
		ck_assert_msg(strcmp(got, v[i].want) == 0, "%zu: %s", i, got);
	}
}
END_TEST

START_TEST(t_expired_in_stream)
{
	struct run r;
	const char *e = "{\"type\":\"chat:completion\",\"data\":{\"error\":"
	    "{\"code\":\"401\",\"detail\":\"Token expired\"}}}";

	begin(&r, 0, 1);
	ck_assert_int_eq(zai_stream_event(r.st, NULL, e, strlen(e)),
	    ZS_UPSTREAM);
	ck_assert_str_eq(r.l.end, "error 401 invalid_request_error "
	    "account_expired Z.ai: Token expired");
	ck_assert_int_eq(r.l.role, 0);
	finish_run(&r);
}
END_TEST

START_TEST(t_limits)
{
	struct run r;
	char *deep;
	size_t i, n = 4 * ZS_JSON_DEPTH;

	/* nesting past the limit: ZS_PROTO, sticky, no sink call */
	ck_assert_ptr_nonnull(deep = malloc(2 * n + 8));
	memcpy(deep, "{\"a\":", 5);
	for (i = 0; i < n; i++) {
		deep[5 + i] = '[';
		deep[5 + n + i] = ']';
	}
	memcpy(deep + 5 + 2 * n, "}", 2);
	begin(&r, 0, 0);
	ck_assert_int_eq(zai_stream_event(r.st, NULL, deep, strlen(deep)),
	    ZS_PROTO);
	ck_assert_int_eq(answer(&r, "answer", "x"), ZS_PROTO);
	ck_assert_int_eq(zai_stream_end(r.st), ZS_PROTO);
	ck_assert_int_eq(r.l.calls, 0);
	finish_run(&r);
	free(deep);
	/* an event over ZS_MAX_EVENT */
	begin(&r, 0, 0);
	ck_assert_int_eq(zai_stream_event(r.st, NULL, "{}", ZS_MAX_EVENT + 1),
	    ZS_PROTO);
	finish_run(&r);
	/* after the end, events are ignored */
	begin(&r, 0, 0);
	ck_assert_int_eq(answer(&r, "answer", "a"), ZS_OK);
	ck_assert_int_eq(done(&r), ZS_OK);
	ck_assert_int_eq(answer(&r, "answer", "b"), ZS_OK);
	ck_assert_str_eq(r.l.text, "a");
	ck_assert_str_eq(zai_stream_strerror(ZS_PROTO),
	    "not a Z.ai completion stream");
	ck_assert_str_eq(zai_stream_strerror(77), "unknown error");
	finish_run(&r);
	/* a long error detail: cut between characters, within the limit */
	{
		static const char want[] = "error 502 upstream_error "
		    "upstream_error Z.ai: \xe4\xb8\xad";
		char e[4096];
		size_t o;

		o = (size_t)snprintf(e, sizeof(e), "{\"error\":{\"detail\":\"");
		for (i = 0; i < 600; i++) {
			memcpy(e + o, "\xe4\xb8\xad", 3);
			o += 3;
		}
		snprintf(e + o, sizeof(e) - o, "\"}}");
		begin(&r, 0, 0);
		ck_assert_int_eq(zai_stream_event(r.st, NULL, e, strlen(e)),
		    ZS_UPSTREAM);
		ck_assert(strncmp(r.l.end, want, sizeof(want) - 1) == 0);
		/* 112 whole characters: 336 of the 338 bytes allowed */
		ck_assert_uint_eq(strlen(r.l.end), sizeof(want) - 4 + 336);
		finish_run(&r);
	}
}
END_TEST

START_TEST(t_clean)
{
	struct buf t;

	buf_init(&t, 0);
	ck_assert_int_eq(buf_add_utf8(&t, "a\tb\x01" "c\x7f\xc0\x80\xf4\x90"
	    "\x80\x80 ok", 15, SIZE_MAX, 1), 0);
	ck_assert_str_eq(t.p, "a b c \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd ok");
	buf_reset(&t);
	ck_assert_int_eq(buf_add_utf8(&t, "a\tb\n", 4, SIZE_MAX, 0), 0);
	ck_assert_str_eq(t.p, "a\tb\n");
	t.max = 5;
	ck_assert_int_eq(buf_add(&t, "xy", 2), -1);
	buf_free(&t);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("zai_stream");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, t_fixture, 0,
	    (int)(sizeof(fixtures) / sizeof(fixtures[0])));
	tcase_add_test(tc, t_markers_cut);
	tcase_add_test(tc, t_hold_limits);
	tcase_add_test(tc, t_fault_map);
	tcase_add_test(tc, t_expired_in_stream);
	tcase_add_test(tc, t_limits);
	tcase_add_test(tc, t_clean);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
