/*
 * Ending sessions on an operator's word (chat2api sessions, the
 * management API and the console): all expired ones, every one (of a
 * provider), or one by its id, each with its upstream chat deleted unless
 * SESSION_DELETE=false.  A session a request holds right now is left to
 * that request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/hex.h"
#include "handlers/session.h"

#define SESS_ADMIN_BATCH	64

/* Deletes what came back, unless the operator keeps the chats. */
static size_t
forget(const struct config *cfg, struct store *st, struct arena *a,
    const struct store_session *gone, size_t n)
{
	if (!cfg->session_delete || n == 0)
		return 0;
	return session_forget(cfg, st, a, gone, n);
}

enum store_err
session_prune_all(const struct config *cfg, struct store *st,
    struct arena *a, size_t *ended, size_t *deleted)
{
	struct store_session gone[SESS_ADMIN_BATCH];
	enum store_err e;
	size_t n;

	*ended = *deleted = 0;
	do {
		if ((e = store_session_expired(st, gone, SESS_ADMIN_BATCH,
		    &n)) != STORE_OK)
			return e;
		*ended += n;
		*deleted += forget(cfg, st, a, gone, n);
	} while (n == SESS_ADMIN_BATCH);
	return STORE_OK;
}

/* A live session ended now: taken from any request, its chat deleted. */
static enum store_err
end_one(const struct config *cfg, struct store *st, struct arena *a,
    const unsigned char key[STORE_SESSION_KEY], size_t *deleted)
{
	struct store_session got;
	enum store_err e;

	if ((e = store_session_take(st, key, &got)) != STORE_OK)
		return e;
	*deleted += forget(cfg, st, a, &got, 1);
	return store_session_drop(st, got.key);
}

struct collect {
	const char		*provider;
	const char		*account;	/* NULL: any */
	unsigned char		(*keys)[STORE_SESSION_KEY];
	size_t			 n, cap;
	int			 nomem;
};

static int
collect(void *arg, const struct store_session *r)
{
	struct collect *c = arg;
	unsigned char (*nk)[STORE_SESSION_KEY];

	if ((c->provider != NULL && strcmp(c->provider, r->provider) != 0) ||
	    (c->account != NULL && strcmp(c->account, r->account) != 0))
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		if ((nk = realloc(c->keys, c->cap * sizeof(*nk))) == NULL) {
			c->nomem = 1;
			return 1;
		}
		c->keys = nk;
	}
	memcpy(c->keys[c->n++], r->key, STORE_SESSION_KEY);
	return 0;
}

enum store_err
session_end_all(const struct config *cfg, struct store *st, struct arena *a,
    const char *provider, size_t *ended, size_t *deleted)
{
	struct collect c;
	size_t i, pended, pdeleted;
	enum store_err e;

	if ((e = session_prune_all(cfg, st, a, &pended, &pdeleted)) !=
	    STORE_OK)
		return e;
	*ended = pended;
	*deleted = pdeleted;
	memset(&c, 0, sizeof(c));
	c.provider = provider;
	if ((e = store_session_each(st, collect, &c)) == STORE_OK && c.nomem)
		e = STORE_ENOMEM;
	for (i = 0; e == STORE_OK && i < c.n; i++) {
		e = end_one(cfg, st, a, c.keys[i], deleted);
		if (e == STORE_OK)
			(*ended)++;
		else if (e == STORE_NOTFOUND)
			e = STORE_OK;	/* a request holds it, or it went */
	}
	free(c.keys);
	return e;
}

void
session_id_of(const struct store_session *r, char out[SESSION_ID_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < STORE_SESSION_KEY; i++) {
		out[2 * i] = digits[r->key[i] >> 4];
		out[2 * i + 1] = digits[r->key[i] & 15];
	}
	out[SESSION_ID_LEN] = '\0';
}

enum store_err
session_end_id(const struct config *cfg, struct store *st, struct arena *a,
    const char *id, size_t *deleted)
{
	unsigned char key[STORE_SESSION_KEY];
	size_t i;
	int hi, lo;

	*deleted = 0;
	if (id == NULL || strlen(id) != SESSION_ID_LEN)
		return STORE_NOTFOUND;
	for (i = 0; i < STORE_SESSION_KEY; i++) {
		if ((hi = hex_value(id[2 * i])) < 0 ||
		    (lo = hex_value(id[2 * i + 1])) < 0)
			return STORE_NOTFOUND;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return end_one(cfg, st, a, key, deleted);
}

/*
 * The account's chats are gone upstream: its sessions go too, held by a
 * request or not, and nothing is deleted again.  A request answering in
 * one right now fails upstream and ends it itself.
 */
enum store_err
session_drop_account(struct store *st, const char *provider,
    const char *account, size_t *dropped)
{
	struct collect c;
	enum store_err e;
	size_t i;

	*dropped = 0;
	memset(&c, 0, sizeof(c));
	c.provider = provider;
	c.account = account;
	if ((e = store_session_each(st, collect, &c)) == STORE_OK && c.nomem)
		e = STORE_ENOMEM;
	for (i = 0; e == STORE_OK && i < c.n; i++)
		if ((e = store_session_drop(st, c.keys[i])) == STORE_OK)
			(*dropped)++;
	free(c.keys);
	return e;
}
