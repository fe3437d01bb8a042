/*
 * streams - holds N SSE streams open at once and measures, for every
 * event, the delay from the upstream mock's send to this client's read.
 *
 * Each stream is one HTTP/1.0 POST (so that nginx sends the body as it
 * comes, unchunked, and closes at the end) on its own connection.  The
 * answer's text is made of bench/fastmock's stamps, "@" + 16 digits of
 * CLOCK_REALTIME microseconds + ";", written by the mock when it sent the
 * event; delay = our CLOCK_REALTIME at read - stamp.  Both run on one host,
 * so the clocks are the same clock.
 *
 *   streams -p PORT [-h HOST] [-u PATH] -b BODY [-n STREAMS] [-r PER_SEC]
 *           [-e STAMPS] [-t TIMEOUT_S]
 *
 *   -n  streams to open (default 2000)
 *   -r  connections opened per second while ramping up (default 1000)
 *   -e  stamps each stream must carry (0: do not check)
 *   -t  give up after this many seconds (default 120)
 *
 * Prints one line of "key=value" pairs: streams, ok (every stamp and
 * [DONE]), bad (status not 200, short or cut), stamps, p50/p90/p99/p999/
 * max delay in ms, the same prefixed steady_ for the stamps read once
 * every stream was open (the ramp's set-up work no longer competing),
 * max_open (streams open at once: answer head read, not yet closed),
 * all_open_s (seconds from the first connect until all were open, or -1).
 * Linux only (epoll).
 *
 *   cc -O2 -Wall -Wextra -o streams bench/streams.c    (or bench/build.sh)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TAIL	24	/* bytes kept between reads: a stamp or [DONE] */

struct stream {
	int	 fd;
	int	 state;		/* 0 idle, 1 sending, 2 reading, 3 done */
	size_t	 sent;
	int	 head;		/* status line seen */
	int	 status;
	int	 stamps;
	int	 done;		/* [DONE] seen */
	char	 tail[TAIL + 1];
	size_t	 tlen;
};

struct delays {
	uint32_t	*v;		/* µs */
	size_t		 n, cap;
};

/* all events, and those read once every stream was open (steady) */
static struct delays	 all, steady;
static int		 all_open_now;

static void
die(const char *msg)
{
	fprintf(stderr, "streams: %s: %s\n", msg, strerror(errno));
	exit(1);
}

static uint64_t
now_us(clockid_t clk)
{
	struct timespec	 t;

	clock_gettime(clk, &t);
	return (uint64_t)t.tv_sec * 1000000ull + (uint64_t)t.tv_nsec / 1000;
}

