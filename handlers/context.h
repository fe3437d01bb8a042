/*
 * Context management (providers.md §10.9): a history longer than an
 * upstream takes is trimmed from its oldest turns instead of failing
 * there.  Applied to the chat_request once the provider is known and
 * before the tool emulation re-encodes the history.
 */
#ifndef HANDLERS_CONTEXT_H
#define HANDLERS_CONTEXT_H

#include <stddef.h>

#include <json-c/json.h>

#include "upstream/provider.h"

#define CTX_DEFAULT_MESSAGES	20	/* §10.9: sliding window N */
#define CTX_DEFAULT_TOKENS	4000	/* §10.9; a provider not in the table */

enum ctx_strategy { CTX_NONE, CTX_SLIDING, CTX_TOKENS };

struct ctx_conf {
	enum ctx_strategy	 strategy;
	long			 max_messages;	/* sliding: non-system kept */
	long			 max_tokens;	/* tokens: the budget */
};

struct config;

/* A provider's built-in token budget (by id; NULL or unknown: 4000). */
long	 ctx_provider_budget(const char *provider);

/* CONTEXT_STRATEGY and its limits as they apply to one provider. */
void	 ctx_conf_of(const struct config *, const char *provider,
	    struct ctx_conf *);

/* The estimated prompt tokens of a message (as usage counts them). */
long	 ctx_message_tokens(const struct chat_message *);

/*
 * Drops the oldest non-system turns of cr as c says, never the system
 * and developer messages nor the turn of the last user message, and an
 * assistant turn with its tool results always together.  root (the
 * parsed body, or NULL) loses the same items of "messages", which the
 * tool emulation reads side by side with cr.  what (the provider's id)
 * names the trim in the debug log.  Returns the number of messages
 * dropped.
 */
size_t	 ctx_apply(struct json_object *root, struct chat_request *cr,
	    const struct ctx_conf *c, const char *what);

#endif
