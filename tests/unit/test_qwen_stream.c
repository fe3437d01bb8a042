/*
 * Unit tests for upstream/qwen/stream.c and snap.c, the Qwen stream
 * decoder.
 *
 * The fixtures in tests/unit/data/qwen are written from providers.md
 * §6.3; what each must give is in the table below.  Every fixture goes
 * through the real SSE re-framer (upstream/sse.c) whole, cut in two at
 * every byte, one byte at a time and with CRLF line endings, and once
 * with a sink that stops at each of its calls.  Scripts build the rest in
 * C: markers cut at every point, departing snapshots, errors, limits.  A
 * recording sink checks the sink contract on every call.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/sink_oracle.h"
#include "tests/unit/unit.h"
#include "tests/unit/unit_stream.h"
#include "upstream/qwen/snap.h"
#include "upstream/qwen/stream.h"
#include "upstream/sse.h"

struct sb {
	char	*p;
	size_t	 len, cap;
};

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = 2 * (b->len + n + 1);
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

#define sb_str(b)	((b)->p != NULL ? (b)->p : "")

/* ------------------------------------------------------------ recording sink */

struct rec {
	struct sb	 text, reasoning;
	char		 end[2048];	/* "finish", "error STATUS ..." */
	int		 calls, roles, abort_at;
	bool		 stopped;	/* a callback said stop */
	bool		 text_started;
};

static int
rec_call(struct rec *r, char kind)
{
	ck_assert_msg(!r->stopped, "sink called after it said stop");
	ck_assert_msg(r->end[0] == '\0', "sink called after finish/error");
	if (kind == 'r')
		ck_assert_int_eq(r->calls, 0);
	else if (kind != 'e')
		ck_assert_int_eq(r->roles, 1);
	r->roles += kind == 'r';
	if (++r->calls == r->abort_at) {
		r->stopped = true;
		return 1;
	}
	return 0;
}

static int
rec_role(void *ctx, const char *role)
{
	ck_assert_str_eq(role, "assistant");
	return rec_call(ctx, 'r');
}

static int
rec_text(void *ctx, const char *s, size_t n)
{
	struct rec	*r = ctx;

	ck_assert_uint_gt(n, 0);
	ck_assert_msg(oracle_utf8(s, n), "invalid UTF-8 handed to the sink");
	sb_add(&r->text, s, n);
	r->text_started = true;
	return rec_call(r, 't');
}

static int
rec_reasoning(void *ctx, const char *s, size_t n)
{
	struct rec	*r = ctx;

	ck_assert_uint_gt(n, 0);
	ck_assert_msg(oracle_utf8(s, n), "invalid UTF-8 handed to the sink");
	ck_assert_msg(!r->text_started, "reasoning after the answer began");
	sb_add(&r->reasoning, s, n);
	return rec_call(r, 'k');
}

static int
rec_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct rec	*r = ctx;
	int		 rc = rec_call(r, 'f');

	ck_assert_int_eq(f, CHAT_FINISH_STOP);
	ck_assert_ptr_null(u);
	snprintf(r->end, sizeof(r->end), "finish");
	return rc;
}

static int
rec_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct rec	*r = ctx;
	int		 rc = rec_call(r, 'e');
	size_t		 i;

	ck_assert(type != NULL && code != NULL && msg != NULL && *code);
	ck_assert(oracle_utf8(msg, strlen(msg)));
	ck_assert_uint_le(strlen(msg), QWS_ERRMSG_MAX);
	for (i = 0; msg[i] != '\0'; i++)
		ck_assert_msg((unsigned char)msg[i] >= 0x20, "control in message");
	snprintf(r->end, sizeof(r->end), "error %d %s %s %s", status, type,
	    code, msg);
	return rc;
}

static void
rec_free(struct rec *r)
{
	free(r->text.p);
	free(r->reasoning.p);
}

/* ------------------------------------------------------------ runs */

