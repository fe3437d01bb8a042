/* NULL-safe json-c reads (see jv.h). */
#include "config.h"

#include <string.h>

#include "upstream/jv.h"

json_object *
jv_get(json_object *o, const char *key)
{
	json_object *v;

	return json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *
jv_str(json_object *v, size_t *lenp)
{
	if (!json_object_is_type(v, json_type_string))
		return NULL;
	*lenp = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

const char *
jv_cstr(json_object *o, const char *key)
{
	json_object *v = jv_get(o, key);

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

bool
jv_is(json_object *v, const char *lit)
{
	const char *s;
	size_t n;

	return (s = jv_str(v, &n)) != NULL && n == strlen(lit) &&
	    memcmp(s, lit, n) == 0;
}

/* Deeper than any tree we keep: a limit, not a need. */
#define JV_COMPACT_DEPTH	64

static void
compact(json_object *o, int depth)
{
	size_t i, n;

	if (depth > JV_COMPACT_DEPTH)
		return;
	if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		(void)json_object_array_shrink(o, 0);
		for (i = 0; i < n; i++)
			compact(json_object_array_get_idx(o, i), depth + 1);
	} else if (json_object_is_type(o, json_type_object)) {
#ifdef HAVE_LH_TABLE_RESIZE
		struct lh_table *t = json_object_get_object(o);
		/*
		 * The resize re-inserts every member and must not grow the new
		 * table meanwhile (json-c grows at 0.66 full, and would then
		 * record the wrong size): count - 1 < 0.66 * size.
		 */
		int size = t->count < 100 ? t->count + t->count / 2 + 1 :
		    t->count * 2;

		if (size < t->size)
			(void)lh_table_resize(t, size);
#endif
		json_object_object_foreach(o, k, v) {
			(void)k;
			compact(v, depth + 1);
		}
	}
}

void
jv_compact(json_object *o)
{
	compact(o, 0);
}
