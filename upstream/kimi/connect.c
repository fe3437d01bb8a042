/*
 * connect.c - Connect-RPC envelopes (see connect.h).
 *
 * The reader is a two-state machine, "header" and "payload", that never
 * looks at a byte twice: the five header bytes are gathered wherever the
 * chunks cut them, and a payload that arrives whole is handed on from the
 * caller's chunk without a copy.  The end-of-stream payload and the error
 * bodies of the unary calls are small JSON read with json-c.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "upstream/jv.h"
#include "upstream/kimi/connect.h"

#define KC_FLAGS_KNOWN	(KC_FLAG_COMPRESSED | KC_FLAG_END)
#define KC_RETRY_MAX	86400	/* s of a retry-after we believe */

static const char *const kc_errs[KC__MAX] = {
	[KC_OK] = "success",
	[KC_ENOMEM] = "out of memory",
	[KC_TOOBIG] = "a Connect message over the size limit",
	[KC_COMPRESSED] = "a compressed Connect message (none was asked for)",
	[KC_FLAGS] = "unknown Connect envelope flags",
	[KC_TRAILING] = "data after the end-of-stream message",
	[KC_TRUNCATED] = "the stream ended inside a Connect envelope",
	[KC_ABORT] = "stopped by the reader",
};

const char *
kc_strerror(enum kc_err e)
{
	return (unsigned)e < KC__MAX ? kc_errs[e] : "unknown error";
}

void
kc_init(struct kc_reader *r, kc_message_fn fn, void *ctx, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->fn = fn;
	r->ctx = ctx;
	r->max = max ? max : KC_MAX_MESSAGE;
}

void
kc_free(struct kc_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

int
kc_ended(const struct kc_reader *r)
{
	return r->ended;
}

/* The header is complete: check it and learn the payload length. */
static enum kc_err
header(struct kc_reader *r)
{
	unsigned flags = r->head[0];

	if (flags & ~(unsigned)KC_FLAGS_KNOWN)
		return KC_FLAGS;
	if (flags & KC_FLAG_COMPRESSED)
		return KC_COMPRESSED;
	r->need = (size_t)r->head[1] << 24 | (size_t)r->head[2] << 16 |
	    (size_t)r->head[3] << 8 | (size_t)r->head[4];
	if (r->need > r->max)
		return KC_TOOBIG;
	r->have = 0;
	return KC_OK;
}

/* One whole envelope to the callback; the reader waits for the next. */
static enum kc_err
deliver(struct kc_reader *r, const char *p, size_t n)
{
	unsigned flags = r->head[0];

	r->hlen = 0;
	r->have = 0;
	if (flags & KC_FLAG_END)
		r->ended = 1;
	return r->fn != NULL && r->fn(r->ctx, flags, p, n) != 0 ? KC_ABORT :
	    KC_OK;
}

enum kc_err
kc_feed(struct kc_reader *r, const void *data, size_t len)
{
	const char *p = data;
	enum kc_err e;
	size_t take;
	char *nb;

	if (r->err != KC_OK)
		return r->err;
	while (len > 0) {
		if (r->ended)
			return r->err = KC_TRAILING;
		if (r->hlen < KC_HEADER_LEN) {
			take = KC_HEADER_LEN - r->hlen < len ?
			    KC_HEADER_LEN - r->hlen : len;
			memcpy(r->head + r->hlen, p, take);
			r->hlen += take;
			p += take;
			len -= take;
			if (r->hlen < KC_HEADER_LEN)
				break;
			if ((e = header(r)) != KC_OK)
				return r->err = e;
			if (r->need == 0 && (e = deliver(r, "", 0)) != KC_OK)
				return r->err = e;
			continue;
		}
		if (r->have == 0 && len >= r->need) {	/* whole: in place */
			take = r->need;
			if ((e = deliver(r, p, take)) != KC_OK)
				return r->err = e;
			p += take;
			len -= take;
			continue;
		}
		if (r->cap < r->need) {
			if ((nb = realloc(r->buf, r->need)) == NULL)
				return r->err = KC_ENOMEM;
			r->buf = nb;
			r->cap = r->need;
		}
		take = r->need - r->have < len ? r->need - r->have : len;
		memcpy(r->buf + r->have, p, take);
		r->have += take;
		p += take;
		len -= take;
		if (r->have == r->need && (e = deliver(r, r->buf, r->need)) !=
		    KC_OK)
			return r->err = e;
	}
	return KC_OK;
}

enum kc_err
kc_finish(struct kc_reader *r)
{
	if (r->err != KC_OK)
		return r->err;
	if (r->hlen > 0)
		return r->err = KC_TRUNCATED;
	return KC_OK;
}

int
kc_frame(unsigned char *out, unsigned flags, const char *payload, size_t len)
{
	if ((uint64_t)len > UINT32_MAX)
		return -1;
	out[0] = (unsigned char)flags;
	out[1] = (unsigned char)(len >> 24);
	out[2] = (unsigned char)(len >> 16);
	out[3] = (unsigned char)(len >> 8);
	out[4] = (unsigned char)len;
	if (len > 0)
		memcpy(out + KC_HEADER_LEN, payload, len);
	return 0;
}

/* ------------------------------------------------------------ JSON */

/* A string value into out (at most outsz - 1 bytes, whole characters). */
static void
copy_str(json_object *v, char *out, size_t outsz, int line)
{
	struct buf b;
	size_t n;

	out[0] = '\0';
	if (!json_object_is_type(v, json_type_string))
		return;
	buf_init(&b, 0);
	if (buf_add_utf8(&b, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), SIZE_MAX, line) == 0 &&
	    b.len > 0) {
		n = b.len < outsz - 1 ? b.len : outsz - 1;
		/* back off to the start of a character */
		while (n > 0 && n < b.len &&
		    ((unsigned char)b.p[n] & 0xc0) == 0x80)
			n--;
		memcpy(out, b.p, n);
		out[n] = '\0';
	}
	buf_free(&b);
}

