/*
 * stream.c - DeepSeek completion stream decoder; see stream.h for the
 * contract and the conversion rules.
 *
 * ds_stream_event() sorts an event by name; data lines go through json-c
 * (the events are small and few, so unlike the ChatGPT decoder there is
 * no fast path) and then op(), which looks the full path up in a table
 * and does what that path means.  Nothing of the upstream document is
 * kept beyond the fragment types and the search results: every text
 * change arrives as an explicit append.  Each delta reaches the sink in
 * one call; gathering the calls of one upstream read is the sink's job
 * (its flush(), called by the caller).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "upstream/deepseek/cite.h"
#include "upstream/deepseek/stream.h"
#include "upstream/jv.h"
#include "upstream/sink_out.h"
#include "upstream/sse.h"

#define CODE_MAX	64	/* bytes of an upstream error code passed on */
#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define ISDIGIT(c)	((c) >= '0' && (c) <= '9')

enum kind { K_OTHER, K_THINK, K_ANSWER, K_SEARCH };

struct ds_stream {
	struct chat_sink	 sink;
	struct ds_stream_opts	 o;
	json_tokener		*tok;
	enum ds_stream_err	 err;		/* sticky */
	bool			 started;	/* role() sent */
	bool			 terminal;	/* finish/error sent, or abort */
	bool			 upstream_end;	/* the upstream ended it */
	bool			 end_pending;	/* end after this event */
	bool			 content;	/* text or reasoning received */
	bool			 cite;		/* rewrite [citation:N] */
	bool			 any_text;	/* text() was called */
	int			 nl;		/* its trailing newlines, <= 2 */
	enum chat_finish	 end_why;
	long			 msg_id;
	long			 tokens;	/* -1: not given */
	char			 path[DSS_PATH_MAX + 1];	/* last "p" */
	unsigned char		 kind[DSS_MAX_FRAGMENTS];
	size_t			 nfrag;
	struct ds_refs		 refs;		/* search results */
	char			 hold[DSS_HOLD_MAX];	/* a marker prefix */
	size_t			 hlen;
	struct buf		 work;
};

/*
 * Statuses that end the answer.  §2.7 names only FINISHED; INCOMPLETE
 * (cut at the length limit) and CONTENT_FILTER (withdrawn) have no
 * finish reason in §2.7/§1.3, so "stop" too.  LENGTH and CONTENT_FILTER
 * would be the matching ones should that be decided.
 */
static const struct {
	const char		*name;
	enum chat_finish	 why;
} statuses[] = {
	{ "FINISHED", CHAT_FINISH_STOP },
	{ "INCOMPLETE", CHAT_FINISH_STOP },
	{ "CONTENT_FILTER", CHAT_FINISH_STOP },
};

/* The paths acted on; '#' is an index, negative from the end. */
enum pk {
	P_ROOT, P_RESPONSE, P_STATUS, P_TOKENS, P_FRAGS, P_OLD_CONTENT,
	P_OLD_THINK, P_OLD_RESULTS, P_OLD_CITE,
	P_FRAG_CONTENT, P_FRAG_RESULTS, P_FRAG_CITE	/* need fragment # */
};

static const struct {
	const char	*pat;
	enum pk		 kind;
} paths[] = {
	{ "", P_ROOT },
	{ "response", P_RESPONSE },
	{ "response/status", P_STATUS },
	{ "response/quasi_status", P_STATUS },
	{ "response/accumulated_token_usage", P_TOKENS },
	{ "response/fragments", P_FRAGS },
	{ "response/content", P_OLD_CONTENT },
	{ "response/thinking_content", P_OLD_THINK },
	{ "response/search_results", P_OLD_RESULTS },
	{ "response/search_results/#/cite_index", P_OLD_CITE },
	{ "response/fragments/#/content", P_FRAG_CONTENT },
	{ "response/fragments/#/results", P_FRAG_RESULTS },
	{ "response/fragments/#/results/#/cite_index", P_FRAG_CITE },
};

