/*
 * Schema 1 → 2: the ChatGPT credential pool ("creds", one record per
 * token) becomes the chatgpt provider's accounts.  It runs inside the
 * transaction that opens the store, so a process killed halfway leaves
 * schema 1 untouched and the next start migrates again.  The sealed
 * secrets move as they are: their associated data is the id, which does
 * not change, so no key is needed to migrate.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi/log.h"
#include "store/acct_rec.h"

#define V1_VERSION	1
#define V1_HDR		60
#define V1_ACCOUNT_MAX	128
#define V1_REASON_MAX	256

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Schema 1 layout: see git history of store/creds.c (REC_HDR 60). */
static int
v1_decode(const MDB_val *k, const MDB_val *v, struct acct_rec *r)
{
	const unsigned char *p = v->mv_data;
	const char *id = k->mv_data;
	size_t alen, rlen, slen, i;
	int hi, lo;

	if (k->mv_size != ACCT_ID_LEN || v->mv_size < V1_HDR ||
	    p[0] != V1_VERSION)
		return -1;
	memset(r, 0, sizeof(*r));
	for (i = 0; i < ACCT_ID_LEN / 2; i++) {
		if ((hi = hexval(id[2 * i])) < 0 ||
		    (lo = hexval(id[2 * i + 1])) < 0)
			return -1;
		r->mac[i] = (unsigned char)(hi << 4 | lo);
	}
	memcpy(r->info.id, id, ACCT_ID_LEN);
	snprintf(r->info.provider, sizeof(r->info.provider), "chatgpt");
	r->info.kind = p[1];
	r->info.status = p[2] == 1 ? ACCT_ERROR : ACCT_ACTIVE;
	r->info.error_count = store_get32(p + 4);
	r->info.created_at = (int64_t)store_get64(p + 8);
	r->info.last_used_at = (int64_t)store_get64(p + 16);
	r->info.last_error_at = (int64_t)store_get64(p + 24);
	r->info.cooldown_until = (int64_t)store_get64(p + 32);
	alen = (size_t)(p[40] << 8 | p[41]);
	rlen = (size_t)(p[42] << 8 | p[43]);
	memcpy(r->info.fingerprint, p + 44, 12);
	slen = store_get32(p + 56);
	if (alen > V1_ACCOUNT_MAX || rlen > V1_REASON_MAX ||
	    V1_HDR + alen + rlen + slen != v->mv_size)
		return -1;
	memcpy(r->info.team_id, p + V1_HDR, alen);
	memcpy(r->info.last_error, p + V1_HDR + alen, rlen);
	r->info.weight = 1;
	r->sealed = p + V1_HDR + alen + rlen;
	r->sealed_len = slen;
	return 0;
}

int
acct_migrate_v1(struct store *s, struct kv_txn *txn, MDB_dbi creds,
    MDB_dbi accounts, size_t *moved)
{
	struct kv_cursor *cur;
	MDB_val k, v;
	struct acct_rec r;
	size_t skipped = 0;
	int rc;

	(void)s;
	*moved = 0;
	if ((rc = kv_cursor_open(txn, creds, &cur)) != 0)
		return rc;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (v1_decode(&k, &v, &r) < 0) {
			skipped++;
			continue;
		}
		/* acct_rec_put copies r.sealed out of the map first. */
		if ((rc = acct_rec_put(txn, accounts, NULL, &r)) != 0)
			break;
		(*moved)++;
	}
	kv_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return rc;
	if (skipped)
		log_warn("store: %zu unreadable credential record(s) left out "
		    "of the migration", skipped);
	/* Emptied, not deleted: schema 1 readers find no stale secrets. */
	return kv_drop(txn, creds);
}
