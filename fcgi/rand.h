/*
 * Fast per-thread randomness for values that need to look random but
 * protect nothing (response ids, anonymous device ids, cosmetic numbers).
 * Seeded from OpenSSL once per thread; secrets keep using RAND_bytes.
 */
#ifndef FCGI_RAND_H
#define FCGI_RAND_H

#include <stddef.h>
#include <stdint.h>

uint64_t	 rnd_u64(void);
void		 rnd_bytes(void *, size_t);
/* uniform in [0, n), n > 0 */
uint64_t	 rnd_below(uint64_t n);

#endif
