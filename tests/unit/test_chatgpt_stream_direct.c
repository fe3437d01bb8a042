/*
 * Unit tests for upstream/chatgpt/stream*.c, the ChatGPT stream decoder,
 * driven by hand: one decoder fed the events each test writes, checked
 * against the recording sink's log (unit_chatgpt_rec.h) -- the gate,
 * errors, finish, aborts, UTF-8, fences, moderation, limits, malformed
 * input, deltas, images, sandbox links, citations, bad arguments and the
 * v1 fast path.  The recorded fixtures are replayed by
 * test_chatgpt_stream.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz/sink_oracle.h"
#include "tests/unit/unit.h"
#include "tests/unit/unit_chatgpt_rec.h"
#include "tests/unit/unit_stream.h"
#include "upstream/chatgpt/jpatch.h"
#include "upstream/chatgpt/stream.h"

/* ------------------------------------------------------------ direct tests */

struct dec {
	struct rec			 r;
	struct chat_sink		 sink;
	struct chatgpt_stream		*st;
	struct chatgpt_stream_opts	 o;
};

static void
dec_open(struct dec *d, const struct chatgpt_stream_opts *o)
{
	memset(d, 0, sizeof(*d));
	d->sink = rec_sink(&d->r);
	if (o != NULL)
		d->o = *o;
	else {
		d->o.history = 1;
		d->o.resolve_image = fake_resolve;
	}
	ck_assert_int_eq(chatgpt_stream_new(&d->st, &d->sink, &d->o), CGS_OK);
}

static void
dec_close(struct dec *d)
{
	chatgpt_stream_free(d->st);
	free(d->r.log.p);
}

static enum chatgpt_stream_err
feed(struct dec *d, const char *name, const char *data)
{
	return chatgpt_stream_event(d->st, name, data, strlen(data));
}

static void
log_is(struct dec *d, const char *want)
{
	ck_assert_str_eq(d->r.log.p ? d->r.log.p : "", want);
}

/* An old-format assistant snapshot. */
static char *
snap(const char *id, const char *role, const char *status,
    const char *content_json, const char *extra)
{
	char	 buf[8192];

	snprintf(buf, sizeof(buf), "{\"message\":{\"id\":\"%s\","
	    "\"author\":{\"role\":\"%s\"},\"content\":%s,\"status\":\"%s\""
	    "%s%s},\"conversation_id\":\"c9\",\"error\":null}", id, role,
	    content_json, status, extra ? "," : "", extra ? extra : "");
	return strdup(buf);
}

static enum chatgpt_stream_err
feed_snap(struct dec *d, const char *id, const char *role,
    const char *status, const char *content_json, const char *extra)
{
	char			*s = snap(id, role, status, content_json, extra);
	enum chatgpt_stream_err	 rc = feed(d, NULL, s);

	free(s);
	return rc;
}

#define TXT(t)	"{\"content_type\":\"text\",\"parts\":[\"" t "\"]}"
#define FINISHED_STOP	"\"end_turn\":true,\"metadata\":" \
	"{\"finish_details\":{\"type\":\"stop\"}}"

START_TEST(gate_is_silent)
{
	struct dec	 d;

	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "u", "user", "finished_successfully",
	    TXT("hi"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "s", "system", "in_progress",
	    TXT(""), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "x", "critic", "in_progress",
	    TXT("?"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant",
	    "finished_successfully", TXT("whole"), FINISHED_STOP), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"type\":\"title_generation\","
	    "\"title\":\"t\"}"), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"type\":\"message_stream_complete\""
	    "}"), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"type\":\"moderation\","
	    "\"moderation_response\":{\"flagged\":true,\"blocked\":false}}"),
	    CGS_OK);
	ck_assert_int_eq(d.r.calls, 0);
	ck_assert(!chatgpt_stream_started(d.st));
	ck_assert(!chatgpt_stream_done(d.st));
	ck_assert_int_eq(feed(&d, NULL, "  [DONE]\r\n"), CGS_OK);
	ck_assert(chatgpt_stream_done(d.st));
	ck_assert_int_eq(chatgpt_stream_end(d.st), CGS_NOSTART);
	ck_assert_int_eq(d.r.calls, 0);
	ck_assert_str_eq(chatgpt_stream_conversation_id(d.st), "c9");
	dec_close(&d);
}
END_TEST

START_TEST(tool_message_starts)
{
	struct dec	 d;

	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "t", "tool", "in_progress", TXT(""),
	    NULL), CGS_OK);
	ck_assert(chatgpt_stream_started(d.st));
	log_is(&d, "role assistant\nmeta c9 t\n");
	dec_close(&d);
}
END_TEST

