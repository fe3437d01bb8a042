/*
 * Shared by the admin authentication tests (test_admin_auth.c: codes,
 * sessions, CSRF, headers; test_admin_auth_e2e.c: the /tokens routes
 * through fcgi_handle()): two stores under two keys, a configuration
 * with two codes, and an in-memory transport for requests.
 */
#ifndef ADMIN_FIXTURE_H
#define ADMIN_FIXTURE_H

#include <stddef.h>
#include <time.h>

#include "fcgi/arena.h"
#include "fcgi/conf.h"
#include "fcgi/req.h"
#include "store/store.h"

#define KEY1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY2 "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define NOW  ((time_t)1800000000)

extern char		 dir[256], dir2[256];
extern struct store	*st, *st2;
extern struct config	 cfg;

void	admin_setup(void);
void	admin_teardown(void);

struct fake {
	const char	**params;	/* name, value, ..., NULL */
	const char	 *body;
	size_t		  body_len, body_off;
	char		  out[262144];
	size_t		  out_len;
};

extern const struct req_io fake_io;
const char	*f_param(struct req *, const char *name);
/* A request on the fake transport, under cfg and st. */
struct req	*fake_req(struct fake *, struct arena *, struct req *);

#endif
