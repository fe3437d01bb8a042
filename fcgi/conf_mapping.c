/*
 * MODEL_MAPPING: {"name": "target", "pattern*": {"target": "...",
 * "provider": "...", "account": "..."}} inline, or "@/path/file" holding
 * the same JSON.  Parsed once at start so a typo stops start-up with one
 * line instead of routing requests nowhere.  json-c keeps an object's
 * members in the order written, which is the order patterns are tried.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi/conf.h"

#define MAP_MAX		1000
#define MAP_NAME_MAX	128
#define MAP_FILE_MAX	(1 << 20)

static char *
read_file(const char *path, char *err, size_t errsz)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "MODEL_MAPPING=@%s: accepts a readable file "
		    "(cannot open it)", path);
		return NULL;
	}
	if ((buf = malloc(MAP_FILE_MAX + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, MAP_FILE_MAX + 1, f);
	fclose(f);
	if (n > MAP_FILE_MAX) {
		snprintf(err, errsz, "MODEL_MAPPING=@%s: larger than %d bytes",
		    path, MAP_FILE_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Names, targets, provider ids: one printable word. */
static int
word_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return 0;
	return 1;
}

static char *
member(struct json_object *o, const char *key, int *bad)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	if (!json_object_is_type(v, json_type_string) ||
	    !word_ok(json_object_get_string(v), MAP_NAME_MAX)) {
		*bad = 1;
		return NULL;
	}
	return strdup(json_object_get_string(v));
}

int
config_parse_mapping(const char *val, struct model_maps *out, char *err,
    size_t errsz)
{
	struct json_object *root = NULL, *v;
	struct json_object_iterator it, end;
	struct model_map *m;
	char *text = NULL;
	const char *src = val, *name;
	int bad, rc = -1;
	size_t n;

	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char)*src))
		src++;
	if (*src == '\0')
		return 0;
	if (*src == '@') {
		if ((text = read_file(src + 1, err, errsz)) == NULL)
			return -1;
		src = text;
	}
	if ((root = json_tokener_parse(src)) == NULL ||
	    !json_object_is_type(root, json_type_object)) {
		snprintf(err, errsz, "MODEL_MAPPING: accepts a JSON object "
		    "{\"name\": \"target\", ...} or @FILE holding one");
		goto fail;
	}
	n = (size_t)json_object_object_length(root);
	if (n > MAP_MAX) {
		snprintf(err, errsz, "MODEL_MAPPING: more than %d mappings",
		    MAP_MAX);
		goto fail;
	}
	if (n && (out->v = calloc(n, sizeof(*out->v))) == NULL)
		goto fail;
	it = json_object_iter_begin(root);
	end = json_object_iter_end(root);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		m = &out->v[out->n];
		bad = !word_ok(name, MAP_NAME_MAX);
		if (!bad && (m->name = strdup(name)) == NULL)
			goto fail;
		if (!bad && json_object_is_type(v, json_type_string)) {
			if (!word_ok(json_object_get_string(v), MAP_NAME_MAX))
				bad = 1;
			else
				m->target = strdup(json_object_get_string(v));
		} else if (!bad && json_object_is_type(v, json_type_object)) {
			if ((m->target = member(v, "target", &bad)) == NULL &&
			    !bad)
				m->target = member(v, "model", &bad);
			m->provider = member(v, "provider", &bad);
			m->account = member(v, "account", &bad);
			if (m->target == NULL)
				bad = 1;
		} else
			bad = 1;
		out->n++;
		if (bad) {
			snprintf(err, errsz, "MODEL_MAPPING: \"%.64s\": accepts "
			    "a target name or {\"target\", \"provider\", "
			    "\"account\"} (one word each, at most %d bytes)",
			    name, MAP_NAME_MAX);
			goto fail;
		}
	}
	rc = 0;
fail:
	json_object_put(root);
	free(text);
	if (rc < 0)
		config_free_mapping(out);
	return rc;
}

void
config_free_mapping(struct model_maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].target);
		free(m->v[i].provider);
		free(m->v[i].account);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
