/*
 * The provider seam.  handlers/ parses the OpenAI body into a
 * provider-neutral struct chat_request and hands a provider a struct
 * chat_sink; the provider turns its upstream stream into sink events and
 * knows nothing of OpenAI's output format.
 */
#ifndef UPSTREAM_PROVIDER_H
#define UPSTREAM_PROVIDER_H

#include <stddef.h>

/* Explicit limits on what a client may send (validated in handlers/). */
#define CHAT_MAX_MESSAGES	2048
#define CHAT_MAX_PARTS		64
#define CHAT_MAX_TEXT		(8u << 20)	/* all text of a request */
#define CHAT_MAX_MODEL		128
#define CHAT_MAX_ID		128

enum chat_role {
	CHAT_ROLE_SYSTEM,
	CHAT_ROLE_DEVELOPER,
	CHAT_ROLE_USER,
	CHAT_ROLE_ASSISTANT,
	CHAT_ROLE_TOOL,
};

enum chat_part_type { CHAT_PART_TEXT, CHAT_PART_IMAGE, CHAT_PART_FILE };

struct chat_part {
	enum chat_part_type	 type;
	const char		*text;		/* TEXT */
	size_t			 len;
	const char		*url;		/* IMAGE/FILE: http(s) or data: */
	const char		*detail;	/* IMAGE: low/high/auto or NULL */
};

struct chat_message {
	enum chat_role		 role;
	const char		*name;
	struct chat_part	*parts;
	size_t			 nparts;
	int			 string_content; /* content was a string */
};

/*
 * What a client asked for, provider-neutral.  Strings point into the
 * parsed body, which lives as long as the request.
 */
struct chat_request {
	const char		*model;		/* as requested */
	struct chat_message	*messages;
	size_t			 nmessages;
	size_t			 text_bytes;	/* sum of all text parts */
	int			 stream;
	int			 include_usage;
	long			 max_tokens;	/* -1: none */
	double			 temperature;	/* < 0: unset */
	double			 top_p;		/* < 0: unset */
	const char		*user;
	const char		*reasoning_effort;
	/* ChatGPT continuation extras (chatgpt.md §10.1) */
	const char		*conversation_id;
	const char		*parent_message_id;
	int			 history_disabled;	/* -1: default */
	const char		*account_id;
};

const char	*chat_role_name(enum chat_role);

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
	/* optional, before error(): the upstream says when to try again */
	int	(*retry_after)(void *ctx, long seconds);
	/*
	 * optional: the end of one upstream read.  A sink may hold the
	 * events of a read and send them together here (one write to the
	 * client per read, not per event).
	 */
	int	(*flush)(void *ctx);
};



struct config;
struct arena;

/* One attempt at one answer, with one credential. */
struct provider_call {
	const struct config		*cfg;
	struct arena			*arena;		/* the request's */
	const struct chat_request	*req;
	const char			*credential;	/* NULL: anonymous */
	const char			*account_id;	/* team/workspace */
	const struct chat_sink		*sink;
	/* polled while waiting upstream: keep-alives, client gone */
	int				(*idle)(void *);
	void				*idle_ctx;
};

/*
 * A provider reports every outcome through the sink: finish() on
 * success, error() otherwise (before or after the answer started).
 */
struct provider {
	const char	*name;
	int		(*owns_model)(const char *model);
	void		(*chat)(const struct provider_call *);
};

extern const struct provider	*const providers[];

const struct provider	*provider_for_model(const char *model);
#endif
