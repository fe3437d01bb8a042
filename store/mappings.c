/*
 * Mapping records: key = 8-byte big-endian sequence number (insertion
 * order is key order), value = the four strings, NUL-separated.  Lists are
 * short (an operator's hand-made table), so lookups by name scan.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "store/mappings.h"
#include "store/store_priv.h"

#define VAL_MAX	(2 * MAPPING_NAME_MAX + MAPPING_PROVIDER_MAX + \
		    MAPPING_ACCOUNT_MAX + 4)

static int
decode(const MDB_val *v, struct mapping *m)
{
	const char *p = v->mv_data, *end = p + v->mv_size;
	char *dst[4] = { m->name, m->target, m->provider, m->account };
	size_t max[4] = { MAPPING_NAME_MAX, MAPPING_NAME_MAX,
	    MAPPING_PROVIDER_MAX, MAPPING_ACCOUNT_MAX };
	const char *nul;
	int i;

	for (i = 0; i < 4; i++) {
		if ((nul = memchr(p, '\0', (size_t)(end - p))) == NULL ||
		    (size_t)(nul - p) > max[i])
			return -1;
		memcpy(dst[i], p, (size_t)(nul - p) + 1);
		p = nul + 1;
	}
	return m->name[0] ? 0 : -1;
}

static size_t
encode(const struct mapping *m, char *buf)
{
	const char *src[4] = { m->name, m->target, m->provider, m->account };
	size_t n = 0, l;
	int i;

	for (i = 0; i < 4; i++) {
		l = strlen(src[i]);
		memcpy(buf + n, src[i], l + 1);
		n += l + 1;
	}
	return n;
}

struct map_ctx {
	const struct mapping	*m;
	const char		*name;
	int			 found;
	int			(*fn)(void *, const struct mapping *);
	void			*arg;
};

static int
put_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct map_ctx *c = arg;
	struct mapping old;
	char buf[VAL_MAX];
	unsigned char seq[8];
	struct kv_cursor *cur;
	MDB_val k, v, nv;
	uint64_t last = 0;
	MDB_stat st;
	int rc;

	nv.mv_size = encode(c->m, buf);
	nv.mv_data = buf;
	if ((rc = kv_cursor_open(txn, s->mappings, &cur)) != 0)
		return rc;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		last = store_get_be64(&k);
		if (decode(&v, &old) == 0 && strcmp(old.name, c->m->name) == 0) {
			rc = kv_cursor_put(cur, &k, &nv, MDB_CURRENT);
			kv_cursor_close(cur);
			return rc;
		}
	}
	kv_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = kv_stat(txn, s->mappings, &st)) != 0)
		return rc;
	if (st.ms_entries >= MAPPING_MAX_RECORDS)
		return MDB_MAP_FULL;
	store_be64(seq, last + 1);
	k.mv_size = sizeof(seq);
	k.mv_data = seq;
	return kv_put(txn, s->mappings, &k, &nv, 0);
}

static int
str_ok(const char *s, size_t max, int empty_ok)
{
	size_t n = strlen(s), i;

	if (n > max || (n == 0 && !empty_ok))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return 0;
	return 1;
}

enum store_err
mapping_put(struct store *s, const struct mapping *m)
{
	struct map_ctx c = { m, NULL, 0, NULL, NULL };
	enum store_err e;

	if (!str_ok(m->name, MAPPING_NAME_MAX, 0) ||
	    !str_ok(m->target, MAPPING_NAME_MAX, 0) ||
	    !str_ok(m->provider, MAPPING_PROVIDER_MAX, 1) ||
	    !str_ok(m->account, MAPPING_ACCOUNT_MAX, 1))
		return STORE_INVAL;
	if ((e = store_write(s, put_txn, &c)) == STORE_OK)
		e = store_sync(s);
	return e;
}

static int
rm_one(struct kv_cursor *cur, MDB_val *k, MDB_val *v, void *arg)
{
	struct map_ctx *c = arg;
	struct mapping m;
	int rc;

	(void)k;
	if (decode(v, &m) < 0 || strcmp(m.name, c->name) != 0)
		return 0;
	c->found = 1;
	return (rc = kv_cursor_del(cur, 0)) != 0 ? rc : STORE_EACH_STOP;
}

static int
rm_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	return store_each(txn, s->mappings, rm_one, arg);
}

enum store_err
mapping_remove(struct store *s, const char *name)
{
	struct map_ctx c = { NULL, name, 0, NULL, NULL };
	enum store_err e;

	if ((e = store_write(s, rm_txn, &c)) != STORE_OK)
		return e;
	if (!c.found)
		return STORE_NOTFOUND;
	return store_sync(s);
}

static int
list_one(struct kv_cursor *cur, MDB_val *k, MDB_val *v, void *arg)
{
	struct map_ctx *c = arg;
	struct mapping m;

	(void)cur;
	(void)k;
	return decode(v, &m) == 0 && c->fn(c->arg, &m) != 0 ?
	    STORE_EACH_STOP : 0;
}

static int
list_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	return store_each(txn, s->mappings, list_one, arg);
}

enum store_err
mapping_list(struct store *s, int (*fn)(void *, const struct mapping *),
    void *arg)
{
	struct map_ctx c = { NULL, NULL, 0, fn, arg };

	return store_read(s, list_txn, &c);
}
