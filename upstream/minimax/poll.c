/*
 * poll.c - the MiniMax answer decoder; see poll.h for the rules.
 *
 * The decoder keeps, per field of the message being written, the last
 * snapshot it accepted (to tell an extension from a stale copy or a
 * rewrite) and how many of its bytes the client has; of the earlier
 * messages only their ids.  Each feed parses one snapshot with json-c,
 * picks the AI messages out and writes what is new.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "fcgi/utf8.h"
#include "upstream/jv.h"
#include "upstream/minimax/poll.h"
#include "upstream/sink_out.h"

#define SEP		"\n\n"		/* between two AI messages */

struct field {
	char	*have;		/* the last snapshot accepted */
	size_t	 len, cap;
	size_t	 given;		/* bytes of it the client has */
	int	 any;		/* something of this field was written */
	int	 sep;		/* a blank line goes before the next write */
};

struct ai_msg {
	char		 id[MMP_ID_MAX + 1];
	const char	*text, *think;
	size_t		 text_len, think_len;
};

struct mm_poll {
	struct chat_sink	 sink;
	int			 final_only;
	bool			 started;
	int			 done;
	enum mm_poll_err	 err;
	char			 cur[MMP_ID_MAX + 1];
	int			 has_cur;
	char			 seen[MMP_MAX_AI][MMP_ID_MAX + 1];
	size_t			 nseen;
	struct field		 text, think;
	struct buf		 out;		/* a delta made clean */
	unsigned long long	 progress;
	int			 changed;
	long			 status;
	int			 empty_done;
	long			 rewrites;
	char			 after[MMP_ID_MAX + 1];	/* opts.after */
};

static const char *const errs[] = {
	[MMP_OK] = "ok",
	[MMP_ENOMEM] = "out of memory",
	[MMP_PROTO] = "not a get_chat_detail answer",
	[MMP_ABORT] = "aborted by the sink",
	[MMP_UPSTREAM] = "the upstream reported an error",
};

const char *
mm_poll_strerror(enum mm_poll_err e)
{
	return (unsigned)e < MMP__MAX ? errs[e] : "unknown error";
}

enum mm_poll_err
mm_poll_new(struct mm_poll **pp, const struct chat_sink *k,
    const struct mm_poll_opts *o)
{
	struct mm_poll *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*pp = NULL;
		return MMP_ENOMEM;
	}
	p->sink = *k;
	p->final_only = o != NULL && o->final_only;
	if (o != NULL && o->after != NULL) {
		if (*o->after == '\0' || strlen(o->after) > MMP_ID_MAX) {
			free(p);
			*pp = NULL;
			return MMP_PROTO;
		}
		snprintf(p->after, sizeof(p->after), "%s", o->after);
	}
	p->status = -1;
	*pp = p;
	return MMP_OK;
}

void
mm_poll_free(struct mm_poll *p)
{
	if (p == NULL)
		return;
	free(p->text.have);
	free(p->think.have);
	buf_free(&p->out);
	free(p);
}

const char *
mm_poll_message_id(const struct mm_poll *p)
{
	return p->has_cur ? p->cur : NULL;
}

int
mm_poll_changed(const struct mm_poll *p)
{
	return p->changed;
}

int
mm_poll_started(const struct mm_poll *p)
{
	return p->started;
}

int
mm_poll_done(const struct mm_poll *p)
{
	return p->done;
}

long
mm_poll_status(const struct mm_poll *p)
{
	return p->status;
}

long
mm_poll_rewrites(const struct mm_poll *p)
{
	return p->rewrites;
}

/* s[0..n) as one line of valid UTF-8 in out (NUL-terminated). */
static void
one_line(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i = 0, w = 0, k;

	while (i < n && w + 4 < outsz) {
		k = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (k == 0) {
			i++;
			continue;
		}
		if (k == 1 && (unsigned char)s[i] < 0x20)
			out[w++] = ' ';
		else
			memcpy(out + w, s + i, k), w += k;
		i += k;
	}
	out[w] = '\0';
}

