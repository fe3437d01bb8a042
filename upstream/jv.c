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