static enum ds_stream_err	one(struct ds_stream *, const char *,
				    json_object *);

/* ------------------------------------------------------------ sink */

/* A sink callback's answer: nonzero stops it all (DSS_ABORT). */
static enum ds_stream_err
sunk(struct ds_stream *s, int rc)
{
	if (rc == 0)
		return DSS_OK;
	s->terminal = true;
	return s->err = DSS_ABORT;
}

static enum ds_stream_err
start(struct ds_stream *s)
{
	return sunk(s, sink_out_role(&s->sink, &s->started));
}

/* Valid UTF-8 to text() or reasoning(), after role(). */
static enum ds_stream_err
out(struct ds_stream *s, bool text, const char *p, size_t n)
{
	size_t			 t;

	if (n == 0)
		return DSS_OK;
	if (text) {
		for (t = 0; t < n && t < 2 && p[n - 1 - t] == '\n'; t++)
			;
		s->nl = t < n ? (int)t : s->nl + (int)t > 2 ? 2 :
		    s->nl + (int)t;
		s->any_text = true;
	}
	return sunk(s, sink_out_put(&s->sink, &s->started, !text, p, n));
}

/* Fragment text: reasoning, or answer with its markers rewritten. */
static enum ds_stream_err
emit(struct ds_stream *s, int kind, json_object *v)
{
	char	*w;
	size_t	 n, len, keep, r, o, k;

	if (!json_object_is_type(v, json_type_string) ||
	    (n = (size_t)json_object_get_string_len(v)) == 0 ||
	    (kind != K_THINK && kind != K_ANSWER))
		return DSS_OK;
	s->content = true;
	buf_reset(&s->work);
	if ((kind == K_ANSWER && buf_add(&s->work, s->hold, s->hlen) < 0) ||
	    buf_add_utf8(&s->work, json_object_get_string(v), n, SIZE_MAX,
	    0) < 0)
		return DSS_ENOMEM;
	if (kind == K_THINK)
		return out(s, false, s->work.p, s->work.len);
	w = s->work.p;
	len = s->work.len;
	keep = s->cite ? ds_cite_tail(w, len) : 0;
	/* "[citation:12]" -> "[12]" in place: it only shrinks */
	for (r = o = 0; r < len - keep; ) {
		if (s->cite && w[r] == '[' &&
		    (k = ds_cite_at(w + r, len - keep - r)) != 0) {
			w[o++] = '[';
			memmove(w + o, w + r + 10, k - 10);
			o += k - 10;
			r += k;
		} else
			w[o++] = w[r++];
	}
	memcpy(s->hold, w + len - keep, keep);
	s->hlen = keep;
	return out(s, true, w, o);
}

/* The text held back is plain text after all. */
static enum ds_stream_err
release(struct ds_stream *s)
{
	size_t	 n = s->hlen;

	s->hlen = 0;
	return out(s, true, s->hold, n);
}

/* Write what is held, the references (cite.c), then finish(). */
static enum ds_stream_err
end_answer(struct ds_stream *s, enum chat_finish why)
{
	struct chat_usage	 u;
	enum ds_stream_err	 rc;

	if (s->terminal)
		return DSS_OK;
	if ((rc = release(s)) != DSS_OK)
		return rc;
	buf_reset(&s->work);
	if (ds_refs_list(&s->refs, &s->work, s->any_text ? 2 - s->nl : 0) !=
	    DSS_OK)
		return DSS_ENOMEM;
	if ((rc = out(s, true, s->work.p, s->work.len)) != DSS_OK ||
	    (rc = start(s)) != DSS_OK)
		return rc;
	s->terminal = true;
	memset(&u, 0, sizeof(u));
	u.total_tokens = s->tokens;
	return s->sink.finish == NULL ? DSS_OK : sunk(s,
	    s->sink.finish(s->sink.ctx, why, s->tokens >= 0 ? &u : NULL));
}

/* ------------------------------------------------------------ JSON */

