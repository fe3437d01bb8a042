/*
 * Growable byte buffer with writers by output context: raw, printf and a
 * JSON string (quoted and escaped) for hand-built SSE payloads.
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

#endif