START_TEST(error_object_before_start)
{
	struct dec	 d;

	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, NULL, "{\"message\":null,\"error\":"
	    "{\"message\":\"too many\\nrequests\",\"code\":\"rate_limited\"}}"),
	    CGS_UPSTREAM);
	ck_assert_str_eq(chatgpt_stream_upstream_error(d.st),
	    "too many requests");
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("x"), NULL), CGS_UPSTREAM);
	ck_assert_int_eq(chatgpt_stream_end(d.st), CGS_UPSTREAM);
	ck_assert_int_eq(d.r.calls, 0);
	dec_close(&d);

	/* an error value that is neither string nor object */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, NULL, "{\"error\":[1,2]}"), CGS_UPSTREAM);
	ck_assert_str_eq(chatgpt_stream_upstream_error(d.st), "[1,2]");
	dec_close(&d);

	/* a null error is no error */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, NULL, "{\"message\":null,\"error\":null}"),
	    CGS_OK);
	ck_assert_ptr_null(chatgpt_stream_upstream_error(d.st));
	dec_close(&d);
}
END_TEST

START_TEST(error_object_after_start)
{
	struct dec	 d;

	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("x"), NULL), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"message\":null,\"error\":"
	    "{\"message\":\"boom\",\"code\":\"bad code!\"}}"), CGS_UPSTREAM);
	ck_assert_int_eq(feed(&d, NULL, "{\"message\":null,\"error\":"
	    "{\"detail\":\"x\",\"code\":\"c\"}}"), CGS_UPSTREAM);
	log_is(&d, "role assistant\nmeta c9 a\ntext \"x\"\n"
	    "error 502 upstream_error - \"boom\"\n");
	dec_close(&d);

	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT(""), NULL), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"error\":{\"detail\":\"slow\","
	    "\"code\":\"rate_limited\"}}"), CGS_UPSTREAM);
	log_is(&d, "role assistant\nmeta c9 a\n"
	    "error 502 upstream_error rate_limited \"slow\"\n");
	dec_close(&d);
}
END_TEST

START_TEST(finish_once)
{
	struct dec	 d;

	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("A"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant",
	    "finished_successfully", TXT("AB"), FINISHED_STOP), CGS_OK);
	ck_assert(chatgpt_stream_done(d.st));
	/* everything after the finish is ignored */
	ck_assert_int_eq(feed_snap(&d, "a", "assistant",
	    "finished_successfully", TXT("ABC"), FINISHED_STOP), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "b", "assistant", "in_progress",
	    TXT("new"), NULL), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "not json at all"), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"type\":\"moderation\"}"), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "[DONE]"), CGS_OK);
	ck_assert_int_eq(chatgpt_stream_end(d.st), CGS_OK);
	log_is(&d, "role assistant\nmeta c9 a\ntext \"A\"\ntext \"B\"\n"
	    "finish stop\n");
	dec_close(&d);
}
END_TEST

START_TEST(finish_statuses)
{
	struct dec	 d;

	/* max_tokens wins over end_turn; "finished_*" statuses all count */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT(""), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant",
	    "finished_partial_completion", TXT("cut"), "\"end_turn\":true,"
	    "\"metadata\":{\"finish_details\":{\"type\":\"max_tokens\"}}"),
	    CGS_OK);
	log_is(&d, "role assistant\nmeta c9 a\ntext \"cut\"\nfinish length\n");
	dec_close(&d);

	/* an unknown status neither emits a finish nor blocks text */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT(""), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "queued",
	    TXT("q"), FINISHED_STOP), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"type\":\"message_stream_complete"
	    "\"}"), CGS_OK);
	log_is(&d, "role assistant\nmeta c9 a\ntext \"q\"\nfinish stop\n");
	dec_close(&d);
}
END_TEST

static int
abort_text(void *ctx, const char *s, size_t n)
{
	(void)s;
	(void)n;
	((struct rec *)ctx)->calls++;
	return 1;
}

START_TEST(abort_stops_everything)
{
	struct dec	 d;

	dec_open(&d, NULL);
	d.sink.text = abort_text;
	chatgpt_stream_free(d.st);
	ck_assert_int_eq(chatgpt_stream_new(&d.st, &d.sink, &d.o), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("x"), NULL), CGS_ABORT);
	ck_assert(chatgpt_stream_done(d.st));
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("xy"), NULL), CGS_ABORT);
	ck_assert_int_eq(chatgpt_stream_end(d.st), CGS_ABORT);
	/* role, meta, the aborting text; no error() afterwards */
	ck_assert_int_eq(d.r.calls, 3);
	log_is(&d, "role assistant\nmeta c9 a\n");
	dec_close(&d);
}
END_TEST

