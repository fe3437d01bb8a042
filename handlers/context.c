/*
 * Context management (providers.md §10.9).  Web chats take the whole
 * history flattened into one prompt, and refuse (or silently cut) one
 * that is too long: CONTEXT_STRATEGY=sliding keeps the system messages
 * and the last CONTEXT_MAX_MESSAGES turns, tokens drops the oldest turns
 * until the estimate fits a budget.  What goes is always a prefix of the
 * non-system turns, in whole units: an assistant turn and the tool
 * results that follow it stay or go together, so no result loses its
 * call.  The turn of the last user message and all after it stay even
 * over the budget: a trimmed prompt beats a refused one, and an empty
 * one answers nothing.
 */
#include "config.h"

#include <string.h>

#include "fcgi/conf.h"
#include "fcgi/log.h"
#include "handlers/context.h"
#include "handlers/openai_sink.h"

#define CTX_MSG_OVERHEAD	4	/* tokens a message, as usage counts */
#define CTX_REPLY_OVERHEAD	3	/* tokens the answer is primed with */
#define CTX_IMAGE_TOKENS	85	/* a low-detail image */

/*
 * Built-in budgets in our estimate of tokens (about four bytes each),
 * below each web chat's window to leave room for the answer and the tool
 * section.  CONTEXT_MAX_TOKENS overrides them all.
 */
static const struct {
	const char	*id;
	long		 tokens;
} budgets[] = {
	{ "chatgpt",	8000 },		/* the free tier's 8K window */
	{ "deepseek",	60000 },
	{ "glm",	120000 },
	{ "kimi",	120000 },
	{ "minimax",	120000 },
	{ "qwen",	30000 },
	{ "qwenai",	120000 },
	{ "zai",	120000 },
};

static const char *const strategy_names[] = { "none", "sliding", "tokens" };

long
ctx_provider_budget(const char *provider)
{
	size_t i;

	for (i = 0; provider != NULL && i < sizeof(budgets) /
	    sizeof(budgets[0]); i++)
		if (strcmp(budgets[i].id, provider) == 0)
			return budgets[i].tokens;
	return CTX_DEFAULT_TOKENS;
}

void
ctx_conf_of(const struct config *cfg, const char *provider,
    struct ctx_conf *c)
{
	const char *s = cfg != NULL ? cfg->context_strategy : NULL;

	memset(c, 0, sizeof(*c));
	c->strategy = CTX_NONE;
	if (s != NULL && strcmp(s, "sliding") == 0)
		c->strategy = CTX_SLIDING;
	else if (s != NULL && strcmp(s, "tokens") == 0)
		c->strategy = CTX_TOKENS;
	c->max_messages = cfg != NULL && cfg->context_max_messages > 0 ?
	    cfg->context_max_messages : CTX_DEFAULT_MESSAGES;
	c->max_tokens = cfg != NULL && cfg->context_max_tokens > 0 ?
	    cfg->context_max_tokens : ctx_provider_budget(provider);
}

long
ctx_message_tokens(const struct chat_message *m)
{
	const struct chat_part *p;
	long t = CTX_MSG_OVERHEAD;
	size_t i;

	for (i = 0; i < m->nparts; i++) {
		p = &m->parts[i];
		if (p->type == CHAT_PART_TEXT)
			t += oa_estimate_tokens(p->text, p->len);
		else if (p->type == CHAT_PART_IMAGE)
			t += CTX_IMAGE_TOKENS;
	}
	return t;
}

static int
is_system(const struct chat_message *m)
{
	return m->role == CHAT_ROLE_SYSTEM || m->role == CHAT_ROLE_DEVELOPER;
}

/*
 * Whether a unit of turns starts at i: any non-system turn but a tool
 * result that follows another turn (its call, or a result of the same
 * call block).
 */
static int
unit_start(const struct chat_request *cr, size_t i)
{
	const struct chat_message *m = &cr->messages[i];

	if (is_system(m))
		return 0;
	return m->role != CHAT_ROLE_TOOL || i == 0 ||
	    is_system(&cr->messages[i - 1]);
}

/* The start of the unit that holds i (a non-system turn). */
static size_t
unit_of(const struct chat_request *cr, size_t i)
{
	while (i > 0 && !unit_start(cr, i))
		i--;
	return i;
}

