/*
 * Multi-turn sessions (see session.h).
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include <openssl/evp.h>

#include "fcgi/log.h"
#include "handlers/session.h"
#include "store/accounts.h"
#include "handlers/accounts_ops.h"
#include "handlers/apiauth.h"
#include "upstream/call.h"

#define DIGEST_LEN	32

struct session_digest {
	unsigned char	 v[DIGEST_LEN];
};

/* The role as a client may echo it: system and developer are one. */
static char
role_class(const char *role)
{
	if (strcmp(role, "assistant") == 0)
		return 'a';
	if (strcmp(role, "tool") == 0 || strcmp(role, "function") == 0)
		return 't';
	if (strcmp(role, "user") == 0)
		return 'u';
	return 's';
}

/*
 * Bytes without their whitespace: a client that trims an answer or
 * re-indents tool arguments still continues its chat.
 */
static void
feed(EVP_MD_CTX *md, const char *s, size_t n)
{
	unsigned char chunk[512];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n')
			continue;
		chunk[k++] = (unsigned char)s[i];
		if (k == sizeof(chunk)) {
			EVP_DigestUpdate(md, chunk, k);
			k = 0;
		}
	}
	if (k > 0)
		EVP_DigestUpdate(md, chunk, k);
}

static void
feed_json_str(EVP_MD_CTX *md, struct json_object *v)
{
	if (v != NULL && json_object_is_type(v, json_type_string))
		feed(md, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
}

static void
feed_content(EVP_MD_CTX *md, struct json_object *c)
{
	struct json_object *p, *t, *u;
	size_t i, n;

	if (c == NULL)
		return;
	if (json_object_is_type(c, json_type_string)) {
		feed_json_str(md, c);
		return;
	}
	if (!json_object_is_type(c, json_type_array))
		return;
	n = json_object_array_length(c);
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(c, i);
		if (json_object_object_get_ex(p, "text", &t))
			feed_json_str(md, t);
		else if (json_object_object_get_ex(p, "image_url", &t)) {
			EVP_DigestUpdate(md, "\1", 1);
			if (json_object_object_get_ex(t, "url", &u))
				feed_json_str(md, u);
			else
				feed_json_str(md, t);
		}
	}
}

static void
feed_call(EVP_MD_CTX *md, const char *name, size_t nl, const char *args,
    size_t al)
{
	feed(md, name, nl);
	EVP_DigestUpdate(md, "\0", 1);
	feed(md, args, al);
	EVP_DigestUpdate(md, "\0", 1);
}

/* A message as the digest sees it; 0, or -1 when OpenSSL fails. */
static int
msg_digest(EVP_MD_CTX *md, struct json_object *m, unsigned char *out)
{
	struct json_object *role, *calls, *c, *f, *name, *args;
	const char *rs = "user";
	char rc;
	size_t i, n;

	if (json_object_object_get_ex(m, "role", &role) &&
	    json_object_is_type(role, json_type_string))
		rs = json_object_get_string(role);
	rc = role_class(rs);
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		return -1;
	EVP_DigestUpdate(md, &rc, 1);
	if (rc == 'a' && json_object_object_get_ex(m, "tool_calls", &calls) &&
	    json_object_is_type(calls, json_type_array) &&
	    (n = json_object_array_length(calls)) > 0) {
		for (i = 0; i < n; i++) {
			c = json_object_array_get_idx(calls, i);
			if (!json_object_object_get_ex(c, "function", &f))
				continue;
			name = args = NULL;
			json_object_object_get_ex(f, "name", &name);
			json_object_object_get_ex(f, "arguments", &args);
			feed_call(md, name ? json_object_get_string(name) : "",
			    name ? strlen(json_object_get_string(name)) : 0,
			    args ? json_object_get_string(args) : "",
			    args ? strlen(json_object_get_string(args)) : 0);
		}
	} else if (json_object_object_get_ex(m, "content", &c))
		feed_content(md, c);
	return EVP_DigestFinal_ex(md, out, NULL) == 1 ? 0 : -1;
}

