/*
 * fastmock_routes.c - bench/fastmock's request router: parses each
 * complete request, counts it and answers it by route (every provider's
 * routes; /_fastmock/stats prints the counters).
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

enum {
	R_PAGE, R_SENTINEL, R_CONV, R_DS_USER, R_DS_SESSION, R_DS_POW,
	R_DS_COMPLETION, R_DS_DELETE, R_QA_NEW, R_QA_COMPLETION, R_QA_DELETE,
	R_QA_OTHER,
	R_MM_REGISTER, R_MM_SEND, R_MM_DETAIL, R_MM_DELETE,
	R_ZAI_SETTINGS, R_ZAI_NEW, R_ZAI_COMPLETION, R_ZAI_DELETE,
	R_KIMI_REFRESH, R_KIMI_CHAT, R_KIMI_DELETE, R_KIMI_SUB,
	R_GLM_REFRESH, R_GLM_STREAM, R_GLM_DELETE,
	R_QW_CHAT, R_QW_DELETE, R_QW_LIST,
	R_OTHER, R__MAX
};
static unsigned long	 counters[R__MAX];
static const char *const route_names[R__MAX] = {
	"page", "sentinel", "conversation", "ds_users_current",
	"ds_session_create", "ds_pow_challenge", "ds_completion",
	"ds_session_delete", "qa_chat_new", "qa_completion", "qa_chat_delete",
	"qa_user_models",
	"mm_register", "mm_send", "mm_detail", "mm_delete",
	"zai_settings", "zai_chat_new", "zai_completion", "zai_chat_delete",
	"kimi_refresh", "kimi_chat", "kimi_delete", "kimi_subscription",
	"glm_refresh", "glm_stream", "glm_delete",
	"qw_chat", "qw_session_delete", "qw_session_list",
	"other"
};

#define IS(path)	(plen == sizeof(path) - 1 && memcmp(sp1, path, plen) == 0)

/*
 * Answers as many complete requests as the input holds (stopping at a
 * paced stream).  Returns -1 to drop the connection.
 */
