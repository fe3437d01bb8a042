/*
 * The provider seam.  handlers/ parses the OpenAI body into a
 * provider-neutral struct chat_request and hands a provider a struct
 * chat_sink; the provider turns its upstream stream into sink events and
 * knows nothing of OpenAI's output format.
 */
#ifndef UPSTREAM_PROVIDER_H
#define UPSTREAM_PROVIDER_H

#include <stddef.h>

#include "upstream/http.h"

/* Explicit limits on what a client may send (validated in handlers/). */
#define CHAT_MAX_MESSAGES	2048
#define CHAT_MAX_PARTS		64
#define CHAT_MAX_TEXT		(8u << 20)	/* all text of a request */
#define CHAT_MAX_MODEL		128
#define CHAT_MAX_ID		128

enum chat_role {
	CHAT_ROLE_SYSTEM,
	CHAT_ROLE_DEVELOPER,
	CHAT_ROLE_USER,
	CHAT_ROLE_ASSISTANT,
	CHAT_ROLE_TOOL,
};

enum chat_part_type { CHAT_PART_TEXT, CHAT_PART_IMAGE, CHAT_PART_FILE };

struct chat_part {
	enum chat_part_type	 type;
	const char		*text;		/* TEXT */
	size_t			 len;
	const char		*url;		/* IMAGE/FILE: http(s) or data: */
	const char		*detail;	/* IMAGE: low/high/auto or NULL */
};

struct chat_message {
	enum chat_role		 role;
	const char		*name;
	struct chat_part	*parts;
	size_t			 nparts;
	int			 string_content; /* content was a string */
};

/*
 * What a client asked for, provider-neutral.  Strings point into the
 * parsed body, which lives as long as the request.
 */
struct chat_request {
	const char		*model;		/* as requested */
	struct chat_message	*messages;
	size_t			 nmessages;
	size_t			 text_bytes;	/* sum of all text parts */
	int			 stream;
	int			 include_usage;
	long			 max_tokens;	/* -1: none */
	double			 temperature;	/* < 0: unset */
	double			 top_p;		/* < 0: unset */
	const char		*user;
	const char		*reasoning_effort;	/* any value: think */
	int			 web_search;		/* -1: unset */
	int			 deep_research;		/* -1: unset */
	/* ChatGPT continuation extras (chatgpt.md §10.1) */
	const char		*conversation_id;
	const char		*parent_message_id;
	int			 history_disabled;	/* -1: default */
	const char		*account_id;	/* body, or ChatGPT-Account-ID */
};

const char	*chat_role_name(enum chat_role);

enum chat_finish {
	CHAT_FINISH_STOP,
	CHAT_FINISH_LENGTH,
	CHAT_FINISH_CONTENT_FILTER,
	CHAT_FINISH_TOOL_CALLS,
};

struct chat_usage {
	long	prompt_tokens;		/* 0: estimate from the request */
	long	completion_tokens;	/* 0: estimate from the answer */
	long	total_tokens;		/* 0: the sum; else what upstream said */
};

/*
 * Every callback returns 0 to go on, non-zero to stop the upstream
 * transfer (the client went away).  Text is UTF-8 and never split inside
 * a character.  role() comes once before any text; finish() or error()
 * ends the answer.
 */
struct chat_sink {
	void	*ctx;
	int	(*role)(void *ctx, const char *role);
	int	(*text)(void *ctx, const char *s, size_t n);
	int	(*reasoning)(void *ctx, const char *s, size_t n);
	/* continuation handle when upstream history is on; may be NULLs */
	int	(*meta)(void *ctx, const char *conversation_id,
		    const char *message_id);
	int	(*finish)(void *ctx, enum chat_finish,
		    const struct chat_usage *);
	/* status: the HTTP status this maps to (403, 429, 502 ...) */
	int	(*error)(void *ctx, int status, const char *type,
		    const char *code, const char *message);
	/* optional, before error(): the upstream says when to try again */
	int	(*retry_after)(void *ctx, long seconds);
	/*
	 * optional: the end of one upstream read.  A sink may hold the
	 * events of a read and send them together here (one write to the
	 * client per read, not per event).
	 */
	int	(*flush)(void *ctx);
};



struct config;
struct arena;
struct store;
struct acct_field;