struct run {
	struct rec		 rec;
	struct qw_stream	*st;
	enum qw_stream_err	 rc;
	int			 upstream_end;
	unsigned		 rewrites;
	char			 session[QWS_ID_MAX + 1], reqid[QWS_ID_MAX + 1];
};

static int
on_event(void *ctx, const char *name, const char *data, size_t len)
{
	struct run	*u = ctx;

	u->rc = qw_stream_event(u->st, name, data, len);
	return u->rc != QWS_OK;
}

/*
 * Feeds data through sse.c in pieces: step 0 whole, else step bytes at a
 * time; cut (when not 0) splits it in two there.  Ends the way client.c
 * does.
 */
static void
run(const char *data, size_t len, size_t step, size_t cut, int abort_at,
    struct run *u)
{
	struct chat_sink	 k = { .ctx = &u->rec, .role = rec_role,
		.text = rec_text, .reasoning = rec_reasoning,
		.finish = rec_finish, .error = rec_error };
	struct sse_parser	 p;

	memset(u, 0, sizeof(*u));
	u->rec.abort_at = abort_at;
	ck_assert_int_eq(qw_stream_new(&u->st, &k), QWS_OK);
	sse_init(&p, on_event, u, QWS_MAX_EVENT);
	/* a done decoder ignores what follows, as client.c stops reading */
	unit_sse_feed(&p, data, len, cut, cut != 0 ? 0 : step);
	if (u->rc == QWS_OK && !qw_stream_done(u->st) &&
	    sse_finish(&p, NULL) == SSE_OK && u->rc == QWS_OK)
		u->rc = qw_stream_end(u->st);
	if (u->rc == QWS_OK && !qw_stream_done(u->st))
		u->rc = qw_stream_end(u->st);
	/* errors are sticky, and a done decoder ignores events */
	if (u->rc != QWS_OK) {
		ck_assert_int_eq(qw_stream_end(u->st), u->rc);
		ck_assert_int_eq(qw_stream_event(u->st, NULL, "{}", 2), u->rc);
	}
	u->upstream_end = qw_stream_finished_upstream(u->st);
	u->rewrites = qw_stream_rewrites(u->st);
	snprintf(u->session, sizeof(u->session), "%s",
	    qw_stream_session(u->st));
	snprintf(u->reqid, sizeof(u->reqid), "%s", qw_stream_reqid(u->st));
	ck_assert_int_eq(qw_stream_started(u->st), u->rec.roles == 1);
	qw_stream_free(u->st);
	sse_free(&p);
}

static char *
slurp(const char *name, size_t *len)
{
	char	*p = unit_slurp("qwen", name, len);

	ck_assert_msg(p != NULL, "cannot read the fixture %s", name);
	return p;
}

/* ------------------------------------------------------------ fixtures */

