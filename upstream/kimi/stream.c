/*
 * stream.c - the Kimi Chat stream decoder; see stream.h for the contract
 * and the conversion rules.
 *
 * Two layers: connect.c cuts the body into envelopes, on_message() sorts
 * them into data messages and the end of the stream.  A data message is
 * one small JSON object read with json-c; its text is written to the
 * sink in one call after its UTF-8 has been made valid.  An upstream
 * error is only recorded: whether it becomes an OpenAI error now, or a
 * renewed token and a second try, is the caller's to decide.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "upstream/jv.h"
#include "upstream/kimi/stream.h"
#include "upstream/sink_out.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define STAGE_THINKING	"STAGE_NAME_THINKING"

struct kimi_stream {
	struct chat_sink	 sink;
	struct kc_reader	 rd;
	json_tokener		*tok;
	enum ks_err		 err;		/* sticky */
	bool			 started;	/* role() sent */
	int			 terminal;	/* finish, error or abort */
	int			 content;	/* text or reasoning seen */
	int			 thinking;	/* the phase */
	struct ks_error		 e;
	char			 chat_id[KS_ID_MAX + 1];
	char			 msg_id[KS_ID_MAX + 1];
	struct buf		 work;
};

/* Statuses of a stage that has ended (the sources disagree on which). */
static const char *const stage_over[] = {
	"completed", "STAGE_STATUS_END", "STAGE_STATUS_COMPLETED",
	"STAGE_STATUS_DONE", "done", "finished",
};

static const char *const ks_errs[KS__MAX] = {
	[KS_OK] = "success",
	[KS_ENOMEM] = "out of memory",
	[KS_PROTO] = "malformed upstream stream",
	[KS_ABORT] = "aborted by the client",
	[KS_UPSTREAM] = "the upstream reported an error",
	[KS_EMPTY] = "the stream ended without an answer",
};

const char *
ks_strerror(enum ks_err e)
{
	return (unsigned)e < KS__MAX ? ks_errs[e] : "unknown error";
}

/* ------------------------------------------------------------ json */

static const char *
str(json_object *v)
{
	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static int
is(json_object *v, const char *lit)
{
	const char *s = str(v);

	return s != NULL && strcmp(s, lit) == 0;
}

/* An id we keep: [A-Za-z0-9_.:-], 1..KS_ID_MAX bytes. */
static void
take_id(char *dst, json_object *v)
{
	const char *s = str(v);
	size_t n, i;

	if (dst[0] != '\0' || s == NULL)
		return;
	if ((n = (size_t)json_object_get_string_len(v)) == 0 || n > KS_ID_MAX)
		return;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] != '\0' && strchr("_.:-", s[i]) != NULL)))
			return;
	memcpy(dst, s, n + 1);
}

/* ------------------------------------------------------------ sink */

static enum ks_err
sunk(struct kimi_stream *s, int rc)
{
	if (rc == 0)
		return KS_OK;
	s->terminal = 1;
	return s->err = KS_ABORT;
}

static enum ks_err
start(struct kimi_stream *s)
{
	return sunk(s, sink_out_role(&s->sink, &s->started));
}

/* A delta to reasoning() or text(), valid UTF-8, after role(). */
static enum ks_err
emit(struct kimi_stream *s, int reasoning, json_object *v)
{
	size_t n;

	if (str(v) == NULL || (n = (size_t)json_object_get_string_len(v)) == 0)
		return KS_OK;
	buf_reset(&s->work);
	if (buf_add_utf8(&s->work, json_object_get_string(v), n, SIZE_MAX,
	    0) < 0)
		return KS_ENOMEM;
	s->content = 1;
	return sunk(s, sink_out_put(&s->sink, &s->started, reasoning,
	    s->work.p, s->work.len));
}

static enum ks_err
finish(struct kimi_stream *s)
{
	enum ks_err rc;

	if ((rc = start(s)) != KS_OK)
		return rc;
	s->terminal = 1;
	return s->sink.finish == NULL ? KS_OK :
	    sunk(s, s->sink.finish(s->sink.ctx, CHAT_FINISH_STOP, NULL));
}

/* ------------------------------------------------------------ errors */

int
ks_error_status(const char *code)
{
	char *end;
	long n;
	int st;

	if (code == NULL || *code == '\0')
		return 502;
	if ((st = kc_code_status(code)) > 0)
		return st;
	n = strtol(code, &end, 10);
	if (*end == '\0' && n >= 400 && n <= 599)
		return (int)n;
	if (strcasestr(code, "overload") != NULL)
		return 503;
	if (strcasestr(code, "rate_limit") != NULL ||
	    strcasestr(code, "too_many") != NULL ||
	    strcasestr(code, "exhausted") != NULL)
		return 429;
	return 502;
}

