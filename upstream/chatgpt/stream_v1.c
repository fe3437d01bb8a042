/*
 * stream_v1.c - the ChatGPT stream decoder's v1 delta format: typed
 * events, the documents the deltas patch (jpatch.c), and the fast path
 * that decodes flat v1 lines without json-c.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "fcgi/utf8.h"
#include "upstream/chatgpt/jpatch.h"
#include "upstream/chatgpt/skim.h"
#include "upstream/jv.h"
#include "upstream/chatgpt/stream_internal.h"

/* ------------------------------------------------------------ events */

enum chatgpt_stream_err
cgs_typed(struct chatgpt_stream *s, json_object *o, const char *type)
{
	enum chatgpt_stream_err	 rc;
	json_object		*mr, *bl;

	if (cgs_streq(type, "moderation")) {
		mr = jv_get(o, "moderation_response");
		bl = jv_get(mr, "blocked");
		if (json_object_is_type(mr, json_type_object) &&
		    !(json_object_is_type(bl, json_type_boolean) &&
		    json_object_get_boolean(bl)))
			return CGS_OK;	/* flagged at most: goes on */
		if (!s->started && (rc = cgs_start(s)) != CGS_OK)
			return rc;
		if ((rc = cgs_fence_close(s)) != CGS_OK ||
		    (rc = cgs_sep(s, CH_TEXT, 2)) != CGS_OK ||
		    (rc = cgs_puts_(s, CH_TEXT, CHATGPT_MODERATION_TEXT)) != CGS_OK)
			return rc;
		return cgs_finish(s, CHAT_FINISH_CONTENT_FILTER);
	}
	if (cgs_streq(type, "message_stream_complete") && s->started)
		return cgs_finish(s, CHAT_FINISH_STOP);
	return CGS_OK;
}

static struct cgs_doc *
doc_find(struct chatgpt_stream *s, long c)
{
	for (size_t i = 0; i < s->ndocs; i++)
		if (s->docs[i].live && s->docs[i].c == c) {
			s->docs[i].used = ++s->tick;
			return &s->docs[i];
		}
	return NULL;
}

/*
 * A slot for a new document c: a free one, a new one, or the least
 * recently used one's.  NULL only when out of memory before any.  (It
 * may move the table: no other slot pointer is held across it.)
 */
static struct cgs_doc *
doc_slot(struct chatgpt_stream *s, long c)
{
	struct cgs_doc	*d = NULL;
	long		 k;

	for (size_t i = 0; i < s->ndocs; i++) {
		if (!s->docs[i].live) {
			d = &s->docs[i];
			break;
		}
		if (d == NULL || s->docs[i].used < d->used)
			d = &s->docs[i];
	}
	if ((d == NULL || d->live) && (k = cgs_table_grow((void **)&s->docs,
	    &s->ndocs, sizeof(*s->docs), CGS_MAX_DOCS)) >= 0)
		d = &s->docs[k];
	else if (d != NULL && d->live && s->ndocs < CGS_MAX_DOCS)
		return NULL;	/* out of memory: keep the live ones */
	if (d == NULL)
		return NULL;
	json_object_put(d->doc);
	s->doc_bytes -= d->bytes;
	memset(d, 0, sizeof(*d));
	d->live = true;
	d->c = c;
	d->used = ++s->tick;
	return d;
}

/*
 * A document is kept for the stream's life: only what the conversion
 * reads, in json-c tables no larger than their members.
 */
static void
doc_keep(json_object *doc)
{
	skim_prune(doc, &cgs_doc_spec);
	jv_compact(doc);
}

/*
 * The conversion of document d.  The echo of the user's message (and a
 * system message) stays in the stream for good but is never answered:
 * its tree goes, and so do the deltas that patch it (a parked stream
 * keeps ~5 kB less, BENCHMARKS.md §20).
 */
static enum chatgpt_stream_err
doc_convert(struct chatgpt_stream *s, struct cgs_doc *d)
{
	enum chatgpt_stream_err	 rc;

	s->unread = false;
	rc = cgs_convert(s, d->doc);
	if (s->unread) {
		json_object_put(d->doc);
		d->doc = NULL;
		d->unread = true;
	}
	return rc;
}

static enum chatgpt_stream_err
doc_account(struct chatgpt_stream *s, struct cgs_doc *d, size_t n)
{
	d->bytes += n;
	s->doc_bytes += n;
	if (s->doc_bytes > s->o.max_doc_bytes)
		return cgs_proto(s, "upstream documents too large");
	return CGS_OK;
}

/*
 * Apply one patch line to the current document: a parsed line object, or
 * (line == NULL) the fast path's pieces with the value v.
 */
static enum chatgpt_stream_err
patch_current(struct chatgpt_stream *s, json_object *line,
    const struct fast_line *fl, json_object *v, size_t evlen)
{
	struct cgs_doc		*d;
	json_object		*root, *before;
	enum chatgpt_stream_err	 rc;
	enum jp_err		 e;

	d = doc_find(s, s->cur_c);
	if (d != NULL && d->unread)
		return CGS_OK;
	root = before = d != NULL ? d->doc : NULL;
	if (line != NULL)
		e = jp_line(&s->jp, &root, line);
	else
		e = jp_line_parts(&s->jp, &root,
		    fl->has[FL_P] ? s->fbuf + fl->off[FL_P] : NULL,
		    fl->len[FL_P],
		    fl->has[FL_O] ? s->fbuf + fl->off[FL_O] : NULL,
		    fl->len[FL_O], v);
	if (root != before && root != NULL)
		doc_keep(root);	/* a whole new document */
	if (d == NULL && root != NULL &&
	    (d = doc_slot(s, s->cur_c)) == NULL) {
		json_object_put(root);
		return CGS_ENOMEM;
	}
	if (d != NULL)
		d->doc = root;
	switch (e) {
	case JP_OK:
		break;
	case JP_ENOMEM:
		return CGS_ENOMEM;
	case JP_ELIMIT:
		return cgs_proto(s, "upstream delta exceeds a limit");
	default:
		s->skipped++;
		break;
	}
	if (d == NULL)
		return CGS_OK;
	if ((rc = doc_account(s, d, evlen)) != CGS_OK)
		return rc;
	return doc_convert(s, d);
}