long
mm_envelope(struct json_object *root, char *msg, size_t msgsz)
{
	struct json_object *env, *c, *m;
	long code = 0;

	if (msgsz > 0)
		msg[0] = '\0';
	if ((env = jv_get(root, "base_resp")) != NULL) {
		c = jv_get(env, "status_code");
		m = jv_get(env, "status_msg");
	} else if ((env = jv_get(root, "statusInfo")) != NULL) {
		c = jv_get(env, "code");
		m = jv_get(env, "message");
	} else
		return 0;
	if (c != NULL && (json_object_is_type(c, json_type_int) ||
	    json_object_is_type(c, json_type_string)))
		code = (long)json_object_get_int64(c);
	if (m != NULL && json_object_is_type(m, json_type_string) && msgsz > 0)
		one_line(json_object_get_string(m),
		    (size_t)json_object_get_string_len(m), msg, msgsz);
	return code;
}

void
mm_fail_code(const struct chat_sink *k, const char *what, long code,
    const char *msg)
{
	char m[MMP_ERRMSG_MAX + 128];

	if (code == MMP_CODE_EXPIRED) {
		snprintf(m, sizeof(m), "MiniMax says the account's login has "
		    "expired (%s, code %ld): %s", what, code, *msg ? msg :
		    "log in again at agent.minimaxi.com");
		k->error(k->ctx, 401, "invalid_request_error",
		    "account_expired", m);
		return;
	}
	snprintf(m, sizeof(m), "MiniMax %s failed (code %ld): %s", what, code,
	    *msg ? msg : "no message");
	k->error(k->ctx, 502, "upstream_error", "upstream_error", m);
}

static enum mm_poll_err
fail(struct mm_poll *p, enum mm_poll_err e)
{
	if (p->err == MMP_OK)
		p->err = e;
	if (e == MMP_ABORT || e == MMP_UPSTREAM)
		p->done = 1;
	return p->err;
}

/* The sink's error() once, then MMP_UPSTREAM (or MMP_ABORT). */
static enum mm_poll_err
fail_sink(struct mm_poll *p, int status, const char *code, const char *msg)
{
	p->done = 1;
	if (p->sink.error != NULL)
		p->sink.error(p->sink.ctx, status, "upstream_error", code, msg);
	return fail(p, MMP_UPSTREAM);
}

static enum mm_poll_err
role(struct mm_poll *p)
{
	return sink_out_role(&p->sink, &p->started) < 0 ? fail(p, MMP_ABORT) :
	    MMP_OK;
}

static enum mm_poll_err
write_delta(struct mm_poll *p, struct field *f, int reasoning, const char *s,
    size_t n)
{
	if (n == 0 || role(p) != MMP_OK)
		return p->err;
	buf_reset(&p->out);
	if ((f->sep && f->any && buf_add(&p->out, SEP, sizeof(SEP) - 1) < 0) ||
	    buf_add_utf8(&p->out, s, n, SIZE_MAX, 0) < 0)
		return fail(p, MMP_ENOMEM);
	f->sep = 0;
	f->any = 1;
	if (sink_out_put(&p->sink, &p->started, reasoning, p->out.p,
	    p->out.len) < 0)
		return fail(p, MMP_ABORT);
	return MMP_OK;
}

static int
keep(struct field *f, const char *s, size_t n)
{
	char *np;

	if (n + 1 > f->cap) {
		if ((np = realloc(f->have, n + 1)) == NULL)
			return -1;
		f->have = np;
		f->cap = n + 1;
	}
	if (n > 0)
		memcpy(f->have, s, n);
	f->have[n] = '\0';
	f->len = n;
	return 0;
}

/* A new snapshot s[0..n) of a field of the message being written. */
static enum mm_poll_err
field_update(struct mm_poll *p, struct field *f, int reasoning,
    const char *s, size_t n)
{
	size_t from = f->given;

	if (n >= f->len && (f->len == 0 || memcmp(s, f->have, f->len) == 0))
		;			/* it grew (or stayed) */
	else if (n < f->len && memcmp(s, f->have, n) == 0)
		return MMP_OK;		/* an older copy */
	else
		p->rewrites++;		/* what the client has is stale */
	/* never start inside a character */
	while (from < n && ((unsigned char)s[from] & 0xc0) == 0x80)
		from++;
	if (keep(f, s, n) < 0)
		return fail(p, MMP_ENOMEM);
	if (from >= n)
		return MMP_OK;
	f->given = n;
	return write_delta(p, f, reasoning, s + from, n - from);
}

/* The next message starts: forget the last one's text unless this one
 * carries it on (a replacement of a vanished message). */
