#include "config.h"

#include <stdio.h>
#include <string.h>

#include "upstream/chatgpt/models.h"

const struct provider_model chatgpt_models[] = {
	{ "auto",		"auto",				1714521600, 0 },
	{ "gpt-3.5-turbo",	"text-davinci-002-render-sha",	1677610602, 0 },
	{ "gpt-4",		"gpt-4",			1687882411, 0 },
	{ "gpt-4-mobile",	"gpt-4-mobile",			1687882411, 0 },
	{ "gpt-4o",		"gpt-4o",			1715367049, 0 },
	{ "gpt-4o-mini",	"gpt-4o-mini",			1721172741, 0 },
	{ "gpt-4o-canmore",	"gpt-4o-canmore",		1727740800, 0 },
	{ "gpt-4.1",		"gpt-4-1",			1744588800, 0 },
	{ "gpt-4.1-mini",	"gpt-4-1-mini",			1744588800, 0 },
	{ "gpt-4.5",		"gpt-4-5",			1740614400, 0 },
	{ "gpt-5",		"gpt-5",			1754524800, 0 },
	{ "gpt-5.1",		"gpt-5-1",			1762819200, 0 },
	{ "gpt-5.2",		"gpt-5-2",			1765238400, 0 },
	{ "o1",			"o1",				1734480000, 0 },
	{ "o1-mini",		"o1-mini",			1726099200, 0 },
	{ "o1-preview",		"o1-preview",			1726099200, 0 },
	{ "o1-pro",		"o1-pro",			1734480000, 0 },
	{ "o3",			"o3",				1744761600, 0 },
	{ "o3-mini",		"o3-mini",			1738281600, 0 },
	{ "o3-mini-high",	"o3-mini-high",			1738281600, 0 },
	{ "o3-mini-medium",	"o3-mini-medium",		1738281600, 0 },
	{ "o3-mini-low",	"o3-mini-low",			1738281600, 0 },
	{ "o4-mini",		"o4-mini",			1744761600, 0 },
	{ "o4-mini-high",	"o4-mini-high",			1744761600, 0 },
	{ NULL, NULL, 0, 0 }
};
const size_t chatgpt_nmodels = sizeof(chatgpt_models) /
    sizeof(chatgpt_models[0]) - 1;

/*
 * Substring rules, first match wins (§6.1).  Fixed against the reference:
 * o4-mini has its own rules instead of falling through to gpt-4o, and the
 * dotted 4.1 / 4.5 names reach their real slugs instead of gpt-4.
 */
static const struct { const char *needle, *slug; } slug_rules[] = {
	{ "o3-mini-high",	"o3-mini-high" },
	{ "o3-mini-medium",	"o3-mini-medium" },
	{ "o3-mini-low",	"o3-mini-low" },
	{ "o3-mini",		"o3-mini" },
	{ "o4-mini-high",	"o4-mini-high" },
	{ "o4-mini-medium",	"o4-mini-medium" },
	{ "o4-mini-low",	"o4-mini-low" },
	{ "o4-mini",		"o4-mini" },
	{ "o3-pro",		"o3-pro" },
	{ "o3",			"o3" },
	{ "o1-preview",		"o1-preview" },
	{ "o1-pro",		"o1-pro" },
	{ "o1-mini",		"o1-mini" },
	{ "gpt-5.2",		"gpt-5-2" },
	{ "gpt-5.1",		"gpt-5-1" },
	{ "gpt-5-2",		"gpt-5-2" },
	{ "gpt-5-1",		"gpt-5-1" },
	{ "gpt-5",		"gpt-5" },
	{ "gpt-4.5",		"gpt-4-5" },
	{ "gpt-4-5",		"gpt-4-5" },
	{ "gpt-4.1-mini",	"gpt-4-1-mini" },
	{ "gpt-4-1-mini",	"gpt-4-1-mini" },
	{ "gpt-4.1",		"gpt-4-1" },
	{ "gpt-4-1",		"gpt-4-1" },
	{ "gpt-4o-canmore",	"gpt-4o-canmore" },
	{ "gpt-4o-mini",	"gpt-4o-mini" },
	{ "gpt-4o",		"gpt-4o" },
	{ "o1",			"o1" },
	{ "gpt-4-mobile",	"gpt-4-mobile" },
	{ "gpt-4",		"gpt-4" },
	{ "gpt-3.5",		"text-davinci-002-render-sha" },
	{ "auto",		"auto" },
};

/* §6.2: the name a response reports for the requested one. */
static const struct { const char *req, *resp; } resp_alias[] = {
	{ "gpt-3.5-turbo",		"gpt-3.5-turbo-0125" },
	{ "gpt-3.5-turbo-16k",		"gpt-3.5-turbo-16k-0613" },
	{ "gpt-4",			"gpt-4-0613" },
	{ "gpt-4-32k",			"gpt-4-32k-0613" },
	{ "gpt-4-turbo-preview",	"gpt-4-0125-preview" },
	{ "gpt-4-vision-preview",	"gpt-4-1106-vision-preview" },
	{ "gpt-4-turbo",		"gpt-4-turbo-2024-04-09" },
	{ "gpt-4o",			"gpt-4o-2024-08-06" },
	{ "gpt-4o-mini",		"gpt-4o-mini-2024-07-18" },
	{ "o1-preview",			"o1-preview-2024-09-12" },
	{ "o1-mini",			"o1-mini-2024-09-12" },
	{ "o1",				"o1-2024-12-18" },
	{ "o3-mini",			"o3-mini-2025-01-31" },
	{ "o3-mini-high",		"o3-mini-high-2025-01-31" },
};

const struct provider_model *
chatgpt_model_find(const char *id)
{
	size_t i;

	for (i = 0; i < chatgpt_nmodels; i++)
		if (strcmp(chatgpt_models[i].id, id) == 0)
			return &chatgpt_models[i];
	return NULL;
}

const char *
chatgpt_model_slug(const char *requested)
{
	size_t i;

	if (requested == NULL || *requested == '\0')
		requested = CHATGPT_DEFAULT_MODEL;
	for (i = 0; i < sizeof(slug_rules) / sizeof(slug_rules[0]); i++)
		if (strstr(requested, slug_rules[i].needle) != NULL)
			return slug_rules[i].slug;
	return "gpt-4o";
}

const char *
chatgpt_model_response_name(const char *requested)
{
	size_t i;

	if (requested == NULL || *requested == '\0')
		return CHATGPT_DEFAULT_MODEL;
	for (i = 0; i < sizeof(resp_alias) / sizeof(resp_alias[0]); i++)
		if (strcmp(requested, resp_alias[i].req) == 0)
			return resp_alias[i].resp;
	return requested;
}

/*
 * GPTs: "gpt-4-gizmo-g-XXXX" or a bare "g-XXXX".  Unlike the reference, a
 * "g-" inside an ordinary name (…-long-context) is not a gizmo.
 */
int
chatgpt_model_gizmo(const char *requested, char *out, size_t outsz)
{
	const char *p, *id = NULL;

	if (requested == NULL)
		return 0;
	if (strncmp(requested, "g-", 2) == 0)
		id = requested;
	else if ((p = strstr(requested, "gizmo-g-")) != NULL)
		id = p + strlen("gizmo-");
	if (id == NULL || id[2] == '\0' || strlen(id) >= outsz ||
	    strlen(id) > CHATGPT_GIZMO_MAX)
		return 0;
	for (p = id + 2; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	snprintf(out, outsz, "%s", id);
	return 1;
}
