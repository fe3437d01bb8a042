/*
 * Unit tests for upstream/sse.c: the same stream must yield the same
 * events however it is cut into chunks.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tests/unit/unit.h"
#include "upstream/sse.h"

#define MAX_EVENTS	64

struct ev {
	char	*name;
	char	*data;
	size_t	 len;
};

struct rec {
	struct ev	 ev[MAX_EVENTS];
	size_t		 n;
	size_t		 abort_at;	/* return nonzero on this event (1-based) */
};

static int
rec_cb(void *ctx, const char *name, const char *data, size_t len)
{
	struct rec	*r = ctx;

	ck_assert_uint_lt(r->n, MAX_EVENTS);
	ck_assert(data[len] == '\0');
	r->ev[r->n].name = strdup(name);
	r->ev[r->n].data = malloc(len + 1);
	ck_assert_ptr_nonnull(r->ev[r->n].name);
	ck_assert_ptr_nonnull(r->ev[r->n].data);
	memcpy(r->ev[r->n].data, data, len + 1);
	r->ev[r->n].len = len;
	r->n++;
	return r->abort_at != 0 && r->n == r->abort_at;
}

static void
rec_clear(struct rec *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->ev[i].name);
		free(r->ev[i].data);
	}
	memset(r, 0, sizeof(*r));
}

struct want {
	const char	*name;
	const char	*data;
	size_t		 len;	/* 0: strlen(data) */
};

static void
rec_check(const struct rec *r, const struct want *w, size_t nw,
    const char *what)
{
	ck_assert_msg(r->n == nw, "%s: %zu events, want %zu", what, r->n, nw);
	for (size_t i = 0; i < nw; i++) {
		size_t	 len = w[i].len ? w[i].len : strlen(w[i].data);

		ck_assert_msg(strcmp(r->ev[i].name, w[i].name) == 0,
		    "%s: event %zu name \"%s\", want \"%s\"", what, i,
		    r->ev[i].name, w[i].name);
		ck_assert_msg(r->ev[i].len == len &&
		    memcmp(r->ev[i].data, w[i].data, len) == 0,
		    "%s: event %zu data \"%s\", want \"%s\"", what, i,
		    r->ev[i].data, w[i].data);
	}
}

/*
 * Every line-ending style, comments, names, multi-line data, UTF-8 text
 * (2-, 3- and 4-byte sequences), ignored fields, a field without colon.
 */
static const char big_stream[] =
    "\xef\xbb\xbf: leading comment after a BOM\r\n"
    "retry: 3000\n"
    "data: first\n"
    "\n"
    "event: delta\r\n"
    "id: 42\r\n"
    "data: line one\r\n"
    "data:line two, no space\r\n"
    "data:  two spaces keep one\r\n"
    "\r\n"
    ": keep-alive\r"
    "data: caf\xc3\xa9 \xe2\x88\x92 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80\r"
    "\r"
    "event: ignored-no-data\n"
    "\n"
    "data\n"
    "data:\n"
    "\n"
    "unknown: field\n"
    "DATA: case matters\n"
    "event:x\n"
    "event: last-wins\n"
    "data: {\"a\":\"b:c\"}\n"
    "\r\n"
    "data: trailing CR ends line\r"
    "\n"
    "data: [DONE]\n"
    "\n";

static const struct want big_want[] = {
	{ "message", "first", 0 },
	{ "delta", "line one\nline two, no space\n two spaces keep one", 0 },
	{ "message", "caf\xc3\xa9 \xe2\x88\x92 \xe4\xb8\xad\xe6\x96\x87 "
	    "\xf0\x9f\x98\x80", 0 },
	{ "message", "\n", 0 },
	{ "last-wins", "{\"a\":\"b:c\"}", 0 },
	{ "message", "trailing CR ends line\n[DONE]", 0 },
};
#define BIG_NWANT	(sizeof(big_want) / sizeof(big_want[0]))

/* Feed s cut at the given offsets (sorted, may repeat), then finish. */
static void
feed_cuts(struct rec *r, const char *s, size_t len, const size_t *cuts,
    size_t ncuts, size_t max_event)
{
	struct sse_parser	 p;
	size_t			 at = 0;
	bool			 mid = true;

	sse_init(&p, rec_cb, r, max_event);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t	 to = i < ncuts ? cuts[i] : len;

		ck_assert_int_eq(sse_feed(&p, s + at, to - at), SSE_OK);
		at = to;
	}
	ck_assert_int_eq(sse_finish(&p, &mid), SSE_OK);
	ck_assert(!mid);
	sse_free(&p);
}

