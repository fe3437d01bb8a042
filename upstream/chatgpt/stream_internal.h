/*
 * stream_internal.h - shared by the files of the ChatGPT stream decoder
 * only (stream.c, stream_v1.c, stream_convert.c, stream_out.c,
 * stream_spec.c): the decoder state and the helpers one file offers the
 * others.  The public interface is stream.h.
 */
#ifndef UPSTREAM_CHATGPT_STREAM_INTERNAL_H
#define UPSTREAM_CHATGPT_STREAM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "upstream/chatgpt/jpatch.h"
#include "upstream/chatgpt/stream.h"

#define ID_MAX		128	/* conversation and message ids */
#define ERRMSG_MAX	1024	/* in-stream error text we keep */
#define LANG_MAX	32	/* code fence language */
#define TITLE_MAX	200	/* citation title bytes */
#define URL_MAX		4096	/* citation or image URL bytes */
#define ASSET_ID_MAX	128
#define SANDBOX_MAX	512	/* bytes of a sandbox path */
#define CGS_FBUF_KEEP	256	/* scratch kept between events */

enum chan { CH_TEXT = 0, CH_REASON = 1 };

struct cgs_msg {
	char		*id;		/* NULL: free entry */
	unsigned long	 used;		/* LRU stamp */
	size_t		 text_off;	/* bytes of the main text emitted */
	size_t		 cit_seen;	/* citations emitted */
	size_t		 th_idx;	/* thought being streamed */
	size_t		 th_off;	/* bytes of it emitted */
	size_t		 img_done;	/* multimodal parts handled */
	bool		 streamed;	/* seen with status in_progress */
	bool		 finished;
	bool		 seg;		/* content segment opened */
	bool		 rseg;		/* reasoning paragraph opened */
};

struct cgs_doc {
	bool		 live;
	bool		 unread;	/* a user or system message: no tree,
					 * its deltas are ignored */
	long		 c;
	json_object	*doc;
	size_t		 bytes;		/* event bytes that built it */
	unsigned long	 used;
};

struct chatgpt_stream {
	struct chat_sink		 sink;
	struct chatgpt_stream_opts	 o;
	struct jpatch			 jp;

	/* grown on demand up to CGS_MAX_DOCS / CGS_MAX_MSGS: most answers
	 * need two or three (a parked stream keeps less, §20) */
	struct cgs_doc			*docs;
	size_t				 ndocs;
	long				 cur_c;
	size_t				 doc_bytes;
	struct cgs_msg			*msgs;
	size_t				 nmsgs;
	unsigned long			 tick;

	enum chatgpt_stream_err		 err;	/* sticky */
	const char			*why;	/* for error() after start */
	bool				 v1;
	bool				 started;
	bool				 terminal;	/* finish/error sent */
	bool				 eof;		/* [DONE] seen */
	bool				 finished;	/* finish() taken */

	bool				 fence;		/* a ``` block is open */
	bool				 any[2];	/* channel written to */
	int				 nl[2];		/* its trailing \n, <= 2 */

	char				*pend;		/* pending output */
	size_t				 plen, pcap;
	enum chan			 pch;

	bool				 unread;	/* cgs_convert(): the
							 * message is not
							 * answered */

	char				*conv_id;
	char				*meta_id;
	char				*up_err;
	size_t				 skipped;

	char				*fbuf;		/* fast path strings */
	size_t				 fblen, fbcap;
};

/* A v1 line decoded by the fast path: p, o, v as pieces of s->fbuf. */
struct fast_line {
	bool	 has[3];
	size_t	 off[3];
	size_t	 len[3];
};

enum { FL_P, FL_O, FL_V };


/* stream_out.c */
/* Room for one more entry in a table of *n (of size each, at most max):
 * the new entry's index, or -1 when full or out of memory. */
long	cgs_table_grow(void **tab, size_t *n, size_t size, size_t max);
bool	cgs_has(json_object *o, const char *key);
const char	*cgs_str(const struct chatgpt_stream *s, json_object *o,
	    size_t *lenp);
const char	*cgs_cstr(const struct chatgpt_stream *s, json_object *o);
bool	cgs_streq(const char *a, const char *b);
bool	cgs_id_ok(const char *p);
size_t	cgs_u8_complete(const char *s, size_t len);
bool	cgs_next_delta(const char *s, size_t len, size_t *off, size_t *a,
	    size_t *b);
enum chatgpt_stream_err	cgs_flush(struct chatgpt_stream *s);
enum chatgpt_stream_err	cgs_put(struct chatgpt_stream *s, enum chan ch,
	    const char *p, size_t n);
enum chatgpt_stream_err	cgs_puts_(struct chatgpt_stream *s, enum chan ch,
	    const char *p);
enum chatgpt_stream_err	cgs_sep(struct chatgpt_stream *s, enum chan ch,
	    int want);
enum chatgpt_stream_err	cgs_fence_close(struct chatgpt_stream *s);
enum chatgpt_stream_err	cgs_segment(struct chatgpt_stream *s, const char *lang);
enum chatgpt_stream_err	cgs_start(struct chatgpt_stream *s);
enum chatgpt_stream_err	cgs_finish(struct chatgpt_stream *s,
	    enum chat_finish reason);
enum chatgpt_stream_err	cgs_sink_error(struct chatgpt_stream *s,
	    const char *code, const char *msg);
enum chatgpt_stream_err	cgs_fail(struct chatgpt_stream *s,
	    enum chatgpt_stream_err code);
enum chatgpt_stream_err	cgs_proto(struct chatgpt_stream *s, const char *why);
enum chatgpt_stream_err	cgs_msg_state(struct chatgpt_stream *s, const char *id,
	    struct cgs_msg **out);
enum chatgpt_stream_err	cgs_meta(struct chatgpt_stream *s, const char *id);
enum chatgpt_stream_err	cgs_note_conv(struct chatgpt_stream *s,
	    json_object *doc);

/* stream_spec.c: what an event (stream.c) and a v1 document (stream_v1.c)
 * keep */
struct skim_spec;
extern const struct skim_spec	cgs_event_spec;
extern const struct skim_spec	cgs_doc_spec;

/* stream_convert.c */
enum chatgpt_stream_err	cgs_convert(struct chatgpt_stream *s, json_object *doc);

/* stream_v1.c */
enum chatgpt_stream_err	cgs_typed(struct chatgpt_stream *s, json_object *o,
	    const char *type);
enum chatgpt_stream_err	cgs_delta(struct chatgpt_stream *s, json_object *o,
	    size_t evlen);
int	cgs_fast_line(struct chatgpt_stream *s, const char *d, size_t n,
	    struct fast_line *fl);
enum chatgpt_stream_err	cgs_fast_apply(struct chatgpt_stream *s,
	    const struct fast_line *fl, size_t n);

#endif /* UPSTREAM_CHATGPT_STREAM_INTERNAL_H */
