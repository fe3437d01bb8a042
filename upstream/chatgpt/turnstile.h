/*
 * turnstile.h - local solver of the ChatGPT sentinel turnstile challenge
 * (protocols/chatgpt.md §3.7).
 *
 * chat-requirements may answer "turnstile":{"required":true,"dx":"..."}.
 * dx is base64 of a JSON program XOR-ed with the requirements token p that
 * was posted as {"p":...} (§3.3).  The program runs on a small register VM;
 * the token (header openai-sentinel-turnstile-token) is what opcode 3
 * produces.
 *
 *	char	*tok = NULL, err[128];
 *
 *	if (turnstile_solve(dx, p, &tok, err, sizeof(err)) == TURNSTILE_OK)
 *		... send tok ...; free(tok);
 *	else
 *		log err; send no header (§3.6 step 2: errors are ignored)
 *
 * tests/mock/turnstile.py is the executable twin of this file: the mock
 * uses it to make challenges and know their answers, and the unit test
 * checks that both implementations agree token for token and counter for
 * counter.
 *
 * ------------------------------------------------------------------ spec
 * Decoding.  dx is decoded with WHATWG forgiving-base64 (what atob() does:
 * ASCII whitespace ignored, "=" padding optional, leftover bits dropped).
 * Byte k is XOR-ed with p[k mod len(p)] (p taken as bytes).  The result
 * must be one JSON value, an array: the program.
 *
 * JSON.  Exactly RFC 8259 (no NaN, comments, trailing commas or raw control
 * characters in strings) with three restrictions: an integer literal
 * without fraction or exponent has at most 18 digits; an object key may not
 * contain \u0000; nesting, array length and object size are capped.  Bytes
 * >= 0x80 are taken raw; \u escapes become UTF-8, a valid surrogate pair
 * one code point, a lone surrogate U+FFFD.  Duplicate keys: the first
 * position, the last value.
 *
 * Values.  undefined, null, boolean, number (a double), string (bytes, as
 * JS atob/btoa "binary strings"), list and map (shared and mutable: a copy
 * is a reference), and a function reference (an opcode).  Registers are
 * keyed by finite numbers (-0 is 0).  A missing register reads undefined.
 *
 * Predefined registers: the opcodes 1 2 3 5 6 7 8 14 15 17 18 19 20 21 23
 * 24 as function references in the register of the same number; 9 the
 * program list itself (appending to it extends the run); 10 "window";
 * 16 p.
 *
 * Running.  Instructions are taken from the program list in order until
 * its end (read again after every step).  An instruction is a list
 * [k, a1, a2, ...]: register k must hold a function reference, which runs
 * with the argument values a1... taken literally.  Anything else, and any
 * instruction that fails, is skipped (§3.7 step 5) - its effects so far
 * stay, nothing else happens.  Hitting a limit ends the whole run
 * (TURNSTILE_ELIMIT).  Opcode 3 ends the run with the token; running off
 * the end gives TURNSTILE_ENOTOKEN.
 *
 * Opcodes (a0, a1... are the argument values; R[x] is the register whose
 * key is x; "fails" = the instruction is skipped):
 *   1  XOR   R[a0] = to_str(R[a0]) XOR to_str(R[a1]), byte by byte, the key
 *            repeating; an empty key fails.
 *   2  SET   R[a0] = a1.
 *   3  FINISH token = base64(to_str(a0)) (a0 absent: undefined); stop.
 *   5  ADD   R[a0] a list: append R[a1].  Both numbers: R[a0] += R[a1].
 *            Otherwise R[a0] = to_str(R[a0]) + to_str(R[a1]).
 *   6, 24 PROP  R[a0] = R[a1] "." R[a2] for two strings, and
 *            "window.document.location" becomes "https://chatgpt.com/";
 *            a map and a string: the member (or undefined); a list and a
 *            non-negative integer: the element (or undefined); else fails.
 *   7  CALL  call R[a0] with R[a1], R[a2]...; the result is dropped.
 *   8  COPY  R[a0] = R[a1].
 *   14 PARSE R[a0] = JSON.parse(to_str(R[a1])); bad JSON fails.
 *   15 STRINGIFY R[a0] = JSON.stringify(R[a1]) (undefined for undefined
 *            or a function).
 *   17 CALLSET R[a0] = call R[a1] with R[a2], R[a3]...
 *   18 ATOB  R[a0] = atob(to_str(R[a1])) (a1 absent: R[a0]); bad base64
 *            fails.
 *   19 BTOA  R[a0] = btoa(to_str(R[a1])) (a1 absent: R[a0]).
 *   20 IFEQ  if R[a0] === R[a1]: call R[a2] with R[a3]...
 *   21 NOP.
 *   23 IFDEF if R[a0] is not undefined/null: call R[a1] with R[a2]...
 * Missing arguments fail; extra ones are ignored.  === compares numbers
 * numerically, strings by bytes, lists and maps by identity, function
 * references by opcode.
 *
 * Calls.  A function reference runs its opcode on the call's argument
 * values and returns undefined.  Strings name browser functions:
 *   window.performance.now     elapsed ms (opts->now)
 *   window.Math.random         a double in [0,1) (opts->random)
 *   window.Object.create       a new empty map
 *   window.Object.keys(x)      x "window.localStorage": a new list of the
 *                              7 names in turnstile_local_storage_keys;
 *                              x a map: a new list of its keys
 *   window.Reflect.set(m,k,v)  m[to_str(k)] = v (m must be a map); true
 * Anything else fails.
 *
 * to_str (§3.7 step 4): undefined "undefined", null "null", booleans
 * "true"/"false", numbers as JS Number#toString, maps "[object Object]",
 * function references "function () { [native code] }", lists their
 * elements joined with "," (undefined and null as ""), strings themselves
 * except the names of browser objects: "window" "[object Window]",
 * "window.document" "[object HTMLDocument]", "window.Math" "[object Math]"
 * and the like, "window.Math.random" "function random() { [native code] }"
 * and the like (the table is in turnstile.c and turnstile.py).
 * JSON.stringify is JS's: compact, strings escaped as JS does (", \, \b \f
 * \n \r \t, other controls \u00xx, everything else raw), non-finite numbers
 * null, undefined/function elements null in lists and left out of maps.
 *
 * Limits (TURNSTILE_MAX_*) and work units.  Every step (instruction fetched
 * or call made) counts toward MAX_STEPS.  Work counts roughly bytes: each
 * string that an operation builds (to_str of a non-string, concatenation,
 * XOR, property path, base64, JSON text), JSON text parsed, ELEM_COST per
 * list/map element created, the key length of map accesses, one unit per
 * instruction argument, one per map entry JSON.stringify visits, and the
 * length of strings compared equal in size.  A program cannot loop doing
 * work: only appends to register 9 extend a run, one per executed append,
 * so MAX_STEPS bounds everything else.
 * Memory is bounded by the work limit plus the input size.
 */
