/*
 * Coroutines and the event loop (fcgi/coro.c, fcgi/evloop.c): a request
 * that parks leaves its thread, the loop owns it until it is woken, a
 * resume thread finishes it; the park hooks run where they must; values
 * local to a coroutine stay with it, and so do its registers and its
 * floating-point modes; a parked coroutine's dead stack pages are given
 * back.  Built twice: with our own x86-64 switch and with ucontext.
 */
#include "config.h"

#include <fenv.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fcgi/coro.h"
#include "fcgi/evloop.h"
#include "coro_fixture.h"
#include "unit.h"

struct probe {
	int		 refuse;	/* prepare() says no */
	atomic_int	 prepared, armed, disarmed, resumed;
	atomic_int	 arm_on_loop, disarm_on_loop;
	long		 ran_on, finished_on;	/* kernel thread ids */
	int		 value_after;	/* a stack value read after resuming */
	int		 parked_rc;
	struct evloop_timer t;
	struct coro	*co;
	uintptr_t	 deep_addr;	/* an address deep in the stack */
	int		 deep_resident;	/* seen from the loop while parked */
};

/*
 * Not pthread_self(): it is declared const, so a compiler may reuse its
 * value across the park, which is what a coroutine must never trust.
 */
static long
tid(void)
{
	return (long)syscall(SYS_gettid);
}

static int
p_prepare(void *u)
{
	struct probe *p = u;

	p->prepared++;
	return p->refuse ? -1 : 0;
}

static void
p_arm(void *u)
{
	struct probe *p = u;

	p->armed++;
	p->arm_on_loop = evloop_is_loop_thread();
}

static void
p_disarm(void *u)
{
	struct probe *p = u;

	p->disarmed++;
	p->disarm_on_loop = evloop_is_loop_thread();
}

static void
p_resumed(void *u)
{
	((struct probe *)u)->resumed++;
}

static const struct coro_park_ops ops = {
	p_prepare, p_arm, p_disarm, p_resumed, NULL, NULL
};

static void
wake_later(void *arg)
{
	struct probe *p = arg;

	coro_wake(p->co);
}

/* The loop thread, the coroutine parked: wake it in 20 ms. */
static void
start(void *arg)
{
	struct probe *p = arg;
	unsigned char v = 0;

	if (p->deep_addr != 0)
		p->deep_resident = mincore((void *)(p->deep_addr &
		    ~(uintptr_t)4095), 4096, &v) == 0 && (v & 1);
	p->t.fn = wake_later;
	p->t.arg = p;
	evloop_timer_set(&p->t, 20);
}

static void
body(void *arg)
{
	struct probe *p = arg;
	volatile int on_stack = 4242;

	p->ran_on = tid();
	ck_assert_ptr_eq(coro_self(), p->co);
	p->parked_rc = coro_park(start, p);
	p->value_after = on_stack;
	p->finished_on = tid();
}

START_TEST(runs_to_the_end_without_parking)
{
	struct coro *co = coro_new();
	struct probe p;

	memset(&p, 0, sizeof(p));
	p.refuse = 1;
	p.co = co;
	coro_set_ops(co, &ops, &p);
	ck_assert_ptr_null(coro_self());
	ck_assert_int_eq(coro_run(co, body, &p), CORO_DONE);
	ck_assert_ptr_null(coro_self());
	ck_assert_int_eq(p.parked_rc, -1);	/* it could not: went on */
	ck_assert_int_eq(p.prepared, 1);
	ck_assert_int_eq(p.armed, 0);
	ck_assert_int_eq(p.value_after, 4242);
	ck_assert_int_eq(p.ran_on, tid());
	ck_assert_int_eq(p.finished_on, tid());
	coro_free(co);
}
END_TEST

START_TEST(parks_and_finishes_on_a_resume_thread)
{
	struct coro *co = coro_new();
	struct probe p;

	memset(&p, 0, sizeof(p));
	p.co = co;
	coro_set_ops(co, &ops, &p);
	ck_assert_int_eq(coro_run(co, body, &p), CORO_PARKED);
	/* this thread is free while the request waits */
	coro_fixture_wait(1);
	ck_assert_int_eq(p.parked_rc, 0);
	ck_assert_int_eq(p.value_after, 4242);	/* its stack came back */
	ck_assert_int_eq(p.prepared, 1);
	ck_assert_int_eq(p.armed, 1);
	ck_assert_int_eq(p.disarmed, 1);
	ck_assert_int_eq(p.resumed, 1);
	ck_assert_int_eq(p.arm_on_loop, 1);
	ck_assert_int_eq(p.disarm_on_loop, 1);
	ck_assert_int_eq(p.ran_on, tid());
	ck_assert_int_ne(p.finished_on, tid());
	ck_assert_int_eq(coro_in_flight(), 0);
	coro_free(co);
}
END_TEST

