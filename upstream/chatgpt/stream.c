/*
 * stream.c - ChatGPT conversation stream decoder; see stream.h for the
 * contract and the conversion rules.
 *
 * Layout: event() classifies one SSE event; v1 deltas update documents
 * (jpatch.c) and then the current document, like every old-format event,
 * goes through convert(), which compares the snapshot with what was
 * already emitted for that message id and writes the difference.  Flat
 * v1 lines skip json-c's parser (fast_line(); see the comment there).
 *
 * Output is collected per event in one pending buffer (one channel at a
 * time) and flushed to the sink at the end of the event or before any
 * other sink call, so a separator, a text delta and a citation of the same
 * event reach the client as one chunk.
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
#include "upstream/chatgpt/stream.h"
#include "upstream/jv.h"

#define ID_MAX		128	/* conversation and message ids */
#define ERRMSG_MAX	1024	/* in-stream error text we keep */
#define LANG_MAX	32	/* code fence language */
#define TITLE_MAX	200	/* citation title bytes */
#define URL_MAX		4096	/* citation or image URL bytes */
#define ASSET_ID_MAX	128
#define SANDBOX_MAX	512	/* bytes of a sandbox path */

enum chan { CH_TEXT = 0, CH_REASON = 1 };

struct cgs_msg {
	char		*id;		/* NULL: free entry */
	unsigned long	 used;		/* LRU stamp */
	size_t		 text_off;	/* bytes of the main text emitted */
	size_t		 cit_seen;	/* citations emitted */
	size_t		 th_idx;	/* thought being streamed */
	size_t		 th_off;	/* bytes of it emitted */
	size_t		 img_done;	/* multimodal parts handled */
	bool		 streamed;	/* seen with status in_progress */
	bool		 finished;
	bool		 seg;		/* content segment opened */
	bool		 rseg;		/* reasoning paragraph opened */
};

struct cgs_doc {
	bool		 live;
	long		 c;
	json_object	*doc;
	size_t		 bytes;		/* event bytes that built it */
	unsigned long	 used;
};

struct chatgpt_stream {
	struct chat_sink		 sink;
	struct chatgpt_stream_opts	 o;
	json_tokener			*tok;
	struct jpatch			 jp;

	struct cgs_doc			 docs[CGS_MAX_DOCS];
	long				 cur_c;
	size_t				 doc_bytes;
	struct cgs_msg			 msgs[CGS_MAX_MSGS];
	unsigned long			 tick;

	enum chatgpt_stream_err		 err;	/* sticky */
	const char			*why;	/* for error() after start */
	bool				 v1;
	bool				 started;
	bool				 terminal;	/* finish/error sent */
	bool				 eof;		/* [DONE] seen */

	bool				 fence;		/* a ``` block is open */
	bool				 any[2];	/* channel written to */
	int				 nl[2];		/* its trailing \n, <= 2 */

	char				*pend;		/* pending output */
	size_t				 plen, pcap;
	enum chan			 pch;

	char				*conv_id;
	char				*meta_id;
	char				*up_err;
	size_t				 skipped;

	char				*fbuf;		/* fast path strings */
	size_t				 fblen, fbcap;
};

/* A v1 line decoded by the fast path: p, o, v as pieces of s->fbuf. */
struct fast_line {
	bool	 has[3];
	size_t	 off[3];
	size_t	 len[3];
};

enum { FL_P, FL_O, FL_V };

static enum chatgpt_stream_err	convert(struct chatgpt_stream *,
				    json_object *);

/* ------------------------------------------------------------ small helpers */

static bool
has(json_object *o, const char *key)
{
	return json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, key, NULL);
}

/* A string value (honouring jpatch's hot buffer) or NULL. */
static const char *
str(const struct chatgpt_stream *s, json_object *o, size_t *lenp)
{
	size_t		 len;
	const char	*p = jp_string(&s->jp, o, &len);

	if (lenp != NULL)
		*lenp = p ? len : 0;
	return p;
}

/* A string value without embedded NULs, for names compared with strcmp. */
static const char *
cstr(const struct chatgpt_stream *s, json_object *o)
{
	size_t		 len;
	const char	*p = str(s, o, &len);

	return p != NULL && strlen(p) == len ? p : NULL;
}

