/*
 * Unit tests for upstream/kimi/stream.c, the Kimi Chat stream decoder.
 *
 * The fixtures in tests/unit/data/kimi are response bodies written by
 * hand from providers.md §4.4, one envelope per line (see the README
 * there); what each must give is written below.  Every body is fed
 * whole, cut in two at every byte (inside the five-byte headers too)
 * and one byte at a time, and once with a sink that stops at each of its
 * calls.  A recording sink checks the sink contract on every call.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "upstream/kimi/stream.h"

struct sb {
	char	*p;
	size_t	 len, cap;
};

static void
sb_add(struct sb *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = 2 * (b->len + n + 1);
		ck_assert_ptr_nonnull(b->p = realloc(b->p, b->cap));
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

#define sb_str(b)	((b)->p != NULL ? (b)->p : "")

static int
valid_utf8(const char *s, size_t n)
{
	struct buf b;
	int same;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_add_utf8(&b, s, n, SIZE_MAX, 0), 0);
	same = b.len == n && (n == 0 || memcmp(b.p, s, n) == 0);
	buf_free(&b);
	return same;
}

/* ------------------------------------------------------------ sink */

struct rec {
	struct sb	 text, reasoning;
	int		 calls, roles, abort_at, finished;
};

static int
rec_call(struct rec *r, char kind)
{
	ck_assert_msg(!r->finished, "sink called after finish");
	if (kind == 'r')
		ck_assert_int_eq(r->calls, 0);
	else
		ck_assert_int_eq(r->roles, 1);
	r->roles += kind == 'r';
	return ++r->calls == r->abort_at;
}

static int
rec_role(void *ctx, const char *role)
{
	ck_assert_str_eq(role, "assistant");
	return rec_call(ctx, 'r');
}

static int
rec_delta(struct rec *r, struct sb *b, const char *s, size_t n)
{
	ck_assert_uint_gt(n, 0);
	ck_assert_msg(valid_utf8(s, n), "invalid UTF-8 to the sink");
	sb_add(b, s, n);
	return rec_call(r, 't');
}

static int
rec_text(void *r, const char *s, size_t n)
{
	return rec_delta(r, &((struct rec *)r)->text, s, n);
}

static int
rec_reasoning(void *r, const char *s, size_t n)
{
	return rec_delta(r, &((struct rec *)r)->reasoning, s, n);
}

static int
rec_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct rec *r = ctx;
	int rc = rec_call(r, 'f');

	ck_assert_int_eq(f, CHAT_FINISH_STOP);
	ck_assert_ptr_null(u);
	r->finished = 1;
	return rc;
}

/* The decoder only records errors: error() must never be called. */
static int
rec_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	(void)ctx; (void)status; (void)type; (void)code; (void)msg;
	ck_abort_msg("the decoder called error()");
	return 1;
}

/* ------------------------------------------------------------ bodies */

static char *
slurp(const char *name, size_t *lenp)
{
	const char *top = getenv("top_srcdir");
	char path[1024], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/tests/unit/data/kimi/%s",
	    top ? top : ".", name);
	ck_assert_msg((f = fopen(path, "rb")) != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert((n = ftell(f)) >= 0);
	rewind(f);
	ck_assert_ptr_nonnull(buf = malloc((size_t)n + 1));
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*lenp = (size_t)n;
	return buf;
}

static void
envelope(struct sb *out, unsigned flags, const char *p, size_t n)
{
	unsigned char h[KC_HEADER_LEN + 4096];

	ck_assert_uint_le(n, 4096);
	ck_assert_int_eq(kc_frame(h, flags, p, n), 0);
	sb_add(out, h, KC_HEADER_LEN + n);
}

/* A fixture's lines as the body bytes (tests/unit/data/kimi/README). */
static void
body_of(const char *name, struct sb *out)
{
	char *text, *line, *save = NULL;
	unsigned char byte;
	size_t len, i;

	text = slurp(name, &len);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (strcmp(line, "END") == 0)
			envelope(out, KC_FLAG_END, "{}", 2);
		else if (strncmp(line, "END ", 4) == 0)
			envelope(out, KC_FLAG_END, line + 4, strlen(line + 4));
		else if (strncmp(line, "RAW ", 4) == 0) {
			for (i = 4; line[i] && line[i + 1]; i += 2) {
				ck_assert_int_eq(sscanf(line + i, "%2hhx",
				    &byte), 1);
				sb_add(out, &byte, 1);
			}
		} else
			envelope(out, 0, line, strlen(line));
	}
	free(text);
}

