/*
 * Validate and refresh over stored accounts (see accounts_ops.h).  The
 * secrets are copied out of the store first and each upstream call runs
 * outside any transaction: a slow upstream must not hold LMDB's writer
 * lock.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/arena.h"
#include "fcgi/log.h"
#include "handlers/accounts_ops.h"
#include "store/crypto.h"

struct held {
	struct acct_info	 info;
	char			*secret;
	struct acct_field	*fields;
	size_t			 nfields;
};

struct held_list {
	const char	*which;		/* id, fingerprint, provider, NULL */
	int		 refreshable;	/* only providers with refresh() */
	struct held	*v;
	size_t		 n, cap;
	int		 oom;
};

static int
selected(const struct held_list *l, const struct acct_info *i)
{
	const struct provider *p = provider_by_id(i->provider);

	if (p == NULL || (l->refreshable && p->refresh == NULL))
		return 0;
	return l->which == NULL || strcmp(l->which, i->provider) == 0 ||
	    strcmp(l->which, i->id) == 0 ||
	    strcmp(l->which, i->fingerprint) == 0;
}

/* The fields in one block, as acct_pick keeps them. */
static struct acct_field *
copy_fields(const struct acct_field *f, size_t n)
{
	struct acct_field *out;
	size_t i, len = n * sizeof(*out);
	char *p;

	for (i = 0; i < n; i++)
		len += strlen(f[i].name) + strlen(f[i].value) + 2;
	if (n == 0 || (out = malloc(len)) == NULL)
		return NULL;
	p = (char *)(out + n);
	for (i = 0; i < n; i++) {
		out[i].name = strcpy(p, f[i].name);
		p += strlen(p) + 1;
		out[i].value = strcpy(p, f[i].value);
		p += strlen(p) + 1;
	}
	return out;
}

static int
hold(void *arg, const struct acct_info *i, const char *secret,
    const struct acct_field *f, size_t nf)
{
	struct held_list *l = arg;
	struct held *nv, *h;

	if (!selected(l, i))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		if ((nv = realloc(l->v, l->cap * sizeof(*nv))) == NULL) {
			l->oom = 1;
			return 1;
		}
		l->v = nv;
	}
	h = &l->v[l->n];
	memset(h, 0, sizeof(*h));
	h->info = *i;
	if ((h->secret = strdup(secret)) == NULL) {
		l->oom = 1;
		return 1;
	}
	h->fields = copy_fields(f, nf);
	h->nfields = h->fields != NULL ? nf : 0;
	l->n++;
	return 0;
}

static void
held_free(struct held_list *l)
{
	size_t i, j;

	for (i = 0; i < l->n; i++) {
		crypto_wipe(l->v[i].secret, strlen(l->v[i].secret));
		free(l->v[i].secret);
		for (j = 0; j < l->v[i].nfields; j++)
			crypto_wipe((char *)l->v[i].fields[j].value,
			    strlen(l->v[i].fields[j].value));
		free(l->v[i].fields);
	}
	free(l->v);
}

void
accounts_provider_account(const struct acct_info *i, const char *secret,
    const struct acct_field *f, size_t nf, struct provider_account *a)
{
	accounts_provider_account_of(i->id, i->kind, i->team_id, secret, f, nf,
	    a);
}

void
accounts_provider_account_of(const char *id, int kind, const char *team_id,
    const char *secret, const struct acct_field *f, size_t nf,
    struct provider_account *a)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->secret = secret;
	a->kind = kind;
	a->team_id = team_id[0] ? team_id : NULL;
	a->fields = f;
	a->nfields = nf;
}

static void
account_of(const struct held *h, struct provider_account *a)
{
	accounts_provider_account(&h->info, h->secret, h->fields, h->nfields,
	    a);
}

/* What a verdict does to the record: status, e-mail, latency. */
static void
apply(struct store *st, const struct held *h, const struct provider_check *c)
{
	struct acct_change ch;

	memset(&ch, 0, sizeof(ch));
	ch.set = ACCT_SET_LATENCY;
	ch.latency_ms = (uint32_t)(c->latency_ms > 0 ? c->latency_ms : 0);
	if (c->email[0]) {
		ch.set |= ACCT_SET_EMAIL;
		ch.email = c->email;
	}
	/* A disabled account stays disabled whatever the upstream says. */
	if (h->info.status != ACCT_INACTIVE && c->verdict != PROVIDER_UNKNOWN) {
		ch.set |= ACCT_SET_STATUS;
		ch.status = c->verdict == PROVIDER_VALID ? ACCT_ACTIVE :
		    c->verdict == PROVIDER_EXPIRED ? ACCT_EXPIRED : ACCT_ERROR;
		ch.reason = c->verdict == PROVIDER_VALID ? NULL : c->message;
	}
	acct_set(st, h->info.id, &ch);
}

