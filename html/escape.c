/* Escaping helpers by output context (see html/escape.h). */
#include "config.h"

#include <string.h>

#include "fcgi/hex.h"
#include "fcgi/utf8.h"
#include "html/escape.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

/*
 * The common walk: ASCII goes to the context's callback, valid multi-byte
 * UTF-8 is copied, anything else becomes U+FFFD.
 */
static int
escape_walk(struct buf *b, const char *s, size_t len,
    int (*ascii)(struct buf *, unsigned char))
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x80) {
			if (ascii(b, p[i]) < 0)
				return -1;
			i++;
			continue;
		}
		if ((n = utf8_seq_len(p + i, len - i)) == 0) {
			if (buf_add(b, REPLACEMENT, 3) < 0)
				return -1;
			i++;
			continue;
		}
		if (buf_add(b, p + i, n) < 0)
			return -1;
		i += n;
	}
	return b->failed ? -1 : 0;
}

static int
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f;
}

static int
txt_ascii(struct buf *b, unsigned char c)
{
	switch (c) {
	case '&':
		return buf_add(b, "&amp;", 5);
	case '<':
		return buf_add(b, "&lt;", 4);
	case '>':
		return buf_add(b, "&gt;", 4);
	case '"':
		return buf_add(b, "&quot;", 6);
	case '\'':
		return buf_add(b, "&#39;", 5);
	}
	if (is_ctl(c))
		return buf_add(b, REPLACEMENT, 3);
	return buf_add(b, &c, 1);
}

int
html_txt(struct buf *b, const char *s, size_t len)
{
	return escape_walk(b, s, len, txt_ascii);
}

int
html_txts(struct buf *b, const char *s)
{
	return s == NULL ? 0 : html_txt(b, s, strlen(s));
}

static int
attr_ascii(struct buf *b, unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("-_./:?@~,%", c) != NULL)
		return buf_add(b, &c, 1);
	if (is_ctl(c))
		return buf_add(b, REPLACEMENT, 3);
	return buf_printf(b, "&#x%02X;", c);
}

int
html_attr(struct buf *b, const char *s, size_t len)
{
	return escape_walk(b, s, len, attr_ascii);
}

int
html_attrs(struct buf *b, const char *s)
{
	return s == NULL ? 0 : html_attr(b, s, strlen(s));
}

int
url_arg(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	char e[3];
	size_t i;

	/* Byte-wise: percent-encoding is defined on octets, not text. */
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			buf_add(b, &c, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		buf_add(b, e, 3);
	}
	return b->failed ? -1 : 0;
}

int
url_args(struct buf *b, const char *s)
{
	return s == NULL ? 0 : url_arg(b, s, strlen(s));
}

ssize_t
url_unarg(char *dst, const char *src, size_t len, int plus)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		char c = src[i];
		if (c == '%') {
			if (len - i < 3 || (hi = hex_value(src[i + 1])) < 0 ||
			    (lo = hex_value(src[i + 2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		dst[o++] = c;	/* o <= i: safe when dst == src */
	}
	dst[o] = '\0';
	return (ssize_t)o;
}

int
form_field(struct arena *a, const char *body, size_t len, const char *key,
    char **val, size_t *vlen)
{
	const char *p = body, *end = body + len, *amp, *eq;
	size_t klen = strlen(key), plen;
	char *kbuf, *out;
	ssize_t n;

	*val = NULL;
	*vlen = 0;
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		plen = amp != NULL ? (size_t)(amp - p) : (size_t)(end - p);
		eq = memchr(p, '=', plen);
		/* Keys are matched decoded, so "c%73rf" is still "csrf". */
		if (eq != NULL && (size_t)(eq - p) < 256 &&
		    (kbuf = arena_alloc(a, (size_t)(eq - p) + 1)) != NULL &&
		    (n = url_unarg(kbuf, p, (size_t)(eq - p), 1)) >= 0 &&
		    (size_t)n == klen && memcmp(kbuf, key, klen) == 0) {
			plen -= (size_t)(eq - p) + 1;
			if ((out = arena_alloc(a, plen + 1)) == NULL)
				return -1;
			if ((n = url_unarg(out, eq + 1, plen, 1)) < 0 ||
			    memchr(out, '\0', (size_t)n) != NULL)
				return -1;
			*val = out;
			*vlen = (size_t)n;
			return 1;
		}
		p = amp != NULL ? amp + 1 : end;
	}
	return 0;
}

int
csv_field(struct buf *b, const char *s, size_t n)
{
	size_t i;
	int quote = 0;

	for (i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			quote = 1;
	if (quote && buf_add(b, "\"", 1) < 0)
		return -1;
	if (n > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
	    s[0] == '@') && buf_add(b, "'", 1) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((s[i] == '"' && buf_add(b, "\"", 1) < 0) ||
		    buf_add(b, s + i, 1) < 0)
			return -1;
	return quote ? buf_add(b, "\"", 1) : 0;
}
