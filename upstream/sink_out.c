/* The stream decoders' side of a chat_sink (see sink_out.h). */
#include "config.h"

#include "upstream/provider.h"
#include "upstream/sink_out.h"

int
sink_out_role(const struct chat_sink *k, bool *started)
{
	if (*started)
		return 0;
	*started = true;
	return k->role != NULL && k->role(k->ctx, "assistant") != 0 ? -1 : 0;
}

int
sink_out_put(const struct chat_sink *k, bool *started, bool reasoning,
    const char *p, size_t n)
{
	int (*fn)(void *, const char *, size_t);

	if (n == 0)
		return 0;
	if (sink_out_role(k, started) < 0)
		return -1;
	fn = reasoning ? k->reasoning : k->text;
	return fn != NULL && fn(k->ctx, p, n) != 0 ? -1 : 0;
}
