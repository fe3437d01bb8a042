/*
 * prompt.c - the Qwen AI prompt flattening; see prompt.h for the rules.
 * Two passes over the messages (system first, then the turns) into one
 * buffer, copied into the request's arena.
 */
#include "config.h"

#include <string.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "upstream/qwenai/prompt.h"

static int
is_system(const struct chat_message *m)
{
	return m->role == CHAT_ROLE_SYSTEM || m->role == CHAT_ROLE_DEVELOPER;
}

static int
has_text(const struct chat_message *m)
{
	size_t k;

	for (k = 0; k < m->nparts; k++)
		if (m->parts[k].type == CHAT_PART_TEXT && m->parts[k].len > 0)
			return 1;
	return 0;
}

/* The message's text parts joined with "\n". */
static void
add_text(struct buf *b, const struct chat_message *m)
{
	size_t k;
	int first = 1;

	for (k = 0; k < m->nparts; k++) {
		if (m->parts[k].type != CHAT_PART_TEXT || m->parts[k].len == 0)
			continue;
		if (!first)
			buf_add(b, "\n", 1);
		buf_add(b, m->parts[k].text, m->parts[k].len);
		first = 0;
	}
}

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
		if (has_text(&req->messages[i])) {
			n++;
			last = i;
		}
	buf_init(&b, 0);
	if (n == 1 && req->messages[last].role == CHAT_ROLE_USER)
		add_text(&b, &req->messages[last]);
	else {
		for (i = 0; i < req->nmessages; i++) {
			m = &req->messages[i];
			if (!is_system(m) || !has_text(m))
				continue;
			if (b.len > 0)
				buf_add(&b, "\n\n", 2);
			add_text(&b, m);
		}
		for (i = 0; i < req->nmessages; i++) {
			m = &req->messages[i];
			if (is_system(m) || !has_text(m))
				continue;
			if (b.len > 0)
				buf_add(&b, "\n\n", 2);
			buf_adds(&b, label(m->role));
			add_text(&b, m);
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
