/*
 * Unit tests for upstream/deepseek/prompt.c, the DeepSeek prompt
 * flattening (providers.md §2.5).  Each case is a conversation written
 * as a table of messages and the exact prompt it must give; the tags are
 * spelled out byte by byte once (tags_are_the_model_tokens) and used by
 * name (U, A, E) everywhere else.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/arena.h"
#include "tests/unit/unit.h"
#include "upstream/deepseek/prompt.h"

#define U	DS_TAG_USER
#define A	DS_TAG_ASSISTANT
#define E	DS_TAG_EOS

/* Part markers in a message's part list. */
#define IMG	"\x01image"
#define FIL	"\x01" "file"
#define MAXP	8

struct tmsg {
	enum chat_role	 role;
	const char	*parts[MAXP];	/* NULL-terminated; IMG, FIL */
	int		 string_content;
};

struct tcase {
	const char	*name;
	struct tmsg	 m[8];
	size_t		 n;
	const char	*want;
};

#define S(r, t)		{ r, { t, NULL }, 1 }
#define P(r, ...)	{ r, { __VA_ARGS__, NULL }, 0 }
#define SYS		CHAT_ROLE_SYSTEM
#define DEV		CHAT_ROLE_DEVELOPER
#define USR		CHAT_ROLE_USER
#define AST		CHAT_ROLE_ASSISTANT
#define TOOL		CHAT_ROLE_TOOL

static const struct tcase cases[] = {
	{ "one user message", { S(USR, "hi") }, 1, "hi" },
	{ "system then user merge, first block bare",
	    { S(SYS, "Be brief."), S(USR, "hi") }, 2, "Be brief.\n\nhi" },
	{ "a turn", { S(USR, "q1"), S(AST, "a1"), S(USR, "q2") }, 3,
	    "q1" A "a1" E U "q2" },
	{ "system, turns, developer",
	    { S(SYS, "s"), S(USR, "q1"), S(AST, "a1"), S(DEV, "d"),
	    S(USR, "q2") }, 5, "s\n\nq1" A "a1" E U "d\n\nq2" },
	{ "assistants merge", { S(USR, "q"), S(AST, "x"), S(AST, "y") }, 3,
	    "q" A "x\n\ny" E },
	{ "ends with the assistant: the token closes it",
	    { S(USR, "q"), S(AST, "a") }, 2, "q" A "a" E },
	{ "first block assistant keeps its tags",
	    { S(AST, "hello"), S(USR, "hi") }, 2, A "hello" E U "hi" },
	{ "tool is user text for now",
	    { S(USR, "q"), S(TOOL, "42"), S(AST, "a"), S(TOOL, "43") }, 4,
	    "q\n\n42" A "a" E U "43" },
	{ "multi-part: text parts joined, images and files dropped",
	    { P(USR, "a", IMG, "b", FIL, "", "c") }, 1, "a\nb\nc" },
	{ "multi-part across merged messages",
	    { P(USR, "a", "b"), P(USR, IMG, "c") }, 2, "a\nb\n\nc" },
	{ "markdown images removed",
	    { S(USR, "see ![alt text](http://x/y.png) here"),
	    S(AST, "![a](b)![c](d) two"), S(USR, "![](u)") }, 3,
	    "see  here" A " two" E },
	{ "not images",
	    { S(USR, "![a](b\n![a] (b)\n! [a](b)\n[l](u)\n![a\n](b)\n"
	    "![x](\r![y](z)") }, 1,
	    "![a](b\n![a] (b)\n! [a](b)\n[l](u)\n![a\n](b)\n![x](\r" },
	{ "image syntax is non-greedy, and a later line starts afresh",
	    { S(USR, "![a]b](c)d) ![x\n![y](z)") }, 1, "d) ![x\n" },
	{ "an image never spans two messages",
	    { S(USR, "look ![a"), S(AST, "](b) ok") }, 2,
	    "look ![a" A "](b) ok" E },
	{ "UTF-8 and other bytes untouched",
	    { S(USR, "中文 😀 e\xcc\x81 \xff\xfe <｜User｜>") }, 1,
	    "中文 😀 e\xcc\x81 \xff\xfe <｜User｜>" },
	{ "empty messages are left out",
	    { S(USR, "a"), S(AST, ""), S(USR, "b"), P(AST, IMG),
	    S(AST, "![i](j)"), S(SYS, "") }, 6, "a\n\nb" },
	{ "all empty", { S(USR, ""), S(AST, "") }, 2, "" },
	{ "no messages", { S(USR, "unused") }, 0, "" },
	{ "whitespace is text", { S(USR, " "), S(AST, "\n") }, 2,
	    " " A "\n" E },
};
#define NCASES	(sizeof(cases) / sizeof(cases[0]))

