/*
 * Execution contexts for fcgi/coro.c (see coro_switch.h).
 *
 * The x86-64 switch follows the System V ABI: what a callee must keep
 * (rbx, rbp, r12-r15, the MXCSR and x87 control words) is pushed on the
 * stack being left and popped from the one entered; everything else the
 * caller of coro_ctx_swap() already assumes lost.  The signal mask is
 * not switched: every thread that runs coroutines has the same one.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "fcgi/coro_switch.h"

#if CORO_OWN_SWITCH

/*
 * coro_own_swap(void **save, void *to): pushes the callee-saved state,
 * stores the stack pointer in *save, takes to as the stack pointer and
 * pops the same state back: the pops, then the ret, continue wherever
 * to was saved.
 *
 * coro_own_start: where a new context's first ret lands, with the
 * function in r12 and its argument in r13 (see coro_ctx_make).
 */
__asm__(
	".pushsection .text\n"
	".p2align 4\n"
	".type coro_own_swap, @function\n"
	"coro_own_swap:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	subq $8, %rsp\n"
	"	stmxcsr (%rsp)\n"
	"	fnstcw 4(%rsp)\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	ldmxcsr (%rsp)\n"
	"	fldcw 4(%rsp)\n"
	"	addq $8, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size coro_own_swap, .-coro_own_swap\n"
	".p2align 4\n"
	".type coro_own_start, @function\n"
	"coro_own_start:\n"
	"	.cfi_startproc\n"
	"	.cfi_undefined rip\n"	/* backtraces end here */
	"	movq %r13, %rdi\n"
	"	callq *%r12\n"
	"	ud2\n"			/* fn never returns */
	"	.cfi_endproc\n"
	".size coro_own_start, .-coro_own_start\n"
	".popsection\n");

void	coro_own_swap(void **, void *) __attribute__((visibility("hidden")));
void	coro_own_start(void) __attribute__((visibility("hidden")));

/* What coro_own_swap pops, lowest address first. */
struct own_frame {
	uint32_t	 mxcsr;
	uint16_t	 fpucw;
	uint16_t	 pad;
	uint64_t	 r15, r14, r13, r12, rbx, rbp;
	uint64_t	 ret;
};

int
coro_ctx_make(struct coro_ctx *ctx, void *stack, size_t size,
    void (*fn)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	struct own_frame *f;

	if (size < 4 * sizeof(*f))
		return -1;
	/*
	 * 16 bytes stay free at the top, so that after the ret into
	 * coro_own_start the stack pointer is 16-aligned, as a call wants.
	 */
	f = (struct own_frame *)(top - 16 - sizeof(*f));
	memset(f, 0, sizeof(*f));
	f->mxcsr = 0x1f80;	/* the ABI's initial values */
	f->fpucw = 0x037f;
	f->r12 = (uint64_t)(uintptr_t)fn;
	f->r13 = (uint64_t)(uintptr_t)arg;
	f->ret = (uint64_t)(uintptr_t)coro_own_start;
	ctx->sp = f;
	return 0;
}

void
coro_ctx_swap(struct coro_ctx *from, const struct coro_ctx *to)
{
	coro_own_swap(&from->sp, to->sp);
}

unsigned long
coro_ctx_sp(const struct coro_ctx *ctx)
{
	return (unsigned long)(uintptr_t)ctx->sp;
}

#else /* ucontext */

struct start_args {
	void	(*fn)(void *);
	void	*arg;
};

/* makecontext passes ints: a pointer travels in two halves */
static void
uc_start(unsigned hi, unsigned lo)
{
	struct start_args *a = (struct start_args *)(((uintptr_t)hi << 32) |
	    (uintptr_t)lo);

	a->fn(a->arg);
}

int
coro_ctx_make(struct coro_ctx *ctx, void *stack, size_t size,
    void (*fn)(void *), void *arg)
{
	struct start_args *a;
	uintptr_t p;

	if (getcontext(&ctx->uc) < 0 || size < 256)
		return -1;
	/* the arguments live at the top of the new stack itself */
	a = (struct start_args *)(((uintptr_t)stack + size - sizeof(*a)) &
	    ~(uintptr_t)15);
	a->fn = fn;
	a->arg = arg;
	p = (uintptr_t)a;
	ctx->uc.uc_stack.ss_sp = stack;
	ctx->uc.uc_stack.ss_size = (size_t)((uintptr_t)a - (uintptr_t)stack);
	ctx->uc.uc_link = NULL;
	makecontext(&ctx->uc, (void (*)(void))uc_start, 2,
	    (unsigned)((uint64_t)p >> 32), (unsigned)(p & 0xffffffffu));
	return 0;
}

void
coro_ctx_swap(struct coro_ctx *from, const struct coro_ctx *to)
{
	swapcontext(&from->uc, &to->uc);
}

unsigned long
coro_ctx_sp(const struct coro_ctx *ctx)
{
#if defined(__x86_64__)
	return (unsigned long)ctx->uc.uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
	return (unsigned long)ctx->uc.uc_mcontext.sp;
#else
	(void)ctx;
	return 0;
#endif
}

#endif
