/*
 * Unit tests for upstream/qwen/prompt.c, the Qwen prompt flattening
 * (providers.md §6.2, the whole conversation kept).  Each case is a
 * conversation as a table of messages and the exact prompt it must give;
 * the first cases are the reference's own shapes, which a single
 * question must keep.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/arena.h"
#include "tests/unit/unit.h"
#include "upstream/qwen/prompt.h"

#define IMG	"\x01image"
#define MAXP	6

struct tmsg {
	enum chat_role	 role;
	const char	*parts[MAXP];	/* NULL-terminated; IMG: an image */
};

struct tcase {
	const char	*name;
	struct tmsg	 m[8];
	size_t		 n;
	const char	*want;
};

#define M(r, ...)	{ r, { __VA_ARGS__, NULL } }
#define SYS		CHAT_ROLE_SYSTEM
#define DEV		CHAT_ROLE_DEVELOPER
#define USR		CHAT_ROLE_USER
#define AST		CHAT_ROLE_ASSISTANT
#define TOOL		CHAT_ROLE_TOOL

static const struct tcase cases[] = {
	/* §6.2: "<system>\n\nUser: <user>" or just the user text */
	{ "a bare question", { M(USR, "hi") }, 1, "hi" },
	{ "system and question", { M(SYS, "Be brief."), M(USR, "hi") }, 2,
	    "Be brief.\n\nUser: hi" },
	{ "systems and developer open the prompt, merged",
	    { M(SYS, "s1"), M(DEV, "d"), M(USR, "q") }, 3,
	    "s1\n\nd\n\nUser: q" },
	/* the history the reference drops */
	{ "a turn", { M(USR, "q1"), M(AST, "a1"), M(USR, "q2") }, 3,
	    "User: q1\n\nAssistant: a1\n\nUser: q2" },
	{ "system, turns",
	    { M(SYS, "s"), M(USR, "q1"), M(AST, "a1"), M(USR, "q2") }, 4,
	    "s\n\nUser: q1\n\nAssistant: a1\n\nUser: q2" },
	{ "a later system message keeps its place",
	    { M(USR, "q1"), M(SYS, "now French"), M(USR, "q2") }, 3,
	    "User: q1\n\nSystem: now French\n\nUser: q2" },
	{ "one role in a row merges under one label",
	    { M(USR, "a"), M(USR, "b"), M(AST, "x"), M(AST, "y") }, 4,
	    "User: a\n\nb\n\nAssistant: x\n\ny" },
	{ "two user messages are still one bare question",
	    { M(USR, "a"), M(USR, "b") }, 2, "a\n\nb" },
	{ "tool results", { M(USR, "q"), M(AST, "call"), M(TOOL, "42"),
	    M(USR, "so?") }, 4,
	    "User: q\n\nAssistant: call\n\nTool: 42\n\nUser: so?" },
	{ "ends with the assistant (a prefill)",
	    { M(USR, "q"), M(AST, "a") }, 2, "User: q\n\nAssistant: a" },
	{ "the assistant first", { M(AST, "hello"), M(USR, "hi") }, 2,
	    "Assistant: hello\n\nUser: hi" },
	{ "parts joined with a newline, other parts left out",
	    { M(USR, "a", IMG, "b", "", "c") }, 1, "a\nb\nc" },
	{ "messages without text are skipped",
	    { M(SYS, ""), M(USR, IMG), M(USR, "q"), M(AST, "") }, 4, "q" },
	{ "only a system message", { M(SYS, "alone") }, 1, "alone" },
	{ "nothing at all", { M(USR, "") }, 1, "" },
	{ "text byte for byte",
	    { M(USR, "\xe4\xbd\xa0\xe5\xa5\xbd \"q\"\n\\ User: x") }, 1,
	    "\xe4\xbd\xa0\xe5\xa5\xbd \"q\"\n\\ User: x" },
};

/* The messages of a case, in the arena. */
static struct chat_request *
request(struct arena *a, const struct tcase *c)
{
	struct chat_request	*r = arena_calloc(a, 1, sizeof(*r));
	size_t			 i, k, n;

	r->messages = arena_calloc(a, c->n, sizeof(*r->messages));
	r->nmessages = c->n;
	for (i = 0; i < c->n; i++) {
		for (n = 0; c->m[i].parts[n] != NULL; n++)
			;
		r->messages[i].role = c->m[i].role;
		r->messages[i].parts = arena_calloc(a, n + 1,
		    sizeof(struct chat_part));
		r->messages[i].nparts = n;
		for (k = 0; k < n; k++) {
			struct chat_part	*p = &r->messages[i].parts[k];

			if (strcmp(c->m[i].parts[k], IMG) == 0) {
				p->type = CHAT_PART_IMAGE;
				p->url = "data:image/png;base64,AAAA";
				continue;
			}
			p->type = CHAT_PART_TEXT;
			p->text = c->m[i].parts[k];
			p->len = strlen(p->text);
		}
	}
	return r;
}

START_TEST(cases_give_their_prompt)
{
	const struct tcase	*c = &cases[_i];
	struct arena		 a;
	size_t			 len = 99;
	char			*p;

	arena_init(&a, 0);
	p = qw_prompt(&a, request(&a, c), &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(strcmp(p, c->want) == 0, "%s: [%s], want [%s]", c->name,
	    p, c->want);
	ck_assert_uint_eq(len, strlen(c->want));
	arena_free(&a);
}
END_TEST

START_TEST(files_are_found)
{
	static const struct tcase	 text = { "t", { M(USR, "a"),
	    M(AST, "b") }, 2, "" };
	static const struct tcase	 img = { "i", { M(USR, "a"),
	    M(USR, "b", IMG) }, 2, "" };
	struct arena			 a;
	struct chat_request		 empty;

	arena_init(&a, 0);
	ck_assert_int_eq(qw_prompt_has_files(request(&a, &text)), 0);
	ck_assert_int_eq(qw_prompt_has_files(request(&a, &img)), 1);
	memset(&empty, 0, sizeof(empty));
	ck_assert_int_eq(qw_prompt_has_files(&empty), 0);
	ck_assert_int_eq(qw_prompt_has_files(NULL), 0);
	ck_assert_str_eq(qw_prompt(&a, &empty, NULL), "");
	ck_assert_str_eq(qw_prompt(&a, NULL, NULL), "");
	arena_free(&a);
}
END_TEST

/* A long conversation: the size bound holds (no overflow, exact text). */
START_TEST(long_conversation)
{
	struct arena		 a;
	struct chat_request	 r;
	struct chat_message	 m[300];
	struct chat_part	 p[300];
	size_t			 i, len;
	char			*out;

	arena_init(&a, 0);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < 300; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].type = CHAT_PART_TEXT;
		p[i].text = "x";
		p[i].len = 1;
		m[i].role = i % 2 ? CHAT_ROLE_ASSISTANT : CHAT_ROLE_USER;
		m[i].parts = &p[i];
		m[i].nparts = 1;
	}
	r.messages = m;
	r.nmessages = 300;
	out = qw_prompt(&a, &r, &len);
	ck_assert_ptr_nonnull(out);
	/* 150 "User: x" and 150 "Assistant: x", 299 separators */
	ck_assert_uint_eq(len, 150 * 7 + 150 * 12 + 299 * 2);
	ck_assert(strncmp(out, "User: x\n\nAssistant: x\n\nUser: x", 30) == 0);
	arena_free(&a);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("qwen_prompt");
	TCase	*t = tcase_create("prompt");

	tcase_add_loop_test(t, cases_give_their_prompt, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(t, files_are_found);
	tcase_add_test(t, long_conversation);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
