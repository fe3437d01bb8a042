/*
 * errors.c - Qwen AI's error envelopes, their meaning, the cookie check
 * and the JWT's expiry (see errors.h).  The JWT is only read, never
 * verified: its signature is the upstream's business; exp only tells an
 * expired login from a refused one.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/b64.h"
#include "upstream/jv.h"
#include "upstream/qwenai/errors.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define JWT_PAYLOAD_MAX	2048	/* bytes of a decoded payload read */

static const char *const errs[QA__MAX] = {
	[QA_OK] = "success",
	[QA_ENOMEM] = "out of memory",
	[QA_NET] = "the upstream could not be reached",
	[QA_HTTP] = "the upstream answered an HTTP error",
	[QA_REFUSED] = "the token was refused",
	[QA_EXPIRED] = "the token has expired",
	[QA_FORBIDDEN] = "the upstream refused the account",
	[QA_COOKIES] = "the upstream wants the browser's cookies",
	[QA_LIMITED] = "rate limited",
	[QA_UPSTREAM] = "the upstream reported an error",
	[QA_PROTO] = "an answer without the expected data",
};

const char *
qa_strerror(enum qa_err e)
{
	return (unsigned)e < QA__MAX ? errs[e] : "unknown error";
}

static const char *
str(struct json_object *v)
{
	return json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0 ? json_object_get_string(v) :
	    NULL;
}

/* A code that says nothing went wrong. */
static int
benign(struct json_object *c)
{
	const char *s;

	if (c == NULL || json_object_is_type(c, json_type_null))
		return 1;
	if (json_object_is_type(c, json_type_int))
		return json_object_get_int64(c) == 0 ||
		    json_object_get_int64(c) == 200;
	if ((s = json_object_get_string(c)) == NULL)
		return 1;
	return *s == '\0' || strcmp(s, "0") == 0 || strcmp(s, "200") == 0 ||
	    strcasecmp(s, "success") == 0 || strcasecmp(s, "ok") == 0;
}

/* One line of printable text (control bytes become spaces). */
static void
keep(char *out, size_t outsz, const char *s)
{
	size_t i;

	snprintf(out, outsz, "%s", s != NULL ? s : "");
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
}

int
qa_envelope(struct json_object *root, struct json_object **data, char *code,
    size_t codesz, char *msg, size_t msgsz)
{
	struct json_object *d = jv_get(root, "data");
	struct json_object *e = jv_get(root, "error");
	struct json_object *ok = jv_get(root, "success"), *c;
	struct json_object *codes[] = { jv_get(d, "code"), jv_get(root, "code"),
	    jv_get(e, "code"), jv_get(e, "type") };
	struct json_object *msgs[] = { jv_get(d, "details"),
	    jv_get(d, "message"), jv_get(root, "detail"),
	    jv_get(root, "details"), jv_get(root, "msg"),
	    jv_get(root, "message"), jv_get(e, "message"),
	    jv_get(e, "details"), e };
	const char *m = NULL;
	size_t i;
	int failed;

	*data = NULL;
	code[0] = msg[0] = '\0';
	if (!json_object_is_type(root, json_type_object))
		return -1;
	c = jv_get(root, "code");
	failed = (json_object_is_type(ok, json_type_boolean) &&
	    !json_object_get_boolean(ok)) || !benign(c) ||
	    (e != NULL && !json_object_is_type(e, json_type_null) &&
	    !json_object_is_type(e, json_type_boolean));
	if (!failed) {
		*data = d;
		return 0;
	}
	for (i = 0; i < NITEMS(codes) && code[0] == '\0'; i++)
		if (codes[i] != NULL && !benign(codes[i]))
			keep(code, codesz, json_object_get_string(codes[i]));
	for (i = 0; i < NITEMS(msgs) && m == NULL; i++)
		m = str(msgs[i]);
	keep(msg, msgsz, m);
	return -1;
}

static int
has(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

enum qa_err
qa_classify(long http_status, const char *code)
{
	if (code == NULL)
		code = "";
	if (http_status == 429 || has(code, "ratelimit") ||
	    has(code, "rate_limit") || has(code, "toomany") ||
	    has(code, "too_many") || has(code, "limit"))
		return QA_LIMITED;
	if (http_status == 401 || has(code, "unauthor") ||
	    has(code, "unauthen") || has(code, "login") ||
	    has(code, "token"))
		return QA_REFUSED;
	if (http_status == 403 || has(code, "forbidden"))
		return QA_FORBIDDEN;
	if (strcasecmp(code, "bad_request") == 0 ||
	    strcasecmp(code, "badrequest") == 0)
		return QA_COOKIES;
	if (*code != '\0')
		return QA_UPSTREAM;
	return http_status >= 300 ? QA_HTTP : QA_UPSTREAM;
}

/* Whether the Cookie value names name (as "name=..."). */
static int
cookie_has(const char *cookies, const char *name)
{
	size_t n = strlen(name);
	const char *p = cookies;

	while (p != NULL && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return 1;
		p = strchr(p, ';');
	}
	return 0;
}

size_t
qa_missing_cookies(const char *cookies, char *out, size_t outsz)
{
	static const char *const names[] = { QA_COOKIE_NAMES };
	size_t i, n = 0, len = 0;

	if (outsz > 0)
		out[0] = '\0';
	for (i = 0; i < NITEMS(names); i++) {
		if (cookies != NULL && cookie_has(cookies, names[i]))
			continue;
		if (len < outsz)
			len += (size_t)snprintf(out + len, outsz - len, "%s%s",
			    n > 0 ? ", " : "", names[i]);
		n++;
	}
	return n;
}

int
qa_jwt_ok(const char *s, size_t n)
{
	size_t i, dots = 0;

	if (n < 20 || n > QA_JWT_MAX || strncmp(s, "eyJ", 3) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (i == 0 || s[i - 1] == '.')
				return 0;
			dots++;
		} else if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return 0;
	}
	return dots == 2 && s[n - 1] != '.';
}

long long
qa_jwt_exp(const char *jwt)
{
	unsigned char raw[JWT_PAYLOAD_MAX + 1];
	struct json_object *o, *v;
	const char *p, *q;
	long long exp = -1;
	long n;

	/* not call_jwt_payload(): the fuzz build links no upstream/call.c */
	if (jwt == NULL || !qa_jwt_ok(jwt, strlen(jwt)))
		return -1;
	p = strchr(jwt, '.') + 1;
	q = strchr(p, '.');
	if ((n = b64_decode(p, (size_t)(q - p), raw, JWT_PAYLOAD_MAX,
	    B64_URL)) < 0)
		return -1;
	raw[n] = '\0';
	if ((o = json_tokener_parse((char *)raw)) == NULL)
		return -1;
	v = jv_get(o, "exp");
	if (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double))
		exp = (long long)json_object_get_double(v);
	json_object_put(o);
	return exp;
}
