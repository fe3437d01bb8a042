/*
 * Unit tests for upstream/glm/stream.c and render.c, the GLM snapshot
 * stream decoder.
 *
 * The fixtures in tests/unit/data/glm are snapshot streams written from
 * providers.md §3.6 (what each must give is below).  Each goes through
 * the real SSE re-framer cut at every byte, one byte at a time, with CRLF
 * line endings, and with a sink that stops at each of its calls.  The
 * scripted cases build snapshots in C: every prefix of an answer with
 * citation markers as its own snapshot (the held-back tail), rewrites,
 * errors and the limits.  The recording sink checks the contract on
 * every call.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "tests/unit/unit_stream.h"
#include "upstream/glm/render.h"
#include "upstream/glm/stream.h"
#include "upstream/sse.h"

#define CID	"67a0f3c2b1d4e5f6a7b8c9d0"

/* ------------------------------------------------------------ the sink */

struct log {
	char	*text, *think;
	size_t	 tlen, rlen;
	char	 end[2048];
	int	 calls, roles, stop_at, error_at;
};

static void
append(char **p, size_t *len, const char *s, size_t n)
{
	ck_assert_ptr_nonnull(*p = realloc(*p, *len + n + 1));
	memcpy(*p + *len, s, n);
	*len += n;
	(*p)[*len] = '\0';
}

