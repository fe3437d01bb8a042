/*
 * The Redis backend's connections: one per thread (a pthread key whose
 * destructor frees it), connect timeout 1 s, command timeout 2 s, AUTH
 * and SELECT on connect.  An I/O error frees the thread's connection and
 * marks the whole backend down for a shared backoff (100 ms doubling to
 * 2 s): until it passes every call answers KV_DOWN without touching the
 * network, so requests fail fast instead of each waiting on a timeout.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "fcgi/log.h"
#include "store/kv.h"
#include "store/kv_redis_priv.h"

#define CONNECT_TIMEOUT_MS	1000
#define COMMAND_TIMEOUT_MS	2000
#define BACKOFF_FIRST_MS	100
#define BACKOFF_MAX_MS		2000

struct kvr_conn {
	redisContext	*c;		/* redis:// */
	struct kvr_tls	*t;		/* rediss:// */
	struct kvr	*owner;
	struct kvr_conn	*next, *prev;
	int		 worked;	/* a command succeeded on it */
	unsigned	 outages;	/* the owner's count when made */
};

/*
 * The lock's release wakes one writer waiting for it (BLPOP on
 * "<lock>:wake", see lock_take): one token at most, so a release nobody
 * waited for wakes at most the next waiter once, for nothing.
 */
#define WAKE_LUA \
"redis.call('RPUSH', KEYS[1] .. ':wake', 1)\n" \
"redis.call('LTRIM', KEYS[1] .. ':wake', 0, 0)\n" \
"redis.call('PEXPIRE', KEYS[1] .. ':wake', 10000)\n"

/*
 * Commit: only while the lock is still ours, drops (D name), puts
 * (P name key value) and deletes (X name key) in that order, then the
 * lock goes.  One script, so it lands whole or not at all.
 */
static const char commit_lua[] =
"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
"local p, i, n = ARGV[2], 3, #ARGV\n"
"while i <= n do\n"
"  local op, t = ARGV[i], ARGV[i + 1]\n"
"  if op == 'D' then\n"
"    redis.call('DEL', p .. 'h:' .. t, p .. 'z:' .. t); i = i + 2\n"
"  elseif op == 'P' then\n"
"    redis.call('HSET', p .. 'h:' .. t, ARGV[i + 2], ARGV[i + 3])\n"
"    redis.call('ZADD', p .. 'z:' .. t, 0, ARGV[i + 2]); i = i + 4\n"
"  else\n"
"    redis.call('HDEL', p .. 'h:' .. t, ARGV[i + 2])\n"
"    redis.call('ZREM', p .. 'z:' .. t, ARGV[i + 2]); i = i + 3\n"
"  end\n"
"end\n"
"redis.call('DEL', KEYS[1])\n"
WAKE_LUA
"return 1\n";

static const char unlock_lua[] =
"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
"  redis.call('DEL', KEYS[1])\n"
WAKE_LUA
"  return 1\n"
"end\n"
"return 0\n";

static const char extend_lua[] =
"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
"  return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
"end\n"
"return 0\n";

/* KEYS: zset, hash; ARGV: min, max, count, '1' for descending. */
static const char range_lua[] =
"local ks\n"
"if ARGV[4] == '1' then\n"
"  ks = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[2], ARGV[1],\n"
"      'LIMIT', 0, tonumber(ARGV[3]))\n"
"else\n"
"  ks = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2],\n"
"      'LIMIT', 0, tonumber(ARGV[3]))\n"
"end\n"
"if #ks == 0 then return {} end\n"
"local vs = redis.call('HMGET', KEYS[2], unpack(ks))\n"
"local out = {}\n"
"for i = 1, #ks do out[2 * i - 1] = ks[i]; out[2 * i] = vs[i] or '' end\n"
"return out\n";

static const char *const scripts[KVR_S__N] = {
	commit_lua, unlock_lua, extend_lua, range_lua
};
static char		script_sha[KVR_S__N][41];
static pthread_once_t	sha_once = PTHREAD_ONCE_INIT;

static void
sha_init(void)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned	mdlen, i, j;

	for (i = 0; i < KVR_S__N; i++) {
		if (EVP_Digest(scripts[i], strlen(scripts[i]), md, &mdlen,
		    EVP_sha1(), NULL) != 1 || mdlen != 20)
			continue;	/* empty sha: EVAL every time */
		for (j = 0; j < 20; j++)
			snprintf(script_sha[i] + 2 * j, 3, "%02x", md[j]);
	}
}

long long
kvr_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
conn_free(struct kvr_conn *kc)
{
	if (kc->c != NULL)
		redisFree(kc->c);
	kvr_tls_free(kc->t);
	free(kc);
}

