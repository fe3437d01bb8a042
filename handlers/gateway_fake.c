/*
 * The routes of chatgpt.md §9.2 that never reach the site, or not for a
 * seed: a seed gets a neutral profile instead of its account's, its own
 * conversation list instead of the account's, and no way to change what
 * the account's other users share (payments, memories, logout of every
 * device ...).  With NO_SENTINEL the browser's sentinel is answered here
 * (the server runs the real one when the conversation is posted).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/resp.h"
#include "handlers/gateway.h"
#include "upstream/call.h"

#define FAKE_EMAIL	"chatgpt@openai.com"

enum who { ALL, SEEDS, NO_SENTINEL };

struct fake {
	const char	*method;
	const char	*path;
	int		 prefix;	/* path is a prefix */
	enum who	 who;
	int		 status;
	const char	*json;		/* a fixed answer, or NULL */
	enum app_err	(*fn)(struct req *, struct gw_ident *);
};

static enum app_err	fake_me(struct req *, struct gw_ident *);
static enum app_err	fake_session(struct req *, struct gw_ident *);
static enum app_err	fake_conversations(struct req *, struct gw_ident *);
static enum app_err	fake_requirements(struct req *, struct gw_ident *);

static const struct fake fakes[] = {
	{ "GET", "/backend-api/me", 0, SEEDS, 200, NULL, fake_me },
	{ "GET", "/backend-api/gizmos/bootstrap", 0, SEEDS, 200,
	  "{\"gizmos\":[]}", NULL },
	{ "GET", "/backend-api/gizmos/pinned", 0, SEEDS, 200,
	  "{\"items\":[],\"cursor\":null}", NULL },
	{ "GET", "/public-api/gizmos/discovery/recent", 0, SEEDS, 200,
	  "{\"info\":{\"id\":\"recent\",\"title\":\"Recently Used\"},"
	  "\"list\":{\"items\":[],\"cursor\":null}}", NULL },
	{ "GET", "/backend-api/subscriptions", 0, ALL, 200,
	  "{\"id\":\"sub-chatgpt\",\"plan_type\":\"free\",\"seats_in_use\":1,"
	  "\"seats_entitled\":1,\"active_until\":\"2050-01-01T00:00:00Z\","
	  "\"billing_period\":null,\"will_renew\":false,"
	  "\"billing_currency\":\"USD\",\"is_delinquent\":false}", NULL },
	{ "GET", "/backend-api/conversations", 0, SEEDS, 200, NULL,
	  fake_conversations },
	{ "PATCH", "/backend-api/conversations", 0, SEEDS, 403,
	  "{\"detail\":\"Forbidden\"}", NULL },
	{ "GET", "/backend-api/tasks", 0, SEEDS, 200,
	  "{\"tasks\":[],\"cursor\":null}", NULL },
	{ "GET", "/backend-api/user_system_messages", 0, SEEDS, 200,
	  "{\"object\":\"user_system_message_detail\",\"enabled\":false,"
	  "\"about_user_message\":\"\",\"about_model_message\":\"\","
	  "\"name_user_message\":\"\",\"role_user_message\":\"\","
	  "\"traits_model_message\":\"\",\"other_user_message\":\"\","
	  "\"disabled_tools\":[]}", NULL },
	{ "GET", "/backend-api/memories", 0, SEEDS, 200,
	  "{\"memories\":[],\"memory_max_tokens\":10000,"
	  "\"memory_num_tokens\":0}", NULL },
	{ "POST", "/backend-api/edge", 0, ALL, 204, "", NULL },
	{ "POST", "/v1/rgstr", 0, ALL, 202, "{\"success\":true}", NULL },
	{ "GET", "/ces/v1/projects/oai/settings", 0, ALL, 200,
	  "{\"integrations\":{\"Segment.io\":{\"apiHost\":"
	  "\"chatgpt.com/ces/v1\",\"apiKey\":\"oai\"}}}", NULL },
	{ "POST", "/ces/v1/", 1, ALL, 202, "{\"success\":true}", NULL },
	{ "POST", "/ces/statsc/flush", 0, ALL, 200, "{}", NULL },
	{ "POST", "/backend-api/sentinel/chat-requirements", 0, NO_SENTINEL,
	  200, NULL, fake_requirements },
	{ "GET", "/api/auth/session", 0, ALL, 200, NULL, fake_session },
};

/*
 * What a seed may not touch (§9.2): "*" is one path segment; a path
 * under a listed one is banned too.
 */
