/*
 * The static provider table: one line per provider.  Order matters
 * twice: /v1/models lists in it, and the first catch-all provider takes
 * the names nobody else knows.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "upstream/chatgpt/chatgpt.h"
#include "upstream/deepseek/deepseek.h"
#include "upstream/glm/glm.h"
#include "upstream/kimi/kimi.h"
#include "upstream/minimax/minimax.h"
#include "upstream/provider.h"
#include "upstream/qwenai/qwenai.h"
#include "upstream/zai/zai.h"

const struct provider *const providers[] = {
	&chatgpt_provider,
	&deepseek_provider,
	&glm_provider,
	&kimi_provider,
	&minimax_provider,
	&qwenai_provider,
	&zai_provider,
	NULL,
};

const struct provider *
provider_by_id(const char *id)
{
	const struct provider *const *p;

	for (p = providers; *p != NULL; p++)
		if (strcmp((*p)->id, id) == 0)
			return *p;
	return NULL;
}

const struct provider *
provider_default(void)
{
	const struct provider *const *p;

	for (p = providers; *p != NULL; p++)
		if ((*p)->flags & PROVIDER_CATCHALL)
			return *p;
	return NULL;
}

static const char *const role_names[] = {
	[CHAT_ROLE_SYSTEM] = "system",
	[CHAT_ROLE_DEVELOPER] = "developer",
	[CHAT_ROLE_USER] = "user",
	[CHAT_ROLE_ASSISTANT] = "assistant",
	[CHAT_ROLE_TOOL] = "tool",
};

const char *
chat_role_name(enum chat_role r)
{
	return (unsigned)r < sizeof(role_names) / sizeof(role_names[0]) ?
	    role_names[r] : "user";
}

const char *
provider_kind_name(const struct provider *p, int kind)
{
	if (p->kinds == NULL || kind < 0 || (size_t)kind >= p->nkinds)
		return "token";
	return p->kinds[kind];
}
