/*
 * (This file: the epoll server loop, options and main; the rest is in
 * fastmock_canned.c, fastmock_providers.c, fastmock_conn.c and
 * fastmock_routes.c.)
 *
 * fastmock.c - a FAST loopback stand-in for the web backends of ChatGPT,
 * DeepSeek, Qwen AI, MiniMax, Z.ai, Kimi, GLM and Qwen (China), for
 * benchmarks only.
 *
 *   *** It checks nothing. ***  It does not verify any proof of work, the
 *   requirements token, the sentinel headers, the bearer, a signature
 *   (Z.ai's X-Signature, GLM's X-Sign, MiniMax's), an access token, the
 *   chat session, the request body or any credential; it answers every
 *   well-formed request with canned bytes.  Correctness of chat2api
 *   against the upstream protocols is tested with the mocks in tests/mock/
 *   (which verify all of that but are slow); this program only exists so
 *   that the mock is not the bottleneck when chat2api's own cost is
 *   measured (bench/bench-chat.sh, BENCHMARKS.md).
 *
 * Routes (any other → 404; the query string is ignored):
 *   GET  /                                   tiny HTML with data-build and a
 *                                            c/<build>/_ script URL
 *   POST /backend-{anon,api}/sentinel/chat-requirements
 *                                            fixed JSON: proof of work
 *                                            required, seed "0.42",
 *                                            difficulty -D (0fffff)
 *   POST /backend-{anon,api}/conversation    canned SSE answer; the old
 *                                            full-message format
 *                                            (protocols/chatgpt.md §5.1),
 *                                            or the v1 delta format (§5.2)
 *                                            when the body contains "v1"
 *                                            (supported_encodings:["v1"])
 *   This is also the endpoint that wrk hits directly for the baseline.
 *
 *   DeepSeek (protocols/providers.md §2), every JSON answer in the
 *   {code:0, msg, data:{biz_code:0, biz_msg, biz_data}} envelope:
 *   GET  /api/v0/users/current               biz_data.token "bench-bearer"
 *   POST /api/v0/chat_session/create         biz_data.chat_session.id, a
 *                                            new uuid-like id each time
 *   POST /api/v0/chat/create_pow_challenge   one fixed DeepSeekHashV1
 *                                            challenge of difficulty -W,
 *                                            computed at start so that it
 *                                            IS solvable: its answer is
 *                                            difficulty / 2, the mean work
 *                                            of a uniformly drawn answer
 *   POST /api/v0/chat/completion             canned §2.7 SSE answer (ready,
 *                                            update_session, the response
 *                                            object, a BATCH with the first
 *                                            RESPONSE fragment, -n APPENDs
 *                                            and bare-v continuations, the
 *                                            FINISHED BATCH, finish,
 *                                            update_session, title, close);
 *                                            -d and fastmock-delay= pace
 *                                            it as above
 *   POST /api/v0/chat_session/delete         biz_data null
 *
 *   Qwen AI (protocols/providers.md §7), {"success":true,"data":...}:
 *   GET  /api/v2/user                        a user
 *   GET  /api/models                         an empty list (only the
 *                                            built-in models)
 *   POST /api/v2/chats/new                   data.id, a new id each time
 *   POST /api/v2/chat/completions            canned §7.4 SSE answer
 *                                            (response.created, -n answer
 *                                            deltas, the finished delta
 *                                            with usage, [DONE]); paced
 *                                            like the others
 *   DELETE /api/v2/chats/<id>                data.status true
 *
 *   MiniMax (protocols/providers.md §5), polled answers:
 *   POST /v1/api/user/device/register        a fixed deviceIDStr
 *   POST /matrix/api/v1/chat/send_msg        a new chat_id each time; the
 *                                            chat's birth (wall clock) is
 *                                            kept
 *   POST /matrix/api/v1/chat/get_chat_detail the chat's answer as it is
 *                                            now: -n parts "part K @MS; ",
 *                                            part K shown from birth +
 *                                            K x -M ms (MS is that instant,
 *                                            epoch milliseconds, so a client
 *                                            can tell how late it saw it);
 *                                            chat_status 2 once all are
 *                                            shown.  A send_msg body with
 *                                            "fastmock-delay=MS" paces its
 *                                            chat at MS instead
 *   POST /matrix/api/v1/chat/delete_chat     success
 *
 *   Z.ai (protocols/providers.md §8):
 *   GET    /api/v1/users/user/settings       {}
 *   POST   /api/v1/chats/new                 {"id": a new uuid-like id}
 *   POST   /api/v2/chat/completions WITH an X-Signature header (without
 *                                            one it is Qwen AI's, above):
 *                                            canned §8.5 SSE answer (an
 *                                            "answer" delta with the first
 *                                            word, -n more, usage in an
 *                                            "other" event, "done"); paced
 *                                            as above
 *   DELETE /api/v1/chats/<id>                true
 *
 *   Kimi (protocols/providers.md §4), Connect-RPC:
 *   GET  /api/auth/token/refresh             {"access_token"}: one fixed
 *                                            access JWT that expires in
 *                                            2100 (no refresh_token: no
 *                                            rotation), so chat2api
 *                                            exchanges once and caches it
 *   POST ...ChatService/Chat                 canned §4.4 Connect+JSON
 *                                            answer (chat, the assistant's
 *                                            message, a block.text set and
 *                                            -n appends, done, the
 *                                            end-of-stream envelope);
 *                                            paced as above
 *   POST ...ChatService/DeleteChat           {}
 *   POST ...SubscriptionService/GetSubscription  a free subscription
 *
 *   GLM (protocols/providers.md §3), JSON answers {status:0, message,
 *   result}:
 *   POST /chatglm/user-api/user/refresh      result.access_token (no new
 *                                            refresh token: no rotation)
 *   POST /chatglm/backend-api/assistant/stream
 *                                            canned §3.6 snapshots: init,
 *                                            -n cumulative text snapshots,
 *                                            the finished part, finish;
 *                                            paced as above
 *   POST /chatglm/backend-api/assistant/conversation/delete   result {}
 *
 *   Qwen China (protocols/providers.md §6), every host on this one base:
 *   POST /api/v2/chat                        canned §6.3 SSE answer: -n
 *                                            cumulative snapshots of a
 *                                            multi_load/iframe message
 *                                            (the whole answer so far in
 *                                            each), the finished one, then
 *                                            "event: complete"; paced as
 *                                            above
 *   POST /api/v1/session/delete/batch        {"success":true,"code":0}
 *   POST /api/v2/session/page/list           an empty list, success
 *
 *   GET  /_fastmock/stats                    request counters as JSON
 *
 * HTTP/1.1 with keep-alive (HTTP/1.0 and "Connection: close" close after
 * the answer), request bodies by Content-Length only (chunked request
 * bodies get 411).  Pipelined requests are answered in order.
 *
 *   fastmock [-p port] [-b addr] [-t threads] [-d ms] [-c] [-n snapshots]
 *            [-D difficulty] [-W ds_difficulty] [-M mm_step] [-P portfile]
 *            [-S stamps]
 *
 *   -p port       TCP port (default 0 = any free port)
 *   -b addr       IPv4 address to bind (default 127.0.0.1)
 *   -t threads    event-loop threads sharing the listening socket (1)
 *   -d ms         delay before each SSE event (0 = the whole answer in one
 *                 write); with a delay the stream stays open for about
 *                 events x ms.  A conversation body that contains
 *                 "fastmock-delay=MS" (e.g. in the prompt) gets that delay
 *                 instead, which is how bench-chat.sh holds streams open
 *                 through chat2api without a second mock
 *   -c            SSE body with Transfer-Encoding: chunked (default:
 *                 Content-Length)
 *   -n snapshots  text snapshots in the answer (default 8); the DeepSeek
 *                 answer has as many APPENDs after its first fragment,
 *                 Z.ai's and Kimi's as many deltas after the first word,
 *                 GLM's and Qwen's as many growing snapshots, Qwen AI's as
 *                 many deltas and MiniMax's as many parts
 *   -D difficulty proof-of-work difficulty sent by the sentinel (0fffff)
 *   -W ds_difficulty
 *                 DeepSeek proof-of-work difficulty, 2..5000000 (default
 *                 1000, ~500 hashes a request, so that throughput measures
 *                 chat2api rather than the PoW; 144000 is the real one)
 *   -M mm_step    ms between two parts of a MiniMax answer (default 0:
 *                 the whole answer at the first poll)
 *   -P file       write the bound port there (atomically) once listening
 *   -S stamps     deltas in the stamped ChatGPT v1 answer (default 20, at
 *                 most 48): a conversation body containing "fastmock-stamp"
 *                 gets, paced as above, that many text deltas, each
 *                 "@" + 16 digits of CLOCK_REALTIME microseconds + ";"
 *                 written when the event is sent, so that a client
 *                 (bench/streams.c) measures the mock-to-client delay
 *
 * The bound port is also printed as "fastmock: port N" on stdout.  SIGTERM
 * and SIGINT stop it.  Linux only (epoll, accept4).
 *
 *   cc -O2 -Wall -pthread -o fastmock bench/fastmock*.c    (or bench/build.sh)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fastmock.h"

/* The mock's state (fastmock.h). */
struct canned	 fm_sse_old, fm_sse_v1, fm_sse_stamp, fm_sse_ds, fm_sse_qa,
			 fm_sse_zai, fm_sse_kimi, fm_sse_glm, fm_sse_qw;
