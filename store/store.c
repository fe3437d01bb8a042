/*
 * The LMDB environment: open (with the schema and its migrations),
 * close, the secret key, the store's clock and day.  Transactions, map
 * growth and the small codecs every table uses are in store/txn.c.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "fcgi/log.h"
#include "store/acct_rec.h"
#include "store/store_priv.h"
#ifdef HAVE_REDIS
#include "store/kv_redis.h"
#endif

#define STORE_MAX_DBS		32
#define STORE_MAX_READERS	1024

static const char *const store_errs[STORE__MAX] = {
	[STORE_OK] = "success",
	[STORE_ENOMEM] = "out of memory",
	[STORE_NOTFOUND] = "not found",
	[STORE_FULL] = "database full",
	[STORE_IO] = "I/O error",
	[STORE_SCHEMA] = "data written by a newer version",
	[STORE_INVAL] = "invalid argument",
	[STORE_LMDB] = "LMDB error",
	[STORE_UNAVAILABLE] = "the shared store (Redis) is unreachable",
};

const char *
store_strerror(enum store_err e)
{
	if ((unsigned)e >= STORE__MAX)
		return "unknown error";
	return store_errs[e];
}

int64_t
store_now(const struct store *s)
{
	return (int64_t)time(NULL) + s->clock_skew;
}

void
store_set_clock_skew(struct store *s, int64_t seconds)
{
	s->clock_skew = seconds;
}

uint32_t
store_today(const struct store *s)
{
	time_t t = (time_t)store_now(s);
	struct tm tm;

	localtime_r(&t, &tm);
	return (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday);
}

/* Up to the next local midnight; mktime copes with DST and month ends. */
int64_t
store_day_left(const struct store *s)
{
	time_t t = (time_t)store_now(s);
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_mday++;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) - (int64_t)t;
}

static int
put_version(struct store *s, struct kv_txn *txn, MDB_val *k)
{
	unsigned char buf[8];
	MDB_val v = { sizeof(buf), buf };

	store_be64(buf, STORE_SCHEMA_VERSION);
	return kv_put(txn, s->meta, k, &v, 0);
}

#define T(n)	{ #n, offsetof(struct store, n) }
const struct store_table store_tables[STORE_NTABLES] = {
	T(meta), T(counters), T(models), T(creds), T(rtcache), T(rtlock),
	T(seeds), T(throttle), T(revoked), T(accounts), T(apikeys),
	T(mappings), T(sessions), T(sess_exp), T(responses), T(reqlog),
	T(stats), T(metrics),
};
#undef T

static int
open_table(struct store *s, struct kv_txn *txn, const char *name,
    MDB_dbi *dbi)
{
#ifdef HAVE_REDIS
	if (s->redis != NULL)
		return kvr_table(s->redis, name, dbi);
#endif
	return mdb_dbi_open(txn->mdb, name, MDB_CREATE, dbi);
}

static int
store_init_dbs(struct store *s, struct kv_txn *txn, void *ctx)
{
	static const char key[] = "schema_version";
	MDB_val k = { sizeof(key) - 1, (void *)key }, v;
	uint64_t ver;
	size_t moved, i;
	int rc;

	(void)ctx;
	for (i = 0; i < STORE_NTABLES; i++)
		if ((rc = open_table(s, txn, store_tables[i].name,
		    &STORE_DBI(s, i))) != 0)
			return rc;
	rc = kv_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return put_version(s, txn, &k);
	if (rc != 0)
		return rc;
	ver = store_get_be64(&v);
	if (ver > STORE_SCHEMA_VERSION) {
		log_error("store: schema version %llu is newer than %d",
		    (unsigned long long)ver, STORE_SCHEMA_VERSION);
		return EINVAL;
	}
	if (ver == STORE_SCHEMA_VERSION)
		return 0;
	/* Same transaction as the version: all of it happens, or none. */
	if ((rc = acct_migrate_v1(s, txn, s->creds, s->accounts, &moved)) != 0)
		return rc;
	/* Schema 1 keyed its exchanged tokens otherwise: none would match. */
	if ((rc = kv_drop(txn, s->rtcache)) != 0)
		return rc;
	log_info("store: schema %llu -> %d: %zu ChatGPT credential(s) are "
	    "now accounts", (unsigned long long)ver, STORE_SCHEMA_VERSION,
	    moved);
	return put_version(s, txn, &k);
}

static int
mkdir_p(const char *dir)
{
	char buf[4096], *p;

	if (strlen(dir) >= sizeof(buf))
		return ENAMETOOLONG;
	strcpy(buf, dir);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) < 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(buf, 0750) < 0 && errno != EEXIST)
		return errno;
	return 0;
}

/* CHAT2API_STORE names Redis: connect (the data dir keeps the key). */
static enum store_err
open_redis(struct store *s, const char *url)
{
#ifdef HAVE_REDIS
	char err[256];

	if (kvr_open(&s->redis, url, err, sizeof(err)) != 0) {
		log_error("store: CHAT2API_STORE: %s", err);
		return STORE_UNAVAILABLE;
	}
	log_info("store: shared state on %s", kvr_describe(s->redis));
	return STORE_OK;
#else
	(void)s;
	(void)url;
	log_error("store: CHAT2API_STORE names Redis, but this chat2api was "
	    "built without --with-redis");
	return STORE_INVAL;
#endif
}

enum store_err
store_open(struct store **out, const char *dir, size_t map_size)
{
	return store_open_backend(out, NULL, dir, map_size);
}

