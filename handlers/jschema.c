/*
 * The JSON Schema subset of structured output (see jschema.h): the
 * check of a client's schema, once per request, with limits on nesting
 * and size, and the helpers the validator (jschema_valid.c) shares.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json_pointer.h>

#include "handlers/jschema.h"
#include "handlers/jschema_int.h"

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

enum jschema_err
jctx_bad(struct jctx *c, enum jschema_err e, const char *fmt, ...)
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
size_t
jctx_push_key(struct jctx *c, const char *k)
{
	size_t old = c->plen;
	int n;

	if (old >= JCTX_PATH_MAX)
		return old;
	n = snprintf(c->path + old, sizeof(c->path) - old, ".%.*s",
	    JCTX_KEY_SHOWN, k);
	if (n > 0)
		c->plen += (size_t)n;
	if (c->plen > JCTX_PATH_MAX) {
		c->plen = JCTX_PATH_MAX;
		memcpy(c->path + JCTX_PATH_MAX, "...", 4);
	}
	return old;
}

size_t
jctx_push_idx(struct jctx *c, size_t i)
{
	size_t old = c->plen;
	int n;

	if (old >= JCTX_PATH_MAX)
		return old;
	n = snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i);
	if (n > 0)
		c->plen += (size_t)n;
	if (c->plen > JCTX_PATH_MAX) {
		c->plen = JCTX_PATH_MAX;
		memcpy(c->path + JCTX_PATH_MAX, "...", 4);
	}
	return old;
}

void
jctx_pop(struct jctx *c, size_t old)
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

struct json_object *
jctx_get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

/* A $ref inside the schema, or NULL. */
struct json_object *
jctx_resolve(struct json_object *root, struct json_object *ref)
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
			return jctx_bad(c, JSCHEMA_BADSCHEMA, "unsupported type "
			    "\"%.*s\"", JCTX_KEY_SHOWN, json_object_get_string(ty));
		return JSCHEMA_OK;
	}
	if (!json_object_is_type(ty, json_type_array) ||
	    (n = json_object_array_length(ty)) == 0)
		return jctx_bad(c, JSCHEMA_BADSCHEMA, "\"type\" must be a type name "
		    "or a non-empty array of them");
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(ty, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !known_type(json_object_get_string(v)))
			return jctx_bad(c, JSCHEMA_BADSCHEMA, "\"type\" lists an "
			    "unsupported type");
		for (j = 0; j < i; j++)
			if (strcmp(json_object_get_string(v),
			    json_object_get_string(
			    json_object_array_get_idx(ty, j))) == 0)
				return jctx_bad(c, JSCHEMA_BADSCHEMA, "\"type\" "
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
		return jctx_bad(c, JSCHEMA_BADSCHEMA, "\"%s\" must be an object", kw);
	old = jctx_push_key(c, kw);
	json_object_object_foreach(m, k, v) {
		ok = jctx_push_key(c, k);
		e = check_node(c, v, depth + 1);
		jctx_pop(c, ok);
		if (e != JSCHEMA_OK)
			return e;
	}
	jctx_pop(c, old);
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
	struct json_object *ap = jctx_get(s, "additionalProperties");
	struct json_object *props = jctx_get(s, "properties");
	struct json_object *req = jctx_get(s, "required");

	if (ap == NULL || !json_object_is_type(ap, json_type_boolean) ||
	    json_object_get_boolean(ap))
		return jctx_bad(c, JSCHEMA_BADSCHEMA, "strict mode needs "
		    "\"additionalProperties\": false on every object");
	if (props == NULL)
		return JSCHEMA_OK;
	json_object_object_foreach(props, k, v) {
		(void)v;
		if (!listed(req, k))
			return jctx_bad(c, JSCHEMA_BADSCHEMA, "strict mode needs "
			    "every property in \"required\" (\"%.*s\" is not)",
			    JCTX_KEY_SHOWN, k);
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
		return jctx_bad(c, JSCHEMA_LIMIT, "schema nested deeper than %d "
		    "levels", JSCHEMA_MAX_DEPTH);
	if (++c->nodes > JSCHEMA_MAX_NODES)
		return jctx_bad(c, JSCHEMA_LIMIT, "schema has more than %d "
		    "subschemas", JSCHEMA_MAX_NODES);
	if (!json_object_is_type(s, json_type_object))
		return jctx_bad(c, JSCHEMA_BADSCHEMA, "a schema must be an object");
	ty = jctx_get(s, "type");
	objectish = (ty != NULL && type_has(ty, "object")) ||
	    jctx_get(s, "properties") != NULL;
	json_object_object_foreach(s, k, v) {
		if (strcmp(k, "type") == 0)
			e = check_type(c, v);
		else if (strcmp(k, "properties") == 0 ||
		    strcmp(k, "$defs") == 0 || strcmp(k, "definitions") == 0)
			e = check_map(c, k, v, depth);
		else if (strcmp(k, "required") == 0) {
			if (!json_object_is_type(v, json_type_array))
				return jctx_bad(c, JSCHEMA_BADSCHEMA, "\"required\" "
				    "must be an array of names");
			n = json_object_array_length(v);
			for (i = 0; i < n; i++)
				if (!json_object_is_type(
				    json_object_array_get_idx(v, i),
				    json_type_string))
					return jctx_bad(c, JSCHEMA_BADSCHEMA,
					    "\"required\" must be an array of "
					    "names");
		} else if (strcmp(k, "additionalProperties") == 0) {
			if (json_object_is_type(v, json_type_boolean))
				continue;
			old = jctx_push_key(c, k);
			e = check_node(c, v, depth + 1);
			jctx_pop(c, old);
		} else if (strcmp(k, "items") == 0) {
			old = jctx_push_key(c, k);
			e = check_node(c, v, depth + 1);
			jctx_pop(c, old);
		} else if (strcmp(k, "anyOf") == 0) {
			if (!json_object_is_type(v, json_type_array) ||
			    (n = json_object_array_length(v)) == 0)
				return jctx_bad(c, JSCHEMA_BADSCHEMA, "\"anyOf\" "
				    "must be a non-empty array of schemas");
			old = jctx_push_key(c, k);
			for (i = 0; i < n && e == JSCHEMA_OK; i++) {
				size_t o2 = jctx_push_idx(c, i);

				e = check_node(c, json_object_array_get_idx(v,
				    i), depth + 1);
				jctx_pop(c, o2);
			}
			jctx_pop(c, old);
		} else if (strcmp(k, "enum") == 0) {
			if (!json_object_is_type(v, json_type_array) ||
			    json_object_array_length(v) == 0)
				return jctx_bad(c, JSCHEMA_BADSCHEMA, "\"enum\" must "
				    "be a non-empty array");
			if (json_object_array_length(v) > JSCHEMA_MAX_ENUM)
				return jctx_bad(c, JSCHEMA_LIMIT, "\"enum\" has more "
				    "than %d values", JSCHEMA_MAX_ENUM);
		} else if (strcmp(k, "$ref") == 0) {
			if (!json_object_is_type(jctx_resolve(c->root, v),
			    json_type_object))
				return jctx_bad(c, JSCHEMA_BADSCHEMA, "\"$ref\" must "
				    "point to a schema inside this schema "
				    "(\"#/$defs/name\")");
		} else if (c->strict) {
			for (i = 0; i < sizeof(refused) / sizeof(refused[0]);
			    i++)
				if (strcmp(k, refused[i]) == 0)
					return jctx_bad(c, JSCHEMA_BADSCHEMA,
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

void
jctx_init(struct jctx *c, struct json_object *root, char *msg, size_t msgsz)
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

	jctx_init(&c, schema, msg, msgsz);
	c.strict = strict;
	if (!json_object_is_type(schema, json_type_object))
		return jctx_bad(&c, JSCHEMA_BADSCHEMA, "a schema must be an object");
	json_object_to_json_string_length(schema, JSON_C_TO_STRING_PLAIN,
	    &len);
	if (len > JSCHEMA_MAX_SIZE)
		return jctx_bad(&c, JSCHEMA_LIMIT, "schema larger than %u bytes",
		    JSCHEMA_MAX_SIZE);
	ty = jctx_get(schema, "type");
	if (strict && (ty == NULL || !json_object_is_type(ty,
	    json_type_string) || strcmp(json_object_get_string(ty),
	    "object") != 0))
		return jctx_bad(&c, JSCHEMA_BADSCHEMA, "strict mode needs "
		    "\"type\": \"object\" at the root");
	return check_node(&c, schema, 0);
}
