/*
 * Unit tests for upstream/kimi/connect.c: Connect envelopes written and
 * read back, the five-byte header cut at every byte, the end-of-stream
 * flag and what its JSON says, every framing error, the Connect code
 * table and the UTF-8 cleaning every upstream string goes through.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "upstream/kimi/connect.h"

/* ------------------------------------------------------------ recorder */

struct got {
	char	 log[8192];	/* "flags:len:payload|" per envelope */
	size_t	 len;
	int	 n, stop_at;
	const char *last;	/* where the last payload was handed over */
};

static int
record(void *u, unsigned flags, const char *p, size_t n)
{
	struct got *g = u;
	int w;

	w = snprintf(g->log + g->len, sizeof(g->log) - g->len, "%u:%zu:%.*s|",
	    flags, n, (int)n, p);
	ck_assert_int_lt(w, (int)(sizeof(g->log) - g->len));
	g->len += (size_t)w;
	g->last = p;
	return ++g->n == g->stop_at;
}

/* Envelopes of the given payloads; the last one is end-of-stream. */
static size_t
frames(unsigned char *out, const char *const *payloads, size_t n)
{
	size_t i, off = 0, len;

	for (i = 0; i < n; i++) {
		len = strlen(payloads[i]);
		ck_assert_int_eq(kc_frame(out + off, i + 1 == n ? KC_FLAG_END :
		    0, payloads[i], len), 0);
		off += KC_HEADER_LEN + len;
	}
	return off;
}

static const char *const three[] = {
	"{\"op\":\"set\",\"chat\":{\"id\":\"c1\"}}",
	"",
	"{\"done\":{}}",
	"{}",
};

/* ------------------------------------------------------------ writing */

START_TEST(frame_vectors)
{
	unsigned char out[KC_HEADER_LEN + 300];
	char big[300];

	ck_assert_int_eq(kc_frame(out, 0, "{}", 2), 0);
	ck_assert_mem_eq(out, "\x00\x00\x00\x00\x02{}", 7);
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(kc_frame(out, KC_FLAG_END, big, sizeof(big)), 0);
	ck_assert_mem_eq(out, "\x02\x00\x00\x01\x2c", 5);
	ck_assert_mem_eq(out + 5, big, sizeof(big));
	ck_assert_int_eq(kc_frame(out, 0, "", 0), 0);
	ck_assert_mem_eq(out, "\x00\x00\x00\x00\x00", 5);
}
END_TEST

/* ------------------------------------------------------------ reading */

START_TEST(read_whole_in_place)
{
	unsigned char body[512];
	struct kc_reader r;
	struct got g;
	size_t n = frames(body, three, 4);

	memset(&g, 0, sizeof(g));
	kc_init(&r, record, &g, 0);
	ck_assert_int_eq(kc_feed(&r, body, n), KC_OK);
	ck_assert_int_eq(kc_finish(&r), KC_OK);
	ck_assert_int_eq(kc_ended(&r), 1);
	ck_assert_str_eq(g.log, "0:31:{\"op\":\"set\",\"chat\":{\"id\":\"c1\"}}|"
	    "0:0:|0:11:{\"done\":{}}|2:2:{}|");
	/* a whole envelope is handed over from the caller's chunk */
	ck_assert_ptr_eq(g.last, (const char *)body + n - 2);
	kc_free(&r);
}
END_TEST

