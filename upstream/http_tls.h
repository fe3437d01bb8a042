/*
 * http_tls.h - what every upstream TLS connection gets: the CA bundle it
 * trusts (CHAT2API_CA_FILE; libcurl's default otherwise) and, with
 * OpenSSL, its record buffers given back while the connection is idle.
 * A parked stream spends nearly all its life idle between two events,
 * and OpenSSL otherwise keeps ~34 kB of buffers per connection
 * (BENCHMARKS.md §20).
 */
#ifndef UPSTREAM_HTTP_TLS_H
#define UPSTREAM_HTTP_TLS_H

#include <curl/curl.h>

/* Once per process, before any request; ca_file NULL or "": the default. */
int	 http_tls_init(const char *ca_file);
void	 http_tls_cleanup(void);
/* On every easy handle before its transfer. */
void	 http_tls_apply(CURL *h);

#endif
