/*
 * Unit tests for upstream/chatgpt/stream*.c, the ChatGPT stream decoder,
 * driven by hand (struct dec, unit_chatgpt_rec.h): the gate, the start,
 * in-stream errors, finish, aborts, the UTF-8 guard, interleaved messages,
 * fences, moderation, history and ids, limits, malformed input, NULL
 * callbacks and bad arguments.  What the answers carry (deltas, images,
 * sandbox links, citations, the v1 fast path) is tested in
 * test_chatgpt_stream_content.c; the recorded fixtures in
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

/* What a session continues after: kept with history off, the last one. */
START_TEST(session_ids)
{
	struct dec			 d;
	struct chatgpt_stream_opts	 o = { .history = 0 };

	dec_open(&d, &o);
	ck_assert_ptr_null(chatgpt_stream_message_id(d.st));
	ck_assert_int_eq(feed_snap(&d, "t1", "tool", "in_progress",
	    TXT(""), NULL), CGS_OK);
	ck_assert_str_eq(chatgpt_stream_message_id(d.st), "t1");
	ck_assert_int_eq(feed_snap(&d, "a2", "assistant", "in_progress",
	    TXT("x"), NULL), CGS_OK);
	ck_assert(!chatgpt_stream_finished(d.st));
	ck_assert_int_eq(feed_snap(&d, "a2", "assistant",
	    "finished_successfully", TXT("xy"), FINISHED_STOP), CGS_OK);
	ck_assert(chatgpt_stream_finished(d.st));
	ck_assert_str_eq(chatgpt_stream_message_id(d.st), "a2");
	ck_assert_str_eq(chatgpt_stream_conversation_id(d.st), "c9");
	/* no meta() without history */
	log_is(&d, "role assistant\ntext \"x\"\ntext \"y\"\nfinish stop\n");
	dec_close(&d);

	/* a finish the sink refused is not a complete answer */
	dec_open(&d, NULL);
	d.r.abort_at = 4;	/* role, meta, text, finish */
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("x"), NULL), CGS_OK);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant",
	    "finished_successfully", TXT("x"), FINISHED_STOP), CGS_ABORT);
	ck_assert(chatgpt_stream_done(d.st));
	ck_assert(!chatgpt_stream_finished(d.st));
	dec_close(&d);

	/* an error after the start is not either */
	dec_open(&d, NULL);
	ck_assert_int_eq(feed_snap(&d, "a", "assistant", "in_progress",
	    TXT("x"), NULL), CGS_OK);
	ck_assert_int_ne(feed(&d, NULL, "{\"message\":null,\"error\":\"no\"}"),
	    CGS_OK);
	ck_assert(!chatgpt_stream_finished(d.st));
	ck_assert_str_eq(chatgpt_stream_message_id(d.st), "a");
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
	tcase_add_test(td, session_ids);
	tcase_add_test(td, limits);
	tcase_add_test(td, doc_bytes_limit);
	tcase_add_test(td, malformed);
	tcase_add_test(td, null_callbacks);
	tcase_add_test(td, bad_args);
	tcase_set_timeout(td, 30);
	suite_add_tcase(s, td);
	return s;
}

UNIT_MAIN(chatgpt_stream_direct_suite)

