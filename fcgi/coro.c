/*
 * Coroutines (see coro.h), switched by fcgi/coro_switch.c.  Each has a
 * stack of its own in an anonymous mapping with a guard page below it.
 * A coroutine is run by one thread at a time but may continue on
 * another after a park, so nothing here keeps a thread-local across a
 * park, and the AddressSanitizer is told of every stack switch.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fcgi/coro.h"
#include "fcgi/coro_switch.h"
#include "fcgi/evloop.h"
#include "fcgi/log.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define CORO_ASAN 1
#else
#define CORO_ASAN 0
#endif

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#define CORO_VG_REGISTER(lo, hi)	VALGRIND_STACK_REGISTER(lo, hi)
#define CORO_VG_DEREGISTER(id)		VALGRIND_STACK_DEREGISTER(id)
#else
#define CORO_VG_REGISTER(lo, hi)	0
#define CORO_VG_DEREGISTER(id)		((void)(id))
#endif

#define CORO_STACK	(512 * 1024)
#define CORO_GUARD	4096

enum co_phase { CO_IDLE, CO_RUNNING, CO_PARKING, CO_PARKED, CO_DONE };

struct coro {
	struct coro_ctx			 ctx;
	struct coro_ctx			*sched;	/* the thread that runs it */
	char				*map;	/* guard page + stack */
	size_t				 map_len;
	enum co_phase			 phase;
	void				(*fn)(void *);
	void				*arg;
	const struct coro_park_ops	*ops;
	void				*ops_ctx;
	void				(*start)(void *);
	void				*start_arg;
	struct evloop_job		 job;
	struct coro			*next;	/* the resume queue */
	void				*local[CORO_SLOT__MAX];
	/* the sanitizer's view of the stack we switch back to */
	const void			*from_bottom;
	size_t				 from_size;
	void				*fake;
	unsigned			 vg_id;	/* valgrind's name for it */
};

static __thread struct coro	*current;
static void			(*slot_dtor[CORO_SLOT__MAX])(void *);
static atomic_long		 in_flight;

/* The resume threads' queue. */
static pthread_mutex_t		 rq_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 rq_cv = PTHREAD_COND_INITIALIZER;
static struct coro		*rq_head, *rq_tail;
static int			 rq_stop;
static pthread_t		*rq_tids;
static long			 rq_n;
static void			(*rq_done)(struct coro *, void *);

/*
 * Stack switches, told to the sanitizer: start before the switch
 * (NULL save when the stack being left is finished), finish after.
 */
static void
asan_start(void **save, const void *bottom, size_t size)
{
#if CORO_ASAN
	__sanitizer_start_switch_fiber(save, bottom, size);
#else
	(void)save; (void)bottom; (void)size;
#endif
}

static void
asan_finish(void *save, const void **bottom, size_t *size)
{
#if CORO_ASAN
	__sanitizer_finish_switch_fiber(save, bottom, size);
#else
	(void)save; (void)bottom; (void)size;
#endif
}

/*
 * No switch of ours passes through the sanitizer's swapcontext hook, so
 * a stack it may have seen frames on is cleared by hand when it is made
 * and before it is unmapped (a parked coroutine freed at shutdown).
 */
static void
asan_clear(struct coro *co)
{
#if CORO_ASAN
	__asan_unpoison_memory_region(co->map + CORO_GUARD, CORO_STACK);
#else
	(void)co;
#endif
}

