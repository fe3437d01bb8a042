/*
 * Our own FastCGI framing, for a request once it parks (fcgi/coro.h):
 * libfcgi's streams block and hold 16 KiB each, so a parked request
 * gives them back and writes its records itself, through a buffer the
 * event loop drains without blocking.  libfcgi still accepted and read
 * the request, and still owns its parameters and connection.
 */
#ifndef FCGI_IO_FRAMED_H
#define FCGI_IO_FRAMED_H

#include <stddef.h>

#include <fcgiapp.h>

#include "fcgi/evloop.h"
#include "fcgi/req.h"

struct framed {
	FCGX_Request		*fr;
	int			 fd;
	int			 loop;	/* the loop owns it: never block */
	int			 gone;	/* the front server closed it */
	int			 failed;	/* a write failed: drop output */
	char			*buf;	/* framed records not yet sent */
	size_t			 off, len, cap;
	struct evloop_watch	 w;
	void			(*drain_fn)(void *);
	void			*drain_arg;
	char			**env;	/* the parameters, one block */
};

extern const struct req_io io_framed;	/* io_ctx is a struct framed * */

/*
 * Right after the accept: fr's parameters copied into one block that f
 * owns until framed_free(), and fr->envp pointed at it.  -1 when out of
 * memory (libfcgi's stay in use).
 */
int	framed_params(struct framed *, FCGX_Request *);
/*
 * On the request's coroutine: libfcgi's output flushed, the rest of its
 * input read, its streams (and parameters, once copied) freed; from here
 * on the request writes through io_framed.  -1 (nothing changed) when
 * libfcgi's stream failed.
 */
int	framed_take(struct framed *, FCGX_Request *);
/* The loop thread: it watches the connection / gives it back. */
void	framed_arm(struct framed *);
void	framed_disarm(struct framed *);
/*
 * The end of the response (blocking): end of stdout, FCGI_END_REQUEST;
 * then the connection is closed (libfcgi's request keeps no descriptor).
 */
int	framed_end(struct framed *);
void	framed_free(struct framed *);
/* For a parked transfer's pacing (coro_park_ops). */
int	framed_congested(struct framed *);
void	framed_on_drain(struct framed *, void (*fn)(void *), void *arg);
/* Records of a type (FCGI_STDOUT ...) into the buffer; tests use it. */
int	framed_record(struct framed *, int type, const char *, size_t);

#endif
