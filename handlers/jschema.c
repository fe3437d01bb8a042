/*
 * The JSON Schema subset of structured output (see jschema.h).
 *
 * jschema_check() walks a client's schema once, with limits on nesting
 * and size; jschema_validate() then walks a model's answer against it.
 * The validator does not trust the schema to have been checked (the
 * fuzzer feeds it anything): a keyword of the wrong shape is ignored,
 * never followed, and the work is bounded by JSCHEMA_MAX_STEPS, which
 * also stops $ref loops and anyOf blow-ups.  Errors name the first
 * problem in a fixed order (instance keys in their order), so the same
 * input always gives the same message.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json_pointer.h>

#include "handlers/jschema.h"

#define PATH_MAX_LEN	160	/* of the "$.a[2]" shown in messages */
#define KEY_SHOWN	40	/* bytes of a key in a message */

struct jctx {
	struct json_object	*root;
	int			 strict;
	size_t			 nodes;
	size_t			 steps;
	int			 quiet;		/* inside anyOf: no message */
	char			*msg;
	size_t			 msgsz;
	char			 path[PATH_MAX_LEN + 8];
	size_t			 plen;
};

static const char *const type_names[] = {
	"string", "number", "integer", "boolean", "object", "array", "null",
};

/* Keywords that change what is valid and that we cannot check. */
static const char *const refused[] = {
	"allOf", "oneOf", "not", "if", "then", "else", "patternProperties",
	"dependentRequired", "dependentSchemas", "unevaluatedProperties",
	"unevaluatedItems", "prefixItems", "contains", "propertyNames",
	"$dynamicRef", "dependencies",
};

const char *
jschema_strerror(enum jschema_err e)
{
	switch (e) {
	case JSCHEMA_OK:
		return "valid";
	case JSCHEMA_INVALID:
		return "does not match the schema";
	case JSCHEMA_BADSCHEMA:
		return "unsupported schema";
	case JSCHEMA_LIMIT:
		return "schema or value too large";
	}
	return "unknown error";
}

static enum jschema_err
bad(struct jctx *c, enum jschema_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum jschema_err
bad(struct jctx *c, enum jschema_err e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->quiet && e == JSCHEMA_INVALID)
		return e;
	if (c->msg == NULL || c->msgsz == 0)
		return e;
	n = snprintf(c->msg, c->msgsz, "%s: ", c->path);
	if (n < 0 || (size_t)n >= c->msgsz)
		return e;
	va_start(ap, fmt);
	vsnprintf(c->msg + n, c->msgsz - (size_t)n, fmt, ap);
	va_end(ap);
	return e;
}

/* Appends ".key" or "[i]" to the path; returns the old length. */
static size_t
push_key(struct jctx *c, const char *k)
{
	size_t old = c->plen;
	int n;

	if (old >= PATH_MAX_LEN)
		return old;
	n = snprintf(c->path + old, sizeof(c->path) - old, ".%.*s",
	    KEY_SHOWN, k);
	if (n > 0)
		c->plen += (size_t)n;
	if (c->plen > PATH_MAX_LEN) {
		c->plen = PATH_MAX_LEN;
		memcpy(c->path + PATH_MAX_LEN, "...", 4);
	}
	return old;
}

static size_t
push_idx(struct jctx *c, size_t i)
{
	size_t old = c->plen;
	int n;

	if (old >= PATH_MAX_LEN)
		return old;
	n = snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i);
	if (n > 0)
		c->plen += (size_t)n;
	if (c->plen > PATH_MAX_LEN) {
		c->plen = PATH_MAX_LEN;
		memcpy(c->path + PATH_MAX_LEN, "...", 4);
	}
	return old;
}

static void
pop(struct jctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static int
known_type(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(s, type_names[i]) == 0)
			return 1;
	return 0;
}

static struct json_object *
get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

/* A $ref inside the schema, or NULL. */
static struct json_object *
resolve(struct json_object *root, struct json_object *ref)
{
	struct json_object *t = NULL;
	const char *s;

	if (!json_object_is_type(ref, json_type_string))
		return NULL;
	s = json_object_get_string(ref);
	if (s[0] != '#')
		return NULL;
	if (s[1] == '\0')
		return root;
	if (s[1] != '/' || json_pointer_get(root, s + 1, &t) != 0)
		return NULL;
	return t;
}

