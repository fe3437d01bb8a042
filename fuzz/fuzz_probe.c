/*
 * fuzz_probe.c - libFuzzer driver for probe_status_line() (upstream/
 * probe.c), the header-line reader that ends a reachability probe.
 *
 * Oracle: the answer is 0 or a final status 200..999; a non-zero answer
 * comes only from a line that starts with "HTTP/", whose first space is
 * followed by exactly those three digits and then no digit.  The line is
 * a copy of exactly the input's size, so ASan sees any read past it.
 *
 *   make fuzz-probe, then ./fuzz/fuzz_probe fuzz/corpus/probe
 *
 * -DFUZZ_STANDALONE replays the corpus instead (make check).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "upstream/probe.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size ? size : 1);
	const char *sp;
	long st;

	if (line == NULL)
		abort();
	memcpy(line, data, size);
	st = probe_status_line(line, size);
	if (st != 0) {
		if (st < 200 || st > 999 || size < 12 ||
		    strncasecmp(line, "HTTP/", 5) != 0)
			abort();
		sp = memchr(line + 5, ' ', size - 5);
		if (sp == NULL || (size_t)(sp - line) + 4 > size ||
		    (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0') !=
		    st || ((size_t)(sp - line) + 4 < size && sp[4] >= '0' &&
		    sp[4] <= '9'))
			abort();
	}
	free(line);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "probe"
#include "fuzz/replay.h"
#endif
