/*
 * Coroutines for requests that wait long on an upstream (BENCHMARKS.md
 * §20).  A worker thread runs each request on a coroutine of its own;
 * when the request's upstream answer streams, the coroutine parks: it
 * leaves its thread (which goes back to accept) and its transfer is
 * driven by the process's event loop (fcgi/evloop.h).  Once the
 * transfer ends, one of the resume threads picks the coroutine up where
 * it parked.  A parked request therefore holds no thread, only its
 * stack pages still in use and its heap.
 *
 * Outside a coroutine (CGI, the command line, tests) nothing parks and
 * every call runs on its thread as before.
 *
 * A function whose frame spans a park may wake up on another thread:
 * it must not keep a thread's values across it (__thread variables,
 * pthread_self() and errno, whose addresses the compiler may reuse).
 * Per-request values that must survive go in coro_local().
 */
#ifndef FCGI_CORO_H
#define FCGI_CORO_H

#include <stddef.h>

struct coro;

/*
 * What a request must do around a park, installed by its owner
 * (fcgi/server.c).  prepare and resumed run on the coroutine; arm and
 * disarm on the loop thread, around the parked transfer.
 */
struct coro_park_ops {
	int	(*prepare)(void *);	/* -1: this request cannot park */
	void	(*arm)(void *);
	void	(*disarm)(void *);
	void	(*resumed)(void *);	/* may be NULL */
	/* 1 while the client side cannot take more output */
	int	(*congested)(void *);
	/* fn(arg) once it can again (on the loop thread); NULL: cancel */
	void	(*on_drain)(void *, void (*fn)(void *), void *arg);
};

enum coro_state {
	CORO_DONE,	/* its function returned */
	CORO_PARKED	/* the loop owns it now; do not touch it */
};

/* Per-coroutine values (per-thread outside one), see coro_local(). */
enum coro_slot {
	CORO_SLOT_HTTP,		/* upstream/http.c: the easy handle */
	CORO_SLOT_POW,		/* upstream/call.c: proof-of-work time */
	CORO_SLOT__MAX
};

/* NULL when out of memory (or address space for the stack). */
struct coro	*coro_new(void);
void		 coro_free(struct coro *);
void		 coro_set_ops(struct coro *, const struct coro_park_ops *,
		    void *ctx);
/* Runs fn(arg) on co from this thread until it returns or parks. */
enum coro_state	 coro_run(struct coro *, void (*fn)(void *), void *arg);
/*
 * With resume threads started, a woken coroutine continues on one of
 * them; done(co, arg of coro_run) runs there once its function returned.
 */
int		 coro_resumers_start(long n, void (*done)(struct coro *,
		    void *));
void		 coro_resumers_stop(void);
/* Coroutines parked, queued or being resumed. */
long		 coro_in_flight(void);

/* The running coroutine, or NULL on a plain thread. */
struct coro	*coro_self(void);
/* 1 when a call here could park (a coroutine, ops set, loop running). */
int		 coro_parkable(void);
/*
 * Parks the running coroutine: start(arg) runs on the loop thread once
 * the coroutine is off its thread, and whatever it starts must end in
 * coro_wake().  0 once resumed; -1 when it could not park (nothing
 * happened: do the work on this thread).
 */
int		 coro_park(void (*start)(void *), void *arg);
/*
 * Parks the running coroutine for ms on a loop timer (a poller between
 * two polls holds no thread).  0 once it woke; -1 when it could not
 * park (then nothing waited: sleep on this thread).
 */
int		 coro_sleep(long ms);
/* From the loop thread: the parked coroutine may continue. */
void		 coro_wake(struct coro *);
/* The client side of co's request, for a parked transfer's pacing. */
int		 coro_congested(struct coro *);
void		 coro_on_drain(struct coro *, void (*fn)(void *), void *arg);

/*
 * The running coroutine's value of slot, initially NULL; NULL outside a
 * coroutine (the caller keeps a per-thread value then).  dtor,
 * registered once per slot, frees a value when its coroutine is freed.
 */
void		**coro_local(enum coro_slot);
void		 coro_local_dtor(enum coro_slot, void (*dtor)(void *));

#endif