int
fm_process(struct loop *l, struct conn *c)
{
	while (c->sse == NULL && !c->close_after) {
		char	*end, *sp1, *sp2, *q;
		const char *v;
		size_t	 hlen, blen = 0, vlen, plen, total;
		int	 http10, is_get, is_post, is_delete;

		if ((end = memmem(c->in, c->inlen, "\r\n\r\n", 4)) == NULL) {
			if (c->inlen > MAX_HEAD)
				return -1;
			return 0;
		}
		hlen = (size_t)(end - c->in) + 4;
		if ((sp1 = memchr(c->in, ' ', hlen)) == NULL ||
		    (sp2 = memchr(sp1 + 1, ' ', hlen - (size_t)(sp1 + 1 -
		    c->in))) == NULL)
			return -1;
		http10 = strncmp(sp2 + 1, "HTTP/1.0", 8) == 0;
		if ((v = fm_header_value(c->in, hlen, "content-length", &vlen))
		    != NULL)
			blen = strtoul(v, NULL, 10);
		if (fm_header_value(c->in, hlen, "transfer-encoding", &vlen)) {
			c->close_after = 1;
			fm_answer_simple(c, 411, "application/json",
			    "{\"detail\":\"fastmock: chunked request bodies "
			    "are not supported\"}");
			return 0;
		}
		if (blen > MAX_BODY)
			return -1;
		total = hlen + blen;
		if (c->inlen < total)
			return 0;
		if ((v = fm_header_value(c->in, hlen, "connection", &vlen)) !=
		    NULL) {
			if (vlen == 5 && strncasecmp(v, "close", 5) == 0)
				c->close_after = 1;
			else if (http10 && vlen == 10 &&
			    strncasecmp(v, "keep-alive", 10) == 0)
				http10 = 0;
		}
		if (http10)
			c->close_after = 1;

		is_get = sp1 - c->in == 3 && memcmp(c->in, "GET", 3) == 0;
		is_post = sp1 - c->in == 4 && memcmp(c->in, "POST", 4) == 0;
		is_delete = sp1 - c->in == 6 && memcmp(c->in, "DELETE", 6) == 0;
		plen = (size_t)(sp2 - (sp1 + 1));
		if ((q = memchr(sp1 + 1, '?', plen)) != NULL)
			plen = (size_t)(q - (sp1 + 1));
		sp1++;
		if (is_get && plen == 1 && *sp1 == '/') {
			__atomic_fetch_add(&counters[R_PAGE], 1,
			    __ATOMIC_RELAXED);
			fm_out_add(c, fm_page_resp, fm_page_len);
		} else if (is_post && fm_ends_with(sp1, plen,
		    "/sentinel/chat-requirements")) {
			__atomic_fetch_add(&counters[R_SENTINEL], 1,
			    __ATOMIC_RELAXED);
			fm_out_add(c, fm_sentinel_resp, fm_sentinel_len);
		} else if (is_post && fm_ends_with(sp1, plen, "/conversation")) {
			__atomic_fetch_add(&counters[R_CONV], 1,
			    __ATOMIC_RELAXED);
			const char *d = blen ? memmem(c->in + hlen, blen,
			    DELAY_MARK, sizeof(DELAY_MARK) - 1) : NULL;
			const struct canned *a = blen && memmem(c->in + hlen,
			    blen, "\"v1\"", 4) ? &fm_sse_v1 : &fm_sse_old;

			if (blen && memmem(c->in + hlen, blen, STAMP_MARK,
			    sizeof(STAMP_MARK) - 1))
				a = &fm_sse_stamp;
			fm_answer_sse(l, c, a, d ? atoi(d +
			    sizeof(DELAY_MARK) - 1) : fm_delay_ms);
		} else if (is_get && plen == sizeof(DS_USER) - 1 &&
		    memcmp(sp1, DS_USER, plen) == 0) {
			__atomic_fetch_add(&counters[R_DS_USER], 1,
			    __ATOMIC_RELAXED);
			fm_out_add(c, fm_ds_user_resp, fm_ds_user_len);
		} else if (is_post && plen == sizeof(DS_SESSION) - 1 &&
		    memcmp(sp1, DS_SESSION, plen) == 0) {
			char	 b[512];
			unsigned long id;

			__atomic_fetch_add(&counters[R_DS_SESSION], 1,
			    __ATOMIC_RELAXED);
			id = __atomic_add_fetch(&fm_ds_sessions, 1,
			    __ATOMIC_RELAXED);
			snprintf(b, sizeof(b), "{\"code\":0,\"msg\":\"\","
			    "\"data\":{\"biz_code\":0,\"biz_msg\":\"\","
			    "\"biz_data\":{\"chat_session\":{\"id\":"
			    "\"dddddddd-0000-4000-8000-%012lx\",\"seq_id\":%lu,"
			    "\"agent\":\"chat\",\"title\":null,"
			    "\"inserted_at\":1736175600.0,\"updated_at\":"
			    "1736175600.0,\"model_type\":\"default\"},"
			    "\"ttl_seconds\":259200}}}", id, id);
			fm_answer_simple(c, 200, "application/json", b);
		} else if (is_post && plen == sizeof(DS_POW) - 1 &&
		    memcmp(sp1, DS_POW, plen) == 0) {
			__atomic_fetch_add(&counters[R_DS_POW], 1,
			    __ATOMIC_RELAXED);
			fm_out_add(c, fm_ds_pow_resp, fm_ds_pow_len);
		} else if (is_post && plen == sizeof(DS_TARGET) - 1 &&
		    memcmp(sp1, DS_TARGET, plen) == 0) {
			const char *d = blen ? memmem(c->in + hlen, blen,
			    DELAY_MARK, sizeof(DELAY_MARK) - 1) : NULL;

			__atomic_fetch_add(&counters[R_DS_COMPLETION], 1,
			    __ATOMIC_RELAXED);
			fm_answer_sse(l, c, &fm_sse_ds, d ? atoi(d +
			    sizeof(DELAY_MARK) - 1) : fm_delay_ms);
		} else if (is_post && plen == sizeof(DS_DELETE) - 1 &&
		    memcmp(sp1, DS_DELETE, plen) == 0) {
			__atomic_fetch_add(&counters[R_DS_DELETE], 1,
			    __ATOMIC_RELAXED);
			fm_out_add(c, fm_ds_delete_resp, fm_ds_delete_len);
		} else if (is_get && ((plen == sizeof(QA_USER) - 1 &&
		    memcmp(sp1, QA_USER, plen) == 0) || (plen ==
		    sizeof(QA_MODELS) - 1 && memcmp(sp1, QA_MODELS, plen) ==
		    0))) {
			__atomic_fetch_add(&counters[R_QA_OTHER], 1,
			    __ATOMIC_RELAXED);
			fm_answer_simple(c, 200, "application/json", sp1[5] == 'm' ?
			    "{\"data\":[]}" : "{\"success\":true,\"data\":{"
			    "\"id\":\"u\",\"name\":\"bench\",\"email\":"
			    "\"b@example.com\"}}");
		} else if (is_post && plen == sizeof(QA_NEW) - 1 &&
		    memcmp(sp1, QA_NEW, plen) == 0) {
			char	 b[256];

			__atomic_fetch_add(&counters[R_QA_NEW], 1,
			    __ATOMIC_RELAXED);
			snprintf(b, sizeof(b), "{\"success\":true,\"data\":{"
			    "\"id\":\"qqqqqqqq-0000-4000-8000-%012lx\"}}",
			    __atomic_add_fetch(&fm_qa_chats, 1, __ATOMIC_RELAXED));
			fm_answer_simple(c, 200, "application/json", b);
		} else if (is_post && IS(ZAI_COMPLETION) && fm_header_value(c->in,
		    hlen, "x-signature", &vlen) != NULL) {
			/* Z.ai's completion has Qwen AI's path; it signs */
			__atomic_fetch_add(&counters[R_ZAI_COMPLETION], 1,
			    __ATOMIC_RELAXED);
			fm_answer_paced(l, c, &fm_sse_zai, c->in + hlen, blen);
		} else if (is_post && plen == sizeof(QA_COMPLETION) - 1 &&
		    memcmp(sp1, QA_COMPLETION, plen) == 0) {
			const char *d = blen ? memmem(c->in + hlen, blen,
			    DELAY_MARK, sizeof(DELAY_MARK) - 1) : NULL;

			__atomic_fetch_add(&counters[R_QA_COMPLETION], 1,
			    __ATOMIC_RELAXED);
			fm_answer_sse(l, c, &fm_sse_qa, d ? atoi(d +
			    sizeof(DELAY_MARK) - 1) : fm_delay_ms);
		} else if (is_delete && plen > sizeof(QA_CHATS) - 1 &&
		    memcmp(sp1, QA_CHATS, sizeof(QA_CHATS) - 1) == 0) {
			__atomic_fetch_add(&counters[R_QA_DELETE], 1,
			    __ATOMIC_RELAXED);
			fm_answer_simple(c, 200, "application/json",
			    "{\"success\":true,\"data\":{\"status\":true}}");
		} else if (is_post && IS(MM_REGISTER)) {
			__atomic_fetch_add(&counters[R_MM_REGISTER], 1,
			    __ATOMIC_RELAXED);
			fm_answer_simple(c, 200, "application/json",
			    "{\"statusInfo\":{\"code\":0,\"message\":"
			    "\"success\"},\"data\":{\"deviceIDStr\":"
			    "\"300000000000000001\",\"realUserID\":\"1\"}}");
		} else if (is_post && IS(MM_SEND)) {
			__atomic_fetch_add(&counters[R_MM_SEND], 1,
			    __ATOMIC_RELAXED);
			fm_mm_send(c, c->in + hlen, blen);
		} else if (is_post && IS(MM_DETAIL)) {
			__atomic_fetch_add(&counters[R_MM_DETAIL], 1,
			    __ATOMIC_RELAXED);
			fm_mm_detail(c, c->in + hlen, blen);
		} else if (is_post && IS(MM_DELETE)) {
			__atomic_fetch_add(&counters[R_MM_DELETE], 1,
			    __ATOMIC_RELAXED);
			fm_answer_simple(c, 200, "application/json",
			    "{\"base_resp\":{\"status_code\":0,"
			    "\"status_msg\":\"success\"}}");
		} else if (is_get && IS(ZAI_SETTINGS)) {
			__atomic_fetch_add(&counters[R_ZAI_SETTINGS], 1,
			    __ATOMIC_RELAXED);
			fm_answer_simple(c, 200, "application/json", "{}");
		} else if (is_post && IS(ZAI_NEW)) {
			char	 b[128];

			__atomic_fetch_add(&counters[R_ZAI_NEW], 1,
			    __ATOMIC_RELAXED);
			snprintf(b, sizeof(b), "{\"id\":"
			    "\"eeeeeeee-0000-4000-8000-%012lx\","
			    "\"title\":\"New Chat\"}", __atomic_add_fetch(
			    &fm_zai_chats, 1, __ATOMIC_RELAXED));
			fm_answer_simple(c, 200, "application/json", b);
		} else if (is_delete && plen > sizeof(ZAI_CHATS) - 1 &&
		    memcmp(sp1, ZAI_CHATS, sizeof(ZAI_CHATS) - 1) == 0) {
			__atomic_fetch_add(&counters[R_ZAI_DELETE], 1,
			    __ATOMIC_RELAXED);
			fm_answer_simple(c, 200, "application/json", "true");
		} else if (is_get && IS(KIMI_REFRESH)) {
			__atomic_fetch_add(&counters[R_KIMI_REFRESH], 1,
			    __ATOMIC_RELAXED);
			fm_out_add(c, fm_kimi_refresh_resp, fm_kimi_refresh_len);
		} else if (is_post && fm_ends_with(sp1, plen,
		    ".ChatService/Chat")) {
			__atomic_fetch_add(&counters[R_KIMI_CHAT], 1,
			    __ATOMIC_RELAXED);
			fm_answer_paced(l, c, &fm_sse_kimi, c->in + hlen, blen);
		} else if (is_post && fm_ends_with(sp1, plen,
		    ".ChatService/DeleteChat")) {
			__atomic_fetch_add(&counters[R_KIMI_DELETE], 1,
			    __ATOMIC_RELAXED);
			fm_out_add(c, fm_kimi_delete_resp, fm_kimi_delete_len);
		} else if (is_post && fm_ends_with(sp1, plen,
		    ".SubscriptionService/GetSubscription")) {
			__atomic_fetch_add(&counters[R_KIMI_SUB], 1,
			    __ATOMIC_RELAXED);
			fm_out_add(c, fm_kimi_sub_resp, fm_kimi_sub_len);
		} else if (is_post && IS(GLM_REFRESH)) {
			__atomic_fetch_add(&counters[R_GLM_REFRESH], 1,
			    __ATOMIC_RELAXED);
			fm_out_add(c, fm_glm_refresh_resp, fm_glm_refresh_len);
		} else if (is_post && IS(GLM_STREAM)) {
			__atomic_fetch_add(&counters[R_GLM_STREAM], 1,
			    __ATOMIC_RELAXED);
			fm_answer_paced(l, c, &fm_sse_glm, c->in + hlen, blen);
		} else if (is_post && IS(GLM_DELETE)) {
			__atomic_fetch_add(&counters[R_GLM_DELETE], 1,
			    __ATOMIC_RELAXED);
			fm_out_add(c, fm_glm_delete_resp, fm_glm_delete_len);
		} else if (is_post && IS(QW_CHAT)) {
			__atomic_fetch_add(&counters[R_QW_CHAT], 1,
			    __ATOMIC_RELAXED);
			fm_answer_paced(l, c, &fm_sse_qw, c->in + hlen, blen);
		} else if (is_post && IS(QW_DELETE)) {
			__atomic_fetch_add(&counters[R_QW_DELETE], 1,
			    __ATOMIC_RELAXED);
			fm_answer_simple(c, 200, "application/json",
			    "{\"success\":true,\"code\":0,\"msg\":\"\","
			    "\"data\":true}");
		} else if (is_post && IS(QW_LIST)) {
			__atomic_fetch_add(&counters[R_QW_LIST], 1,
			    __ATOMIC_RELAXED);
			fm_answer_simple(c, 200, "application/json",
			    "{\"success\":true,\"code\":0,\"msg\":\"\","
			    "\"data\":{\"list\":[],\"hasMore\":false}}");
		} else if (is_get && plen == sizeof(STATS_PATH) - 1 &&
		    memcmp(sp1, STATS_PATH, plen) == 0) {
			char	 b[2048];
			int	 i;
			size_t	 n = 0;

			for (i = 0; i < R__MAX; i++)
				n += (size_t)snprintf(b + n, sizeof(b) - n,
				    "%s\"%s\":%lu", i ? "," : "{",
				    route_names[i], __atomic_load_n(
				    &counters[i], __ATOMIC_RELAXED));
			snprintf(b + n, sizeof(b) - n, "}");
			fm_answer_simple(c, 200, "application/json", b);
		} else {
			__atomic_fetch_add(&counters[R_OTHER], 1,
			    __ATOMIC_RELAXED);
			fm_answer_simple(c, 404, "application/json",
			    "{\"detail\":\"Not Found\"}");
		}
		memmove(c->in, c->in + total, c->inlen - total);
		c->inlen -= total;
	}
	return 0;
}