static const struct want {
	const char		*file;
	const char		*text, *reasoning, *end;
	enum qw_stream_err	 rc;
	int			 upstream_end;
	unsigned		 rewrites;
	const char		*session, *reqid;
} wants[] = {
	{ "basic.sse", "Hello, world!", "", "finish", QWS_OK, 1, 0, "s1",
	  "r1" },
	{ "think.sse", "The answer is 42.", "Let me think. Done.", "finish",
	  QWS_OK, 1, 0, "s1", "r1" },
	{ "multimodal.sse", "It is red.", "Looking at it", "finish", QWS_OK,
	  1, 0, "s1", "r1" },
	{ "markers_split.sse", "AB [(x) and  end [", "", "finish", QWS_OK, 1,
	  0, "s1", "r1" },
	{ "error_code.sse", "Half an", "", "error 502 upstream_error "
	  "INTERNAL_ERROR boom second line", QWS_UPSTREAM, 0, 0, "s1", "r1" },
	{ "not_login.sse", "", "", "error 401 invalid_request_error "
	  "account_expired \xe8\xaf\xb7\xe5\x85\x88\xe7\x99\xbb\xe5\xbd\x95",
	  QWS_UPSTREAM, 0, 0, "", "" },
	{ "limit.sse", "", "hm", "error 429 rate_limit_error "
	  "rate_limit_exceeded \xe8\xaf\xb7\xe6\xb1\x82\xe8\xbf\x87\xe4\xba"
	  "\x8e\xe9\xa2\x91\xe7\xb9\x81", QWS_UPSTREAM, 0, 0, "s1", "r1" },
	{ "error_event.sse", "Part", "", "error 502 upstream_error "
	  "SYSTEM_BUSY try later", QWS_UPSTREAM, 0, 0, "s1", "r1" },
	{ "error_raw.sse", "Part", "", "error 502 upstream_error "
	  "upstream_stream_error plain \xef\xbf\xbd text  here", QWS_UPSTREAM,
	  0, 0, "s1", "r1" },
	{ "done.sse", "Done here", "", "finish", QWS_OK, 1, 0, "s1", "r1" },
	{ "no_complete.sse", "Cut short", "", "finish", QWS_OK, 0, 0, "s1",
	  "r1" },
	{ "empty.sse", "", "", "", QWS_EMPTY, 1, 0, "s1", "r1" },
	{ "named.sse", "One two", "", "finish", QWS_OK, 1, 0, "s1", "r1" },
	{ "rewrite.sse", "Hello world!", "", "finish", QWS_OK, 1, 1, "s1",
	  "r1" },
	{ "unicode.sse", "\xe4\xbd\xa0\xe5\xa5\xbd\xf0\x9f\x98\x80 \xc3\xa9"
	  "\xf0\x9f\x90\x8b!", "", "finish", QWS_OK, 1, 0, "s1", "r1" },
	{ "garbage.sse", "Fine", "", "", QWS_PROTO, 0, 0, "s1", "r1" },
	{ "search.sse", "Cards: onex", "", "finish", QWS_OK, 1, 0, "s1",
	  "r1" },
	{ "unknown.sse", "Gone", "", "finish", QWS_OK, 1, 0, "s1", "r1" },
	{ "think_after.sse", "Answer", "Plan more", "finish", QWS_OK, 1, 0,
	  "s1", "r1" },
	{ "ids.sse", "XY", "", "finish", QWS_OK, 1, 0, "s-3", "r-2_ok" },
};

static void
check(const struct want *w, const struct run *u, const char *how)
{
	ck_assert_msg(u->rc == w->rc, "%s %s: rc %d, want %d", w->file, how,
	    u->rc, w->rc);
	ck_assert_msg(strcmp(sb_str(&u->rec.text), w->text) == 0,
	    "%s %s: text [%s], want [%s]", w->file, how, sb_str(&u->rec.text),
	    w->text);
	ck_assert_msg(strcmp(sb_str(&u->rec.reasoning), w->reasoning) == 0,
	    "%s %s: reasoning [%s]", w->file, how, sb_str(&u->rec.reasoning));
	ck_assert_msg(strcmp(u->rec.end, w->end) == 0, "%s %s: end [%s], "
	    "want [%s]", w->file, how, u->rec.end, w->end);
	ck_assert_int_eq(u->upstream_end, w->upstream_end);
	ck_assert_uint_eq(u->rewrites, w->rewrites);
	ck_assert_str_eq(u->session, w->session);
	ck_assert_str_eq(u->reqid, w->reqid);
}

START_TEST(fixture_whole_and_split)
{
	const struct want	*w = &wants[_i];
	struct run		 u;
	size_t			 len, cut;
	char			*d = slurp(w->file, &len);

	run(d, len, 0, 0, 0, &u);
	check(w, &u, "whole");
	rec_free(&u.rec);
	for (cut = 1; cut < len; cut++) {
		run(d, len, 0, cut, 0, &u);
		check(w, &u, "cut");
		rec_free(&u.rec);
	}
	run(d, len, 1, 0, 0, &u);
	check(w, &u, "bytewise");
	rec_free(&u.rec);
	free(d);
}
END_TEST

