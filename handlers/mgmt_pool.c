/*
 * Accounts, API keys and model mappings for the management layer (see
 * mgmt.h).  Secrets never leave: accounts show fingerprints, keys their
 * hint, except the one answer that creates a key.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "handlers/accounts_ops.h"
#include "handlers/mgmt.h"
#include "store/apikeys.h"
#include "store/crypto.h"
#include "store/mappings.h"
#include "upstream/route.h"

#define STORE_FAIL(err, e) mgmt_fail((err), (e) == STORE_NOTFOUND ? 404 : \
	(e) == STORE_INVAL ? 400 : 503, (e) == STORE_NOTFOUND ? "not_found" : \
	(e) == STORE_INVAL ? "invalid_value" : "store_error", "%s", \
	(e) == STORE_NOTFOUND ? "No such item." : store_strerror(e))

static void
add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v != NULL && *v ?
	    json_object_new_string(v) : NULL);
}

static void
add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static struct json_object *
account_json(const struct acct_info *i)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "id", i->id);
	add_str(o, "fingerprint", i->fingerprint);
	add_str(o, "provider", i->provider);
	add_str(o, "status", acct_status_name(i->status));
	add_str(o, "label", i->label);
	add_str(o, "email", i->email);
	add_str(o, "team_id", i->team_id);
	add_int(o, "daily_limit", i->daily_limit);
	add_int(o, "today_use", i->today_use);
	add_int(o, "weight", i->weight);
	add_int(o, "requests", (int64_t)i->requests);
	add_int(o, "successes", (int64_t)i->successes);
	add_int(o, "failures", (int64_t)i->failures);
	add_int(o, "last_latency_ms", i->last_latency_ms);
	add_str(o, "last_error", i->last_error);
	add_int(o, "last_error_at", i->last_error_at);
	add_int(o, "last_used_at", i->last_used_at);
	add_int(o, "created_at", i->created_at);
	add_int(o, "cooldown_until", i->cooldown_until);
	return o;
}

static int
account_row(void *arg, const struct acct_info *i)
{
	json_object_array_add(arg, account_json(i));
	return 0;
}

struct json_object *
mgmt_accounts(struct store *st, const char *provider, struct mgmt_err *err)
{
	struct json_object *arr;
	enum store_err e;

	if (provider != NULL && provider_by_id(provider) == NULL)
		return mgmt_fail(err, 404, "unknown_provider",
		    "There is no provider of that name.");
	arr = json_object_new_array();
	if ((e = acct_list(st, provider, account_row, arr)) != STORE_OK) {
		json_object_put(arr);
		return STORE_FAIL(err, e);
	}
	return arr;
}

/* A string member, or NULL; -1 when present but no string. */
static int
member_str(struct json_object *body, const char *k, const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(body, k, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*out = json_object_get_string(v);
	return 0;
}

/* An integer member in [lo, hi]; 1 when present, -1 when bad. */
static int
member_int(struct json_object *body, const char *k, long lo, long hi,
    uint32_t *out)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(body, k, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	n = json_object_get_int64(v);
	if (n < lo || n > hi)
		return -1;
	*out = (uint32_t)n;
	return 1;
}

struct json_object *
mgmt_account_add(const struct config *cfg, struct store *st,
    struct json_object *body, struct mgmt_err *err)
{
	struct acct_field fields[ACCT_FIELDS_MAX];
	struct json_object *fo, *o, *checked;
	struct accounts_new n;
	struct acct_info info;
	char id[ACCT_ID_LEN + 1], why[256];
	const char *validate = NULL;
	int added;

	memset(&n, 0, sizeof(n));
	if (!json_object_is_type(body, json_type_object) ||
	    member_str(body, "provider", &n.provider) < 0 ||
	    member_str(body, "credential", &n.credential) < 0 ||
	    member_str(body, "label", &n.label) < 0 ||
	    n.provider == NULL || n.credential == NULL)
		return mgmt_fail(err, 400, "invalid_body", "The body is a JSON "
		    "object with provider and credential (strings), and "
		    "optionally label, daily_limit, weight and fields.");
	if (n.label != NULL && strlen(n.label) > ACCT_LABEL_MAX)
		return mgmt_fail(err, 400, "invalid_label", "A label has at "
		    "most %d bytes.", ACCT_LABEL_MAX);
	if (member_int(body, "daily_limit", 0, ACCT_LIMIT_MAX,
	    &n.daily_limit) < 0 || member_int(body, "weight", 1,
	    ACCT_WEIGHT_MAX, &n.weight) < 0)
		return mgmt_fail(err, 400, "invalid_number", "daily_limit is "
		    "0..%d, weight 1..%d.", ACCT_LIMIT_MAX, ACCT_WEIGHT_MAX);
	if (json_object_object_get_ex(body, "fields", &fo) && fo != NULL) {
		if (!json_object_is_type(fo, json_type_object))
			return mgmt_fail(err, 400, "invalid_fields",
			    "fields is an object of strings.");
		json_object_object_foreach(fo, k, v) {
			if (!json_object_is_type(v, json_type_string) ||
			    n.nfields >= ACCT_FIELDS_MAX)
				return mgmt_fail(err, 400, "invalid_fields",
				    "fields is an object of at most %d "
				    "strings.", ACCT_FIELDS_MAX);
			fields[n.nfields].name = k;
			fields[n.nfields++].value = json_object_get_string(v);
		}
	}
	n.fields = fields;
	if (accounts_add_one(st, &n, id, &added, why, sizeof(why)) < 0)
		return mgmt_fail(err, provider_by_id(n.provider) == NULL ?
		    404 : 400, "invalid_account", "%s.", why);
	/* validated before the operator relies on it, when asked */
	if (json_object_object_get_ex(body, "validate", &fo) &&
	    json_object_get_boolean(fo))
		validate = id;
	if (acct_get(st, id, &info) != STORE_OK)
		return mgmt_fail(err, 503, "store_error",
		    "The account was stored but cannot be read back.");
	o = json_object_new_object();
	json_object_object_add(o, "added", json_object_new_boolean(added));
	if (validate != NULL &&
	    (checked = mgmt_account_validate(cfg, st, id, err)) != NULL) {
		json_object_object_add(o, "validation", checked);
		acct_get(st, id, &info);
	}
	json_object_object_add(o, "account", account_json(&info));
	return o;
}

static const char *const verdicts[] = {
	[PROVIDER_VALID] = "valid",
	[PROVIDER_INVALID] = "invalid",
	[PROVIDER_EXPIRED] = "expired",
	[PROVIDER_UNKNOWN] = "unknown",
};

static void
checked_row(void *arg, const struct accounts_checked *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "account", account_json(&c->info));
	add_str(o, "verdict", verdicts[c->check.verdict]);
	add_str(o, "message", c->check.message);
	add_int(o, "latency_ms", c->check.latency_ms);
	json_object_array_add(arg, o);
}

