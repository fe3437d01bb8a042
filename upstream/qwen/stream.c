/*
 * stream.c - the Qwen chat stream decoder; see stream.h for the contract
 * and the rules.
 *
 * Every event is a whole snapshot of the answer so far, so an event is
 * parsed with json-c (strict, UTF-8 checked: whatever reaches the sink is
 * valid UTF-8), the few fields that matter are picked out, and the two
 * texts go through snap.c, which keeps what has been handed on and
 * answers with the new part.  Nothing else of the upstream document is
 * kept.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "upstream/jv.h"
#include "upstream/qwen/snap.h"
#include "upstream/qwen/stream.h"
#include "upstream/sink_out.h"
#include "upstream/sse.h"

#define MIME_TEXT	"text/plain"
#define MIME_CARD	"multi_load/iframe"

struct qw_stream {
	struct chat_sink	 sink;
	json_tokener		*tok;
	enum qw_stream_err	 err;		/* sticky */
	bool			 started;	/* role() sent */
	bool			 terminal;	/* finish/error, or abort */
	bool			 upstream_end;	/* the upstream ended */
	bool			 end_pending;	/* end after this event */
	struct qw_snap		 answer, think;
	char			 session[QWS_ID_MAX + 1];
	char			 reqid[QWS_ID_MAX + 1];
	struct buf		 work;		/* an answer joined, an error */
};

/* Words in an error code or message that say what went wrong. */
static const char *const login_words[] = {
	"not_login", "notlogin", "login", "unauthori", "session_expired",
	"ticket", "\xe6\x9c\xaa\xe7\x99\xbb\xe5\xbd\x95",	/* 未登录 */
	"\xe7\x99\xbb\xe5\xbd\x95",				/* 登录 */
};
static const char *const limit_words[] = {
	"rate", "limit", "frequen", "too_many", "too many", "throttl",
	"429", "\xe9\xa2\x91\xe7\xb9\x81",			/* 频繁 */
	"\xe9\x99\x90\xe6\xb5\x81",				/* 限流 */
};

static bool
has_word(const char *s, const char *const *w, size_t n)
{
	size_t	 i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcasestr(s, w[i]) != NULL)
			return true;
	return false;
}

int
qw_error_status(const char *code, const char *msg)
{
	size_t	 nl = sizeof(login_words) / sizeof(login_words[0]);
	size_t	 nr = sizeof(limit_words) / sizeof(limit_words[0]);

	if (has_word(code, login_words, nl) || has_word(msg, login_words, nl))
		return 401;
	if (has_word(code, limit_words, nr) || has_word(msg, limit_words, nr))
		return 429;
	return 502;
}

/* ------------------------------------------------------------ json */

static enum qw_stream_err
parse(struct qw_stream *s, const char *data, size_t len, json_object **out)
{
	*out = NULL;
	if (len > QWS_MAX_EVENT)
		return QWS_PROTO;
	json_tokener_reset(s->tok);
	*out = json_tokener_parse_ex(s->tok, data, (int)len);
	if (json_tokener_get_error(s->tok) == json_tokener_success &&
	    json_tokener_get_parse_end(s->tok) == len &&
	    json_object_is_type(*out, json_type_object))
		return QWS_OK;
	json_object_put(*out);
	*out = NULL;
	return QWS_PROTO;
}

/* ------------------------------------------------------------ sink */

static enum qw_stream_err
sunk(struct qw_stream *s, int rc)
{
	if (rc == 0)
		return QWS_OK;
	s->terminal = true;
	return s->err = QWS_ABORT;
}

/* Text or reasoning, after role(). */
static enum qw_stream_err
out(struct qw_stream *s, bool text, const char *p, size_t n)
{
	return sunk(s, sink_out_put(&s->sink, &s->started, !text, p, n));
}

static enum qw_stream_err
release(struct qw_stream *s)
{
	const char	*p;
	size_t		 n;

	p = qw_snap_release(&s->answer, &n);
	return out(s, true, p, n);
}

