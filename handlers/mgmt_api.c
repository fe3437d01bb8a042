/*
 * /v0/management/...: the management layer (handlers/mgmt.h) as JSON for
 * scripts.  Off (404, as any unknown path) without MANAGEMENT_SECRET;
 * the secret comes as "Authorization: Bearer" or X-Management-Secret,
 * is compared in constant time, and wrong guesses count toward the same
 * per-address throttle as the /tokens login.
 *
 * Answers are {"success":true,"data":...}; failures
 * {"success":false,"error":{"code","message","type","param"}} with a
 * 4xx or 5xx status (the OpenAI error members beside the two the API
 * promises, so OpenAI clients read them too).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/buf.h"
#include "fcgi/resp.h"
#include "handlers/admin_auth.h"
#include "handlers/handlers.h"
#include "handlers/mgmt.h"
#include "html/escape.h"

#define SEGS_MAX	4
#define CSV_MAX		(32u << 20)

static const char *
err_type(int status)
{
	if (status == 401)
		return "authentication_error";
	if (status == 404)
		return "not_found_error";
	if (status == 429)
		return "rate_limit_error";
	return status >= 500 ? "server_error" : "invalid_request_error";
}

static enum app_err
reply_err(struct req *r, const struct mgmt_err *err, const char *extra)
{
	struct json_object *o = json_object_new_object(), *e;
	const char *s;
	enum app_err ae;

	e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(err->code));
	json_object_object_add(e, "message",
	    json_object_new_string(err->message));
	json_object_object_add(e, "type",
	    json_object_new_string(err_type(err->status)));
	json_object_object_add(e, "param", NULL);
	json_object_object_add(o, "success", json_object_new_boolean(0));
	json_object_object_add(o, "error", e);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if ((ae = resp_start(r, err->status, "application/json", extra)) ==
	    APP_OK)
		ae = resp_write(r, s, strlen(s));
	json_object_put(o);
	return ae;
}

static enum app_err
reply(struct req *r, struct json_object *data, const struct mgmt_err *err)
{
	struct json_object *o;
	enum app_err e;

	if (data == NULL)
		return reply_err(r, err, NULL);
	o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(1));
	json_object_object_add(o, "data", data);
	e = resp_json(r, 200, o);
	json_object_put(o);
	return e;
}

/* 1 when the caller may manage; else the refusal is answered. */
static int
authorized(struct req *r, enum app_err *e)
{
	struct mgmt_err err;
	const char *got;
	char hdr[64];
	long wait = 0;

	if (admin_throttled(r, &wait)) {
		mgmt_fail(&err, 429, "throttled", "Too many wrong secrets from "
		    "this address; try again in %ld s.", wait);
		snprintf(hdr, sizeof(hdr), "Retry-After: %ld\r\n", wait);
		*e = reply_err(r, &err, hdr);
		return 0;
	}
	got = req_param(r, "HTTP_X_MANAGEMENT_SECRET");
	if (got == NULL || *got == '\0')
		got = admin_bearer(r->auth);
	if (admin_secret_ok(r->cfg->management_secret, got))
		return 1;
	if (got != NULL && *got != '\0')
		admin_failed(r);
	mgmt_fail(&err, 401, "unauthorized", "The management API needs "
	    "MANAGEMENT_SECRET as Authorization: Bearer or "
	    "X-Management-Secret.");
	*e = reply_err(r, &err, "WWW-Authenticate: Bearer\r\n");
	return 0;
}

/* A query argument, %-decoded, or NULL. */
static const char *
arg(struct req *r, const char *key)
{
	char *v = NULL;
	size_t n;

	if (form_field(r->arena, r->query, strlen(r->query), key, &v, &n) <= 0)
		return NULL;
	return v;
}

