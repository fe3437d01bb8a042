#ifndef FCGI_HANDLE_H
#define FCGI_HANDLE_H

#include "fcgi/req.h"

/* Serves one request completely; never fails (errors become responses). */
void	 fcgi_handle(struct req *);

#endif
