/*
 * The end of a counted request: one write transaction for everything it
 * leaves behind (see reqlog.h).  A failure here loses the request's
 * numbers, never its answer: the response is complete by now.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "store/reqlog.h"
#include "store/store_priv.h"

/* The record's largest size: the header, nine lengths, the strings. */
#define REC_CAP(body)	(12 + 9 * 2 + 7 * REQLOG_STR_MAX + 2 * (body))

struct done_ctx {
	struct store_done	*d;
	unsigned char		*buf;
	size_t			 cap;
};

static int
done_txn(struct store *s, struct kv_txn *txn, void *arg)
{
	struct done_ctx *c = arg;
	struct store_done *d = c->d;
	int rc;

	if (d->count && ((rc = store_count_txn(s, txn, d->log.model,
	    d->log.status < 400)) != 0 ||
	    (rc = stats_bump_txn(s, txn, &d->log, store_today(s))) != 0 ||
	    (rc = metrics_bump_txn(s, txn, &d->log, d->route, d->errs,
	    d->nerrs, d->pow_ms)) != 0 ||
	    (rc = reqlog_put_txn(s, txn, &d->log, &d->conf, c->buf,
	    c->cap)) != 0))
		return rc;
	/* An account removed meanwhile has nothing left to record. */
	if (d->acct_res != NULL && (rc = acct_record_txn(s, txn,
	    d->acct_provider, d->acct_id, d->acct_res)) != 0 &&
	    rc != MDB_NOTFOUND && rc != EINVAL)
		return rc;
	if (d->api_key != NULL && (rc = apikey_use_txn(s, txn, d->api_key)))
		return rc;
	return 0;
}

enum store_err
store_request_done(struct store *s, struct store_done *d)
{
	struct done_ctx c;
	enum store_err e;
	size_t body = d->log.req_len > d->log.resp_len ? d->log.req_len :
	    d->log.resp_len;

	if (body > REQLOG_BODY_MAX)
		body = REQLOG_BODY_MAX;
	c.d = d;
	c.cap = REC_CAP(body);
	if ((c.buf = malloc(c.cap)) == NULL)
		return STORE_ENOMEM;
	e = store_write(s, done_txn, &c);
	free(c.buf);
	return e;
}
