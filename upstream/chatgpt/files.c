/*
 * Images and files of a request (§4.2-§4.4, §11.2): fetch the bytes
 * (upstream/attach.c: data: URL, or http(s) through EXPORT_PROXY_URL),
 * then POST BASE/files, PUT the bytes to the blob URL, POST .../uploaded,
 * and for indexed documents wait for retrieval_index_status.  The results become
 * image_asset_pointer parts and attachments in body.c.
 */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "fcgi/log.h"
#include "upstream/attach.h"
#include "upstream/call.h"
#include "upstream/chatgpt/internal.h"
#include "upstream/jv.h"

#define FILE_MAX_BYTES	(20u << 20)
#define INDEX_POLLS	30

static const struct {
	const char	*mime, *ext, *use_case;
} mime_table[] = {
	{ "image/png", ".png", "multimodal" },
	{ "image/jpeg", ".jpg", "multimodal" },
	{ "image/webp", ".webp", "multimodal" },
	{ "image/gif", ".gif", "multimodal" },
	{ "application/pdf", ".pdf", "my_files" },
	{ "text/plain", ".txt", "my_files" },
	{ "text/markdown", ".md", "my_files" },
	{ "text/html", ".html", "my_files" },
	{ "application/json", ".json", "my_files" },
	{ "text/x-python", ".py", "my_files" },
	{ "text/x-c", ".c", "my_files" },
	{ "application/msword", ".doc", "my_files" },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml."
	  "document", ".docx", "my_files" },
	{ "application/vnd.openxmlformats-officedocument.presentationml."
	  "presentation", ".pptx", "my_files" },
	{ "text/csv", ".csv", "ace_upload" },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	  ".xlsx", "ace_upload" },
};

static void
mime_info(const char *mime, const char **ext, const char **use_case)
{
	size_t i;

	for (i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++)
		if (strcasecmp(mime, mime_table[i].mime) == 0) {
			*ext = mime_table[i].ext;
			*use_case = mime_table[i].use_case;
			return;
		}
	*ext = "";
	*use_case = "ace_upload";
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Width and height from the image header; 0 when not an image we read. */
int
cg_image_size(const unsigned char *p, size_t n, int *w, int *h)
{
	size_t i;

	*w = *h = 0;
	if (n >= 24 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 &&
	    memcmp(p + 12, "IHDR", 4) == 0) {
		*w = (int)be32(p + 16);
		*h = (int)be32(p + 20);
	} else if (n >= 10 && (memcmp(p, "GIF87a", 6) == 0 ||
	    memcmp(p, "GIF89a", 6) == 0)) {
		*w = p[6] | p[7] << 8;
		*h = p[8] | p[9] << 8;
	} else if (n >= 30 && memcmp(p, "RIFF", 4) == 0 &&
	    memcmp(p + 8, "WEBP", 4) == 0) {
		if (memcmp(p + 12, "VP8 ", 4) == 0) {
			*w = (p[26] | p[27] << 8) & 0x3fff;
			*h = (p[28] | p[29] << 8) & 0x3fff;
		} else if (memcmp(p + 12, "VP8L", 4) == 0) {
			uint32_t b = (uint32_t)p[21] | (uint32_t)p[22] << 8 |
			    (uint32_t)p[23] << 16 | (uint32_t)p[24] << 24;
			*w = (int)(b & 0x3fff) + 1;
			*h = (int)((b >> 14) & 0x3fff) + 1;
		} else if (memcmp(p + 12, "VP8X", 4) == 0) {
			*w = (p[24] | p[25] << 8 | p[26] << 16) + 1;
			*h = (p[27] | p[28] << 8 | p[29] << 16) + 1;
		}
	} else if (n >= 4 && p[0] == 0xff && p[1] == 0xd8) {
		/* JPEG: walk the segments to the first start-of-frame. */
		for (i = 2; i + 9 < n; ) {
			unsigned m;
			size_t len;
			if (p[i] != 0xff) {
				i++;
				continue;
			}
			m = p[i + 1];
			if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
				i += 2;
				continue;
			}
			len = (size_t)(p[i + 2] << 8 | p[i + 3]);
			if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 &&
			    m != 0xcc) {
				*h = p[i + 5] << 8 | p[i + 6];
				*w = p[i + 7] << 8 | p[i + 8];
				break;
			}
			i += 2 + len;
		}
	}
	return *w > 0 && *h > 0;
}

