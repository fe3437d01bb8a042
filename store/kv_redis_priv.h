/*
 * Shared between kv_redis_conn.c (URL, connections, backoff, scripts)
 * and kv_redis.c (transactions, overlay, cursors).  Nothing outside
 * store/kv_redis*.c includes it, except the unit test and fuzz driver of
 * the URL parser.
 */
#ifndef STORE_KV_REDIS_PRIV_H
#define STORE_KV_REDIS_PRIV_H

#include <stddef.h>
#include <pthread.h>
#include <hiredis/hiredis.h>

#include "store/kv_redis.h"

#define KVR_URL_MAX	2048
#define KVR_HOST_MAX	255
#define KVR_USER_MAX	128
#define KVR_PASS_MAX	512
#define KVR_PREFIX_MAX	64
#define KVR_DB_MAX	15
#define KVR_CA_MAX	255
#define KVR_TABLES_MAX	64
#define KVR_TABLE_NAME_MAX 64
#define KVR_DEFAULT_PREFIX "chat2api:"

struct kvr_url {
	char	host[KVR_HOST_MAX + 1];
	char	user[KVR_USER_MAX + 1];		/* "" = AUTH pass only */
	char	pass[KVR_PASS_MAX + 1];		/* "" = no AUTH */
	char	prefix[KVR_PREFIX_MAX + 1];
	char	ca[KVR_CA_MAX + 1];		/* rediss: CA file; "" = system's */
	int	port;
	int	db;
	int	tls;				/* rediss:// */
};

/* 0, or -1 with a message in err that never holds the password. */
int	 kvr_url_parse(const char *, struct kvr_url *, char *err,
	    size_t errsz);
/* The URL back, password masked; always NUL-terminated. */
void	 kvr_url_describe(const struct kvr_url *, char *out, size_t outsz);

struct kvr_conn;

struct kvr {
	struct kvr_url	 url;
	char		 desc[KVR_URL_MAX];
	pthread_key_t	 key;		/* this thread's struct kvr_conn */
	pthread_mutex_t	 mu;		/* tables, conns list, backoff */
	char		*tables[KVR_TABLES_MAX];
	unsigned	 ntables;
	struct kvr_conn	*conns;		/* every thread's, for kvr_close */
	long long	 down_until;	/* monotonic µs; 0 = up */
	unsigned	 backoff_ms;	/* next wait once down */
	unsigned	 outages;	/* times marked down */
	char		 lock_key[KVR_PREFIX_MAX + 8];
	struct ssl_ctx_st *tls_ctx;	/* rediss:// */
};

/* Scripts run through kvr_script; each has its SHA-1 computed once. */
enum kvr_script {
	KVR_S_COMMIT, KVR_S_UNLOCK, KVR_S_EXTEND, KVR_S_RANGE, KVR_S__N
};

long long	 kvr_now_us(void);
/* This thread's connection, connecting if the backoff allows; NULL
 * while Redis is down (the caller answers KV_DOWN). */
struct kvr_conn	*kvr_conn(struct kvr *);
/* One command; a reply (caller frees), or NULL after an I/O error (the
 * thread's connection dropped, the backoff started if Redis is down).
 * An error reply is logged and freed, and NULL returned with *rc set. */
redisReply	*kvr_cmd(struct kvr *, int argc, const char **argv,
		    const size_t *lens, int *rc);
/* EVALSHA (EVAL on NOSCRIPT); argv holds the keys then the args. */
redisReply	*kvr_script(struct kvr *, enum kvr_script, int nkeys,
		    int argc, const char **argv, const size_t *lens, int *rc);
/* "<prefix>h:<table>" or "z:" into out; its length. */
size_t		 kvr_tkey(const struct kvr *, MDB_dbi, char kind, char *out,
		    size_t outsz);
const char	*kvr_table_name(const struct kvr *, MDB_dbi);

/* rediss:// (store/kv_redis_tls.c): hiredis formats and parses, the
 * connection is our own over OpenSSL. */
struct kvr_tls;
struct ssl_ctx_st *kvr_tls_ctx(const struct kvr_url *, char *err,
		    size_t errsz);
struct kvr_tls	*kvr_tls_connect(struct ssl_ctx_st *, const struct kvr_url *,
		    int timeout_ms, int io_ms, char *err, size_t errsz);
redisReply	*kvr_tls_command(struct kvr_tls *, int argc, const char **argv,
		    const size_t *lens, char *err, size_t errsz);
void		 kvr_tls_free(struct kvr_tls *);

#endif
