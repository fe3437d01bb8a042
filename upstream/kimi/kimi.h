/*
 * The Kimi web upstream (providers.md §4): Connect-RPC over HTTP at
 * www.kimi.com; a refresh token per account, exchanged for ~15-minute
 * access tokens that are renewed before they expire; a chat per answer,
 * deleted after it; the Connect+JSON event stream.
 */
#ifndef UPSTREAM_KIMI_H
#define UPSTREAM_KIMI_H

#include "upstream/provider.h"

extern const struct provider	kimi_provider;

#endif