static enum ds_stream_err
parse(struct ds_stream *s, const char *data, size_t len, json_object **out)
{
	*out = NULL;
	if (len > DSS_MAX_EVENT)
		return DSS_PROTO;
	json_tokener_reset(s->tok);
	*out = json_tokener_parse_ex(s->tok, data, (int)len);
	if (json_tokener_get_error(s->tok) == json_tokener_success &&
	    json_tokener_get_parse_end(s->tok) == len)
		return DSS_OK;
	json_object_put(*out);
	*out = NULL;
	return DSS_PROTO;
}

/* ------------------------------------------------------------ errors */

/*
 * The answer ends with error(): the text held back first, then the error
 * (object o, or the raw text of an "error" event that was not JSON).
 * The code passed on is the upstream's, as a token of [A-Za-z0-9_.-].
 */
static enum ds_stream_err
upstream_error(struct ds_stream *s, json_object *o, const char *raw,
    size_t rawlen)
{
	json_object		*e = jv_get(o, "error");
	json_object		*msgs[] = { e, jv_get(e, "message"),
				    jv_get(o, "msg"), jv_get(o, "message"),
				    jv_get(o, "content") };
	json_object		*codes[] = { jv_get(o, "code"),
				    jv_get(e, "code"),
				    jv_get(o, "finish_reason"),
				    jv_get(e, "type") };
	enum ds_stream_err	 rc;
	const char		*msg = o != NULL ? NULL : raw, *p;
	char			 code[CODE_MAX + 1] = "";
	size_t			 n = rawlen, i, j, cl, k = 0;
	int			 status;

	if ((rc = release(s)) != DSS_OK)
		return rc;
	for (i = 0; msg == NULL && i < NITEMS(msgs); i++)
		msg = jv_str(msgs[i], &n);
	if (msg == NULL || n == 0) {
		msg = "The upstream reported an error.";
		n = strlen(msg);
	}
	for (i = 0; k == 0 && i < NITEMS(codes); i++) {
		if (json_object_is_type(codes[i], json_type_int))
			k = (size_t)snprintf(code, sizeof(code), "%lld",
			    (long long)json_object_get_int64(codes[i]));
		else if ((p = jv_str(codes[i], &cl)) != NULL)
			for (j = 0; j < cl && k < CODE_MAX; j++)
				if (ISDIGIT(p[j]) || (p[j] >= 'a' &&
				    p[j] <= 'z') || (p[j] >= 'A' &&
				    p[j] <= 'Z') || (p[j] != '\0' &&
				    strchr("_-.", p[j]) != NULL))
					code[k++] = p[j];
		code[k] = '\0';
	}
	status = strcasestr(code, "rate_limit") != NULL ||
	    strcasestr(code, "too_many") != NULL || strcmp(code, "429") == 0 ?
	    429 : 502;
	buf_reset(&s->work);
	if (buf_add_utf8(&s->work, msg, n, DSS_ERRMSG_MAX, 1) < 0 ||
	    buf_add(&s->work, "", 0) < 0)
		return DSS_ENOMEM;
	s->terminal = true;
	s->err = DSS_UPSTREAM;
	if (s->sink.error != NULL)
		(void)s->sink.error(s->sink.ctx, status, status == 429 ?
		    "rate_limit_error" : "upstream_error",
		    k > 0 ? code : "upstream_stream_error", s->work.p);
	return DSS_UPSTREAM;
}

/* A JSON object without "v" that reports an error. */
static bool
is_error(json_object *o)
{
	json_object	*c, *m = jv_get(o, "msg"), *e = jv_get(o, "error");

	if (json_object_object_get_ex(o, "code", &c))
		return c != NULL && !(json_object_is_type(c, json_type_int) &&
		    json_object_get_int64(c) == 0) && !jv_is(c, "0") &&
		    !jv_is(c, "");
	return (e != NULL && !json_object_is_type(e, json_type_boolean)) ||
	    (json_object_is_type(m, json_type_string) &&
	    json_object_get_string_len(m) > 0);
}

