/*
 * prompt.c - the MiniMax prompt flattening; see prompt.h for the rules.
 * Built in one growing buffer: each message's text is appended after its
 * tag, then its images are cut out in place and the tag taken back if
 * nothing is left.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "upstream/chat_text.h"
#include "upstream/minimax/prompt.h"

/* Where the line that holds s[i] ends. */
static size_t
eol(const char *s, size_t n, size_t i)
{
	while (i < n && s[i] != '\n' && s[i] != '\r')
		i++;
	return i;
}

static size_t
find2(const char *s, size_t from, size_t to, char a, char b)
{
	size_t i;

	for (i = from; i + 1 < to; i++)
		if (s[i] == a && s[i + 1] == b)
			return i;
	return to;
}

/*
 * Linear on any input: when an image on a line does not close, no later
 * one on that line can (it would need a "](" and a ')' further on still),
 * so the rest of the line is kept as it is.
 */
size_t
mm_strip_images(char *s, size_t n)
{
	size_t r = 0, w = 0, e, open, close, end;
	const char *q;

	while (r < n) {
		e = eol(s, n, r);
		while (r < e) {
			open = find2(s, r, e, '!', '[');
			end = e;
			if (open < e && (close = find2(s, open + 2, e, ']',
			    '(')) < e && (q = memchr(s + close + 2, ')',
			    e - close - 2)) != NULL)
				end = (size_t)(q - s) + 1;
			else
				open = e;	/* none closes: keep the rest */
			memmove(s + w, s + r, open - r);
			w += open - r;
			r = end;
		}
		if (r < n)
			s[w++] = s[r++];	/* the line break */
	}
	return w;
}

/*
 * Appends the message's text, images gone; 0 when that left nothing but
 * white space (the caller takes it back), else how many bytes it added.
 */
static size_t
put_text(struct buf *b, const struct chat_message *m)
{
	size_t start = b->len, k;

	chat_text_join(b, m);
	if (b->failed)
		return 0;
	b->len = start + mm_strip_images(b->p + start, b->len - start);
	for (k = start; k < b->len; k++)
		if (!isspace((unsigned char)b->p[k]))
			return b->len - start;
	return 0;
}

/* One "ROLE:TEXT\n" block, or nothing when the text is empty. */
static int
put_message(struct buf *b, const struct chat_message *m)
{
	size_t mark = b->len;

	if (m->role == CHAT_ROLE_ASSISTANT)
		buf_adds(b, "assistant:");
	else if (m->role == CHAT_ROLE_TOOL && m->name != NULL && *m->name)
		buf_printf(b, "user:[TOOL_RESULT for %s] ", m->name);
	else if (m->role == CHAT_ROLE_TOOL)
		buf_adds(b, "user:[TOOL_RESULT] ");
	else
		buf_adds(b, "user:");
	if (put_text(b, m) == 0) {
		b->len = mark;
		return 0;
	}
	buf_add(b, "\n", 1);
	return 1;
}

char *
mm_prompt(struct arena *a, const struct chat_request *req, size_t *lenp)
{
	const struct chat_message *sys = NULL;
	struct buf b;
	size_t i, nmsg = 0, s, e;
	char *out = NULL;

	if (lenp != NULL)
		*lenp = 0;
	buf_init(&b, MM_PROMPT_MAX);
	for (i = 0; i < req->nmessages; i++)
		if (chat_text_system(&req->messages[i]))
			sys = &req->messages[i];
	if (sys != NULL) {
		buf_adds(&b, "system:");
		if (put_text(&b, sys) == 0)
			b.len = 0;	/* nothing but white space */
		else
			buf_add(&b, "\n", 1);
	}
	for (i = 0; i < req->nmessages; i++)
		if (!chat_text_system(&req->messages[i]))
			nmsg += (size_t)put_message(&b, &req->messages[i]);
	if (nmsg >= 2)
		buf_adds(&b, "assistant:");
	if (b.failed)
		goto out;
	for (s = 0; s < b.len && isspace((unsigned char)b.p[s]); s++)
		;
	for (e = b.len; e > s && isspace((unsigned char)b.p[e - 1]); e--)
		;
	if ((out = arena_strndup(a, b.len > 0 ? b.p + s : "", e - s)) != NULL &&
	    lenp != NULL)
		*lenp = e - s;
out:
	buf_free(&b);
	return out;
}