/* ------------------------------------------------------------ runs */

struct run {
	struct rec		 r;
	struct chat_sink	 k;
	struct kimi_stream	*st;
	enum ks_err		 rc;
};

/* Feed body in pieces of at most step bytes (0: whole), cut at cut. */
static void
run(struct run *u, const struct sb *body, size_t cut, size_t step,
    int abort_at)
{
	size_t at, n;

	memset(u, 0, sizeof(*u));
	u->r.abort_at = abort_at;
	u->k = (struct chat_sink){ .ctx = &u->r, .role = rec_role,
	    .text = rec_text, .reasoning = rec_reasoning,
	    .finish = rec_finish, .error = rec_error };
	ck_assert_int_eq(ks_new(&u->st, &u->k), KS_OK);
	for (at = 0; at < body->len && u->rc == KS_OK; at += n) {
		n = step == 0 ? body->len - at : step;
		if (at < cut && at + n > cut)
			n = cut - at;
		if (n > body->len - at)
			n = body->len - at;
		u->rc = ks_feed(u->st, body->p + at, n);
	}
	if (u->rc == KS_OK)
		u->rc = ks_end(u->st);
	/* sticky */
	ck_assert_int_eq(ks_end(u->st), u->rc);
	ck_assert_int_eq(ks_feed(u->st, "\0\0\0\0\0", 5), u->rc == KS_OK &&
	    ks_done(u->st) ? KS_OK : u->rc);
}

static void
done_run(struct run *u)
{
	ks_free(u->st);
	free(u->r.text.p);
	free(u->r.reasoning.p);
}

struct expect {
	const char	*file;
	enum ks_err	 rc;
	const char	*text, *reasoning;
	const char	*error;		/* "status code|message|retry" */
	const char	*chat, *msg;	/* ids, or NULL */
	int		 ended;		/* the end-of-stream was read */
};

static const struct expect fixtures[] = {
	{ "basic.kjs", KS_OK, "Hello 你好 😀", "", NULL, "d3kimi0chat0001",
	    "d3msg0assistant", 1 },
	{ "think.kjs", KS_OK, "Answer.", "Let me think.", NULL, "chat-think",
	    "m-a", 1 },
	{ "phase.kjs", KS_OK, "t1 t2 t3.!", "r1 r2 r3 r4 r5 r6", NULL, NULL,
	    NULL, 1 },
	{ "search.kjs", KS_OK, "Found it [1]. Bye.", "", NULL, "chat-search",
	    NULL, 1 },
	{ "empty.kjs", KS_EMPTY, "", "", NULL, "chat-empty", NULL, 1 },
	{ "error_message.kjs", KS_UPSTREAM, "Half an answer", "",
	    "429 resource_exhausted|You have used up your quota|-1", NULL,
	    NULL, 0 },
	{ "error_end.kjs", KS_UPSTREAM, "", "",
	    "401 unauthenticated|token expired|-1", NULL, NULL, 1 },
	{ "error_retry.kjs", KS_UPSTREAM, "", "",
	    "429 resource_exhausted|slow down|42", "chat-429", NULL, 1 },
	{ "overloaded.kjs", KS_UPSTREAM, "", "",
	    "503 REASON_COMPLETION_OVERLOADED|当前模型繁忙|-1", "chat-busy",
	    NULL, 0 },
	{ "exception.kjs", KS_UPSTREAM, "x", "", "429 429|too fast|-1", NULL,
	    NULL, 0 },
	{ "end_no_done.kjs", KS_OK, "Short", "", NULL, NULL, NULL, 1 },
	{ "cut.kjs", KS_PROTO, "Cut short", "", NULL, NULL, NULL, 0 },
	{ "truncated.kjs", KS_PROTO, "Cut", "", NULL, NULL, NULL, 0 },
	{ "garbage.kjs", KS_PROTO, "ok", "", NULL, NULL, NULL, 0 },
	{ "compressed.kjs", KS_PROTO, "ok", "", NULL, NULL, NULL, 0 },
	{ "utf8.kjs", KS_OK, "a\xef\xbf\xbd" "bc\xef\xbf\xbd" "d", "", NULL,
	    NULL, NULL, 1 },
	{ "after_done.kjs", KS_OK, "Done.", "", NULL, NULL, NULL, 1 },
};

