/* Strict JSON in strict UTF-8 (see fcgi/jstrict.h). */
#include "config.h"

#include <string.h>

#include "fcgi/jstrict.h"
#include "fcgi/utf8.h"

struct jscan {
	const unsigned char	*s;
	size_t			 n, i, depth, max_depth;
	enum jstrict_err	 err;
};

static int	 value(struct jscan *);

const char *
jstrict_strerror(enum jstrict_err e)
{
	switch (e) {
	case JSTRICT_OK:
		return "ok";
	case JSTRICT_EMPTY:
		return "empty body";
	case JSTRICT_SYNTAX:
		return "invalid JSON";
	case JSTRICT_UTF8:
		return "invalid UTF-8";
	case JSTRICT_DEPTH:
		return "nested too deeply";
	case JSTRICT_TRAILING:
		return "data after the JSON value";
	}
	return "unknown error";
}

static int
fail(struct jscan *j, enum jstrict_err e)
{
	if (j->err == JSTRICT_OK)
		j->err = e;
	return -1;
}

static void
blanks(struct jscan *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
	    j->s[j->i] == '\n' || j->s[j->i] == '\r'))
		j->i++;
}

static int
literal(struct jscan *j, const char *word)
{
	size_t k = strlen(word);

	if (j->n - j->i < k || memcmp(j->s + j->i, word, k) != 0)
		return fail(j, JSTRICT_SYNTAX);
	j->i += k;
	return 0;
}

static int
digits(struct jscan *j)
{
	size_t start = j->i;

	while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
		j->i++;
	return j->i > start ? 0 : fail(j, JSTRICT_SYNTAX);
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
number(struct jscan *j)
{
	if (j->s[j->i] == '-')
		j->i++;
	if (j->i < j->n && j->s[j->i] == '0')
		j->i++;
	else if (digits(j) < 0)
		return -1;
	if (j->i < j->n && j->s[j->i] == '.') {
		j->i++;
		if (digits(j) < 0)
			return -1;
	}
	if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
		j->i++;
		if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
			j->i++;
		if (digits(j) < 0)
			return -1;
	}
	return 0;
}

static int
string(struct jscan *j)
{
	size_t k;
	int h;

	j->i++;		/* the opening quote */
	while (j->i < j->n) {
		unsigned char c = j->s[j->i];

		if (c == '"') {
			j->i++;
			return 0;
		}
		if (c < 0x20)	/* controls must be escaped */
			return fail(j, JSTRICT_SYNTAX);
		if (c == '\\') {
			if (++j->i >= j->n)
				break;
			c = j->s[j->i];
			if (c == 'u') {
				for (h = 0; h < 4; h++) {
					if (++j->i >= j->n)
						return fail(j, JSTRICT_SYNTAX);
					c = j->s[j->i];
					if (!((c >= '0' && c <= '9') ||
					    (c >= 'a' && c <= 'f') ||
					    (c >= 'A' && c <= 'F')))
						return fail(j, JSTRICT_SYNTAX);
				}
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
				return fail(j, JSTRICT_SYNTAX);
			j->i++;
			continue;
		}
		if (c < 0x80) {
			j->i++;
			continue;
		}
		if ((k = utf8_seq_len(j->s + j->i, j->n - j->i)) == 0)
			return fail(j, JSTRICT_UTF8);
		j->i += k;
	}
	return fail(j, JSTRICT_SYNTAX);	/* unterminated */
}

/* The members of an object or the items of an array, after the opener. */
static int
container(struct jscan *j, int object)
{
	unsigned char close = object ? '}' : ']';

	if (++j->depth > j->max_depth)
		return fail(j, JSTRICT_DEPTH);
	j->i++;
	blanks(j);
	if (j->i < j->n && j->s[j->i] == close) {
		j->i++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (object) {
			blanks(j);
			if (j->i >= j->n || j->s[j->i] != '"')
				return fail(j, JSTRICT_SYNTAX);
			if (string(j) < 0)
				return -1;
			blanks(j);
			if (j->i >= j->n || j->s[j->i] != ':')
				return fail(j, JSTRICT_SYNTAX);
			j->i++;
		}
		if (value(j) < 0)
			return -1;
		blanks(j);
		if (j->i >= j->n)
			return fail(j, JSTRICT_SYNTAX);
		if (j->s[j->i] == close) {
			j->i++;
			j->depth--;
			return 0;
		}
		if (j->s[j->i] != ',')
			return fail(j, JSTRICT_SYNTAX);
		j->i++;
	}
}

static int
value(struct jscan *j)
{
	blanks(j);
	if (j->i >= j->n)
		return fail(j, JSTRICT_SYNTAX);
	switch (j->s[j->i]) {
	case '{':
		return container(j, 1);
	case '[':
		return container(j, 0);
	case '"':
		return string(j);
	case 't':
		return literal(j, "true");
	case 'f':
		return literal(j, "false");
	case 'n':
		return literal(j, "null");
	default:
		if (j->s[j->i] == '-' ||
		    (j->s[j->i] >= '0' && j->s[j->i] <= '9'))
			return number(j);
		if (j->s[j->i] >= 0x80 &&
		    utf8_seq_len(j->s + j->i, j->n - j->i) == 0)
			return fail(j, JSTRICT_UTF8);
		return fail(j, JSTRICT_SYNTAX);
	}
}

enum jstrict_err
jstrict_check(const char *s, size_t n, size_t max_depth, size_t *off)
{
	struct jscan j;

	memset(&j, 0, sizeof(j));
	j.s = (const unsigned char *)s;
	j.n = n;
	j.max_depth = max_depth;
	blanks(&j);
	if (j.i >= n)
		j.err = JSTRICT_EMPTY;
	else if (value(&j) == 0) {
		blanks(&j);
		if (j.i < n)
			j.err = JSTRICT_TRAILING;
	}
	if (off != NULL)
		*off = j.i;
	return j.err;
}
