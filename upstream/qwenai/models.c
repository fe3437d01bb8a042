/*
 * Qwen AI's models: the built-in table of §7.5 (display names, the
 * upstream's ids and the short aliases, the latter two taken but not
 * listed) and the upstream's own list, GET /api/models (§7.3 step 4).
 *
 * The upstream list is kept in LMDB (store/tokcache.c), not in each
 * process: chat2api runs as several FastCGI processes (and CGI runs one
 * per request), so one fetch then serves them all for QWENAI_MODELS_TTL
 * seconds, concurrent first uses wait for one fetch, and routing can
 * read it on a request's path without asking the upstream.  A failed
 * fetch is kept as an empty list for QA_LISTED_RETRY seconds, so a
 * refusing upstream is not asked on every /v1/models.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fcgi/buf.h"
#include "fcgi/log.h"
#include "store/tokcache.h"
#include "upstream/qwenai/internal.h"

#define QA_CREATED		1772236800	/* 2026-02-28, cosmetic */
#define QA_LISTED_SCOPE		"qwenai-models"
#define QA_LISTED_KEY		"api/models"	/* one list for all accounts */
#define QA_LISTED_MAX		200	/* models kept from the list */
#define QA_LISTED_ID_MAX	64	/* bytes of a listed id */
#define QA_LISTED_RETRY		60	/* s a failed fetch is not repeated */

#define ALIAS(id, up)	{ id, up, QA_CREATED, MODEL_ALIAS }

const struct provider_model qa_models[] = {
	{ "Qwen3.6-Plus", "qwen3.6-plus", QA_CREATED, 0 },
	{ "Qwen3.5-Plus", "qwen3.5-plus", QA_CREATED, 0 },
	{ "Qwen3.5-Omni-Plus", "qwen3.5-omni-plus", QA_CREATED, 0 },
	{ "Qwen3.5-Flash", "qwen3.5-flash", QA_CREATED, 0 },
	{ "Qwen3.5-Max-Preview", "qwen3.5-max-2026-03-08", QA_CREATED, 0 },
	{ "Qwen3.6-Plus-Preview", "qwen3.6-plus-preview", QA_CREATED, 0 },
	{ "Qwen3.5-397B-A17B", "qwen3.5-397b-a17b", QA_CREATED, 0 },
	{ "Qwen3.5-122B-A10B", "qwen3.5-122b-a10b", QA_CREATED, 0 },
	{ "Qwen3.5-Omni-Flash", "qwen3.5-omni-flash", QA_CREATED, 0 },
	{ "Qwen3.5-27B", "qwen3.5-27b", QA_CREATED, 0 },
	{ "Qwen3.5-35B-A3B", "qwen3.5-35b-a3b", QA_CREATED, 0 },
	{ "Qwen3-Max", "qwen3-max-2026-01-23", QA_CREATED, 0 },
	{ "Qwen3-235B-A22B-2507", "qwen-plus-2025-07-28", QA_CREATED, 0 },
	{ "Qwen3-Coder", "qwen3-coder-plus", QA_CREATED, 0 },
	{ "Qwen3-VL-235B-A22B", "qwen3-vl-plus", QA_CREATED, 0 },
	{ "Qwen3-Omni-Flash", "qwen3-omni-flash-2025-12-01", QA_CREATED, 0 },
	{ "Qwen2.5-Max", "qwen-max-latest", QA_CREATED, 0 },
	/* the upstream's own ids, where they differ from the names */
	ALIAS("qwen3.5-max-2026-03-08", "qwen3.5-max-2026-03-08"),
	ALIAS("qwen3-max-2026-01-23", "qwen3-max-2026-01-23"),
	ALIAS("qwen-plus-2025-07-28", "qwen-plus-2025-07-28"),
	ALIAS("qwen3-coder-plus", "qwen3-coder-plus"),
	ALIAS("qwen3-vl-plus", "qwen3-vl-plus"),
	ALIAS("qwen3-omni-flash-2025-12-01", "qwen3-omni-flash-2025-12-01"),
	ALIAS("qwen-max-latest", "qwen-max-latest"),
	/* §7.5's short aliases */
	ALIAS("qwen", "qwen3-max-2026-01-23"),
	ALIAS("qwen3", "qwen3-max-2026-01-23"),
	ALIAS("qwen3.5", "qwen3.5-plus"),
	ALIAS("qwen3-vl", "qwen3-vl-plus"),
	ALIAS("qwen3-omni", "qwen3-omni-flash-2025-12-01"),
	ALIAS("qwen2.5", "qwen-max-latest"),
	{ NULL, NULL, 0, 0 }
};