START_TEST(nothing_parks_without_ops)
{
	struct coro *co = coro_new();
	struct probe p;

	memset(&p, 0, sizeof(p));
	p.co = co;
	ck_assert_int_eq(coro_run(co, body, &p), CORO_DONE);
	ck_assert_int_eq(p.parked_rc, -1);
	coro_free(co);
}
END_TEST

#define MANY 1000

START_TEST(a_thousand_parked_at_once)
{
	static struct probe p[MANY];
	static struct coro *co[MANY];
	int i;

	memset(p, 0, sizeof(p));
	for (i = 0; i < MANY; i++) {
		ck_assert_ptr_nonnull(co[i] = coro_new());
		p[i].co = co[i];
		coro_set_ops(co[i], &ops, &p[i]);
		ck_assert_int_eq(coro_run(co[i], body, &p[i]), CORO_PARKED);
	}
	coro_fixture_wait(MANY);
	for (i = 0; i < MANY; i++) {
		ck_assert_int_eq(p[i].value_after, 4242);
		ck_assert_int_eq(p[i].disarmed, 1);
		coro_free(co[i]);
	}
	ck_assert_int_eq(coro_in_flight(), 0);
}
END_TEST

static atomic_int freed;

static void
count_free(void *v)
{
	free(v);
	freed++;
}

static void
use_local(void *arg)
{
	void **slot = coro_local(CORO_SLOT_POW);

	ck_assert_ptr_nonnull(slot);
	ck_assert_ptr_null(*slot);	/* each coroutine starts empty */
	*slot = malloc(8);
	*(int *)arg = 1;
}

START_TEST(locals_belong_to_their_coroutine)
{
	struct coro *a = coro_new(), *b = coro_new();
	int ran = 0;

	coro_local_dtor(CORO_SLOT_POW, count_free);
	ck_assert_ptr_null(coro_local(CORO_SLOT_POW));	/* a plain thread */
	ck_assert_int_eq(coro_run(a, use_local, &ran), CORO_DONE);
	ck_assert_int_eq(coro_run(b, use_local, &ran), CORO_DONE);
	ck_assert_int_eq(ran, 1);
	coro_free(a);
	coro_free(b);
	ck_assert_int_eq(freed, 2);
	coro_local_dtor(CORO_SLOT_POW, NULL);
}
END_TEST


/*
 * Values the compiler keeps in callee-saved registers across a park,
 * the rounding mode (MXCSR and x87 control word), and a call that needs
 * a 16-aligned stack (printf of a double) on the coroutine.
 */
struct regs_probe {
	struct probe	 p;
	int		 rounds;
	unsigned long	 sum, want;
	int		 round_kept;	/* FE_UPWARD seen after every park */
	int		 sse_up;	/* an SSE division rounded up */
	char		 printed[32];
};

static unsigned long __attribute__((noinline))
mix(unsigned long a, unsigned long b)
{
	return a * 31 + b;
}

static void
regs_body(void *arg)
{
	struct regs_probe *rp = arg;
	unsigned long a = 1, b = 2, c = 3, d = 5, e = 7, f = 11;
	volatile double one = 1.0, three = 3.0, q;
	int i;

	rp->round_kept = 1;
	(void)fesetround(FE_UPWARD);
	for (i = 0; i < rp->rounds; i++) {
		a = mix(a, b); b = mix(b, c); c = mix(c, d);
		d = mix(d, e); e = mix(e, f); f = mix(f, a);
		if (coro_park(start, &rp->p) != 0)
			return;
		if (fegetround() != FE_UPWARD)
			rp->round_kept = 0;
	}
	rp->sum = a ^ b ^ c ^ d ^ e ^ f;
	q = one / three;	/* MXCSR: a third rounded up, times 3, is > 1 */
	rp->sse_up = q * three > one;
	/* x87 control word, read by printf; and a 16-aligned stack */
	snprintf(rp->printed, sizeof(rp->printed), "%.3f", (double)one / 3);
	(void)fesetround(FE_TONEAREST);
}

