/*
 * Unit tests for upstream/kimi/prompt.c, the Kimi prompt flattening
 * (providers.md §4.3).  Each case is a conversation written as a table
 * of messages and the exact prompt it must give.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/arena.h"
#include "tests/unit/unit.h"
#include "upstream/kimi/prompt.h"

#define IMG	"\x01image"
#define FIL	"\x01" "file"
#define MAXP	8

struct tmsg {
	enum chat_role	 role;
	const char	*parts[MAXP];	/* NULL-terminated; IMG, FIL */
	const char	*name;
};

struct tcase {
	const char	*name;
	struct tmsg	 m[8];
	size_t		 n;
	const char	*want;
};

#define S(r, t)		{ r, { t, NULL }, NULL }
#define P(r, ...)	{ r, { __VA_ARGS__, NULL }, NULL }
#define T(t, who)	{ CHAT_ROLE_TOOL, { t, NULL }, who }
#define SYS		CHAT_ROLE_SYSTEM
#define DEV		CHAT_ROLE_DEVELOPER
#define USR		CHAT_ROLE_USER
#define AST		CHAT_ROLE_ASSISTANT
#define FOCUS		"system:" KIMI_FOCUS "\n"
#define URL(u)		KIMI_URL_OPEN u KIMI_URL_CLOSE

static const struct tcase cases[] = {
	{ "one user message: its text and a newline",
	    { S(USR, "hi") }, 1, "hi\n" },
	{ "a system message leads, one turn stays bare",
	    { S(SYS, "Be brief."), S(USR, "hi") }, 2,
	    "system:Be brief.\nhi\n" },
	{ "two turns: labelled, the focus line before the last",
	    { S(USR, "q1"), S(AST, "a1") }, 2,
	    "user:q1\n" FOCUS "assistant:a1\n" },
	{ "a conversation",
	    { S(SYS, "s"), S(USR, "q1"), S(AST, "a1"), S(USR, "q2") }, 4,
	    "system:s\nuser:q1\nassistant:a1\n" FOCUS "user:q2\n" },
	{ "only the last system text is kept, wherever it stood",
	    { S(SYS, "first"), S(USR, "q1"), S(DEV, "second"), S(AST, "a1"),
	    S(USR, "q2") }, 5,
	    "system:second\nuser:q1\nassistant:a1\n" FOCUS "user:q2\n" },
	{ "empty messages are left out (and not counted)",
	    { S(USR, ""), S(AST, ""), S(USR, "only") }, 3, "only\n" },
	{ "an assistant alone", { S(AST, "hello") }, 1, "hello\n" },
	{ "tool results are user turns",
	    { S(USR, "q"), T("42", "call_1"), T("43", NULL) }, 3,
	    "user:q\nuser:[TOOL_RESULT for call_1] 42\n" FOCUS
	    "user:[TOOL_RESULT for tool] 43\n" },
	{ "a lone tool result",
	    { T("r", "f") }, 1, "[TOOL_RESULT for f] r\n" },
	{ "multi-part: text parts joined with a newline",
	    { P(USR, "a", "", "b"), P(SYS, "x", "y") }, 2,
	    "system:x\ny\na\nb\n" },
	{ "user URLs wrapped, an assistant's left alone",
	    { S(USR, "see https://kimi.com/a?b=1 and http://x.y"),
	    S(AST, "at https://z.com"), S(USR, "(HTTPS://Q.R/s)\"t") }, 3,
	    "user:see " URL("https://kimi.com/a?b=1") " and "
	    URL("http://x.y") "\nassistant:at https://z.com\n" FOCUS
	    "user:(" URL("HTTPS://Q.R/s)") "\"t\n" },
	{ "a URL ends at a space, a control, < > or \"",
	    { S(USR, "http://a<b http://c>d http://e\tf http://g\"h "
	    "https://i\xe4\xbd\xa0j") }, 1,
	    URL("http://a") "<b " URL("http://c") ">d " URL("http://e")
	    "\tf " URL("http://g") "\"h " URL("https://i\xe4\xbd\xa0j") "\n" },
	{ "a bare scheme is no URL; neither is a system's",
	    { S(SYS, "http://s.t"), S(USR, "http:// https:// xhttp://y") }, 2,
	    "system:http://s.t\nhttp:// https:// x" URL("http://y") "\n" },
	{ "tool text keeps its URLs as they are",
	    { S(USR, "q"), T("http://r.s", "c") }, 2,
	    "user:q\n" FOCUS "user:[TOOL_RESULT for c] http://r.s\n" },
	{ "text is copied byte for byte",
	    { S(USR, "\xe4\xbd\xa0\xe5\xa5\xbd\n\n\t\xf0\x9f\x98\x80") }, 1,
	    "\xe4\xbd\xa0\xe5\xa5\xbd\n\n\t\xf0\x9f\x98\x80\n" },
	{ "no messages", { S(USR, NULL) }, 0, "" },
};

