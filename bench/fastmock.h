/*
 * fastmock.h - shared by the files of bench/fastmock (fastmock.c, the
 * server loop and main; fastmock_canned.c, fastmock_providers.c, the
 * canned answers; fastmock_conn.c, connections and answering;
 * fastmock_routes.c, the request router): routes, types, the mock's
 * state and the functions one file offers the others.
 */
#ifndef BENCH_FASTMOCK_H
#define BENCH_FASTMOCK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

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
#define STAMP_MARK	"fastmock-stamp"
/* 16 digits of CLOCK_REALTIME microseconds, written when sent */
#define STAMP_HOLE	"@0000000000000000;"
#define STAMP_MAX	48		/* stamped deltas at most (-S) */
#define DS_TARGET	"/api/v0/chat/completion"

/* canned answers */
struct canned {
	const char *ctype;		/* NULL: text/event-stream */
	char	*buf;			/* whole SSE body */
	size_t	 len;
	size_t	 off[MAX_SSE_EVENTS + 1];	/* event i = [off[i], off[i+1]) */
	int	 nev;
	int	 stamp;		/* events carry STAMP_HOLE, filled at send */
};

extern struct canned	 fm_sse_old, fm_sse_v1, fm_sse_stamp, fm_sse_ds, fm_sse_qa,
			 fm_sse_zai, fm_sse_kimi, fm_sse_glm, fm_sse_qw;
extern char		*fm_page_resp, *fm_sentinel_resp;
extern size_t		 fm_page_len, fm_sentinel_len;
extern char		*fm_ds_user_resp, *fm_ds_pow_resp, *fm_ds_delete_resp;
extern size_t		 fm_ds_user_len, fm_ds_pow_len, fm_ds_delete_len;
extern char		*fm_kimi_refresh_resp, *fm_kimi_sub_resp, *fm_kimi_delete_resp;
extern size_t		 fm_kimi_refresh_len, fm_kimi_sub_len, fm_kimi_delete_len;
extern char		*fm_glm_refresh_resp, *fm_glm_delete_resp;
extern size_t		 fm_glm_refresh_len, fm_glm_delete_len;
extern const char	*fm_difficulty;
extern long		 fm_ds_difficulty;
extern unsigned long	 fm_ds_sessions;	/* ids of created chat sessions */
extern unsigned long	 fm_qa_chats;	/* ids of created Qwen AI chats */
extern unsigned long	 fm_zai_chats;	/* ids of created Z.ai chats */
extern unsigned long	 fm_mm_chats;	/* ids of created MiniMax chats */
extern uint64_t		 fm_mm_birth[MM_CHATS];	/* ms epoch */
extern int		 fm_mm_pace[MM_CHATS];	/* ms per part */
extern int		 fm_mm_step;
extern int		 fm_delay_ms;
extern int		 fm_chunked;
extern int		 fm_snapshots;
extern int		 fm_stamps;
extern volatile sig_atomic_t fm_stop;
extern char		 fm_listen_tag;	/* epoll data for the listening socket */

extern const char *const fm_words[];
extern const size_t	 fm_nwords;
#define NWORDS		fm_nwords

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

/* fastmock_canned.c */
void	fm_die(const char *fmt, ...);
void	fm_canned_add(struct canned *c, const char *fmt, ...);
void	fm_canned_env(struct canned *c, unsigned flags, const char *fmt, ...);
void	fm_text_upto(int k, char *out, size_t outsz);
void	fm_build_canned(void);
char	*fm_full_response(const char *ctype, const char *body, size_t *lenp);
void	fm_build_fixed(void);

/* fastmock_providers.c */
void	fm_build_deepseek(void);
void	fm_build_qwenai(void);
void	fm_build_zai(void);
void	fm_build_kimi(void);
void	fm_build_glm(void);
void	fm_build_qwen(void);

/* fastmock_conn.c */
uint64_t	fm_now_ns(void);
void	fm_out_add(struct conn *c, const void *p, size_t n);
void	fm_conn_free(struct loop *l, struct conn *c);
int	fm_flush_out(struct loop *l, struct conn *c);
void	fm_send_event(struct conn *c);
void	fm_stream_untrack(struct loop *l, struct conn *c);
void	fm_answer_sse(struct loop *l, struct conn *c, const struct canned *s,
	    int delay);
void	fm_answer_simple(struct conn *c, int status, const char *ctype,
	    const char *body);
int	fm_ends_with(const char *s, size_t n, const char *suffix);
const char	*fm_header_value(const char *head, size_t hlen,
	    const char *name, size_t *vlen);
void	fm_mm_send(struct conn *c, const char *body, size_t blen);
void	fm_mm_detail(struct conn *c, const char *body, size_t blen);
void	fm_answer_paced(struct loop *l, struct conn *c, const struct canned *s,
	    const char *body, size_t blen);

/* fastmock_routes.c */
int	fm_process(struct loop *l, struct conn *c);

#endif /* BENCH_FASTMOCK_H */
