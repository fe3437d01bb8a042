/*
 * render.c - one GLM snapshot part as text: its items, the search results
 * it carries and the citation markers they resolve (see stream.h for the
 * rules and render.h for the calls).
 *
 * The markers are read with a small scanner instead of a regular
 * expression: "【"? "turn" digits letters digits "】"?, each run bounded,
 * so a hostile answer costs linear time and the longest marker (and so
 * the longest text held back at the end of a delta) is GLMS_MARK_MAX
 * bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/glm/render.h"
#include "upstream/jv.h"

#define ISDIGIT(c)	((c) >= '0' && (c) <= '9')
#define ISALPHA(c)	(((c) >= 'a' && (c) <= 'z') || \
			((c) >= 'A' && (c) <= 'Z'))

/* ------------------------------------------------------------ text */

static bool
http_url(const char *s, size_t n)
{
	return s != NULL && n > 8 && n <= GLMS_URL_MAX && strlen(s) == n &&
	    (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0);
}

/* The images of a finished part: "![image](URL)" each, then "\n". */
static void
put_images(struct buf *b, json_object *list)
{
	const char	*url;
	size_t		 i, n = 0, any = 0;

	for (i = 0; json_object_is_type(list, json_type_array) &&
	    i < json_object_array_length(list) && i < GLMS_MAX_ITEMS; i++) {
		url = jv_str(jv_get(json_object_array_get_idx(
		    list, i), "image_url"), &n);
		if (!http_url(url, n))
			continue;
		buf_adds(b, "![image](");
		buf_add_mdurl(b, url, n);
		buf_adds(b, ")");
		any++;
	}
	if (any)
		buf_adds(b, "\n");
}

int
glms_render_part(json_object *part, struct buf *text, struct buf *think)
{
	json_object	*items = jv_get(part, "content"), *it, *t;
	const char	*s;
	size_t		 i, n;
	bool		 fin = jv_is(jv_get(part, "status"),
			    "finish");

	if (!json_object_is_type(items, json_type_array))
		return 0;
	if (json_object_array_length(items) > GLMS_MAX_ITEMS)
		return -1;
	for (i = 0; i < json_object_array_length(items); i++) {
		it = json_object_array_get_idx(items, i);
		t = jv_get(it, "type");
		if (jv_is(t, "text")) {
			if ((s = jv_str(jv_get(it, "text"), &n)))
				buf_add_utf8(text, s, n, SIZE_MAX, 0);
		} else if (jv_is(t, "think")) {
			if ((s = jv_str(jv_get(it, "think"), &n)))
				buf_add_utf8(think, s, n, SIZE_MAX, 0);
		} else if (jv_is(t, "image") && fin)
			put_images(text, jv_get(it, "image"));
		else if (jv_is(t, "code")) {
			if ((s = jv_str(jv_get(it, "code"),
			    &n)) == NULL)
				continue;
			buf_adds(text, "```python\n");
			buf_add_utf8(text, s, n, SIZE_MAX, 0);
			if (fin)
				buf_adds(text, "\n```\n");
		} else if (jv_is(t, "execution_output") && fin) {
			if ((s = jv_str(jv_get(it, "content"),
			    &n)) == NULL)
				continue;
			buf_add_utf8(text, s, n, SIZE_MAX, 0);
			buf_adds(text, "\n");
		}
	}
	return text->failed || think->failed ? -1 : 0;
}

/* ------------------------------------------------------------ results */

int
glms_results_add(struct glms_results *r, json_object *part)
{
	json_object	*list, *e;
	const char	*key, *url;
	struct buf	 b;
	size_t		 i, j, kl = 0, ul = 0;

	list = jv_get(jv_get(jv_get(part, "meta_data"),
	    "tool_result_extra"), "search_results");
	for (i = 0; json_object_is_type(list, json_type_array) &&
	    i < json_object_array_length(list) && r->n < GLMS_MAX_RESULTS;
	    i++) {
		e = json_object_array_get_idx(list, i);
		key = jv_str(jv_get(e, "match_key"), &kl);
		url = jv_str(jv_get(e, "url"), &ul);
		if (key == NULL || kl == 0 || kl > GLMS_KEY_MAX ||
		    strlen(key) != kl || !http_url(url, ul))
			continue;
		for (j = 0; j < r->n && strcmp(r->v[j].key, key) != 0; j++)
			;
		if (j < r->n)
			continue;	/* the first url of a key stays */
		buf_init(&b, 0);
		if (buf_add_mdurl(&b, url, ul) < 0 || buf_add(&b, "", 1) < 0) {
			buf_free(&b);
			return -1;
		}
		memcpy(r->v[r->n].key, key, kl + 1);
		r->v[r->n].url = b.p;
		r->v[r->n++].link = NULL;
	}
	return 0;
}