/* The first turn that must stay: the last user message's unit. */
static size_t
min_cut(const struct chat_request *cr)
{
	size_t i, last = cr->nmessages;

	for (i = cr->nmessages; i-- > 0; ) {
		if (is_system(&cr->messages[i]))
			continue;
		if (last == cr->nmessages)
			last = i;	/* no user turn: the last unit stays */
		if (cr->messages[i].role == CHAT_ROLE_USER) {
			last = i;
			break;
		}
	}
	return last == cr->nmessages ? last : unit_of(cr, last);
}

/* sliding: the earliest unit start with at most max turns from it on. */
static size_t
cut_sliding(const struct chat_request *cr, long max)
{
	size_t i, cut = cr->nmessages, n = 0;

	for (i = cr->nmessages; i-- > 0; ) {
		if (is_system(&cr->messages[i]))
			continue;
		if (++n > (size_t)max)
			break;
		if (unit_start(cr, i))
			cut = i;
	}
	return cut;
}

/* tokens: whole units from the oldest on until the estimate fits. */
static size_t
cut_tokens(const struct chat_request *cr, long budget, size_t must,
    long *total)
{
	size_t i, cut = 0;
	long t = CTX_REPLY_OVERHEAD, unit = 0;

	for (i = 0; i < cr->nmessages; i++)
		t += ctx_message_tokens(&cr->messages[i]);
	for (i = 0; i < must && t > budget; i++) {
		if (is_system(&cr->messages[i]))
			continue;
		if (unit_start(cr, i) && i > cut) {
			t -= unit;	/* the unit before i goes */
			unit = 0;
			cut = i;
			if (t <= budget)
				break;
		}
		unit += ctx_message_tokens(&cr->messages[i]);
	}
	if (t > budget && i == must) {
		t -= unit;
		cut = must;
	}
	*total = t;
	return cut;
}

size_t
ctx_apply(struct json_object *root, struct chat_request *cr,
    const struct ctx_conf *c, const char *what)
{
	struct json_object *msgs = NULL;
	const struct chat_message *m;
	size_t i, j, k, cut, must, dropped, bytes = 0;
	size_t nrole[CHAT_ROLE_TOOL + 1];
	long total = 0;

	if (c->strategy == CTX_NONE || cr->nmessages == 0)
		return 0;
	must = min_cut(cr);
	if (c->strategy == CTX_SLIDING)
		cut = cut_sliding(cr, c->max_messages);
	else
		cut = cut_tokens(cr, c->max_tokens, must, &total);
	if (cut > must)
		cut = must;
	if (root != NULL && (!json_object_object_get_ex(root, "messages",
	    &msgs) || !json_object_is_type(msgs, json_type_array) ||
	    json_object_array_length(msgs) != cr->nmessages))
		msgs = NULL;
	/* the body's array in step, from the end so indices hold */
	for (i = cut; msgs != NULL && i-- > 0; )
		if (!is_system(&cr->messages[i]))
			json_object_array_del_idx(msgs, i, 1);
	memset(nrole, 0, sizeof(nrole));
	/* keep the system turns anywhere and every turn from cut on */
	for (i = j = 0; i < cr->nmessages; i++) {
		m = &cr->messages[i];
		if (i >= cut || is_system(m)) {
			cr->messages[j++] = *m;
			continue;
		}
		nrole[m->role]++;
		for (k = 0; k < m->nparts; k++)
			if (m->parts[k].type == CHAT_PART_TEXT)
				bytes += m->parts[k].len;
	}
	dropped = cr->nmessages - j;
	cr->nmessages = j;
	cr->text_bytes -= bytes < cr->text_bytes ? bytes : cr->text_bytes;
	if (dropped == 0)
		return 0;
	log_debug("context %s for %s: dropped %zu of %zu messages (%zu user, "
	    "%zu assistant, %zu tool; %zu bytes of text), %zu kept",
	    strategy_names[c->strategy], what != NULL ? what : "-", dropped,
	    dropped + j, nrole[CHAT_ROLE_USER], nrole[CHAT_ROLE_ASSISTANT],
	    nrole[CHAT_ROLE_TOOL], bytes, j);
	if (c->strategy == CTX_TOKENS && total > c->max_tokens)
		log_debug("context tokens for %s: the turns that must stay "
		    "estimate %ld tokens, over the budget of %ld; sent anyway",
		    what != NULL ? what : "-", total, c->max_tokens);
	return dropped;
}