START_TEST(registers_and_float_modes_survive_parks)
{
	struct coro *co = coro_new();
	struct regs_probe rp;
	unsigned long a = 1, b = 2, c = 3, d = 5, e = 7, f = 11;
	int i;

	memset(&rp, 0, sizeof(rp));
	rp.rounds = 5;
	for (i = 0; i < rp.rounds; i++) {
		a = mix(a, b); b = mix(b, c); c = mix(c, d);
		d = mix(d, e); e = mix(e, f); f = mix(f, a);
	}
	rp.want = a ^ b ^ c ^ d ^ e ^ f;
	rp.p.co = co;
	coro_set_ops(co, &ops, &rp.p);
	ck_assert_int_eq(coro_run(co, regs_body, &rp), CORO_PARKED);
	/* the coroutine's rounding mode stayed with it */
	ck_assert_int_eq(fegetround(), FE_TONEAREST);
	coro_fixture_wait(1);
	ck_assert_int_eq(rp.p.resumed, rp.rounds);
	ck_assert_uint_eq(rp.sum, rp.want);
	ck_assert_int_eq(rp.round_kept, 1);
	ck_assert_int_eq(rp.sse_up, 1);
	ck_assert_str_eq(rp.printed, "0.334");
	coro_free(co);
}
END_TEST

#if !defined(__SANITIZE_ADDRESS__)
static void __attribute__((noinline))
go_deep(struct probe *p)
{
	volatile char big[64 * 1024];

	memset((char *)big, 1, sizeof(big));
	/* only its address is kept, to ask the kernel about its page */
	p->deep_addr = (uintptr_t)&big[100];
}

static void
deep_then_park(void *arg)
{
	struct probe *p = arg;

	go_deep(p);
	p->parked_rc = coro_park(start, p);
}

START_TEST(parked_stack_pages_are_given_back)
{
	struct coro *co = coro_new();
	struct probe p;

	memset(&p, 0, sizeof(p));
	p.co = co;
	coro_set_ops(co, &ops, &p);
	ck_assert_int_eq(coro_run(co, deep_then_park, &p), CORO_PARKED);
	coro_fixture_wait(1);
	ck_assert_uint_ne(p.deep_addr, 0);
	ck_assert_int_eq(p.deep_resident, 0);
	coro_free(co);
}
END_TEST
#endif

struct napper {
	long	ran_on, woke_on;
	long	slept_ms;
	int	rc;
};

static void
nap_body(void *arg)
{
	struct napper *n = arg;
	long long t0 = evloop_now_ms();

	n->ran_on = tid();
	n->rc = coro_sleep(60);
	n->slept_ms = (long)(evloop_now_ms() - t0);
	n->woke_on = tid();
}

START_TEST(a_nap_parks_on_a_timer)
{
	struct coro *co = coro_new();
	struct probe p;
	struct napper n;

	memset(&p, 0, sizeof(p));
	memset(&n, 0, sizeof(n));
	coro_set_ops(co, &ops, &p);
	ck_assert_int_eq(coro_run(co, nap_body, &n), CORO_PARKED);
	coro_fixture_wait(1);
	ck_assert_int_eq(n.rc, 0);
	ck_assert_int_ge(n.slept_ms, 60);
	ck_assert_int_eq(n.ran_on, tid());
	ck_assert_int_ne(n.woke_on, tid());
	ck_assert_int_eq(p.armed, 1);
	ck_assert_int_eq(p.disarmed, 1);
	coro_free(co);
	/* off a coroutine nothing parks: the caller sleeps itself */
	ck_assert_int_eq(coro_sleep(10), -1);
}
END_TEST

static Suite *
coro_suite(void)
{
	Suite *s = suite_create("coro");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, coro_fixture_start, coro_fixture_stop);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, runs_to_the_end_without_parking);
	tcase_add_test(tc, parks_and_finishes_on_a_resume_thread);
	tcase_add_test(tc, nothing_parks_without_ops);
	tcase_add_test(tc, a_thousand_parked_at_once);
	tcase_add_test(tc, locals_belong_to_their_coroutine);
	tcase_add_test(tc, a_nap_parks_on_a_timer);
	tcase_add_test(tc, registers_and_float_modes_survive_parks);
#if !defined(__SANITIZE_ADDRESS__)
	tcase_add_test(tc, parked_stack_pages_are_given_back);
#endif
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(coro_suite)