static struct json_object *
body_json(struct req *r, struct mgmt_err *err)
{
	struct json_object *o;
	struct json_tokener *tok;

	if (r->body == NULL || r->body_len == 0)
		return mgmt_fail(err, 400, "missing_body",
		    "The request needs a JSON body.");
	if ((tok = json_tokener_new()) == NULL)
		return mgmt_fail(err, 500, "no_memory", "Out of memory.");
	o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	if (o != NULL && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o == NULL)
		return mgmt_fail(err, 400, "invalid_json",
		    "The body is not valid JSON.");
	return o;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Seconds since the epoch (with a fraction) as µs; 0 when absent. */
static int
parse_time(const char *s, uint64_t *us)
{
	char *end;
	double d;

	*us = 0;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	d = strtod(s, &end);
	if (errno || *end != '\0' || d < 0 || d > 1e11)
		return -1;
	*us = (uint64_t)(d * 1e6);
	return 0;
}

int
mgmt_log_filter(struct req *r, struct reqlog_filter *f, struct mgmt_err *err)
{
	const char *st = arg(r, "status");
	uint64_t limit = 0;

	memset(f, 0, sizeof(*f));
	if (parse_time(arg(r, "from"), &f->from_us) < 0 ||
	    parse_time(arg(r, "to"), &f->to_us) < 0) {
		mgmt_fail(err, 400, "invalid_time", "from and to are seconds "
		    "since the epoch.");
		return -1;
	}
	if (st != NULL && *st) {
		if (st[0] < '1' || st[0] > '5' || (st[1] != '\0' &&
		    strcmp(st + 1, "xx") != 0)) {
			mgmt_fail(err, 400, "invalid_status", "status is a "
			    "class: 2xx, 3xx, 4xx or 5xx.");
			return -1;
		}
		f->status_class = st[0] - '0';
	}
	f->provider = arg(r, "provider");
	f->model = arg(r, "model");
	f->text = arg(r, "q");
	if (arg(r, "limit") != NULL && (parse_u64(arg(r, "limit"), &limit) < 0
	    || limit == 0 || limit > 1000)) {
		mgmt_fail(err, 400, "invalid_limit", "limit is 1..1000.");
		return -1;
	}
	f->limit = (size_t)limit;
	return 0;
}

struct csv_ctx {
	struct buf	b;
	int		oom;
};

static void
csv_num(struct buf *b, long long v)
{
	buf_printf(b, "%lld,", v);
}

static void
csv_str(struct buf *b, const char *s, int last)
{
	csv_field(b, s, strlen(s));
	buf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static int
csv_row(void *arg, const struct reqlog_entry *e)
{
	struct csv_ctx *c = arg;
	struct buf *b = &c->b;
	char when[32];
	time_t t = (time_t)(e->id / 1000000u);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(b, "%llu,%s,", (unsigned long long)e->id, when);
	csv_str(b, e->method, 0);
	csv_str(b, e->route, 0);
	csv_num(b, e->status);
	csv_str(b, e->model, 0);
	csv_str(b, e->provider, 0);
	csv_str(b, e->account, 0);
	csv_str(b, e->key, 0);
	csv_num(b, e->latency_ms);
	if (e->ttfc_ms >= 0)
		csv_num(b, e->ttfc_ms);
	else
		buf_add(b, ",", 1);
	buf_adds(b, e->stream ? "true," : "false,");
	csv_str(b, e->error, 1);
	if (b->len >= CSV_MAX) {
		c->oom = 1;
		return 1;
	}
	return 0;
}

enum app_err
mgmt_logs_csv(struct req *r, const struct reqlog_filter *f)
{
	static const char head[] = "id,time,method,route,status,model,"
	    "provider,account,key,latency_ms,ttfc_ms,stream,error\r\n";
	struct reqlog_filter lf = *f;
	struct mgmt_err err;
	struct csv_ctx c;
	enum app_err e;

	memset(&c, 0, sizeof(c));
	buf_init(&c.b, CSV_MAX + 65536);
	buf_add(&c.b, head, sizeof(head) - 1);
	if (lf.limit == 0)
		lf.limit = 1000;
	if (reqlog_query(r->store, &lf, csv_row, &c) != STORE_OK) {
		buf_free(&c.b);
		mgmt_fail(&err, 503, "store_error",
		    "The request log cannot be read.");
		return reply_err(r, &err, NULL);
	}
	e = resp_start(r, 200, "text/csv; charset=utf-8", "Content-"
	    "Disposition: attachment; filename=\"chat2api-log.csv\"\r\n");
	if (e == APP_OK)
		e = resp_write(r, c.b.p, c.b.len);
	buf_free(&c.b);
	return e;
}

/* YYYYMMDD, or the store's today when absent. */
static int
parse_day(struct store *st, const char *s, uint32_t *out)
{
	uint64_t v;

	if (s == NULL || *s == '\0') {
		*out = store_today(st);
		return 0;
	}
	if (strlen(s) != 8 || parse_u64(s, &v) < 0 || v < 19700101 ||
	    v > 99991231)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

struct call {
	struct req		*r;
	const char		*m;		/* method */
	const char		*seg[SEGS_MAX];
	size_t			 nseg;
	struct mgmt_err		 err;
	int			 allowed;	/* the path exists */
};

static int
is(const struct call *c, const char *method, size_t nseg)
{
	return c->nseg == nseg && strcmp(c->m, method) == 0;
}

static struct json_object *
accounts(struct call *c)
{
	struct req *r = c->r;
	struct json_object *body, *out = NULL;
	const char *id = c->nseg > 1 ? c->seg[1] : NULL;

	if (is(c, "GET", 1))
		return mgmt_accounts(r->store, arg(r, "provider"), &c->err);
	if (is(c, "POST", 1)) {
		if ((body = body_json(r, &c->err)) == NULL)
			return NULL;
		out = mgmt_account_add(r->cfg, r->store, body, &c->err);
		json_object_put(body);
		return out;
	}
	if (is(c, "POST", 2) && strcmp(id, "validate") == 0)
		return mgmt_account_validate(r->cfg, r->store,
		    arg(r, "provider"), &c->err);
	if (is(c, "POST", 3) && strcmp(c->seg[2], "validate") == 0)
		return mgmt_account_validate(r->cfg, r->store, id, &c->err);
	if (is(c, "POST", 3) && strcmp(c->seg[2], "purge-chats") == 0)
		return mgmt_account_purge(r->cfg, r->store, r->arena, id,
		    &c->err);
	if (is(c, "POST", 3) && (strcmp(c->seg[2], "enable") == 0 ||
	    strcmp(c->seg[2], "disable") == 0))
		return mgmt_account_enable(r->store, id, c->seg[2][0] == 'e',
		    &c->err);
	if (is(c, "PATCH", 2)) {
		if ((body = body_json(r, &c->err)) == NULL)
			return NULL;
		out = mgmt_account_set(r->store, id, body, &c->err);
		json_object_put(body);
		return out;
	}
	if (is(c, "DELETE", 2))
		return mgmt_account_delete(r->store, id, &c->err);
	c->allowed = c->nseg <= 3;
	return NULL;
}

static struct json_object *
keys(struct call *c)
{
	struct req *r = c->r;
	struct json_object *body, *name, *out;

	if (is(c, "GET", 1))
		return mgmt_keys(r->store, &c->err);
	if (is(c, "POST", 1)) {
		if ((body = body_json(r, &c->err)) == NULL)
			return NULL;
		out = json_object_object_get_ex(body, "name", &name) &&
		    json_object_is_type(name, json_type_string) ?
		    mgmt_key_create(r->store, json_object_get_string(name),
		    &c->err) : mgmt_fail(&c->err, 400, "invalid_body",
		    "The body is {\"name\": \"...\"}.");
		json_object_put(body);
		return out;
	}
	if (is(c, "POST", 3) && (strcmp(c->seg[2], "enable") == 0 ||
	    strcmp(c->seg[2], "disable") == 0))
		return mgmt_key_enable(r->store, c->seg[1],
		    c->seg[2][0] == 'e', &c->err);
	if (is(c, "DELETE", 2))
		return mgmt_key_delete(r->store, c->seg[1], &c->err);
	c->allowed = c->nseg <= 3;
	return NULL;
}

static struct json_object *
mappings(struct call *c)
{
	struct req *r = c->r;
	struct json_object *body, *out;

	if (is(c, "GET", 1))
		return mgmt_mappings(r->cfg, r->store, &c->err);
	if (is(c, "GET", 2) && strcmp(c->seg[1], "resolve") == 0)
		return mgmt_resolve(r->cfg, r->store, arg(r, "model"), &c->err);
	if (is(c, "POST", 1)) {
		if ((body = body_json(r, &c->err)) == NULL)
			return NULL;
		out = mgmt_mapping_add(r->store, body, &c->err);
		json_object_put(body);
		return out;
	}
	if (is(c, "DELETE", 2))
		return mgmt_mapping_delete(r->store, c->seg[1], &c->err);
	c->allowed = c->nseg <= 2;
	return NULL;
}

static struct json_object *
logs(struct call *c, int *answered, enum app_err *e)
{
	struct req *r = c->r;
	struct reqlog_filter f;
	const char *fmt;
	uint64_t id;

	if (is(c, "GET", 2)) {
		if (parse_u64(c->seg[1], &id) < 0)
			return mgmt_fail(&c->err, 404, "not_found",
			    "A log entry's id is a number.");
		return mgmt_log_get(r->store, r->arena, id, &c->err);
	}
	if (!is(c, "GET", 1)) {
		c->allowed = c->nseg <= 2;
		return NULL;
	}
	if (mgmt_log_filter(r, &f, &c->err) < 0)
		return NULL;
	fmt = arg(r, "format");
	if (fmt != NULL && strcmp(fmt, "csv") == 0) {
		*answered = 1;
		*e = mgmt_logs_csv(r, &f);
		return NULL;
	}
	if (fmt != NULL && strcmp(fmt, "json") != 0)
		return mgmt_fail(&c->err, 400, "invalid_format",
		    "format is json or csv.");
	return mgmt_logs(r->store, &f, &c->err);
}

/*
 * GET /sessions[?provider=], DELETE /sessions[?provider=] (all),
 * POST /sessions/prune (the expired ones), DELETE /sessions/ID.
 */
static struct json_object *
sessions(struct call *c)
{
	struct req *r = c->r;

	if (is(c, "GET", 1))
		return mgmt_sessions(r->store, arg(r, "provider"), &c->err);
	if (is(c, "DELETE", 1))
		return mgmt_sessions_end(r->cfg, r->store, r->arena,
		    arg(r, "provider"), 0, &c->err);
	if (is(c, "POST", 2) && strcmp(c->seg[1], "prune") == 0)
		return mgmt_sessions_end(r->cfg, r->store, r->arena, NULL, 1,
		    &c->err);
	if (is(c, "DELETE", 2))
		return mgmt_session_end(r->cfg, r->store, r->arena, c->seg[1],
		    &c->err);
	c->allowed = c->nseg <= 2;
	return NULL;
}

static struct json_object *
dispatch(struct call *c, int *answered, enum app_err *e)
{
	struct req *r = c->r;
	const char *res = c->seg[0];
	uint32_t from, to;

	if (strcmp(res, "health") == 0 && is(c, "GET", 1))
		return mgmt_health(r->cfg, r->store, &c->err);
	if (strcmp(res, "providers") == 0 && is(c, "GET", 1))
		return mgmt_providers(r->cfg, r->store, &c->err);
	if (strcmp(res, "config") == 0 && is(c, "GET", 1))
		return mgmt_config(r->cfg, &c->err);
	if (strcmp(res, "statistics") == 0 && is(c, "GET", 1)) {
		if (parse_day(r->store, arg(r, "from"), &from) < 0 ||
		    parse_day(r->store, arg(r, "to"), &to) < 0)
			return mgmt_fail(&c->err, 400, "invalid_day",
			    "from and to are days as YYYYMMDD.");
		return mgmt_statistics(r->store, from, to, &c->err);
	}
	if (strcmp(res, "accounts") == 0)
		return accounts(c);
	if (strcmp(res, "api-keys") == 0)
		return keys(c);
	if (strcmp(res, "model-mappings") == 0)
		return mappings(c);
	if (strcmp(res, "logs") == 0)
		return logs(c, answered, e);
	if (strcmp(res, "sessions") == 0)
		return sessions(c);
	c->allowed = (strcmp(res, "health") == 0 || strcmp(res,
	    "providers") == 0 || strcmp(res, "config") == 0 ||
	    strcmp(res, "statistics") == 0) && c->nseg == 1;
	return NULL;
}

enum app_err
h_management(struct req *r, const char *rest)
{
	struct json_object *data;
	struct call c;
	char *path, *p, *save = NULL;
	enum app_err e = APP_OK;
	int answered = 0;

	if (r->cfg->management_secret == NULL ||
	    *r->cfg->management_secret == '\0')
		return resp_error(r, 404, "invalid_request_error", "not_found",
		    NULL, "Unknown request URL: %s %s.", r->method, r->path);
	if (!authorized(r, &e))
		return e;
	if (r->store == NULL)
		return APP_STORE;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.m = r->method;
	if ((path = arena_strdup(r->arena, rest)) == NULL)
		return APP_ENOMEM;
	for (p = strtok_r(path, "/", &save); p != NULL;
	    p = strtok_r(NULL, "/", &save)) {
		if (c.nseg == SEGS_MAX) {
			c.nseg = 0;
			break;
		}
		c.seg[c.nseg++] = p;
	}
	if (c.nseg == 0) {
		mgmt_fail(&c.err, 404, "not_found", "No such management "
		    "resource.");
		return reply_err(r, &c.err, NULL);
	}
	data = dispatch(&c, &answered, &e);
	if (answered)
		return e;
	if (data == NULL && c.err.status == 0) {
		if (c.allowed)
			mgmt_fail(&c.err, 405, "method_not_allowed", "Method "
			    "%s is not allowed here.", c.m);
		else
			mgmt_fail(&c.err, 404, "not_found", "No such "
			    "management resource.");
	}
	return reply(r, data, &c.err);
}
