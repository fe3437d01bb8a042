/*
 * The Z.ai web upstream (chat.z.ai, GLM international; providers.md §8):
 * the account's JWT sent as it is, a chat created per answer and deleted
 * after it, the completion URL carrying the browser's fingerprint as
 * signed query parameters, X-Signature over the last user text, the
 * phase-tagged chat:completion stream.
 */
#ifndef UPSTREAM_ZAI_H
#define UPSTREAM_ZAI_H

#include "upstream/provider.h"

extern const struct provider	zai_provider;

#endif
