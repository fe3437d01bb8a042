/*
 * stream.c - DeepSeek completion stream decoder; see stream.h for the
 * contract and the conversion rules.
 *
 * Layout: ds_stream_event() sorts an event by name; data lines go through
 * json-c (the events are small and few, so unlike the ChatGPT decoder
 * there is no fast path) and then op(), which looks the full path up in
 * a small table and does what that path means.  Nothing of the upstream
 * document is kept beyond the fragment types and the search results:
 * every text change arrives as an explicit append.
 *
 * Output of one event is collected in one pending buffer (one channel at
 * a time) and handed to the sink at the end of the event, so a BATCH that
 * creates a fragment and appends to it reaches the client as one chunk.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "upstream/deepseek/stream.h"

#define SRC_OLD		(-1)	/* results of response/search_results */
#define CODE_MAX	64	/* bytes of an upstream error code passed on */
#define CITE_LIMIT	1000000	/* cite_index values we believe */
#define REPLACEMENT	"\xef\xbf\xbd"
#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

enum chan { CH_TEXT, CH_REASON };
enum kind { K_OTHER, K_THINK, K_ANSWER, K_SEARCH };
enum clean { CL_TEXT, CL_LINE, CL_TITLE };	/* see put_clean() */

struct dbuf {
	char	*p;
	size_t	 len, cap;
};

struct result {
	int	 src;		/* fragment index, or SRC_OLD */
	long	 pos;		/* index in that source's list */
	long	 cite;		/* -1: none */
	char	*link;		/* "[title](url)"; NULL: no usable url */
};

struct ds_stream {
	struct chat_sink	 sink;
	struct ds_stream_opts	 o;
	json_tokener		*tok;
	enum ds_stream_err	 err;		/* sticky */
	bool			 started;	/* role() sent */
	bool			 terminal;	/* finish/error sent, or abort */
	bool			 upstream_end;	/* the upstream ended it */
	bool			 end_pending;	/* end after this event */
	enum chat_finish	 end_why;
	bool			 content;	/* text or reasoning received */
	bool			 cite;		/* rewrite [citation:N] */
	long			 msg_id;
	long			 tokens;	/* -1: not given */

	char			 path[DSS_PATH_MAX + 1];	/* last "p" */
	unsigned char		 kind[DSS_MAX_FRAGMENTS];
	bool			 had[DSS_MAX_FRAGMENTS];	/* has text */
	bool			 old_had[2];	/* response/content, thinking */
	size_t			 nfrag;
	struct result		 res[DSS_MAX_RESULTS];
	size_t			 nres;

	char			 hold[DSS_HOLD_MAX];	/* marker prefix */
	size_t			 hlen;
	struct dbuf		 pend;		/* output of this event */
	enum chan		 pch;
	struct dbuf		 work;		/* hold + a delta; messages */
	bool			 any_text;	/* text channel written */
	int			 nl;		/* its trailing newlines, <= 2 */
};

/*
 * Statuses that end the answer.  §2.7 names only FINISHED.  The web
 * client's streams also end with INCOMPLETE (cut at the length limit,
 * the client offers "continue") and CONTENT_FILTER (withdrawn); neither
 * §2.7 nor §1.3 says what to report for them, so they finish with "stop"
 * as well.  CHAT_FINISH_LENGTH and CHAT_FINISH_CONTENT_FILTER would be
 * the matching OpenAI reasons should that be decided.
 */
static const struct {
	const char		*name;
	enum chat_finish	 why;
} statuses[] = {
	{ "FINISHED", CHAT_FINISH_STOP },
	{ "INCOMPLETE", CHAT_FINISH_STOP },
	{ "CONTENT_FILTER", CHAT_FINISH_STOP },
};

/* The paths we act on; '#' is an index, negative from the end. */
enum pk {
	P_ROOT, P_RESPONSE, P_STATUS, P_TOKENS, P_OLD_CONTENT, P_OLD_THINK,
	P_OLD_RESULTS, P_OLD_CITE, P_FRAGS,
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
	{ "response/content", P_OLD_CONTENT },
	{ "response/thinking_content", P_OLD_THINK },
	{ "response/search_results", P_OLD_RESULTS },
	{ "response/search_results/#/cite_index", P_OLD_CITE },
	{ "response/fragments", P_FRAGS },
	{ "response/fragments/#/content", P_FRAG_CONTENT },
	{ "response/fragments/#/results", P_FRAG_RESULTS },
	{ "response/fragments/#/results/#/cite_index", P_FRAG_CITE },
};