/* One v1 delta line. */
enum chatgpt_stream_err
cgs_delta(struct chatgpt_stream *s, json_object *o, size_t evlen)
{
	json_object		*jc = NULL, *jv = jv_get(o, "v"), *jp_ = NULL,
				*jo = NULL;
	struct cgs_doc		*d;
	enum chatgpt_stream_err	 rc;
	bool			 has_p, has_o;

	if (json_object_object_get_ex(o, "c", &jc)) {
		int64_t	 c;

		if (!json_object_is_type(jc, json_type_int) ||
		    (c = json_object_get_int64(jc)) < 0 || c > CGS_MAX_C)
			return cgs_proto(s, "bad upstream document number");
		s->cur_c = (long)c;
		has_p = json_object_object_get_ex(o, "p", &jp_);
		has_o = json_object_object_get_ex(o, "o", &jo);
		if (json_object_is_type(jv, json_type_object) &&
		    (!has_p || (json_object_is_type(jp_, json_type_string) &&
		    json_object_get_string_len(jp_) == 0)) &&
		    (!has_o || cgs_streq(cgs_cstr(s, jo), "add") ||
		    cgs_streq(cgs_cstr(s, jo), "replace"))) {
			if ((d = doc_find(s, s->cur_c)) == NULL &&
			    (d = doc_slot(s, s->cur_c)) == NULL)
				return CGS_ENOMEM;
			json_object_put(d->doc);
			s->doc_bytes -= d->bytes;
			d->bytes = 0;
			d->unread = false;
			d->doc = json_object_get(jv);
			doc_keep(d->doc);
			if ((rc = doc_account(s, d, evlen)) != CGS_OK)
				return rc;
			return doc_convert(s, d);
		}
	}
	return patch_current(s, o, NULL, NULL, evlen);
}

/* ------------------------------------------------------------ v1 fast path */

/*
 * Nearly every v1 event is {"v":"text"} or {"p":"..","o":"..","v":".."}.
 * json-c 0.16 spends about 3 us in every json_tokener_parse_ex() call
 * whatever the input (it switches the C locale each time), several times
 * the rest of the work per event, so lines of exactly that shape -- an
 * object whose keys are a subset of p, o, v with v present, no key twice,
 * string values -- are decoded here.  Anything else (other keys or types,
 * control bytes, \u0000, unpaired surrogates, odd escapes, bad syntax)
 * goes to skim.c and then json-c, and what this accepts json-c would read
 * the same way (opts.json_only turns the fast path off, for tests).
 */
/* Decode the string at d[*ip] onto s->fbuf (room was reserved). */
static bool
fast_string(struct chatgpt_stream *s, const char *d, size_t n, size_t *ip,
    size_t *off, size_t *len)
{
	*off = s->fblen;
	if (!skim_string(d, n, ip, s->fbuf + s->fblen, len))
		return false;
	s->fblen += *len;
	return true;
}

/* 1: decoded into *fl, 0: not for the fast path, -1: out of memory. */
int
cgs_fast_line(struct chatgpt_stream *s, const char *d, size_t n,
    struct fast_line *fl)
{
	size_t	 i = 1, koff, klen;
	int	 k;

	memset(fl, 0, sizeof(*fl));
	if (n < 2 || d[0] != '{')
		return 0;
	/* decoding never grows a string, so n bytes hold all of them */
	if (n + 1 > s->fbcap) {
		char	*nb = realloc(s->fbuf, n + 1);

		if (nb == NULL)
			return -1;
		s->fbuf = nb;
		s->fbcap = n + 1;
	}
	s->fblen = 0;
	for (;;) {
		i = skim_ws(d, n, i);
		if (i >= n || d[i] != '"' ||
		    !fast_string(s, d, n, &i, &koff, &klen) || klen != 1)
			return 0;
		switch (s->fbuf[koff]) {
		case 'p':
			k = FL_P;
			break;
		case 'o':
			k = FL_O;
			break;
		case 'v':
			k = FL_V;
			break;
		default:
			return 0;
		}
		if (fl->has[k])
			return 0;
		s->fblen = koff;	/* the key is not needed */
		i = skim_ws(d, n, i);
		if (i >= n || d[i] != ':')
			return 0;
		i = skim_ws(d, n, i + 1);
		if (i >= n || d[i] != '"' ||
		    !fast_string(s, d, n, &i, &fl->off[k], &fl->len[k]))
			return 0;
		fl->has[k] = true;
		i = skim_ws(d, n, i);
		if (i < n && d[i] == ',') {
			i++;
			continue;
		}
		if (i < n && d[i] == '}')
			break;
		return 0;
	}
	return i + 1 == n && fl->has[FL_V];
}

enum chatgpt_stream_err
cgs_fast_apply(struct chatgpt_stream *s, const struct fast_line *fl, size_t n)
{
	enum chatgpt_stream_err	 rc;
	json_object		*v;

	v = json_object_new_string_len(s->fbuf + fl->off[FL_V],
	    (int)fl->len[FL_V]);
	if (v == NULL)
		return CGS_ENOMEM;
	rc = patch_current(s, NULL, fl, v, n);
	json_object_put(v);
	return rc;
}
