/*
 * Multi-turn sessions (providers.md §10.8): which upstream chat, on which
 * account, a conversation continues in.  The key is a MAC of the
 * conversation so far (handlers/session.c computes it), so the table never
 * holds what was said.  A record is taken (claimed, in one transaction)
 * when a request continues it, and put under the next key once the answer
 * is out, which ends the claim: two requests never continue one upstream
 * chat at a time, and a fork from an earlier turn finds nothing and starts
 * its own chat.  A claim whose worker died expires like any record, so no
 * upstream chat is ever forgotten.  Expired records leave by an index on
 * their expiry, a few per write, and are handed back so their upstream
 * chats can be deleted.
 */
#ifndef STORE_SESSIONS_H
#define STORE_SESSIONS_H

#include <stdint.h>

#include "store/store.h"

#define STORE_SESSION_KEY	32
#define STORE_SESSION_ID_MAX	200	/* upstream chat and message ids */
#define STORE_SESSION_ACCT_MAX	64
#define STORE_SESSION_PRUNE	8	/* expired records collected per put */
#define STORE_SESSION_SECTION	16
#define STORE_SESSION_CLAIM_S	900	/* a claim outlives any answer */

struct store_session {
	unsigned char	 key[STORE_SESSION_KEY];
	char		 provider[16];
	char		 account[STORE_SESSION_ACCT_MAX + 1];
	char		 chat_id[STORE_SESSION_ID_MAX + 1];
	char		 parent_id[STORE_SESSION_ID_MAX + 1];
	int64_t		 created;	/* the session's first turn */
	int64_t		 expires;
	uint32_t	 turns;		/* answers in this upstream chat */
	uint32_t	 named;		/* the key is a client's session_id */
	uint32_t	 claimed;	/* a request is continuing it */
	/* what the chat was taught about tools (a digest; zeros: nothing) */
	unsigned char	 section[STORE_SESSION_SECTION];
};

/*
 * The live record under key, claimed in the same transaction; NOTFOUND
 * when there is none, or it expired, or another request holds it.
 */
enum store_err	 store_session_take(struct store *,
		    const unsigned char key[STORE_SESSION_KEY],
		    struct store_session *);
/* A taken record whose chat the caller deletes itself: it goes. */
enum store_err	 store_session_drop(struct store *,
		    const unsigned char key[STORE_SESSION_KEY]);
/*
 * Puts rec under rec->key, to expire ttl_s seconds from now (created 0:
 * now), replacing one there, whose upstream chat is then handed back in
 * gone[] unless it is rec's own; ends the claim on taken (the record
 * this one continues, or NULL); and takes up to ngone_max expired
 * records out, handed back in gone[] too.
 */
enum store_err	 store_session_put(struct store *,
		    const struct store_session *rec, long ttl_s,
		    const unsigned char *taken,
		    struct store_session *gone, size_t ngone_max,
		    size_t *ngone);
/* Every live record to fn (which answers non-zero to stop). */
enum store_err	 store_session_each(struct store *,
		    int (*fn)(void *, const struct store_session *), void *);
/* Records whose expiry has passed, taken out (as put does, alone). */
enum store_err	 store_session_expired(struct store *,
		    struct store_session *gone, size_t ngone_max,
		    size_t *ngone);
#endif
