/*
 * The reachability probe (probe.h).  It reads no body: the transfer is
 * stopped from the header callback as soon as a final status line is
 * in, so an answer of any size costs one round trip.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "upstream/probe.h"
#include "upstream/qwen/internal.h"

static const struct {
	const char	*id;
	size_t		 off;	/* the strlist in struct config */
	const char	*fallback;	/* when the list is empty */
} bases[] = {
	{ "chatgpt", offsetof(struct config, chatgpt_base_url), NULL },
	{ "deepseek", offsetof(struct config, deepseek_base_url), NULL },
	{ "kimi", offsetof(struct config, kimi_base_url), NULL },
	{ "glm", offsetof(struct config, glm_base_url), NULL },
	{ "qwen", offsetof(struct config, qwen_base_url), QW_CHAT_HOST },
	{ "qwenai", offsetof(struct config, qwenai_base_url), NULL },
	{ "minimax", offsetof(struct config, minimax_base_url), NULL },
	{ "zai", offsetof(struct config, zai_base_url), NULL },
};

const char *
probe_base(const struct config *cfg, const char *id)
{
	const struct strlist *l;
	size_t i;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (strcmp(bases[i].id, id) != 0)
			continue;
		l = (const struct strlist *)(const void *)
		    ((const char *)cfg + bases[i].off);
		return l->n > 0 ? l->v[0] : bases[i].fallback;
	}
	return NULL;
}

const char *
probe_proxy(const struct config *cfg)
{
	/* "{}" stands for a per-account part: no account here, no proxy */
	if (cfg->proxy_url.n == 0 || strstr(cfg->proxy_url.v[0], "{}"))
		return NULL;
	return cfg->proxy_url.v[0];
}

long
probe_status_line(const char *line, size_t len)
{
	long st = 0;
	size_t i, digits = 0;

	if (len < 12 || strncasecmp(line, "HTTP/", 5) != 0)
		return 0;
	for (i = 5; i < len && line[i] != ' '; i++)
		;
	for (i++; i < len && line[i] >= '0' && line[i] <= '9'; i++)
		if (++digits <= 3)
			st = st * 10 + (line[i] - '0');
	if (digits != 3 || st < 200)
		return 0;
	if (len - i >= 23 && strncasecmp(line + i, " connection established",
	    23) == 0)
		return 0;
	return st;
}

struct seen {
	long	status;
};

static int
on_line(void *ctx, const char *line, size_t len)
{
	struct seen *s = ctx;

	s->status = probe_status_line(line, len);
	return s->status > 0;	/* the answer is in: stop */
}

enum up_err
probe_reach(const char *url, const char *proxy, long *status)
{
	struct http_req req;
	struct http_resp resp;
	struct seen s = { 0 };
	enum up_err e;
	long got;

	*status = 0;
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = "GET";
	req.url = url;
	req.proxy = proxy;
	req.connect_timeout_ms = PROBE_CONNECT_MS;
	req.total_timeout_ms = PROBE_TOTAL_MS;
	req.idle_timeout_s = PROBE_TOTAL_MS / 1000;
	req.max_body = 4096;
	req.on_header = on_line;
	req.header_ctx = &s;
	e = http_do(&req, &resp);
	got = resp.status;
	http_resp_free(&resp);
	if (s.status > 0) {
		*status = s.status;
		return UP_OK;
	}
	/* finished without our stop: a status line curl saw, or nonsense */
	if ((e == UP_OK || e == UP_HTTP || e == UP_TOOBIG) && got > 0) {
		*status = got;
		return UP_OK;
	}
	return e == UP_OK || e == UP_HTTP || e == UP_ABORTED ? UP_PROTO : e;
}
