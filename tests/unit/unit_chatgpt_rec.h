/*
 * unit_chatgpt_rec.h - what the ChatGPT stream decoder's unit tests
 * (test_chatgpt_stream.c, test_chatgpt_stream_direct.c,
 * test_chatgpt_stream_content.c) share: a string
 * builder, a recording sink that checks the sink contract on every call
 * and writes one log line per call, a fake asset resolver, and a decoder
 * on that sink that tests feed by hand (struct dec).
 * Header-only, like unit.h: each test program includes it once.
 */
#ifndef UNIT_CHATGPT_REC_H
#define UNIT_CHATGPT_REC_H

#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/chatgpt/stream.h"

/* ------------------------------------------------------------ strings */

struct sb {
	char	*p;
	size_t	 len, cap;
};

static inline void
sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t	 ncap = b->cap ? b->cap : 256;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		b->p = realloc(b->p, ncap);
		ck_assert_ptr_nonnull(b->p);
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void __attribute__((format(printf, 2, 3)))
sb_printf(struct sb *b, const char *fmt, ...)
{
	char	 tmp[512];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < sizeof(tmp));
	sb_add(b, tmp, (size_t)n);
}

/* "..." with C escapes for control bytes, quotes and backslashes. */
static inline void
sb_quote(struct sb *b, const char *s, size_t n)
{
	sb_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (c == '\n')
			sb_add(b, "\\n", 2);
		else if (c == '"' || c == '\\') {
			sb_add(b, "\\", 1);
			sb_add(b, s + i, 1);
		} else if (c < 0x20 || c == 0x7f)
			sb_printf(b, "\\x%02x", c);
		else
			sb_add(b, s + i, 1);
	}
	sb_add(b, "\"", 1);
}

/* ------------------------------------------------------------ recording sink */

struct rec {
	struct sb	 log;
	int		 calls;
	int		 abort_at;	/* return nonzero on this call (1-based) */
	int		 roles;
	bool		 terminal;
	size_t		 text_bytes;	/* for the bulk test */
	bool		 quiet;		/* count text instead of logging it */
};

static inline int
rec_call(struct rec *r, bool first_ok)
{
	ck_assert_msg(!r->terminal, "sink called after finish/error");
	ck_assert_msg(first_ok || r->roles == 1, "sink called before role");
	r->calls++;
	return r->abort_at != 0 && r->calls == r->abort_at;
}

static inline int
rec_role(void *ctx, const char *role)
{
	struct rec	*r = ctx;

	ck_assert_int_eq(r->roles, 0);
	ck_assert_int_eq(r->calls, 0);
	r->roles++;
	sb_printf(&r->log, "role %s\n", role);
	return rec_call(r, true);
}

static inline int
rec_chunk(struct rec *r, const char *what, const char *s, size_t n)
{
	ck_assert_uint_gt(n, 0);
	ck_assert_msg(oracle_utf8(s, n), "invalid UTF-8 handed to the sink");
	if (r->quiet) {
		r->text_bytes += n;
		return rec_call(r, false);
	}
	sb_printf(&r->log, "%s ", what);
	sb_quote(&r->log, s, n);
	sb_add(&r->log, "\n", 1);
	return rec_call(r, false);
}

static inline int
rec_text(void *ctx, const char *s, size_t n)
{
	return rec_chunk(ctx, "text", s, n);
}

static inline int
rec_reasoning(void *ctx, const char *s, size_t n)
{
	return rec_chunk(ctx, "reasoning", s, n);
}

static inline int
rec_meta(void *ctx, const char *cid, const char *mid)
{
	struct rec	*r = ctx;

	ck_assert_ptr_nonnull(cid);
	ck_assert_ptr_nonnull(mid);
	sb_printf(&r->log, "meta %s %s\n", cid, mid);
	return rec_call(r, false);
}

static const char *const finish_names[] = {
	"stop", "length", "content_filter", "tool_calls"
};

static inline int
rec_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct rec	*r = ctx;
	int		 rc;

	ck_assert_ptr_null(u);
	ck_assert(f <= CHAT_FINISH_TOOL_CALLS);
	sb_printf(&r->log, "finish %s\n", finish_names[f]);
	rc = rec_call(r, false);
	r->terminal = true;
	return rc;
}

