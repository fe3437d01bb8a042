/*
 * The request log and the effective configuration for the management
 * layer (see mgmt.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/mgmt.h"

#define LOGS_LIMIT_MAX	1000

struct json_object *
mgmt_log_entry(const struct reqlog_entry *e)
{
	struct json_object *o = json_object_new_object();
	char id[24];

	/* ids pass 2^53: a string, so JavaScript keeps every digit */
	snprintf(id, sizeof(id), "%llu", (unsigned long long)e->id);
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "time", json_object_new_double(
	    (double)e->id / 1e6));
	json_object_object_add(o, "method", json_object_new_string(e->method));
	json_object_object_add(o, "route", json_object_new_string(e->route));
	json_object_object_add(o, "status", json_object_new_int(e->status));
	json_object_object_add(o, "model", json_object_new_string(e->model));
	json_object_object_add(o, "provider",
	    json_object_new_string(e->provider));
	json_object_object_add(o, "account",
	    json_object_new_string(e->account));
	json_object_object_add(o, "key", json_object_new_string(e->key));
	json_object_object_add(o, "latency_ms",
	    json_object_new_int64(e->latency_ms));
	json_object_object_add(o, "ttfc_ms", e->ttfc_ms >= 0 ?
	    json_object_new_int64(e->ttfc_ms) : NULL);
	json_object_object_add(o, "stream", json_object_new_boolean(e->stream));
	json_object_object_add(o, "error", json_object_new_string(e->error));
	if (e->req_len > 0)
		json_object_object_add(o, "request_body",
		    json_object_new_string_len(e->req_body, (int)e->req_len));
	if (e->resp_len > 0)
		json_object_object_add(o, "response_body",
		    json_object_new_string_len(e->resp_body, (int)e->resp_len));
	return o;
}

static int
log_row(void *arg, const struct reqlog_entry *e)
{
	json_object_array_add(arg, mgmt_log_entry(e));
	return 0;
}

struct json_object *
mgmt_logs(struct store *st, const struct reqlog_filter *f,
    struct mgmt_err *err)
{
	struct reqlog_filter lf = *f;
	struct json_object *arr;

	if (lf.limit == 0 || lf.limit > LOGS_LIMIT_MAX)
		lf.limit = LOGS_LIMIT_MAX;
	arr = json_object_new_array();
	if (reqlog_query(st, &lf, log_row, arr) != STORE_OK) {
		json_object_put(arr);
		return mgmt_fail(err, 503, "store_error",
		    "The request log cannot be read.");
	}
	return arr;
}

struct json_object *
mgmt_log_get(struct store *st, struct arena *a, uint64_t id,
    struct mgmt_err *err)
{
	struct reqlog_entry e;
	enum store_err se;

	if ((se = reqlog_get(st, a, id, &e)) == STORE_NOTFOUND)
		return mgmt_fail(err, 404, "not_found",
		    "No log entry has that id (it may have been pruned).");
	if (se != STORE_OK)
		return mgmt_fail(err, 503, "store_error",
		    "The request log cannot be read.");
	return mgmt_log_entry(&e);
}

/*
 * A value with a user and password before an @ in a URL (a base URL with a
 * login) shows three stars for the login instead.
 */
static struct json_object *
masked_userinfo(const char *v)
{
	struct json_object *o;
	const char *p, *at, *end;
	char *out, *w;

	/* "://@" grows by the three stars: twice the length is room */
	if ((out = malloc(2 * strlen(v) + 4)) == NULL)
		return json_object_new_string("");
	for (p = v, w = out; *p; ) {
		if (strncmp(p, "://", 3) == 0) {
			end = p + 3 + strcspn(p + 3, "/,; ");
			at = memchr(p + 3, '@', (size_t)(end - p - 3));
			memcpy(w, "://", 3);
			w += 3;
			if (at != NULL) {
				memcpy(w, "***", 3);
				w += 3;
				p = at;
			} else
				p += 3;
			continue;
		}
		*w++ = *p++;
	}
	*w = '\0';
	o = json_object_new_string(out);
	free(out);
	return o;
}

struct json_object *
mgmt_config(const struct config *cfg, struct mgmt_err *err)
{
	struct json_object *arr = json_object_new_array(), *o;
	struct config_desc d;
	size_t i;

	(void)cfg;
	(void)err;
	for (i = 0; config_describe(i, &d) == 0; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "name",
		    json_object_new_string(d.name));
		/* a secret says only whether it is set */
		if (d.secret)
			json_object_object_add(o, "value",
			    json_object_new_string(d.value != NULL &&
			    *d.value ? "(set, hidden)" : ""));
		else
			json_object_object_add(o, "value",
			    masked_userinfo(d.value ? d.value : ""));
		json_object_object_add(o, "source",
		    json_object_new_string(d.source));
		json_object_object_add(o, "secret",
		    json_object_new_boolean(d.secret));
		json_object_object_add(o, "help",
		    json_object_new_string(d.help));
		json_object_array_add(arr, o);
	}
	return arr;
}
