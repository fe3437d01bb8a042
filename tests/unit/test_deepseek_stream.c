/*
 * Unit tests for upstream/deepseek/stream.c, the DeepSeek stream decoder.
 *
 * The fixtures in tests/unit/data/deepseek are written by hand from
 * providers.md §2.7; what each must give is written below.  Every fixture
 * goes through the real SSE re-framer (upstream/sse.c) whole, cut in two
 * at every byte, one byte at a time and with CRLF line endings, and once
 * with a sink that stops at each of its calls.  The scripts build
 * events in C for everything else: citation markers cut at every point,
 * references, in-stream errors, garbage and limits.  A recording sink
 * checks the sink contract on every call.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/sink_oracle.h"
#include "tests/unit/unit.h"
#include "tests/unit/unit_stream.h"
#include "upstream/deepseek/stream.h"
#include "upstream/sse.h"

struct sb {
	char	*p;
	size_t	 len, cap;
};

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = 2 * (b->len + n + 1);
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

#define sb_str(b)	((b)->p != NULL ? (b)->p : "")

/* ------------------------------------------------------------ recording sink */

struct rec {
	struct sb	 text, reasoning;
	char		 end[2048];	/* "finish stop [tokens]", "error ..." */
	int		 calls, roles, abort_at, error_call;
};

/* role() first and once; error() may come alone; nothing after the end. */
static int
rec_call(struct rec *r, char kind)
{
	ck_assert_msg(r->end[0] == '\0', "sink called after finish/error");
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
rec_chunk(struct rec *r, struct sb *b, const char *s, size_t n)
{
	ck_assert_uint_gt(n, 0);
	ck_assert_msg(oracle_utf8(s, n), "invalid UTF-8 handed to the sink");
	sb_add(b, s, n);
	return rec_call(r, 't');
}

static int
rec_text(void *r, const char *s, size_t n)
{
	return rec_chunk(r, &((struct rec *)r)->text, s, n);
}

static int
rec_reasoning(void *r, const char *s, size_t n)
{
	return rec_chunk(r, &((struct rec *)r)->reasoning, s, n);
}

static int
rec_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct rec	*r = ctx;
	int		 rc = rec_call(r, 'f');

	ck_assert_int_eq(f, CHAT_FINISH_STOP);
	if (u == NULL)
		snprintf(r->end, sizeof(r->end), "finish stop");
	else {
		ck_assert(u->prompt_tokens == 0 && u->completion_tokens == 0);
		snprintf(r->end, sizeof(r->end), "finish stop %ld",
		    u->total_tokens);
	}
	return rc;
}

static int
rec_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct rec	*r = ctx;
	int		 rc = rec_call(r, 'e');

	ck_assert(type != NULL && code != NULL && msg != NULL);
	ck_assert(oracle_utf8(msg, strlen(msg)));
	ck_assert_uint_le(strlen(msg), DSS_ERRMSG_MAX);
	snprintf(r->end, sizeof(r->end), "error %d %s %s %s", status, type,
	    code, msg);
	r->error_call = r->calls;
	return rc;
}

struct run {
	struct rec		 r;
	struct chat_sink	 k;
	struct ds_stream	*st;
	enum ds_stream_err	 rc;	/* the first error of an event */
};

static void
open_run(struct run *u, int search, int abort_at)
{
	struct ds_stream_opts	 o = { .thinking = 1, .search = search };

	memset(u, 0, sizeof(*u));
	u->r.abort_at = abort_at;
	u->k = (struct chat_sink){ .ctx = &u->r, .role = rec_role,
	    .text = rec_text, .reasoning = rec_reasoning,
	    .finish = rec_finish, .error = rec_error };
	ck_assert_int_eq(ds_stream_new(&u->st, &u->k, &o), DSS_OK);
}

static void
close_run(struct run *u)
{
	ds_stream_free(u->st);
	free(u->r.text.p);
	free(u->r.reasoning.p);
}

/* "@name data" is a named event, anything else a data line. */
static enum ds_stream_err
feed(struct run *u, const char *ev)
{
	char		 name[64] = "";
	const char	*sp;

	if (ev[0] == '@' && (sp = strchr(ev, ' ')) != NULL &&
	    (size_t)(sp - ev) < sizeof(name)) {
		memcpy(name, ev + 1, (size_t)(sp - ev - 1));
		name[sp - ev - 1] = '\0';
		ev = sp + 1;
	}
	return ds_stream_event(u->st, name, ev, strlen(ev));
}

/* ------------------------------------------------------------ fixtures */

