/*
 * Shared by the schema check (jschema.c) and the validator
 * (jschema_valid.c): the walk's context, its messages with the JSON path,
 * and lookups that never trust the schema's shape.
 */
#ifndef HANDLERS_JSCHEMA_INT_H
#define HANDLERS_JSCHEMA_INT_H

#include <stddef.h>

#include <json-c/json.h>

#include "handlers/jschema.h"

#define JCTX_PATH_MAX	160	/* of the "$.a[2]" shown in messages */
#define JCTX_KEY_SHOWN	40	/* bytes of a key in a message */

struct jctx {
	struct json_object	*root;
	int			 strict;
	size_t			 nodes;
	size_t			 steps;
	int			 quiet;		/* inside anyOf: no message */
	char			*msg;
	size_t			 msgsz;
	char			 path[JCTX_PATH_MAX + 8];
	size_t			 plen;
};

void	 jctx_init(struct jctx *, struct json_object *root, char *msg,
	    size_t msgsz);
/* Writes "path: message" (not inside anyOf, for a mismatch); returns e. */
enum jschema_err jctx_bad(struct jctx *, enum jschema_err, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Append ".key" or "[i]" to the path; the old length, for jctx_pop. */
size_t	 jctx_push_key(struct jctx *, const char *);
size_t	 jctx_push_idx(struct jctx *, size_t);
void	 jctx_pop(struct jctx *, size_t);
/* o[k] when o is an object, else NULL. */
struct json_object *jctx_get(struct json_object *o, const char *k);
/* A "#..." JSON pointer into root, or NULL. */
struct json_object *jctx_resolve(struct json_object *root,
	    struct json_object *ref);

#endif