static enum ds_stream_err	op(struct ds_stream *, const char *,
				    const char *, json_object *);

/* ------------------------------------------------------------ buffers */

static enum ds_stream_err
dbuf_add(struct dbuf *b, const char *p, size_t n)
{
	size_t	 ncap;
	char	*np;

	if (n > SIZE_MAX / 4 - b->len)
		return DSS_ENOMEM;
	if (b->len + n + 1 > b->cap) {
		for (ncap = b->cap ? b->cap : 256; ncap < b->len + n + 1; )
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return DSS_ENOMEM;
		b->p = np;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return DSS_OK;
}

/* Length of the valid UTF-8 character at p (n > 0 bytes), 0 if none. */
static size_t
u8_len(const unsigned char *p, size_t n)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 need, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	need = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;	/* no surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < need || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return need;
}

/*
 * Append p[0..n) as valid UTF-8 (every byte that starts no valid
 * character becomes U+FFFD), at most max bytes of it, cut between
 * characters.  CL_LINE and CL_TITLE also turn controls into spaces;
 * CL_TITLE escapes [ ] \ for a markdown link text.
 */
static enum ds_stream_err
put_clean(struct dbuf *b, const char *p, size_t n, size_t max, enum clean m)
{
	const unsigned char	*u = (const unsigned char *)p;
	const char		*c;
	size_t			 i, k, w, used = 0;

	for (i = 0; i < n; i += k ? k : 1) {
		c = p + i;
		if ((w = k = u8_len(u + i, n - i)) == 0) {
			c = REPLACEMENT;
			w = 3;
		}
		if (w > max - used)
			break;
		used += w;
		if (m != CL_TEXT && w == 1 && (u[i] < 0x20 || u[i] == 0x7f))
			c = " ";
		if (m == CL_TITLE && w == 1 && strchr("[]\\", *c) != NULL &&
		    dbuf_add(b, "\\", 1) != DSS_OK)
			return DSS_ENOMEM;
		if (dbuf_add(b, c, w) != DSS_OK)
			return DSS_ENOMEM;
	}
	return DSS_OK;
}

/* ------------------------------------------------------------ sink output */

static enum ds_stream_err
sink_rc(struct ds_stream *s, int rc)
{
	if (rc == 0)
		return DSS_OK;
	s->terminal = true;
	return s->err = DSS_ABORT;
}

static enum ds_stream_err
start(struct ds_stream *s)
{
	if (s->started)
		return DSS_OK;
	s->started = true;
	if (s->sink.role == NULL)
		return DSS_OK;
	return sink_rc(s, s->sink.role(s->sink.ctx, "assistant"));
}

static enum ds_stream_err
flush(struct ds_stream *s)
{
	int			(*fn)(void *, const char *, size_t);
	enum ds_stream_err	 rc;
	size_t			 n = s->pend.len;

	if (n == 0)
		return DSS_OK;
	s->pend.len = 0;	/* the bytes stay valid for the call */
	if ((rc = start(s)) != DSS_OK)
		return rc;
	fn = s->pch == CH_TEXT ? s->sink.text : s->sink.reasoning;
	return fn == NULL ? DSS_OK : sink_rc(s, fn(s->sink.ctx, s->pend.p, n));
}

static enum ds_stream_err
channel(struct ds_stream *s, enum chan ch)
{
	enum ds_stream_err	 rc;

	if (s->pend.len > 0 && s->pch != ch && (rc = flush(s)) != DSS_OK)
		return rc;
	s->pch = ch;
	return DSS_OK;
}

/* Answer bytes that are already valid UTF-8. */
static enum ds_stream_err
text_raw(struct ds_stream *s, const char *p, size_t n)
{
	enum ds_stream_err	 rc;
	size_t			 t;

	if (n == 0)
		return DSS_OK;
	if ((rc = channel(s, CH_TEXT)) != DSS_OK ||
	    (rc = dbuf_add(&s->pend, p, n)) != DSS_OK)
		return rc;
	for (t = 0; t < n && t < 2 && p[n - 1 - t] == '\n'; t++)
		;
	s->nl = t == n ? (s->nl + (int)t > 2 ? 2 : s->nl + (int)t) : (int)t;
	s->any_text = true;
	return DSS_OK;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of a whole "[citation:N]" at p, or 0. */
static size_t
marker_at(const char *p, size_t n)
{
	size_t	 d = 0;

	if (n < 12 || memcmp(p, "[citation:", 10) != 0)
		return 0;
	while (10 + d < n && d <= DSS_CITE_DIGITS && is_digit(p[10 + d]))
		d++;
	if (d == 0 || d > DSS_CITE_DIGITS || 10 + d >= n || p[10 + d] != ']')
		return 0;
	return 11 + d;
}

/*
 * Bytes at the end of p[0..n) that may still become a marker: from the
 * last '[' (a marker has only one), if what follows it is a proper
 * prefix of "[citation:" and digits.  Pure ASCII starting at '[', so
 * holding it back never cuts a character.
 */
static size_t
marker_tail(const char *p, size_t n)
{
	size_t	 t, i, lim = n < DSS_HOLD_MAX ? n : DSS_HOLD_MAX;

	for (t = 1; t <= lim; t++) {
		if (p[n - t] != '[')
			continue;
		for (i = 0; i < t; i++)
			if (i < 10 ? p[n - t + i] != "[citation:"[i] :
			    !is_digit(p[n - t + i]))
				return 0;
		return t;
	}
	return 0;
}

/* Answer text: made valid, markers rewritten, a marker prefix held. */
static enum ds_stream_err
answer(struct ds_stream *s, const char *p, size_t n)
{
	enum ds_stream_err	 rc;
	const char		*w;
	size_t			 len, keep, end, i, from, k;

	s->work.len = 0;
	if (dbuf_add(&s->work, s->hold, s->hlen) != DSS_OK ||
	    put_clean(&s->work, p, n, SIZE_MAX, CL_TEXT) != DSS_OK)
		return DSS_ENOMEM;
	s->hlen = 0;
	w = s->work.p;
	len = s->work.len;
	if (!s->cite)
		return text_raw(s, w, len);
	keep = marker_tail(w, len);
	end = len - keep;
	for (i = from = 0; i < end; i++) {
		if (w[i] != '[' || (k = marker_at(w + i, end - i)) == 0)
			continue;
		/* "[citation:12]" -> "[" + "12]" */
		if ((rc = text_raw(s, w + from, i - from)) != DSS_OK ||
		    (rc = text_raw(s, "[", 1)) != DSS_OK ||
		    (rc = text_raw(s, w + i + 10, k - 10)) != DSS_OK)
			return rc;
		i += k - 1;
		from = i + 1;
	}
	if ((rc = text_raw(s, w + from, end - from)) != DSS_OK)
		return rc;
	memcpy(s->hold, w + end, keep);
	s->hlen = keep;
	return DSS_OK;
}

static enum ds_stream_err
emit(struct ds_stream *s, int kind, const char *p, size_t n)
{
	enum ds_stream_err	 rc;

	if (n == 0 || (kind != K_THINK && kind != K_ANSWER))
		return DSS_OK;
	s->content = true;
	if (kind == K_ANSWER)
		return answer(s, p, n);
	if ((rc = channel(s, CH_REASON)) != DSS_OK)
		return rc;
	return put_clean(&s->pend, p, n, SIZE_MAX, CL_TEXT);
}

/* What was held back is plain text after all. */
static enum ds_stream_err
release(struct ds_stream *s)
{
	size_t	 n = s->hlen;

	s->hlen = 0;
	return text_raw(s, s->hold, n);
}

/* "[N]: [title](url)" lines, sorted by N, the first result per N. */
static enum ds_stream_err
references(struct ds_stream *s)
{
	const struct result	*list[DSS_MAX_RESULTS], *r;
	enum ds_stream_err	 rc;
	char			 num[40];
	size_t			 n = 0, i, j;

	for (i = 0; i < s->nres; i++) {
		r = &s->res[i];
		if (r->cite < 0 || r->link == NULL)
			continue;
		for (j = 0; j < n && list[j]->cite != r->cite; j++)
			;
		if (j < n)
			continue;
		for (j = n++; j > 0 && list[j - 1]->cite > r->cite; j--)
			list[j] = list[j - 1];
		list[j] = r;
	}
	if (n > 0 && s->any_text && s->nl < 2 &&
	    (rc = text_raw(s, "\n\n", (size_t)(2 - s->nl))) != DSS_OK)
		return rc;
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%s[%ld]: ", i > 0 ? "\n" : "",
		    list[i]->cite);
		if ((rc = text_raw(s, num, strlen(num))) != DSS_OK ||
		    (rc = text_raw(s, list[i]->link, strlen(list[i]->link))) !=
		    DSS_OK)
			return rc;
	}
	return DSS_OK;
}

