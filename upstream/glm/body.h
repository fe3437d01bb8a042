/*
 * body.h - what GLM's assistant/stream is sent (providers.md §3.5).
 *
 * The prompt: the whole OpenAI conversation flattened into one user text.
 *  - The text of a message is its text parts joined with "\n"; image and
 *    file parts go up as uploads instead (upload.c), referenced beside
 *    the text.
 *  - One message: its text followed by "\n".  Several: "Role: text\n\n"
 *    for each, Role being System (system, developer), Assistant or User
 *    (user, tool), then "Assistant: " for the model to go on from.
 *  - Text is copied byte for byte (UTF-8 untouched).
 *
 * The body: {assistant_id, conversation_id, project_id "", chat_type
 * "user_chat", messages: [{role "user", content: [the file list, the
 * image_url items, the text]}], meta_data: {channel "", chat_mode,
 * draft_id "", if_plus_model true, input_question_type "xxxx",
 * is_networking, is_test false, platform "pc", quote_log_id "",
 * cogview {rm_label_watermark false}}} where
 *  - assistant_id is the upstream model name or else the requested name
 *    when it is an assistant id (24 to 128 of [a-z0-9]), else
 *    GLM_ASSISTANT;
 *  - chat_mode is "deep_research" with ROUTE_DEEP_RESEARCH, else "zero"
 *    with ROUTE_THINK, else absent (§3.5: the later assignment wins);
 *  - is_networking is ROUTE_SEARCH;
 *  - conversation_id is "" for a new conversation, or the one a
 *    multi-turn session continues (the prompt then holds only the new
 *    turns, flattened by the same rules).
 */
#ifndef UPSTREAM_GLM_BODY_H
#define UPSTREAM_GLM_BODY_H

#include <stddef.h>

#include "upstream/provider.h"

#define GLM_ASSISTANT		"65940acff94777010aa6b796"

struct arena;
struct glm_ref;

/* The prompt, NUL-terminated, in the arena; *len its length.  NULL: OOM. */
char	*glm_prompt(struct arena *, const struct chat_request *, size_t *len);
/*
 * The assistant a route talks to: its upstream model or the requested
 * name when either is an assistant id, else GLM_ASSISTANT.
 */
const char *glm_assistant(const struct route *);
/*
 * The JSON body, NUL-terminated, in the arena; conv: the conversation to
 * continue, or NULL for a new one.  NULL: out of memory.
 */
char	*glm_body(struct arena *, const struct chat_request *,
	    const struct route *, const struct glm_ref *, size_t nrefs,
	    const char *conv);

#endif
