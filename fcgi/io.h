/* The transports behind struct req_io (io_framed.h has the third). */
#ifndef FCGI_IO_H
#define FCGI_IO_H

#include "fcgi/req.h"

extern const struct req_io io_fcgi;	/* io_ctx is an FCGX_Request * */
extern const struct req_io io_cgi;	/* io_ctx is unused */

/* 1 once the front server closed the FastCGI connection fd, else 0. */
int	io_conn_gone(int fd, int timeout_ms);

#endif
