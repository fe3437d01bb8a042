/* A hexadecimal digit's value, for every layer that reads hex. */
#ifndef FCGI_HEX_H
#define FCGI_HEX_H

/* 0..15 for 0-9, a-f and A-F; -1 for anything else. */
int	 hex_value(int c);

#endif
