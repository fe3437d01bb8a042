/*
 * Accounts: their names and limits, and adding them.  Changing, listing
 * and removing them is store/acct_edit.c; picking one for a request and
 * the outcome bookkeeping store/acct_pick.c; the record layout
 * store/acct_rec.c.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/log.h"
#include "store/acct_rec.h"
#include "store/crypto.h"

static const char *const status_names[ACCT__STATUS_MAX] = {
	[ACCT_ACTIVE] = "active",
	[ACCT_ERROR] = "error",
	[ACCT_INACTIVE] = "inactive",
	[ACCT_EXPIRED] = "expired",
};

const char *
acct_status_name(enum acct_status s)
{
	return (unsigned)s < ACCT__STATUS_MAX ? status_names[s] : "error";
}

int
acct_status_parse(const char *s, enum acct_status *out)
{
	int i;

	for (i = 0; i < ACCT__STATUS_MAX; i++)
		if (strcasecmp(s, status_names[i]) == 0) {
			*out = (enum acct_status)i;
			return 0;
		}
	return -1;
}

int
acct_provider_ok(const char *p)
{
	size_t n = strlen(p), i;

	if (n == 0 || n > ACCT_PROVIDER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)p[i]) &&
		    !isdigit((unsigned char)p[i]) && p[i] != '_')
			return 0;
	return 1;
}

/* A credential is one printable token: no spaces, controls or quotes. */
int
acct_secret_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > ACCT_SECRET_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

