/*
 * Unit tests for upstream/qwenai/stream.c, the Qwen AI phase stream
 * decoder (providers.md §7.4).
 *
 * The fixtures in tests/unit/data/qwenai are written by hand from §7.4;
 * what each must give is in the table below.  Every fixture goes through
 * the real SSE re-framer whole, cut in two at every byte, one byte at a
 * time and with CRLF line endings, and with a sink that stops at each of
 * its calls.  Scripted events cover the rest: options, limits, sticky
 * errors.  The recording sink checks the sink contract on every call.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/utf8.h"
#include "tests/unit/unit.h"
#include "upstream/qwenai/stream.h"
#include "upstream/sse.h"

#define HINT	"Add the cookies."

struct acc {
	char	*p;
	size_t	 len;
};

static void
acc_add(struct acc *a, const char *s, size_t n)
{
	ck_assert_ptr_nonnull(a->p = realloc(a->p, a->len + n + 1));
	memcpy(a->p + a->len, s, n);
	a->len += n;
	a->p[a->len] = '\0';
}

#define ACC(a)	((a)->p != NULL ? (a)->p : "")

static int
utf8_ok(const char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += k)
		if ((k = utf8_seq_len((const unsigned char *)s + i, n - i)) ==
		    0)
			return 0;
	return 1;
}

/* ------------------------------------------------------------ sink */

struct log {
	struct acc	 text, reasoning;
	char		 end[1400];	/* "finish stop 1 2 3", "error ..." */
	int		 calls, roles, stop_at;
};

static int
step(struct log *l, int role)
{
	ck_assert_msg(l->end[0] == '\0', "a sink call after the end");
	if (role)
		ck_assert_int_eq(l->calls, 0);
	l->roles += role;
	return ++l->calls == l->stop_at;
}

static int
s_role(void *u, const char *role)
{
	ck_assert_str_eq(role, "assistant");
	return step(u, 1);
}

static int
s_piece(struct log *l, struct acc *a, const char *s, size_t n)
{
	ck_assert_uint_gt(n, 0);
	ck_assert_msg(utf8_ok(s, n), "invalid UTF-8 reached the sink");
	ck_assert_int_eq(l->roles, 1);
	acc_add(a, s, n);
	return step(l, 0);
}

static int
s_text(void *u, const char *s, size_t n)
{
	return s_piece(u, &((struct log *)u)->text, s, n);
}

static int
s_reasoning(void *u, const char *s, size_t n)
{
	return s_piece(u, &((struct log *)u)->reasoning, s, n);
}

static int
s_finish(void *u, enum chat_finish f, const struct chat_usage *us)
{
	struct log *l = u;
	static const char *const why[] = { "stop", "length", "filter",
	    "tools" };
	int rc;

	ck_assert_int_eq(l->roles, 1);
	rc = step(l, 0);
	if (us == NULL)
		snprintf(l->end, sizeof(l->end), "finish %s", why[f]);
	else
		snprintf(l->end, sizeof(l->end), "finish %s %ld %ld %ld",
		    why[f], us->prompt_tokens, us->completion_tokens,
		    us->total_tokens);
	return rc;
}

static int
s_error(void *u, int status, const char *type, const char *code,
    const char *msg)
{
	struct log *l = u;
	int rc = step(l, 0);
	size_t i;

	ck_assert(utf8_ok(msg, strlen(msg)));
	ck_assert_uint_le(strlen(msg), QAS_ERRMSG_MAX + 1 + strlen(HINT));
	for (i = 0; msg[i]; i++)
		ck_assert_msg((unsigned char)msg[i] >= 0x20, "a control "
		    "character in an error message");
	snprintf(l->end, sizeof(l->end), "error %d %s %s %s", status, type,
	    code, msg);
	return rc;
}

struct run {
	struct log		 l;
	struct chat_sink	 k;
	struct qa_stream	*st;
	enum qa_stream_err	 rc;
};

static void
run_open(struct run *u, int stop_at, int expired)
{
	struct qa_stream_opts o = { HINT, expired };

	memset(u, 0, sizeof(*u));
	u->l.stop_at = stop_at;
	u->k = (struct chat_sink){ .ctx = &u->l, .role = s_role,
	    .text = s_text, .reasoning = s_reasoning, .finish = s_finish,
	    .error = s_error };
	ck_assert_int_eq(qa_stream_new(&u->st, &u->k, &o), QAS_OK);
}

static void
run_close(struct run *u)
{
	qa_stream_free(u->st);
	free(u->l.text.p);
	free(u->l.reasoning.p);
}

