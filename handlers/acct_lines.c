/*
 * Parsing pasted credential lines into accounts (see acct_lines.h).  A
 * provider's normalize hook turns what users copy (DeepSeek's Local
 * Storage JSON) into the credential; its classify hook gives the kind.
 * Normalised copies are wiped before they are freed.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/acct_lines.h"
#include "store/crypto.h"

struct line_set {
	struct acct_new	*items;
	char		**owned;	/* normalised secrets */
	size_t		 n, cap;
};

static int
grow(struct line_set *ls)
{
	struct acct_new *ni;
	char **no;
	size_t cap = ls->cap ? ls->cap * 2 : 64;

	if ((ni = realloc(ls->items, cap * sizeof(*ni))) == NULL)
		return -1;
	ls->items = ni;
	if ((no = realloc(ls->owned, cap * sizeof(*no))) == NULL)
		return -1;
	ls->owned = no;
	ls->cap = cap;
	return 0;
}

/* One line (a..b, trimmed); 1 taken, 0 skipped, -1 out of memory. */
static int
take(struct line_set *ls, const struct provider *p, const char *a,
    const char *b)
{
	struct acct_new *it;
	const char *comma = NULL;
	char *norm = NULL, *raw;
	size_t slen;

	/* Only ChatGPT-style pools have team ids; a JSON paste has commas. */
	if (*a != '{' && p->fields != NULL && p->nfields > 1)
		comma = memchr(a, ',', (size_t)(b - a));
	slen = comma != NULL ? (size_t)(comma - a) : (size_t)(b - a);
	if (p->normalize != NULL) {
		if ((raw = strndup(a, slen)) == NULL)
			return -1;
		norm = p->normalize(raw);
		crypto_wipe(raw, slen);
		free(raw);
		if (norm == NULL)
			return 0;
		slen = strlen(norm);
	}
	if (!acct_secret_ok(norm != NULL ? norm : a, slen) ||
	    (comma != NULL && !acct_team_ok(comma + 1, (size_t)(b - comma - 1)))) {
		if (norm != NULL) {
			crypto_wipe(norm, strlen(norm));
			free(norm);
		}
		return 0;
	}
	if (ls->n == ls->cap && grow(ls) < 0) {
		if (norm != NULL) {
			crypto_wipe(norm, strlen(norm));
			free(norm);
		}
		return -1;
	}
	it = &ls->items[ls->n];
	memset(it, 0, sizeof(*it));
	it->provider = p->id;
	it->secret = norm != NULL ? norm : a;
	it->secret_len = slen;
	if (comma != NULL) {
		it->team_id = comma + 1;
		it->team_len = (size_t)(b - comma - 1);
	}
	ls->owned[ls->n++] = norm;
	return 1;
}

/* Kinds need NUL-terminated secrets: classify copies of them. */
static int
classify(const struct provider *p, struct line_set *ls)
{
	size_t i;
	char *s;

	for (i = 0; i < ls->n; i++) {
		if (p->classify == NULL)
			continue;
		if ((s = strndup(ls->items[i].secret,
		    ls->items[i].secret_len)) == NULL)
			return -1;
		ls->items[i].kind = p->classify(s);
		crypto_wipe(s, strlen(s));
		free(s);
	}
	return 0;
}

enum store_err
acct_lines_add(struct store *st, const struct provider *p, const char *text,
    size_t len, struct acct_lines_result *res)
{
	struct line_set ls;
	const char *q = text, *end = text + len, *eol, *a, *b;
	enum store_err e = STORE_OK;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&ls, 0, sizeof(ls));
	while (q < end) {
		if ((eol = memchr(q, '\n', (size_t)(end - q))) == NULL)
			eol = end;
		for (a = q; a < eol && isspace((unsigned char)*a); a++)
			;
		for (b = eol; b > a && isspace((unsigned char)b[-1]); b--)
			;
		q = eol + 1;
		if (a == b || *a == '#')
			continue;
		res->lines++;
		if ((rc = take(&ls, p, a, b)) < 0) {
			e = STORE_ENOMEM;
			goto out;
		}
		res->skipped += rc == 0;
	}
	if (classify(p, &ls) < 0) {
		e = STORE_ENOMEM;
		goto out;
	}
	if (ls.n > 0)
		e = acct_add(st, ls.items, ls.n, &res->added, &res->dups, NULL);
out:
	for (i = 0; i < ls.n; i++)
		if (ls.owned[i] != NULL) {
			crypto_wipe(ls.owned[i], strlen(ls.owned[i]));
			free(ls.owned[i]);
		}
	free(ls.items);
	free(ls.owned);
	return e;
}