static bool
streq(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

/* Ids that are safe to hand on: printable ASCII, bounded. */
static bool
id_ok(const char *p)
{
	size_t	 n = 0;

	if (p == NULL)
		return false;
	for (; p[n] != '\0'; n++)
		if (n >= ID_MAX || (unsigned char)p[n] <= 0x20 ||
		    (unsigned char)p[n] >= 0x7f)
			return false;
	return n > 0;
}

static bool
is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* End of s[0..len) without a trailing, not yet complete, sequence. */
static size_t
u8_complete(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = len, k = 0, need;

	while (i > 0 && k < 3 && is_cont(u[i - 1])) {
		i--;
		k++;
	}
	if (i == 0)
		return len;
	i--;	/* the lead byte */
	if (u[i] >= 0xc2 && u[i] < 0xe0)
		need = 2;
	else if (u[i] >= 0xe0 && u[i] < 0xf0)
		need = 3;
	else if (u[i] >= 0xf0 && u[i] < 0xf5)
		need = 4;
	else
		return len;
	return len - i < need ? i : len;
}

/*
 * The new part of a cumulative text: s[*off..end), where end never cuts a
 * character.  A text shorter than what was emitted emits nothing.
 */
static bool
next_delta(const char *s, size_t len, size_t *off, size_t *a, size_t *b)
{
	size_t	 o = *off, e;

	if (s == NULL)
		return false;
	if (o >= len) {
		*off = len < o ? len : o;
		return false;
	}
	while (o < len && is_cont((unsigned char)s[o]))
		o++;	/* the text was rewritten under us */
	e = u8_complete(s, len);
	if (e <= o) {
		*off = o;
		return false;
	}
	*a = o;
	*b = e;
	*off = e;
	return true;
}

/* ------------------------------------------------------------ sink output */

static enum chatgpt_stream_err
sink_rc(struct chatgpt_stream *s, int rc)
{
	if (rc == 0)
		return CGS_OK;
	s->err = CGS_ABORT;
	s->terminal = true;
	return CGS_ABORT;
}

static enum chatgpt_stream_err
flush(struct chatgpt_stream *s)
{
	int	 rc = 0;
	size_t	 n = s->plen;

	if (n == 0)
		return CGS_OK;
	s->plen = 0;
	if (s->pch == CH_TEXT && s->sink.text != NULL)
		rc = s->sink.text(s->sink.ctx, s->pend, n);
	else if (s->pch == CH_REASON && s->sink.reasoning != NULL)
		rc = s->sink.reasoning(s->sink.ctx, s->pend, n);
	return sink_rc(s, rc);
}

static enum chatgpt_stream_err
reserve(struct chatgpt_stream *s, size_t more)
{
	size_t	 ncap;
	char	*np;

	if (more > SIZE_MAX / 4 - s->plen)
		return CGS_ENOMEM;
	if (s->plen + more <= s->pcap)
		return CGS_OK;
	ncap = s->pcap ? s->pcap : 256;
	while (ncap < s->plen + more)
		ncap *= 2;
	if ((np = realloc(s->pend, ncap)) == NULL)
		return CGS_ENOMEM;
	s->pend = np;
	s->pcap = ncap;
	return CGS_OK;
}

/* Queue n bytes on a channel; invalid UTF-8 becomes U+FFFD. */
static enum chatgpt_stream_err
put(struct chatgpt_stream *s, enum chan ch, const char *p, size_t n)
{
	const unsigned char	*u = (const unsigned char *)p;
	enum chatgpt_stream_err	 rc;
	size_t			 i = 0, k, start, tail;

	if (n == 0 || s->terminal)
		return CGS_OK;
	if (s->plen > 0 && s->pch != ch && (rc = flush(s)) != CGS_OK)
		return rc;
	s->pch = ch;
	start = s->plen;
	while (i < n && (k = utf8_seq_len(u + i, n - i)) != 0)
		i += k;
	if (i == n) {
		if ((rc = reserve(s, n)) != CGS_OK)
			return rc;
		memcpy(s->pend + s->plen, p, n);
		s->plen += n;
	} else {
		if (n > SIZE_MAX / 8 || (rc = reserve(s, 3 * n)) != CGS_OK)
			return CGS_ENOMEM;
		memcpy(s->pend + s->plen, p, i);
		s->plen += i;
		while (i < n) {
			if ((k = utf8_seq_len(u + i, n - i)) == 0) {
				memcpy(s->pend + s->plen, "\xef\xbf\xbd", 3);
				s->plen += 3;
				i++;
				continue;
			}
			memcpy(s->pend + s->plen, p + i, k);
			s->plen += k;
			i += k;
		}
	}
	for (tail = 0; tail < s->plen - start &&
	    s->pend[s->plen - 1 - tail] == '\n'; tail++)
		;
	if (tail == s->plen - start)
		s->nl[ch] += (int)(tail > 2 ? 2 : tail);
	else
		s->nl[ch] = (int)(tail > 2 ? 2 : tail);
	if (s->nl[ch] > 2)
		s->nl[ch] = 2;
	s->any[ch] = true;
	return CGS_OK;
}

static enum chatgpt_stream_err
puts_(struct chatgpt_stream *s, enum chan ch, const char *p)
{
	return put(s, ch, p, strlen(p));
}

/* Make the channel end in at least `want' newlines (if it has text). */
static enum chatgpt_stream_err
sep(struct chatgpt_stream *s, enum chan ch, int want)
{
	if (!s->any[ch] || s->nl[ch] >= want)
		return CGS_OK;
	return put(s, ch, "\n\n", (size_t)(want - s->nl[ch]));
}

static enum chatgpt_stream_err
fence_close(struct chatgpt_stream *s)
{
	enum chatgpt_stream_err	 rc;

	if (!s->fence)
		return CGS_OK;
	s->fence = false;
	if ((rc = sep(s, CH_TEXT, 1)) != CGS_OK)
		return rc;
	return puts_(s, CH_TEXT, "```\n");
}

/*
 * Start a content segment: close an open fence, leave a blank line after
 * earlier text, open a fence if lang is not NULL.
 */
static enum chatgpt_stream_err
segment(struct chatgpt_stream *s, const char *lang)
{
	enum chatgpt_stream_err	 rc;

	if ((rc = fence_close(s)) != CGS_OK ||
	    (rc = sep(s, CH_TEXT, 2)) != CGS_OK)
		return rc;
	if (lang == NULL)
		return CGS_OK;
	if ((rc = puts_(s, CH_TEXT, "```")) != CGS_OK ||
	    (rc = puts_(s, CH_TEXT, lang)) != CGS_OK ||
	    (rc = puts_(s, CH_TEXT, "\n")) != CGS_OK)
		return rc;
	s->fence = true;
	return CGS_OK;
}

static enum chatgpt_stream_err
start(struct chatgpt_stream *s)
{
	s->started = true;
	if (s->sink.role == NULL)
		return CGS_OK;
	return sink_rc(s, s->sink.role(s->sink.ctx, "assistant"));
}

static enum chatgpt_stream_err
finish(struct chatgpt_stream *s, enum chat_finish reason)
{
	enum chatgpt_stream_err	 rc;

	if (s->terminal)
		return CGS_OK;
	if ((rc = fence_close(s)) != CGS_OK || (rc = flush(s)) != CGS_OK)
		return rc;
	s->terminal = true;
	if (s->sink.finish == NULL)
		return CGS_OK;
	return sink_rc(s, s->sink.finish(s->sink.ctx, reason, NULL));
}

static enum chatgpt_stream_err
sink_error(struct chatgpt_stream *s, const char *code, const char *msg)
{
	if (s->terminal)
		return CGS_OK;
	(void)flush(s);
	if (s->terminal)	/* flush aborted */
		return CGS_ABORT;
	s->terminal = true;
	if (s->sink.error == NULL)
		return CGS_OK;
	return sink_rc(s, s->sink.error(s->sink.ctx, 502, "upstream_error",
	    code, msg));
}

/* A decoder failure: sticky, and reported to the sink after the start. */
static enum chatgpt_stream_err
fail(struct chatgpt_stream *s, enum chatgpt_stream_err code)
{
	if (s->err != CGS_OK)
		return s->err;
	if (s->started && code != CGS_ABORT &&
	    sink_error(s, NULL, s->why ? s->why :
	    chatgpt_stream_strerror(code)) == CGS_ABORT)
		return s->err;
	s->err = code;
	return code;
}

static enum chatgpt_stream_err
proto(struct chatgpt_stream *s, const char *why)
{
	s->why = why;
	return CGS_PROTO;
}

/* ------------------------------------------------------------ state */

static bool
set_str(char **dst, const char *src)
{
	char	*p;

	if (*dst != NULL && strcmp(*dst, src) == 0)
		return true;
	if ((p = strdup(src)) == NULL)
		return false;
	free(*dst);
	*dst = p;
	return true;
}

/* Per-message state for id, created (LRU) if new. */
static enum chatgpt_stream_err
msg_state(struct chatgpt_stream *s, const char *id, struct cgs_msg **out)
{
	struct cgs_msg	*m, *victim = &s->msgs[0];
	char		*dup;

	for (size_t i = 0; i < CGS_MAX_MSGS; i++) {
		m = &s->msgs[i];
		if (m->id != NULL && strcmp(m->id, id) == 0) {
			m->used = ++s->tick;
			*out = m;
			return CGS_OK;
		}
		if (victim->id != NULL &&
		    (m->id == NULL || m->used < victim->used))
			victim = m;
	}
	if ((dup = strdup(id)) == NULL)
		return CGS_ENOMEM;
	free(victim->id);
	memset(victim, 0, sizeof(*victim));
	victim->id = dup;
	victim->used = ++s->tick;
	*out = victim;
	return CGS_OK;
}

static enum chatgpt_stream_err
meta(struct chatgpt_stream *s, const char *id)
{
	enum chatgpt_stream_err	 rc;

	if (!s->o.history || s->sink.meta == NULL || s->conv_id == NULL ||
	    !id_ok(id) || (s->meta_id != NULL && strcmp(s->meta_id, id) == 0))
		return CGS_OK;
	if (!set_str(&s->meta_id, id))
		return CGS_ENOMEM;
	if ((rc = flush(s)) != CGS_OK)
		return rc;
	return sink_rc(s, s->sink.meta(s->sink.ctx, s->conv_id, id));
}

static enum chatgpt_stream_err
note_conv(struct chatgpt_stream *s, json_object *doc)
{
	const char	*cid = cstr(s, jv_get(doc, "conversation_id"));

	if (id_ok(cid) && !set_str(&s->conv_id, cid))
		return CGS_ENOMEM;
	return CGS_OK;
}

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
	if (streq(r, "t2uay3k.sj1i4kz"))	/* the 2025 image tool */
		return "image_creator";
	return lang_ok(r) && !streq(r, "all") ? r : "";
}