/* One command on either kind of connection; NULL with what set on an
 * I/O error. */
static redisReply *
conn_command(struct kvr_conn *kc, int argc, const char **argv,
    const size_t *lens, char *what, size_t whatsz)
{
	redisReply	*rep;
	int		 e;

	if (kc->t != NULL)
		return kvr_tls_command(kc->t, argc, argv, lens, what, whatsz);
	if ((rep = redisCommandArgv(kc->c, argc, argv, lens)) == NULL) {
		e = errno;	/* a timeout tells itself by EAGAIN */
		snprintf(what, whatsz, "%s", kc->c->errstr);
		errno = e;
	}
	return rep;
}

/* Unlinks kc from its owner's list; mu held. */
static void
conn_unlink(struct kvr *r, struct kvr_conn *kc)
{
	if (kc->prev != NULL)
		kc->prev->next = kc->next;
	else
		r->conns = kc->next;
	if (kc->next != NULL)
		kc->next->prev = kc->prev;
}

static void
conn_destroy(void *arg)
{
	struct kvr_conn	*kc = arg;
	struct kvr	*r = kc->owner;

	pthread_mutex_lock(&r->mu);
	conn_unlink(r, kc);
	pthread_mutex_unlock(&r->mu);
	conn_free(kc);
}

int
kvr_open(struct kvr **out, const char *url, char *err, size_t errsz)
{
	struct kvr	*r;

	*out = NULL;
	pthread_once(&sha_once, sha_init);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (kvr_url_parse(url, &r->url, err, errsz) < 0) {
		free(r);
		return -1;
	}
	if (pthread_key_create(&r->key, conn_destroy) != 0) {
		snprintf(err, errsz, "pthread_key_create failed");
		free(r);
		return -1;
	}
	pthread_mutex_init(&r->mu, NULL);
	if (r->url.tls && (r->tls_ctx = kvr_tls_ctx(&r->url, err,
	    errsz)) == NULL) {
		pthread_key_delete(r->key);
		free(r);
		return -1;
	}
	kvr_url_describe(&r->url, r->desc, sizeof(r->desc));
	snprintf(r->lock_key, sizeof(r->lock_key), "%slock", r->url.prefix);
	r->backoff_ms = BACKOFF_FIRST_MS;
	*out = r;
	return 0;
}

/* Every thread must be done with r: other threads' connections go too. */
void
kvr_close(struct kvr *r)
{
	struct kvr_conn	*kc;
	unsigned	 i;

	if (r == NULL)
		return;
	pthread_key_delete(r->key);	/* no destructor runs after this */
	while ((kc = r->conns) != NULL) {
		r->conns = kc->next;
		conn_free(kc);
	}
	for (i = 0; i < r->ntables; i++)
		free(r->tables[i]);
	pthread_mutex_destroy(&r->mu);
	if (r->tls_ctx != NULL)
		SSL_CTX_free(r->tls_ctx);
	explicit_bzero(&r->url, sizeof(r->url));
	free(r);
}

const char *
kvr_describe(const struct kvr *r)
{
	return r->desc;
}

static int
table_name_ok(const char *name)
{
	size_t	i, n = strlen(name);

	if (n == 0 || n > KVR_TABLE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] <= 0x20 ||
		    (unsigned char)name[i] >= 0x7f)
			return 0;
	return 1;
}

int
kvr_table(struct kvr *r, const char *name, MDB_dbi *dbi)
{
	unsigned	i;
	int		rc = 0;

	if (!table_name_ok(name))
		return EINVAL;
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->ntables; i++)
		if (strcmp(r->tables[i], name) == 0)
			break;
	if (i == r->ntables) {
		if (i == KVR_TABLES_MAX)
			rc = MDB_DBS_FULL;
		else if ((r->tables[i] = strdup(name)) == NULL)
			rc = ENOMEM;
		else
			r->ntables++;
	}
	pthread_mutex_unlock(&r->mu);
	if (rc == 0)
		*dbi = i;
	return rc;
}

const char *
kvr_table_name(const struct kvr *r, MDB_dbi dbi)
{
	/* tables only grow and a slot is set before its dbi is handed out */
	return dbi < KVR_TABLES_MAX ? r->tables[dbi] : NULL;
}

size_t
kvr_tkey(const struct kvr *r, MDB_dbi dbi, char kind, char *out,
    size_t outsz)
{
	const char	*name = kvr_table_name(r, dbi);
	int		 n;

	if (name == NULL)
		return 0;
	n = snprintf(out, outsz, "%s%c:%s", r->url.prefix, kind, name);
	return n > 0 && (size_t)n < outsz ? (size_t)n : 0;
}

