/*
 * What the DeepSeek decoder writes besides the deltas themselves (shared
 * by upstream/deepseek/stream.c and cite.c only): the [citation:N]
 * markers it rewrites and the search results it keeps and lists at the
 * end of the answer.
 */
#ifndef UPSTREAM_DEEPSEEK_CITE_H
#define UPSTREAM_DEEPSEEK_CITE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "upstream/deepseek/stream.h"

#define DS_REFS_OLD	DSS_MAX_FRAGMENTS	/* response/search_results */
#define DS_CITE_LIMIT	1000000			/* cite_index we believe */

struct ds_ref {
	int	 src;		/* fragment index, or DS_REFS_OLD */
	long	 pos;		/* index in that source's list */
	long	 cite;		/* -1: none */
	char	*link;		/* "[title](url)"; NULL: no usable url */
};

struct ds_refs {
	struct ds_ref	 v[DSS_MAX_RESULTS];
	size_t		 n;
	long		 npos[DS_REFS_OLD + 1];	/* list length per source */
};

/* Length of a whole "[citation:N]" at p, or 0. */
size_t		 ds_cite_at(const char *p, size_t n);
/* Bytes at the end of p[0..n) that may still become a marker. */
size_t		 ds_cite_tail(const char *p, size_t n);

/* A list of {url, title, cite_index} of source src, its links made. */
enum ds_stream_err ds_refs_add(struct ds_refs *, int src, json_object *);
/* A cite_index set later, by position (negative: from the end). */
void		 ds_refs_cite(struct ds_refs *, int src, long pos, long cite);
/*
 * "[N]: [title](url)" lines sorted by N, the first result per N, after
 * nl newlines (to make a blank line after the answer); nothing when no
 * result has a citation number and a link.
 */
enum ds_stream_err ds_refs_list(const struct ds_refs *, struct buf *,
		    int nl);
void		 ds_refs_free(struct ds_refs *);

/* A non-negative integer below limit, or -1. */
long		 ds_json_index(json_object *, long limit);

#endif
