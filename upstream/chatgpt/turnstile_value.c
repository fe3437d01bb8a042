/*
 * turnstile_value.c - the turnstile VM's values: work accounting
 * and limits, the per-run object chain, strings and the string builder, the
 * keyed hash, lists, maps and registers.
 *
 * Memory: every object a run creates (strings, lists, maps) is linked into
 * one per-run chain and freed when the run ends, so values are plain
 * 16-byte structs that share their objects freely (lists and maps are
 * mutable and aliased, as in JS) and cycles are harmless.  The work limit
 * bounds what the chain can hold.
 *
 * Every string value is followed by a NUL byte (not part of its length) so
 * json-c can read it in place.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/rand.h>

#include "fcgi/b64.h"
#include "turnstile_vm.h"

/* ------------------------------------------------------------------ */
/* errors and accounting */

int
ts_limit(struct vm *vm, const char *fmt, ...)
{
	va_list	 ap;

	if (vm->msg[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(vm->msg, sizeof(vm->msg), fmt, ap);
		va_end(ap);
	}
	return R_LIMIT;
}

int
ts_charge(struct vm *vm, unsigned long n)
{
	if (n > TURNSTILE_MAX_WORK || vm->work + n > TURNSTILE_MAX_WORK) {
		vm->work += n;
		return ts_limit(vm, "work limit (%lu units) exceeded",
		    TURNSTILE_MAX_WORK);
	}
	vm->work += n;
	return R_OK;
}

int
ts_step(struct vm *vm)
{
	if (++vm->steps > TURNSTILE_MAX_STEPS)
		return ts_limit(vm, "step limit (%lu) exceeded",
		    TURNSTILE_MAX_STEPS);
	return R_OK;
}

/* ------------------------------------------------------------------ */
/* allocation */

static void *
obj_new(struct vm *vm, size_t size, int kind)
{
	struct obj	*o = calloc(1, size);

	if (o == NULL)
		return NULL;
	o->kind = kind;
	o->next = vm->objs;
	vm->objs = o;
	return o;
}

void
ts_objs_free(struct obj *o)
{
	struct obj	*next;

	for (; o != NULL; o = next) {
		next = o->next;
		if (o->kind == O_LIST)
			free(((struct tlist *)o)->v);
		else if (o->kind == O_MAP) {
			free(((struct tmap *)o)->e);
			free(((struct tmap *)o)->idx);
		}
		free(o);
	}
}

struct val
ts_v_str(const void *s, size_t n)
{
	struct val	 v = { .t = T_STR, .len = (uint32_t)n };

	v.u.s = s;
	return v;
}

struct val
ts_v_num(double n)
{
	struct val	 v = { .t = T_NUM };

	v.u.n = n;
	return v;
}

struct val
ts_v_bool(int b)
{
	struct val	 v = { .t = T_BOOL };

	v.u.b = b;
	return v;
}

/* A string value with a copy of s (n <= MAX_STR, checked by callers). */
int
ts_str_new(struct vm *vm, const void *s, size_t n, struct val *out)
{
	unsigned char	*p = obj_new(vm, sizeof(struct obj) + n + 1, O_BYTES);

	if (p == NULL)
		return R_NOMEM;
	p += sizeof(struct obj);
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	*out = ts_v_str(p, n);
	return R_OK;
}

static unsigned char *
sb_data(struct sb *b)
{
	return (unsigned char *)b->blk + sizeof(struct obj);
}

int
ts_sb_put(struct vm *vm, struct sb *b, const void *d, size_t n)
{
	if (n > TURNSTILE_MAX_STR - b->len)
		return ts_limit(vm, "string longer than %lu bytes",
		    TURNSTILE_MAX_STR);
	if (b->len + n + 1 > b->cap) {
		size_t	 ncap = b->cap ? b->cap * 2 : 64;
		void	*nb;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((nb = realloc(b->blk, sizeof(struct obj) + ncap)) == NULL)
			return R_NOMEM;
		b->blk = nb;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(sb_data(b) + b->len, d, n);
	b->len += n;
	return R_OK;
}

int
ts_sb_putc(struct vm *vm, struct sb *b, char c)
{
	return ts_sb_put(vm, b, &c, 1);
}

int
ts_sb_puts(struct vm *vm, struct sb *b, const char *s)
{
	return ts_sb_put(vm, b, s, strlen(s));
}

void
ts_sb_drop(struct sb *b)
{
	free(b->blk);
	b->blk = NULL;
	b->len = b->cap = 0;
}

int
ts_sb_done(struct vm *vm, struct sb *b, struct val *out)
{
	if (b->blk == NULL) {
		if ((b->blk = malloc(sizeof(struct obj) + 1)) == NULL)
			return R_NOMEM;
		b->cap = 1;
	}
	sb_data(b)[b->len] = '\0';
	b->blk->kind = O_BYTES;
	b->blk->next = vm->objs;
	vm->objs = b->blk;
	*out = ts_v_str(sb_data(b), b->len);
	b->blk = NULL;
	b->len = b->cap = 0;
	return R_OK;
}

/* ------------------------------------------------------------------ */
/* hashing (keyed, so a hostile program cannot aim for collisions) */

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

/* SipHash-1-3. */
static uint64_t
siphash(const uint64_t key[2], const unsigned char *in, size_t n)
{
	uint64_t	 v0 = 0x736f6d6570736575ULL ^ key[0];
	uint64_t	 v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t	 v2 = 0x6c7967656e657261ULL ^ key[0];
	uint64_t	 v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t	 m, b = (uint64_t)n << 56;
	size_t		 i, left = n & 7;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&m, in + i, 8);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	switch (left) {
	case 7: b |= (uint64_t)in[i + 6] << 48; /* FALLTHROUGH */
	case 6: b |= (uint64_t)in[i + 5] << 40; /* FALLTHROUGH */
	case 5: b |= (uint64_t)in[i + 4] << 32; /* FALLTHROUGH */
	case 4: b |= (uint64_t)in[i + 3] << 24; /* FALLTHROUGH */
	case 3: b |= (uint64_t)in[i + 2] << 16; /* FALLTHROUGH */
	case 2: b |= (uint64_t)in[i + 1] << 8; /* FALLTHROUGH */
	case 1: b |= (uint64_t)in[i]; break;
	default: break;
	}
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
ts_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* ------------------------------------------------------------------ */
/* lists and maps */

struct tlist *
ts_list_new(struct vm *vm)
{
	return obj_new(vm, sizeof(struct tlist), O_LIST);
}

int
ts_list_push(struct tlist *l, struct val v)
{
	if (l->n == l->cap) {
		size_t	 ncap = l->cap ? l->cap * 2 : 4;
		void	*nv;

		if ((nv = realloc(l->v, ncap * sizeof(*l->v))) == NULL)
			return R_NOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = v;
	return R_OK;
}

struct tmap *
ts_map_new(struct vm *vm)
{
	return obj_new(vm, sizeof(struct tmap), O_MAP);
}

struct mentry *
ts_map_find(struct vm *vm, const struct tmap *m, const unsigned char *k,
    size_t klen, uint64_t *hashp)
{
	uint64_t	 h = siphash(vm->hkey, k, klen);
	size_t		 i;

	*hashp = h;
	if (m->icap == 0)
		return NULL;
	for (i = h & (m->icap - 1); m->idx[i] != 0; i = (i + 1) & (m->icap - 1)) {
		struct mentry	*e = &m->e[m->idx[i] - 1];

		if (e->hash == h && e->klen == klen &&
		    (klen == 0 || memcmp(e->k, k, klen) == 0))
			return e;
	}
	return NULL;
}

static int
map_reindex(struct tmap *m, size_t icap)
{
	uint32_t	*idx = calloc(icap, sizeof(*idx));
	size_t		 j, i;

	if (idx == NULL)
		return R_NOMEM;
	for (j = 0; j < m->n; j++) {
		for (i = m->e[j].hash & (icap - 1); idx[i] != 0;
		    i = (i + 1) & (icap - 1))
			;
		idx[i] = (uint32_t)(j + 1);
	}
	free(m->idx);
	m->idx = idx;
	m->icap = icap;
	return R_OK;
}

/* m[k] = v; k must stay alive for the run (it is an arena or static
 * string).  The caller checked the MAX_MAP limit. */
int
ts_map_set(struct vm *vm, struct tmap *m, const unsigned char *k, size_t klen,
    struct val v)
{
	struct mentry	*e;
	uint64_t	 h;
	size_t		 i;
	int		 rc;

	if ((e = ts_map_find(vm, m, k, klen, &h)) != NULL) {
		e->v = v;
		return R_OK;
	}
	if (m->n == m->cap) {
		size_t	 ncap = m->cap ? m->cap * 2 : 4;
		void	*ne;

		if ((ne = realloc(m->e, ncap * sizeof(*m->e))) == NULL)
			return R_NOMEM;
		m->e = ne;
		m->cap = ncap;
	}
	if ((m->n + 1) * 2 > m->icap &&
	    (rc = map_reindex(m, m->icap ? m->icap * 2 : 8)) != R_OK)
		return rc;
	e = &m->e[m->n];
	e->k = k;
	e->klen = (uint32_t)klen;
	e->hash = h;
	e->v = v;
	for (i = h & (m->icap - 1); m->idx[i] != 0; i = (i + 1) & (m->icap - 1))
		;
	m->idx[i] = (uint32_t)(++m->n);
	return R_OK;
}

/* ------------------------------------------------------------------ */
/* registers */

int
ts_key_of(struct val v, double *k)
{
	if (v.t != T_NUM || !isfinite(v.u.n))
		return R_SKIP;
	*k = v.u.n + 0.0;	/* -0 -> +0 */
	return R_OK;
}

static struct reg *
reg_slot(struct vm *vm, double k)
{
	uint64_t	 bits;
	size_t		 i;

	memcpy(&bits, &k, sizeof(bits));
	for (i = ts_mix64(bits ^ vm->hkey[0]) & (REG_CAP - 1); vm->regs[i].used;
	    i = (i + 1) & (REG_CAP - 1))
		if (vm->regs[i].k == k)
			return &vm->regs[i];
	return &vm->regs[i];
}

struct val
ts_reg_get(struct vm *vm, double k)
{
	struct reg	*r = reg_slot(vm, k);
	struct val	 undef = { .t = T_UNDEF };

	return r->used ? r->v : undef;
}

/* R[a] for an argument value a. */
int
ts_get(struct vm *vm, struct val a, struct val *out)
{
	double	 k;

	if (ts_key_of(a, &k) != R_OK)
		return R_SKIP;
	*out = ts_reg_get(vm, k);
	return R_OK;
}

int
ts_reg_put(struct vm *vm, double k, struct val v, bool force)
{
	struct reg	*r = reg_slot(vm, k);

	if (!r->used) {
		if (!force && vm->nregs >= TURNSTILE_MAX_REGS)
			return ts_limit(vm, "more than %lu registers",
			    TURNSTILE_MAX_REGS);
		r->used = true;
		r->k = k;
		vm->nregs++;
	}
	r->v = v;
	return R_OK;
}

int
ts_reg_set(struct vm *vm, double k, struct val v)
{
	return ts_reg_put(vm, k, v, false);
}
