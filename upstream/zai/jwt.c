/*
 * jwt.c - the claims of a Z.ai login token; see jwt.h.
 *
 * The payload is base64url without padding (RFC 7515 §2), decoded into a
 * bounded stack buffer.  Not call_jwt_payload(): a token that does not
 * decode is told from one whose payload is not JSON (zai_jwt_strerror).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "fcgi/b64.h"
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
		} else if (s[i] != '=' &&
		    b64_value((unsigned char)s[i], B64_URL) < 0)
			return 0;
		else
			run++;
	}
	return dots == 2 && run > 0;
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
	if ((n = b64_decode(p, (size_t)(q - p), raw, PAYLOAD_MAX,
	    B64_URL)) < 0)
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