/* A model a provider knows by name (case-insensitive). */
struct provider_model {
	const char	*id;		/* what clients ask for */
	const char	*upstream;	/* the provider's own name; NULL: id */
	long		 created;	/* unix time, cosmetic */
	unsigned	 flags;		/* ROUTE_THINK, ROUTE_SEARCH implied */
};

/* In provider_model.flags: a name taken but not listed in /v1/models. */
#define MODEL_ALIAS		0x100

/* One model an upstream lists itself (provider.listed); non-zero stops. */
typedef int	(*provider_model_fn)(void *arg, const char *id, long created);

/* A credential field an account of the provider carries (§10.3). */
struct provider_field {
	const char	*name;		/* "token", "real_user_id" */
	const char	*help;
	int		 required;
	int		 team;		/* kept as the account's team id */
};

/*
 * Where a request goes (upstream/route.c): provider, the model it should
 * use and the switches the name, the body and the headers asked for.
 */
#define ROUTE_THINK		0x01
#define ROUTE_SEARCH		0x02
#define ROUTE_DEEP_RESEARCH	0x04
#define ROUTE_EXPERT		0x08
#define ROUTE_FALLBACK		0x10	/* nobody knows the name: catch-all */

struct route {
	const struct provider		*provider;
	const struct provider_model	*model;		/* a built-in, or NULL */
	const char			*requested;	/* the client's name */
	const char			*upstream_model;	/* for the provider */
	const char			*reported;	/* "model" in answers */
	unsigned			 flags;		/* ROUTE_* */
	const char			*pin_account;	/* from a mapping */
	const char			*mapping;	/* that matched, or NULL */
};

/* The credential one attempt uses. */
struct provider_account {
	const char		*id;		/* store id; NULL: the client's */
	const char		*secret;
	int			 kind;
	const char		*team_id;	/* ChatGPT workspace, or NULL */
	const struct acct_field	*fields;
	size_t			 nfields;
};

/* One attempt at one answer, with one credential. */
struct provider_call {
	const struct config		*cfg;
	struct store			*store;		/* may be NULL (CGI) */
	struct arena			*arena;		/* the request's */
	const struct chat_request	*req;
	const struct route		*route;
	const struct provider_account	*account;	/* NULL: anonymous */
	const struct chat_sink		*sink;
	/* polled while waiting upstream: keep-alives, client gone */
	int				(*idle)(void *);
	void				*idle_ctx;
	/*
	 * Work the provider leaves for after the answer has been written
	 * (deleting the upstream chat): the caller runs it then.
	 */
	struct provider_after		*after;
	/* NULL: one answer in a chat of its own, deleted after it */
	struct provider_session		*session;
};

struct provider_after {
	void	(*fn)(void *ctx);
	void	*ctx;
};

/*
 * A multi-turn session (handlers/session.c, providers.md §10.8), for a
 * provider whose flags carry PROVIDER_SESSIONS.  In: the upstream chat to
 * continue, or chat_id NULL to start one; either way the request carries
 * only what the chat has not seen.  Out: once the answer is complete,
 * the provider keeps the chat's id (and the parent's, the message the
 * next turn answers after, where the upstream has one) with
 * call_session_keep() and does not delete the chat: the session owns it
 * from then on.  On any failure it keeps nothing and cleans up a chat it
 * started, as without a session; a continued chat it never deletes.
 */
#define PROVIDER_SESSION_ID_MAX	200

struct provider_session_ids {
	char		 chat[PROVIDER_SESSION_ID_MAX + 1];
	char		 parent[PROVIDER_SESSION_ID_MAX + 1];
};

struct provider_session {
	const char	*chat_id;
	const char	*parent_id;
	/*
	 * Out, by call_session_keep() (upstream/call.h): NULL until the
	 * answer is complete, so a stream parked meanwhile does not hold
	 * two empty ids (BENCHMARKS.md §20).
	 */
	struct provider_session_ids	*out;
};

/* What validate() learned about a credential. */
enum provider_verdict {
	PROVIDER_VALID,
	PROVIDER_INVALID,	/* refused: error */
	PROVIDER_EXPIRED,	/* the provider says the login expired */
	PROVIDER_UNKNOWN,	/* could not tell (network, 5xx) */
};

struct provider_check {
	enum provider_verdict	 verdict;
	char			 email[128];
	long			 latency_ms;
	char			 message[256];
};

