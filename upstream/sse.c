/*
 * sse.c - Server-Sent Events re-framer; see sse.h for the rules.
 *
 * Buffer layout: buf[0 .. data_len) holds the joined data lines of the
 * pending event, buf[data_len .. data_len + line_len) the line being read.
 * A finished "data" line is moved down in place onto the end of the data,
 * so a line is copied once when it arrives and at most once more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

/* First allocation; small enough for typical events, grows by doubling. */
#define SSE_INITIAL_CAP	1024

static const unsigned char sse_bom[3] = { 0xef, 0xbb, 0xbf };

void
sse_init(struct sse_parser *p, sse_event_fn on_event, void *ctx,
    size_t max_event)
{
	memset(p, 0, sizeof(*p));
	p->on_event = on_event;
	p->ctx = ctx;
	p->max_event = max_event ? max_event : SSE_DEFAULT_MAX_EVENT;
	/* Keep max_event + 1 (the NUL slot) from overflowing. */
	if (p->max_event > SIZE_MAX / 2)
		p->max_event = SIZE_MAX / 2;
	p->first_line = true;
}

void
sse_reset(struct sse_parser *p)
{
	p->data_len = 0;
	p->line_len = 0;
	p->name[0] = '\0';
	p->have_data = false;
	p->have_name = false;
	p->cr_pending = false;
	p->in_comment = false;
	p->first_line = true;
	p->err = SSE_OK;
}

void
sse_free(struct sse_parser *p)
{
	free(p->buf);
	p->buf = NULL;
	p->cap = 0;
	sse_reset(p);
}

#define JSON_WS(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || \
			    (c) == '\n')

size_t
sse_trim(const char **data, size_t len)
{
	const char *p = *data;

	if (p == NULL)
		return 0;
	for (; len > 0 && JSON_WS(*p); len--)
		p++;
	while (len > 0 && JSON_WS(p[len - 1]))
		len--;
	*data = p;
	return len;
}

const char *
sse_strerror(enum sse_err err)
{
	switch (err) {
	case SSE_OK:
		return "success";
	case SSE_ENOMEM:
		return "out of memory";
	case SSE_TOOBIG:
		return "server-sent event too large";
	case SSE_ABORT:
		return "aborted by the event callback";
	case SSE_EINVAL:
		return "invalid argument";
	}
	return "unknown error";
}

/*
 * Make room for n more line bytes plus the NUL written at dispatch time.
 * The limit is checked here, before anything grows, so a hostile upstream
 * cannot make us buffer more than max_event bytes.
 */
static enum sse_err
sse_reserve(struct sse_parser *p, size_t n)
{
	size_t	 used = p->data_len + p->line_len;
	size_t	 need, ncap;
	char	*nbuf;

	if (n > p->max_event || used > p->max_event - n)
		return SSE_TOOBIG;
	need = used + n + 1;
	if (need <= p->cap)
		return SSE_OK;
	ncap = p->cap ? p->cap : SSE_INITIAL_CAP;
	while (ncap < need && ncap <= (p->max_event + 1) / 2)
		ncap *= 2;
	if (ncap < need)
		ncap = need;
	if (ncap > p->max_event + 1)
		ncap = p->max_event + 1;
	if ((nbuf = realloc(p->buf, ncap)) == NULL)
		return SSE_ENOMEM;
	p->buf = nbuf;
	p->cap = ncap;
	return SSE_OK;
}

static void
sse_clear_event(struct sse_parser *p)
{
	p->data_len = 0;
	p->have_data = false;
	p->have_name = false;
	p->name[0] = '\0';
}

/* Blank line (or end of input): hand the pending event to the callback. */
static enum sse_err
sse_dispatch(struct sse_parser *p)
{
	const char	*name;
	int		 rc;

	if (!p->have_data) {
		/* WHATWG: no data, no event; the name is forgotten too. */
		sse_clear_event(p);
		return SSE_OK;
	}
	/* sse_reserve always keeps one spare byte for this NUL. */
	p->buf[p->data_len] = '\0';
	name = p->have_name ? p->name : "message";
	rc = p->on_event != NULL ?
	    p->on_event(p->ctx, name, p->buf, p->data_len) : 0;
	sse_clear_event(p);
	return rc != 0 ? SSE_ABORT : SSE_OK;
}

