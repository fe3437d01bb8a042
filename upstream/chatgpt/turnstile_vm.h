/*
 * turnstile_vm.h - shared by the files of the turnstile VM only
 * (turnstile.c, turnstile_value.c, turnstile_json.c, turnstile_ops.c):
 * the value model, the VM state and the helpers one file offers the others.
 * The public interface is turnstile.h.
 *
 * Internal functions return an enum rc: R_OK, R_SKIP (the instruction
 * fails and is skipped), R_HALT (opcode 3 ran), R_LIMIT, R_NOMEM.
 */
#ifndef UPSTREAM_CHATGPT_TURNSTILE_VM_H
#define UPSTREAM_CHATGPT_TURNSTILE_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
#define REG_PROGRAM	9
#define REG_WINDOW	10
#define REG_P		16

#define FUNC_TEXT	"function () { [native code] }"
#define LOCATION	"https://chatgpt.com/"

/* String builder, capped at MAX_STR; the block gets an obj header so that
 * sb_done can adopt it into the run's chain without copying. */
struct sb {
	struct obj	*blk;
	size_t		 len, cap;
};

/* turnstile_value.c */
int	ts_limit(struct vm *vm, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	ts_charge(struct vm *vm, unsigned long n);
int	ts_step(struct vm *vm);
void	ts_objs_free(struct obj *o);
struct val	ts_v_str(const void *s, size_t n);
struct val	ts_v_num(double n);
struct val	ts_v_bool(int b);
int	ts_str_new(struct vm *vm, const void *s, size_t n,
	    struct val *out);
int	ts_sb_put(struct vm *vm, struct sb *b, const void *d, size_t n);
int	ts_sb_putc(struct vm *vm, struct sb *b, char c);
int	ts_sb_puts(struct vm *vm, struct sb *b, const char *s);
void	ts_sb_drop(struct sb *b);
int	ts_sb_done(struct vm *vm, struct sb *b, struct val *out);
uint64_t	ts_mix64(uint64_t x);
struct tlist	*ts_list_new(struct vm *vm);
int	ts_list_push(struct tlist *l, struct val v);
struct tmap	*ts_map_new(struct vm *vm);
struct mentry	*ts_map_find(struct vm *vm, const struct tmap *m,
	    const unsigned char *k, size_t klen, uint64_t *hashp);
int	ts_map_set(struct vm *vm, struct tmap *m, const unsigned char *k,
	    size_t klen, struct val v);
int	ts_key_of(struct val v, double *k);
struct val	ts_reg_get(struct vm *vm, double k);
int	ts_get(struct vm *vm, struct val a, struct val *out);
int	ts_reg_put(struct vm *vm, double k, struct val v, bool force);
int	ts_reg_set(struct vm *vm, double k, struct val v);

/* turnstile_json.c */
bool	ts_str_eq(struct val v, const char *s);
int	ts_to_str(struct vm *vm, struct val v, struct val *out);
int	ts_stringify(struct vm *vm, struct val v, struct val *out);
int	ts_parse_json(struct vm *vm, const unsigned char *s, size_t n,
	    struct val *out);

/* turnstile_ops.c */
int	ts_exec_op(struct vm *vm, int op, const struct val *a, size_t n,
	    unsigned depth);

#endif /* UPSTREAM_CHATGPT_TURNSTILE_VM_H */
