/*
 * Multi-turn sessions (providers.md §10.8): a request whose history
 * extends an answer this server gave continues that answer's upstream
 * chat on the same account and sends only the new turns.
 *
 * The match is by digest: each message of a request is hashed the way a
 * client echoes it back (whitespace ignored, tool calls by name and
 * arguments), the answer as the client received it, and the MAC of the
 * whole conversation so far is the key of the session table
 * (store/sessions.h).  A client may name the session instead (a
 * "session_id" field or an X-Session-Id header); then the key is the name
 * and the number of answers must agree.  Either key also holds the API
 * key or code the client presented: callers never share a session.
 *
 * Only pooled accounts keep sessions: the server holds no client's own
 * credential to delete that client's chat with later.
 */
#ifndef HANDLERS_SESSION_H
#define HANDLERS_SESSION_H

#include <json-c/json.h>

#include "fcgi/req.h"
#include "store/sessions.h"
#include "upstream/provider.h"

#define SESSION_NAME_MAX	128

struct session_digest;

struct session {
	int			 on;		/* this request takes part */
	const char		*name;		/* the client's session_id */
	struct session_digest	*d;		/* per message, then answer */
	size_t			 nmsg;
	size_t			 from;		/* first message after the
						   last assistant one */
	size_t			 answers;	/* assistant messages */
	/* found: the new turns alone, and their body for the tools */
	int			 found;
	struct chat_request	 cr;
	struct json_object	*root;
	/* the record taken, in the arena: NULL unless found (a parked
	 * stream keeps this struct, BENCHMARKS.md §20) */
	struct store_session	*rec;
	const struct provider	*provider;
	/* the tool section this request teaches, and whether the chat
	 * continued has another one (then it goes again) */
	unsigned char		 section[STORE_SESSION_SECTION];
	/* whose: a digest of the key the client presented, so two callers
	 * never meet in one session, however they name it */
	unsigned char		 who[32];
	int			 has_section;
	int			 resend_section;
	/* this attempt's part (provider_call.session) */
	struct provider_session	 ps;
	int			 continuing;	/* this attempt continues rec */
	int			 lost;		/* no memory for a digest: not kept */
	/* the answer as the client received it */
	void			*text_md, *calls_md;
	size_t			 ncalls;
	size_t			 ngone;		/* entries of gone[] */
	struct req		*r;
	/*
	 * Upstream chats to delete once the response is out, in the arena
	 * when the first one comes (a parked stream keeps this struct on
	 * its stack: BENCHMARKS.md §20).
	 */
	struct store_session	*gone;
};

#define SESSION_GONE_MAX	(STORE_SESSION_PRUNE + 4)

/* Zeroes every member. */
void	 session_clear(struct session *);

/*
 * After the body is parsed, before anything edits the messages: the
 * digests, and the new turns kept aside.  0, or -1 out of memory.
 */
int	 session_begin(struct session *, struct req *,
	    struct json_object *root, const struct chat_request *);
/*
 * Once the provider and who pays are known: whether the request keeps a
 * session (pool, a provider with PROVIDER_SESSIONS, no response_format)
 * and, if it continues one, the session taken out of the table.
 * tool_section: the tool prompt injected into the whole history, or NULL;
 * a continued chat that was taught the same one is not taught it again.
 */
void	 session_open(struct session *, const struct route *, int pooled,
	    int checked_format, const char *tool_section);
/*
 * Before an attempt with account_id (NULL: not an account of the pool):
 * pc->session and pc->req for it.  A session of another account is let
 * go: this attempt starts a chat of its own with the whole history.
 */
void	 session_attempt(struct session *, struct provider_call *,
	    const struct chat_request *full, const char *account_id);
/* After the attempt: ok when the answer reached the client whole. */
void	 session_after_attempt(struct session *, const char *account_id,
	    int ok);
/* oa_sink's tap: the answer's text (name NULL) and tool calls. */
void	 session_tap(void *, const char *name, size_t nl, const char *s,
	    size_t n);
/*
 * Deletes the upstream chats of ended sessions with their accounts'
 * credentials; how many went.
 */
size_t	 session_forget(const struct config *, struct store *, struct arena *,
	    const struct store_session *, size_t);
/*
 * The clean-up for after the response (deleting the chats of sessions
 * that ended), or fn NULL when there is none; frees what begin took.
 */
void	 session_end(struct session *, struct provider_after *);

/*
 * Ending sessions on an operator's word (handlers/session_admin.c), each
 * with its upstream chat deleted unless SESSION_DELETE=false; a session a
 * request holds right now is left to it.  An id is the session's key in
 * hex (what session_id_of() prints).
 */
#define SESSION_ID_LEN	(2 * STORE_SESSION_KEY)

enum store_err	 session_prune_all(const struct config *, struct store *,
		    struct arena *, size_t *ended, size_t *deleted);
/* provider NULL: every session; the expired ones first */
enum store_err	 session_end_all(const struct config *, struct store *,
		    struct arena *, const char *provider, size_t *ended,
		    size_t *deleted);
/* STORE_NOTFOUND: no such live session, or a request holds it */
enum store_err	 session_end_id(const struct config *, struct store *,
		    struct arena *, const char *id, size_t *deleted);
/* After a purge upstream: the account's sessions leave the table. */
enum store_err	 session_drop_account(struct store *, const char *provider,
		    const char *account, size_t *dropped);
void		 session_id_of(const struct store_session *,
		    char out[SESSION_ID_LEN + 1]);

#endif
