/*
 * Unit tests for upstream/minimax/poll.c, the decoder that turns
 * get_chat_detail snapshots (providers.md §5.5) into deltas.  Each case
 * is a list of snapshots written by hand with the exact text the client
 * must end up with; a recording sink checks the sink contract on every
 * call (role once and first, nothing after the end, deltas non-empty and
 * valid UTF-8).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tests/unit/unit.h"
#include "upstream/minimax/poll.h"

struct rec {
	char	 text[4096], reasoning[4096], log[8192], end[512];
	int	 calls, roles, abort_at, deltas;
};

static bool
valid_utf8(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, j, k;

	for (i = 0; i < n; i += k) {
		k = u[i] < 0x80 ? 1 : u[i] < 0xc2 ? 0 : u[i] < 0xe0 ? 2 :
		    u[i] < 0xf0 ? 3 : u[i] < 0xf5 ? 4 : 0;
		if (k == 0 || i + k > n)
			return false;
		for (j = 1; j < k; j++)
			if ((u[i + j] & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static int
rec_call(struct rec *r, char kind)
{
	ck_assert_msg(r->end[0] == '\0', "sink called after the end");
	if (kind == 'r')
		ck_assert_int_eq(r->calls, 0);
	else if (kind != 'e')
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
rec_delta(struct rec *r, char *to, char tag, const char *s, size_t n)
{
	ck_assert_uint_gt(n, 0);
	ck_assert_msg(valid_utf8(s, n), "invalid UTF-8 to the sink");
	strncat(to, s, n);
	snprintf(r->log + strlen(r->log), sizeof(r->log) - strlen(r->log),
	    "%c[%.*s]", tag, (int)n, s);
	r->deltas++;
	return rec_call(r, 't');
}

static int
rec_text(void *ctx, const char *s, size_t n)
{
	struct rec *r = ctx;

	return rec_delta(r, r->text, 'T', s, n);
}

static int
rec_reasoning(void *ctx, const char *s, size_t n)
{
	struct rec *r = ctx;

	return rec_delta(r, r->reasoning, 'R', s, n);
}

static int
rec_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct rec *r = ctx;
	int rc = rec_call(r, 'f');

	ck_assert_int_eq(f, CHAT_FINISH_STOP);
	ck_assert_ptr_null(u);
	snprintf(r->end, sizeof(r->end), "finish");
	return rc;
}

static int
rec_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct rec *r = ctx;
	int rc = rec_call(r, 'e');

	ck_assert_ptr_nonnull(type);
	ck_assert_ptr_null(strchr(msg, '\n'));
	snprintf(r->end, sizeof(r->end), "error %d %s: %s", status, code, msg);
	return rc;
}

static struct chat_sink
sink_of(struct rec *r)
{
	struct chat_sink k;

	memset(&k, 0, sizeof(k));
	memset(r, 0, sizeof(*r));
	k.ctx = r;
	k.role = rec_role;
	k.text = rec_text;
	k.reasoning = rec_reasoning;
	k.finish = rec_finish;
	k.error = rec_error;
	return k;
}

/* An AI message and a whole snapshot, by hand. */
#define AI(id, text, think) "{\"msg_id\":" id ",\"msg_type\":2," \
	"\"msg_content\":\"" text "\",\"extra_info\":{\"thinking_content\":\"" \
	think "\"}}"
#define USER "{\"msg_id\":1,\"msg_type\":1,\"msg_content\":\"question\"}"
#define SNAP(status, msgs) "{\"chat\":{\"chat_status\":" #status "}," \
	"\"messages\":[" USER "," msgs "]," \
	"\"base_resp\":{\"status_code\":0,\"status_msg\":\"\"}}"

/* Feeds the snapshots; the result of the last feed. */
static enum mm_poll_err
run(struct rec *r, int final_only, const char *const *snaps, int abort_at,
    struct mm_poll **keep)
{
	struct chat_sink k = sink_of(r);
	struct mm_poll_opts o = { final_only, NULL };
	struct mm_poll *p;
	enum mm_poll_err e = MMP_OK;