START_TEST(utf8_guard)
{
	struct dec	 d;

	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("ab\xe4\xbd"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("ab\xe4\xbd\xa0!\xf0\x9f"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("ab\xe4\xbd\xa0!\xf0\x9f\x98\x80"), NULL), CGS_OK);
	/* invalid bytes and an overlong form become U+FFFD */
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("ab\xe4\xbd\xa0!\xf0\x9f\x98\x80x\xff\xc0\xafy"), NULL),
	    CGS_OK);
	/* rewritten text: the old offset lands inside a character */
	ck_assert_int_eq(feed_snap(&d, "b", "assistant", "in_progress",
	    TXT("\xc3\xa9\xc3\xa9"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "b", "assistant", "in_progress",
	    TXT("abc\xc3\xa9Z"), NULL), CGS_OK);
	/* \u escapes, a surrogate pair and a lone surrogate */
	ck_assert_int_eq(feed_snap(&d, "c", "assistant", "in_progress",
	    TXT("\\u00e9\\ud83d\\ude00\\ud800."), NULL), CGS_OK);
	log_is(&d, "role assistant\nmeta c9 a\ntext \"ab\"\n"
	    "text \"\xe4\xbd\xa0!\"\ntext \"\xf0\x9f\x98\x80\"\n"
	    "text \"x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdy\"\n"
	    "meta c9 b\ntext \"\\n\\n\xc3\xa9\xc3\xa9\"\ntext \"Z\"\n"
	    "meta c9 c\ntext \"\\n\\n\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd.\"\n");
	dec_close(&d);
}
END_TEST

START_TEST(interleaved_messages)
{
	struct dec	 d;

	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("A"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "b", "assistant", "in_progress",
	    TXT("B"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("AA"), NULL), CGS_OK);
	/* a message that finished is not re-emitted when re-sent */
	ck_assert_int_eq(feed_snap(&d, "b", "assistant",
	    "finished_successfully", TXT("BB"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "b", "assistant", "in_progress",
	    TXT("BBB"), NULL), CGS_OK);
	log_is(&d, "role assistant\nmeta c9 a\ntext \"A\"\nmeta c9 b\n"
	    "text \"\\n\\nB\"\nmeta c9 a\ntext \"A\"\nmeta c9 b\n"
	    "text \"B\"\n");
	dec_close(&d);
}
END_TEST

START_TEST(fences)
{
	struct dec	 d;

	dec_open(&d, NULL);
	/* text addressed to a tool is fenced with the recipient */
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("{\\\"prompt\\\":1}"), "\"recipient\":\"dalle.text2im\""),
	    CGS_OK);
	/* code with an unknown language and a hostile recipient */
	ck_assert_int_eq(feed_snap(&d, "b", "assistant", "in_progress",
	    "{\"content_type\":\"code\",\"language\":\"unknown\","
	    "\"text\":\"x=1\"}", "\"recipient\":\"a b`c\""), CGS_OK);
	/* the fence is closed before the finish */
	ck_assert_int_eq(feed_snap(&d, "b", "assistant",
	    "finished_successfully", "{\"content_type\":\"code\","
	    "\"language\":\"unknown\",\"text\":\"x=1\\n\"}",
	    "\"end_turn\":true"), CGS_OK);
	log_is(&d, "role assistant\nmeta c9 a\n"
	    "text \"```dalle.text2im\\n{\\\"prompt\\\":1}\"\n"
	    "meta c9 b\ntext \"\\n```\\n\\n```\\nx=1\"\n"
	    "text \"\\n```\\n\"\nfinish stop\n");
	dec_close(&d);
}
END_TEST

START_TEST(moderation_variants)
{
	struct dec	 d;
	const char	*want = "role assistant\ntext \"" CHATGPT_MODERATION_TEXT
			    "\"\nfinish content_filter\n";

	/* before the start: a blocking moderation opens the gate */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, NULL, "{\"type\":\"moderation\","
	    "\"moderation_response\":{\"flagged\":true,\"blocked\":true}}"),
	    CGS_OK);
	ck_assert(chatgpt_stream_started(d.st));
	ck_assert(chatgpt_stream_done(d.st));
	log_is(&d, want);
	dec_close(&d);

	/* no moderation_response at all: the reference's rule */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, NULL, "{\"type\":\"moderation\"}"), CGS_OK);
	log_is(&d, want);
	dec_close(&d);
}
END_TEST

START_TEST(history_off_and_bad_ids)
{
	struct dec			 d;
	struct chatgpt_stream_opts	 o = { .history = 0 };

	dec_open(&d, &o);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("x"), NULL), CGS_OK);
	log_is(&d, "role assistant\ntext \"x\"\n");
	dec_close(&d);

	/* ids that are not printable ASCII are not handed on */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "a b", "assistant", "in_progress",
	    TXT("x"), NULL), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"message\":{\"id\":\"m1\","
	    "\"author\":{\"role\":\"assistant\"},\"status\":\"in_progress\","
	    "\"content\":{\"content_type\":\"text\",\"parts\":[\"xy\"]}}}"),
	    CGS_OK);
	log_is(&d, "role assistant\ntext \"x\"\nmeta c9 m1\n"
	    "text \"\\n\\nxy\"\n");
	dec_close(&d);
}
END_TEST

