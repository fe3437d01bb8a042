/*
 * Base64 as the upstreams speak it: the standard alphabet padded (PoW
 * answers, the Turnstile VM's btoa/atob) and the URL-safe one unpadded
 * (JWT payloads, RFC 7515 §2).  One coder serves both, chosen by flags.
 */
#ifndef FCGI_B64_H
#define FCGI_B64_H

#include <stddef.h>

#define B64_STD		0x01	/* '+' and '/' are digits 62 and 63 */
#define B64_URL		0x02	/* '-' and '_' are digits 62 and 63 */
/*
 * WHATWG forgiving-base64 (atob): ASCII whitespace is skipped and '='
 * only pads to a multiple of four.  Without it any run of trailing '='
 * is dropped, as JWT readers do.
 */
#define B64_FORGIVING	0x04

/* Characters b64_encode writes for n bytes. */
#define B64_ENCLEN(n)	(((n) + 2) / 3 * 4)
/* Bytes b64_decode may write for n characters. */
#define B64_DECLEN(n)	((n) / 4 * 3 + 3)

/* The value (0..63) of c under flags' alphabets, or -1. */
int	 b64_value(unsigned char c, int flags);
/*
 * The standard padded base64 of in[0..n) at out (B64_ENCLEN(n)
 * characters, no NUL); returns the characters written.
 */
size_t	 b64_encode(const void *in, size_t n, char *out);
/*
 * s[0..n) decoded into out (at most outsz bytes); the length, or -1 when
 * s is not base64 under flags or out is too small.
 */
long	 b64_decode(const char *s, size_t n, unsigned char *out, size_t outsz,
	    int flags);

#endif
