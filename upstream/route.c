/*
 * Model routing (see route.h for the order).  The stored mappings are
 * read in one read transaction per request; tables are an operator's
 * hand-made list, so a scan is cheaper than keeping a cache coherent
 * across processes.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fcgi/arena.h"
#include "fcgi/conf.h"
#include "store/accounts.h"
#include "store/mappings.h"
#include "upstream/route.h"

#define ROUTE_MAPS_MAX	(1000 + MAPPING_MAX_RECORDS)

static const char *const route_errs[ROUTE__MAX] = {
	[ROUTE_OK] = "success",
	[ROUTE_UNKNOWN] = "no provider serves this model",
	[ROUTE_BAD_PIN] = "a model mapping names an unknown provider",
	[ROUTE_ENOMEM] = "out of memory",
};

const char *
route_strerror(enum route_err e)
{
	return (unsigned)e < ROUTE__MAX ? route_errs[e] : "unknown error";
}

int
route_glob(const char *p, const char *s)
{
	const char *star = NULL, *mark = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			mark = s;
		} else if (*p && tolower((unsigned char)*p) ==
		    tolower((unsigned char)*s)) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++mark;
		} else
			return 0;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* Suffixes that switch thinking and search on (§1.2, PR #27). */
static const struct {
	const char	*suffix;
	unsigned	 flags;
} suffixes[] = {
	{ "-think-search", ROUTE_THINK | ROUTE_SEARCH },
	{ "-search-think", ROUTE_THINK | ROUTE_SEARCH },
	{ "-think", ROUTE_THINK },
	{ "-search", ROUTE_SEARCH },
	/* Qwen AI's (§1.2): the provider reads -fast off the name itself */
	{ "-thinking", ROUTE_THINK },
	{ "-fast", 0 },
};

static const struct provider_model *
in_provider(const struct provider *p, const char *name, size_t n)
{
	size_t i;

	for (i = 0; p->models != NULL && p->models[i].id != NULL; i++)
		if (strlen(p->models[i].id) == n &&
		    strncasecmp(p->models[i].id, name, n) == 0)
			return &p->models[i];
	return NULL;
}

/* A provider that could answer now: no account needed, or one usable. */
static int
can_answer(struct store *st, const struct provider *p)
{
	struct acct_counts c;

	if (p->flags & PROVIDER_ANON)
		return 1;
	return st != NULL && acct_count(st, p->id, &c) == STORE_OK &&
	    c.active + c.cooling > 0;
}

/*
 * A built-in name, whole or with a switch suffix; only prov's when not
 * NULL.  Sets r->provider, r->model, suffix flags.  A name two providers
 * share (GLM-5: GLM and Z.ai) goes to the first that has accounts, else
 * to the first (whose error then names it), as /v1/models lists it.
 */
static int
builtin(struct store *st, const struct provider *only, const char *name,
    struct route *r)
{
	const struct provider *const *pp;
	const struct provider *first = NULL;
	const struct provider_model *m;
	size_t len = strlen(name), sl, i;
	int ok;

	for (i = 0; i <= sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = len;
		unsigned fl = 0;

		if (i > 0) {
			sl = strlen(suffixes[i - 1].suffix);
			if (len <= sl || strcasecmp(name + len - sl,
			    suffixes[i - 1].suffix) != 0)
				continue;
			n = len - sl;
			fl = suffixes[i - 1].flags;
		}
		for (pp = providers; *pp != NULL; pp++) {
			if (only != NULL && *pp != only)
				continue;
			if ((m = in_provider(*pp, name, n)) == NULL)
				continue;
			ok = only != NULL || can_answer(st, *pp);
			if (ok || first == NULL) {
				r->provider = *pp;
				r->model = m;
				r->flags = fl | (m->flags & ~MODEL_ALIAS);
			}
			if (ok)
				return 1;
			if (first == NULL)
				first = *pp;
		}
	}
	return first != NULL;	/* nobody can answer: the first says so */
}

/* A name an upstream lists (provider.listed), whole or with a suffix. */
struct want {
	const char	*name;
	size_t		 len;
	const char	*id;		/* the listed spelling, in the arena */
	unsigned	 flags;
	struct arena	*arena;
};

static int
listed_match(void *arg, const char *id, long created)
{
	struct want *w = arg;
	size_t n = strlen(id), i;

	(void)created;
	for (i = 0; i <= sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = i > 0 ? strlen(suffixes[i - 1].suffix) : 0;

		if (n + sl != w->len || strncasecmp(w->name, id, n) != 0 ||
		    (sl && strcasecmp(w->name + n, suffixes[i - 1].suffix) !=
		    0))
			continue;
		w->flags = i > 0 ? suffixes[i - 1].flags : 0;
		w->id = arena_strdup(w->arena, id);
		return 1;
	}
	return 0;
}

/*
 * A name some provider's upstream lists, from the providers' caches
 * (only's when not NULL): no upstream call on a request's path.
 */
static int
listed(const struct config *cfg, struct store *st, struct arena *a,
    const struct provider *only, const char *name, struct route *r)
{
	const struct provider *const *pp;
	struct provider_ctx x = { cfg, st, a };
	struct want w = { name, strlen(name), NULL, 0, a };

	if (st == NULL)
		return 0;
	for (pp = providers; *pp != NULL; pp++) {
		if ((only != NULL && *pp != only) || (*pp)->listed == NULL)
			continue;
		if ((*pp)->listed(&x, NULL, listed_match, &w) == 0 &&
		    w.id != NULL) {
			r->provider = *pp;
			r->upstream_model = w.id;
			r->flags |= w.flags;
			return 1;
		}
	}
	return 0;
}

