/*
 * Adding one account as an operator types it (see accounts_ops.h): the
 * provider's own field names, the credential as pasted.  The CLI and the
 * management API both come through here.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/accounts_ops.h"
#include "store/crypto.h"

const struct provider_field *
accounts_field_of(const struct provider *p, const char *name, size_t n)
{
	size_t i;

	for (i = 1; i < p->nfields; i++)
		if (strlen(p->fields[i].name) == n &&
		    strncmp(p->fields[i].name, name, n) == 0)
			return &p->fields[i];
	return NULL;
}

static int
why(char *out, size_t sz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
why(char *out, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, sz, fmt, ap);
	va_end(ap);
	return -1;
}

int
accounts_add_one(struct store *st, const struct accounts_new *n,
    char id[ACCT_ID_LEN + 1], int *added, char *err, size_t errsz)
{
	const struct provider *p;
	const struct provider_field *pf;
	struct acct_field fields[ACCT_FIELDS_MAX];
	struct acct_new it;
	size_t nf = 0, i, nadded = 0;
	char *norm = NULL;
	enum store_err e;
	int rc = -1;

	*added = 0;
	if ((p = provider_by_id(n->provider)) == NULL)
		return why(err, errsz, "no provider %s", n->provider);
	if (n->credential == NULL || *n->credential == '\0')
		return why(err, errsz, "%s accounts need a credential",
		    p->id);
	memset(&it, 0, sizeof(it));
	it.provider = p->id;
	it.label = n->label;
	it.daily_limit = n->daily_limit;
	it.weight = n->weight;
	for (i = 0; i < n->nfields; i++) {
		pf = accounts_field_of(p, n->fields[i].name,
		    strlen(n->fields[i].name));
		if (pf == NULL)
			return why(err, errsz, "%s accounts have no field %s",
			    p->id, n->fields[i].name);
		if (pf->team) {
			it.team_id = n->fields[i].value;
			it.team_len = strlen(n->fields[i].value);
		} else if (nf < ACCT_FIELDS_MAX) {
			fields[nf].name = pf->name;
			fields[nf++].value = n->fields[i].value;
		}
	}
	it.fields = fields;
	it.nfields = nf;
	if (p->normalize != NULL &&
	    (norm = p->normalize(n->credential)) == NULL)
		return why(err, errsz, "that is no %s credential",
		    p->display);
	it.secret = norm != NULL ? norm : n->credential;
	it.secret_len = strlen(it.secret);
	if (!acct_secret_ok(it.secret, it.secret_len)) {
		why(err, errsz, "that is no %s credential", p->display);
		goto out;
	}
	it.kind = p->classify != NULL ? p->classify(it.secret) : 0;
	if ((e = acct_add(st, &it, 1, &nadded, NULL, id)) != STORE_OK) {
		why(err, errsz, "the store failed: %s", store_strerror(e));
		goto out;
	}
	*added = nadded > 0;
	rc = 0;
out:
	if (norm != NULL) {
		crypto_wipe(norm, strlen(norm));
		free(norm);
	}
	return rc;
}
