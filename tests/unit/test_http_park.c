/*
 * A streamed upstream answer parks its coroutine (upstream/http.c,
 * upstream/http_multi.c): the thread that started it is free at once,
 * the loop delivers the body in order, the coroutine resumes with the
 * same result a blocking transfer would give (2xx, an error status with
 * its body, a refused connection, a callback that stops it), and a
 * client side that cannot take more pauses the transfer without losing
 * a byte.  The upstream is a small HTTP server on loopback.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fcgi/coro.h"
#include "fcgi/evloop.h"
#include "upstream/http.h"
#include "coro_fixture.h"
#include "unit.h"

#define CHUNKS	50

static int lfd = -1, port;
static pthread_t srv;

/* One connection per answer: "GET /ok" streams CHUNKS lines slowly. */
static void *
serve(void *arg)
{
	char req[2048], line[64];
	int c, i;
	ssize_t n;

	(void)arg;
	while ((c = accept(lfd, NULL, NULL)) >= 0) {
		n = read(c, req, sizeof(req) - 1);
		req[n > 0 ? n : 0] = '\0';
		if (strncmp(req, "GET /fail", 9) == 0) {
			const char *r = "HTTP/1.1 503 Busy\r\nContent-Length: 9\r\n"
			    "Connection: close\r\n\r\nslow down";
			(void)!write(c, r, strlen(r));
		} else {
			const char *h = "HTTP/1.1 200 OK\r\nContent-Type: "
			    "text/event-stream\r\nConnection: close\r\n\r\n";
			(void)!write(c, h, strlen(h));
			for (i = 0; i < CHUNKS; i++) {
				snprintf(line, sizeof(line), "data: %04d\n\n", i);
				if (write(c, line, strlen(line)) < 0)
					break;
				usleep(2000);
			}
		}
		close(c);
	}
	return NULL;
}

struct call {
	const char	*path;
	int		 stop_at;	/* on_data says stop after this many */
	char		 got[CHUNKS * 16];
	size_t		 len;
	int		 calls;
	atomic_int	 on_loop;	/* on_data ran on the loop thread */
	enum up_err	 e;
	long		 status;
	char		 body[64];
	int		 parked_thread_free;
	struct coro	*co;
	int		 congest;	/* report congestion this often */
	atomic_int	 congested_n, drains;
	void		(*drain_fn)(void *);
	void		*drain_arg;
};

static int
on_data(void *u, const char *p, size_t n)
{
	struct call *c = u;

	c->on_loop = evloop_is_loop_thread();
	if (c->len + n < sizeof(c->got)) {
		memcpy(c->got + c->len, p, n);
		c->len += n;
	}
	return ++c->calls == c->stop_at;
}

static void
run(void *arg)
{
	struct call *c = arg;
	struct http_req rq;
	struct http_resp rs;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, c->path);
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.url = url;
	rq.on_data = on_data;
	rq.data_ctx = c;
	c->e = http_do(&rq, &rs);
	c->status = rs.status;
	snprintf(c->body, sizeof(c->body), "%s", rs.body ? rs.body : "");
	http_resp_free(&rs);
}

/* ---- park ops: no client side here, only pacing */

static int op_prepare(void *u) { (void)u; return 0; }
static void op_nop(void *u) { (void)u; }

static void
op_disarm(void *u)
{
	struct call *c = u;

	c->drain_fn = NULL;
}

static int
op_congested(void *u)
{
	struct call *c = u;

	/* every few reads the "client" is full for a moment */
	if (c->congest && c->calls % c->congest == c->congest - 1 &&
	    c->congested_n < c->calls) {
		c->congested_n = c->calls + 1;
		return 1;
	}
	return 0;
}

static struct evloop_timer drain_t;

static void
drain_now(void *u)
{
	struct call *c = u;
	void (*fn)(void *) = c->drain_fn;

	c->drain_fn = NULL;
	c->drains++;
	if (fn != NULL)
		fn(c->drain_arg);
}

static void
op_on_drain(void *u, void (*fn)(void *), void *arg)
{
	struct call *c = u;

	c->drain_fn = fn;
	c->drain_arg = arg;
	if (fn != NULL) {
		drain_t.fn = drain_now;
		drain_t.arg = c;
		evloop_timer_set(&drain_t, 5);
	}
}

