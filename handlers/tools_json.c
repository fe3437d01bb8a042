/*
 * Call arguments as models write them, made into strict JSON.  One pass
 * rewrites what models get wrong (providers.md §10.7): raw newlines and
 * tabs inside strings, single-quoted strings, bare keys, trailing commas,
 * escapes JSON does not have.  json-c then parses the result strictly
 * and writes it back compact, so what leaves here is always valid.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "handlers/tools.h"

static int
ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c == '$';
}

static int
ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c == '-';
}

/* The index of the next non-blank byte at or after i, or n. */
static size_t
skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

/* One string body from s[i] (after the quote) up to and past quote q. */
static size_t
put_string(const char *s, size_t n, size_t i, char q, struct buf *b)
{
	unsigned char c;

	buf_adds(b, "\"");
	while (i < n) {
		c = (unsigned char)s[i++];
		if (c == (unsigned char)q)
			break;
		if (c == '\\' && i < n) {
			c = (unsigned char)s[i++];
			if (strchr("\"\\/bfnrtu", c) != NULL && c != '\0') {
				buf_add(b, "\\", 1);
				buf_add(b, &c, 1);
			} else if (c == '\'')
				buf_adds(b, "'");
			else if (c == '\n')
				buf_adds(b, "\\n");
			else {
				/* a lone backslash, as a regex writes it */
				buf_adds(b, "\\\\");
				i--;
			}
			continue;
		}
		if (c == '"')
			buf_adds(b, "\\\"");	/* only in a '...' string */
		else if (c == '\n')
			buf_adds(b, "\\n");
		else if (c == '\r')
			buf_adds(b, "\\r");
		else if (c == '\t')
			buf_adds(b, "\\t");
		else if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else
			buf_add(b, &c, 1);
	}
	buf_adds(b, "\"");
	return i;
}

/* The lenient pass: s into b, closer to JSON. */
static void
normalize(const char *s, size_t n, struct buf *b)
{
	size_t i = 0, j;
	unsigned char c;

	while (i < n) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\'') {
			i = put_string(s, n, i + 1, (char)c, b);
			continue;
		}
		if (c == ',') {
			j = skip_ws(s, n, i + 1);
			if (j < n && (s[j] == '}' || s[j] == ']')) {
				i = j;		/* trailing comma */
				continue;
			}
		}
		if (ident_start(c)) {
			j = i;
			while (j < n && ident_char((unsigned char)s[j]))
				j++;
			if (skip_ws(s, n, j) < n && s[skip_ws(s, n, j)] ==
			    ':') {
				buf_adds(b, "\"");	/* a bare key */
				buf_add(b, s + i, j - i);
				buf_adds(b, "\"");
			} else
				buf_add(b, s + i, j - i);
			i = j;
			continue;
		}
		buf_add(b, &c, 1);
		i++;
	}
}

static int
parse_object(const char *s, size_t n, struct buf *out)
{
	struct json_tokener *tok;
	struct json_object *o;
	const char *js;
	int ok = -1;

	if (n > TOOLS_MAX_CALL || (tok = json_tokener_new_ex(64)) == NULL)
		return -1;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (o != NULL && json_object_is_type(o, json_type_object) &&
	    skip_ws(s, n, json_tokener_get_parse_end(tok)) == n) {
		js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		buf_reset(out);
		if (js != NULL && buf_adds(out, js) == 0)
			ok = 0;
	}
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

int
tools_json_repair(const char *s, size_t n, struct buf *out)
{
	struct buf b;
	int rc;

	if (parse_object(s, n, out) == 0)
		return 0;
	buf_init(&b, TOOLS_MAX_CALL * 2);
	normalize(s, n, &b);
	rc = b.failed ? -1 : parse_object(b.p ? b.p : "", b.len, out);
	buf_free(&b);
	return rc;
}
