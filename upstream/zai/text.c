/*
 * text.c - the markup strippers of the Z.ai decoder; see text.h.
 *
 * A marker is dropped only when it is whole: "【" (U+3010), at most
 * ZAI_MARK_MAX bytes, "】" (U+3011), with "turn<digits>search<digits>"
 * inside -- other text in those brackets is the answer's own.  A "【"
 * without its "】" yet is held while it could still close within the
 * limit.  Tags likewise: "<details" followed by a space or ">" up to the
 * next ">" within ZAI_TAG_MAX bytes, and "</details>"; a "<" that could
 * still begin one of them is held.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "upstream/zai/text.h"

#define OPEN		"\xe3\x80\x90"	/* 【 */
#define CLOSE		"\xe3\x80\x91"	/* 】 */
#define OPEN_TAG	"<details"
#define CLOSE_TAG	"</details>"
#define LIT(s)		(sizeof(s) - 1)
#define ISDIGIT(c)	((c) >= '0' && (c) <= '9')

/* "turn<digits>search<digits>" somewhere in s[0..n). */
static int
is_search_ref(const char *s, size_t n)
{
	size_t i, j;

	for (i = 0; i + 4 < n; i++) {
		if (memcmp(s + i, "turn", 4) != 0)
			continue;
		for (j = i + 4; j < n && ISDIGIT(s[j]); j++)
			;
		if (j == i + 4 || n - j < 7 ||
		    memcmp(s + j, "search", 6) != 0 || !ISDIGIT(s[j + 6]))
			continue;
		return 1;
	}
	return 0;
}

/* s[0..n) is a proper prefix of lit (more bytes may complete it). */
static int
prefix_of(const char *s, size_t n, const char *lit, size_t litlen)
{
	return n < litlen && memcmp(s, lit, n) == 0;
}

/* The end of a whole citation marker at w[0..n), 0 if none, -1 if maybe. */
static long
cite_at(const char *w, size_t n)
{
	size_t i;

	if (prefix_of(w, n, OPEN, LIT(OPEN)))
		return -1;
	if (n < LIT(OPEN) || memcmp(w, OPEN, LIT(OPEN)) != 0)
		return 0;
	for (i = LIT(OPEN); i + LIT(CLOSE) <= n && i + LIT(CLOSE) <=
	    ZAI_MARK_MAX; i++) {
		if (memcmp(w + i, OPEN, LIT(OPEN)) == 0)
			return 0;	/* another one opens first */
		if (memcmp(w + i, CLOSE, LIT(CLOSE)) == 0)
			return is_search_ref(w + LIT(OPEN), i - LIT(OPEN)) ?
			    (long)(i + LIT(CLOSE)) : 0;
	}
	/* no close yet: held while the marker could still end in time */
	return n < ZAI_MARK_MAX ? -1 : 0;
}

/* The end of a tag to drop at w[0..n), 0 if none, -1 if maybe. */
static long
tag_at(const char *w, size_t n)
{
	size_t i;

	if (n >= LIT(CLOSE_TAG) && memcmp(w, CLOSE_TAG, LIT(CLOSE_TAG)) == 0)
		return (long)LIT(CLOSE_TAG);
	if (prefix_of(w, n, CLOSE_TAG, LIT(CLOSE_TAG)) ||
	    prefix_of(w, n, OPEN_TAG, LIT(OPEN_TAG) + 1))
		return -1;
	if (n <= LIT(OPEN_TAG) || memcmp(w, OPEN_TAG, LIT(OPEN_TAG)) != 0 ||
	    (w[LIT(OPEN_TAG)] != ' ' && w[LIT(OPEN_TAG)] != '>'))
		return 0;
	for (i = LIT(OPEN_TAG); i < n && i < ZAI_TAG_MAX; i++)
		if (w[i] == '>')
			return (long)i + 1;
	return n < ZAI_TAG_MAX ? -1 : 0;
}

/*
 * The compaction both strippers share: at every byte equal to lead, at(w,
 * n) says whether markup starts there (its end), may start there (-1:
 * hold from here), or not (0).
 */
static size_t
strip(char *w, size_t n, size_t *hold, char lead,
    long (*at)(const char *, size_t))
{
	size_t r = 0, o = 0;
	long end;

	*hold = 0;
	while (r < n) {
		if (w[r] != lead || (end = at(w + r, n - r)) == 0) {
			w[o++] = w[r++];
			continue;
		}
		if (end < 0) {
			*hold = n - r;
			memmove(w + o, w + r, *hold);
			return o;
		}
		r += (size_t)end;
	}
	return o;
}

size_t
zai_cite_strip(char *w, size_t n, size_t *hold)
{
	return strip(w, n, hold, OPEN[0], cite_at);
}

size_t
zai_details_strip(char *w, size_t n, size_t *hold)
{
	return strip(w, n, hold, '<', tag_at);
}
