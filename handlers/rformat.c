/*
 * Structured output (see rformat.h): response_format validated, taught
 * in the system message, and the answer held by a chat_sink filter until
 * it is checked.  The held answer goes out as one content piece once it
 * fits: streamed, the client sees the role chunk (and keep-alives) while
 * we wait, then the JSON, then the finish.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "handlers/chat_request.h"
#include "handlers/openai_sink.h"
#include "handlers/rformat.h"

/* every refusal here is about response_format */
#define rf_fail(e, code, ...) \
	chat_req_fail((e), (code), PARAM, __VA_ARGS__)

#define PARAM	"response_format"

const char *
rf_strerror(enum rf_err e)
{
	switch (e) {
	case RF_OK:
		return "ok";
	case RF_ENOMEM:
		return "out of memory";
	case RF_INVALID:
		return "the answer does not match response_format";
	}
	return "unknown error";
}

static int
parse_schema(struct arena *a, struct json_object *js, struct rf_req *rf,
    struct chat_req_error *e)
{
	struct json_object *v;
	const char *s;
	char msg[JSCHEMA_MSG_MAX];
	enum jschema_err je;

	if (!json_object_is_type(js, json_type_object))
		return rf_fail(e, js == NULL ? "missing_required_parameter" :
		    "invalid_type", "'response_format.json_schema' must be an "
		    "object with a 'name' and a 'schema'.");
	if (!json_object_object_get_ex(js, "name", &v) || v == NULL)
		return rf_fail(e, "missing_required_parameter", "Missing "
		    "required parameter: 'response_format.json_schema.name'.");
	if (!json_object_is_type(v, json_type_string) ||
	    !chat_req_name_ok(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), RF_NAME_MAX))
		return rf_fail(e, "invalid_value",
		    "'response_format.json_schema.name' must be 1 to %d "
		    "letters, digits, '_' or '-'.",
		    RF_NAME_MAX);
	rf->name = json_object_get_string(v);
	if (json_object_object_get_ex(js, "description", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) > RF_MAX_DESC)
			return rf_fail(e, "invalid_value", "'response_format."
			    "json_schema.description' must be a string of at "
			    "most %d bytes.", RF_MAX_DESC);
		rf->description = json_object_get_string(v);
	}
	if (json_object_object_get_ex(js, "strict", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean))
			return rf_fail(e, "invalid_type", "'response_format."
			    "json_schema.strict' must be a boolean.");
		rf->strict = json_object_get_boolean(v);
	}
	if (!json_object_object_get_ex(js, "schema", &v) || v == NULL)
		return 0;	/* as OpenAI: any JSON value */
	if ((je = jschema_check(v, rf->strict, msg, sizeof(msg))) !=
	    JSCHEMA_OK)
		return rf_fail(e, "invalid_value", "Invalid schema for "
		    "response_format '%s' (%s): %s", rf->name,
		    jschema_strerror(je), msg);
	rf->schema = v;
	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if ((rf->schema_text = arena_strdup(a, s)) == NULL)
		return rf_fail(e, "server_error", "Out of memory.");
	return 0;
}

int
rf_request_parse(struct arena *a, struct json_object *root, struct rf_req *rf,
    struct chat_req_error *e)
{
	struct json_object *o, *t, *js = NULL;
	const char *type;

	memset(rf, 0, sizeof(*rf));
	if (!json_object_object_get_ex(root, PARAM, &o) || o == NULL)
		return 0;
	if (!json_object_is_type(o, json_type_object))
		return rf_fail(e, "invalid_type",
		    "'response_format' must be an object.");
	if (!json_object_object_get_ex(o, "type", &t) || t == NULL)
		return rf_fail(e, "missing_required_parameter", "Missing "
		    "required parameter: 'response_format.type'.");
	if (!json_object_is_type(t, json_type_string))
		return rf_fail(e, "invalid_type",
		    "'response_format.type' must be a string.");
	type = json_object_get_string(t);
	if (strcmp(type, "text") == 0)
		return 0;
	if (strcmp(type, "json_object") == 0) {
		rf->type = RF_JSON_OBJECT;
		return 0;
	}
	if (strcmp(type, "json_schema") != 0)
		return rf_fail(e, "invalid_value", "Invalid value: '%.40s'. "
		    "Supported values are: 'text', 'json_object' and "
		    "'json_schema'.", type);
	rf->type = RF_JSON_SCHEMA;
	json_object_object_get_ex(o, "json_schema", &js);
	return parse_schema(a, js, rf, e);
}

