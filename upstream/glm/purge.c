/*
 * Every conversation of a GLM account deleted (providers.md §3.4): the
 * upstream has no single "delete all", so the conversation list is read
 * page by page (recent_list, 100 a page) and the ids go to bulk_delete in
 * batches of the same size.  Both are bounded: one purge reads at most
 * GLM_PURGE_PAGES pages, and the operator can press again for the rest.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "upstream/glm/internal.h"

#define GLM_PATH_RECENT	"/chatglm/mainchat-api/conversation/recent_list"

int
glm_recent_page(struct arena *a, struct json_object *result, const char **ids,
    size_t max, size_t *n, int *has_more)
{
	struct json_object *list, *item, *v;
	size_t i, len;
	const char *id;

	*n = 0;
	*has_more = 0;
	if (!json_object_is_type(result, json_type_object) ||
	    !json_object_object_get_ex(result, "conversation_list", &list) ||
	    !json_object_is_type(list, json_type_array) ||
	    (len = json_object_array_length(list)) > max)
		return -1;
	for (i = 0; i < len; i++) {
		item = json_object_array_get_idx(list, i);
		/* a NUL inside would cut the id short in the delete */
		if (!json_object_is_type(item, json_type_object) ||
		    (id = glm_json_str(item, "conversation_id",
		    GLM_ID_MAX)) == NULL || !json_object_object_get_ex(item,
		    "conversation_id", &v) || strlen(id) !=
		    (size_t)json_object_get_string_len(v) ||
		    (ids[i] = arena_strdup(a, id)) == NULL) {
			*n = 0;
			return -1;
		}
	}
	/* absent or false: the last page */
	if (json_object_object_get_ex(result, "has_more", &v) &&
	    json_object_is_type(v, json_type_boolean))
		*has_more = json_object_get_boolean(v);
	*n = len;
	return 0;
}

/* Fills the purge's failure from what the last step of c kept. */
static int
failed(struct glm_call *c, const struct provider_account *a,
    enum glm_step gs, struct provider_purge *out)
{
	call_purge_fail(out, "glm", a, c->status, gs == GLM_STEP_AUTH,
	    c->msg);
	return -1;
}

static enum glm_step
list_page(struct glm_call *c, int page, const char **ids, size_t *n,
    int *more)
{
	struct json_object *root, *res;
	enum glm_step gs;
	char body[64];

	snprintf(body, sizeof(body), "{\"page\":%d,\"page_size\":%d}", page,
	    GLM_PURGE_PAGE);
	gs = glm_api_fresh(c, "conversation/recent_list", GLM_PATH_RECENT,
	    body, strlen(body), NULL, &root, &res);
	if (gs != GLM_STEP_OK)
		return gs;
	if (glm_recent_page(c->arena, res, ids, GLM_PURGE_PAGE, n, more) < 0) {
		snprintf(c->msg, sizeof(c->msg), "a conversation list "
		    "without the expected shape");
		gs = GLM_STEP_FAILED;
	}
	json_object_put(root);
	return gs;
}

static enum glm_step
bulk_delete(struct glm_call *c, const char **ids, size_t n)
{
	struct json_object *root, *res;
	enum glm_step gs = GLM_STEP_FAILED;
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_adds(&b, "{\"conversation_ids\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_adds(&b, ",");
		buf_json_str(&b, ids[i], strlen(ids[i]));
	}
	buf_adds(&b, "]}");
	if (b.failed)
		snprintf(c->msg, sizeof(c->msg), "out of memory");
	else if ((gs = glm_api_fresh(c, "conversation/bulk_delete",
	    GLM_PATH_BULK_DELETE, b.p, b.len, NULL, &root, &res)) ==
	    GLM_STEP_OK)
		json_object_put(root);
	buf_free(&b);
	return gs;
}

int
glm_purge(const struct provider_ctx *x, const struct provider_account *a,
    struct provider_purge *out)
{
	const char **ids;
	struct glm_call c;
	enum glm_step gs;
	size_t n = 0, got, at;
	int page, more = 1;

	memset(out, 0, sizeof(*out));
	out->deleted = -1;
	if (a == NULL || a->secret == NULL) {
		call_purge_fail(out, "glm", a, 0, 1, "no credential");
		return -1;
	}
	glm_call_init(&c, x, a);
	ids = arena_alloc(x->arena, GLM_PURGE_PAGES * GLM_PURGE_PAGE *
	    sizeof(*ids));
	if (c.base == NULL || ids == NULL) {
		call_purge_fail(out, "glm", a, 0, 0, "out of memory");
		return -1;
	}
	if ((gs = glm_access(&c, 0, NULL, 0)) != GLM_STEP_OK)
		return failed(&c, a, gs, out);
	/* the whole list first: deleting while paging would shift pages */
	for (page = 1; more && page <= GLM_PURGE_PAGES; page++) {
		if ((gs = list_page(&c, page, ids + n, &got, &more)) !=
		    GLM_STEP_OK)
			return failed(&c, a, gs, out);
		n += got;
		if (got == 0)
			break;
	}
	if (more)
		log_info("glm: more than %d conversations: the rest stay for "
		    "the next purge", GLM_PURGE_PAGES * GLM_PURGE_PAGE);
	for (at = 0; at < n; at += GLM_PURGE_PAGE)
		if ((gs = bulk_delete(&c, ids + at, n - at < GLM_PURGE_PAGE ?
		    n - at : GLM_PURGE_PAGE)) != GLM_STEP_OK) {
			/* what went before is gone: say how far it got */
			if (at > 0 && strlen(c.msg) < sizeof(c.msg) - 40)
				snprintf(c.msg + strlen(c.msg), sizeof(c.msg) -
				    strlen(c.msg), " (after %zu deleted)", at);
			return failed(&c, a, gs, out);
		}
	return call_purge_done(out, "glm", a, (long)n);
}