struct expect {
	const char		*file;
	int			 search;
	const char		*text, *reasoning, *end;
	enum ds_stream_err	 rc;		/* first error, else end()'s */
	long			 msg_id;
	int			 upstream_end, started;
};

static const struct expect fixtures[] = {
	{ "basic.sse", 0, "你好！😊 我是 DeepSeek，很高兴见到你。", "",
	    "finish stop 115", DSS_OK, 2, 1, 1 },
	{ "newer.sse", 0, "Hello, world!\n\nLine two: café ñ €.", "",
	    "finish stop 42", DSS_OK, 4, 1, 1 },
	{ "think.sse", 0, "你好！有什么可以帮你？",
	    "嗯，用户在打招呼。\n我应该友好地回应。（补充）",
	    "finish stop 87", DSS_OK, 6, 1, 1 },
	{ "search.sse", 1,
	    "C was created at Bell Labs [2] by Dennis Ritchie [1][2]. "
	    "Arrays [i] stay. See [12] or [citation:x].\n\n"
	    "[1]: [The C Programming Language]"
	    "(https://example.com/a?q=%281%29)\n"
	    "[2]: [Bell Labs \\[archive\\]](https://example.org/b)", "",
	    "finish stop 300", DSS_OK, 8, 1, 1 },
	{ "search_old.sse", 1, "Zeta says so[3], Alpha[2] and also[1].\n\n"
	    "[1]: [https://news.example/z](https://news.example/z)\n"
	    "[2]: [Alpha Beta](https://news.example/y)\n"
	    "[3]: [Zeta](https://news.example/x)", "Looking at the results…",
	    "finish stop 55", DSS_OK, 10, 1, 1 },
	{ "no_finish.sse", 1, "The answer is cut [citation:", "",
	    "finish stop", DSS_OK, 2, 0, 1 },
	{ "error_inline.sse", 0, "Partial", "", "error 502 upstream_error "
	    "40003 Authorization Failed (invalid token)", DSS_UPSTREAM, 2, 0,
	    1 },
	{ "error_hint.sse", 0, "", "", "error 429 rate_limit_error "
	    "rate_limit_reached 消息发送过于频繁，请稍后再试", DSS_UPSTREAM, 2,
	    0, 0 },
	{ "error_event.sse", 0, "", "Let me think", "error 502 "
	    "upstream_error server_busy Internal error", DSS_UPSTREAM, -1, 0,
	    1 },
	{ "unknown.sse", 0, "Real answer continues.", "", "finish stop",
	    DSS_OK, 2, 1, 1 },
	{ "utf8.sse", 1, "Ünïcødé: 中文 😀 中[3]文🇫🇷 é\xcc\x81 ℤ lone "
	    "\xef\xbf\xbd surrogate raw \xef\xbf\xbd\xef\xbf\xbd byte "
	    "\xef\xbf\xbd\xef\xbf\xbd" "ä end", "", "finish stop", DSS_OK, -1,
	    1, 1 },
	{ "garbage.sse", 0, "", "", "", DSS_PROTO, 2, 0, 0 },
	{ "empty_close.sse", 0, "", "", "", DSS_PROTO, 2, 0, 0 },
};

static int
on_event(void *ctx, const char *name, const char *data, size_t len)
{
	struct run	*u = ctx;

	u->rc = ds_stream_event(u->st, name, data, len);
	return u->rc != DSS_OK;
}

/* Feed buf through sse.c in pieces of at most step bytes (0: whole). */
static void
run_sse(struct run *u, const struct expect *e, const char *buf, size_t len,
    size_t cut, size_t step, int abort_at)
{
	struct sse_parser	 p;

	open_run(u, e->search, abort_at);
	sse_init(&p, on_event, u, 0);
	unit_sse_feed(&p, buf, len, cut, step);
	if (u->rc == DSS_OK)
		(void)sse_finish(&p, NULL);
	if (u->rc == DSS_OK)
		u->rc = ds_stream_end(u->st);
	/* errors are sticky, end() may be called again */
	ck_assert_int_eq(ds_stream_end(u->st), u->rc);
	if (u->rc != DSS_OK)
		ck_assert_int_eq(feed(u, "{}"), u->rc);
	sse_free(&p);
}