char *
rf_prompt_text(struct arena *a, const struct rf_req *rf)
{
	if (rf->type == RF_JSON_OBJECT)
		return arena_strdup(a, RF_MARK " object and nothing else: no "
		    "words before or after it and no Markdown code fence. It "
		    "must be strict JSON: keys and strings in double quotes, "
		    "no comments, no trailing commas.");
	if (rf->type != RF_JSON_SCHEMA)
		return NULL;
	if (rf->schema_text == NULL)
		return arena_printf(a, RF_MARK " value (\"%s\") and nothing "
		    "else: no words before or after it and no Markdown code "
		    "fence.%s%s", rf->name, rf->description ? " It is: " : "",
		    rf->description ? rf->description : "");
	return arena_printf(a, RF_MARK " value and nothing else: no words "
	    "before or after it and no Markdown code fence. The value must "
	    "match the JSON Schema \"%s\" below: every required property "
	    "present, no property the schema does not list, the types and "
	    "values it allows.%s%s\nSchema: %s", rf->name,
	    rf->description ? " It is: " : "",
	    rf->description ? rf->description : "", rf->schema_text);
}

static int
set_text(struct arena *a, struct chat_request *cr, struct chat_message *m,
    const char *s, size_t n)
{
	struct chat_part *p;
	size_t i;

	if ((p = arena_calloc(a, 1, sizeof(*p))) == NULL ||
	    (p->text = arena_strndup(a, s, n)) == NULL)
		return -1;
	for (i = 0; i < m->nparts; i++)
		if (m->parts[i].type == CHAT_PART_TEXT)
			cr->text_bytes -= m->parts[i].len;
	p->type = CHAT_PART_TEXT;
	p->len = n;
	cr->text_bytes += n;
	m->parts = p;
	m->nparts = 1;
	m->string_content = 1;
	return 0;
}

static int
is_system(const struct chat_message *m)
{
	return m->role == CHAT_ROLE_SYSTEM || m->role == CHAT_ROLE_DEVELOPER;
}

/* At the end of a first system message of text only, or a new one. */
int
rf_prompt_apply(struct arena *a, struct chat_request *cr,
    const struct rf_req *rf)
{
	struct chat_message *m, *ms;
	const char *text;
	struct buf b;
	size_t i;
	int rc;

	if (rf->type == RF_TEXT)
		return 0;
	if ((text = rf_prompt_text(a, rf)) == NULL)
		return -1;
	m = cr->nmessages > 0 ? &cr->messages[0] : NULL;
	for (i = 0; m != NULL && i < m->nparts; i++)
		if (m->parts[i].type != CHAT_PART_TEXT)
			m = NULL;
	if (m != NULL && is_system(m)) {
		buf_init(&b, 0);
		for (i = 0; i < m->nparts; i++)
			buf_add(&b, m->parts[i].text, m->parts[i].len);
		if (b.len > 0)
			buf_adds(&b, "\n\n");
		buf_adds(&b, text);
		rc = b.failed ? -1 : set_text(a, cr, m, b.p, b.len);
		buf_free(&b);
		return rc;
	}
	if ((ms = arena_calloc(a, cr->nmessages + 1, sizeof(*ms))) == NULL)
		return -1;
	memcpy(ms + 1, cr->messages, cr->nmessages * sizeof(*ms));
	ms[0].role = CHAT_ROLE_SYSTEM;
	if (set_text(a, cr, &ms[0], text, strlen(text)) < 0)
		return -1;
	cr->messages = ms;
	cr->nmessages++;
	return 0;
}

