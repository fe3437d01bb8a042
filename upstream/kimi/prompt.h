/*
 * prompt.h - the Kimi prompt: the whole OpenAI conversation flattened
 * into the text of the one user block the Chat body carries
 * (protocols/providers.md §4.3).
 *
 *  - A message's text is its text parts joined with "\n".  Image and
 *    file parts are not sent: Kimi's upload is not part of the protocol
 *    we know, so the caller refuses such a request first
 *    (kimi_prompt_media()).  A message whose text is empty is left out.
 *  - System and developer messages are taken out of the conversation;
 *    the text S of the last of them leads the prompt as "system:S\n".
 *  - A tool result becomes a user message "[TOOL_RESULT for ID] text",
 *    ID being the message's name, else "tool" (struct chat_message does
 *    not carry tool_call_id or an assistant's tool calls yet).
 *  - In the text of a user message (not a tool result) every URL --
 *    "http://" or "https://" and what follows up to the first space,
 *    control character, '<', '>' or '"' -- is wrapped as
 *    <url id="" type="url" status="" title="" wc="">URL</url>.
 *  - With fewer than two messages left, each one's text and "\n".
 *  - Otherwise "role:text\n" for each (role "user" or "assistant"), with
 *    "system:Focus on the latest message from user\n" just before the
 *    last one.
 *  - Text is copied byte for byte otherwise.
 */
#ifndef UPSTREAM_KIMI_PROMPT_H
#define UPSTREAM_KIMI_PROMPT_H

#include <stddef.h>

#include "upstream/provider.h"

#define KIMI_FOCUS	"Focus on the latest message from user"
#define KIMI_URL_OPEN	"<url id=\"\" type=\"url\" status=\"\" title=\"\" " \
			"wc=\"\">"
#define KIMI_URL_CLOSE	"</url>"

struct arena;

/*
 * The prompt, NUL-terminated, from the arena; its length in *len (may
 * be NULL).  NULL when out of memory.
 */
char	*kimi_prompt(struct arena *, const struct chat_request *, size_t *len);

/* The index of the first message with an image or file part, or -1. */
long	 kimi_prompt_media(const struct chat_request *);

#endif