static void
add_to(struct delays *d, uint64_t us)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 65536;
		if ((d->v = realloc(d->v, d->cap * sizeof(*d->v))) == NULL)
			die("realloc");
	}
	d->v[d->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void
add_delay(uint64_t us)
{
	add_to(&all, us);
	if (all_open_now)
		add_to(&steady, us);
}

/* Scans what arrived (after the kept tail) for stamps and [DONE]. */
static void
scan(struct stream *s, const char *p, size_t n, uint64_t now)
{
	char	 buf[TAIL + 65536];
	size_t	 len, i, j;
	uint64_t v;

	memcpy(buf, s->tail, s->tlen);
	memcpy(buf + s->tlen, p, n);
	len = s->tlen + n;
	if (!s->head && len >= 12 && memcmp(buf, "HTTP/1.", 7) == 0) {
		s->head = 1;
		s->status = atoi(buf + 9);
	}
	for (i = 0; i + 18 <= len; i++) {
		if (buf[i] == '[' && i + 6 <= len &&
		    memcmp(buf + i, "[DONE]", 6) == 0)
			s->done = 1;
		if (buf[i] != '@' || buf[i + 17] != ';')
			continue;
		v = 0;
		for (j = 1; j <= 16 && buf[i + j] >= '0' && buf[i + j] <= '9'; j++)
			v = v * 10 + (uint64_t)(buf[i + j] - '0');
		if (j != 17)
			continue;
		add_delay(now > v ? now - v : 0);
		s->stamps++;
		i += 17;
	}
	/* [DONE] may sit in the last 17 bytes: check there too */
	for (j = i; j + 6 <= len; j++)
		if (memcmp(buf + j, "[DONE]", 6) == 0)
			s->done = 1;
	/* keep what was not yet looked at as a stamp's start (< 18 bytes) */
	s->tlen = len - i;
	memcpy(s->tail, buf + i, s->tlen);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const struct delays *d, double q)
{
	size_t	 i;

	if (d->n == 0)
		return -1;
	i = (size_t)(q * (double)(d->n - 1) + 0.5);
	return d->v[i] / 1000.0;
}

static void
print_pcts(const char *pfx, struct delays *d)
{
	qsort(d->v, d->n, sizeof(*d->v), cmp_u32);
	printf(" %sp50=%.3f %sp90=%.3f %sp99=%.3f %sp999=%.3f %smax=%.3f", pfx,
	    pct(d, 0.5), pfx, pct(d, 0.9), pfx, pct(d, 0.99), pfx, pct(d, 0.999),
	    pfx, pct(d, 1.0));
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sa;
	struct epoll_event	 ev, evs[256];
	struct stream		*st;
	const char		*host = "127.0.0.1", *path = "/v1/chat/completions",
				*body = NULL;
	char			*req, rbuf[65536];
	size_t			 reqlen;
	long			 n = 2000, rate = 1000, expect = 0, timeout = 120;
	long			 opened = 0, finished = 0, open_now = 0, max_open = 0;
	long			 ok = 0, bad = 0, i;
	uint64_t		 t0, deadline, all_open = 0;
	int			 ch, port = 0, ep, k, m;

	while ((ch = getopt(argc, argv, "b:e:h:n:p:r:t:u:")) != -1) {
		switch (ch) {
		case 'b': body = optarg; break;
		case 'e': expect = atol(optarg); break;
		case 'h': host = optarg; break;
		case 'n': n = atol(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'r': rate = atol(optarg); break;
		case 't': timeout = atol(optarg); break;
		case 'u': path = optarg; break;
		default: goto usage;
		}
	}
	if (port <= 0 || body == NULL || n < 1 || n > 100000 || rate < 1)
		goto usage;
	if (asprintf(&req, "POST %s HTTP/1.0\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    path, host, strlen(body), body) < 0)
		die("asprintf");
	reqlen = strlen(req);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "streams: bad address %s\n", host);
		return 2;
	}
	if ((st = calloc((size_t)n, sizeof(*st))) == NULL)
		die("calloc");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	t0 = now_us(CLOCK_MONOTONIC);
	deadline = t0 + (uint64_t)timeout * 1000000ull;
	while (finished < n && now_us(CLOCK_MONOTONIC) < deadline) {
		/* ramp: open what is due by now */
		uint64_t due = (now_us(CLOCK_MONOTONIC) - t0) *
		    (uint64_t)rate / 1000000ull + 1;

		while (opened < n && (uint64_t)opened < due) {
			struct stream *s = &st[opened++];
			int one = 1;

			s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, 0);
			if (s->fd < 0)
				die("socket");
			setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0
			    && errno != EINPROGRESS)
				die("connect");
			s->state = 1;
			ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
			ev.data.ptr = s;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
				die("epoll_ctl");
		}
		m = epoll_wait(ep, evs, 256, opened < n ? 1 : 100);
		for (k = 0; k < m; k++) {
			struct stream *s = evs[k].data.ptr;
			ssize_t r;

			if (s->state == 1 && (evs[k].events & EPOLLOUT)) {
				r = write(s->fd, req + s->sent, reqlen - s->sent);
				if (r > 0 && (s->sent += (size_t)r) == reqlen) {
					s->state = 2;
					ev.events = EPOLLIN | EPOLLRDHUP;
					ev.data.ptr = s;
					epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
				} else if (r < 0 && errno != EAGAIN)
					goto closed;
			}
			if (!(evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
			    EPOLLERR)))
				continue;
			for (;;) {
				r = read(s->fd, rbuf, sizeof(rbuf));
				if (r > 0) {
					int had = s->head;

					scan(s, rbuf, (size_t)r,
					    now_us(CLOCK_REALTIME));
					if (!had && s->head) {
						if (++open_now > max_open)
							max_open = open_now;
						if (max_open == n && !all_open) {
							all_open = now_us(
							    CLOCK_MONOTONIC);
							all_open_now = 1;
						}
					}
					continue;
				}
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0 && errno == EAGAIN)
					break;
				goto closed;
			}
			continue;
closed:
			if (s->head)
				open_now--;
			close(s->fd);
			s->state = 3;
			finished++;
		}
	}
	for (i = 0; i < n; i++) {
		struct stream *s = &st[i];

		if (s->state == 3 && s->status == 200 && s->done &&
		    (expect == 0 || s->stamps == expect))
			ok++;
		else
			bad++;
	}
	printf("streams=%ld ok=%ld bad=%ld stamps=%zu steady_stamps=%zu", n, ok,
	    bad, all.n, steady.n);
	print_pcts("", &all);
	print_pcts("steady_", &steady);
	printf(" max_open=%ld all_open_s=%.3f\n", max_open, all_open ?
	    (all_open - t0) / 1e6 : -1.0);
	return bad ? 1 : 0;
usage:
	fprintf(stderr, "usage: streams -p PORT [-h HOST] [-u PATH] -b BODY "
	    "[-n STREAMS] [-r PER_SEC] [-e STAMPS] [-t TIMEOUT_S]\n");
	return 2;
}
