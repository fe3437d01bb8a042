/*
 * The ChatGPT web upstream (chatgpt.md §1-§6): anonymous (backend-anon)
 * and AccessToken (backend-api) modes, sentinel with proof of work,
 * turnstile and arkose, both stream encodings.
 */
#ifndef UPSTREAM_CHATGPT_H
#define UPSTREAM_CHATGPT_H

#include "upstream/provider.h"

extern const struct provider	chatgpt_provider;

#endif
