/*
 * The validator of structured output (see jschema.h): a model's answer
 * against a schema.  It does not trust the schema to have been checked
 * (the fuzzer feeds it anything): a keyword of the wrong shape is
 * ignored, never followed, and the work is bounded by JSCHEMA_MAX_STEPS,
 * which also stops $ref loops and anyOf blow-ups.  Instance keys are
 * walked in their order, so the same input always gives the same
 * message.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "handlers/jschema.h"
#include "handlers/jschema_int.h"

static const char *
inst_type(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "boolean";
	case json_type_double:
		return "number";
	case json_type_int:
		return "integer";
	case json_type_object:
		return "object";
	case json_type_array:
		return "array";
	case json_type_string:
		return "string";
	}
	return "unknown";
}

static int
is_num(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double);
}

/* A value of one named type: 1.0 is an integer, as JSON Schema says. */
static int
fits_type(struct json_object *v, const char *t)
{
	double d;

	if (strcmp(t, "number") == 0)
		return is_num(v);
	if (strcmp(t, "integer") == 0) {
		if (json_object_is_type(v, json_type_int))
			return 1;
		if (!json_object_is_type(v, json_type_double))
			return 0;
		d = json_object_get_double(v);
		return isfinite(d) && trunc(d) == d;
	}
	return strcmp(inst_type(v), t) == 0;
}

/* Deep equality; numbers by value (1 == 1.0). */
static int
equal(struct json_object *a, struct json_object *b)
{
	struct json_object *w;
	size_t i, n;

	if (is_num(a) && is_num(b)) {
		if (json_object_is_type(a, json_type_int) &&
		    json_object_is_type(b, json_type_int))
			return json_object_get_int64(a) ==
			    json_object_get_int64(b);
		return json_object_get_double(a) == json_object_get_double(b);
	}
	if (json_object_get_type(a) != json_object_get_type(b))
		return 0;
	switch (json_object_get_type(a)) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return !json_object_get_boolean(a) ==
		    !json_object_get_boolean(b);
	case json_type_string:
		return json_object_get_string_len(a) ==
		    json_object_get_string_len(b) &&
		    memcmp(json_object_get_string(a),
		    json_object_get_string(b),
		    (size_t)json_object_get_string_len(a)) == 0;
	case json_type_array:
		n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return 0;
		for (i = 0; i < n; i++)
			if (!equal(json_object_array_get_idx(a, i),
			    json_object_array_get_idx(b, i)))
				return 0;
		return 1;
	case json_type_object:
		if (json_object_object_length(a) !=
		    json_object_object_length(b))
			return 0;
		json_object_object_foreach(a, k, v) {
			if (!json_object_object_get_ex(b, k, &w) ||
			    !equal(v, w))
				return 0;
		}
		return 1;
	default:
		return 0;
	}
}

static enum jschema_err validate(struct jctx *, struct json_object *,
    struct json_object *, int, int);

static enum jschema_err
v_type(struct jctx *c, struct json_object *ty, struct json_object *v)
{
	struct json_object *t;
	size_t i, n;

	if (json_object_is_type(ty, json_type_string)) {
		if (fits_type(v, json_object_get_string(ty)))
			return JSCHEMA_OK;
		return jctx_bad(c, JSCHEMA_INVALID, "expected %.*s, got %s",
		    JCTX_KEY_SHOWN, json_object_get_string(ty), inst_type(v));
	}
	if (!json_object_is_type(ty, json_type_array))
		return JSCHEMA_OK;
	n = json_object_array_length(ty);
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(ty, i);
		if (!json_object_is_type(t, json_type_string) ||
		    fits_type(v, json_object_get_string(t)))
			return JSCHEMA_OK;
	}
	return jctx_bad(c, JSCHEMA_INVALID, "%s is not one of the allowed types",
	    inst_type(v));
}

static enum jschema_err
v_anyof(struct jctx *c, struct json_object *alts, struct json_object *v,
    int idepth, int refs)
{
	enum jschema_err e;
	size_t i, n;

	if (!json_object_is_type(alts, json_type_array))
		return JSCHEMA_OK;
	n = json_object_array_length(alts);
	c->quiet++;
	for (i = 0; i < n; i++) {
		e = validate(c, json_object_array_get_idx(alts, i), v, idepth,
		    refs);
		if (e != JSCHEMA_INVALID) {
			c->quiet--;
			return e;
		}
	}
	c->quiet--;
	return n == 0 ? JSCHEMA_OK : jctx_bad(c, JSCHEMA_INVALID,
	    "matches none of the \"anyOf\" alternatives");
}