/* ------------------------------------------------------------ operations */

/* p matches pat, each '#' an index "-?[0-9]{1,6}" stored in ix[]. */
static bool
match(const char *p, const char *pat, long ix[2])
{
	long	 v;
	int	 n = 0, d, neg;

	while (*pat != '\0') {
		if (*pat != '#') {
			if (*p++ != *pat++)
				return false;
			continue;
		}
		pat++;
		if ((neg = *p == '-'))
			p++;
		for (v = 0, d = 0; ISDIGIT(*p) && d < 7; d++)
			v = v * 10 + (*p++ - '0');
		if (d == 0 || d > 6)
			return false;
		ix[n++] = neg ? -v : v;
	}
	return *p == '\0';
}

/* Fragments appended (or set: the list starts over). */
static enum ds_stream_err
fragments(struct ds_stream *s, json_object *v, bool append)
{
	enum ds_stream_err	 rc;
	json_object		*e, *t;
	size_t			 i, f;

	if (!json_object_is_type(v, json_type_array))
		return DSS_OK;
	if (!append)
		s->nfrag = 0;
	for (i = 0; i < json_object_array_length(v); i++) {
		if (s->nfrag == DSS_MAX_FRAGMENTS)
			return DSS_PROTO;
		e = json_object_array_get_idx(v, i);
		t = jv_get(e, "type");
		f = s->nfrag++;
		s->kind[f] = jv_is(t, "THINK") ? K_THINK :
		    jv_is(t, "RESPONSE") || jv_is(t, "ANSWER") ? K_ANSWER :
		    jv_is(t, "SEARCH") || jv_is(t, "TOOL_SEARCH") ? K_SEARCH :
		    K_OTHER;
		s->cite = s->cite || s->kind[f] == K_SEARCH;
		s->refs.npos[f] = 0;
		if (json_object_is_type(jv_get(e, "results"), json_type_array))
			s->cite = true;
		if ((rc = emit(s, s->kind[f], jv_get(e, "content"))) !=
		    DSS_OK || (rc = ds_refs_add(&s->refs, (int)f,
		    jv_get(e, "results"))) != DSS_OK)
			return rc;
	}
	return DSS_OK;
}

/*
 * One operation on a full path.  o is "SET", "APPEND", "BATCH", NULL (not
 * given) or anything else (ignored).  Text and results are appended
 * whatever o says; a fragment list is set unless o is APPEND.
 */
