/*
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
 *
 * The bound port is also printed as "fastmock: port N" on stdout.  SIGTERM
 * and SIGINT stop it.  Linux only (epoll, accept4).
 *
 *   cc -O2 -Wall -pthread -o fastmock bench/fastmock.c    (or bench/build.sh)
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

#define MAX_HEAD	(64 * 1024)	/* request line + headers */
#define MAX_BODY	(8 * 1024 * 1024)
#define MAX_EVENTS	64
#define MAX_SSE_EVENTS	64
#define STATS_PATH	"/_fastmock/stats"
#define DS_USER		"/api/v0/users/current"
#define DS_SESSION	"/api/v0/chat_session/create"
#define DS_POW		"/api/v0/chat/create_pow_challenge"
#define DS_DELETE	"/api/v0/chat_session/delete"
#define QA_USER		"/api/v2/user"
#define QA_MODELS	"/api/models"
#define QA_NEW		"/api/v2/chats/new"
#define QA_COMPLETION	"/api/v2/chat/completions"
#define QA_CHATS	"/api/v2/chats/"
#define MM_REGISTER	"/v1/api/user/device/register"
#define MM_SEND		"/matrix/api/v1/chat/send_msg"
#define MM_DETAIL	"/matrix/api/v1/chat/get_chat_detail"
#define MM_DELETE	"/matrix/api/v1/chat/delete_chat"
#define MM_CHATS	65536		/* births kept (ring, by chat id) */
#define ZAI_SETTINGS	"/api/v1/users/user/settings"
#define ZAI_NEW		"/api/v1/chats/new"
#define ZAI_COMPLETION	"/api/v2/chat/completions"	/* = QA_COMPLETION */
#define ZAI_CHATS	"/api/v1/chats/"
#define KIMI_REFRESH	"/api/auth/token/refresh"
#define KIMI_END	0x02	/* the end-of-stream envelope's flag */
#define KIMI_ACCESS	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhcHBfaWQiOiJr" \
	"aW1pIiwidHlwIjoiYWNjZXNzIiwic3ViIjoiYmVuY2hraW1pIiwiZGV2aWNlX2lkIjoi" \
	"NzQwMDAwMDAwMDAwMDAwMDAwMSIsInNzaWQiOiIxNzMwMDAwMDAwMDAwMDAwMDAxIiwi" \
	"aWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.ZmFzdG1vY2s"
#define GLM_REFRESH	"/chatglm/user-api/user/refresh"
#define GLM_STREAM	"/chatglm/backend-api/assistant/stream"
#define GLM_DELETE	"/chatglm/backend-api/assistant/conversation/delete"
#define GLM_CID		"fa57c0ffee0000000000beef"
#define QW_CHAT		"/api/v2/chat"
#define QW_DELETE	"/api/v1/session/delete/batch"
#define QW_LIST		"/api/v2/session/page/list"
#define DELAY_MARK	"fastmock-delay="

/* ------------------------------------------------------------------ */
/* canned answers */

struct canned {
	const char *ctype;		/* NULL: text/event-stream */
	char	*buf;			/* whole SSE body */
	size_t	 len;
	size_t	 off[MAX_SSE_EVENTS + 1];	/* event i = [off[i], off[i+1]) */
	int	 nev;
};

static struct canned	 sse_old, sse_v1, sse_ds, sse_qa, sse_zai, sse_kimi,
			 sse_glm, sse_qw;
static char		*page_resp, *sentinel_resp;
static size_t		 page_len, sentinel_len;
static char		*ds_user_resp, *ds_pow_resp, *ds_delete_resp;
static size_t		 ds_user_len, ds_pow_len, ds_delete_len;
static char		*kimi_refresh_resp, *kimi_sub_resp, *kimi_delete_resp;
static size_t		 kimi_refresh_len, kimi_sub_len, kimi_delete_len;
static char		*glm_refresh_resp, *glm_delete_resp;
static size_t		 glm_refresh_len, glm_delete_len;
static const char	*difficulty = "0fffff";
static long		 ds_difficulty = 1000;
static unsigned long	 ds_sessions;	/* ids of created chat sessions */
static unsigned long	 qa_chats;	/* ids of created Qwen AI chats */
static unsigned long	 zai_chats;	/* ids of created Z.ai chats */
static unsigned long	 mm_chats;	/* ids of created MiniMax chats */
static uint64_t		 mm_birth[MM_CHATS];	/* ms epoch */
static int		 mm_pace[MM_CHATS];	/* ms per part */
static int		 mm_step;
static int		 delay_ms;
static int		 chunked;
static int		 snapshots = 8;
static volatile sig_atomic_t stop;

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

static void
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "fastmock: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void
canned_add(struct canned *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	if (c->nev >= MAX_SSE_EVENTS)
		die("too many SSE events (-n too large)");
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || (c->buf = realloc(c->buf, c->len + (size_t)n + 1)) == NULL)
		die("out of memory");
	memcpy(c->buf + c->len, s, (size_t)n + 1);
	free(s);
	c->off[c->nev++] = c->len;
	c->len += (size_t)n;
	c->off[c->nev] = c->len;
}

/* One Connect envelope (Kimi, §4.4): flags, big-endian length, the JSON. */
static void
canned_env(struct canned *c, unsigned flags, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	if (c->nev >= MAX_SSE_EVENTS)
		die("too many envelopes (-n too large)");
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || (c->buf = realloc(c->buf, c->len + (size_t)n + 5)) == NULL)
		die("out of memory");
	c->buf[c->len] = (char)flags;
	c->buf[c->len + 1] = (char)((unsigned)n >> 24);
	c->buf[c->len + 2] = (char)((unsigned)n >> 16);
	c->buf[c->len + 3] = (char)((unsigned)n >> 8);
	c->buf[c->len + 4] = (char)n;
	memcpy(c->buf + c->len + 5, s, (size_t)n);
	free(s);
	c->off[c->nev++] = c->len;
	c->len += (size_t)n + 5;
	c->off[c->nev] = c->len;
}

/* The assistant text after k of the snapshots. */
static const char *const words[] = {
	"Hello", "! This", " is", " fastmock", ", a", " canned", " answer",
	" for", " chat2api", " benchmarks", " — no", " checks", " done",
	" here", ".", " Bye", ".",
};
#define NWORDS	(sizeof(words) / sizeof(words[0]))

static void
text_upto(int k, char *out, size_t outsz)
{
	size_t	 n = 0;
	int	 i;

	out[0] = '\0';
	for (i = 0; i < k; i++) {
		const char *w = words[(size_t)i % NWORDS];
		size_t l = strlen(w);

		if (n + l + 1 > outsz)
			break;
		memcpy(out + n, w, l + 1);
		n += l;
	}
}

