/*
 * The Qwen AI international upstream (chat.qwen.ai, providers.md §7): a
 * JWT per account, with the browser's cookies where the upstream wants
 * them; a chat per answer (create, complete, delete); the phase stream of
 * §7.4; the built-in models of §7.5 and the upstream's own list.
 */
#ifndef UPSTREAM_QWENAI_H
#define UPSTREAM_QWENAI_H

#include "upstream/provider.h"

extern const struct provider	qwenai_provider;

#endif