/* metadata {"retry-after": ["30"]}: names are case-insensitive. */
static long
retry_after(json_object *md)
{
	json_object *v;
	const char *s;
	char *end;
	long n;

	if (!json_object_is_type(md, json_type_object))
		return -1;
	json_object_object_foreach(md, key, val) {
		if (strcasecmp(key, "retry-after") != 0)
			continue;
		v = json_object_is_type(val, json_type_array) ?
		    json_object_array_get_idx(val, 0) : val;
		if (!json_object_is_type(v, json_type_string))
			return -1;
		s = json_object_get_string(v);
		n = strtol(s, &end, 10);
		return end != s && *end == '\0' && n >= 0 &&
		    n <= KC_RETRY_MAX ? n : -1;
	}
	return -1;
}

int
kc_end_parse(const char *payload, size_t len, int unary, struct kc_end *out)
{
	json_tokener *tok;
	json_object *o = NULL, *e;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	if (len == 0)
		return 0;
	if (len > INT32_MAX)
		return -1;
	if ((tok = json_tokener_new_ex(KC_JSON_DEPTH)) == NULL)
		return -1;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, payload, (int)len);
	if (o == NULL ||
	    json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object))
		goto out;
	e = unary && jv_get(o, "code") != NULL ? o : jv_get(o, "error");
	if (json_object_is_type(e, json_type_object)) {
		out->error = 1;
		copy_str(jv_get(e, "code"), out->code, sizeof(out->code), 1);
		copy_str(jv_get(e, "message"), out->message,
		    sizeof(out->message), 1);
	}
	out->retry_after = retry_after(jv_get(o, "metadata"));
	rc = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

/* The Connect protocol's table of codes and HTTP statuses. */
static const struct {
	const char	*code;
	int		 status;
} kc_codes[] = {
	{ "canceled", 499 },
	{ "unknown", 500 },
	{ "invalid_argument", 400 },
	{ "deadline_exceeded", 504 },
	{ "not_found", 404 },
	{ "already_exists", 409 },
	{ "permission_denied", 403 },
	{ "resource_exhausted", 429 },
	{ "failed_precondition", 400 },
	{ "aborted", 409 },
	{ "out_of_range", 400 },
	{ "unimplemented", 501 },
	{ "internal", 500 },
	{ "unavailable", 503 },
	{ "data_loss", 500 },
	{ "unauthenticated", 401 },
};

int
kc_code_status(const char *code)
{
	size_t i;

	for (i = 0; code != NULL && i < sizeof(kc_codes) / sizeof(kc_codes[0]);
	    i++)
		if (strcmp(code, kc_codes[i].code) == 0)
			return kc_codes[i].status;
	return -1;
}