int
rf_repair_request(struct arena *a, const struct chat_request *cr,
    const char *bad, size_t badlen, const char *why, struct chat_request *out)
{
	struct chat_message *ms;
	const char *fix;

	*out = *cr;
	if ((ms = arena_calloc(a, cr->nmessages + 2, sizeof(*ms))) == NULL)
		return -1;
	memcpy(ms, cr->messages, cr->nmessages * sizeof(*ms));
	out->messages = ms;
	ms[cr->nmessages].role = CHAT_ROLE_ASSISTANT;
	if (set_text(a, out, &ms[cr->nmessages], bad != NULL ? bad : "",
	    badlen) < 0)
		return -1;
	if ((fix = arena_printf(a, RF_REPAIR_MARK " for the required answer "
	    "format: %s. Reply again with only the corrected JSON, nothing "
	    "else.", why)) == NULL)
		return -1;
	ms[cr->nmessages + 1].role = CHAT_ROLE_USER;
	if (set_text(a, out, &ms[cr->nmessages + 1], fix, strlen(fix)) < 0)
		return -1;
	out->nmessages = cr->nmessages + 2;
	/* the repair is a new turn, not a continuation of a chat */
	out->conversation_id = NULL;
	out->parent_message_id = NULL;
	return 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void
rf_unfence(const char *s, size_t n, size_t *off, size_t *len)
{
	size_t i = 0, j = n, k;

	while (i < j && is_blank(s[i]))
		i++;
	while (j > i && is_blank(s[j - 1]))
		j--;
	/* "```" or "```json" on a line of its own, "```" at the end */
	if (j - i >= 6 && memcmp(s + i, "```", 3) == 0 &&
	    memcmp(s + j - 3, "```", 3) == 0) {
		for (k = i + 3; k < j - 3 && isalpha((unsigned char)s[k]); k++)
			;
		while (k < j - 3 && (s[k] == ' ' || s[k] == '\t' ||
		    s[k] == '\r'))
			k++;
		if (k < j - 3 && s[k] == '\n') {
			i = k + 1;
			j -= 3;
			while (i < j && is_blank(s[i]))
				i++;
			while (j > i && is_blank(s[j - 1]))
				j--;
		}
	}
	*off = i;
	*len = j - i;
}

enum rf_err
rf_check(const struct rf_req *rf, const char *s, size_t n, struct buf *out,
    char *msg, size_t msgsz)
{
	struct json_tokener *tok;
	struct json_object *v = NULL;
	enum json_tokener_error te;
	enum jschema_err je;
	enum rf_err e = RF_INVALID;
	const char *js;
	size_t o, l, *off = &o, *len = &l;

	msg[0] = '\0';
	buf_reset(out);
	rf_unfence(s, n, off, len);
	if (*len == 0) {
		snprintf(msg, msgsz, "the answer is empty, not JSON");
		return RF_INVALID;
	}
	if (*len >= RF_MAX_ANSWER) {
		snprintf(msg, msgsz, "the answer is longer than %u bytes",
		    RF_MAX_ANSWER);
		return RF_INVALID;
	}
	if ((tok = json_tokener_new()) == NULL)
		return RF_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	v = json_tokener_parse_ex(tok, s + *off, (int)*len);
	te = json_tokener_get_error(tok);
	if (v == NULL && te == json_tokener_continue) {
		v = json_tokener_parse_ex(tok, "", 1);	/* a bare number */
		te = json_tokener_get_error(tok);
	}
	if (te != json_tokener_success)
		snprintf(msg, msgsz, "the answer is not valid JSON (%s at "
		    "byte %zu)", json_tokener_error_desc(te),
		    json_tokener_get_parse_end(tok));
	else if (json_tokener_get_parse_end(tok) < *len)
		snprintf(msg, msgsz, "the answer has more after the JSON "
		    "value (byte %zu)", json_tokener_get_parse_end(tok));
	else if (rf->type == RF_JSON_OBJECT &&
	    !json_object_is_type(v, json_type_object))
		snprintf(msg, msgsz, "the answer is JSON but not an object");
	else if (rf->schema != NULL && (je = jschema_validate(rf->schema, v,
	    msg, msgsz)) != JSCHEMA_OK) {
		if (je != JSCHEMA_INVALID)
			snprintf(msg + strlen(msg), msgsz - strlen(msg),
			    " (%s)", jschema_strerror(je));
	} else {
		js = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		e = js == NULL || buf_adds(out, js) != 0 ? RF_ENOMEM : RF_OK;
	}
	json_object_put(v);
	json_tokener_free(tok);
	return e;
}

/* The sink. */

static int
f_role(void *ctx, const char *role)
{
	struct rf_sink *f = ctx;

	return f->down->role(f->down->ctx, role);
}

static int
f_text(void *ctx, const char *s, size_t n)
{
	struct rf_sink *f = ctx;

	if (f->ended)
		return -1;
	if (!f->oa->started && f->down->role(f->down->ctx, "assistant") != 0)
		return -1;
	/* past the limit the check fails: the rest is not needed */
	if (f->text.len + n > RF_MAX_ANSWER) {
		f->text.len = RF_MAX_ANSWER;	/* rf_check says too long */
		return 0;
	}
	return buf_add(&f->text, s, n) != 0 ? -1 : 0;
}

static int
f_reasoning(void *ctx, const char *s, size_t n)
{
	struct rf_sink *f = ctx;

	return f->down->reasoning(f->down->ctx, s, n);
}

static int
f_meta(void *ctx, const char *cid, const char *mid)
{
	struct rf_sink *f = ctx;

	return f->down->meta(f->down->ctx, cid, mid);
}

void
rf_sink_fail(struct rf_sink *f)
{
	char msg[sizeof(f->why) + 128];

	f->need_repair = 0;
	f->ended = 1;
	snprintf(msg, sizeof(msg), "The model's answer does not match "
	    "response_format%s: %s.", f->round ? ", even after a repair "
	    "request" : "", f->why);
	(void)f->down->error(f->down->ctx, 502, "upstream_error",
	    "invalid_structured_output", msg);
}

static int
f_finish(void *ctx, enum chat_finish fin, const struct chat_usage *u)
{
	struct rf_sink *f = ctx;
	enum rf_err e;
	int rc;

	if (f->ended)
		return 0;
	f->ended = 1;
	/* a tool call answered: its text is no structured answer */
	if (f->oa->ncalls > 0) {
		if (f->text.len > 0 && (rc = f->down->text(f->down->ctx,
		    f->text.p, f->text.len)) != 0)
			return rc;
		return f->down->finish(f->down->ctx, fin, u);
	}
	e = rf_check(f->rf, f->text.p ? f->text.p : "", f->text.len, &f->json,
	    f->why, sizeof(f->why));
	if (e == RF_OK) {
		if ((rc = f->down->text(f->down->ctx, f->json.p,
		    f->json.len)) != 0)
			return rc;
		return f->down->finish(f->down->ctx, fin, u);
	}
	if (e == RF_ENOMEM)
		return f->down->error(f->down->ctx, 503, "server_error",
		    "out_of_memory", "Out of memory.");
	if (f->round == 0) {
		f->need_repair = 1;	/* chat_attempt.c asks again */
		return 0;
	}
	rf_sink_fail(f);
	return -1;
}

static int
f_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct rf_sink *f = ctx;

	return f->down->error(f->down->ctx, status, type, code, msg);
}

