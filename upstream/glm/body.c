/*
 * body.c - the GLM chat body and its flattened prompt; see body.h for
 * the rules.  Built with fcgi/buf.h's JSON string writer, in the order
 * the web client sends the keys, then copied into the request arena.
 */
#include "config.h"

#include <string.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "upstream/glm/body.h"
#include "upstream/glm/internal.h"

static const char *
role_label(enum chat_role r)
{
	switch (r) {
	case CHAT_ROLE_SYSTEM:
	case CHAT_ROLE_DEVELOPER:
		return "System";
	case CHAT_ROLE_ASSISTANT:
		return "Assistant";
	default:
		return "User";	/* user, and tool results */
	}
}

/* A message's text parts joined with "\n". */
static void
message_text(struct buf *b, const struct chat_message *m)
{
	size_t k;
	int first = 1;

	for (k = 0; k < m->nparts; k++) {
		const struct chat_part *p = &m->parts[k];

		if (p->type != CHAT_PART_TEXT || p->text == NULL)
			continue;
		if (!first)
			buf_add(b, "\n", 1);
		buf_add(b, p->text, p->len);
		first = 0;
	}
}

char *
glm_prompt(struct arena *a, const struct chat_request *req, size_t *lenp)
{
	struct buf b;
	size_t i;
	char *out = NULL;

	if (lenp != NULL)
		*lenp = 0;
	buf_init(&b, 0);
	for (i = 0; req != NULL && i < req->nmessages; i++) {
		if (req->nmessages >= 2) {
			buf_adds(&b, role_label(req->messages[i].role));
			buf_add(&b, ": ", 2);
		}
		message_text(&b, &req->messages[i]);
		buf_adds(&b, req->nmessages >= 2 ? "\n\n" : "\n");
	}
	if (req != NULL && req->nmessages >= 2)
		buf_adds(&b, "Assistant: ");
	if (!b.failed && (out = arena_strndup(a, b.p != NULL ? b.p : "",
	    b.len)) != NULL && lenp != NULL)
		*lenp = b.len;
	buf_free(&b);
	return out;
}

static const char *
assistant_of(const char *model)
{
	size_t i;

	if (model == NULL)
		return GLM_ASSISTANT;
	for (i = 0; model[i]; i++)
		if (!((model[i] >= 'a' && model[i] <= 'z') ||
		    (model[i] >= '0' && model[i] <= '9')))
			return GLM_ASSISTANT;
	return i >= 24 && i <= GLM_ID_MAX ? model : GLM_ASSISTANT;
}

const char *
glm_assistant(const struct route *rt)
{
	const char *a = assistant_of(rt->upstream_model);

	return strcmp(a, GLM_ASSISTANT) != 0 ? a : assistant_of(rt->requested);
}

/* The uploads: one "file" item listing the files, one per image. */
static void
refs_json(struct buf *b, const struct glm_ref *refs, size_t n)
{
	size_t i;
	int files = 0;

	for (i = 0; i < n; i++) {
		if (refs[i].image)
			continue;
		buf_adds(b, files++ ? "," : "{\"type\":\"file\",\"file\":[");
		buf_adds(b, "{\"source_id\":");
		buf_json_str(b, refs[i].source_id, strlen(refs[i].source_id));
		buf_adds(b, ",\"file_url\":");
		buf_json_str(b, refs[i].file_url, strlen(refs[i].file_url));
		buf_adds(b, "}");
	}
	if (files)
		buf_adds(b, "]},");
	for (i = 0; i < n; i++) {
		if (!refs[i].image)
			continue;
		buf_adds(b, "{\"type\":\"image_url\",\"image_url\":{\"url\":");
		buf_json_str(b, refs[i].file_url, strlen(refs[i].file_url));
		buf_adds(b, "}},");
	}
}

char *
glm_body(struct arena *a, const struct chat_request *req,
    const struct route *rt, const struct glm_ref *refs, size_t nrefs,
    const char *conv)
{
	const char *assistant, *mode = NULL;
	struct buf b;
	size_t plen;
	char *prompt, *out = NULL;

	if ((prompt = glm_prompt(a, req, &plen)) == NULL)
		return NULL;
	assistant = glm_assistant(rt);
	if (rt->flags & ROUTE_DEEP_RESEARCH)
		mode = "deep_research";
	else if (rt->flags & ROUTE_THINK)
		mode = "zero";
	buf_init(&b, 0);
	buf_adds(&b, "{\"assistant_id\":");
	buf_json_str(&b, assistant, strlen(assistant));
	buf_adds(&b, ",\"conversation_id\":");
	if (conv == NULL)
		conv = "";
	buf_json_str(&b, conv, strlen(conv));
	buf_adds(&b, ",\"project_id\":\"\","
	    "\"chat_type\":\"user_chat\",\"messages\":[{\"role\":\"user\","
	    "\"content\":[");
	refs_json(&b, refs, nrefs);
	buf_adds(&b, "{\"type\":\"text\",\"text\":");
	buf_json_str(&b, prompt, plen);
	buf_adds(&b, "}]}],\"meta_data\":{\"channel\":\"\",");
	if (mode != NULL)
		buf_printf(&b, "\"chat_mode\":\"%s\",", mode);
	buf_printf(&b, "\"draft_id\":\"\",\"if_plus_model\":true,"
	    "\"input_question_type\":\"xxxx\",\"is_networking\":%s,"
	    "\"is_test\":false,\"platform\":\"pc\",\"quote_log_id\":\"\","
	    "\"cogview\":{\"rm_label_watermark\":false}}}",
	    rt->flags & ROUTE_SEARCH ? "true" : "false");
	if (!b.failed)
		out = arena_strndup(a, b.p, b.len);
	buf_free(&b);
	return out;
}