static enum ds_stream_err
end_answer(struct ds_stream *s, enum chat_finish why)
{
	struct chat_usage	 u;
	enum ds_stream_err	 rc;

	if (s->terminal)
		return DSS_OK;
	if ((rc = release(s)) != DSS_OK || (rc = references(s)) != DSS_OK ||
	    (rc = flush(s)) != DSS_OK || (rc = start(s)) != DSS_OK)
		return rc;
	s->terminal = true;
	if (s->sink.finish == NULL)
		return DSS_OK;
	memset(&u, 0, sizeof(u));
	u.total_tokens = s->tokens;
	return sink_rc(s, s->sink.finish(s->sink.ctx, why,
	    s->tokens >= 0 ? &u : NULL));
}

/* ------------------------------------------------------------ JSON helpers */

static json_object *
get(json_object *o, const char *key)
{
	json_object	*v = NULL;

	if (json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, key, &v);
	return v;
}

/* A string value (its bytes and length) or NULL. */
static const char *
jstr(json_object *o, size_t *lenp)
{
	if (!json_object_is_type(o, json_type_string))
		return NULL;
	*lenp = (size_t)json_object_get_string_len(o);
	return json_object_get_string(o);
}

static bool
jis(json_object *o, const char *lit)
{
	size_t		 n;
	const char	*p = jstr(o, &n);

	return p != NULL && n == strlen(lit) && memcmp(p, lit, n) == 0;
}

