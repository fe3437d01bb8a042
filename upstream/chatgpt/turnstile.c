/*
 * turnstile.c - the turnstile VM of protocols/chatgpt.md §3.7: the run
 * loop and the public entry points; the behaviour is specified in
 * turnstile.h and mirrored by tests/mock/turnstile.py.  The VM's other
 * parts: turnstile_value.c (values, lists, maps, registers),
 * turnstile_json.c (strings and JSON), turnstile_ops.c (the opcodes).
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

/* The opcodes a run starts with, each in the register of its number. */
static const int opcodes[] = { 1, 2, 3, 5, 6, 7, 8, 14, 15, 17, 18, 19, 20,
	21, 23, 24 };

/* ------------------------------------------------------------------ */
/* the run */

static int
run(struct vm *vm, struct tlist *prog)
{
	size_t	 pc = 0;
	int	 rc;

	while (pc < prog->n) {
		struct val	 ins = prog->v[pc++], f;

		if ((rc = ts_step(vm)) != R_OK)
			return rc;
		if (ins.t != T_LIST || ins.u.l->n == 0) {
			vm->skipped++;
			continue;
		}
		if ((rc = ts_charge(vm, ins.u.l->n - 1)) != R_OK)
			return rc;
		rc = ts_get(vm, ins.u.l->v[0], &f);
		if (rc == R_OK && f.t != T_FUNC)
			rc = R_SKIP;
		if (rc == R_OK)
			rc = ts_exec_op(vm, f.u.op, ins.u.l->v + 1,
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
		vm.hkey[1] = ts_mix64(vm.hkey[0]);
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

	rc = ts_parse_json(&vm, text, (size_t)tlen, &progv);
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
	if ((rc = ts_str_new(&vm, p, plen, &pv)) != R_OK) {
		ret = vm_error(&vm, rc, err, errsz);
		goto out;
	}
	for (i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++) {
		fv.u.op = opcodes[i];
		ts_reg_put(&vm, opcodes[i], fv, true);
	}
	ts_reg_put(&vm, REG_PROGRAM, progv, true);
	ts_reg_put(&vm, REG_WINDOW, ts_v_str("window", 6), true);
	ts_reg_put(&vm, REG_P, pv, true);

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
	ts_objs_free(vm.objs);
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