#define UID	"aaaaaaaa-0000-4000-8000-000000000001"
#define AID	"aaaaaaaa-0000-4000-8000-000000000002"
#define CID	"cccccccc-0000-4000-8000-000000000003"
#define USER_MSG \
	"{\"message\":{\"id\":\"" UID "\",\"author\":{\"role\":\"user\"," \
	"\"name\":null,\"metadata\":{}},\"create_time\":1736175600.0," \
	"\"update_time\":null,\"content\":{\"content_type\":\"text\"," \
	"\"parts\":[\"hi\"]},\"status\":\"finished_successfully\"," \
	"\"end_turn\":null,\"weight\":1.0,\"metadata\":{}," \
	"\"recipient\":\"all\",\"channel\":null},\"conversation_id\":\"" CID \
	"\",\"error\":null}"
#define ASSIST_FMT \
	"{\"message\":{\"id\":\"" AID "\",\"author\":{\"role\":\"assistant\"," \
	"\"name\":null,\"metadata\":{}},\"create_time\":1736175600.1," \
	"\"update_time\":null,\"content\":{\"content_type\":\"text\"," \
	"\"parts\":[\"%s\"]},\"status\":\"%s\",\"end_turn\":%s," \
	"\"weight\":1.0,\"metadata\":{\"citations\":[]," \
	"\"content_references\":[],\"message_type\":\"next\"," \
	"\"model_slug\":\"gpt-4o\",\"default_model_slug\":\"auto\"," \
	"\"parent_id\":\"" UID "\"%s},\"recipient\":\"all\"," \
	"\"channel\":null},\"conversation_id\":\"" CID "\",\"error\":null}"
#define FINISH_META \
	",\"finish_details\":{\"type\":\"stop\",\"stop_tokens\":[200002]}," \
	"\"is_complete\":true"
#define TITLE \
	"{\"type\":\"title_generation\",\"title\":\"Fastmock\"," \
	"\"conversation_id\":\"" CID "\"}"

static void
build_canned(void)
{
	char	 text[1024], prev[1024];
	int	 k;

	/* §5.1: every event carries the whole message so far */
	canned_add(&sse_old, "data: " USER_MSG "\n\n");
	canned_add(&sse_old, "data: " ASSIST_FMT "\n\n", "", "in_progress",
	    "null", "");
	for (k = 1; k <= snapshots; k++) {
		text_upto(k, text, sizeof(text));
		canned_add(&sse_old, "data: " ASSIST_FMT "\n\n", text,
		    "in_progress", "null", "");
	}
	canned_add(&sse_old, "data: " ASSIST_FMT "\n\n", text,
	    "finished_successfully", "true", FINISH_META);
	canned_add(&sse_old, "data: " TITLE "\n\n");
	canned_add(&sse_old, "data: [DONE]\n\n");

	/* §5.2: the same answer as v1 deltas */
	canned_add(&sse_v1, "event: delta_encoding\ndata: \"v1\"\n\n");
	canned_add(&sse_v1, "event: delta\ndata: {\"p\":\"\",\"o\":\"add\","
	    "\"v\":" USER_MSG ",\"c\":0}\n\n");
	canned_add(&sse_v1, "event: delta\ndata: {\"v\":" ASSIST_FMT
	    ",\"c\":1}\n\n", "", "in_progress", "null", "");
	prev[0] = '\0';
	for (k = 1; k <= snapshots; k++) {
		text_upto(k, text, sizeof(text));
		if (k == 1)
			canned_add(&sse_v1, "event: delta\ndata: {\"p\":"
			    "\"/message/content/parts/0\",\"o\":\"append\","
			    "\"v\":\"%s\"}\n\n", text + strlen(prev));
		else
			canned_add(&sse_v1, "event: delta\ndata: {\"v\":\"%s\"}"
			    "\n\n", text + strlen(prev));
		memcpy(prev, text, sizeof(prev));
	}
	canned_add(&sse_v1, "event: delta\ndata: {\"p\":\"\",\"o\":\"patch\","
	    "\"v\":[{\"p\":\"/message/status\",\"o\":\"replace\","
	    "\"v\":\"finished_successfully\"},{\"p\":\"/message/end_turn\","
	    "\"o\":\"replace\",\"v\":true},{\"p\":\"/message/metadata\","
	    "\"o\":\"append\",\"v\":{\"is_complete\":true,\"finish_details\":"
	    "{\"type\":\"stop\",\"stop_tokens\":[200002]}}}]}\n\n");
	canned_add(&sse_v1, "data: {\"type\":\"message_stream_complete\","
	    "\"conversation_id\":\"" CID "\"}\n\n");
	canned_add(&sse_v1, "data: " TITLE "\n\n");
	canned_add(&sse_v1, "data: [DONE]\n\n");
}

static char *
full_response(const char *ctype, const char *body, size_t *lenp)
{
	char	*s;
	int	 n;

	n = asprintf(&s, "HTTP/1.1 200 OK\r\nServer: fastmock\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", ctype,
	    strlen(body), body);
	if (n < 0)
		die("out of memory");
	*lenp = (size_t)n;
	return s;
}

static void
build_fixed(void)
{
	char	*body;

	page_resp = full_response("text/html; charset=utf-8",
	    "<!DOCTYPE html><html data-build=\"prod-fastmock\"><head>"
	    "<script src=\"https://cdn.oaistatic.com/_next/static/c/"
	    "FASTMOCK/_/main.js\"></script></head><body>fastmock</body>"
	    "</html>\n", &page_len);
	if (asprintf(&body, "{\"persona\":\"chatgpt-noauth\","
	    "\"token\":\"gAAAAABfastmock-chat-requirements-token\","
	    "\"expire_after\":540,\"expire_at\":4102444800,"
	    "\"proofofwork\":{\"required\":true,\"seed\":\"0.42\","
	    "\"difficulty\":\"%s\"},\"turnstile\":{\"required\":false},"
	    "\"arkose\":{\"required\":false,\"dx\":null}}", difficulty) < 0)
		die("out of memory");
	sentinel_resp = full_response("application/json", body, &sentinel_len);
	free(body);
}

/* ------------------------------------------------------------------ */
/* DeepSeek (protocols/providers.md §2) */

/*
 * DeepSeekHashV1 (§2.6): SHA3-256 whose Keccak-f[1600] skips the first
 * round.  Plain and slow (it runs once, at start), written from the
 * description in §2.6 and kept apart from chat2api's upstream/deepseek/
 * pow.c, so that a challenge chat2api solves here is also a check of the
 * two against each other.
 */
