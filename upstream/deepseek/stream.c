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

#include "upstream/deepseek/stream.h"

#define SRC_OLD		DSS_MAX_FRAGMENTS	/* response/search_results */
#define CODE_MAX	64	/* bytes of an upstream error code passed on */
#define CITE_LIMIT	1000000	/* cite_index values we believe */
#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define ISDIGIT(c)	((c) >= '0' && (c) <= '9')
#define ISSPACE(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

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
	struct result		 res[DSS_MAX_RESULTS];
	size_t			 nres;
	long			 npos[SRC_OLD + 1];	/* list length per source */
	char			 hold[DSS_HOLD_MAX];	/* a marker prefix */
	size_t			 hlen;
	struct dbuf		 work;
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

static enum ds_stream_err	op(struct ds_stream *, const char *,
				    const char *, json_object *);

/* ------------------------------------------------------------ text */

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

/*
 * Length of the valid UTF-8 character at p (n > 0 bytes), 0 if none: no
 * overlongs, no surrogates (ED A0..BF), nothing past U+10FFFF.
 */
static size_t
u8_len(const unsigned char *p, size_t n)
{
	size_t	 i, need = p[0] < 0x80 ? 1 : p[0] < 0xc2 ? 0 : p[0] < 0xe0 ?
		    2 : p[0] < 0xf0 ? 3 : p[0] < 0xf5 ? 4 : 0;
	int	 lo = p[0] == 0xe0 ? 0xa0 : p[0] == 0xf0 ? 0x90 : 0x80;
	int	 hi = p[0] == 0xed ? 0x9f : p[0] == 0xf4 ? 0x8f : 0xbf;

	if (need < 2)
		return need;
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
			c = "\xef\xbf\xbd";
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

/* Length of a whole "[citation:N]" at p, or 0. */
static size_t
marker_at(const char *p, size_t n)
{
	size_t	 d = 0;

	if (n < 12 || memcmp(p, "[citation:", 10) != 0)
		return 0;
	while (10 + d < n && d <= DSS_CITE_DIGITS && ISDIGIT(p[10 + d]))
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
	size_t	 t, i;

	for (t = 1; t <= n && t <= DSS_HOLD_MAX; t++) {
		if (p[n - t] != '[')
			continue;
		for (i = 0; i < t; i++)
			if (i < 10 ? p[n - t + i] != "[citation:"[i] :
			    !ISDIGIT(p[n - t + i]))
				return 0;
		return t;
	}
	return 0;
}

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
	if (s->started || (s->started = true, s->sink.role == NULL))
		return DSS_OK;
	return sunk(s, s->sink.role(s->sink.ctx, "assistant"));
}

/* Valid UTF-8 to text() or reasoning(), after role(). */
static enum ds_stream_err
out(struct ds_stream *s, bool text, const char *p, size_t n)
{
	int			(*fn)(void *, const char *, size_t);
	enum ds_stream_err	 rc;
	size_t			 t;

	if (n == 0)
		return DSS_OK;
	if ((rc = start(s)) != DSS_OK)
		return rc;
	if (text) {
		for (t = 0; t < n && t < 2 && p[n - 1 - t] == '\n'; t++)
			;
		s->nl = t < n ? (int)t : s->nl + (int)t > 2 ? 2 :
		    s->nl + (int)t;
		s->any_text = true;
	}
	fn = text ? s->sink.text : s->sink.reasoning;
	return fn != NULL ? sunk(s, fn(s->sink.ctx, p, n)) : DSS_OK;
}

/* The text held back is plain text after all. */
static enum ds_stream_err
release(struct ds_stream *s)
{
	size_t	 n = s->hlen;

	s->hlen = 0;
	return out(s, true, s->hold, n);
}

