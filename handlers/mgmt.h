/*
 * The management layer: what an operator can see and change, as json-c
 * values.  The JSON API /v0/management/... (handlers/mgmt_api.c) is a thin
 * layer over these functions, and so is the /admin console; the CLI
 * shares the store and account functions underneath them.
 *
 * Every function answers its data (a new json-c reference for the
 * caller), or NULL with err filled: the HTTP status, a short code and a
 * message that names no secret.
 */
#ifndef HANDLERS_MGMT_H
#define HANDLERS_MGMT_H

#include <stdint.h>

#include <json-c/json.h>

#include "fcgi/conf.h"
#include "fcgi/err.h"
#include "store/reqlog.h"

struct mgmt_err {
	int	status;		/* 400, 404, 409, 500, 503 */
	char	code[48];
	char	message[256];
};

/* Fills err and answers NULL, for one-line failures. */
struct json_object *mgmt_fail(struct mgmt_err *, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* handlers/mgmt_stats.c: numbers */
/* /stats' additions: avg_latency, requests_per_minute, active_streams,
 * providers{}; -1 when the store fails. */
int	 mgmt_stats_add(struct store *, struct json_object *);
/* Seconds since mgmt_stats_init() (the process's start). */
void	 mgmt_stats_init(void);
long	 mgmt_uptime(void);
struct json_object *mgmt_health(const struct config *, struct store *,
	    struct mgmt_err *);
/* Per-day totals by provider, model, account and key in [from, to]. */
struct json_object *mgmt_statistics(struct store *, uint32_t from,
	    uint32_t to, struct mgmt_err *);
/* Every provider with its accounts, requests, models and reachability. */
struct json_object *mgmt_providers(const struct config *, struct store *,
	    struct mgmt_err *);

/* handlers/mgmt_probe.c: rows is {provider id: {accounts, ...}}; each
 * provider with accounts gains online (bool), checked_at and
 * probe_status (online) or probe_error; the others online: null. */
#define MGMT_REACH_TTL_S	60	/* a probe's answer is kept this long */
void	 mgmt_reach_add(const struct config *, struct json_object *rows);

/* handlers/mgmt_pool.c: accounts, API keys, model mappings */
struct json_object *mgmt_accounts(struct store *, const char *provider,
	    struct mgmt_err *);
/* body: {provider, credential, label, daily_limit, weight, fields{}} */
struct json_object *mgmt_account_add(const struct config *, struct store *,
	    struct json_object *body, struct mgmt_err *);
/* which: an id or fingerprint, a provider, or NULL for all */
struct json_object *mgmt_account_validate(const struct config *,
	    struct store *, const char *which, struct mgmt_err *);
struct json_object *mgmt_account_enable(struct store *, const char *id,
	    int enable, struct mgmt_err *);
/* body: {label, daily_limit, weight} */
struct json_object *mgmt_account_set(struct store *, const char *id,
	    struct json_object *body, struct mgmt_err *);
struct json_object *mgmt_account_delete(struct store *, const char *id,
	    struct mgmt_err *);
struct json_object *mgmt_keys(struct store *, struct mgmt_err *);
/* The key itself is in the answer once, here, and nowhere else. */
struct json_object *mgmt_key_create(struct store *, const char *name,
	    struct mgmt_err *);
struct json_object *mgmt_key_enable(struct store *, const char *id,
	    int enable, struct mgmt_err *);
struct json_object *mgmt_key_delete(struct store *, const char *id,
	    struct mgmt_err *);
struct json_object *mgmt_mappings(const struct config *, struct store *,
	    struct mgmt_err *);
/* body: {name, target, provider, account} */
struct json_object *mgmt_mapping_add(struct store *, struct json_object *body,
	    struct mgmt_err *);
struct json_object *mgmt_mapping_delete(struct store *, const char *name,
	    struct mgmt_err *);
/*
 * handlers/mgmt_purge.c: every upstream chat of account id deleted by
 * its provider's own bulk delete, then its sessions dropped; answers
 * {id, provider, fingerprint, chats_deleted (null: not said),
 * sessions_dropped}.  400 not_supported where the provider has none,
 * 502 with the upstream's words when it failed.
 */
int	 mgmt_can_purge(const char *provider);
struct json_object *mgmt_account_purge(const struct config *,
	    struct store *, struct arena *, const char *id,
	    struct mgmt_err *);
/* handlers/mgmt_sessions.c: the multi-turn sessions (provider NULL: all) */
struct json_object *mgmt_sessions(struct store *, const char *provider,
	    struct mgmt_err *);
/* Ends them, their chats deleted: the expired ones, or all of provider. */
struct json_object *mgmt_sessions_end(const struct config *, struct store *,
	    struct arena *, const char *provider, int expired_only,
	    struct mgmt_err *);
struct json_object *mgmt_session_end(const struct config *, struct store *,
	    struct arena *, const char *id, struct mgmt_err *);

/* Where a model name goes right now: provider, model, account. */
struct json_object *mgmt_resolve(const struct config *, struct store *,
	    const char *name, struct mgmt_err *);

/* handlers/mgmt_logs.c: the request log and the configuration */
struct json_object *mgmt_log_entry(const struct reqlog_entry *);
struct json_object *mgmt_logs(struct store *, const struct reqlog_filter *,
	    struct mgmt_err *);
struct json_object *mgmt_log_get(struct store *, struct arena *,
	    uint64_t id, struct mgmt_err *);
/*
 * handlers/mgmt_api.c: the log's filter from the query (from, to, status,
 * provider, model, q, limit; -1 with err on a bad one) and its CSV export,
 * for the API and the console alike.
 */
struct req;
int	 mgmt_log_filter(struct req *, struct reqlog_filter *,
	    struct mgmt_err *);
enum app_err	 mgmt_logs_csv(struct req *, const struct reqlog_filter *);
/* Every variable: effective value (secrets masked) and its source. */
struct json_object *mgmt_config(const struct config *, struct mgmt_err *);

#endif