struct json_object *
mgmt_account_validate(const struct config *cfg, struct store *st,
    const char *which, struct mgmt_err *err)
{
	struct json_object *arr = json_object_new_array();

	if (accounts_validate(cfg, st, which, checked_row, arr) < 0) {
		json_object_put(arr);
		return mgmt_fail(err, 404, "not_found", "No account or "
		    "provider of that name has accounts.");
	}
	return arr;
}

static struct json_object *
account_after(struct store *st, const char *id, struct mgmt_err *err)
{
	struct acct_info info;
	enum store_err e;

	if ((e = acct_get(st, id, &info)) != STORE_OK)
		return STORE_FAIL(err, e);
	return account_json(&info);
}

struct json_object *
mgmt_account_enable(struct store *st, const char *id, int enable,
    struct mgmt_err *err)
{
	struct acct_change ch;
	enum store_err e;

	memset(&ch, 0, sizeof(ch));
	ch.set = ACCT_SET_STATUS;
	ch.status = enable ? ACCT_ACTIVE : ACCT_INACTIVE;
	if ((e = acct_set(st, id, &ch)) != STORE_OK)
		return STORE_FAIL(err, e);
	return account_after(st, id, err);
}

struct json_object *
mgmt_account_set(struct store *st, const char *id, struct json_object *body,
    struct mgmt_err *err)
{
	struct acct_change ch;
	enum store_err e;
	int got;