/* A complete line sits at buf + data_len, line_len bytes long. */
static enum sse_err
sse_line(struct sse_parser *p)
{
	char		*line = p->buf + p->data_len;
	size_t		 n = p->line_len;
	const char	*colon;
	size_t		 flen, v, vlen;

	p->line_len = 0;
	if (p->first_line) {
		p->first_line = false;
		if (n >= sizeof(sse_bom) &&
		    memcmp(line, sse_bom, sizeof(sse_bom)) == 0) {
			line += sizeof(sse_bom);
			n -= sizeof(sse_bom);
		}
	}
	if (n == 0)
		return sse_dispatch(p);
	if (line[0] == ':')
		return SSE_OK;

	colon = memchr(line, ':', n);
	flen = colon != NULL ? (size_t)(colon - line) : n;
	v = colon != NULL ? flen + 1 : n;
	if (v < n && line[v] == ' ')
		v++;
	vlen = n - v;

	if (flen == 4 && memcmp(line, "data", 4) == 0) {
		/* Join with "\n"; the result never outgrows data + line. */
		size_t	 at = p->data_len;

		if (p->have_data)
			p->buf[at++] = '\n';
		memmove(p->buf + at, line + v, vlen);
		p->data_len = at + vlen;
		p->have_data = true;
	} else if (flen == 5 && memcmp(line, "event", 5) == 0) {
		if (vlen > SSE_NAME_MAX)
			return SSE_TOOBIG;
		memcpy(p->name, line + v, vlen);
		p->name[vlen] = '\0';
		p->have_name = true;
	}
	/* "id", "retry" and unknown fields carry nothing we need. */
	return SSE_OK;
}

enum sse_err
sse_feed(struct sse_parser *p, const void *data, size_t len)
{
	const unsigned char	*s = data, *end, *e;
	enum sse_err		 rc = SSE_OK;

	if (p == NULL || (data == NULL && len > 0))
		return SSE_EINVAL;
	if (p->err != SSE_OK)
		return p->err;
	if (len == 0)
		return SSE_OK;
	end = s + len;

	while (s < end) {
		/* The LF of a CRLF split across two chunks (or not split). */
		if (p->cr_pending) {
			p->cr_pending = false;
			if (*s == '\n') {
				s++;
				continue;
			}
		}
		for (e = s; e < end && *e != '\n' && *e != '\r'; e++)
			continue;

		/* Comments are recognised on their first byte, never stored. */
		if (p->line_len == 0 && !p->in_comment && e > s && *s == ':')
			p->in_comment = true;
		if (!p->in_comment && e > s) {
			if ((rc = sse_reserve(p, (size_t)(e - s))) != SSE_OK)
				goto fail;
			memcpy(p->buf + p->data_len + p->line_len, s,
			    (size_t)(e - s));
			p->line_len += (size_t)(e - s);
		}
		s = e;
		if (s == end)
			break;

		p->cr_pending = *s == '\r';
		s++;
		if (p->in_comment) {
			p->in_comment = false;
			p->first_line = false;
			continue;
		}
		if (p->line_len == 0 && p->buf == NULL) {
			/* Blank line before any byte was stored: nothing to do. */
			p->first_line = false;
			sse_clear_event(p);
			continue;
		}
		if ((rc = sse_line(p)) != SSE_OK)
			goto fail;
	}
	/*
	 * Between events nothing is held: the buffer goes until the next
	 * event, so thousands of parked streams (BENCHMARKS.md §20) do not
	 * keep 1 kB each while they wait.
	 */
	if (p->data_len == 0 && p->line_len == 0 && !p->have_data &&
	    p->buf != NULL) {
		free(p->buf);
		p->buf = NULL;
		p->cap = 0;
	}
	return SSE_OK;
fail:
	p->err = rc;
	return rc;
}

enum sse_err
sse_finish(struct sse_parser *p, bool *midline)
{
	enum sse_err	 rc = SSE_OK;
	bool		 partial;

	if (p == NULL)
		return SSE_EINVAL;
	if (p->err != SSE_OK)
		return p->err;

	partial = p->in_comment || p->line_len > 0;
	if (midline != NULL)
		*midline = partial;
	if (p->line_len > 0 && (rc = sse_line(p)) != SSE_OK)
		goto fail;
	if ((rc = sse_dispatch(p)) != SSE_OK)
		goto fail;
	sse_reset(p);
	return SSE_OK;
fail:
	sse_reset(p);
	p->err = rc;
	return rc;
}