START_TEST(trim)
{
	const char *d = " \t\r\n{\"a\": 1}\n \f";
	const char *e = NULL;

	ck_assert_uint_eq(sse_trim(&d, strlen(d)), 11);
	ck_assert_int_eq(strncmp(d, "{\"a\": 1}\n \f", 11), 0);
	d = " \n ";
	ck_assert_uint_eq(sse_trim(&d, 3), 0);
	ck_assert_uint_eq(sse_trim(&e, 5), 0);
	ck_assert_ptr_null(e);
	d = "x y";
	ck_assert_uint_eq(sse_trim(&d, 3), 3);
}
END_TEST

START_TEST(whole)
{
	struct rec	 r = { 0 };

	feed_cuts(&r, big_stream, sizeof(big_stream) - 1, NULL, 0, 0);
	rec_check(&r, big_want, BIG_NWANT, "whole");
	rec_clear(&r);
}
END_TEST

START_TEST(every_split_point)
{
	size_t	 len = sizeof(big_stream) - 1;

	for (size_t cut = 0; cut <= len; cut++) {
		struct rec	 r = { 0 };
		char		 what[32];

		feed_cuts(&r, big_stream, len, &cut, 1, 0);
		snprintf(what, sizeof(what), "cut %zu", cut);
		rec_check(&r, big_want, BIG_NWANT, what);
		rec_clear(&r);
	}
}
END_TEST

START_TEST(every_pair_of_split_points)
{
	size_t	 len = sizeof(big_stream) - 1;

	for (size_t a = 0; a <= len; a += 1)
		for (size_t b = a; b <= len; b += 3) {
			struct rec	 r = { 0 };
			size_t		 cuts[2] = { a, b };
			char		 what[48];

			feed_cuts(&r, big_stream, len, cuts, 2, 0);
			snprintf(what, sizeof(what), "cuts %zu,%zu", a, b);
			rec_check(&r, big_want, BIG_NWANT, what);
			rec_clear(&r);
		}
}
END_TEST

START_TEST(byte_by_byte)
{
	size_t		 len = sizeof(big_stream) - 1;
	size_t		*cuts = malloc(len * sizeof(*cuts));
	struct rec	 r = { 0 };

	ck_assert_ptr_nonnull(cuts);
	for (size_t i = 0; i < len; i++)
		cuts[i] = i;
	feed_cuts(&r, big_stream, len, cuts, len, 0);
	rec_check(&r, big_want, BIG_NWANT, "byte by byte");
	rec_clear(&r);
	free(cuts);
}
END_TEST

/* A small max_event makes the buffer hit its ceiling often. */
START_TEST(tight_limit_still_works)
{
	size_t		 len = sizeof(big_stream) - 1;
	size_t		*cuts = malloc(len * sizeof(*cuts));
	struct rec	 r = { 0 };

	ck_assert_ptr_nonnull(cuts);
	for (size_t i = 0; i < len; i++)
		cuts[i] = i;
	feed_cuts(&r, big_stream, len, cuts, len, 80);
	rec_check(&r, big_want, BIG_NWANT, "limit 80");
	rec_clear(&r);
	free(cuts);
}
END_TEST

