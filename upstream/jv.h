/*
 * jv.h - the three json-c reads every upstream decoder makes, NULL-safe
 * so a path of lookups needs one check at its end: an object's member,
 * a string with its length (which may hold NULs) or as a C string, a
 * string's equality; and the compaction of a tree kept for long.
 */
#ifndef UPSTREAM_JV_H
#define UPSTREAM_JV_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* o's member key, or NULL when o is no object or has none. */
json_object	*jv_get(json_object *o, const char *key);
/* v's text and its length in *lenp, or NULL when v is no string. */
const char	*jv_str(json_object *v, size_t *lenp);
/* o's member key when it is a string, else NULL. */
const char	*jv_cstr(json_object *o, const char *key);
/* v is a string equal to lit. */
bool		 jv_is(json_object *v, const char *lit);
/*
 * Gives back the spare room of a tree kept for long: every object's
 * member table (json-c makes 16 slots, ~700 bytes) and every array's
 * slots shrink to what they hold.  Only memory changes: the tree reads,
 * writes and prints as before, and grows again when added to.
 */
void		 jv_compact(json_object *o);

#endif