/* Whether a type keyword lists name. */
static int
type_has(struct json_object *ty, const char *name)
{
	size_t i, n;

	if (json_object_is_type(ty, json_type_string))
		return strcmp(json_object_get_string(ty), name) == 0;
	if (!json_object_is_type(ty, json_type_array))
		return 0;
	n = json_object_array_length(ty);
	for (i = 0; i < n; i++)
		if (type_has(json_object_array_get_idx(ty, i), name) &&
		    json_object_is_type(json_object_array_get_idx(ty, i),
		    json_type_string))
			return 1;
	return 0;
}

static enum jschema_err check_node(struct jctx *, struct json_object *, int);

static enum jschema_err
check_type(struct jctx *c, struct json_object *ty)
{
	struct json_object *v;
	size_t i, j, n;

	if (json_object_is_type(ty, json_type_string)) {
		if (!known_type(json_object_get_string(ty)))
			return bad(c, JSCHEMA_BADSCHEMA, "unsupported type "
			    "\"%.*s\"", KEY_SHOWN, json_object_get_string(ty));
		return JSCHEMA_OK;
	}
	if (!json_object_is_type(ty, json_type_array) ||
	    (n = json_object_array_length(ty)) == 0)
		return bad(c, JSCHEMA_BADSCHEMA, "\"type\" must be a type name "
		    "or a non-empty array of them");
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(ty, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !known_type(json_object_get_string(v)))
			return bad(c, JSCHEMA_BADSCHEMA, "\"type\" lists an "
			    "unsupported type");
		for (j = 0; j < i; j++)
			if (strcmp(json_object_get_string(v),
			    json_object_get_string(
			    json_object_array_get_idx(ty, j))) == 0)
				return bad(c, JSCHEMA_BADSCHEMA, "\"type\" "
				    "lists \"%s\" twice",
				    json_object_get_string(v));
	}
	return JSCHEMA_OK;
}

/* An object of schemas: properties, $defs, definitions. */
static enum jschema_err
check_map(struct jctx *c, const char *kw, struct json_object *m, int depth)
{
	enum jschema_err e;
	size_t old, ok;

	if (!json_object_is_type(m, json_type_object))
		return bad(c, JSCHEMA_BADSCHEMA, "\"%s\" must be an object", kw);
	old = push_key(c, kw);
	json_object_object_foreach(m, k, v) {
		ok = push_key(c, k);
		e = check_node(c, v, depth + 1);
		pop(c, ok);
		if (e != JSCHEMA_OK)
			return e;
	}
	pop(c, old);
	return JSCHEMA_OK;
}

static int
listed(struct json_object *arr, const char *s)
{
	size_t i, n;

	if (!json_object_is_type(arr, json_type_array))
		return 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++)
		if (json_object_is_type(json_object_array_get_idx(arr, i),
		    json_type_string) && strcmp(s, json_object_get_string(
		    json_object_array_get_idx(arr, i))) == 0)
			return 1;
	return 0;
}

/* OpenAI's strict rules for an object: closed, every property required. */
static enum jschema_err
check_strict_object(struct jctx *c, struct json_object *s)
{
	struct json_object *ap = get(s, "additionalProperties");
	struct json_object *props = get(s, "properties");
	struct json_object *req = get(s, "required");

	if (ap == NULL || !json_object_is_type(ap, json_type_boolean) ||
	    json_object_get_boolean(ap))
		return bad(c, JSCHEMA_BADSCHEMA, "strict mode needs "
		    "\"additionalProperties\": false on every object");
	if (props == NULL)
		return JSCHEMA_OK;
	json_object_object_foreach(props, k, v) {
		(void)v;
		if (!listed(req, k))
			return bad(c, JSCHEMA_BADSCHEMA, "strict mode needs "
			    "every property in \"required\" (\"%.*s\" is not)",
			    KEY_SHOWN, k);
	}
	return JSCHEMA_OK;
}

