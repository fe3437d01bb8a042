/*
 * stream.c - the Z.ai completion stream decoder; see stream.h for the
 * contract and the conversion rules.
 *
 * Every event is one small JSON object read by json-c; nothing of it is
 * kept but the phase, the usage and the few bytes held back at the end
 * of a delta (text.c decides which).  Each delta reaches the sink in one
 * call; gathering the calls of one upstream read is the sink's flush(),
 * called by the caller.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "upstream/sink_out.h"
#include "upstream/sse.h"
#include "upstream/zai/stream.h"
#include "upstream/zai/text.h"

#define EVENT_TYPE	"chat:completion"
/* detail bytes put in a message: each may become 3, plus "Z.ai: " */
#define DETAIL_IN_MAX	((ZS_ERRMSG_MAX - 8) / 3)

enum phase { PH_NONE, PH_THINK, PH_ANSWER, PH_OTHER, PH_DONE };

static const struct {
	const char	*name;
	enum phase	 ph;
} phases[] = {
	{ "thinking", PH_THINK },
	{ "answer", PH_ANSWER },
	{ "done", PH_DONE },
	/* "other", "tool_call", "tool_response" and the unknown: nothing */
};

struct zai_stream {
	struct chat_sink	 sink;
	struct zai_stream_opts	 o;
	json_tokener		*tok;
	enum zai_stream_err	 err;		/* sticky */
	bool			 started;	/* role() sent */
	bool			 terminal;	/* finish/error sent, abort */
	bool			 upstream_end;	/* "done" ended it */
	bool			 content;	/* a delta of either kind */
	bool			 have_usage;
	enum phase		 phase;
	struct chat_usage	 usage;
	char			 hold[ZAI_HOLD_MAX];
	size_t			 hlen;
	enum phase		 hphase;	/* whose text hold is */
	struct buf		 work;
};

static const char *const zs_errs[ZS__MAX] = {
	[ZS_OK] = "success",
	[ZS_ENOMEM] = "out of memory",
	[ZS_PROTO] = "not a Z.ai completion stream",
	[ZS_ABORT] = "stopped by the sink",
	[ZS_UPSTREAM] = "the upstream reported an error",
};

const char *
zai_stream_strerror(enum zai_stream_err e)
{
	return (unsigned)e < ZS__MAX ? zs_errs[e] : "unknown error";
}

void
zai_fault_of(long code, const char *detail, int expired, struct zai_fault *f)
{
	const char *d = detail != NULL ? detail : "";

	f->type = "upstream_error";
	if (strstr(d, "Signature validation failed") != NULL ||
	    strstr(d, "\xe7\xad\xbe\xe5\x90\x8d\xe9\xaa\x8c\xe8\xaf\x81"
	    "\xe5\xa4\xb1\xe8\xb4\xa5") != NULL) {	/* 签名验证失败 */
		f->status = 502;
		f->code = "signature_rejected";
		return;
	}
	if (strcasestr(d, "user level") != NULL) {
		f->status = 403;
		f->code = "model_not_available";
		return;
	}
	/* "403: ..." carries the status in the text */
	if (code == 0 && d[0] >= '1' && d[0] <= '5' && d[1] >= '0' &&
	    d[1] <= '9' && d[2] >= '0' && d[2] <= '9' && d[3] == ':')
		code = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	if (code == 0 && (strcasestr(d, "too many requests") != NULL ||
	    strcasestr(d, "rate limit") != NULL))
		code = 429;
	switch (code) {
	case 400:
		f->status = 400;
		f->type = "invalid_request_error";
		f->code = "upstream_bad_request";
		break;
	case 401:
		f->status = 401;
		f->type = "invalid_request_error";
		f->code = expired ? "account_expired" : "invalid_api_key";
		break;
	case 403:
		f->status = 403;
		f->code = "upstream_forbidden";
		break;
	case 429:
		f->status = 429;
		f->type = "rate_limit_error";
		f->code = "rate_limit_exceeded";
		break;
	default:
		f->status = 502;
		f->code = "upstream_error";
		break;
	}
}

/* ------------------------------------------------------------ sink */

/* A sink callback's answer: nonzero stops it all (ZS_ABORT). */
static enum zai_stream_err
sunk(struct zai_stream *s, int rc)
{
	if (rc == 0)
		return ZS_OK;
	s->terminal = true;
	return s->err = ZS_ABORT;
}

static enum zai_stream_err
start(struct zai_stream *s)
{
	return sunk(s, sink_out_role(&s->sink, &s->started));
}

