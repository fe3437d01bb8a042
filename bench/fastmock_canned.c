/*
 * fastmock_canned.c - bench/fastmock's canned answers: the SSE body
 * builder, the words every answer is made of, ChatGPT's old-format and
 * v1 answers and its fixed page and sentinel responses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fastmock.h"

void
fm_die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "fastmock: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

void
fm_canned_add(struct canned *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	if (c->nev >= MAX_SSE_EVENTS)
		fm_die("too many SSE events (-n too large)");
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || (c->buf = realloc(c->buf, c->len + (size_t)n + 1)) == NULL)
		fm_die("out of memory");
	memcpy(c->buf + c->len, s, (size_t)n + 1);
	free(s);
	c->off[c->nev++] = c->len;
	c->len += (size_t)n;
	c->off[c->nev] = c->len;
}

/* One Connect envelope (Kimi, §4.4): flags, big-endian length, the JSON. */
void
fm_canned_env(struct canned *c, unsigned flags, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	if (c->nev >= MAX_SSE_EVENTS)
		fm_die("too many envelopes (-n too large)");
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || (c->buf = realloc(c->buf, c->len + (size_t)n + 5)) == NULL)
		fm_die("out of memory");
	c->buf[c->len] = (char)flags;
	c->buf[c->len + 1] = (char)((unsigned)n >> 24);
	c->buf[c->len + 2] = (char)((unsigned)n >> 16);
	c->buf[c->len + 3] = (char)((unsigned)n >> 8);
	c->buf[c->len + 4] = (char)n;
	memcpy(c->buf + c->len + 5, s, (size_t)n);
	free(s);
	c->off[c->nev++] = c->len;
	c->len += (size_t)n + 5;
	c->off[c->nev] = c->len;
}

/* The assistant text after k of the snapshots. */
/* The words the canned answers are made of. */
const char *const	 fm_words[] = {
	"Hello", "! This", " is", " fastmock", ", a", " canned", " answer",
	" for", " chat2api", " benchmarks", " — no", " checks", " done",
	" here", ".", " Bye", ".",
};
const size_t		 fm_nwords = sizeof(fm_words) / sizeof(fm_words[0]);

void
fm_text_upto(int k, char *out, size_t outsz)
{
	size_t	 n = 0;
	int	 i;

	out[0] = '\0';
	for (i = 0; i < k; i++) {
		const char *w = fm_words[(size_t)i % NWORDS];
		size_t l = strlen(w);

		if (n + l + 1 > outsz)
			break;
		memcpy(out + n, w, l + 1);
		n += l;
	}
}

#define UID	"aaaaaaaa-0000-4000-8000-000000000001"
#define AID	"aaaaaaaa-0000-4000-8000-000000000002"
#define CID	"cccccccc-0000-4000-8000-000000000003"
#define USER_MSG \
	"{\"message\":{\"id\":\"" UID "\",\"author\":{\"role\":\"user\"," \
	"\"name\":null,\"metadata\":{}},\"create_time\":1736175600.0," \
	"\"update_time\":null,\"content\":{\"content_type\":\"text\"," \
	"\"parts\":[\"hi\"]},\"status\":\"finished_successfully\"," \
	"\"end_turn\":null,\"weight\":1.0,\"metadata\":{}," \
	"\"recipient\":\"all\",\"channel\":null},\"conversation_id\":\"" CID \
	"\",\"error\":null}"
#define ASSIST_FMT \
	"{\"message\":{\"id\":\"" AID "\",\"author\":{\"role\":\"assistant\"," \
	"\"name\":null,\"metadata\":{}},\"create_time\":1736175600.1," \
	"\"update_time\":null,\"content\":{\"content_type\":\"text\"," \
	"\"parts\":[\"%s\"]},\"status\":\"%s\",\"end_turn\":%s," \
	"\"weight\":1.0,\"metadata\":{\"citations\":[]," \
	"\"content_references\":[],\"message_type\":\"next\"," \
	"\"model_slug\":\"gpt-4o\",\"default_model_slug\":\"auto\"," \
	"\"parent_id\":\"" UID "\"%s},\"recipient\":\"all\"," \
	"\"channel\":null},\"conversation_id\":\"" CID "\",\"error\":null}"
#define FINISH_META \
	",\"finish_details\":{\"type\":\"stop\",\"stop_tokens\":[200002]}," \
	"\"is_complete\":true"
#define TITLE \
	"{\"type\":\"title_generation\",\"title\":\"Fastmock\"," \
	"\"conversation_id\":\"" CID "\"}"