static void
field_next(struct field *f, int vanished, const char *s, size_t n)
{
	if (vanished && f->len > 0 && n >= f->len &&
	    memcmp(s, f->have, f->len) == 0)
		return;
	f->len = 0;
	f->given = 0;
	f->sep = 1;
}

static int
seen(const struct mm_poll *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->nseen; i++)
		if (strcmp(p->seen[i], id) == 0)
			return 1;
	return 0;
}

static enum mm_poll_err
message(struct mm_poll *p, const struct ai_msg *m)
{
	if (field_update(p, &p->think, 1, m->think, m->think_len) != MMP_OK)
		return p->err;
	return field_update(p, &p->text, 0, m->text, m->text_len);
}

static enum mm_poll_err
switch_to(struct mm_poll *p, const struct ai_msg *m, int vanished)
{
	if (p->nseen >= MMP_MAX_AI)
		return fail(p, MMP_PROTO);
	if (p->has_cur) {
		field_next(&p->think, vanished, m->think, m->think_len);
		field_next(&p->text, vanished, m->text, m->text_len);
	}
	memcpy(p->seen[p->nseen++], m->id, sizeof(m->id));
	memcpy(p->cur, m->id, sizeof(p->cur));
	p->has_cur = 1;
	return message(p, m);
}

static const char *
str_of(struct json_object *o, size_t *len)
{
	*len = 0;
	if (o == NULL || !json_object_is_type(o, json_type_string))
		return "";
	*len = (size_t)json_object_get_string_len(o);
	return json_object_get_string(o);
}

/* Message i's msg_id (a string or an integer), or "#i"; -1: too long. */
static int
id_of(struct json_object *m, size_t i, char id[MMP_ID_MAX + 1])
{
	struct json_object *v = jv_get(m, "msg_id");
	const char *s;

	if (v != NULL && (json_object_is_type(v, json_type_string) ||
	    json_object_is_type(v, json_type_int)) &&
	    *(s = json_object_get_string(v)) != '\0') {
		if (strlen(s) > MMP_ID_MAX)
			return -1;
		snprintf(id, MMP_ID_MAX + 1, "%s", s);
	} else
		snprintf(id, MMP_ID_MAX + 1, "#%zu", i);
	return 0;
}

static int
is_ai(struct json_object *m)
{
	struct json_object *v = jv_get(m, "msg_type");

	return v != NULL && json_object_get_int64(v) == 2;
}

/*
 * The AI messages of messages[] into ai; their number, or -1.  With an
 * anchor (after: an AI message's id) only those after it count, and
 * *fresh says whether any message at all follows it (this turn's has
 * shown up); without one *fresh is 1.
 */
static int
pick_ai(struct json_object *msgs, struct ai_msg *ai, const char *after,
    int *fresh)
{
	struct json_object *m;
	size_t i, n, nai = 0;
	char id[MMP_ID_MAX + 1];
	int found = *after == '\0';

	*fresh = found;
	if (msgs == NULL)
		return 0;
	if (!json_object_is_type(msgs, json_type_array) ||
	    (n = json_object_array_length(msgs)) > MMP_MAX_MESSAGES)
		return -1;
	for (i = 0; i < n; i++) {
		m = json_object_array_get_idx(msgs, i);
		if (!found) {
			if (is_ai(m) && id_of(m, i, id) == 0 &&
			    strcmp(id, after) == 0)
				found = 1;
			continue;
		}
		*fresh = 1;
		if (!is_ai(m))
			continue;
		if (nai == MMP_MAX_AI || id_of(m, i, ai[nai].id) < 0)
			return -1;
		ai[nai].text = str_of(jv_get(m, "msg_content"),
		    &ai[nai].text_len);
		ai[nai].think = str_of(jv_get(jv_get(m, "extra_info"),
		    "thinking_content"), &ai[nai].think_len);
		if (ai[nai].text_len > MMP_MAX_TEXT ||
		    ai[nai].think_len > MMP_MAX_TEXT)
			return -1;
		nai++;
	}
	return (int)nai;
}

static int
has_text(const struct ai_msg *ai, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ai[i].text_len > 0 || ai[i].think_len > 0)
			return 1;
	return 0;
}