/* A non-negative integer below limit, or -1. */
static long
jindex(json_object *o, long limit)
{
	int64_t	 v;

	if (!json_object_is_type(o, json_type_int))
		return -1;
	v = json_object_get_int64(o);
	return v >= 0 && v < limit ? (long)v : -1;
}

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

/* An upstream code as a short token of [A-Za-z0-9_.-], or "". */
static void
error_code(json_object *o, char *buf, size_t size)
{
	const char	*p;
	size_t		 n, i, k = 0;

	buf[0] = '\0';
	if (json_object_is_type(o, json_type_int))
		snprintf(buf, size, "%lld", (long long)json_object_get_int64(o));
	else if ((p = jstr(o, &n)) != NULL) {
		for (i = 0; i < n && k + 1 < size; i++)
			if (is_digit(p[i]) || (p[i] >= 'a' && p[i] <= 'z') ||
			    (p[i] >= 'A' && p[i] <= 'Z') || p[i] == '_' ||
			    p[i] == '-' || p[i] == '.')
				buf[k++] = p[i];
		buf[k] = '\0';
	}
}

static bool
rate_limited(const char *code)
{
	static const char *const words[] = { "rate_limit", "ratelimit",
	    "too_many" };

	for (size_t k = 0; k < NITEMS(words); k++)
		for (const char *p = code; *p != '\0'; p++)
			if (strncasecmp(p, words[k], strlen(words[k])) == 0)
				return true;
	return strcmp(code, "429") == 0;
}

/*
 * The answer ends with error(): the pending text first, then the error
 * (object o, or the raw text of an "error" event that was not JSON).
 */
