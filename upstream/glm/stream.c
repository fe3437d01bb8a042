/*
 * stream.c - GLM assistant/stream decoder; see stream.h for the contract
 * and the conversion rules.
 *
 * Each snapshot is parsed whole (json-c), its parts rendered into their
 * slots (render.c), and the answer and the reasoning assembled again
 * from all slots.  What goes out is the difference to what already went
 * out, kept per channel: the upstream's view may repeat, shrink or be
 * rewritten, the client's only grows.  Assembling everything on every
 * event costs as much as parsing the snapshot did, which is the price of
 * a cumulative protocol anyway.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "upstream/glm/render.h"
#include "upstream/glm/stream.h"
#include "upstream/jv.h"
#include "upstream/sink_out.h"
#include "upstream/sse.h"

#define CODE_MAX	64	/* bytes of an upstream error code passed on */
#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

struct part {
	char		*id;		/* logic_id, or "#<place>" */
	struct buf	 text, think;
};

/* One output channel: what the upstream says now, what the client has. */
struct chan {
	struct buf	 now;
	struct buf	 sent;
};

struct glm_stream {
	struct chat_sink	 sink;
	json_tokener		*tok;
	enum glm_stream_err	 err;		/* sticky */
	bool			 started;	/* role() sent */
	bool			 terminal;	/* finish/error sent, abort */
	bool			 upstream_end;	/* finish or intervene seen */
	bool			 content;	/* text or reasoning sent */
	struct part		 parts[GLMS_MAX_PARTS];
	size_t			 nparts;
	struct glms_results	 res;
	struct chan		 text, think;
	struct buf		 work;
	char			 conv[GLMS_ID_MAX + 1];
};

/* ------------------------------------------------------------ sink */

static enum glm_stream_err
sunk(struct glm_stream *s, int rc)
{
	if (rc == 0)
		return GLMS_OK;
	s->terminal = true;
	return s->err = GLMS_ABORT;
}

static enum glm_stream_err
start(struct glm_stream *s)
{
	return sunk(s, sink_out_role(&s->sink, &s->started));
}

static enum glm_stream_err
out(struct glm_stream *s, bool text, const char *p, size_t n)
{
	if (n == 0)
		return GLMS_OK;
	s->content = true;
	return sunk(s, sink_out_put(&s->sink, &s->started, !text, p, n));
}

/*
 * Send what c->now has beyond c->sent, keeping hold bytes at its end
 * back.  A now that repeats or shortens what was sent sends nothing; one
 * that differs goes on from the client's length at the next character.
 */
static enum glm_stream_err
advance(struct glm_stream *s, bool text, struct chan *c, size_t hold)
{
	const char	*p = c->now.p != NULL ? c->now.p : "";
	size_t		 end = c->now.len - hold, from = c->sent.len;

	if (end <= from)
		return GLMS_OK;
	if (from > 0 && memcmp(p, c->sent.p, from) != 0) {
		while (from < end && ((unsigned char)p[from] & 0xc0) == 0x80)
			from++;
		buf_reset(&c->sent);
		if (buf_add(&c->sent, p, end) < 0)
			return GLMS_ENOMEM;
	} else if (buf_add(&c->sent, p + from, end - from) < 0)
		return GLMS_ENOMEM;
	return out(s, text, p + from, end - from);
}

/* ------------------------------------------------------------ render */

/* The answer and the reasoning from every part, joined with "\n". */
static enum glm_stream_err
assemble(struct glm_stream *s)
{
	struct part	*pt;
	size_t		 i;
	bool		 t = false, r = false;

	buf_reset(&s->text.now);
	buf_reset(&s->think.now);
	for (i = 0; i < s->nparts; i++) {
		pt = &s->parts[i];
		if (pt->text.len > 0) {
			if (t && buf_add(&s->text.now, "\n", 1) < 0)
				return GLMS_PROTO;
			if (glms_put_cited(&s->text.now, pt->text.p,
			    pt->text.len, &s->res) < 0)
				return GLMS_PROTO;
			t = true;
		}
		if (pt->think.len > 0) {
			if ((r && buf_add(&s->think.now, "\n", 1) < 0) ||
			    buf_add(&s->think.now, pt->think.p,
			    pt->think.len) < 0)
				return GLMS_PROTO;
			r = true;
		}
	}
	return GLMS_OK;
}