void
glms_results_free(struct glms_results *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].url);
		free(r->v[i].link);
	}
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ markers */

enum mark { MARK_NONE, MARK_PART, MARK_WHOLE };

/*
 * How far q[0..m) goes along a marker.  MARK_PART: all of it is the
 * start of one (more may come); MARK_WHOLE: a marker of *len bytes
 * (*key, *kl: "turn..."); MARK_NONE: no marker here.
 */
static enum mark
mark_scan(const char *q, size_t m, size_t *len, const char **key, size_t *kl)
{
	static const char	*turn = "turn";
	size_t			 i = 0, r, k, limit, start;

	if (m >= 3 && memcmp(q, GLMS_OPEN, 3) == 0)
		i = 3;
	start = i;
	for (r = 0; r < 4; r++, i++) {
		if (i == m)
			return MARK_PART;
		if (q[i] != turn[r])
			return MARK_NONE;
	}
	for (k = 0; k < 3; k++) {
		limit = k == 1 ? GLMS_LETTERS_MAX : GLMS_DIGITS_MAX;
		for (r = 0; i < m && r < limit &&
		    (k == 1 ? ISALPHA(q[i]) : ISDIGIT(q[i])); r++)
			i++;
		if (i == m)
			return MARK_PART;
		if (r == 0)
			return MARK_NONE;
	}
	if (ISDIGIT(q[i]))
		return MARK_NONE;	/* a longer number than a marker has */
	*key = q + start;
	*kl = i - start;
	if (m - i >= 3 && memcmp(q + i, GLMS_CLOSE, 3) == 0)
		i += 3;
	*len = i;
	return MARK_WHOLE;
}

static bool
mark_start(const char *p, size_t n)
{
	return *p == 't' || (n >= 3 && memcmp(p, GLMS_OPEN, 3) == 0);
}

size_t
glms_cite_tail(const char *p, size_t n)
{
	const char	*key;
	size_t		 s, len, kl;

	for (s = n > GLMS_MARK_MAX ? n - GLMS_MARK_MAX : 0; s < n; s++)
		if (mark_start(p + s, n - s) &&
		    mark_scan(p + s, n - s, &len, &key, &kl) == MARK_PART)
			return n - s;
	return 0;
}

static struct glms_result *
known(struct glms_results *r, const char *key, size_t kl)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		if (strlen(r->v[i].key) == kl &&
		    memcmp(r->v[i].key, key, kl) == 0)
			return &r->v[i];
	return NULL;
}

/* " [N](url)", N given out now if this is the key's first citation. */
static int
put_link(struct buf *out, struct glms_results *r, struct glms_result *e)
{
	size_t	 n;

	if (e->link == NULL) {
		n = strlen(e->url) + 32;
		if ((e->link = malloc(n)) == NULL)
			return -1;
		snprintf(e->link, n, " [%d](%s)", ++r->cited, e->url);
	}
	return buf_adds(out, e->link);
}

int
glms_put_cited(struct buf *out, const char *p, size_t n,
    struct glms_results *r)
{
	struct glms_result	*e;
	const char		*key;
	size_t			 i = 0, run = 0, len, kl;

	while (i < n && r->n > 0) {
		if (mark_start(p + i, n - i) &&
		    mark_scan(p + i, n - i, &len, &key, &kl) == MARK_WHOLE &&
		    (e = known(r, key, kl)) != NULL) {
			if (buf_add(out, p + run, i - run) < 0 ||
			    put_link(out, r, e) < 0)
				return -1;
			i += len;
			run = i;
		} else
			i++;
	}
	return buf_add(out, p + run, n - run);
}