static const char *
code_lang(const struct chatgpt_stream *s, json_object *content,
    json_object *msg)
{
	const char	*l = cstr(s, jv_get(content, "language"));

	if (lang_ok(l) && !streq(l, "unknown"))
		return l;
	return recipient_lang(cstr(s, jv_get(msg, "recipient")));
}

static enum chatgpt_stream_err
text_too_long(struct chatgpt_stream *s, size_t len)
{
	return len > s->o.max_text ? proto(s, "upstream text too long") :
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
	if (!next_delta(t, len, &m->text_off, &a, &b))
		return CGS_OK;
	if (!m->seg) {
		m->seg = true;
		if ((rc = segment(s, lang)) != CGS_OK)
			return rc;
	}
	return put(s, CH_TEXT, t + a, b - a);
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
		if ((rc = put(s, CH_TEXT, u, run)) != CGS_OK)
			return rc;
		if (c == '\0')
			break;
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if ((rc = put(s, CH_TEXT, esc, 3)) != CGS_OK)
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
		len = u8_complete(t, TITLE_MAX);
	for (i = 0; i <= len; i++) {
		unsigned char	 c = i < len ? (unsigned char)t[i] : 0;

		if (i < len && c >= 0x20 && c != '[' && c != ']' &&
		    c != '\\' && c != 0x7f)
			continue;
		if ((rc = put(s, CH_TEXT, t + run, i - run)) != CGS_OK)
			return rc;
		run = i + 1;
		if (i == len)
			break;
		if (c == '[' || c == ']' || c == '\\') {
			char	 e[2] = { '\\', (char)c };

			rc = put(s, CH_TEXT, e, 2);
		} else
			rc = put(s, CH_TEXT, " ", 1);
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

	url = str(s, jv_get(md, "url"), &ulen);
	if (!url_ok(url, ulen))
		return CGS_OK;
	title = str(s, jv_get(md, "title"), &tlen);
	if (title == NULL || tlen == 0) {
		title = url;
		tlen = ulen;
	}
	if (!m->seg) {
		m->seg = true;
		if ((rc = segment(s, NULL)) != CGS_OK)
			return rc;
	}
	if ((rc = puts_(s, CH_TEXT, " [")) != CGS_OK ||
	    (rc = put_title(s, title, tlen)) != CGS_OK ||
	    (rc = puts_(s, CH_TEXT, "](")) != CGS_OK ||
	    (rc = put_url(s, url)) != CGS_OK)
		return rc;
	return puts_(s, CH_TEXT, ")");
}

static enum chatgpt_stream_err
text_message(struct chatgpt_stream *s, struct cgs_msg *m, json_object *msg,
    const char *t, size_t len)
{
	const char		*rcpt = cstr(s, jv_get(msg, "recipient"));
	json_object		*cits;
	enum chatgpt_stream_err	 rc;
	size_t			 a, b, n;

	if (rcpt != NULL && !streq(rcpt, "all"))
		return fenced(s, m, t, len, recipient_lang(rcpt));
	if ((rc = text_too_long(s, len)) != CGS_OK)
		return rc;
	if (next_delta(t, len, &m->text_off, &a, &b)) {
		if (!m->seg) {
			m->seg = true;
			if ((rc = segment(s, NULL)) != CGS_OK)
				return rc;
		}
		if ((rc = put(s, CH_TEXT, t + a, b - a)) != CGS_OK)
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
	if (!next_delta(t, len, off, &a, &b))
		return CGS_OK;
	if (!m->rseg) {
		m->rseg = true;
		if ((rc = sep(s, CH_REASON, 2)) != CGS_OK)
			return rc;
	}
	return put(s, CH_REASON, t + a, b - a);
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
		t = str(s, jv_get(json_object_array_get_idx(arr, j), "content"),
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
		if ((rc = flush(s)) != CGS_OK)
			return rc;
		ok = s->o.resolve_image(s->o.resolve_ctx, kind, id, s->conv_id,
		    msg_id, &url) == 0 && url != NULL &&
		    url_ok(url, strlen(url));
	}
	if ((rc = segment(s, NULL)) == CGS_OK) {
		if (ok && (rc = puts_(s, CH_TEXT, "![image](")) == CGS_OK &&
		    (rc = put_url(s, url)) == CGS_OK)
			rc = puts_(s, CH_TEXT, ")\n");
		else if (!ok)
			rc = puts_(s, CH_TEXT, "Failed to load the image.\n");
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
		const char	*ptr = cstr(s, jv_get(p, "asset_pointer"));

		if (!streq(cstr(s, jv_get(p, "content_type")),
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
		if ((rc = flush(s)) != CGS_OK) {
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
			rc = segment(s, NULL);
		}
		if (ok && rc == CGS_OK &&
		    (rc = puts_(s, CH_TEXT, "[")) == CGS_OK &&
		    (rc = put_title(s, *base ? base : path,
		    strlen(*base ? base : path))) == CGS_OK &&
		    (rc = puts_(s, CH_TEXT, "](")) == CGS_OK &&
		    (rc = put_url(s, url)) == CGS_OK)
			rc = puts_(s, CH_TEXT, ")\n");
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

	fd = cstr(s, jv_get(jv_get(jv_get(msg, "metadata"), "finish_details"),
	    "type"));
	*reason = CHAT_FINISH_STOP;
	if (streq(fd, "max_tokens")) {
		*reason = CHAT_FINISH_LENGTH;
		return 1;
	}
	return (json_object_is_type(et, json_type_boolean) &&
	    json_object_get_boolean(et)) || streq(fd, "interrupted");
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
		text = str(s, e, &len);
	else if (json_object_is_type(e, json_type_object)) {
		if ((text = str(s, jv_get(e, "message"), &len)) == NULL)
			text = str(s, jv_get(e, "detail"), &len);
		code = cstr(s, jv_get(e, "code"));
		if (!id_ok(code))
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
	cut = len > ERRMSG_MAX ? u8_complete(text, ERRMSG_MAX) : len;
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
	if (s->started && sink_error(s, code, copy) == CGS_ABORT)
		return CGS_ABORT;
	s->err = CGS_UPSTREAM;
	return CGS_UPSTREAM;
}

/* One snapshot document: the §5.4 conversion. */
static enum chatgpt_stream_err
convert(struct chatgpt_stream *s, json_object *doc)
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
	if ((rc = note_conv(s, doc)) != CGS_OK)
		return rc;
	role = cstr(s, jv_get(jv_get(msg, "author"), "role"));
	if (streq(role, "assistant"))
		tool = false;
	else if (streq(role, "tool"))
		tool = true;
	else
		return CGS_OK;	/* user, system, unknown */
	status = cstr(s, jv_get(msg, "status"));
	in_prog = streq(status, "in_progress");
	fin = status != NULL && strncmp(status, "finished", 8) == 0;
	if (!s->started) {
		if (!in_prog)
			return CGS_OK;
		if ((rc = start(s)) != CGS_OK)
			return rc;
	}
	if ((id = cstr(s, jv_get(msg, "id"))) == NULL)
		id = "";
	if ((rc = msg_state(s, id, &m)) != CGS_OK)
		return rc;
	if (m->finished)
		return CGS_OK;
	if ((rc = meta(s, id)) != CGS_OK)
		return rc;
	if (in_prog)
		m->streamed = true;
	content = jv_get(msg, "content");
	ctype = cstr(s, jv_get(content, "content_type"));
	t = NULL;
	if (streq(ctype, "text")) {
		e = jv_get(content, "parts");
		t = NULL;
		len = 0;
		if (json_object_is_type(e, json_type_array) &&
		    json_object_array_length(e) > 0)
			t = str(s, json_object_array_get_idx(e, 0), &len);
		if (tool) {
			if (m->streamed)
				rc = reason(s, m, t, len, &m->text_off);
		} else
			rc = text_message(s, m, msg, t, len);
	} else if (streq(ctype, "code")) {
		t = str(s, jv_get(content, "text"), &len);
		rc = fenced(s, m, t, len, code_lang(s, content, msg));
	} else if (streq(ctype, "execution_output")) {
		t = str(s, jv_get(content, "text"), &len);
		rc = fenced(s, m, t, len, "Output");
	} else if (streq(ctype, "multimodal_text")) {
		if (fin)
			rc = images(s, m, jv_get(content, "parts"), id);
	} else if (streq(ctype, "thoughts"))
		rc = thoughts(s, m, jv_get(content, "thoughts"));
	if (rc != CGS_OK || !fin)
		return rc;
	m->finished = true;
	if (!finish_reason(s, msg, &fr))
		return CGS_OK;
	if (!tool && streq(ctype, "text") &&
	    (rc = sandbox_links(s, t, len, id)) != CGS_OK)
		return rc;
	return finish(s, fr);
}

/* ------------------------------------------------------------ events */

static enum chatgpt_stream_err
typed(struct chatgpt_stream *s, json_object *o, const char *type)
{
	enum chatgpt_stream_err	 rc;
	json_object		*mr, *bl;

	if (streq(type, "moderation")) {
		mr = jv_get(o, "moderation_response");
		bl = jv_get(mr, "blocked");
		if (json_object_is_type(mr, json_type_object) &&
		    !(json_object_is_type(bl, json_type_boolean) &&
		    json_object_get_boolean(bl)))
			return CGS_OK;	/* flagged at most: goes on */
		if (!s->started && (rc = start(s)) != CGS_OK)
			return rc;
		if ((rc = fence_close(s)) != CGS_OK ||
		    (rc = sep(s, CH_TEXT, 2)) != CGS_OK ||
		    (rc = puts_(s, CH_TEXT, CHATGPT_MODERATION_TEXT)) != CGS_OK)
			return rc;
		return finish(s, CHAT_FINISH_CONTENT_FILTER);
	}
	if (streq(type, "message_stream_complete") && s->started)
		return finish(s, CHAT_FINISH_STOP);
	return CGS_OK;
}

static struct cgs_doc *
doc_find(struct chatgpt_stream *s, long c)
{
	for (size_t i = 0; i < CGS_MAX_DOCS; i++)
		if (s->docs[i].live && s->docs[i].c == c) {
			s->docs[i].used = ++s->tick;
			return &s->docs[i];
		}
	return NULL;
}

/* A slot for a new document c, dropping the least recently used one. */
static struct cgs_doc *
doc_slot(struct chatgpt_stream *s, long c)
{
	struct cgs_doc	*d = &s->docs[0];

	for (size_t i = 0; i < CGS_MAX_DOCS; i++) {
		if (!s->docs[i].live) {
			d = &s->docs[i];
			break;
		}
		if (s->docs[i].used < d->used)
			d = &s->docs[i];
	}
	json_object_put(d->doc);
	s->doc_bytes -= d->bytes;
	memset(d, 0, sizeof(*d));
	d->live = true;
	d->c = c;
	d->used = ++s->tick;
	return d;
}

static enum chatgpt_stream_err
doc_account(struct chatgpt_stream *s, struct cgs_doc *d, size_t n)
{
	d->bytes += n;
	s->doc_bytes += n;
	if (s->doc_bytes > s->o.max_doc_bytes)
		return proto(s, "upstream documents too large");
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
	json_object		*root;
	enum chatgpt_stream_err	 rc;
	enum jp_err		 e;

	d = doc_find(s, s->cur_c);
	root = d != NULL ? d->doc : NULL;
	if (line != NULL)
		e = jp_line(&s->jp, &root, line);
	else
		e = jp_line_parts(&s->jp, &root,
		    fl->has[FL_P] ? s->fbuf + fl->off[FL_P] : NULL,
		    fl->len[FL_P],
		    fl->has[FL_O] ? s->fbuf + fl->off[FL_O] : NULL,
		    fl->len[FL_O], v);
	if (d == NULL && root != NULL)
		d = doc_slot(s, s->cur_c);
	if (d != NULL)
		d->doc = root;
	switch (e) {
	case JP_OK:
		break;
	case JP_ENOMEM:
		return CGS_ENOMEM;
	case JP_ELIMIT:
		return proto(s, "upstream delta exceeds a limit");
	default:
		s->skipped++;
		break;
	}
	if (d == NULL)
		return CGS_OK;
	if ((rc = doc_account(s, d, evlen)) != CGS_OK)
		return rc;
	return convert(s, d->doc);
}

/* One v1 delta line. */
static enum chatgpt_stream_err
delta(struct chatgpt_stream *s, json_object *o, size_t evlen)
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
			return proto(s, "bad upstream document number");
		s->cur_c = (long)c;
		has_p = json_object_object_get_ex(o, "p", &jp_);
		has_o = json_object_object_get_ex(o, "o", &jo);
		if (json_object_is_type(jv, json_type_object) &&
		    (!has_p || (json_object_is_type(jp_, json_type_string) &&
		    json_object_get_string_len(jp_) == 0)) &&
		    (!has_o || streq(cstr(s, jo), "add") ||
		    streq(cstr(s, jo), "replace"))) {
			if ((d = doc_find(s, s->cur_c)) == NULL)
				d = doc_slot(s, s->cur_c);
			json_object_put(d->doc);
			s->doc_bytes -= d->bytes;
			d->bytes = 0;
			d->doc = json_object_get(jv);
			if ((rc = doc_account(s, d, evlen)) != CGS_OK)
				return rc;
			return convert(s, d->doc);
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
static int
fast_line(struct chatgpt_stream *s, const char *d, size_t n,
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

static enum chatgpt_stream_err
fast_apply(struct chatgpt_stream *s, const struct fast_line *fl, size_t n)
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

/* ------------------------------------------------------------ old format */

/*
 * An old-format event is the whole message so far (text cumulative) with
 * metadata this decoder never reads, so json-c's full tree is quadratic
 * work in the answer's length.  skim.c validates the event and builds
 * only the members below: every key convert() and typed() read, and the
 * keys the dispatch in chatgpt_stream_event() tests.  A key added to
 * those readers must be added here too (the unit tests and the fuzz
 * driver compare this path with json-c's, opts.json_only).  v1 lines
 * the fast path does not take are read by skim.c too, whole, which
 * spares json-c's per-call locale switch.
 */
#define SKIM_SPEC(keys, elem)	{ keys, sizeof(keys) / sizeof(keys[0]), elem }

static const struct skim_key	 sk_role[] = { { "role", NULL } };
static const struct skim_key	 sk_part[] = {
	{ "content_type", NULL }, { "asset_pointer", NULL } };
static const struct skim_key	 sk_thought[] = { { "content", NULL } };
static const struct skim_key	 sk_link[] = {
	{ "url", NULL }, { "title", NULL } };
static const struct skim_key	 sk_type[] = { { "type", NULL } };
static const struct skim_key	 sk_blocked[] = { { "blocked", NULL } };

static const struct skim_spec	 sp_author = SKIM_SPEC(sk_role, NULL);
static const struct skim_spec	 sp_part = SKIM_SPEC(sk_part, NULL);
static const struct skim_spec	 sp_parts = { NULL, 0, &sp_part };
static const struct skim_spec	 sp_thought = SKIM_SPEC(sk_thought, NULL);
static const struct skim_spec	 sp_thoughts = { NULL, 0, &sp_thought };
static const struct skim_spec	 sp_link = SKIM_SPEC(sk_link, NULL);

static const struct skim_key	 sk_cite[] = { { "metadata", &sp_link } };
static const struct skim_spec	 sp_cite = SKIM_SPEC(sk_cite, NULL);
static const struct skim_spec	 sp_cites = { NULL, 0, &sp_cite };
static const struct skim_spec	 sp_fdetails = SKIM_SPEC(sk_type, NULL);

static const struct skim_key	 sk_content[] = {
	{ "content_type", NULL }, { "parts", &sp_parts }, { "text", NULL },
	{ "language", NULL }, { "thoughts", &sp_thoughts } };
static const struct skim_key	 sk_meta[] = {
	{ "citations", &sp_cites }, { "finish_details", &sp_fdetails } };
static const struct skim_spec	 sp_content = SKIM_SPEC(sk_content, NULL);
static const struct skim_spec	 sp_meta = SKIM_SPEC(sk_meta, NULL);

static const struct skim_key	 sk_msg[] = {
	{ "id", NULL }, { "author", &sp_author }, { "status", NULL },
	{ "recipient", NULL }, { "end_turn", NULL },
	{ "content", &sp_content }, { "metadata", &sp_meta } };
static const struct skim_spec	 sp_msg = SKIM_SPEC(sk_msg, NULL);
static const struct skim_spec	 sp_mod = SKIM_SPEC(sk_blocked, NULL);

static const struct skim_key	 sk_event[] = {
	{ "message", &sp_msg }, { "conversation_id", NULL },
	{ "error", NULL }, { "type", NULL },
	{ "moderation_response", &sp_mod }, { "v", NULL } };
static const struct skim_spec	 sp_event = SKIM_SPEC(sk_event, NULL);

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum chatgpt_stream_err
chatgpt_stream_event(struct chatgpt_stream *s, const char *name,
    const char *data, size_t len)
{
	enum chatgpt_stream_err	 rc = CGS_OK;
	json_object		*o = NULL;
	const char		*type;
	bool			 named, delta_ev;

	if (s == NULL || (data == NULL && len != 0))
		return CGS_EINVAL;
	if (s->err != CGS_OK)
		return s->err;
	if (s->terminal || s->eof)
		return CGS_OK;
	while (len > 0 && is_space(*data)) {
		data++;
		len--;
	}
	while (len > 0 && is_space(data[len - 1]))
		len--;
	if (len == 0)
		return CGS_OK;
	s->why = NULL;
	if (len > s->o.max_event)
		return fail(s, proto(s, "upstream event too large"));
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		s->eof = true;
		rc = s->started ? finish(s, CHAT_FINISH_STOP) : CGS_OK;
		return rc == CGS_OK ? CGS_OK : fail(s, rc);
	}
	named = name != NULL && *name != '\0' && strcmp(name, "message") != 0;
	delta_ev = named && strcmp(name, "delta") == 0;

	if (!s->o.json_only && (delta_ev || s->v1) && data[0] == '{' &&
	    !(named && strcmp(name, "delta_encoding") == 0)) {
		struct fast_line	 fl;
		int			 r = fast_line(s, data, len, &fl);

		if (r < 0)
			return fail(s, CGS_ENOMEM);
		if (r > 0) {
			s->v1 = true;
			if ((rc = fast_apply(s, &fl, len)) == CGS_OK)
				rc = flush(s);
			return rc == CGS_OK ? CGS_OK : fail(s, rc);
		}
	}

	if (!s->o.json_only && data[0] == '{') {
		/* v1 documents are patched later: they are kept whole */
		enum skim_rc	 r = skim_parse(data, len,
				    s->v1 || delta_ev ? NULL : &sp_event,
				    &s->fbuf, &s->fbcap, &o);

		if (r == SKIM_ENOMEM)
			return fail(s, CGS_ENOMEM);
		if (r == SKIM_OK)
			goto parsed;
	}
	json_tokener_reset(s->tok);
	o = json_tokener_parse_ex(s->tok, data, (int)len);
	if (json_tokener_get_error(s->tok) != json_tokener_success ||
	    json_tokener_get_parse_end(s->tok) != len) {
		json_object_put(o);
		return fail(s, proto(s, "malformed upstream event"));
	}
parsed:
	if (named && strcmp(name, "delta_encoding") == 0) {
		if (!streq(cstr(s, o), "v1"))
			rc = proto(s, "unsupported upstream delta encoding");
		else
			s->v1 = true;
	} else if (json_object_is_type(o, json_type_string)) {
		if (streq(cstr(s, o), "v1"))
			s->v1 = true;
	} else if (json_object_is_type(o, json_type_object)) {
		if (delta_ev)
			s->v1 = true;
		type = cstr(s, jv_get(o, "type"));
		if (s->v1 && has(o, "v") && !has(o, "message"))
			rc = delta(s, o, len);
		else if (has(o, "message"))
			rc = convert(s, o);
		else if (type != NULL)
			rc = typed(s, o, type);
		else if (jv_get(o, "error") != NULL)
			rc = convert(s, o);
	}
	if (rc == CGS_OK)
		rc = flush(s);
	json_object_put(o);
	return rc == CGS_OK ? CGS_OK : fail(s, rc);
}

enum chatgpt_stream_err
chatgpt_stream_end(struct chatgpt_stream *s)
{
	if (s == NULL)
		return CGS_EINVAL;
	if (s->err != CGS_OK)
		return s->err;
	if (s->terminal)
		return CGS_OK;
	if (!s->started)
		return CGS_NOSTART;
	if (sink_error(s, NULL, "upstream stream ended early") == CGS_ABORT)
		return s->err;
	s->err = CGS_TRUNCATED;
	return CGS_TRUNCATED;
}

/* ------------------------------------------------------------ lifecycle */

enum chatgpt_stream_err
chatgpt_stream_new(struct chatgpt_stream **out,
    const struct chat_sink *sink, const struct chatgpt_stream_opts *opts)
{
	struct chatgpt_stream	*s;
	struct jp_limits	 lim;

	if (out == NULL)
		return CGS_EINVAL;
	*out = NULL;
	if (sink == NULL)
		return CGS_EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CGS_ENOMEM;
	s->sink = *sink;
	if (opts != NULL)
		s->o = *opts;
	if (s->o.max_event == 0)
		s->o.max_event = CGS_DEFAULT_MAX_EVENT;
	if (s->o.max_event > INT32_MAX - 1)
		s->o.max_event = INT32_MAX - 1;	/* json-c takes an int */
	if (s->o.max_text == 0)
		s->o.max_text = CGS_DEFAULT_MAX_TEXT;
	if (s->o.max_doc_bytes == 0)
		s->o.max_doc_bytes = CGS_DEFAULT_MAX_DOC_BYTES;
	memset(&lim, 0, sizeof(lim));
	lim.max_string = s->o.max_text;
	jp_init(&s->jp, &lim);
	if ((s->tok = json_tokener_new_ex(CGS_JSON_DEPTH)) == NULL) {
		free(s);
		return CGS_ENOMEM;
	}
	json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT);
	*out = s;
	return CGS_OK;
}

void
chatgpt_stream_free(struct chatgpt_stream *s)
{
	if (s == NULL)
		return;
	jp_free(&s->jp);
	for (size_t i = 0; i < CGS_MAX_DOCS; i++)
		json_object_put(s->docs[i].doc);
	for (size_t i = 0; i < CGS_MAX_MSGS; i++)
		free(s->msgs[i].id);
	json_tokener_free(s->tok);
	free(s->pend);
	free(s->conv_id);
	free(s->meta_id);
	free(s->up_err);
	free(s->fbuf);
	free(s);
}

int
chatgpt_stream_started(const struct chatgpt_stream *s)
{
	return s != NULL && s->started;
}

int
chatgpt_stream_done(const struct chatgpt_stream *s)
{
	return s == NULL || s->terminal || s->eof || s->err != CGS_OK;
}

const char *
chatgpt_stream_upstream_error(const struct chatgpt_stream *s)
{
	return s != NULL ? s->up_err : NULL;
}

const char *
chatgpt_stream_conversation_id(const struct chatgpt_stream *s)
{
	return s != NULL ? s->conv_id : NULL;
}

int
chatgpt_stream_is_v1(const struct chatgpt_stream *s)
{
	return s != NULL && s->v1;
}

size_t
chatgpt_stream_skipped(const struct chatgpt_stream *s)
{
	return s != NULL ? s->skipped : 0;
}

const char *
chatgpt_stream_strerror(enum chatgpt_stream_err err)
{
	switch (err) {
	case CGS_OK:
		return "success";
	case CGS_ENOMEM:
		return "out of memory";
	case CGS_PROTO:
		return "malformed upstream stream";
	case CGS_ABORT:
		return "aborted by the client";
	case CGS_UPSTREAM:
		return "the upstream reported an error";
	case CGS_NOSTART:
		return "the upstream stream ended before the answer started";
	case CGS_TRUNCATED:
		return "upstream stream ended early";
	case CGS_EINVAL:
		return "invalid argument";
	}
	return "unknown error";
}
