/*
 * The Qwen ticket in the forms users paste it (§6.1) and as the cookie
 * the upstream wants.  Both the provider's table line (normalize, kinds)
 * and every call (api.c) read it here.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/qwen/internal.h"

/* A cookie value: printable ASCII without separators. */
static int
value_ok(const char *s, size_t n)
{
	size_t i;

	if (n < QW_TICKET_MIN || n > QW_TICKET_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' ||
		    s[i] == '\\' || s[i] == ';' || s[i] == ',')
			return 0;
	return 1;
}

/*
 * The value of cookie `name` in a "a=b; c=d" string, without quotes, or
 * NULL; *n its length.
 */
static const char *
cookie_value(const char *s, const char *name, size_t *n)
{
	size_t nl = strlen(name);
	const char *v, *e;

	while (*s != '\0') {
		while (*s == ' ' || *s == ';' || *s == '\t')
			s++;
		if (strncmp(s, name, nl) == 0 && s[nl] == '=') {
			v = s + nl + 1;
			e = v + strcspn(v, ";");
			while (e > v && isspace((unsigned char)e[-1]))
				e--;
			if (e - v >= 2 && *v == '"' && e[-1] == '"') {
				v++;
				e--;
			}
			*n = (size_t)(e - v);
			return v;
		}
		s += strcspn(s, ";");
	}
	return NULL;
}

/*
 * What users paste (§6.1): the ticket, "tongyi_sso_ticket=<ticket>",
 * "login_aliyunid_ticket=<ticket>", or a whole Cookie header holding
 * either.  The stored form is the bare tongyi_sso_ticket, or
 * "login_aliyunid_ticket=<ticket>" for an Alibaba Cloud login.
 */
char *
qw_ticket_normalize(const char *pasted)
{
	const char *s = pasted, *v, *e;
	char *out = NULL;
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	n = (size_t)(e - s);
	if (memchr(s, ';', n) == NULL && memchr(s, '=', n) == NULL)
		return value_ok(s, n) ? strndup(s, n) : NULL;
	/* a cookie string: the tongyi ticket first, the Aliyun one else */
	if ((out = strndup(s, n)) == NULL)
		return NULL;
	if ((v = cookie_value(out, QW_SSO_COOKIE, &n)) != NULL) {
		if (!value_ok(v, n))
			goto bad;
		memmove(out, v, n);
		out[n] = '\0';
		return out;
	}
	if ((v = cookie_value(out, QW_ALIYUN_COOKIE, &n)) != NULL) {
		if (!value_ok(v, n))
			goto bad;
		memmove(out + sizeof(QW_ALIYUN_COOKIE), v, n);
		memcpy(out, QW_ALIYUN_COOKIE "=", sizeof(QW_ALIYUN_COOKIE));
		out[sizeof(QW_ALIYUN_COOKIE) + n] = '\0';
		return out;
	}
	/* no known cookie: a bare ticket may end in Base64's padding */
	n = strlen(out);
	v = strchr(out, '=');
	if (value_ok(out, n) && v != NULL &&
	    strspn(v, "=") == (size_t)(out + n - v))
		return out;
bad:
	free(out);
	return NULL;
}

int
qw_ticket_kind(const char *secret)
{
	return strncmp(secret, QW_ALIYUN_COOKIE "=",
	    sizeof(QW_ALIYUN_COOKIE)) == 0 ? 1 : 0;
}

const char *
qw_cookie(struct arena *a, const char *ticket)
{
	if (ticket == NULL)
		return NULL;
	if (qw_ticket_kind(ticket) == 1)
		return value_ok(ticket + sizeof(QW_ALIYUN_COOKIE),
		    strlen(ticket + sizeof(QW_ALIYUN_COOKIE))) ?
		    arena_strdup(a, ticket) : NULL;
	return value_ok(ticket, strlen(ticket)) ?
	    arena_printf(a, QW_SSO_COOKIE "=%s", ticket) : NULL;
}
