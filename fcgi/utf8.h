/*
 * UTF-8 as every layer needs it: what a valid sequence is (no overlong
 * forms, no surrogates, nothing past U+10FFFF).  The escaping helpers
 * (html/escape.c) and the stream decoders (upstream/) share it.
 */
#ifndef FCGI_UTF8_H
#define FCGI_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
size_t	 utf8_seq_len(const unsigned char *s, size_t left);
/* How many bytes from s on are valid UTF-8: n when all of them are. */
size_t	 utf8_valid_prefix(const char *s, size_t n);

#endif