/* Each well-formed character is 1 to 4 bytes; nothing else passes. */
static bool
utf8_ok(const unsigned char *s, size_t n)
{
	size_t	 i = 0, k, j;

	while (i < n) {
		k = s[i] < 0x80 ? 1 : s[i] >= 0xc2 && s[i] <= 0xdf ? 2 :
		    s[i] >= 0xe0 && s[i] <= 0xef ? 3 : s[i] >= 0xf0 &&
		    s[i] <= 0xf4 ? 4 : 0;
		if (k == 0 || n - i < k)
			return false;
		for (j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += k;
	}
	return true;
}

static int
called(struct log *l, char what)
{
	ck_assert_msg(l->end[0] == '\0', "a sink call after the end");
	if (what == 'r')
		ck_assert_int_eq(l->calls, 0);
	else if (what != 'e')
		ck_assert_int_eq(l->roles, 1);
	if (what == 'r')
		l->roles++;
	return ++l->calls == l->stop_at;
}

static int
s_role(void *u, const char *role)
{
	ck_assert_str_eq(role, "assistant");
	return called(u, 'r');
}

static int
s_text(void *u, const char *s, size_t n)
{
	struct log	*l = u;

	ck_assert_uint_gt(n, 0);
	ck_assert_msg(utf8_ok((const unsigned char *)s, n), "bad UTF-8");
	append(&l->text, &l->tlen, s, n);
	return called(l, 't');
}

static int
s_think(void *u, const char *s, size_t n)
{
	struct log	*l = u;

	ck_assert_uint_gt(n, 0);
	ck_assert_msg(utf8_ok((const unsigned char *)s, n), "bad UTF-8");
	append(&l->think, &l->rlen, s, n);
	return called(l, 'k');
}

static int
s_finish(void *u, enum chat_finish f, const struct chat_usage *us)
{
	struct log	*l = u;
	int		 rc = called(l, 'f');

	ck_assert_int_eq(f, CHAT_FINISH_STOP);
	ck_assert_ptr_null(us);		/* GLM counts nothing */
	snprintf(l->end, sizeof(l->end), "finish");
	return rc;
}

static int
s_error(void *u, int status, const char *type, const char *code,
    const char *msg)
{
	struct log	*l = u;
	int		 rc = called(l, 'e');

	ck_assert(type && code && msg);
	ck_assert_msg(strchr(msg, '\n') == NULL, "a message of two lines");
	ck_assert_uint_le(strlen(msg), GLMS_ERRMSG_MAX);
	snprintf(l->end, sizeof(l->end), "error %d %s %s %s", status, type,
	    code, msg);
	l->error_at = l->calls;
	return rc;
}

struct dec {
	struct log		 l;
	struct chat_sink	 k;
	struct glm_stream	*st;
	enum glm_stream_err	 rc;
};

static void
dec_open(struct dec *d, int stop_at)
{
	memset(d, 0, sizeof(*d));
	d->l.stop_at = stop_at;
	d->k = (struct chat_sink){ .ctx = &d->l, .role = s_role,
	    .text = s_text, .reasoning = s_think, .finish = s_finish,
	    .error = s_error };
	ck_assert_int_eq(glm_stream_new(&d->st, &d->k), GLMS_OK);
}

static void
dec_close(struct dec *d)
{
	glm_stream_free(d->st);
	free(d->l.text);
	free(d->l.think);
}

#define TXT(d)	((d)->l.text ? (d)->l.text : "")
#define THK(d)	((d)->l.think ? (d)->l.think : "")

/* One data line (or "@name data" for a named event). */
static enum glm_stream_err
put(struct dec *d, const char *ev)
{
	char		 name[32] = "";
	const char	*sp;

	if (*ev == '@' && (sp = strchr(ev, ' ')) != NULL) {
		snprintf(name, sizeof(name), "%.*s", (int)(sp - ev - 1),
		    ev + 1);
		ev = sp + 1;
	}
	return glm_stream_event(d->st, name, ev, strlen(ev));
}

/* ------------------------------------------------------------ fixtures */

struct want {
	const char		*file;
	const char		*text, *think, *end;
	enum glm_stream_err	 rc;	/* the first error, else end()'s */
	int			 upstream_end, started;
	const char		*conv;
};

#define SEARCH_A	"https://example.com/a?q=%281%29"
#define SEARCH_B	"https://example.org/b"
#define IMG		"https://sfile.chatglm.cn/img/"

static const struct want fixtures[] = {
	{ "basic.sse", "你好！😊 我是智谱清言，很高兴见到你。", "", "finish",
	    GLMS_OK, 1, 1, CID },
	{ "think.sse", "Hello! How can I help you today?",
	    "用户在打招呼。\n我应该友好地回应。", "finish", GLMS_OK, 1, 1, CID },
	{ "search.sse", "C came from Bell Labs [1](" SEARCH_B ") by Ritchie "
	    " [2](" SEARCH_A ") and [1](" SEARCH_B "). Unknown【turn9search9】 "
	    "stays; turn0search01234567 too.", "", "finish", GLMS_OK, 1, 1,
	    CID },
	{ "repeat_shrink.sse", "Snapshots may repeat or shrink, the client "
	    "text only grows.", "", "finish", GLMS_OK, 1, 1, CID },
	{ "changed_parts.sse", "Part one.\nPart two.", "First thought",
	    "finish", GLMS_OK, 1, 1, CID },
	{ "image_code.sse", "Here:\n![image](" IMG "a%20b.png)![image](" IMG
	    "c%281%29.png)\n\n```python\nprint(1+1)\n```\n2\n\nDone.", "",
	    "finish", GLMS_OK, 1, 1, CID },
	{ "intervene.sse", "Let me answer\n\n这个问题我无法回答。", "",
	    "finish", GLMS_OK, 1, 1, CID },
	{ "no_finish.sse", "Cut short at turn0sea", "", "finish", GLMS_OK, 0,
	    1, CID },
	{ "error_status.sse", "Partial", "", "error 502 upstream_error "
	    "server_busy 服务繁忙 请稍后", GLMS_UPSTREAM, 0, 1, CID },
	{ "error_expired.sse", "", "", "error 401 invalid_request_error "
	    "account_expired refresh token expired (40102)", GLMS_UPSTREAM,
	    0, 0, NULL },
	{ "error_event.sse", "", "Let me think", "error 429 rate_limit_error "
	    "rate_limit Too many requests", GLMS_UPSTREAM, 0, 1, CID },
	{ "garbage.sse", "", "", "", GLMS_PROTO, 0, 0, CID },
	{ "empty_close.sse", "", "", "", GLMS_PROTO, 0, 0, CID },
	{ "rewrite.sse", "Hello world, world!", "", "finish", GLMS_OK, 1, 1,
	    CID },
	{ "done_marker.sse", "Fine.", "", "finish", GLMS_OK, 0, 1, CID },
	{ "utf8.sse", "über 中文 😀 raw \xef\xbf\xbd\xef\xbf\xbd lone "
	    "\xef\xbf\xbd pair 😀 end", "", "finish", GLMS_OK, 1, 1, CID },
};

static int
on_event(void *u, const char *name, const char *data, size_t len)
{
	struct dec	*d = u;

	d->rc = glm_stream_event(d->st, name, data, len);
	return d->rc != GLMS_OK;
}

/* buf through sse.c: cut once at cut, or in pieces of step (0: whole). */
static void
run(struct dec *d, const char *buf, size_t len, size_t cut, size_t step,
    int stop_at)
{
	struct sse_parser	 p;

	dec_open(d, stop_at);
	sse_init(&p, on_event, d, 0);
	unit_sse_feed(&p, buf, len, cut, step);
	if (d->rc == GLMS_OK)
		(void)sse_finish(&p, NULL);
	if (d->rc == GLMS_OK)
		d->rc = glm_stream_end(d->st);
	/* sticky: end() and events give the same again */
	ck_assert_int_eq(glm_stream_end(d->st), d->rc);
	if (d->rc != GLMS_OK)
		ck_assert_int_eq(put(d, "{}"), d->rc);
	sse_free(&p);
}

static void
check(const struct want *w, struct dec *d, const char *how, size_t k)
{
	const char	*conv = glm_stream_conversation(d->st);

	ck_assert_msg(d->rc == w->rc && strcmp(TXT(d), w->text) == 0 &&
	    strcmp(THK(d), w->think) == 0 && strcmp(d->l.end, w->end) == 0,
	    "%s (%s %zu): %s\n--- text\n%s\n--- reasoning\n%s\n--- end\n%s",
	    w->file, how, k, glm_stream_strerror(d->rc), TXT(d), THK(d),
	    d->l.end);
	ck_assert_int_eq(glm_stream_finished_upstream(d->st), w->upstream_end);
	ck_assert_int_eq(glm_stream_started(d->st), w->started);
	ck_assert_int_eq(glm_stream_done(d->st), w->end[0] != '\0');
	if (w->conv == NULL)
		ck_assert_ptr_null(conv);
	else
		ck_assert_str_eq(conv, w->conv);
}

START_TEST(fixture)
{
	const struct want	*w = &fixtures[_i];
	struct dec		 d;
	size_t			 len, clen = 0, k;
	char			*buf = unit_slurp("glm", w->file, &len), *crlf;
	int			 calls, i;

	ck_assert_msg(buf != NULL, "cannot read %s", w->file);
	for (k = 0; k <= len + 1; k++) {
		run(&d, buf, len, k, k <= len ? 0 : 1, 0);
		check(w, &d, k <= len ? "cut at" : "bytes", k);
		calls = d.l.calls;
		dec_close(&d);
	}
	ck_assert_ptr_nonnull(crlf = malloc(2 * len + 1));
	for (k = 0; k < len; k++) {
		if (buf[k] == '\n')
			crlf[clen++] = '\r';
		crlf[clen++] = buf[k];
	}
	run(&d, crlf, clen, 0, 0, 0);
	check(w, &d, "CRLF", 0);
	dec_close(&d);
	/* a sink that stops: no call after, the right code, no leak */
	for (i = 1; i <= calls; i++) {
		run(&d, buf, len, 0, 0, i);
		ck_assert_int_eq(d.l.calls, i);
		ck_assert_int_eq(d.rc, d.l.error_at == i ? GLMS_UPSTREAM :
		    GLMS_ABORT);
		ck_assert(glm_stream_done(d.st));
		dec_close(&d);
	}
	free(crlf);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------ scripts */

static char *
snapshot(const char *status, const char *parts)
{
	size_t	 n = strlen(parts) + 128;
	char	*s = malloc(n);

	ck_assert_ptr_nonnull(s);
	snprintf(s, n, "{\"conversation_id\":\"" CID "\",\"status\":\"%s\","
	    "\"parts\":[%s]}", status, parts);
	return s;
}

/* A text part whose text is t[0..n), JSON-escaped (ASCII and UTF-8). */
static char *
text_part(const char *id, const char *t, size_t n)
{
	size_t	 i, o = 0;
	char	*s = malloc(2 * n + 128);

	ck_assert_ptr_nonnull(s);
	o += (size_t)sprintf(s, "{\"logic_id\":\"%s\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"", id);
	for (i = 0; i < n; i++) {
		if (t[i] == '"' || t[i] == '\\')
			s[o++] = '\\';
		s[o++] = t[i];
	}
	strcpy(s + o, "\"}]}");
	return s;
}

#define RESULTS "{\"logic_id\":\"s\",\"content\":[{\"type\":" \
	"\"tool_result\"}],\"meta_data\":{\"tool_result_extra\":{" \
	"\"search_results\":[" \
	"{\"match_key\":\"turn0search0\",\"url\":\"https://a.example/0\"}," \
	"{\"match_key\":\"turn1news12\",\"url\":\"https://b.example/1\"}]}}}"

static const char *const cite_texts[] = {
	"x【turn0search0】y turn1news12, turn0search0】z",
	"【turn1news12】【turn1news12】turn0search0turn1news12",
	"中【turn0search0】文😀 tur turn turn0 turn0search turn7x7 t",
	"turn0search0123456 turn0search012345 【turn0search0 end turn",
	"no markers at all",
};

/* The answer whole in one snapshot: what every cut must give. */
static void
one_shot(const char *t, struct dec *d)
{
	char	*p, *parts, *s;

	dec_open(d, 0);
	p = text_part("a", t, strlen(t));
	ck_assert_ptr_nonnull(parts = malloc(strlen(p) + sizeof(RESULTS) + 2));
	sprintf(parts, RESULTS ",%s", p);
	s = snapshot("finish", parts);
	ck_assert_int_eq(put(d, s), GLMS_OK);
	free(s);
	free(parts);
	free(p);
}

/*
 * Every prefix of the answer (at character boundaries) as a snapshot of
 * its own, then the whole: the client sees what one snapshot gives.
 * Whatever may still become a marker must have been held back.
 */
START_TEST(citations_every_prefix)
{
	const char	*t = cite_texts[_i];
	struct dec	 whole, d;
	size_t		 n = strlen(t), k;
	char		*p, *parts, *s;

	one_shot(t, &whole);
	dec_open(&d, 0);
	for (k = 0; k <= n; k++) {
		if (k < n && ((unsigned char)t[k] & 0xc0) == 0x80)
			continue;
		p = text_part("a", t, k);
		ck_assert_ptr_nonnull(parts = malloc(strlen(p) +
		    sizeof(RESULTS) + 2));
		sprintf(parts, RESULTS ",%s", p);
		s = snapshot(k == n ? "finish" : "processing", parts);
		ck_assert_int_eq(put(&d, s), GLMS_OK);
		free(s);
		free(parts);
		free(p);
	}
	ck_assert_str_eq(TXT(&d), TXT(&whole));
	ck_assert_str_eq(d.l.end, "finish");
	dec_close(&d);
	dec_close(&whole);
}
END_TEST

START_TEST(citation_numbers)
{
	struct dec	 d;

	one_shot(cite_texts[0], &d);
	ck_assert_str_eq(TXT(&d), "x [1](https://a.example/0)y  [2]"
	    "(https://b.example/1),  [1](https://a.example/0)z");
	dec_close(&d);
	one_shot(cite_texts[3], &d);
	ck_assert_str_eq(TXT(&d), "turn0search0123456 turn0search012345  [1]"
	    "(https://a.example/0) end turn");
	dec_close(&d);
}
END_TEST

START_TEST(tail_held)
{
	static const struct {
		const char	*s;
		size_t		 hold;
	} v[] = {
		{ "abc", 0 }, { "at", 1 }, { "tu", 2 }, { "x turn", 4 },
		{ "turn0", 5 }, { "turn0s", 6 }, { "turn0search1", 12 },
		{ "【", 3 }, { "a【tu", 5 }, { "【turn0search1】", 0 },
		{ "turnx", 0 }, { "turn0search1 ", 0 }, { "turn1234567", 0 },
		{ "turn0abcdefghijklmnopq", 0 }, { "t t", 1 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_msg(glms_cite_tail(v[i].s, strlen(v[i].s)) ==
		    v[i].hold, "%s: %zu", v[i].s, glms_cite_tail(v[i].s,
		    strlen(v[i].s)));
}
END_TEST

/* Reasoning and answer of one event: reasoning first, parts joined. */
START_TEST(order_and_joins)
{
	struct dec	 d;

	dec_open(&d, 0);
	ck_assert_int_eq(put(&d, "{\"status\":\"processing\",\"parts\":["
	    "{\"logic_id\":\"x\",\"content\":[{\"type\":\"think\",\"think\":"
	    "\"a\"},{\"type\":\"text\",\"text\":\"b\"},{\"type\":\"think\","
	    "\"think\":\"c\"}]},{\"content\":[{\"type\":\"think\",\"think\":"
	    "\"d\"}]},{\"logic_id\":\"z\",\"content\":[]}]}"), GLMS_OK);
	ck_assert_str_eq(THK(&d), "ac\nd");
	ck_assert_str_eq(TXT(&d), "b");
	/* the first call after role() was reasoning */
	ck_assert_int_eq(d.l.calls, 3);
	ck_assert_int_eq(put(&d, "{\"status\":\"finish\",\"parts\":[]}"),
	    GLMS_OK);
	ck_assert_str_eq(d.l.end, "finish");
	ck_assert_ptr_null(glm_stream_conversation(d.st));
	dec_close(&d);
}
END_TEST

START_TEST(errors)
{
	static const struct {
		const char	*ev, *end;
	} v[] = {
		{ "{\"code\":40001,\"message\":\"token invalid\"}",
		  "error 401 invalid_request_error account_expired token "
		  "invalid" },
		{ "{\"status\":\"failed\",\"last_error\":{\"code\":429,"
		  "\"message\":\"slow down\"}}",
		  "error 429 rate_limit_error 429 slow down" },
		{ "{\"code\":10002,\"msg\":\"\"}",
		  "error 502 upstream_error 10002 The upstream reported an "
		  "error." },
		{ "@error plain text\twith a tab",
		  "error 502 upstream_error upstream_stream_error plain "
		  "text with a tab" },
		{ "@error {\"error\":\"too_many_requests\",\"code\":"
		  "\"Too_Many/Requests!\"}",
		  "error 429 rate_limit_error Too_ManyRequests "
		  "too_many_requests" },
		{ "{\"status\":\"error\"}",
		  "error 502 upstream_error upstream_stream_error The upstream "
		  "reported an error." },
	};
	struct dec	 d;
	size_t		 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		dec_open(&d, 0);
		ck_assert_int_eq(put(&d, v[i].ev), GLMS_UPSTREAM);
		ck_assert_str_eq(d.l.end, v[i].end);
		ck_assert(glm_stream_done(d.st));
		ck_assert_int_eq(put(&d, "{\"status\":\"finish\"}"),
		    GLMS_UPSTREAM);
		dec_close(&d);
	}
	/* ignored: a success envelope, other event names, [DONE] */
	dec_open(&d, 0);
	ck_assert_int_eq(put(&d, "{\"status\":0,\"message\":\"ok\"}"), GLMS_OK);
	ck_assert_int_eq(put(&d, "@ping {\"code\":1}"), GLMS_OK);
	ck_assert_int_eq(put(&d, "[DONE]"), GLMS_OK);
	ck_assert_int_eq(put(&d, "   "), GLMS_OK);
	ck_assert_int_eq(d.l.calls, 0);
	ck_assert_int_eq(put(&d, "[1,2]"), GLMS_PROTO);
	ck_assert_int_eq(put(&d, "{}"), GLMS_PROTO);
	dec_close(&d);
}
END_TEST

START_TEST(limits)
{
	struct dec	 d;
	char		*buf, id[300];
	size_t		 i, o;

	/* GLMS_MAX_PARTS distinct parts are fine, one more is not */
	ck_assert_ptr_nonnull(buf = malloc(64 * (GLMS_MAX_PARTS + 2)));
	dec_open(&d, 0);
	o = (size_t)sprintf(buf, "{\"status\":\"processing\",\"parts\":[");
	for (i = 0; i < GLMS_MAX_PARTS; i++)
		o += (size_t)sprintf(buf + o, "%s{\"logic_id\":\"p%zu\"}",
		    i ? "," : "", i);
	strcpy(buf + o, "]}");
	ck_assert_int_eq(put(&d, buf), GLMS_OK);
	ck_assert_int_eq(put(&d, "{\"parts\":[{\"logic_id\":\"new\"}]}"),
	    GLMS_PROTO);
	dec_close(&d);
	free(buf);
	/* a logic id over its limit */
	memset(id, 'i', sizeof(id));
	id[GLMS_LOGIC_MAX + 1] = '\0';
	ck_assert_ptr_nonnull(buf = malloc(512));
	snprintf(buf, 512, "{\"parts\":[{\"logic_id\":\"%s\"}]}", id);
	dec_open(&d, 0);
	ck_assert_int_eq(put(&d, buf), GLMS_PROTO);
	dec_close(&d);
	id[GLMS_LOGIC_MAX] = '\0';
	snprintf(buf, 512, "{\"parts\":[{\"logic_id\":\"%s\"}]}", id);
	dec_open(&d, 0);
	ck_assert_int_eq(put(&d, buf), GLMS_OK);
	dec_close(&d);
	free(buf);
	/* too many items in one part */
	ck_assert_ptr_nonnull(buf = malloc(16 * (GLMS_MAX_ITEMS + 4)));
	o = (size_t)sprintf(buf, "{\"parts\":[{\"content\":[");
	for (i = 0; i <= GLMS_MAX_ITEMS; i++)
		o += (size_t)sprintf(buf + o, "%s{}", i ? "," : "");
	strcpy(buf + o, "]}]}");
	dec_open(&d, 0);
	ck_assert_int_eq(put(&d, buf), GLMS_PROTO);
	dec_close(&d);
	free(buf);
	/* nesting deeper than GLMS_JSON_DEPTH */
	ck_assert_ptr_nonnull(buf = calloc(1, 2 * GLMS_JSON_DEPTH + 8));
	for (i = 0; i < GLMS_JSON_DEPTH + 1; i++)
		buf[i] = '[';
	dec_open(&d, 0);
	ck_assert_int_eq(glm_stream_event(d.st, NULL, buf, strlen(buf)),
	    GLMS_PROTO);
	dec_close(&d);
	free(buf);
}
END_TEST

/* Only [A-Za-z0-9_-] ids up to GLMS_ID_MAX are kept for the delete. */
START_TEST(conversation_ids)
{
	static const char *const bad[] = { "a b", "x.y", "../etc", "" };
	struct dec	 d;
	char		 ev[400], id[200];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dec_open(&d, 0);
		snprintf(ev, sizeof(ev), "{\"conversation_id\":\"%s\","
		    "\"parts\":[]}", bad[i]);
		ck_assert_int_eq(put(&d, ev), GLMS_OK);
		ck_assert_ptr_null(glm_stream_conversation(d.st));
		dec_close(&d);
	}
	memset(id, 'c', sizeof(id));
	id[GLMS_ID_MAX + 1] = '\0';
	dec_open(&d, 0);
	snprintf(ev, sizeof(ev), "{\"conversation_id\":\"%s\"}", id);
	ck_assert_int_eq(put(&d, ev), GLMS_OK);
	ck_assert_ptr_null(glm_stream_conversation(d.st));
	/* the first good one stays */
	ck_assert_int_eq(put(&d, "{\"conversation_id\":\"A-b_9\"}"), GLMS_OK);
	ck_assert_int_eq(put(&d, "{\"conversation_id\":\"other\"}"), GLMS_OK);
	ck_assert_str_eq(glm_stream_conversation(d.st), "A-b_9");
	dec_close(&d);
}
END_TEST

/* A sink without callbacks, and a decoder that failed to be made. */
START_TEST(null_sink_and_decoder)
{
	struct glm_stream	*st;
	const char		*ev = "{\"status\":\"finish\",\"parts\":[{"
				    "\"content\":[{\"type\":\"text\","
				    "\"text\":\"hi\"}]}]}";

	ck_assert_int_eq(glm_stream_new(&st, NULL), GLMS_OK);
	ck_assert_int_eq(glm_stream_event(st, "message", ev, strlen(ev)),
	    GLMS_OK);
	ck_assert(glm_stream_done(st) && glm_stream_started(st));
	glm_stream_free(st);
	ck_assert_int_eq(glm_stream_event(NULL, NULL, ev, strlen(ev)),
	    GLMS_ENOMEM);
	ck_assert_int_eq(glm_stream_end(NULL), GLMS_ENOMEM);
	ck_assert(!glm_stream_started(NULL) && !glm_stream_done(NULL));
	ck_assert_str_eq(glm_stream_strerror(GLMS__MAX), "unknown error");
	glm_stream_free(NULL);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("glm_stream");
	TCase	*tc = tcase_create("all");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, fixture, 0,
	    sizeof(fixtures) / sizeof(fixtures[0]));
	tcase_add_loop_test(tc, citations_every_prefix, 0,
	    sizeof(cite_texts) / sizeof(cite_texts[0]));
	tcase_add_test(tc, citation_numbers);
	tcase_add_test(tc, tail_held);
	tcase_add_test(tc, order_and_joins);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, conversation_ids);
	tcase_add_test(tc, null_sink_and_decoder);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