	memset(&ch, 0, sizeof(ch));
	if (!json_object_is_type(body, json_type_object) ||
	    member_str(body, "label", &ch.label) < 0)
		return mgmt_fail(err, 400, "invalid_body", "The body is a JSON "
		    "object with label, daily_limit or weight.");
	if (ch.label != NULL) {
		if (strlen(ch.label) > ACCT_LABEL_MAX)
			return mgmt_fail(err, 400, "invalid_label", "A label "
			    "has at most %d bytes.", ACCT_LABEL_MAX);
		ch.set |= ACCT_SET_LABEL;
	}
	if ((got = member_int(body, "daily_limit", 0, ACCT_LIMIT_MAX,
	    &ch.daily_limit)) < 0)
		return mgmt_fail(err, 400, "invalid_number", "daily_limit is "
		    "0..%d.", ACCT_LIMIT_MAX);
	if (got)
		ch.set |= ACCT_SET_LIMIT;
	if ((got = member_int(body, "weight", 1, ACCT_WEIGHT_MAX,
	    &ch.weight)) < 0)
		return mgmt_fail(err, 400, "invalid_number", "weight is "
		    "1..%d.", ACCT_WEIGHT_MAX);
	if (got)
		ch.set |= ACCT_SET_WEIGHT;
	if (ch.set == 0)
		return mgmt_fail(err, 400, "nothing_to_change", "Give label, "
		    "daily_limit or weight.");
	if ((e = acct_set(st, id, &ch)) != STORE_OK)
		return STORE_FAIL(err, e);
	return account_after(st, id, err);
}

struct json_object *
mgmt_account_delete(struct store *st, const char *id, struct mgmt_err *err)
{
	struct json_object *o;
	enum store_err e;

	if ((e = acct_remove(st, NULL, id)) != STORE_OK)
		return STORE_FAIL(err, e);
	o = json_object_new_object();
	add_str(o, "deleted", id);
	return o;
}

static struct json_object *
key_json(const struct apikey_info *k)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "id", k->id);
	add_str(o, "name", k->name);
	add_str(o, "hint", k->hint);
	json_object_object_add(o, "enabled",
	    json_object_new_boolean(k->enabled));
	add_int(o, "created_at", k->created_at);
	add_int(o, "last_used_at", k->last_used_at);
	add_int(o, "requests", (int64_t)k->requests);
	return o;
}

static int
key_row(void *arg, const struct apikey_info *k)
{
	json_object_array_add(arg, key_json(k));
	return 0;
}

struct json_object *
mgmt_keys(struct store *st, struct mgmt_err *err)
{
	struct json_object *arr = json_object_new_array();
	enum store_err e;

	if ((e = apikey_list(st, key_row, arr)) != STORE_OK) {
		json_object_put(arr);
		return STORE_FAIL(err, e);
	}
	return arr;
}

struct json_object *
mgmt_key_create(struct store *st, const char *name, struct mgmt_err *err)
{
	struct apikey_info info;
	struct json_object *o;
	char key[APIKEY_LEN + 1];
	enum store_err e;

	if (name == NULL || *name == '\0' || strlen(name) > APIKEY_NAME_MAX)
		return mgmt_fail(err, 400, "invalid_name", "A key needs a name "
		    "of 1 to %d bytes.", APIKEY_NAME_MAX);
	if ((e = apikey_create(st, name, key, &info)) != STORE_OK)
		return STORE_FAIL(err, e);
	o = key_json(&info);
	add_str(o, "key", key);
	crypto_wipe(key, sizeof(key));
	return o;
}

struct json_object *
mgmt_key_enable(struct store *st, const char *id, int enable,
    struct mgmt_err *err)
{
	struct json_object *o;
	enum store_err e;

	if ((e = apikey_enable(st, id, enable)) != STORE_OK)
		return STORE_FAIL(err, e);
	o = json_object_new_object();
	add_str(o, "id", id);
	json_object_object_add(o, "enabled", json_object_new_boolean(enable));
	return o;
}

struct json_object *
mgmt_key_delete(struct store *st, const char *id, struct mgmt_err *err)
{
	struct json_object *o;
	enum store_err e;

	if ((e = apikey_remove(st, id)) != STORE_OK)
		return STORE_FAIL(err, e);
	o = json_object_new_object();
	add_str(o, "deleted", id);
	return o;
}

static struct json_object *
mapping_json(const char *name, const char *target, const char *provider,
    const char *account, const char *source)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "name", name);
	add_str(o, "target", target);
	add_str(o, "provider", provider);
	add_str(o, "account", account);
	add_str(o, "source", source);
	return o;
}

static int
mapping_row(void *arg, const struct mapping *m)
{
	json_object_array_add(arg, mapping_json(m->name, m->target,
	    m->provider, m->account, "store"));
	return 0;
}