START_TEST(limits)
{
	struct dec			 d;
	struct chatgpt_stream_opts	 o = { .history = 1, .max_text = 4,
					    .max_event = 300 };
	char				 big[400];

	/* the snapshot that opens the gate is too long: role went out */
	dec_open(&d, &o);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("12345"), NULL), CGS_PROTO);
	log_is(&d, "role assistant\nmeta c9 a\n"
	    "error 502 upstream_error - \"upstream text too long\"\n");
	dec_close(&d);

	/* later on */
	dec_open(&d, &o);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("1234"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("12345"), NULL), CGS_PROTO);
	ck_assert_int_eq(chatgpt_stream_end(d.st), CGS_PROTO);
	log_is(&d, "role assistant\nmeta c9 a\ntext \"1234\"\n"
	    "error 502 upstream_error - \"upstream text too long\"\n");
	dec_close(&d);

	/* the same limit through v1 appends */
	dec_open(&d, &o);
	ck_assert_int_eq(feed(&d, "delta", "{\"c\":0,\"v\":{\"message\":"
	    "{\"id\":\"a\",\"author\":{\"role\":\"assistant\"},"
	    "\"status\":\"in_progress\",\"content\":{\"content_type\":"
	    "\"text\",\"parts\":[\"12\"]}}}}"), CGS_OK);
	ck_assert_int_eq(feed(&d, "delta", "{\"p\":\"/message/content/parts/0"
	    "\",\"o\":\"append\",\"v\":\"34\"}"), CGS_OK);
	ck_assert_int_eq(feed(&d, "delta", "{\"v\":\"5\"}"), CGS_PROTO);
	log_is(&d, "role assistant\ntext \"12\"\ntext \"34\"\n"
	    "error 502 upstream_error - \"upstream delta exceeds a limit\"\n");
	dec_close(&d);

	/* event size */
	dec_open(&d, &o);
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(feed(&d, NULL, big), CGS_PROTO);
	ck_assert_int_eq(d.r.calls, 0);
	dec_close(&d);
}
END_TEST

START_TEST(doc_bytes_limit)
{
	struct dec			 d;
	struct chatgpt_stream_opts	 o = { .max_doc_bytes = 400 };
	enum chatgpt_stream_err		 rc = CGS_OK;
	int				 i;

	dec_open(&d, &o);
	ck_assert_int_eq(feed(&d, "delta", "{\"c\":0,\"v\":{\"message\":"
	    "{\"id\":\"a\",\"author\":{\"role\":\"assistant\"},"
	    "\"status\":\"in_progress\",\"content\":{\"content_type\":"
	    "\"text\",\"parts\":[\"\"]}}}}"), CGS_OK);
	for (i = 0; i < 100 && rc == CGS_OK; i++)
		rc = feed(&d, "delta", "{\"p\":\"/message/metadata\","
		    "\"o\":\"append\",\"v\":{\"k\":[1,2,3,4,5]}}");
	ck_assert_int_eq(rc, CGS_PROTO);
	ck_assert_int_lt(i, 100);
	dec_close(&d);

	/* replacing a document gives its bytes back */
	dec_open(&d, &o);
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(feed(&d, "delta", "{\"c\":3,\"v\":{\"message\":"
		    "{\"id\":\"a\",\"author\":{\"role\":\"user\"}}}}"), CGS_OK);
	dec_close(&d);
}
END_TEST

START_TEST(malformed)
{
	static const char *const bad[] = {
		"{\"message\":", "{} {}", "[1,]", "nul", "{\"a\":1}x",
		"\"unterminated",
	};
	struct dec	 d;
	char		 deep[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dec_open(&d, NULL);
		ck_assert_int_eq(feed(&d, NULL, bad[i]), CGS_PROTO);
		ck_assert_int_eq(d.r.calls, 0);
		dec_close(&d);
	}
	/* deeper than CGS_JSON_DEPTH */
	memset(deep, '[', 100);
	memset(deep + 100, ']', 99);
	deep[199] = '\0';
	deep[99] = '0';
	deep[100] = ']';
	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, NULL, deep), CGS_PROTO);
	dec_close(&d);
	/* a NUL inside the data */
	dec_open(&d, NULL);
	ck_assert_int_eq(chatgpt_stream_event(d.st, NULL, "{\"a\":\"\0\"}",
	    9), CGS_PROTO);
	dec_close(&d);
	/* unknown delta encodings and bad document numbers */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, "delta_encoding", "\"v2\""), CGS_PROTO);
	dec_close(&d);
	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, "delta", "{\"c\":-1,\"v\":{}}"), CGS_PROTO);
	dec_close(&d);
	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, "delta", "{\"c\":\"1\",\"v\":{}}"),
	    CGS_PROTO);
	dec_close(&d);
	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, "delta", "{\"c\":1000000000,\"v\":{}}"),
	    CGS_PROTO);
	dec_close(&d);
	/* after the start the sink is told */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("x"), NULL), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "<html>"), CGS_PROTO);
	log_is(&d, "role assistant\nmeta c9 a\ntext \"x\"\n"
	    "error 502 upstream_error - \"malformed upstream event\"\n");
	dec_close(&d);
}
END_TEST

