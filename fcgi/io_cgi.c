/*
 * CGI transport: environment, stdin and stdout.  There is no socket to
 * watch, so a hang-up shows only as a failed write (SIGPIPE is ignored).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fcgi/io.h"

static int
cgi_write(struct req *r, const char *buf, size_t len)
{
	(void)r;
	if (fwrite(buf, 1, len, stdout) != len || ferror(stdout))
		return -1;
	return 0;
}

static int
cgi_flush(struct req *r)
{
	(void)r;
	return fflush(stdout) == 0 ? 0 : -1;
}

static const char *
cgi_param(struct req *r, const char *name)
{
	(void)r;
	return getenv(name);
}

static long
cgi_read(struct req *r, char *buf, size_t len)
{
	size_t n;

	(void)r;
	n = fread(buf, 1, len, stdin);
	if (n < len && ferror(stdin))
		return -1;
	return (long)n;
}

static int
cgi_gone(struct req *r, int timeout_ms)
{
	(void)r;
	if (timeout_ms > 0)
		poll(NULL, 0, timeout_ms);
	return 0;
}

const struct req_io io_cgi = {
	cgi_write, cgi_flush, cgi_param, cgi_read, cgi_gone
};
