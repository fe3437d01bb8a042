/*
 * text.h - the text work of the Z.ai stream decoder (upstream/zai/
 * stream.c and text.c only): the two kinds of markup the upstream puts
 * into its deltas that a client must not see -- web-search citation
 * markers in the answer ("【...turn0search1...】", §8.5) and, from older
 * web builds, the <details type="reasoning" ...> wrapper around the
 * thinking.
 *
 * Both strippers work in place on hold + delta: they compact what is
 * plain text to the front and say how many bytes at the end might still
 * become markup once the next delta arrives; the caller keeps those back
 * (at most ZAI_HOLD_MAX bytes) and hands them in again, in front of the
 * next delta.
 */
#ifndef UPSTREAM_ZAI_TEXT_H
#define UPSTREAM_ZAI_TEXT_H

#include <stddef.h>

#define ZAI_MARK_MAX	96	/* bytes of a whole 【...】 marker */
#define ZAI_TAG_MAX	160	/* bytes of a whole <details ...> tag */
#define ZAI_HOLD_MAX	(ZAI_TAG_MAX > ZAI_MARK_MAX ? ZAI_TAG_MAX : \
			    ZAI_MARK_MAX)

/*
 * w[0..n): citation markers removed; returns the length of the plain
 * text now at w; the *hold bytes to keep back follow it.
 */
size_t	 zai_cite_strip(char *w, size_t n, size_t *hold);
/* The same for <details ...> and </details> tags. */
size_t	 zai_details_strip(char *w, size_t n, size_t *hold);

#endif
