/*
 * Reading the attachments of a request (see attach.h).  A data: URL is
 * decoded in place of a fetch; a remote URL goes out through the export
 * proxy, never the upstream's, since it is the client's server we talk
 * to, not the provider's.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "upstream/attach.h"
#include "upstream/http.h"

/* data:<mime>;base64,<payload> */
static int
data_url(struct arena *a, const char *url, size_t max, struct attach *out)
{
	const char *semi = strchr(url, ';'), *comma = strchr(url, ',');
	size_t n, pad = 0;
	int len;

	if (semi == NULL || comma == NULL || semi > comma ||
	    strncmp(semi, ";base64,", 8) != 0)
		return -1;
	out->mime = arena_strndup(a, url + 5, (size_t)(semi - url - 5));
	n = strlen(comma + 1);
	if (out->mime == NULL || n == 0 || n % 4 != 0 || n / 4 * 3 > max)
		return -1;
	if ((out->data = arena_alloc(a, n / 4 * 3 + 1)) == NULL)
		return -1;
	len = EVP_DecodeBlock(out->data, (const unsigned char *)comma + 1,
	    (int)n);
	if (len < 0)
		return -1;
	if (comma[n] == '=')
		pad++;
	if (comma[n - 1] == '=')
		pad++;
	out->size = (size_t)len - pad;
	return 0;
}

static const char *cf_headers[] = { "content-type: application/json", NULL };

/* GET the URL, or POST {"file_url":url} to CF_FILE_URL when set (§11.2). */
static int
fetch_http(const struct config *cfg, struct arena *a, const char *url,
    size_t max, int (*idle)(void *), void *idle_ctx, struct attach *out)
{
	struct http_req req;
	struct http_resp resp;
	const char *semi;
	enum up_err e;
	int rc = -1;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	if (cfg->cf_file_url[0]) {
		/* A fetcher (e.g. a Cloudflare worker) gets the URL instead. */
		struct json_object *o = json_object_new_object();
		const char *js;

		json_object_object_add(o, "file_url",
		    json_object_new_string(url));
		js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		req.body = js ? arena_strdup(a, js) : NULL;
		json_object_put(o);
		if (req.body == NULL)
			return -1;
		req.body_len = strlen(req.body);
		req.method = "POST";
		req.url = cfg->cf_file_url;
		req.headers = cf_headers;
	}
	req.proxy = cfg->export_proxy_url[0] ? cfg->export_proxy_url : NULL;
	req.total_timeout_ms = 60000;
	req.max_body = max;
	req.idle = idle;
	req.idle_ctx = idle_ctx;
	e = http_do(&req, &resp);
	if (e == UP_OK && resp.status == 200 && resp.body_len > 0 &&
	    (out->data = arena_alloc(a, resp.body_len)) != NULL) {
		memcpy(out->data, resp.body, resp.body_len);
		out->size = resp.body_len;
		if (resp.content_type == NULL)
			out->mime = "application/octet-stream";
		else if ((semi = strchr(resp.content_type, ';')))
			out->mime = arena_strndup(a, resp.content_type,
			    (size_t)(semi - resp.content_type));
		else
			out->mime = arena_strdup(a, resp.content_type);
		rc = out->mime != NULL ? 0 : -1;
	}
	http_resp_free(&resp);
	return rc;
}

int
attach_fetch(const struct config *cfg, struct arena *a, const char *url,
    size_t max, int (*idle)(void *), void *idle_ctx, struct attach *out)
{
	memset(out, 0, sizeof(*out));
	if (url == NULL)
		return -1;
	if (strncmp(url, "data:", 5) == 0)
		return data_url(a, url, max, out);
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return -1;
	return fetch_http(cfg, a, url, max, idle, idle_ctx, out);
}