/* The client's name for the session: body field, else header. */
static const char *
name_of(struct req *r, struct json_object *root)
{
	struct json_object *v;
	const char *s = NULL;
	size_t i;

	if (json_object_object_get_ex(root, "session_id", &v) &&
	    json_object_is_type(v, json_type_string))
		s = json_object_get_string(v);
	else
		s = req_param(r, "HTTP_X_SESSION_ID");
	if (s == NULL || *s == '\0' || strlen(s) > SESSION_NAME_MAX)
		return NULL;
	for (i = 0; s[i]; i++)
		if (!isgraph((unsigned char)s[i]))
			return NULL;
	return s;
}

/* The new turns: a shallow copy of the messages from `from` on. */
static int
keep_new_turns(struct session *ss, struct arena *a, struct json_object *msgs,
    const struct chat_request *cr)
{
	struct json_object *arr;
	size_t i, j, n = cr->nmessages - ss->from;

	ss->cr = *cr;
	if ((ss->cr.messages = arena_calloc(a, n, sizeof(*cr->messages))) ==
	    NULL)
		return -1;
	memcpy(ss->cr.messages, cr->messages + ss->from, n *
	    sizeof(*cr->messages));
	ss->cr.nmessages = n;
	ss->cr.text_bytes = 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < ss->cr.messages[i].nparts; j++)
			if (ss->cr.messages[i].parts[j].type == CHAT_PART_TEXT)
				ss->cr.text_bytes +=
				    ss->cr.messages[i].parts[j].len;
	if ((ss->root = json_object_new_object()) == NULL ||
	    (arr = json_object_new_array_ext((int)n)) == NULL)
		return -1;
	json_object_object_add(ss->root, "messages", arr);
	for (i = ss->from; i < cr->nmessages; i++)
		json_object_array_add(arr, json_object_get(
		    json_object_array_get_idx(msgs, i)));
	return 0;
}

void
session_clear(struct session *ss)
{
	memset(ss, 0, sizeof(*ss));
}

int
session_begin(struct session *ss, struct req *r, struct json_object *root,
    const struct chat_request *cr)
{
	struct json_object *msgs, *m, *role;
	EVP_MD_CTX *md = NULL;
	const char *who;
	size_t i;
	int rc = -1;

	session_clear(ss);
	ss->r = r;
	/* a ChatGPT client that names its own conversation drives it */
	if (!r->cfg->sessions || r->store == NULL || cr->nmessages == 0 ||
	    cr->conversation_id != NULL ||
	    !json_object_object_get_ex(root, "messages", &msgs) ||
	    !json_object_is_type(msgs, json_type_array) ||
	    json_object_array_length(msgs) != cr->nmessages)
		return 0;
	ss->nmsg = cr->nmessages;
	/* one more for the answer */
	if ((ss->d = arena_calloc(r->arena, ss->nmsg + 1,
	    sizeof(*ss->d))) == NULL || (md = EVP_MD_CTX_new()) == NULL)
		goto fail;
	for (i = 0; i < ss->nmsg; i++) {
		m = json_object_array_get_idx(msgs, i);
		if (msg_digest(md, m, ss->d[i].v) < 0)
			goto fail;
		if (json_object_object_get_ex(m, "role", &role) &&
		    strcmp(json_object_get_string(role), "assistant") == 0) {
			ss->from = i + 1;
			ss->answers++;
		}
	}
	ss->name = name_of(r, root);
	who = api_presented(r);
	if (who == NULL)
		who = "";
	if (EVP_Digest(who, strlen(who), ss->who, NULL, EVP_sha256(), NULL) !=
	    1)
		goto fail;
	if (ss->answers > 0 && ss->from < ss->nmsg &&
	    keep_new_turns(ss, r->arena, msgs, cr) < 0)
		goto fail;
	ss->on = 1;
	rc = 0;
fail:
	EVP_MD_CTX_free(md);
	if (rc < 0) {
		json_object_put(ss->root);
		ss->root = NULL;
	}
	return rc;
}

