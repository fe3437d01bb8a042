/* The two transports behind struct req_io. */
#ifndef FCGI_IO_H
#define FCGI_IO_H

#include "fcgi/req.h"

extern const struct req_io io_fcgi;	/* io_ctx is an FCGX_Request * */
extern const struct req_io io_cgi;	/* io_ctx is unused */

#endif
