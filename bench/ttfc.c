/*
 * ttfc.c - time to first chunk of an SSE answer, over many sequential
 * requests (benchmarks only; bench/bench-chat.sh drives it).
 *
 * Each request opens a new TCP connection, sends one HTTP/1.1 POST with
 * "Connection: close" and reads until the server closes.  Times are taken
 * from just before connect():
 *   head   the end of the response head ("\r\n\r\n")
 *   first  the first byte of the first "data:" line of the body (a chunk
 *          size line of Transfer-Encoding: chunked is skipped; ": comment"
 *          lines do not count)
 *   total  the end of the response
 * and printed as percentiles.  wrk cannot do this: it only times whole
 * responses.
 *
 *   ttfc -p port [-a addr] [-u path] [-n requests] [-w warmup]
 *        [-b body | -f bodyfile] [-H "Name: value"]... [-r]
 *
 *   -n   measured requests (default 1000), after -w warm-up ones (20)
 *   -b   request body (default: a minimal streaming chat request)
 *   -H   an extra request header, e.g. -H "Authorization: Bearer CODE"
 *   -r   print every measurement ("head first total" in µs) to stdout
 *
 * Output (one line each): "ttfc: n=N errors=E" and, for head, first and
 * total, "<name>: p50=… p90=… p95=… p99=… mean=… max=… (ms)".  Exit
 * status 1 if any request failed (status not 200, or no data: line).
 *
 *   cc -O2 -Wall -o ttfc bench/ttfc.c        (or bench/build.sh)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS	16
#define BUFSZ		65536

static const char *default_body =
    "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":"
    "[{\"role\":\"user\",\"content\":\"hi\"}]}";

static double
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *name, double *v, size_t n)
{
	double	 sum = 0;
	size_t	 i;

	if (n == 0) {
		printf("%s: no samples\n", name);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	printf("%s: p50=%.3f p90=%.3f p95=%.3f p99=%.3f mean=%.3f max=%.3f "
	    "(ms)\n", name, v[n / 2] / 1e3, v[n * 9 / 10] / 1e3,
	    v[n * 95 / 100] / 1e3, v[n * 99 / 100] / 1e3,
	    sum / (double)n / 1e3, v[n - 1] / 1e3);
}

/*
 * Feeds body bytes to a matcher of "data:" at a line start (a chunk size
 * line of a chunked body also ends with '\n'); *pos is the number of
 * characters of "data:" matched on the current line, -1 for none.
 */
static int
scan_data(const char *b, size_t n, int *pos)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (b[i] == '\n')
			*pos = 0;
		else if (*pos >= 0) {
			if (b[i] == "data:"[*pos]) {
				if (++*pos == 5)
					return 1;
			} else
				*pos = -1;
		}
	}
	return 0;
}

