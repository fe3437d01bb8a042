/*
 * The GLM web upstream, Zhipu Qingyan at chatglm.cn (providers.md §3): a
 * refresh token per account, exchanged for an hour's access token (the
 * upstream may hand back a new refresh token, which then replaces the
 * stored one); every call signed with X-Timestamp, X-Nonce and X-Sign; a
 * conversation per answer, deleted after it; a stream of cumulative
 * snapshots turned into deltas.
 */
#ifndef UPSTREAM_GLM_H
#define UPSTREAM_GLM_H

#include "upstream/provider.h"

extern const struct provider	glm_provider;

#endif