/* A request to BASE with the base headers; returns the JSON or NULL. */
static struct json_object *
api_json(struct cg_call *c, const char *method, const char *url,
    const char *body, long *status)
{
	struct http_req req;
	struct http_resp resp;
	struct json_object *o = NULL;
	enum up_err e;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = c->hdrs;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.proxy = c->proxy;
	req.total_timeout_ms = 30000;
	req.idle = c->pc->idle;
	req.idle_ctx = c->pc->idle_ctx;
	e = http_do(&req, &resp);
	*status = resp.status;
	if (e == UP_OK)
		o = json_tokener_parse(resp.body);
	http_resp_free(&resp);
	return o;
}

static int
put_blob(struct cg_call *c, const char *url, const struct cg_upload *u)
{
	const char *hdrs[CG_MAX_HEADERS + 5];
	struct http_req req;
	struct http_resp resp;
	size_t i, n = 0;
	enum up_err e;
	int ok;

	/* The storage URL must never see the access token (§4.4). */
	for (i = 0; i < c->nhdrs; i++)
		if (strncmp(c->hdrs[i], "authorization:", 14) != 0 &&
		    strncmp(c->hdrs[i], "oai-device-id:", 14) != 0 &&
		    strncmp(c->hdrs[i], "oai-language:", 13) != 0 &&
		    strncmp(c->hdrs[i], "content-type:", 13) != 0 &&
		    strncmp(c->hdrs[i], "accept:", 7) != 0 &&
		    strncmp(c->hdrs[i], "chatgpt-account-id:", 19) != 0)
			hdrs[n++] = c->hdrs[i];
	hdrs[n++] = "accept: application/json, text/plain, */*";
	hdrs[n++] = arena_printf(c->arena, "content-type: %s", u->mime);
	hdrs[n++] = "x-ms-blob-type: BlockBlob";
	hdrs[n++] = "x-ms-version: 2020-04-08";
	hdrs[n] = NULL;
	memset(&req, 0, sizeof(req));
	req.method = "PUT";
	req.url = url;
	req.headers = hdrs;
	req.body = (const char *)u->data;
	req.body_len = u->size;
	req.total_timeout_ms = 120000;
	req.idle = c->pc->idle;
	req.idle_ctx = c->pc->idle_ctx;
	e = http_do(&req, &resp);
	ok = e == UP_OK && resp.status == 201;
	http_resp_free(&resp);
	return ok ? 0 : -1;
}