char		*fm_page_resp, *fm_sentinel_resp;
size_t		 fm_page_len, fm_sentinel_len;
char		*fm_ds_user_resp, *fm_ds_pow_resp, *fm_ds_delete_resp;
size_t		 fm_ds_user_len, fm_ds_pow_len, fm_ds_delete_len;
char		*fm_kimi_refresh_resp, *fm_kimi_sub_resp, *fm_kimi_delete_resp;
size_t		 fm_kimi_refresh_len, fm_kimi_sub_len, fm_kimi_delete_len;
char		*fm_glm_refresh_resp, *fm_glm_delete_resp;
size_t		 fm_glm_refresh_len, fm_glm_delete_len;
const char	*fm_difficulty = "0fffff";
long		 fm_ds_difficulty = 1000;
unsigned long	 fm_ds_sessions;	/* ids of created chat sessions */
unsigned long	 fm_qa_chats;	/* ids of created Qwen AI chats */
unsigned long	 fm_zai_chats;	/* ids of created Z.ai chats */
unsigned long	 fm_mm_chats;	/* ids of created MiniMax chats */
uint64_t		 fm_mm_birth[MM_CHATS];	/* ms epoch */
int		 fm_mm_pace[MM_CHATS];	/* ms per part */
int		 fm_mm_step;
int		 fm_delay_ms;
int		 fm_chunked;
int		 fm_snapshots = 8;
int		 fm_stamps = 20;
volatile sig_atomic_t fm_stop;
char			 fm_listen_tag;