static enum qw_stream_err
end_answer(struct qw_stream *s)
{
	enum qw_stream_err	 rc;

	if (s->terminal)
		return QWS_OK;
	if ((rc = release(s)) != QWS_OK)
		return rc;
	if (!s->started)
		return s->err = QWS_EMPTY;
	s->terminal = true;
	return s->sink.finish == NULL ? QWS_OK :
	    sunk(s, s->sink.finish(s->sink.ctx, CHAT_FINISH_STOP, NULL));
}

/* ------------------------------------------------------------ errors */

/*
 * The answer ends with error(), its status from the code and the message
 * (msg, or raw text; one line of valid UTF-8, cut between characters).
 * A marker's beginning held back is dropped: cut off here, it is far
 * likelier a card than text.
 */
static enum qw_stream_err
upstream_error(struct qw_stream *s, const char *code, const char *msg,
    size_t msglen)
{
	struct buf		*m = &s->work;
	char			 c[QWS_CODE_MAX + 1];
	const char		*type, *oc;
	size_t			 i, k = 0;
	int			 status;

	for (i = 0; code != NULL && code[i] != '\0' && k < QWS_CODE_MAX; i++)
		if ((code[i] >= '0' && code[i] <= '9') ||
		    (code[i] >= 'a' && code[i] <= 'z') ||
		    (code[i] >= 'A' && code[i] <= 'Z') ||
		    strchr("_-.", code[i]) != NULL)
			c[k++] = code[i];
	c[k] = '\0';
	buf_reset(m);
	if (msg != NULL)
		(void)buf_add_utf8(m, msg, msglen, QWS_ERRMSG_MAX, 1);
	while (m->len > 0 && m->p[m->len - 1] == ' ')
		m->p[--m->len] = '\0';
	if (m->len == 0)
		(void)buf_printf(m, "The upstream reported an error%s%s%s.",
		    k ? " (" : "", c, k ? ")" : "");
	if (m->failed)
		return s->err = QWS_ENOMEM;
	status = qw_error_status(c, m->p);
	type = status == 401 ? "invalid_request_error" : status == 429 ?
	    "rate_limit_error" : "upstream_error";
	oc = status == 401 ? "account_expired" : status == 429 ?
	    "rate_limit_exceeded" : k > 0 ? c : "upstream_stream_error";
	s->terminal = true;
	s->err = QWS_UPSTREAM;
	if (s->sink.error != NULL)
		(void)s->sink.error(s->sink.ctx, status, type, oc, m->p);
	return QWS_UPSTREAM;
}

/* A code as text: a string, or an integer printed; "" when neither. */
static const char *
code_of(json_object *v, char *buf, size_t bufsz)
{
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	if (json_object_is_type(v, json_type_int)) {
		snprintf(buf, bufsz, "%lld",
		    (long long)json_object_get_int64(v));
		return buf;
	}
	return "";
}

/* error_code not 0, or success:false: an error object. */
static bool
is_error(json_object *j)
{
	json_object	*v = jv_get(j, "error_code");
	json_object	*ok = jv_get(j, "success");
	char		 b[24];
	const char	*c;

	if (json_object_is_type(ok, json_type_boolean) &&
	    !json_object_get_boolean(ok))
		return true;
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	c = code_of(v, b, sizeof(b));
	return *c != '\0' && strcmp(c, "0") != 0;
}

static enum qw_stream_err
error_of(struct qw_stream *s, json_object *j)
{
	static const char *const codes[] = { "error_code", "errorCode",
	    "code" };
	static const char *const msgs[] = { "error_msg", "errorMsg", "msg",
	    "message" };
	const char	*code = "", *msg = NULL;
	char		 b[24];
	size_t		 i, n = 0;

	for (i = 0; *code == '\0' && i < sizeof(codes) / sizeof(codes[0]);
	    i++) {
		code = code_of(jv_get(j, codes[i]), b, sizeof(b));
		if (strcmp(code, "0") == 0)
			code = "";
	}
	for (i = 0; (msg == NULL || n == 0) &&
	    i < sizeof(msgs) / sizeof(msgs[0]); i++)
		msg = jv_str(jv_get(j, msgs[i]), &n);
	return upstream_error(s, code, msg, n);
}

/* ------------------------------------------------------------ snapshots */

