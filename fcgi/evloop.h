/*
 * The process's event loop: one thread, epoll, for what parked requests
 * wait on (their upstream sockets, their client connections).  Other
 * threads hand it work through evloop_post(); everything registered
 * with it is then touched on the loop thread only.
 */
#ifndef FCGI_EVLOOP_H
#define FCGI_EVLOOP_H

#include <stdint.h>

/* A descriptor being watched: cb(w, epoll events) on the loop thread. */
struct evloop_watch {
	int	  fd;
	void	(*cb)(struct evloop_watch *, uint32_t events);
	void	 *ctx;
};

/* Work for the loop thread; the caller owns the node until fn runs. */
struct evloop_job {
	void			(*fn)(void *);
	void			 *arg;
	struct evloop_job	 *next;
};

/* A one-shot timer; at most one pending per node. */
struct evloop_timer {
	void			(*fn)(void *);
	void			 *arg;
	long long		  due_ms;	/* CLOCK_MONOTONIC; 0: idle */
	struct evloop_timer	 *next;
};

int	 evloop_start(char *err, size_t errsz);
void	 evloop_stop(void);
/* 1 while the loop thread runs. */
int	 evloop_running(void);
/* 1 when called on the loop thread. */
int	 evloop_is_loop_thread(void);
/* Any thread: fn(arg) soon on the loop thread. */
void	 evloop_post(struct evloop_job *, void (*fn)(void *), void *arg);

/* The loop thread only, from here on. */
int	 evloop_watch(struct evloop_watch *, uint32_t events);
int	 evloop_rewatch(struct evloop_watch *, uint32_t events);
void	 evloop_unwatch(struct evloop_watch *);
/* fn(arg) in ms (0: at the next turn); re-arming moves it. */
void	 evloop_timer_set(struct evloop_timer *, long ms);
void	 evloop_timer_cancel(struct evloop_timer *);
long long evloop_now_ms(void);

#endif
