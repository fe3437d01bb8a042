/*
 * turnstile.c - the turnstile VM of protocols/chatgpt.md §3.7; the
 * behaviour is specified in turnstile.h and mirrored by
 * tests/mock/turnstile.py.
 *
 * Memory: every object a run creates (strings, lists, maps) is linked into
 * one per-run chain and freed when the run ends, so values are plain
 * 16-byte structs that share their objects freely (lists and maps are
 * mutable and aliased, as in JS) and cycles are harmless.  The work limit
 * bounds what the chain can hold.
 *
 * Every string value is followed by a NUL byte (not part of its length) so
 * json-c can read it in place.
 *
 * Internal functions return an enum rc: R_OK, R_SKIP (the instruction
 * fails and is skipped), R_HALT (opcode 3 ran), R_LIMIT, R_NOMEM.
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
#include "turnstile.h"

enum rc { R_OK = 0, R_SKIP, R_HALT, R_LIMIT, R_NOMEM };

enum vtype { T_UNDEF = 0, T_NULL, T_BOOL, T_NUM, T_STR, T_LIST, T_MAP,
	T_FUNC };

struct tlist;
struct tmap;

struct val {
	uint8_t		 t;
	uint32_t	 len;		/* T_STR */
	union {
		double			 n;	/* T_NUM */
		int			 b;	/* T_BOOL */
		int			 op;	/* T_FUNC */
		const unsigned char	*s;	/* T_STR */
		struct tlist		*l;	/* T_LIST */
		struct tmap		*m;	/* T_MAP */
	} u;
};

/* Header of everything a run allocates. */
enum okind { O_BYTES, O_LIST, O_MAP };
struct obj {
	struct obj	*next;
	int		 kind;
};

struct tlist {
	struct obj	 h;
	size_t		 n, cap;
	struct val	*v;
};

struct mentry {
	const unsigned char	*k;
	uint32_t		 klen;
	uint64_t		 hash;
	struct val		 v;
};

struct tmap {
	struct obj	 h;
	size_t		 n, cap;
	struct mentry	*e;		/* insertion order */
	uint32_t	*idx;		/* open addressing: entry + 1, 0 empty */
	size_t		 icap;		/* power of two */
};

struct reg {
	double		 k;
	struct val	 v;
	bool		 used;
};

#define REG_CAP		(2 * TURNSTILE_MAX_REGS)	/* power of two */

struct vm {
	struct obj			*objs;
	struct reg			*regs;
	size_t				 nregs;
	uint64_t			 hkey[2];
	const struct turnstile_opts	*opts;
	struct timespec			 t0;
	unsigned long			 steps, skipped, work;
	char				*token;
	char				 msg[160];	/* first limit hit */
};

enum {
	OP_XOR = 1, OP_SET = 2, OP_FINISH = 3, OP_ADD = 5, OP_PROP = 6,
	OP_CALL = 7, OP_COPY = 8, OP_PARSE = 14, OP_STRINGIFY = 15,
	OP_CALLSET = 17, OP_ATOB = 18, OP_BTOA = 19, OP_IFEQ = 20, OP_NOP = 21,
	OP_IFDEF = 23, OP_PROP2 = 24,
};
static const int opcodes[] = { 1, 2, 3, 5, 6, 7, 8, 14, 15, 17, 18, 19, 20,
	21, 23, 24 };
#define REG_PROGRAM	9
#define REG_WINDOW	10
#define REG_P		16

const char *const turnstile_local_storage_keys[TURNSTILE_NLOCAL_STORAGE] = {
	"oai-did",
	"oai/apps/hasSeenOnboarding",
	"oai/apps/locale",
	"oai/apps/capExpiresAt",
	"statsig.stable_id.1792610830",
	"statsig.session_id.1792610830",
	"statsig.last_modified_time.evaluations",
};

static const struct {
	const char	*name, *text;
} special_names[] = {
	{ "window", "[object Window]" },
	{ "window.document", "[object HTMLDocument]" },
	{ "window.navigator", "[object Navigator]" },
	{ "window.Math", "[object Math]" },
	{ "window.Reflect", "[object Reflect]" },
	{ "window.performance", "[object Performance]" },
	{ "window.localStorage", "[object Storage]" },
	{ "window.Object", "function Object() { [native code] }" },
	{ "window.Object.create", "function create() { [native code] }" },
	{ "window.Object.keys", "function keys() { [native code] }" },
	{ "window.Reflect.set", "function set() { [native code] }" },
	{ "window.performance.now", "function now() { [native code] }" },
	{ "window.Math.random", "function random() { [native code] }" },
};
#define FUNC_TEXT	"function () { [native code] }"
#define LOCATION	"https://chatgpt.com/"

/* ------------------------------------------------------------------ */
/* errors and accounting */