static void
check(const struct expect *e, struct run *u, const char *how, size_t k)
{
	const struct ks_error *err = ks_error(u->st);
	char got[1024] = "";

	if (err != NULL)
		snprintf(got, sizeof(got), "%d %s|%s|%ld", err->status,
		    err->code, err->message, err->retry_after);
	ck_assert_msg(u->rc == e->rc && strcmp(sb_str(&u->r.text), e->text) ==
	    0 && strcmp(sb_str(&u->r.reasoning), e->reasoning) == 0 &&
	    strcmp(got, e->error != NULL ? e->error : "") == 0,
	    "%s (%s %zu): %s\n--- text\n%s\n--- reasoning\n%s\n--- error\n%s",
	    e->file, how, k, ks_strerror(u->rc), sb_str(&u->r.text),
	    sb_str(&u->r.reasoning), got);
	ck_assert_int_eq(u->r.finished, e->rc == KS_OK);
	ck_assert_int_eq(ks_done(u->st), e->rc == KS_OK ||
	    e->rc == KS_UPSTREAM);
	ck_assert_int_eq(ks_started(u->st), u->r.roles);
	if (e->chat != NULL)
		ck_assert_str_eq(ks_chat_id(u->st), e->chat);
	else
		ck_assert_ptr_null(ks_chat_id(u->st));
	if (e->msg != NULL)
		ck_assert_str_eq(ks_message_id(u->st), e->msg);
	else
		ck_assert_ptr_null(ks_message_id(u->st));
}

START_TEST(fixture)
{
	const struct expect *e = &fixtures[_i];
	struct sb body = { NULL, 0, 0 };
	struct run u;
	size_t cut;
	int k;

	body_of(e->file, &body);
	run(&u, &body, 0, 0, 0);
	check(e, &u, "whole", 0);
	ck_assert_int_eq(ks_ended(u.st), e->ended);
	done_run(&u);
	for (cut = 1; cut < body.len; cut++) {
		run(&u, &body, cut, 0, 0);
		check(e, &u, "cut at", cut);
		done_run(&u);
	}
	run(&u, &body, 0, 1, 0);
	check(e, &u, "bytes", 1);
	done_run(&u);
	/* a sink that stops at its k-th call: KS_ABORT, never again */
	for (k = 1; k < 64; k++) {
		run(&u, &body, 0, 0, k);
		if (u.r.calls < k) {
			done_run(&u);
			break;
		}
		ck_assert_int_eq(u.rc, KS_ABORT);
		ck_assert_int_eq(u.r.calls, k);
		ck_assert_int_eq(ks_done(u.st), 1);
		done_run(&u);
	}
	free(body.p);
}
END_TEST

/* ------------------------------------------------------------ scripts */

static void
one(struct sb *b, const char *json)
{
	envelope(b, 0, json, strlen(json));
}

/* A message over the limit, and JSON nested too deep: KS_PROTO. */
START_TEST(limits)
{
	static char big[KS_MAX_MESSAGE + 16];
	unsigned char h[KC_HEADER_LEN];
	struct sb body = { NULL, 0, 0 };
	struct run u;
	size_t i;

	h[0] = 0;
	h[1] = (KS_MAX_MESSAGE + 1) >> 24;
	h[2] = ((KS_MAX_MESSAGE + 1) >> 16) & 0xff;
	h[3] = ((KS_MAX_MESSAGE + 1) >> 8) & 0xff;
	h[4] = (KS_MAX_MESSAGE + 1) & 0xff;
	sb_add(&body, h, sizeof(h));
	run(&u, &body, 0, 0, 0);
	ck_assert_int_eq(u.rc, KS_PROTO);
	done_run(&u);
	body.len = 0;
	for (i = 0; i < KS_JSON_DEPTH + 2; i++)
		big[i] = '[';
	for (; i < 2 * (KS_JSON_DEPTH + 2); i++)
		big[i] = ']';
	envelope(&body, 0, big, 2 * (KS_JSON_DEPTH + 2));
	run(&u, &body, 0, 0, 0);
	ck_assert_int_eq(u.rc, KS_PROTO);
	done_run(&u);
	/* an array is valid JSON but no message */
	body.len = 0;
	one(&body, "[]");
	run(&u, &body, 0, 0, 0);
	ck_assert_int_eq(u.rc, KS_PROTO);
	done_run(&u);
	free(body.p);
}
END_TEST

