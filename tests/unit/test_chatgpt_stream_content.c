/*
 * Unit tests for upstream/chatgpt/stream*.c, the ChatGPT stream decoder,
 * driven by hand (struct dec, unit_chatgpt_rec.h): what the answers
 * carry -- the v1 delta encoding and skipped deltas, images and their
 * URLs, sandbox links, citations, the v1 fast path against json-c, and
 * many appends.  The decoder's control flow is tested in
 * test_chatgpt_stream_direct.c; the recorded fixtures in
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

/*
 * What a parked stream keeps of its documents: the user's echo goes (its
 * deltas with it, not counted as skipped), the members the conversion
 * never reads go (a delta into one is skipped), in both parsers.
 */
START_TEST(documents_kept_small)
{
	for (int k = 0; k < 2; k++) {
		struct chatgpt_stream_opts	 o = { .json_only = k };
		struct dec			 d;

		dec_open(&d, &o);
		ck_assert_int_eq(feed(&d, "delta_encoding", "\"v1\""),
		    CGS_OK);
		ck_assert_int_eq(feed(&d, "delta", "{\"p\":\"\",\"o\":"
		    "\"add\",\"v\":{\"message\":{\"id\":\"u\",\"author\":"
		    "{\"role\":\"user\"},\"status\":\"in_progress\","
		    "\"content\":{\"content_type\":\"text\",\"parts\":"
		    "[\"hi\"]}},\"conversation_id\":\"k\"},\"c\":0}"),
		    CGS_OK);
		/* were the echo kept, this would make it an answer */
		ck_assert_int_eq(feed(&d, "delta", "{\"p\":"
		    "\"/message/author/role\",\"o\":\"replace\","
		    "\"v\":\"assistant\"}"), CGS_OK);
		ck_assert_int_eq(feed(&d, "delta", "{\"p\":"
		    "\"/message/content/parts/0\",\"o\":\"append\","
		    "\"v\":\" there\"}"), CGS_OK);
		ck_assert_uint_eq(chatgpt_stream_skipped(d.st), 0);
		ck_assert_int_eq(feed(&d, "delta", "{\"v\":{\"message\":"
		    "{\"id\":\"a\",\"author\":{\"role\":\"assistant\","
		    "\"metadata\":{}},\"status\":\"in_progress\","
		    "\"weight\":1.0,\"content\":{\"content_type\":"
		    "\"text\",\"parts\":[\"\"]},\"metadata\":{"
		    "\"model_slug\":\"m\",\"citations\":[]}},"
		    "\"conversation_id\":\"k\",\"error\":null},\"c\":1}"),
		    CGS_OK);
		ck_assert_int_eq(feed(&d, "delta", "{\"p\":"
		    "\"/message/content/parts/0\",\"o\":\"append\","
		    "\"v\":\"A\"}"), CGS_OK);
		/* members the conversion never reads are gone */
		ck_assert_int_eq(feed(&d, "delta", "{\"p\":"
		    "\"/message/metadata/model_slug/x\",\"o\":\"add\","
		    "\"v\":\"n\"}"), CGS_OK);
		ck_assert_int_eq(feed(&d, "delta", "{\"p\":"
		    "\"/message/author/metadata/x\",\"o\":\"add\","
		    "\"v\":2}"), CGS_OK);
		ck_assert_uint_eq(chatgpt_stream_skipped(d.st), 2);
		/* ...and those it reads still patch */
		ck_assert_int_eq(feed(&d, "delta", "{\"p\":\"\",\"o\":"
		    "\"patch\",\"v\":[{\"p\":\"/message/content/parts/0\","
		    "\"o\":\"append\",\"v\":\"B\"},{\"p\":"
		    "\"/message/status\",\"o\":\"replace\",\"v\":"
		    "\"finished_successfully\"},{\"p\":\"/message/end_turn\","
		    "\"o\":\"replace\",\"v\":true},{\"p\":"
		    "\"/message/metadata\","
		    "\"o\":\"append\",\"v\":{\"finish_details\":{\"type\":"
		    "\"stop\"}}}]}"), CGS_OK);
		log_is(&d, "role assistant\ntext \"A\"\ntext \"B\"\n"
		    "finish stop\n");
		dec_close(&d);
	}
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
chatgpt_stream_content_suite(void)
{
	Suite	*s = suite_create("chatgpt_stream_content");
	TCase	*td = tcase_create("content");

	tcase_add_test(td, delta_encoding_object);
	tcase_add_test(td, skipped_deltas);
	tcase_add_test(td, documents_kept_small);
	tcase_add_test(td, images_direct);
	tcase_add_test(td, image_url_escaped);
	tcase_add_test(td, sandbox_links);
	tcase_add_test(td, citation_edge_cases);
	tcase_add_test(td, fast_path_equivalence);
	tcase_add_test(td, many_appends);
	tcase_set_timeout(td, 30);
	suite_add_tcase(s, td);
	return s;
}

UNIT_MAIN(chatgpt_stream_content_suite)

