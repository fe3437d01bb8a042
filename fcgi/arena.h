/*
 * Per-request arena: everything a request allocates dies together in
 * arena_reset() at the end of the request.  The first block is kept so a
 * worker thread does not touch malloc for small requests.
 */
#ifndef FCGI_ARENA_H
#define FCGI_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block	*head;
	size_t			 total;	/* bytes handed out since reset */
	size_t			 limit;	/* 0 = none; else alloc fails past it */
};

void	 arena_init(struct arena *, size_t limit);
void	*arena_alloc(struct arena *, size_t);
void	*arena_calloc(struct arena *, size_t n, size_t size);
char	*arena_strdup(struct arena *, const char *);
char	*arena_strndup(struct arena *, const char *, size_t);
char	*arena_printf(struct arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
char	*arena_vprintf(struct arena *, const char *, va_list);
void	 arena_reset(struct arena *);
void	 arena_free(struct arena *);

#endif