static enum ds_stream_err
op(struct ds_stream *s, const char *path, const char *o, json_object *v)
{
	enum ds_stream_err	 rc;
	enum pk			 k;
	long			 ix[2] = { 0, 0 }, i;
	size_t			 p, f = DS_REFS_OLD;
	char			 sub[DSS_PATH_MAX + 1];

	if (o != NULL && strcmp(o, "BATCH") == 0) {
		for (p = 0; json_object_is_type(v, json_type_array) &&
		    p < json_object_array_length(v); p++)
			if ((rc = one(s, path, json_object_array_get_idx(v,
			    p))) != DSS_OK)
				return rc;
		return DSS_OK;
	}
	if (o != NULL && strcmp(o, "SET") != 0 && strcmp(o, "APPEND") != 0)
		return DSS_OK;
	for (p = 0; p < NITEMS(paths) && !match(path, paths[p].pat, ix); p++)
		;
	if (p == NITEMS(paths))
		return DSS_OK;
	if ((k = paths[p].kind) >= P_FRAG_CONTENT) {	/* fragment ix[0] */
		i = ix[0] < 0 ? ix[0] + (long)s->nfrag : ix[0];
		if (i < 0 || (size_t)i >= s->nfrag)
			return DSS_OK;
		f = (size_t)i;
	}
	switch (k) {
	case P_ROOT:
		v = jv_get(v, "response");
		/* FALLTHROUGH */
	case P_RESPONSE:	/* a snapshot: a SET of each response/<key> */
		if (!json_object_is_type(v, json_type_object))
			return DSS_OK;
		json_object_object_foreach(v, key, val) {
			if (strlen(key) > DSS_PATH_MAX - 9)
				continue;
			snprintf(sub, sizeof(sub), "response/%s", key);
			if ((rc = op(s, sub, "SET", val)) != DSS_OK)
				return rc;
		}
		return DSS_OK;
	case P_STATUS:
		for (p = 0; p < NITEMS(statuses); p++)
			if (jv_is(v, statuses[p].name)) {
				s->end_pending = s->upstream_end = true;
				s->end_why = statuses[p].why;
			}
		return DSS_OK;
	case P_TOKENS:
		if ((i = ds_json_index(v, INT32_MAX)) >= 0)
			s->tokens = i;
		return DSS_OK;
	case P_FRAGS:
		return fragments(s, v, o != NULL && strcmp(o, "APPEND") == 0);
	case P_OLD_CONTENT:
	case P_OLD_THINK:
		return emit(s, k == P_OLD_CONTENT ? K_ANSWER : K_THINK, v);
	case P_FRAG_CONTENT:
		return emit(s, s->kind[f], v);
	case P_OLD_RESULTS:
	case P_FRAG_RESULTS:
		s->cite = true;
		return ds_refs_add(&s->refs, (int)f, v);
	case P_OLD_CITE:
	case P_FRAG_CITE:
		ds_refs_cite(&s->refs, (int)f, ix[k == P_OLD_CITE ? 0 : 1],
		    ds_json_index(v, DS_CITE_LIMIT));
		return DSS_OK;
	}
	return DSS_OK;
}

/* ------------------------------------------------------------ events */

/*
 * One {"p","o","v"} operation, its p relative to base.  At the top (base
 * NULL) p is remembered, and without p a string "v" appends to the last
 * path while an object "v" is the document root.
 */
static enum ds_stream_err
one(struct ds_stream *s, const char *base, json_object *j)
{
	json_object	*v, *jp, *jo;
	const char	*o = NULL, *p;
	char		 full[2 * DSS_PATH_MAX + 2];
	size_t		 n;

	if (!json_object_object_get_ex(j, "v", &v))
		return DSS_OK;
	/* an "o" that is no string: an operation we do not know */
	if (json_object_object_get_ex(j, "o", &jo))
		o = json_object_is_type(jo, json_type_string) ?
		    json_object_get_string(jo) : "";
	if (!json_object_object_get_ex(j, "p", &jp)) {
		if (base != NULL)
			return DSS_OK;
		if (json_object_is_type(v, json_type_object))
			return op(s, "", "SET", v);
		return op(s, s->path, o != NULL ? o : "APPEND", v);
	}
	if ((p = jv_str(jp, &n)) == NULL && base != NULL)
		return DSS_OK;
	if (p == NULL || n > DSS_PATH_MAX || strlen(p) != n)
		return DSS_PROTO;
	if (base == NULL)
		return op(s, memcpy(s->path, p, n + 1), o, v);
	snprintf(full, sizeof(full), "%s%s%s", base, *base != '\0' &&
	    *p != '\0' ? "/" : "", p);
	return op(s, full, o, v);
}

/* A data line: an operation, an error object, or nothing we know. */
static enum ds_stream_err
data_line(struct ds_stream *s, const char *data, size_t len)
{
	enum ds_stream_err	 rc;
	json_object		*j;

	if ((rc = parse(s, data, len, &j)) != DSS_OK)
		return rc;
	if (!json_object_is_type(j, json_type_object))
		rc = DSS_PROTO;
	else if (json_object_object_get_ex(j, "v", NULL))
		rc = one(s, NULL, j);
	else if (is_error(j))
		rc = upstream_error(s, j, NULL, 0);
	json_object_put(j);
	return rc;
}

