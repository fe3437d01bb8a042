#include "config.h"

#include <string.h>

#include "fcgi/req.h"

const char *
req_param(struct req *r, const char *name)
{
	return r->io->param(r, name);
}

long long
req_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
req_elapsed_ms(const struct req *r)
{
	return req_now_ms() - ((long long)r->start.tv_sec * 1000 +
	    r->start.tv_nsec / 1000000);
}

/* Value of key in the query string (no decoding beyond '+'), or NULL. */
const char *
req_query_get(struct req *r, const char *key)
{
	const char *p = r->query, *amp, *eq;
	size_t klen = strlen(key);
	char *v, *o;

	while (p != NULL && *p) {
		amp = strchr(p, '&');
		eq = memchr(p, '=', amp ? (size_t)(amp - p) : strlen(p));
		if (eq != NULL && (size_t)(eq - p) == klen &&
		    strncmp(p, key, klen) == 0) {
			v = arena_strndup(r->arena, eq + 1, amp ?
			    (size_t)(amp - eq - 1) : strlen(eq + 1));
			for (o = v; o && *o; o++)
				if (*o == '+')
					*o = ' ';
			return v;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}
