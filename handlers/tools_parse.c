/*
 * The streaming call-block scanner.  Text goes through as it comes,
 * except from a byte that may start a marker ("[function_calls]",
 * "[call:NAME]", "<tool_use>"), which is held until the marker is
 * proven or ruled out.  A call is decided when its end is seen: its
 * arguments repaired into a JSON object, or, when that fails or the
 * name is not one the request offered, its raw text given back as text.
 * Every decision depends only on the bytes before it, so how the answer
 * is cut into chunks never changes the result.
 *
 * Bracket blocks: [function_calls] ([call:NAME]{json}[/call])*
 * [/function_calls]
 * (a missing [/call] or [/function_calls] is forgiven, a bare [call:..]
 * outside a block too); XML calls: <tool_use><name>NAME</name>
 * <arguments>{json}</arguments></tool_use>.  Both are always accepted.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "handlers/tools.h"

enum { TP_TEXT, TP_BLOCK };
enum { R_OK, R_BAD, R_WAIT };

static const char M_BLOCK[] = "[function_calls]";
static const char M_END[] = "[/function_calls]";
static const char M_CALL[] = "[call:";
static const char M_CALLEQ[] = "[call=";
static const char M_CEND[] = "[/call]";
static const char M_XML[] = "<tool_use>";
static const char M_XEND[] = "</tool_use>";

#define LEN(m)	(sizeof(m) - 1)

const char *
tools_strerror(enum tools_err e)
{
	switch (e) {
	case TOOLS_OK:
		return "success";
	case TOOLS_ENOMEM:
		return "out of memory";
	case TOOLS_STOP:
		return "stopped by the receiver";
	}
	return "unknown error";
}

void
tools_parse_init(struct tools_parser *p, const struct tools_parse_cb *cb)
{
	memset(p, 0, sizeof(*p));
	p->cb = *cb;
	p->max_calls = TOOLS_MAX_CALLS;
	buf_init(&p->held, 0);
	buf_init(&p->args, 0);
}

void
tools_parse_free(struct tools_parser *p)
{
	buf_free(&p->held);
	buf_free(&p->args);
}

/* 1: s starts with m; 0: s is a proper prefix of m; -1: neither. */
static int
starts(const char *s, size_t n, const char *m, size_t k)
{
	if (n >= k)
		return memcmp(s, m, k) == 0 ? 1 : -1;
	return memcmp(s, m, n) == 0 ? 0 : -1;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
name_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-';
}

static enum tools_err
emit_text(struct tools_parser *p, const char *s, size_t n)
{
	if (n == 0 || p->err != TOOLS_OK)
		return p->err;
	if (p->cb.text(p->cb.ctx, s, n) != 0)
		p->err = TOOLS_STOP;
	return p->err;
}

static int
allowed(const struct tools_parser *p, const char *name, size_t n)
{
	size_t i;

	if (n == 0 || n > TOOLS_NAME_MAX || p->ncalls >= p->max_calls)
		return 0;
	for (i = 0; i < n; i++)
		if (!name_char((unsigned char)name[i]))
			return 0;
	if (p->only != NULL)
		return strlen(p->only) == n && memcmp(p->only, name, n) == 0;
	if (p->fns == NULL)
		return 1;
	for (i = 0; i < p->nfns; i++)
		if (strlen(p->fns[i].name) == n &&
		    memcmp(p->fns[i].name, name, n) == 0)
			return 1;
	return 0;
}

/* Arguments as written: blanks and a Markdown fence around them go. */
static void
trim_args(const char **sp, size_t *np)
{
	const char *s = *sp;
	size_t n = *np;

	while (n > 0 && is_blank(*s))
		s++, n--;
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	if (n >= 6 && memcmp(s, "```", 3) == 0 &&
	    memcmp(s + n - 3, "```", 3) == 0) {
		s += 3, n -= 6;
		while (n > 0 && isalpha((unsigned char)*s))
			s++, n--;
		while (n > 0 && is_blank(*s))
			s++, n--;
		while (n > 0 && is_blank(s[n - 1]))
			n--;
	}
	*sp = s;
	*np = n;
}

/* The call name/args, if good: R_OK with p->args filled, else R_BAD. */
static int
decide(struct tools_parser *p, const char *name, size_t nl, const char *a,
    size_t al)
{
	while (nl > 0 && *name == ' ')
		name++, nl--;
	while (nl > 0 && name[nl - 1] == ' ')
		nl--;
	if (!allowed(p, name, nl))
		return R_BAD;
	trim_args(&a, &al);
	if (al == 0) {
		buf_reset(&p->args);
		buf_adds(&p->args, "{}");
		return p->args.failed ? R_BAD : R_OK;
	}
	return tools_json_repair(a, al, &p->args) == 0 ? R_OK : R_BAD;
}