struct maps {
	const struct model_map	*env;
	size_t			 nenv;
	struct mapping		*st;	/* stored, in the arena */
	size_t			 nst, cap;
	struct arena		*arena;
	int			 oom;
};

static int
collect(void *arg, const struct mapping *m)
{
	struct maps *ms = arg;
	struct mapping *nv;

	if (ms->nst == ms->cap) {
		if (ms->cap >= ROUTE_MAPS_MAX)
			return 1;
		ms->cap = ms->cap ? ms->cap * 2 : 16;
		if ((nv = arena_calloc(ms->arena, ms->cap, sizeof(*nv))) ==
		    NULL) {
			ms->oom = 1;
			return 1;
		}
		if (ms->nst)
			memcpy(nv, ms->st, ms->nst * sizeof(*nv));
		ms->st = nv;
	}
	ms->st[ms->nst++] = *m;
	return 0;
}

/* The i-th mapping of env then store, as plain strings. */
static void
nth(const struct maps *ms, size_t i, const char **name, const char **target,
    const char **prov, const char **acct)
{
	if (i < ms->nenv) {
		*name = ms->env[i].name;
		*target = ms->env[i].target;
		*prov = ms->env[i].provider;
		*acct = ms->env[i].account;
		return;
	}
	i -= ms->nenv;
	*name = ms->st[i].name;
	*target = ms->st[i].target;
	*prov = ms->st[i].provider[0] ? ms->st[i].provider : NULL;
	*acct = ms->st[i].account[0] ? ms->st[i].account : NULL;
}

/* Exact names first, then patterns; -1 when none matches. */
static long
find_mapping(const struct maps *ms, const char *requested)
{
	const char *name, *target, *prov, *acct;
	size_t i, n = ms->nenv + ms->nst;
	int pass;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			nth(ms, i, &name, &target, &prov, &acct);
			if ((strchr(name, '*') != NULL) != pass)
				continue;
			if (pass ? route_glob(name, requested) :
			    strcasecmp(name, requested) == 0)
				return (long)i;
		}
	return -1;
}

static unsigned
name_flags(const struct provider *p, const char *name)
{
	return p->name_flags != NULL && name != NULL ? p->name_flags(name) : 0;
}

/* What follows from the provider and model once they are known. */
static void
finish(struct route *r, const char *requested)
{
	if (r->upstream_model == NULL)
		r->upstream_model = r->model != NULL ? (r->model->upstream ?
		    r->model->upstream : r->model->id) : requested;
	r->flags |= name_flags(r->provider, requested);
	r->reported = r->provider->reported != NULL ?
	    r->provider->reported(requested) : requested;
}

enum route_err
route_resolve(const struct config *cfg, struct store *st, struct arena *a,
    const char *requested, struct route *r)
{
	const char *name, *target, *prov, *acct;
	const struct provider *pin = NULL;
	struct maps ms;
	long mi;

	memset(r, 0, sizeof(*r));
	memset(&ms, 0, sizeof(ms));
	r->requested = requested;
	ms.env = cfg->model_mapping.v;
	ms.nenv = cfg->model_mapping.n;
	ms.arena = a;
	if (st != NULL)
		mapping_list(st, collect, &ms);
	if (ms.oom)
		return ROUTE_ENOMEM;
	if ((mi = find_mapping(&ms, requested)) >= 0) {
		nth(&ms, (size_t)mi, &name, &target, &prov, &acct);
		if (prov != NULL && (pin = provider_by_id(prov)) == NULL)
			return ROUTE_BAD_PIN;
		r->mapping = arena_strdup(a, name);
		r->pin_account = acct ? arena_strdup(a, acct) : NULL;
		if (r->mapping == NULL || (acct && r->pin_account == NULL))
			return ROUTE_ENOMEM;
		if (!builtin(st, pin, target, r) &&
		    !listed(cfg, st, a, pin, target, r)) {
			r->provider = pin != NULL ? pin : provider_default();
			if ((r->upstream_model = arena_strdup(a, target)) ==
			    NULL)
				return ROUTE_ENOMEM;
		}
		r->flags |= name_flags(r->provider, target);
	} else if (!builtin(st, NULL, requested, r) &&
	    !listed(cfg, st, a, NULL, requested, r)) {
		r->provider = provider_default();
		r->flags |= ROUTE_FALLBACK;
	}
	if (r->provider == NULL)
		return ROUTE_UNKNOWN;
	finish(r, requested);
	return ROUTE_OK;
}

int
route_other_owner(struct store *st, const char *requested, struct route *r,
    int (*accept)(const struct provider *, void *), void *ctx)
{
	const struct provider *const *pp;
	struct route alt;

	if (r->mapping != NULL || r->model == NULL)
		return 0;	/* only a built-in name can have two owners */
	for (pp = providers; *pp != NULL; pp++) {
		if (*pp == r->provider)
			continue;
		memset(&alt, 0, sizeof(alt));
		alt.requested = requested;
		if (builtin(st, *pp, requested, &alt) && accept(*pp, ctx)) {
			finish(&alt, requested);
			*r = alt;
			return 1;
		}
	}
	return 0;
}
