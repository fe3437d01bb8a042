/*
 * fastmock_conn.c - bench/fastmock's connections: output buffering,
 * paced SSE answers, simple answers, header lookup, and MiniMax's
 * polled answers that grow with time.
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

uint64_t
fm_now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
fm_out_add(struct conn *c, const void *p, size_t n)
{
	if (c->outlen + n > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 4096;

		while (cap < c->outlen + n)
			cap *= 2;
		if ((c->out = realloc(c->out, cap)) == NULL)
			fm_die("out of memory");
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

static void
out_printf(struct conn *c, const char *fmt, ...)
{
	char	 tmp[512];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		fm_out_add(c, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

void
fm_conn_free(struct loop *l, struct conn *c)
{
	fm_stream_untrack(l, c);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void
set_out_interest(struct loop *l, struct conn *c, int want)
{
	struct epoll_event	 ev;

	if (want == c->want_out)
		return;
	ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);
	ev.data.ptr = c;
	epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = want;
}

/* Writes what is pending; -1 when the connection is finished. */
int
fm_flush_out(struct loop *l, struct conn *c)
{
	ssize_t	 n;

	while (c->outoff < c->outlen) {
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_out_interest(l, c, 1);
				return 0;
			}
			return -1;
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	set_out_interest(l, c, 0);
	return c->close_after && c->sse == NULL ? -1 : 0;
}

/* Writes the send time into an event's STAMP_HOLE, if it has one. */
static void
stamp_fill(char *ev, size_t n)
{
	struct timespec	 t;
	char		*h, d[24];

	if ((h = memmem(ev, n, STAMP_HOLE, sizeof(STAMP_HOLE) - 1)) == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &t);
	snprintf(d, sizeof(d), "%016llu", (unsigned long long)t.tv_sec *
	    1000000ull + (unsigned long long)t.tv_nsec / 1000);
	memcpy(h + 1, d, 16);
}

void
fm_send_event(struct conn *c)
{
	const struct canned *s = c->sse;
	size_t	 n = s->off[c->next_ev + 1] - s->off[c->next_ev], at;

	if (fm_chunked)
		out_printf(c, "%zx\r\n", n);
	at = c->outlen;
	fm_out_add(c, s->buf + s->off[c->next_ev], n);
	if (s->stamp)
		stamp_fill(c->out + at, n);
	if (fm_chunked)
		fm_out_add(c, "\r\n", 2);
	if (++c->next_ev == s->nev) {
		if (fm_chunked)
			fm_out_add(c, "0\r\n\r\n", 5);
		c->sse = NULL;
	}
}

static void
stream_track(struct loop *l, struct conn *c)
{
	if (l->nstreams == l->capstreams) {
		l->capstreams = l->capstreams ? 2 * l->capstreams : 64;
		if ((l->streams = realloc(l->streams, l->capstreams *
		    sizeof(*l->streams))) == NULL)
			fm_die("out of memory");
	}
	c->idx = (int)l->nstreams;
	l->streams[l->nstreams++] = c;
}

void
fm_stream_untrack(struct loop *l, struct conn *c)
{
	if (c->idx < 0)
		return;
	l->streams[c->idx] = l->streams[--l->nstreams];
	l->streams[c->idx]->idx = c->idx;
	c->idx = -1;
}

void
fm_answer_sse(struct loop *l, struct conn *c, const struct canned *s, int delay)
{
	if (fm_chunked)
		out_printf(c, "HTTP/1.1 200 OK\r\nServer: fastmock\r\n"
		    "Content-Type: %s\r\n"
		    "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
		    "\r\n", s->ctype ? s->ctype :
		    "text/event-stream; charset=utf-8");
	else
		out_printf(c, "HTTP/1.1 200 OK\r\nServer: fastmock\r\n"
		    "Content-Type: %s\r\n"
		    "Cache-Control: no-cache\r\nContent-Length: %zu\r\n\r\n",
		    s->ctype ? s->ctype : "text/event-stream; charset=utf-8",
		    s->len);
	c->sse = s;
	c->next_ev = 0;
	c->delay = delay;
	if (delay == 0) {
		if (!fm_chunked) {			/* one copy, one write */
			fm_out_add(c, s->buf, s->len);
			c->sse = NULL;
		} else
			while (c->sse != NULL)
				fm_send_event(c);
		return;
	}
	c->due = fm_now_ns() + (uint64_t)delay * 1000000ull;
	stream_track(l, c);
}