static enum jschema_err
check_node(struct jctx *c, struct json_object *s, int depth)
{
	enum jschema_err e = JSCHEMA_OK;
	struct json_object *ty;
	size_t i, n, old;
	int objectish;

	if (depth > JSCHEMA_MAX_DEPTH)
		return bad(c, JSCHEMA_LIMIT, "schema nested deeper than %d "
		    "levels", JSCHEMA_MAX_DEPTH);
	if (++c->nodes > JSCHEMA_MAX_NODES)
		return bad(c, JSCHEMA_LIMIT, "schema has more than %d "
		    "subschemas", JSCHEMA_MAX_NODES);
	if (!json_object_is_type(s, json_type_object))
		return bad(c, JSCHEMA_BADSCHEMA, "a schema must be an object");
	ty = get(s, "type");
	objectish = (ty != NULL && type_has(ty, "object")) ||
	    get(s, "properties") != NULL;
	json_object_object_foreach(s, k, v) {
		if (strcmp(k, "type") == 0)
			e = check_type(c, v);
		else if (strcmp(k, "properties") == 0 ||
		    strcmp(k, "$defs") == 0 || strcmp(k, "definitions") == 0)
			e = check_map(c, k, v, depth);
		else if (strcmp(k, "required") == 0) {
			if (!json_object_is_type(v, json_type_array))
				return bad(c, JSCHEMA_BADSCHEMA, "\"required\" "
				    "must be an array of names");
			n = json_object_array_length(v);
			for (i = 0; i < n; i++)
				if (!json_object_is_type(
				    json_object_array_get_idx(v, i),
				    json_type_string))
					return bad(c, JSCHEMA_BADSCHEMA,
					    "\"required\" must be an array of "
					    "names");
		} else if (strcmp(k, "additionalProperties") == 0) {
			if (json_object_is_type(v, json_type_boolean))
				continue;
			old = push_key(c, k);
			e = check_node(c, v, depth + 1);
			pop(c, old);
		} else if (strcmp(k, "items") == 0) {
			old = push_key(c, k);
			e = check_node(c, v, depth + 1);
			pop(c, old);
		} else if (strcmp(k, "anyOf") == 0) {
			if (!json_object_is_type(v, json_type_array) ||
			    (n = json_object_array_length(v)) == 0)
				return bad(c, JSCHEMA_BADSCHEMA, "\"anyOf\" "
				    "must be a non-empty array of schemas");
			old = push_key(c, k);
			for (i = 0; i < n && e == JSCHEMA_OK; i++) {
				size_t o2 = push_idx(c, i);

				e = check_node(c, json_object_array_get_idx(v,
				    i), depth + 1);
				pop(c, o2);
			}
			pop(c, old);
		} else if (strcmp(k, "enum") == 0) {
			if (!json_object_is_type(v, json_type_array) ||
			    json_object_array_length(v) == 0)
				return bad(c, JSCHEMA_BADSCHEMA, "\"enum\" must "
				    "be a non-empty array");
			if (json_object_array_length(v) > JSCHEMA_MAX_ENUM)
				return bad(c, JSCHEMA_LIMIT, "\"enum\" has more "
				    "than %d values", JSCHEMA_MAX_ENUM);
		} else if (strcmp(k, "$ref") == 0) {
			if (!json_object_is_type(resolve(c->root, v),
			    json_type_object))
				return bad(c, JSCHEMA_BADSCHEMA, "\"$ref\" must "
				    "point to a schema inside this schema "
				    "(\"#/$defs/name\")");
		} else if (c->strict) {
			for (i = 0; i < sizeof(refused) / sizeof(refused[0]);
			    i++)
				if (strcmp(k, refused[i]) == 0)
					return bad(c, JSCHEMA_BADSCHEMA,
					    "\"%s\" is not supported in strict "
					    "mode", k);
		}
		if (e != JSCHEMA_OK)
			return e;
	}
	if (c->strict && objectish)
		return check_strict_object(c, s);
	return JSCHEMA_OK;
}

static void
ctx_init(struct jctx *c, struct json_object *root, char *msg, size_t msgsz)
{
	memset(c, 0, sizeof(*c));
	c->root = root;
	c->msg = msg;
	c->msgsz = msgsz;
	memcpy(c->path, "$", 2);
	c->plen = 1;
	if (msg != NULL && msgsz > 0)
		msg[0] = '\0';
}

enum jschema_err
jschema_check(struct json_object *schema, int strict, char *msg, size_t msgsz)
{
	struct jctx c;
	struct json_object *ty;
	size_t len = 0;

	ctx_init(&c, schema, msg, msgsz);
	c.strict = strict;
	if (!json_object_is_type(schema, json_type_object))
		return bad(&c, JSCHEMA_BADSCHEMA, "a schema must be an object");
	json_object_to_json_string_length(schema, JSON_C_TO_STRING_PLAIN,
	    &len);
	if (len > JSCHEMA_MAX_SIZE)
		return bad(&c, JSCHEMA_LIMIT, "schema larger than %u bytes",
		    JSCHEMA_MAX_SIZE);
	ty = get(schema, "type");
	if (strict && (ty == NULL || !json_object_is_type(ty,
	    json_type_string) || strcmp(json_object_get_string(ty),
	    "object") != 0))
		return bad(&c, JSCHEMA_BADSCHEMA, "strict mode needs "
		    "\"type\": \"object\" at the root");
	return check_node(&c, schema, 0);
}