static int
f_retry_after(void *ctx, long seconds)
{
	struct rf_sink *f = ctx;

	return f->down->retry_after(f->down->ctx, seconds);
}

static int
f_flush(void *ctx)
{
	struct rf_sink *f = ctx;

	return f->down->flush(f->down->ctx);
}

void
rf_sink_init(struct rf_sink *f, const struct rf_req *rf, struct oa_sink *oa,
    const struct chat_sink *down)
{
	memset(f, 0, sizeof(*f));
	f->down = down;
	f->oa = oa;
	f->rf = rf;
	buf_init(&f->text, 0);
	buf_init(&f->json, 0);
}

void
rf_sink_bind(struct rf_sink *f, struct chat_sink *k)
{
	memset(k, 0, sizeof(*k));
	k->ctx = f;
	k->role = f_role;
	k->text = f_text;
	k->reasoning = f_reasoning;
	k->meta = f_meta;
	k->finish = f_finish;
	k->error = f_error;
	k->retry_after = f_retry_after;
	k->flush = f_flush;
}

void
rf_sink_round(struct rf_sink *f)
{
	buf_reset(&f->text);
	f->round = 1;
	f->need_repair = 0;
	f->ended = 0;
}

void
rf_sink_free(struct rf_sink *f)
{
	buf_free(&f->text);
	buf_free(&f->json);
}