/*
 * The table's key: the caller with the name, or with the conversation's
 * first n messages.  0, or -1 out of memory.
 */
static int
key_of(struct session *ss, size_t n, unsigned char key[STORE_SESSION_KEY])
{
	size_t len = sizeof(ss->who) + (ss->name != NULL ? strlen(ss->name) :
	    n * sizeof(*ss->d));
	unsigned char *in;

	if ((in = arena_alloc(ss->r->arena, len)) == NULL)
		return -1;
	memcpy(in, ss->who, sizeof(ss->who));
	if (ss->name != NULL)
		memcpy(in + sizeof(ss->who), ss->name, strlen(ss->name));
	else
		memcpy(in + sizeof(ss->who), ss->d, n * sizeof(*ss->d));
	store_mac(ss->r->store, ss->name != NULL ? "session name" :
	    "session conversation", in, len, key);
	return 0;
}

static void
let_go(struct session *ss, const struct store_session *rec)
{
	if (ss->gone == NULL && ss->r != NULL)
		ss->gone = arena_calloc(ss->r->arena, SESSION_GONE_MAX,
		    sizeof(*ss->gone));
	if (ss->gone != NULL && ss->ngone < SESSION_GONE_MAX)
		ss->gone[ss->ngone++] = *rec;
	else
		log_warn("session: chat of %s not deleted (too many)",
		    rec->provider);
}

/* A digest of an answer as the next turn's history will carry it. */
static EVP_MD_CTX *
answer_md(void)
{
	EVP_MD_CTX *md;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, "a", 1) != 1) {
		EVP_MD_CTX_free(md);
		return NULL;
	}
	return md;
}

/* A record this request took and ends now: its chat goes with it. */
static void
let_go_record(struct session *ss, const struct store_session *rec)
{
	enum store_err e;

	let_go(ss, rec);
	if ((e = store_session_drop(ss->r->store, rec->key)) != STORE_OK)
		log_warn("session: not dropped: %s", store_strerror(e));
}

static void
let_go_taken(struct session *ss)
{
	let_go_record(ss, ss->rec);
}

void
session_open(struct session *ss, const struct route *rt, int pooled,
    int checked_format, const char *tool_section)
{
	unsigned char key[STORE_SESSION_KEY], md[DIGEST_LEN];
	struct store_session rec;
	enum store_err e;

	if (!ss->on)
		return;
	ss->provider = rt->provider;
	if (!pooled || checked_format ||
	    !(rt->provider->flags & PROVIDER_SESSIONS)) {
		ss->on = 0;
		return;
	}
	/* the calls' digest waits for a call: most answers are text */
	if ((ss->text_md = answer_md()) == NULL) {
		ss->on = 0;
		return;
	}
	if (tool_section != NULL && EVP_Digest(tool_section,
	    strlen(tool_section), md, NULL, EVP_sha256(), NULL) == 1) {
		memcpy(ss->section, md, sizeof(ss->section));
		ss->has_section = 1;
	}
	if (ss->root == NULL)
		return;		/* nothing to continue: a first turn */
	if (key_of(ss, ss->from, key) < 0)
		return;
	e = store_session_take(ss->r->store, key, &rec);
	if (e == STORE_NOTFOUND)
		return;
	if (e != STORE_OK) {
		log_warn("session: lookup failed: %s", store_strerror(e));
		return;
	}
	if ((ss->rec = arena_alloc(ss->r->arena, sizeof(rec))) == NULL) {
		/* no memory to continue it: it ends as a moved-on one */
		let_go_record(ss, &rec);
		return;
	}
	*ss->rec = rec;
	if (strcmp(ss->rec->provider, rt->provider->id) != 0 ||
	    (ss->name != NULL && ss->rec->turns != ss->answers)) {
		/* another model's chat, or a named one that moved on */
		let_go_taken(ss);
		return;
	}
	ss->found = 1;
	ss->resend_section = memcmp(ss->rec->section, ss->section,
	    sizeof(ss->section)) != 0;
}