static int	limit(struct vm *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
limit(struct vm *vm, const char *fmt, ...)
{
	va_list	 ap;

	if (vm->msg[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(vm->msg, sizeof(vm->msg), fmt, ap);
		va_end(ap);
	}
	return R_LIMIT;
}

static int
charge(struct vm *vm, unsigned long n)
{
	if (n > TURNSTILE_MAX_WORK || vm->work + n > TURNSTILE_MAX_WORK) {
		vm->work += n;
		return limit(vm, "work limit (%lu units) exceeded",
		    TURNSTILE_MAX_WORK);
	}
	vm->work += n;
	return R_OK;
}

static int
step(struct vm *vm)
{
	if (++vm->steps > TURNSTILE_MAX_STEPS)
		return limit(vm, "step limit (%lu) exceeded",
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

static void
objs_free(struct obj *o)
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

static struct val
v_str(const void *s, size_t n)
{
	struct val	 v = { .t = T_STR, .len = (uint32_t)n };

	v.u.s = s;
	return v;
}

static struct val
v_num(double n)
{
	struct val	 v = { .t = T_NUM };

	v.u.n = n;
	return v;
}

static struct val
v_bool(int b)
{
	struct val	 v = { .t = T_BOOL };

	v.u.b = b;
	return v;
}

/* A string value with a copy of s (n <= MAX_STR, checked by callers). */
static int
str_new(struct vm *vm, const void *s, size_t n, struct val *out)
{
	unsigned char	*p = obj_new(vm, sizeof(struct obj) + n + 1, O_BYTES);

	if (p == NULL)
		return R_NOMEM;
	p += sizeof(struct obj);
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	*out = v_str(p, n);
	return R_OK;
}

/* String builder, capped at MAX_STR; the block gets an obj header so that
 * sb_done can adopt it into the run's chain without copying. */
struct sb {
	struct obj	*blk;
	size_t		 len, cap;
};

static unsigned char *
sb_data(struct sb *b)
{
	return (unsigned char *)b->blk + sizeof(struct obj);
}

static int
sb_put(struct vm *vm, struct sb *b, const void *d, size_t n)
{
	if (n > TURNSTILE_MAX_STR - b->len)
		return limit(vm, "string longer than %lu bytes",
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

static int
sb_putc(struct vm *vm, struct sb *b, char c)
{
	return sb_put(vm, b, &c, 1);
}

static int
sb_puts(struct vm *vm, struct sb *b, const char *s)
{
	return sb_put(vm, b, s, strlen(s));
}

static void
sb_drop(struct sb *b)
{
	free(b->blk);
	b->blk = NULL;
	b->len = b->cap = 0;
}

static int
sb_done(struct vm *vm, struct sb *b, struct val *out)
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
	*out = v_str(sb_data(b), b->len);
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

static uint64_t
mix64(uint64_t x)
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

static struct tlist *
list_new(struct vm *vm)
{
	return obj_new(vm, sizeof(struct tlist), O_LIST);
}

static int
list_push(struct tlist *l, struct val v)
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

static struct tmap *
map_new(struct vm *vm)
{
	return obj_new(vm, sizeof(struct tmap), O_MAP);
}

static struct mentry *
map_find(struct vm *vm, const struct tmap *m, const unsigned char *k,
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
static int
map_set(struct vm *vm, struct tmap *m, const unsigned char *k, size_t klen,
    struct val v)
{
	struct mentry	*e;
	uint64_t	 h;
	size_t		 i;
	int		 rc;

	if ((e = map_find(vm, m, k, klen, &h)) != NULL) {
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

static int
key_of(struct val v, double *k)
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
	for (i = mix64(bits ^ vm->hkey[0]) & (REG_CAP - 1); vm->regs[i].used;
	    i = (i + 1) & (REG_CAP - 1))
		if (vm->regs[i].k == k)
			return &vm->regs[i];
	return &vm->regs[i];
}

static struct val
reg_get(struct vm *vm, double k)
{
	struct reg	*r = reg_slot(vm, k);
	struct val	 undef = { .t = T_UNDEF };

	return r->used ? r->v : undef;
}

/* R[a] for an argument value a. */
static int
get(struct vm *vm, struct val a, struct val *out)
{
	double	 k;

	if (key_of(a, &k) != R_OK)
		return R_SKIP;
	*out = reg_get(vm, k);
	return R_OK;
}

static int
reg_put(struct vm *vm, double k, struct val v, bool force)
{
	struct reg	*r = reg_slot(vm, k);

	if (!r->used) {
		if (!force && vm->nregs >= TURNSTILE_MAX_REGS)
			return limit(vm, "more than %lu registers",
			    TURNSTILE_MAX_REGS);
		r->used = true;
		r->k = k;
		vm->nregs++;
	}
	r->v = v;
	return R_OK;
}

static int
reg_set(struct vm *vm, double k, struct val v)
{
	return reg_put(vm, k, v, false);
}

/* ------------------------------------------------------------------ */
/* numbers, base64 */

/* ECMAScript Number::toString(10); the digits are those of the shortest
 * "%.*e" that reads back as x.  out needs 32 bytes. */
static size_t
js_number(double x, char *out)
{
	char	 tmp[48], digits[24], *o = out;
	int	 prec, k = 0, n, i, e;
	double	 a;
	const char *s;

	if (isnan(x))
		return (size_t)sprintf(out, "NaN");
	if (isinf(x))
		return (size_t)sprintf(out, x > 0 ? "Infinity" : "-Infinity");
	if (x == 0)
		return (size_t)sprintf(out, "0");
	if (x < 0)
		*o++ = '-';
	a = fabs(x);
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, a);
		if (strtod(tmp, NULL) == a)
			break;
	}
	for (s = tmp; *s != '\0' && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && k < (int)sizeof(digits) - 1)
			digits[k++] = *s;
	e = *s == 'e' ? atoi(s + 1) : 0;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	n = e + 1;
	if (k <= n && n <= 21) {
		memcpy(o, digits, (size_t)k);
		o += k;
		for (i = k; i < n; i++)
			*o++ = '0';
	} else if (0 < n && n <= 21) {
		memcpy(o, digits, (size_t)n);
		o += n;
		*o++ = '.';
		memcpy(o, digits + n, (size_t)(k - n));
		o += k - n;
	} else if (-6 < n && n <= 0) {
		*o++ = '0';
		*o++ = '.';
		for (i = 0; i < -n; i++)
			*o++ = '0';
		memcpy(o, digits, (size_t)k);
		o += k;
	} else {
		*o++ = digits[0];
		if (k > 1) {
			*o++ = '.';
			memcpy(o, digits + 1, (size_t)(k - 1));
			o += k - 1;
		}
		o += sprintf(o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
	}
	*o = '\0';
	return (size_t)(o - out);
}

/* ------------------------------------------------------------------ */
/* to_str and JSON.stringify */

static bool
special_name(const unsigned char *s, size_t n, struct val *out)
{
	size_t	 i;

	if (n < 6 || memcmp(s, "window", 6) != 0)
		return false;
	for (i = 0; i < sizeof(special_names) / sizeof(special_names[0]); i++)
		if (strlen(special_names[i].name) == n &&
		    memcmp(special_names[i].name, s, n) == 0) {
			*out = v_str(special_names[i].text,
			    strlen(special_names[i].text));
			return true;
		}
	return false;
}

static bool
str_eq(struct val v, const char *s)
{
	return v.t == T_STR && v.len == strlen(s) && memcmp(v.u.s, s, v.len) == 0;
}

static int
str_into(struct vm *vm, struct val v, struct sb *b, unsigned depth)
{
	char	 num[32];
	size_t	 i;
	int	 rc;

	switch (v.t) {
	case T_STR: {
		struct val	 sp;

		if (special_name(v.u.s, v.len, &sp))
			v = sp;
		return sb_put(vm, b, v.u.s, v.len);
	}
	case T_UNDEF:
		return sb_puts(vm, b, "undefined");
	case T_NULL:
		return sb_puts(vm, b, "null");
	case T_BOOL:
		return sb_puts(vm, b, v.u.b ? "true" : "false");
	case T_NUM:
		return sb_put(vm, b, num, js_number(v.u.n, num));
	case T_MAP:
		return sb_puts(vm, b, "[object Object]");
	case T_FUNC:
		return sb_puts(vm, b, FUNC_TEXT);
	case T_LIST:
		if (depth + 1 > TURNSTILE_MAX_DEPTH)
			return limit(vm, "to_str nested deeper than %u",
			    TURNSTILE_MAX_DEPTH);
		for (i = 0; i < v.u.l->n; i++) {
			struct val	 e = v.u.l->v[i];

			if (i > 0 && (rc = sb_putc(vm, b, ',')) != R_OK)
				return rc;
			if (e.t == T_UNDEF || e.t == T_NULL)
				continue;
			if ((rc = str_into(vm, e, b, depth + 1)) != R_OK)
				return rc;
		}
		return R_OK;
	}
	return R_SKIP;
}

/* §3.7 step 4.  Strings come back as they are (or their special text) and
 * cost nothing; anything else builds a new string and is charged. */
static int
to_str(struct vm *vm, struct val v, struct val *out)
{
	struct sb	 b = { 0 };
	int		 rc;

	if (v.t == T_STR) {
		if (!special_name(v.u.s, v.len, out))
			*out = v;
		return R_OK;
	}
	if ((rc = str_into(vm, v, &b, 0)) != R_OK ||
	    (rc = charge(vm, b.len)) != R_OK ||
	    (rc = sb_done(vm, &b, out)) != R_OK) {
		sb_drop(&b);
		return rc;
	}
	return R_OK;
}

static int
quote_into(struct vm *vm, const unsigned char *s, size_t n, struct sb *b)
{
	size_t	 i, run = 0;
	char	 esc[8];
	int	 rc;

	if ((rc = sb_putc(vm, b, '"')) != R_OK)
		return rc;
	for (i = 0; i < n; i++) {
		unsigned char	 c = s[i];
		const char	*e = NULL;

		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				e = esc;
			}
		}
		if (e == NULL) {
			run++;
			continue;
		}
		if ((rc = sb_put(vm, b, s + i - run, run)) != R_OK ||
		    (rc = sb_puts(vm, b, e)) != R_OK)
			return rc;
		run = 0;
	}
	if ((rc = sb_put(vm, b, s + n - run, run)) != R_OK)
		return rc;
	return sb_putc(vm, b, '"');
}

static bool
json_absent(struct val v)
{
	return v.t == T_UNDEF || v.t == T_FUNC;
}

static int
json_into(struct vm *vm, struct val v, struct sb *b, unsigned depth)
{
	char	 num[32];
	size_t	 i;
	int	 rc;
	bool	 first = true;

	switch (v.t) {
	case T_NULL:
		return sb_puts(vm, b, "null");
	case T_BOOL:
		return sb_puts(vm, b, v.u.b ? "true" : "false");
	case T_NUM:
		if (!isfinite(v.u.n))
			return sb_puts(vm, b, "null");
		return sb_put(vm, b, num, js_number(v.u.n, num));
	case T_STR:
		return quote_into(vm, v.u.s, v.len, b);
	case T_LIST:
		if (depth + 1 > TURNSTILE_MAX_DEPTH)
			return limit(vm, "stringify nested deeper than %u",
			    TURNSTILE_MAX_DEPTH);
		if ((rc = sb_putc(vm, b, '[')) != R_OK)
			return rc;
		for (i = 0; i < v.u.l->n; i++) {
			struct val	 e = v.u.l->v[i];

			if (i > 0 && (rc = sb_putc(vm, b, ',')) != R_OK)
				return rc;
			rc = json_absent(e) ? sb_puts(vm, b, "null") :
			    json_into(vm, e, b, depth + 1);
			if (rc != R_OK)
				return rc;
		}
		return sb_putc(vm, b, ']');
	case T_MAP:
		if (depth + 1 > TURNSTILE_MAX_DEPTH)
			return limit(vm, "stringify nested deeper than %u",
			    TURNSTILE_MAX_DEPTH);
		/* entries visited, printed or not */
		if ((rc = charge(vm, v.u.m->n)) != R_OK ||
		    (rc = sb_putc(vm, b, '{')) != R_OK)
			return rc;
		for (i = 0; i < v.u.m->n; i++) {
			struct mentry	*e = &v.u.m->e[i];

			if (json_absent(e->v))
				continue;
			if ((!first && (rc = sb_putc(vm, b, ',')) != R_OK) ||
			    (rc = quote_into(vm, e->k, e->klen, b)) != R_OK ||
			    (rc = sb_putc(vm, b, ':')) != R_OK ||
			    (rc = json_into(vm, e->v, b, depth + 1)) != R_OK)
				return rc;
			first = false;
		}
		return sb_putc(vm, b, '}');
	default:
		return R_SKIP;	/* absent values are handled by callers */
	}
}

static int
stringify(struct vm *vm, struct val v, struct val *out)
{
	struct sb	 b = { 0 };
	int		 rc;

	if (json_absent(v)) {
		out->t = T_UNDEF;
		return R_OK;
	}
	if ((rc = json_into(vm, v, &b, 0)) != R_OK ||
	    (rc = charge(vm, b.len)) != R_OK ||
	    (rc = sb_done(vm, &b, out)) != R_OK) {
		sb_drop(&b);
		return rc;
	}
	return R_OK;
}

/* ------------------------------------------------------------------ */
/* JSON.parse: one strict pass (grammar and limits, identical to the
 * Python twin's parser), then json-c builds the tree. */

struct jcheck {
	const unsigned char	*s;
	size_t			 i, n;
	unsigned long		 elems;
};

static void
jc_ws(struct jcheck *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
	    j->s[j->i] == '\n' || j->s[j->i] == '\r'))
		j->i++;
}

static bool
jc_hex4(const struct jcheck *j, size_t at)
{
	size_t	 k;

	if (at + 4 > j->n)
		return false;
	for (k = at; k < at + 4; k++) {
		unsigned char	 c = j->s[k];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static int
jc_string(struct jcheck *j, bool key)
{
	size_t	 i = j->i + 1;

	for (;;) {
		unsigned char	 c;

		if (i >= j->n)
			return R_SKIP;
		c = j->s[i];
		if (c == '"')
			break;
		if (c < 0x20)
			return R_SKIP;
		if (c != '\\') {
			i++;
			continue;
		}
		if (i + 1 >= j->n)
			return R_SKIP;
		c = j->s[i + 1];
		if (strchr("\"\\/bfnrt", c) != NULL && c != '\0') {
			i += 2;
			continue;
		}
		if (c != 'u' || !jc_hex4(j, i + 2))
			return R_SKIP;
		if (key && memcmp(j->s + i + 2, "0000", 4) == 0)
			return R_SKIP;
		i += 6;
	}
	j->i = i + 1;
	return R_OK;
}

static int
jc_number(struct jcheck *j)
{
	const unsigned char	*s = j->s;
	size_t			 i = j->i, n = j->n, d, ndig;
	bool			 integer = true;

	if (s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
		ndig = 1;
	} else if (i < n && s[i] >= '1' && s[i] <= '9') {
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		ndig = i - d;
	} else
		return R_SKIP;
	if (i < n && s[i] == '.') {
		integer = false;
		for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return R_SKIP;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		integer = false;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return R_SKIP;
	}
	if (integer && ndig > 18)
		return R_SKIP;
	j->i = i;
	return R_OK;
}

static int
jc_value(struct vm *vm, struct jcheck *j, unsigned depth)
{
	unsigned long	 count;
	unsigned char	 c;
	int		 rc;

	jc_ws(j);
	if (j->i >= j->n)
		return R_SKIP;
	c = j->s[j->i];
	if (c == '{') {
		if (depth + 1 > TURNSTILE_MAX_DEPTH)
			return limit(vm, "JSON nested deeper than %u",
			    TURNSTILE_MAX_DEPTH);
		j->i++;
		jc_ws(j);
		if (j->i < j->n && j->s[j->i] == '}') {
			j->i++;
			return R_OK;
		}
		for (count = 1;; count++) {
			if (count > TURNSTILE_MAX_MAP)
				return limit(vm, "JSON object with more than "
				    "%lu members", TURNSTILE_MAX_MAP);
			jc_ws(j);
			if (j->i >= j->n || j->s[j->i] != '"')
				return R_SKIP;
			if ((rc = jc_string(j, true)) != R_OK)
				return rc;
			jc_ws(j);
			if (j->i >= j->n || j->s[j->i] != ':')
				return R_SKIP;
			j->i++;
			if ((rc = jc_value(vm, j, depth + 1)) != R_OK)
				return rc;
			j->elems++;
			jc_ws(j);
			if (j->i < j->n && j->s[j->i] == ',') {
				j->i++;
				continue;
			}
			if (j->i < j->n && j->s[j->i] == '}') {
				j->i++;
				return R_OK;
			}
			return R_SKIP;
		}
	}
	if (c == '[') {
		if (depth + 1 > TURNSTILE_MAX_DEPTH)
			return limit(vm, "JSON nested deeper than %u",
			    TURNSTILE_MAX_DEPTH);
		j->i++;
		jc_ws(j);
		if (j->i < j->n && j->s[j->i] == ']') {
			j->i++;
			return R_OK;
		}
		for (count = 1;;) {
			if ((rc = jc_value(vm, j, depth + 1)) != R_OK)
				return rc;
			j->elems++;
			jc_ws(j);
			if (j->i < j->n && j->s[j->i] == ',') {
				j->i++;
				if (++count > TURNSTILE_MAX_LIST)
					return limit(vm, "JSON array with more "
					    "than %lu elements",
					    TURNSTILE_MAX_LIST);
				continue;
			}
			if (j->i < j->n && j->s[j->i] == ']') {
				j->i++;
				return R_OK;
			}
			return R_SKIP;
		}
	}
	if (c == '"')
		return jc_string(j, false);
	if (c == '-' || (c >= '0' && c <= '9'))
		return jc_number(j);
	if (j->n - j->i >= 4 && memcmp(j->s + j->i, "true", 4) == 0) {
		j->i += 4;
		return R_OK;
	}
	if (j->n - j->i >= 5 && memcmp(j->s + j->i, "false", 5) == 0) {
		j->i += 5;
		return R_OK;
	}
	if (j->n - j->i >= 4 && memcmp(j->s + j->i, "null", 4) == 0) {
		j->i += 4;
		return R_OK;
	}
	return R_SKIP;
}

static int
from_json(struct vm *vm, struct json_object *o, struct val *out)
{
	struct val	 v = { .t = T_NULL };
	int		 rc;

	switch (json_object_get_type(o)) {
	case json_type_null:
		break;
	case json_type_boolean:
		v = v_bool(json_object_get_boolean(o) ? 1 : 0);
		break;
	case json_type_int:
		v = v_num((double)json_object_get_int64(o));
		break;
	case json_type_double:
		v = v_num(json_object_get_double(o));
		break;
	case json_type_string:
		rc = str_new(vm, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o), &v);
		if (rc != R_OK)
			return rc;
		break;
	case json_type_array: {
		size_t		 i, n = json_object_array_length(o);
		struct tlist	*l = list_new(vm);

		if (l == NULL)
			return R_NOMEM;
		if (n > 0 && (l->v = malloc(n * sizeof(*l->v))) == NULL)
			return R_NOMEM;
		l->cap = n;
		for (i = 0; i < n; i++) {
			rc = from_json(vm, json_object_array_get_idx(o, i),
			    &l->v[i]);
			if (rc != R_OK)
				return rc;
			l->n++;
		}
		v.t = T_LIST;
		v.u.l = l;
		break;
	}
	case json_type_object: {
		struct tmap	*m = map_new(vm);

		if (m == NULL)
			return R_NOMEM;
		json_object_object_foreach(o, key, child) {
			struct val	 k, cv;

			if ((rc = str_new(vm, key, strlen(key), &k)) != R_OK ||
			    (rc = from_json(vm, child, &cv)) != R_OK ||
			    (rc = map_set(vm, m, k.u.s, k.len, cv)) != R_OK)
				return rc;
		}
		v.t = T_MAP;
		v.u.m = m;
		break;
	}
	}
	*out = v;
	return R_OK;
}

/* Parse the n bytes at s (followed by a NUL).  R_SKIP: not JSON. */
static int
parse_json(struct vm *vm, const unsigned char *s, size_t n, struct val *out)
{
	struct jcheck		 j = { .s = s, .n = n };
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 jerr;
	int			 rc;

	if (n > TURNSTILE_MAX_STR)
		return limit(vm, "JSON text longer than %lu bytes",
		    TURNSTILE_MAX_STR);
	if ((rc = charge(vm, n)) != R_OK)
		return rc;
	if ((rc = jc_value(vm, &j, 0)) != R_OK)
		return rc;
	jc_ws(&j);
	if (j.i != n)
		return R_SKIP;
	if ((tok = json_tokener_new_ex((int)TURNSTILE_MAX_DEPTH + 2)) == NULL)
		return R_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)s, (int)n + 1);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		/* the checker accepted the text: only memory can fail */
		json_object_put(o);
		return R_NOMEM;
	}
	rc = from_json(vm, o, out);
	json_object_put(o);
	if (rc == R_OK)
		rc = charge(vm, TURNSTILE_ELEM_COST * j.elems);
	return rc;
}

/* ------------------------------------------------------------------ */
/* calls and opcodes */

static int	exec_op(struct vm *, int, const struct val *, size_t, unsigned);

static double
default_now(struct vm *vm)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - vm->t0.tv_sec) * 1000.0 +
	    (double)(ts.tv_nsec - vm->t0.tv_nsec) / 1e6;
}

