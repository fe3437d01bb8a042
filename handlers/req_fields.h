/*
 * The request fields of /v1/chat/completions and /v1/completions in one
 * table: for each, the endpoints that know it, the JSON types it takes,
 * its range (numbers), length (strings) or item count (arrays and
 * objects), and an optional check of its shape.  Checked before anything
 * reads the body, the way OpenAI answers: a 400 whose param names the
 * field and whose code says what is wrong (invalid_type,
 * decimal_above_max_value, array_above_max_length, unsupported_value
 * ...).  Fields the table does not know are ignored, as OpenAI does; a
 * null is the same as an absent field unless the field is required.
 * The deep checks of messages, tools and response_format stay in
 * chat_request.c, tools_request.c and rformat.c.
 */
#ifndef HANDLERS_REQ_FIELDS_H
#define HANDLERS_REQ_FIELDS_H

#include <stddef.h>

#include <json-c/json.h>

#include "handlers/req_error.h"

/* Which endpoint reads a body. */
#define REQ_CHAT	0x1u	/* /v1/chat/completions */
#define REQ_TEXT	0x2u	/* /v1/completions */

/* JSON types a field takes (null is always "unset"). */
#define REQ_T_STRING	0x01u
#define REQ_T_INT	0x02u	/* a whole number (1.0 counts) */
#define REQ_T_NUMBER	0x04u	/* any finite number */
#define REQ_T_BOOL	0x08u
#define REQ_T_OBJECT	0x10u
#define REQ_T_ARRAY	0x20u

#define REQ_F_REQUIRED	0x1u
#define REQ_F_EXT	0x2u	/* ours, not OpenAI's (README) */

#define REQ_MAX_DEPTH	64	/* JSON nesting of a body */

struct req_field;

/* A further check of a value whose type and range passed: 0 or -1. */
typedef int (*req_shape_fn)(struct json_object *v, const struct req_field *,
    struct chat_req_error *);

struct req_field {
	const char	*name;
	unsigned	 apis;		/* REQ_CHAT | REQ_TEXT */
	unsigned	 types;		/* REQ_T_* */
	unsigned	 flags;		/* REQ_F_* */
	double		 min, max;	/* INT/NUMBER: the range */
	size_t		 maxlen;	/* STRING: bytes; else: items */
	size_t		 minlen;	/* ARRAY: items */
	req_shape_fn	 shape;		/* or NULL */
};

/* The table (for the tests), *n rows. */
const struct req_field	*req_fields_table(size_t *n);

/*
 * body[0..len) as one JSON object in strict JSON and UTF-8 (anything
 * but blanks after it is an error).  0 with *root (json_object_put it),
 * or -1 with e filled as a 400.
 */
int	 req_body_parse(const char *body, size_t len,
	    struct json_object **root, struct chat_req_error *e);

/*
 * Every field of the table that root holds and api reads, checked, and
 * the rules between fields (stream_options needs stream).  0 or -1 with
 * e filled as a 400.
 */
int	 req_fields_check(struct json_object *root, unsigned api,
	    struct chat_req_error *e);

#endif