/* One scripted event: "@name data" is named, anything else a data line. */
static enum qa_stream_err
ev(struct run *u, const char *s)
{
	char name[32] = "";
	const char *sp;

	if (s[0] == '@' && (sp = strchr(s, ' ')) != NULL) {
		snprintf(name, sizeof(name), "%.*s", (int)(sp - s - 1), s + 1);
		s = sp + 1;
	}
	return u->rc = qa_stream_event(u->st, name, s, strlen(s));
}

/* ------------------------------------------------------------ fixtures */

static const struct want {
	const char		*file;
	const char		*text, *reasoning, *end;
	enum qa_stream_err	 rc;
	const char		*response_id;
	int			 upstream_end, started;
} wants[] = {
	{ "basic.sse", "Hello, world!", "", "finish stop 12 4 16", QAS_OK,
	    "r-basic-1", 1, 1 },
	{ "think.sse", "你好！", "嗯，用户在打招呼。Greeting back.\nBe warm 😊",
	    "finish stop 5 9 0", QAS_OK, "r-think-2", 1, 1 },
	{ "rewrite.sse", "Done.", "First plan\nstep\n\nSecond plan",
	    "finish stop", QAS_OK, "", 1, 1 },
	{ "length.sse", "cut short", "", "finish length", QAS_OK, "", 1, 1 },
	{ "no_finish.sse", "The answer is cut", "", "finish stop", QAS_OK,
	    "r-5", 0, 1 },
	{ "done_only.sse", "Ends with DONE", "", "finish stop 0 0 40",
	    QAS_OK, "", 1, 1 },
	{ "error_inline.sse", "Partial", "", "error 502 upstream_error "
	    "Internal_Error the model failed", QAS_UPSTREAM, "", 0, 1 },
	{ "error_limit.sse", "", "", "error 429 rate_limit_error "
	    "rate_limit_exceeded You have reached the limit", QAS_UPSTREAM,
	    "r-7", 0, 0 },
	{ "error_event.sse", "", "Let me think", "error 502 upstream_error "
	    "upstream_stream_error upstream exploded", QAS_UPSTREAM, "", 0,
	    1 },
	{ "bad_request.sse", "", "", "error 403 upstream_error "
	    "upstream_forbidden Bad Request " HINT, QAS_UPSTREAM, "", 0, 0 },
	{ "unauthorized.sse", "", "", "error 401 invalid_request_error "
	    "invalid_api_key Please log in", QAS_UPSTREAM, "", 0, 0 },
	{ "phases.sse", "Answer text.", "", "finish stop", QAS_OK, "", 1, 1 },
	{ "utf8.sse", "A \xef\xbf\xbd lone, 😀 pair, raw \xef\xbf\xbd"
	    "\xef\xbf\xbd bytes, \xef\xbf\xbd\xef\xbf\xbd cut", "",
	    "finish stop", QAS_OK, "", 1, 1 },
	{ "garbage.sse", "", "", "", QAS_PROTO, "", 0, 0 },
	{ "empty.sse", "", "", "", QAS_PROTO, "r-10", 0, 0 },
};

static char *
slurp(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[1024], *p;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/tests/unit/data/qwenai/%s",
	    top ? top : ".", name);
	ck_assert_msg((f = fopen(path, "rb")) != NULL, "no %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	ck_assert_ptr_nonnull(p = malloc((size_t)n + 1));
	ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	p[n] = '\0';
	*len = (size_t)n;
	return p;
}

/* LF line ends as CRLF. */
static char *
crlf(const char *s, size_t n, size_t *out)
{
	char *p;
	size_t i, k = 0;

	ck_assert_ptr_nonnull(p = malloc(2 * n + 1));
	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			p[k++] = '\r';
		p[k++] = s[i];
	}
	*out = k;
	return p;
}

static int
on_event(void *u, const char *name, const char *data, size_t len)
{
	struct run *r = u;

	r->rc = qa_stream_event(r->st, name, data, len);
	return r->rc != QAS_OK;
}

/* buf through sse.c: cut once at cut, then in pieces of step (0: whole). */
static void
feed(struct run *u, const char *buf, size_t len, size_t cut, size_t stepn,
    int stop_at)
{
	struct sse_parser p;
	size_t at, n;

	run_open(u, stop_at, 0);
	sse_init(&p, on_event, u, 0);
	for (at = 0; at < len; at += n) {
		n = stepn == 0 ? len - at : stepn;
		if (at < cut && at + n > cut)
			n = cut - at;
		if (n > len - at)
			n = len - at;
		if (sse_feed(&p, buf + at, n) != SSE_OK)
			break;
	}
	if (u->rc == QAS_OK)
		(void)sse_finish(&p, NULL);
	if (u->rc == QAS_OK)
		u->rc = qa_stream_end(u->st);
	ck_assert_int_eq(qa_stream_end(u->st), u->rc);	/* sticky */
	if (u->rc != QAS_OK)
		ck_assert_int_eq(qa_stream_event(u->st, NULL, "{}", 2), u->rc);
	sse_free(&p);
}

