#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/buf.h"
#include "fcgi/utf8.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->p)
		b->p[0] = '\0';
}

static int
buf_grow(struct buf *b, size_t need)
{
	size_t ncap;
	char *np;

	if (b->failed)
		return -1;
	if (b->max && b->len + need > b->max) {
		b->failed = 1;
		return -1;
	}
	if (b->len + need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + need + 1)
		ncap *= 2;
	if ((np = realloc(b->p, ncap)) == NULL) {
		b->failed = 1;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_add_utf8(struct buf *b, const char *p, size_t n, size_t max, int line)
{
	const unsigned char *u = (const unsigned char *)p;
	const char *c;
	size_t i, k, w, used = 0;

	for (i = 0; i < n; i += k ? k : 1) {
		c = p + i;
		if ((w = k = utf8_seq_len(u + i, n - i)) == 0) {
			c = "\xef\xbf\xbd";	/* U+FFFD */
			w = 3;
		}
		if (w > max - used)
			break;
		used += w;
		if (line && w == 1 && (u[i] < 0x20 || u[i] == 0x7f))
			c = " ";
		if (buf_add(b, c, w) < 0)
			return -1;
	}
	return b->failed ? -1 : 0;
}

int
buf_add_mdurl(struct buf *b, const char *url, size_t n)
{
	char x[4];
	size_t j;
	int esc;

	for (j = 0; j < n; j++) {
		esc = (unsigned char)url[j] <= 0x20 ||
		    (unsigned char)url[j] >= 0x7f ||
		    strchr("()<>\"`[]\\", url[j]) != NULL;
		snprintf(x, sizeof(x), "%%%02X", (unsigned char)url[j]);
		if (buf_add(b, esc ? x : url + j, esc ? 3 : 1) < 0)
			return -1;
	}
	return b->failed ? -1 : 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_grow(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/*
 * Valid UTF-8 passes through; quotes, backslashes and controls are
 * escaped, and a byte that starts no valid sequence (a path's %ff, a
 * text cut mid-character) becomes U+FFFD: the output is always JSON.
 */
int
buf_json_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	const unsigned char *run;
	size_t k;

	if (buf_add(b, "\"", 1) < 0)
		return -1;
	while (p < end) {
		for (run = p; p < end; p += k) {
			k = 1;
			if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
				continue;
			if (*p < 0x80 ||
			    (k = utf8_seq_len(p, (size_t)(end - p))) == 0)
				break;
		}
		if (p > run && buf_add(b, run, (size_t)(p - run)) < 0)
			return -1;
		if (p == end)
			break;
		switch (*p) {
		case '"':  buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		default:
			if (*p >= 0x80)
				buf_add(b, "\\ufffd", 6);
			else {
				char u[6] = { '\\', 'u', '0', '0',
				    hex[*p >> 4], hex[*p & 15] };
				buf_add(b, u, 6);
			}
		}
		p++;
	}
	return buf_add(b, "\"", 1);
}