START_TEST(crlf_split_is_one_line_end)
{
	struct sse_parser	 p;
	struct rec		 r = { 0 };
	static const struct want w1[] = { { "message", "a\nb", 0 } };
	static const struct want w2[] = { { "message", "a", 0 },
	    { "message", "b", 0 } };

	/* CR | LF across chunks: one line ending, no blank line. */
	sse_init(&p, rec_cb, &r, 0);
	ck_assert_int_eq(sse_feed(&p, "data: a\r", 8), SSE_OK);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_eq(sse_feed(&p, "\ndata: b\r", 9), SSE_OK);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_eq(sse_feed(&p, "\n", 1), SSE_OK);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_eq(sse_feed(&p, "\r", 1), SSE_OK);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_int_eq(sse_feed(&p, "\n", 1), SSE_OK);
	ck_assert_int_eq(sse_finish(&p, NULL), SSE_OK);
	rec_check(&r, w1, 1, "cr|lf");
	rec_clear(&r);
	sse_free(&p);

	/* CR CR is two line endings; LF CR too. */
	sse_init(&p, rec_cb, &r, 0);
	ck_assert_int_eq(sse_feed(&p, "data: a\r", 8), SSE_OK);
	ck_assert_int_eq(sse_feed(&p, "\r", 1), SSE_OK);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_int_eq(sse_feed(&p, "data: b\n\r", 9), SSE_OK);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_int_eq(sse_finish(&p, NULL), SSE_OK);
	rec_check(&r, w2, 2, "cr cr");
	rec_clear(&r);
	sse_free(&p);
}
END_TEST

START_TEST(toobig)
{
	struct sse_parser	 p;
	struct rec		 r = { 0 };
	char			 name[SSE_NAME_MAX + 16];

	/* "data: 0123456789" is 16 bytes: fits a 16-byte limit exactly. */
	sse_init(&p, rec_cb, &r, 16);
	ck_assert_int_eq(sse_feed(&p, "data: 0123456789\n\n", 18), SSE_OK);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_int_eq(sse_feed(&p, "data: 0123456789A\n\n", 19),
	    SSE_TOOBIG);
	ck_assert_uint_eq(r.n, 1);
	/* Sticky until reset. */
	ck_assert_int_eq(sse_feed(&p, "data: x\n\n", 9), SSE_TOOBIG);
	ck_assert_int_eq(sse_finish(&p, NULL), SSE_TOOBIG);
	sse_reset(&p);
	ck_assert_int_eq(sse_feed(&p, "data: x\n\n", 9), SSE_OK);
	ck_assert_uint_eq(r.n, 2);

	/* The limit covers the whole event, not just one line. */
	sse_reset(&p);
	ck_assert_int_eq(sse_feed(&p, "data: 01234567\n", 15), SSE_OK);
	ck_assert_int_eq(sse_feed(&p, "data: 0123\n", 11), SSE_TOOBIG);
	ck_assert_uint_eq(r.n, 2);
	sse_free(&p);

	/* Comments are skipped, never buffered: no limit applies. */
	sse_init(&p, rec_cb, &r, 16);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(sse_feed(&p, i ? "xxxxxxxxxx" : ":", i ? 10 : 1),
		    SSE_OK);
	ck_assert_int_eq(sse_feed(&p, "\ndata: ok\n\n", 11), SSE_OK);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_str_eq(r.ev[2].data, "ok");
	sse_free(&p);

	/* Event names have their own fixed limit. */
	memset(name, 'n', sizeof(name));
	sse_init(&p, rec_cb, &r, 0);
	ck_assert_int_eq(sse_feed(&p, "event:", 6), SSE_OK);
	ck_assert_int_eq(sse_feed(&p, name, SSE_NAME_MAX), SSE_OK);
	ck_assert_int_eq(sse_feed(&p, "\ndata: y\n\n", 10), SSE_OK);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_uint_eq(strlen(r.ev[3].name), SSE_NAME_MAX);
	ck_assert_int_eq(sse_feed(&p, "event:", 6), SSE_OK);
	ck_assert_int_eq(sse_feed(&p, name, SSE_NAME_MAX + 1), SSE_OK);
	ck_assert_int_eq(sse_feed(&p, "\n", 1), SSE_TOOBIG);
	sse_free(&p);
	rec_clear(&r);
}
END_TEST

START_TEST(callback_abort)
{
	struct sse_parser	 p;
	struct rec		 r = { 0 };
	static const char	 s[] = "data: 1\n\ndata: 2\n\ndata: 3\n\n";

	r.abort_at = 2;
	sse_init(&p, rec_cb, &r, 0);
	ck_assert_int_eq(sse_feed(&p, s, sizeof(s) - 1), SSE_ABORT);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_int_eq(sse_feed(&p, "data: 4\n\n", 9), SSE_ABORT);
	ck_assert_int_eq(sse_finish(&p, NULL), SSE_ABORT);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_str_eq(sse_strerror(SSE_ABORT),
	    "aborted by the event callback");

	/* Abort from the event flushed by sse_finish. */
	rec_clear(&r);
	r.abort_at = 1;
	sse_reset(&p);
	ck_assert_int_eq(sse_feed(&p, "data: z", 7), SSE_OK);
	ck_assert_int_eq(sse_finish(&p, NULL), SSE_ABORT);
	ck_assert_uint_eq(r.n, 1);
	sse_free(&p);
	rec_clear(&r);
}
END_TEST