static double
default_random(void)
{
	uint64_t	 r;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return 0.5;
	return (double)(r >> 11) * 0x1.0p-53;
}

/* JS ===; *eq is the answer.  Equal-sized strings are charged. */
static int
equal(struct vm *vm, struct val a, struct val b, bool *eq)
{
	int	 rc;

	*eq = false;
	if (a.t != b.t)
		return R_OK;
	switch (a.t) {
	case T_UNDEF:
	case T_NULL:
		*eq = true;
		break;
	case T_BOOL:
		*eq = a.u.b == b.u.b;
		break;
	case T_NUM:
		*eq = a.u.n == b.u.n;
		break;
	case T_STR:
		if (a.len != b.len)
			break;
		if ((rc = charge(vm, a.len)) != R_OK)
			return rc;
		*eq = a.len == 0 || memcmp(a.u.s, b.u.s, a.len) == 0;
		break;
	case T_FUNC:
		*eq = a.u.op == b.u.op;
		break;
	case T_LIST:
		*eq = a.u.l == b.u.l;
		break;
	case T_MAP:
		*eq = a.u.m == b.u.m;
		break;
	}
	return R_OK;
}

static int
call(struct vm *vm, struct val f, const struct val *args, size_t n,
    unsigned depth, struct val *ret)
{
	int	 rc;
	size_t	 i;

	ret->t = T_UNDEF;
	if ((rc = step(vm)) != R_OK)
		return rc;
	if (depth + 1 > TURNSTILE_MAX_DEPTH)
		return limit(vm, "calls nested deeper than %u",
		    TURNSTILE_MAX_DEPTH);
	if (f.t == T_FUNC)
		return exec_op(vm, f.u.op, args, n, depth + 1);
	if (f.t != T_STR)
		return R_SKIP;
	if (str_eq(f, "window.performance.now")) {
		*ret = v_num(vm->opts && vm->opts->now ?
		    vm->opts->now(vm->opts->ctx) : default_now(vm));
		return R_OK;
	}
	if (str_eq(f, "window.Math.random")) {
		*ret = v_num(vm->opts && vm->opts->random ?
		    vm->opts->random(vm->opts->ctx) : default_random());
		return R_OK;
	}
	if (str_eq(f, "window.Object.create")) {
		if ((rc = charge(vm, TURNSTILE_ELEM_COST)) != R_OK)
			return rc;
		if ((ret->u.m = map_new(vm)) == NULL)
			return R_NOMEM;
		ret->t = T_MAP;
		return R_OK;
	}
	if (str_eq(f, "window.Object.keys")) {
		struct tlist	*l;

		if (n < 1)
			return R_SKIP;
		if (str_eq(args[0], "window.localStorage")) {
			if ((rc = charge(vm, TURNSTILE_ELEM_COST *
			    TURNSTILE_NLOCAL_STORAGE)) != R_OK)
				return rc;
			if ((l = list_new(vm)) == NULL)
				return R_NOMEM;
			for (i = 0; i < TURNSTILE_NLOCAL_STORAGE; i++) {
				const char *k = turnstile_local_storage_keys[i];

				if ((rc = list_push(l, v_str(k, strlen(k)))) !=
				    R_OK)
					return rc;
			}
		} else if (args[0].t == T_MAP) {
			struct tmap	*m = args[0].u.m;

			if ((rc = charge(vm, TURNSTILE_ELEM_COST * m->n)) !=
			    R_OK)
				return rc;
			if ((l = list_new(vm)) == NULL)
				return R_NOMEM;
			for (i = 0; i < m->n; i++)
				if ((rc = list_push(l, v_str(m->e[i].k,
				    m->e[i].klen))) != R_OK)
					return rc;
		} else
			return R_SKIP;
		ret->t = T_LIST;
		ret->u.l = l;
		return R_OK;
	}
	if (str_eq(f, "window.Reflect.set")) {
		struct val	 k;
		struct mentry	*e;
		uint64_t	 h;

		if (n < 3 || args[0].t != T_MAP)
			return R_SKIP;
		if ((rc = to_str(vm, args[1], &k)) != R_OK ||
		    (rc = charge(vm, TURNSTILE_ELEM_COST + k.len)) != R_OK)
			return rc;
		e = map_find(vm, args[0].u.m, k.u.s, k.len, &h);
		if (e == NULL && args[0].u.m->n >= TURNSTILE_MAX_MAP)
			return limit(vm, "map with more than %lu entries",
			    TURNSTILE_MAX_MAP);
		if ((rc = map_set(vm, args[0].u.m, k.u.s, k.len, args[2])) !=
		    R_OK)
			return rc;
		*ret = v_bool(1);
		return R_OK;
	}
	return R_SKIP;
}

