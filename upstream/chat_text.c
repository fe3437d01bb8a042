/* A client message's text as the prompt flatteners read it (see .h). */
#include "config.h"

#include "fcgi/buf.h"
#include "upstream/chat_text.h"
#include "upstream/provider.h"

int
chat_text_system(const struct chat_message *m)
{
	return m->role == CHAT_ROLE_SYSTEM || m->role == CHAT_ROLE_DEVELOPER;
}

int
chat_text_any(const struct chat_message *m)
{
	size_t k;

	for (k = 0; k < m->nparts; k++)
		if (m->parts[k].type == CHAT_PART_TEXT && m->parts[k].len > 0)
			return 1;
	return 0;
}

void
chat_text_join(struct buf *b, const struct chat_message *m)
{
	const struct chat_part *p;
	size_t k;
	int first = 1;

	for (k = 0; k < m->nparts; k++) {
		p = &m->parts[k];
		if (p->type != CHAT_PART_TEXT || p->text == NULL || p->len == 0)
			continue;
		if (!first)
			buf_add(b, "\n", 1);
		buf_add(b, p->text, p->len);
		first = 0;
	}
}
