/* The request parsers' 400 (see req_error.h). */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "handlers/req_error.h"

int
chat_req_fail(struct chat_req_error *e, const char *code, const char *param,
    const char *fmt, ...)
{
	va_list ap;

	e->status = 400;
	e->code = code;
	snprintf(e->param, sizeof(e->param), "%s", param ? param : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

int
chat_req_name_ok(const char *s, size_t n, size_t max)
{
	size_t i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}