/* Resolve argument values as register keys into a new array. */
static int
resolve(struct vm *vm, const struct val *a, size_t n, struct val **out)
{
	size_t	 i;
	int	 rc;

	*out = NULL;
	if (n == 0)
		return R_OK;
	if ((*out = malloc(n * sizeof(**out))) == NULL)
		return R_NOMEM;
	for (i = 0; i < n; i++)
		if ((rc = get(vm, a[i], &(*out)[i])) != R_OK) {
			free(*out);
			*out = NULL;
			return rc;
		}
	return R_OK;
}

static int
op_xor(struct vm *vm, const struct val *a, size_t n)
{
	struct val	 kv, s, k, r;
	unsigned char	*p;
	double		 d;
	size_t		 i;
	int		 rc;

	if (n < 2)
		return R_SKIP;
	if ((rc = key_of(a[0], &d)) != R_OK || (rc = get(vm, a[1], &kv)) !=
	    R_OK)
		return rc;
	if ((rc = to_str(vm, reg_get(vm, d), &s)) != R_OK ||
	    (rc = to_str(vm, kv, &k)) != R_OK)
		return rc;
	if (k.len == 0)
		return R_SKIP;
	if ((rc = str_new(vm, s.u.s, s.len, &r)) != R_OK)
		return rc;
	p = (unsigned char *)(uintptr_t)r.u.s;
	for (i = 0; i < s.len; i++)
		p[i] ^= k.u.s[i % k.len];
	if ((rc = charge(vm, r.len)) != R_OK)
		return rc;
	return reg_set(vm, d, r);
}

