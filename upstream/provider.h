/*
 * The provider seam.  handlers/ parses the OpenAI body into a
 * provider-neutral struct chat_request and hands a provider a struct
 * chat_sink; the provider turns its upstream stream into sink events and
 * knows nothing of OpenAI's output format.
 */
#ifndef UPSTREAM_PROVIDER_H
#define UPSTREAM_PROVIDER_H

#include <stddef.h>

enum chat_finish {
	CHAT_FINISH_STOP,
	CHAT_FINISH_LENGTH,
	CHAT_FINISH_CONTENT_FILTER,
	CHAT_FINISH_TOOL_CALLS,
};

struct chat_usage {
	long	prompt_tokens;
	long	completion_tokens;
};

/*
 * Every callback returns 0 to go on, non-zero to stop the upstream
 * transfer (the client went away).  Text is UTF-8 and never split inside
 * a character.  role() comes once before any text; finish() or error()
 * ends the answer.
 */
struct chat_sink {
	void	*ctx;
	int	(*role)(void *ctx, const char *role);
	int	(*text)(void *ctx, const char *s, size_t n);
	int	(*reasoning)(void *ctx, const char *s, size_t n);
	/* continuation handle when upstream history is on; may be NULLs */
	int	(*meta)(void *ctx, const char *conversation_id,
		    const char *message_id);
	int	(*finish)(void *ctx, enum chat_finish,
		    const struct chat_usage *);
	/* status: the HTTP status this maps to (403, 429, 502 ...) */
	int	(*error)(void *ctx, int status, const char *type,
		    const char *code, const char *message);
};

#endif
