/* Base64 (see fcgi/b64.h). */
#include "config.h"

#include <stdint.h>

#include "fcgi/b64.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
b64_value(unsigned char c, int flags)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (flags & B64_STD && (c == '+' || c == '/'))
		return c == '+' ? 62 : 63;
	if (flags & B64_URL && (c == '-' || c == '_'))
		return c == '-' ? 62 : 63;
	return -1;
}

size_t
b64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	char *o = out;
	uint32_t v;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		o[0] = b64_alphabet[v >> 18];
		o[1] = b64_alphabet[(v >> 12) & 63];
		o[2] = b64_alphabet[(v >> 6) & 63];
		o[3] = b64_alphabet[v & 63];
		o += 4;
	}
	if (i < n) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		o[0] = b64_alphabet[v >> 18];
		o[1] = b64_alphabet[(v >> 12) & 63];
		o[2] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		o[3] = '=';
		o += 4;
	}
	return (size_t)(o - out);
}

static int
b64_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

long
b64_decode(const char *s, size_t n, unsigned char *out, size_t outsz,
    int flags)
{
	size_t i, m = 0, used = 0, o = 0;
	unsigned char c, last = 0, last2 = 0;
	uint32_t acc = 0;
	int bits = 0, v, ws = flags & B64_FORGIVING;

	for (i = 0; i < n; i++) {
		if (ws && b64_ws((unsigned char)s[i]))
			continue;
		last2 = last;
		last = (unsigned char)s[i];
		m++;
	}
	if (!ws)
		while (m > 0 && s[m - 1] == '=')
			m--;
	else if (m % 4 == 0 && m > 0 && last == '=')
		m -= last2 == '=' ? 2 : 1;
	if (m % 4 == 1)
		return -1;	/* no byte ends on a single digit */
	for (i = 0; i < n && used < m; i++) {
		c = (unsigned char)s[i];
		if (ws && b64_ws(c))
			continue;
		used++;
		if ((v = b64_value(c, flags)) < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (o == outsz)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}