enum store_err
store_open_backend(struct store **out, const char *backend, const char *dir,
    size_t map_size)
{
	struct store *s;
	enum store_err e;
	int rc, tries, dead = 0;
	const char *act = "creating the data directory";

	*out = NULL;
	if (backend != NULL && *backend != '\0' && strcmp(backend, "lmdb") &&
	    strncmp(backend, "redis://", 8) && strncmp(backend, "rediss://", 9)) {
		log_error("store: CHAT2API_STORE must be lmdb or "
		    "redis://host:port/db");
		return STORE_INVAL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return STORE_ENOMEM;
	pthread_rwlock_init(&s->resize, NULL);
	if ((s->dir = strdup(dir)) == NULL) {
		e = STORE_ENOMEM;
		goto fail;
	}
	if ((rc = mkdir_p(dir)) != 0)
		goto fail_rc;
	if (backend != NULL && strncmp(backend, "redis", 5) == 0) {
		if ((e = open_redis(s, backend)) != STORE_OK)
			goto fail;
		act = "opening the tables";
		goto tables;
	}
	/* The lock file must stay writable by every process sharing it. */
	for (tries = 0; ; tries++) {
		act = "creating the environment";
		if ((rc = mdb_env_create(&s->env)) != 0)
			goto fail_rc;
		mdb_env_set_maxdbs(s->env, STORE_MAX_DBS);
		mdb_env_set_maxreaders(s->env, STORE_MAX_READERS);
		mdb_env_set_mapsize(s->env, map_size);
		act = "opening the environment";
		rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NOSYNC, 0660);
		if (rc == 0)
			break;
		mdb_env_close(s->env);
		s->env = NULL;
		/* Another process may be opening or closing right now. */
		if (rc != EAGAIN || tries >= 20)
			goto fail_rc;
		usleep(50 * 1000);
	}
	act = "checking stale readers";
	mdb_reader_check(s->env, &dead);
	if (dead)
		log_info("store: cleared %d stale reader slot(s)", dead);
	act = "opening databases";
tables:
	if ((e = store_write(s, store_init_dbs, NULL)) != STORE_OK) {
		if (e == STORE_INVAL)
			e = STORE_SCHEMA;
		log_error("store: %s in %s failed: %s", act, dir,
		    store_strerror(e));
		goto fail;
	}
	*out = s;
	return STORE_OK;
fail_rc:
	log_error("store: %s in %s failed: %s", act, dir, mdb_strerror(rc));
	e = store_map_rc(rc);
	if (e == STORE_OK)
		e = STORE_IO;
fail:
	if (s->env != NULL)
		mdb_env_close(s->env);
#ifdef HAVE_REDIS
	if (s->redis != NULL)
		kvr_close(s->redis);
#endif
	pthread_rwlock_destroy(&s->resize);
	free(s->dir);
	free(s);
	return e;
}

/*
 * Every host sharing a Redis must seal with the same key, or one host's
 * credentials are noise to the next: the first to start leaves a MAC of
 * its key, and a host with another key refuses to start.
 */
static int
key_check(struct store *s, struct kv_txn *txn, void *ctx)
{
	static const char name[] = "key_check";
	MDB_val k = { sizeof(name) - 1, (void *)name }, v;
	unsigned char mac[32];
	int rc;

	(void)ctx;
	crypto_mac(&s->key, "store-key-check", name, sizeof(name) - 1, mac);
	rc = kv_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		v.mv_size = sizeof(mac);
		v.mv_data = mac;
		return kv_put(txn, s->meta, &k, &v, 0);
	}
	if (rc != 0)
		return rc;
	if (v.mv_size != sizeof(mac) || CRYPTO_memcmp(v.mv_data, mac,
	    sizeof(mac)) != 0)
		return EINVAL;
	return 0;
}

enum store_err
store_key_init(struct store *s, const char *env, char *err, size_t errsz)
{
	enum store_err e;

	if (crypto_key_load(&s->key, env, s->dir, err, errsz) < 0)
		return STORE_IO;
	s->have_key = 1;
	if (s->redis == NULL)
		return STORE_OK;
	if ((e = store_write(s, key_check, NULL)) == STORE_INVAL)
		snprintf(err, errsz, "the shared store was written with "
		    "another secret key: give every host the same "
		    "CHAT2API_SECRET_KEY (or secret.key)");
	else if (e != STORE_OK)
		snprintf(err, errsz, "checking the key in the shared store: "
		    "%s", store_strerror(e));
	return e;
}

int
store_available(struct store *s)
{
#ifdef HAVE_REDIS
	if (s->redis != NULL)
		return kvr_available(s->redis);
#endif
	(void)s;
	return 1;
}

void
store_mac(struct store *s, const char *label, const void *p, size_t n,
    unsigned char out[32])
{
	crypto_mac(&s->key, label, p, n, out);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL) {
		mdb_env_sync(s->env, 1);
		mdb_env_close(s->env);
	}
#ifdef HAVE_REDIS
	if (s->redis != NULL)
		kvr_close(s->redis);
#endif
	store_live_close(s->live);
	crypto_wipe(&s->key, sizeof(s->key));
	pthread_rwlock_destroy(&s->resize);
	free(s->dir);
	free(s);
}

enum store_err
store_sync(struct store *s)
{
	if (s->env == NULL)	/* Redis: its own appendfsync decides */
		return STORE_OK;
	return store_map_rc(mdb_env_sync(s->env, 1));
}

size_t
store_map_size(struct store *s)
{
	MDB_envinfo info;

	if (s->env == NULL)
		return 0;
	mdb_env_info(s->env, &info);
	return info.me_mapsize;
}