struct json_object *
mgmt_mappings(const struct config *cfg, struct store *st,
    struct mgmt_err *err)
{
	struct json_object *arr = json_object_new_array();
	const struct model_map *m;
	enum store_err e;
	size_t i;

	/* MODEL_MAPPING first: it wins, as in routing */
	for (i = 0; i < cfg->model_mapping.n; i++) {
		m = &cfg->model_mapping.v[i];
		json_object_array_add(arr, mapping_json(m->name, m->target,
		    m->provider, m->account, "MODEL_MAPPING"));
	}
	if ((e = mapping_list(st, mapping_row, arr)) != STORE_OK) {
		json_object_put(arr);
		return STORE_FAIL(err, e);
	}
	return arr;
}

static int
copy_member(struct json_object *body, const char *k, char *out, size_t sz,
    int required)
{
	const char *v;

	if (member_str(body, k, &v) < 0 || (v == NULL && required) ||
	    (v != NULL && (strlen(v) >= sz || (required && *v == '\0'))))
		return -1;
	snprintf(out, sz, "%s", v != NULL ? v : "");
	return 0;
}

struct json_object *
mgmt_mapping_add(struct store *st, struct json_object *body,
    struct mgmt_err *err)
{
	struct mapping m;
	enum store_err e;

	memset(&m, 0, sizeof(m));
	if (!json_object_is_type(body, json_type_object) ||
	    copy_member(body, "name", m.name, sizeof(m.name), 1) < 0 ||
	    copy_member(body, "target", m.target, sizeof(m.target), 1) < 0 ||
	    copy_member(body, "provider", m.provider, sizeof(m.provider),
	    0) < 0 ||
	    copy_member(body, "account", m.account, sizeof(m.account), 0) < 0)
		return mgmt_fail(err, 400, "invalid_body", "The body is a JSON "
		    "object with name and target (1 to %d bytes), and "
		    "optionally provider and account.", MAPPING_NAME_MAX);
	if (m.provider[0] && provider_by_id(m.provider) == NULL)
		return mgmt_fail(err, 400, "unknown_provider",
		    "There is no provider of that name.");
	if ((e = mapping_put(st, &m)) != STORE_OK)
		return STORE_FAIL(err, e);
	return mapping_json(m.name, m.target, m.provider, m.account, "store");
}

struct json_object *
mgmt_mapping_delete(struct store *st, const char *name, struct mgmt_err *err)
{
	struct json_object *o;
	enum store_err e;

	if ((e = mapping_remove(st, name)) != STORE_OK)
		return STORE_FAIL(err, e);
	o = json_object_new_object();
	add_str(o, "deleted", name);
	return o;
}

struct json_object *
mgmt_resolve(const struct config *cfg, struct store *st, const char *name,
    struct mgmt_err *err)
{
	struct json_object *o;
	struct acct_counts c;
	struct route rt;
	struct arena a;
	enum route_err re;
	const char *strategy;

	if (name == NULL || *name == '\0' || strlen(name) > MAPPING_NAME_MAX)
		return mgmt_fail(err, 400, "invalid_model", "Give a model name "
		    "of 1 to %d bytes.", MAPPING_NAME_MAX);
	arena_init(&a, 1u << 20);
	if ((re = route_resolve(cfg, st, &a, name, &rt)) != ROUTE_OK) {
		arena_free(&a);
		return mgmt_fail(err, re == ROUTE_UNKNOWN ? 404 : 500,
		    "unroutable", "%s", route_strerror(re));
	}
	o = json_object_new_object();
	add_str(o, "model", name);
	add_str(o, "provider", rt.provider->id);
	add_str(o, "upstream_model", rt.upstream_model);
	add_str(o, "reported_as", rt.reported);
	add_str(o, "mapping", rt.mapping);
	add_str(o, "via", rt.mapping ? "mapping" : rt.model ? "built-in" :
	    "catch-all");
	json_object_object_add(o, "think",
	    json_object_new_boolean((rt.flags & ROUTE_THINK) != 0));
	json_object_object_add(o, "search",
	    json_object_new_boolean((rt.flags & ROUTE_SEARCH) != 0));
	add_str(o, "account", rt.pin_account);
	strategy = config_lb_strategy(cfg, rt.provider->id);
	add_str(o, "strategy", strategy != NULL ? strategy : "round-robin");
	if (acct_count(st, rt.provider->id, &c) == STORE_OK)
		add_int(o, "usable_accounts", (int64_t)c.usable);
	arena_free(&a);
	return o;
}
