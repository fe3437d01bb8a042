/*
 * Our own FastCGI framing (fcgi/io_framed.c): the records a front server
 * reads, split where FastCGI's 16-bit length demands, the end of the
 * request; on the loop, writes that never block, pacing for a slow
 * reader, and a closed connection seen; the parameters copied into one
 * block.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fcgi/evloop.h"
#include "fcgi/io_framed.h"
#include "unit.h"

static int sv[2];
static FCGX_Request fr;
static struct framed f;
static struct req r;
static char *envp[] = { "MODEL=gpt-4o", "REQUEST_METHOD=POST", NULL };

static void
setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	memset(&fr, 0, sizeof(fr));
	fr.requestId = 0x1234;
	fr.ipcFd = sv[0];
	fr.envp = envp;
	memset(&f, 0, sizeof(f));
	f.fr = &fr;
	f.fd = sv[0];
	memset(&r, 0, sizeof(r));
	r.io = &io_framed;
	r.io_ctx = &f;
}

static void
teardown(void)
{
	framed_free(&f);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
}

/* Reads exactly n bytes from the front server's end. */
static void
read_n(unsigned char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = read(sv[1], p, n);
		ck_assert_int_gt(k, 0);
		p += k;
		n -= (size_t)k;
	}
}

/* One record: its type, request id and content length checked. */
static size_t
record(int type, unsigned char *content)
{
	unsigned char h[8];
	size_t len;

	read_n(h, 8);
	ck_assert_int_eq(h[0], 1);
	ck_assert_int_eq(h[1], type);
	ck_assert_int_eq((h[2] << 8) | h[3], 0x1234);
	len = (size_t)((h[4] << 8) | h[5]);
	read_n(content, len + h[6]);
	return len;
}

START_TEST(stdout_records_and_the_end)
{
	unsigned char buf[70000];

	ck_assert_int_eq(r.io->write(&r, "hello", 5), 0);
	ck_assert_int_eq(r.io->flush(&r), 0);
	ck_assert_uint_eq(record(6, buf), 5);
	ck_assert(memcmp(buf, "hello", 5) == 0);
	ck_assert_int_eq(framed_end(&f), 0);
	ck_assert_uint_eq(record(6, buf), 0);	/* end of stdout */
	ck_assert_uint_eq(record(3, buf), 8);	/* FCGI_END_REQUEST */
	ck_assert_int_eq(buf[4], 0);		/* FCGI_REQUEST_COMPLETE */
	/* then the connection ends, kept or not */
	ck_assert_int_eq(read(sv[1], buf, 1), 0);
	ck_assert_int_eq(fr.ipcFd, -1);
	ck_assert_int_eq(f.fd, -1);
	sv[0] = -1;
}
END_TEST

START_TEST(long_writes_split_at_the_record_limit)
{
	static char big[100000];
	static unsigned char got[100000];
	size_t n, at = 0;
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	/* a reader, so a blocking flush can finish */
	ck_assert_int_eq(r.io->write(&r, big, sizeof(big)), 0);
	ck_assert_int_eq(r.io->flush(&r), 0);
	while (at < sizeof(big)) {
		n = record(6, got + at);
		ck_assert_uint_le(n, 65535);
		ck_assert_uint_gt(n, 0);
		at += n;
	}
	ck_assert_uint_eq(at, sizeof(big));
	ck_assert(memcmp(big, got, sizeof(big)) == 0);
}
END_TEST

START_TEST(params_and_input)
{
	char b[8];

	ck_assert_str_eq(r.io->param(&r, "MODEL"), "gpt-4o");
	ck_assert_ptr_null(r.io->param(&r, "NOPE"));
	ck_assert_int_eq(r.io->read(&r, b, sizeof(b)), 0);
}
END_TEST

START_TEST(params_in_one_block)
{
	char **block;

	ck_assert_int_eq(framed_params(&f, &fr), 0);
	block = fr.envp;
	ck_assert_ptr_ne(block, envp);
	ck_assert_ptr_eq(block, f.env);
	ck_assert_str_eq(block[0], "MODEL=gpt-4o");
	ck_assert_str_eq(block[1], "REQUEST_METHOD=POST");
	ck_assert_ptr_null(block[2]);
	/* the strings follow the pointers, one after the other */
	ck_assert_ptr_eq(block[0], (char *)(block + 3));
	ck_assert_ptr_eq(block[1], block[0] + strlen(block[0]) + 1);
	ck_assert_str_eq(r.io->param(&r, "REQUEST_METHOD"), "POST");
	/* a second request's copy replaces the first */
	fr.envp = envp + 1;
	ck_assert_int_eq(framed_params(&f, &fr), 0);
	ck_assert_str_eq(fr.envp[0], "REQUEST_METHOD=POST");
	ck_assert_ptr_null(fr.envp[1]);
	/* freed with the request, and libfcgi's request no longer sees it */
	framed_free(&f);
	ck_assert_ptr_null(fr.envp);
	ck_assert_ptr_null(f.env);
	f.fr = &fr;
	fr.envp = envp;
}
END_TEST

