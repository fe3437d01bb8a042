/*
 * stream_out.c - the ChatGPT stream decoder's output side: small string
 * and UTF-8 helpers, the pending buffer and every sink call (text,
 * separators, code fences, start, finish, errors and their texts), and
 * the per-message state table.
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
#include "upstream/jv.h"
#include "upstream/chatgpt/stream_internal.h"

/* ------------------------------------------------------------ small helpers */

bool
cgs_has(json_object *o, const char *key)
{
	return json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, key, NULL);
}

/* A string value (honouring jpatch's hot buffer) or NULL. */
const char *
cgs_str(const struct chatgpt_stream *s, json_object *o, size_t *lenp)
{
	size_t		 len;
	const char	*p = jp_string(&s->jp, o, &len);

	if (lenp != NULL)
		*lenp = p ? len : 0;
	return p;
}

/* A string value without embedded NULs, for names compared with strcmp. */
const char *
cgs_cstr(const struct chatgpt_stream *s, json_object *o)
{
	size_t		 len;
	const char	*p = cgs_str(s, o, &len);

	return p != NULL && strlen(p) == len ? p : NULL;
}

bool
cgs_streq(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

/* Ids that are safe to hand on: printable ASCII, bounded. */
bool
cgs_id_ok(const char *p)
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
size_t
cgs_u8_complete(const char *s, size_t len)
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
bool
cgs_next_delta(const char *s, size_t len, size_t *off, size_t *a, size_t *b)
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
	e = cgs_u8_complete(s, len);
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

enum chatgpt_stream_err
cgs_flush(struct chatgpt_stream *s)
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
enum chatgpt_stream_err
cgs_put(struct chatgpt_stream *s, enum chan ch, const char *p, size_t n)
{
	const unsigned char	*u = (const unsigned char *)p;
	enum chatgpt_stream_err	 rc;
	size_t			 i = 0, k, start, tail;

	if (n == 0 || s->terminal)
		return CGS_OK;
	if (s->plen > 0 && s->pch != ch && (rc = cgs_flush(s)) != CGS_OK)
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

enum chatgpt_stream_err
cgs_puts_(struct chatgpt_stream *s, enum chan ch, const char *p)
{
	return cgs_put(s, ch, p, strlen(p));
}

/* Make the channel end in at least `want' newlines (if it has text). */
enum chatgpt_stream_err
cgs_sep(struct chatgpt_stream *s, enum chan ch, int want)
{
	if (!s->any[ch] || s->nl[ch] >= want)
		return CGS_OK;
	return cgs_put(s, ch, "\n\n", (size_t)(want - s->nl[ch]));
}

enum chatgpt_stream_err
cgs_fence_close(struct chatgpt_stream *s)
{
	enum chatgpt_stream_err	 rc;

	if (!s->fence)
		return CGS_OK;
	s->fence = false;
	if ((rc = cgs_sep(s, CH_TEXT, 1)) != CGS_OK)
		return rc;
	return cgs_puts_(s, CH_TEXT, "```\n");
}

/*
 * Start a content segment: close an open fence, leave a blank line after
 * earlier text, open a fence if lang is not NULL.
 */
enum chatgpt_stream_err
cgs_segment(struct chatgpt_stream *s, const char *lang)
{
	enum chatgpt_stream_err	 rc;

	if ((rc = cgs_fence_close(s)) != CGS_OK ||
	    (rc = cgs_sep(s, CH_TEXT, 2)) != CGS_OK)
		return rc;
	if (lang == NULL)
		return CGS_OK;
	if ((rc = cgs_puts_(s, CH_TEXT, "```")) != CGS_OK ||
	    (rc = cgs_puts_(s, CH_TEXT, lang)) != CGS_OK ||
	    (rc = cgs_puts_(s, CH_TEXT, "\n")) != CGS_OK)
		return rc;
	s->fence = true;
	return CGS_OK;
}

enum chatgpt_stream_err
cgs_start(struct chatgpt_stream *s)
{
	s->started = true;
	if (s->sink.role == NULL)
		return CGS_OK;
	return sink_rc(s, s->sink.role(s->sink.ctx, "assistant"));
}

enum chatgpt_stream_err
cgs_finish(struct chatgpt_stream *s, enum chat_finish reason)
{
	enum chatgpt_stream_err	 rc;

	if (s->terminal)
		return CGS_OK;
	if ((rc = cgs_fence_close(s)) != CGS_OK || (rc = cgs_flush(s)) != CGS_OK)
		return rc;
	s->terminal = true;
	if (s->sink.finish != NULL &&
	    sink_rc(s, s->sink.finish(s->sink.ctx, reason, NULL)) != CGS_OK)
		return CGS_ABORT;
	s->finished = true;
	return CGS_OK;
}

enum chatgpt_stream_err
cgs_sink_error(struct chatgpt_stream *s, const char *code, const char *msg)
{
	if (s->terminal)
		return CGS_OK;
	(void)cgs_flush(s);
	if (s->terminal)	/* flush aborted */
		return CGS_ABORT;
	s->terminal = true;
	if (s->sink.error == NULL)
		return CGS_OK;
	return sink_rc(s, s->sink.error(s->sink.ctx, 502, "upstream_error",
	    code, msg));
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

/* A decoder failure: sticky, and reported to the sink after the start. */
enum chatgpt_stream_err
cgs_fail(struct chatgpt_stream *s, enum chatgpt_stream_err code)
{
	if (s->err != CGS_OK)
		return s->err;
	if (s->started && code != CGS_ABORT &&
	    cgs_sink_error(s, NULL, s->why ? s->why :
	    chatgpt_stream_strerror(code)) == CGS_ABORT)
		return s->err;
	s->err = code;
	return code;
}

enum chatgpt_stream_err
cgs_proto(struct chatgpt_stream *s, const char *why)
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

long
cgs_table_grow(void **tab, size_t *n, size_t size, size_t max)
{
	size_t	 old = *n, nn = old < 2 ? 2 : old * 2;
	char	*t;

	if (old >= max)
		return -1;
	if (nn > max)
		nn = max;
	if ((t = realloc(*tab, nn * size)) == NULL)
		return -1;
	memset(t + old * size, 0, (nn - old) * size);
	*tab = t;
	*n = nn;
	return (long)old;
}

/* Per-message state for id, created (LRU) if new. */
enum chatgpt_stream_err
cgs_msg_state(struct chatgpt_stream *s, const char *id, struct cgs_msg **out)
{
	struct cgs_msg	*m, *victim = NULL;
	char		*dup;
	long		 k;

	for (size_t i = 0; i < s->nmsgs; i++) {
		m = &s->msgs[i];
		if (m->id != NULL && strcmp(m->id, id) == 0) {
			m->used = ++s->tick;
			*out = m;
			return CGS_OK;
		}
		if (victim == NULL || (victim->id != NULL &&
		    (m->id == NULL || m->used < victim->used)))
			victim = m;
	}
	/* a new entry rather than the least recently used one's, to the
	 * limit (the table may move: no entry pointer is held here) */
	if (victim == NULL || victim->id != NULL) {
		if ((k = cgs_table_grow((void **)&s->msgs, &s->nmsgs,
		    sizeof(*s->msgs), CGS_MAX_MSGS)) >= 0)
			victim = &s->msgs[k];
		else if (s->nmsgs < CGS_MAX_MSGS)
			return CGS_ENOMEM;
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

enum chatgpt_stream_err
cgs_meta(struct chatgpt_stream *s, const char *id)
{
	enum chatgpt_stream_err	 rc;

	if (s->conv_id == NULL || !cgs_id_ok(id) ||
	    (s->meta_id != NULL && strcmp(s->meta_id, id) == 0))
		return CGS_OK;
	/* kept either way: a session continues after the last message */
	if (!set_str(&s->meta_id, id))
		return CGS_ENOMEM;
	if (!s->o.history || s->sink.meta == NULL)
		return CGS_OK;
	if ((rc = cgs_flush(s)) != CGS_OK)
		return rc;
	return sink_rc(s, s->sink.meta(s->sink.ctx, s->conv_id, id));
}

enum chatgpt_stream_err
cgs_note_conv(struct chatgpt_stream *s, json_object *doc)
{
	const char	*cid = cgs_cstr(s, jv_get(doc, "conversation_id"));

	if (cgs_id_ok(cid) && !set_str(&s->conv_id, cid))
		return CGS_ENOMEM;
	return CGS_OK;
}
