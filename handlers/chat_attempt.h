/*
 * The attempts of one chat request: take an account by the provider's
 * strategy, let the provider answer, learn from a failure (the account
 * is marked, cooled down or given its use back) and move to the next
 * account until the answer starts, RETRY_TIMES runs out, or the failure
 * is the client's own.
 */
#ifndef HANDLERS_CHAT_ATTEMPT_H
#define HANDLERS_CHAT_ATTEMPT_H

#include "handlers/openai_sink.h"
#include "store/accounts.h"
#include "upstream/provider.h"

enum chat_pay {
	PAY_ANON,	/* nobody: the provider answers anonymously */
	PAY_OWN,	/* the client's own credential */
	PAY_POOL,	/* an account of the provider's pool */
};

struct tools_req;
struct rf_req;
struct session;

struct chat_plan {
	enum chat_pay			 mode;
	const struct provider_account	*own;		/* PAY_OWN */
	enum acct_strategy		 strategy;	/* PAY_POOL */
	int				 protected;	/* codes or keys */
	const struct tools_req		*tools;		/* calls to parse */
	const struct rf_req		*rf;		/* answers to check */
	struct session			*sess;		/* multi-turn, or NULL */
	const struct oa_writer		*writer;	/* NULL: OpenAI's */
	void				*writer_ctx;
};

enum app_err	 chat_attempts(struct req *, const struct chat_request *,
		    const struct route *, const struct chat_plan *,
		    enum oa_format);

#endif