static int
op_add(struct vm *vm, const struct val *a, size_t n)
{
	struct val	 va, vb, sa, sb, r;
	struct sb	 b = { 0 };
	double		 d;
	int		 rc;

	if (n < 2)
		return R_SKIP;
	if ((rc = key_of(a[0], &d)) != R_OK || (rc = get(vm, a[1], &vb)) !=
	    R_OK)
		return rc;
	va = reg_get(vm, d);
	if (va.t == T_LIST) {
		if (va.u.l->n >= TURNSTILE_MAX_LIST)
			return limit(vm, "list with more than %lu elements",
			    TURNSTILE_MAX_LIST);
		if ((rc = charge(vm, TURNSTILE_ELEM_COST)) != R_OK)
			return rc;
		return list_push(va.u.l, vb);
	}
	if (va.t == T_NUM && vb.t == T_NUM)
		return reg_set(vm, d, v_num(va.u.n + vb.u.n));
	if ((rc = to_str(vm, va, &sa)) != R_OK ||
	    (rc = to_str(vm, vb, &sb)) != R_OK)
		return rc;
	if ((size_t)sa.len + sb.len > TURNSTILE_MAX_STR)
		return limit(vm, "string longer than %lu bytes",
		    TURNSTILE_MAX_STR);
	if ((rc = sb_put(vm, &b, sa.u.s, sa.len)) != R_OK ||
	    (rc = sb_put(vm, &b, sb.u.s, sb.len)) != R_OK ||
	    (rc = charge(vm, b.len)) != R_OK ||
	    (rc = sb_done(vm, &b, &r)) != R_OK) {
		sb_drop(&b);
		return rc;
	}
	return reg_set(vm, d, r);
}

