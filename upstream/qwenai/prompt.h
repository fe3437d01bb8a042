/*
 * prompt.h - the Qwen AI prompt: the whole OpenAI conversation flattened
 * into the content of the one user message the completion carries
 * (providers.md §7.3 sends only the system messages and the last user
 * message; we keep every turn, so multi-turn clients work).
 *
 *  - The text of a message is its text parts joined with "\n"; image and
 *    file parts are not text (the client refuses them before this).  A
 *    message whose text is empty is left out.
 *  - A conversation of one user message is its text, bare.
 *  - Otherwise the system and developer messages come first, joined with
 *    "\n\n" (§7.3's "<system>\n\nUser: <user>"), then every other message
 *    in order as "User: TEXT", "Assistant: TEXT" or "Tool: TEXT", the
 *    blocks joined with "\n\n".
 *  - Text is copied byte for byte (UTF-8 untouched).
 */
#ifndef UPSTREAM_QWENAI_PROMPT_H
#define UPSTREAM_QWENAI_PROMPT_H

#include <stddef.h>

#include "upstream/provider.h"

struct arena;

/* The prompt, NUL-terminated, in the arena; *len its length.  NULL: ENOMEM. */
char	*qa_prompt(struct arena *, const struct chat_request *, size_t *len);

/* The first image or file part of req (its message in *msg), or NULL. */
const struct chat_part *qa_first_file(const struct chat_request *,
	    size_t *msg);

#endif