/* Send the render; final: nothing held back. */
static enum glm_stream_err
emit(struct glm_stream *s, bool final)
{
	enum glm_stream_err	 rc;

	if ((rc = assemble(s)) != GLMS_OK ||
	    (rc = advance(s, false, &s->think, 0)) != GLMS_OK)
		return rc;
	return advance(s, true, &s->text, final ? 0 :
	    glms_cite_tail(s->text.now.p, s->text.now.len));
}

static struct part *
slot(struct glm_stream *s, json_object *part, size_t place)
{
	const char	*id;
	char		 tmp[32];
	size_t		 n, i;

	if ((id = jv_str(jv_get(part, "logic_id"), &n)) ==
	    NULL || n == 0) {
		snprintf(tmp, sizeof(tmp), "#%zu", place);
		id = tmp;
		n = strlen(tmp);
	}
	if (n > GLMS_LOGIC_MAX || strlen(id) != n)
		return NULL;
	for (i = 0; i < s->nparts; i++)
		if (strcmp(s->parts[i].id, id) == 0)
			return &s->parts[i];
	if (s->nparts == GLMS_MAX_PARTS ||
	    (s->parts[i].id = strdup(id)) == NULL)
		return NULL;
	buf_init(&s->parts[i].text, GLMS_MAX_TEXT);
	buf_init(&s->parts[i].think, GLMS_MAX_TEXT);
	s->nparts++;
	return &s->parts[i];
}

static enum glm_stream_err
parts(struct glm_stream *s, json_object *list)
{
	json_object	*p;
	struct part	*pt;
	size_t		 i;

	for (i = 0; json_object_is_type(list, json_type_array) &&
	    i < json_object_array_length(list); i++) {
		p = json_object_array_get_idx(list, i);
		if (!json_object_is_type(p, json_type_object))
			continue;
		if ((pt = slot(s, p, i)) == NULL)
			return GLMS_PROTO;
		buf_reset(&pt->text);
		buf_reset(&pt->think);
		if (glms_render_part(p, &pt->text, &pt->think) < 0)
			return GLMS_PROTO;
		if (glms_results_add(&s->res, p) < 0)
			return GLMS_ENOMEM;
	}
	return GLMS_OK;
}

/* ------------------------------------------------------------ the end */

static enum glm_stream_err
finish(struct glm_stream *s, json_object *o)
{
	enum glm_stream_err	 rc;
	const char		*it;
	size_t			 n;

	if (s->terminal)
		return GLMS_OK;
	if ((rc = emit(s, true)) != GLMS_OK)
		return rc;
	it = jv_str(jv_get(jv_get(o, "last_error"),
	    "intervene_text"), &n);
	if (it != NULL && n > 0 && jv_is(jv_get(o, "status"),
	    "intervene")) {
		s->work.len = 0;
		if (buf_add(&s->work, "\n\n", 2) < 0 ||
		    buf_add_utf8(&s->work, it, n, GLMS_ERRMSG_MAX, 0) < 0)
			return GLMS_ENOMEM;
		if ((rc = out(s, true, s->work.p, s->work.len)) != GLMS_OK)
			return rc;
	}
	if ((rc = start(s)) != GLMS_OK)
		return rc;
	s->terminal = true;
	return s->sink.finish == NULL ? GLMS_OK : sunk(s,
	    s->sink.finish(s->sink.ctx, CHAT_FINISH_STOP, NULL));
}

/*
 * The answer ends with error(): what the render has first, then the
 * error of object o (or the raw text of an "error" event that was not
 * JSON).
 */