START_TEST(fixture_crlf)
{
	const struct want	*w = &wants[_i];
	struct run		 u;
	size_t			 len, i, n = 0;
	char			*d = slurp(w->file, &len), *c;

	c = malloc(2 * len + 1);
	ck_assert_ptr_nonnull(c);
	for (i = 0; i < len; i++) {
		if (d[i] == '\n')
			c[n++] = '\r';
		c[n++] = d[i];
	}
	run(c, n, 3, 0, 0, &u);
	check(w, &u, "crlf");
	rec_free(&u.rec);
	free(c);
	free(d);
}
END_TEST

/* A sink that stops at its k-th call: nothing after it, QWS_ABORT. */
START_TEST(fixture_abort_each_call)
{
	const struct want	*w = &wants[_i];
	struct run		 u;
	size_t			 len;
	char			*d = slurp(w->file, &len);
	int			 k, calls;

	run(d, len, 0, 0, 0, &u);
	calls = u.rec.calls;
	rec_free(&u.rec);
	for (k = 1; k <= calls; k++) {
		run(d, len, 7, 0, k, &u);
		ck_assert_int_eq(u.rec.calls, k);
		/* an error() that is told to stop is still the error */
		ck_assert(u.rc == QWS_ABORT || (u.rc == QWS_UPSTREAM &&
		    k == calls));
		rec_free(&u.rec);
	}
	free(d);
}
END_TEST

/* ------------------------------------------------------------ scripts */

/* One event of the §6.3 shape with content c and reasoning t. */
static char *
snapshot(const char *mime, const char *c, const char *t, const char *status)
{
	static char	 ev[4096];

	snprintf(ev, sizeof(ev), "{\"communication\":{\"sessionid\":\"s\","
	    "\"reqid\":\"r\"},\"data\":{\"messages\":[{\"mime_type\":\"%s\","
	    "\"content\":\"%s\",\"status\":\"%s\",\"meta_data\":"
	    "{\"multi_load\":[{\"type\":\"deep_think\",\"content\":"
	    "{\"think_content\":\"%s\"}}]}}]},\"error_code\":0}", mime, c,
	    status, t);
	return ev;
}

static void
event(struct qw_stream *st, const char *name, const char *data,
    enum qw_stream_err want)
{
	ck_assert_int_eq(qw_stream_event(st, name, data, strlen(data)), want);
}

static struct qw_stream *
fresh(struct rec *r)
{
	struct chat_sink	 k = { .ctx = r, .role = rec_role,
		.text = rec_text, .reasoning = rec_reasoning,
		.finish = rec_finish, .error = rec_error };
	struct qw_stream	*st;

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(qw_stream_new(&st, &k), QWS_OK);
	return st;
}

/*
 * The answer grown one byte at a time through two markers: whatever the
 * cut, the text handed on is always a prefix of the clean answer.
 */
START_TEST(markers_at_every_cut)
{
	static const char	 full[] = "ab[(deep_think)]cd["
	    "(multimodal_chat_think_7)]e[f[(deep_think_42)]";
	static const char	 clean[] = "abcde[f";
	struct qw_stream	*st;
	struct rec		 r;
	char			 part[sizeof(full)];
	size_t			 n;

	st = fresh(&r);
	for (n = 1; n < sizeof(full); n++) {
		memcpy(part, full, n);
		part[n] = '\0';
		event(st, NULL, snapshot("multi_load/iframe", part, "",
		    "processing"), QWS_OK);
		ck_assert_msg(strncmp(clean, sb_str(&r.text), r.text.len) ==
		    0, "after %zu bytes: [%s]", n, sb_str(&r.text));
	}
	ck_assert_str_eq(sb_str(&r.text), "abcde[f");
	event(st, "complete", "", QWS_OK);
	ck_assert_str_eq(sb_str(&r.text), clean);
	ck_assert_str_eq(r.end, "finish");
	qw_stream_free(st);
	rec_free(&r);
}
END_TEST