	r->abort_at = abort_at;
	ck_assert_int_eq(mm_poll_new(&p, &k, &o), MMP_OK);
	for (; *snaps != NULL; snaps++) {
		e = mm_poll_feed(p, *snaps, strlen(*snaps));
		if (e != MMP_OK || mm_poll_done(p))
			break;
	}
	if (keep != NULL)
		*keep = p;
	else
		mm_poll_free(p);
	return e;
}

START_TEST(grows)
{
	static const char *const s[] = {
		"{\"chat\":{\"chat_status\":1},\"messages\":[" USER "],"
		    "\"base_resp\":{\"status_code\":0}}",
		SNAP(1, AI("7", "", "Let me")),
		SNAP(1, AI("7", "Hel", "Let me think.")),
		SNAP(1, AI("7", "Hello", "Let me think.")),
		SNAP(2, AI("7", "Hello, world.", "Let me think.")),
		NULL
	};
	struct rec r;

	ck_assert_int_eq(run(&r, 0, s, 0, NULL), MMP_OK);
	ck_assert_str_eq(r.log, "R[Let me]R[ think.]T[Hel]T[lo]T[, world.]");
	ck_assert_str_eq(r.end, "finish");
	ck_assert_int_eq(r.roles, 1);
}
END_TEST

/* Non-stream: the partial snapshots are only watched; the last is all. */
START_TEST(final_only)
{
	static const char *const s[] = {
		SNAP(1, AI("7", "Hel", "Let me")),
		SNAP(1, AI("7", "Hello", "Let me think.")),
		SNAP(2, AI("7", "Hello, world.", "Let me think.")),
		NULL
	};
	struct rec r;
	struct mm_poll *p;

	ck_assert_int_eq(run(&r, 1, s, 0, &p), MMP_OK);
	ck_assert_str_eq(r.log, "R[Let me think.]T[Hello, world.]");
	ck_assert_str_eq(r.end, "finish");
	ck_assert_int_eq(mm_poll_status(p), 2);
	mm_poll_free(p);
}
END_TEST

/* chat_status 2 with text is the end, not the first text (§5.5 [INF]). */
START_TEST(not_first_partial)
{
	static const char *const s[] = {
		SNAP(1, AI("7", "partial", "")),
		SNAP(1, AI("7", "partial and more", "")),
		NULL
	};
	struct rec r;
	struct mm_poll *p;

	ck_assert_int_eq(run(&r, 1, s, 0, &p), MMP_OK);
	ck_assert_str_eq(r.log, "");
	ck_assert_int_eq(mm_poll_done(p), 0);
	/* begun, as a stream would have, but nothing written */
	ck_assert_int_eq(mm_poll_started(p), 1);
	ck_assert_int_eq(r.roles, 1);
	mm_poll_free(p);
}
END_TEST

START_TEST(stale_copy_ignored)
{
	static const char *const s[] = {
		SNAP(1, AI("7", "Hello world", "")),
		SNAP(1, AI("7", "Hello", "")),
		SNAP(2, AI("7", "Hello world!", "")),
		NULL
	};
	struct rec r;
	struct mm_poll *p;

	run(&r, 0, s, 0, &p);
	ck_assert_str_eq(r.log, "T[Hello world]T[!]");
	ck_assert_int_eq(mm_poll_rewrites(p), 0);
	mm_poll_free(p);
}
END_TEST

/* Rewritten text goes on from what the client has, at a character. */
START_TEST(rewrite_utf8)
{
	static const char *const s[] = {
		SNAP(1, AI("7", "a\\u4f60", "")),		/* a你 */
		SNAP(1, AI("7", "ab\\u4f60\\u597d", "")),		/* ab你好 */
		SNAP(2, AI("7", "ab\\u4f60\\u597d!", "")),
		NULL
	};
	struct rec r;
	struct mm_poll *p;

	run(&r, 0, s, 0, &p);
	/* byte 4 of "ab你好" is inside 你: the write starts at 好 */
	ck_assert_str_eq(r.text, "a\xe4\xbd\xa0\xe5\xa5\xbd!");
	ck_assert_int_eq(mm_poll_rewrites(p), 1);
	ck_assert_str_eq(r.end, "finish");
	mm_poll_free(p);
}
END_TEST