/* Found by fuzzing: the fast path must not take delta_encoding events. */
START_TEST(delta_encoding_object)
{
	for (int k = 0; k < 2; k++) {
		struct chatgpt_stream_opts	 o = { .json_only = k };
		struct dec			 d;

		dec_open(&d, &o);
		ck_assert_int_eq(feed(&d, NULL, "\"v1\""), CGS_OK);
		ck_assert_int_eq(feed(&d, "delta_encoding", "{\"v\":\"\"}"),
		    CGS_PROTO);
		dec_close(&d);
	}
}
END_TEST

START_TEST(skipped_deltas)
{
	struct dec	 d;

	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, NULL, "\"v1\""), CGS_OK);  /* nameless */
	ck_assert(chatgpt_stream_is_v1(d.st));
	/* a patch before any document */
	ck_assert_int_eq(feed(&d, NULL, "{\"p\":\"/x\",\"o\":\"add\","
	    "\"v\":1}"), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"c\":0,\"v\":{\"message\":"
	    "{\"id\":\"a\",\"author\":{\"role\":\"assistant\"},"
	    "\"status\":\"in_progress\",\"content\":{\"content_type\":"
	    "\"text\",\"parts\":[\"\"]}},\"conversation_id\":\"k\"}}"), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"p\":\"/message/content/parts/0\","
	    "\"o\":\"append\",\"v\":\"A\"}"), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"p\":\"/message/nope/0\","
	    "\"v\":\"B\"}"), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"p\":\"/message/content/parts/0\","
	    "\"o\":\"frobnicate\",\"v\":\"C\"}"), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"o\":\"append\",\"v\":\"D\"}"),
	    CGS_OK);
	/* a line with only a "c" switches documents */
	ck_assert_int_eq(feed(&d, NULL, "{\"c\":5,\"v\":\"E\"}"), CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"c\":0,\"v\":\"F\"}"), CGS_OK);
	ck_assert_uint_eq(chatgpt_stream_skipped(d.st), 4);
	log_is(&d, "role assistant\nmeta k a\ntext \"A\"\ntext \"D\"\n"
	    "text \"F\"\n");
	ck_assert_int_eq(chatgpt_stream_end(d.st), CGS_TRUNCATED);
	dec_close(&d);
}
END_TEST

START_TEST(images_direct)
{
	struct dec			 d;
	struct chatgpt_stream_opts	 o = { .history = 0 };
	const char			*mm = "{\"content_type\":"
	    "\"multimodal_text\",\"parts\":[{\"content_type\":"
	    "\"image_asset_pointer\",\"asset_pointer\":\"sediment://f1\"},"
	    "{\"content_type\":\"image_asset_pointer\",\"asset_pointer\":"
	    "\"http://x/y\"}]}";

	/* no conversation id known: the resolver gets NULL */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed(&d, NULL, "{\"message\":{\"id\":\"t\","
	    "\"author\":{\"role\":\"tool\"},\"status\":\"in_progress\","
	    "\"content\":{\"content_type\":\"multimodal_text\",\"parts\":[]}}}"),
	    CGS_OK);
	ck_assert_int_eq(feed(&d, NULL, "{\"message\":{\"id\":\"t\","
	    "\"author\":{\"role\":\"tool\"},\"status\":\"finished_successfully\","
	    "\"content\":{\"content_type\":\"multimodal_text\",\"parts\":["
	    "{\"content_type\":\"image_asset_pointer\",\"asset_pointer\":"
	    "\"sediment://f1\"}]}}}"), CGS_OK);
	log_is(&d, "role assistant\n"
	    "text \"![image](https://files.example/sd/f1?conv=none)\\n\"\n");
	dec_close(&d);

	/* no resolver: every image fails, unknown schemes too */
	dec_open(&d, &o);
	ck_assert_int_eq(feed_snap(&d, "t", "tool", "in_progress", mm, NULL),
	    CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "t", "tool", "finished_successfully",
	    mm, NULL), CGS_OK);
	log_is(&d, "role assistant\ntext \"Failed to load the image.\\n\\n"
	    "Failed to load the image.\\n\"\n");
	dec_close(&d);
}
END_TEST