/* The request for a case; parts live in the caller's arrays. */
static void
build(const struct tcase *c, struct chat_request *req,
    struct chat_message *m, struct chat_part (*p)[MAXP])
{
	memset(req, 0, sizeof(*req));
	for (size_t i = 0; i < c->n; i++) {
		size_t	 k;

		memset(&m[i], 0, sizeof(m[i]));
		m[i].role = c->m[i].role;
		m[i].string_content = c->m[i].string_content;
		m[i].parts = p[i];
		for (k = 0; k < MAXP && c->m[i].parts[k] != NULL; k++) {
			const char	*t = c->m[i].parts[k];

			memset(&p[i][k], 0, sizeof(p[i][k]));
			if (strcmp(t, IMG) == 0) {
				p[i][k].type = CHAT_PART_IMAGE;
				p[i][k].url = "https://img.example/x.png";
			} else if (strcmp(t, FIL) == 0) {
				p[i][k].type = CHAT_PART_FILE;
				p[i][k].url = "data:text/plain;base64,eA==";
			} else {
				p[i][k].type = CHAT_PART_TEXT;
				p[i][k].text = t;
				p[i][k].len = strlen(t);
			}
		}
		m[i].nparts = k;
	}
	req->messages = m;
	req->nmessages = c->n;
	req->model = "deepseek-chat";
}