#ifndef TURNSTILE_H
#define TURNSTILE_H

#include <stddef.h>

#define TURNSTILE_MAX_DX	(1536UL * 1024)	/* chars of dx */
#define TURNSTILE_MAX_P		(64UL * 1024)	/* bytes of p */
#define TURNSTILE_MAX_STR	(1UL << 20)	/* bytes of any string */
#define TURNSTILE_MAX_LIST	65536UL		/* list elements */
#define TURNSTILE_MAX_MAP	4096UL		/* map entries */
#define TURNSTILE_MAX_REGS	4096UL		/* registers in use */
#define TURNSTILE_MAX_DEPTH	32U		/* JSON, to_str, calls */
#define TURNSTILE_MAX_STEPS	100000UL	/* instructions + calls */
#define TURNSTILE_MAX_WORK	(1UL << 24)	/* work units */
#define TURNSTILE_ELEM_COST	16UL		/* work per element */

#define TURNSTILE_NLOCAL_STORAGE 7

enum turnstile_err {
	TURNSTILE_OK = 0,
	TURNSTILE_EBADINPUT,	/* NULL/empty p, dx not base64, not a JSON array */
	TURNSTILE_ENOMEM,	/* allocation failed */
	TURNSTILE_ELIMIT,	/* a TURNSTILE_MAX_* limit was hit */
	TURNSTILE_ENOTOKEN,	/* the program ended without opcode 3 */
};

/* The two non-deterministic browser functions.  NULL members: the
 * monotonic clock in ms since the solve began, and OpenSSL RAND_bytes. */
struct turnstile_opts {
	double	(*now)(void *ctx);	/* window.performance.now */
	double	(*random)(void *ctx);	/* window.Math.random, [0,1) */
	void	 *ctx;
};

/* Counters of a run (filled on success and on failure). */
struct turnstile_stats {
	unsigned long	steps;		/* instructions fetched + calls */
	unsigned long	skipped;	/* instructions that failed */
	unsigned long	work;		/* work units */
};

/*
 * Solve dx (NUL-terminated base64) with p (the requirements token, "gAAAAAC
 * ...").  On TURNSTILE_OK *out_token is a malloc'd NUL-terminated token.
 * On error *out_token is NULL and err (if errsz > 0) holds a one-line
 * reason.  Thread-safe and reentrant.
 */
enum turnstile_err	 turnstile_solve(const char *dx_b64, const char *p,
			    char **out_token, char *err, size_t errsz);

/* The same with explicit lengths, browser-function hooks (opts may be
 * NULL) and counters (stats may be NULL). */
enum turnstile_err	 turnstile_solve_ex(const char *dx, size_t dxlen,
			    const char *p, size_t plen,
			    const struct turnstile_opts *opts, char **out_token,
			    struct turnstile_stats *stats, char *err,
			    size_t errsz);

const char		*turnstile_strerror(enum turnstile_err err);

/* Object.keys(window.localStorage); identical in turnstile.py. */
extern const char *const turnstile_local_storage_keys[TURNSTILE_NLOCAL_STORAGE];

#endif