static int
op_prop(struct vm *vm, const struct val *a, size_t n)
{
	struct val	 va, vb, r = { .t = T_UNDEF };
	struct sb	 b = { 0 };
	double		 d;
	int		 rc;

	if (n < 3)
		return R_SKIP;
	if ((rc = key_of(a[0], &d)) != R_OK || (rc = get(vm, a[1], &va)) !=
	    R_OK || (rc = get(vm, a[2], &vb)) != R_OK)
		return rc;
	if (va.t == T_STR && vb.t == T_STR) {
		if ((size_t)va.len + 1 + vb.len > TURNSTILE_MAX_STR)
			return limit(vm, "string longer than %lu bytes",
			    TURNSTILE_MAX_STR);
		if ((rc = sb_put(vm, &b, va.u.s, va.len)) != R_OK ||
		    (rc = sb_putc(vm, &b, '.')) != R_OK ||
		    (rc = sb_put(vm, &b, vb.u.s, vb.len)) != R_OK ||
		    (rc = charge(vm, b.len)) != R_OK ||
		    (rc = sb_done(vm, &b, &r)) != R_OK) {
			sb_drop(&b);
			return rc;
		}
		if (str_eq(r, "window.document.location"))
			r = v_str(LOCATION, strlen(LOCATION));
		return reg_set(vm, d, r);
	}
	if (va.t == T_MAP && vb.t == T_STR) {
		struct mentry	*e;
		uint64_t	 h;

		if ((rc = charge(vm, vb.len)) != R_OK)
			return rc;
		if ((e = map_find(vm, va.u.m, vb.u.s, vb.len, &h)) != NULL)
			r = e->v;
		return reg_set(vm, d, r);
	}
	if (va.t == T_LIST && vb.t == T_NUM && isfinite(vb.u.n) &&
	    vb.u.n >= 0 && vb.u.n == floor(vb.u.n)) {
		if (vb.u.n < (double)va.u.l->n)
			r = va.u.l->v[(size_t)vb.u.n];
		return reg_set(vm, d, r);
	}
	return R_SKIP;
}