static enum ds_stream_err
upstream_error(struct ds_stream *s, json_object *o, const char *raw,
    size_t rawlen)
{
	json_object		*e = get(o, "error");
	json_object		*msgs[] = { e, get(e, "message"), get(e, "msg"),
				    get(o, "msg"), get(o, "message"),
				    get(o, "content") };
	json_object		*codes[] = { get(o, "code"), get(e, "code"),
				    get(o, "finish_reason"), get(e, "type") };
	enum ds_stream_err	 rc;
	const char		*msg = NULL;
	char			 code[CODE_MAX + 1];
	size_t			 n = 0, i;
	int			 status;

	if ((rc = release(s)) != DSS_OK || (rc = flush(s)) != DSS_OK)
		return rc;
	for (i = 0; o != NULL && msg == NULL && i < NITEMS(msgs); i++)
		msg = jstr(msgs[i], &n);
	if (o == NULL) {
		msg = raw;
		n = rawlen;
	}
	code[0] = '\0';
	for (i = 0; code[0] == '\0' && i < NITEMS(codes); i++)
		error_code(codes[i], code, sizeof(code));
	status = rate_limited(code) ? 429 : 502;
	if (code[0] == '\0')
		snprintf(code, sizeof(code), "upstream_stream_error");
	if (msg == NULL || n == 0) {
		msg = "The upstream reported an error.";
		n = strlen(msg);
	}
	s->work.len = 0;
	if (put_clean(&s->work, msg, n, DSS_ERRMSG_MAX, CL_LINE) != DSS_OK ||
	    dbuf_add(&s->work, "", 0) != DSS_OK)
		return DSS_ENOMEM;
	s->terminal = true;
	s->err = DSS_UPSTREAM;
	if (s->sink.error != NULL)
		(void)s->sink.error(s->sink.ctx, status, "upstream_error", code,
		    s->work.p);
	return DSS_UPSTREAM;
}

/* A JSON object without "v" that reports an error. */
static bool
is_error(json_object *o)
{
	json_object	*c, *m = get(o, "msg"), *e = get(o, "error");

	if (json_object_object_get_ex(o, "code", &c))
		return c != NULL && !(json_object_is_type(c, json_type_int) &&
		    json_object_get_int64(c) == 0) && !jis(c, "0") &&
		    !jis(c, "");
	return (e != NULL && !json_object_is_type(e, json_type_boolean)) ||
	    jis(get(o, "type"), "error") ||
	    (json_object_is_type(m, json_type_string) &&
	    json_object_get_string_len(m) > 0);
}

/* ------------------------------------------------------------ results */

/* "[title](url)" for an http(s) url, or NULL in *out. */
static enum ds_stream_err
make_link(json_object *r, char **out)
{
	struct dbuf	 b = { NULL, 0, 0 };
	const char	*url, *title;
	size_t		 ul, tl = 0, i;
	char		 e[4];

	*out = NULL;
	if ((url = jstr(get(r, "url"), &ul)) == NULL || ul > DSS_URL_MAX ||
	    !((ul > 7 && strncasecmp(url, "http://", 7) == 0) ||
	    (ul > 8 && strncasecmp(url, "https://", 8) == 0)))
		return DSS_OK;
	if ((title = jstr(get(r, "title"), &tl)) == NULL || tl == 0) {
		title = url;
		tl = ul;
	}
	if (dbuf_add(&b, "[", 1) != DSS_OK ||
	    put_clean(&b, title, tl, DSS_TITLE_MAX, CL_TITLE) != DSS_OK ||
	    dbuf_add(&b, "](", 2) != DSS_OK)
		goto fail;
	/* %-escape what would end the link, and every non-ASCII byte */
	for (i = 0; i < ul; i++) {
		unsigned char	 c = (unsigned char)url[i];
		bool		 esc = c <= 0x20 || c >= 0x7f ||
				    strchr("()<>\"`[]\\", c) != NULL;

		snprintf(e, sizeof(e), "%%%02X", c);
		if (dbuf_add(&b, esc ? e : url + i, esc ? 3 : 1) != DSS_OK)
			goto fail;
	}
	if (dbuf_add(&b, ")", 1) != DSS_OK)
		goto fail;
	*out = b.p;
	return DSS_OK;
fail:
	free(b.p);
	return DSS_ENOMEM;
}

/* Forget the results of one source, or (src < -1) of all fragments. */
static void
drop_results(struct ds_stream *s, int src)
{
	size_t	 i, k = 0;

	for (i = 0; i < s->nres; i++) {
		if (src < SRC_OLD ? s->res[i].src != SRC_OLD :
		    s->res[i].src == src) {
			free(s->res[i].link);
			continue;
		}
		s->res[k++] = s->res[i];
	}
	s->nres = k;
}

