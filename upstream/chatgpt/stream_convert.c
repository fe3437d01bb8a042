/*
 * stream_convert.c - the ChatGPT stream decoder's conversion of one
 * message snapshot (old format, or the current v1 document) into output:
 * cgs_convert() compares the snapshot with what was already emitted for
 * that message id and writes the difference -- text, code fences,
 * citations, reasoning, images, sandbox links, the finish reason and
 * in-stream errors.
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

/* ------------------------------------------------------------ conversion */

static bool
lang_ok(const char *p)
{
	size_t	 n;

	if (p == NULL || *p == '\0')
		return false;
	for (n = 0; p[n] != '\0'; n++) {
		char	 c = p[n];

		if (n >= LANG_MAX || !((c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '+' || c == '#' || c == '-'))
			return false;
	}
	return true;
}

static const char *
recipient_lang(const char *r)
{
	if (cgs_streq(r, "t2uay3k.sj1i4kz"))	/* the 2025 image tool */
		return "image_creator";
	return lang_ok(r) && !cgs_streq(r, "all") ? r : "";
}

static const char *
code_lang(const struct chatgpt_stream *s, json_object *content,
    json_object *msg)
{
	const char	*l = cgs_cstr(s, jv_get(content, "language"));

	if (lang_ok(l) && !cgs_streq(l, "unknown"))
		return l;
	return recipient_lang(cgs_cstr(s, jv_get(msg, "recipient")));
}

static enum chatgpt_stream_err
text_too_long(struct chatgpt_stream *s, size_t len)
{
	return len > s->o.max_text ? cgs_proto(s, "upstream text too long") :
	    CGS_OK;
}

/* A fenced block: code, execution output, text addressed to a tool. */
static enum chatgpt_stream_err
fenced(struct chatgpt_stream *s, struct cgs_msg *m, const char *t,
    size_t len, const char *lang)
{
	enum chatgpt_stream_err	 rc;
	size_t			 a, b;

	if ((rc = text_too_long(s, len)) != CGS_OK)
		return rc;
	if (!cgs_next_delta(t, len, &m->text_off, &a, &b))
		return CGS_OK;
	if (!m->seg) {
		m->seg = true;
		if ((rc = cgs_segment(s, lang)) != CGS_OK)
			return rc;
	}
	return cgs_put(s, CH_TEXT, t + a, b - a);
}

/* Percent-encode what would break a markdown link target. */
static enum chatgpt_stream_err
put_url(struct chatgpt_stream *s, const char *u)
{
	static const char	 hex[] = "0123456789ABCDEF";
	enum chatgpt_stream_err	 rc;
	char			 esc[3];
	size_t			 run = 0;

	for (; u[run] != '\0' || run > 0; ) {
		unsigned char	 c = (unsigned char)u[run];

		if (c != '\0' && c > 0x20 && c != 0x7f && c != '(' &&
		    c != ')' && c != '<' && c != '>' && c != '"' &&
		    c != '\\' && c != '`' && c != '[' && c != ']') {
			run++;
			continue;
		}
		if ((rc = cgs_put(s, CH_TEXT, u, run)) != CGS_OK)
			return rc;
		if (c == '\0')
			break;
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if ((rc = cgs_put(s, CH_TEXT, esc, 3)) != CGS_OK)
			return rc;
		u += run + 1;
		run = 0;
	}
	return CGS_OK;
}

static bool
url_ok(const char *u, size_t len)
{
	return u != NULL && strlen(u) == len && len <= URL_MAX &&
	    (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0);
}

/* Link text: no brackets or backslashes unescaped, no control bytes. */
static enum chatgpt_stream_err
put_title(struct chatgpt_stream *s, const char *t, size_t len)
{
	enum chatgpt_stream_err	 rc;
	size_t			 i, run = 0;

	if (len > TITLE_MAX)
		len = cgs_u8_complete(t, TITLE_MAX);
	for (i = 0; i <= len; i++) {
		unsigned char	 c = i < len ? (unsigned char)t[i] : 0;

		if (i < len && c >= 0x20 && c != '[' && c != ']' &&
		    c != '\\' && c != 0x7f)
			continue;
		if ((rc = cgs_put(s, CH_TEXT, t + run, i - run)) != CGS_OK)
			return rc;
		run = i + 1;
		if (i == len)
			break;
		if (c == '[' || c == ']' || c == '\\') {
			char	 e[2] = { '\\', (char)c };

			rc = cgs_put(s, CH_TEXT, e, 2);
		} else
			rc = cgs_put(s, CH_TEXT, " ", 1);
		if (rc != CGS_OK)
			return rc;
	}
	return CGS_OK;
}

static enum chatgpt_stream_err
citation(struct chatgpt_stream *s, struct cgs_msg *m, json_object *c)
{
	json_object		*md = jv_get(c, "metadata");
	const char		*url, *title;
	size_t			 ulen, tlen;
	enum chatgpt_stream_err	 rc;

	url = cgs_str(s, jv_get(md, "url"), &ulen);
	if (!url_ok(url, ulen))
		return CGS_OK;
	title = cgs_str(s, jv_get(md, "title"), &tlen);
	if (title == NULL || tlen == 0) {
		title = url;
		tlen = ulen;
	}
	if (!m->seg) {
		m->seg = true;
		if ((rc = cgs_segment(s, NULL)) != CGS_OK)
			return rc;
	}
	if ((rc = cgs_puts_(s, CH_TEXT, " [")) != CGS_OK ||
	    (rc = put_title(s, title, tlen)) != CGS_OK ||
	    (rc = cgs_puts_(s, CH_TEXT, "](")) != CGS_OK ||
	    (rc = put_url(s, url)) != CGS_OK)
		return rc;
	return cgs_puts_(s, CH_TEXT, ")");
}

static enum chatgpt_stream_err
text_message(struct chatgpt_stream *s, struct cgs_msg *m, json_object *msg,
    const char *t, size_t len)
{
	const char		*rcpt = cgs_cstr(s, jv_get(msg, "recipient"));
	json_object		*cits;
	enum chatgpt_stream_err	 rc;
	size_t			 a, b, n;

	if (rcpt != NULL && !cgs_streq(rcpt, "all"))
		return fenced(s, m, t, len, recipient_lang(rcpt));
	if ((rc = text_too_long(s, len)) != CGS_OK)
		return rc;
	if (cgs_next_delta(t, len, &m->text_off, &a, &b)) {
		if (!m->seg) {
			m->seg = true;
			if ((rc = cgs_segment(s, NULL)) != CGS_OK)
				return rc;
		}
		if ((rc = cgs_put(s, CH_TEXT, t + a, b - a)) != CGS_OK)
			return rc;
	}
	cits = jv_get(jv_get(msg, "metadata"), "citations");
	if (!json_object_is_type(cits, json_type_array))
		return CGS_OK;
	n = json_object_array_length(cits);
	for (; m->cit_seen < n; m->cit_seen++)
		if ((rc = citation(s, m, json_object_array_get_idx(cits,
		    m->cit_seen))) != CGS_OK)
			return rc;
	m->cit_seen = n;
	return CGS_OK;
}

static enum chatgpt_stream_err
reason(struct chatgpt_stream *s, struct cgs_msg *m, const char *t,
    size_t len, size_t *off)
{
	enum chatgpt_stream_err	 rc;
	size_t			 a, b;

	if ((rc = text_too_long(s, len)) != CGS_OK)
		return rc;
	if (!cgs_next_delta(t, len, off, &a, &b))
		return CGS_OK;
	if (!m->rseg) {
		m->rseg = true;
		if ((rc = cgs_sep(s, CH_REASON, 2)) != CGS_OK)
			return rc;
	}
	return cgs_put(s, CH_REASON, t + a, b - a);
}

static enum chatgpt_stream_err
thoughts(struct chatgpt_stream *s, struct cgs_msg *m, json_object *arr)
{
	enum chatgpt_stream_err	 rc;
	size_t			 n, j, len;
	const char		*t;

	if (!json_object_is_type(arr, json_type_array))
		return CGS_OK;
	n = json_object_array_length(arr);
	for (j = m->th_idx; j < n; j++) {
		if (j != m->th_idx) {
			m->th_idx = j;
			m->th_off = 0;
			m->rseg = false;
		}
		t = cgs_str(s, jv_get(json_object_array_get_idx(arr, j), "content"),
		    &len);
		if (t != NULL &&
		    (rc = reason(s, m, t, len, &m->th_off)) != CGS_OK)
			return rc;
	}
	return CGS_OK;
}

static bool
asset_id_ok(const char *p)
{
	size_t	 n;

	for (n = 0; p[n] != '\0'; n++) {
		char	 c = p[n];

		if (n >= ASSET_ID_MAX || !((c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

static enum chatgpt_stream_err
image(struct chatgpt_stream *s, const char *ptr, const char *msg_id)
{
	static const char	 fs[] = "file-service://", sd[] = "sediment://";
	enum chatgpt_asset	 kind = CHATGPT_ASSET_FILE_SERVICE;
	enum chatgpt_stream_err	 rc;
	const char		*id = NULL;
	char			*url = NULL;
	bool			 ok = false;

	if (strncmp(ptr, fs, sizeof(fs) - 1) == 0) {
		kind = CHATGPT_ASSET_FILE_SERVICE;
		id = ptr + sizeof(fs) - 1;
	} else if (strncmp(ptr, sd, sizeof(sd) - 1) == 0) {
		kind = CHATGPT_ASSET_SEDIMENT;
		id = ptr + sizeof(sd) - 1;
	}
	if (id != NULL && asset_id_ok(id) && s->o.resolve_image != NULL) {
		/* the resolver does HTTP: let the client have the text first */
		if ((rc = cgs_flush(s)) != CGS_OK)
			return rc;
		ok = s->o.resolve_image(s->o.resolve_ctx, kind, id, s->conv_id,
		    msg_id, &url) == 0 && url != NULL &&
		    url_ok(url, strlen(url));
	}
	if ((rc = cgs_segment(s, NULL)) == CGS_OK) {
		if (ok && (rc = cgs_puts_(s, CH_TEXT, "![image](")) == CGS_OK &&
		    (rc = put_url(s, url)) == CGS_OK)
			rc = cgs_puts_(s, CH_TEXT, ")\n");
		else if (!ok)
			rc = cgs_puts_(s, CH_TEXT, "Failed to load the image.\n");
	}
	free(url);
	return rc;
}

static enum chatgpt_stream_err
images(struct chatgpt_stream *s, struct cgs_msg *m, json_object *parts,
    const char *msg_id)
{
	enum chatgpt_stream_err	 rc;
	size_t			 n;

	if (!json_object_is_type(parts, json_type_array))
		return CGS_OK;
	n = json_object_array_length(parts);
	for (; m->img_done < n; m->img_done++) {
		json_object	*p = json_object_array_get_idx(parts,
				    m->img_done);
		const char	*ptr = cgs_cstr(s, jv_get(p, "asset_pointer"));

		if (!cgs_streq(cgs_cstr(s, jv_get(p, "content_type")),
		    "image_asset_pointer") || ptr == NULL)
			continue;
		if ((rc = image(s, ptr, msg_id)) != CGS_OK)
			return rc;
	}
	return CGS_OK;
}

/* The sandbox path at p (after "(sandbox:"), up to ')': its length or 0. */
static size_t
sandbox_path(const char *p, size_t avail)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 i = 0, k;

	if (avail == 0 || p[0] != '/')
		return 0;
	while (i < avail && p[i] != ')') {
		if (i >= SANDBOX_MAX || u[i] <= 0x20 || u[i] == 0x7f ||
		    strchr("(<>\"'\\`[]", p[i]) != NULL ||
		    (k = utf8_seq_len(u + i, avail - i)) == 0)
			return 0;
		i += k;
	}
	if (i == avail)
		return 0;
	for (k = 0; k + 1 < i; k++)	/* no ".." anywhere */
		if (p[k] == '.' && p[k + 1] == '.')
			return 0;
	return i;
}

/* §5.4 (c): list download links for the answer's (sandbox:PATH) links. */
static enum chatgpt_stream_err
sandbox_links(struct chatgpt_stream *s, const char *t, size_t len,
    const char *msg_id)
{
	static const char	 tag[] = "(sandbox:";
	enum chatgpt_stream_err	 rc;
	const char		*seen[CGS_MAX_SANDBOX];
	size_t			 seen_len[CGS_MAX_SANDBOX], nseen = 0;
	size_t			 i, n, j;
	bool			 first = true;

	if (t == NULL || s->o.resolve_image == NULL)
		return CGS_OK;
	for (i = 0; i + sizeof(tag) - 1 < len && nseen < CGS_MAX_SANDBOX;
	    i++) {
		const char	*p = t + i + sizeof(tag) - 1, *base;
		char		*path, *url = NULL;
		bool		 ok;

		if (memcmp(t + i, tag, sizeof(tag) - 1) != 0 ||
		    (n = sandbox_path(p, len - i - (sizeof(tag) - 1))) == 0)
			continue;
		for (j = 0; j < nseen; j++)
			if (seen_len[j] == n && memcmp(seen[j], p, n) == 0)
				break;
		if (j < nseen)
			continue;
		seen[nseen] = p;
		seen_len[nseen++] = n;
		if ((path = strndup(p, n)) == NULL)
			return CGS_ENOMEM;
		if ((rc = cgs_flush(s)) != CGS_OK) {
			free(path);
			return rc;
		}
		ok = s->o.resolve_image(s->o.resolve_ctx,
		    CHATGPT_ASSET_SANDBOX, path, s->conv_id, msg_id, &url) == 0 &&
		    url != NULL && url_ok(url, strlen(url));
		for (base = path + n; base > path && base[-1] != '/'; base--)
			;
		rc = CGS_OK;
		if (ok && first) {
			first = false;
			rc = cgs_segment(s, NULL);
		}
		if (ok && rc == CGS_OK &&
		    (rc = cgs_puts_(s, CH_TEXT, "[")) == CGS_OK &&
		    (rc = put_title(s, *base ? base : path,
		    strlen(*base ? base : path))) == CGS_OK &&
		    (rc = cgs_puts_(s, CH_TEXT, "](")) == CGS_OK &&
		    (rc = put_url(s, url)) == CGS_OK)
			rc = cgs_puts_(s, CH_TEXT, ")\n");
		free(url);
		free(path);
		if (rc != CGS_OK)
			return rc;
		i += sizeof(tag) - 1 + n;
	}
	return CGS_OK;
}

/* The finish decision for a finished message; 0 = not the end. */
static int
finish_reason(struct chatgpt_stream *s, json_object *msg,
    enum chat_finish *reason)
{
	json_object	*et = jv_get(msg, "end_turn");
	const char	*fd;

	fd = cgs_cstr(s, jv_get(jv_get(jv_get(msg, "metadata"), "finish_details"),
	    "type"));
	*reason = CHAT_FINISH_STOP;
	if (cgs_streq(fd, "max_tokens")) {
		*reason = CHAT_FINISH_LENGTH;
		return 1;
	}
	return (json_object_is_type(et, json_type_boolean) &&
	    json_object_get_boolean(et)) || cgs_streq(fd, "interrupted");
}

/* {"message": null, "error": ...}: before the start only remembered. */
static enum chatgpt_stream_err
upstream_error(struct chatgpt_stream *s, json_object *e)
{
	const char	*text = NULL, *code = NULL;
	size_t		 len = 0, cut;
	struct buf	 b;
	char		*copy;

	if (json_object_is_type(e, json_type_string))
		text = cgs_str(s, e, &len);
	else if (json_object_is_type(e, json_type_object)) {
		if ((text = cgs_str(s, jv_get(e, "message"), &len)) == NULL)
			text = cgs_str(s, jv_get(e, "detail"), &len);
		code = cgs_cstr(s, jv_get(e, "code"));
		if (!cgs_id_ok(code))
			code = NULL;
	}
	if (text == NULL || len == 0) {
		text = json_object_to_json_string_ext(e,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		len = text ? strlen(text) : 0;
	}
	if (text == NULL || len == 0) {
		text = "upstream error";
		len = strlen(text);
	}
	cut = len > ERRMSG_MAX ? cgs_u8_complete(text, ERRMSG_MAX) : len;
	/* keep valid UTF-8 and no control bytes: it ends up in JSON and logs */
	buf_init(&b, 0);
	if (buf_add_utf8(&b, text, cut, SIZE_MAX, 1) < 0 ||
	    buf_add(&b, "", 0) < 0) {
		buf_free(&b);
		return CGS_ENOMEM;
	}
	copy = b.p;
	free(s->up_err);
	s->up_err = copy;
	if (s->started && cgs_sink_error(s, code, copy) == CGS_ABORT)
		return CGS_ABORT;
	s->err = CGS_UPSTREAM;
	return CGS_UPSTREAM;
}

/* One snapshot document: the §5.4 conversion. */
enum chatgpt_stream_err
cgs_convert(struct chatgpt_stream *s, json_object *doc)
{
	json_object		*msg, *content, *e;
	const char		*role, *status, *ctype, *id, *t;
	struct cgs_msg		*m;
	enum chatgpt_stream_err	 rc = CGS_OK;
	enum chat_finish	 fr;
	bool			 tool, in_prog, fin;
	size_t			 len = 0;

	if (s->terminal || !json_object_is_type(doc, json_type_object))
		return CGS_OK;
	msg = jv_get(doc, "message");
	if (!json_object_is_type(msg, json_type_object)) {
		if ((e = jv_get(doc, "error")) != NULL)
			return upstream_error(s, e);
		return CGS_OK;
	}
	if ((rc = cgs_note_conv(s, doc)) != CGS_OK)
		return rc;
	role = cgs_cstr(s, jv_get(jv_get(msg, "author"), "role"));
	if (cgs_streq(role, "assistant"))
		tool = false;
	else if (cgs_streq(role, "tool"))
		tool = true;
	else {
		/* user, system, unknown; the first two never will be */
		s->unread = cgs_streq(role, "user") ||
		    cgs_streq(role, "system");
		return CGS_OK;
	}
	status = cgs_cstr(s, jv_get(msg, "status"));
	in_prog = cgs_streq(status, "in_progress");
	fin = status != NULL && strncmp(status, "finished", 8) == 0;
	if (!s->started) {
		if (!in_prog)
			return CGS_OK;
		if ((rc = cgs_start(s)) != CGS_OK)
			return rc;
	}
	if ((id = cgs_cstr(s, jv_get(msg, "id"))) == NULL)
		id = "";
	if ((rc = cgs_msg_state(s, id, &m)) != CGS_OK)
		return rc;
	if (m->finished)
		return CGS_OK;
	if ((rc = cgs_meta(s, id)) != CGS_OK)
		return rc;
	if (in_prog)
		m->streamed = true;
	content = jv_get(msg, "content");
	ctype = cgs_cstr(s, jv_get(content, "content_type"));
	t = NULL;
	if (cgs_streq(ctype, "text")) {
		e = jv_get(content, "parts");
		t = NULL;
		len = 0;
		if (json_object_is_type(e, json_type_array) &&
		    json_object_array_length(e) > 0)
			t = cgs_str(s, json_object_array_get_idx(e, 0), &len);
		if (tool) {
			if (m->streamed)
				rc = reason(s, m, t, len, &m->text_off);
		} else
			rc = text_message(s, m, msg, t, len);
	} else if (cgs_streq(ctype, "code")) {
		t = cgs_str(s, jv_get(content, "text"), &len);
		rc = fenced(s, m, t, len, code_lang(s, content, msg));
	} else if (cgs_streq(ctype, "execution_output")) {
		t = cgs_str(s, jv_get(content, "text"), &len);
		rc = fenced(s, m, t, len, "Output");
	} else if (cgs_streq(ctype, "multimodal_text")) {
		if (fin)
			rc = images(s, m, jv_get(content, "parts"), id);
	} else if (cgs_streq(ctype, "thoughts"))
		rc = thoughts(s, m, jv_get(content, "thoughts"));
	if (rc != CGS_OK || !fin)
		return rc;
	m->finished = true;
	if (!finish_reason(s, msg, &fr))
		return CGS_OK;
	if (!tool && cgs_streq(ctype, "text") &&
	    (rc = sandbox_links(s, t, len, id)) != CGS_OK)
		return rc;
	return cgs_finish(s, fr);
}
