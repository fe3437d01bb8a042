/*
 * Growable byte buffer with writers by output context: raw, printf, a
 * JSON string (quoted and escaped) for hand-built SSE payloads,
 * upstream text made valid UTF-8, and a markdown link's URL.
 */
#ifndef FCGI_BUF_H
#define FCGI_BUF_H

#include <stddef.h>

struct buf {
	char	*p;
	size_t	 len, cap;
	size_t	 max;		/* 0: unlimited; appends past it fail */
	int	 failed;	/* sticky: one check at the end suffices */
};

void	 buf_init(struct buf *, size_t max);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_adds(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_json_str(struct buf *, const char *, size_t);
/*
 * p[0..n) as valid UTF-8 (a byte that starts no valid character becomes
 * U+FFFD), at most max bytes of it, cut between characters; with line
 * set, control characters become spaces.
 */
int	 buf_add_utf8(struct buf *, const char *p, size_t n, size_t max,
	    int line);
/*
 * A URL as a markdown link's target: controls, spaces, non-ASCII bytes
 * and what could end the link ( ) < > " ` [ ] \ as %XX.
 */
int	 buf_add_mdurl(struct buf *, const char *url, size_t n);

#endif