static enum zai_stream_err
out(struct zai_stream *s, enum phase ph, const char *p, size_t n)
{
	return sunk(s, sink_out_put(&s->sink, &s->started, ph == PH_THINK, p,
	    n));
}

/* What was held back is plain text of its phase after all. */
static enum zai_stream_err
release(struct zai_stream *s)
{
	size_t n = s->hlen;

	s->hlen = 0;
	return out(s, s->hphase, s->hold, n);
}

/* A delta of a phase that speaks: cleaned, stripped, the tail held. */
static enum zai_stream_err
deliver(struct zai_stream *s, enum phase ph, json_object *v)
{
	enum zai_stream_err rc;
	size_t n, keep;

	if ((ph != PH_THINK && ph != PH_ANSWER) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0)
		return ZS_OK;
	s->content = true;
	if (s->hphase != ph && (rc = release(s)) != ZS_OK)
		return rc;
	s->hphase = ph;
	buf_reset(&s->work);
	if (buf_add(&s->work, s->hold, s->hlen) < 0 ||
	    buf_add_utf8(&s->work, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), SIZE_MAX, 0) < 0)
		return s->err = ZS_ENOMEM;
	n = ph == PH_THINK ? zai_details_strip(s->work.p, s->work.len, &keep) :
	    zai_cite_strip(s->work.p, s->work.len, &keep);
	memcpy(s->hold, s->work.p + n, keep);
	s->hlen = keep;
	return out(s, ph, s->work.p, n);
}

