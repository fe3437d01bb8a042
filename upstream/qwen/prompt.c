/*
 * prompt.c - the Qwen prompt flattening; see prompt.h for the rules.
 *
 * Two passes over the messages: the first finds out whether the
 * conversation is one bare question (the reference's shape), the second
 * writes the blocks into a buffer sized up front (text plus the longest
 * label and separator per message), so one allocation does.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fcgi/arena.h"
#include "upstream/chat_text.h"
#include "upstream/qwen/prompt.h"

#define LIT(s)	(sizeof(s) - 1)
#define GAP	(LIT("\n\n") + LIT("Assistant: "))

enum class { C_NONE, C_SYSTEM, C_USER, C_ASSISTANT, C_TOOL };

static const char *const labels[] = {
	[C_NONE] = "", [C_SYSTEM] = "System: ", [C_USER] = "User: ",
	[C_ASSISTANT] = "Assistant: ", [C_TOOL] = "Tool: ",
};

static enum class
class_of(enum chat_role r)
{
	switch (r) {
	case CHAT_ROLE_SYSTEM:
	case CHAT_ROLE_DEVELOPER:
		return C_SYSTEM;
	case CHAT_ROLE_ASSISTANT:
		return C_ASSISTANT;
	case CHAT_ROLE_TOOL:
		return C_TOOL;
	default:
		return C_USER;
	}
}

/* Text parts joined with "\n" at w; returns the length. */
static size_t
put_text(const struct chat_message *m, char *w)
{
	size_t	 n = 0, k;

	for (k = 0; k < m->nparts; k++) {
		const struct chat_part	*p = &m->parts[k];

		if (p->type != CHAT_PART_TEXT || p->text == NULL || p->len == 0)
			continue;
		if (n > 0)
			w[n++] = '\n';
		memcpy(w + n, p->text, p->len);
		n += p->len;
	}
	return n;
}

static size_t
put(char *w, const char *s)
{
	size_t	 n = strlen(s);

	memcpy(w, s, n);
	return n;
}

int
qw_prompt_has_files(const struct chat_request *req)
{
	size_t	 i, k;

	for (i = 0; req != NULL && i < req->nmessages; i++)
		for (k = 0; k < req->messages[i].nparts; k++)
			if (req->messages[i].parts[k].type != CHAT_PART_TEXT)
				return 1;
	return 0;
}

char *
qw_prompt(struct arena *a, const struct chat_request *req, size_t *lenp)
{
	const struct chat_message	*m;
	enum class			 cur = C_NONE, cls;
	size_t				 cap = 1, pos = 0, i, k, blocks = 0;
	bool				 head = true, sys = false, bare;
	char				*o;

	if (lenp != NULL)
		*lenp = 0;
	/* pass 1: the size, and whether it is one bare question */
	for (i = 0; req != NULL && i < req->nmessages; i++) {
		m = &req->messages[i];
		for (k = 0; k < m->nparts; k++) {
			if (m->parts[k].len > SIZE_MAX / 4 - cap - GAP)
				return NULL;
			cap += m->parts[k].len + 1;
		}
		cap += GAP;
		if (!chat_text_any(m))
			continue;
		cls = class_of(m->role);
		if (head && cls == C_SYSTEM)
			sys = true;
		else {
			blocks += !(cls == cur && !head);
			head = false;
			cur = cls;
		}
	}
	bare = !sys && blocks == 1 && cur == C_USER;
	if ((o = arena_alloc(a, cap)) == NULL)
		return NULL;
	/* pass 2: the blocks */
	head = true;
	cur = C_NONE;
	for (i = 0; req != NULL && i < req->nmessages; i++) {
		m = &req->messages[i];
		if (!chat_text_any(m))
			continue;
		cls = class_of(m->role);
		if (pos > 0)
			pos += put(o + pos, "\n\n");
		if (head && cls == C_SYSTEM)
			cls = C_NONE;		/* the bare opening */
		else {
			if ((cls != cur || head) && !bare)
				pos += put(o + pos, labels[cls]);
			head = false;
		}
		cur = cls;
		pos += put_text(m, o + pos);
	}
	o[pos] = '\0';
	if (lenp != NULL)
		*lenp = pos;
	return o;
}
