/*
 * The edge layer's error enum.  fcgi/ and handlers/ return it; store/ and
 * upstream/ have their own and are mapped into this one at the boundary.
 */
#ifndef FCGI_ERR_H
#define FCGI_ERR_H

enum app_err {
	APP_OK = 0,
	APP_ENOMEM,	/* allocation failed: answer 503, never abort */
	APP_HUP,	/* the client (or front server) went away */
	APP_BADREQ,	/* malformed request: 400 */
	APP_TOOBIG,	/* body over CHAT2API_MAX_BODY: 413 */
	APP_NOTFOUND,	/* 404 */
	APP_UPSTREAM,	/* an upstream failed: 502 */
	APP_STORE,	/* LMDB failed: 500 */
	APP_SYSTEM,	/* a system call failed: 500 */
	APP__MAX
};

const char	*app_strerror(enum app_err);

#endif