static long
tokens(json_object *u, const char *key)
{
	json_object *v;
	long n;

	if (!json_object_object_get_ex(u, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	n = (long)json_object_get_int64(v);
	return n >= 0 && n <= ZS_TOKENS_MAX ? n : 0;
}

static void
take_usage(struct zai_stream *s, json_object *u)
{
	struct chat_usage c;

	if (!json_object_is_type(u, json_type_object))
		return;
	c.prompt_tokens = tokens(u, "prompt_tokens");
	c.completion_tokens = tokens(u, "completion_tokens");
	c.total_tokens = tokens(u, "total_tokens");
	if (c.prompt_tokens + c.completion_tokens + c.total_tokens == 0)
		return;
	s->usage = c;
	s->have_usage = true;
}

static enum zai_stream_err
end_answer(struct zai_stream *s)
{
	enum zai_stream_err rc;

	if ((rc = release(s)) != ZS_OK || (rc = start(s)) != ZS_OK)
		return rc;
	s->terminal = true;
	if (s->sink.finish != NULL && s->sink.finish(s->sink.ctx,
	    CHAT_FINISH_STOP, s->have_usage ? &s->usage : NULL) != 0)
		return s->err = ZS_ABORT;
	return ZS_OK;
}

/* {detail, code} (or a string, or {message}) told to the sink. */
static enum zai_stream_err
fail(struct zai_stream *s, json_object *e)
{
	struct buf msg;
	char code[ZS_CODE_MAX + 1] = "";
	struct zai_fault f;
	json_object *d = NULL, *c;
	const char *detail;
	enum zai_stream_err rc;
	long num = 0;
	size_t n;

	if ((rc = release(s)) != ZS_OK)
		return rc;
	if (json_object_is_type(e, json_type_string))
		d = e;
	else if (json_object_is_type(e, json_type_object)) {
		if (!json_object_object_get_ex(e, "detail", &d))
			json_object_object_get_ex(e, "message", &d);
		if (json_object_object_get_ex(e, "code", &c)) {
			if (json_object_is_type(c, json_type_int))
				num = (long)json_object_get_int64(c);
			else if (json_object_is_type(c, json_type_string))
				snprintf(code, sizeof(code), "%s",
				    json_object_get_string(c));
			if (num == 0 && code[0] != '\0')
				num = strtol(code, NULL, 10);
		}
	}
	detail = d == NULL ? "" : json_object_is_type(d, json_type_string) ?
	    json_object_get_string(d) : json_object_to_json_string_ext(d,
	    JSON_C_TO_STRING_PLAIN);
	zai_fault_of(num, detail, s->o.expired, &f);
	/*
	 * The message: one valid line, cut between characters, short enough
	 * that every byte may grow to a U+FFFD (3 bytes) within the limit.
	 */
	if ((n = strlen(detail)) > DETAIL_IN_MAX) {
		n = DETAIL_IN_MAX;
		while (n > 0 && ((unsigned char)detail[n] & 0xc0) == 0x80)
			n--;
	}
	buf_init(&msg, 0);
	if (buf_add(&msg, "Z.ai: ", 6) < 0 || (n > 0 ?
	    buf_add_utf8(&msg, detail, n, SIZE_MAX, 1) : buf_add(&msg,
	    "the upstream reported an error", 30)) < 0) {
		buf_free(&msg);
		return s->err = ZS_ENOMEM;
	}
	s->terminal = true;
	rc = s->sink.error == NULL ? ZS_OK : sunk(s, s->sink.error(s->sink.ctx,
	    f.status, f.type, f.code, msg.p));
	buf_free(&msg);
	return rc != ZS_OK ? rc : (s->err = ZS_UPSTREAM);
}

static bool
present(json_object *o, const char *key, json_object **v)
{
	return json_object_object_get_ex(o, key, v) && *v != NULL &&
	    !(json_object_is_type(*v, json_type_boolean) &&
	    !json_object_get_boolean(*v));
}

static enum zai_stream_err
event(struct zai_stream *s, json_object *o)
{
	json_object *v, *d;
	enum zai_stream_err rc;
	const char *name;
	size_t i;

	if (!json_object_is_type(o, json_type_object))
		return ZS_OK;
	if (present(o, "error", &v))
		return fail(s, v);
	if (!json_object_object_get_ex(o, "type", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), EVENT_TYPE) != 0 ||
	    !json_object_object_get_ex(o, "data", &d) ||
	    !json_object_is_type(d, json_type_object))
		return ZS_OK;
	if (present(d, "error", &v))
		return fail(s, v);
	if (json_object_object_get_ex(d, "phase", &v) &&
	    json_object_is_type(v, json_type_string)) {
		name = json_object_get_string(v);
		s->phase = PH_OTHER;
		for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
			if (strcmp(name, phases[i].name) == 0)
				s->phase = phases[i].ph;
	}
	if (json_object_object_get_ex(d, "usage", &v))
		take_usage(s, v);
	if (json_object_object_get_ex(d, "delta_content", &v) &&
	    (rc = deliver(s, s->phase, v)) != ZS_OK)
		return rc;
	if (s->phase == PH_DONE || (json_object_object_get_ex(d, "done", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v))) {
		s->upstream_end = true;
		return end_answer(s);
	}
	return ZS_OK;
}

enum zai_stream_err
zai_stream_event(struct zai_stream *s, const char *ev, const char *data,
    size_t len)
{
	enum json_tokener_error je;
	enum zai_stream_err rc;
	json_object *o;

	(void)ev;
	if (s->err != ZS_OK)
		return s->err;
	if (s->terminal)
		return ZS_OK;
	if (len > ZS_MAX_EVENT)
		return s->err = ZS_PROTO;
	len = sse_trim(&data, len);
	if (len == 0 || data[0] != '{')
		return ZS_OK;	/* "[DONE]", pings, keep-alives */
	json_tokener_reset(s->tok);
	o = json_tokener_parse_ex(s->tok, data, (int)len);
	je = json_tokener_get_error(s->tok);
	if (o == NULL || je != json_tokener_success ||
	    json_tokener_get_parse_end(s->tok) != len) {
		json_object_put(o);
		return je == json_tokener_error_depth ? (s->err = ZS_PROTO) :
		    ZS_OK;
	}
	rc = event(s, o);
	json_object_put(o);
	return rc;
}

enum zai_stream_err
zai_stream_end(struct zai_stream *s)
{
	if (s->err != ZS_OK || s->terminal)
		return s->err;
	if (!s->content)
		return s->err = ZS_PROTO;
	return end_answer(s);
}

enum zai_stream_err
zai_stream_new(struct zai_stream **sp, const struct chat_sink *k,
    const struct zai_stream_opts *o)
{
	struct zai_stream *s;

	*sp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ZS_ENOMEM;
	if ((s->tok = json_tokener_new_ex(ZS_JSON_DEPTH)) == NULL) {
		free(s);
		return ZS_ENOMEM;
	}
	s->sink = *k;
	if (o != NULL)
		s->o = *o;
	/* a delta is within one event; each byte may become a U+FFFD */
	buf_init(&s->work, 3 * (size_t)ZS_MAX_EVENT + ZAI_HOLD_MAX);
	*sp = s;
	return ZS_OK;
}

int
zai_stream_started(const struct zai_stream *s)
{
	return s->started;
}

int
zai_stream_done(const struct zai_stream *s)
{
	return s->terminal;
}

int
zai_stream_finished_upstream(const struct zai_stream *s)
{
	return s->upstream_end;
}

void
zai_stream_free(struct zai_stream *s)
{
	if (s == NULL)
		return;
	json_tokener_free(s->tok);
	buf_free(&s->work);
	free(s);
}
