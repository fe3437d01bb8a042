/*
 * Credential redaction (see redact.h).  Two passes over at most
 * max + REDACT_SLACK bytes (the rest of a long body is cut anyway, and
 * the slack lets a token that starts before the cut be seen whole):
 * first the values of credential members, then key-shaped tokens
 * anywhere, member names included.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "fcgi/redact.h"

#define TOKEN_MIN	16	/* shorter runs after sk- are no key */

static const char *const secret_words[] = { "token", "secret", "password",
	"passwd", "authorization", "api_key", "apikey", "api-key", "cookie",
	"credential", "session", NULL };

static int
tokch(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~' || c == '+' || c == '/' || c == '=';
}

static size_t
run(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && tokch((unsigned char)p[i]))
		i++;
	return i;
}

static int
secret_name(const char *p, size_t n)
{
	const char *const *w;
	size_t wl, i;

	for (w = secret_words; *w != NULL; w++) {
		wl = strlen(*w);
		for (i = 0; i + wl <= n; i++)
			if (strncasecmp(p + i, *w, wl) == 0)
				return 1;
	}
	return 0;
}

/* End of the JSON string that starts after the quote at p[0], or 0. */
static size_t
str_end(const char *p, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i;
	}
	return 0;
}

/*
 * At a quoted member name of a credential: copies the name, the colon and
 * a redacted value into o; answers the input consumed, or 0.
 */
static size_t
member(const char *p, size_t n, char *o, size_t *olen)
{
	size_t e, i, v;

	if ((e = str_end(p, n)) == 0 || e > 64 || !secret_name(p + 1, e - 1))
		return 0;
	for (i = e + 1; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	if (i >= n || p[i] != ':')
		return 0;
	for (i++; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	if (i >= n || p[i] != '"' || (v = str_end(p + i, n - i)) == 0)
		return 0;
	memcpy(o + *olen, p, i + 1);
	*olen += i + 1;
	memcpy(o + *olen, REDACT_MARK "\"", sizeof(REDACT_MARK));
	*olen += sizeof(REDACT_MARK);
	return i + v + 1;
}

/* Pass 1: the values of credential members. */
static size_t
members(const char *in, size_t n, char *out)
{
	size_t i = 0, o = 0, k;

	while (i < n) {
		if (in[i] == '"' && (k = member(in + i, n - i, out, &o)) > 0)
			i += k;
		else
			out[o++] = in[i++];
	}
	return o;
}

/*
 * Pass 2: bearer values and key-shaped tokens, also where pass 1 copied
 * them as member names.
 */
static size_t
tokens(const char *in, size_t n, char *out)
{
	size_t i = 0, o = 0, t;

	while (i < n) {
		if (n - i > 7 && strncasecmp(in + i, "bearer ", 7) == 0 &&
		    (t = run(in + i + 7, n - i - 7)) > 0) {
			memcpy(out + o, in + i, 7);
			memcpy(out + o + 7, REDACT_MARK,
			    sizeof(REDACT_MARK) - 1);
			o += 7 + sizeof(REDACT_MARK) - 1;
			i += 7 + t;
			continue;
		}
		if ((i == 0 || !tokch((unsigned char)in[i - 1])) &&
		    n - i > 3 && (strncmp(in + i, "sk-", 3) == 0 ||
		    strncmp(in + i, "eyJ", 3) == 0) &&
		    (t = run(in + i, n - i)) >= TOKEN_MIN + 3) {
			memcpy(out + o, REDACT_MARK, sizeof(REDACT_MARK) - 1);
			o += sizeof(REDACT_MARK) - 1;
			i += t;
			continue;
		}
		out[o++] = in[i++];
	}
	return o;
}

char *
redact_text(struct arena *a, const char *in, size_t len, size_t max,
    size_t *outlen)
{
	size_t n = len, m, o;
	char *mid, *out;

	*outlen = 0;
	if (n > max + REDACT_SLACK)
		n = max + REDACT_SLACK;
	/*
	 * A member grows by less than the mark, a bearer value of one byte
	 * by the mark less one: 2n and 3m bound the two passes.
	 */
	if ((mid = arena_alloc(a, 2 * n + sizeof(REDACT_MARK))) == NULL)
		return NULL;
	m = members(in, n, mid);
	if ((out = arena_alloc(a, 3 * m + sizeof(REDACT_MARK))) == NULL)
		return NULL;
	o = tokens(mid, m, out);
	/* Cut at max, never inside a UTF-8 sequence. */
	if (o > max) {
		o = max;
		while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
			o--;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}