START_TEST(multibyte_growth)
{
	static const char *const s[] = {
		SNAP(1, AI("7", "\\u4f60", "\\ud83d\\ude00")),
		SNAP(1, AI("7", "\\u4f60\\u597d", "\\ud83d\\ude00\\ud83d\\udc0b")),
		SNAP(2, AI("7", "\\u4f60\\u597d\\u3002", "\\ud83d\\ude00\\ud83d\\udc0b")),
		NULL
	};
	struct rec r;

	run(&r, 0, s, 0, NULL);
	ck_assert_str_eq(r.text, "\xe4\xbd\xa0\xe5\xa5\xbd\xe3\x80\x82");
	ck_assert_str_eq(r.reasoning, "\xf0\x9f\x98\x80\xf0\x9f\x90\x8b");
	ck_assert_int_eq(r.deltas, 5);
}
END_TEST

/* Invalid bytes are the upstream's; the client gets U+FFFD. */
START_TEST(invalid_utf8)
{
	const char *s[] = { NULL, NULL };
	char body[256];
	struct rec r;

	snprintf(body, sizeof(body), SNAP(2, AI("7", "a%sb", "")), "\xff\xc3");
	s[0] = body;
	run(&r, 0, s, 0, NULL);
	ck_assert_str_eq(r.text, "a\xef\xbf\xbd\xef\xbf\xbd" "b");
}
END_TEST

/* A further AI message: the last one was complete. */
START_TEST(new_message_appended)
{
	static const char *const s[] = {
		SNAP(1, AI("7", "one", "t1")),
		SNAP(1, AI("7", "one two", "t1") "," AI("\"9\"", "three", "t2")),
		SNAP(2, AI("7", "one two", "t1") "," AI("\"9\"", "three four", "t2")),
		NULL
	};
	struct rec r;

	run(&r, 0, s, 0, NULL);
	ck_assert_str_eq(r.text, "one two\n\nthree four");
	ck_assert_str_eq(r.reasoning, "t1\n\nt2");
	ck_assert_str_eq(r.end, "finish");
}
END_TEST

/* The same, seen whole by a non-stream answer. */
START_TEST(new_message_final)
{
	static const char *const s[] = {
		SNAP(2, AI("7", "one two", "") "," AI("9", "three four", "t2")),
		NULL
	};
	struct rec r;

	run(&r, 1, s, 0, NULL);
	ck_assert_str_eq(r.text, "one two\n\nthree four");
	ck_assert_str_eq(r.reasoning, "t2");
}
END_TEST

/* The message was replaced: carry on when the new one extends it. */
START_TEST(replaced_extends)
{
	static const char *const s[] = {
		SNAP(1, AI("7", "Hel", "")),
		SNAP(1, AI("8", "Hello", "")),
		SNAP(2, AI("8", "Hello.", "")),
		NULL
	};
	struct rec r;

	run(&r, 0, s, 0, NULL);
	ck_assert_str_eq(r.log, "T[Hel]T[lo]T[.]");
}
END_TEST

START_TEST(replaced_differs)
{
	static const char *const s[] = {
		SNAP(1, AI("7", "Hel", "")),
		SNAP(2, AI("8", "Bye", "")),
		NULL
	};
	struct rec r;

	run(&r, 0, s, 0, NULL);
	ck_assert_str_eq(r.log, "T[Hel]T[\n\nBye]");
	ck_assert_str_eq(r.end, "finish");
}
END_TEST