static void
same(const struct want *w, struct run *u, const char *how, size_t k)
{
	ck_assert_msg(u->rc == w->rc && strcmp(ACC(&u->l.text), w->text) ==
	    0 && strcmp(ACC(&u->l.reasoning), w->reasoning) == 0 &&
	    strcmp(u->l.end, w->end) == 0, "%s (%s %zu): %s\ntext [%s]\n"
	    "reasoning [%s]\nend [%s]", w->file, how, k,
	    qa_stream_strerror(u->rc), ACC(&u->l.text), ACC(&u->l.reasoning),
	    u->l.end);
	ck_assert_str_eq(qa_stream_response_id(u->st), w->response_id);
	ck_assert_int_eq(qa_stream_finished_upstream(u->st), w->upstream_end);
	ck_assert_int_eq(qa_stream_started(u->st), w->started);
	ck_assert_int_eq(qa_stream_done(u->st), w->end[0] != '\0');
}

START_TEST(fixture)
{
	const struct want *w = &wants[_i];
	struct run u;
	size_t len, clen, k;
	char *buf = slurp(w->file, &len), *cr = crlf(buf, len, &clen);
	int calls;

	feed(&u, buf, len, 0, 0, 0);
	same(w, &u, "whole", 0);
	calls = u.l.calls;
	run_close(&u);
	for (k = 1; k < len; k++) {
		feed(&u, buf, len, k, 0, 0);
		same(w, &u, "cut at", k);
		run_close(&u);
	}
	feed(&u, buf, len, 0, 1, 0);
	same(w, &u, "bytes", 1);
	run_close(&u);
	feed(&u, cr, clen, 0, 3, 0);
	same(w, &u, "crlf", 3);
	run_close(&u);
	/* a sink that stops at call k: nothing more, the decoder is done */
	for (k = 1; k <= (size_t)calls; k++) {
		feed(&u, buf, len, 0, 7, (int)k);
		ck_assert_int_eq(u.l.calls, (int)k);
		ck_assert(u.rc == QAS_ABORT || (u.rc == QAS_UPSTREAM &&
		    strncmp(u.l.end, "error", 5) == 0));
		ck_assert(qa_stream_done(u.st));
		run_close(&u);
	}
	free(buf);
	free(cr);
}
END_TEST

/* ------------------------------------------------------------ scripts */

START_TEST(expired_and_hint)
{
	struct run u;
	char big[QAS_ERRMSG_MAX + 200], line[QAS_ERRMSG_MAX + 300];

	run_open(&u, 0, 1);
	ck_assert_int_eq(ev(&u, "{\"error\":{\"code\":\"Unauthorized\","
	    "\"details\":\"x\"}}"), QAS_UPSTREAM);
	ck_assert_str_eq(u.l.end, "error 401 invalid_request_error "
	    "account_expired x");
	run_close(&u);
	/* a message at the limit has no room for the hint: cut, no hint */
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(line, sizeof(line), "{\"code\":\"Bad_Request\","
	    "\"detail\":\"%s\"}", big);
	run_open(&u, 0, 0);
	ck_assert_int_eq(ev(&u, line), QAS_UPSTREAM);
	ck_assert_uint_eq(strlen(u.l.end), strlen("error 403 upstream_error "
	    "upstream_forbidden ") + QAS_ERRMSG_MAX);
	run_close(&u);
}
END_TEST