int
acct_team_ok(const char *s, size_t n)
{
	size_t i;

	if (n > ACCT_TEAM_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

/* Labels and e-mails are shown in pages and logs: printable, one line. */
int
acct_text_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

enum store_err
acct_id_of(struct store *s, const char *provider, const char *secret,
    char out[ACCT_ID_LEN + 1])
{
	unsigned char mac[ACCT_MAC_LEN];

	if (!s->have_key || !acct_provider_ok(provider))
		return STORE_INVAL;
	acct_secret_mac(s, provider, secret, strlen(secret), mac);
	acct_hex(mac, ACCT_MAC_LEN, out);
	return STORE_OK;
}

/* ------------------------------------------------------------ add */

/*
 * An account whose secret was rotated keeps its first id, so its key no
 * longer says its secret.  Those few are collected once per provider and
 * transaction; every other duplicate is found by its key directly, so a
 * bulk upload stays linear.
 */
struct rotated {
	unsigned char	 mac[ACCT_MAC_LEN];
	char		 id[ACCT_ID_LEN + 1];
};

struct add_ctx {
	const struct acct_new	*items;
	size_t			 n;
	size_t			 added, dups;
	char			*first_id;
	char			 scanned[ACCT_PROVIDER_MAX + 1];
	struct rotated		*rot;
	size_t			 nrot, caprot;
};

static int
collect_rotated(struct kv_txn *txn, MDB_dbi dbi, const char *p, uint32_t today,
    struct add_ctx *c)
{
	char prefix[ACCT_PROVIDER_MAX + 2], id[ACCT_ID_LEN + 1];
	struct acct_rec r;
	struct rotated *nr;
	struct kv_cursor *cur;
	MDB_val k, v;
	size_t plen;
	int rc;

	c->nrot = 0;
	snprintf(c->scanned, sizeof(c->scanned), "%s", p);
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s:", p);
	if ((rc = kv_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	k.mv_size = plen;
	k.mv_data = prefix;
	for (rc = kv_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (acct_rec_decode(&k, &v, &r, today) < 0)
			continue;
		acct_hex(r.mac, ACCT_MAC_LEN, id);
		if (strcmp(id, r.info.id) == 0)
			continue;
		if (c->nrot == c->caprot) {
			c->caprot = c->caprot ? c->caprot * 2 : 8;
			if ((nr = realloc(c->rot, c->caprot * sizeof(*nr))) ==
			    NULL) {
				rc = ENOMEM;
				break;
			}
			c->rot = nr;
		}
		memcpy(c->rot[c->nrot].mac, r.mac, ACCT_MAC_LEN);
		memcpy(c->rot[c->nrot++].id, r.info.id, ACCT_ID_LEN + 1);
	}
	kv_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The record of provider p whose secret (now or at first) has this mac. */
static int
find_by_mac(struct kv_txn *txn, MDB_dbi dbi, const char *p,
    const unsigned char *mac, uint32_t today, struct add_ctx *c,
    struct acct_rec *out)
{
	char key[ACCT_KEY_MAX + 1], id[ACCT_ID_LEN + 1];
	MDB_val k, v;
	size_t i;
	int rc;

	acct_hex(mac, ACCT_MAC_LEN, id);
	if (strcmp(c->scanned, p) != 0 &&
	    (rc = collect_rotated(txn, dbi, p, today, c)) != 0)
		return rc;
	for (i = 0; i < c->nrot; i++)
		if (memcmp(c->rot[i].mac, mac, ACCT_MAC_LEN) == 0) {
			memcpy(id, c->rot[i].id, ACCT_ID_LEN + 1);
			break;
		}
	k.mv_size = acct_key(p, id, key);
	k.mv_data = key;
	if ((rc = kv_get(txn, dbi, &k, &v)) != 0)
		return rc;
	return acct_rec_decode(&k, &v, out, today) == 0 ? 0 : MDB_CORRUPTED;
}

static int
add_one(struct store *s, struct kv_txn *txn, struct add_ctx *c,
    const struct acct_new *it, MDB_stat *st)
{
	struct acct_rec r, old;
	struct acct_info *in = &r.info;
	unsigned char *sealed = NULL, *fields = NULL;
	uint32_t today = store_today(s);
	char *secret;
	size_t flen = 0;
	int rc;

	if ((secret = strndup(it->secret, it->secret_len)) == NULL)
		return ENOMEM;
	memset(&r, 0, sizeof(r));
	acct_secret_mac(s, it->provider, secret, it->secret_len, r.mac);
	rc = find_by_mac(txn, s->accounts, it->provider, r.mac, today, c, &old);
	if (rc == 0) {
		/* A duplicate: a team id given now is kept. */
		c->dups++;
		if (c->first_id && c->dups + c->added == 1)
			memcpy(c->first_id, old.info.id, ACCT_ID_LEN + 1);
		rc = 0;
		if (it->team_len && (it->team_len != strlen(old.info.team_id) ||
		    memcmp(old.info.team_id, it->team_id, it->team_len))) {
			memcpy(old.info.team_id, it->team_id, it->team_len);
			old.info.team_id[it->team_len] = '\0';
			rc = acct_rec_put(txn, s->accounts, NULL, &old);
		}
		goto out;
	}
	if (rc != MDB_NOTFOUND)
		goto out;
	if (st->ms_entries + c->added >= ACCT_MAX_RECORDS) {
		rc = MDB_MAP_FULL;
		goto out;
	}
	acct_hex(r.mac, ACCT_MAC_LEN, in->id);
	snprintf(in->provider, sizeof(in->provider), "%s", it->provider);
	in->kind = it->kind;
	in->status = ACCT_ACTIVE;
	in->created_at = store_now(s);
	in->daily_limit = it->daily_limit;
	in->weight = it->weight ? it->weight : 1;
	if (it->team_len)
		memcpy(in->team_id, it->team_id, it->team_len);
	if (it->label)
		snprintf(in->label, sizeof(in->label), "%s", it->label);
	log_fingerprint(secret, in->fingerprint);
	if ((sealed = malloc(it->secret_len + CRYPTO_OVERHEAD)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	if (crypto_seal(&s->key, in->id, ACCT_ID_LEN, secret, it->secret_len,
	    sealed) < 0 || acct_fields_seal(s, in->id, it->fields, it->nfields,
	    &fields, &flen) < 0) {
		rc = EIO;
		goto out;
	}
	r.sealed = sealed;
	r.sealed_len = it->secret_len + CRYPTO_OVERHEAD;
	r.sealed_fields = fields;
	r.sealed_fields_len = flen;
	if ((rc = acct_rec_put(txn, s->accounts, NULL, &r)) != 0)
		goto out;
	c->added++;
	if (c->first_id && c->dups + c->added == 1)
		memcpy(c->first_id, in->id, ACCT_ID_LEN + 1);
out:
	crypto_wipe(secret, it->secret_len);
	free(secret);
	free(sealed);
	free(fields);
	return rc;
}

static int
add_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct add_ctx *c = arg;
	MDB_stat st;
	size_t i;
	int rc;

	c->added = c->dups = 0;
	c->scanned[0] = '\0';	/* a retried transaction scans again */
	if ((rc = kv_stat(txn, s->accounts, &st)) != 0)
		return rc;
	for (i = 0; i < c->n; i++)
		if ((rc = add_one(s, txn, c, &c->items[i], &st)) != 0)
			return rc;
	return 0;
}

static int
new_ok(const struct acct_new *it)
{
	size_t i;

	if (!acct_provider_ok(it->provider) ||
	    !acct_secret_ok(it->secret, it->secret_len) ||
	    !acct_team_ok(it->team_id ? it->team_id : "", it->team_len) ||
	    (it->label && !acct_text_ok(it->label, ACCT_LABEL_MAX)) ||
	    it->weight > ACCT_WEIGHT_MAX || it->daily_limit > ACCT_LIMIT_MAX ||
	    it->nfields > ACCT_FIELDS_MAX || it->kind < 0 || it->kind > 7)
		return 0;
	for (i = 0; i < it->nfields; i++)
		if (strlen(it->fields[i].name) == 0 ||
		    strlen(it->fields[i].name) > ACCT_FIELD_NAME_MAX ||
		    strlen(it->fields[i].value) > ACCT_FIELD_VALUE_MAX)
			return 0;
	return 1;
}

enum store_err
acct_add(struct store *s, const struct acct_new *items, size_t n,
    size_t *added, size_t *dups, char *first_id)
{
	struct add_ctx c;
	enum store_err e;
	size_t i;

	if (added)
		*added = 0;
	if (dups)
		*dups = 0;
	if (!s->have_key)
		return STORE_INVAL;
	for (i = 0; i < n; i++)
		if (!new_ok(&items[i]))
			return STORE_INVAL;
	if (n == 0)
		return STORE_OK;
	memset(&c, 0, sizeof(c));
	c.items = items;
	c.n = n;
	c.first_id = first_id;
	e = store_write(s, add_txn, &c);
	free(c.rot);
	if (e == STORE_OK)
		e = store_sync(s);	/* credentials do not wait a second */
	if (added)
		*added = c.added;
	if (dups)
		*dups = c.dups;
	return e;
}
