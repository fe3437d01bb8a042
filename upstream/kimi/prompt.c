/*
 * prompt.c - the Kimi prompt flattening; see prompt.h for the rules.
 *
 * Two passes over the messages: the first finds the system text that
 * leads and counts the turns that remain (the layout depends on that
 * count), the second writes them into a growing buffer that is copied
 * into the arena once.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "upstream/chat_text.h"
#include "upstream/kimi/prompt.h"

#define LIT(s)		(sizeof(s) - 1)

/* The end of the URL that starts at t[i] ("http://" or "https://"). */
static size_t
url_end(const char *t, size_t n, size_t i)
{
	size_t j = i + ((t[i + 4] | 0x20) == 's' ? 8 : 7);

	for (; j < n; j++)
		if ((unsigned char)t[j] <= ' ' || t[j] == 0x7f ||
		    t[j] == '<' || t[j] == '>' || t[j] == '"')
			break;
	return j;
}

static int
url_at(const char *t, size_t n, size_t i)
{
	if (n - i > 7 && strncasecmp(t + i, "http://", 7) == 0)
		return url_end(t, n, i) > i + 7;
	if (n - i > 8 && strncasecmp(t + i, "https://", 8) == 0)
		return url_end(t, n, i) > i + 8;
	return 0;
}

/* Text with its URLs wrapped (§4.3 step 5). */
static void
put_wrapped(struct buf *b, const char *t, size_t n)
{
	size_t i = 0, from = 0, e;

	while (i < n) {
		if ((t[i] == 'h' || t[i] == 'H') && url_at(t, n, i)) {
			e = url_end(t, n, i);
			buf_add(b, t + from, i - from);
			buf_add(b, KIMI_URL_OPEN, LIT(KIMI_URL_OPEN));
			buf_add(b, t + i, e - i);
			buf_add(b, KIMI_URL_CLOSE, LIT(KIMI_URL_CLOSE));
			i = from = e;
		} else
			i++;
	}
	buf_add(b, t + from, n - from);
}

/* The text parts joined with "\n". */
static void
put_text(struct buf *b, const struct chat_message *m, int wrap)
{
	size_t k;
	int first = 1;

	for (k = 0; k < m->nparts; k++) {
		const struct chat_part *p = &m->parts[k];

		if (p->type != CHAT_PART_TEXT || p->len == 0)
			continue;
		if (!first)
			buf_adds(b, "\n");
		first = 0;
		if (wrap)
			put_wrapped(b, p->text, p->len);
		else
			buf_add(b, p->text, p->len);
	}
}

/* One turn: "role:" (when labelled), its text, "\n". */
static void
put_turn(struct buf *b, const struct chat_message *m, int labelled)
{
	if (m->role == CHAT_ROLE_TOOL) {
		if (labelled)
			buf_adds(b, "user:");
		buf_printf(b, "[TOOL_RESULT for %s] ", m->name != NULL &&
		    *m->name ? m->name : "tool");
		put_text(b, m, 0);
	} else {
		if (labelled)
			buf_adds(b, m->role == CHAT_ROLE_ASSISTANT ?
			    "assistant:" : "user:");
		put_text(b, m, m->role == CHAT_ROLE_USER);
	}
	buf_adds(b, "\n");
}

char *
kimi_prompt(struct arena *a, const struct chat_request *req, size_t *lenp)
{
	const struct chat_message *sys = NULL, *m;
	struct buf b;
	size_t i, turns = 0, seen = 0;
	char *out = NULL;

	if (lenp != NULL)
		*lenp = 0;
	for (i = 0; i < req->nmessages; i++) {
		m = &req->messages[i];
		if (chat_text_system(m))
			sys = m;
		else if (chat_text_any(m))
			turns++;
	}
	buf_init(&b, 0);
	if (sys != NULL && chat_text_any(sys)) {
		buf_adds(&b, "system:");
		put_text(&b, sys, 0);
		buf_adds(&b, "\n");
	}
	for (i = 0; i < req->nmessages; i++) {
		m = &req->messages[i];
		if (chat_text_system(m) || !chat_text_any(m))
			continue;
		if (turns >= 2 && ++seen == turns)
			buf_adds(&b, "system:" KIMI_FOCUS "\n");
		put_turn(&b, m, turns >= 2);
	}
	if (!b.failed && (out = arena_strndup(a, b.p != NULL ? b.p : "",
	    b.len)) != NULL && lenp != NULL)
		*lenp = b.len;
	buf_free(&b);
	return out;
}

long
kimi_prompt_media(const struct chat_request *req)
{
	size_t i, k;

	for (i = 0; i < req->nmessages; i++)
		for (k = 0; k < req->messages[i].nparts; k++)
			if (req->messages[i].parts[k].type != CHAT_PART_TEXT)
				return (long)i;
	return -1;
}
