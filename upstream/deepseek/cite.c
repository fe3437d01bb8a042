/*
 * The DeepSeek decoder's text work (see cite.h): every byte it writes is
 * valid UTF-8, citation markers are recognised even when a delta ends in
 * the middle of one, and the search results become a sources list at the
 * end of the answer, in DeepSeek's own numbering.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "upstream/deepseek/cite.h"
#include "upstream/jv.h"

#define ISDIGIT(c)	((c) >= '0' && (c) <= '9')

/* A title as markdown link text: one line, [ ] \\ escaped. */
static int
put_title(struct buf *b, const char *p, size_t n)
{
	struct buf t;
	size_t i;
	int rc;

	buf_init(&t, 0);
	/* the limit counts the title's characters, not the escapes */
	rc = buf_add_utf8(&t, p, n, DSS_TITLE_MAX, 1);
	for (i = 0; rc == 0 && i < t.len; i++)
		if ((strchr("[]\\", t.p[i]) != NULL &&
		    buf_add(b, "\\", 1) < 0) || buf_add(b, t.p + i, 1) < 0)
			rc = -1;
	buf_free(&t);
	return rc;
}

/* Length of a whole "[citation:N]" at p, or 0. */
size_t
ds_cite_at(const char *p, size_t n)
{
	size_t	 d = 0;

	if (n < 12 || memcmp(p, "[citation:", 10) != 0)
		return 0;
	while (10 + d < n && d <= DSS_CITE_DIGITS && ISDIGIT(p[10 + d]))
		d++;
	if (d == 0 || d > DSS_CITE_DIGITS || 10 + d >= n || p[10 + d] != ']')
		return 0;
	return 11 + d;
}

/*
 * Bytes at the end of p[0..n) that may still become a marker: from the
 * last '[' (a marker has only one), if what follows it is a proper
 * prefix of "[citation:" and digits.  Pure ASCII starting at '[', so
 * holding it back never cuts a character.
 */
size_t
ds_cite_tail(const char *p, size_t n)
{
	size_t	 t, i;

	for (t = 1; t <= n && t <= DSS_HOLD_MAX; t++) {
		if (p[n - t] != '[')
			continue;
		for (i = 0; i < t; i++)
			if (i < 10 ? p[n - t + i] != "[citation:"[i] :
			    !ISDIGIT(p[n - t + i]))
				return 0;
		return t;
	}
	return 0;
}

enum ds_stream_err
ds_refs_add(struct ds_refs *s, int src, json_object *v)
{
	struct ds_ref	*r;
	struct buf	 b;
	json_object	*e;
	const char	*url, *title;
	size_t		 i, ul, tl;

	if (!json_object_is_type(v, json_type_array))
		return DSS_OK;
	for (i = 0; i < json_object_array_length(v) &&
	    s->n < DSS_MAX_RESULTS; i++) {
		e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_object))
			continue;
		r = &s->v[s->n++];
		r->src = src;
		r->pos = s->npos[src] + (long)i;
		r->cite = ds_json_index(jv_get(e, "cite_index"),
		    DS_CITE_LIMIT);
		r->link = NULL;
		if ((url = jv_str(jv_get(e, "url"), &ul)) == NULL ||
		    ul > DSS_URL_MAX || !((ul > 7 &&
		    strncasecmp(url, "http://", 7) == 0) || (ul > 8 &&
		    strncasecmp(url, "https://", 8) == 0)))
			continue;	/* no link: never listed */
		if ((title = jv_str(jv_get(e, "title"), &tl)) ==
		    NULL || tl == 0) {
			title = url;
			tl = ul;
		}
		buf_init(&b, 0);
		if (buf_add(&b, "[", 1) < 0 || put_title(&b, title, tl) < 0 ||
		    buf_add(&b, "](", 2) < 0 ||
		    buf_add_mdurl(&b, url, ul) < 0 || buf_add(&b, ")", 1) < 0)
			goto fail;
		r->link = b.p;
	}
	s->npos[src] += (long)json_object_array_length(v);
	return DSS_OK;
fail:
	buf_free(&b);
	return DSS_ENOMEM;
}

void
ds_refs_cite(struct ds_refs *s, int src, long pos, long cite)
{
	size_t i;

	if (pos < 0)
		pos += s->npos[src];
	for (i = 0; i < s->n; i++)
		if (s->v[i].src == src && s->v[i].pos == pos)
			s->v[i].cite = cite;
}

enum ds_stream_err
ds_refs_list(const struct ds_refs *s, struct buf *b, int nl)
{
	const struct ds_ref	*list[DSS_MAX_RESULTS], *r;
	size_t			 n = 0, i, j;

	for (i = 0; i < s->n; i++) {
		r = &s->v[i];
		for (j = 0; j < n && list[j]->cite != r->cite; j++)
			;
		if (r->cite < 0 || r->link == NULL || j < n)
			continue;
		for (j = n++; j > 0 && list[j - 1]->cite > r->cite; j--)
			list[j] = list[j - 1];
		list[j] = r;
	}
	if (n > 0 && nl > 0)
		buf_add(b, "\n\n", (size_t)nl);
	for (i = 0; i < n; i++)
		buf_printf(b, "%s[%ld]: %s", i > 0 ? "\n" : "", list[i]->cite,
		    list[i]->link);
	return b->failed ? DSS_ENOMEM : DSS_OK;
}

void
ds_refs_free(struct ds_refs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].link);
	s->n = 0;
}

long
ds_json_index(json_object *o, long limit)
{
	int64_t	 v = json_object_get_int64(o);

	return json_object_is_type(o, json_type_int) && v >= 0 &&
	    v < limit ? (long)v : -1;
}
