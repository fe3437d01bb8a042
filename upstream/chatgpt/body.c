/*
 * The conversation request body (§4.1) and the OpenAI → ChatGPT message
 * conversion (§4.2).  Image and file parts were uploaded by files.c
 * before: images become image_asset_pointer parts, both become
 * attachments.
 *
 * The body has a fixed shape, so it is written straight into a buffer:
 * a json-c tree and its serialisation cost about three times as much
 * (BENCHMARKS.md §5).  Key order is the web client's.
 */
#include "config.h"

#include <string.h>

#include "fcgi/buf.h"

#include "fcgi/rand.h"
#include "upstream/call.h"
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

static void
str(struct buf *b, const char *s)
{
	buf_json_str(b, s, strlen(s));
}

static void
attachment(struct buf *b, const struct cg_upload *u)
{
	buf_adds(b, "{\"id\":");
	str(b, u->file_id);
	buf_printf(b, ",\"size\":%zu,\"name\":", u->size);
	str(b, u->name);
	buf_adds(b, ",\"mime_type\":");
	str(b, u->mime);
	if (u->is_image)
		buf_printf(b, ",\"width\":%d,\"height\":%d", u->width,
		    u->height);
	buf_adds(b, "}");
}

static void
convert_message(struct cg_call *c, struct buf *b,
    const struct chat_message *m, const struct cg_upload *ups)
{
	char id[37];
	size_t i, nparts = 0, natts = 0;

	call_uuid4(id);
	buf_printf(b, "{\"id\":\"%s\",\"author\":{\"role\":", id);
	str(b, upstream_role(m->role));
	buf_printf(b, "},\"content\":{\"content_type\":\"%s\",\"parts\":[",
	    m->string_content ? "text" : "multimodal_text");
	for (i = 0; i < m->nparts; i++) {
		const struct cg_upload *u = ups ? &ups[i] : NULL;

		if (m->parts[i].type == CHAT_PART_TEXT) {
			if (nparts++ > 0)
				buf_adds(b, ",");
			buf_json_str(b, m->parts[i].text, m->parts[i].len);
			continue;
		}
		if (u == NULL || !u->done || !u->is_image)
			continue;
		if (nparts++ > 0)
			buf_adds(b, ",");
		buf_adds(b, "{\"content_type\":\"image_asset_pointer\","
		    "\"asset_pointer\":");
		str(b, arena_printf(c->arena, "file-service://%s",
		    u->file_id));
		buf_printf(b, ",\"size_bytes\":%zu,\"width\":%d,\"height\":%d}",
		    u->size, u->width, u->height);
	}
	if (nparts == 0)
		buf_adds(b, "\"\"");
	buf_adds(b, "]},\"metadata\":{");
	for (i = 0; i < m->nparts; i++) {
		const struct cg_upload *u = ups ? &ups[i] : NULL;

		if (m->parts[i].type == CHAT_PART_TEXT || u == NULL || !u->done)
			continue;
		buf_adds(b, natts++ > 0 ? "," : "\"attachments\":[");
		attachment(b, u);
	}
	buf_adds(b, natts > 0 ? "]}}" : "}}");
}

/* The body, in the request arena; NULL when out of memory. */
char *
cg_conversation_body(struct cg_call *c, size_t *len)
{
	const struct chat_request *r = c->pc->req;
	const struct provider_session *ps = c->pc->session;
	/* a session's chat, else the client's own ids (§4.1) */
	const char *conv = ps != NULL && ps->chat_id != NULL ? ps->chat_id :
	    r->conversation_id;
	const char *parent = ps != NULL && ps->chat_id != NULL ?
	    ps->parent_id : r->parent_message_id;
	char gizmo[CHATGPT_GIZMO_MAX + 1], uuid[37];
	struct buf b;
	char *out = NULL;
	size_t i;
	int hist;

	buf_init(&b, 0);
	buf_printf(&b, "{\"action\":\"next\",\"client_contextual_info\":{"
	    "\"is_dark_mode\":false,\"time_since_loaded\":%d,"
	    "\"page_height\":%d,\"page_width\":%d,\"pixel_ratio\":1.5,"
	    "\"screen_height\":%d,\"screen_width\":%d},",
	    rnd_between(50, 500), rnd_between(500, 1000),
	    rnd_between(1000, 2000), rnd_between(800, 1200),
	    rnd_between(1200, 2200));
	if (chatgpt_model_gizmo(r->model, gizmo, sizeof(gizmo))) {
		buf_adds(&b, "\"conversation_mode\":{\"kind\":"
		    "\"gizmo_interaction\",\"gizmo_id\":");
		str(&b, gizmo);
		buf_adds(&b, "},");
	} else
		buf_adds(&b, "\"conversation_mode\":{\"kind\":"
		    "\"primary_assistant\"},");
	hist = r->history_disabled >= 0 ? r->history_disabled :
	    c->cfg->history_disabled;
	buf_printf(&b, "\"conversation_origin\":null,\"force_paragen\":false,"
	    "\"force_paragen_model_slug\":\"\",\"force_rate_limit\":false,"
	    "\"force_use_sse\":true,\"history_and_training_disabled\":%s,"
	    "\"messages\":[", hist ? "true" : "false");
	for (i = 0; i < r->nmessages; i++) {
		if (i > 0)
			buf_adds(&b, ",");
		convert_message(c, &b, &r->messages[i],
		    c->uploads ? c->uploads[i] : NULL);
	}
	buf_adds(&b, "],\"model\":");
	str(&b, c->slug);
	buf_adds(&b, ",\"paragen_cot_summary_display_override\":\"allow\","
	    "\"paragen_stream_type_override\":null,\"parent_message_id\":");
	if (parent != NULL)
		str(&b, parent);
	else {
		call_uuid4(uuid);
		buf_printf(&b, "\"%s\"", uuid);
	}
	buf_printf(&b, ",\"reset_rate_limits\":false,\"suggestions\":[],"
	    "\"supported_encodings\":[%s],\"system_hints\":[%s],"
	    "\"timezone\":\"America/Los_Angeles\",\"timezone_offset_min\":-480,"
	    "\"variant_purpose\":\"comparison_implicit\","
	    "\"websocket_request_id\":",
	    c->cfg->delta_encoding ? "\"v1\"" : "",
	    strstr(c->slug, "image") != NULL || (r->model &&
	    strstr(r->model, "image") != NULL) ? "\"picture_v2\"" : "");
	call_uuid4(uuid);
	buf_printf(&b, "\"%s\"", uuid);
	if (conv != NULL) {
		buf_adds(&b, ",\"conversation_id\":");
		str(&b, conv);
	}
	buf_adds(&b, "}");
	if (b.failed)
		goto fail;
	out = arena_strndup(c->arena, b.p, b.len);
	*len = b.len;
fail:
	buf_free(&b);
	return out;
}
