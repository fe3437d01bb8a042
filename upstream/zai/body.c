/*
 * body.c - the chat and completion bodies; see body.h for the rules.
 *
 * Written with struct buf and its JSON string writer rather than built
 * as json-c objects: the history can be megabytes, and json-c would copy
 * every text once more only to print it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "upstream/chat_text.h"
#include "upstream/zai/body.h"

#define SYS_JOIN	"\n\n"
#define SYS_USER	"\n\nUser: "
#define PART_JOIN	"\n"

static const char *const body_errs[ZAI_BODY__MAX] = {
	[ZAI_BODY_OK] = "success",
	[ZAI_BODY_ENOMEM] = "out of memory",
	[ZAI_BODY_EMPTY] = "the request has no text to send",
	[ZAI_BODY_ATTACHMENT] = "Z.ai takes text only: image and file parts "
	    "cannot be uploaded to it",
};

const char *
zai_body_strerror(enum zai_body_err e)
{
	return (unsigned)e < ZAI_BODY__MAX ? body_errs[e] : "unknown error";
}

/* The text parts of m joined, appended to b. */
static void
message_text(struct buf *b, const struct chat_message *m)
{
	size_t i, before = b->len;

	for (i = 0; i < m->nparts; i++) {
		if (m->parts[i].type != CHAT_PART_TEXT)
			continue;
		if (b->len > before)
			buf_adds(b, PART_JOIN);
		buf_add(b, m->parts[i].text, m->parts[i].len);
	}
}

enum zai_body_err
zai_history(struct arena *a, const struct chat_request *cr,
    struct zai_history *h)
{
	struct buf sys, t;
	enum zai_body_err e = ZAI_BODY_ENOMEM;
	size_t i, j, first = (size_t)-1;
	char *s;

	memset(h, 0, sizeof(*h));
	buf_init(&sys, 0);
	buf_init(&t, 0);
	for (i = 0; i < cr->nmessages; i++)
		for (j = 0; j < cr->messages[i].nparts; j++)
			if (cr->messages[i].parts[j].type != CHAT_PART_TEXT) {
				e = ZAI_BODY_ATTACHMENT;
				goto fail;
			}
	/* one turn per message, and one more for system text alone */
	if ((h->turns = arena_calloc(a, cr->nmessages + 1,
	    sizeof(*h->turns))) == NULL)
		goto fail;
	for (i = 0; i < cr->nmessages; i++) {
		const struct chat_message *m = &cr->messages[i];

		if (chat_text_system(m)) {
			size_t before = sys.len;

			if (sys.len > 0)
				buf_adds(&sys, SYS_JOIN);
			message_text(&sys, m);
			if (sys.len == before + (before > 0 ? 2 : 0))
				sys.len = before;	/* nothing said */
			continue;
		}
		buf_reset(&t);
		message_text(&t, m);
		if (t.failed)
			goto fail;
		if (t.len == 0)
			continue;
		if ((s = arena_strndup(a, t.p, t.len)) == NULL)
			goto fail;
		h->turns[h->n].role = m->role == CHAT_ROLE_ASSISTANT ?
		    "assistant" : "user";
		h->turns[h->n].text = s;
		h->turns[h->n].len = t.len;
		if (m->role != CHAT_ROLE_ASSISTANT) {
			if (first == (size_t)-1)
				first = h->n;
			h->last = s;
			h->last_len = t.len;
		}
		h->n++;
	}
	if (sys.failed)
		goto fail;
	if (sys.len > 0 && first == (size_t)-1) {
		/* system text alone: it is what the user says */
		if ((s = arena_strndup(a, sys.p, sys.len)) == NULL)
			goto fail;
		h->turns[h->n].role = "user";
		h->turns[h->n].text = h->last = s;
		h->turns[h->n].len = h->last_len = sys.len;
		h->n++;
	} else if (sys.len > 0) {
		struct zai_turn *u = &h->turns[first];

		buf_adds(&sys, SYS_USER);
		buf_add(&sys, u->text, u->len);
		if (sys.failed ||
		    (s = arena_strndup(a, sys.p, sys.len)) == NULL)
			goto fail;
		u->text = s;
		u->len = sys.len;
	}
	e = h->n > 0 && h->last != NULL ? ZAI_BODY_OK : ZAI_BODY_EMPTY;
fail:
	buf_free(&sys);
	buf_free(&t);
	return e;
}