START_TEST(finish_unterminated)
{
	struct sse_parser	 p;
	struct rec		 r = { 0 };
	bool			 mid;
	static const struct want w[] = { { "done", "[DONE]", 0 },
	    { "message", "x\ny", 0 }, { "message", "", 0 } };

	sse_init(&p, rec_cb, &r, 0);
	/* Closed after the last data line, without the blank line. */
	ck_assert_int_eq(sse_feed(&p, "event: done\ndata: [DONE]\n", 25),
	    SSE_OK);
	ck_assert_uint_eq(r.n, 0);
	mid = true;
	ck_assert_int_eq(sse_finish(&p, &mid), SSE_OK);
	ck_assert(!mid);
	ck_assert_uint_eq(r.n, 1);

	/* Closed in the middle of a line: flushed, and reported. */
	ck_assert_int_eq(sse_feed(&p, "data: x\r\ndata: y", 16), SSE_OK);
	mid = false;
	ck_assert_int_eq(sse_finish(&p, &mid), SSE_OK);
	ck_assert(mid);
	ck_assert_uint_eq(r.n, 2);

	/* A bare "data" with no line ending still makes an event. */
	ck_assert_int_eq(sse_feed(&p, "data", 4), SSE_OK);
	ck_assert_int_eq(sse_finish(&p, &mid), SSE_OK);
	ck_assert(mid);

	/* Mid comment: reported, no event. */
	ck_assert_int_eq(sse_feed(&p, ": ping", 6), SSE_OK);
	ck_assert_int_eq(sse_finish(&p, &mid), SSE_OK);
	ck_assert(mid);

	/* A CR as the very last byte ended the line. */
	ck_assert_int_eq(sse_feed(&p, "event: x\r", 9), SSE_OK);
	ck_assert_int_eq(sse_finish(&p, &mid), SSE_OK);
	ck_assert(!mid);

	/* Empty input. */
	ck_assert_int_eq(sse_finish(&p, &mid), SSE_OK);
	ck_assert(!mid);
	rec_check(&r, w, 3, "finish");
	sse_free(&p);
	rec_clear(&r);
}
END_TEST

START_TEST(embedded_nul)
{
	struct sse_parser	 p;
	struct rec		 r = { 0 };
	static const char	 s[] = "event: a\0b\ndata: x\0y\ndata: \0\n\n";
	static const struct want w[] = { { "a", "x\0y\n\0", 5 } };

	sse_init(&p, rec_cb, &r, 0);
	for (size_t i = 0; i < sizeof(s) - 1; i++)
		ck_assert_int_eq(sse_feed(&p, s + i, 1), SSE_OK);
	ck_assert_int_eq(sse_finish(&p, NULL), SSE_OK);
	rec_check(&r, w, 1, "nul");
	sse_free(&p);
	rec_clear(&r);
}
END_TEST

START_TEST(bom_only_at_start)
{
	struct sse_parser	 p;
	struct rec		 r = { 0 };
	static const struct want w[] = { { "message", "1", 0 },
	    { "message", "2", 0 } };

	sse_init(&p, rec_cb, &r, 0);
	/* BOM split across chunks; a second BOM is not stripped. */
	ck_assert_int_eq(sse_feed(&p, "\xef", 1), SSE_OK);
	ck_assert_int_eq(sse_feed(&p, "\xbb\xbf" "data: 1\n\n", 12), SSE_OK);
	ck_assert_int_eq(sse_feed(&p, "\xef\xbb\xbf" "data: 3\n\n", 12),
	    SSE_OK);
	ck_assert_int_eq(sse_finish(&p, NULL), SSE_OK);
	/* After finish a new stream starts: BOM allowed again. */
	ck_assert_int_eq(sse_feed(&p, "\xef\xbb\xbf" "data: 2\n\n", 12),
	    SSE_OK);
	ck_assert_int_eq(sse_finish(&p, NULL), SSE_OK);
	rec_check(&r, w, 2, "bom");
	sse_free(&p);
	rec_clear(&r);
}
END_TEST