void
session_attempt(struct session *ss, struct provider_call *pc,
    const struct chat_request *full, const char *account_id)
{
	pc->req = full;
	pc->session = NULL;
	ss->continuing = 0;
	if (!ss->on || account_id == NULL)
		return;
	call_session_clear(&ss->ps);
	memset(&ss->ps, 0, sizeof(ss->ps));
	pc->session = &ss->ps;
	if (!ss->found)
		return;
	if (strcmp(account_id, ss->rec->account) != 0) {
		/* the session's account is not usable now: start afresh */
		log_info("session: account %.8s unavailable, the whole "
		    "history goes to another", ss->rec->account);
		let_go_taken(ss);
		ss->found = 0;
		return;
	}
	ss->ps.chat_id = ss->rec->chat_id;
	ss->ps.parent_id = ss->rec->parent_id[0] ? ss->rec->parent_id : NULL;
	pc->req = &ss->cr;
	ss->continuing = 1;
}

void
session_tap(void *u, const char *name, size_t nl, const char *s, size_t n)
{
	struct session *ss = u;

	if (!ss->on)
		return;
	if (name == NULL)
		feed(ss->text_md, s, n);
	else if (ss->calls_md == NULL &&
	    (ss->calls_md = answer_md()) == NULL)
		ss->lost = 1;	/* no memory: this answer is not kept */
	else {
		feed_call(ss->calls_md, name, nl, s, n);
		ss->ncalls++;
	}
}

/* The answer's digest and the record that the next turn will find. */
static int
record(struct session *ss, const char *account_id)
{
	struct store_session rec, gone[STORE_SESSION_PRUNE + 2];
	EVP_MD_CTX *md = ss->ncalls > 0 ? ss->calls_md : ss->text_md;
	size_t i, ngone;
	enum store_err e;

	if (EVP_DigestFinal_ex(md, ss->d[ss->nmsg].v, NULL) != 1)
		return -1;
	memset(&rec, 0, sizeof(rec));
	if (key_of(ss, ss->nmsg + 1, rec.key) < 0)
		return -1;
	snprintf(rec.provider, sizeof(rec.provider), "%s", ss->provider->id);
	snprintf(rec.account, sizeof(rec.account), "%s", account_id);
	snprintf(rec.chat_id, sizeof(rec.chat_id), "%s", ss->ps.out->chat);
	snprintf(rec.parent_id, sizeof(rec.parent_id), "%s",
	    ss->ps.out->parent);
	rec.created = ss->continuing ? ss->rec->created : 0;
	rec.turns = (uint32_t)ss->answers + 1;
	rec.named = ss->name != NULL;
	/* what the chat knows now: this section, or the one it had */
	memcpy(rec.section, ss->has_section || !ss->continuing ? ss->section :
	    ss->rec->section, sizeof(rec.section));
	e = store_session_put(ss->r->store, &rec, ss->r->cfg->session_ttl,
	    ss->continuing ? ss->rec->key : NULL, gone,
	    sizeof(gone) / sizeof(gone[0]), &ngone);
	if (e != STORE_OK) {
		log_warn("session: not kept: %s", store_strerror(e));
		return -1;
	}
	for (i = 0; i < ngone; i++)
		let_go(ss, &gone[i]);
	return 0;
}