static enum glm_stream_err
upstream_error(struct glm_stream *s, json_object *o, const char *raw,
    size_t rawlen)
{
	json_object		*le = jv_get(o, "last_error");
	json_object		*msgs[] = { jv_get(le, "error_msg"),
				    jv_get(le, "message"),
				    jv_get(le, "msg"),
				    jv_get(le, "intervene_text"),
				    jv_get(o, "message"),
				    jv_get(o, "msg"),
				    jv_get(o, "error") };
	json_object		*codes[] = { jv_get(le, "error_code"),
				    jv_get(le, "code"),
				    jv_get(o, "code"),
				    jv_get(o, "status") };
	enum glm_stream_err	 rc;
	const char		*msg = o != NULL ? NULL : raw, *p, *type;
	char			 code[CODE_MAX + 1] = "";
	size_t			 n = rawlen, i, j, cl, k = 0;
	long			 num = -1;
	int			 status;

	if (s->nparts > 0 && (rc = emit(s, true)) != GLMS_OK)
		return rc;
	for (i = 0; msg == NULL && i < NITEMS(msgs); i++)
		if ((msg = jv_str(msgs[i], &n)) != NULL && n == 0)
			msg = NULL;
	if (msg == NULL || n == 0) {
		msg = "The upstream reported an error.";
		n = strlen(msg);
	}
	for (i = 0; k == 0 && i < NITEMS(codes); i++) {
		if (json_object_is_type(codes[i], json_type_int)) {
			num = (long)json_object_get_int64(codes[i]);
			if (num != 0)
				k = (size_t)snprintf(code, sizeof(code), "%ld",
				    num);
		} else if ((p = jv_str(codes[i], &cl)) != NULL &&
		    codes[i] != jv_get(o, "status"))
			for (j = 0; j < cl && k < CODE_MAX; j++)
				if ((p[j] >= '0' && p[j] <= '9') ||
				    (p[j] >= 'a' && p[j] <= 'z') ||
				    (p[j] >= 'A' && p[j] <= 'Z') ||
				    (p[j] != '\0' && strchr("_-.", p[j])))
					code[k++] = p[j];
		code[k] = '\0';
	}
	if (strcmp(code, "40001") == 0 || strcmp(code, "40102") == 0) {
		status = 401;
		type = "invalid_request_error";
		snprintf(code, sizeof(code), "account_expired");
	} else if (strcasestr(code, "rate") != NULL ||
	    strcasestr(code, "too_many") != NULL || strcmp(code, "429") == 0) {
		status = 429;
		type = "rate_limit_error";
	} else {
		status = 502;
		type = "upstream_error";
	}
	s->work.len = 0;
	if (buf_add_utf8(&s->work, msg, n, GLMS_ERRMSG_MAX, 1) < 0 ||
	    buf_add(&s->work, "", 1) < 0)
		return GLMS_ENOMEM;
	s->terminal = true;
	s->err = GLMS_UPSTREAM;
	if (s->sink.error != NULL)
		(void)s->sink.error(s->sink.ctx, status, type,
		    code[0] ? code : "upstream_stream_error", s->work.p);
	return GLMS_UPSTREAM;
}

/* An error that comes instead of a snapshot. */
static bool
is_error(json_object *o)
{
	json_object	*st = jv_get(o, "status"), *c;

	if (jv_is(st, "error") || jv_is(st, "failed"))
		return true;
	if (jv_get(o, "parts") != NULL)
		return false;
	c = jv_get(o, "code");
	if (!json_object_is_type(c, json_type_int))
		c = st;
	return json_object_is_type(c, json_type_int) &&
	    json_object_get_int64(c) != 0;
}

/* ------------------------------------------------------------ events */

static enum glm_stream_err
parse(struct glm_stream *s, const char *data, size_t len, json_object **o)
{
	*o = NULL;
	if (len > GLMS_MAX_EVENT)
		return GLMS_PROTO;
	json_tokener_reset(s->tok);
	*o = json_tokener_parse_ex(s->tok, data, (int)len);
	if (json_tokener_get_error(s->tok) == json_tokener_success &&
	    json_tokener_get_parse_end(s->tok) == len)
		return GLMS_OK;
	json_object_put(*o);
	*o = NULL;
	return GLMS_PROTO;
}

static void
keep_conversation(struct glm_stream *s, json_object *o)
{
	const char	*id;
	size_t		 n, i;

	if (s->conv[0] != '\0' || (id = jv_str(jv_get(o,
	    "conversation_id"), &n)) == NULL || n == 0 || n > GLMS_ID_MAX)
		return;
	for (i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' &&
		    id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		    id[i] == '-' || id[i] == '_'))
			return;
	memcpy(s->conv, id, n + 1);
}

