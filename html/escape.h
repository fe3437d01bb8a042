/*
 * Escaping by output context.  Every value that reaches a page goes
 * through the helper named for where it lands: element text, a quoted
 * attribute value, or one argument of a URL query.  The helpers append to
 * a struct buf (fcgi/buf.h) whose sticky failed flag is checked once.
 *
 * Bytes that are not valid UTF-8, and control characters other than tab
 * and newline, become U+FFFD: a page never carries raw junk from a token
 * or an upstream error message.
 */
#ifndef HTML_ESCAPE_H
#define HTML_ESCAPE_H

#include <stddef.h>
#include <sys/types.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"

/* Element content: & < > " ' become entities. */
int	 html_txt(struct buf *, const char *, size_t);
int	 html_txts(struct buf *, const char *);

/*
 * A double-quoted attribute value: everything outside [A-Za-z0-9] and
 * "-_./:?@~,%" in ASCII becomes a numeric entity, so the value cannot end
 * the attribute even if a template forgot the quotes.
 */
int	 html_attr(struct buf *, const char *, size_t);
int	 html_attrs(struct buf *, const char *);

/* One query argument: all but RFC 3986 unreserved bytes become %XX. */
int	 url_arg(struct buf *, const char *, size_t);
int	 url_args(struct buf *, const char *);

/*
 * Decodes %XX (and '+' as space when plus is set) from src into dst, which
 * may be src itself.  Returns the decoded length, or -1 on a malformed
 * escape.  dst gets a terminating NUL; it must hold len + 1 bytes.
 */
ssize_t	 url_unarg(char *dst, const char *src, size_t len, int plus);

/*
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line
 * break, quotes doubled; a leading = + - @ gets a ' so a spreadsheet
 * opening the export never runs it as a formula.
 */
int	 csv_field(struct buf *, const char *, size_t);

/*
 * The first value of key in an application/x-www-form-urlencoded body,
 * decoded into the arena.  1 found, 0 absent, -1 malformed (bad escape or
 * an encoded NUL) or out of memory.
 */
int	 form_field(struct arena *, const char *body, size_t len,
	    const char *key, char **val, size_t *vlen);

#endif
