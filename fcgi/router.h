/*
 * Static route table (defined in handlers/routes.c) and its matcher.
 */
#ifndef FCGI_ROUTER_H
#define FCGI_ROUTER_H

#include <stddef.h>

#include "fcgi/req.h"

enum route_flag {
	ROUTE_API	= 1 << 0,	/* lives under API_PREFIX */
	ROUTE_SUBPATH	= 1 << 1,	/* path is a prefix; rest is passed */
	ROUTE_COUNT	= 1 << 2,	/* counted in /stats */
	ROUTE_TEST	= 1 << 3,	/* only with CHAT2API_TEST_ROUTES */
	ROUTE_BODY	= 1 << 4,	/* reads a request body */
	ROUTE_GATEWAY	= 1 << 5,	/* only with ENABLE_GATEWAY */
	/*
	 * path is a prefix of any depth, tried only when no other route
	 * has the path (the gateway's reverse proxy)
	 */
	ROUTE_FALLBACK	= 1 << 6,
	/* path is a prefix; rest may hold several segments ("a/b/c") */
	ROUTE_TREE	= 1 << 7,
};

typedef enum app_err (*route_fn)(struct req *, const char *rest);

struct route {
	const char	*methods;	/* space separated, e.g. "GET POST" */
	const char	*path;
	unsigned	 flags;
	route_fn	 fn;
};

extern const struct route	handler_routes[];
extern const size_t		handler_nroutes;

enum route_match { ROUTE_FOUND, ROUTE_NOPATH, ROUTE_NOMETHOD };

enum route_match router_match(const struct route *, size_t,
		    const struct config *, const char *method,
		    const char *path, const struct route **,
		    const char **rest, char *allow, size_t allowsz);
int		 router_method_in(const char *methods, const char *method);

#endif