enum ds_stream_err
ds_stream_event(struct ds_stream *s, const char *name, const char *data,
    size_t len)
{
	enum ds_stream_err	 rc = DSS_OK;
	json_object		*j = NULL;

	if (s == NULL)
		return DSS_ENOMEM;	/* ds_stream_new() failed */
	if (s->err != DSS_OK || s->terminal)
		return s->err;
	len = sse_trim(&data, len);
	if (name == NULL || *name == '\0' || strcmp(name, "message") == 0) {
		if (len > 0)
			rc = data_line(s, data, len);
	} else if (strcmp(name, "ready") == 0) {
		if ((rc = parse(s, data, len, &j)) == DSS_OK && s->msg_id < 0)
			s->msg_id = ds_json_index(jv_get(j,
			    "response_message_id"), INT32_MAX);
	} else if (strcmp(name, "finish") == 0 || strcmp(name, "close") == 0) {
		/* without content, ds_stream_end() reports the empty stream */
		if (s->content && !s->end_pending) {
			s->end_pending = s->upstream_end = true;
			s->end_why = CHAT_FINISH_STOP;
		}
	} else if (strcmp(name, "error") == 0) {
		if (parse(s, data, len, &j) == DSS_OK &&
		    json_object_is_type(j, json_type_object))
			rc = upstream_error(s, j, NULL, 0);
		else
			rc = upstream_error(s, NULL, data, len);
	} else if (strcmp(name, "hint") == 0) {
		/* {"type":"error","content":...,"finish_reason":...} */
		if (parse(s, data, len, &j) == DSS_OK &&
		    jv_is(jv_get(j, "type"), "error"))
			rc = upstream_error(s, j, NULL, 0);
	}
	/* update_session, title and events we do not know: nothing */
	json_object_put(j);
	if (rc == DSS_OK && s->end_pending)
		rc = end_answer(s, s->end_why);
	if (rc != DSS_OK && s->err == DSS_OK)
		s->err = rc;
	return rc;
}

enum ds_stream_err
ds_stream_end(struct ds_stream *s)
{
	if (s == NULL)
		return DSS_ENOMEM;
	if (s->err != DSS_OK || s->terminal)
		return s->err;
	/* without any content it was not an answer */
	return s->err = s->content ? end_answer(s, CHAT_FINISH_STOP) :
	    DSS_PROTO;
}

/* ------------------------------------------------------------ lifecycle */

enum ds_stream_err
ds_stream_new(struct ds_stream **out, const struct chat_sink *sink,
    const struct ds_stream_opts *opts)
{
	struct ds_stream	*s;

	if ((*out = s = calloc(1, sizeof(*s))) == NULL)
		return DSS_ENOMEM;
	if (sink != NULL)
		s->sink = *sink;
	if (opts != NULL)
		s->o = *opts;
	s->cite = s->o.search != 0;
	s->msg_id = s->tokens = -1;
	if ((s->tok = json_tokener_new_ex(DSS_JSON_DEPTH)) == NULL) {
		free(s);
		*out = NULL;
		return DSS_ENOMEM;
	}
	json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT);
	return DSS_OK;
}

void
ds_stream_free(struct ds_stream *s)
{
	if (s == NULL)
		return;
	ds_refs_free(&s->refs);
	json_tokener_free(s->tok);
	buf_free(&s->work);
	free(s);
}

int
ds_stream_started(const struct ds_stream *s)
{
	return s != NULL && s->started;
}

int
ds_stream_done(const struct ds_stream *s)
{
	return s != NULL && s->terminal;
}

int
ds_stream_finished_upstream(const struct ds_stream *s)
{
	return s != NULL && s->upstream_end;
}

long
ds_stream_message_id(const struct ds_stream *s)
{
	return s != NULL ? s->msg_id : -1;
}

const char *
ds_stream_strerror(enum ds_stream_err err)
{
	static const char *const text[DSS__MAX] = {
		"success", "out of memory", "malformed upstream stream",
		"aborted by the client", "the upstream reported an error",
	};

	return (unsigned)err < DSS__MAX ? text[err] : "unknown error";
}