static void
check_run(const struct expect *e, struct run *u, const char *how, size_t k)
{
	ck_assert_msg(u->rc == e->rc && strcmp(sb_str(&u->r.text), e->text) ==
	    0 && strcmp(sb_str(&u->r.reasoning), e->reasoning) == 0 &&
	    strcmp(u->r.end, e->end) == 0, "%s (%s %zu): rc %s\n--- text\n%s\n"
	    "--- reasoning\n%s\n--- end\n%s", e->file, how, k,
	    ds_stream_strerror(u->rc), sb_str(&u->r.text),
	    sb_str(&u->r.reasoning), u->r.end);
	ck_assert_int_eq(ds_stream_message_id(u->st), e->msg_id);
	ck_assert_int_eq(ds_stream_finished_upstream(u->st), e->upstream_end);
	ck_assert_int_eq(ds_stream_started(u->st), e->started);
	ck_assert_int_eq(ds_stream_done(u->st), e->end[0] != '\0');
}

/*
 * Cut at every byte, then one byte at a time, then with CRLF.  And with a
 * sink that stops at each of its calls: the decoder returns DSS_ABORT (or
 * DSS_UPSTREAM when it was error() that asked: it has been told either
 * way), never calls the sink again and leaks nothing.
 */
START_TEST(fixture)
{
	const struct expect	*e = &fixtures[_i];
	struct run		 u;
	size_t			 len, clen = 0;
	char			*buf = unit_slurp("deepseek", e->file, &len), *crlf;
	int			 calls;

	ck_assert_msg(buf != NULL, "cannot open %s", e->file);

	for (size_t k = 0; k <= len + 1; k++) {
		run_sse(&u, e, buf, len, k, k <= len ? 0 : 1, 0);
		check_run(e, &u, k <= len ? "cut at" : "bytes", k);
		calls = u.r.calls;
		close_run(&u);
	}
	ck_assert_ptr_nonnull(crlf = malloc(2 * len + 1));
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			crlf[clen++] = '\r';
		crlf[clen++] = buf[i];
	}
	run_sse(&u, e, crlf, clen, 0, 0, 0);
	check_run(e, &u, "CRLF", 0);
	close_run(&u);
	for (int k = 1; k <= calls; k++) {
		run_sse(&u, e, buf, len, 0, 0, k);
		ck_assert_int_eq(u.r.calls, k);
		ck_assert_int_eq(u.rc, u.r.error_call == k ? DSS_UPSTREAM :
		    DSS_ABORT);
		ck_assert(ds_stream_done(u.st));
		close_run(&u);
	}
	free(crlf);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------ citations */

/* A RESPONSE fragment, then its text: bare lines append to it. */
#define NEWA(t)	"{\"p\":\"response\",\"o\":\"BATCH\",\"v\":[{\"p\":" \
	"\"fragments\",\"o\":\"APPEND\",\"v\":[{\"type\":\"RESPONSE\"," \
	"\"content\":\"" t "\"}]}]}", \
	"{\"p\":\"response/fragments/-1/content\",\"o\":\"APPEND\",\"v\":\"\"}"
#define NEWT(t)	"{\"p\":\"response/fragments\",\"o\":\"APPEND\",\"v\":" \
	"[{\"type\":\"THINK\",\"content\":\"" t "\"}]}"
#define BARE(t)	"{\"v\":\"" t "\"}"
#define FIN	"{\"p\":\"response/status\",\"v\":\"FINISHED\"}"
#define RES(url, title, cite) "{\"url\":\"" url "\",\"title\":\"" title \
	"\",\"cite_index\":" cite "}"

/* What the rewrite gives, by a second, naive implementation. */
static void
naive_rewrite(const char *s, size_t n, struct sb *out)
{
	size_t	 i = 0, d;

	while (i < n) {
		for (d = 0; i + 10 + d < n && s[i + 10 + d] >= '0' &&
		    s[i + 10 + d] <= '9'; d++)
			;
		if (i + 11 + d <= n && strncmp(s + i, "[citation:", 10) == 0 &&
		    d >= 1 && d <= DSS_CITE_DIGITS && s[i + 10 + d] == ']') {
			sb_add(out, "[", 1);
			sb_add(out, s + i + 10, d + 1);
			i += 11 + d;
		} else
			sb_add(out, s + i++, 1);
	}
}

/* Longest suffix of s[0..n) that is a proper prefix of a marker. */
static size_t
naive_tail(const char *s, size_t n)
{
	for (size_t t = n < DSS_HOLD_MAX ? n : DSS_HOLD_MAX; t > 0; t--) {
		size_t	 i;

		for (i = 0; i < t && (i < 10 ? s[n - t + i] == "[citation:"[i] :
		    s[n - t + i] >= '0' && s[n - t + i] <= '9'); i++)
			;
		if (i == t)
			return t;
	}
	return 0;
}

