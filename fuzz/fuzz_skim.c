/*
 * fuzz_skim.c - libFuzzer driver for upstream/chatgpt/skim.c: the
 * skim_oracle.h property with a whole-tree spec and a pruning one.
 *
 *   make fuzz-skim && mkdir -p /tmp/skim && \
 *       ./fuzz/fuzz_skim -max_total_time=60 /tmp/skim fuzz/corpus/skim
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/skim (make check).
 */
#include "config.h"

#include <stdint.h>

#include "fuzz/skim_oracle.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*why;

	if (size > 1 << 20)
		return 0;
	if (oracle_check((const char *)data, size, NULL, &why) == -2 ||
	    oracle_check((const char *)data, size, &oracle_spec, &why) == -2) {
		fprintf(stderr, "skim: %s\n", why);
		abort();
	}
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "skim"
#include "fuzz/replay.h"
#endif