START_TEST(changed_flag)
{
	const char *a = SNAP(1, AI("7", "Hel", ""));
	const char *b = SNAP(1, AI("7", "Hello", ""));
	struct chat_sink k;
	struct rec r;
	struct mm_poll *p;

	k = sink_of(&r);
	ck_assert_int_eq(mm_poll_new(&p, &k, NULL), MMP_OK);
	ck_assert_int_eq(mm_poll_status(p), -1);
	mm_poll_feed(p, a, strlen(a));
	ck_assert_int_eq(mm_poll_changed(p), 1);
	mm_poll_feed(p, a, strlen(a));
	ck_assert_int_eq(mm_poll_changed(p), 0);
	ck_assert_str_eq(r.log, "T[Hel]");
	mm_poll_feed(p, b, strlen(b));
	ck_assert_int_eq(mm_poll_changed(p), 1);
	mm_poll_free(p);
}
END_TEST

START_TEST(expired_1001)
{
	static const char *const s[] = {
		SNAP(1, AI("7", "Hel", "")),
		"{\"base_resp\":{\"status_code\":1001,\"status_msg\":"
		    "\"token expired\\nplease log in\"}}",
		SNAP(2, AI("7", "Hello", "")),
		NULL
	};
	struct rec r;

	ck_assert_int_eq(run(&r, 0, s, 0, NULL), MMP_UPSTREAM);
	ck_assert_str_eq(r.text, "Hel");
	ck_assert_ptr_nonnull(strstr(r.end, "error 401 account_expired: "));
	ck_assert_ptr_nonnull(strstr(r.end, "token expired please log in"));
}
END_TEST

START_TEST(other_code)
{
	static const char *const s[] = {
		"{\"statusInfo\":{\"code\":2013,\"message\":\"busy\"}}", NULL
	};
	struct rec r;

	ck_assert_int_eq(run(&r, 0, s, 0, NULL), MMP_UPSTREAM);
	ck_assert_str_eq(r.end, "error 502 upstream_error: MiniMax "
	    "get_chat_detail failed (code 2013): busy");
	ck_assert_int_eq(r.roles, 0);
}
END_TEST

START_TEST(finished_empty)
{
	static const char *const s[] = {
		SNAP(2, AI("7", "", "hmm")),
		SNAP(2, AI("7", "", "hmm")),
		SNAP(2, AI("7", "", "hmm")),
		SNAP(2, AI("7", "late", "hmm")),
		NULL
	};
	struct rec r;

	ck_assert_int_eq(run(&r, 0, s, 0, NULL), MMP_UPSTREAM);
	ck_assert_str_eq(r.reasoning, "hmm");
	ck_assert_str_eq(r.end, "error 502 empty_answer: MiniMax finished "
	    "the chat without an answer.");
	/* non-stream too, without any text */
	ck_assert_int_eq(run(&r, 1, s, 0, NULL), MMP_UPSTREAM);
	ck_assert_str_eq(r.log, "");
}
END_TEST

/* A continued chat: the earlier turn's messages, then this turn's. */
#define OLD	AI("7", "Old answer.", "old") ",{\"msg_id\":8,\"msg_type\":1," \
	"\"msg_content\":\"again\"}"

static enum mm_poll_err
run_after(struct rec *r, int fin, const char *after,
    const char *const *snaps, char *last, size_t lastsz)
{
	struct chat_sink k = sink_of(r);
	struct mm_poll_opts o = { fin, after };
	struct mm_poll *p;
	enum mm_poll_err e = MMP_OK;
	const char *id;

	ck_assert_int_eq(mm_poll_new(&p, &k, &o), MMP_OK);
	for (; *snaps != NULL; snaps++) {
		e = mm_poll_feed(p, *snaps, strlen(*snaps));
		if (e != MMP_OK || mm_poll_done(p))
			break;
	}
	id = mm_poll_message_id(p);
	snprintf(last, lastsz, "%s", id != NULL ? id : "(none)");
	mm_poll_free(p);
	return e;
}