/* The first value of an id, when it is a plain token. */
static void
keep_id(char *dst, json_object *o, const char *key)
{
	const char	*v;
	size_t		 n, i;

	if (dst[0] != '\0' || (v = jv_str(jv_get(o, key), &n)) == NULL ||
	    n == 0 || n > QWS_ID_MAX)
		return;
	for (i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' &&
		    v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    v[i] == '-' || v[i] == '_'))
			return;
	memcpy(dst, v, n + 1);
}

struct texts {
	const char	*part[QWS_MAX_MESSAGES];
	size_t		 plen[QWS_MAX_MESSAGES];
	size_t		 nparts, total;
	const char	*deep, *multi;		/* the longest of each */
	size_t		 deeplen, multilen;
};

/* The reasoning texts of one message's multi_load entries. */
static void
loads(struct texts *t, json_object *m)
{
	json_object	*l = jv_get(jv_get(m, "meta_data"), "multi_load");
	json_object	*e, *type, *c;
	const char	*v;
	size_t		 i, n, len;

	if (!json_object_is_type(l, json_type_array))
		return;
	n = json_object_array_length(l);
	for (i = 0; i < n && i < QWS_MAX_LOADS; i++) {
		e = json_object_array_get_idx(l, i);
		type = jv_get(e, "type");
		c = jv_get(e, "content");
		if (jv_is(type, "deep_think")) {
			v = jv_str(jv_get(c, "think_content"), &len);
			if (v != NULL && (t->deep == NULL ||
			    len > t->deeplen)) {
				t->deep = v;
				t->deeplen = len;
			}
		} else if (jv_is(type, "multimodal_chat_think")) {
			v = jv_str(jv_get(c, "content"), &len);
			if (v != NULL && (t->multi == NULL ||
			    len > t->multilen)) {
				t->multi = v;
				t->multilen = len;
			}
		}
	}
}

/* The answer parts joined (one part needs no copy). */
static enum qw_stream_err
joined(struct qw_stream *s, const struct texts *t, const char **p)
{
	size_t	 i;

	if (t->nparts == 1) {
		*p = t->part[0];
		return QWS_OK;
	}
	if (t->total > QWS_MAX_EVENT)
		return QWS_PROTO;
	buf_reset(&s->work);
	for (i = 0; i < t->nparts; i++)
		(void)buf_add(&s->work, t->part[i], t->plen[i]);
	if (s->work.failed)
		return QWS_ENOMEM;
	*p = s->work.p;
	return QWS_OK;
}

/* One snapshot (a data line that is a JSON object). */
static enum qw_stream_err
snapshot(struct qw_stream *s, json_object *j)
{
	enum qw_stream_err	 rc;
	struct texts		 t;
	json_object		*msgs, *m, *mime, *st;
	const char		*v, *d;
	size_t			 i, n, len, dl;
	bool			 card;

	keep_id(s->session, jv_get(j, "communication"), "sessionid");
	keep_id(s->reqid, jv_get(j, "communication"), "reqid");
	if (is_error(j))
		return error_of(s, j);
	memset(&t, 0, sizeof(t));
	msgs = jv_get(jv_get(j, "data"), "messages");
	n = json_object_is_type(msgs, json_type_array) ?
	    json_object_array_length(msgs) : 0;
	for (i = 0; i < n && i < QWS_MAX_MESSAGES; i++) {
		m = json_object_array_get_idx(msgs, i);
		mime = jv_get(m, "mime_type");
		card = jv_is(mime, MIME_CARD);
		if ((card || jv_is(mime, MIME_TEXT)) &&
		    (v = jv_str(jv_get(m, "content"), &len)) != NULL) {
			t.part[t.nparts] = v;
			t.plen[t.nparts++] = len;
			t.total += len;
		}
		loads(&t, m);
		st = jv_get(m, "status");
		if (card && (jv_is(st, "complete") || jv_is(st, "finished")))
			s->end_pending = s->upstream_end = true;
	}
	/* reasoning: only until the answer has begun */
	v = t.deep != NULL ? t.deep : t.multi;
	len = t.deep != NULL ? t.deeplen : t.multilen;
	if (v != NULL && !qw_snap_any(&s->answer)) {
		if ((rc = qw_snap_take(&s->think, v, len, &d, &dl)) != QWS_OK ||
		    (rc = out(s, false, d, dl)) != QWS_OK)
			return rc;
	}
	if (t.nparts == 0)
		return QWS_OK;
	if ((rc = joined(s, &t, &v)) != QWS_OK ||
	    (rc = qw_snap_take(&s->answer, v, t.total, &d, &dl)) != QWS_OK)
		return rc;
	return out(s, true, d, dl);
}