static const char *const banned[] = {
	"/backend-api/accounts/logout_all",
	"/backend-api/accounts/deactivate",
	"/backend-api/accounts/mfa_info",
	"/backend-api/accounts/*/invites",
	"/backend-api/payments",
	"/backend-api/subscriptions",
	"/backend-api/user_system_messages",
	"/backend-api/memories",
	"/backend-api/settings/clear_account_user_memory",
	"/backend-api/conversations/*",
	"/admin",
};

static int
banned_match(const char *pat, const char *path)
{
	const char *pe, *se;

	while (*pat == '/' && *path == '/') {
		pat++;
		path++;
		pe = strchr(pat, '/');
		se = strchr(path, '/');
		if (pe == NULL)
			pe = pat + strlen(pat);
		if (se == NULL)
			se = path + strlen(path);
		if (!(pe - pat == 1 && *pat == '*' && se > path) &&
		    (pe - pat != se - path || strncmp(pat, path,
		    (size_t)(pe - pat)) != 0))
			return 0;
		pat = pe;
		path = se;
	}
	return *pat == '\0' && (*path == '\0' || *path == '/');
}

static int
uuid_shaped(const char *s, size_t n)
{
	size_t i;

	if (n != 36)
		return 0;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return 1;
}

const char *
gw_conv_id_of(struct arena *a, const char *path)
{
	static const char *const pfx[] = { "/backend-api/conversation/",
	    "/backend-api/f/conversation/" };
	const char *id = NULL, *end;
	size_t i, n;

	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]) && id == NULL; i++)
		if (strncmp(path, pfx[i], strlen(pfx[i])) == 0)
			id = path + strlen(pfx[i]);
	if (id == NULL)
		return NULL;
	end = strchr(id, '/');
	n = end != NULL ? (size_t)(end - id) : strlen(id);
	/* Other words there (init, resume ...) are actions, not ids. */
	return uuid_shaped(id, n) ? arena_strndup(a, id, n) : NULL;
}

/* ------------------------------------------------------------ answers */

static enum app_err
fake_me(struct req *r, struct gw_ident *id)
{
	(void)id;
	return gw_json(r, 200, "{\"object\":\"user\",\"id\":\"user-chatgpt\","
	    "\"email\":\"" FAKE_EMAIL "\",\"name\":\"ChatGPT\","
	    "\"picture\":null,\"created\":1700000000,\"phone_number\":null,"
	    "\"mfa_flag_enabled\":false,\"amr\":[],\"groups\":[],"
	    "\"orgs\":{\"object\":\"list\",\"data\":[{\"object\":"
	    "\"organization\",\"id\":\"org-chatgpt\",\"created\":1700000000,"
	    "\"title\":\"Personal\",\"name\":\"user-chatgpt\","
	    "\"description\":\"Personal org for " FAKE_EMAIL "\","
	    "\"personal\":true,\"settings\":{},\"parent_org_id\":null,"
	    "\"is_default\":true,\"role\":\"owner\",\"is_scim_managed\":false,"
	    "\"projects\":{\"object\":\"list\",\"data\":[]},\"groups\":[],"
	    "\"geography\":null}]},\"has_payg_project_spend_limit\":true}");
}

/* What the page's scripts ask for its session: the login it holds. */
static enum app_err
fake_session(struct req *r, struct gw_ident *id)
{
	struct buf b;
	enum app_err e;

	if (id->login == NULL)
		return gw_json(r, 200, "{}");
	buf_init(&b, 0);
	buf_adds(&b, "{\"user\":{\"id\":\"user-chatgpt\",\"name\":\"ChatGPT\","
	    "\"email\":");
	buf_json_str(&b, id->kind == GW_SEED || id->email == NULL ?
	    FAKE_EMAIL : id->email, strlen(id->kind == GW_SEED ||
	    id->email == NULL ? FAKE_EMAIL : id->email));
	buf_adds(&b, ",\"image\":null,\"picture\":null,\"idp\":\"auth0\","
	    "\"mfa\":false,\"groups\":[]},\"expires\":"
	    "\"2099-01-01T00:00:00.000Z\",\"accessToken\":");
	buf_json_str(&b, id->login, strlen(id->login));
	buf_adds(&b, ",\"authProvider\":\"auth0\"}");
	e = b.failed ? APP_ENOMEM : gw_json(r, 200, b.p);
	buf_free(&b);
	return e;
}

static enum app_err
fake_requirements(struct req *r, struct gw_ident *id)
{
	char uuid[37], json[320];

	(void)id;
	call_uuid4(uuid);
	snprintf(json, sizeof(json), "{\"arkose\":{\"dx\":null,\"required\":"
	    "false},\"persona\":\"chatgpt-paid\",\"proofofwork\":"
	    "{\"difficulty\":null,\"required\":false,\"seed\":null},"
	    "\"token\":\"%s\",\"turnstile\":{\"dx\":null,\"required\":false}}",
	    uuid);
	return gw_json(r, 200, json);
}

