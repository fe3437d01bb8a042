/*
 * The 400 every request parser of handlers/ answers with (the chat body,
 * the field table, tools, response_format, the dialects): which
 * parameter, which OpenAI code, and why.
 */
#ifndef HANDLERS_REQ_ERROR_H
#define HANDLERS_REQ_ERROR_H

#include <stddef.h>

struct chat_req_error {
	int		 status;	/* 400 */
	const char	*code;		/* invalid_type, invalid_value ... */
	char		 param[64];
	char		 message[256];
};

/* Fills e as a 400 with code, param (may be NULL) and the message; -1. */
int	 chat_req_fail(struct chat_req_error *e, const char *code,
	    const char *param, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* A name of 1..max of [A-Za-z0-9_-] (functions, schemas). */
int	 chat_req_name_ok(const char *s, size_t n, size_t max);

#endif
