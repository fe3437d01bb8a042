#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/router.h"

int
router_method_in(const char *methods, const char *method)
{
	size_t n = strlen(method);
	const char *p = methods;

	while ((p = strstr(p, method)) != NULL) {
		if ((p == methods || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

/* Strips the route's own prefix (API_PREFIX for API routes). */
static const char *
route_strip(const struct route *rt, const struct config *cfg,
    const char *path)
{
	size_t n;

	if (!(rt->flags & ROUTE_API) || cfg->api_prefix[0] == '\0')
		return path;
	n = strlen(cfg->api_prefix);
	if (strncmp(path, cfg->api_prefix, n) != 0 || path[n] != '/')
		return NULL;
	return path + n;
}

/* A route this configuration has switched off. */
static int
route_off(const struct route *rt, const struct config *cfg)
{
	return ((rt->flags & ROUTE_TEST) && !cfg->test_routes) ||
	    ((rt->flags & ROUTE_GATEWAY) && !cfg->enable_gateway);
}

enum route_match
router_match(const struct route *tab, size_t ntab, const struct config *cfg,
    const char *method, const char *path, const struct route **out,
    const char **rest, char *allow, size_t allowsz)
{
	const struct route *rt;
	const char *p, *m = method;
	size_t n, used = 0;
	int path_hit = 0, fallback;

	if (strcmp(method, "HEAD") == 0)
		m = "GET";
	if (allowsz)
		allow[0] = '\0';
	/* Pass 0: the routes proper; pass 1: fallbacks, if none had the path. */
	for (fallback = 0; fallback < 2 && !path_hit; fallback++) {
		for (rt = tab; rt < tab + ntab; rt++) {
			if (route_off(rt, cfg) ||
			    !(rt->flags & ROUTE_FALLBACK) != !fallback)
				continue;
			if ((p = route_strip(rt, cfg, path)) == NULL)
				continue;
			n = strlen(rt->path);
			if (fallback) {
				if (strncmp(p, rt->path, n) != 0)
					continue;
			} else if (rt->flags & (ROUTE_SUBPATH | ROUTE_TREE)) {
				if (strncmp(p, rt->path, n) != 0 ||
				    p[n] == '\0' || (!(rt->flags & ROUTE_TREE) &&
				    strchr(p + n, '/') != NULL))
					continue;
			} else if (strcmp(p, rt->path) != 0)
				continue;
			path_hit = 1;
			if (!router_method_in(rt->methods, m)) {
				if (used + strlen(rt->methods) + 3 < allowsz)
					used += (size_t)snprintf(allow + used,
					    allowsz - used, "%s%s",
					    used ? " " : "", rt->methods);
				continue;
			}
			*out = rt;
			*rest = rt->flags & (ROUTE_SUBPATH | ROUTE_TREE |
			    ROUTE_FALLBACK) ?
			    p + n : "";
			return ROUTE_FOUND;
		}
	}
	return path_hit ? ROUTE_NOMETHOD : ROUTE_NOPATH;
}