/* A name the table already takes, as a name or an upstream id. */
static int
builtin(const char *id)
{
	const struct provider_model *m;

	for (m = qa_models; m->id != NULL; m++)
		if (strcasecmp(m->id, id) == 0 ||
		    strcasecmp(m->upstream, id) == 0)
			return 1;
	return 0;
}

static int
id_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > QA_LISTED_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!(s[i] >= '0' && s[i] <= '9') && !(s[i] >= 'a' &&
		    s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    strchr("-_.:", s[i]) == NULL)
			return 0;
	return 1;
}

/* One model of the list as a "id created\n" line, when it is new. */
static void
keep(struct buf *b, struct json_object *m, size_t *n)
{
	struct json_object *id, *v, *info;
	long long created = QA_CREATED;

	if (!json_object_object_get_ex(m, "id", &id) ||
	    !json_object_is_type(id, json_type_string) ||
	    !id_ok(json_object_get_string(id),
	    (size_t)json_object_get_string_len(id)) ||
	    builtin(json_object_get_string(id)))
		return;
	if (json_object_object_get_ex(m, "info", &info) &&
	    json_object_object_get_ex(info, "is_active", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    !json_object_get_boolean(v))
		return;
	if (json_object_object_get_ex(m, "created", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) > 0)
		created = json_object_get_int64(v);
	buf_printf(b, "%s %lld\n", json_object_get_string(id), created);
	(*n)++;
}

struct fetch {
	struct qa_call	*c;
	long		 ttl;
};

/* tokcache's exchange: always 0, an empty list when the fetch failed. */
static int
fetch(void *u, char **value, int64_t *expires)
{
	struct fetch *f = u;
	struct json_object *root, *data;
	struct buf b;
	size_t i, len, n = 0;
	char fp[LOG_FP_LEN];

	buf_init(&b, TOKCACHE_VALUE_MAX);
	*expires = (int64_t)time(NULL) + QA_LISTED_RETRY;
	if (qa_api(f->c, "models", "GET", "/api/models", QA_MODELS_VERSION,
	    NULL, &root, &data) == QA_OK) {
		len = json_object_is_type(data, json_type_array) ?
		    json_object_array_length(data) : 0;
		for (i = 0; i < len && n < QA_LISTED_MAX; i++)
			keep(&b, json_object_array_get_idx(data, i), &n);
		json_object_put(root);
		if (!b.failed)
			*expires = (int64_t)time(NULL) + f->ttl;
		log_fingerprint(f->c->token, fp);
		log_info("qwenai: %zu model(s) listed beyond the built-in "
		    "ones (asked with %s)", n, fp);
	} else
		log_info("qwenai: the model list could not be fetched: %s",
		    f->c->msg);
	*value = strdup(b.failed || b.len == 0 ? "" : b.p);
	buf_free(&b);
	return *value != NULL ? 0 : 2;
}

/* The cached lines to fn. */
static void
emit(const char *v, provider_model_fn fn, void *arg)
{
	char id[QA_LISTED_ID_MAX + 1];
	const char *p = v, *sp, *nl;
	long created;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if ((sp = memchr(p, ' ', (size_t)(nl - p))) == NULL ||
		    (size_t)(sp - p) > QA_LISTED_ID_MAX)
			continue;
		memcpy(id, p, (size_t)(sp - p));
		id[sp - p] = '\0';
		created = strtol(sp + 1, NULL, 10);
		if (fn(arg, id, created) != 0)
			return;
	}
}

int
qwenai_listed(const struct provider_ctx *x, const struct provider_account *a,
    provider_model_fn fn, void *arg)
{
	struct qa_call c;
	struct fetch f;
	enum tokcache_how how;
	char *v = NULL;

	if (x->cfg->qwenai_models_ttl <= 0 || x->store == NULL)
		return 0;
	if (a == NULL) {
		if (tokcache_get(x->store, QA_LISTED_SCOPE, QA_LISTED_KEY, &v,
		    NULL) != STORE_OK)
			return 1;
	} else {
		qa_call_init(&c, x, a);
		f.c = &c;
		f.ttl = x->cfg->qwenai_models_ttl;
		if (tokcache_fetch(x->store, QA_LISTED_SCOPE, QA_LISTED_KEY, 0,
		    fetch, &f, NULL, NULL, &v, &how) != 0)
			return -1;
	}
	emit(v, fn, arg);
	free(v);
	return 0;
}
