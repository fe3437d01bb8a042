/*
 * body.h - the JSON bodies of a Z.ai answer (§8.2): the chat created
 * first, with the last user text as its one message, and the completion
 * with the whole history.
 *
 * The history: system and developer texts, joined by a blank line, go in
 * front of the first user message as "<system>\n\nUser: <text>" (Z.ai has
 * no system role); user and tool messages are "user", assistant ones
 * "assistant"; a message's text parts are joined by "\n"; messages
 * without text are left out.  A request of system text alone sends it as
 * the one user message.  The last user text (signature_prompt, and what
 * X-Signature covers) is the text of the last user message as the client
 * wrote it, without the system prefix.
 */
#ifndef UPSTREAM_ZAI_BODY_H
#define UPSTREAM_ZAI_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "upstream/provider.h"

struct arena;

struct zai_turn {
	const char	*role;		/* "user" or "assistant" */
	const char	*text;
	size_t		 len;
};

struct zai_history {
	struct zai_turn	*turns;
	size_t		 n;
	const char	*last;		/* the last user text */
	size_t		 last_len;
};

enum zai_body_err {
	ZAI_BODY_OK = 0,
	ZAI_BODY_ENOMEM,
	ZAI_BODY_EMPTY,		/* no text to send */
	ZAI_BODY_ATTACHMENT,	/* an image or file part: no upload in §8 */
	ZAI_BODY__MAX
};

const char	*zai_body_strerror(enum zai_body_err);

/* The request as Z.ai's messages (strings in the arena). */
enum zai_body_err zai_history(struct arena *, const struct chat_request *,
		    struct zai_history *);

/* POST /api/v1/chats/new (§8.2 step 1); NULL: out of memory. */
char		*zai_new_chat_body(struct arena *, const char *model,
		    const char *msg_id, const struct zai_history *,
		    int64_t now_ms);

struct zai_completion_in {
	const char	*model;
	const char	*chat_id;
	const char	*request_id;
	const char	*msg_id;	/* the chat's message */
	int		 think;
	int		 search;
	int64_t		 now_ms;
};

/* POST /api/v2/chat/completions (§8.2 step 2); NULL: out of memory. */
char		*zai_completion_body(struct arena *,
		    const struct zai_history *,
		    const struct zai_completion_in *);

#endif