/* ------------------------------------------------------------ events */

enum qw_stream_err
qw_stream_event(struct qw_stream *s, const char *name, const char *data,
    size_t len)
{
	enum qw_stream_err	 rc = QWS_OK;
	json_object		*j = NULL;
	bool			 complete;

	if (s == NULL)
		return QWS_ENOMEM;
	if (s->err != QWS_OK || s->terminal)
		return s->err;
	len = sse_trim(&data, len);
	complete = name != NULL && strcmp(name, "complete") == 0;
	if (name != NULL && strcmp(name, "error") == 0) {
		if (parse(s, data, len, &j) == QWS_OK)
			rc = error_of(s, j);
		else
			rc = upstream_error(s, NULL, data, len);
	} else if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		s->end_pending = s->upstream_end = true;
	} else if (complete || name == NULL || *name == '\0' ||
	    strcmp(name, "message") == 0) {
		if (len > 0 && (rc = parse(s, data, len, &j)) == QWS_OK)
			rc = snapshot(s, j);
		/* the last event may carry anything: it ends the answer */
		if (complete && rc == QWS_PROTO)
			rc = QWS_OK;
		if (complete)
			s->end_pending = s->upstream_end = true;
	}
	/* other event names: nothing */
	json_object_put(j);
	if (rc == QWS_OK && s->end_pending)
		rc = end_answer(s);
	if (rc != QWS_OK && s->err == QWS_OK)
		s->err = rc;
	return rc;
}

enum qw_stream_err
qw_stream_end(struct qw_stream *s)
{
	if (s == NULL)
		return QWS_ENOMEM;
	if (s->err != QWS_OK || s->terminal)
		return s->err;
	return end_answer(s);
}

/* ------------------------------------------------------------ lifecycle */

enum qw_stream_err
qw_stream_new(struct qw_stream **out_, const struct chat_sink *sink)
{
	struct qw_stream	*s;

	if ((*out_ = s = calloc(1, sizeof(*s))) == NULL)
		return QWS_ENOMEM;
	if (sink != NULL)
		s->sink = *sink;
	s->answer.markers = true;
	buf_init(&s->work, 0);
	if ((s->tok = json_tokener_new_ex(QWS_JSON_DEPTH)) == NULL) {
		free(s);
		*out_ = NULL;
		return QWS_ENOMEM;
	}
	json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	return QWS_OK;
}

void
qw_stream_free(struct qw_stream *s)
{
	if (s == NULL)
		return;
	qw_snap_free(&s->answer);
	qw_snap_free(&s->think);
	json_tokener_free(s->tok);
	buf_free(&s->work);
	free(s);
}

int
qw_stream_started(const struct qw_stream *s)
{
	return s != NULL && s->started;
}

int
qw_stream_done(const struct qw_stream *s)
{
	return s != NULL && s->terminal;
}

int
qw_stream_finished_upstream(const struct qw_stream *s)
{
	return s != NULL && s->upstream_end;
}

unsigned
qw_stream_rewrites(const struct qw_stream *s)
{
	return s != NULL ? s->answer.rewrites + s->think.rewrites : 0;
}

const char *
qw_stream_session(const struct qw_stream *s)
{
	return s != NULL ? s->session : "";
}

const char *
qw_stream_reqid(const struct qw_stream *s)
{
	return s != NULL ? s->reqid : "";
}

const char *
qw_stream_strerror(enum qw_stream_err err)
{
	static const char *const text[QWS__MAX] = {
		"success", "out of memory", "malformed upstream stream",
		"the upstream sent no answer", "aborted by the client",
		"the upstream reported an error",
	};

	return (unsigned)err < QWS__MAX ? text[err] : "unknown error";
}
