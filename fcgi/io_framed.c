/*
 * FastCGI records written by us (see io_framed.h).  In loop mode a
 * write only appends and tries a non-blocking send; the loop sends the
 * rest when the socket has room.  Otherwise (the request is back on a
 * thread) a flush blocks until everything is sent, as libfcgi's would.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fcgi/io.h"
#include "fcgi/io_framed.h"
#include "fcgi/log.h"

#define FR_VERSION	1
#define FR_END_REQUEST	3
#define FR_STDOUT	6
#define FR_MAX_CONTENT	65528	/* of 65535, kept a multiple of 8 */
/*
 * Parked: past HIGH the upstream transfer pauses, below LOW it goes on.
 * Low enough that thousands of slow readers of big answers (the
 * gateway's assets, read 64 KiB at a time) stay ~128 KiB each.
 */
#define FR_HIGH		(64 * 1024)
#define FR_LOW		(16 * 1024)
/* A buffer up to this size is freed whenever it empties on the loop. */
#define FR_KEEP_CAP	4096
/* On a thread, a flush waits this long for a socket with no room. */
#define FR_BLOCK_MS	120000

static size_t
pending(const struct framed *f)
{
	return f->len - f->off;
}

static int
reserve(struct framed *f, size_t n)
{
	size_t ncap;
	char *nb;

	if (f->off > 0 && f->off == f->len)
		f->off = f->len = 0;
	if (f->len + n <= f->cap)
		return 0;
	if (f->off > 0) {
		memmove(f->buf, f->buf + f->off, f->len - f->off);
		f->len -= f->off;
		f->off = 0;
		if (f->len + n <= f->cap)
			return 0;
	}
	ncap = f->cap ? f->cap : 1024;
	while (ncap < f->len + n)
		ncap *= 2;
	if ((nb = realloc(f->buf, ncap)) == NULL)
		return -1;
	f->buf = nb;
	f->cap = ncap;
	return 0;
}

static void
header(unsigned char h[8], int type, int id, size_t len)
{
	h[0] = FR_VERSION;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = 0;	/* padding */
	h[7] = 0;
}

int
framed_record(struct framed *f, int type, const char *p, size_t len)
{
	unsigned char h[8];
	size_t n;

	do {
		n = len > FR_MAX_CONTENT ? FR_MAX_CONTENT : len;
		if (reserve(f, 8 + n) < 0)
			return -1;
		header(h, type, f->fr != NULL ? f->fr->requestId : 1, n);
		memcpy(f->buf + f->len, h, 8);
		if (n > 0)
			memcpy(f->buf + f->len + 8, p, n);
		f->len += 8 + n;
		p += n;
		len -= n;
	} while (len > 0);
	return 0;
}

/* Sends what it can without blocking: 0, or -1 once the peer is gone. */
static int
try_send(struct framed *f)
{
	ssize_t n;

	while (pending(f) > 0) {
		n = send(f->fd, f->buf + f->off, pending(f),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			f->failed = f->gone = 1;
			f->off = f->len = 0;
			return -1;
		}
		f->off += (size_t)n;
	}
	f->off = f->len = 0;
	/*
	 * A parked stream idles between its small events: no buffer
	 * meanwhile.  A big transfer (the gateway's assets) keeps its own
	 * instead of a malloc and a free per read.
	 */
	if (f->loop && f->cap <= FR_KEEP_CAP) {
		free(f->buf);
		f->buf = NULL;
		f->cap = 0;
	}
	return 0;
}

static int
send_all(struct framed *f)
{
	struct pollfd p = { .fd = f->fd, .events = POLLOUT };
	int rc;

	while (pending(f) > 0) {
		if (try_send(f) < 0)
			return -1;
		if (pending(f) == 0)
			break;
		do
			rc = poll(&p, 1, FR_BLOCK_MS);
		while (rc < 0 && errno == EINTR);
		if (rc <= 0 || (p.revents & (POLLERR | POLLNVAL))) {
			log_info("fastcgi: the front server took no output "
			    "for %d s: dropping the response", FR_BLOCK_MS /
			    1000);
			f->failed = 1;
			return -1;
		}
	}
	return 0;
}

static int
fr_write(struct req *r, const char *p, size_t len)
{
	struct framed *f = r->io_ctx;

	if (f->failed)
		return -1;
	if (len == 0)
		return 0;
	if (framed_record(f, FR_STDOUT, p, len) < 0)
		return -1;
	if (pending(f) < 16384)
		return 0;
	/* on a thread, bound the buffer as libfcgi's would be; on the
	 * loop, send what the socket takes (a full one brings EPOLLOUT) */
	return f->loop ? try_send(f) : send_all(f);
}

static int
fr_flush(struct req *r)
{
	struct framed *f = r->io_ctx;

	if (f->failed)
		return -1;
	return f->loop ? try_send(f) : send_all(f);
}

static const char *
fr_param(struct req *r, const char *name)
{
	struct framed *f = r->io_ctx;

	return FCGX_GetParam(name, f->fr->envp);
}

static long
fr_read(struct req *r, char *buf, size_t len)
{
	/* framed_take() read the input to its end */
	(void)r;
	(void)buf;
	(void)len;
	return 0;
}

static int
fr_gone(struct req *r, int timeout_ms)
{
	struct framed *f = r->io_ctx;

	if (f->gone)
		return 1;
	/* the loop never waits */
	return f->gone = io_conn_gone(f->fd, f->loop ? 0 : timeout_ms);
}

