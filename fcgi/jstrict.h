/*
 * Strict JSON (RFC 8259) in strict UTF-8, checked before json-c sees a
 * body and after we serialise one.  json-c alone is lenient: it takes
 * single quotes, NaN, raw control characters in strings, overlong UTF-8
 * and a NUL after the value.  This checker takes exactly one value with
 * only blanks around it; it allocates nothing and does no I/O.
 */
#ifndef FCGI_JSTRICT_H
#define FCGI_JSTRICT_H

#include <stddef.h>

enum jstrict_err {
	JSTRICT_OK,
	JSTRICT_EMPTY,		/* nothing but blanks */
	JSTRICT_SYNTAX,		/* not JSON at *off */
	JSTRICT_UTF8,		/* an invalid UTF-8 sequence at *off */
	JSTRICT_DEPTH,		/* nested deeper than allowed */
	JSTRICT_TRAILING,	/* something after the value */
};

const char	*jstrict_strerror(enum jstrict_err);

/*
 * s[0..n) as one JSON value nested at most max_depth arrays/objects
 * deep.  *off (may be NULL) gets the offset where checking stopped.
 */
enum jstrict_err jstrict_check(const char *s, size_t n, size_t max_depth,
	    size_t *off);

#endif
