/*
 * stream.c - the Qwen AI phase stream decoder; see stream.h for the
 * contract and the conversion rules.
 *
 * Every event is parsed whole by json-c (the events are small and the
 * upstream sends deltas, so there is no document to keep): only the
 * summary sent so far, the usage and the response id outlive an event.
 * Text goes through one work buffer where invalid UTF-8 becomes U+FFFD,
 * so the sink always gets whole characters.
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
#include "upstream/qwenai/errors.h"
#include "upstream/qwenai/stream.h"
#include "upstream/sink_out.h"
#include "upstream/sse.h"


struct qa_stream {
	struct chat_sink	 sink;
	struct qa_stream_opts	 o;
	char			 hint[QAS_HINT_MAX + 1];
	json_tokener		*tok;
	enum qa_stream_err	 err;		/* sticky */
	bool			 started;	/* role() sent */
	bool			 terminal;	/* finish/error sent, or abort */
	bool			 upstream_end;	/* the upstream ended it */
	bool			 content;	/* text or reasoning received */
	bool			 have_usage;
	struct chat_usage	 usage;
	char			 response_id[QAS_ID_MAX + 1];
	struct buf		 summary;	/* the summary sent so far */
	struct buf		 work;
};

static const char *const errs[QAS__MAX] = {
	[QAS_OK] = "success",
	[QAS_ENOMEM] = "out of memory",
	[QAS_PROTO] = "not a Qwen AI phase stream",
	[QAS_ABORT] = "stopped by the sink",
	[QAS_UPSTREAM] = "the upstream reported an error",
};

const char *
qa_stream_strerror(enum qa_stream_err e)
{
	return (unsigned)e < QAS__MAX ? errs[e] : "unknown error";
}

/* ------------------------------------------------------------ sink */

static enum qa_stream_err
sunk(struct qa_stream *s, int rc)
{
	if (rc == 0)
		return QAS_OK;
	s->terminal = true;
	return s->err = QAS_ABORT;
}

static enum qa_stream_err
start(struct qa_stream *s)
{
	return sunk(s, sink_out_role(&s->sink, &s->started));
}

/* p[0..n) cleaned (buf_add_utf8) into the work buffer. */
static enum qa_stream_err
clean(struct qa_stream *s, const char *p, size_t n, size_t max, bool line)
{
	buf_reset(&s->work);
	return buf_add_utf8(&s->work, p, n, max, line) < 0 ? QAS_ENOMEM :
	    QAS_OK;
}

/* Text or reasoning, cleaned, after role(). */
static enum qa_stream_err
out(struct qa_stream *s, bool text, const char *p, size_t n)
{
	if (n == 0)
		return QAS_OK;
	s->content = true;
	if (clean(s, p, n, SIZE_MAX, false) != QAS_OK)
		return QAS_ENOMEM;
	return sunk(s, sink_out_put(&s->sink, &s->started, !text, s->work.p,
	    s->work.len));
}

static enum qa_stream_err
finish(struct qa_stream *s, enum chat_finish why)
{
	enum qa_stream_err rc;

	if (s->terminal)
		return QAS_OK;
	if ((rc = start(s)) != QAS_OK)
		return rc;
	s->terminal = true;
	return s->sink.finish == NULL ? QAS_OK : sunk(s,
	    s->sink.finish(s->sink.ctx, why, s->have_usage ? &s->usage :
	    NULL));
}

/* ------------------------------------------------------------ JSON */

/* ------------------------------------------------------------ errors */

/*
 * The answer ends with error() (o: the error object, or NULL with the
 * raw text of an "error" event that was not JSON).
 */
static enum qa_stream_err
upstream_error(struct qa_stream *s, json_object *o, const char *raw,
    size_t rawlen)
{
	json_object *data;
	char code[QA_CODE_MAX + 1], msg[QAS_ERRMSG_MAX + 1];
	const char *type = "upstream_error", *oc;
	enum qa_err e;
	int status = 502;

	if (o == NULL || qa_envelope(o, &data, code, sizeof(code), msg,
	    sizeof(msg)) == 0) {
		code[0] = '\0';
		snprintf(msg, sizeof(msg), "%.*s", (int)(rawlen < sizeof(msg) ?
		    rawlen : sizeof(msg) - 1), raw != NULL ? raw : "");
	}
	e = qa_classify(0, code);
	oc = code[0] ? code : "upstream_stream_error";
	switch (e) {
	case QA_LIMITED:
		status = 429;
		type = "rate_limit_error";
		oc = "rate_limit_exceeded";
		break;
	case QA_REFUSED:
		status = 401;
		type = "invalid_request_error";
		oc = s->o.expired ? "account_expired" : "invalid_api_key";
		break;
	case QA_FORBIDDEN:
	case QA_COOKIES:
		status = 403;
		oc = "upstream_forbidden";
		break;
	default:
		break;
	}
	if (clean(s, msg[0] ? msg : "Qwen AI reported an error.", strlen(
	    msg[0] ? msg : "Qwen AI reported an error."), QAS_ERRMSG_MAX,
	    true) != QAS_OK)
		return s->err = QAS_ENOMEM;
	if (e == QA_COOKIES && s->hint[0] &&
	    s->work.len + 1 + strlen(s->hint) <= QAS_ERRMSG_MAX) {
		buf_add(&s->work, " ", 1);
		buf_adds(&s->work, s->hint);
	}
	buf_add(&s->work, "", 1);
	if (s->work.failed)
		return s->err = QAS_ENOMEM;
	s->terminal = true;
	s->err = QAS_UPSTREAM;
	if (s->sink.error != NULL)
		(void)s->sink.error(s->sink.ctx, status, type, oc, s->work.p);
	return QAS_UPSTREAM;
}

