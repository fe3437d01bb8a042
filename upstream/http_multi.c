/*
 * curl's multi_socket interface on the event loop: curl says which
 * sockets to watch and when to call it back; the loop tells it which are
 * ready.  Everything here runs on the loop thread, except
 * http_multi_perform() itself, which runs on the parking coroutine.
 */
#include "config.h"

#include <stdlib.h>
#include <sys/epoll.h>

#include "fcgi/coro.h"
#include "fcgi/evloop.h"
#include "fcgi/log.h"
#include "upstream/http_multi.h"

struct hm_xfer {
	CURL		*h;
	CURLcode	 cc;
	struct coro	*co;
};

struct hm_sock {
	struct evloop_watch	 w;
};

static CURLM			*multi;
static struct evloop_timer	 tick;

static void
check_done(void)
{
	struct hm_xfer *x;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		x = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x == NULL)
			continue;
		x->cc = m->data.result;
		curl_multi_remove_handle(multi, x->h);
		curl_easy_setopt(x->h, CURLOPT_PRIVATE, NULL);
		coro_wake(x->co);
	}
}

static void
on_tick(void *arg)
{
	int running;

	(void)arg;
	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done();
}

static int
timer_cb(CURLM *m, long ms, void *u)
{
	(void)m;
	(void)u;
	if (ms < 0)
		evloop_timer_cancel(&tick);
	else
		evloop_timer_set(&tick, ms);
	return 0;
}

static void
sock_ready(struct evloop_watch *w, uint32_t events)
{
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(multi, w->fd, flags, &running);
	check_done();
}

static uint32_t
want(int what)
{
	return (what & CURL_POLL_IN ? EPOLLIN : 0) |
	    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
}

static int
sock_cb(CURL *e, curl_socket_t s, int what, void *u, void *sockp)
{
	struct hm_sock *hs = sockp;

	(void)e;
	(void)u;
	if (what == CURL_POLL_REMOVE) {
		if (hs != NULL) {
			evloop_unwatch(&hs->w);
			curl_multi_assign(multi, s, NULL);
			free(hs);
		}
		return 0;
	}
	if (hs != NULL)
		return evloop_rewatch(&hs->w, want(what)) < 0 ? -1 : 0;
	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		return -1;
	hs->w.fd = s;
	hs->w.cb = sock_ready;
	if (evloop_watch(&hs->w, want(what)) < 0) {
		log_warn("evloop: cannot watch an upstream socket");
		free(hs);
		return -1;
	}
	curl_multi_assign(multi, s, hs);
	return 0;
}

/* The loop thread, with the coroutine parked. */
static void
start(void *arg)
{
	struct hm_xfer *x = arg;
	CURLMcode mc;

	if (multi == NULL) {
		if ((multi = curl_multi_init()) == NULL) {
			x->cc = CURLE_OUT_OF_MEMORY;
			coro_wake(x->co);
			return;
		}
		tick.fn = on_tick;
		curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
		curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
		/*
		 * One connection per answer, as on a thread: no HTTP/2
		 * multiplexing of different accounts' chats on one
		 * connection, which no browser would do.
		 */
		curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
	}
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, (char *)x);
	if ((mc = curl_multi_add_handle(multi, x->h)) != CURLM_OK) {
		log_warn("upstream: cannot start a parked transfer: %s",
		    curl_multi_strerror(mc));
		curl_easy_setopt(x->h, CURLOPT_PRIVATE, NULL);
		x->cc = CURLE_FAILED_INIT;
		coro_wake(x->co);
	}
}

int
http_multi_perform(CURL *h, CURLcode *cc)
{
	struct hm_xfer x;

	x.h = h;
	x.cc = CURLE_OK;
	x.co = coro_self();
	if (x.co == NULL || coro_park(start, &x) < 0)
		return -1;
	*cc = x.cc;
	return 0;
}