static const char *const cite_cases[] = {
	"ab[citation:12]cd", "[citation:1][citation:22]", "x[[citation:3]]y",
	"中[citation:7]文😀", "[citation:123456] vs [citation:1234567]", "[cit",
	"a[citation:]b[citation:", "end [citation:12", "[[[[citation:9]",
	"no markers at all, [brackets] only",
};

/*
 * A text cut into three deltas at every pair of character boundaries (a
 * delta is a JSON string: whole characters): the answer is the naive
 * rewrite, and after each delta exactly what cannot start a marker any
 * more has gone out.
 */
START_TEST(citation_every_split)
{
	const char	*s = cite_cases[_i], *first[] = { NEWA("") };
	size_t		 n = strlen(s);
	char		 ev[256];

	for (size_t a = 0; a <= n; a++)
		for (size_t b = a; b <= n; b++) {
			struct run	 u;
			struct sb	 want = { 0 };
			size_t		 cut[3] = { a, b, n }, from = 0;

			if ((s[a] & 0xc0) == 0x80 || (s[b] & 0xc0) == 0x80)
				continue;
			open_run(&u, 1, 0);
			ck_assert_int_eq(feed(&u, first[0]), DSS_OK);
			ck_assert_int_eq(feed(&u, first[1]), DSS_OK);
			for (int k = 0; k < 3; from = cut[k++]) {
				snprintf(ev, sizeof(ev), "{\"v\":\"%.*s\"}",
				    (int)(cut[k] - from), s + from);
				ck_assert_int_eq(feed(&u, ev), DSS_OK);
				want.len = 0;
				naive_rewrite(s, cut[k] - naive_tail(s, cut[k]),
				    &want);
				ck_assert_msg(strcmp(sb_str(&u.r.text),
				    sb_str(&want)) == 0, "\"%s\" cut %zu/%zu, "
				    "delta %d: \"%s\", want \"%s\"", s, a, b, k,
				    sb_str(&u.r.text), sb_str(&want));
			}
			ck_assert_int_eq(ds_stream_end(u.st), DSS_OK);
			want.len = 0;
			naive_rewrite(s, n, &want);
			ck_assert_str_eq(sb_str(&u.r.text), sb_str(&want));
			close_run(&u);
			free(want.p);
		}
}
END_TEST

/* ------------------------------------------------------------ scripts */

struct script {
	const char		*name;
	int			 search;
	const char		*ev[16];	/* see feed() */
	enum ds_stream_err	 rc;		/* of the last event */
	int			 end;		/* end()'s rc after; -1: none */
	const char		*text, *reasoning, *fin;
};

