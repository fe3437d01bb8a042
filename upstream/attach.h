/*
 * The bytes of an image or file part of a request, for the providers
 * that upload them (ChatGPT, GLM): a base64 data: URL decoded, or an
 * http(s) URL fetched (through EXPORT_PROXY_URL, or handed to the
 * CF_FILE_URL fetcher when one is set).  One copy, so the providers
 * agree on what a readable attachment is.
 */
#ifndef UPSTREAM_ATTACH_H
#define UPSTREAM_ATTACH_H

#include <stddef.h>

#include "fcgi/arena.h"
#include "fcgi/conf.h"

struct attach {
	unsigned char	*data;		/* in the arena */
	size_t		 size;
	const char	*mime;		/* never NULL on success */
};

/*
 * 0 with *out filled (at most max bytes), -1 when the URL is neither a
 * base64 data: URL nor fetchable.  idle is polled while fetching.
 */
int	 attach_fetch(const struct config *, struct arena *, const char *url,
	    size_t max, int (*idle)(void *), void *idle_ctx,
	    struct attach *out);

#endif