/* Fragment text: reasoning, or answer with its markers rewritten. */
static enum ds_stream_err
emit(struct ds_stream *s, int kind, json_object *v)
{
	const char	*p;
	char		*w;
	size_t		 n, len, keep, r, o, k;

	if (!json_object_is_type(v, json_type_string) ||
	    (n = (size_t)json_object_get_string_len(v)) == 0 ||
	    (kind != K_THINK && kind != K_ANSWER))
		return DSS_OK;
	p = json_object_get_string(v);
	s->content = true;
	s->work.len = 0;
	if ((kind == K_ANSWER &&
	    dbuf_add(&s->work, s->hold, s->hlen) != DSS_OK) ||
	    put_clean(&s->work, p, n, SIZE_MAX, CL_TEXT) != DSS_OK)
		return DSS_ENOMEM;
	if (kind == K_THINK)
		return out(s, false, s->work.p, s->work.len);
	w = s->work.p;
	len = s->work.len;
	keep = s->cite ? marker_tail(w, len) : 0;
	/* "[citation:12]" -> "[12]" in place: it only shrinks */
	for (r = o = 0; r < len - keep; ) {
		if (s->cite && w[r] == '[' &&
		    (k = marker_at(w + r, len - keep - r)) != 0) {
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

/* "[N]: [title](url)" lines, sorted by N, the first result per N. */
static enum ds_stream_err
references(struct ds_stream *s)
{
	const struct result	*list[DSS_MAX_RESULTS], *r;
	char			 num[40];
	size_t			 n = 0, i, j;

	for (i = 0; i < s->nres; i++) {
		r = &s->res[i];
		for (j = 0; j < n && list[j]->cite != r->cite; j++)
			;
		if (r->cite < 0 || r->link == NULL || j < n)
			continue;
		for (j = n++; j > 0 && list[j - 1]->cite > r->cite; j--)
			list[j] = list[j - 1];
		list[j] = r;
	}
	s->work.len = 0;
	if (n > 0 && s->any_text && s->nl < 2 &&
	    dbuf_add(&s->work, "\n\n", (size_t)(2 - s->nl)) != DSS_OK)
		return DSS_ENOMEM;
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%s[%ld]: ", i > 0 ? "\n" : "",
		    list[i]->cite);
		if (dbuf_add(&s->work, num, strlen(num)) != DSS_OK ||
		    dbuf_add(&s->work, list[i]->link,
		    strlen(list[i]->link)) != DSS_OK)
			return DSS_ENOMEM;
	}
	return out(s, true, s->work.p, s->work.len);
}

static enum ds_stream_err
end_answer(struct ds_stream *s, enum chat_finish why)
{
	struct chat_usage	 u;
	enum ds_stream_err	 rc;

	if (s->terminal)
		return DSS_OK;
	if ((rc = release(s)) != DSS_OK || (rc = references(s)) != DSS_OK ||
	    (rc = start(s)) != DSS_OK)
		return rc;
	s->terminal = true;
	memset(&u, 0, sizeof(u));
	u.total_tokens = s->tokens;
	return s->sink.finish == NULL ? DSS_OK : sunk(s,
	    s->sink.finish(s->sink.ctx, why, s->tokens >= 0 ? &u : NULL));
}

/* ------------------------------------------------------------ JSON */

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
			if (ISDIGIT(p[i]) || (p[i] >= 'a' && p[i] <= 'z') ||
			    (p[i] >= 'A' && p[i] <= 'Z') || p[i] == '_' ||
			    p[i] == '-' || p[i] == '.')
				buf[k++] = p[i];
		buf[k] = '\0';
	}
}

