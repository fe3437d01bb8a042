/*
 * The conversation request body (§4.1) and the OpenAI → ChatGPT message
 * conversion (§4.2).  Image and file parts were uploaded by files.c
 * before: images become image_asset_pointer parts, both become
 * attachments.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "fcgi/rand.h"
#include "upstream/chatgpt/internal.h"
#include "upstream/chatgpt/models.h"

static int
rnd_between(int lo, int hi)
{
	return lo + (int)rnd_below((uint64_t)(hi - lo + 1));
}

/* ChatGPT knows no "developer" role; it is the system prompt. */
static const char *
upstream_role(enum chat_role r)
{
	return r == CHAT_ROLE_DEVELOPER ? "system" : chat_role_name(r);
}

static struct json_object *
attachment(const struct cg_upload *u)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "id", json_object_new_string(u->file_id));
	json_object_object_add(a, "size", json_object_new_int64(
	    (int64_t)u->size));
	json_object_object_add(a, "name", json_object_new_string(u->name));
	json_object_object_add(a, "mime_type", json_object_new_string(u->mime));
	if (u->is_image) {
		json_object_object_add(a, "width",
		    json_object_new_int(u->width));
		json_object_object_add(a, "height",
		    json_object_new_int(u->height));
	}
	return a;
}

static struct json_object *
convert_message(struct cg_call *c, const struct chat_message *m,
    struct cg_upload *ups)
{
	struct json_object *msg, *author, *content, *parts, *meta, *atts;
	char id[37];
	size_t i;
	int multi = !m->string_content;

	cg_uuid4(id);
	msg = json_object_new_object();
	json_object_object_add(msg, "id", json_object_new_string(id));
	author = json_object_new_object();
	json_object_object_add(author, "role",
	    json_object_new_string(upstream_role(m->role)));
	json_object_object_add(msg, "author", author);
	content = json_object_new_object();
	json_object_object_add(content, "content_type",
	    json_object_new_string(multi ? "multimodal_text" : "text"));
	parts = json_object_new_array();
	atts = json_object_new_array();
	for (i = 0; i < m->nparts; i++) {
		const struct cg_upload *u = ups ? &ups[i] : NULL;
		if (m->parts[i].type == CHAT_PART_TEXT) {
			json_object_array_add(parts, json_object_new_string_len(
			    m->parts[i].text, (int)m->parts[i].len));
			continue;
		}
		if (u == NULL || !u->done)
			continue;
		if (u->is_image) {
			struct json_object *p = json_object_new_object();
			json_object_object_add(p, "content_type",
			    json_object_new_string("image_asset_pointer"));
			json_object_object_add(p, "asset_pointer",
			    json_object_new_string(arena_printf(c->arena,
			    "file-service://%s", u->file_id)));
			json_object_object_add(p, "size_bytes",
			    json_object_new_int64((int64_t)u->size));
			json_object_object_add(p, "width",
			    json_object_new_int(u->width));
			json_object_object_add(p, "height",
			    json_object_new_int(u->height));
			json_object_array_add(parts, p);
		}
		json_object_array_add(atts, attachment(u));
	}
	if (json_object_array_length(parts) == 0)
		json_object_array_add(parts, json_object_new_string(""));
	json_object_object_add(content, "parts", parts);
	json_object_object_add(msg, "content", content);
	meta = json_object_new_object();
	if (json_object_array_length(atts) > 0)
		json_object_object_add(meta, "attachments", atts);
	else
		json_object_put(atts);
	json_object_object_add(msg, "metadata", meta);
	return msg;
}