/* Positions a source's list has (its highest pos + 1). */
static long
results_count(const struct ds_stream *s, int src)
{
	long	 n = 0;

	for (size_t i = 0; i < s->nres; i++)
		if (s->res[i].src == src && s->res[i].pos >= n)
			n = s->res[i].pos + 1;
	return n;
}

static enum ds_stream_err
results(struct ds_stream *s, int src, json_object *v, bool append)
{
	struct result	*r;
	json_object	*e;
	long		 base;
	size_t		 i, n;

	if (!json_object_is_type(v, json_type_array))
		return DSS_OK;
	s->cite = true;
	if (!append)
		drop_results(s, src);
	base = results_count(s, src);
	n = json_object_array_length(v);
	for (i = 0; i < n && s->nres < DSS_MAX_RESULTS; i++) {
		e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_object))
			continue;
		r = &s->res[s->nres];
		r->src = src;
		r->pos = base + (long)i;
		r->cite = jindex(get(e, "cite_index"), CITE_LIMIT);
		if (make_link(e, &r->link) != DSS_OK)
			return DSS_ENOMEM;
		s->nres++;
	}
	return DSS_OK;
}

static void
cite_index(struct ds_stream *s, int src, long j, json_object *v)
{
	if (j < 0)
		j += results_count(s, src);
	for (size_t i = 0; i < s->nres; i++)
		if (s->res[i].src == src && s->res[i].pos == j)
			s->res[i].cite = jindex(v, CITE_LIMIT);
}

/* ------------------------------------------------------------ operations */

/* p matches pat, each '#' an index "-?[0-9]{1,6}" stored in ix[]. */
static bool
match(const char *p, const char *pat, long ix[2])
{
	long	 v;
	int	 n = 0, d, neg;

	while (*pat != '\0') {
		if (*pat++ != '#') {
			if (*p++ != pat[-1])
				return false;
			continue;
		}
		neg = *p == '-';
		p += neg;
		for (v = 0, d = 0; is_digit(*p) && d < 7; d++)
			v = v * 10 + (*p++ - '0');
		if (d == 0 || d > 6)
			return false;
		ix[n++] = neg ? -v : v;
	}
	return *p == '\0';
}

static int
kind_of(json_object *type)
{
	if (jis(type, "THINK"))
		return K_THINK;
	if (jis(type, "RESPONSE") || jis(type, "ANSWER"))
		return K_ANSWER;
	if (jis(type, "SEARCH") || jis(type, "TOOL_SEARCH"))
		return K_SEARCH;
	return K_OTHER;
}

/* Text set or appended; a SET after text is not taken back (ignored). */
static enum ds_stream_err
text_op(struct ds_stream *s, int kind, bool *had, json_object *v,
    bool append)
{
	const char	*p;
	size_t		 n;

	if ((p = jstr(v, &n)) == NULL || (!append && *had))
		return DSS_OK;
	*had = *had || n > 0;
	return emit(s, kind, p, n);
}

static enum ds_stream_err
fragments(struct ds_stream *s, json_object *v, bool append)
{
	enum ds_stream_err	 rc;
	json_object		*e;
	size_t			 i, f;

	if (!json_object_is_type(v, json_type_array))
		return DSS_OK;
	if (!append) {
		s->nfrag = 0;
		drop_results(s, SRC_OLD - 1);
	}
	for (i = 0; i < json_object_array_length(v); i++) {
		if (s->nfrag == DSS_MAX_FRAGMENTS)
			return DSS_PROTO;
		e = json_object_array_get_idx(v, i);
		f = s->nfrag++;
		s->kind[f] = (unsigned char)kind_of(get(e, "type"));
		s->had[f] = false;
		s->cite = s->cite || s->kind[f] == K_SEARCH;
		if ((rc = text_op(s, s->kind[f], &s->had[f], get(e, "content"),
		    true)) != DSS_OK ||
		    (rc = results(s, (int)f, get(e, "results"), true)) !=
		    DSS_OK)
			return rc;
	}
	return DSS_OK;
}