/* The code, kept a token: it travels on as the OpenAI error's code. */
static void
set_code(struct ks_error *e, const char *code)
{
	size_t i;

	snprintf(e->code, sizeof(e->code), "%s", code);
	for (i = 0; e->code[i] != '\0'; i++)
		if (!((e->code[i] >= 'a' && e->code[i] <= 'z') ||
		    (e->code[i] >= 'A' && e->code[i] <= 'Z') ||
		    (e->code[i] >= '0' && e->code[i] <= '9') ||
		    strchr("_.-", e->code[i]) != NULL))
			e->code[i] = '_';
}

/* The error object e of a message: recorded, the answer ends. */
static enum ks_err
upstream_error(struct kimi_stream *s, json_object *e)
{
	json_object *msgs[] = {
	    jv_get(jv_get(e, "localizedMessage"), "message"),
	    jv_get(e, "message"), jv_get(e, "reason"), jv_get(e, "code") };
	json_object *code = jv_get(e, "code");
	struct buf b;
	const char *c;
	size_t i;

	memset(&s->e, 0, sizeof(s->e));
	s->e.retry_after = -1;
	if (json_object_is_type(code, json_type_int))
		snprintf(s->e.code, sizeof(s->e.code), "%lld",
		    (long long)json_object_get_int64(code));
	else if ((c = str(code)) != NULL ||
	    (c = str(jv_get(e, "reason"))) != NULL)
		set_code(&s->e, c);
	s->e.status = ks_error_status(s->e.code);
	if (s->e.status == 502 && (c = str(jv_get(e, "reason"))) != NULL)
		s->e.status = ks_error_status(c);
	for (i = 0; i < NITEMS(msgs) && str(msgs[i]) == NULL; i++)
		;
	buf_init(&b, 0);
	if (i < NITEMS(msgs))
		buf_add_utf8(&b, str(msgs[i]),
		    (size_t)json_object_get_string_len(msgs[i]), SIZE_MAX, 1);
	if (b.failed) {
		buf_free(&b);
		return s->err = KS_ENOMEM;
	}
	/* cut at KS_ERRMSG_MAX, between characters */
	for (i = b.len < KS_ERRMSG_MAX ? b.len : KS_ERRMSG_MAX;
	    i > 0 && i < b.len && ((unsigned char)b.p[i] & 0xc0) == 0x80; i--)
		;
	if (i > 0)
		snprintf(s->e.message, sizeof(s->e.message), "%.*s", (int)i,
		    b.p);
	else
		snprintf(s->e.message, sizeof(s->e.message), "The upstream "
		    "reported an error.");
	buf_free(&b);
	s->terminal = 1;
	return s->err = KS_UPSTREAM;
}

/* ------------------------------------------------------------ messages */

static int
stage_ended(json_object *status)
{
	size_t i;

	for (i = 0; i < NITEMS(stage_over); i++)
		if (is(status, stage_over[i]))
			return 1;
	return 0;
}

/* The phase from a block, then its text by the mask. */
static enum ks_err
block(struct kimi_stream *s, json_object *o)
{
	json_object *b = jv_get(o, "block"), *text = jv_get(b, "text"), *stages;
	json_object *stage = NULL;
	const char *op = str(jv_get(o, "op")), *mask = str(jv_get(o, "mask"));
	enum ks_err rc = KS_OK;
	int think_mask, text_mask;

	stages = jv_get(jv_get(b, "multiStage"), "stages");
	if (json_object_is_type(stages, json_type_array) &&
	    json_object_array_length(stages) > 0)
		stage = json_object_array_get_idx(stages, 0);
	if (is(jv_get(stage, "name"), STAGE_THINKING))
		s->thinking = !stage_ended(jv_get(stage, "status"));
	if (is(jv_get(text, "flags"), "thinking"))
		s->thinking = 1;
	else if (is(jv_get(text, "flags"), "answer"))
		s->thinking = 0;
	if (b == NULL || op == NULL || (strcmp(op, "set") != 0 &&
	    strcmp(op, "append") != 0))
		return KS_OK;
	if (mask == NULL)
		mask = "";
	think_mask = strstr(mask, "block.think") != NULL;
	text_mask = strstr(mask, "block.text") != NULL;
	if (think_mask)
		rc = emit(s, 1, jv_get(jv_get(b, "think"), "content"));
	if (rc == KS_OK && text_mask)
		rc = emit(s, is(jv_get(text, "flags"), "thinking"),
		    jv_get(text, "content"));
	if (rc == KS_OK && !think_mask && !text_mask)
		rc = emit(s, s->thinking, jv_get(text, "content"));
	return rc;
}