/*
 * The answer ends with error(): the text held back first, then the error
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
	const char		*msg = o == NULL ? raw : NULL;
	char			 code[CODE_MAX + 1] = "";
	size_t			 n = rawlen, i;
	int			 status;

	if ((rc = release(s)) != DSS_OK)
		return rc;
	for (i = 0; o != NULL && msg == NULL && i < NITEMS(msgs); i++)
		msg = jstr(msgs[i], &n);
	for (i = 0; code[0] == '\0' && i < NITEMS(codes); i++)
		error_code(codes[i], code, sizeof(code));
	status = strcasestr(code, "rate_limit") != NULL ||
	    strcasestr(code, "ratelimit") != NULL ||
	    strcasestr(code, "too_many") != NULL ||
	    strcmp(code, "429") == 0 ? 429 : 502;
	if (code[0] == '\0')
		snprintf(code, sizeof(code), "upstream_stream_error");
	if (msg == NULL || n == 0) {
		msg = "The upstream reported an error.";
		n = strlen(msg);
	}
	s->work.len = 0;
	if (put_clean(&s->work, msg, n, DSS_ERRMSG_MAX, CL_LINE) != DSS_OK)
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
	bool		 esc;

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
		esc = (unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f ||
		    strchr("()<>\"`[]\\", url[i]) != NULL;
		snprintf(e, sizeof(e), "%%%02X", (unsigned char)url[i]);
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

/* Forget the results of source src, or (src < 0) of every fragment. */
static void
drop_results(struct ds_stream *s, int src)
{
	size_t	 i, k = 0;

	for (i = 0; i < s->nres; i++)
		if (src < 0 ? s->res[i].src != SRC_OLD : s->res[i].src == src)
			free(s->res[i].link);
		else
			s->res[k++] = s->res[i];
	s->nres = k;
	if (src >= 0)
		s->npos[src] = 0;
	else
		memset(s->npos, 0, SRC_OLD * sizeof(s->npos[0]));
}

/* A list of results set (replacing the source's) or appended. */
static enum ds_stream_err
results(struct ds_stream *s, int src, json_object *v, bool append)
{
	struct result	*r;
	json_object	*e;
	size_t		 i, n;

	if (!json_object_is_type(v, json_type_array))
		return DSS_OK;
	s->cite = true;
	if (!append)
		drop_results(s, src);
	n = json_object_array_length(v);
	for (i = 0; i < n && s->nres < DSS_MAX_RESULTS; i++) {
		e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_object))
			continue;
		r = &s->res[s->nres];
		r->src = src;
		r->pos = s->npos[src] + (long)i;
		r->cite = jindex(get(e, "cite_index"), CITE_LIMIT);
		if (make_link(e, &r->link) != DSS_OK)
			return DSS_ENOMEM;
		s->nres++;
	}
	s->npos[src] += (long)n;
	return DSS_OK;
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