static inline int
rec_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct rec	*r = ctx;
	int		 rc;

	ck_assert_ptr_nonnull(type);
	ck_assert_ptr_nonnull(msg);
	ck_assert(oracle_utf8(msg, strlen(msg)));
	sb_printf(&r->log, "error %d %s %s ", status, type, code ? code : "-");
	sb_quote(&r->log, msg, strlen(msg));
	sb_add(&r->log, "\n", 1);
	rc = rec_call(r, false);
	r->terminal = true;
	return rc;
}

static inline struct chat_sink
rec_sink(struct rec *r)
{
	struct chat_sink	 s = {
		.ctx = r, .role = rec_role, .text = rec_text,
		.reasoning = rec_reasoning, .meta = rec_meta,
		.finish = rec_finish, .error = rec_error,
	};

	return s;
}

/* The fake resolver: refs starting with "bad" or "/bad" fail. */
static inline int
fake_resolve(void *ctx, enum chatgpt_asset kind, const char *ref,
    const char *cid, const char *mid, char **url)
{
	char	 buf[1024];

	(void)ctx;
	if (strncmp(ref, "bad", 3) == 0 || strncmp(ref, "/bad", 4) == 0)
		return -1;
	if (kind == CHATGPT_ASSET_SANDBOX)
		snprintf(buf, sizeof(buf), "https://files.example/sb%s?conv=%s"
		    "&msg=%s", ref, cid ? cid : "none", mid ? mid : "none");
	else
		snprintf(buf, sizeof(buf), "https://files.example/%s/%s"
		    "?conv=%s", kind == CHATGPT_ASSET_FILE_SERVICE ? "fs" : "sd",
		    ref, cid ? cid : "none");
	*url = strdup(buf);
	return *url ? 0 : -1;
}

/* -------------------------------------------------- decoder on the sink */

struct dec {
	struct rec			 r;
	struct chat_sink		 sink;
	struct chatgpt_stream		*st;
	struct chatgpt_stream_opts	 o;
};

static inline void
dec_open(struct dec *d, const struct chatgpt_stream_opts *o)
{
	memset(d, 0, sizeof(*d));
	d->sink = rec_sink(&d->r);
	if (o != NULL)
		d->o = *o;
	else {
		d->o.history = 1;
		d->o.resolve_image = fake_resolve;
	}
	ck_assert_int_eq(chatgpt_stream_new(&d->st, &d->sink, &d->o), CGS_OK);
}

static inline void
dec_close(struct dec *d)
{
	chatgpt_stream_free(d->st);
	free(d->r.log.p);
}

static inline enum chatgpt_stream_err
feed(struct dec *d, const char *name, const char *data)
{
	return chatgpt_stream_event(d->st, name, data, strlen(data));
}

static inline void
log_is(struct dec *d, const char *want)
{
	ck_assert_str_eq(d->r.log.p ? d->r.log.p : "", want);
}

/* An old-format assistant snapshot. */
static inline char *
snap(const char *id, const char *role, const char *status,
    const char *content_json, const char *extra)
{
	char	 buf[8192];

	snprintf(buf, sizeof(buf), "{\"message\":{\"id\":\"%s\","
	    "\"author\":{\"role\":\"%s\"},\"content\":%s,\"status\":\"%s\""
	    "%s%s},\"conversation_id\":\"c9\",\"error\":null}", id, role,
	    content_json, status, extra ? "," : "", extra ? extra : "");
	return strdup(buf);
}

static inline enum chatgpt_stream_err
feed_snap(struct dec *d, const char *id, const char *role,
    const char *status, const char *content_json, const char *extra)
{
	char			*s = snap(id, role, status, content_json, extra);
	enum chatgpt_stream_err	 rc = feed(d, NULL, s);

	free(s);
	return rc;
}

#define TXT(t)	"{\"content_type\":\"text\",\"parts\":[\"" t "\"]}"
#define FINISHED_STOP	"\"end_turn\":true,\"metadata\":" \
	"{\"finish_details\":{\"type\":\"stop\"}}"

#endif /* UNIT_CHATGPT_REC_H */