/* A status reply "OK" or an error; logs the error (never the command). */
static int
setup_cmd(struct kvr *r, struct kvr_conn *kc, int argc, const char **argv,
    const char *what)
{
	redisReply	*rep;
	char		 why[160];
	int		 ok;

	if ((rep = conn_command(kc, argc, argv, NULL, why, sizeof(why))) ==
	    NULL) {
		log_warn("store: %s %s failed: %s", r->desc, what, why);
		return -1;
	}
	ok = rep->type != REDIS_REPLY_ERROR;
	if (!ok)
		log_error("store: %s %s refused: %.*s", r->desc, what,
		    (int)rep->len, rep->str);
	freeReplyObject(rep);
	return ok ? 0 : -1;
}

/* A new connection, authenticated and on its db; NULL on failure. */
static struct kvr_conn *
connect_one(struct kvr *r)
{
	struct timeval	 ct = { CONNECT_TIMEOUT_MS / 1000,
			    (CONNECT_TIMEOUT_MS % 1000) * 1000 };
	struct timeval	 t = { COMMAND_TIMEOUT_MS / 1000,
			    (COMMAND_TIMEOUT_MS % 1000) * 1000 };
	struct kvr_conn	*kc;
	const char	*av[3];
	char		 db[4], why[256];

	if ((kc = calloc(1, sizeof(*kc))) == NULL)
		return NULL;
	kc->owner = r;
	if (r->url.tls) {
		kc->t = kvr_tls_connect(r->tls_ctx, &r->url,
		    CONNECT_TIMEOUT_MS, COMMAND_TIMEOUT_MS, why, sizeof(why));
		if (kc->t == NULL) {
			/* a refused certificate is the operator's to fix */
			if (strstr(why, "certificate") != NULL)
				log_error("store: %s: %s", r->desc, why);
			else
				log_debug("store: %s: %s", r->desc, why);
			goto fail;
		}
	} else {
		kc->c = redisConnectWithTimeout(r->url.host, r->url.port, ct);
		if (kc->c == NULL || kc->c->err) {
			log_debug("store: %s: connect: %s", r->desc,
			    kc->c != NULL ? kc->c->errstr : "out of memory");
			goto fail;
		}
		if (redisSetTimeout(kc->c, t) != REDIS_OK)
			goto fail;
	}
	if (r->url.pass[0] != '\0') {
		av[0] = "AUTH";
		av[1] = r->url.user[0] != '\0' ? r->url.user : r->url.pass;
		av[2] = r->url.pass;
		if (setup_cmd(r, kc, r->url.user[0] != '\0' ? 3 : 2, av,
		    "AUTH") < 0)
			goto fail;
	}
	if (r->url.db != 0) {
		snprintf(db, sizeof(db), "%d", r->url.db);
		av[0] = "SELECT";
		av[1] = db;
		if (setup_cmd(r, kc, 2, av, "SELECT") < 0)
			goto fail;
	}
	return kc;
fail:
	conn_free(kc);
	return NULL;
}

/* Starts or lengthens the shared backoff. */
static void
mark_down(struct kvr *r, const char *what)
{
	unsigned	ms;
	int		was_up;

	pthread_mutex_lock(&r->mu);
	was_up = r->down_until == 0;
	ms = r->backoff_ms;
	r->down_until = kvr_now_us() + (long long)ms * 1000;
	r->backoff_ms = ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
	r->outages++;
	pthread_mutex_unlock(&r->mu);
	if (was_up)
		log_warn("store: %s unreachable (%s); retrying with backoff",
		    r->desc, what);
	else
		log_debug("store: %s still unreachable; next try in %u ms",
		    r->desc, ms);
}

static int
is_down(struct kvr *r)
{
	long long	until;

	pthread_mutex_lock(&r->mu);
	until = r->down_until;
	pthread_mutex_unlock(&r->mu);
	return until != 0 && kvr_now_us() < until;
}

struct kvr_conn *
kvr_conn(struct kvr *r)
{
	struct kvr_conn	*kc;
	int		 was_down, stale;

	if (is_down(r))
		return NULL;
	if ((kc = pthread_getspecific(r->key)) != NULL) {
		pthread_mutex_lock(&r->mu);
		stale = kc->outages != r->outages;
		if (stale)
			conn_unlink(r, kc);
		pthread_mutex_unlock(&r->mu);
		if (!stale)
			return kc;
		/*
		 * Made before the last outage: most likely dead (Redis
		 * restarted), and failing on it would mark the backend
		 * down again for every thread.  A new one instead.
		 */
		pthread_setspecific(r->key, NULL);
		conn_free(kc);
	}
	if ((kc = connect_one(r)) == NULL) {
		mark_down(r, "cannot connect");
		return NULL;
	}
	if (pthread_setspecific(r->key, kc) != 0) {
		conn_free(kc);
		return NULL;
	}
	pthread_mutex_lock(&r->mu);
	kc->outages = r->outages;
	was_down = r->down_until != 0;
	r->down_until = 0;
	r->backoff_ms = BACKOFF_FIRST_MS;
	kc->next = r->conns;
	if (r->conns != NULL)
		r->conns->prev = kc;
	r->conns = kc;
	pthread_mutex_unlock(&r->mu);
	if (was_down)
		log_info("store: %s reachable again", r->desc);
	return kc;
}