const struct req_io io_framed = {
	fr_write, fr_flush, fr_param, fr_read, fr_gone
};

/*
 * libfcgi keeps each parameter in a malloc of its own (some forty from
 * nginx) and a parked stream would keep them all: they are copied into
 * one block, the pointers then the strings, as soon as the request is
 * accepted (every pointer the request takes from its parameters is into
 * the block), and libfcgi's go when the request parks.
 */
int
framed_params(struct framed *f, FCGX_Request *fr)
{
	size_t n, bytes = 0, len, i;
	char **env, *p;

	for (n = 0; fr->envp != NULL && fr->envp[n] != NULL; n++)
		bytes += strlen(fr->envp[n]) + 1;
	if ((env = malloc((n + 1) * sizeof(*env) + bytes)) == NULL)
		return -1;	/* libfcgi's stay in use */
	p = (char *)(env + n + 1);
	for (i = 0; i < n; i++) {
		len = strlen(fr->envp[i]) + 1;
		memcpy(p, fr->envp[i], len);
		env[i] = p;
		p += len;
	}
	env[n] = NULL;
	free(f->env);
	f->env = env;
	f->fr = fr;	/* framed_free() takes the block back from it */
	fr->envp = env;
	return 0;
}

int
framed_take(struct framed *f, FCGX_Request *fr)
{
	char tmp[512], **env;
	int fl;

	if (f->fr == fr && fr->out == NULL)
		return f->fd >= 0 ? 0 : -1;	/* parked before; -1: ended */
	if (fr->out == NULL || fr->in == NULL || fr->ipcFd < 0 ||
	    FCGX_FFlush(fr->out) < 0 || FCGX_GetError(fr->out) != 0)
		return -1;
	/* the front server sent its end of stdin with the body */
	while (FCGX_GetError(fr->in) == 0 &&
	    FCGX_GetStr(tmp, sizeof(tmp), fr->in) > 0)
		;
	if ((fl = fcntl(fr->ipcFd, F_GETFL)) < 0 ||
	    fcntl(fr->ipcFd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	env = f->env;
	if (env != NULL && fr->envp == env) {
		/* streams and libfcgi's parameters; the connection stays */
		FCGX_Free(fr, 0);
		fr->envp = env;
	} else {
		FCGX_FreeStream(&fr->in);
		FCGX_FreeStream(&fr->out);
		FCGX_FreeStream(&fr->err);
	}
	memset(f, 0, sizeof(*f));
	f->fr = fr;
	f->fd = fr->ipcFd;
	f->env = env;
	return 0;
}

static void
on_ready(struct evloop_watch *w, uint32_t events)
{
	struct framed *f = w->ctx;
	void (*fn)(void *);
	char c;

	if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
		f->gone = 1;
	else if ((events & EPOLLIN) &&
	    recv(f->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
		f->gone = 1;
	if ((events & EPOLLOUT) && !f->failed)
		(void)try_send(f);
	/* a paused transfer goes on: to more output, or to its failure */
	if (f->drain_fn != NULL && (f->gone || f->failed ||
	    pending(f) < FR_LOW)) {
		fn = f->drain_fn;
		f->drain_fn = NULL;
		fn(f->drain_arg);
	}
}

void
framed_arm(struct framed *f)
{
	f->loop = 1;
	f->w.fd = f->fd;
	f->w.cb = on_ready;
	f->w.ctx = f;
	if (evloop_watch(&f->w, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0)
		log_warn("fastcgi: cannot watch a parked request's "
		    "connection: %s", strerror(errno));
}

void
framed_disarm(struct framed *f)
{
	evloop_unwatch(&f->w);
	f->drain_fn = NULL;
	f->loop = 0;
}

int
framed_congested(struct framed *f)
{
	if (f->failed || f->gone || pending(f) <= FR_HIGH)
		return 0;
	/* only a socket seen full is waited for: its EPOLLOUT will come */
	(void)try_send(f);
	return pending(f) > FR_HIGH && !f->failed;
}

void
framed_on_drain(struct framed *f, void (*fn)(void *), void *arg)
{
	f->drain_fn = fn;
	f->drain_arg = arg;
}

int
framed_end(struct framed *f)
{
	/* appStatus 0, FCGI_REQUEST_COMPLETE */
	static const char end[8] = { 0 };
	int rc = 0;

	if (!f->failed && (framed_record(f, FR_STDOUT, NULL, 0) < 0 ||
	    framed_record(f, FR_END_REQUEST, end, sizeof(end)) < 0 ||
	    send_all(f) < 0))
		rc = -1;
	/*
	 * The connection ends here, kept or not: its context goes to a
	 * pool where nobody would read a next request (nginx retries one
	 * that meets a cached connection closed).  Our input was read to
	 * its end, so the close cannot reset what we sent.
	 */
	if (f->fd >= 0) {
		(void)shutdown(f->fd, SHUT_WR);
		close(f->fd);
	}
	if (f->fr != NULL) {
		f->fr->ipcFd = -1;
		f->fr->keepConnection = 0;
	}
	f->fd = -1;
	return rc;
}

void
framed_free(struct framed *f)
{
	if (f->env != NULL && f->fr != NULL && f->fr->envp == f->env)
		f->fr->envp = NULL;
	free(f->env);
	free(f->buf);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}
