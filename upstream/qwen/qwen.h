/*
 * The Qwen web upstream of China (providers.md §6: www.qianwen.com, its
 * chat on chat2.qianwen.com): the tongyi_sso_ticket cookie per account,
 * no exchange; one chat call per answer whose stream repeats the whole
 * answer so far, compressed as the upstream likes; the upstream session
 * deleted after the answer.
 */
#ifndef UPSTREAM_QWEN_H
#define UPSTREAM_QWEN_H

#include "upstream/provider.h"

extern const struct provider	qwen_provider;

#endif