static enum tools_err
emit_call(struct tools_parser *p, const char *name, size_t nl)
{
	while (nl > 0 && *name == ' ')
		name++, nl--;
	while (nl > 0 && name[nl - 1] == ' ')
		nl--;
	if (p->err != TOOLS_OK)
		return p->err;
	p->ncalls++;
	if (p->cb.call(p->cb.ctx, name, nl, p->args.p, p->args.len) != 0)
		p->err = TOOLS_STOP;
	return p->err;
}

/*
 * A call's end is searched from its start each time more data comes:
 * where the last search stopped, and in what string state, is kept, so
 * a long call is scanned once, not once per piece.  The state is a
 * function of the bytes alone, so resuming changes no decision.
 */
static void
scan_load(struct tools_parser *p, const char *s, size_t *k, int *in, int *esc)
{
	if (p->scan_valid && p->scan_call == (size_t)(s - p->held.p) &&
	    p->scan_off > *k) {
		*k = p->scan_off;
		*in = p->scan_in;
		*esc = p->scan_esc;
	}
}

static int
scan_save(struct tools_parser *p, const char *s, size_t k, int in, int esc,
    int r)
{
	p->scan_valid = r == R_WAIT;
	p->scan_call = (size_t)(s - p->held.p);
	p->scan_off = k;
	p->scan_in = in;
	p->scan_esc = esc;
	return r;
}

/*
 * Where the arguments of a call that starts at s[0] end, scanning from
 * s[k] outside JSON strings: *ae at the end of the arguments, *end past
 * what the call consumes.  R_WAIT when the data may still tell.
 */
static int
call_end(struct tools_parser *p, const char *s, size_t n, size_t k, int final,
    size_t *ae, size_t *end)
{
	int in = 0, esc = 0, a, b, c;

	scan_load(p, s, &k, &in, &esc);
	for (; k < n; k++) {
		if (k >= TOOLS_MAX_CALL)
			return scan_save(p, s, k, in, esc, R_BAD);
		if (in) {
			if (esc)
				esc = 0;
			else if (s[k] == '\\')
				esc = 1;
			else if (s[k] == '"')
				in = 0;
			continue;
		}
		if (s[k] == '"') {
			in = 1;
			continue;
		}
		if (s[k] != '[')
			continue;
		if ((a = starts(s + k, n - k, M_CEND, LEN(M_CEND))) == 1) {
			*ae = k;
			*end = k + LEN(M_CEND);
			return scan_save(p, s, k, in, esc, R_OK);
		}
		b = starts(s + k, n - k, M_END, LEN(M_END));
		c = starts(s + k, n - k, M_CALL, LEN(M_CALL));
		if (c < 1)
			c = starts(s + k, n - k, M_CALLEQ, LEN(M_CALLEQ));
		if (b == 1 || c == 1) {
			/* the next call or the block's end: no [/call] */
			*ae = *end = k;
			return scan_save(p, s, k, in, esc, R_OK);
		}
		if ((a == 0 || b == 0 || c == 0) && !final)
			return scan_save(p, s, k, in, esc, R_WAIT);
	}
	if (!final)
		return scan_save(p, s, k, in, esc, R_WAIT);
	*ae = *end = n;
	return scan_save(p, s, k, in, esc, R_OK);
}

/* A bracket call at s[0] ("[call:" or "[call="). */
static int
bracket_call(struct tools_parser *p, const char *s, size_t n, int final,
    size_t *end, const char **name, size_t *nl)
{
	size_t j = LEN(M_CALL), ae, ce;
	int r;

	*end = 1;	/* what a malformed header gives back */
	while (j < n && s[j] != ']') {
		if ((!name_char((unsigned char)s[j]) && s[j] != ' ') ||
		    j - LEN(M_CALL) >= TOOLS_NAME_MAX + 2)
			return R_BAD;
		j++;
	}
	if (j == n)
		return final ? R_BAD : R_WAIT;
	*name = s + LEN(M_CALL);
	*nl = j - LEN(M_CALL);
	if ((r = call_end(p, s, n, j + 1, final, &ae, &ce)) != R_OK) {
		if (r == R_BAD)
			*end = 1;
		return r;
	}
	*end = ce;
	return decide(p, *name, *nl, s + j + 1, ae - j - 1);
}

