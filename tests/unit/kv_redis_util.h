/*
 * Shared by the Redis backend's unit tests (test_kv_redis.c: tables,
 * cursors, the overlay; test_kv_redis_conn.c: locks, threads, outages,
 * passwords): one redis-server for the program, a backend on it under a
 * fresh prefix, and string shorthands for puts, gets and scans.
 */
#ifndef KV_REDIS_UTIL_H
#define KV_REDIS_UTIL_H

#include <stddef.h>
#include <string.h>

#include "store/kv.h"
#include "store/kv_redis_priv.h"
#include "redis_fixture.h"

#define V(s)	((MDB_val){ strlen(s), (void *)(s) })

extern struct redis_fixture	*srv;

double		 now_us(void);
/* A backend on srv with a fresh prefix; its URL into url if not NULL. */
struct kvr	*open_fresh(int db, char *url, size_t urlsz);
void		 put_s(struct kvr *, MDB_dbi, const char *k, const char *v);
/* The value as a string ("" for NOTFOUND) from a read txn. */
const char	*get_s(struct kvr *, MDB_dbi, const char *k, char *out,
		    size_t outsz);
/* Every key of the table through a cursor, joined with ',' (values
 * after '='); back walks from the last. */
const char	*scan_s(struct kvr_txn *, MDB_dbi, int back, char *out,
		    size_t outsz);
/* 150 keys k000..k298 (even numbers, values v0..v298), committed:
 * more than two cursor batches. */
void		 fill_150(struct kvr *, MDB_dbi);

#endif
