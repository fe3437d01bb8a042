/*
 * A small JSON Schema validator for the subset OpenAI's structured
 * output accepts (handlers/jschema.c): type (a name or an array of
 * names, "null" included), properties, required, additionalProperties,
 * items, enum, const, anyOf, $ref to any place inside the schema
 * ("#", "#/$defs/x", "#/definitions/x"), and $defs/definitions.
 *
 * Other keywords (description, title, pattern, minimum, format ...) are
 * ignored: a model is only told about them.  In strict mode the
 * keywords that change which values are valid and that we cannot check
 * (allOf, oneOf, not, if/then/else, patternProperties, ...) are refused,
 * and so are OpenAI's strict-mode rules: the root is an object, every
 * object says additionalProperties:false and requires all its
 * properties.  Outside strict mode those keywords are ignored.
 */
#ifndef HANDLERS_JSCHEMA_H
#define HANDLERS_JSCHEMA_H

#include <stddef.h>

#include <json-c/json.h>

#define JSCHEMA_MAX_DEPTH	32		/* schema nesting */
#define JSCHEMA_MAX_NODES	5000		/* subschemas in one schema */
#define JSCHEMA_MAX_SIZE	(64u << 10)	/* compact schema JSON */
#define JSCHEMA_MAX_ENUM	1000		/* values of one enum */
#define JSCHEMA_MAX_IDEPTH	64		/* instance nesting */
#define JSCHEMA_MAX_REFS	32		/* $ref hops in a row */
#define JSCHEMA_MAX_STEPS	200000		/* work of one validation */
#define JSCHEMA_MSG_MAX		256

enum jschema_err {
	JSCHEMA_OK,
	JSCHEMA_INVALID,	/* the instance does not fit */
	JSCHEMA_BADSCHEMA,	/* the schema is not one we take */
	JSCHEMA_LIMIT,		/* a limit above was reached */
};

const char	*jschema_strerror(enum jschema_err);

/*
 * Checks a schema before use (a 400 if it fails).  msg (msgsz bytes)
 * says where and why.
 */
enum jschema_err jschema_check(struct json_object *schema, int strict,
	    char *msg, size_t msgsz);

/*
 * Validates inst against a schema that passed jschema_check.  msg says
 * the first problem found, with its JSON path ("$.a[2]").
 */
enum jschema_err jschema_validate(struct json_object *schema,
	    struct json_object *inst, char *msg, size_t msgsz);

#endif
