/*
 * The prompt side of tool calling.  Web chats take text only, so the
 * tools become a section of the system message that teaches one call
 * format, and the tool turns of the history are written back in that
 * format: an assistant turn's tool_calls as the call block it would have
 * written, a tool result as a result block the section explains.  Done
 * on the chat_request before any provider flattens it, so every provider
 * gets the same text with no code of its own.
 */
#include "config.h"

#include <string.h>

#include "handlers/tools.h"

/*
 * Signs that the client already speaks a tool protocol of its own in
 * its system prompt (agents and IDE plugins, §10.7): our section would
 * only compete with theirs.
 */
static const char *const foreign[] = {
	"TOOL USE", "## Tool Use", "When invoking a tool", "You are Roo",
	"interactive CLI tool", "In this environment you have access to a "
	"set of tools", "<tool_use>", "You are Kilo", "apply_patch",
	"GitHub Copilot", "## Available Tools", "## Tool Call Protocol",
	"[function_calls]", "## Tools",
};

static int
contains(const char *s, size_t n, const char *m)
{
	size_t k = strlen(m), i;

	for (i = 0; i + k <= n; i++)
		if (s[i] == *m && memcmp(s + i, m, k) == 0)
			return 1;
	return 0;
}

int
tools_prompt_foreign(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		if (contains(s, n, foreign[i]))
			return 1;
	return 0;
}

static void
put_example(struct buf *b, enum tools_format f)
{
	if (f == TOOLS_XML)
		buf_adds(b, "<tool_use>\n<name>FUNCTION_NAME</name>\n"
		    "<arguments>{\"parameter\":\"value\"}</arguments>\n"
		    "</tool_use>\n");
	else
		buf_adds(b, "[function_calls]\n"
		    "[call:FUNCTION_NAME]{\"parameter\":\"value\"}[/call]\n"
		    "[/function_calls]\n");
}

char *
tools_prompt_text(struct arena *a, const struct tools_req *tr,
    enum tools_format f)
{
	struct buf b;
	char *out = NULL;
	size_t i;

	buf_init(&b, TOOLS_MAX_PROMPT * 2);
	buf_adds(&b, "# Functions you can call\n\n"
	    "You have access to the functions listed at the end of this "
	    "message.  When a function would help you answer, you can ask "
	    "for it to be run by writing a call in this exact form:\n\n");
	put_example(&b, f);
	buf_adds(&b, "\nHow to write calls:\n");
	if (f == TOOLS_XML)
		buf_adds(&b, "- Write one <tool_use> element per call; the "
		    "name goes in <name>, the arguments in <arguments>.\n");
	else
		buf_adds(&b, "- Open the block with [function_calls] and close "
		    "it with [/function_calls]; put each call on its own line "
		    "between [call:NAME] and [/call].\n");
	buf_adds(&b, "- NAME is one of the function names below, spelled "
	    "exactly as given (they are case-sensitive).\n"
	    "- The arguments are a single JSON object on one line that "
	    "follows the function's parameter schema; write {} when it "
	    "takes none.\n");
	if (tr->parallel)
		buf_adds(&b, "- When several calls do not depend on each "
		    "other, write them all in the same reply.\n");
	else
		buf_adds(&b, "- Make at most one call per reply.\n");
	buf_adds(&b, "- Do not wrap calls in code fences or quote them, and "
	    "write nothing after them: the reply ends with the last call.  "
	    "Text meant for the user goes before the calls.\n"
	    "- Never write a result yourself: it is sent back to you in a "
	    "later message as\n");
	if (f == TOOLS_XML)
		buf_adds(&b, "<tool_result id=\"CALL_ID\">\nresult text\n"
		    "</tool_result>\n");
	else
		buf_adds(&b, "[TOOL_RESULT for CALL_ID] result text\n");
	buf_adds(&b, "  and then you continue from it.\n");
	if (tr->choice == TOOLS_CHOICE_REQUIRED)
		buf_adds(&b, "- In this reply you must call at least one "
		    "function.\n");
	else if (tr->choice == TOOLS_CHOICE_NAMED) {
		buf_adds(&b, "- In this reply you must call the function ");
		buf_adds(&b, tr->named);
		buf_adds(&b, " and no other.\n");
	} else
		buf_adds(&b, "- Call a function only when you need what it "
		    "returns; otherwise just answer.\n");
	buf_adds(&b, "\n## Functions\n");
	for (i = 0; i < tr->nfns; i++) {
		buf_printf(&b, "\n- %s", tr->fns[i].name);
		if (tr->fns[i].description && *tr->fns[i].description) {
			buf_adds(&b, ": ");
			buf_adds(&b, tr->fns[i].description);
		}
		buf_printf(&b, "\n  Parameters (JSON schema): %s\n",
		    tr->fns[i].schema ? tr->fns[i].schema :
		    "{\"type\":\"object\",\"properties\":{}}");
	}
	if (!b.failed)
		out = arena_strndup(a, b.p, b.len);
	buf_free(&b);
	return out;
}