/*
 * Reads what the socket holds and answers it.  At end of input the
 * complete requests read so far are answered (a paced stream is cut
 * short) and the connection is dropped.
 */
static int
on_readable(struct loop *l, struct conn *c)
{
	ssize_t	 n;
	size_t	 room;
	int	 eof = 0;

	for (;;) {
		if (c->incap - c->inlen < 16384) {
			c->incap = c->incap ? 2 * c->incap : 16384;
			if (c->incap > MAX_HEAD + MAX_BODY + 65536)
				return -1;
			if ((c->in = realloc(c->in, c->incap)) == NULL)
				fm_die("out of memory");
		}
		room = c->incap - c->inlen;
		n = read(c->fd, c->in + c->inlen, room);
		if (n == 0) {
			eof = 1;
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		c->inlen += (size_t)n;
		if ((size_t)n < room)
			break;			/* short read: drained */
	}
	if (fm_process(l, c) < 0 || fm_flush_out(l, c) < 0)
		return -1;
	return eof ? -1 : 0;
}

static void
on_accept(struct loop *l)
{
	struct epoll_event	 ev;
	struct conn		*c;
	int			 fd, one = 1;

	for (;;) {
		fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;		/* EAGAIN, or another thread won */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((c = calloc(1, sizeof(*c))) == NULL)
			fm_die("out of memory");
		c->fd = fd;
		c->idx = -1;
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = c;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
		}
	}
}