static const struct script scripts[] = {
	{ "no search: markers stay", 0, { NEWA("see [citation:1] and [cit") },
	    DSS_OK, DSS_OK, "see [citation:1] and [cit", "", "finish stop" },
	{ "results switch the rewrite on", 0, {
	    "{\"p\":\"response/search_results\",\"v\":[]}",
	    NEWA("see [citation:1]") }, DSS_OK, -1, "see [1]", "", "" },
	{ "reasoning is not rewritten", 1, { NEWT("[citation:1]") }, DSS_OK,
	    -1, "", "[citation:1]", "" },
	{ "deltas in order, SET appends, absolute index", 0, {
	    "{\"p\":\"response\",\"o\":\"BATCH\",\"v\":[{\"p\":\"fragments\","
	    "\"o\":\"APPEND\",\"v\":[{\"type\":\"THINK\",\"content\":\"r1\"}]},"
	    "{\"p\":\"fragments/-1/content\",\"v\":\"r2\"},{\"p\":\"fragments\","
	    "\"o\":\"APPEND\",\"v\":[{\"type\":\"ANSWER\",\"content\":\"t1\"}]},"
	    "{\"p\":\"fragments/-1/content\",\"o\":\"APPEND\",\"v\":\"t2\"},"
	    "{\"p\":\"fragments/-1/content\",\"o\":\"SET\",\"v\":\"t3\"},"
	    "{\"p\":\"fragments/0/content\",\"o\":\"APPEND\",\"v\":\"r3\"}]}" },
	    DSS_OK, -1, "t1t2t3", "r1r2r3", "" },
	{ "references sorted, one per index, escaped", 1, { NEWA("x\\n"),
	    "{\"p\":\"response/search_results\",\"v\":[" RES("https://e/10",
	    "Ten", "10") "," RES("https://e/2", "Two", "2") ","
	    RES("https://e/2b", "Two again", "2") "," RES("ftp://e/3",
	    "Not http", "3") "," RES("https://e/none", "No index", "null") ","
	    RES("HTTPS://E/1 a<b>é", "O\\tne\\u0000 \\\\ [x]", "1") ","
	    RES("https://e/neg", "Negative", "-4") ",7,{\"url\":\"https://e/5"
	    "\",\"cite_index\":5}]}" }, DSS_OK, DSS_OK, "x\n\n"
	    "[1]: [O ne  \\\\ \\[x\\]](HTTPS://E/1%20a%3Cb%3E%C3%A9)\n"
	    "[2]: [Two](https://e/2)\n[5]: [https://e/5](https://e/5)\n"
	    "[10]: [Ten](https://e/10)", "", "finish stop" },
	{ "a list set again adds; cite_index updates", 1, {
	    "{\"p\":\"response/search_results\",\"v\":[" RES("https://old/",
	    "Old", "1") "]}", "{\"p\":\"response/search_results\",\"o\":\"SET\","
	    "\"v\":[" RES("https://new/", "New", "1") "]}",
	    "{\"p\":\"response/search_results\",\"o\":\"APPEND\",\"v\":["
	    RES("https://more/", "More", "null") "]}",
	    "{\"p\":\"response/search_results/-1/cite_index\",\"v\":2}", FIN },
	    DSS_OK, DSS_OK, "[1]: [Old](https://old/)\n[2]: [More](https://more/)",
	    "", "finish stop" },
	{ "fragment results and odd shapes", 0, {
	    " \r\n\t", "\n  {\"p\":\"response\",\"o\":\"SET\",\"v\":{\"fragments\":"
	    "[{\"type\":\"SEARCH\",\"results\":[{\"url\":\"https://s/\",\"title\":"
	    "\"S\"},{\"url\":\"https://\xff/\",\"title\":\"bad\",\"cite_index\":"
	    "6}]},{\"type\":\"RESPONSE\",\"content\":\"A\"}]}}  \n",
	    "{\"p\":\"response\",\"o\":\"BATCH\",\"v\":\"not a list\"}",
	    "{\"p\":\"response\",\"o\":7,\"v\":{\"status\":\"FINISHED\"}}",
	    "{\"p\":\"response\",\"v\":\"x\"}", "{\"p\":\"response\",\"o\":"
	    "\"BATCH\",\"v\":[7,{\"p\":\"status\"},{\"v\":\"FINISHED\"},{\"p\":"
	    "\"status\",\"o\":[],\"v\":\"FINISHED\"},{\"p\":[],\"v\":1}]}",
	    "{\"p\":\"response/fragments/0/results/0/cite_index\",\"v\":5}",
	    "{\"p\":\"response/fragments/9/results/0/cite_index\",\"v\":6}",
	    "{\"p\":\"response/fragments/0/results/x/cite_index\",\"v\":6}",
	    "{\"p\":\"response/fragments/1234567/content\",\"v\":\"no\"}",
	    "{\"o\":null,\"v\":\"no\"}", "{\"p\":\"response/fragments/-1/content"
	    "\",\"o\":\"MERGE\",\"v\":\"no\"}" }, DSS_OK, DSS_OK,
	    "A\n\n[5]: [S](https://s/)\n[6]: [bad](https://%FF/)", "",
	    "finish stop" },
	{ "invalid UTF-8, byte by byte", 0, { NEWA(""), BARE("a\xe0\x80\x80"
	    "b\xed\xa0\x80" "c\xf4\x90\x80\x80" "d\xf0\x80\x80\x80" "e\xc1\xbf"
	    "f\xf5\x80" "g\xe2\x82" "h\xe0\xa0\x80\xed\x9f\xbf\xf4\x8f\xbf\xbf"
	    "\xf0\x90\x80\x80"), "{\"p\":\"response/thinking_content\",\"v\":"
	    "\"\xc0\xaf\"}" }, DSS_OK, -1, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf"
	    "\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef"
	    "\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "d\xef\xbf\xbd\xef\xbf\xbd\xef"
	    "\xbf\xbd\xef\xbf\xbd" "e\xef\xbf\xbd\xef\xbf\xbd" "f\xef\xbf\xbd"
	    "\xef\xbf\xbd" "g\xef\xbf\xbd\xef\xbf\xbd" "h\xe0\xa0\x80\xed\x9f"
	    "\xbf\xf4\x8f\xbf\xbf\xf0\x90\x80\x80",
	    "\xef\xbf\xbd\xef\xbf\xbd", "" },
	{ "FINISHED without text: role, empty answer, tokens", 0, {
	    "@ready {\"response_message_id\":77}", "{\"p\":\"response\",\"o\":"
	    "\"BATCH\",\"v\":[{\"p\":\"quasi_status\",\"v\":\"FINISHED\"},{\"p\":"
	    "\"accumulated_token_usage\",\"v\":9}]}", NEWA("after"), "garbage",
	    "@error x" }, DSS_OK, DSS_OK, "", "", "finish stop 9" },
	{ "INCOMPLETE ends it; WIP does not", 0, { NEWA("a"),
	    "{\"p\":\"response/status\",\"v\":\"WIP\"}", "{\"p\":"
	    "\"response/quasi_status\",\"v\":\"INCOMPLETE\"}" }, DSS_OK, DSS_OK,
	    "a", "", "finish stop" },
	{ "CONTENT_FILTER ends it", 0, { NEWA("a"), "{\"p\":\"response/status"
	    "\",\"v\":\"CONTENT_FILTER\"}" }, DSS_OK, DSS_OK, "a", "",
	    "finish stop" },
	{ "close without content: not an answer", 0, { "@close {}",
	    "@finish {}" }, DSS_OK, DSS_PROTO, "", "", "" },
	{ "quiet objects and events", 0, { "{}", "{\"code\":0,\"msg\":\"\"}",
	    "{\"code\":0,\"msg\":\"ok\"}", "{\"code\":\"0\"}", "{\"code\":null}",
	    "{\"error\":null}", "{\"error\":false}", "{\"msg\":\"\"}",
	    "@hint {\"type\":\"info\"}", "@hint {{{", "@title not json",
	    "@whatever {\"code\":1}", "@update_session {\"updated_at\":1}" },
	    DSS_OK, DSS_PROTO, "", "", "" },
#define ERR(ev, want) { "error: " ev, 1, { NEWA("before [cit"), ev }, \
	DSS_UPSTREAM, DSS_UPSTREAM, "before [cit", "", want }
	ERR("{\"code\":40003,\"msg\":\"Authorization Failed\",\"data\":null}",
	    "error 502 upstream_error 40003 Authorization Failed"),
	ERR("{\"code\":429,\"msg\":\"Too many requests\"}",
	    "error 429 rate_limit_error 429 Too many requests"),
	ERR("{\"error\":\"plain words\"}",
	    "error 502 upstream_error upstream_stream_error plain words"),
	ERR("{\"error\":{\"message\":\"slow down\",\"type\":\"RATE_LIMIT_X\"}}",
	    "error 429 rate_limit_error RATE_LIMIT_X slow down"),
	ERR("{\"msg\":\"only a message\"}",
	    "error 502 upstream_error upstream_stream_error only a message"),
	ERR("{\"code\":\"bad code/\\\"x\",\"msg\":\"two\\nlines\\u0000\"}",
	    "error 502 upstream_error badcodex two lines "),
	ERR("@error Service Unavailable", "error 502 upstream_error "
	    "upstream_stream_error Service Unavailable"),
	ERR("@error ", "error 502 upstream_error upstream_stream_error The "
	    "upstream reported an error."),
	ERR("@error {\"code\":500}", "error 502 upstream_error 500 The "
	    "upstream reported an error."),
	ERR("@hint {\"type\":\"error\",\"content\":\"稍后再试\","
	    "\"finish_reason\":\"too_many_requests\"}",
	    "error 429 rate_limit_error too_many_requests 稍后再试"),