/* Every cut into two chunks and one byte at a time: the same envelopes. */
START_TEST(read_split_everywhere)
{
	unsigned char body[512];
	struct kc_reader r;
	struct got whole, g;
	size_t n = frames(body, three, 4), cut, i;

	memset(&whole, 0, sizeof(whole));
	kc_init(&r, record, &whole, 0);
	ck_assert_int_eq(kc_feed(&r, body, n), KC_OK);
	kc_free(&r);
	for (cut = 0; cut <= n; cut++) {
		memset(&g, 0, sizeof(g));
		kc_init(&r, record, &g, 0);
		ck_assert_int_eq(kc_feed(&r, body, cut), KC_OK);
		ck_assert_int_eq(kc_feed(&r, body + cut, n - cut), KC_OK);
		ck_assert_int_eq(kc_finish(&r), KC_OK);
		ck_assert_str_eq(g.log, whole.log);
		kc_free(&r);
	}
	memset(&g, 0, sizeof(g));
	kc_init(&r, record, &g, 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(kc_feed(&r, body + i, 1), KC_OK);
	ck_assert_int_eq(kc_finish(&r), KC_OK);
	ck_assert_str_eq(g.log, whole.log);
	ck_assert_int_eq(g.n, 4);
	kc_free(&r);
}
END_TEST

/* A length over 16 bits reads big-endian. */
START_TEST(read_big_length)
{
	static char payload[70000];
	static unsigned char body[KC_HEADER_LEN + sizeof(payload)];
	struct kc_reader r;
	struct got g;

	memset(payload, 'y', sizeof(payload));
	ck_assert_int_eq(kc_frame(body, 0, payload, sizeof(payload)), 0);
	ck_assert_mem_eq(body, "\x00\x00\x01\x11\x70", 5);
	memset(&g, 0, sizeof(g));
	g.len = 0;
	kc_init(&r, NULL, &g, 0);
	ck_assert_int_eq(kc_feed(&r, body, 3), KC_OK);
	ck_assert_int_eq(kc_feed(&r, body + 3, 40000), KC_OK);
	ck_assert_int_eq(kc_finish(&r), KC_TRUNCATED);
	kc_free(&r);
	kc_init(&r, NULL, &g, 0);
	ck_assert_int_eq(kc_feed(&r, body, 3), KC_OK);
	ck_assert_int_eq(kc_feed(&r, body + 3, sizeof(body) - 3), KC_OK);
	ck_assert_int_eq(kc_finish(&r), KC_OK);
	ck_assert_int_eq(kc_ended(&r), 0);
	kc_free(&r);
}
END_TEST

START_TEST(read_errors)
{
	struct kc_reader r;
	struct got g;

	memset(&g, 0, sizeof(g));
	/* compressed: we never asked for it */
	kc_init(&r, record, &g, 0);
	ck_assert_int_eq(kc_feed(&r, "\x01\x00\x00\x00\x00", 5), KC_COMPRESSED);
	ck_assert_int_eq(kc_feed(&r, "\x00\x00\x00\x00\x00", 5), KC_COMPRESSED);
	kc_free(&r);
	/* a flag bit the protocol does not define */
	kc_init(&r, record, &g, 0);
	ck_assert_int_eq(kc_feed(&r, "\x04\x00\x00", 3), KC_OK);
	ck_assert_int_eq(kc_feed(&r, "\x00\x00", 2), KC_FLAGS);
	kc_free(&r);
	/* over the limit, told at the header, before any payload */
	kc_init(&r, record, &g, 16);
	ck_assert_int_eq(kc_feed(&r, "\x00\x00\x00\x00\x11", 5), KC_TOOBIG);
	kc_free(&r);
	kc_init(&r, record, &g, 16);
	ck_assert_int_eq(kc_feed(&r, "\x00\x00\x00\x00\x10"
	    "0123456789abcdef", 21), KC_OK);
	kc_free(&r);
	/* 2^32 - 1 against the default limit */
	kc_init(&r, record, &g, 0);
	ck_assert_int_eq(kc_feed(&r, "\x00\xff\xff\xff\xff", 5), KC_TOOBIG);
	kc_free(&r);
	/* bytes after the end of the stream */
	kc_init(&r, record, &g, 0);
	ck_assert_int_eq(kc_feed(&r, "\x02\x00\x00\x00\x02{}\x00", 8),
	    KC_TRAILING);
	ck_assert_int_eq(kc_ended(&r), 1);
	kc_free(&r);
	/* cut inside the header, inside the payload */
	kc_init(&r, record, &g, 0);
	ck_assert_int_eq(kc_feed(&r, "\x00\x00", 2), KC_OK);
	ck_assert_int_eq(kc_finish(&r), KC_TRUNCATED);
	ck_assert_int_eq(kc_feed(&r, "\x00", 1), KC_TRUNCATED);	/* sticky */
	kc_free(&r);
	kc_init(&r, record, &g, 0);
	ck_assert_int_eq(kc_feed(&r, "\x00\x00\x00\x00\x05{}", 7), KC_OK);
	ck_assert_int_eq(kc_finish(&r), KC_TRUNCATED);
	kc_free(&r);
	ck_assert_str_eq(kc_strerror(KC_TRUNCATED),
	    "the stream ended inside a Connect envelope");
	ck_assert_str_eq(kc_strerror(KC__MAX), "unknown error");
}
END_TEST

/* The callback stops the reader at its second envelope, for good. */
START_TEST(read_abort)
{
	unsigned char body[512];
	struct kc_reader r;
	struct got g;
	size_t n = frames(body, three, 4);

	memset(&g, 0, sizeof(g));
	g.stop_at = 2;
	kc_init(&r, record, &g, 0);
	ck_assert_int_eq(kc_feed(&r, body, n), KC_ABORT);
	ck_assert_int_eq(g.n, 2);
	ck_assert_int_eq(kc_feed(&r, body, n), KC_ABORT);
	ck_assert_int_eq(kc_finish(&r), KC_ABORT);
	ck_assert_int_eq(g.n, 2);
	kc_free(&r);
}
END_TEST

/* ------------------------------------------------------------ end of stream */

START_TEST(end_parse)
{
	struct kc_end e;
	const char *s;

	ck_assert_int_eq(kc_end_parse("{}", 2, 0, &e), 0);
	ck_assert_int_eq(e.error, 0);
	ck_assert_int_eq(e.retry_after, -1);
	ck_assert_int_eq(kc_end_parse("", 0, 0, &e), 0);
	ck_assert_int_eq(e.error, 0);
	s = "{\"error\":{\"code\":\"resource_exhausted\",\"message\":"
	    "\"slow down\",\"details\":[]},\"metadata\":{\"Retry-After\":"
	    "[\"30\"],\"x-trace\":[\"abc\"]}}";
	ck_assert_int_eq(kc_end_parse(s, strlen(s), 0, &e), 0);
	ck_assert_int_eq(e.error, 1);
	ck_assert_str_eq(e.code, "resource_exhausted");
	ck_assert_str_eq(e.message, "slow down");
	ck_assert_int_eq(e.retry_after, 30);
	/* metadata without an error: trailers only */
	s = "{\"metadata\":{\"retry-after\":[\"x\"]}}";
	ck_assert_int_eq(kc_end_parse(s, strlen(s), 0, &e), 0);
	ck_assert_int_eq(e.error, 0);
	ck_assert_int_eq(e.retry_after, -1);
	/* the message becomes one line of valid UTF-8 */
	s = "{\"error\":{\"code\":\"internal\",\"message\":\"a\\nb\\u0001c\xff"
	    "d\"}}";
	ck_assert_int_eq(kc_end_parse(s, strlen(s), 0, &e), 0);
	ck_assert_str_eq(e.message, "a b c\xef\xbf\xbd" "d");
	/* a unary error body is {"code","message"} at the top */
	s = "{\"code\":\"unauthenticated\",\"message\":\"token expired\"}";
	ck_assert_int_eq(kc_end_parse(s, strlen(s), 1, &e), 0);
	ck_assert_int_eq(e.error, 1);
	ck_assert_str_eq(e.code, "unauthenticated");
	ck_assert_int_eq(kc_end_parse(s, strlen(s), 0, &e), 0);
	ck_assert_int_eq(e.error, 0);
	ck_assert_int_eq(kc_end_parse("[1]", 3, 0, &e), -1);
	ck_assert_int_eq(kc_end_parse("{\"a\":", 5, 0, &e), -1);
	ck_assert_int_eq(kc_end_parse("{} x", 4, 0, &e), -1);
}
END_TEST

/* A message longer than KC_MSG_MAX is cut between characters. */
START_TEST(end_long_message)
{
	struct kc_end e;
	char s[4096];
	size_t n, i;

	n = (size_t)snprintf(s, sizeof(s), "{\"error\":{\"message\":\"x");
	for (i = 0; i < 400; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "\xe4\xbd\xa0");
	n += (size_t)snprintf(s + n, sizeof(s) - n, "\"}}");
	ck_assert_int_eq(kc_end_parse(s, n, 0, &e), 0);
	/* 1 + 3k bytes, the largest that fits 512 */
	ck_assert_uint_eq(strlen(e.message), 511);
	ck_assert_str_eq(e.code, "");
}
END_TEST

START_TEST(code_table)
{
	ck_assert_int_eq(kc_code_status("unauthenticated"), 401);
	ck_assert_int_eq(kc_code_status("permission_denied"), 403);
	ck_assert_int_eq(kc_code_status("resource_exhausted"), 429);
	ck_assert_int_eq(kc_code_status("unavailable"), 503);
	ck_assert_int_eq(kc_code_status("deadline_exceeded"), 504);
	ck_assert_int_eq(kc_code_status("invalid_argument"), 400);
	ck_assert_int_eq(kc_code_status("canceled"), 499);
	ck_assert_int_eq(kc_code_status("unimplemented"), 501);
	ck_assert_int_eq(kc_code_status("internal"), 500);
	ck_assert_int_eq(kc_code_status("data_loss"), 500);
	ck_assert_int_eq(kc_code_status("Unauthenticated"), -1);
	ck_assert_int_eq(kc_code_status("REASON_X"), -1);
	ck_assert_int_eq(kc_code_status(NULL), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("kimi_connect");
	TCase *t = tcase_create("all");

	tcase_add_test(t, frame_vectors);
	tcase_add_test(t, read_whole_in_place);
	tcase_add_test(t, read_split_everywhere);
	tcase_add_test(t, read_big_length);
	tcase_add_test(t, read_errors);
	tcase_add_test(t, read_abort);
	tcase_add_test(t, end_parse);
	tcase_add_test(t, end_long_message);
	tcase_add_test(t, code_table);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