static char *
done(struct arena *a, struct buf *b)
{
	char *out = b->failed ? NULL : arena_strndup(a, b->p, b->len);

	buf_free(b);
	return out;
}

char *
zai_new_chat_body(struct arena *a, const char *model, const char *msg_id,
    const struct zai_history *h, int64_t now_ms)
{
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, "{\"chat\":{\"id\":\"\",\"title\":\"New Chat\","
	    "\"models\":[");
	buf_json_str(&b, model, strlen(model));
	buf_printf(&b, "],\"params\":{},\"history\":{\"messages\":{\"%s\":"
	    "{\"id\":\"%s\",\"parentId\":null,\"childrenIds\":[],"
	    "\"role\":\"user\",\"content\":", msg_id, msg_id);
	buf_json_str(&b, h->last, h->last_len);
	buf_printf(&b, ",\"timestamp\":%lld,\"models\":[",
	    (long long)(now_ms / 1000));
	buf_json_str(&b, model, strlen(model));
	buf_printf(&b, "]}},\"currentId\":\"%s\"},\"tags\":[],\"flags\":[],"
	    "\"features\":[{\"type\":\"tool_selector\",\"server\":"
	    "\"tool_selector_h\",\"status\":\"hidden\"}],\"mcp_servers\":[],"
	    "\"enable_thinking\":false,\"auto_web_search\":false,"
	    "\"message_version\":1,\"extra\":{},\"timestamp\":%lld}}", msg_id,
	    (long long)now_ms);
	return done(a, &b);
}

/* The {{CURRENT_...}} variables of the browser, in UTC (§8.2). */
static void
variables(struct buf *b, int64_t now_ms)
{
	static const char *const days[] = { "Sunday", "Monday", "Tuesday",
	    "Wednesday", "Thursday", "Friday", "Saturday" };
	time_t t = (time_t)(now_ms / 1000);
	char date[48], clock[48];
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(date, sizeof(date), "%04d-%02d-%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);
	snprintf(clock, sizeof(clock), "%02d:%02d:%02d", tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	buf_printf(b, "\"variables\":{\"{{USER_NAME}}\":\"User\","
	    "\"{{USER_LOCATION}}\":\"Unknown\",\"{{CURRENT_DATETIME}}\":"
	    "\"%s %s\",\"{{CURRENT_DATE}}\":\"%s\",\"{{CURRENT_TIME}}\":"
	    "\"%s\",\"{{CURRENT_WEEKDAY}}\":\"%s\",\"{{CURRENT_TIMEZONE}}\":"
	    "\"UTC\",\"{{USER_LANGUAGE}}\":\"en-US\"}", date, clock, date,
	    clock, days[tm.tm_wday % 7]);
}

char *
zai_completion_body(struct arena *a, const struct zai_history *h,
    const struct zai_completion_in *in)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_adds(&b, "{\"stream\":true,\"model\":");
	buf_json_str(&b, in->model, strlen(in->model));
	buf_adds(&b, ",\"messages\":[");
	for (i = 0; i < h->n; i++) {
		buf_printf(&b, "%s{\"role\":\"%s\",\"content\":", i ? "," : "",
		    h->turns[i].role);
		buf_json_str(&b, h->turns[i].text, h->turns[i].len);
		buf_adds(&b, "}");
	}
	buf_adds(&b, "],\"signature_prompt\":");
	buf_json_str(&b, h->last, h->last_len);
	buf_printf(&b, ",\"params\":{},\"extra\":{},\"features\":{"
	    "\"image_generation\":false,\"web_search\":false,"
	    "\"auto_web_search\":%s,\"preview_mode\":true,\"flags\":[],"
	    "\"vlm_tools_enable\":false,\"vlm_web_search_enable\":false,"
	    "\"vlm_website_mode\":false,\"enable_thinking\":%s},",
	    in->search ? "true" : "false", in->think ? "true" : "false");
	variables(&b, in->now_ms);
	buf_adds(&b, ",\"chat_id\":");
	buf_json_str(&b, in->chat_id, strlen(in->chat_id));
	buf_printf(&b, ",\"id\":\"%s\",\"current_user_message_id\":\"%s\","
	    "\"current_user_message_parent_id\":null,\"background_tasks\":{"
	    "\"title_generation\":true,\"tags_generation\":true}}",
	    in->request_id, in->msg_id);
	return done(a, &b);
}