START_TEST(flatten)
{
	const struct tcase	*c = &cases[_i];
	struct chat_message	 m[8];
	struct chat_part	 p[8][MAXP];
	struct chat_request	 req;
	struct arena		 a;
	size_t			 len = 99;
	char			*out;

	build(c, &req, m, p);
	arena_init(&a, 0);
	out = ds_prompt(&a, &req, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(len == strlen(c->want) && memcmp(out, c->want, len) == 0,
	    "%s:\n--- got (%zu)\n%s\n--- want (%zu)\n%s", c->name, len, out,
	    strlen(c->want), c->want);
	ck_assert_int_eq(out[len], '\0');
	/* len may be NULL */
	ck_assert_str_eq(ds_prompt(&a, &req, NULL), c->want);
	arena_free(&a);
}
END_TEST

START_TEST(tags_are_the_model_tokens)
{
	/* U+FF5C FULLWIDTH VERTICAL LINE, U+2581 LOWER ONE EIGHTH BLOCK */
	ck_assert_str_eq(DS_TAG_USER, "<\xef\xbd\x9cUser\xef\xbd\x9c>");
	ck_assert_str_eq(DS_TAG_ASSISTANT,
	    "<\xef\xbd\x9c\x41ssistant\xef\xbd\x9c>");
	ck_assert_str_eq(DS_TAG_EOS, "<\xef\xbd\x9c\x65nd\xe2\x96\x81of"
	    "\xe2\x96\x81sentence\xef\xbd\x9c>");
	ck_assert_str_eq(DS_TAG_USER, "<｜User｜>");
	ck_assert_str_eq(DS_TAG_ASSISTANT, "<｜Assistant｜>");
	ck_assert_str_eq(DS_TAG_EOS, "<｜end▁of▁sentence｜>");
}
END_TEST

/* Embedded NUL bytes count: the length is the truth, not strlen. */
START_TEST(embedded_nul)
{
	struct chat_part	 p = { .type = CHAT_PART_TEXT, .text = "a\0b",
				    .len = 3 };
	struct chat_message	 m = { .role = CHAT_ROLE_USER, .parts = &p,
				    .nparts = 1 };
	struct chat_request	 req = { .messages = &m, .nmessages = 1 };
	struct arena		 a;
	size_t			 len;
	char			*out;

	arena_init(&a, 0);
	out = ds_prompt(&a, &req, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(out, "a\0b", 4), 0);
	arena_free(&a);
}
END_TEST

START_TEST(null_and_empty)
{
	struct chat_request	 req;
	struct chat_part	 p = { .type = CHAT_PART_TEXT, .text = NULL,
				    .len = 0 };
	struct chat_message	 m = { .role = CHAT_ROLE_USER, .parts = &p,
				    .nparts = 1 };
	struct arena		 a;
	size_t			 len = 7;

	arena_init(&a, 0);
	ck_assert_str_eq(ds_prompt(&a, NULL, &len), "");
	ck_assert_uint_eq(len, 0);
	memset(&req, 0, sizeof(req));
	req.messages = &m;
	req.nmessages = 1;
	ck_assert_str_eq(ds_prompt(&a, &req, &len), "");
	m.nparts = 0;
	m.parts = NULL;
	ck_assert_str_eq(ds_prompt(&a, &req, &len), "");
	arena_free(&a);
}
END_TEST

START_TEST(out_of_memory)
{
	struct chat_part	 p = { .type = CHAT_PART_TEXT, .text = "hello",
				    .len = 5 };
	struct chat_message	 m = { .role = CHAT_ROLE_USER, .parts = &p,
				    .nparts = 1 };
	struct chat_request	 req = { .messages = &m, .nmessages = 1 };
	struct arena		 a;
	size_t			 len = 7;

	arena_init(&a, 16);
	ck_assert_ptr_null(ds_prompt(&a, &req, &len));
	ck_assert_uint_eq(len, 0);
	arena_free(&a);
}
END_TEST

/* The most messages a request may have, alternating, multi-part. */
START_TEST(many_messages)
{
	struct chat_message	*m;
	struct chat_part	 p[2] = {
		{ .type = CHAT_PART_TEXT, .text = "xy", .len = 2 },
		{ .type = CHAT_PART_IMAGE, .url = "https://i/" },
	};
	struct chat_request	 req;
	struct arena		 a;
	size_t			 len, want;
	char			*out;

	m = calloc(CHAT_MAX_MESSAGES, sizeof(*m));
	ck_assert_ptr_nonnull(m);
	for (size_t i = 0; i < CHAT_MAX_MESSAGES; i++) {
		m[i].role = i % 2 ? CHAT_ROLE_ASSISTANT : CHAT_ROLE_USER;
		m[i].parts = p;
		m[i].nparts = 2;
	}
	memset(&req, 0, sizeof(req));
	req.messages = m;
	req.nmessages = CHAT_MAX_MESSAGES;
	arena_init(&a, 0);
	out = ds_prompt(&a, &req, &len);
	ck_assert_ptr_nonnull(out);
	/* "xy", then 1024 assistant blocks and 1023 user blocks */
	want = 2 + (CHAT_MAX_MESSAGES / 2) * (strlen(A) + 2 + strlen(E)) +
	    (CHAT_MAX_MESSAGES / 2 - 1) * (strlen(U) + 2);
	ck_assert_uint_eq(len, want);
	ck_assert_uint_eq(strlen(out), want);
	ck_assert_int_eq(strncmp(out, "xy" A "xy" E U "xy" A, 2 + strlen(A) +
	    2 + strlen(E) + strlen(U) + 2 + strlen(A)), 0);
	arena_free(&a);
	free(m);
}
END_TEST

/*
 * Hostile text: a line of 4 MB of "![" (no image ever closes) and one of
 * a million images.  Must be linear: the test would time out otherwise.
 */
START_TEST(images_linear)
{
	size_t			 n = 4u << 20, len;
	char			*t = malloc(n + 1), *out;
	struct chat_part	 p = { .type = CHAT_PART_TEXT };
	struct chat_message	 m = { .role = CHAT_ROLE_USER, .parts = &p,
				    .nparts = 1 };
	struct chat_request	 req = { .messages = &m, .nmessages = 1 };
	struct arena		 a;

	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < n; i += 2)
		memcpy(t + i, "![", 2);
	t[n - 2] = ']';
	t[n - 1] = '(';
	p.text = t;
	p.len = n;
	arena_init(&a, 0);
	out = ds_prompt(&a, &req, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(len, n);
	ck_assert_int_eq(memcmp(out, t, n), 0);
	arena_free(&a);

	for (size_t i = 0; i + 6 <= n; i += 6)
		memcpy(t + i, "![](x)", 6);
	t[n - 4] = 'e';
	t[n - 3] = 'n';
	t[n - 2] = 'd';
	t[n - 1] = '.';
	arena_init(&a, 0);
	out = ds_prompt(&a, &req, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "end.");
	arena_free(&a);
	free(t);
}
END_TEST

static Suite *
deepseek_prompt_suite(void)
{
	Suite	*s = suite_create("deepseek_prompt");
	TCase	*tc = tcase_create("prompt");

	tcase_add_loop_test(tc, flatten, 0, (int)NCASES);
	tcase_add_test(tc, tags_are_the_model_tokens);
	tcase_add_test(tc, embedded_nul);
	tcase_add_test(tc, null_and_empty);
	tcase_add_test(tc, out_of_memory);
	tcase_add_test(tc, many_messages);
	tcase_add_test(tc, images_linear);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(deepseek_prompt_suite)
