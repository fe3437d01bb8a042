/*
 * The DeepSeek web upstream (providers.md §2): a userToken per account,
 * exchanged for an hour's bearer; a chat session per answer, deleted
 * after it; the DeepSeekHashV1 proof of work before every completion; the
 * p/v/o patch stream.
 */
#ifndef UPSTREAM_DEEPSEEK_H
#define UPSTREAM_DEEPSEEK_H

#include "upstream/provider.h"

extern const struct provider	deepseek_provider;

#endif