START_TEST(marker_grammar)
{
	static const struct {
		const char	*s;
		size_t		 len;
		bool		 partial;
	} v[] = {
		{ "[(deep_think)]", 14, false },
		{ "[(deep_think)]tail", 14, false },
		{ "[(deep_think_12)]", 17, false },
		{ "[(multimodal_chat_think_1)]", 27, false },
		{ "[(multimodal_chat_think)]", 25, false },
		{ "[(deep_think_123456)]", 21, false },
		{ "[(deep_think_1234567)]", 0, false },
		{ "[(deep_think_)]", 0, false },
		{ "[(deep_thinker)]", 0, false },
		{ "[(x)]", 0, false },
		{ "(deep_think)", 0, false },
		{ "[", 0, true },
		{ "[(", 0, true },
		{ "[(multi", 0, true },
		{ "[(deep_think", 0, true },
		{ "[(deep_think_", 0, true },
		{ "[(deep_think_9", 0, true },
		{ "[(deep_think)", 0, true },
		{ "[x", 0, false },
	};
	size_t	 i;
	bool	 partial;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_msg(qw_marker_at(v[i].s, strlen(v[i].s), &partial) ==
		    v[i].len, "%s", v[i].s);
		ck_assert_msg(partial == v[i].partial, "%s partial", v[i].s);
	}
	ck_assert_uint_eq(qw_marker_at("", 0, NULL), 0);
}
END_TEST

/* Snapshots that shrink, repeat or depart: never taken back, counted. */
START_TEST(departing_snapshots)
{
	struct qw_snap	 sn;
	const char	*d;
	size_t		 dl;

	memset(&sn, 0, sizeof(sn));
	ck_assert_int_eq(qw_snap_take(&sn, "abc", 3, &d, &dl), QWS_OK);
	ck_assert(dl == 3 && memcmp(d, "abc", 3) == 0);
	ck_assert_int_eq(qw_snap_take(&sn, "ab", 2, &d, &dl), QWS_OK);
	ck_assert_uint_eq(dl, 0);
	ck_assert_int_eq(qw_snap_take(&sn, "abc", 3, &d, &dl), QWS_OK);
	ck_assert_uint_eq(dl, 0);
	ck_assert_int_eq(qw_snap_take(&sn, "xbcd", 4, &d, &dl), QWS_OK);
	ck_assert(dl == 1 && d[0] == 'd');
	ck_assert_uint_eq(sn.rewrites, 1);
	/* a shorter departing one: nothing, and the base stays */
	ck_assert_int_eq(qw_snap_take(&sn, "zz", 2, &d, &dl), QWS_OK);
	ck_assert_uint_eq(dl, 0);
	ck_assert_uint_eq(sn.rewrites, 2);
	ck_assert_int_eq(qw_snap_take(&sn, "xbcde", 5, &d, &dl), QWS_OK);
	ck_assert(dl == 1 && d[0] == 'e');
	/* departing inside a character: the delta starts at the next one */
	ck_assert_int_eq(qw_snap_take(&sn, "xbcd\xc3\xa9\xe4\xbd\xa0", 9, &d,
	    &dl), QWS_OK);
	ck_assert_uint_eq(sn.rewrites, 3);
	ck_assert(dl == 3 && memcmp(d, "\xe4\xbd\xa0", 3) == 0);
	ck_assert(qw_snap_any(&sn));
	qw_snap_free(&sn);
	ck_assert(!qw_snap_any(&sn));
}
END_TEST

