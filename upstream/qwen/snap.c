/*
 * snap.c - cumulative snapshots into deltas (see snap.h and stream.h).
 *
 * Each snapshot is copied once into a work buffer with the markers cut
 * out, compared with the base (what has been handed on) and, when taken,
 * swapped in as the new base: one copy per event, which the upstream's
 * own cost (it resends the whole text every time) dwarfs anyway.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "fcgi/buf.h"
#include "upstream/qwen/snap.h"

#define ISDIGIT(c)	((c) >= '0' && (c) <= '9')
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

/*
 * s[0..n) into the work buffer as valid UTF-8 (json-c lets surrogates
 * and overlong forms through: buf_add_utf8 makes each byte that starts
 * no valid character U+FFFD) without its markers, which begin with a
 * '[' that no character's bytes hold; sets *held to the bytes at its
 * end that may begin a marker.
 */
static void
clean(struct qw_snap *sn, const char *s, size_t n, size_t *held)
{
	struct buf	*w = &sn->work;
	size_t		 i, j, k;
	bool		 partial;

	*held = 0;
	buf_reset(w);
	for (i = j = 0; sn->markers && j < n; )
		if (s[j] == '[' && (k = qw_marker_at(s + j, n - j, NULL)) > 0) {
			(void)buf_add_utf8(w, s + i, j - i, SIZE_MAX, 0);
			i = j += k;
		} else
			j++;
	(void)buf_add_utf8(w, s + i, n - i, SIZE_MAX, 0);
	if (!sn->markers || w->failed)
		return;
	/* the leftmost '[' near the end that a marker could still grow from */
	for (j = w->len > QW_MARKER_MAX ? w->len - QW_MARKER_MAX : 0;
	    j < w->len; j++)
		if (w->p[j] == '[' && qw_marker_at(w->p + j, w->len - j,
		    &partial) == 0 && partial) {
			*held = w->len - j;
			break;
		}
}

enum qw_stream_err
qw_snap_take(struct qw_snap *sn, const char *s, size_t n,
    const char **delta, size_t *dlen)
{
	struct buf	 t;
	size_t		 held, vl, start, len = sn->base.len;

	*delta = NULL;
	*dlen = 0;
	/* a snapshot is never longer than the event that carried it */
	if (n > QWS_MAX_EVENT)
		return QWS_PROTO;
	clean(sn, s, n, &held);
	if (sn->work.failed)
		return QWS_ENOMEM;
	vl = sn->work.len - held;
	if (vl >= len && (len == 0 ||
	    memcmp(sn->work.p, sn->base.p, len) == 0))
		start = len;
	else if (vl <= len && (vl == 0 ||
	    memcmp(sn->work.p, sn->base.p, vl) == 0))
		return QWS_OK;		/* nothing new: keep base and hold */
	else {
		sn->rewrites++;
		if (vl <= len)
			return QWS_OK;
		/* what lies past the old length, from a character start */
		for (start = len; start < vl &&
		    ((unsigned char)sn->work.p[start] & 0xc0) == 0x80; start++)
			;
	}
	if (held > 0)
		memcpy(sn->hold, sn->work.p + vl, held);
	sn->hlen = held;
	/* the snapshot, without what is held, becomes the base */
	t = sn->base;
	sn->base = sn->work;
	sn->work = t;
	if (held > 0) {
		sn->base.len = vl;
		sn->base.p[vl] = '\0';
	}
	if ((*dlen = vl - start) > 0)
		*delta = sn->base.p + start;
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
	return sn->base.len > 0;
}

void
qw_snap_free(struct qw_snap *sn)
{
	buf_free(&sn->base);
	buf_free(&sn->work);
	sn->hlen = 0;
}