/* The text parts of a message, one after another. */
static void
put_parts(struct buf *b, const struct chat_message *m)
{
	size_t i;

	for (i = 0; i < m->nparts; i++)
		if (m->parts[i].type == CHAT_PART_TEXT)
			buf_add(b, m->parts[i].text, m->parts[i].len);
}

/* An assistant turn's tool_calls as the block the model would write. */
static void
put_calls(struct buf *b, struct json_object *calls, enum tools_format f)
{
	struct json_object *c, *fn, *v;
	struct buf args;
	const char *name, *as;
	size_t i, n = json_object_array_length(calls);

	buf_init(&args, 0);
	if (f == TOOLS_BRACKET)
		buf_adds(b, "[function_calls]\n");
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(calls, i);
		json_object_object_get_ex(c, "function", &fn);
		json_object_object_get_ex(fn, "name", &v);
		name = json_object_get_string(v);
		json_object_object_get_ex(fn, "arguments", &v);
		as = json_object_get_string(v);
		/* one line, as the section asks; as sent when not JSON */
		if (*as == '\0')
			as = "{}";
		else if (tools_json_repair(as, strlen(as), &args) == 0)
			as = args.p;
		if (f == TOOLS_XML)
			buf_printf(b, "<tool_use>\n<name>%s</name>\n"
			    "<arguments>%s</arguments>\n</tool_use>\n", name,
			    as);
		else
			buf_printf(b, "[call:%s]%s[/call]\n", name, as);
	}
	if (f == TOOLS_BRACKET)
		buf_adds(b, "[/function_calls]");
	while (b->len > 0 && b->p[b->len - 1] == '\n')
		b->len--;
	buf_free(&args);
}

static void
put_result(struct buf *b, struct json_object *m, const struct chat_message *cm,
    enum tools_format f)
{
	struct json_object *v;
	const char *id = cm->name != NULL ? cm->name : "call";

	if (json_object_object_get_ex(m, "tool_call_id", &v) &&
	    json_object_is_type(v, json_type_string))
		id = json_object_get_string(v);
	if (f == TOOLS_XML) {
		buf_printf(b, "<tool_result id=\"%s\">\n", id);
		put_parts(b, cm);
		buf_adds(b, "\n</tool_result>");
	} else {
		buf_printf(b, "[TOOL_RESULT for %s] ", id);
		put_parts(b, cm);
	}
}

/* m's text replaced by b's, as one string part in the arena. */
static int
set_text(struct arena *a, struct chat_message *m, const struct buf *b,
    struct chat_request *cr)
{
	struct chat_part *p;
	size_t i;

	if (b->failed || (p = arena_calloc(a, 1, sizeof(*p))) == NULL ||
	    (p->text = arena_strndup(a, b->p ? b->p : "", b->len)) == NULL)
		return -1;
	for (i = 0; i < m->nparts; i++)
		if (m->parts[i].type == CHAT_PART_TEXT)
			cr->text_bytes -= m->parts[i].len;
	p->type = CHAT_PART_TEXT;
	p->len = b->len;
	cr->text_bytes += b->len;
	m->parts = p;
	m->nparts = 1;
	m->string_content = 1;
	return 0;
}

