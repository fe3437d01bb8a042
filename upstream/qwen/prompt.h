/*
 * prompt.h - the Qwen prompt: the whole OpenAI conversation flattened
 * into the one message text the chat body carries (providers.md §6.2).
 *
 * The reference sends only the last system and the last user message
 * ("<system>\n\nUser: <user>", or the user text alone); we keep the whole
 * conversation in the same shape, so a single question reads exactly as
 * the reference sends it:
 *  - The text of a message is its text parts joined with "\n"; other
 *    parts are left out (the client refuses images before this), and a
 *    message without text is skipped.
 *  - The system and developer messages before the first other message
 *    open the prompt bare, joined with "\n\n".
 *  - Every other message is a block "User: TEXT", "Assistant: TEXT",
 *    "Tool: TEXT" or (a system message later on) "System: TEXT";
 *    consecutive messages of one role are merged under one label with
 *    "\n\n"; blocks are joined with "\n\n".
 *  - A conversation without system text whose only block is the user's
 *    is that user text alone.
 *  - Text is copied byte for byte.
 */
#ifndef UPSTREAM_QWEN_PROMPT_H
#define UPSTREAM_QWEN_PROMPT_H

#include <stddef.h>

#include "upstream/provider.h"

struct arena;

/*
 * The prompt for req, NUL-terminated, in the arena; its length in *len
 * (len may be NULL).  NULL when out of memory.
 */
char	*qw_prompt(struct arena *, const struct chat_request *, size_t *len);

/* The request carries image or file parts (which Qwen is not sent). */
int	 qw_prompt_has_files(const struct chat_request *);

#endif