static const char *
find(const char *s, size_t n, const char *m)
{
	size_t k = strlen(m), i;

	for (i = 0; i + k <= n; i++)
		if (s[i] == *m && memcmp(s + i, m, k) == 0)
			return s + i;
	return NULL;
}

/* An XML call at s[0] ("<tool_use>"). */
static int
xml_call(struct tools_parser *p, const char *s, size_t n, int final,
    size_t *end, const char **name, size_t *nl)
{
	const char *b, *e, *a, *ax, *x;
	size_t k, bl;
	int in = 0, esc = 0, r;

	*end = 1;
	k = LEN(M_XML);
	scan_load(p, s, &k, &in, &esc);
	for (; k < n; k++) {
		if (k >= TOOLS_MAX_CALL)
			return scan_save(p, s, k, in, esc, R_BAD);
		if (in) {
			if (esc)
				esc = 0;
			else if (s[k] == '\\')
				esc = 1;
			else if (s[k] == '"')
				in = 0;
			continue;
		}
		if (s[k] == '"')
			in = 1;
		else if (s[k] == '<' && (r = starts(s + k, n - k, M_XEND,
		    LEN(M_XEND))) >= 0) {
			if (r == 0)
				break;
			goto found;
		}
	}
	return scan_save(p, s, k, in, esc, final ? R_BAD : R_WAIT);
found:
	scan_save(p, s, k, in, esc, R_OK);
	*end = k + LEN(M_XEND);
	b = s + LEN(M_XML);
	bl = k - LEN(M_XML);
	if ((x = find(b, bl, "<name>")) == NULL ||
	    (e = find(x + 6, bl - (size_t)(x + 6 - b), "</name>")) == NULL)
		return R_BAD;
	*name = x + 6;
	while (*nl = (size_t)(e - *name), *nl > 0 && is_blank(**name))
		(*name)++;
	while (*nl > 0 && is_blank((*name)[*nl - 1]))
		(*nl)--;
	if ((a = find(b, bl, "<arguments>")) == NULL)
		return decide(p, *name, *nl, "", 0);
	a += LEN("<arguments>");
	/* the last closing tag: the JSON may hold the string itself */
	ax = NULL;
	while ((x = find(ax ? ax + 1 : a, bl - (size_t)((ax ? ax + 1 : a) -
	    b), "</arguments>")) != NULL)
		ax = x;
	if (ax == NULL)
		return R_BAD;
	return decide(p, *name, *nl, a, (size_t)(ax - a));
}

/* The candidates at s[0]: 1 a marker, 0 maybe (more data), -1 none. */
static int
opening(const char *s, size_t n, int *kind)
{
	int r, best = -1;

	if (*s == '<') {
		*kind = 2;
		return starts(s, n, M_XML, LEN(M_XML));
	}
	if ((r = starts(s, n, M_BLOCK, LEN(M_BLOCK))) == 1) {
		*kind = 0;
		return 1;
	}
	best = r;
	if ((r = starts(s, n, M_CALL, LEN(M_CALL))) == 1 ||
	    (r = starts(s, n, M_CALLEQ, LEN(M_CALLEQ))) == 1) {
		*kind = 1;
		return 1;
	}
	return best == 0 || r == 0 ? 0 : -1;
}

/* A call at s[i] in text or block mode; *end past it. */
static int
call_at(struct tools_parser *p, const char *s, size_t n, size_t i,
    int xml, int final, size_t *end)
{
	const char *name = NULL;
	size_t nl = 0, e = 1;
	int r;

	r = xml ? xml_call(p, s + i, n - i, final, &e, &name, &nl) :
	    bracket_call(p, s + i, n - i, final, &e, &name, &nl);
	*end = i + e;
	if (r == R_OK && emit_call(p, name, nl) != TOOLS_OK)
		return R_BAD;
	return r;
}

