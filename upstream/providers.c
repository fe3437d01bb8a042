/* The static provider table: one line per provider. */
#include "config.h"

#include <stddef.h>

#include "upstream/chatgpt/chatgpt.h"
#include "upstream/provider.h"

const struct provider *const providers[] = {
	&chatgpt_provider,	/* default: owns every model name */
	NULL,
};

const struct provider *
provider_for_model(const char *model)
{
	const struct provider *const *p;

	for (p = providers; *p != NULL; p++)
		if ((*p)->owns_model(model))
			return *p;
	return NULL;
}