/* The request of a case, in the arena. */
static struct chat_request *
request(struct arena *a, const struct tcase *c)
{
	struct chat_request *r = arena_calloc(a, 1, sizeof(*r));
	size_t i, k, np;

	ck_assert_ptr_nonnull(r);
	r->messages = arena_calloc(a, c->n + 1, sizeof(*r->messages));
	r->nmessages = c->n;
	for (i = 0; i < c->n; i++) {
		struct chat_message *m = &r->messages[i];

		m->role = c->m[i].role;
		m->name = c->m[i].name;
		for (np = 0; c->m[i].parts[np] != NULL; np++)
			;
		m->parts = arena_calloc(a, np + 1, sizeof(*m->parts));
		m->nparts = np;
		for (k = 0; k < np; k++) {
			const char *t = c->m[i].parts[k];

			if (t[0] == '\x01') {
				m->parts[k].type = strcmp(t, IMG) == 0 ?
				    CHAT_PART_IMAGE : CHAT_PART_FILE;
				m->parts[k].url = "data:x";
				continue;
			}
			m->parts[k].type = CHAT_PART_TEXT;
			m->parts[k].text = t;
			m->parts[k].len = strlen(t);
		}
	}
	return r;
}

START_TEST(table)
{
	const struct tcase *c = &cases[_i];
	struct arena a;
	size_t len = 99;
	char *p;

	arena_init(&a, 1u << 20);
	p = kimi_prompt(&a, request(&a, c), &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(strcmp(p, c->want) == 0, "%s: got \"%s\"", c->name, p);
	ck_assert_uint_eq(len, strlen(c->want));
	ck_assert_int_eq(kimi_prompt_media(request(&a, c)), -1);
	arena_free(&a);
}
END_TEST

START_TEST(media)
{
	static const struct tcase c = { "media",
	    { S(USR, "a"), S(AST, "b"), P(USR, "c", IMG), P(USR, FIL) }, 4,
	    "" };
	struct tcase d = c;
	struct arena a;

	arena_init(&a, 1u << 20);
	ck_assert_int_eq(kimi_prompt_media(request(&a, &c)), 2);
	d.n = 2;
	ck_assert_int_eq(kimi_prompt_media(request(&a, &d)), -1);
	d.m[0] = c.m[3];
	ck_assert_int_eq(kimi_prompt_media(request(&a, &d)), 0);
	/* the prompt itself skips them */
	ck_assert_str_eq(kimi_prompt(&a, request(&a, &c), NULL),
	    "user:a\nassistant:b\n" FOCUS "user:c\n");
	arena_free(&a);
}
END_TEST

/* A long conversation grows the buffer: exact size, nothing lost. */
START_TEST(long_text)
{
	static char big[100000];
	struct tcase c = { "long", { S(USR, big), S(AST, "ok") }, 2, "" };
	struct arena a;
	size_t len;
	char *p;

	memset(big, 'x', sizeof(big) - 1);
	arena_init(&a, 1u << 22);
	p = kimi_prompt(&a, request(&a, &c), &len);
	ck_assert_uint_eq(len, 5 + sizeof(big) - 1 + 1 + strlen(FOCUS) +
	    strlen("assistant:ok\n"));
	ck_assert_int_eq(strncmp(p, "user:xxx", 8), 0);
	ck_assert_str_eq(p + len - 13, "assistant:ok\n");
	arena_free(&a);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("kimi_prompt");
	TCase *t = tcase_create("all");

	tcase_add_loop_test(t, table, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(t, media);
	tcase_add_test(t, long_text);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