START_TEST(error_status_words)
{
	ck_assert_int_eq(qw_error_status("NOT_LOGIN", NULL), 401);
	ck_assert_int_eq(qw_error_status(NULL, "user not login"), 401);
	ck_assert_int_eq(qw_error_status("", "\xe8\xaf\xb7\xe5\x85\x88\xe7"
	    "\x99\xbb\xe5\xbd\x95"), 401);
	ck_assert_int_eq(qw_error_status("FLOW_LIMIT", "x"), 429);
	ck_assert_int_eq(qw_error_status("429", NULL), 429);
	ck_assert_int_eq(qw_error_status("E1", "\xe8\xaf\xb7\xe6\xb1\x82\xe8"
	    "\xbf\x87\xe4\xba\x8e\xe9\xa2\x91\xe7\xb9\x81"), 429);
	ck_assert_int_eq(qw_error_status("INTERNAL_ERROR", "boom"), 502);
	ck_assert_int_eq(qw_error_status(NULL, NULL), 502);
}
END_TEST

START_TEST(error_message_limits)
{
	struct qw_stream	*st;
	struct rec		 r;
	char			*ev;
	size_t			 i, n = 0, cap = 16 + 3 * 3000 + 64;
	const char		*sp;

	ev = malloc(cap);
	ck_assert_ptr_nonnull(ev);
	n = (size_t)snprintf(ev, cap, "{\"error_code\":\"E<x> y!\","
	    "\"error_msg\":\"");
	for (i = 0; i < 3000; i++) {
		memcpy(ev + n, "\xe4\xb8\xad", 3);
		n += 3;
	}
	memcpy(ev + n, "\"}", 3);
	st = fresh(&r);
	event(st, NULL, ev, QWS_UPSTREAM);
	/* the code is a token; the message cut between characters */
	ck_assert(strncmp(r.end, "error 502 upstream_error Exy ", 29) == 0);
	sp = r.end + 29;
	ck_assert_uint_le(strlen(sp), QWS_ERRMSG_MAX);
	ck_assert_uint_eq(strlen(sp) % 3, 0);
	ck_assert_uint_gt(strlen(sp), QWS_ERRMSG_MAX - 3);
	qw_stream_free(st);
	rec_free(&r);
	free(ev);
	/* success:false is an error too, the message from errorMsg */
	st = fresh(&r);
	event(st, NULL, "{\"success\":false,\"errorCode\":\"SYSTEM_ERROR\","
	    "\"errorMsg\":\"down\"}", QWS_UPSTREAM);
	ck_assert_str_eq(r.end, "error 502 upstream_error SYSTEM_ERROR down");
	qw_stream_free(st);
	rec_free(&r);
	/* an error names the session too (it is deleted all the same) */
	st = fresh(&r);
	event(st, NULL, "{\"communication\":{\"sessionid\":\"se\",\"reqid\":"
	    "\"re\"},\"data\":null,\"error_code\":\"NOT_LOGIN\"}", QWS_UPSTREAM);
	ck_assert_str_eq(qw_stream_session(st), "se");
	ck_assert_str_eq(qw_stream_reqid(st), "re");
	ck_assert_str_eq(r.end, "error 401 invalid_request_error "
	    "account_expired The upstream reported an error (NOT_LOGIN).");
	qw_stream_free(st);
	rec_free(&r);
	/* an error without words: a message of ours, the code kept */
	st = fresh(&r);
	event(st, NULL, "{\"error_code\":7}", QWS_UPSTREAM);
	ck_assert_str_eq(r.end, "error 502 upstream_error 7 The upstream "
	    "reported an error (7).");
	qw_stream_free(st);
	rec_free(&r);
	/* error_code 0, "0", "" and false are no errors */
	st = fresh(&r);
	event(st, NULL, "{\"error_code\":0}", QWS_OK);
	event(st, NULL, "{\"error_code\":\"0\"}", QWS_OK);
	event(st, NULL, "{\"error_code\":\"\"}", QWS_OK);
	event(st, NULL, "{\"error_code\":false,\"success\":true}", QWS_OK);
	ck_assert_int_eq(r.calls, 0);
	qw_stream_free(st);
	rec_free(&r);
}
END_TEST