/* Something to tell one snapshot from the last: sizes, ids, status. */
static unsigned long long
progress_of(const struct ai_msg *ai, int n, long status)
{
	unsigned long long h = 1469598103934665603ull;
	const char *s;
	int i;

	h = (h ^ (unsigned long long)status) * 1099511628211ull;
	for (i = 0; i < n; i++) {
		h = (h ^ ai[i].text_len) * 1099511628211ull;
		h = (h ^ ai[i].think_len) * 1099511628211ull;
		for (s = ai[i].id; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
	}
	return h;
}

static enum mm_poll_err
snapshot(struct mm_poll *p, struct json_object *root)
{
	struct ai_msg *ai;
	struct json_object *v;
	unsigned long long prog;
	char msg[MMP_ERRMSG_MAX + 1];
	long code;
	int n, i, at = -1, complete, gone, fresh;

	if (!json_object_is_type(root, json_type_object))
		return fail(p, MMP_PROTO);
	if ((code = mm_envelope(root, msg, sizeof(msg))) != 0) {
		p->done = 1;
		if (p->sink.error != NULL)
			mm_fail_code(&p->sink, "get_chat_detail", code, msg);
		return fail(p, MMP_UPSTREAM);
	}
	if ((ai = calloc(MMP_MAX_AI, sizeof(*ai))) == NULL)
		return fail(p, MMP_ENOMEM);
	if ((n = pick_ai(jv_get(root, "messages"), ai, p->after,
	    &fresh)) < 0) {
		free(ai);
		return fail(p, MMP_PROTO);
	}
	if ((v = jv_get(jv_get(root, "chat"), "chat_status")) != NULL)
		p->status = (long)json_object_get_int64(v);
	/* a continued chat's status is the last turn's until this one shows */
	if (!fresh && p->status == MMP_STATUS_DONE)
		p->status = -1;
	prog = progress_of(ai, n, p->status);
	p->changed = prog != p->progress;
	p->progress = prog;
	complete = p->status == MMP_STATUS_DONE && n > 0 &&
	    ai[n - 1].text_len > 0;
	/*
	 * A non-stream answer has begun where a stream would have: from
	 * here on a failure is this answer's, not a reason to try another
	 * account.
	 */
	if (p->final_only && !complete && has_text(ai, n) &&
	    role(p) != MMP_OK)
		goto out;
	if (!p->final_only || complete) {
		gone = p->has_cur;
		for (i = 0; p->has_cur && i < n && at < 0; i++)
			if (strcmp(ai[i].id, p->cur) == 0)
				at = i;
		if (at >= 0 && message(p, &ai[at]) != MMP_OK)
			goto out;
		gone = gone && at < 0;
		for (i = at + 1; i < n; i++) {
			if (seen(p, ai[i].id))
				continue;
			if (switch_to(p, &ai[i], gone) != MMP_OK)
				goto out;
			gone = 0;
		}
	}
	if (complete) {
		if (role(p) != MMP_OK)
			goto out;
		p->done = 1;
		if (p->sink.finish != NULL &&
		    p->sink.finish(p->sink.ctx, CHAT_FINISH_STOP, NULL))
			fail(p, MMP_ABORT);
	} else if (p->status != MMP_STATUS_DONE)
		p->empty_done = 0;
	else if (++p->empty_done >= MMP_EMPTY_POLLS)
		fail_sink(p, 502, "empty_answer", "MiniMax finished the chat "
		    "without an answer.");
out:
	free(ai);
	return p->err;
}

enum mm_poll_err
mm_poll_feed(struct mm_poll *p, const char *body, size_t len)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum mm_poll_err e;
	size_t end;

	if (p->err != MMP_OK || p->done)
		return p->err;
	p->changed = 0;
	if (len > MMP_MAX_BODY)
		return fail(p, MMP_PROTO);
	if ((tok = json_tokener_new_ex(MMP_JSON_DEPTH)) == NULL)
		return fail(p, MMP_ENOMEM);
	root = json_tokener_parse_ex(tok, body, (int)len);
	/* one JSON value and nothing but white space after it */
	end = json_tokener_get_parse_end(tok);
	while (root != NULL && end < len && body[end] != '\0' &&
	    strchr(" \t\r\n", body[end]) != NULL)
		end++;
	if (root == NULL || end != len) {
		json_object_put(root);
		json_tokener_free(tok);
		return fail(p, MMP_PROTO);
	}
	json_tokener_free(tok);
	e = snapshot(p, root);
	json_object_put(root);
	return e;
}
