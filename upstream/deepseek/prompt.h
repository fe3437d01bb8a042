/*
 * prompt.h - the DeepSeek "prompt": the whole OpenAI conversation
 * flattened into the one string the completion body carries
 * (protocols/providers.md §2.5).
 *
 *  - The text of a message is its text parts joined with "\n"; image and
 *    file parts and empty text parts are dropped.  Markdown images
 *    "![alt](url)" are removed from it (per message, so a "![" in one
 *    message can never swallow the tags up to a "](" in the next).  A
 *    message whose text ends up empty is left out.
 *  - Consecutive messages of the same class are merged with "\n\n".
 *    There are two classes: assistant, and user -- which takes system,
 *    developer and, until chat_message carries tool calls, tool.
 *  - A user block is "<｜User｜>TEXT", an assistant block
 *    "<｜Assistant｜>TEXT<｜end▁of▁sentence｜>" (U+FF5C bars, U+2581 in the
 *    end-of-sentence token, as the model's own special tokens).  The first
 *    block is written bare when it is a user block: it stands where the
 *    model's template puts the system prompt.  An assistant block always
 *    keeps its tags, so earlier answers never read as the user's words.
 *  - Text is copied byte for byte otherwise (UTF-8 untouched).
 */
#ifndef UPSTREAM_DEEPSEEK_PROMPT_H
#define UPSTREAM_DEEPSEEK_PROMPT_H

#include <stddef.h>

#include "upstream/provider.h"

#define DS_TAG_USER	"<\xef\xbd\x9c" "User" "\xef\xbd\x9c>"
#define DS_TAG_ASSISTANT "<\xef\xbd\x9c" "Assistant" "\xef\xbd\x9c>"
#define DS_TAG_EOS	"<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" \
			"sentence" "\xef\xbd\x9c>"

struct arena;

/*
 * The prompt for req, NUL-terminated, allocated from the arena; its
 * length in *len (len may be NULL).  NULL when out of memory.
 */
char	*ds_prompt(struct arena *, const struct chat_request *, size_t *len);

#endif
