/*
 * render.h - what the GLM decoder makes of one snapshot part (shared by
 * upstream/glm/stream.c and render.c only): the part's text and
 * reasoning as clean UTF-8, the search results it carries, and the
 * citation markers of the answer replaced by numbered links.  The rules
 * are stream.h's.
 */
#ifndef UPSTREAM_GLM_RENDER_H
#define UPSTREAM_GLM_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "upstream/glm/stream.h"

/* "【" and "】" (U+3010, U+3011) around a citation marker */
#define GLMS_OPEN		"\xe3\x80\x90"
#define GLMS_CLOSE		"\xe3\x80\x91"
#define GLMS_DIGITS_MAX		6	/* a run of digits in a marker */
#define GLMS_LETTERS_MAX	16	/* the letters between them */
/* the longest marker: 【 turn D L D 】 */
#define GLMS_MARK_MAX		(3 + 4 + 2 * GLMS_DIGITS_MAX + \
				GLMS_LETTERS_MAX + 3)

struct glms_result {
	char	 key[GLMS_KEY_MAX + 1];
	char	*link;		/* " [N](url)" once cited, else NULL */
	char	*url;		/* escaped for a markdown link */
};

struct glms_results {
	struct glms_result	 v[GLMS_MAX_RESULTS];
	size_t			 n;
	int			 cited;		/* numbers given out */
};

/* Search results of a part's meta_data (new keys only); 0 or -1 (OOM). */
int		 glms_results_add(struct glms_results *, json_object *part);
void		 glms_results_free(struct glms_results *);

/*
 * A part's text and reasoning appended to text and think (cleared by the
 * caller); 0, or -1 when a buffer failed (out of memory or over its
 * maximum) or the part has more than GLMS_MAX_ITEMS items.
 */
int		 glms_render_part(json_object *part, struct buf *text,
		    struct buf *think);

/*
 * Answer text p[0..n) appended to out with the markers of known results
 * replaced (numbers given out as they are first met); 0 or -1.
 */
int		 glms_put_cited(struct buf *out, const char *p, size_t n,
		    struct glms_results *);

/* Bytes at the end of p[0..n) that may still become a marker. */
size_t		 glms_cite_tail(const char *p, size_t n);

#endif