static const struct coro_park_ops ops = {
	op_prepare, op_nop, op_disarm, op_nop, op_congested, op_on_drain
};

/* Runs c on a coroutine; 1 when it parked (and then waits for it). */
static int
go(struct call *c)
{
	enum coro_state st;

	c->co = coro_new();
	ck_assert_ptr_nonnull(c->co);
	coro_set_ops(c->co, &ops, c);
	st = coro_run(c->co, run, c);
	if (st == CORO_PARKED)
		coro_fixture_wait(1);
	coro_free(c->co);
	return st == CORO_PARKED;
}

static void
setup(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	/* the server writes on after a client stopped reading */
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(http_global_init(), 0);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	getsockname(lfd, (struct sockaddr *)&a, &al);
	port = ntohs(a.sin_port);
	pthread_create(&srv, NULL, serve, NULL);
	coro_fixture_start();
}

static void
expect_all(const struct call *c)
{
	char want[CHUNKS * 16], line[64];
	size_t n = 0;
	int i;

	for (i = 0; i < CHUNKS; i++) {
		snprintf(line, sizeof(line), "data: %04d\n\n", i);
		memcpy(want + n, line, strlen(line));
		n += strlen(line);
	}
	ck_assert_uint_eq(c->len, n);
	ck_assert(memcmp(c->got, want, n) == 0);
}

START_TEST(a_stream_parks_and_arrives_whole)
{
	static struct call c;

	memset(&c, 0, sizeof(c));
	c.path = "/ok";
	ck_assert_int_eq(go(&c), 1);
	ck_assert_int_eq(c.e, UP_OK);
	ck_assert_int_eq(c.status, 200);
	ck_assert_int_eq(c.on_loop, 1);
	expect_all(&c);
}
END_TEST

START_TEST(an_error_status_keeps_its_body)
{
	static struct call c;

	memset(&c, 0, sizeof(c));
	c.path = "/fail";
	ck_assert_int_eq(go(&c), 1);
	ck_assert_int_eq(c.e, UP_HTTP);
	ck_assert_int_eq(c.status, 503);
	ck_assert_str_eq(c.body, "slow down");
	ck_assert_int_eq(c.calls, 0);
}
END_TEST

START_TEST(the_callback_stops_it)
{
	static struct call c;

	memset(&c, 0, sizeof(c));
	c.path = "/ok";
	c.stop_at = 3;
	ck_assert_int_eq(go(&c), 1);
	ck_assert_int_eq(c.e, UP_ABORTED);
	ck_assert_int_eq(c.calls, 3);
}
END_TEST

START_TEST(a_full_client_pauses_without_loss)
{
	static struct call c;

	memset(&c, 0, sizeof(c));
	c.path = "/ok";
	c.congest = 4;
	ck_assert_int_eq(go(&c), 1);
	ck_assert_int_eq(c.e, UP_OK);
	ck_assert_int_gt(c.drains, 0);
	expect_all(&c);
}
END_TEST

START_TEST(nothing_listening)
{
	static struct call c;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	/* a port just freed: nobody listens there */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &al);
	close(s);
	port = ntohs(a.sin_port);
	memset(&c, 0, sizeof(c));
	c.path = "/ok";
	ck_assert_int_eq(go(&c), 1);
	ck_assert_int_eq(c.e, UP_NETWORK);
}
END_TEST

START_TEST(off_a_coroutine_it_blocks_as_before)
{
	static struct call c;

	memset(&c, 0, sizeof(c));
	c.path = "/ok";
	run(&c);
	ck_assert_int_eq(c.e, UP_OK);
	ck_assert_int_eq(c.on_loop, 0);
	expect_all(&c);
	http_thread_cleanup();
}
END_TEST

static Suite *
park_suite(void)
{
	Suite *s = suite_create("http_park");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_stream_parks_and_arrives_whole);
	tcase_add_test(tc, an_error_status_keeps_its_body);
	tcase_add_test(tc, the_callback_stops_it);
	tcase_add_test(tc, a_full_client_pauses_without_loss);
	tcase_add_test(tc, nothing_listening);
	tcase_add_test(tc, off_a_coroutine_it_blocks_as_before);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(park_suite)
