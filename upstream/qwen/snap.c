/*
 * snap.c - cumulative snapshots into deltas (see snap.h and stream.h).
 *
 * Each snapshot is copied once into a work buffer with the markers cut
 * out, compared with the base (what has been handed on) and, when taken,
 * swapped in as the new base: one copy per event, which the upstream's
 * own cost (it resends the whole text every time) dwarfs anyway.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fcgi/utf8.h"
#include "upstream/qwen/snap.h"

#define ISDIGIT(c)	((c) >= '0' && (c) <= '9')
#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */
#define MARK_DIGITS	6	/* the N of "_N" */

/* The card names a marker may carry (§6.3). */
static const char *const names[] = { "deep_think", "multimodal_chat_think" };

/*
 * p[0..n) against "[(" name ["_" digits] ")]": the length of a whole
 * marker, 0 otherwise; *partial when p[0..n) could still become one.
 */
static size_t
marker_of(const char *p, size_t n, const char *name, bool *partial)
{
	size_t	 nl = strlen(name), i, d;
	char	 want[QW_MARKER_MAX];

	want[0] = '[';
	want[1] = '(';
	memcpy(want + 2, name, nl);
	if (memcmp(p, want, n < nl + 2 ? n : nl + 2) != 0)
		return 0;
	if ((i = nl + 2) >= n) {
		*partial = true;
		return 0;
	}
	if (p[i] == '_') {
		for (i++, d = 0; i < n && ISDIGIT(p[i]); i++)
			if (++d > MARK_DIGITS)
				return 0;
		if (i == n) {
			*partial = true;
			return 0;
		}
		if (d == 0)
			return 0;
	}
	if (p[i] != ')')
		return 0;
	if (++i == n) {
		*partial = true;
		return 0;
	}
	return p[i] == ']' ? i + 1 : 0;
}

size_t
qw_marker_at(const char *p, size_t n, bool *partial)
{
	bool	 dummy;
	size_t	 k, i;

	if (partial == NULL)
		partial = &dummy;
	*partial = false;
	if (n == 0 || p[0] != '[')
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((k = marker_of(p, n, names[i], partial)) != 0 || *partial)
			return k;
	return 0;
}

static enum qw_stream_err
grow(char **p, size_t *cap, size_t need)
{
	size_t	 ncap;
	char	*np;

	if (need <= *cap)
		return QWS_OK;
	for (ncap = *cap ? *cap : 256; ncap < need; ncap *= 2)
		if (ncap > QWS_MAX_EVENT * 4)
			return QWS_PROTO;
	if ((np = realloc(*p, ncap)) == NULL)
		return QWS_ENOMEM;
	*p = np;
	*cap = ncap;
	return QWS_OK;
}

/*
 * s[0..n) into the work buffer as valid UTF-8 (json-c lets surrogates
 * and overlong forms through: each byte that starts no valid character
 * becomes U+FFFD) without its markers; returns the length and sets
 * *held to the bytes at its end that may begin a marker.
 */
static size_t
clean(struct qw_snap *sn, const char *s, size_t n, size_t *held)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, w = 0, k, j;
	bool			 partial;

	*held = 0;
	for (i = 0; i < n; i += k) {
		if (sn->markers && s[i] == '[' &&
		    (k = qw_marker_at(s + i, n - i, NULL)) > 0)
			continue;
		if ((k = utf8_seq_len(u + i, n - i)) == 0) {
			memcpy(sn->work + w, REPLACEMENT, 3);
			w += 3;
			k = 1;
			continue;
		}
		memcpy(sn->work + w, s + i, k);
		w += k;
	}
	if (!sn->markers)
		return w;
	/* the leftmost '[' near the end that a marker could still grow from */
	for (j = w > QW_MARKER_MAX ? w - QW_MARKER_MAX : 0; j < w; j++)
		if (sn->work[j] == '[' && qw_marker_at(sn->work + j, w - j,
		    &partial) == 0 && partial) {
			*held = w - j;
			break;
		}
	return w;
}

enum qw_stream_err
qw_snap_take(struct qw_snap *sn, const char *s, size_t n,
    const char **delta, size_t *dlen)
{
	enum qw_stream_err	 rc;
	size_t			 wl, held, vl, start, tcap;
	char			*t;

	*delta = NULL;
	*dlen = 0;
	if ((rc = grow(&sn->work, &sn->wcap, 3 * n + 1)) != QWS_OK)
		return rc;
	wl = clean(sn, s, n, &held);
	vl = wl - held;
	if (vl >= sn->len && (sn->len == 0 ||
	    memcmp(sn->work, sn->base, sn->len) == 0))
		start = sn->len;
	else if (vl <= sn->len && (vl == 0 ||
	    memcmp(sn->work, sn->base, vl) == 0))
		return QWS_OK;		/* nothing new: keep base and hold */
	else {
		sn->rewrites++;
		if (vl <= sn->len)
			return QWS_OK;
		/* what lies past the old length, from a character start */
		for (start = sn->len; start < vl &&
		    ((unsigned char)sn->work[start] & 0xc0) == 0x80; start++)
			;
	}
	memcpy(sn->hold, sn->work + vl, held);
	sn->hlen = held;
	/* the snapshot becomes the base: swap the buffers */
	t = sn->base;
	sn->base = sn->work;
	sn->work = t;
	tcap = sn->cap;
	sn->cap = sn->wcap;
	sn->wcap = tcap;
	sn->len = vl;
	*delta = sn->base + start;
	*dlen = vl - start;
	return QWS_OK;
}

const char *
qw_snap_release(struct qw_snap *sn, size_t *n)
{
	*n = sn->hlen;
	sn->hlen = 0;
	return sn->hold;
}

bool
qw_snap_any(const struct qw_snap *sn)
{
	return sn->len > 0;
}

void
qw_snap_free(struct qw_snap *sn)
{
	free(sn->base);
	free(sn->work);
	sn->base = sn->work = NULL;
	sn->len = sn->cap = sn->wcap = sn->hlen = 0;
}
