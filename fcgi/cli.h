/* Admin subcommands working on the same data dir as the service. */
#ifndef FCGI_CLI_H
#define FCGI_CLI_H

#include "fcgi/conf.h"

/* Returns 1 when argv names no subcommand (serve instead). */
int	 cli_wants(int argc, char **argv);
int	 cli_run(const struct config *, int argc, char **argv);

#endif
