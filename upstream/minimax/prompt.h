/*
 * prompt.h - the MiniMax prompt: the whole OpenAI conversation as the one
 * "text" send_msg carries (providers.md §5.5).  MiniMax keeps no history
 * we could point at, so every request sends all of it:
 *
 *  - A message's text is its text parts joined with "\n", markdown images
 *    "![alt](url)" removed (an image never spans lines); a message whose
 *    text is then empty is left out.
 *  - The last system (or developer) message S opens the prompt as
 *    "system:S\n"; earlier ones are dropped.
 *  - Every other message is "ROLE:TEXT\n", ROLE user or assistant; a
 *    tool result is a user message "[TOOL_RESULT for NAME] TEXT" (NAME
 *    left out when the message has none).  With two or more of them
 *    "assistant:" follows, so the model answers as the assistant.
 *  - The whole is trimmed of white space at both ends.
 */
#ifndef UPSTREAM_MINIMAX_PROMPT_H
#define UPSTREAM_MINIMAX_PROMPT_H

#include <stddef.h>

#include "upstream/provider.h"

#define MM_PROMPT_MAX	(CHAT_MAX_TEXT + (1u << 20))

struct arena;

/*
 * The prompt, NUL-terminated, in the arena; its length in *len (may be
 * NULL).  NULL when out of memory or over MM_PROMPT_MAX.
 */
char	*mm_prompt(struct arena *, const struct chat_request *, size_t *len);
/* s[0..n) without its markdown images, in place; the new length. */
size_t	 mm_strip_images(char *s, size_t n);

#endif
