/*
 * jwt.c - the claims of a Z.ai login token; see jwt.h.
 *
 * The payload is base64url without padding (RFC 7515 §2).  It is decoded
 * by hand into a bounded stack buffer rather than through OpenSSL's
 * padded-base64 decoder, which would need the alphabet rewritten and the
 * padding restored first.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "upstream/zai/jwt.h"

#define PAYLOAD_MAX	((ZAI_JWT_MAX / 4) * 3 + 3)

static const char *const jwt_errs[ZAI_JWT__MAX] = {
	[ZAI_JWT_OK] = "success",
	[ZAI_JWT_SHAPE] = "not a JWT (three base64url parts)",
	[ZAI_JWT_BASE64] = "the JWT payload is not base64url",
	[ZAI_JWT_JSON] = "the JWT payload is not a JSON object",
};

const char *
zai_jwt_strerror(enum zai_jwt_err e)
{
	return (unsigned)e < ZAI_JWT__MAX ? jwt_errs[e] : "unknown error";
}

/* The 6-bit value of a base64url character, or -1. */
static int
b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

int
zai_jwt_shape(const char *s, size_t n)
{
	size_t i, run = 0, dots = 0;

	if (n < ZAI_JWT_MIN || n > ZAI_JWT_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (run == 0 || ++dots > 2)
				return 0;
			run = 0;
		} else if (b64url_val((unsigned char)s[i]) < 0 && s[i] != '=')
			return 0;
		else
			run++;
	}
	return dots == 2 && run > 0;
}

/* base64url (padding tolerated) into out; the length, or -1. */
static long
b64url_decode(const char *s, size_t n, unsigned char *out, size_t outsz)
{
	unsigned acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;	/* no byte ends on a single character */
	for (i = 0; i < n; i++) {
		if ((v = b64url_val((unsigned char)s[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (o == outsz)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)o;
}

/* A claim as text: a string, or an integer written out. */
static int
claim(struct json_object *o, const char *key, char *out, size_t outsz)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_int))
		snprintf(out, outsz, "%lld",
		    (long long)json_object_get_int64(v));
	else if (json_object_is_type(v, json_type_string) &&
	    (s = json_object_get_string(v))[0] != '\0' &&
	    (size_t)json_object_get_string_len(v) < outsz &&
	    strlen(s) == (size_t)json_object_get_string_len(v))
		memcpy(out, s, strlen(s) + 1);
	else
		return 0;
	return 1;
}

enum zai_jwt_err
zai_jwt_claims(const char *jwt, struct zai_claims *c)
{
	static const char *const ids[] = { "id", "user_id", "uid", "sub" };
	unsigned char raw[PAYLOAD_MAX + 1];
	struct json_object *o = NULL, *v;
	const char *p, *q;
	enum zai_jwt_err e;
	size_t i;
	long n;

	memset(c, 0, sizeof(*c));
	snprintf(c->user_id, sizeof(c->user_id), ZAI_GUEST_USER);
	if (jwt == NULL || !zai_jwt_shape(jwt, strlen(jwt)))
		return ZAI_JWT_SHAPE;
	p = strchr(jwt, '.') + 1;
	q = strchr(p, '.');
	if ((n = b64url_decode(p, (size_t)(q - p), raw, PAYLOAD_MAX)) < 0)
		return ZAI_JWT_BASE64;
	raw[n] = '\0';
	if ((size_t)n != strlen((char *)raw) ||
	    (o = json_tokener_parse((char *)raw)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		e = ZAI_JWT_JSON;
		goto out;
	}
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (claim(o, ids[i], c->user_id, sizeof(c->user_id)))
			break;
	claim(o, "email", c->email, sizeof(c->email));
	c->guest = strcasestr(c->email, ZAI_GUEST_DOMAIN) != NULL;
	if (json_object_object_get_ex(o, "exp", &v) &&
	    (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		c->exp = json_object_get_int64(v);
	e = ZAI_JWT_OK;
out:
	json_object_put(o);
	return e;
}

int
zai_jwt_expired(const struct zai_claims *c, int64_t now)
{
	return c->exp > 0 && c->exp < now;
}