/* Paced streams: send what is due; returns the epoll timeout in ms. */
static int
run_timers(struct loop *l)
{
	uint64_t now = fm_now_ns(), next = UINT64_MAX;
	size_t	 i;

	for (i = 0; i < l->nstreams; ) {
		struct conn *c = l->streams[i];

		if (c->due <= now) {
			fm_send_event(c);
			c->due = now + (uint64_t)c->delay * 1000000ull;
			if (c->sse == NULL)
				fm_stream_untrack(l, c);
			if (fm_flush_out(l, c) < 0 ||
			    (c->sse == NULL && fm_process(l, c) < 0) ||
			    fm_flush_out(l, c) < 0) {
				fm_conn_free(l, c);
				continue;
			}
			if (c->idx != (int)i)
				continue;	/* slot i now holds another */
		}
		if (c->due < next)
			next = c->due;
		i++;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

static void *
loop_run(void *arg)
{
	struct loop		*l = arg;
	struct epoll_event	 evs[MAX_EVENTS], ev;
	int			 i, n, timeout;

	if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fm_die("epoll_create1: %s", strerror(errno));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.ptr = &fm_listen_tag;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &ev) < 0)
		fm_die("epoll_ctl: %s", strerror(errno));
	while (!fm_stop) {
		timeout = run_timers(l);
		if (timeout < 0 || timeout > 500)
			timeout = 500;		/* notice stop */
		n = epoll_wait(l->ep, evs, MAX_EVENTS, timeout);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (evs[i].data.ptr == &fm_listen_tag) {
				on_accept(l);
				continue;
			}
			if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
				fm_conn_free(l, c);
				continue;
			}
			if ((evs[i].events & EPOLLOUT) && fm_flush_out(l, c) < 0) {
				fm_conn_free(l, c);
				continue;
			}
			if ((evs[i].events & (EPOLLIN | EPOLLRDHUP)) &&
			    on_readable(l, c) < 0) {
				fm_conn_free(l, c);
				continue;
			}
		}
	}
	return NULL;
}

static void
on_signal(int sig)
{
	(void)sig;
	fm_stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: fastmock [-p port] [-b addr] [-t threads] "
	    "[-d ms] [-c] [-n snapshots] [-D difficulty] [-W ds_difficulty] "
	    "[-M mm_step] [-P portfile] [-S stamps]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sa;
	socklen_t		 slen = sizeof(sa);
	struct sigaction	 act;
	struct loop		*loops;
	pthread_t		*tids;
	const char		*bind_addr = "127.0.0.1", *portfile = NULL;
	int			 ch, port = 0, nthreads = 1, fd, one = 1, i;

	while ((ch = getopt(argc, argv, "b:cd:D:M:n:p:P:S:t:W:")) != -1) {
		switch (ch) {
		case 'b': bind_addr = optarg; break;
		case 'c': fm_chunked = 1; break;
		case 'd': fm_delay_ms = atoi(optarg); break;
		case 'D': fm_difficulty = optarg; break;
		case 'M': fm_mm_step = atoi(optarg); break;
		case 'n': fm_snapshots = atoi(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'P': portfile = optarg; break;
		case 'S': fm_stamps = atoi(optarg); break;
		case 't': nthreads = atoi(optarg); break;
		case 'W': fm_ds_difficulty = atol(optarg); break;
		default: usage();
		}
	}
	if (nthreads < 1 || nthreads > 64 || fm_delay_ms < 0 || fm_snapshots < 1 ||
	    fm_snapshots > MAX_SSE_EVENTS - 9 || strlen(fm_difficulty) > 64 ||
	    strspn(fm_difficulty, "0123456789abcdefABCDEF") !=
	    strlen(fm_difficulty) || fm_ds_difficulty < 2 ||
	    fm_ds_difficulty > 5000000 || fm_mm_step < 0 || fm_stamps < 1 ||
	    fm_stamps > STAMP_MAX)
		usage();
	fm_build_canned();
	fm_build_fixed();
	fm_build_deepseek();
	fm_build_qwenai();
	fm_build_zai();
	fm_build_kimi();
	fm_build_glm();
	fm_build_qwen();

	memset(&act, 0, sizeof(act));
	act.sa_handler = on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		fm_die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1)
		fm_die("bad address %s", bind_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4096) < 0)
		fm_die("bind/listen %s:%d: %s", bind_addr, port, strerror(errno));
	getsockname(fd, (struct sockaddr *)&sa, &slen);
	port = ntohs(sa.sin_port);
	printf("fastmock: port %d\n", port);
	fflush(stdout);
	if (portfile != NULL) {
		char	 tmp[4096];
		FILE	*f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((f = fopen(tmp, "w")) == NULL)
			fm_die("%s: %s", tmp, strerror(errno));
		fprintf(f, "%d\n", port);
		if (fclose(f) != 0 || rename(tmp, portfile) != 0)
			fm_die("%s: %s", portfile, strerror(errno));
	}

	if ((loops = calloc((size_t)nthreads, sizeof(*loops))) == NULL ||
	    (tids = calloc((size_t)nthreads, sizeof(*tids))) == NULL)
		fm_die("out of memory");
	for (i = 0; i < nthreads; i++) {
		loops[i].lfd = fd;
		if (i > 0 && pthread_create(&tids[i], NULL, loop_run,
		    &loops[i]) != 0)
			fm_die("pthread_create failed");
	}
	loop_run(&loops[0]);
	for (i = 1; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	return 0;
}