/* One request; 0 on success with the three times in µs. */
static int
one(const struct sockaddr_in *sa, const char *req, size_t reqlen,
    double *t_head, double *t_first, double *t_total, char *err,
    size_t errsz)
{
	static char	 buf[BUFSZ];
	size_t		 len = 0, hlen;
	double		 t0;
	ssize_t		 n;
	int		 fd, one = 1, status = 0, head_done = 0, pos = 0;

	*t_head = *t_first = *t_total = -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	t0 = now_us();
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		snprintf(err, errsz, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (write(fd, req, reqlen) != (ssize_t)reqlen) {
		snprintf(err, errsz, "write: %s", strerror(errno));
		close(fd);
		return -1;
	}
	for (;;) {
		if (!head_done && len == sizeof(buf)) {
			snprintf(err, errsz, "response head too large");
			close(fd);
			return -1;
		}
		n = read(fd, buf + (head_done ? 0 : len), head_done ?
		    sizeof(buf) : sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!head_done) {
			char *e;

			len += (size_t)n;
			if ((e = memmem(buf, len, "\r\n\r\n", 4)) == NULL)
				continue;
			*t_head = now_us() - t0;
			head_done = 1;
			hlen = (size_t)(e - buf) + 4;
			if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
				status = 0;
			if (scan_data(buf + hlen, len - hlen, &pos))
				*t_first = now_us() - t0;
		} else if (*t_first < 0 && scan_data(buf, (size_t)n, &pos))
			*t_first = now_us() - t0;
	}
	*t_total = now_us() - t0;
	close(fd);
	if (n < 0) {
		snprintf(err, errsz, "read: %s", strerror(errno));
		return -1;
	}
	if (status != 200) {
		snprintf(err, errsz, "HTTP status %d", status);
		return -1;
	}
	if (*t_first < 0) {
		snprintf(err, errsz, "no data: line in the body");
		return -1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: ttfc -p port [-a addr] [-u path] [-n requests] "
	    "[-w warmup] [-b body | -f file] [-H header]... [-r]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sa;
	const char		*addr = "127.0.0.1", *path = "/v1/chat/completions";
	const char		*body = default_body, *hdrs[MAX_HEADERS];
	char			*req, *fbody = NULL, err[256];
	double			*th, *tf, *tt;
	size_t			 reqlen, nok = 0, nh = 0, k, off;
	long			 nreq = 1000, warm = 20, i;
	int			 ch, port = 0, raw = 0, errors = 0;

	while ((ch = getopt(argc, argv, "a:b:f:H:n:p:ru:w:")) != -1) {
		switch (ch) {
		case 'a': addr = optarg; break;
		case 'b': body = optarg; break;
		case 'f': {
			FILE	*f = fopen(optarg, "r");
			long	 sz;

			if (f == NULL || fseek(f, 0, SEEK_END) != 0 ||
			    (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
			    (fbody = calloc(1, (size_t)sz + 1)) == NULL ||
			    fread(fbody, 1, (size_t)sz, f) != (size_t)sz) {
				perror(optarg);
				return 2;
			}
			fclose(f);
			body = fbody;
			break;
		}
		case 'H':
			if (nh == MAX_HEADERS)
				usage();
			hdrs[nh++] = optarg;
			break;
		case 'n': nreq = atol(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'r': raw = 1; break;
		case 'u': path = optarg; break;
		case 'w': warm = atol(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || nreq <= 0 || warm < 0)
		usage();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		usage();

	reqlen = strlen(path) + strlen(addr) + strlen(body) + 256;
	for (k = 0; k < nh; k++)
		reqlen += strlen(hdrs[k]) + 2;
	if ((req = malloc(reqlen)) == NULL)
		return 1;
	off = (size_t)snprintf(req, reqlen, "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "User-Agent: chat2api-ttfc/1\r\nAccept: text/event-stream\r\n"
	    "Content-Type: application/json\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n", path, addr, port, strlen(body));
	for (k = 0; k < nh; k++)
		off += (size_t)snprintf(req + off, reqlen - off, "%s\r\n",
		    hdrs[k]);
	off += (size_t)snprintf(req + off, reqlen - off, "\r\n%s", body);
	reqlen = off;

	th = calloc((size_t)nreq, sizeof(double));
	tf = calloc((size_t)nreq, sizeof(double));
	tt = calloc((size_t)nreq, sizeof(double));
	if (th == NULL || tf == NULL || tt == NULL)
		return 1;
	for (i = 0; i < warm + nreq; i++) {
		double	 a, b, c;

		if (one(&sa, req, reqlen, &a, &b, &c, err, sizeof(err)) < 0) {
			if (errors++ < 5)
				fprintf(stderr, "ttfc: request %ld: %s\n", i,
				    err);
			continue;
		}
		if (i < warm)
			continue;
		if (raw)
			printf("%.1f %.1f %.1f\n", a, b, c);
		th[nok] = a;
		tf[nok] = b;
		tt[nok] = c;
		nok++;
	}
	printf("ttfc: n=%zu errors=%d\n", nok, errors);
	report("head", th, nok);
	report("first", tf, nok);
	report("total", tt, nok);
	free(req);
	free(fbody);
	return errors ? 1 : 0;
}