START_TEST(limits)
{
	struct qw_stream	*st;
	struct rec		 r;
	char			*big, deep[512];
	size_t			 n, i;

	/* one event over the limit; whitespace around it does not count */
	big = malloc(QWS_MAX_EVENT + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', QWS_MAX_EVENT + 1);
	big[10] = '{';
	big[11] = '}';
	big[QWS_MAX_EVENT + 1] = '\0';
	st = fresh(&r);
	ck_assert_int_eq(qw_stream_event(st, NULL, big, QWS_MAX_EVENT + 1),
	    QWS_OK);
	big[10] = big[11] = ' ';
	big[0] = '{';
	big[QWS_MAX_EVENT] = '}';
	ck_assert_int_eq(qw_stream_event(st, NULL, big, QWS_MAX_EVENT + 1),
	    QWS_PROTO);
	qw_stream_free(st);
	rec_free(&r);
	free(big);
	/* nesting: QWS_JSON_DEPTH objects deep is fine, one more is not */
	for (n = 0, i = 0; i < QWS_JSON_DEPTH; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"a\":");
	deep[n - 5] = '\0';
	n -= 5;
	n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{");
	for (i = 0; i < QWS_JSON_DEPTH; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "}");
	st = fresh(&r);
	ck_assert_int_eq(qw_stream_event(st, NULL, deep, n), QWS_OK);
	qw_stream_free(st);
	for (n = 0, i = 0; i < QWS_JSON_DEPTH; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"a\":");
	n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{");
	for (i = 0; i <= QWS_JSON_DEPTH; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "}");
	st = fresh(&r);
	ck_assert_int_eq(qw_stream_event(st, NULL, deep, n), QWS_PROTO);
	qw_stream_free(st);
	rec_free(&r);
	/* only QWS_MAX_MESSAGES messages are looked at */
	big = malloc(64 * 100 + 256);
	ck_assert_ptr_nonnull(big);
	n = (size_t)sprintf(big, "{\"data\":{\"messages\":[");
	for (i = 0; i < QWS_MAX_MESSAGES + 6; i++)
		n += (size_t)sprintf(big + n, "%s{\"mime_type\":\"text/plain\","
		    "\"content\":\"a\"}", i ? "," : "");
	sprintf(big + n, "]}}");
	st = fresh(&r);
	event(st, NULL, big, QWS_OK);
	ck_assert_uint_eq(r.text.len, QWS_MAX_MESSAGES);
	qw_stream_free(st);
	rec_free(&r);
	free(big);
	/* not an object; invalid UTF-8 */
	st = fresh(&r);
	event(st, NULL, "[1]", QWS_PROTO);
	qw_stream_free(st);
	st = fresh(&r);
	event(st, NULL, "{\"data\":{\"messages\":[{\"mime_type\":\"text/plain\","
	    "\"content\":\"\xff\"}]}}", QWS_PROTO);
	ck_assert_int_eq(r.calls, 0);
	qw_stream_free(st);
	rec_free(&r);
	/* what json-c lets through: surrogates and overlong forms */
	st = fresh(&r);
	event(st, NULL, "{\"data\":{\"messages\":[{\"mime_type\":\"text/plain\","
	    "\"content\":\"a\xed\xa0\x80\xc0\x80\xf4\x90\x80\x80" "b\"}]}}", QWS_OK);
	ck_assert_str_eq(sb_str(&r.text), "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf"
	    "\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd" "b");
	qw_stream_free(st);
	rec_free(&r);
	/* ids that are too long or not tokens are not kept */
	memset(deep, 'a', sizeof(deep));
	deep[QWS_ID_MAX + 1] = '\0';
	big = malloc(512);
	snprintf(big, 512, "{\"communication\":{\"sessionid\":\"%.200s\","
	    "\"reqid\":\"a\\\"b\"}}", deep);
	st = fresh(&r);
	event(st, NULL, big, QWS_OK);
	ck_assert_str_eq(qw_stream_session(st), "");
	ck_assert_str_eq(qw_stream_reqid(st), "");
	qw_stream_free(st);
	free(big);
}
END_TEST

/* A sink without callbacks, and the NULL decoder of a failed new(). */
START_TEST(null_sink_and_decoder)
{
	struct qw_stream	*st;

	ck_assert_int_eq(qw_stream_new(&st, NULL), QWS_OK);
	ck_assert_int_eq(qw_stream_event(st, NULL, snapshot("text/plain", "hi",
	    "th", "processing"), strlen(snapshot("text/plain", "hi", "th",
	    "processing"))), QWS_OK);
	ck_assert(qw_stream_started(st));
	ck_assert_int_eq(qw_stream_end(st), QWS_OK);
	ck_assert(qw_stream_done(st));
	qw_stream_free(st);
	ck_assert_int_eq(qw_stream_event(NULL, NULL, "{}", 2), QWS_ENOMEM);
	ck_assert_int_eq(qw_stream_end(NULL), QWS_ENOMEM);
	ck_assert(!qw_stream_done(NULL) && !qw_stream_started(NULL));
	ck_assert_str_eq(qw_stream_session(NULL), "");
	ck_assert_str_eq(qw_stream_strerror(QWS_EMPTY),
	    "the upstream sent no answer");
	ck_assert_str_eq(qw_stream_strerror(QWS__MAX), "unknown error");
	qw_stream_free(NULL);
}
END_TEST

/* The "complete" event's data may be anything; "[DONE]" ends too. */
START_TEST(complete_and_done)
{
	struct qw_stream	*st;
	struct rec		 r;

	st = fresh(&r);
	event(st, NULL, snapshot("text/plain", "x", "", "processing"), QWS_OK);
	event(st, "complete", "not json at all", QWS_OK);
	ck_assert_str_eq(r.end, "finish");
	ck_assert(qw_stream_done(st) && qw_stream_finished_upstream(st));
	/* later events are ignored */
	event(st, NULL, snapshot("text/plain", "xyz", "", "processing"),
	    QWS_OK);
	ck_assert_str_eq(sb_str(&r.text), "x");
	qw_stream_free(st);
	rec_free(&r);
	/* a complete event before any answer: no answer */
	st = fresh(&r);
	event(st, "complete", "{}", QWS_EMPTY);
	ck_assert_int_eq(r.calls, 0);
	qw_stream_free(st);
	/* the finished status of a text/plain message does not end it */
	st = fresh(&r);
	event(st, NULL, snapshot("text/plain", "x", "", "finished"), QWS_OK);
	ck_assert(!qw_stream_done(st));
	event(st, "message", "[DONE]", QWS_OK);
	ck_assert(qw_stream_done(st));
	qw_stream_free(st);
	rec_free(&r);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("qwen_stream");
	TCase	*t = tcase_create("fixtures");
	int	 n = (int)(sizeof(wants) / sizeof(wants[0]));

	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, fixture_whole_and_split, 0, n);
	tcase_add_loop_test(t, fixture_crlf, 0, n);
	tcase_add_loop_test(t, fixture_abort_each_call, 0, n);
	suite_add_tcase(s, t);
	t = tcase_create("scripts");
	tcase_add_test(t, markers_at_every_cut);
	tcase_add_test(t, marker_grammar);
	tcase_add_test(t, departing_snapshots);
	tcase_add_test(t, error_status_words);
	tcase_add_test(t, error_message_limits);
	tcase_add_test(t, limits);
	tcase_add_test(t, null_sink_and_decoder);
	tcase_add_test(t, complete_and_done);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
