/*
 * token.c - JWT claims of Kimi's credentials (see token.h).  The payload
 * is base64url without padding; it is decoded here with a small
 * decoder of its own alphabet rather than by rewriting it for
 * OpenSSL's, since every byte has to be checked anyway.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "upstream/kimi/token.h"

#define JWT_PAYLOAD_MAX	6144	/* base64url characters of a payload */
#define JWT_DEPTH	8

/* A base64url digit's value (the standard alphabet's + / too), or -1. */
static int
b64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

/* s[0..n) decoded into out (n * 3 / 4 + 1 bytes); its length or -1. */
static long
b64url_decode(const char *s, size_t n, unsigned char *out)
{
	unsigned long acc = 0;
	size_t i, o = 0;
	int bits = 0, d;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((d = b64_digit((unsigned char)s[i])) < 0)
			return -1;
		acc = (acc << 6 | (unsigned long)d) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}

/* A claim usable as a header value, or "". */
static void
claim(json_object *o, const char *key, char *out, size_t outsz)
{
	json_object *v;
	const char *s;
	size_t i, n;

	out[0] = '\0';
	if (!json_object_object_get_ex(o, key, &v))
		return;
	if (json_object_is_type(v, json_type_int)) {
		snprintf(out, outsz, "%" PRId64, json_object_get_int64(v));
		return;
	}
	if (!json_object_is_type(v, json_type_string))
		return;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n >= outsz)
		return;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    strchr("._:-", s[i]) != NULL) || s[i] == '\0')
			return;
	memcpy(out, s, n + 1);
}

static int64_t
number(json_object *o, const char *key)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return 0;
	n = json_object_get_int64(v);
	return n > 0 ? n : 0;
}

int
kimi_claims(const char *token, struct kimi_claims *out)
{
	const char *p, *q;
	unsigned char *raw = NULL;
	json_tokener *tok = NULL;
	json_object *o = NULL;
	long len;
	size_t n;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (token == NULL || (p = strchr(token, '.')) == NULL ||
	    (q = strchr(p + 1, '.')) == NULL || strchr(q + 1, '.') != NULL ||
	    p == token || q[1] == '\0')
		return -1;
	n = (size_t)(q - p - 1);
	if (n == 0 || n > JWT_PAYLOAD_MAX ||
	    (raw = malloc(n * 3 / 4 + 1)) == NULL)
		return -1;
	if ((len = b64url_decode(p + 1, n, raw)) <= 0 ||
	    (tok = json_tokener_new_ex(JWT_DEPTH)) == NULL)
		goto out;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)raw, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != (size_t)len ||
	    !json_object_is_type(o, json_type_object))
		goto out;
	out->jwt = 1;
	claim(o, "typ", out->typ, sizeof(out->typ));
	claim(o, "app_id", out->app_id, sizeof(out->app_id));
	claim(o, "sub", out->sub, sizeof(out->sub));
	claim(o, "device_id", out->device_id, sizeof(out->device_id));
	claim(o, "ssid", out->ssid, sizeof(out->ssid));
	out->iat = number(o, "iat");
	out->exp = number(o, "exp");
	rc = 0;
out:
	json_object_put(o);
	if (tok != NULL)
		json_tokener_free(tok);
	free(raw);
	return rc;
}

enum kimi_kind
kimi_kind_of(const char *secret)
{
	struct kimi_claims c;

	if (kimi_claims(secret, &c) == 0 && strcmp(c.app_id, "kimi") == 0 &&
	    strcmp(c.typ, "access") == 0)
		return KIMI_KIND_ACCESS;
	return KIMI_KIND_REFRESH;
}

int64_t
kimi_renew_at(const struct kimi_claims *c, int64_t now)
{
	int64_t life, margin;

	if (c->exp == 0)
		life = KIMI_ACCESS_TTL;
	else if (c->iat > 0 && c->exp > c->iat)
		life = c->exp - c->iat;
	else
		life = c->exp - now;
	if (life <= 0)
		return now;
	margin = life / KIMI_MARGIN_DIV;
	if (margin < 1 && life > 1)
		margin = 1;	/* whole seconds: never up to the last one */
	if (margin > KIMI_MARGIN_MAX)
		margin = KIMI_MARGIN_MAX;
	return now + life - margin;
}