int
accounts_validate(const struct config *cfg, struct store *st,
    const char *which, void (*fn)(void *, const struct accounts_checked *),
    void *arg)
{
	struct held_list l;
	struct accounts_checked out;
	struct provider_account a;
	struct provider_ctx x;
	struct arena ar;
	const struct provider *p;
	size_t i;
	int rc = -1;

	memset(&l, 0, sizeof(l));
	l.which = which;
	if (acct_export(st, NULL, hold, &l) != STORE_OK || l.oom)
		goto out;
	if (l.n == 0)
		goto out;
	arena_init(&ar, 1u << 20);
	for (i = 0; i < l.n; i++) {
		p = provider_by_id(l.v[i].info.provider);
		x.cfg = cfg;
		x.store = st;
		x.arena = &ar;
		account_of(&l.v[i], &a);
		memset(&out, 0, sizeof(out));
		if (p->validate != NULL)
			p->validate(&x, &a, &out.check);
		else {
			out.check.verdict = PROVIDER_UNKNOWN;
			snprintf(out.check.message, sizeof(out.check.message),
			    "the provider has no check");
		}
		apply(st, &l.v[i], &out.check);
		if (acct_get(st, l.v[i].info.id, &out.info) != STORE_OK)
			out.info = l.v[i].info;
		log_info("validate: %s (%s): %s", out.info.fingerprint,
		    out.info.provider, out.check.message);
		if (fn != NULL)
			fn(arg, &out);
		arena_reset(&ar);
	}
	arena_free(&ar);
	rc = 0;
out:
	held_free(&l);
	return rc;
}

/* The first active account that is not cooling down, then stop. */
static int
hold_active(void *arg, const struct acct_info *i, const char *secret,
    const struct acct_field *f, size_t nf)
{
	struct held_list *l = arg;

	if (i->status != ACCT_ACTIVE || i->cooldown_until > time(NULL))
		return 0;
	return hold(arg, i, secret, f, nf) != 0 || l->n > 0;
}

int
accounts_with_one(struct store *st, const char *provider,
    void (*fn)(void *, const struct provider_account *), void *arg)
{
	struct held_list l;
	struct provider_account a;
	int rc = -1;

	memset(&l, 0, sizeof(l));
	l.which = provider;
	if (acct_export(st, provider, hold_active, &l) != STORE_OK || l.oom)
		goto out;
	rc = 1;
	if (l.n == 0)
		goto out;
	account_of(&l.v[0], &a);
	fn(arg, &a);
	rc = 0;
out:
	held_free(&l);
	return rc;
}

int
accounts_refresh_all(const struct config *cfg, struct store *st, int force,
    size_t *ok, size_t *failed)
{
	struct held_list l;
	struct provider_account a;
	struct provider_ctx x;
	struct arena ar;
	const struct provider *p;
	char err[256];
	size_t i;

	*ok = *failed = 0;
	memset(&l, 0, sizeof(l));
	l.refreshable = 1;
	if (acct_export(st, NULL, hold, &l) != STORE_OK || l.oom) {
		held_free(&l);
		return -1;
	}
	arena_init(&ar, 1u << 20);
	for (i = 0; i < l.n; i++) {
		if (l.v[i].info.status != ACCT_ACTIVE)
			continue;
		p = provider_by_id(l.v[i].info.provider);
		x.cfg = cfg;
		x.store = st;
		x.arena = &ar;
		account_of(&l.v[i], &a);
		err[0] = '\0';
		switch (p->refresh(&x, &a, force, err, sizeof(err))) {
		case 0:
			(*ok)++;
			break;
		case 1:
			break;
		default:
			log_info("refresh: %s (%s): %s", l.v[i].info.fingerprint,
			    p->id, err);
			(*failed)++;
		}
		arena_reset(&ar);
	}
	arena_free(&ar);
	held_free(&l);
	return 0;
}