static void
iso_ms(struct buf *b, int64_t ms)
{
	char ts[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(b, "\"%s.%03dZ\"", ts, (int)(ms % 1000));
}

int
gw_conv_list_json(struct buf *b, const struct seed_conv *c, size_t n,
    size_t total, size_t limit, size_t offset)
{
	size_t i;

	buf_adds(b, "{\"items\":[");
	for (i = 0; i < n; i++) {
		buf_adds(b, i ? ",{\"id\":" : "{\"id\":");
		buf_json_str(b, c[i].id, strlen(c[i].id));
		buf_adds(b, ",\"title\":");
		buf_json_str(b, c[i].title, strlen(c[i].title));
		buf_adds(b, ",\"create_time\":");
		iso_ms(b, c[i].create_ms);
		buf_adds(b, ",\"update_time\":");
		iso_ms(b, c[i].update_ms);
		buf_adds(b, ",\"mapping\":null,\"current_node\":null,"
		    "\"conversation_template_id\":null,\"gizmo_id\":");
		if (c[i].gizmo_id[0])
			buf_json_str(b, c[i].gizmo_id, strlen(c[i].gizmo_id));
		else
			buf_adds(b, "null");
		buf_printf(b, ",\"is_archived\":%s,\"workspace_id\":null,"
		    "\"async_status\":null}", c[i].archived ? "true" :
		    "false");
	}
	buf_printf(b, "],\"total\":%zu,\"limit\":%zu,\"offset\":%zu,"
	    "\"has_missing_conversations\":false}", total, limit, offset);
	return b->failed ? -1 : 0;
}

/* A number of the query, bounded; def when absent or not a number. */
static size_t
query_size(struct req *r, const char *key, size_t def, size_t max)
{
	const char *v = req_query_get(r, key);
	unsigned long n;
	char *end;

	if (v == NULL || *v == '\0' || strlen(v) > 9)
		return def;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end != '\0')
		return def;
	return n > max ? max : (size_t)n;
}

/* The seed's own list (§9.4), never the account's. */
static enum app_err
fake_conversations(struct req *r, struct gw_ident *id)
{
	struct seed_conv *c;
	const char *arch = req_query_get(r, "is_archived");
	size_t offset, limit, n, total;
	struct buf b;
	enum app_err e;

	offset = query_size(r, "offset", 0, SEED_CONVS_MAX);
	limit = query_size(r, "limit", GW_LIST_DEFAULT, SEED_PAGE_MAX);
	if ((c = arena_calloc(r->arena, SEED_PAGE_MAX, sizeof(*c))) == NULL)
		return APP_ENOMEM;
	if (seed_conv_list(r->store, id->login, arch != NULL &&
	    strcmp(arch, "true") == 0, offset, limit, c, &n, &total) !=
	    SEED_OK)
		return gw_detail(r, 500, "The conversation list could not be "
		    "read.");
	buf_init(&b, 0);
	gw_conv_list_json(&b, c, n, total, limit, offset);
	e = b.failed ? APP_ENOMEM : gw_json(r, 200, b.p);
	buf_free(&b);
	return e;
}

int
gw_fake(struct req *r, struct gw_ident *id, enum app_err *e)
{
	const struct fake *f;
	const char *m = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	int seed = id->kind == GW_SEED;
	size_t i;

	for (f = fakes; f < fakes + sizeof(fakes) / sizeof(fakes[0]); f++) {
		if (strcmp(f->method, m) != 0 || (f->prefix ?
		    strncmp(r->path, f->path, strlen(f->path)) != 0 :
		    strcmp(r->path, f->path) != 0))
			continue;
		if ((f->who == SEEDS && !seed) ||
		    (f->who == NO_SENTINEL && !r->cfg->no_sentinel))
			continue;
		if (f->fn != NULL)
			*e = f->fn(r, id);
		else if (f->status == 204)
			*e = gw_send(r, 204, NULL, NULL, "", 0);
		else
			*e = gw_json(r, f->status, f->json);
		return 1;
	}
	if (!seed)
		return 0;
	for (i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
		if (banned_match(banned[i], r->path)) {
			log_info("gateway: seed %s: %s %s is banned", id->fp,
			    r->method, r->path);
			*e = gw_detail(r, 403, "Forbidden");
			return 1;
		}
	return 0;
}
