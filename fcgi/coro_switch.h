/*
 * The machine half of fcgi/coro.c: a saved execution context and the
 * switch between two of them.  On x86-64 the switch is our own (a few
 * pushes and a stack pointer: a parked stream keeps 8 bytes of context
 * rather than a 968-byte ucontext_t, and no signal-mask system call per
 * switch); elsewhere, built with -DCORO_UCONTEXT, or with control-flow
 * protection (__CET__: a shadow stack would refuse our ret into a new
 * stack, glibc's swapcontext knows it), it is ucontext.
 */
#ifndef FCGI_CORO_SWITCH_H
#define FCGI_CORO_SWITCH_H

#include <stddef.h>

#if defined(__x86_64__) && !defined(CORO_UCONTEXT) && !defined(__CET__)
#define CORO_OWN_SWITCH 1
struct coro_ctx {
	void	*sp;	/* the saved registers are on the stack there */
};
#else
#define CORO_OWN_SWITCH 0
#include <ucontext.h>
struct coro_ctx {
	ucontext_t	uc;
};
#endif

/*
 * Makes ctx start fn(arg) on the stack [stack, stack + size) when first
 * switched to.  fn must never return: it ends by switching away for
 * good.  0, or -1.
 */
int	 coro_ctx_make(struct coro_ctx *, void *stack, size_t size,
	    void (*fn)(void *), void *arg);
/* Saves the running context in from and continues to. */
void	 coro_ctx_swap(struct coro_ctx *from, const struct coro_ctx *to);
/* The stack pointer a context switched out at (0 when unknown). */
unsigned long	coro_ctx_sp(const struct coro_ctx *);

#endif
