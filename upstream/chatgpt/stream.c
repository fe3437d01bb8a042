/*
 * stream.c - ChatGPT conversation stream decoder: the entry points,
 * the dispatch of one SSE event and the lifecycle; see stream.h for the
 * contract and the conversion rules.
 *
 * Layout: chatgpt_stream_event() classifies one SSE event; v1 deltas
 * update documents (stream_v1.c, jpatch.c) and then the current
 * document, like every old-format event, goes through cgs_convert()
 * (stream_convert.c), which compares the snapshot with what was already
 * emitted for that message id and writes the difference.  Flat v1 lines
 * skip json-c's parser (cgs_fast_line() in stream_v1.c).
 *
 * Sink output and per-message state: stream_out.c.  What an event and a
 * v1 document keep when skim.c reads them: stream_spec.c.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi/buf.h"
#include "fcgi/utf8.h"
#include "upstream/chatgpt/jpatch.h"
#include "upstream/chatgpt/skim.h"
#include "upstream/jv.h"
#include "upstream/chatgpt/stream_internal.h"

/* ------------------------------------------------------------ events */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static enum chatgpt_stream_err
event(struct chatgpt_stream *s, const char *name, const char *data,
    size_t len)
{
	enum chatgpt_stream_err	 rc = CGS_OK;
	json_object		*o = NULL;
	const char		*type;
	struct json_tokener	*tok;
	bool			 named, delta_ev, bad;

	if (s == NULL || (data == NULL && len != 0))
		return CGS_EINVAL;
	if (s->err != CGS_OK)
		return s->err;
	if (s->terminal || s->eof)
		return CGS_OK;
	while (len > 0 && is_space(*data)) {
		data++;
		len--;
	}
	while (len > 0 && is_space(data[len - 1]))
		len--;
	if (len == 0)
		return CGS_OK;
	s->why = NULL;
	if (len > s->o.max_event)
		return cgs_fail(s, cgs_proto(s, "upstream event too large"));
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		s->eof = true;
		rc = s->started ? cgs_finish(s, CHAT_FINISH_STOP) : CGS_OK;
		return rc == CGS_OK ? CGS_OK : cgs_fail(s, rc);
	}
	named = name != NULL && *name != '\0' && strcmp(name, "message") != 0;
	delta_ev = named && strcmp(name, "delta") == 0;

	if (!s->o.json_only && (delta_ev || s->v1) && data[0] == '{' &&
	    !(named && strcmp(name, "delta_encoding") == 0)) {
		struct fast_line	 fl;
		int			 r = cgs_fast_line(s, data, len, &fl);

		if (r < 0)
			return cgs_fail(s, CGS_ENOMEM);
		if (r > 0) {
			s->v1 = true;
			if ((rc = cgs_fast_apply(s, &fl, len)) == CGS_OK)
				rc = cgs_flush(s);
			return rc == CGS_OK ? CGS_OK : cgs_fail(s, rc);
		}
	}

	if (!s->o.json_only && data[0] == '{') {
		/* v1 documents are patched later: they are kept whole */
		enum skim_rc	 r = skim_parse(data, len,
				    s->v1 || delta_ev ? NULL : &cgs_event_spec,
				    &s->fbuf, &s->fbcap, &o);

		if (r == SKIM_ENOMEM)
			return cgs_fail(s, CGS_ENOMEM);
		if (r == SKIM_OK)
			goto parsed;
	}
	/*
	 * A tokenizer for this event only: skim reads most events, and a
	 * parked stream, one of thousands, would keep its 2 kB for the
	 * "v1" of delta_encoding alone (BENCHMARKS.md §20).
	 */
	if ((tok = json_tokener_new_ex(CGS_JSON_DEPTH)) == NULL)
		return cgs_fail(s, CGS_ENOMEM);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, data, (int)len);
	bad = json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len;
	json_tokener_free(tok);
	if (bad) {
		json_object_put(o);
		return cgs_fail(s, cgs_proto(s, "malformed upstream event"));
	}
