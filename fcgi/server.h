/* FastCGI accept loop, self-bound sockets, and the one-shot CGI mode. */
#ifndef FCGI_SERVER_H
#define FCGI_SERVER_H

#include <stddef.h>

#include "fcgi/conf.h"

struct store;

int	 server_listen(const char *spec, char *err, size_t errsz);
int	 server_run_fcgi(const struct config *, struct store *, int listen_fd);
int	 server_run_cgi(const struct config *, struct store *);

#endif