#define DS_RATE		136
#define DS_HASH_LEN	32
#define DS_SALT		"fa57c0defa57c0de0123"
#define DS_SIGNATURE	"5157ed0000000000000000000000000000000000000000000000" \
			"000000000000"
#define DS_EXPIRE_AT	4102444800000LL		/* 2100-01-01, ms */
#define DS_TARGET	"/api/v0/chat/completion"

static uint64_t
rotl64(uint64_t v, int n)
{
	return n == 0 ? v : (v << n) | (v >> (64 - n));
}

static void
ds_permute(uint64_t a[25])
{
	static const uint64_t rc[24] = {
		0x0000000000000001ULL, 0x0000000000008082ULL,
		0x800000000000808aULL, 0x8000000080008000ULL,
		0x000000000000808bULL, 0x0000000080000001ULL,
		0x8000000080008081ULL, 0x8000000000008009ULL,
		0x000000000000008aULL, 0x0000000000000088ULL,
		0x0000000080008009ULL, 0x000000008000000aULL,
		0x000000008000808bULL, 0x800000000000008bULL,
		0x8000000000008089ULL, 0x8000000000008003ULL,
		0x8000000000008002ULL, 0x8000000000000080ULL,
		0x000000000000800aULL, 0x800000008000000aULL,
		0x8000000080008081ULL, 0x8000000000008080ULL,
		0x0000000080000001ULL, 0x8000000080008008ULL,
	};
	/* rotation of lane (x, y), indexed [x][y] */
	static const int rot[5][5] = {
		{ 0, 36, 3, 41, 18 }, { 1, 44, 10, 45, 2 },
		{ 62, 6, 43, 15, 61 }, { 28, 55, 25, 21, 56 },
		{ 27, 20, 39, 8, 14 },
	};
	uint64_t c[5], d[5], b[25];
	int	 i, x, y;

	for (i = 1; i < 24; i++) {		/* round 0 is skipped */
		for (x = 0; x < 5; x++)
			c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^
			    a[x + 20];
		for (x = 0; x < 5; x++)
			d[x] = c[(x + 4) % 5] ^ rotl64(c[(x + 1) % 5], 1);
		for (y = 0; y < 5; y++)
			for (x = 0; x < 5; x++)
				a[x + 5 * y] ^= d[x];
		for (y = 0; y < 5; y++)
			for (x = 0; x < 5; x++)
				b[y + 5 * ((2 * x + 3 * y) % 5)] =
				    rotl64(a[x + 5 * y], rot[x][y]);
		for (y = 0; y < 5; y++)
			for (x = 0; x < 5; x++)
				a[x + 5 * y] = b[x + 5 * y] ^
				    (~b[(x + 1) % 5 + 5 * y] &
				    b[(x + 2) % 5 + 5 * y]);
		a[0] ^= rc[i];
	}
}

static void
ds_hash(const char *msg, size_t len, unsigned char out[DS_HASH_LEN])
{
	unsigned char	 blk[DS_RATE];
	uint64_t	 a[25];
	size_t		 off = 0, n, k;
	int		 last = 0;

	memset(a, 0, sizeof(a));
	while (!last) {
		n = len - off < DS_RATE ? len - off : DS_RATE;
		memset(blk, 0, sizeof(blk));
		memcpy(blk, msg + off, n);
		off += n;
		if (n < DS_RATE) {		/* the padding fits here */
			blk[n] ^= 0x06;
			blk[DS_RATE - 1] ^= 0x80;
			last = 1;
		}
		for (k = 0; k < DS_RATE; k++)
			a[k / 8] ^= (uint64_t)blk[k] << (8 * (k % 8));
		ds_permute(a);
	}
	for (k = 0; k < DS_HASH_LEN; k++)
		out[k] = (unsigned char)(a[k / 8] >> (8 * (k % 8)));
}

static void
ds_hex(const unsigned char *h, size_t n, char *out)
{
	size_t	 k;

	for (k = 0; k < n; k++) {
		out[2 * k] = "0123456789abcdef"[h[k] >> 4];
		out[2 * k + 1] = "0123456789abcdef"[h[k] & 15];
	}
	out[2 * n] = '\0';
}

static char *
ds_envelope(const char *biz_data, size_t *lenp)
{
	char	*body, *resp;

	if (asprintf(&body, "{\"code\":0,\"msg\":\"\",\"data\":{\"biz_code\":0,"
	    "\"biz_msg\":\"\",\"biz_data\":%s}}", biz_data) < 0)
		die("out of memory");
	resp = full_response("application/json", body, lenp);
	free(body);
	return resp;
}