START_TEST(no_data_no_event)
{
	struct sse_parser	 p;
	struct rec		 r = { 0 };
	static const struct want w[] = { { "message", "d", 0 } };

	sse_init(&p, rec_cb, &r, 0);
	ck_assert_int_eq(sse_feed(&p, "\n\n\r\n\r\r", 6), SSE_OK);
	ck_assert_int_eq(sse_feed(&p, "event: lost\nid: 1\n\n", 19), SSE_OK);
	/* The name of the dropped event must not leak into the next one. */
	ck_assert_int_eq(sse_feed(&p, "data: d\n\n", 9), SSE_OK);
	ck_assert_int_eq(sse_finish(&p, NULL), SSE_OK);
	rec_check(&r, w, 1, "no data");
	sse_free(&p);
	rec_clear(&r);
}
END_TEST

START_TEST(bad_args)
{
	struct sse_parser	 p;

	sse_init(&p, NULL, NULL, 0);
	ck_assert_int_eq(sse_feed(NULL, "x", 1), SSE_EINVAL);
	ck_assert_int_eq(sse_feed(&p, NULL, 1), SSE_EINVAL);
	ck_assert_int_eq(sse_feed(&p, NULL, 0), SSE_OK);
	/* No callback: events are parsed and dropped. */
	ck_assert_int_eq(sse_feed(&p, "data: x\n\n", 9), SSE_OK);
	ck_assert_int_eq(sse_finish(NULL, NULL), SSE_EINVAL);
	ck_assert_str_eq(sse_strerror(SSE_OK), "success");
	ck_assert_str_eq(sse_strerror((enum sse_err)99), "unknown error");
	sse_free(&p);
	sse_free(&p);
}
END_TEST

struct gpt {
	int	 chunks;
	int	 done;
	char	 text[256];
};

/* What the ChatGPT decoder will do: parse each data as JSON until [DONE]. */
static int
gpt_cb(void *ctx, const char *name, const char *data, size_t len)
{
	struct gpt		*g = ctx;
	struct json_object	*o, *msg, *content, *parts, *part;

	ck_assert_str_eq(name, "message");
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		g->done++;
		return 0;
	}
	ck_assert_int_eq(g->done, 0);
	o = json_tokener_parse(data);
	ck_assert_msg(o != NULL, "bad json: %s", data);
	ck_assert(json_object_object_get_ex(o, "message", &msg));
	ck_assert(json_object_object_get_ex(msg, "content", &content));
	ck_assert(json_object_object_get_ex(content, "parts", &parts));
	part = json_object_array_get_idx(parts, 0);
	snprintf(g->text, sizeof(g->text), "%s", json_object_get_string(part));
	g->chunks++;
	json_object_put(o);
	return 0;
}

START_TEST(chatgpt_stream)
{
	static const char	*parts[] = { "", "Hel", "Hello, w",
	    "Hello, w\xc3\xb6rld \xe2\x80\x94 \xe4\xbd\xa0\xe5\xa5\xbd",
	    "Hello, w\xc3\xb6rld \xe2\x80\x94 \xe4\xbd\xa0\xe5\xa5\xbd!" };
	char			 s[4096];
	size_t			 len = 0;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		len += (size_t)snprintf(s + len, sizeof(s) - len,
		    "data: {\"message\":{\"id\":\"m1\",\"author\":{\"role\":"
		    "\"assistant\"},\"content\":{\"content_type\":\"text\","
		    "\"parts\":[\"%s\"]},\"status\":\"in_progress\"},"
		    "\"conversation_id\":\"c1\",\"error\":null}\n\n", parts[i]);
	len += (size_t)snprintf(s + len, sizeof(s) - len,
	    ": ping\n\ndata: [DONE]\n\n");
	ck_assert_uint_lt(len, sizeof(s) - 1);

	/* Chunk sizes 1..64: boundaries land everywhere, also mid-UTF-8. */
	for (size_t step = 1; step <= 64; step++) {
		struct sse_parser	 p;
		struct gpt		 g = { 0 };

		sse_init(&p, gpt_cb, &g, 0);
		for (size_t at = 0; at < len; at += step)
			ck_assert_int_eq(sse_feed(&p, s + at,
			    at + step > len ? len - at : step), SSE_OK);
		ck_assert_int_eq(sse_finish(&p, NULL), SSE_OK);
		ck_assert_int_eq(g.chunks, 5);
		ck_assert_int_eq(g.done, 1);
		ck_assert_str_eq(g.text, parts[4]);
		sse_free(&p);
	}
}
END_TEST