START_TEST(a_closed_connection_is_gone)
{
	ck_assert_int_eq(r.io->gone(&r, 0), 0);
	close(sv[1]);
	sv[1] = -1;
	ck_assert_int_eq(r.io->gone(&r, 0), 1);
	/* and a write to it fails instead of blocking or crashing */
	ck_assert_int_eq(r.io->write(&r, "x", 1), 0);
	ck_assert_int_eq(r.io->flush(&r), -1);
	ck_assert_int_eq(r.io->write(&r, "x", 1), -1);
}
END_TEST

/* ---- on the loop */

static atomic_int drained, drained_on_loop;
static struct evloop_job job;
static atomic_int step;

static void
on_drain(void *arg)
{
	(void)arg;
	drained_on_loop = evloop_is_loop_thread();
	drained = 1;
}

/* The loop thread: what the parked request does. */
static void
fill(void *arg)
{
	static char chunk[16384];

	(void)arg;
	framed_arm(&f);
	memset(chunk, 'x', sizeof(chunk));
	/* far more than the socket takes: never blocks */
	while (!framed_congested(&f)) {
		ck_assert_int_eq(r.io->write(&r, chunk, sizeof(chunk)), 0);
		ck_assert_int_eq(r.io->flush(&r), 0);
	}
	framed_on_drain(&f, on_drain, NULL);
	step = 1;
}

static void
disarm(void *arg)
{
	(void)arg;
	framed_disarm(&f);
	step = 2;
}

START_TEST(the_loop_never_blocks_and_paces_a_slow_reader)
{
	char err[128], buf[65536];
	ssize_t k;
	int i;

	ck_assert_int_eq(evloop_start(err, sizeof(err)), 0);
	evloop_post(&job, fill, NULL);
	for (i = 0; i < 500 && step < 1; i++)
		usleep(10000);
	ck_assert_int_eq(step, 1);
	ck_assert_int_eq(drained, 0);
	/* the front server reads: the buffer drains, the pause ends */
	for (i = 0; i < 5000 && !drained; i++) {
		struct pollfd p = { .fd = sv[1], .events = POLLIN };
		/* the last bytes may go out just before the drain is told */
		if (poll(&p, 1, 10) == 1) {
			k = read(sv[1], buf, sizeof(buf));
			ck_assert_int_gt(k, 0);
		}
	}
	ck_assert_int_eq(drained, 1);
	ck_assert_int_eq(drained_on_loop, 1);
	evloop_post(&job, disarm, NULL);
	for (i = 0; i < 500 && step < 2; i++)
		usleep(10000);
	ck_assert_int_eq(f.loop, 0);
	evloop_stop();
}
END_TEST

static void
arm_only(void *arg)
{
	(void)arg;
	framed_arm(&f);
	step = 1;
}

START_TEST(the_loop_sees_the_front_server_go)
{
	char err[128];
	int i;

	ck_assert_int_eq(evloop_start(err, sizeof(err)), 0);
	evloop_post(&job, arm_only, NULL);
	for (i = 0; i < 500 && step < 1; i++)
		usleep(10000);
	ck_assert_int_eq(f.gone, 0);
	close(sv[1]);
	sv[1] = -1;
	for (i = 0; i < 500 && !f.gone; i++)
		usleep(10000);
	ck_assert_int_eq(f.gone, 1);
	evloop_post(&job, disarm, NULL);
	for (i = 0; i < 500 && step < 2; i++)
		usleep(10000);
	evloop_stop();
}
END_TEST

static Suite *
framed_suite(void)
{
	Suite *s = suite_create("io_framed");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, stdout_records_and_the_end);
	tcase_add_test(tc, long_writes_split_at_the_record_limit);
	tcase_add_test(tc, params_and_input);
	tcase_add_test(tc, params_in_one_block);
	tcase_add_test(tc, a_closed_connection_is_gone);
	tcase_add_test(tc, the_loop_never_blocks_and_paces_a_slow_reader);
	tcase_add_test(tc, the_loop_sees_the_front_server_go);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(framed_suite)
