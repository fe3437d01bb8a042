/*
 * prompt.c - the Qwen AI prompt flattening; see prompt.h for the rules.
 * Two passes over the messages (system first, then the turns) into one
 * buffer, copied into the request's arena.
 */
#include "config.h"

#include <string.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "upstream/chat_text.h"
#include "upstream/qwenai/prompt.h"

static const char *
label(enum chat_role r)
{
	switch (r) {
	case CHAT_ROLE_ASSISTANT:
		return "Assistant: ";
	case CHAT_ROLE_TOOL:
		return "Tool: ";
	default:
		return "User: ";
	}
}

char *
qa_prompt(struct arena *a, const struct chat_request *req, size_t *len)
{
	const struct chat_message *m;
	struct buf b;
	size_t i, n = 0, last = 0;
	char *out;

	*len = 0;
	for (i = 0; i < req->nmessages; i++)
		if (chat_text_any(&req->messages[i])) {
			n++;
			last = i;
		}
	buf_init(&b, 0);
	if (n == 1 && req->messages[last].role == CHAT_ROLE_USER)
		chat_text_join(&b, &req->messages[last]);
	else {
		for (i = 0; i < req->nmessages; i++) {
			m = &req->messages[i];
			if (!chat_text_system(m) || !chat_text_any(m))
				continue;
			if (b.len > 0)
				buf_add(&b, "\n\n", 2);
			chat_text_join(&b, m);
		}
		for (i = 0; i < req->nmessages; i++) {
			m = &req->messages[i];
			if (chat_text_system(m) || !chat_text_any(m))
				continue;
			if (b.len > 0)
				buf_add(&b, "\n\n", 2);
			buf_adds(&b, label(m->role));
			chat_text_join(&b, m);
		}
	}
	out = b.failed ? NULL : arena_strndup(a, b.len ? b.p : "", b.len);
	if (out != NULL)
		*len = b.len;
	buf_free(&b);
	return out;
}

const struct chat_part *
qa_first_file(const struct chat_request *req, size_t *msg)
{
	size_t i, k;

	for (i = 0; i < req->nmessages; i++)
		for (k = 0; k < req->messages[i].nparts; k++)
			if (req->messages[i].parts[k].type != CHAT_PART_TEXT) {
				*msg = i;
				return &req->messages[i].parts[k];
			}
	return NULL;
}