void
fm_answer_simple(struct conn *c, int status, const char *ctype,
    const char *body)
{
	out_printf(c, "HTTP/1.1 %d %s\r\nServer: fastmock\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", status,
	    status == 200 ? "OK" : status == 404 ? "Not Found" :
	    status == 411 ? "Length Required" : "Bad Request", ctype,
	    strlen(body), c->close_after ? "Connection: close\r\n" : "");
	fm_out_add(c, body, strlen(body));
}

int
fm_ends_with(const char *s, size_t n, const char *suffix)
{
	size_t	 k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Case-insensitive search for a header name at a line start. */
const char *
fm_header_value(const char *head, size_t hlen, const char *name, size_t *vlen)
{
	size_t	 nl = strlen(name), i;
	const char *v, *e;

	for (i = 0; i + nl + 1 < hlen; i++) {
		if (head[i] != '\n' || strncasecmp(head + i + 1, name, nl) != 0
		    || head[i + 1 + nl] != ':')
			continue;
		v = head + i + 1 + nl + 1;
		while (v < head + hlen && (*v == ' ' || *v == '\t'))
			v++;
		for (e = v; e < head + hlen && *e != '\r' && *e != '\n'; e++)
			;
		*vlen = (size_t)(e - v);
		return v;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* MiniMax (protocols/providers.md §5): answers grow while polled */

static uint64_t
wall_ms(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* send_msg: a new chat, born now, paced by -M or the body's mark. */
void
fm_mm_send(struct conn *c, const char *body, size_t blen)
{
	const char	*d = blen ? memmem(body, blen, DELAY_MARK,
			    sizeof(DELAY_MARK) - 1) : NULL;
	unsigned long	 id;
	char		 b[256];

	id = __atomic_add_fetch(&fm_mm_chats, 1, __ATOMIC_RELAXED);
	fm_mm_birth[id % MM_CHATS] = wall_ms();
	fm_mm_pace[id % MM_CHATS] = d ? atoi(d + sizeof(DELAY_MARK) - 1) :
	    fm_mm_step;
	snprintf(b, sizeof(b), "{\"chat_id\":%lu,\"msg_id\":%lu,"
	    "\"base_resp\":{\"status_code\":0,\"status_msg\":\"success\"}}",
	    id, id * 2);
	fm_answer_simple(c, 200, "application/json", b);
}

/* get_chat_detail: the parts shown by now (a chat id it never made: all). */
void
fm_mm_detail(struct conn *c, const char *body, size_t blen)
{
	const char	*p = blen ? memmem(body, blen, "\"chat_id\":", 10) : NULL;
	unsigned long	 id = p ? strtoul(p + 10, NULL, 10) : 0;
	uint64_t	 birth = fm_mm_birth[id % MM_CHATS], now = wall_ms();
	int		 pace = fm_mm_pace[id % MM_CHATS], k, i;
	char		 b[8192];
	size_t		 n;

	k = pace <= 0 || now < birth ? fm_snapshots :
	    (int)((now - birth) / (uint64_t)pace) + 1;
	if (k > fm_snapshots)
		k = fm_snapshots;
	n = (size_t)snprintf(b, sizeof(b), "{\"chat\":{\"chat_id\":%lu,"
	    "\"chat_status\":%d},\"messages\":[{\"msg_id\":1,\"msg_type\":1,"
	    "\"msg_content\":\"hi\"},{\"msg_id\":2,\"msg_type\":2,"
	    "\"msg_content\":\"", id, k == fm_snapshots ? 2 : 1);
	for (i = 0; i < k && n < sizeof(b) - 256; i++)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "part %d @%llu; ",
		    i, (unsigned long long)(birth + (uint64_t)i *
		    (uint64_t)(pace > 0 ? pace : 0)));
	snprintf(b + n, sizeof(b) - n, "\",\"extra_info\":{"
	    "\"thinking_content\":\"\"}}],\"base_resp\":{\"status_code\":0,"
	    "\"status_msg\":\"success\"}}");
	fm_answer_simple(c, 200, "application/json", b);
}

/* A paced stream answer, its delay from the body's mark or -d. */
void
fm_answer_paced(struct loop *l, struct conn *c, const struct canned *s,
    const char *body, size_t blen)
{
	const char *d = blen ? memmem(body, blen, DELAY_MARK,
	    sizeof(DELAY_MARK) - 1) : NULL;

	fm_answer_sse(l, c, s, d ? atoi(d + sizeof(DELAY_MARK) - 1) : fm_delay_ms);
}

/* An exact path. */
