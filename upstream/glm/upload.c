/*
 * The image and file parts of a request go up through file_upload
 * (§3.4): the bytes (upstream/attach.c) as one multipart "file" field,
 * answered with result.{source_id, file_url}, which the body references
 * beside the prompt.  A part that cannot be read is the client's error
 * (400), one the upstream refuses is the upstream's.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "fcgi/rand.h"
#include "upstream/attach.h"
#include "upstream/glm/internal.h"

static const struct {
	const char	*mime, *ext;
} exts[] = {
	{ "image/png", ".png" }, { "image/jpeg", ".jpg" },
	{ "image/webp", ".webp" }, { "image/gif", ".gif" },
	{ "application/pdf", ".pdf" }, { "text/plain", ".txt" },
	{ "text/markdown", ".md" }, { "text/csv", ".csv" },
	{ "application/json", ".json" },
};

static const char *
ext_of(const char *mime)
{
	size_t i;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcasecmp(mime, exts[i].mime) == 0)
			return exts[i].ext;
	return ".bin";
}

/* A MIME type fit for a part header: one token, no CR, LF or quote. */
static const char *
safe_mime(const char *m)
{
	size_t i;

	for (i = 0; m[i]; i++)
		if ((unsigned char)m[i] <= ' ' || m[i] == '"' || m[i] == ';' ||
		    (unsigned char)m[i] >= 0x7f || i > 100)
			return "application/octet-stream";
	return i > 0 ? m : "application/octet-stream";
}

static int
upload_one(struct glm_call *c, const struct attach *at, const char *what,
    struct glm_ref *ref)
{
	struct json_object *root, *res;
	const char *mime = safe_mime(at->mime), *id, *url;
	char boundary[41], name[37], *ctype;
	unsigned char r[12];
	struct buf b;
	size_t i;
	int rc = -1;

	rnd_bytes(r, sizeof(r));
	memcpy(boundary, "----chat2api", 12);
	for (i = 0; i < sizeof(r); i++)
		snprintf(boundary + 12 + 2 * i, 3, "%02x", r[i]);
	call_uuid4(name);
	buf_init(&b, 0);
	buf_printf(&b, "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
	    "filename=\"%s%s\"\r\nContent-Type: %s\r\n\r\n", boundary, name,
	    ext_of(mime), mime);
	buf_add(&b, at->data, at->size);
	buf_printf(&b, "\r\n--%s--\r\n", boundary);
	ctype = arena_printf(c->arena, "multipart/form-data; boundary=%s",
	    boundary);
	if (b.failed || ctype == NULL) {
		glm_oom(c);
		goto out;
	}
	if (glm_api_fresh(c, "file_upload", GLM_PATH_UPLOAD, b.p, b.len, ctype,
	    &root, &res) != GLM_STEP_OK)
		goto out;
	id = glm_json_str(res, "source_id", GLM_ID_MAX);
	url = glm_json_str(res, "file_url", GLM_URL_MAX);
	if (id != NULL && url != NULL) {
		ref->source_id = arena_strdup(c->arena, id);
		ref->file_url = arena_strdup(c->arena, url);
	}
	json_object_put(root);
	if (id == NULL || url == NULL) {
		call_fail(c->sink, 502, "upstream_error", "upload_failed",
		    "Uploading %s failed: GLM answered no source_id/file_url.",
		    what);
		goto out;
	}
	if (ref->source_id == NULL || ref->file_url == NULL) {
		glm_oom(c);
		goto out;
	}
	log_info("glm: uploaded %s (%zu bytes, %s)", what, at->size, mime);
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int
glm_upload_parts(struct glm_call *c, const struct chat_request *r,
    struct glm_ref **refs, size_t *nrefs)
{
	struct attach at;
	char what[64];
	size_t i, j, n = 0;

	*refs = NULL;
	*nrefs = 0;
	for (i = 0; i < r->nmessages; i++)
		for (j = 0; j < r->messages[i].nparts; j++)
			n += r->messages[i].parts[j].type != CHAT_PART_TEXT;
	if (n == 0)
		return 0;
	if (n > GLM_UPLOADS_MAX) {
		call_fail(c->sink, 400, "invalid_request_error",
		    "too_many_attachments", "GLM takes at most %d images and "
		    "files per request; this one has %zu.", GLM_UPLOADS_MAX,
		    n);
		return -1;
	}
	if ((*refs = arena_calloc(c->arena, n, sizeof(**refs))) == NULL) {
		glm_oom(c);
		return -1;
	}
	for (i = 0; i < r->nmessages; i++) {
		const struct chat_message *m = &r->messages[i];

		for (j = 0; j < m->nparts; j++) {
			const struct chat_part *p = &m->parts[j];
			struct glm_ref *ref = &(*refs)[*nrefs];

			if (p->type == CHAT_PART_TEXT)
				continue;
			snprintf(what, sizeof(what),
			    "messages[%zu].content[%zu]", i, j);
			if (attach_fetch(c->cfg, c->arena, p->url,
			    GLM_UPLOAD_BYTES, c->idle, c->idle_ctx, &at) < 0 ||
			    at.size == 0) {
				call_fail(c->sink, 400, "invalid_request_error",
				    "invalid_image_url", "Could not read %s: "
				    "not a base64 data: URL or not fetchable "
				    "(at most %u bytes).", what,
				    GLM_UPLOAD_BYTES);
				return -1;
			}
			ref->image = p->type == CHAT_PART_IMAGE;
			if (upload_one(c, &at, what, ref) < 0)
				return -1;
			(*nrefs)++;
		}
	}
	return 0;
}