static void
build_deepseek(void)
{
	unsigned char	 h[DS_HASH_LEN];
	char		 hex[2 * DS_HASH_LEN + 1], msg[128], *biz;
	int		 n;

	/* §2.6's vector of H("salt_1700000000_0") first */
	ds_hash("salt_1700000000_0", 17, h);
	ds_hex(h, sizeof(h), hex);
	if (strcmp(hex, "eb1554b3f98c63cde3da0be54e8e8d6f0328c6a78ebb096aad42"
	    "b9d406546c45") != 0)
		die("DeepSeekHashV1 self-test failed");
	n = snprintf(msg, sizeof(msg), "%s_%lld_%ld", DS_SALT, DS_EXPIRE_AT,
	    ds_difficulty / 2);
	ds_hash(msg, (size_t)n, h);
	ds_hex(h, sizeof(h), hex);

	ds_user_resp = ds_envelope("{\"id\":\"u\",\"email\":\"b@example.com\","
	    "\"token\":\"bench-bearer\"}", &ds_user_len);
	if (asprintf(&biz, "{\"challenge\":{\"algorithm\":\"DeepSeekHashV1\","
	    "\"challenge\":\"%s\",\"salt\":\"" DS_SALT "\",\"signature\":\""
	    DS_SIGNATURE "\",\"difficulty\":%ld,\"expire_at\":%lld,"
	    "\"expire_after\":300000,\"target_path\":\"" DS_TARGET "\"}}",
	    hex, ds_difficulty, DS_EXPIRE_AT) < 0)
		die("out of memory");
	ds_pow_resp = ds_envelope(biz, &ds_pow_len);
	free(biz);
	ds_delete_resp = ds_envelope("null", &ds_delete_len);

	/* §2.7, as the real stream orders it */
	canned_add(&sse_ds, "event: ready\ndata: {\"request_message_id\":1,"
	    "\"response_message_id\":2}\n\n");
	canned_add(&sse_ds, "event: update_session\ndata: {\"updated_at\":"
	    "1736175600.123456}\n\n");
	canned_add(&sse_ds, "data: {\"v\":{\"response\":{\"message_id\":2,"
	    "\"parent_id\":1,\"model\":\"\",\"role\":\"ASSISTANT\","
	    "\"thinking_enabled\":false,\"ban_edit\":false,"
	    "\"ban_regenerate\":false,\"status\":\"WIP\","
	    "\"accumulated_token_usage\":null,\"files\":[],\"feedback\":null,"
	    "\"inserted_at\":1736175600.1,\"search_enabled\":false,"
	    "\"fragments\":[],\"has_pending_fragment\":true,"
	    "\"auto_continue\":false}}}\n\n");
	canned_add(&sse_ds, "data: {\"v\":[{\"v\":false,\"p\":"
	    "\"has_pending_fragment\"},{\"v\":[{\"id\":1,\"type\":\"RESPONSE\","
	    "\"content\":\"%s\",\"references\":[],\"stage_id\":1}],"
	    "\"p\":\"fragments\",\"o\":\"APPEND\"}],\"p\":\"response\","
	    "\"o\":\"BATCH\"}\n\n", words[0]);
	for (n = 1; n <= snapshots; n++) {
		if (n == 1)
			canned_add(&sse_ds, "data: {\"v\":\"%s\",\"p\":"
			    "\"response/fragments/-1/content\","
			    "\"o\":\"APPEND\"}\n\n",
			    words[(size_t)n % NWORDS]);
		else
			canned_add(&sse_ds, "data: {\"v\":\"%s\"}\n\n",
			    words[(size_t)n % NWORDS]);
	}
	canned_add(&sse_ds, "data: {\"v\":[{\"v\":\"FINISHED\","
	    "\"p\":\"status\"},{\"v\":%d,\"p\":\"accumulated_token_usage\"}],"
	    "\"p\":\"response\",\"o\":\"BATCH\"}\n\n", 20 + snapshots);
	canned_add(&sse_ds, "event: finish\ndata: {}\n\n");
	canned_add(&sse_ds, "event: update_session\ndata: {\"updated_at\":"
	    "1736175601.234567}\n\n");
	canned_add(&sse_ds, "event: title\ndata: {\"content\":\"Fastmock\"}"
	    "\n\n");
	canned_add(&sse_ds, "event: close\ndata: {\"click_behavior\":\"none\","
	    "\"auto_resume\":false}\n\n");
}

/* Qwen AI (§7.4): an answer in -n deltas, then finished with usage. */
static void
build_qwenai(void)
{
	int	 n;

	canned_add(&sse_qa, "data: {\"response.created\":{\"chat_id\":"
	    "\"fastmock\",\"parent_id\":\"p\",\"response_id\":\"r\"}}\n\n");
	for (n = 0; n < snapshots; n++)
		canned_add(&sse_qa, "data: {\"choices\":[{\"delta\":{%s"
		    "\"content\":\"%s\",\"phase\":\"answer\",\"status\":"
		    "\"typing\"}}],\"usage\":{\"input_tokens\":9,"
		    "\"output_tokens\":%d}}\n\n", n == 0 ? "\"role\":"
		    "\"assistant\"," : "", words[(size_t)n % NWORDS], n + 1);
	canned_add(&sse_qa, "data: {\"choices\":[{\"delta\":{\"content\":"
	    "\"\",\"phase\":\"answer\",\"status\":\"finished\","
	    "\"finish_reason\":\"stop\"}}],\"usage\":{\"input_tokens\":9,"
	    "\"output_tokens\":%d,\"total_tokens\":%d}}\n\n", snapshots,
	    9 + snapshots);
	canned_add(&sse_qa, "data: [DONE]\n\n");
}

/* ------------------------------------------------------------------ */
/* Z.ai (protocols/providers.md §8) */

#define ZAI_EVENT	"data: {\"type\":\"chat:completion\",\"data\":"

static void
build_zai(void)
{
	int	 n;

	/* the same words as the DeepSeek answer, one delta each */
	for (n = 0; n <= snapshots; n++)
		canned_add(&sse_zai, ZAI_EVENT "{\"phase\":\"answer\","
		    "\"delta_content\":\"%s\"}}\n\n",
		    words[(size_t)n % NWORDS]);
	canned_add(&sse_zai, ZAI_EVENT "{\"phase\":\"other\",\"usage\":"
	    "{\"prompt_tokens\":9,\"completion_tokens\":%d,"
	    "\"total_tokens\":%d}}}\n\n", 11 + snapshots, 20 + snapshots);
	canned_add(&sse_zai, ZAI_EVENT "{\"phase\":\"done\",\"done\":true,"
	    "\"delta_content\":\"\"}}\n\n");
}

/* ------------------------------------------------------------------ */
/* Kimi (protocols/providers.md §4) */

static void
build_kimi(void)
{
	int	 n;

	kimi_refresh_resp = full_response("application/json",
	    "{\"access_token\":\"" KIMI_ACCESS "\"}", &kimi_refresh_len);
	kimi_sub_resp = full_response("application/json", "{\"subscription\":"
	    "{\"userId\":\"benchkimi\",\"userName\":\"fastmock\","
	    "\"type\":\"TYPE_FREE\"}}", &kimi_sub_len);
	kimi_delete_resp = full_response("application/json", "{}",
	    &kimi_delete_len);
	sse_kimi.ctype = "application/connect+json";
	canned_env(&sse_kimi, 0, "{\"op\":\"set\",\"mask\":\"chat\","
	    "\"eventOffset\":1,\"chat\":{\"id\":\"fastmock-chat\","
	    "\"name\":\"Fastmock\"}}");
	canned_env(&sse_kimi, 0, "{\"op\":\"set\",\"mask\":\"message\","
	    "\"eventOffset\":2,\"message\":{\"id\":\"fastmock-msg\","
	    "\"role\":\"assistant\",\"status\":\"MESSAGE_STATUS_GENERATING\"}}");
	for (n = 0; n <= snapshots; n++)
		canned_env(&sse_kimi, 0, "{\"op\":\"%s\",\"mask\":\"%s\","
		    "\"eventOffset\":%d,\"block\":{\"id\":\"0\",\"text\":"
		    "{\"content\":\"%s\"}}}", n ? "append" : "set", n ?
		    "block.text.content" : "block.text", n + 3,
		    words[(size_t)n % NWORDS]);
	canned_env(&sse_kimi, 0, "{\"done\":{}}");
	canned_env(&sse_kimi, KIMI_END, "{}");
}

/* ------------------------------------------------------------------ */
/* GLM (protocols/providers.md §3) */

#define GLM_SNAP \
	"data: {\"conversation_id\":\"" GLM_CID "\",\"status\":\"%s\"," \
	"\"parts\":[{\"logic_id\":\"fastmock-part-1\",\"status\":\"%s\"," \
	"\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]," \
	"\"meta_data\":{}}],\"last_error\":{}}\n\n"