START_TEST(rate_limits_and_codes)
{
	static const struct {
		const char	*data, *end;
	} cases[] = {
		{ "{\"code\":\"TooManyRequests\",\"msg\":\"wait\"}",
		    "error 429 rate_limit_error rate_limit_exceeded wait" },
		{ "{\"success\":false,\"data\":{\"code\":\"Forbidden\"}}",
		    "error 403 upstream_error upstream_forbidden Qwen AI "
		    "reported an error." },
		{ "{\"error\":{\"message\":\"no code\"}}",
		    "error 502 upstream_error upstream_stream_error no code" },
		{ "{\"code\":\"Not_Found\",\"message\":\"gone\"}",
		    "error 502 upstream_error Not_Found gone" },
	};
	struct run u;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_open(&u, 0, 0);
		ck_assert_int_eq(ev(&u, cases[i].data), QAS_UPSTREAM);
		ck_assert_str_eq(u.l.end, cases[i].end);
		run_close(&u);
	}
	/* a code that says all is well is no error */
	run_open(&u, 0, 0);
	ck_assert_int_eq(ev(&u, "{\"success\":true,\"code\":0,\"choices\":[{"
	    "\"delta\":{\"content\":\"ok\"}}]}"), QAS_OK);
	ck_assert_int_eq(ev(&u, "{\"code\":\"200\",\"error\":null}"), QAS_OK);
	ck_assert_int_eq(qa_stream_end(u.st), QAS_OK);
	ck_assert_str_eq(ACC(&u.l.text), "ok");
	run_close(&u);
	/* a JSON "error" event */
	run_open(&u, 0, 0);
	ck_assert_int_eq(ev(&u, "@error {\"code\":\"RateLimited\"}"),
	    QAS_UPSTREAM);
	ck_assert_str_eq(u.l.end, "error 429 rate_limit_error "
	    "rate_limit_exceeded Qwen AI reported an error.");
	run_close(&u);
}
END_TEST

START_TEST(limits)
{
	struct run u;
	char *big;
	size_t n = QAS_SUMMARY_MAX + 100, i;

	/* a summary over its limit */
	ck_assert_ptr_nonnull(big = malloc(n + 200));
	i = (size_t)snprintf(big, 200, "{\"choices\":[{\"delta\":{\"phase\":"
	    "\"thinking_summary\",\"extra\":{\"summary_thought\":{\"content\":"
	    "[\"");
	memset(big + i, 's', QAS_SUMMARY_MAX);
	strcpy(big + i + QAS_SUMMARY_MAX, "\"]}}}}]}");
	run_open(&u, 0, 0);
	ck_assert_int_eq(ev(&u, big), QAS_PROTO);
	ck_assert_int_eq(ev(&u, "{}"), QAS_PROTO);
	ck_assert(!qa_stream_started(u.st));
	run_close(&u);
	free(big);
	/* nesting deeper than QAS_JSON_DEPTH */
	run_open(&u, 0, 0);
	{
		char deep[6 * (QAS_JSON_DEPTH + 1) + 16];
		size_t k = 0, d;

		for (d = 0; d <= QAS_JSON_DEPTH; d++)
			k += (size_t)sprintf(deep + k, "{\"a\":");
		k += (size_t)sprintf(deep + k, "1");
		for (d = 0; d <= QAS_JSON_DEPTH; d++)
			deep[k++] = '}';
		deep[k] = '\0';
		ck_assert_int_eq(ev(&u, deep), QAS_PROTO);
	}
	run_close(&u);
	/* a response id over QAS_ID_MAX is not kept; arrays are no events */
	run_open(&u, 0, 0);
	{
		char line[QAS_ID_MAX + 100];

		snprintf(line, sizeof(line), "{\"response.created\":{"
		    "\"response_id\":\"%0*d\"}}", QAS_ID_MAX + 1, 7);
		ck_assert_int_eq(ev(&u, line), QAS_OK);
		ck_assert_str_eq(qa_stream_response_id(u.st), "");
	}
	ck_assert_int_eq(ev(&u, "[1,2]"), QAS_PROTO);
	run_close(&u);
}
END_TEST

START_TEST(null_callbacks_and_blank)
{
	static const char think[] = "{\"choices\":[{\"delta\":{"
	    "\"content\":\"x\",\"phase\":\"think\"}}]}";
	struct chat_sink k;
	struct qa_stream *st;

	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(qa_stream_new(&st, &k, NULL), QAS_OK);
	ck_assert_int_eq(qa_stream_event(st, NULL, "  \r\n ", 5), QAS_OK);
	ck_assert_int_eq(qa_stream_event(st, "message", think,
	    sizeof(think) - 1), QAS_OK);
	ck_assert(qa_stream_started(st));
	ck_assert_int_eq(qa_stream_end(st), QAS_OK);
	ck_assert(qa_stream_done(st));
	ck_assert_int_eq(qa_stream_event(st, NULL, "garbage", 7), QAS_OK);
	qa_stream_free(st);
	qa_stream_free(NULL);
	ck_assert_str_eq(qa_stream_strerror(QAS_PROTO),
	    "not a Qwen AI phase stream");
	ck_assert_str_eq(qa_stream_strerror(QAS__MAX), "unknown error");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("qwenai_stream");
	TCase *tc = tcase_create("all");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, fixture, 0, sizeof(wants) / sizeof(wants[0]));
	tcase_add_test(tc, expired_and_hint);
	tcase_add_test(tc, rate_limits_and_codes);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, null_callbacks_and_blank);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