/* A snapshot of "response": every member is a SET of response/<key>. */
static enum ds_stream_err
response(struct ds_stream *s, json_object *v)
{
	enum ds_stream_err	 rc;
	char			 path[DSS_PATH_MAX + 1];

	if (!json_object_is_type(v, json_type_object))
		return DSS_OK;
	json_object_object_foreach(v, key, val) {
		if (strlen(key) > DSS_PATH_MAX - 9)
			continue;
		snprintf(path, sizeof(path), "response/%s", key);
		if ((rc = op(s, path, "SET", val)) != DSS_OK)
			return rc;
	}
	return DSS_OK;
}

/* The sub-operations of a BATCH, paths relative to the batch's. */
static enum ds_stream_err
batch(struct ds_stream *s, const char *path, json_object *v)
{
	enum ds_stream_err	 rc;
	json_object		*e, *jo;
	const char		*sp, *so;
	char			 full[2 * DSS_PATH_MAX + 2];
	size_t			 i, sl;

	if (!json_object_is_type(v, json_type_array))
		return DSS_OK;
	for (i = 0; i < json_object_array_length(v); i++) {
		e = json_object_array_get_idx(v, i);
		if ((sp = jstr(get(e, "p"), &sl)) == NULL ||
		    !json_object_object_get_ex(e, "v", NULL))
			continue;
		if (sl > DSS_PATH_MAX || strlen(sp) != sl)
			return DSS_PROTO;
		so = NULL;	/* not given */
		if (json_object_object_get_ex(e, "o", &jo))
			so = json_object_is_type(jo, json_type_string) ?
			    json_object_get_string(jo) : "";
		snprintf(full, sizeof(full), "%s%s%s", path,
		    *path != '\0' && *sp != '\0' ? "/" : "", sp);
		if ((rc = op(s, full, so, get(e, "v"))) != DSS_OK)
			return rc;
	}
	return DSS_OK;
}

/*
 * One operation on a full path.  o is "SET", "APPEND", "BATCH", NULL (not
 * given: APPEND for text, SET otherwise) or anything else (ignored).
 */
static enum ds_stream_err
op(struct ds_stream *s, const char *path, const char *o, json_object *v)
{
	enum pk	 k;
	long	 ix[2] = { 0, 0 }, i;
	size_t	 p, f = 0;
	bool	 append;

	if (o != NULL && strcmp(o, "BATCH") == 0)
		return batch(s, path, v);
	if (o != NULL && strcmp(o, "SET") != 0 && strcmp(o, "APPEND") != 0)
		return DSS_OK;
	for (p = 0; p < NITEMS(paths) && !match(path, paths[p].pat, ix); p++)
		;
	if (p == NITEMS(paths))
		return DSS_OK;
	k = paths[p].kind;
	if (k >= P_FRAG_CONTENT) {	/* fragment ix[0], if it exists */
		i = ix[0] < 0 ? ix[0] + (long)s->nfrag : ix[0];
		if (i < 0 || (size_t)i >= s->nfrag)
			return DSS_OK;
		f = (size_t)i;
	}
	append = o != NULL ? strcmp(o, "APPEND") == 0 : k == P_FRAG_CONTENT ||
	    k == P_OLD_CONTENT || k == P_OLD_THINK;
	switch (k) {
	case P_ROOT:
		if (jis(get(v, "type"), "error"))
			return upstream_error(s, v, NULL, 0);
		return response(s, get(v, "response"));
	case P_RESPONSE:
		return response(s, v);
	case P_STATUS:
		for (i = 0; i < (long)NITEMS(statuses); i++)
			if (jis(v, statuses[i].name)) {
				s->end_pending = s->upstream_end = true;
				s->end_why = statuses[i].why;
			}
		return DSS_OK;
	case P_TOKENS:
		if ((i = jindex(v, INT32_MAX)) >= 0)
			s->tokens = i;
		return DSS_OK;
	case P_OLD_CONTENT:
		return text_op(s, K_ANSWER, &s->old_had[0], v, append);
	case P_OLD_THINK:
		return text_op(s, K_THINK, &s->old_had[1], v, append);
	case P_OLD_RESULTS:
		return results(s, SRC_OLD, v, append);
	case P_OLD_CITE:
		cite_index(s, SRC_OLD, ix[0], v);
		return DSS_OK;
	case P_FRAGS:
		return fragments(s, v, append);
	case P_FRAG_CONTENT:
		return text_op(s, s->kind[f], &s->had[f], v, append);
	case P_FRAG_RESULTS:
		return results(s, (int)f, v, append);
	case P_FRAG_CITE:
		cite_index(s, (int)f, ix[1], v);
		return DSS_OK;
	}
	return DSS_OK;
}