static void
build_glm(void)
{
	char	 text[1024];
	int	 k;

	glm_refresh_resp = full_response("application/json", "{\"status\":0,"
	    "\"message\":\"success\",\"result\":{\"access_token\":"
	    "\"bench-glm-access\",\"user\":{\"id\":\"u\",\"email\":"
	    "\"b@example.com\"}}}", &glm_refresh_len);
	glm_delete_resp = full_response("application/json", "{\"status\":0,"
	    "\"message\":\"success\",\"result\":{}}", &glm_delete_len);
	/* §3.6: every snapshot carries the whole text so far */
	canned_add(&sse_glm, "data: {\"conversation_id\":\"" GLM_CID "\","
	    "\"status\":\"init\",\"parts\":[],\"last_error\":{}}\n\n");
	for (k = 1; k <= snapshots; k++) {
		text_upto(k, text, sizeof(text));
		canned_add(&sse_glm, GLM_SNAP, "processing", "init", text);
	}
	canned_add(&sse_glm, GLM_SNAP, "processing", "finish", text);
	canned_add(&sse_glm, GLM_SNAP, "finish", "finish", text);
}

/* ------------------------------------------------------------------ */
/* Qwen China (protocols/providers.md §6) */

/* §6.3: every event the whole answer so far, then complete. */
static void
build_qwen(void)
{
	char	 text[1024];
	int	 k;

	for (k = 1; k <= snapshots + 1; k++) {
		text_upto(k < snapshots ? k : snapshots, text, sizeof(text));
		canned_add(&sse_qw, "%sdata: {\"communication\":{\"sessionid\":"
		    "\"fastmock-session\",\"reqid\":\"fastmock-req\"},\"data\":"
		    "{\"messages\":[{\"mime_type\":\"multi_load/iframe\","
		    "\"content\":\"%s\",\"status\":\"%s\",\"meta_data\":"
		    "{\"multi_load\":[]}}]},\"error_code\":0,\"error_msg\":\"\"}"
		    "\n\n", k > snapshots ? "event: complete\n" : "", text,
		    k < snapshots ? "processing" : "finished");
	}
}

/* ------------------------------------------------------------------ */
/* connections */

struct conn {
	int			 fd;
	char			*in;
	size_t			 inlen, incap;
	char			*out;
	size_t			 outlen, outoff, outcap;
	int			 close_after;	/* close once out drains */
	int			 want_out;	/* EPOLLOUT registered */
	/* a paced SSE answer in progress (-d) */
	const struct canned	*sse;
	int			 next_ev;
	int			 delay;		/* ms between events */
	uint64_t		 due;		/* monotonic ns */
	int			 idx;		/* in loop->streams, or -1 */
};

struct loop {
	int		 ep;
	int		 lfd;
	struct conn	**streams;
	size_t		 nstreams, capstreams;
};

static char listen_tag;		/* epoll data for the listening socket */

static uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
out_add(struct conn *c, const void *p, size_t n)
{
	if (c->outlen + n > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 4096;

		while (cap < c->outlen + n)
			cap *= 2;
		if ((c->out = realloc(c->out, cap)) == NULL)
			die("out of memory");
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

static void
out_printf(struct conn *c, const char *fmt, ...)
{
	char	 tmp[512];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		out_add(c, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

static void	stream_untrack(struct loop *, struct conn *);

static void
conn_free(struct loop *l, struct conn *c)
{
	stream_untrack(l, c);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void
set_out_interest(struct loop *l, struct conn *c, int want)
{
	struct epoll_event	 ev;

	if (want == c->want_out)
		return;
	ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);
	ev.data.ptr = c;
	epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = want;
}

/* Writes what is pending; -1 when the connection is finished. */
static int
flush_out(struct loop *l, struct conn *c)
{
	ssize_t	 n;

	while (c->outoff < c->outlen) {
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_out_interest(l, c, 1);
				return 0;
			}
			return -1;
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	set_out_interest(l, c, 0);
	return c->close_after && c->sse == NULL ? -1 : 0;
}

static void
send_event(struct conn *c)
{
	const struct canned *s = c->sse;
	size_t	 n = s->off[c->next_ev + 1] - s->off[c->next_ev];

	if (chunked)
		out_printf(c, "%zx\r\n", n);
	out_add(c, s->buf + s->off[c->next_ev], n);
	if (chunked)
		out_add(c, "\r\n", 2);
	if (++c->next_ev == s->nev) {
		if (chunked)
			out_add(c, "0\r\n\r\n", 5);
		c->sse = NULL;
	}
}

static void
stream_track(struct loop *l, struct conn *c)
{
	if (l->nstreams == l->capstreams) {
		l->capstreams = l->capstreams ? 2 * l->capstreams : 64;
		if ((l->streams = realloc(l->streams, l->capstreams *
		    sizeof(*l->streams))) == NULL)
			die("out of memory");
	}
	c->idx = (int)l->nstreams;
	l->streams[l->nstreams++] = c;
}

static void
stream_untrack(struct loop *l, struct conn *c)
{
	if (c->idx < 0)
		return;
	l->streams[c->idx] = l->streams[--l->nstreams];
	l->streams[c->idx]->idx = c->idx;
	c->idx = -1;
}

static void
answer_sse(struct loop *l, struct conn *c, const struct canned *s, int delay)
{
	if (chunked)
		out_printf(c, "HTTP/1.1 200 OK\r\nServer: fastmock\r\n"
		    "Content-Type: %s\r\n"
		    "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
		    "\r\n", s->ctype ? s->ctype :
		    "text/event-stream; charset=utf-8");
	else
		out_printf(c, "HTTP/1.1 200 OK\r\nServer: fastmock\r\n"
		    "Content-Type: %s\r\n"
		    "Cache-Control: no-cache\r\nContent-Length: %zu\r\n\r\n",
		    s->ctype ? s->ctype : "text/event-stream; charset=utf-8",
		    s->len);
	c->sse = s;
	c->next_ev = 0;
	c->delay = delay;
	if (delay == 0) {
		if (!chunked) {			/* one copy, one write */
			out_add(c, s->buf, s->len);
			c->sse = NULL;
		} else
			while (c->sse != NULL)
				send_event(c);
		return;
	}
	c->due = now_ns() + (uint64_t)delay * 1000000ull;
	stream_track(l, c);
}

static void
answer_simple(struct conn *c, int status, const char *ctype, const char *body)
{
	out_printf(c, "HTTP/1.1 %d %s\r\nServer: fastmock\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", status,
	    status == 200 ? "OK" : status == 404 ? "Not Found" :
	    status == 411 ? "Length Required" : "Bad Request", ctype,
	    strlen(body), c->close_after ? "Connection: close\r\n" : "");
	out_add(c, body, strlen(body));
}

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t	 k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Case-insensitive search for a header name at a line start. */
static const char *
header_value(const char *head, size_t hlen, const char *name, size_t *vlen)
{
	size_t	 nl = strlen(name), i;
	const char *v, *e;

	for (i = 0; i + nl + 1 < hlen; i++) {
		if (head[i] != '\n' || strncasecmp(head + i + 1, name, nl) != 0
		    || head[i + 1 + nl] != ':')
			continue;
		v = head + i + 1 + nl + 1;
		while (v < head + hlen && (*v == ' ' || *v == '\t'))
			v++;
		for (e = v; e < head + hlen && *e != '\r' && *e != '\n'; e++)
			;
		*vlen = (size_t)(e - v);
		return v;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* MiniMax (protocols/providers.md §5): answers grow while polled */

static uint64_t
wall_ms(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* send_msg: a new chat, born now, paced by -M or the body's mark. */
static void
mm_send(struct conn *c, const char *body, size_t blen)
{
	const char	*d = blen ? memmem(body, blen, DELAY_MARK,
			    sizeof(DELAY_MARK) - 1) : NULL;
	unsigned long	 id;
	char		 b[256];

	id = __atomic_add_fetch(&mm_chats, 1, __ATOMIC_RELAXED);
	mm_birth[id % MM_CHATS] = wall_ms();
	mm_pace[id % MM_CHATS] = d ? atoi(d + sizeof(DELAY_MARK) - 1) :
	    mm_step;
	snprintf(b, sizeof(b), "{\"chat_id\":%lu,\"msg_id\":%lu,"
	    "\"base_resp\":{\"status_code\":0,\"status_msg\":\"success\"}}",
	    id, id * 2);
	answer_simple(c, 200, "application/json", b);
}

/* get_chat_detail: the parts shown by now (a chat id it never made: all). */
static void
mm_detail(struct conn *c, const char *body, size_t blen)
{
	const char	*p = blen ? memmem(body, blen, "\"chat_id\":", 10) : NULL;
	unsigned long	 id = p ? strtoul(p + 10, NULL, 10) : 0;
	uint64_t	 birth = mm_birth[id % MM_CHATS], now = wall_ms();
	int		 pace = mm_pace[id % MM_CHATS], k, i;
	char		 b[8192];
	size_t		 n;

	k = pace <= 0 || now < birth ? snapshots :
	    (int)((now - birth) / (uint64_t)pace) + 1;
	if (k > snapshots)
		k = snapshots;
	n = (size_t)snprintf(b, sizeof(b), "{\"chat\":{\"chat_id\":%lu,"
	    "\"chat_status\":%d},\"messages\":[{\"msg_id\":1,\"msg_type\":1,"
	    "\"msg_content\":\"hi\"},{\"msg_id\":2,\"msg_type\":2,"
	    "\"msg_content\":\"", id, k == snapshots ? 2 : 1);
	for (i = 0; i < k && n < sizeof(b) - 256; i++)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "part %d @%llu; ",
		    i, (unsigned long long)(birth + (uint64_t)i *
		    (uint64_t)(pace > 0 ? pace : 0)));
	snprintf(b + n, sizeof(b) - n, "\",\"extra_info\":{"
	    "\"thinking_content\":\"\"}}],\"base_resp\":{\"status_code\":0,"
	    "\"status_msg\":\"success\"}}");
	answer_simple(c, 200, "application/json", b);
}

/* A paced stream answer, its delay from the body's mark or -d. */
static void
answer_paced(struct loop *l, struct conn *c, const struct canned *s,
    const char *body, size_t blen)
{
	const char *d = blen ? memmem(body, blen, DELAY_MARK,
	    sizeof(DELAY_MARK) - 1) : NULL;

	answer_sse(l, c, s, d ? atoi(d + sizeof(DELAY_MARK) - 1) : delay_ms);
}

/* An exact path. */
#define IS(path)	(plen == sizeof(path) - 1 && memcmp(sp1, path, plen) == 0)

/*
 * Answers as many complete requests as the input holds (stopping at a
 * paced stream).  Returns -1 to drop the connection.
 */
static int
process(struct loop *l, struct conn *c)
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
		if ((v = header_value(c->in, hlen, "content-length", &vlen))
		    != NULL)
			blen = strtoul(v, NULL, 10);
		if (header_value(c->in, hlen, "transfer-encoding", &vlen)) {
			c->close_after = 1;
			answer_simple(c, 411, "application/json",
			    "{\"detail\":\"fastmock: chunked request bodies "
			    "are not supported\"}");
			return 0;
		}
		if (blen > MAX_BODY)
			return -1;
		total = hlen + blen;
		if (c->inlen < total)
			return 0;
		if ((v = header_value(c->in, hlen, "connection", &vlen)) !=
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
			out_add(c, page_resp, page_len);
		} else if (is_post && ends_with(sp1, plen,
		    "/sentinel/chat-requirements")) {
			__atomic_fetch_add(&counters[R_SENTINEL], 1,
			    __ATOMIC_RELAXED);
			out_add(c, sentinel_resp, sentinel_len);
		} else if (is_post && ends_with(sp1, plen, "/conversation")) {
			__atomic_fetch_add(&counters[R_CONV], 1,
			    __ATOMIC_RELAXED);
			const char *d = blen ? memmem(c->in + hlen, blen,
			    DELAY_MARK, sizeof(DELAY_MARK) - 1) : NULL;

			answer_sse(l, c, blen && memmem(c->in + hlen, blen,
			    "\"v1\"", 4) ? &sse_v1 : &sse_old, d ? atoi(d +
			    sizeof(DELAY_MARK) - 1) : delay_ms);
		} else if (is_get && plen == sizeof(DS_USER) - 1 &&
		    memcmp(sp1, DS_USER, plen) == 0) {
			__atomic_fetch_add(&counters[R_DS_USER], 1,
			    __ATOMIC_RELAXED);
			out_add(c, ds_user_resp, ds_user_len);
		} else if (is_post && plen == sizeof(DS_SESSION) - 1 &&
		    memcmp(sp1, DS_SESSION, plen) == 0) {
			char	 b[512];
			unsigned long id;

			__atomic_fetch_add(&counters[R_DS_SESSION], 1,
			    __ATOMIC_RELAXED);
			id = __atomic_add_fetch(&ds_sessions, 1,
			    __ATOMIC_RELAXED);
			snprintf(b, sizeof(b), "{\"code\":0,\"msg\":\"\","
			    "\"data\":{\"biz_code\":0,\"biz_msg\":\"\","
			    "\"biz_data\":{\"chat_session\":{\"id\":"
			    "\"dddddddd-0000-4000-8000-%012lx\",\"seq_id\":%lu,"
			    "\"agent\":\"chat\",\"title\":null,"
			    "\"inserted_at\":1736175600.0,\"updated_at\":"
			    "1736175600.0,\"model_type\":\"default\"},"
			    "\"ttl_seconds\":259200}}}", id, id);
			answer_simple(c, 200, "application/json", b);
		} else if (is_post && plen == sizeof(DS_POW) - 1 &&
		    memcmp(sp1, DS_POW, plen) == 0) {
			__atomic_fetch_add(&counters[R_DS_POW], 1,
			    __ATOMIC_RELAXED);
			out_add(c, ds_pow_resp, ds_pow_len);
		} else if (is_post && plen == sizeof(DS_TARGET) - 1 &&
		    memcmp(sp1, DS_TARGET, plen) == 0) {
			const char *d = blen ? memmem(c->in + hlen, blen,
			    DELAY_MARK, sizeof(DELAY_MARK) - 1) : NULL;

			__atomic_fetch_add(&counters[R_DS_COMPLETION], 1,
			    __ATOMIC_RELAXED);
			answer_sse(l, c, &sse_ds, d ? atoi(d +
			    sizeof(DELAY_MARK) - 1) : delay_ms);
		} else if (is_post && plen == sizeof(DS_DELETE) - 1 &&
		    memcmp(sp1, DS_DELETE, plen) == 0) {
			__atomic_fetch_add(&counters[R_DS_DELETE], 1,
			    __ATOMIC_RELAXED);
			out_add(c, ds_delete_resp, ds_delete_len);
		} else if (is_get && ((plen == sizeof(QA_USER) - 1 &&
		    memcmp(sp1, QA_USER, plen) == 0) || (plen ==
		    sizeof(QA_MODELS) - 1 && memcmp(sp1, QA_MODELS, plen) ==
		    0))) {
			__atomic_fetch_add(&counters[R_QA_OTHER], 1,
			    __ATOMIC_RELAXED);
			answer_simple(c, 200, "application/json", sp1[5] == 'm' ?
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
			    __atomic_add_fetch(&qa_chats, 1, __ATOMIC_RELAXED));
			answer_simple(c, 200, "application/json", b);
		} else if (is_post && IS(ZAI_COMPLETION) && header_value(c->in,
		    hlen, "x-signature", &vlen) != NULL) {
			/* Z.ai's completion has Qwen AI's path; it signs */
			__atomic_fetch_add(&counters[R_ZAI_COMPLETION], 1,
			    __ATOMIC_RELAXED);
			answer_paced(l, c, &sse_zai, c->in + hlen, blen);
		} else if (is_post && plen == sizeof(QA_COMPLETION) - 1 &&
		    memcmp(sp1, QA_COMPLETION, plen) == 0) {
			const char *d = blen ? memmem(c->in + hlen, blen,
			    DELAY_MARK, sizeof(DELAY_MARK) - 1) : NULL;

			__atomic_fetch_add(&counters[R_QA_COMPLETION], 1,
			    __ATOMIC_RELAXED);
			answer_sse(l, c, &sse_qa, d ? atoi(d +
			    sizeof(DELAY_MARK) - 1) : delay_ms);
		} else if (is_delete && plen > sizeof(QA_CHATS) - 1 &&
		    memcmp(sp1, QA_CHATS, sizeof(QA_CHATS) - 1) == 0) {
			__atomic_fetch_add(&counters[R_QA_DELETE], 1,
			    __ATOMIC_RELAXED);
			answer_simple(c, 200, "application/json",
			    "{\"success\":true,\"data\":{\"status\":true}}");
		} else if (is_post && IS(MM_REGISTER)) {
			__atomic_fetch_add(&counters[R_MM_REGISTER], 1,
			    __ATOMIC_RELAXED);
			answer_simple(c, 200, "application/json",
			    "{\"statusInfo\":{\"code\":0,\"message\":"
			    "\"success\"},\"data\":{\"deviceIDStr\":"
			    "\"300000000000000001\",\"realUserID\":\"1\"}}");
		} else if (is_post && IS(MM_SEND)) {
			__atomic_fetch_add(&counters[R_MM_SEND], 1,
			    __ATOMIC_RELAXED);
			mm_send(c, c->in + hlen, blen);
		} else if (is_post && IS(MM_DETAIL)) {
			__atomic_fetch_add(&counters[R_MM_DETAIL], 1,
			    __ATOMIC_RELAXED);
			mm_detail(c, c->in + hlen, blen);
		} else if (is_post && IS(MM_DELETE)) {
			__atomic_fetch_add(&counters[R_MM_DELETE], 1,
			    __ATOMIC_RELAXED);
			answer_simple(c, 200, "application/json",
			    "{\"base_resp\":{\"status_code\":0,"
			    "\"status_msg\":\"success\"}}");
		} else if (is_get && IS(ZAI_SETTINGS)) {
			__atomic_fetch_add(&counters[R_ZAI_SETTINGS], 1,
			    __ATOMIC_RELAXED);
			answer_simple(c, 200, "application/json", "{}");
		} else if (is_post && IS(ZAI_NEW)) {
			char	 b[128];

			__atomic_fetch_add(&counters[R_ZAI_NEW], 1,
			    __ATOMIC_RELAXED);
			snprintf(b, sizeof(b), "{\"id\":"
			    "\"eeeeeeee-0000-4000-8000-%012lx\","
			    "\"title\":\"New Chat\"}", __atomic_add_fetch(
			    &zai_chats, 1, __ATOMIC_RELAXED));
			answer_simple(c, 200, "application/json", b);
		} else if (is_delete && plen > sizeof(ZAI_CHATS) - 1 &&
		    memcmp(sp1, ZAI_CHATS, sizeof(ZAI_CHATS) - 1) == 0) {
			__atomic_fetch_add(&counters[R_ZAI_DELETE], 1,
			    __ATOMIC_RELAXED);
			answer_simple(c, 200, "application/json", "true");
		} else if (is_get && IS(KIMI_REFRESH)) {
			__atomic_fetch_add(&counters[R_KIMI_REFRESH], 1,
			    __ATOMIC_RELAXED);
			out_add(c, kimi_refresh_resp, kimi_refresh_len);
		} else if (is_post && ends_with(sp1, plen,
		    ".ChatService/Chat")) {
			__atomic_fetch_add(&counters[R_KIMI_CHAT], 1,
			    __ATOMIC_RELAXED);
			answer_paced(l, c, &sse_kimi, c->in + hlen, blen);
		} else if (is_post && ends_with(sp1, plen,
		    ".ChatService/DeleteChat")) {
			__atomic_fetch_add(&counters[R_KIMI_DELETE], 1,
			    __ATOMIC_RELAXED);
			out_add(c, kimi_delete_resp, kimi_delete_len);
		} else if (is_post && ends_with(sp1, plen,
		    ".SubscriptionService/GetSubscription")) {
			__atomic_fetch_add(&counters[R_KIMI_SUB], 1,
			    __ATOMIC_RELAXED);
			out_add(c, kimi_sub_resp, kimi_sub_len);
		} else if (is_post && IS(GLM_REFRESH)) {
			__atomic_fetch_add(&counters[R_GLM_REFRESH], 1,
			    __ATOMIC_RELAXED);
			out_add(c, glm_refresh_resp, glm_refresh_len);
		} else if (is_post && IS(GLM_STREAM)) {
			__atomic_fetch_add(&counters[R_GLM_STREAM], 1,
			    __ATOMIC_RELAXED);
			answer_paced(l, c, &sse_glm, c->in + hlen, blen);
		} else if (is_post && IS(GLM_DELETE)) {
			__atomic_fetch_add(&counters[R_GLM_DELETE], 1,
			    __ATOMIC_RELAXED);
			out_add(c, glm_delete_resp, glm_delete_len);
		} else if (is_post && IS(QW_CHAT)) {
			__atomic_fetch_add(&counters[R_QW_CHAT], 1,
			    __ATOMIC_RELAXED);
			answer_paced(l, c, &sse_qw, c->in + hlen, blen);
		} else if (is_post && IS(QW_DELETE)) {
			__atomic_fetch_add(&counters[R_QW_DELETE], 1,
			    __ATOMIC_RELAXED);
			answer_simple(c, 200, "application/json",
			    "{\"success\":true,\"code\":0,\"msg\":\"\","
			    "\"data\":true}");
		} else if (is_post && IS(QW_LIST)) {
			__atomic_fetch_add(&counters[R_QW_LIST], 1,
			    __ATOMIC_RELAXED);
			answer_simple(c, 200, "application/json",
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
			answer_simple(c, 200, "application/json", b);
		} else {
			__atomic_fetch_add(&counters[R_OTHER], 1,
			    __ATOMIC_RELAXED);
			answer_simple(c, 404, "application/json",
			    "{\"detail\":\"Not Found\"}");
		}
		memmove(c->in, c->in + total, c->inlen - total);
		c->inlen -= total;
	}
	return 0;
}

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
				die("out of memory");
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
	if (process(l, c) < 0 || flush_out(l, c) < 0)
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
			die("out of memory");
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
	uint64_t now = now_ns(), next = UINT64_MAX;
	size_t	 i;

	for (i = 0; i < l->nstreams; ) {
		struct conn *c = l->streams[i];

		if (c->due <= now) {
			send_event(c);
			c->due = now + (uint64_t)c->delay * 1000000ull;
			if (c->sse == NULL)
				stream_untrack(l, c);
			if (flush_out(l, c) < 0 ||
			    (c->sse == NULL && process(l, c) < 0) ||
			    flush_out(l, c) < 0) {
				conn_free(l, c);
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
		die("epoll_create1: %s", strerror(errno));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.ptr = &listen_tag;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	while (!stop) {
		timeout = run_timers(l);
		if (timeout < 0 || timeout > 500)
			timeout = 500;		/* notice stop */
		n = epoll_wait(l->ep, evs, MAX_EVENTS, timeout);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (evs[i].data.ptr == &listen_tag) {
				on_accept(l);
				continue;
			}
			if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
				conn_free(l, c);
				continue;
			}
			if ((evs[i].events & EPOLLOUT) && flush_out(l, c) < 0) {
				conn_free(l, c);
				continue;
			}
			if ((evs[i].events & (EPOLLIN | EPOLLRDHUP)) &&
			    on_readable(l, c) < 0) {
				conn_free(l, c);
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
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: fastmock [-p port] [-b addr] [-t threads] "
	    "[-d ms] [-c] [-n snapshots] [-D difficulty] [-W ds_difficulty] "
	    "[-M mm_step] [-P portfile]\n");
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

	while ((ch = getopt(argc, argv, "b:cd:D:M:n:p:P:t:W:")) != -1) {
		switch (ch) {
		case 'b': bind_addr = optarg; break;
		case 'c': chunked = 1; break;
		case 'd': delay_ms = atoi(optarg); break;
		case 'D': difficulty = optarg; break;
		case 'M': mm_step = atoi(optarg); break;
		case 'n': snapshots = atoi(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'P': portfile = optarg; break;
		case 't': nthreads = atoi(optarg); break;
		case 'W': ds_difficulty = atol(optarg); break;
		default: usage();
		}
	}
	if (nthreads < 1 || nthreads > 64 || delay_ms < 0 || snapshots < 1 ||
	    snapshots > MAX_SSE_EVENTS - 9 || strlen(difficulty) > 64 ||
	    strspn(difficulty, "0123456789abcdefABCDEF") !=
	    strlen(difficulty) || ds_difficulty < 2 || ds_difficulty > 5000000 ||
	    mm_step < 0)
		usage();
	build_canned();
	build_fixed();
	build_deepseek();
	build_qwenai();
	build_zai();
	build_kimi();
	build_glm();
	build_qwen();

	memset(&act, 0, sizeof(act));
	act.sa_handler = on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1)
		die("bad address %s", bind_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4096) < 0)
		die("bind/listen %s:%d: %s", bind_addr, port, strerror(errno));
	getsockname(fd, (struct sockaddr *)&sa, &slen);
	port = ntohs(sa.sin_port);
	printf("fastmock: port %d\n", port);
	fflush(stdout);
	if (portfile != NULL) {
		char	 tmp[4096];
		FILE	*f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((f = fopen(tmp, "w")) == NULL)
			die("%s: %s", tmp, strerror(errno));
		fprintf(f, "%d\n", port);
		if (fclose(f) != 0 || rename(tmp, portfile) != 0)
			die("%s: %s", portfile, strerror(errno));
	}

	if ((loops = calloc((size_t)nthreads, sizeof(*loops))) == NULL ||
	    (tids = calloc((size_t)nthreads, sizeof(*tids))) == NULL)
		die("out of memory");
	for (i = 0; i < nthreads; i++) {
		loops[i].lfd = fd;
		if (i > 0 && pthread_create(&tids[i], NULL, loop_run,
		    &loops[i]) != 0)
			die("pthread_create failed");
	}
	loop_run(&loops[0]);
	for (i = 1; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	return 0;
}
