/*
 * The end of a multi-turn session: its conversation is hidden the way
 * the web UI deletes one, PATCH BASE/conversation/{id} with
 * {"is_visible":false} (chatgpt.md §1).  A temporary chat
 * (HISTORY_DISABLED) is continued the same way and never listed; hiding
 * it as well costs one request and leaves nothing to find.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fcgi/log.h"
#include "store/crypto.h"
#include "upstream/call.h"
#include "upstream/chatgpt/chatgpt.h"
#include "upstream/chatgpt/internal.h"
#include "upstream/chatgpt/refresh.h"

/* A conversation id goes into the path as it is: a uuid's characters. */
static int
id_ok(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	return n > 0 && n <= PROVIDER_SESSION_ID_MAX && strspn(id,
	    "0123456789abcdefABCDEF-") == n;
}

int
chatgpt_forget(const struct provider_ctx *x, const struct provider_account *a,
    const char *chat_id)
{
	const char *extra[] = { "accept: application/json", NULL };
	static const char body[] = "{\"is_visible\":false}";
	struct http_req req;
	struct http_resp resp;
	struct cg_call c;
	enum refresh_err re;
	char *at = NULL, err[256];
	enum up_err e;
	int rc = -1;

	if (a == NULL || a->secret == NULL || !id_ok(chat_id))
		return -1;
	memset(&c, 0, sizeof(c));
	memset(&resp, 0, sizeof(resp));
	c.cfg = x->cfg;
	c.arena = x->arena;
	c.token = a->secret;
	if (chatgpt_token_kind(a->secret) == CHATGPT_KIND_REFRESH) {
		re = chatgpt_refresh(x->cfg, x->store, a->secret, 0, &at, NULL,
		    NULL, err, sizeof(err));
		if (re != REFRESH_OK) {
			log_info("chatgpt: forget: no access token: %s", err);
			return -1;
		}
		c.token = at;
	}
	c.account_id = a->team_id;
	if ((c.host = call_base(c.arena, &x->cfg->chatgpt_base_url)) == NULL)
		goto out;
	/* the same browser as the account's answers */
	cg_identity(&c);
	memset(&req, 0, sizeof(req));
	req.method = "PATCH";
	req.url = arena_printf(c.arena, "%s/conversation/%s", c.base, chat_id);
	req.headers = cg_headers_plus(&c, extra);
	req.body = body;
	req.body_len = sizeof(body) - 1;
	req.proxy = c.proxy;
	req.total_timeout_ms = 10000;
	if (req.url == NULL || req.headers == NULL)
		goto out;
	e = http_do(&req, &resp);
	/* 404: gone already, which is what was asked */
	if (e == UP_OK || (e == UP_HTTP && resp.status == 404))
		rc = 0;
	else
		log_info("chatgpt: forget: %s (status %ld)", up_strerror(e),
		    resp.status);
out:
	http_resp_free(&resp);
	if (at != NULL) {
		crypto_wipe(at, strlen(at));
		free(at);
	}
	return rc;
}
