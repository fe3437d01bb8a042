/*
 * libcurl wrapper.  One easy handle per worker thread, kept across
 * requests so connections and TLS sessions are reused; one share handle
 * per process for DNS and TLS sessions.  Streaming bodies go to a
 * callback chunk by chunk; the transfer stops as soon as the callback or
 * the client-gone probe says so.
 */
#ifndef UPSTREAM_HTTP_H
#define UPSTREAM_HTTP_H

#include <stddef.h>

enum up_err {
	UP_OK = 0,
	UP_ENOMEM,
	UP_NETWORK,	/* DNS, connect, TLS, reset */
	UP_TIMEOUT,	/* connect timeout or upstream silence */
	UP_ABORTED,	/* our client went away, or a callback stopped it */
	UP_TOOBIG,	/* buffered response over its limit */
	UP_PROTO,	/* the upstream spoke nonsense */
	UP_HTTP,	/* completed with a non-2xx status */
	UP__MAX
};

const char	*up_strerror(enum up_err);

struct http_req {
	const char	 *method;	/* "GET", "POST", "PUT" */
	const char	 *url;
	const char	**headers;	/* "name: value", NULL-terminated */
	const char	 *body;
	size_t		  body_len;
	const char	 *proxy;	/* NULL: none (environment ignored) */
	long		  connect_timeout_ms;	/* 0: 10 s */
	long		  idle_timeout_s;	/* no byte for this long: 0 = 60 */
	long		  total_timeout_ms;	/* 0: none (streams) */
	size_t		  max_body;	/* buffered responses; 0: 4 MiB */
	long		  buffer_size;	/* curl's receive buffer; 0: 8 KiB */
	/*
	 * Streaming: 2xx body bytes go to on_data as they arrive (any
	 * chunking); non-2xx bodies are buffered into the response for the
	 * error detail.  Non-zero from on_data aborts.
	 */
	int		(*on_data)(void *ctx, const char *, size_t);
	void		 *data_ctx;
	/* With on_data: the bodies of every status go there, not only 2xx. */
	int		  data_any_status;
	/*
	 * Every response header line as it arrives, the status line and
	 * the blank line that ends each block included (a proxy learns the
	 * whole head before the first body byte).  Non-zero aborts.
	 */
	int		(*on_header)(void *ctx, const char *line, size_t len);
	void		 *header_ctx;
	/* Polled while waiting (about every 100 ms): non-zero aborts. */
	int		(*idle)(void *ctx);
	void		 *idle_ctx;
};

struct http_resp {
	long		 status;
	char		*body;		/* NUL-terminated; buffered part */
	size_t		 body_len;
	char		*content_type;
	char		*location;
	char		*retry_after;	/* the header's value, or NULL */
	char		*content_encoding;	/* or NULL */
};

int		 http_global_init(void);
void		 http_global_cleanup(void);
/* The CAs upstream TLS connections trust (NULL or "": libcurl's bundle). */
int		 http_ca_file(const char *path);
enum up_err	 http_do(const struct http_req *, struct http_resp *);
void		 http_resp_free(struct http_resp *);
void		 http_cookies_reset(void);
void		 http_thread_cleanup(void);
/* The content codings this libcurl decodes: "deflate, gzip, br, zstd". */
const char	*http_encodings(void);

#endif