static int
upload_one(struct cg_call *c, struct cg_upload *u, const char *what)
{
	struct json_object *o, *body;
	const char *ext, *id, *url;
	char uuid[37];
	long status = 0;
	int i;

	if (strncasecmp(u->mime, "image/", 6) == 0 &&
	    !cg_image_size(u->data, u->size, &u->width, &u->height))
		u->mime = "text/plain";	/* as the reference: not an image */
	u->is_image = strncasecmp(u->mime, "image/", 6) == 0;
	mime_info(u->mime, &ext, &u->use_case);
	call_uuid4(uuid);
	u->name = arena_printf(c->arena, "%s%s", uuid, ext);
	body = json_object_new_object();
	json_object_object_add(body, "file_name", json_object_new_string(
	    u->name));
	json_object_object_add(body, "file_size", json_object_new_int64(
	    (int64_t)u->size));
	json_object_object_add(body, "reset_rate_limits",
	    json_object_new_boolean(0));
	json_object_object_add(body, "timezone_offset_min",
	    json_object_new_int(-480));
	json_object_object_add(body, "use_case", json_object_new_string(
	    u->use_case));
	o = api_json(c, "POST", arena_printf(c->arena, "%s/files", c->base),
	    json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
	    &status);
	json_object_put(body);
	if ((id = jv_cstr(o, "file_id")) == NULL ||
	    (url = jv_cstr(o, "upload_url")) == NULL) {
		json_object_put(o);
		cg_fail(c, status == 401 ? 401 : 502, "upstream_error",
		    "upload_failed", "Uploading %s failed: the upstream "
		    "refused the file (status %ld).", what, status);
		return -1;
	}
	u->file_id = arena_strdup(c->arena, id);
	url = arena_strdup(c->arena, url);
	json_object_put(o);
	if (put_blob(c, url, u) < 0) {
		cg_fail(c, 502, "upstream_error", "upload_failed", "Uploading "
		    "%s failed: the blob storage did not accept it.", what);
		return -1;
	}
	o = api_json(c, "POST", arena_printf(c->arena, "%s/files/%s/uploaded",
	    c->base, u->file_id), "{}", &status);
	url = jv_cstr(o, "download_url");
	if (url == NULL || *url == '\0') {
		json_object_put(o);
		cg_fail(c, 502, "upstream_error", "upload_failed", "Uploading "
		    "%s failed: no download URL (status %ld).", what, status);
		return -1;
	}
	json_object_put(o);
	/* Indexed documents: wait until retrieval can use them. */
	if (!u->is_image && strcmp(u->use_case, "ace_upload") != 0) {
		for (i = 0; i < INDEX_POLLS; i++) {
			const char *st;
			o = api_json(c, "GET", arena_printf(c->arena,
			    "%s/files/%s", c->base, u->file_id), NULL, &status);
			st = jv_cstr(o, "retrieval_index_status");
			if (st != NULL && strcmp(st, "success") == 0) {
				json_object_put(o);
				break;
			}
			json_object_put(o);
			if (c->pc->idle && c->pc->idle(c->pc->idle_ctx))
				return -1;
			poll(NULL, 0, 250);
		}
	}
	log_info("chatgpt: uploaded %s as %s (%zu bytes, %s)", what,
	    u->file_id, u->size, u->mime);
	return 0;
}

int
cg_upload_parts(struct cg_call *c)
{
	const struct chat_request *r = c->pc->req;
	char what[64];
	size_t i, j;

	if ((c->uploads = arena_calloc(c->arena, r->nmessages,
	    sizeof(*c->uploads))) == NULL)
		return -1;
	for (i = 0; i < r->nmessages; i++) {
		const struct chat_message *m = &r->messages[i];
		for (j = 0; j < m->nparts; j++) {
			const struct chat_part *p = &m->parts[j];
			struct cg_upload *u;
			struct attach at;
			int rc;

			if (p->type == CHAT_PART_TEXT)
				continue;
			if (c->uploads[i] == NULL && (c->uploads[i] =
			    arena_calloc(c->arena, m->nparts,
			    sizeof(**c->uploads))) == NULL)
				return -1;
			u = &c->uploads[i][j];
			snprintf(what, sizeof(what),
			    "messages[%zu].content[%zu]", i, j);
			rc = attach_fetch(c->cfg, c->arena, p->url,
			    FILE_MAX_BYTES, c->pc->idle, c->pc->idle_ctx, &at);
			u->data = at.data;
			u->size = at.size;
			u->mime = at.mime;
			if (rc < 0 || u->size == 0) {
				cg_fail(c, 400, "invalid_request_error",
				    "invalid_image_url", "Could not read %s: "
				    "not a base64 data: URL or not fetchable "
				    "(at most %u bytes).", what,
				    FILE_MAX_BYTES);
				return -1;
			}
			if (upload_one(c, u, what) < 0)
				return -1;
			u->done = 1;
		}
	}
	return 0;
}