parsed:
	if (named && strcmp(name, "delta_encoding") == 0) {
		if (!cgs_streq(cgs_cstr(s, o), "v1"))
			rc = cgs_proto(s, "unsupported upstream delta encoding");
		else
			s->v1 = true;
	} else if (json_object_is_type(o, json_type_string)) {
		if (cgs_streq(cgs_cstr(s, o), "v1"))
			s->v1 = true;
	} else if (json_object_is_type(o, json_type_object)) {
		if (delta_ev)
			s->v1 = true;
		type = cgs_cstr(s, jv_get(o, "type"));
		if (s->v1 && cgs_has(o, "v") && !cgs_has(o, "message"))
			rc = cgs_delta(s, o, len);
		else if (cgs_has(o, "message"))
			rc = cgs_convert(s, o);
		else if (type != NULL)
			rc = cgs_typed(s, o, type);
		else if (jv_get(o, "error") != NULL)
			rc = cgs_convert(s, o);
	}
	if (rc == CGS_OK)
		rc = cgs_flush(s);
	json_object_put(o);
	return rc == CGS_OK ? CGS_OK : cgs_fail(s, rc);
}

enum chatgpt_stream_err
chatgpt_stream_event(struct chatgpt_stream *s, const char *name,
    const char *data, size_t len)
{
	enum chatgpt_stream_err	 rc = event(s, name, data, len);

	/* the scratch of a large event (a v1 document, an old-format
	 * snapshot) is not kept while the stream waits for the next */
	if (s != NULL && s->fbcap > CGS_FBUF_KEEP) {
		free(s->fbuf);
		s->fbuf = NULL;
		s->fbcap = 0;
		s->fblen = 0;
	}
	return rc;
}

enum chatgpt_stream_err
chatgpt_stream_end(struct chatgpt_stream *s)
{
	if (s == NULL)
		return CGS_EINVAL;
	if (s->err != CGS_OK)
		return s->err;
	if (s->terminal)
		return CGS_OK;
	if (!s->started)
		return CGS_NOSTART;
	if (cgs_sink_error(s, NULL, "upstream stream ended early") == CGS_ABORT)
		return s->err;
	s->err = CGS_TRUNCATED;
	return CGS_TRUNCATED;
}

/* ------------------------------------------------------------ lifecycle */

enum chatgpt_stream_err
chatgpt_stream_new(struct chatgpt_stream **out,
    const struct chat_sink *sink, const struct chatgpt_stream_opts *opts)
{
	struct chatgpt_stream	*s;
	struct jp_limits	 lim;

	if (out == NULL)
		return CGS_EINVAL;
	*out = NULL;
	if (sink == NULL)
		return CGS_EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CGS_ENOMEM;
	s->sink = *sink;
	if (opts != NULL)
		s->o = *opts;
	if (s->o.max_event == 0)
		s->o.max_event = CGS_DEFAULT_MAX_EVENT;
	if (s->o.max_event > INT32_MAX - 1)
		s->o.max_event = INT32_MAX - 1;	/* json-c takes an int */
	if (s->o.max_text == 0)
		s->o.max_text = CGS_DEFAULT_MAX_TEXT;
	if (s->o.max_doc_bytes == 0)
		s->o.max_doc_bytes = CGS_DEFAULT_MAX_DOC_BYTES;
	memset(&lim, 0, sizeof(lim));
	lim.max_string = s->o.max_text;
	jp_init(&s->jp, &lim);
	*out = s;
	return CGS_OK;
}

void
chatgpt_stream_free(struct chatgpt_stream *s)
{
	if (s == NULL)
		return;
	jp_free(&s->jp);
	for (size_t i = 0; i < s->ndocs; i++)
		json_object_put(s->docs[i].doc);
	for (size_t i = 0; i < s->nmsgs; i++)
		free(s->msgs[i].id);
	free(s->docs);
	free(s->msgs);
	free(s->pend);
	free(s->conv_id);
	free(s->meta_id);
	free(s->up_err);
	free(s->fbuf);
	free(s);
}

int
chatgpt_stream_started(const struct chatgpt_stream *s)
{
	return s != NULL && s->started;
}

int
chatgpt_stream_done(const struct chatgpt_stream *s)
{
	return s == NULL || s->terminal || s->eof || s->err != CGS_OK;
}

const char *
chatgpt_stream_upstream_error(const struct chatgpt_stream *s)
{
	return s != NULL ? s->up_err : NULL;
}

const char *
chatgpt_stream_conversation_id(const struct chatgpt_stream *s)
{
	return s != NULL ? s->conv_id : NULL;
}

const char *
chatgpt_stream_message_id(const struct chatgpt_stream *s)
{
	return s != NULL ? s->meta_id : NULL;
}

int
chatgpt_stream_finished(const struct chatgpt_stream *s)
{
	return s != NULL && s->finished && s->err == CGS_OK;
}

int
chatgpt_stream_is_v1(const struct chatgpt_stream *s)
{
	return s != NULL && s->v1;
}

size_t
chatgpt_stream_skipped(const struct chatgpt_stream *s)
{
	return s != NULL ? s->skipped : 0;
}