static int
evil_resolve(void *ctx, enum chatgpt_asset kind, const char *id,
    const char *cid, const char *mid, char **url)
{
	(void)ctx;
	(void)kind;
	(void)id;
	(void)cid;
	(void)mid;
	*url = strdup("https://h/a b(c)<d>\"e\\f`g[h]");
	return 0;
}

START_TEST(image_url_escaped)
{
	struct dec			 d;
	struct chatgpt_stream_opts	 o = { .resolve_image = evil_resolve };

	dec_open(&d, &o);
	ck_assert_int_eq(feed_snap(&d, "t", "tool", "in_progress",
	    "{\"content_type\":\"multimodal_text\",\"parts\":[]}", NULL),
	    CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "t", "tool", "finished_successfully",
	    "{\"content_type\":\"multimodal_text\",\"parts\":[{\"content_type\""
	    ":\"image_asset_pointer\",\"asset_pointer\":\"file-service://x\"}]}",
	    NULL), CGS_OK);
	log_is(&d, "role assistant\ntext \"![image](https://h/a%20b%28c%29"
	    "%3Cd%3E%22e%5Cf%60g%5Bh%5D)\\n\"\n");
	dec_close(&d);
}
END_TEST

START_TEST(sandbox_links)
{
	struct dec	 d;
	struct sb	 text = { 0 };

	dec_open(&d, NULL);
	sb_add(&text, "", 0);
	/* good, duplicate, failing, traversal, spaces, unterminated */
	sb_printf(&text, "%s", "a (sandbox:/mnt/data/rÃ©sumÃ©.csv)"
	    " b (sandbox:/mnt/data/rÃ©sumÃ©.csv) (sandbox:/bad/x)"
	    " (sandbox:/mnt/../etc/passwd) (sandbox:/a b) (sandbox:rel)"
	    " (sandbox:/a(b)) (sandbox:/mnt/data/o.png) (sandbox:/x");
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT(""), NULL), CGS_OK);
	{
		char	 content[2048];

		snprintf(content, sizeof(content), "{\"content_type\":"
		    "\"text\",\"parts\":[\"%s\"]}", text.p);
		ck_assert_int_eq(feed_snap(&d, "a", "assistant",
		    "finished_successfully", content, FINISHED_STOP), CGS_OK);
	}
	log_is(&d, "role assistant\nmeta c9 a\n"
	    "text \"a (sandbox:/mnt/data/rÃ©sumÃ©.csv) b "
	    "(sandbox:/mnt/data/rÃ©sumÃ©.csv) (sandbox:/bad/x) "
	    "(sandbox:/mnt/../etc/passwd) (sandbox:/a b) (sandbox:rel) "
	    "(sandbox:/a(b)) (sandbox:/mnt/data/o.png) (sandbox:/x\"\n"
	    "text \"\\n\\n[rÃ©sumÃ©.csv](https://files.example/sb/mnt/"
	    "data/rÃ©sumÃ©.csv?conv=c9&msg=a)\\n\"\n"
	    "text \"[o.png](https://files.example/sb/mnt/data/o.png?conv=c9"
	    "&msg=a)\\n\"\nfinish stop\n");
	dec_close(&d);
	free(text.p);

	/* an intermediate message's links are not resolved */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("(sandbox:/f)"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant",
	    "finished_successfully", TXT("(sandbox:/f)"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "b", "assistant", "in_progress",
	    TXT("(sandbox:/g)"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "b", "assistant",
	    "finished_successfully", TXT("(sandbox:/g)"), FINISHED_STOP),
	    CGS_OK);
	log_is(&d, "role assistant\nmeta c9 a\ntext \"(sandbox:/f)\"\n"
	    "meta c9 b\ntext \"\\n\\n(sandbox:/g)\"\n"
	    "text \"\\n\\n[g](https://files.example/sb/g?conv=c9&msg=b)\\n\"\n"
	    "finish stop\n");
	dec_close(&d);
}
END_TEST

START_TEST(citation_edge_cases)
{
	struct dec	 d;

	dec_open(&d, NULL);
	/* no url, a javascript: url, no title, a title with controls */
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("x"), "\"metadata\":{\"citations\":[{\"metadata\":"
	    "{\"title\":\"t\"}},{\"metadata\":{\"url\":\"javascript:alert(1)\"}},"
	    "{\"metadata\":{\"url\":\"https://a/\"}},{\"metadata\":{\"url\":"
	    "\"https://b/\",\"title\":\"T\\n\\\\z\"}},7]}"), CGS_OK);
	/* citations shrinking do not re-emit */
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("x"), "\"metadata\":{\"citations\":[]}"), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("xy"), "\"metadata\":{\"citations\":[{\"metadata\":"
	    "{\"url\":\"https://c/\",\"title\":\"C\"}}]}"), CGS_OK);
	log_is(&d, "role assistant\nmeta c9 a\n"
	    "text \"x [https://a/](https://a/) [T \\\\\\\\z](https://b/)\"\n"
	    "text \"y [C](https://c/)\"\n");
	dec_close(&d);
}
END_TEST

