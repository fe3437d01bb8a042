/*
 * snap.h - one cumulative text of the Qwen stream (the answer, or the
 * reasoning) turned into deltas; shared by upstream/qwen/stream.c and
 * snap.c only.  The rules are those of stream.h: a snapshot that extends
 * the base gives its tail, a shorter one nothing, a departing one what
 * lies past the old length.  For the answer the card markers are removed
 * and a possible marker at the end is held back.
 */
#ifndef UPSTREAM_QWEN_SNAP_H
#define UPSTREAM_QWEN_SNAP_H

#include <stdbool.h>
#include <stddef.h>

#include "fcgi/buf.h"
#include "upstream/qwen/stream.h"

/* "[(multimodal_chat_think_" + 6 digits + ")]" */
#define QW_MARKER_MAX	32

struct qw_snap {
	bool		 markers;	/* remove card markers: the answer */
	struct buf	 base;		/* the text handed on */
	struct buf	 work;		/* the snapshot, cleaned */
	char		 hold[QW_MARKER_MAX];	/* a marker's beginning */
	size_t		 hlen;
	unsigned	 rewrites;
};

/*
 * Length of the whole marker at p[0..n), 0 if there is none; *partial
 * (may be NULL) is set when p[0..n) is the beginning of one.
 */
size_t		 qw_marker_at(const char *p, size_t n, bool *partial);

/*
 * Takes the snapshot s[0..n): *delta and *dlen get the new text (in the
 * snap's own memory, valid until the next call; *dlen may be 0).
 */
enum qw_stream_err qw_snap_take(struct qw_snap *, const char *s, size_t n,
		    const char **delta, size_t *dlen);
/* The held-back text, which is text after all: handed on now. */
const char	*qw_snap_release(struct qw_snap *, size_t *n);
/* Something has been handed on. */
bool		 qw_snap_any(const struct qw_snap *);
void		 qw_snap_free(struct qw_snap *);

#endif
