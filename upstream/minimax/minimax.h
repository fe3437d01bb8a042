/*
 * The MiniMax agent upstream (agent.minimaxi.com, providers.md §5): a JWT
 * and its realUserID per account, a device registered for three hours,
 * every call signed (yy, x-signature); an answer is sent, then polled
 * until complete and streamed as it grows; the chat is deleted after it.
 */
#ifndef UPSTREAM_MINIMAX_H
#define UPSTREAM_MINIMAX_H

#include "upstream/provider.h"

extern const struct provider	minimax_provider;

#endif