#define GARBAGE(ev) { "garbage: " ev, 0, { NEWA("ok"), ev }, DSS_PROTO, \
	DSS_PROTO, "ok", "", "" }
	GARBAGE("not json"), GARBAGE("{\"v\":\"a\""), GARBAGE("{\"v\":1} x"),
	GARBAGE("[1,2]"), GARBAGE("42"), GARBAGE("\"v\""), GARBAGE("null"),
	GARBAGE("{\"v\":1,}"), GARBAGE("{\"v\" \"a\"}"),
	GARBAGE("{\"p\":7,\"v\":\"x\"}"), GARBAGE("{\"p\":\"a\\u0000b\",\"v\":1}"),
	GARBAGE("{\"p\":\"response\",\"o\":\"BATCH\",\"v\":[{\"p\":\"x\\u0000"
	    "\",\"v\":1}]}"), GARBAGE("@ready {\"response_message_id\":"),
};

START_TEST(script)
{
	const struct script	*sc = &scripts[_i];
	struct run		 u;
	size_t			 n;

	for (n = 0; n < 16 && sc->ev[n] != NULL; n++)
		;
	open_run(&u, sc->search, 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(feed(&u, sc->ev[i]) == (i + 1 < n ? DSS_OK :
		    sc->rc), "%s: event %zu", sc->name, i);
	if (sc->rc != DSS_OK)	/* sticky */
		ck_assert_int_eq(feed(&u, BARE("more")), sc->rc);
	if (sc->end >= 0)
		ck_assert_int_eq(ds_stream_end(u.st), sc->end);
	ck_assert_msg(strcmp(sb_str(&u.r.text), sc->text) == 0 &&
	    strcmp(sb_str(&u.r.reasoning), sc->reasoning) == 0 &&
	    strcmp(u.r.end, sc->fin) == 0, "%s:\n--- text\n%s\n--- reasoning"
	    "\n%s\n--- end\n%s", sc->name, sb_str(&u.r.text),
	    sb_str(&u.r.reasoning), u.r.end);
	ck_assert_int_eq(ds_stream_done(u.st), sc->fin[0] != '\0');
	close_run(&u);
}
END_TEST

/* ------------------------------------------------------------ limits */

/* prefix, n times c, suffix: malloc'd */
static char *
big(const char *prefix, const char *c, size_t n, const char *suffix)
{
	struct sb	 b = { 0 };

	sb_add(&b, prefix, strlen(prefix));
	while (n-- > 0)
		sb_add(&b, c, strlen(c));
	sb_add(&b, suffix, strlen(suffix));
	return b.p;
}

static enum ds_stream_err
feed_big(struct run *u, char *ev)
{
	enum ds_stream_err	 rc = feed(u, ev);

	return free(ev), rc;
}

START_TEST(limits)
{
	struct run	 u;
	size_t		 n;

	/* at DSS_JSON_DEPTH and DSS_PATH_MAX fine, past them DSS_PROTO */
	for (int over = 0; over < 2; over++) {
		struct sb	 b = { 0 };

		open_run(&u, 0, 0);
		sb_add(&b, "{\"v\":", 5);
		for (int i = 0; i < DSS_JSON_DEPTH - 1 + over; i++)
			sb_add(&b, "[", 1);
		for (int i = 0; i < DSS_JSON_DEPTH - 1 + over; i++)
			sb_add(&b, "]", 1);
		sb_add(&b, "}", 1);
		ck_assert_int_eq(feed_big(&u, b.p), over ? DSS_PROTO : DSS_OK);
		ck_assert_int_eq(feed_big(&u, big("{\"p\":\"", "x",
		    DSS_PATH_MAX + (size_t)over, "\",\"v\":\"x\"}")), over ?
		    DSS_PROTO : DSS_OK);
		close_run(&u);
	}
	open_run(&u, 0, 0);
	ck_assert_int_eq(feed_big(&u, big("{\"v\":\"", "a", DSS_MAX_EVENT,
	    "\"}")), DSS_PROTO);
	close_run(&u);

	/* DSS_MAX_FRAGMENTS fragments, then one more */
	open_run(&u, 0, 0);
	ck_assert_int_eq(feed_big(&u, big("{\"p\":\"response/fragments\","
	    "\"o\":\"APPEND\",\"v\":[", "{\"type\":\"RESPONSE\",\"content"
	    "\":\"a\"},", DSS_MAX_FRAGMENTS - 1, "{}]}")), DSS_OK);
	ck_assert_uint_eq(u.r.text.len, DSS_MAX_FRAGMENTS - 1);
	ck_assert_int_eq(feed(&u, NEWT("x")), DSS_PROTO);
	close_run(&u);

	/*
	 * A snapshot member too long for a path is skipped; titles are cut
	 * between characters at DSS_TITLE_MAX; urls over DSS_URL_MAX and
	 * results past DSS_MAX_RESULTS are dropped.
	 */
	open_run(&u, 1, 0);
	ck_assert_int_eq(feed_big(&u, big("{\"v\":{\"response\":{\"", "k",
	    DSS_PATH_MAX, "\":{},\"status\":\"WIP\"}}}")), DSS_OK);
	ck_assert_int_eq(feed_big(&u, big("{\"p\":\"response/search_results"
	    "\",\"v\":[{\"url\":\"https://t/\",\"cite_index\":1,\"title\":\"",
	    "中", DSS_TITLE_MAX / 3 + 20, "\"}]}")), DSS_OK);
	ck_assert_int_eq(feed_big(&u, big("{\"p\":\"response/search_results"
	    "\",\"o\":\"APPEND\",\"v\":[{\"cite_index\":2,\"url\":\"https://",
	    "u", DSS_URL_MAX, "\"}]}")), DSS_OK);
	ck_assert_int_eq(feed_big(&u, big("{\"p\":\"response/search_results"
	    "\",\"o\":\"APPEND\",\"v\":[", "{\"url\":\"https://r/\",\"cite_index"
	    "\":3},", DSS_MAX_RESULTS, "{}]}")), DSS_OK);
	ck_assert_int_eq(feed(&u, FIN), DSS_OK);
	/* "[1]: [" + 85 characters + "](https://t/)\n[3]: [https://r/]..." */
	n = strlen("[1]: [") + (DSS_TITLE_MAX / 3) * 3 + strlen("](https://t/)");
	ck_assert_uint_eq(strlen(u.r.text.p), n + strlen("\n[3]: [https://r/]"
	    "(https://r/)"));
	ck_assert_ptr_null(strstr(u.r.text.p, "[2]"));
	close_run(&u);

	/* error text cut at DSS_ERRMSG_MAX, between characters, U+FFFD too */
	open_run(&u, 0, 0);
	ck_assert_int_eq(feed_big(&u, big("{\"msg\":\"a", "\xe2\x82\xac",
	    DSS_ERRMSG_MAX, "\"}")), DSS_UPSTREAM);
	n = strlen("error 502 upstream_error upstream_stream_error ");
	ck_assert_uint_eq(strlen(u.r.end), n + 1 + (DSS_ERRMSG_MAX - 1) / 3 *
	    3);
	close_run(&u);
	open_run(&u, 0, 0);
	ck_assert_int_eq(feed_big(&u, big("{\"msg\":\"", "\xff",
	    DSS_ERRMSG_MAX, "\"}")), DSS_UPSTREAM);
	ck_assert_uint_eq(strlen(u.r.end), n + DSS_ERRMSG_MAX / 3 * 3);
	close_run(&u);
}
END_TEST

START_TEST(misc)
{
	struct chat_sink	 sink = { 0 };
	struct ds_stream	*st;
	const char		*ev = "{\"v\":{\"response\":{\"fragments\":"
	    "[{\"type\":\"RESPONSE\",\"content\":\"x\"}],\"status\":"
	    "\"FINISHED\"}}}";

	/* a sink without callbacks, and none at all; data NULL is empty */
	ck_assert_int_eq(ds_stream_new(&st, &sink, NULL), DSS_OK);
	ck_assert_int_eq(ds_stream_event(st, NULL, NULL, 3), DSS_OK);
	ck_assert_int_eq(ds_stream_event(st, NULL, ev, strlen(ev)), DSS_OK);
	ck_assert(ds_stream_done(st) && ds_stream_started(st));
	ds_stream_free(st);
	ck_assert_int_eq(ds_stream_new(&st, NULL, NULL), DSS_OK);
	ck_assert_int_eq(ds_stream_event(st, "error", "x", 1), DSS_UPSTREAM);
	ds_stream_free(st);

	for (int e = DSS_OK; e < DSS__MAX; e++)
		ck_assert_str_ne(ds_stream_strerror((enum ds_stream_err)e),
		    "unknown error");
	ck_assert_str_eq(ds_stream_strerror(DSS__MAX), "unknown error");
	ck_assert_int_eq(ds_stream_event(NULL, NULL, "{}", 2), DSS_ENOMEM);
	ck_assert_int_eq(ds_stream_end(NULL), DSS_ENOMEM);
	ck_assert(!ds_stream_started(NULL) && !ds_stream_done(NULL));
	ck_assert(!ds_stream_finished_upstream(NULL));
	ck_assert_int_eq(ds_stream_message_id(NULL), -1);
	ds_stream_free(NULL);
}
END_TEST

static Suite *
deepseek_stream_suite(void)
{
	Suite	*s = suite_create("deepseek_stream");
	TCase	*tf = tcase_create("fixtures");
	TCase	*td = tcase_create("direct");

	tcase_add_loop_test(tf, fixture, 0, (int)(sizeof(fixtures) /
	    sizeof(fixtures[0])));
	tcase_set_timeout(tf, 120);
	suite_add_tcase(s, tf);
	tcase_add_loop_test(td, citation_every_split, 0,
	    (int)(sizeof(cite_cases) / sizeof(cite_cases[0])));
	tcase_add_loop_test(td, script, 0,
	    (int)(sizeof(scripts) / sizeof(scripts[0])));
	tcase_add_test(td, limits);
	tcase_add_test(td, misc);
	tcase_set_timeout(td, 60);
	suite_add_tcase(s, td);
	return s;
}

UNIT_MAIN(deepseek_stream_suite)