static enum glm_stream_err
snapshot(struct glm_stream *s, const char *data, size_t len)
{
	enum glm_stream_err	 rc;
	json_object		*o, *st;

	if (len == 6 && memcmp(data, "[DONE]", 6) == 0)
		return GLMS_OK;
	if ((rc = parse(s, data, len, &o)) != GLMS_OK)
		return rc;
	if (!json_object_is_type(o, json_type_object))
		rc = GLMS_PROTO;
	else if (is_error(o))
		rc = upstream_error(s, o, NULL, 0);
	else {
		keep_conversation(s, o);
		st = jv_get(o, "status");
		rc = parts(s, jv_get(o, "parts"));
		if (rc == GLMS_OK && (jv_is(st, "finish") ||
		    jv_is(st, "intervene"))) {
			s->upstream_end = true;
			rc = finish(s, o);
		} else if (rc == GLMS_OK)
			rc = emit(s, false);
	}
	json_object_put(o);
	return rc;
}

enum glm_stream_err
glm_stream_event(struct glm_stream *s, const char *name, const char *data,
    size_t len)
{
	enum glm_stream_err	 rc = GLMS_OK;
	json_object		*j = NULL;

	if (s == NULL)
		return GLMS_ENOMEM;	/* glm_stream_new() failed */
	if (s->err != GLMS_OK || s->terminal)
		return s->err;
	len = sse_trim(&data, len);
	if (name == NULL || *name == '\0' || strcmp(name, "message") == 0) {
		if (len > 0)
			rc = snapshot(s, data, len);
	} else if (strcmp(name, "error") == 0) {
		if (parse(s, data, len, &j) == GLMS_OK &&
		    json_object_is_type(j, json_type_object))
			rc = upstream_error(s, j, NULL, 0);
		else
			rc = upstream_error(s, NULL, data, len);
		json_object_put(j);
	}
	if (rc != GLMS_OK && s->err == GLMS_OK)
		s->err = rc;
	return rc;
}

enum glm_stream_err
glm_stream_end(struct glm_stream *s)
{
	enum glm_stream_err	 rc;

	if (s == NULL)
		return GLMS_ENOMEM;
	if (s->err != GLMS_OK || s->terminal)
		return s->err;
	if ((rc = emit(s, true)) != GLMS_OK)
		return s->err = rc;
	/* without any content it was not an answer */
	return s->err = s->content ? finish(s, NULL) : GLMS_PROTO;
}

/* ------------------------------------------------------------ lifecycle */

enum glm_stream_err
glm_stream_new(struct glm_stream **out, const struct chat_sink *sink)
{
	struct glm_stream	*s;

	if ((*out = s = calloc(1, sizeof(*s))) == NULL)
		return GLMS_ENOMEM;
	if (sink != NULL)
		s->sink = *sink;
	buf_init(&s->text.now, GLMS_MAX_TEXT);
	buf_init(&s->think.now, GLMS_MAX_TEXT);
	buf_init(&s->text.sent, 0);
	buf_init(&s->think.sent, 0);
	buf_init(&s->work, 0);
	if ((s->tok = json_tokener_new_ex(GLMS_JSON_DEPTH)) == NULL) {
		free(s);
		*out = NULL;
		return GLMS_ENOMEM;
	}
	json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT);
	return GLMS_OK;
}

void
glm_stream_free(struct glm_stream *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nparts; i++) {
		free(s->parts[i].id);
		buf_free(&s->parts[i].text);
		buf_free(&s->parts[i].think);
	}
	glms_results_free(&s->res);
	buf_free(&s->text.now);
	buf_free(&s->think.now);
	buf_free(&s->text.sent);
	buf_free(&s->think.sent);
	buf_free(&s->work);
	json_tokener_free(s->tok);
	free(s);
}

int
glm_stream_started(const struct glm_stream *s)
{
	return s != NULL && s->started;
}

int
glm_stream_done(const struct glm_stream *s)
{
	return s != NULL && s->terminal;
}

int
glm_stream_finished_upstream(const struct glm_stream *s)
{
	return s != NULL && s->upstream_end;
}

const char *
glm_stream_conversation(const struct glm_stream *s)
{
	return s != NULL && s->conv[0] != '\0' ? s->conv : NULL;
}

const char *
glm_stream_strerror(enum glm_stream_err err)
{
	static const char *const text[GLMS__MAX] = {
		"success", "out of memory",
		"malformed upstream stream or over a limit",
		"aborted by the client", "the upstream reported an error",
	};

	return (unsigned)err < GLMS__MAX ? text[err] : "unknown error";
}