void
fm_build_canned(void)
{
	char	 text[1024], prev[1024];
	int	 k;

	/* §5.1: every event carries the whole message so far */
	fm_canned_add(&fm_sse_old, "data: " USER_MSG "\n\n");
	fm_canned_add(&fm_sse_old, "data: " ASSIST_FMT "\n\n", "", "in_progress",
	    "null", "");
	for (k = 1; k <= fm_snapshots; k++) {
		fm_text_upto(k, text, sizeof(text));
		fm_canned_add(&fm_sse_old, "data: " ASSIST_FMT "\n\n", text,
		    "in_progress", "null", "");
	}
	fm_canned_add(&fm_sse_old, "data: " ASSIST_FMT "\n\n", text,
	    "finished_successfully", "true", FINISH_META);
	fm_canned_add(&fm_sse_old, "data: " TITLE "\n\n");
	fm_canned_add(&fm_sse_old, "data: [DONE]\n\n");

	/* §5.2: the same answer as v1 deltas */
	fm_canned_add(&fm_sse_v1, "event: delta_encoding\ndata: \"v1\"\n\n");
	fm_canned_add(&fm_sse_v1, "event: delta\ndata: {\"p\":\"\",\"o\":\"add\","
	    "\"v\":" USER_MSG ",\"c\":0}\n\n");
	fm_canned_add(&fm_sse_v1, "event: delta\ndata: {\"v\":" ASSIST_FMT
	    ",\"c\":1}\n\n", "", "in_progress", "null", "");
	prev[0] = '\0';
	for (k = 1; k <= fm_snapshots; k++) {
		fm_text_upto(k, text, sizeof(text));
		if (k == 1)
			fm_canned_add(&fm_sse_v1, "event: delta\ndata: {\"p\":"
			    "\"/message/content/parts/0\",\"o\":\"append\","
			    "\"v\":\"%s\"}\n\n", text + strlen(prev));
		else
			fm_canned_add(&fm_sse_v1, "event: delta\ndata: {\"v\":\"%s\"}"
			    "\n\n", text + strlen(prev));
		memcpy(prev, text, sizeof(prev));
	}
	fm_canned_add(&fm_sse_v1, "event: delta\ndata: {\"p\":\"\",\"o\":\"patch\","
	    "\"v\":[{\"p\":\"/message/status\",\"o\":\"replace\","
	    "\"v\":\"finished_successfully\"},{\"p\":\"/message/end_turn\","
	    "\"o\":\"replace\",\"v\":true},{\"p\":\"/message/metadata\","
	    "\"o\":\"append\",\"v\":{\"is_complete\":true,\"finish_details\":"
	    "{\"type\":\"stop\",\"stop_tokens\":[200002]}}}]}\n\n");
	fm_canned_add(&fm_sse_v1, "data: {\"type\":\"message_stream_complete\","
	    "\"conversation_id\":\"" CID "\"}\n\n");
	fm_canned_add(&fm_sse_v1, "data: " TITLE "\n\n");
	fm_canned_add(&fm_sse_v1, "data: [DONE]\n\n");

	/* the v1 answer again, its deltas stamped at send (-S) */
	fm_sse_stamp.stamp = 1;
	for (k = 0; k < 3; k++)
		fm_canned_add(&fm_sse_stamp, "%.*s", (int)(fm_sse_v1.off[k + 1] -
		    fm_sse_v1.off[k]), fm_sse_v1.buf + fm_sse_v1.off[k]);
	for (k = 1; k <= fm_stamps; k++)
		fm_canned_add(&fm_sse_stamp, k == 1 ? "event: delta\ndata: {\"p\":"
		    "\"/message/content/parts/0\",\"o\":\"append\",\"v\":\"%s\"}"
		    "\n\n" : "event: delta\ndata: {\"v\":\"%s\"}\n\n", STAMP_HOLE);
	for (k = fm_sse_v1.nev - 4; k < fm_sse_v1.nev; k++)
		fm_canned_add(&fm_sse_stamp, "%.*s", (int)(fm_sse_v1.off[k + 1] -
		    fm_sse_v1.off[k]), fm_sse_v1.buf + fm_sse_v1.off[k]);
}

char *
fm_full_response(const char *ctype, const char *body, size_t *lenp)
{
	char	*s;
	int	 n;

	n = asprintf(&s, "HTTP/1.1 200 OK\r\nServer: fastmock\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", ctype,
	    strlen(body), body);
	if (n < 0)
		fm_die("out of memory");
	*lenp = (size_t)n;
	return s;
}

void
fm_build_fixed(void)
{
	char	*body;

	fm_page_resp = fm_full_response("text/html; charset=utf-8",
	    "<!DOCTYPE html><html data-build=\"prod-fastmock\"><head>"
	    "<script src=\"https://cdn.oaistatic.com/_next/static/c/"
	    "FASTMOCK/_/main.js\"></script></head><body>fastmock</body>"
	    "</html>\n", &fm_page_len);
	if (asprintf(&body, "{\"persona\":\"chatgpt-noauth\","
	    "\"token\":\"gAAAAABfastmock-chat-requirements-token\","
	    "\"expire_after\":540,\"expire_at\":4102444800,"
	    "\"proofofwork\":{\"required\":true,\"seed\":\"0.42\","
	    "\"difficulty\":\"%s\"},\"turnstile\":{\"required\":false},"
	    "\"arkose\":{\"required\":false,\"dx\":null}}", fm_difficulty) < 0)
		fm_die("out of memory");
	fm_sentinel_resp = fm_full_response("application/json", body,
	    &fm_sentinel_len);
	free(body);
}
