/*
 * Tool (function) calling on top of web chats that have none
 * (providers.md §10.7).  The request side (tools_request.c) validates
 * "tools", "tool_choice" and the tool turns of the history; the prompt
 * side (tools_prompt.c) teaches the model a call format and re-encodes
 * the history into it, before any provider flattens the messages; the
 * answer side (tools_parse.c, tools_json.c) finds the call blocks in the
 * streamed text, and tools_sink.c sits between the provider and the
 * OpenAI writer as a chat_sink filter.
 */
#ifndef HANDLERS_TOOLS_H
#define HANDLERS_TOOLS_H

#include <stddef.h>

#include <json-c/json.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "upstream/provider.h"

#define TOOLS_MAX_TOOLS		128		/* as OpenAI */
#define TOOLS_NAME_MAX		64		/* [A-Za-z0-9_-]{1,64} */
#define TOOLS_MAX_DESC		4096		/* bytes of a description */
#define TOOLS_MAX_SCHEMA	(16u << 10)	/* compact parameters JSON */
#define TOOLS_MAX_PROMPT	(256u << 10)	/* the whole tool section */
#define TOOLS_MAX_CALLS		64		/* per answer or turn */
#define TOOLS_MAX_CALL		(256u << 10)	/* bytes of one call block */
#define TOOLS_MAX_ID		128		/* tool_call_id */

enum tools_err {
	TOOLS_OK,
	TOOLS_ENOMEM,
	TOOLS_STOP,		/* a callback asked to stop */
};

const char	*tools_strerror(enum tools_err);

enum tools_format { TOOLS_BRACKET, TOOLS_XML };
enum tools_mode { TOOLS_AUTO, TOOLS_ALWAYS, TOOLS_NEVER };
enum tools_choice {
	TOOLS_CHOICE_AUTO,
	TOOLS_CHOICE_NONE,
	TOOLS_CHOICE_REQUIRED,
	TOOLS_CHOICE_NAMED,
};

struct tools_fn {
	const char	*name;
	const char	*description;	/* or NULL */
	const char	*schema;	/* compact JSON, or NULL */
};

/* What a request asked for, validated (tools_request.c). */
struct tools_req {
	struct tools_fn		*fns;
	size_t			 nfns;
	enum tools_choice	 choice;
	const char		*named;		/* TOOLS_CHOICE_NAMED */
	int			 parallel;	/* parallel_tool_calls */
	int			 history;	/* tool turns in the history */
	/* decided by tools_prompt_apply() */
	int			 injected;	/* our prompt is in: parse */
	enum tools_format	 format;
	const char		*section;	/* injected: its text */
};

struct chat_req_error;

/*
 * A chat body's function tool, {"type":"function","function":{name,
 * description, parameters}}, for the dialects that turn their own tool
 * shapes into one (description and parameters may be NULL).
 */
struct json_object *tools_fn_object(const char *name,
	    struct json_object *description, struct json_object *parameters);

/*
 * Reads "tools", "tool_choice", "parallel_tool_calls" of the body root
 * and checks the tool turns of messages[] against cr (same order).
 * 0, or -1 with e filled for a 400.
 */
int	 tools_request_parse(struct arena *, struct json_object *root,
	    const struct chat_request *, struct tools_req *,
	    struct chat_req_error *);

/*
 * Rewrites cr->messages: tool turns of the history become call and
 * result blocks, and (unless mode, the choice or the client's own tool
 * protocol says no) the tool section is added to the system message.
 * root is the body the request points into.  0, or -1 out of memory.
 */
int	 tools_prompt_apply(struct arena *, struct json_object *root,
	    struct chat_request *, struct tools_req *, enum tools_mode,
	    enum tools_format);
/* The tool section alone (NUL-terminated, in the arena), or NULL. */
char	*tools_prompt_text(struct arena *, const struct tools_req *,
	    enum tools_format);
/* Whether a system text carries a tool protocol of its own (§10.7). */
int	 tools_prompt_foreign(const char *, size_t);

/*
 * JSON arguments as a model writes them, made strict (tools_json.c):
 * raw control characters in strings, bare keys, single quotes, trailing
 * commas, stray escapes.  On success out holds a compact JSON object
 * and 0 is returned; -1 when it is not an object even after repair.
 */
int	 tools_json_repair(const char *, size_t, struct buf *out);

/* The streaming call-block scanner (tools_parse.c). */
struct tools_parse_cb {
	void	*ctx;
	int	(*text)(void *ctx, const char *, size_t);
	/* args: a compact JSON object */
	int	(*call)(void *ctx, const char *name, size_t namelen,
		    const char *args, size_t argslen);
};

struct tools_parser {
	struct tools_parse_cb	 cb;
	const struct tools_fn	*fns;		/* allowed names; NULL: any */
	size_t			 nfns;
	const char		*only;		/* the one allowed, or NULL */
	size_t			 max_calls;
	struct buf		 held;		/* not decided yet */
	size_t			 pos;		/* decided up to here */
	int			 state;
	size_t			 keep;		/* block text kept as text */
	size_t			 block_calls;
	size_t			 ncalls;
	struct buf		 args;		/* repaired arguments */
	/* how far the undecided call at held[scan_call] was scanned */
	int			 scan_valid, scan_in, scan_esc;
	size_t			 scan_call, scan_off;
	enum tools_err		 err;		/* sticky */
};

void	 tools_parse_init(struct tools_parser *, const struct tools_parse_cb *);
void	 tools_parse_free(struct tools_parser *);
enum tools_err tools_parse_feed(struct tools_parser *, const char *, size_t);
/* The end of the answer: what is held is decided now. */
enum tools_err tools_parse_end(struct tools_parser *);

/* The filter (tools_sink.c). */
struct oa_sink;

struct tools_sink {
	const struct chat_sink	*down;
	struct oa_sink		*oa;
	struct tools_parser	 p;
	struct buf		 ws;	/* text that may frame a call, held */
	struct buf		 tmp;	/* held and new text together */
	int			 after_call;	/* a fence closer may follow */
	int			 ended;
};

void	 tools_sink_init(struct tools_sink *, const struct tools_req *,
	    struct oa_sink *, const struct chat_sink *down);
void	 tools_sink_bind(struct tools_sink *, struct chat_sink *);
void	 tools_sink_free(struct tools_sink *);

#endif
