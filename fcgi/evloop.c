/*
 * One loop thread per process (see evloop.h).  Each turn: the ready
 * descriptors, then the timers due, then the posted jobs.  Jobs run
 * between turns on purpose: a job that lets a parked request go on (and
 * so be freed by another thread) never runs while an event of that
 * request's turn is still to be dispatched.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fcgi/evloop.h"
#include "fcgi/log.h"

#define EVLOOP_BATCH	256
#define EVLOOP_STACK	(512 * 1024)

static int			 epfd = -1, wakefd = -1;
static pthread_t		 loop_tid;
static atomic_int		 running, stopping;
static pthread_mutex_t		 jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct evloop_job	*jobs_head, *jobs_tail;
static atomic_int		 jobs_signalled;
static struct evloop_timer	*timers;
static __thread int		 on_loop;
/* Watches removed during the turn: their pending events are stale. */
static struct evloop_watch	**dead;
static size_t			 ndead, dead_cap;

long long
evloop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
evloop_running(void)
{
	return atomic_load(&running);
}

int
evloop_is_loop_thread(void)
{
	return on_loop;
}

void
evloop_post(struct evloop_job *j, void (*fn)(void *), void *arg)
{
	uint64_t one = 1;
	int signal;

	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&jobs_mu);
	if (jobs_tail != NULL)
		jobs_tail->next = j;
	else
		jobs_head = j;
	jobs_tail = j;
	pthread_mutex_unlock(&jobs_mu);
	/* The loop drains the queue after every turn: no wake-up needed. */
	if (on_loop)
		return;
	signal = !atomic_exchange(&jobs_signalled, 1);
	if (signal && write(wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("evloop: cannot wake the loop: %s", strerror(errno));
}

static int
ctl(int op, struct evloop_watch *w, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = w;
	return epoll_ctl(epfd, op, w->fd, &ev);
}

int
evloop_watch(struct evloop_watch *w, uint32_t events)
{
	return ctl(EPOLL_CTL_ADD, w, events);
}

int
evloop_rewatch(struct evloop_watch *w, uint32_t events)
{
	return ctl(EPOLL_CTL_MOD, w, events);
}

void
evloop_unwatch(struct evloop_watch *w)
{
	struct evloop_watch **nd;

	/* The descriptor may be closed already: then epoll dropped it. */
	(void)epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
	if (ndead == dead_cap) {
		size_t ncap = dead_cap ? 2 * dead_cap : 64;
		if ((nd = realloc(dead, ncap * sizeof(*nd))) == NULL) {
			/* cannot remember it: drop the rest of this turn */
			ndead = (size_t)-1;
			return;
		}
		dead = nd;
		dead_cap = ncap;
	}
	if (ndead != (size_t)-1)
		dead[ndead++] = w;
}

static int
is_dead(const struct evloop_watch *w)
{
	size_t i;

	if (ndead == (size_t)-1)
		return 1;
	for (i = 0; i < ndead; i++)
		if (dead[i] == w)
			return 1;
	return 0;
}

void
evloop_timer_cancel(struct evloop_timer *t)
{
	struct evloop_timer **pp;

	for (pp = &timers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	t->due_ms = 0;
	t->next = NULL;
}

void
evloop_timer_set(struct evloop_timer *t, long ms)
{
	evloop_timer_cancel(t);
	t->due_ms = evloop_now_ms() + (ms > 0 ? ms : 0);
	if (t->due_ms == 0)
		t->due_ms = 1;
	t->next = timers;
	timers = t;
}

/* ms until the next timer is due: -1 none, 0 overdue. */
static int
next_timeout(void)
{
	struct evloop_timer *t;
	long long now, min = -1;

	for (t = timers; t != NULL; t = t->next)
		if (min < 0 || t->due_ms < min)
			min = t->due_ms;
	if (min < 0)
		return -1;
	now = evloop_now_ms();
	if (min <= now)
		return 0;
	return min - now > 60000 ? 60000 : (int)(min - now);
}

static void
run_timers(void)
{
	struct evloop_timer *t;
	long long now = evloop_now_ms();

	/* one due timer at a time: a callback may re-arm or cancel others */
	for (;;) {
		for (t = timers; t != NULL; t = t->next)
			if (t->due_ms <= now)
				break;
		if (t == NULL)
			return;
		evloop_timer_cancel(t);
		t->fn(t->arg);
	}
}

static void
run_jobs(void)
{
	struct evloop_job *j, *next;
	uint64_t v;

	for (;;) {
		atomic_store(&jobs_signalled, 0);
		if (read(wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			log_warn("evloop: reading its wake-up: %s",
			    strerror(errno));
		pthread_mutex_lock(&jobs_mu);
		j = jobs_head;
		jobs_head = jobs_tail = NULL;
		pthread_mutex_unlock(&jobs_mu);
		if (j == NULL)
			return;
		for (; j != NULL; j = next) {
			next = j->next;
			j->fn(j->arg);
		}
	}
}

static void *
loop_main(void *arg)
{
	struct epoll_event evs[EVLOOP_BATCH];
	struct evloop_watch *w;
	int i, n;

	(void)arg;
	on_loop = 1;
	while (!atomic_load(&stopping)) {
		n = epoll_wait(epfd, evs, EVLOOP_BATCH, next_timeout());
		if (n < 0 && errno != EINTR) {
			log_error("evloop: epoll_wait: %s", strerror(errno));
			usleep(10000);
		}
		ndead = 0;
		for (i = 0; i < n; i++) {
			if ((w = evs[i].data.ptr) == NULL)
				continue;	/* the wake-up: jobs run below */
			if (!is_dead(w))
				w->cb(w, evs[i].events);
		}
		ndead = 0;
		run_timers();
		run_jobs();
	}
	return NULL;
}

int
evloop_start(char *err, size_t errsz)
{
	struct epoll_event ev;
	pthread_attr_t attr;
	int rc;

	if (atomic_load(&running))
		return 0;
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		snprintf(err, errsz, "event loop: %s", strerror(errno));
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) < 0) {
		snprintf(err, errsz, "event loop: %s", strerror(errno));
		goto fail;
	}
	atomic_store(&stopping, 0);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, EVLOOP_STACK);
	rc = pthread_create(&loop_tid, &attr, loop_main, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		snprintf(err, errsz, "event loop thread: %s", strerror(rc));
		goto fail;
	}
	atomic_store(&running, 1);
	return 0;
fail:
	if (epfd >= 0)
		close(epfd);
	if (wakefd >= 0)
		close(wakefd);
	epfd = wakefd = -1;
	return -1;
}

static void
stop_job(void *arg)
{
	(void)arg;
	atomic_store(&stopping, 1);
}

void
evloop_stop(void)
{
	static struct evloop_job j;

	if (!atomic_load(&running))
		return;
	evloop_post(&j, stop_job, NULL);
	pthread_join(loop_tid, NULL);
	atomic_store(&running, 0);
	close(epfd);
	close(wakefd);
	epfd = wakefd = -1;
	free(dead);
	dead = NULL;
	ndead = dead_cap = 0;
}
