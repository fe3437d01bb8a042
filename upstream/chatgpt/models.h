/*
 * ChatGPT model names: what /v1/models advertises, the requested name to
 * upstream slug mapping (chatgpt.md §6.1, with the §16.9 bugs fixed) and
 * the name reported back in responses (§6.2).
 */
#ifndef UPSTREAM_CHATGPT_MODELS_H
#define UPSTREAM_CHATGPT_MODELS_H

#include <stddef.h>

#include "upstream/provider.h"

/* upstream: the slug the upstream gets */
extern const struct provider_model	chatgpt_models[];
extern const size_t			chatgpt_nmodels;

#define CHATGPT_DEFAULT_MODEL	"gpt-3.5-turbo-0125"
#define CHATGPT_GIZMO_MAX	128

const struct provider_model *chatgpt_model_find(const char *id);
const char	*chatgpt_model_slug(const char *requested);
const char	*chatgpt_model_response_name(const char *requested);
int		 chatgpt_model_gizmo(const char *requested, char *out,
		    size_t outsz);

#endif