/*
 * A connection that had worked and breaks is most often a Redis that
 * restarted: the next call connects again at once, and only a failed
 * connect starts the backoff.
 */
static void
conn_lost(struct kvr *r, const char *what, int timed_out)
{
	struct kvr_conn	*kc = pthread_getspecific(r->key);
	int		 worked = 0;

	if (kc != NULL) {
		/* a Redis that does not answer is down, however well it
		 * served before: nobody else should wait on it too */
		worked = kc->worked && !timed_out;
		pthread_setspecific(r->key, NULL);
		pthread_mutex_lock(&r->mu);
		conn_unlink(r, kc);
		pthread_mutex_unlock(&r->mu);
		conn_free(kc);
	}
	if (worked)
		log_info("store: %s: connection lost (%s); connecting again",
		    r->desc, what);
	else
		mark_down(r, what);
}


int
kvr_available(struct kvr *r)
{
	return kvr_conn(r) != NULL;
}

/* The reply, error replies included; NULL after an I/O error. */
static redisReply *
raw_cmd(struct kvr *r, int argc, const char **argv, const size_t *lens,
    int *rc)
{
	struct kvr_conn	*kc = kvr_conn(r);
	redisReply	*rep;
	char		 what[160];

	if (kc == NULL) {
		*rc = KV_DOWN;
		return NULL;
	}
	errno = 0;
	if ((rep = conn_command(kc, argc, argv, lens, what,
	    sizeof(what))) == NULL) {
		conn_lost(r, what, errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ETIMEDOUT);
		*rc = KV_DOWN;
	} else
		kc->worked = 1;
	return rep;
}

/* An error reply (out of memory, read-only replica, ...) means Redis
 * cannot serve us now: KV_DOWN, the connection kept. */
static redisReply *
check_reply(struct kvr *r, redisReply *rep, int *rc)
{
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
		log_warn("store: %s answered %.*s", r->desc, (int)rep->len,
		    rep->str);
		freeReplyObject(rep);
		*rc = KV_DOWN;
		return NULL;
	}
	return rep;
}

redisReply *
kvr_cmd(struct kvr *r, int argc, const char **argv, const size_t *lens,
    int *rc)
{
	return check_reply(r, raw_cmd(r, argc, argv, lens, rc), rc);
}

redisReply *
kvr_script(struct kvr *r, enum kvr_script s, int nkeys, int argc,
    const char **argv, const size_t *lens, int *rc)
{
	const char	**av = NULL;
	size_t		 *al = NULL;
	redisReply	 *rep = NULL;
	char		  nk[12];
	int		  i;

	if (argc < 0 || argc > 1 << 24 || nkeys < 0 || nkeys > argc) {
		*rc = EINVAL;
		return NULL;
	}
	if ((av = malloc((size_t)(argc + 3) * sizeof(*av))) == NULL ||
	    (al = malloc((size_t)(argc + 3) * sizeof(*al))) == NULL) {
		*rc = ENOMEM;
		goto done;
	}
	snprintf(nk, sizeof(nk), "%d", nkeys);
	av[1] = script_sha[s];
	al[1] = strlen(script_sha[s]);
	av[2] = nk;
	al[2] = strlen(nk);
	for (i = 0; i < argc; i++) {
		av[i + 3] = argv[i];
		al[i + 3] = lens[i];
	}
	if (al[1] != 0) {
		av[0] = "EVALSHA";
		al[0] = 7;
		rep = raw_cmd(r, argc + 3, av, al, rc);
		if (rep == NULL || rep->type != REDIS_REPLY_ERROR ||
		    strncmp(rep->str, "NOSCRIPT", 8) != 0)
			goto done;
		freeReplyObject(rep);
	}
	/* not cached on this server yet: EVAL sends it and caches it */
	av[0] = "EVAL";
	al[0] = 4;
	av[1] = scripts[s];
	al[1] = strlen(scripts[s]);
	rep = raw_cmd(r, argc + 3, av, al, rc);
done:
	free(av);
	free(al);
	return check_reply(r, rep, rc);
}
