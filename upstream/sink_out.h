/*
 * sink_out.h - what every stream decoder owes its chat_sink the same
 * way: role("assistant") once, before the first output, and text or
 * reasoning only after it.  A callback's nonzero answer means stop: these
 * return -1 then, and each decoder turns that into its own ABORT.
 */
#ifndef UPSTREAM_SINK_OUT_H
#define UPSTREAM_SINK_OUT_H

#include <stdbool.h>
#include <stddef.h>

struct chat_sink;

/* role() unless *started; 0, or -1 when the sink said stop. */
int	 sink_out_role(const struct chat_sink *, bool *started);
/*
 * p[0..n) to reasoning() or text(), after role(); nothing at all for
 * n == 0.  0, or -1 when the sink said stop.
 */
int	 sink_out_put(const struct chat_sink *, bool *started, bool reasoning,
	    const char *p, size_t n);

#endif
