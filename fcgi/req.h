/*
 * One request, whatever carried it (FastCGI or CGI).  The I/O vtable hides
 * the transport; everything else is plain strings in the request arena.
 */
#ifndef FCGI_REQ_H
#define FCGI_REQ_H

#include <stddef.h>
#include <time.h>

#include "fcgi/arena.h"
#include "fcgi/conf.h"
#include "fcgi/err.h"

struct req;
struct store;

/*
 * What a request did, for the request log, the statistics and /metrics
 * (handlers/reqdone.c): filled by whoever learns it, written once at the
 * end in one store transaction.  Strings live in the request's arena.
 */
#define REQ_OBS_ERRS	8	/* failed upstream attempts remembered */
struct req_obs_err {
	const char	*provider;
	const char	*kind;		/* the error code, e.g. upstream_error */
};
struct req_obs {
	const char		*provider;
	const char		*account_id;	/* the pooled account, if any */
	const char		*account_fp;
	const char		*key_name;	/* the proxy API key's name */
	const char		*api_key;	/* its use, counted at the end */
	const char		*error;		/* the final error, if any */
	long long		 ttfc_ms;	/* first chunk; -1: none */
	long			 pow_ms;	/* proof-of-work time; -1: none */
	int			 stream;
	int			 sse_open;	/* counted in the open streams */
	struct req_obs_err	 errs[REQ_OBS_ERRS];
	size_t			 nerrs;
	/* The last attempt's account outcome, recorded in the final write. */
	void			*acct_done;
	/* LOG_BODIES: the response as written, up to cap_max bytes. */
	char			*cap;
	size_t			 cap_len, cap_max;
	int			 cap_armed;
};

struct req_io {
	int		 (*write)(struct req *, const char *, size_t);
	int		 (*flush)(struct req *);
	const char	*(*param)(struct req *, const char *);
	long		 (*read)(struct req *, char *, size_t);
	/* 1 once the front server closed the connection, else 0 */
	int		 (*gone)(struct req *, int timeout_ms);
};

struct req {
	const struct req_io	*io;
	void			*io_ctx;
	struct arena		*arena;
	const struct config	*cfg;
	struct store		*store;

	const char		*method;
	const char		*path;		/* decoded, prefixes stripped */
	const char		*query;		/* raw, without '?' */
	const char		*auth;		/* Authorization or NULL */
	const char		*content_type;
	char			*body;		/* NUL-terminated */
	size_t			 body_len;

	int			 status;	/* what was sent, for logs */
	int			 headers_sent;
	int			 hup;		/* client went away */
	const char		*model;		/* for /stats */
	struct req_obs		 obs;
	/* the first SSE bytes went out (fcgi/handle.c counts the stream) */
	void			(*stream_opened)(struct req *);
	struct timespec		 start;
	long long		 last_write_ms;
	/*
	 * Work that need not hold the client (deleting an upstream chat):
	 * run once the response is complete, before the arena goes.
	 */
	void			(*after)(void *);
	void			*after_ctx;
	/*
	 * A dialect's error shape (handlers/anthropic.c): when set, every
	 * resp_error() of this request is written by it instead of the
	 * OpenAI {"error":{...}} body.  msg is already formatted.
	 */
	enum app_err		(*error_writer)(struct req *, int status,
				    const char *extra, const char *type,
				    const char *code, const char *msg);
};

const char	*req_param(struct req *, const char *);
const char	*req_query_get(struct req *, const char *key);
long long	 req_elapsed_ms(const struct req *);
long long	 req_now_ms(void);

#endif