char *
cg_conversation_body(struct cg_call *c, size_t *len)
{
	const struct chat_request *r = c->pc->req;
	struct json_object *o, *ctx, *mode, *msgs, *enc, *hints;
	char gizmo[CHATGPT_GIZMO_MAX + 1], uuid[37];
	const char *s;
	char *out;
	size_t i;
	int hist;

	o = json_object_new_object();
	json_object_object_add(o, "action", json_object_new_string("next"));
	ctx = json_object_new_object();
	json_object_object_add(ctx, "is_dark_mode", json_object_new_boolean(0));
	json_object_object_add(ctx, "time_since_loaded",
	    json_object_new_int(rnd_between(50, 500)));
	json_object_object_add(ctx, "page_height",
	    json_object_new_int(rnd_between(500, 1000)));
	json_object_object_add(ctx, "page_width",
	    json_object_new_int(rnd_between(1000, 2000)));
	json_object_object_add(ctx, "pixel_ratio", json_object_new_double(1.5));
	json_object_object_add(ctx, "screen_height",
	    json_object_new_int(rnd_between(800, 1200)));
	json_object_object_add(ctx, "screen_width",
	    json_object_new_int(rnd_between(1200, 2200)));
	json_object_object_add(o, "client_contextual_info", ctx);
	mode = json_object_new_object();
	if (chatgpt_model_gizmo(r->model, gizmo, sizeof(gizmo))) {
		json_object_object_add(mode, "kind",
		    json_object_new_string("gizmo_interaction"));
		json_object_object_add(mode, "gizmo_id",
		    json_object_new_string(gizmo));
	} else
		json_object_object_add(mode, "kind",
		    json_object_new_string("primary_assistant"));
	json_object_object_add(o, "conversation_mode", mode);
	json_object_object_add(o, "conversation_origin", NULL);
	json_object_object_add(o, "force_paragen", json_object_new_boolean(0));
	json_object_object_add(o, "force_paragen_model_slug",
	    json_object_new_string(""));
	json_object_object_add(o, "force_rate_limit",
	    json_object_new_boolean(0));
	json_object_object_add(o, "force_use_sse", json_object_new_boolean(1));
	hist = r->history_disabled >= 0 ? r->history_disabled :
	    c->cfg->history_disabled;
	json_object_object_add(o, "history_and_training_disabled",
	    json_object_new_boolean(hist));
	msgs = json_object_new_array();
	for (i = 0; i < r->nmessages; i++)
		json_object_array_add(msgs, convert_message(c, &r->messages[i],
		    c->uploads ? c->uploads[i] : NULL));
	json_object_object_add(o, "messages", msgs);
	json_object_object_add(o, "model", json_object_new_string(c->slug));
	json_object_object_add(o, "paragen_cot_summary_display_override",
	    json_object_new_string("allow"));
	json_object_object_add(o, "paragen_stream_type_override", NULL);
	if (r->parent_message_id != NULL)
		s = r->parent_message_id;
	else {
		cg_uuid4(uuid);
		s = uuid;
	}
	json_object_object_add(o, "parent_message_id",
	    json_object_new_string(s));
	json_object_object_add(o, "reset_rate_limits",
	    json_object_new_boolean(0));
	json_object_object_add(o, "suggestions", json_object_new_array());
	enc = json_object_new_array();
	if (c->cfg->delta_encoding)
		json_object_array_add(enc, json_object_new_string("v1"));
	json_object_object_add(o, "supported_encodings", enc);
	hints = json_object_new_array();
	if (strstr(c->slug, "image") != NULL ||
	    (r->model && strstr(r->model, "image") != NULL))
		json_object_array_add(hints, json_object_new_string(
		    "picture_v2"));
	json_object_object_add(o, "system_hints", hints);
	json_object_object_add(o, "timezone",
	    json_object_new_string("America/Los_Angeles"));
	json_object_object_add(o, "timezone_offset_min",
	    json_object_new_int(-480));
	json_object_object_add(o, "variant_purpose",
	    json_object_new_string("comparison_implicit"));
	cg_uuid4(uuid);
	json_object_object_add(o, "websocket_request_id",
	    json_object_new_string(uuid));
	if (r->conversation_id != NULL)
		json_object_object_add(o, "conversation_id",
		    json_object_new_string(r->conversation_id));
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, len);
	out = arena_strndup(c->arena, s, *len);
	json_object_put(o);
	return out;
}
