/*
 * FastCGI transport over libfcgi's _r API.  libfcgi marks a stream failed
 * on the first write error and keeps "succeeding" into its buffer, so each
 * call checks FCGX_GetError rather than return values alone.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <fcgiapp.h>

#include "fcgi/io.h"

static int
fcgi_write(struct req *r, const char *buf, size_t len)
{
	FCGX_Request *fr = r->io_ctx;

	while (len > 0) {
		int chunk = len > 1 << 20 ? 1 << 20 : (int)len;
		if (FCGX_PutStr(buf, chunk, fr->out) != chunk ||
		    FCGX_GetError(fr->out) != 0)
			return -1;
		buf += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

static int
fcgi_flush(struct req *r)
{
	FCGX_Request *fr = r->io_ctx;

	if (FCGX_FFlush(fr->out) < 0 || FCGX_GetError(fr->out) != 0)
		return -1;
	return 0;
}

static const char *
fcgi_param(struct req *r, const char *name)
{
	FCGX_Request *fr = r->io_ctx;

	return FCGX_GetParam(name, fr->envp);
}

static long
fcgi_read(struct req *r, char *buf, size_t len)
{
	FCGX_Request *fr = r->io_ctx;
	int n, want = len > 1 << 20 ? 1 << 20 : (int)len;

	n = FCGX_GetStr(buf, want, fr->in);
	if (n < want && FCGX_GetError(fr->in) != 0)
		return -1;
	return n;
}

/*
 * Front servers never send FCGI_ABORT_REQUEST; they close the connection.
 * Once the body is read, a readable socket whose peek returns 0 is a
 * hang-up.
 */
int
io_conn_gone(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };
	char c;
	int rc;

	if (fd < 0)
		return 1;
	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return 0;
	if (pfd.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL))
		return 1;
	if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
		return 1;
	return 0;
}

static int
fcgi_gone(struct req *r, int timeout_ms)
{
	FCGX_Request *fr = r->io_ctx;

	return io_conn_gone(fr->ipcFd, timeout_ms);
}

const struct req_io io_fcgi = {
	fcgi_write, fcgi_flush, fcgi_param, fcgi_read, fcgi_gone
};