static int
op_base64(struct vm *vm, int op, const struct val *a, size_t n)
{
	struct val	 src, s, r;
	unsigned char	*p;
	double		 d;
	long		 len;
	size_t		 cap;
	int		 rc;

	if (n < 1)
		return R_SKIP;
	if ((rc = key_of(a[0], &d)) != R_OK)
		return rc;
	if (n >= 2) {
		if ((rc = get(vm, a[1], &src)) != R_OK)
			return rc;
	} else
		src = reg_get(vm, d);
	if ((rc = to_str(vm, src, &s)) != R_OK)
		return rc;
	cap = op == OP_ATOB ? B64_DECLEN(s.len) : B64_ENCLEN(s.len);
	if ((p = malloc(cap + 1)) == NULL)
		return R_NOMEM;
	if (op == OP_ATOB)
		len = b64_decode((const char *)s.u.s, s.len, p, cap,
		    B64_STD | B64_FORGIVING);
	else
		len = (long)b64_encode(s.u.s, s.len, (char *)p);
	if (len < 0) {
		free(p);
		return R_SKIP;
	}
	if ((size_t)len > TURNSTILE_MAX_STR) {
		free(p);
		return limit(vm, "string longer than %lu bytes",
		    TURNSTILE_MAX_STR);
	}
	if ((rc = charge(vm, (unsigned long)len)) != R_OK ||
	    (rc = str_new(vm, p, (size_t)len, &r)) != R_OK) {
		free(p);
		return rc;
	}
	free(p);
	return reg_set(vm, d, r);
}

static int
op_finish(struct vm *vm, const struct val *a, size_t n)
{
	struct val	 v = { .t = T_UNDEF }, s;
	int		 rc;

	if (n >= 1)
		v = a[0];
	if ((rc = to_str(vm, v, &s)) != R_OK)
		return rc;
	if ((vm->token = malloc(B64_ENCLEN(s.len) + 1)) == NULL)
		return R_NOMEM;
	vm->token[b64_encode(s.u.s, s.len, vm->token)] = '\0';
	return R_HALT;
}

static int
op_calls(struct vm *vm, int op, const struct val *a, size_t n,
    unsigned depth)
{
	struct val	 x = { .t = T_UNDEF }, y = { .t = T_UNDEF }, f, ret;
	struct val	*args = NULL;
	double		 d = 0;
	size_t		 first, nargs;
	int		 rc;
	bool		 go = true;

	switch (op) {
	case OP_CALL:
		if (n < 1)
			return R_SKIP;
		if ((rc = get(vm, a[0], &f)) != R_OK)
			return rc;
		first = 1;
		break;
	case OP_CALLSET:
		if (n < 2)
			return R_SKIP;
		if ((rc = key_of(a[0], &d)) != R_OK ||
		    (rc = get(vm, a[1], &f)) != R_OK)
			return rc;
		first = 2;
		break;
	case OP_IFEQ:
		if (n < 3)
			return R_SKIP;
		if ((rc = get(vm, a[0], &x)) != R_OK ||
		    (rc = get(vm, a[1], &y)) != R_OK ||
		    (rc = get(vm, a[2], &f)) != R_OK)
			return rc;
		first = 3;
		break;
	default: /* OP_IFDEF */
		if (n < 2)
			return R_SKIP;
		if ((rc = get(vm, a[0], &x)) != R_OK ||
		    (rc = get(vm, a[1], &f)) != R_OK)
			return rc;
		first = 2;
		break;
	}
	nargs = n - first;
	if ((rc = resolve(vm, a + first, nargs, &args)) != R_OK)
		return rc;
	if (op == OP_IFEQ) {
		if ((rc = equal(vm, x, y, &go)) != R_OK) {
			free(args);
			return rc;
		}
	} else if (op == OP_IFDEF)
		go = x.t != T_UNDEF && x.t != T_NULL;
	rc = go ? call(vm, f, args, nargs, depth, &ret) : R_OK;
	free(args);
	if (rc == R_OK && op == OP_CALLSET)
		rc = reg_set(vm, d, ret);
	return rc;
}

static int
exec_op(struct vm *vm, int op, const struct val *a, size_t n, unsigned depth)
{
	struct val	 v, s;
	double		 d;
	int		 rc;

	switch (op) {
	case OP_NOP:
		return R_OK;
	case OP_FINISH:
		return op_finish(vm, a, n);
	case OP_SET:
		if (n < 2)
			return R_SKIP;
		if ((rc = key_of(a[0], &d)) != R_OK)
			return rc;
		return reg_set(vm, d, a[1]);
	case OP_COPY:
		if (n < 2)
			return R_SKIP;
		if ((rc = key_of(a[0], &d)) != R_OK ||
		    (rc = get(vm, a[1], &v)) != R_OK)
			return rc;
		return reg_set(vm, d, v);
	case OP_XOR:
		return op_xor(vm, a, n);
	case OP_ADD:
		return op_add(vm, a, n);
	case OP_PROP:
	case OP_PROP2:
		return op_prop(vm, a, n);
	case OP_CALL:
	case OP_CALLSET:
	case OP_IFEQ:
	case OP_IFDEF:
		return op_calls(vm, op, a, n, depth);
	case OP_PARSE:
		if (n < 2)
			return R_SKIP;
		if ((rc = key_of(a[0], &d)) != R_OK ||
		    (rc = get(vm, a[1], &v)) != R_OK ||
		    (rc = to_str(vm, v, &s)) != R_OK ||
		    (rc = parse_json(vm, s.u.s, s.len, &v)) != R_OK)
			return rc;
		return reg_set(vm, d, v);
	case OP_STRINGIFY:
		if (n < 2)
			return R_SKIP;
		if ((rc = key_of(a[0], &d)) != R_OK ||
		    (rc = get(vm, a[1], &v)) != R_OK ||
		    (rc = stringify(vm, v, &s)) != R_OK)
			return rc;
		return reg_set(vm, d, s);
	case OP_ATOB:
	case OP_BTOA:
		return op_base64(vm, op, a, n);
	}
	return R_SKIP;
}

/* ------------------------------------------------------------------ */
/* the run */

static int
run(struct vm *vm, struct tlist *prog)
{
	size_t	 pc = 0;
	int	 rc;

	while (pc < prog->n) {
		struct val	 ins = prog->v[pc++], f;

		if ((rc = step(vm)) != R_OK)
			return rc;
		if (ins.t != T_LIST || ins.u.l->n == 0) {
			vm->skipped++;
			continue;
		}
		if ((rc = charge(vm, ins.u.l->n - 1)) != R_OK)
			return rc;
		rc = get(vm, ins.u.l->v[0], &f);
		if (rc == R_OK && f.t != T_FUNC)
			rc = R_SKIP;
		if (rc == R_OK)
			rc = exec_op(vm, f.u.op, ins.u.l->v + 1,
			    ins.u.l->n - 1, 0);
		if (rc == R_SKIP) {
			vm->skipped++;
			continue;
		}
		if (rc != R_OK)
			return rc;
	}
	return R_OK;
}