/* Text mode from p->pos: 0 go on (state may change), 1 wait. */
static int
text_step(struct tools_parser *p, const char *s, size_t n, int final)
{
	size_t i = p->pos, t = p->pos, end;
	int kind = 0, r;

	while (i < n) {
		if (s[i] != '[' && s[i] != '<') {
			i++;
			continue;
		}
		r = opening(s + i, n - i, &kind);
		if (r < 0 || (r == 0 && final)) {
			i++;
			continue;
		}
		if (emit_text(p, s + t, i - t) != TOOLS_OK)
			return 1;
		t = i;
		if (r == 0) {
			p->pos = i;
			return 1;
		}
		if (kind == 0) {
			p->state = TP_BLOCK;
			p->keep = i;
			p->block_calls = 0;
			p->pos = i + LEN(M_BLOCK);
			return 0;
		}
		r = call_at(p, s, n, i, kind == 2, final, &end);
		if (r == R_WAIT) {
			p->pos = i;
			return 1;
		}
		if (r == R_OK)
			t = end;	/* else its raw text stays text */
		i = end;
	}
	emit_text(p, s + t, n - t);
	p->pos = n;
	return 1;
}

/* Block mode from p->pos: 0 go on, 1 wait. */
static int
block_step(struct tools_parser *p, const char *s, size_t n, int final)
{
	size_t j = p->pos, end;
	int r, a, b, c;

	for (;;) {
		while (j < n && is_blank(s[j]) && j - p->keep < TOOLS_MAX_CALL)
			j++;
		if (j < n && s[j] == '`' && j - p->keep < TOOLS_MAX_CALL) {
			if ((r = starts(s + j, n - j, "```", 3)) == 0 &&
			    !final)
				return 1;
			if (r == 1) {
				j += 3;
				while (j < n && isalpha((unsigned char)s[j]))
					j++;
				if (j == n && !final)
					return 1;
				continue;
			}
		}
		break;
	}
	if (j == n && !final)
		return 1;
	if (j < n && s[j] == '[') {
		a = starts(s + j, n - j, M_END, LEN(M_END));
		b = starts(s + j, n - j, M_CALL, LEN(M_CALL));
		c = starts(s + j, n - j, M_CALLEQ, LEN(M_CALLEQ));
		if (a == 1) {
			if (p->block_calls == 0)
				emit_text(p, s + p->keep, j + LEN(M_END) -
				    p->keep);
			p->state = TP_TEXT;
			p->pos = j + LEN(M_END);
			return 0;
		}
		if (b == 1 || c == 1) {
			r = call_at(p, s, n, j, 0, final, &end);
			if (r == R_WAIT)
				return 1;
			if (r == R_OK)
				p->block_calls++;
			else
				emit_text(p, s + (p->block_calls ? j :
				    p->keep), end - (p->block_calls ? j :
				    p->keep));
			p->keep = p->pos = end;
			return 0;
		}
		if ((a == 0 || b == 0 || c == 0) && !final)
			return 1;
	}
	/* anything else ends the block */
	if (p->block_calls == 0)
		emit_text(p, s + p->keep, j - p->keep);
	p->state = TP_TEXT;
	p->pos = j;
	return 0;
}

static enum tools_err
run(struct tools_parser *p, int final)
{
	struct buf *h = &p->held;
	size_t base;
	int wait = 0;

	while (!wait && p->err == TOOLS_OK && (p->pos < h->len || final)) {
		if (p->state == TP_TEXT)
			wait = text_step(p, h->p, h->len, final);
		else
			wait = block_step(p, h->p, h->len, final);
		if (final && p->state == TP_TEXT && p->pos >= h->len)
			break;
	}
	/* keep from what may still become text */
	base = p->state == TP_BLOCK && p->block_calls == 0 ? p->keep : p->pos;
	if (base > 0) {
		memmove(h->p, h->p + base, h->len - base);
		h->len -= base;
		p->pos -= base;
		p->keep -= base < p->keep ? base : p->keep;
		if (p->scan_valid && p->scan_call >= base)
			p->scan_call -= base;
		else
			p->scan_valid = 0;
	}
	return p->err;
}

enum tools_err
tools_parse_feed(struct tools_parser *p, const char *s, size_t n)
{
	size_t i = 0;

	if (p->err != TOOLS_OK || n == 0)
		return p->err;
	/* plain text goes straight through, without a copy */
	if (p->state == TP_TEXT && p->held.len == 0) {
		while (i < n && s[i] != '[' && s[i] != '<')
			i++;
		if (emit_text(p, s, i) != TOOLS_OK || i == n)
			return p->err;
	}
	if (buf_add(&p->held, s + i, n - i) != 0)
		return p->err = TOOLS_ENOMEM;
	return run(p, 0);
}

enum tools_err
tools_parse_end(struct tools_parser *p)
{
	if (p->err != TOOLS_OK)
		return p->err;
	run(p, 1);
	buf_reset(&p->held);
	p->pos = p->keep = 0;
	p->scan_valid = 0;
	p->state = TP_TEXT;
	return p->err;
}