/* Validation. */

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
		return bad(c, JSCHEMA_INVALID, "expected %.*s, got %s",
		    KEY_SHOWN, json_object_get_string(ty), inst_type(v));
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
	return bad(c, JSCHEMA_INVALID, "%s is not one of the allowed types",
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
	return n == 0 ? JSCHEMA_OK : bad(c, JSCHEMA_INVALID,
	    "matches none of the \"anyOf\" alternatives");
}

static enum jschema_err
v_object(struct jctx *c, struct json_object *s, struct json_object *v,
    int idepth)
{
	struct json_object *req = get(s, "required"), *props = get(s,
	    "properties"), *ap = get(s, "additionalProperties"), *ps, *r;
	enum jschema_err e;
	size_t i, n, old;

	if (json_object_is_type(req, json_type_array)) {
		n = json_object_array_length(req);
		for (i = 0; i < n; i++) {
			r = json_object_array_get_idx(req, i);
			if (json_object_is_type(r, json_type_string) &&
			    !json_object_object_get_ex(v,
			    json_object_get_string(r), NULL))
				return bad(c, JSCHEMA_INVALID, "missing "
				    "required property \"%.*s\"", KEY_SHOWN,
				    json_object_get_string(r));
		}
	}
	if (!json_object_is_type(props, json_type_object))
		props = NULL;
	json_object_object_foreach(v, k, pv) {
		ps = props != NULL ? get(props, k) : NULL;
		if (ps == NULL && ap == NULL)
			continue;
		if (ps == NULL && json_object_is_type(ap, json_type_boolean)) {
			if (json_object_get_boolean(ap))
				continue;
			return bad(c, JSCHEMA_INVALID, "property \"%.*s\" is "
			    "not allowed", KEY_SHOWN, k);
		}
		old = push_key(c, k);
		e = validate(c, ps != NULL ? ps : ap, pv, idepth + 1, 0);
		pop(c, old);
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
		return bad(c, JSCHEMA_LIMIT, "validation takes too many steps");
	if (idepth > JSCHEMA_MAX_IDEPTH)
		return bad(c, JSCHEMA_LIMIT, "value nested deeper than %d "
		    "levels", JSCHEMA_MAX_IDEPTH);
	if (json_object_is_type(s, json_type_boolean))
		return json_object_get_boolean(s) ? JSCHEMA_OK :
		    bad(c, JSCHEMA_INVALID, "no value is allowed here");
	if (!json_object_is_type(s, json_type_object))
		return JSCHEMA_OK;
	if ((k = get(s, "$ref")) != NULL) {
		if (refs >= JSCHEMA_MAX_REFS)
			return bad(c, JSCHEMA_LIMIT, "more than %d \"$ref\" "
			    "in a row", JSCHEMA_MAX_REFS);
		if ((k = resolve(c->root, k)) == NULL)
			return bad(c, JSCHEMA_BADSCHEMA, "unresolved \"$ref\"");
		if ((e = validate(c, k, v, idepth, refs + 1)) != JSCHEMA_OK)
			return e;
	}
	if ((k = get(s, "type")) != NULL && (e = v_type(c, k, v)) !=
	    JSCHEMA_OK)
		return e;
	if ((k = get(s, "const")) != NULL && !equal(k, v))
		return bad(c, JSCHEMA_INVALID, "does not equal the \"const\" "
		    "value");
	if ((k = get(s, "enum")) != NULL &&
	    json_object_is_type(k, json_type_array)) {
		n = json_object_array_length(k);
		for (i = 0; i < n; i++)
			if (equal(json_object_array_get_idx(k, i), v))
				break;
		if (i == n)
			return bad(c, JSCHEMA_INVALID, "is not one of the "
			    "\"enum\" values");
	}
	if ((k = get(s, "anyOf")) != NULL &&
	    (e = v_anyof(c, k, v, idepth, refs)) != JSCHEMA_OK)
		return e;
	if (json_object_is_type(v, json_type_object))
		return v_object(c, s, v, idepth);
	if (json_object_is_type(v, json_type_array) &&
	    (items = get(s, "items")) != NULL) {
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			old = push_idx(c, i);
			e = validate(c, items, json_object_array_get_idx(v, i),
			    idepth + 1, 0);
			pop(c, old);
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

	ctx_init(&c, schema, msg, msgsz);
	return validate(&c, schema, inst, 0, 0);
}