START_TEST(continued_chat)
{
	static const char *const s[] = {
		/* the last turn's end, before this turn shows: not this end */
		SNAP(2, AI("7", "Old answer.", "old")),
		SNAP(2, AI("7", "Old answer.", "old")),
		SNAP(2, AI("7", "Old answer.", "old")),
		SNAP(2, AI("7", "Old answer.", "old")),
		SNAP(2, OLD),
		SNAP(1, OLD "," AI("9", "New", "")),
		SNAP(2, OLD "," AI("9", "New answer.", "")),
		NULL
	};
	char last[MMP_ID_MAX + 1];
	struct rec r;

	ck_assert_int_eq(run_after(&r, 0, "7", s, last, sizeof(last)),
	    MMP_OK);
	ck_assert_str_eq(r.log, "T[New]T[ answer.]");
	ck_assert_str_eq(r.end, "finish");
	ck_assert_str_eq(last, "9");
	ck_assert_int_eq(run_after(&r, 1, "7", s, last, sizeof(last)),
	    MMP_OK);
	ck_assert_str_eq(r.log, "T[New answer.]");
	ck_assert_str_eq(last, "9");
	/* without the anchor the old answer is part of it */
	ck_assert_int_eq(run(&r, 0, s + 5, 0, NULL), MMP_OK);
	ck_assert_str_eq(r.text, "Old answer.\n\nNew answer.");
}
END_TEST

START_TEST(continued_anchor)
{
	static const char *const s[] = {
		SNAP(2, OLD "," AI("9", "Lost.", "")),
		SNAP(2, OLD "," AI("9", "Lost.", "")),
		SNAP(2, OLD "," AI("9", "Lost.", "")),
		SNAP(2, OLD "," AI("9", "Lost.", "")),
		NULL
	};
	static const char *const msgs_then_anchor[] = {
		/* an anchor message without an id is known by its place */
		"{\"chat\":{\"chat_status\":2},\"messages\":[" USER ","
		    "{\"msg_type\":2,\"msg_content\":\"a\"},"
		    "{\"msg_type\":2,\"msg_content\":\"b\"}]}",
		NULL
	};
	char last[MMP_ID_MAX + 1], longid[MMP_ID_MAX + 2];
	struct chat_sink k;
	struct mm_poll_opts o = { 0, "" };
	struct mm_poll *p;
	struct rec r;

	/* an anchor the chat does not hold: nothing is this turn's */
	ck_assert_int_eq(run_after(&r, 0, "99", s, last, sizeof(last)),
	    MMP_OK);
	ck_assert_str_eq(r.log, "");
	ck_assert_str_eq(r.end, "");
	ck_assert_str_eq(last, "(none)");
	ck_assert_int_eq(run_after(&r, 0, "#1", msgs_then_anchor, last,
	    sizeof(last)), MMP_OK);
	ck_assert_str_eq(r.text, "b");
	ck_assert_str_eq(last, "#2");
	/* an anchor that is empty or too long is refused */
	k = sink_of(&r);
	ck_assert_int_eq(mm_poll_new(&p, &k, &o), MMP_PROTO);
	ck_assert_ptr_null(p);
	memset(longid, '1', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	o.after = longid;
	ck_assert_int_eq(mm_poll_new(&p, &k, &o), MMP_PROTO);
	longid[MMP_ID_MAX] = '\0';
	ck_assert_int_eq(mm_poll_new(&p, &k, &o), MMP_OK);
	mm_poll_free(p);
}
END_TEST

START_TEST(garbage)
{
	static const char *const bad[] = {
		"", "not json", "[1,2]", "{\"messages\":{}}", "{} trailing",
		"{\"messages\":[" AI("7", "x", "") "]", NULL
	};
	const char *one[2] = { NULL, NULL };
	struct rec r;
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		one[0] = bad[i];
		ck_assert_int_eq(run(&r, 0, one, 0, NULL), MMP_PROTO);
		ck_assert_int_eq(r.calls, 0);
	}
	/* white space after the object is fine */
	one[0] = "{\"messages\":[]}\r\n ";
	ck_assert_int_eq(run(&r, 0, one, 0, NULL), MMP_OK);
	ck_assert_str_ne(mm_poll_strerror(MMP_PROTO), "");
}
END_TEST