/* ------------------------------------------------------------ events */

/* {"p":..., "o":..., "v":...}; without "p", "v" appends to the last. */
static enum ds_stream_err
patch(struct ds_stream *s, json_object *j, json_object *v)
{
	json_object	*jp, *jo;
	const char	*o = NULL, *p;
	size_t		 n;

	if (json_object_object_get_ex(j, "o", &jo)) {
		if (!json_object_is_type(jo, json_type_string))
			return DSS_OK;	/* an operation we do not know */
		o = json_object_get_string(jo);
	}
	if (json_object_object_get_ex(j, "p", &jp)) {
		if ((p = jstr(jp, &n)) == NULL || n > DSS_PATH_MAX ||
		    strlen(p) != n)
			return DSS_PROTO;
		memcpy(s->path, p, n + 1);
		return op(s, s->path, o, v);
	}
	if (json_object_is_type(v, json_type_object))
		return op(s, "", "SET", v);	/* the document root */
	return op(s, s->path, o != NULL ? o : "APPEND", v);
}

static enum ds_stream_err
data_line(struct ds_stream *s, const char *data, size_t len)
{
	enum ds_stream_err	 rc;
	json_object		*j, *v;

	if ((rc = parse(s, data, len, &j)) != DSS_OK)
		return rc;
	if (!json_object_is_type(j, json_type_object))
		rc = DSS_PROTO;
	else if (json_object_object_get_ex(j, "v", &v))
		rc = patch(s, j, v);
	else if (is_error(j))
		rc = upstream_error(s, j, NULL, 0);
	json_object_put(j);
	return rc;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
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
	for (len = data != NULL ? len : 0; len > 0 && is_space(*data); len--)
		data++;
	while (len > 0 && is_space(data[len - 1]))
		len--;
	if (name == NULL || *name == '\0' || strcmp(name, "message") == 0) {
		if (len > 0)
			rc = data_line(s, data, len);
	} else if (strcmp(name, "ready") == 0) {
		if ((rc = parse(s, data, len, &j)) == DSS_OK && s->msg_id < 0)
			s->msg_id = jindex(get(j, "response_message_id"),
			    INT32_MAX);
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
		if (parse(s, data, len, &j) == DSS_OK &&
		    jis(get(j, "type"), "error"))
			rc = upstream_error(s, j, NULL, 0);
	}
	/* update_session, title and events we do not know: nothing */
	json_object_put(j);
	if (rc == DSS_OK && s->end_pending)
		rc = end_answer(s, s->end_why);
	if (rc == DSS_OK)
		rc = flush(s);
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
	/* nothing came: not an answer */
	s->err = s->content ? end_answer(s, CHAT_FINISH_STOP) : DSS_PROTO;
	return s->err;
}

/* ------------------------------------------------------------ lifecycle */

enum ds_stream_err
ds_stream_new(struct ds_stream **out, const struct chat_sink *sink,
    const struct ds_stream_opts *opts)
{
	struct ds_stream	*s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return DSS_ENOMEM;
	if (sink != NULL)
		s->sink = *sink;
	if (opts != NULL)
		s->o = *opts;
	s->cite = s->o.search != 0;
	s->msg_id = -1;
	s->tokens = -1;
	if ((s->tok = json_tokener_new_ex(DSS_JSON_DEPTH)) == NULL) {
		free(s);
		return DSS_ENOMEM;
	}
	json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT);
	*out = s;
	return DSS_OK;
}

void
ds_stream_free(struct ds_stream *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nres; i++)
		free(s->res[i].link);
	json_tokener_free(s->tok);
	free(s->pend.p);
	free(s->work.p);
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
	switch (err) {
	case DSS_OK:
		return "success";
	case DSS_ENOMEM:
		return "out of memory";
	case DSS_PROTO:
		return "malformed upstream stream";
	case DSS_ABORT:
		return "aborted by the client";
	case DSS_UPSTREAM:
		return "the upstream reported an error";
	case DSS__MAX:
		break;
	}
	return "unknown error";
}
