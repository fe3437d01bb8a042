/*
 * Process model: T threads each blocked in FCGX_Accept_r on one listening
 * socket; each request runs on a coroutine of its own (fcgi/coro.h).  A
 * request whose upstream answer streams parks: its thread goes back to
 * accept, the event loop (fcgi/evloop.h) drives its transfer and its
 * output, and one of T resume threads finishes it.  The main thread only
 * waits for a signal; on SIGTERM/SIGINT it stops new accepts, gives
 * in-flight requests (parked ones too) CHAT2API_GRACE seconds, and
 * exits.  Idle threads are woken out of accept() with SIGUSR2 (installed
 * without SA_RESTART); busy ones are never signalled, so a stream's
 * writes are not interrupted.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi/coro.h"
#include "fcgi/evloop.h"
#include "fcgi/handle.h"
#include "fcgi/io.h"
#include "fcgi/io_framed.h"
#include "fcgi/log.h"
#include "fcgi/server.h"

#define LISTEN_BACKLOG	1024
#define WORKER_STACK	(512 * 1024)
/* Threads that finish parked requests: their work after a stream is short. */
#define RESUMERS_MAX	256
/* Finished request contexts kept for the next ones (warm), at most. */
#define RCTX_KEEP	64

/* One request's life: its FastCGI request, arena and coroutine. */
struct rctx {
	FCGX_Request		 fr;
	struct arena		 arena;
	struct req		 r;
	struct framed		 fo;
	struct coro		*co;
	int			 parked;	/* writes through fo now */
	struct rctx		*next;
};

/* Nothing parked this long after streams: their memory goes back. */
#define TRIM_IDLE_MS	10000

static pthread_mutex_t	 pool_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rctx	*pool;
static long		 pool_n;
static atomic_int	 parked_since_trim;
static struct evloop_timer trim_timer;
static struct evloop_job trim_job;

struct worker {
	pthread_t		 tid;
	atomic_int		 in_accept;
	atomic_int		 done;
	int			 started;
	const struct config	*cfg;
	struct store		*store;
	int			 listen_fd;
};

static atomic_int shutting_down;

static void
wake_handler(int sig)
{
	(void)sig;
}

static int
listen_unix(const char *path, char *err, size_t errsz)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd = -1, probe = -1;
	const char *act;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errsz, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		act = "probing the existing socket";
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errsz, "%s exists and is not a socket",
			    path);
			return -1;
		}
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto fail;
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			snprintf(err, errsz, "refusing to steal %s: another "
			    "process is listening on it", path);
			return -1;
		}
		close(probe);
		act = "removing the stale socket";
		if (unlink(path) < 0)
			goto fail;
	}
	act = "creating the socket";
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	act = "binding";
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	/* Group access for the front server; never world-writable. */
	act = "setting the socket mode";
	if (chmod(path, 0660) < 0)
		goto fail;
	act = "listening";
	if (listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errsz, "%s %s: %s", act, path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
listen_tcp(const char *spec, char *err, size_t errsz)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], *port;
	int fd = -1, one = 1, rc;

	if (strlen(spec) >= sizeof(host)) {
		snprintf(err, errsz, "address too long");
		return -1;
	}
	strcpy(host, spec);
	if ((port = strrchr(host, ':')) == NULL || port[1] == '\0') {
		snprintf(err, errsz, "--listen accepts unix:PATH or HOST:PORT");
		return -1;
	}
	*port++ = '\0';
	if (host[0] == '[' && port[-2] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0) {
		snprintf(err, errsz, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		snprintf(err, errsz, "cannot listen on %s: %s", spec,
		    strerror(errno));
	freeaddrinfo(res);
	return fd;
}

int
server_listen(const char *spec, char *err, size_t errsz)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(spec + 5, err, errsz);
	if (spec[0] == '/')
		return listen_unix(spec, err, errsz);
	return listen_tcp(spec, err, errsz);
}

static int
park_prepare(void *u)
{
	struct rctx *c = u;

	if (framed_take(&c->fo, &c->fr) < 0)
		return -1;
	c->parked = 1;
	atomic_store(&parked_since_trim, 1);
	c->r.io = &io_framed;
	c->r.io_ctx = &c->fo;
	return 0;
}

static void
park_arm(void *u)
{
	framed_arm(&((struct rctx *)u)->fo);
}