/* ------------------------------------------------------------ phases */

static enum qa_stream_err
summary(struct qa_stream *s, json_object *delta)
{
	json_object *lines = jv_get(jv_get(jv_get(delta, "extra"),
	    "summary_thought"), "content");
	struct buf now;
	enum qa_stream_err rc = QAS_OK;
	const char *p;
	size_t i, n, len, total = 0;

	if (!json_object_is_type(lines, json_type_array))
		return QAS_OK;
	len = json_object_array_length(lines);
	for (i = 0; i < len; i++)
		if (jv_str(json_object_array_get_idx(lines, i), &n) != NULL)
			total += n + 1;
	if (total > QAS_SUMMARY_MAX)
		return s->err = QAS_PROTO;
	buf_init(&now, 0);
	for (i = 0; i < len; i++) {
		if ((p = jv_str(json_object_array_get_idx(lines, i), &n)) ==
		    NULL)
			continue;
		if (now.len > 0)
			buf_add(&now, "\n", 1);
		buf_add(&now, p, n);
	}
	if (now.failed) {
		rc = QAS_ENOMEM;
		goto out;
	}
	if (now.len <= s->summary.len && (now.len == 0 ||
	    memcmp(now.p, s->summary.p, now.len) == 0))
		goto out;	/* nothing new */
	if (s->summary.len > 0 && now.len > s->summary.len &&
	    memcmp(now.p, s->summary.p, s->summary.len) == 0)
		rc = out(s, false, now.p + s->summary.len,
		    now.len - s->summary.len);
	else {
		/* A rewrite: what was sent stays; the new one follows. */
		if (s->summary.len > 0)
			rc = out(s, false, "\n\n", 2);
		if (rc == QAS_OK)
			rc = out(s, false, now.p, now.len);
	}
	buf_reset(&s->summary);
	if (buf_add(&s->summary, now.p, now.len) < 0 && rc == QAS_OK)
		rc = QAS_ENOMEM;
out:
	buf_free(&now);
	return rc;
}

static enum chat_finish
finish_of(const char *p, size_t n)
{
	if (p != NULL && n == 6 && memcmp(p, "length", 6) == 0)
		return CHAT_FINISH_LENGTH;
	if (p != NULL && n == 14 && memcmp(p, "content_filter", 14) == 0)
		return CHAT_FINISH_CONTENT_FILTER;
	return CHAT_FINISH_STOP;
}

static enum qa_stream_err
choice(struct qa_stream *s, json_object *ch)
{
	json_object *delta = jv_get(ch, "delta");
	json_object *phase = jv_get(delta, "phase");
	json_object *why = jv_get(delta, "finish_reason");
	enum qa_stream_err rc;
	const char *text, *fr;
	size_t n = 0, fn = 0;

	if (!json_object_is_type(delta, json_type_object))
		return QAS_OK;
	text = jv_str(jv_get(delta, "content"), &n);
	if (jv_is(phase, "think"))
		return out(s, false, text, text != NULL ? n : 0);
	if (jv_is(phase, "thinking_summary"))
		return summary(s, delta);
	if (phase != NULL && !json_object_is_type(phase, json_type_null) &&
	    !jv_is(phase, "answer"))
		return QAS_OK;	/* a tool's or a search's phase */
	if ((rc = out(s, true, text, text != NULL ? n : 0)) != QAS_OK)
		return rc;
	if ((fr = jv_str(why, &fn)) == NULL || fn == 0)
		fr = jv_str(jv_get(ch, "finish_reason"), &fn);
	if (jv_is(jv_get(delta, "status"), "finished") ||
	    (fr != NULL && fn > 0)) {
		s->upstream_end = true;
		return finish(s, finish_of(fr, fn));
	}
	return QAS_OK;
}