struct coro *
coro_new(void)
{
	struct coro *co;

	if ((co = calloc(1, sizeof(*co))) == NULL)
		return NULL;
	co->map_len = CORO_STACK + CORO_GUARD;
	co->map = mmap(NULL, co->map_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (co->map == MAP_FAILED) {
		free(co);
		return NULL;
	}
	/* stacks grow down: the guard page is the lowest */
	if (mprotect(co->map, CORO_GUARD, PROT_NONE) < 0) {
		munmap(co->map, co->map_len);
		free(co);
		return NULL;
	}
	asan_clear(co);
	co->phase = CO_IDLE;
	co->vg_id = CORO_VG_REGISTER(co->map + CORO_GUARD,
	    co->map + co->map_len);
	return co;
}

void
coro_free(struct coro *co)
{
	int i;

	if (co == NULL)
		return;
	for (i = 0; i < CORO_SLOT__MAX; i++)
		if (co->local[i] != NULL && slot_dtor[i] != NULL)
			slot_dtor[i](co->local[i]);
	CORO_VG_DEREGISTER(co->vg_id);
	asan_clear(co);
	munmap(co->map, co->map_len);
	free(co);
}

void
coro_set_ops(struct coro *co, const struct coro_park_ops *ops, void *ctx)
{
	co->ops = ops;
	co->ops_ctx = ctx;
}

struct coro *
coro_self(void)
{
	return current;
}

void **
coro_local(enum coro_slot s)
{
	return current != NULL ? &current->local[s] : NULL;
}

void
coro_local_dtor(enum coro_slot s, void (*dtor)(void *))
{
	slot_dtor[s] = dtor;
}

long
coro_in_flight(void)
{
	return atomic_load(&in_flight);
}

/* On the coroutine: back to the thread that switched in. */
static void
to_sched(struct coro *co, int finished)
{
	asan_start(finished ? NULL : &co->fake, co->from_bottom, co->from_size);
	coro_ctx_swap(&co->ctx, co->sched);
	/* resumed, perhaps on another thread */
	asan_finish(co->fake, &co->from_bottom, &co->from_size);
}

static void
entry(void *arg)
{
	struct coro *co = arg;

	asan_finish(NULL, &co->from_bottom, &co->from_size);
	co->fn(co->arg);
	co->phase = CO_DONE;
	asan_start(NULL, co->from_bottom, co->from_size);
	/* for good: what this saves is never switched to */
	coro_ctx_swap(&co->ctx, co->sched);
}

static void park_go(void *);
static void trim_stack(struct coro *);

/* On the thread: into co until it returns or parks. */
static enum coro_state
switch_in(struct coro *co)
{
	struct coro_ctx here;
	void *fake = NULL;
	struct coro *prev = current;

	/* under ucontext the sanitizer reads the target's uc_stack: none */
	memset(&here, 0, sizeof(here));
	co->sched = &here;
	current = co;
	co->phase = CO_RUNNING;
	asan_start(&fake, co->map + CORO_GUARD, CORO_STACK);
	coro_ctx_swap(&here, &co->ctx);
	asan_finish(fake, NULL, NULL);
	current = prev;
	if (co->phase == CO_PARKING) {
		co->phase = CO_PARKED;
		trim_stack(co);
		atomic_fetch_add(&in_flight, 1);
		/* only now, off its stack, may the loop see it */
		evloop_post(&co->job, park_go, co);
		return CORO_PARKED;
	}
	return CORO_DONE;
}

enum coro_state
coro_run(struct coro *co, void (*fn)(void *), void *arg)
{
	co->fn = fn;
	co->arg = arg;
	if (coro_ctx_make(&co->ctx, co->map + CORO_GUARD, CORO_STACK, entry,
	    co) < 0)
		return (fn(arg), CORO_DONE);
	return switch_in(co);
}

int
coro_parkable(void)
{
	return current != NULL && current->ops != NULL && evloop_running() &&
	    rq_n > 0;
}

/*
 * On the thread, once co parked: its stack below the saved stack pointer
 * is dead until it resumes, so those pages go back to the system rather
 * than stay resident for the whole stream (BENCHMARKS.md §20).  Not
 * under ASan, which keeps its own books on the stack.
 */
static void
trim_stack(struct coro *co)
{
#if !CORO_ASAN
	uintptr_t lo = (uintptr_t)(co->map + CORO_GUARD);
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t sp = (uintptr_t)coro_ctx_sp(&co->ctx);
	/* the page holding sp stays: the frames above it are live */
	uintptr_t end = sp & ~(pg - 1);

	if (sp == 0 || end <= lo || end > lo + CORO_STACK)
		return;
	madvise((void *)lo, end - lo, MADV_DONTNEED);
	/* how deep it parked: every 4 KiB is a page the stream keeps
	 * (tests/integration/test_streams.py holds ChatGPT's to one) */
	log_debug("coro: parked with %lu bytes of stack in use",
	    (unsigned long)(lo + CORO_STACK - sp));
#else
	(void)co;
#endif
}

int
coro_park(void (*start)(void *), void *arg)
{
	struct coro *co = current;

	if (!coro_parkable())
		return -1;
	if (co->ops->prepare(co->ops_ctx) != 0)
		return -1;
	co->start = start;
	co->start_arg = arg;
	co->phase = CO_PARKING;
	to_sched(co, 0);
	if (co->ops->resumed != NULL)
		co->ops->resumed(co->ops_ctx);
	return 0;
}

struct nap {
	struct coro		*co;
	struct evloop_timer	 t;
	long			 ms;
};

static void
nap_over(void *arg)
{
	coro_wake(((struct nap *)arg)->co);
}

/* The loop thread; the nap lives on the parked coroutine's stack. */
static void
nap_start(void *arg)
{
	struct nap *n = arg;

	n->t.fn = nap_over;
	n->t.arg = n;
	evloop_timer_set(&n->t, n->ms);
}

int
coro_sleep(long ms)
{
	struct nap n;

	memset(&n, 0, sizeof(n));
	n.co = current;
	n.ms = ms;
	return coro_park(nap_start, &n);
}

/* The loop thread: the coroutine is off every thread now. */
static void
park_go(void *arg)
{
	struct coro *co = arg;

	co->ops->arm(co->ops_ctx);
	co->start(co->start_arg);
}

static void
enqueue(void *arg)
{
	struct coro *co = arg;

	pthread_mutex_lock(&rq_mu);
	co->next = NULL;
	if (rq_tail != NULL)
		rq_tail->next = co;
	else
		rq_head = co;
	rq_tail = co;
	pthread_cond_signal(&rq_cv);
	pthread_mutex_unlock(&rq_mu);
}

void
coro_wake(struct coro *co)
{
	co->ops->disarm(co->ops_ctx);
	/* after this turn of the loop (see evloop.c) */
	evloop_post(&co->job, enqueue, co);
}

int
coro_congested(struct coro *co)
{
	return co->ops != NULL && co->ops->congested != NULL &&
	    co->ops->congested(co->ops_ctx);
}

void
coro_on_drain(struct coro *co, void (*fn)(void *), void *arg)
{
	if (co->ops != NULL && co->ops->on_drain != NULL)
		co->ops->on_drain(co->ops_ctx, fn, arg);
}

static void *
resumer_main(void *arg)
{
	struct coro *co;
	enum coro_state st;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&rq_mu);
		while (rq_head == NULL && !rq_stop)
			pthread_cond_wait(&rq_cv, &rq_mu);
		if ((co = rq_head) == NULL) {
			pthread_mutex_unlock(&rq_mu);
			return NULL;
		}
		if ((rq_head = co->next) == NULL)
			rq_tail = NULL;
		pthread_mutex_unlock(&rq_mu);
		st = switch_in(co);
		/* parked again, switch_in() counted it anew */
		atomic_fetch_sub(&in_flight, 1);
		if (st == CORO_DONE)
			rq_done(co, co->arg);
	}
}

int
coro_resumers_start(long n, void (*done)(struct coro *, void *))
{
	pthread_attr_t attr;
	long i;

	if ((rq_tids = calloc((size_t)n, sizeof(*rq_tids))) == NULL)
		return -1;
	rq_done = done;
	rq_stop = 0;
	pthread_attr_init(&attr);
	/* they run coroutines: their own stacks stay shallow */
	pthread_attr_setstacksize(&attr, 128 * 1024);
	for (i = 0; i < n; i++)
		if (pthread_create(&rq_tids[i], &attr, resumer_main, NULL) != 0)
			break;
	pthread_attr_destroy(&attr);
	rq_n = i;
	if (i == 0) {
		free(rq_tids);
		rq_tids = NULL;
		return -1;
	}
	return 0;
}

void
coro_resumers_stop(void)
{
	long i;

	pthread_mutex_lock(&rq_mu);
	rq_stop = 1;
	pthread_cond_broadcast(&rq_cv);
	pthread_mutex_unlock(&rq_mu);
	for (i = 0; i < rq_n; i++)
		pthread_join(rq_tids[i], NULL);
	free(rq_tids);
	rq_tids = NULL;
	rq_n = 0;
}
