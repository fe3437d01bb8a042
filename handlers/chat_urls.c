/*
 * UPLOAD_BY_URL (protocols/chatgpt.md §11.1): a user message written as
 * "<url> <url> question" becomes a text part with the question and one
 * image_url part per URL.  The provider fetches each URL (through
 * EXPORT_PROXY_URL) and uploads it like any image_url; a MIME type that
 * is not an image makes it a file.  Only string contents of user turns
 * are read: a system prompt or an answer that starts with a link stays
 * text.
 */
#include "config.h"

#include <string.h>

#include "handlers/chat_request.h"

#define URL_MAX		2048	/* longer words stay text */

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Bytes of the leading http(s) URL word of s, or 0 when there is none. */
static size_t
url_word(const char *s, size_t n)
{
	size_t	 skip, i;

	if (n > 8 && memcmp(s, "https://", 8) == 0)
		skip = 8;
	else if (n > 7 && memcmp(s, "http://", 7) == 0)
		skip = 7;
	else
		return 0;
	for (i = skip; i < n && !is_space(s[i]) && s[i] != '\0'; i++)
		;
	return i > skip && i <= URL_MAX ? i : 0;
}

/* Removes every occurrence of u (ulen > 0) from t in place; new length. */
static size_t
remove_all(char *t, size_t n, const char *u, size_t ulen)
{
	size_t	 r = 0, w = 0;

	while (r < n) {
		if (n - r >= ulen && memcmp(t + r, u, ulen) == 0) {
			r += ulen;
			continue;
		}
		t[w++] = t[r++];
	}
	return w;
}

static int
split_message(struct arena *a, struct chat_message *m, size_t *text_bytes)
{
	struct chat_part	*parts;
	const char		*urls[CHAT_MAX_PARTS - 1];
	size_t			 nurl = 0, n, ulen, off, i;
	char			*t;

	n = m->parts[0].len;
	if (n < 8 || memcmp(m->parts[0].text, "http", 4) != 0)
		return 0;
	if ((t = arena_alloc(a, n + 1)) == NULL)
		return -1;
	memcpy(t, m->parts[0].text, n);
	while (nurl < CHAT_MAX_PARTS - 1 && (ulen = url_word(t, n)) > 0) {
		if ((urls[nurl] = arena_strndup(a, t, ulen)) == NULL)
			return -1;
		n = remove_all(t, n, urls[nurl], ulen);
		nurl++;
		for (off = 0; off < n && is_space(t[off]); off++)
			;
		memmove(t, t + off, n - off);
		n -= off;
		while (n > 0 && is_space(t[n - 1]))
			n--;
	}
	if (nurl == 0)
		return 0;
	t[n] = '\0';
	if ((parts = arena_calloc(a, nurl + 1, sizeof(*parts))) == NULL)
		return -1;
	parts[0].type = CHAT_PART_TEXT;
	parts[0].text = t;
	parts[0].len = n;
	for (i = 0; i < nurl; i++) {
		parts[i + 1].type = CHAT_PART_IMAGE;
		parts[i + 1].url = urls[i];
	}
	*text_bytes -= m->parts[0].len - n;
	m->parts = parts;
	m->nparts = nurl + 1;
	m->string_content = 0;
	return 0;
}

int
chat_request_split_urls(struct arena *a, struct chat_request *r)
{
	size_t	 i;

	for (i = 0; i < r->nmessages; i++) {
		struct chat_message *m = &r->messages[i];

		if (m->role != CHAT_ROLE_USER || !m->string_content ||
		    m->nparts != 1 || m->parts[0].type != CHAT_PART_TEXT)
			continue;
		if (split_message(a, m, &r->text_bytes) < 0)
			return -1;
	}
	return 0;
}