static void
park_disarm(void *u)
{
	framed_disarm(&((struct rctx *)u)->fo);
}

static int
park_congested(void *u)
{
	return framed_congested(&((struct rctx *)u)->fo);
}

static void
park_on_drain(void *u, void (*fn)(void *), void *arg)
{
	framed_on_drain(&((struct rctx *)u)->fo, fn, arg);
}

static const struct coro_park_ops park_ops = {
	park_prepare, park_arm, park_disarm, NULL, park_congested,
	park_on_drain
};

static void
rctx_free(struct rctx *c)
{
	/* a kept connection of a context that goes is closed */
	FCGX_Free(&c->fr, 1);
	framed_free(&c->fo);
	arena_free(&c->arena);
	coro_free(c->co);
	free(c);
}

static struct rctx *
rctx_get(int listen_fd)
{
	struct rctx *c;

	/* one listening socket per process: every context fits */
	pthread_mutex_lock(&pool_mu);
	if ((c = pool) != NULL) {
		pool = c->next;
		pool_n--;
	}
	pthread_mutex_unlock(&pool_mu);
	if (c != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (FCGX_InitRequest(&c->fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) !=
	    0) {
		free(c);
		return NULL;
	}
	arena_init(&c->arena, 0);
	framed_free(&c->fo);
	/* without a coroutine the request runs on its thread, unparked */
	if ((c->co = coro_new()) != NULL)
		coro_set_ops(c->co, &park_ops, c);
	return c;
}

static void
rctx_put(struct rctx *c)
{
	pthread_mutex_lock(&pool_mu);
	if (pool_n < RCTX_KEEP) {
		c->next = pool;
		pool = c;
		pool_n++;
		c = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	if (c != NULL)
		rctx_free(c);
}

static void
rctx_drain_pool(void)
{
	struct rctx *c;

	pthread_mutex_lock(&pool_mu);
	while ((c = pool) != NULL) {
		pool = c->next;
		rctx_free(c);
	}
	pool_n = 0;
	pthread_mutex_unlock(&pool_mu);
}

/*
 * The loop thread, every TRIM_IDLE_MS: once streams have come and gone
 * and none is parked, malloc's free pages go back to the system (a burst
 * of 2,000 streams would otherwise keep ~100 MB for good).  Not after
 * every stream: that tripled the CPU per event (BENCHMARKS.md §20).
 */
static void
trim_tick(void *arg)
{
	(void)arg;
	if (coro_in_flight() == 0 && atomic_exchange(&parked_since_trim, 0))
		malloc_trim(0);
	evloop_timer_set(&trim_timer, TRIM_IDLE_MS);
}

static void
trim_start(void *arg)
{
	(void)arg;
	trim_timer.fn = trim_tick;
	evloop_timer_set(&trim_timer, TRIM_IDLE_MS);
}

/* The request, on its coroutine, to its end. */
static void
request_main(void *u)
{
	struct rctx *c = u;

	fcgi_handle(&c->r);
	if (c->parked)
		(void)framed_end(&c->fo);	/* and closes the connection */
	FCGX_Finish_r(&c->fr);
	if (c->r.after != NULL)
		c->r.after(c->r.after_ctx);
	arena_reset(&c->arena);
	framed_free(&c->fo);
}

/* A resume thread: a parked request has finished there. */
static void
request_done(struct coro *co, void *arg)
{
	(void)co;
	rctx_put(arg);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct rctx *c = NULL;
	sigset_t set;
	int rc, errors = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!atomic_load(&shutting_down)) {
		if (c == NULL && (c = rctx_get(w->listen_fd)) == NULL) {
			log_error("out of memory for a request");
			usleep(100 * 1000);
			continue;
		}
		atomic_store(&w->in_accept, 1);
		rc = FCGX_Accept_r(&c->fr);
		atomic_store(&w->in_accept, 0);
		if (rc < 0) {
			if (atomic_load(&shutting_down))
				break;
			if (rc == -EINTR)
				continue;
			/* A broken listener would spin: back off. */
			if (++errors % 100 == 1)
				log_warn("accept failed: %s", strerror(-rc));
			usleep(errors > 10 ? 100 * 1000 : 1000);
			continue;
		}
		errors = 0;
		(void)framed_params(&c->fo, &c->fr);
		memset(&c->r, 0, sizeof(c->r));
		c->r.io = &io_fcgi;
		c->r.io_ctx = &c->fr;
		c->r.arena = &c->arena;
		c->r.cfg = w->cfg;
		c->r.store = w->store;
		c->parked = 0;
		if (c->co == NULL)
			request_main(c);
		else if (coro_run(c->co, request_main, c) == CORO_PARKED)
			c = NULL;	/* the loop's now, then a resumer's */
	}
	if (c != NULL)
		rctx_free(c);
	atomic_store(&w->done, 1);
	return NULL;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
server_run_fcgi(const struct config *cfg, struct store *st, int listen_fd)
{
	struct worker *w;
	struct sigaction sa;
	pthread_attr_t attr;
	sigset_t set;
	long i, nthreads = cfg->threads, busy;
	long long deadline;
	char err[256];
	int sig = 0, ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_handler;	/* no SA_RESTART: accept() returns */
	sigaction(SIGUSR2, &sa, NULL);

	/* Workers inherit this mask; only the main thread takes signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if ((w = calloc((size_t)nthreads, sizeof(*w))) == NULL) {
		log_error("out of memory for %ld workers", nthreads);
		return 1;
	}
	/* without them nothing parks: every request keeps its thread */
	if (evloop_start(err, sizeof(err)) < 0)
		log_warn("%s: streams will hold a thread each", err);
	else if (coro_resumers_start(nthreads < RESUMERS_MAX ? nthreads :
	    RESUMERS_MAX, request_done) < 0) {
		log_warn("cannot start resume threads: streams will hold a "
		    "thread each");
		evloop_stop();
	} else
		evloop_post(&trim_job, trim_start, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	for (i = 0; i < nthreads; i++) {
		w[i].cfg = cfg;
		w[i].store = st;
		w[i].listen_fd = listen_fd;
		if (pthread_create(&w[i].tid, &attr, worker_main, &w[i]) != 0) {
			log_error("cannot start worker thread %ld", i);
			break;
		}
		w[i].started = 1;
	}
	pthread_attr_destroy(&attr);
	if (i == 0) {
		free(w);
		return 1;
	}
	log_info("serving FastCGI with %ld threads", i);

	sigdelset(&set, SIGUSR2);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		log_info("SIGHUP ignored (configuration is read at start)");
	log_info("signal %d: finishing in-flight requests (grace %lds)", sig,
	    cfg->grace);
	atomic_store(&shutting_down, 1);
	FCGX_ShutdownPending();
	deadline = mono_ms() + cfg->grace * 1000;
	for (;;) {
		busy = 0;
		for (i = 0; i < nthreads; i++) {
			if (!w[i].started || atomic_load(&w[i].done))
				continue;
			if (atomic_load(&w[i].in_accept))
				pthread_kill(w[i].tid, SIGUSR2);
			else
				busy++;
		}
		busy += coro_in_flight();
		for (i = 0; i < nthreads; i++)
			if (w[i].started && !atomic_load(&w[i].done))
				break;
		if (i == nthreads && coro_in_flight() == 0)
			break;
		if (mono_ms() >= deadline) {
			log_warn("grace period over with %ld request(s) in "
			    "flight", busy);
			ret = 1;
			break;
		}
		usleep(20 * 1000);
	}
	if (ret == 0) {
		for (i = 0; i < nthreads; i++)
			if (w[i].started)
				pthread_join(w[i].tid, NULL);
		coro_resumers_stop();
		evloop_stop();
		rctx_drain_pool();
	}
	log_info("stopped");
	/* Threads still streaming are abandoned: don't free what they use. */
	if (ret == 0)
		free(w);
	return ret;
}

int
server_run_cgi(const struct config *cfg, struct store *st)
{
	struct arena arena;
	struct req r;

	arena_init(&arena, 0);
	memset(&r, 0, sizeof(r));
	r.io = &io_cgi;
	r.arena = &arena;
	r.cfg = cfg;
	r.store = st;
	fcgi_handle(&r);
	/* The web server sees the end of the response at our stdout's. */
	fflush(stdout);
	if (r.after != NULL) {
		fclose(stdout);
		r.after(r.after_ctx);
	}
	arena_free(&arena);
	return 0;
}