static long
count(json_object *u, const char *a, const char *b)
{
	json_object *v = jv_get(u, a);

	if (v == NULL)
		v = jv_get(u, b);
	return json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) > 0 && json_object_get_int64(v) < (1L <<
	    40) ? (long)json_object_get_int64(v) : 0;
}

static void
usage(struct qa_stream *s, json_object *u)
{
	struct chat_usage x;

	if (!json_object_is_type(u, json_type_object))
		return;
	x.prompt_tokens = count(u, "input_tokens", "prompt_tokens");
	x.completion_tokens = count(u, "output_tokens", "completion_tokens");
	x.total_tokens = count(u, "total_tokens", "total_tokens");
	if (x.prompt_tokens + x.completion_tokens + x.total_tokens == 0)
		return;
	s->usage = x;
	s->have_usage = true;
}

static enum qa_stream_err
object(struct qa_stream *s, json_object *o)
{
	json_object *created = jv_get(o, "response.created"), *data;
	json_object *choices = jv_get(o, "choices");
	char code[QA_CODE_MAX + 1], msg[8];
	enum qa_stream_err rc;
	const char *id;
	size_t i, n;

	if (qa_envelope(o, &data, code, sizeof(code), msg, sizeof(msg)) < 0)
		return upstream_error(s, o, NULL, 0);
	if ((id = jv_str(jv_get(created, "response_id"), &n)) != NULL &&
	    n <= QAS_ID_MAX)
		memcpy(s->response_id, id, n + 1);
	usage(s, jv_get(o, "usage"));
	if (!json_object_is_type(choices, json_type_array))
		return QAS_OK;
	n = json_object_array_length(choices);
	for (i = 0; i < n && !s->terminal; i++)
		if ((rc = choice(s, json_object_array_get_idx(choices, i))) !=
		    QAS_OK)
			return rc;
	return QAS_OK;
}

/* ------------------------------------------------------------ API */

enum qa_stream_err
qa_stream_new(struct qa_stream **out, const struct chat_sink *sink,
    const struct qa_stream_opts *o)
{
	struct qa_stream *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return QAS_ENOMEM;
	if ((s->tok = json_tokener_new_ex(QAS_JSON_DEPTH)) == NULL) {
		free(s);
		return QAS_ENOMEM;
	}
	s->sink = *sink;
	if (o != NULL) {
		s->o = *o;
		if (o->hint != NULL)
			snprintf(s->hint, sizeof(s->hint), "%s", o->hint);
	}
	s->o.hint = s->hint;
	buf_init(&s->summary, 0);
	buf_init(&s->work, 0);
	*out = s;
	return QAS_OK;
}

enum qa_stream_err
qa_stream_event(struct qa_stream *s, const char *event, const char *data,
    size_t len)
{
	json_object *o;
	enum qa_stream_err rc;

	if (s->err != QAS_OK || s->terminal)
		return s->err;
	len = sse_trim(&data, len);
	if (len > QAS_MAX_EVENT)
		return s->err = QAS_PROTO;
	if (event != NULL && strcmp(event, "error") == 0) {
		json_tokener_reset(s->tok);
		o = json_tokener_parse_ex(s->tok, data, (int)len);
		rc = upstream_error(s, json_object_is_type(o,
		    json_type_object) ? o : NULL, data, len);
		json_object_put(o);
		return rc;
	}
	if (len == 0)
		return QAS_OK;
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		s->upstream_end = true;
		return qa_stream_end(s);
	}
	json_tokener_reset(s->tok);
	o = json_tokener_parse_ex(s->tok, data, (int)len);
	if (json_tokener_get_error(s->tok) != json_tokener_success ||
	    json_tokener_get_parse_end(s->tok) != len ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return s->err = QAS_PROTO;
	}
	rc = object(s, o);
	json_object_put(o);
	if (rc != QAS_OK && rc != QAS_UPSTREAM)
		s->err = rc;
	return rc;
}

enum qa_stream_err
qa_stream_end(struct qa_stream *s)
{
	if (s->err != QAS_OK || s->terminal)
		return s->err;
	if (!s->content)
		return s->err = QAS_PROTO;
	return finish(s, CHAT_FINISH_STOP);
}

int
qa_stream_started(const struct qa_stream *s)
{
	return s->started;
}

int
qa_stream_done(const struct qa_stream *s)
{
	return s->terminal;
}

int
qa_stream_finished_upstream(const struct qa_stream *s)
{
	return s->upstream_end;
}

const char *
qa_stream_response_id(const struct qa_stream *s)
{
	return s->response_id;
}

void
qa_stream_free(struct qa_stream *s)
{
	if (s == NULL)
		return;
	json_tokener_free(s->tok);
	buf_free(&s->summary);
	buf_free(&s->work);
	free(s);
}