/* Ids: only the first, only of the right shape, only the assistant's. */
START_TEST(ids)
{
	struct sb body = { NULL, 0, 0 };
	struct run u;
	char id[KS_ID_MAX + 64];

	snprintf(id, sizeof(id), "{\"chat\":{\"id\":\"%0*d\"}}",
	    KS_ID_MAX + 1, 7);
	one(&body, "{\"chat\":{\"id\":\"bad id\"}}");
	one(&body, "{\"chat\":{\"id\":7}}");
	one(&body, "{\"message\":{\"id\":\"u1\",\"role\":\"user\"}}");
	one(&body, "{\"chat\":{\"id\":\"first-ok_1.2:3\"}}");
	one(&body, "{\"chat\":{\"id\":\"second\"}}");
	one(&body, "{\"message\":{\"id\":\"m1\",\"role\":\"assistant\"}}");
	one(&body, "{\"message\":{\"id\":\"m2\",\"role\":\"assistant\"}}");
	one(&body, "{\"op\":\"set\",\"mask\":\"block.text\",\"block\":{\"text\""
	    ":{\"content\":\"x\"}}}");
	envelope(&body, KC_FLAG_END, "", 0);
	run(&u, &body, 0, 0, 0);
	ck_assert_int_eq(u.rc, KS_OK);
	ck_assert_str_eq(ks_chat_id(u.st), "first-ok_1.2:3");
	ck_assert_str_eq(ks_message_id(u.st), "m1");
	done_run(&u);
	/* too long */
	body.len = 0;
	one(&body, id);
	run(&u, &body, 0, 0, 0);
	ck_assert_ptr_null(ks_chat_id(u.st));
	ck_assert_int_eq(u.rc, KS_PROTO);	/* no end: cut */
	done_run(&u);
	free(body.p);
}
END_TEST

/* Error statuses by code and reason (stream.h). */
START_TEST(statuses)
{
	ck_assert_int_eq(ks_error_status("unauthenticated"), 401);
	ck_assert_int_eq(ks_error_status("permission_denied"), 403);
	ck_assert_int_eq(ks_error_status("resource_exhausted"), 429);
	ck_assert_int_eq(ks_error_status("unavailable"), 503);
	ck_assert_int_eq(ks_error_status("internal"), 500);
	ck_assert_int_eq(ks_error_status("invalid_argument"), 400);
	ck_assert_int_eq(ks_error_status("REASON_COMPLETION_OVERLOADED"), 503);
	ck_assert_int_eq(ks_error_status("REASON_RATE_LIMIT"), 429);
	ck_assert_int_eq(ks_error_status("QUOTA_EXHAUSTED"), 429);
	ck_assert_int_eq(ks_error_status("401"), 401);
	ck_assert_int_eq(ks_error_status("599"), 599);
	ck_assert_int_eq(ks_error_status("600"), 502);
	ck_assert_int_eq(ks_error_status("42x"), 502);
	ck_assert_int_eq(ks_error_status("something"), 502);
	ck_assert_int_eq(ks_error_status(""), 502);
	ck_assert_int_eq(ks_error_status(NULL), 502);
	ck_assert_str_eq(ks_strerror(KS_EMPTY),
	    "the stream ended without an answer");
}
END_TEST

/* An error message is cut to KS_ERRMSG_MAX, between characters. */
START_TEST(long_error)
{
	struct sb body = { NULL, 0, 0 }, msg = { NULL, 0, 0 };
	struct run u;
	int i;

	sb_add(&msg, "{\"error\":{\"code\":\"bad code!\",\"message\":\"", 40);
	for (i = 0; i < 600; i++)
		sb_add(&msg, "\xe4\xbd\xa0", 3);
	sb_add(&msg, "\"}}", 3);
	one(&body, msg.p);
	run(&u, &body, 0, 0, 0);
	ck_assert_int_eq(u.rc, KS_UPSTREAM);
	ck_assert_uint_eq(strlen(ks_error(u.st)->message), 510);
	ck_assert_str_eq(ks_error(u.st)->code, "bad_code_");
	ck_assert_int_eq(ks_error(u.st)->status, 502);
	done_run(&u);
	free(body.p);
	free(msg.p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("kimi_stream");
	TCase *t = tcase_create("all");

	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, fixture, 0, sizeof(fixtures) /
	    sizeof(fixtures[0]));
	tcase_add_test(t, limits);
	tcase_add_test(t, ids);
	tcase_add_test(t, statuses);
	tcase_add_test(t, long_error);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