/* What validate() and refresh() need outside a request. */
struct provider_ctx {
	const struct config	*cfg;
	struct store		*store;
	struct arena		*arena;
};

/*
 * What purge() did, or why it did not.  A failure keeps the upstream's
 * own words (never a secret) for the operator.
 */
struct provider_purge {
	long		 deleted;	/* chats; -1: the upstream does not say */
	enum up_err	 err;		/* UP_OK, or how it failed */
	long		 status;	/* the upstream's HTTP status; 0: none */
	int		 login;		/* the account's login was refused */
	char		 message[256];
};

#define PROVIDER_ANON		0x01	/* answers without a credential */
#define PROVIDER_CATCHALL	0x02	/* takes names nobody else knows */
#define PROVIDER_SESSIONS	0x04	/* continues chats: provider_session */

/*
 * A provider: one folder under upstream/ and one line in the table of
 * upstream/providers.c.  chat() reports every outcome through the sink:
 * finish() on success, error() otherwise (before or after the answer
 * started).  A provider never sees OpenAI JSON and never writes to the
 * client.
 */
struct provider {
	const char			*id;		/* "deepseek" */
	const char			*display;	/* "DeepSeek" */
	unsigned			 flags;		/* PROVIDER_* */
	const struct provider_model	*models;	/* ends with id NULL */
	/* a body without "model" (catch-all only); NULL: models[0] */
	const char			*default_model;
	const struct provider_field	*fields;	/* [0]: the secret */
	/* the request header that names a team id (CGI form), or NULL */
	const char			*team_header;
	size_t				 nfields;
	const char *const		*kinds;		/* credential kinds */
	size_t				 nkinds;
	/* the kind of a credential (index into kinds); NULL: 0 */
	int		(*classify)(const char *secret);
	/*
	 * A credential as users paste it into the form the provider uses
	 * (DeepSeek's localStorage JSON → its token); malloc'd, or NULL
	 * when it is unusable.  NULL hook: taken as is.
	 */
	char		*(*normalize)(const char *pasted);
	/*
	 * A Bearer that is neither a code nor a key: the client's own
	 * credential for this provider?  1 with *out filled (strings in the
	 * arena), 0 when it does not look like one (a placeholder such as
	 * "sk-xxx" that SDKs insist on).  NULL hook: never.
	 */
	int		(*raw_credential)(struct arena *, const char *bearer,
			    struct provider_account *out);
	/* Extra switches from a model name (§1.2); may be NULL. */
	unsigned	(*name_flags)(const char *name);
	/* The "model" an answer reports; NULL hook: the requested name. */
	const char	*(*reported)(const char *requested);
	void		(*chat)(const struct provider_call *);
	void		(*validate)(const struct provider_ctx *,
			    const struct provider_account *,
			    struct provider_check *);
	/*
	 * 0 refreshed, 1 nothing to refresh for this credential, -1 failed
	 * (err says why).  NULL when the provider never has anything to.
	 */
	int		(*refresh)(const struct provider_ctx *,
			    const struct provider_account *, int force,
			    char *err, size_t errsz);
	/*
	 * Optional: the models the upstream lists itself beyond models[]
	 * (names routed to this provider as they are), cached by the
	 * provider.  fn gets each.  account NULL: the cache only.  0 listed
	 * (perhaps none), 1 nothing cached and no account given, -1 failed.
	 */
	int		(*listed)(const struct provider_ctx *,
			    const struct provider_account *,
			    provider_model_fn fn, void *arg);
	/*
	 * With PROVIDER_SESSIONS: deletes the upstream chat of a session
	 * that ended.  0 deleted (or gone already), -1 not.
	 */
	int		(*forget)(const struct provider_ctx *,
			    const struct provider_account *,
			    const char *chat_id);
	/*
	 * Optional, where the upstream has a "delete every chat" of its
	 * own (providers.md): every chat of the account goes.  0 done,
	 * -1 not (out says why).  NULL: the console offers no such button.
	 */
	int		(*purge)(const struct provider_ctx *,
			    const struct provider_account *,
			    struct provider_purge *out);
};

extern const struct provider	*const providers[];

const struct provider	*provider_by_id(const char *id);
/* The provider whose flags include PROVIDER_CATCHALL (the first). */
const struct provider	*provider_default(void);
const char		*provider_kind_name(const struct provider *, int kind);
#endif