static int
reencode(struct arena *a, struct json_object *msgs, struct chat_request *cr,
    enum tools_format f)
{
	struct chat_message *m;
	struct json_object *jm, *calls;
	struct buf b;
	size_t i;
	int rc = 0;

	buf_init(&b, CHAT_MAX_TEXT);
	for (i = 0; i < cr->nmessages && rc == 0; i++) {
		m = &cr->messages[i];
		jm = json_object_array_get_idx(msgs, i);
		buf_reset(&b);
		if (m->role == CHAT_ROLE_TOOL) {
			put_result(&b, jm, m, f);
			m->role = CHAT_ROLE_USER;
			m->name = NULL;
		} else if (m->role == CHAT_ROLE_ASSISTANT &&
		    json_object_object_get_ex(jm, "tool_calls", &calls) &&
		    json_object_is_type(calls, json_type_array) &&
		    json_object_array_length(calls) > 0) {
			put_parts(&b, m);
			if (b.len > 0)
				buf_adds(&b, "\n\n");
			put_calls(&b, calls, f);
		} else
			continue;
		rc = set_text(a, m, &b, cr);
	}
	buf_free(&b);
	return rc;
}

static int
is_system(const struct chat_message *m)
{
	return m->role == CHAT_ROLE_SYSTEM || m->role == CHAT_ROLE_DEVELOPER;
}

/* The section at the end of the first system message, or a new one. */
static int
inject(struct arena *a, struct chat_request *cr, const char *text)
{
	struct chat_message *ms;
	struct buf b;
	size_t i;
	int rc;

	if (cr->nmessages > 0 && is_system(&cr->messages[0])) {
		for (i = 0; i < cr->messages[0].nparts; i++)
			if (cr->messages[0].parts[i].type != CHAT_PART_TEXT)
				break;
		if (i == cr->messages[0].nparts) {
			buf_init(&b, 0);
			put_parts(&b, &cr->messages[0]);
			if (b.len > 0)
				buf_adds(&b, "\n\n");
			buf_adds(&b, text);
			rc = set_text(a, &cr->messages[0], &b, cr);
			buf_free(&b);
			return rc;
		}
	}
	if ((ms = arena_calloc(a, cr->nmessages + 1, sizeof(*ms))) == NULL)
		return -1;
	memcpy(ms + 1, cr->messages, cr->nmessages * sizeof(*ms));
	ms[0].role = CHAT_ROLE_SYSTEM;
	buf_init(&b, 0);
	buf_adds(&b, text);
	rc = set_text(a, &ms[0], &b, cr);
	buf_free(&b);
	if (rc == 0) {
		cr->messages = ms;
		cr->nmessages++;
	}
	return rc;
}

int
tools_prompt_apply(struct arena *a, struct json_object *root,
    struct chat_request *cr, struct tools_req *tr, enum tools_mode mode,
    enum tools_format f)
{
	struct json_object *msgs = NULL;
	const char *text;
	size_t i, j;
	int own = 0;

	tr->format = f;
	tr->injected = 0;
	for (i = 0; i < cr->nmessages && mode == TOOLS_AUTO; i++)
		for (j = 0; is_system(&cr->messages[i]) &&
		    j < cr->messages[i].nparts; j++)
			if (cr->messages[i].parts[j].type == CHAT_PART_TEXT &&
			    tools_prompt_foreign(cr->messages[i].parts[j].text,
			    cr->messages[i].parts[j].len))
				own = 1;
	if (tr->history && json_object_object_get_ex(root, "messages", &msgs) &&
	    reencode(a, msgs, cr, f) < 0)
		return -1;
	if (tr->nfns == 0 || tr->choice == TOOLS_CHOICE_NONE ||
	    mode == TOOLS_NEVER || own)
		return 0;
	if ((text = tools_prompt_text(a, tr, f)) == NULL ||
	    inject(a, cr, text) < 0)
		return -1;
	tr->injected = 1;
	tr->section = text;
	return 0;
}