START_TEST(limits)
{
	char *body, *w;
	const char *one[2] = { NULL, NULL };
	struct rec r;
	int i;

	body = malloc(64 * (MMP_MAX_AI + 2) + 64);
	ck_assert_ptr_nonnull(body);
	w = body + sprintf(body, "{\"messages\":[");
	for (i = 0; i <= MMP_MAX_AI; i++)
		w += sprintf(w, "%s{\"msg_id\":%d,\"msg_type\":2}",
		    i ? "," : "", i);
	strcpy(w, "]}");
	one[0] = body;
	ck_assert_int_eq(run(&r, 0, one, 0, NULL), MMP_PROTO);
	free(body);
	/* an id too long */
	one[0] = "{\"messages\":[{\"msg_type\":2,\"msg_id\":\""
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "4\"}]}";
	ck_assert_int_eq(run(&r, 0, one, 0, NULL), MMP_PROTO);
}
END_TEST

/* A sink that stops at call k: nothing after, MMP_ABORT, sticky. */
START_TEST(abort_each_call)
{
	static const char *const s[] = {
		SNAP(1, AI("7", "a", "x")),
		SNAP(1, AI("7", "ab", "xy")),
		SNAP(2, AI("7", "abc", "xy")),
		NULL
	};
	struct rec r;
	struct mm_poll *p;
	int k;

	for (k = 1; k <= 6; k++) {
		ck_assert_int_eq(run(&r, 0, s, k, &p), MMP_ABORT);
		ck_assert_int_eq(r.calls, k);
		ck_assert_int_eq(mm_poll_done(p), 1);
		ck_assert_int_eq(mm_poll_feed(p, s[2], strlen(s[2])),
		    MMP_ABORT);
		ck_assert_int_eq(r.calls, k);
		mm_poll_free(p);
	}
}
END_TEST

/* Ids as strings or numbers, a message without one, no extra_info. */
START_TEST(shapes)
{
	static const char *const s[] = {
		"{\"chat\":{\"chat_status\":2},\"messages\":[{\"msg_type\":2,"
		    "\"msg_content\":\"a\"},{\"msg_type\":2,\"msg_id\":\"x\","
		    "\"msg_content\":\"b\",\"extra_info\":null}]}",
		NULL
	};
	struct rec r;

	ck_assert_int_eq(run(&r, 0, s, 0, NULL), MMP_OK);
	ck_assert_str_eq(r.text, "a\n\nb");
	ck_assert_str_eq(r.end, "finish");
}
END_TEST

START_TEST(envelope)
{
	struct json_object *o;
	char msg[8];

	o = json_tokener_parse("{\"base_resp\":{\"status_code\":\"1001\","
	    "\"status_msg\":\"\\u4f60\\u597d\\u4f60\"}}");
	ck_assert_int_eq(mm_envelope(o, msg, sizeof(msg)), 1001);
	/* cut between characters, never inside one */
	ck_assert_str_eq(msg, "\xe4\xbd\xa0\xe5\xa5\xbd");
	json_object_put(o);
	o = json_tokener_parse("{\"other\":1}");
	ck_assert_int_eq(mm_envelope(o, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "");
	json_object_put(o);
}
END_TEST

static Suite *
minimax_poll_suite(void)
{
	Suite *s = suite_create("minimax_poll");
	TCase *tc = tcase_create("poll");

	tcase_add_test(tc, grows);
	tcase_add_test(tc, final_only);
	tcase_add_test(tc, not_first_partial);
	tcase_add_test(tc, stale_copy_ignored);
	tcase_add_test(tc, rewrite_utf8);
	tcase_add_test(tc, multibyte_growth);
	tcase_add_test(tc, invalid_utf8);
	tcase_add_test(tc, new_message_appended);
	tcase_add_test(tc, new_message_final);
	tcase_add_test(tc, replaced_extends);
	tcase_add_test(tc, replaced_differs);
	tcase_add_test(tc, changed_flag);
	tcase_add_test(tc, expired_1001);
	tcase_add_test(tc, other_code);
	tcase_add_test(tc, finished_empty);
	tcase_add_test(tc, continued_chat);
	tcase_add_test(tc, continued_anchor);
	tcase_add_test(tc, garbage);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, abort_each_call);
	tcase_add_test(tc, shapes);
	tcase_add_test(tc, envelope);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(minimax_poll_suite)
