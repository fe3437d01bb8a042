/*
 * prompt.c - the DeepSeek prompt flattening; see prompt.h for the rules.
 *
 * One pass, one allocation: the size is bounded first (the text plus the
 * largest tag run per message), then each message's text is written a
 * little past the output position, images are cut out of it in place
 * (that only shrinks it), and once it is known not to be empty the tags
 * go in front and the text is moved down to meet them.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fcgi/arena.h"
#include "upstream/deepseek/prompt.h"

#define LIT(s)	(sizeof(s) - 1)
/* the most that goes in front of a message's text */
#define GAP	(LIT(DS_TAG_EOS) + LIT(DS_TAG_ASSISTANT))

enum class { C_NONE, C_USER, C_ASSISTANT };

static bool
line_end(char c)
{
	return c == '\n' || c == '\r';
}

/*
 * End (one past the ')') of the image "![alt](url)" starting at t[i]:
 * the first "](" after "![" on the same line, then the first ')' after
 * it on that line.  0 if there is none.
 */
static size_t
image_end(const char *t, size_t n, size_t i)
{
	size_t	 j;

	for (j = i + 2; j + 1 < n && !line_end(t[j]); j++)
		if (t[j] == ']' && t[j + 1] == '(')
			break;
	if (j + 1 >= n || t[j] != ']' || t[j + 1] != '(')
		return 0;
	for (j += 2; j < n && !line_end(t[j]); j++)
		if (t[j] == ')')
			return j + 1;
	return 0;
}

/*
 * Remove the images of t[0..n) in place; returns the new length.  When
 * an image does not close, no later "![" on that line can either (it
 * would look for the same "](" and ')'), so the rest of the line is
 * copied without looking: linear time on hostile input.
 */
static size_t
strip_images(char *t, size_t n)
{
	size_t	 r = 0, w = 0, e;
	bool	 dead = false;

	while (r < n) {
		if (line_end(t[r]))
			dead = false;
		else if (!dead && t[r] == '!' && r + 1 < n && t[r + 1] == '[') {
			if ((e = image_end(t, n, r)) != 0) {
				r = e;
				continue;
			}
			dead = true;
		}
		t[w++] = t[r++];
	}
	return w;
}

/* Text parts joined with "\n" at t; returns the length. */
static size_t
message_text(const struct chat_message *m, char *t)
{
	size_t	 n = 0;

	for (size_t k = 0; k < m->nparts; k++) {
		const struct chat_part	*p = &m->parts[k];

		if (p->type != CHAT_PART_TEXT || p->text == NULL || p->len == 0)
			continue;
		if (n > 0)
			t[n++] = '\n';
		memcpy(t + n, p->text, p->len);
		n += p->len;
	}
	return n;
}

static size_t
put(char *w, const char *s, size_t n)
{
	memcpy(w, s, n);
	return n;
}

char *
ds_prompt(struct arena *a, const struct chat_request *req, size_t *lenp)
{
	const struct chat_message	*m;
	enum class			 cur = C_NONE, cls;
	size_t				 cap = LIT(DS_TAG_EOS) + 1, pos = 0;
	size_t				 i, k, tl, pl;
	char				*out, *t;

	if (lenp != NULL)
		*lenp = 0;
	for (i = 0; req != NULL && i < req->nmessages; i++) {
		m = &req->messages[i];
		if (cap > SIZE_MAX / 4)
			return NULL;
		cap += GAP;
		for (k = 0; k < m->nparts; k++) {
			if (m->parts[k].type != CHAT_PART_TEXT)
				continue;
			if (m->parts[k].len > SIZE_MAX / 4 - cap)
				return NULL;
			cap += m->parts[k].len + 1;
		}
	}
	if ((out = arena_alloc(a, cap)) == NULL)
		return NULL;
	for (i = 0; req != NULL && i < req->nmessages; i++) {
		m = &req->messages[i];
		t = out + pos + GAP;
		if ((tl = strip_images(t, message_text(m, t))) == 0)
			continue;
		cls = m->role == CHAT_ROLE_ASSISTANT ? C_ASSISTANT : C_USER;
		pl = 0;
		if (cls == cur)
			pl += put(out + pos, "\n\n", 2);
		else {
			if (cur == C_ASSISTANT)
				pl += put(out + pos, DS_TAG_EOS,
				    LIT(DS_TAG_EOS));
			if (cls == C_ASSISTANT)
				pl += put(out + pos + pl, DS_TAG_ASSISTANT,
				    LIT(DS_TAG_ASSISTANT));
			else if (cur != C_NONE)
				pl += put(out + pos + pl, DS_TAG_USER,
				    LIT(DS_TAG_USER));
			cur = cls;
		}
		memmove(out + pos + pl, t, tl);
		pos += pl + tl;
	}
	if (cur == C_ASSISTANT)
		pos += put(out + pos, DS_TAG_EOS, LIT(DS_TAG_EOS));
	out[pos] = '\0';
	if (lenp != NULL)
		*lenp = pos;
	return out;
}
