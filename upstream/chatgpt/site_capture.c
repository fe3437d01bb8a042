/*
 * What a conversation stream tells about itself (upstream/chatgpt/site.h):
 * the stream goes through the SSE re-framer, and an event is parsed as
 * JSON only if its data can hold what is still missing, so the many
 * small v1 appends cost a substring search each.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "upstream/chatgpt/site.h"

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
id_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' &&
		    s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		    s[n] == '-' || s[n] == '_'))
			return 0;
	return n > 0 && n <= SITE_ID_MAX;
}

/* A title as the list shows it: one line, whole UTF-8 characters. */
static void
take_title(char *dst, const char *s)
{
	size_t i, n = 0;

	for (i = 0; s[i] && n < SITE_TITLE_MAX; i++)
		dst[n++] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	while (n > 0 && s[i] != '\0' && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;	/* cut before a character we could not finish */
	dst[n] = '\0';
}

static int
on_event(void *arg, const char *event, const char *data, size_t len)
{
	struct site_cap *c = arg;
	struct json_object *o, *v;
	const char *id, *t;
	int want_id, want_title;

	(void)event;
	if (len < 2 || data[0] != '{')
		return 0;
	want_id = !c->have_id && memmem(data, len, "conversation_id", 15);
	want_title = memmem(data, len, "title_generation", 16) != NULL;
	if (!want_id && !want_title)
		return 0;
	if ((o = json_tokener_parse(data)) == NULL)
		return 0;
	if (want_id) {
		id = jstr(o, "conversation_id");
		/* v1: the root add carries it inside "v". */
		if (id == NULL && json_object_object_get_ex(o, "v", &v))
			id = jstr(v, "conversation_id");
		if (id != NULL && id_ok(id)) {
			strcpy(c->conv_id, id);
			c->have_id = 1;
		}
	}
	if (want_title && (t = jstr(o, "type")) != NULL &&
	    strcmp(t, "title_generation") == 0 &&
	    (t = jstr(o, "title")) != NULL) {
		take_title(c->title, t);
		c->have_title = 1;
	}
	json_object_put(o);
	return 0;
}

void
site_cap_init(struct site_cap *c)
{
	memset(c, 0, sizeof(*c));
	sse_init(&c->sse, on_event, c, SITE_CAP_EVENT_MAX);
}

void
site_cap_feed(struct site_cap *c, const char *p, size_t n)
{
	if (!c->failed && sse_feed(&c->sse, p, n) != SSE_OK)
		c->failed = 1;
}

void
site_cap_finish(struct site_cap *c)
{
	if (!c->failed && sse_finish(&c->sse, NULL) != SSE_OK)
		c->failed = 1;
}

void
site_cap_free(struct site_cap *c)
{
	sse_free(&c->sse);
}