START_TEST(null_callbacks)
{
	struct chat_sink		 sink = { 0 };
	struct chatgpt_stream		*st;
	const char			*s;

	ck_assert_int_eq(chatgpt_stream_new(&st, &sink, NULL), CGS_OK);
	s = "{\"message\":{\"id\":\"a\",\"author\":{\"role\":\"assistant\"},"
	    "\"status\":\"in_progress\",\"content\":{\"content_type\":"
	    "\"thoughts\",\"thoughts\":[{\"content\":\"r\"}]}},"
	    "\"conversation_id\":\"c\"}";
	ck_assert_int_eq(chatgpt_stream_event(st, NULL, s, strlen(s)), CGS_OK);
	s = "{\"message\":{\"id\":\"b\",\"author\":{\"role\":\"assistant\"},"
	    "\"status\":\"in_progress\",\"content\":{\"content_type\":"
	    "\"text\",\"parts\":[\"t\"]}}}";
	ck_assert_int_eq(chatgpt_stream_event(st, NULL, s, strlen(s)), CGS_OK);
	ck_assert_int_eq(chatgpt_stream_end(st), CGS_TRUNCATED);
	chatgpt_stream_free(st);
}
END_TEST

START_TEST(bad_args)
{
	struct chat_sink		 sink = { 0 };
	struct chatgpt_stream		*st = (void *)1;

	ck_assert_int_eq(chatgpt_stream_new(NULL, &sink, NULL), CGS_EINVAL);
	ck_assert_int_eq(chatgpt_stream_new(&st, NULL, NULL), CGS_EINVAL);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(chatgpt_stream_event(NULL, NULL, "x", 1), CGS_EINVAL);
	ck_assert_int_eq(chatgpt_stream_end(NULL), CGS_EINVAL);
	ck_assert_int_eq(chatgpt_stream_started(NULL), 0);
	ck_assert_int_eq(chatgpt_stream_done(NULL), 1);
	ck_assert_ptr_null(chatgpt_stream_upstream_error(NULL));
	ck_assert_ptr_null(chatgpt_stream_conversation_id(NULL));
	ck_assert_int_eq(chatgpt_stream_is_v1(NULL), 0);
	ck_assert_uint_eq(chatgpt_stream_skipped(NULL), 0);
	chatgpt_stream_free(NULL);
	ck_assert_int_eq(chatgpt_stream_new(&st, &sink, NULL), CGS_OK);
	ck_assert_int_eq(chatgpt_stream_event(st, NULL, NULL, 1), CGS_EINVAL);
	ck_assert_int_eq(chatgpt_stream_event(st, NULL, NULL, 0), CGS_OK);
	ck_assert_int_eq(chatgpt_stream_event(st, "ping", " \n", 2), CGS_OK);
	chatgpt_stream_free(st);
	for (int e = CGS_OK; e <= CGS_EINVAL; e++)
		ck_assert_str_ne(chatgpt_stream_strerror(
		    (enum chatgpt_stream_err)e), "unknown error");
	ck_assert_str_eq(chatgpt_stream_strerror((enum chatgpt_stream_err)99),
	    "unknown error");
}
END_TEST

/*
 * The v1 fast path against json-c: each line is fed to two decoders, one
 * with opts.json_only, after the same document; the logs must match.
 */