/* Many events through one parser: the buffer is reused, not regrown. */
START_TEST(buffer_reuse)
{
	struct sse_parser	 p;
	struct rec		 r = { 0 };
	size_t			 cap;

	sse_init(&p, rec_cb, &r, 0);
	ck_assert_int_eq(sse_feed(&p, "data: warm\n\n", 12), SSE_OK);
	cap = p.cap;
	rec_clear(&r);
	for (int i = 0; i < 10000; i++) {
		ck_assert_int_eq(sse_feed(&p, "data: abc\r\ndata: de", 19),
		    SSE_OK);
		ck_assert_int_eq(sse_feed(&p, "f\r\n\r\n", 5), SSE_OK);
		ck_assert_uint_eq(r.n, 1);
		ck_assert_str_eq(r.ev[0].data, "abc\ndef");
		rec_clear(&r);
	}
	ck_assert_uint_eq(p.cap, cap);
	sse_free(&p);
}
END_TEST

static enum sse_err
feed_str(struct sse_parser *p, const char *s)
{
	return sse_feed(p, s, strlen(s));
}

/* Between events a parser holds no buffer; within one it keeps it. */
START_TEST(no_buffer_between_events)
{
	struct sse_parser	 p;
	struct rec		 r = { 0 };

	sse_init(&p, rec_cb, &r, 0);
	ck_assert_int_eq(feed_str(&p, "event: a\ndata: one\n\n"), SSE_OK);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_ptr_null(p.buf);
	/* an event cut mid-line, then between two lines */
	ck_assert_int_eq(feed_str(&p, "data: tw"), SSE_OK);
	ck_assert_ptr_nonnull(p.buf);
	ck_assert_int_eq(feed_str(&p, "o\n"), SSE_OK);
	ck_assert_ptr_nonnull(p.buf);
	ck_assert_int_eq(feed_str(&p, "\n"), SSE_OK);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_str_eq(r.ev[1].data, "two");
	ck_assert_ptr_null(p.buf);
	/* an empty data field is an event still pending: it is kept */
	ck_assert_int_eq(feed_str(&p, "event: e\ndata:\n"), SSE_OK);
	ck_assert_ptr_nonnull(p.buf);
	ck_assert_int_eq(feed_str(&p, "\n"), SSE_OK);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_str_eq(r.ev[2].name, "e");
	ck_assert_uint_eq(r.ev[2].len, 0);
	/* a name alone is no event */
	ck_assert_int_eq(feed_str(&p, "event: x\n"), SSE_OK);
	ck_assert_int_eq(feed_str(&p, "\n"), SSE_OK);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_int_eq(feed_str(&p, "data: z\n\n"), SSE_OK);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_str_eq(r.ev[3].name, "message");
	rec_clear(&r);
	sse_free(&p);
}
END_TEST

static Suite *
sse_suite(void)
{
	Suite	*s = suite_create("sse");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, trim);
	tcase_add_test(tc, no_buffer_between_events);
	tcase_add_test(tc, whole);
	tcase_add_test(tc, every_split_point);
	tcase_add_test(tc, every_pair_of_split_points);
	tcase_add_test(tc, byte_by_byte);
	tcase_add_test(tc, tight_limit_still_works);
	tcase_add_test(tc, crlf_split_is_one_line_end);
	tcase_add_test(tc, toobig);
	tcase_add_test(tc, callback_abort);
	tcase_add_test(tc, finish_unterminated);
	tcase_add_test(tc, embedded_nul);
	tcase_add_test(tc, bom_only_at_start);
	tcase_add_test(tc, no_data_no_event);
	tcase_add_test(tc, bad_args);
	tcase_add_test(tc, chatgpt_stream);
	tcase_add_test(tc, buffer_reuse);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(sse_suite)
