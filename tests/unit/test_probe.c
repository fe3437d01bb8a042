/* upstream/probe.c: the status line that ends a probe, and the probe
 * itself against a loopback listener that answers and a closed port. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "upstream/probe.h"
#include "unit.h"

#define L(s)	(s), strlen(s)

START_TEST(status_lines)
{
	ck_assert_int_eq(probe_status_line(L("HTTP/1.1 403 Forbidden\r\n")),
	    403);
	ck_assert_int_eq(probe_status_line(L("HTTP/2 200\r\n")), 200);
	ck_assert_int_eq(probe_status_line(L("http/1.0 502 Bad\r\n")), 502);
	/* not yet the host's answer */
	ck_assert_int_eq(probe_status_line(L("HTTP/1.1 100 Continue\r\n")), 0);
	ck_assert_int_eq(probe_status_line(
	    L("HTTP/1.1 200 Connection established\r\n")), 0);
	ck_assert_int_eq(probe_status_line(
	    L("HTTP/1.0 200 connection Established\r\n")), 0);
	/* not a status line at all */
	ck_assert_int_eq(probe_status_line(L("Content-Type: text/html\r\n")),
	    0);
	ck_assert_int_eq(probe_status_line(L("\r\n")), 0);
	ck_assert_int_eq(probe_status_line(L("HTTP/1.1 2000 Odd\r\n")), 0);
	ck_assert_int_eq(probe_status_line(L("HTTP/1.1 20 Odd\r\n\r\n")), 0);
	ck_assert_int_eq(probe_status_line(L("HTTP/1.1 abc def\r\n")), 0);
	ck_assert_int_eq(probe_status_line("HTTP/1.1 200 OK", 8), 0);
}
END_TEST

/* One connection: read the request head, answer 418 with a big body. */
static void *
serve_one(void *arg)
{
	static const char head[] = "HTTP/1.1 418 I'm a teapot\r\n"
	    "Content-Length: 100000\r\n\r\n";
	char buf[4096];
	int ls = *(int *)arg, c;

	if ((c = accept(ls, NULL, NULL)) < 0)
		return NULL;
	(void)read(c, buf, sizeof(buf));
	(void)write(c, head, sizeof(head) - 1);
	memset(buf, 'x', sizeof(buf));
	(void)write(c, buf, sizeof(buf));
	close(c);
	return NULL;
}

static int
listener(int *port)
{
	struct sockaddr_in a;
	socklen_t n = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s, 4), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &n), 0);
	*port = ntohs(a.sin_port);
	return s;
}

START_TEST(reach_up_and_down)
{
	pthread_t t;
	char url[64];
	long status = -1;
	int ls, port;

	ck_assert_int_eq(http_global_init(), 0);
	ls = listener(&port);
	ck_assert_int_eq(pthread_create(&t, NULL, serve_one, &ls), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	ck_assert_int_eq(probe_reach(url, NULL, &status), UP_OK);
	ck_assert_int_eq(status, 418);
	pthread_join(t, NULL);
	/* the same port, nobody listening any more: refused at once */
	close(ls);
	status = -1;
	ck_assert_int_eq(probe_reach(url, NULL, &status), UP_NETWORK);
	ck_assert_int_eq(status, 0);
	http_thread_cleanup();
}
END_TEST

static Suite *
probe_suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, status_lines);
	tcase_add_test(tc, reach_up_and_down);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(probe_suite)