void
session_after_attempt(struct session *ss, const char *account_id, int ok)
{
	struct store_session kept;

	if (!ss->on || account_id == NULL)
		return;
	/* an answer whose digest is incomplete can never be found again */
	ok = ok && !ss->lost;
	if (ss->continuing && !ok) {
		/* the chat may hold half an answer: it ends with this */
		let_go_taken(ss);
		ss->found = 0;
	}
	ss->continuing = ss->continuing && ok;
	if (ss->ps.out == NULL || ss->ps.out->chat[0] == '\0')
		return;
	if (ok && record(ss, account_id) == 0)
		return;
	/* kept by the provider but not by us: it goes */
	memset(&kept, 0, sizeof(kept));
	snprintf(kept.provider, sizeof(kept.provider), "%s",
	    ss->provider->id);
	snprintf(kept.account, sizeof(kept.account), "%s", account_id);
	snprintf(kept.chat_id, sizeof(kept.chat_id), "%s", ss->ps.out->chat);
	let_go(ss, &kept);
}

/* The chats of ended sessions, deleted after the response. */
struct forget_job {
	const struct config	*cfg;
	struct store		*store;
	struct arena		*arena;
	struct store_session	*gone;
	size_t			 n;
};

struct find_acct {
	const char		*id;
	const struct provider	*pv;
	const struct provider_ctx *x;
	const char		*chat_id;
	int			 done, ok;
};

static int
forget_with(void *u, const struct acct_info *ai, const char *secret,
    const struct acct_field *f, size_t nf)
{
	struct find_acct *fa = u;
	struct provider_account pa;

	if (strcmp(ai->id, fa->id) != 0)
		return 0;
	accounts_provider_account(ai, secret, f, nf, &pa);
	fa->ok = fa->pv->forget(fa->x, &pa, fa->chat_id) == 0;
	if (!fa->ok)
		log_info("session: %s chat of account %s not deleted",
		    fa->pv->id, ai->fingerprint);
	fa->done = 1;
	return 1;
}

size_t
session_forget(const struct config *cfg, struct store *st, struct arena *a,
    const struct store_session *gone, size_t n)
{
	struct provider_ctx x = { cfg, st, a };
	struct find_acct fa;
	size_t i, deleted = 0;

	for (i = 0; i < n; i++) {
		memset(&fa, 0, sizeof(fa));
		fa.pv = provider_by_id(gone[i].provider);
		if (fa.pv == NULL || fa.pv->forget == NULL ||
		    gone[i].chat_id[0] == '\0')
			continue;
		fa.id = gone[i].account;
		fa.x = &x;
		fa.chat_id = gone[i].chat_id;
		if (acct_export(st, fa.pv->id, forget_with, &fa) !=
		    STORE_OK || !fa.done)
			log_info("session: the account of an ended %s session "
			    "is gone; its chat stays", fa.pv->id);
		deleted += fa.ok;
	}
	return deleted;
}

static void
forget_all(void *u)
{
	struct forget_job *j = u;

	(void)session_forget(j->cfg, j->store, j->arena, j->gone, j->n);
}

void
session_end(struct session *ss, struct provider_after *after)
{
	struct forget_job *j;
	struct req *r = ss->r;

	after->fn = NULL;
	after->ctx = NULL;
	if (ss->text_md != NULL)
		EVP_MD_CTX_free(ss->text_md);
	if (ss->calls_md != NULL)
		EVP_MD_CTX_free(ss->calls_md);
	ss->text_md = ss->calls_md = NULL;
	call_session_clear(&ss->ps);
	json_object_put(ss->root);
	ss->root = NULL;
	ss->on = 0;
	if (r == NULL || ss->ngone == 0 || !r->cfg->session_delete)
		return;
	if ((j = arena_calloc(r->arena, 1, sizeof(*j))) == NULL ||
	    (j->gone = arena_alloc(r->arena, ss->ngone *
	    sizeof(*j->gone))) == NULL)
		return;
	memcpy(j->gone, ss->gone, ss->ngone * sizeof(*j->gone));
	j->n = ss->ngone;
	ss->ngone = 0;
	j->cfg = r->cfg;
	j->store = r->store;
	j->arena = r->arena;
	after->fn = forget_all;
	after->ctx = j;
}
