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

#include "fcgi/utf8.h"
#include "upstream/deepseek/cite.h"
#include "upstream/jv.h"

#define ISDIGIT(c)	((c) >= '0' && (c) <= '9')

enum ds_stream_err
ds_buf_add(struct ds_buf *b, const char *p, size_t n)
{
	size_t	 ncap;
	char	*np;

	if (n > SIZE_MAX / 4 - b->len)
		return DSS_ENOMEM;
	if (b->len + n + 1 > b->cap) {
		for (ncap = b->cap ? b->cap : 256; ncap < b->len + n + 1; )
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return DSS_ENOMEM;
		b->p = np;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return DSS_OK;
}

/*
 * Append p[0..n) as valid UTF-8 (every byte that starts no valid
 * character becomes U+FFFD), at most max bytes of it, cut between
 * characters.  DS_CLEAN_LINE and DS_CLEAN_TITLE also turn controls into spaces;
 * DS_CLEAN_TITLE escapes [ ] \ for a markdown link text.
 */
enum ds_stream_err
ds_put_clean(struct ds_buf *b, const char *p, size_t n, size_t max, enum ds_clean m)
{
	const unsigned char	*u = (const unsigned char *)p;
	const char		*c;
	size_t			 i, k, w, used = 0;

	for (i = 0; i < n; i += k ? k : 1) {
		c = p + i;
		if ((w = k = utf8_seq_len(u + i, n - i)) == 0) {
			c = "\xef\xbf\xbd";
			w = 3;
		}
		if (w > max - used)
			break;
		used += w;
		if (m != DS_CLEAN_TEXT && w == 1 && (u[i] < 0x20 || u[i] == 0x7f))
			c = " ";
		if ((m == DS_CLEAN_TITLE && w == 1 && strchr("[]\\", *c) != NULL &&
		    ds_buf_add(b, "\\", 1) != DSS_OK) || ds_buf_add(b, c, w) != DSS_OK)
			return DSS_ENOMEM;
	}
	return DSS_OK;
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
	struct ds_buf	 b;
	json_object	*e;
	const char	*url, *title;
	size_t		 i, j, ul, tl;
	char		 x[4];
	bool		 esc;

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
		memset(&b, 0, sizeof(b));
		if (ds_buf_add(&b, "[", 1) != DSS_OK || ds_put_clean(&b, title, tl,
		    DSS_TITLE_MAX, DS_CLEAN_TITLE) != DSS_OK ||
		    ds_buf_add(&b, "](", 2) != DSS_OK)
			goto fail;
		/* %-escape what would end the link, and non-ASCII bytes */
		for (j = 0; j < ul; j++) {
			esc = (unsigned char)url[j] <= 0x20 ||
			    (unsigned char)url[j] >= 0x7f ||
			    strchr("()<>\"`[]\\", url[j]) != NULL;
			snprintf(x, sizeof(x), "%%%02X", (unsigned char)url[j]);
			if (ds_buf_add(&b, esc ? x : url + j, esc ? 3 : 1) !=
			    DSS_OK)
				goto fail;
		}
		if (ds_buf_add(&b, ")", 1) != DSS_OK)
			goto fail;
		r->link = b.p;
	}
	s->npos[src] += (long)json_object_array_length(v);
	return DSS_OK;
fail:
	free(b.p);
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
ds_refs_list(const struct ds_refs *s, struct ds_buf *b, int nl)
{
	const struct ds_ref	*list[DSS_MAX_RESULTS], *r;
	char			 num[40];
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
	if (n > 0 && nl > 0 && ds_buf_add(b, "\n\n", (size_t)nl) != DSS_OK)
		return DSS_ENOMEM;
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%s[%ld]: ", i > 0 ? "\n" : "",
		    list[i]->cite);
		if (ds_buf_add(b, num, strlen(num)) != DSS_OK ||
		    ds_buf_add(b, list[i]->link, strlen(list[i]->link)) !=
		    DSS_OK)
			return DSS_ENOMEM;
	}
	return DSS_OK;
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
