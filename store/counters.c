/*
 * Request counters behind /stats.  Bumped inside the request's final
 * write (store/reqdone.c), or alone: LMDB's cross-process writer lock
 * makes read-increment-write atomic across every worker process.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "store/store_priv.h"

static const char K_TOTAL[] = "total", K_SUCCESS[] = "success",
    K_FAILED[] = "failed";

struct count_ctx {
	const char	*model;
	int		 success;
};

static int
bump(struct kv_txn *txn, MDB_dbi dbi, const void *key, size_t klen)
{
	MDB_val k = { klen, (void *)key }, v;
	unsigned char buf[8];
	uint64_t n = 0;
	int rc;

	rc = kv_get(txn, dbi, &k, &v);
	if (rc == 0)
		n = store_get_be64(&v);
	else if (rc != MDB_NOTFOUND)
		return rc;
	store_be64(buf, n + 1);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return kv_put(txn, dbi, &k, &v, 0);
}

int
store_count_txn(struct store *s, struct kv_txn *txn, const char *model, int success)
{
	MDB_val k, v;
	MDB_stat st;
	int rc;

	if ((rc = bump(txn, s->counters, K_TOTAL, sizeof(K_TOTAL) - 1)) ||
	    (rc = bump(txn, s->counters, success ? K_SUCCESS : K_FAILED,
	    success ? sizeof(K_SUCCESS) - 1 : sizeof(K_FAILED) - 1)))
		return rc;
	if (model == NULL || *model == '\0')
		return 0;
	/* Model names come from clients: bound both length and key count. */
	if (strlen(model) > STORE_MODEL_NAME_MAX)
		model = "(other)";
	k.mv_size = strlen(model);
	k.mv_data = (void *)model;
	if (kv_get(txn, s->models, &k, &v) == MDB_NOTFOUND) {
		if ((rc = kv_stat(txn, s->models, &st)) != 0)
			return rc;
		if (st.ms_entries >= STORE_MODELS_MAX) {
			k.mv_size = strlen("(other)");
			k.mv_data = (void *)"(other)";
		}
	}
	return bump(txn, s->models, k.mv_data, k.mv_size);
}

static int
count_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct count_ctx *c = arg;

	return store_count_txn(s, txn, c->model, c->success);
}

enum store_err
store_count_request(struct store *s, const char *model, int success)
{
	struct count_ctx c = { model, success };

	return store_write(s, count_txn, &c);
}

struct stats_ctx {
	struct arena		*arena;
	struct store_stats	*out;
};

static uint64_t
get_counter(struct kv_txn *txn, MDB_dbi dbi, const char *key)
{
	MDB_val k = { strlen(key), (void *)key }, v;

	return kv_get(txn, dbi, &k, &v) == 0 ? store_get_be64(&v) : 0;
}

static int
stats_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct stats_ctx *c = arg;
	struct store_stats *o = c->out;
	struct kv_cursor *cur = NULL;
	MDB_stat st;
	MDB_val k, v;
	size_t i = 0;
	int rc;

	o->total = get_counter(txn, s->counters, K_TOTAL);
	o->success = get_counter(txn, s->counters, K_SUCCESS);
	o->failed = get_counter(txn, s->counters, K_FAILED);
	if ((rc = kv_stat(txn, s->models, &st)) != 0)
		return rc;
	o->models = arena_calloc(c->arena, st.ms_entries + 1,
	    sizeof(*o->models));
	if (o->models == NULL)
		return ENOMEM;
	if ((rc = kv_cursor_open(txn, s->models, &cur)) != 0)
		return rc;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_FIRST);
	    rc == 0 && i < st.ms_entries;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT), i++) {
		/* Values point into the map: copy before the txn ends. */
		o->models[i].name = arena_strndup(c->arena, k.mv_data,
		    k.mv_size);
		if (o->models[i].name == NULL) {
			kv_cursor_close(cur);
			return ENOMEM;
		}
		o->models[i].n = store_get_be64(&v);
	}
	kv_cursor_close(cur);
	o->nmodels = i;
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

enum store_err
store_read_stats(struct store *s, struct arena *a, struct store_stats *out)
{
	struct stats_ctx c = { a, out };

	memset(out, 0, sizeof(*out));
	return store_read(s, stats_txn, &c);
}
