/*
 * A real redis-server for unit tests: started on a free loopback port
 * with its own temporary directory (append-only, fsync always), killed
 * at exit.  Stop and restart (same directory, same data) for outage
 * tests.  Each URL asked for carries a fresh key prefix, so the tests of
 * one program can share one server without seeing each other's keys.
 */
#ifndef REDIS_FIXTURE_H
#define REDIS_FIXTURE_H

#include <stddef.h>

struct redis_fixture;

/* password may be NULL; NULL if redis-server could not be started. */
struct redis_fixture	*redis_fixture_start(const char *password);
/* TLS only (no plain port), with this certificate and key in PEM. */
struct redis_fixture	*redis_fixture_start_tls(const char *password,
			    const char *cert, const char *key);
/* redis://[:password@]127.0.0.1:PORT/db?prefix=<unique>: into buf. */
const char		*redis_fixture_url(struct redis_fixture *, int db,
			    char *buf, size_t bufsz);
int			 redis_fixture_port(const struct redis_fixture *);
/* The server's directory (its append-only log and snapshots). */
const char		*redis_fixture_dir(const struct redis_fixture *);
/* 0, or -1; stop waits until the server has exited. */
int			 redis_fixture_stop(struct redis_fixture *);
int			 redis_fixture_restart(struct redis_fixture *);
/* Stops the server and removes its directory. */
void			 redis_fixture_free(struct redis_fixture *);

#endif