START_TEST(fast_path_equivalence)
{
	static const char *const lines[] = {
		"{\"v\":\"plain\"}",
		" {\"v\" : \"spaced\" } ",
		"{\"v\":\"esc \\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
		"{\"v\":\"\\u00e9\\u4f60\\uD83D\\uDE00\\u007f\"}",
		"{\"v\":\"raw \xe4\xbd\xa0 \xff\"}",
		"{\"\\u0076\":\"escaped key\"}",
		"{\"p\":\"\\/message\\/content\\/parts\\/0\",\"v\":\"p\"}",
		"{\"o\":\"append\",\"p\":\"/message/content/parts/0\","
		    "\"v\":\"!\"}",
		/* the rest must fall back to json-c, same result */
		"{\"v\":\"lone \\ud800\"}",
		"{\"v\":\"lone \\udc00 low\"}",
		"{\"v\":\"nul \\u0000 inside\"}",
		"{\"v\":\"bad \\x escape\"}",
		"{\"v\":\"tab\there\"}",
		"{\"v\":\"a\",\"v\":\"b\"}",
		"{\"v\":1}",
		"{\"v\":[\"x\"],\"o\":\"append\",\"p\":\"/message/x\"}",
		"{\"v\":\"x\",\"c\":1}",
		"{\"v\":\"x\",}",
		"{\"v\":\"x\"} {}",
		"{\"v\":\"x\"",
		"{\"p\":\"/message/content/parts/0\",\"o\":\"truncate\","
		    "\"v\":\"2\"}",
		"{\"o\":\"append\",\"v\":\"ok again\"}",
	};
	const char	*doc = "{\"c\":0,\"v\":{\"message\":{\"id\":\"a\","
	    "\"author\":{\"role\":\"assistant\"},\"status\":\"in_progress\","
	    "\"content\":{\"content_type\":\"text\",\"parts\":[\"\"]}},"
	    "\"conversation_id\":\"k\"}}";
	const char	*first = "{\"p\":\"/message/content/parts/0\","
	    "\"o\":\"append\",\"v\":\"\"}";

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct chatgpt_stream_opts	 o[2] = {
			{ .history = 1 }, { .history = 1, .json_only = 1 }
		};
		struct dec			 d[2];

		for (int k = 0; k < 2; k++) {
			dec_open(&d[k], &o[k]);
			ck_assert_int_eq(feed(&d[k], "delta", doc), CGS_OK);
			ck_assert_int_eq(feed(&d[k], "delta", first), CGS_OK);
			(void)feed(&d[k], "delta", lines[i]);
			(void)feed(&d[k], "delta", "{\"v\":\"+\"}");
			(void)chatgpt_stream_end(d[k].st);
		}
		ck_assert_msg(strcmp(d[0].r.log.p, d[1].r.log.p) == 0,
		    "line %zu:\n--- fast\n%s--- json-c\n%s", i, d[0].r.log.p,
		    d[1].r.log.p);
		ck_assert_uint_eq(chatgpt_stream_skipped(d[0].st),
		    chatgpt_stream_skipped(d[1].st));
		dec_close(&d[0]);
		dec_close(&d[1]);
	}
}
END_TEST

/* 2 MB of text in 100 000 appends: linear thanks to the hot buffer. */
START_TEST(many_appends)
{
	struct dec	 d;
	char		 line[64];

	dec_open(&d, NULL);
	d.r.quiet = true;
	ck_assert_int_eq(feed(&d, "delta", "{\"c\":0,\"v\":{\"message\":"
	    "{\"id\":\"a\",\"author\":{\"role\":\"assistant\"},"
	    "\"status\":\"in_progress\",\"content\":{\"content_type\":"
	    "\"text\",\"parts\":[\"\"]}}}}"), CGS_OK);
	ck_assert_int_eq(feed(&d, "delta", "{\"p\":\"/message/content/parts/0"
	    "\",\"o\":\"append\",\"v\":\"\"}"), CGS_OK);
	for (int i = 0; i < 100000; i++) {
		snprintf(line, sizeof(line), "{\"v\":\"%019d\"}", i);
		ck_assert_int_eq(feed(&d, "delta", line), CGS_OK);
	}
	ck_assert_int_eq(feed(&d, "delta", "{\"p\":\"/message/end_turn\","
	    "\"o\":\"replace\",\"v\":true}"), CGS_OK);
	ck_assert_int_eq(feed(&d, "delta", "{\"p\":\"/message/status\","
	    "\"v\":\"finished_successfully\"}"), CGS_OK);
	ck_assert_uint_eq(d.r.text_bytes, 1900000);
	ck_assert(chatgpt_stream_done(d.st));
	dec_close(&d);
}
END_TEST

static Suite *
chatgpt_stream_direct_suite(void)
{
	Suite	*s = suite_create("chatgpt_stream_direct");
	TCase	*td = tcase_create("direct");

	tcase_add_test(td, gate_is_silent);
	tcase_add_test(td, tool_message_starts);
	tcase_add_test(td, error_object_before_start);
	tcase_add_test(td, error_object_after_start);
	tcase_add_test(td, finish_once);
	tcase_add_test(td, finish_statuses);
	tcase_add_test(td, abort_stops_everything);
	tcase_add_test(td, utf8_guard);
	tcase_add_test(td, interleaved_messages);
	tcase_add_test(td, fences);
	tcase_add_test(td, moderation_variants);
	tcase_add_test(td, history_off_and_bad_ids);
	tcase_add_test(td, limits);
	tcase_add_test(td, doc_bytes_limit);
	tcase_add_test(td, malformed);
	tcase_add_test(td, delta_encoding_object);
	tcase_add_test(td, skipped_deltas);
	tcase_add_test(td, images_direct);
	tcase_add_test(td, image_url_escaped);
	tcase_add_test(td, sandbox_links);
	tcase_add_test(td, citation_edge_cases);
	tcase_add_test(td, null_callbacks);
	tcase_add_test(td, bad_args);
	tcase_add_test(td, fast_path_equivalence);
	tcase_add_test(td, many_appends);
	tcase_set_timeout(td, 30);
	suite_add_tcase(s, td);
	return s;
}

UNIT_MAIN(chatgpt_stream_direct_suite)