static enum jschema_err
v_object(struct jctx *c, struct json_object *s, struct json_object *v,
    int idepth)
{
	struct json_object *req = jctx_get(s, "required"), *props = jctx_get(s,
	    "properties"), *ap = jctx_get(s, "additionalProperties"), *ps, *r;
	enum jschema_err e;
	size_t i, n, old;

	if (json_object_is_type(req, json_type_array)) {
		n = json_object_array_length(req);
		for (i = 0; i < n; i++) {
			r = json_object_array_get_idx(req, i);
			if (json_object_is_type(r, json_type_string) &&
			    !json_object_object_get_ex(v,
			    json_object_get_string(r), NULL))
				return jctx_bad(c, JSCHEMA_INVALID, "missing "
				    "required property \"%.*s\"", JCTX_KEY_SHOWN,
				    json_object_get_string(r));
		}
	}
	if (!json_object_is_type(props, json_type_object))
		props = NULL;
	json_object_object_foreach(v, k, pv) {
		ps = props != NULL ? jctx_get(props, k) : NULL;
		if (ps == NULL && ap == NULL)
			continue;
		if (ps == NULL && json_object_is_type(ap, json_type_boolean)) {
			if (json_object_get_boolean(ap))
				continue;
			return jctx_bad(c, JSCHEMA_INVALID, "property \"%.*s\" is "
			    "not allowed", JCTX_KEY_SHOWN, k);
		}
		old = jctx_push_key(c, k);
		e = validate(c, ps != NULL ? ps : ap, pv, idepth + 1, 0);
		jctx_pop(c, old);
		if (e != JSCHEMA_OK)
			return e;
	}
	return JSCHEMA_OK;
}

static enum jschema_err
validate(struct jctx *c, struct json_object *s, struct json_object *v,
    int idepth, int refs)
{
	struct json_object *k, *items;
	enum jschema_err e;
	size_t i, n, old;

	if (++c->steps > JSCHEMA_MAX_STEPS)
		return jctx_bad(c, JSCHEMA_LIMIT, "validation takes too many steps");
	if (idepth > JSCHEMA_MAX_IDEPTH)
		return jctx_bad(c, JSCHEMA_LIMIT, "value nested deeper than %d "
		    "levels", JSCHEMA_MAX_IDEPTH);
	if (json_object_is_type(s, json_type_boolean))
		return json_object_get_boolean(s) ? JSCHEMA_OK :
		    jctx_bad(c, JSCHEMA_INVALID, "no value is allowed here");
	if (!json_object_is_type(s, json_type_object))
		return JSCHEMA_OK;
	if ((k = jctx_get(s, "$ref")) != NULL) {
		if (refs >= JSCHEMA_MAX_REFS)
			return jctx_bad(c, JSCHEMA_LIMIT, "more than %d \"$ref\" "
			    "in a row", JSCHEMA_MAX_REFS);
		if ((k = jctx_resolve(c->root, k)) == NULL)
			return jctx_bad(c, JSCHEMA_BADSCHEMA, "unresolved \"$ref\"");
		if ((e = validate(c, k, v, idepth, refs + 1)) != JSCHEMA_OK)
			return e;
	}
	if ((k = jctx_get(s, "type")) != NULL && (e = v_type(c, k, v)) !=
	    JSCHEMA_OK)
		return e;
	if ((k = jctx_get(s, "const")) != NULL && !equal(k, v))
		return jctx_bad(c, JSCHEMA_INVALID, "does not equal the \"const\" "
		    "value");
	if ((k = jctx_get(s, "enum")) != NULL &&
	    json_object_is_type(k, json_type_array)) {
		n = json_object_array_length(k);
		for (i = 0; i < n; i++)
			if (equal(json_object_array_get_idx(k, i), v))
				break;
		if (i == n)
			return jctx_bad(c, JSCHEMA_INVALID, "is not one of the "
			    "\"enum\" values");
	}
	if ((k = jctx_get(s, "anyOf")) != NULL &&
	    (e = v_anyof(c, k, v, idepth, refs)) != JSCHEMA_OK)
		return e;
	if (json_object_is_type(v, json_type_object))
		return v_object(c, s, v, idepth);
	if (json_object_is_type(v, json_type_array) &&
	    (items = jctx_get(s, "items")) != NULL) {
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			old = jctx_push_idx(c, i);
			e = validate(c, items, json_object_array_get_idx(v, i),
			    idepth + 1, 0);
			jctx_pop(c, old);
			if (e != JSCHEMA_OK)
				return e;
		}
	}
	return JSCHEMA_OK;
}

enum jschema_err
jschema_validate(struct json_object *schema, struct json_object *inst,
    char *msg, size_t msgsz)
{
	struct jctx c;

	jctx_init(&c, schema, msg, msgsz);
	return validate(&c, schema, inst, 0, 0);
}