static enum ds_stream_err
fragments(struct ds_stream *s, json_object *v, bool append)
{
	enum ds_stream_err	 rc;
	json_object		*e, *t;
	size_t			 i, f;

	if (!json_object_is_type(v, json_type_array))
		return DSS_OK;
	if (!append) {
		s->nfrag = 0;
		drop_results(s, -1);
	}
	for (i = 0; i < json_object_array_length(v); i++) {
		if (s->nfrag == DSS_MAX_FRAGMENTS)
			return DSS_PROTO;
		e = json_object_array_get_idx(v, i);
		t = get(e, "type");
		f = s->nfrag++;
		s->kind[f] = jis(t, "THINK") ? K_THINK : jis(t, "RESPONSE") ||
		    jis(t, "ANSWER") ? K_ANSWER : jis(t, "SEARCH") ||
		    jis(t, "TOOL_SEARCH") ? K_SEARCH : K_OTHER;
		s->cite = s->cite || s->kind[f] == K_SEARCH;
		if ((rc = emit(s, s->kind[f], get(e, "content"))) != DSS_OK ||
		    (rc = results(s, (int)f, get(e, "results"), true)) !=
		    DSS_OK)
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
 * Text is appended whatever o says.
 */
static enum ds_stream_err
op(struct ds_stream *s, const char *path, const char *o, json_object *v)
{
	enum ds_stream_err	 rc;
	enum pk			 k;
	long			 ix[2] = { 0, 0 }, i;
	size_t			 p, f = 0;
	bool			 append = o != NULL && strcmp(o, "APPEND") == 0;
	char			 sub[DSS_PATH_MAX + 1];

	if (o != NULL && strcmp(o, "BATCH") == 0)
		return batch(s, path, v);
	if (o != NULL && !append && strcmp(o, "SET") != 0)
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
		if (jis(get(v, "type"), "error"))
			return upstream_error(s, v, NULL, 0);
		v = get(v, "response");
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
			if (jis(v, statuses[p].name)) {
				s->end_pending = s->upstream_end = true;
				s->end_why = statuses[p].why;
			}
		return DSS_OK;
	case P_TOKENS:
		if ((i = jindex(v, INT32_MAX)) >= 0)
			s->tokens = i;
		return DSS_OK;
	case P_FRAGS:
		return fragments(s, v, append);
	case P_OLD_RESULTS:
	case P_FRAG_RESULTS:
		return results(s, k == P_OLD_RESULTS ? SRC_OLD : (int)f, v,
		    append);
	case P_OLD_CITE:
	case P_FRAG_CITE:
		f = k == P_OLD_CITE ? SRC_OLD : f;
		if ((i = ix[k == P_OLD_CITE ? 0 : 1]) < 0)
			i += s->npos[f];
		for (p = 0; p < s->nres; p++)
			if (s->res[p].src == (int)f && s->res[p].pos == i)
				s->res[p].cite = jindex(v, CITE_LIMIT);
		return DSS_OK;
	case P_OLD_CONTENT:
	case P_OLD_THINK:
		return emit(s, k == P_OLD_CONTENT ? K_ANSWER : K_THINK, v);
	case P_FRAG_CONTENT:
		return emit(s, s->kind[f], v);
	}
	return DSS_OK;
}

/* ------------------------------------------------------------ events */

/* {"p":..., "o":..., "v":...}, an error object, or something else. */
static enum ds_stream_err
data_line(struct ds_stream *s, const char *data, size_t len)
{
	enum ds_stream_err	 rc;
	json_object		*j, *v, *jp, *jo;
	const char		*o = NULL, *p;
	size_t			 n;

	if ((rc = parse(s, data, len, &j)) != DSS_OK)
		return rc;
	if (!json_object_is_type(j, json_type_object)) {
		rc = DSS_PROTO;
		goto done;
	}
	if (!json_object_object_get_ex(j, "v", &v)) {
		if (is_error(j))
			rc = upstream_error(s, j, NULL, 0);
		goto done;
	}
	if (json_object_object_get_ex(j, "o", &jo)) {
		if (!json_object_is_type(jo, json_type_string))
			goto done;	/* an operation we do not know */
		o = json_object_get_string(jo);
	}
	if (json_object_object_get_ex(j, "p", &jp)) {
		if ((p = jstr(jp, &n)) == NULL || n > DSS_PATH_MAX ||
		    strlen(p) != n) {
			rc = DSS_PROTO;
			goto done;
		}
		memcpy(s->path, p, n + 1);
		rc = op(s, s->path, o, v);
	} else if (json_object_is_type(v, json_type_object))
		rc = op(s, "", "SET", v);	/* the document root */
	else
		rc = op(s, s->path, o != NULL ? o : "APPEND", v);
done:
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
	for (len = data != NULL ? len : 0; len > 0 && ISSPACE(*data); len--)
		data++;
	while (len > 0 && ISSPACE(data[len - 1]))
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

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return DSS_ENOMEM;
	if (sink != NULL)
		s->sink = *sink;
	if (opts != NULL)
		s->o = *opts;
	s->cite = s->o.search != 0;
	s->msg_id = s->tokens = -1;
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
	static const char *const text[DSS__MAX] = {
		"success", "out of memory", "malformed upstream stream",
		"aborted by the client", "the upstream reported an error",
	};

	return (unsigned)err < DSS__MAX ? text[err] : "unknown error";
}
