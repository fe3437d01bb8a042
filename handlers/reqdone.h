/*
 * The end of a request's bookkeeping: what handlers learned on the way
 * (struct req_obs) becomes one store transaction (store_request_done):
 * the request log, the statistics, /metrics and the last attempt's
 * account outcome.  fcgi/handle.c calls it once the answer is out.
 */
#ifndef HANDLERS_REQDONE_H
#define HANDLERS_REQDONE_H

#include "fcgi/req.h"
#include "store/accounts.h"

/* The last attempt's outcome, kept for the final write. */
void	 reqdone_defer_acct(struct req *, const char *provider, const char *id,
	    const struct acct_result *);
/* A failed upstream attempt, for chat2api_upstream_errors_total. */
void	 reqdone_upstream_error(struct req *, const char *provider,
	    const char *kind);
/* Starts capturing the response for LOG_BODIES. */
void	 reqdone_capture(struct req *);
/* route: the route table's path; counted: an API request to log. */
void	 reqdone_finish(struct req *, const char *route, int counted);

#endif