static void	seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

static enum turnstile_err
vm_error(struct vm *vm, int rc, char *err, size_t errsz)
{
	if (rc == R_NOMEM) {
		seterr(err, errsz, "out of memory");
		return TURNSTILE_ENOMEM;
	}
	seterr(err, errsz, "%s", vm->msg[0] ? vm->msg : "limit exceeded");
	return TURNSTILE_ELIMIT;
}

enum turnstile_err
turnstile_solve_ex(const char *dx, size_t dxlen, const char *p, size_t plen,
    const struct turnstile_opts *opts, char **out_token,
    struct turnstile_stats *stats, char *err, size_t errsz)
{
	struct vm		 vm;
	struct val		 pv, progv = { .t = T_UNDEF }, fv = { .t = T_FUNC };
	unsigned char		*text = NULL;
	long			 tlen;
	size_t			 i;
	enum turnstile_err	 ret;
	int			 rc;

	if (out_token != NULL)
		*out_token = NULL;
	if (stats != NULL)
		memset(stats, 0, sizeof(*stats));
	seterr(err, errsz, "%s", "");
	if (dx == NULL || p == NULL || out_token == NULL) {
		seterr(err, errsz, "NULL argument");
		return TURNSTILE_EBADINPUT;
	}
	if (dxlen > TURNSTILE_MAX_DX) {
		seterr(err, errsz, "dx longer than %lu characters",
		    TURNSTILE_MAX_DX);
		return TURNSTILE_ELIMIT;
	}
	if (plen == 0) {
		seterr(err, errsz, "p is empty");
		return TURNSTILE_EBADINPUT;
	}
	if (plen > TURNSTILE_MAX_P) {
		seterr(err, errsz, "p longer than %lu bytes", TURNSTILE_MAX_P);
		return TURNSTILE_ELIMIT;
	}

	memset(&vm, 0, sizeof(vm));
	vm.opts = opts;
	clock_gettime(CLOCK_MONOTONIC, &vm.t0);
	if (RAND_bytes((unsigned char *)vm.hkey, sizeof(vm.hkey)) != 1) {
		vm.hkey[0] = (uint64_t)(uintptr_t)&vm ^ (uint64_t)vm.t0.tv_nsec;
		vm.hkey[1] = mix64(vm.hkey[0]);
	}
	if ((vm.regs = calloc(REG_CAP, sizeof(*vm.regs))) == NULL ||
	    (text = malloc(B64_DECLEN(dxlen) + 1)) == NULL) {
		free(vm.regs);
		seterr(err, errsz, "out of memory");
		return TURNSTILE_ENOMEM;
	}
	if ((tlen = b64_decode(dx, dxlen, text, B64_DECLEN(dxlen),
	    B64_STD | B64_FORGIVING)) < 0) {
		seterr(err, errsz, "dx is not base64");
		ret = TURNSTILE_EBADINPUT;
		goto out;
	}
	if ((size_t)tlen > TURNSTILE_MAX_STR) {
		seterr(err, errsz, "decoded dx longer than %lu bytes",
		    TURNSTILE_MAX_STR);
		ret = TURNSTILE_ELIMIT;
		goto out;
	}
	for (i = 0; i < (size_t)tlen; i++)
		text[i] ^= (unsigned char)p[i % plen];
	text[tlen] = '\0';

	rc = parse_json(&vm, text, (size_t)tlen, &progv);
	if (rc == R_SKIP) {
		seterr(err, errsz, "program is not JSON (wrong p?)");
		ret = TURNSTILE_EBADINPUT;
		goto out;
	}
	if (rc != R_OK) {
		ret = vm_error(&vm, rc, err, errsz);
		goto out;
	}
	if (progv.t != T_LIST) {
		seterr(err, errsz, "program is not a JSON array");
		ret = TURNSTILE_EBADINPUT;
		goto out;
	}
	if ((rc = str_new(&vm, p, plen, &pv)) != R_OK) {
		ret = vm_error(&vm, rc, err, errsz);
		goto out;
	}
	for (i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++) {
		fv.u.op = opcodes[i];
		reg_put(&vm, opcodes[i], fv, true);
	}
	reg_put(&vm, REG_PROGRAM, progv, true);
	reg_put(&vm, REG_WINDOW, v_str("window", 6), true);
	reg_put(&vm, REG_P, pv, true);

	rc = run(&vm, progv.u.l);
	if (rc == R_HALT) {
		*out_token = vm.token;
		vm.token = NULL;
		ret = TURNSTILE_OK;
	} else if (rc == R_OK) {
		seterr(err, errsz, "the program ended without opcode 3");
		ret = TURNSTILE_ENOTOKEN;
	} else
		ret = vm_error(&vm, rc, err, errsz);
out:
	if (stats != NULL) {
		stats->steps = vm.steps;
		stats->skipped = vm.skipped;
		stats->work = vm.work;
	}
	free(vm.token);
	free(text);
	free(vm.regs);
	objs_free(vm.objs);
	return ret;
}

enum turnstile_err
turnstile_solve(const char *dx_b64, const char *p, char **out_token,
    char *err, size_t errsz)
{
	if (dx_b64 == NULL || p == NULL) {
		if (out_token != NULL)
			*out_token = NULL;
		seterr(err, errsz, "NULL argument");
		return TURNSTILE_EBADINPUT;
	}
	return turnstile_solve_ex(dx_b64, strlen(dx_b64), p, strlen(p), NULL,
	    out_token, NULL, err, errsz);
}

const char *
turnstile_strerror(enum turnstile_err err)
{
	switch (err) {
	case TURNSTILE_OK:
		return "success";
	case TURNSTILE_EBADINPUT:
		return "malformed turnstile challenge";
	case TURNSTILE_ENOMEM:
		return "out of memory";
	case TURNSTILE_ELIMIT:
		return "turnstile program exceeds a limit";
	case TURNSTILE_ENOTOKEN:
		return "turnstile program produced no token";
	}
	return "unknown turnstile error";
}