static enum ks_err
data_message(struct kimi_stream *s, const char *p, size_t n)
{
	json_object *o, *e, *m, *done;
	enum ks_err rc = KS_OK;

	if (n > KS_MAX_MESSAGE)
		return KS_PROTO;
	json_tokener_reset(s->tok);
	o = json_tokener_parse_ex(s->tok, p, (int)n);
	if (o == NULL || json_tokener_get_error(s->tok) !=
	    json_tokener_success || json_tokener_get_parse_end(s->tok) != n ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return KS_PROTO;
	}
	if ((e = jv_get(o, "error")) == NULL)
		e = jv_get(jv_get(o, "exception"), "error");
	if (json_object_is_type(e, json_type_object)) {
		rc = upstream_error(s, e);
		goto out;
	}
	if (jv_get(o, "heartbeat") != NULL)
		goto out;
	take_id(s->chat_id, jv_get(jv_get(o, "chat"), "id"));
	m = jv_get(o, "message");
	if (is(jv_get(m, "role"), "assistant"))
		take_id(s->msg_id, jv_get(m, "id"));
	if ((rc = block(s, o)) != KS_OK)
		goto out;
	done = jv_get(o, "done");
	if (done != NULL && !(json_object_is_type(done, json_type_boolean) &&
	    !json_object_get_boolean(done)))
		rc = finish(s);
out:
	json_object_put(o);
	return rc;
}

/* The end-of-stream envelope. */
static enum ks_err
end_stream(struct kimi_stream *s, const char *p, size_t n)
{
	struct kc_end end;

	if (kc_end_parse(p, n, 0, &end) < 0)
		return s->terminal ? KS_OK : KS_PROTO;
	if (s->terminal)
		return KS_OK;
	if (end.error) {
		memset(&s->e, 0, sizeof(s->e));
		set_code(&s->e, end.code);
		snprintf(s->e.message, sizeof(s->e.message), "%s",
		    end.message[0] ? end.message : end.code[0] ? end.code :
		    "The upstream ended the stream with an error.");
		s->e.status = ks_error_status(end.code);
		s->e.retry_after = end.retry_after;
		s->e.end_stream = 1;
		s->terminal = 1;
		return KS_UPSTREAM;
	}
	return s->content ? finish(s) : KS_EMPTY;
}

static int
on_message(void *u, unsigned flags, const char *p, size_t n)
{
	struct kimi_stream *s = u;
	enum ks_err rc = KS_OK;

	if (flags & KC_FLAG_END)
		rc = end_stream(s, p, n);
	else if (!s->terminal)
		rc = data_message(s, p, n);
	if (rc != KS_OK && s->err == KS_OK)
		s->err = rc;
	/* after the answer, read on for the end-of-stream envelope */
	return s->err != KS_OK;
}

/* ------------------------------------------------------------ api */

enum ks_err
ks_feed(struct kimi_stream *s, const void *p, size_t n)
{
	enum kc_err ke;

	if (s == NULL)
		return KS_ENOMEM;
	if (s->err != KS_OK)
		return s->err;
	ke = kc_feed(&s->rd, p, n);
	if (s->err != KS_OK)
		return s->err;
	if (ke != KC_OK && !s->terminal)
		s->err = ke == KC_ENOMEM ? KS_ENOMEM : KS_PROTO;
	return s->err;
}

enum ks_err
ks_end(struct kimi_stream *s)
{
	if (s == NULL)
		return KS_ENOMEM;
	if (s->err != KS_OK || s->terminal)
		return s->err;
	/* cut inside an envelope, or before "done" and the stream's end */
	return s->err = KS_PROTO;
}

enum ks_err
ks_new(struct kimi_stream **out, const struct chat_sink *sink)
{
	struct kimi_stream *s;

	if ((*out = s = calloc(1, sizeof(*s))) == NULL)
		return KS_ENOMEM;
	if (sink != NULL)
		s->sink = *sink;
	s->e.retry_after = -1;
	kc_init(&s->rd, on_message, s, KS_MAX_MESSAGE);
	buf_init(&s->work, 0);
	if ((s->tok = json_tokener_new_ex(KS_JSON_DEPTH)) == NULL) {
		free(s);
		*out = NULL;
		return KS_ENOMEM;
	}
	json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT);
	return KS_OK;
}

void
ks_free(struct kimi_stream *s)
{
	if (s == NULL)
		return;
	kc_free(&s->rd);
	buf_free(&s->work);
	json_tokener_free(s->tok);
	free(s);
}

int
ks_started(const struct kimi_stream *s)
{
	return s != NULL && s->started;
}

int
ks_done(const struct kimi_stream *s)
{
	return s != NULL && s->terminal;
}

int
ks_ended(const struct kimi_stream *s)
{
	return s != NULL && kc_ended(&s->rd);
}

const struct ks_error *
ks_error(const struct kimi_stream *s)
{
	return s != NULL && s->err == KS_UPSTREAM ? &s->e : NULL;
}

const char *
ks_chat_id(const struct kimi_stream *s)
{
	return s != NULL && s->chat_id[0] ? s->chat_id : NULL;
}

const char *
ks_message_id(const struct kimi_stream *s)
{
	return s != NULL && s->msg_id[0] ? s->msg_id : NULL;
}
