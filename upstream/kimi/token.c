/*
 * token.c - JWT claims of Kimi's credentials (see token.h): the payload
 * as upstream/call.c decodes it, each claim checked before it may go
 * into a header.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "upstream/call.h"
#include "upstream/kimi/token.h"

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
	json_object *o;

	memset(out, 0, sizeof(*out));
	if ((o = call_jwt_payload(token)) == NULL)
		return -1;
	out->jwt = 1;
	claim(o, "typ", out->typ, sizeof(out->typ));
	claim(o, "app_id", out->app_id, sizeof(out->app_id));
	claim(o, "sub", out->sub, sizeof(out->sub));
	claim(o, "device_id", out->device_id, sizeof(out->device_id));
	claim(o, "ssid", out->ssid, sizeof(out->ssid));
	out->iat = number(o, "iat");
	out->exp = number(o, "exp");
	json_object_put(o);
	return 0;
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
