/*
 * turnstile_ops.c - the turnstile VM's opcodes: the native functions
 * a program can call, equality, and exec_op, the dispatch of one
 * instruction.
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

const char *const turnstile_local_storage_keys[TURNSTILE_NLOCAL_STORAGE] = {
	"oai-did",
	"oai/apps/hasSeenOnboarding",
	"oai/apps/locale",
	"oai/apps/capExpiresAt",
	"statsig.stable_id.1792610830",
	"statsig.session_id.1792610830",
	"statsig.last_modified_time.evaluations",
};

/* ------------------------------------------------------------------ */
/* calls and opcodes */

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
		if ((rc = ts_charge(vm, a.len)) != R_OK)
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
	if ((rc = ts_step(vm)) != R_OK)
		return rc;
	if (depth + 1 > TURNSTILE_MAX_DEPTH)
		return ts_limit(vm, "calls nested deeper than %u",
		    TURNSTILE_MAX_DEPTH);
	if (f.t == T_FUNC)
		return ts_exec_op(vm, f.u.op, args, n, depth + 1);
	if (f.t != T_STR)
		return R_SKIP;
	if (ts_str_eq(f, "window.performance.now")) {
		*ret = ts_v_num(vm->opts && vm->opts->now ?
		    vm->opts->now(vm->opts->ctx) : default_now(vm));
		return R_OK;
	}
	if (ts_str_eq(f, "window.Math.random")) {
		*ret = ts_v_num(vm->opts && vm->opts->random ?
		    vm->opts->random(vm->opts->ctx) : default_random());
		return R_OK;
	}
	if (ts_str_eq(f, "window.Object.create")) {
		if ((rc = ts_charge(vm, TURNSTILE_ELEM_COST)) != R_OK)
			return rc;
		if ((ret->u.m = ts_map_new(vm)) == NULL)
			return R_NOMEM;
		ret->t = T_MAP;
		return R_OK;
	}
	if (ts_str_eq(f, "window.Object.keys")) {
		struct tlist	*l;

		if (n < 1)
			return R_SKIP;
		if (ts_str_eq(args[0], "window.localStorage")) {
			if ((rc = ts_charge(vm, TURNSTILE_ELEM_COST *
			    TURNSTILE_NLOCAL_STORAGE)) != R_OK)
				return rc;
			if ((l = ts_list_new(vm)) == NULL)
				return R_NOMEM;
			for (i = 0; i < TURNSTILE_NLOCAL_STORAGE; i++) {
				const char *k = turnstile_local_storage_keys[i];

				if ((rc = ts_list_push(l, ts_v_str(k, strlen(k)))) !=
				    R_OK)
					return rc;
			}
		} else if (args[0].t == T_MAP) {
			struct tmap	*m = args[0].u.m;

			if ((rc = ts_charge(vm, TURNSTILE_ELEM_COST * m->n)) !=
			    R_OK)
				return rc;
			if ((l = ts_list_new(vm)) == NULL)
				return R_NOMEM;
			for (i = 0; i < m->n; i++)
				if ((rc = ts_list_push(l, ts_v_str(m->e[i].k,
				    m->e[i].klen))) != R_OK)
					return rc;
		} else
			return R_SKIP;
		ret->t = T_LIST;
		ret->u.l = l;
		return R_OK;
	}
	if (ts_str_eq(f, "window.Reflect.set")) {
		struct val	 k;
		struct mentry	*e;
		uint64_t	 h;

		if (n < 3 || args[0].t != T_MAP)
			return R_SKIP;
		if ((rc = ts_to_str(vm, args[1], &k)) != R_OK ||
		    (rc = ts_charge(vm, TURNSTILE_ELEM_COST + k.len)) != R_OK)
			return rc;
		e = ts_map_find(vm, args[0].u.m, k.u.s, k.len, &h);
		if (e == NULL && args[0].u.m->n >= TURNSTILE_MAX_MAP)
			return ts_limit(vm, "map with more than %lu entries",
			    TURNSTILE_MAX_MAP);
		if ((rc = ts_map_set(vm, args[0].u.m, k.u.s, k.len, args[2])) !=
		    R_OK)
			return rc;
		*ret = ts_v_bool(1);
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
		if ((rc = ts_get(vm, a[i], &(*out)[i])) != R_OK) {
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
	if ((rc = ts_key_of(a[0], &d)) != R_OK || (rc = ts_get(vm, a[1], &kv)) !=
	    R_OK)
		return rc;
	if ((rc = ts_to_str(vm, ts_reg_get(vm, d), &s)) != R_OK ||
	    (rc = ts_to_str(vm, kv, &k)) != R_OK)
		return rc;
	if (k.len == 0)
		return R_SKIP;
	if ((rc = ts_str_new(vm, s.u.s, s.len, &r)) != R_OK)
		return rc;
	p = (unsigned char *)(uintptr_t)r.u.s;
	for (i = 0; i < s.len; i++)
		p[i] ^= k.u.s[i % k.len];
	if ((rc = ts_charge(vm, r.len)) != R_OK)
		return rc;
	return ts_reg_set(vm, d, r);
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
	if ((rc = ts_key_of(a[0], &d)) != R_OK || (rc = ts_get(vm, a[1], &vb)) !=
	    R_OK)
		return rc;
	va = ts_reg_get(vm, d);
	if (va.t == T_LIST) {
		if (va.u.l->n >= TURNSTILE_MAX_LIST)
			return ts_limit(vm, "list with more than %lu elements",
			    TURNSTILE_MAX_LIST);
		if ((rc = ts_charge(vm, TURNSTILE_ELEM_COST)) != R_OK)
			return rc;
		return ts_list_push(va.u.l, vb);
	}
	if (va.t == T_NUM && vb.t == T_NUM)
		return ts_reg_set(vm, d, ts_v_num(va.u.n + vb.u.n));
	if ((rc = ts_to_str(vm, va, &sa)) != R_OK ||
	    (rc = ts_to_str(vm, vb, &sb)) != R_OK)
		return rc;
	if ((size_t)sa.len + sb.len > TURNSTILE_MAX_STR)
		return ts_limit(vm, "string longer than %lu bytes",
		    TURNSTILE_MAX_STR);
	if ((rc = ts_sb_put(vm, &b, sa.u.s, sa.len)) != R_OK ||
	    (rc = ts_sb_put(vm, &b, sb.u.s, sb.len)) != R_OK ||
	    (rc = ts_charge(vm, b.len)) != R_OK ||
	    (rc = ts_sb_done(vm, &b, &r)) != R_OK) {
		ts_sb_drop(&b);
		return rc;
	}
	return ts_reg_set(vm, d, r);
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
	if ((rc = ts_key_of(a[0], &d)) != R_OK || (rc = ts_get(vm, a[1], &va)) !=
	    R_OK || (rc = ts_get(vm, a[2], &vb)) != R_OK)
		return rc;
	if (va.t == T_STR && vb.t == T_STR) {
		if ((size_t)va.len + 1 + vb.len > TURNSTILE_MAX_STR)
			return ts_limit(vm, "string longer than %lu bytes",
			    TURNSTILE_MAX_STR);
		if ((rc = ts_sb_put(vm, &b, va.u.s, va.len)) != R_OK ||
		    (rc = ts_sb_putc(vm, &b, '.')) != R_OK ||
		    (rc = ts_sb_put(vm, &b, vb.u.s, vb.len)) != R_OK ||
		    (rc = ts_charge(vm, b.len)) != R_OK ||
		    (rc = ts_sb_done(vm, &b, &r)) != R_OK) {
			ts_sb_drop(&b);
			return rc;
		}
		if (ts_str_eq(r, "window.document.location"))
			r = ts_v_str(LOCATION, strlen(LOCATION));
		return ts_reg_set(vm, d, r);
	}
	if (va.t == T_MAP && vb.t == T_STR) {
		struct mentry	*e;
		uint64_t	 h;

		if ((rc = ts_charge(vm, vb.len)) != R_OK)
			return rc;
		if ((e = ts_map_find(vm, va.u.m, vb.u.s, vb.len, &h)) != NULL)
			r = e->v;
		return ts_reg_set(vm, d, r);
	}
	if (va.t == T_LIST && vb.t == T_NUM && isfinite(vb.u.n) &&
	    vb.u.n >= 0 && vb.u.n == floor(vb.u.n)) {
		if (vb.u.n < (double)va.u.l->n)
			r = va.u.l->v[(size_t)vb.u.n];
		return ts_reg_set(vm, d, r);
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
	if ((rc = ts_key_of(a[0], &d)) != R_OK)
		return rc;
	if (n >= 2) {
		if ((rc = ts_get(vm, a[1], &src)) != R_OK)
			return rc;
	} else
		src = ts_reg_get(vm, d);
	if ((rc = ts_to_str(vm, src, &s)) != R_OK)
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
		return ts_limit(vm, "string longer than %lu bytes",
		    TURNSTILE_MAX_STR);
	}
	if ((rc = ts_charge(vm, (unsigned long)len)) != R_OK ||
	    (rc = ts_str_new(vm, p, (size_t)len, &r)) != R_OK) {
		free(p);
		return rc;
	}
	free(p);
	return ts_reg_set(vm, d, r);
}

static int
op_finish(struct vm *vm, const struct val *a, size_t n)
{
	struct val	 v = { .t = T_UNDEF }, s;
	int		 rc;

	if (n >= 1)
		v = a[0];
	if ((rc = ts_to_str(vm, v, &s)) != R_OK)
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
		if ((rc = ts_get(vm, a[0], &f)) != R_OK)
			return rc;
		first = 1;
		break;
	case OP_CALLSET:
		if (n < 2)
			return R_SKIP;
		if ((rc = ts_key_of(a[0], &d)) != R_OK ||
		    (rc = ts_get(vm, a[1], &f)) != R_OK)
			return rc;
		first = 2;
		break;
	case OP_IFEQ:
		if (n < 3)
			return R_SKIP;
		if ((rc = ts_get(vm, a[0], &x)) != R_OK ||
		    (rc = ts_get(vm, a[1], &y)) != R_OK ||
		    (rc = ts_get(vm, a[2], &f)) != R_OK)
			return rc;
		first = 3;
		break;
	default: /* OP_IFDEF */
		if (n < 2)
			return R_SKIP;
		if ((rc = ts_get(vm, a[0], &x)) != R_OK ||
		    (rc = ts_get(vm, a[1], &f)) != R_OK)
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
		rc = ts_reg_set(vm, d, ret);
	return rc;
}

int
ts_exec_op(struct vm *vm, int op, const struct val *a, size_t n, unsigned depth)
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
		if ((rc = ts_key_of(a[0], &d)) != R_OK)
			return rc;
		return ts_reg_set(vm, d, a[1]);
	case OP_COPY:
		if (n < 2)
			return R_SKIP;
		if ((rc = ts_key_of(a[0], &d)) != R_OK ||
		    (rc = ts_get(vm, a[1], &v)) != R_OK)
			return rc;
		return ts_reg_set(vm, d, v);
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
		if ((rc = ts_key_of(a[0], &d)) != R_OK ||
		    (rc = ts_get(vm, a[1], &v)) != R_OK ||
		    (rc = ts_to_str(vm, v, &s)) != R_OK ||
		    (rc = ts_parse_json(vm, s.u.s, s.len, &v)) != R_OK)
			return rc;
		return ts_reg_set(vm, d, v);
	case OP_STRINGIFY:
		if (n < 2)
			return R_SKIP;
		if ((rc = ts_key_of(a[0], &d)) != R_OK ||
		    (rc = ts_get(vm, a[1], &v)) != R_OK ||
		    (rc = ts_stringify(vm, v, &s)) != R_OK)
			return rc;
		return ts_reg_set(vm, d, s);
	case OP_ATOB:
	case OP_BTOA:
		return op_base64(vm, op, a, n);
	}
	return R_SKIP;
}
