/*
 * Model routing (upstream/route.c), MODEL_MAPPING (fcgi/conf_mapping.c)
 * and the stored mappings (store/mappings.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi/arena.h"
#include "fcgi/conf.h"
#include "store/accounts.h"
#include "store/mappings.h"
#include "store/store.h"
#include "upstream/chatgpt/chatgpt.h"
#include "upstream/deepseek/deepseek.h"
#include "upstream/route.h"
#include "unit.h"

#define OK(e)		ck_assert_int_eq((e), STORE_OK)
#define IS(e, want)	ck_assert_int_eq((e), (want))
#define TS		(ROUTE_THINK | ROUTE_SEARCH)

static char dir[256];
static struct store *st;
static struct config cfg;
static struct arena ar;
static char err[512];

static void
setup(void)
{
	strcpy(dir, "/tmp/c2a-route-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	IS(store_open(&st, dir, 1 << 20), STORE_OK);
	IS(store_key_init(st, NULL, err, sizeof(err)), STORE_OK);
	memset(&cfg, 0, sizeof(cfg));
	arena_init(&ar, 0);
	err[0] = '\0';
}

static void
teardown(void)
{
	char cmd[300];

	config_free_mapping(&cfg.model_mapping);
	arena_free(&ar);
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	IS(system(cmd), 0);
}

/* MODEL_MAPPING for the routes that follow. */
static void
env_map(const char *json)
{
	config_free_mapping(&cfg.model_mapping);
	ck_assert_msg(config_parse_mapping(json, &cfg.model_mapping, err,
	    sizeof(err)) == 0, "%s", err);
}

/*
 * Resolves name and checks where it goes: provider, built-in model (or
 * NULL), the upstream model, the flags and the mapping that matched.
 */
static const struct route *
route_is(struct store *s, const char *name, const char *prov,
    const char *model, const char *upstream, unsigned flags,
    const char *mapping)
{
	static struct route r;

	IS(route_resolve(&cfg, s, &ar, name, &r), ROUTE_OK);
	ck_assert_ptr_nonnull(r.provider);
	ck_assert_msg(strcmp(r.provider->id, prov) == 0, "%s: %s, want %s",
	    name, r.provider->id, prov);
	if (model == NULL)
		ck_assert_ptr_null(r.model);
	else {
		ck_assert_ptr_nonnull(r.model);
		ck_assert_str_eq(r.model->id, model);
	}
	ck_assert_str_eq(r.upstream_model, upstream);
	ck_assert_msg(r.flags == flags, "%s: flags %#x, want %#x", name,
	    r.flags, flags);
	if (mapping == NULL)
		ck_assert_ptr_null(r.mapping);
	else {
		ck_assert_ptr_nonnull(r.mapping);
		ck_assert_str_eq(r.mapping, mapping);
	}
	ck_assert_str_eq(r.requested, name);
	return &r;
}

START_TEST(glob)
{
	static const struct { const char *p, *s; int want; } t[] = {
		{ "*", "anything", 1 },	{ "*", "", 1 },
		{ "", "", 1 },		{ "", "a", 0 },
		{ "abc", "ABC", 1 },	{ "abc", "abcd", 0 },
		{ "abc", "ab", 0 },	{ "gpt-*", "gpt-4o", 1 },
		{ "gpt-*", "gpt-", 1 },	{ "gpt-*", "gp", 0 },
		{ "gpt-*", "xgpt-4", 0 },
		{ "*-mini", "o3-mini", 1 },
		{ "*-mini", "o3-mini-high", 0 },
		{ "*-MINI", "O4-Mini", 1 },
		{ "o*-mini", "o3-mini", 1 },
		{ "o*-mini", "4o-mini", 0 },
		{ "o*-mini", "o-mini", 1 },
		{ "a*b*c", "aXbYc", 1 },	{ "a*b*c", "abc", 1 },
		{ "a*b*c", "aXcYb", 0 },	{ "a**b", "ab", 1 },
		{ "*ab", "aab", 1 },	{ "*ab", "aba", 0 },
		{ "a*a", "a", 0 },	{ "a*a", "aa", 1 },
		{ "*a*", "banana", 1 },	{ "*x*", "banana", 0 },
		{ "DeepSeek-*-Search", "deepseek-r1-search", 1 },
		{ "DeepSeek-*-Search", "deepseek-r1-search-x", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(route_glob(t[i].p, t[i].s) == t[i].want,
		    "glob(\"%s\", \"%s\") != %d", t[i].p, t[i].s, t[i].want);
}
END_TEST

START_TEST(builtin_names)
{
	const struct route *r;

	r = route_is(NULL, "gpt-4o", "chatgpt", "gpt-4o", "gpt-4o", 0, NULL);
	ck_assert_str_eq(r->reported, "gpt-4o-2024-08-06");
	route_is(NULL, "GPT-4O-Mini", "chatgpt", "gpt-4o-mini", "gpt-4o-mini",
	    0, NULL);
	route_is(NULL, "gpt-4.1", "chatgpt", "gpt-4.1", "gpt-4-1", 0, NULL);
	route_is(NULL, "gpt-3.5-turbo", "chatgpt", "gpt-3.5-turbo",
	    "text-davinci-002-render-sha", 0, NULL);
	r = route_is(NULL, "DEEPSEEK-V3.2", "deepseek", "DeepSeek-V3.2",
	    "deepseek-chat", 0, NULL);
	ck_assert_str_eq(r->reported, "DEEPSEEK-V3.2");
	route_is(NULL, "DeepSeek-R1", "deepseek", "DeepSeek-R1",
	    "deepseek-chat", ROUTE_THINK, NULL);
	route_is(NULL, "deepseek-reasoner", "deepseek", "deepseek-reasoner",
	    "deepseek-chat", ROUTE_THINK, NULL);
	route_is(NULL, "deepseek-chat", "deepseek", "deepseek-chat",
	    "deepseek-chat", 0, NULL);
	route_is(NULL, "DeepSeek-Search", "deepseek", "DeepSeek-Search",
	    "deepseek-chat", ROUTE_SEARCH, NULL);
	route_is(NULL, "deepseek-r1-search", "deepseek", "DeepSeek-R1-Search",
	    "deepseek-chat", TS, NULL);
}
END_TEST

/* GLM-5 is GLM's and Z.ai's: the first with an account takes it. */
START_TEST(shared_name)
{
	struct acct_new a = { .provider = "zai", .secret = "eyJzai-login-1",
	    .secret_len = 14 };

	route_is(st, "GLM-5", "glm", "GLM-5", "glm-5", 0, NULL);
	route_is(st, "GLM-4.7", "zai", "GLM-4.7", "glm-4.7", 0, NULL);
	OK(acct_add(st, &a, 1, NULL, NULL, NULL));
	route_is(st, "GLM-5", "zai", "GLM-5", "glm-5", 0, NULL);
	route_is(st, "glm-5-think", "zai", "GLM-5", "glm-5", ROUTE_THINK,
	    NULL);
	/* GLM's own suffixed names stay GLM's */
	route_is(st, "GLM-5-DeepResearch", "glm", "GLM-5-DeepResearch",
	    "glm-5", ROUTE_DEEP_RESEARCH, NULL);
	a.provider = "glm";
	a.secret = "glm-refresh-token-0123456789";
	a.secret_len = strlen(a.secret);
	OK(acct_add(st, &a, 1, NULL, NULL, NULL));
	route_is(st, "GLM-5", "glm", "GLM-5", "glm-5", 0, NULL);
	/* a pin keeps its provider whatever the accounts */
	env_map("{\"z5\":{\"target\":\"GLM-5\",\"provider\":\"zai\"}}");
	route_is(st, "z5", "zai", "GLM-5", "glm-5", 0, "z5");
}
END_TEST

static int
accept_id(const struct provider *p, void *want)
{
	return strcmp(p->id, want) == 0;
}

/* A client's own key another owner of a shared name takes. */
START_TEST(other_owner)
{
	struct route r;

	IS(route_resolve(&cfg, st, &ar, "GLM-5-Think", &r), ROUTE_OK);
	ck_assert_str_eq(r.provider->id, "glm");
	ck_assert_int_eq(route_other_owner(st, "GLM-5-Think", &r, accept_id,
	    "zai"), 1);
	ck_assert_str_eq(r.provider->id, "zai");
	ck_assert_str_eq(r.model->id, "GLM-5");
	ck_assert_str_eq(r.upstream_model, "glm-5");
	ck_assert_uint_eq(r.flags & ROUTE_THINK, ROUTE_THINK);
	ck_assert_str_eq(r.requested, "GLM-5-Think");
	/* nobody else takes it: r stays */
	IS(route_resolve(&cfg, st, &ar, "GLM-5", &r), ROUTE_OK);
	ck_assert_int_eq(route_other_owner(st, "GLM-5", &r, accept_id,
	    "kimi"), 0);
	ck_assert_str_eq(r.provider->id, "glm");
	/* a name only one provider has, and a mapped name, never move */
	IS(route_resolve(&cfg, st, &ar, "GLM-4.7", &r), ROUTE_OK);
	ck_assert_int_eq(route_other_owner(st, "GLM-4.7", &r, accept_id,
	    "glm"), 0);
	env_map("{\"g\":\"GLM-5\"}");
	IS(route_resolve(&cfg, st, &ar, "g", &r), ROUTE_OK);
	ck_assert_int_eq(route_other_owner(st, "g", &r, accept_id, "zai"), 0);
	ck_assert_str_eq(r.provider->id, "glm");
}
END_TEST

START_TEST(suffixes)
{
	route_is(NULL, "DeepSeek-V3.2-Think-Search", "deepseek",
	    "DeepSeek-V3.2", "deepseek-chat", TS, NULL);
	route_is(NULL, "deepseek-v3.2-search-think", "deepseek",
	    "DeepSeek-V3.2", "deepseek-chat", TS, NULL);
	route_is(NULL, "DeepSeek-V3.2-Think", "deepseek", "DeepSeek-V3.2",
	    "deepseek-chat", ROUTE_THINK, NULL);
	route_is(NULL, "DeepSeek-V3.2-SEARCH", "deepseek", "DeepSeek-V3.2",
	    "deepseek-chat", ROUTE_SEARCH, NULL);
	route_is(NULL, "deepseek-chat-search", "deepseek", "deepseek-chat",
	    "deepseek-chat", ROUTE_SEARCH, NULL);
	route_is(NULL, "DeepSeek-R1-Search-Think", "deepseek", "DeepSeek-R1",
	    "deepseek-chat", TS, NULL);
	/* ChatGPT's names take the suffixes too */
	route_is(NULL, "gpt-4o-search", "chatgpt", "gpt-4o", "gpt-4o",
	    ROUTE_SEARCH, NULL);
	route_is(NULL, "o3-think", "chatgpt", "o3", "o3", ROUTE_THINK, NULL);
	/* a suffix alone, or on an unknown name, is no built-in */
	route_is(NULL, "-think", "chatgpt", NULL, "-think", ROUTE_FALLBACK,
	    NULL);
	route_is(NULL, "DeepSeek-V9-Think", "chatgpt", NULL,
	    "DeepSeek-V9-Think", ROUTE_FALLBACK, NULL);
}
END_TEST

START_TEST(deepseek_name_flags)
{
	unsigned (*nf)(const char *) = deepseek_provider.name_flags;

	ck_assert_ptr_nonnull(nf);
	IS(nf("ds-r1"), ROUTE_THINK);
	IS(nf("my-THINK-model"), ROUTE_THINK);
	IS(nf("Reasoner"), ROUTE_THINK);
	IS(nf("x-search"), ROUTE_SEARCH);
	IS(nf("x-Expert"), ROUTE_EXPERT);
	IS(nf("R1-EXPERT-SEARCH"), TS | ROUTE_EXPERT);
	IS(nf("deepseek-chat"), 0);
	IS(nf(""), 0);
	ck_assert_ptr_null(chatgpt_provider.name_flags);
	/* through a mapping: the requested name's switches count too */
	env_map("{\"ds-expert\": {\"target\": \"DeepSeek-V3.2-Search\", "
	    "\"provider\": \"deepseek\"}}");
	route_is(NULL, "ds-expert", "deepseek", "DeepSeek-V3.2",
	    "deepseek-chat", ROUTE_SEARCH | ROUTE_EXPERT, "ds-expert");
}
END_TEST

START_TEST(catch_all)
{
	const struct route *r;

	r = route_is(NULL, "my-model", "chatgpt", NULL, "my-model", ROUTE_FALLBACK,
	    NULL);
	ck_assert_str_eq(r->reported, "my-model");
	r = route_is(NULL, "gpt-4-turbo", "chatgpt", NULL, "gpt-4-turbo",
	    ROUTE_FALLBACK, NULL);
	ck_assert_str_eq(r->reported, "gpt-4-turbo-2024-04-09");
	r = route_is(NULL, "o1", "chatgpt", "o1", "o1", 0, NULL);
	ck_assert_str_eq(r->reported, "o1-2024-12-18");
	ck_assert_ptr_null(r->pin_account);
	ck_assert_str_eq(route_strerror(ROUTE_BAD_PIN),
	    "a model mapping names an unknown provider");
	ck_assert_str_eq(route_strerror((enum route_err)99), "unknown error");
}
END_TEST

static const char env_json[] = "{"
    "\"fast\": \"DeepSeek-V3.2\","
    "\"gpt-*\": \"DeepSeek-R1\","
    "\"gpt-4o\": \"o3\","
    "\"ds-*\": \"DeepSeek-V3.2\","
    "\"ds-r*\": \"DeepSeek-R1\","
    "\"pinned\": {\"target\": \"custom-upstream\", \"provider\": \"deepseek\"},"
    "\"cross\": {\"target\": \"gpt-4o\", \"provider\": \"deepseek\"},"
    "\"acct\": {\"target\": \"DeepSeek-R1\", \"account\": \"0123456789ab\"},"
    "\"bad-pin\": {\"target\": \"x\", \"provider\": \"nope\"},"
    "\"nowhere\": {\"model\": \"brand-new-model\"}"
    "}";

START_TEST(env_mappings)
{
	const struct route *r;
	struct route rr;

	env_map(env_json);
	IS(cfg.model_mapping.n, 10);
	route_is(NULL, "fast", "deepseek", "DeepSeek-V3.2", "deepseek-chat",
	    0, "fast");
	route_is(NULL, "FAST", "deepseek", "DeepSeek-V3.2", "deepseek-chat",
	    0, "fast");
	/* an exact name beats a pattern written before it */
	r = route_is(NULL, "gpt-4o", "chatgpt", "o3", "o3", 0, "gpt-4o");
	ck_assert_str_eq(r->reported, "gpt-4o-2024-08-06");
	route_is(NULL, "GPT-5", "deepseek", "DeepSeek-R1", "deepseek-chat",
	    ROUTE_THINK, "gpt-*");
	/* the first pattern that matches wins */
	route_is(NULL, "ds-rx", "deepseek", "DeepSeek-V3.2", "deepseek-chat",
	    0, "ds-*");
	/* pins: a target the provider lacks goes to it as is */
	route_is(NULL, "pinned", "deepseek", NULL, "custom-upstream", 0,
	    "pinned");
	route_is(NULL, "cross", "deepseek", NULL, "gpt-4o", 0, "cross");
	r = route_is(NULL, "acct", "deepseek", "DeepSeek-R1", "deepseek-chat",
	    ROUTE_THINK, "acct");
	ck_assert_str_eq(r->pin_account, "0123456789ab");
	IS(route_resolve(&cfg, NULL, &ar, "bad-pin", &rr), ROUTE_BAD_PIN);
	/* a target nobody knows: the catch-all, reported as requested */
	r = route_is(NULL, "nowhere", "chatgpt", NULL, "brand-new-model", 0,
	    "nowhere");
	ck_assert_str_eq(r->reported, "nowhere");
	/* names no mapping takes still route as without mappings */
	route_is(NULL, "o3", "chatgpt", "o3", "o3", 0, NULL);
	route_is(NULL, "deepseek-r1", "deepseek", "DeepSeek-R1",
	    "deepseek-chat", ROUTE_THINK, NULL);
}
END_TEST

static void
put(const char *name, const char *target, const char *prov, const char *acct)
{
	struct mapping m;

	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "%s", name);
	snprintf(m.target, sizeof(m.target), "%s", target);
	snprintf(m.provider, sizeof(m.provider), "%s", prov ? prov : "");
	snprintf(m.account, sizeof(m.account), "%s", acct ? acct : "");
	OK(mapping_put(st, &m));
}

START_TEST(stored_after_env)
{
	const struct route *r;
	struct route rr;

	env_map("{\"fast\": \"DeepSeek-V3.2\", \"gpt-*\": \"DeepSeek-R1\"}");
	put("fast", "gpt-4o", NULL, NULL);
	put("stored-only", "DeepSeek-R1", NULL, NULL);
	put("st-*", "DeepSeek-Search", NULL, NULL);
	put("gpt-5", "gpt-5", NULL, NULL);
	put("pin-ds", "my-slug", "deepseek", NULL);
	put("pin-acct", "gpt-4o", "chatgpt", "abcdef012345");
	put("st-bad", "x", "nope", NULL);
	/* env first for the same name */
	route_is(st, "fast", "deepseek", "DeepSeek-V3.2", "deepseek-chat", 0,
	    "fast");
	route_is(st, "stored-only", "deepseek", "DeepSeek-R1",
	    "deepseek-chat", ROUTE_THINK, "stored-only");
	route_is(st, "st-anything", "deepseek", "DeepSeek-Search",
	    "deepseek-chat", ROUTE_SEARCH, "st-*");
	/* a stored exact name beats an env pattern */
	route_is(st, "gpt-5", "chatgpt", "gpt-5", "gpt-5", 0, "gpt-5");
	route_is(st, "gpt-5.1", "deepseek", "DeepSeek-R1", "deepseek-chat",
	    ROUTE_THINK, "gpt-*");
	route_is(st, "pin-ds", "deepseek", NULL, "my-slug", 0, "pin-ds");
	r = route_is(st, "pin-acct", "chatgpt", "gpt-4o", "gpt-4o", 0,
	    "pin-acct");
	ck_assert_str_eq(r->pin_account, "abcdef012345");
	IS(route_resolve(&cfg, st, &ar, "st-bad", &rr), ROUTE_BAD_PIN);
	/* without the store only env counts */
	route_is(NULL, "stored-only", "chatgpt", NULL, "stored-only",
	    ROUTE_FALLBACK, NULL);
	/* removed: routes as before */
	OK(mapping_remove(st, "stored-only"));
	route_is(st, "stored-only", "chatgpt", NULL, "stored-only",
	    ROUTE_FALLBACK, NULL);
}
END_TEST

START_TEST(parse_mapping)
{
	struct model_maps m;
	const struct model_map *v;

	IS(config_parse_mapping("", &m, err, sizeof(err)), 0);
	IS(m.n, 0);
	IS(config_parse_mapping("  \n ", &m, err, sizeof(err)), 0);
	IS(m.n, 0);
	IS(config_parse_mapping(" {\"a\": \"b\", \"c*\": {\"target\": \"d\", "
	    "\"provider\": \"deepseek\", \"account\": \"0123\"}, \"e\": "
	    "{\"model\": \"f\"}, \"g\": {\"target\": \"h\", \"model\": \"i\"}}",
	    &m, err, sizeof(err)), 0);
	IS(m.n, 4);
	v = m.v;
	ck_assert(strcmp(v[0].name, "a") == 0 &&
	    strcmp(v[0].target, "b") == 0);
	ck_assert(v[0].provider == NULL && v[0].account == NULL);
	ck_assert_str_eq(v[1].name, "c*");
	ck_assert_str_eq(v[1].target, "d");
	ck_assert_str_eq(v[1].provider, "deepseek");
	ck_assert_str_eq(v[1].account, "0123");
	ck_assert_str_eq(v[2].target, "f");
	ck_assert_ptr_null(v[2].provider);
	ck_assert_str_eq(v[3].target, "h");	/* "target" before "model" */
	config_free_mapping(&m);
	IS(m.n, 0);
	ck_assert_ptr_null(m.v);
}
END_TEST

START_TEST(parse_mapping_file_and_order)
{
	struct model_maps m;
	char path[300], json[4096], name[16];
	static const int order[] = { 37, 2, 19, 0, 44, 8, 31, 13, 26, 5 };
	size_t i, n = 0;
	FILE *f;

	n += (size_t)snprintf(json + n, sizeof(json) - n, "{");
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n,
		    "%s\"m%d\": \"t%d\"", i ? ", " : "", order[i], order[i]);
	snprintf(json + n, sizeof(json) - n, "}");
	snprintf(path, sizeof(path), "%s/map.json", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(json, f);
	fclose(f);
	snprintf(json, sizeof(json), "@%s", path);
	IS(config_parse_mapping(json, &m, err, sizeof(err)), 0);
	IS(m.n, 10);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "m%d", order[i]);
		ck_assert_str_eq(m.v[i].name, name);
		name[0] = 't';
		ck_assert_str_eq(m.v[i].target, name);
	}
	config_free_mapping(&m);
	/* a file that is missing, or holds no JSON object */
	snprintf(json, sizeof(json), "@%s/missing.json", dir);
	IS(config_parse_mapping(json, &m, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("not json", f);
	fclose(f);
	snprintf(json, sizeof(json), "@%s", path);
	IS(config_parse_mapping(json, &m, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "JSON object"));
	/* larger than 1 MiB */
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("{\"a\": \"b\"}", f);
	for (i = 0; i < (1 << 20); i++)
		fputc(' ', f);
	fclose(f);
	IS(config_parse_mapping(json, &m, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "larger than"));
	IS(m.n, 0);
}
END_TEST

START_TEST(parse_mapping_bad)
{
	static const char *const bad_json[] = { "{", "[1]", "\"s\"", "{\"a\":}",
	    "42", "null", "@" };
	static const struct { const char *json, *named; } bad[] = {
		{ "{\"a\": 5}", "\"a\"" },
		{ "{\"a\": \"\"}", "\"a\"" },
		{ "{\"a\": null}", "\"a\"" },
		{ "{\"a\": [\"x\"]}", "\"a\"" },
		{ "{\"a b\": \"x\"}", "\"a b\"" },
		{ "{\"\": \"x\"}", "\"\"" },
		{ "{\"ok\": \"x\", \"b\": \"x y\"}", "\"b\"" },
		{ "{\"c\": {\"provider\": \"deepseek\"}}", "\"c\"" },
		{ "{\"c\": {\"target\": 3}}", "\"c\"" },
		{ "{\"c\": {\"target\": \"x\", \"provider\": \"\"}}", "\"c\"" },
		{ "{\"c\": {\"target\": \"x\", \"account\": \"a b\"}}", "\"c\"" },
		{ "{\"c\": {\"target\": \"x\", \"provider\": 1}}", "\"c\"" },
	};
	struct model_maps m;
	size_t i;

	for (i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(config_parse_mapping(bad_json[i], &m, err,
		    sizeof(err)) == -1, "took %s", bad_json[i]);
		ck_assert_msg(strncmp(err, "MODEL_MAPPING", 13) == 0,
		    "%s: err \"%s\"", bad_json[i], err);
		IS(m.n, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(config_parse_mapping(bad[i].json, &m, err,
		    sizeof(err)) == -1, "took %s", bad[i].json);
		ck_assert_msg(strstr(err, bad[i].named) != NULL,
		    "%s: err \"%s\"", bad[i].json, err);
		IS(m.n, 0);
		ck_assert_ptr_null(m.v);
	}
}
END_TEST

/* 128-byte names and targets, and 1000 mappings: the limits exactly. */
START_TEST(parse_mapping_limits)
{
	struct model_maps m;
	char *json, big[200];
	size_t i, n = 0, cap = 64 * 1024;

	memset(big, 'x', 128);
	big[128] = '\0';
	ck_assert_ptr_nonnull(json = malloc(cap));
	snprintf(json, cap, "{\"%s\": \"%s\"}", big, big);
	IS(config_parse_mapping(json, &m, err, sizeof(err)), 0);
	IS(strlen(m.v[0].name), 128);
	config_free_mapping(&m);
	strcpy(big + 128, "y");
	snprintf(json, cap, "{\"%s\": \"t\"}", big);
	IS(config_parse_mapping(json, &m, err, sizeof(err)), -1);
	snprintf(json, cap, "{\"n\": \"%s\"}", big);
	IS(config_parse_mapping(json, &m, err, sizeof(err)), -1);
	snprintf(json, cap, "{\"n\": {\"target\": \"t\", \"account\": \"%s\"}}",
	    big);
	IS(config_parse_mapping(json, &m, err, sizeof(err)), -1);
	for (i = 0; i < 1001; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s\"n%zu\": \"t\"",
		    i ? ", " : "{", i);
	snprintf(json + n, cap - n, "}");
	IS(config_parse_mapping(json, &m, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than 1000"));
	/* one fewer is fine */
	n = (size_t)(strrchr(json, ',') - json);
	snprintf(json + n, cap - n, "}");
	IS(config_parse_mapping(json, &m, err, sizeof(err)), 0);
	IS(m.n, 1000);
	ck_assert_str_eq(m.v[999].name, "n999");
	config_free_mapping(&m);
	free(json);
}
END_TEST

struct seen {
	char	names[8][MAPPING_NAME_MAX + 1];
	char	targets[8][MAPPING_NAME_MAX + 1];
	int	n, stop_at;
};

static int
list_fn(void *arg, const struct mapping *m)
{
	struct seen *s = arg;

	ck_assert_int_lt(s->n, 8);
	strcpy(s->names[s->n], m->name);
	strcpy(s->targets[s->n++], m->target);
	return s->n == s->stop_at;
}

/* The stored list, names joined with spaces. */
static const char *
listed(struct store *s, struct seen *sn)
{
	static char buf[512];
	int i;

	memset(sn, 0, sizeof(*sn));
	OK(mapping_list(s, list_fn, sn));
	buf[0] = '\0';
	for (i = 0; i < sn->n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
		    i ? " " : "", sn->names[i]);
	return buf;
}

START_TEST(stored_list)
{
	struct mapping m;
	struct seen sn;
	struct route r;

	ck_assert_str_eq(listed(st, &sn), "");
	put("a", "ta", NULL, NULL);
	put("b", "tb", NULL, NULL);
	put("c", "tc", "deepseek", "0123456789ab");
	ck_assert_str_eq(listed(st, &sn), "a b c");
	/* put replaces in place */
	put("b", "tb2", NULL, NULL);
	ck_assert_str_eq(listed(st, &sn), "a b c");
	ck_assert_str_eq(sn.targets[1], "tb2");
	OK(mapping_remove(st, "a"));
	IS(mapping_remove(st, "a"), STORE_NOTFOUND);
	ck_assert_str_eq(listed(st, &sn), "b c");
	put("a", "ta", NULL, NULL);
	put("d", "td", NULL, NULL);
	ck_assert_str_eq(listed(st, &sn), "b c a d");
	OK(mapping_remove(st, "d"));
	put("e", "te", NULL, NULL);
	ck_assert_str_eq(listed(st, &sn), "b c a e");
	/* a listing stops when told */
	memset(&sn, 0, sizeof(sn));
	sn.stop_at = 2;
	OK(mapping_list(st, list_fn, &sn));
	IS(sn.n, 2);
	/* bad mappings are refused */
	memset(&m, 0, sizeof(m));
	strcpy(m.target, "t");
	IS(mapping_put(st, &m), STORE_INVAL);	/* no name */
	strcpy(m.name, "has space");
	IS(mapping_put(st, &m), STORE_INVAL);
	strcpy(m.name, "ok");
	m.target[0] = '\0';
	IS(mapping_put(st, &m), STORE_INVAL);	/* no target */
	strcpy(m.target, "t");
	strcpy(m.provider, "de ep");
	IS(mapping_put(st, &m), STORE_INVAL);
	m.provider[0] = '\0';
	strcpy(m.account, "tab\there");
	IS(mapping_put(st, &m), STORE_INVAL);
	ck_assert_str_eq(listed(st, &sn), "b c a e");
	/* kept across a reopen, with every field */
	store_close(st);
	IS(store_open(&st, dir, 1 << 20), STORE_OK);
	ck_assert_str_eq(listed(st, &sn), "b c a e");
	ck_assert_str_eq(sn.targets[1], "tc");
	IS(route_resolve(&cfg, st, &ar, "c", &r), ROUTE_OK);
	ck_assert_str_eq(r.provider->id, "deepseek");
	ck_assert_str_eq(r.pin_account, "0123456789ab");
	ck_assert_str_eq(r.upstream_model, "tc");
}
END_TEST

static Suite *
route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, glob);
	tcase_add_test(tc, builtin_names);
	tcase_add_test(tc, shared_name);
	tcase_add_test(tc, other_owner);
	tcase_add_test(tc, suffixes);
	tcase_add_test(tc, deepseek_name_flags);
	tcase_add_test(tc, catch_all);
	tcase_add_test(tc, env_mappings);
	tcase_add_test(tc, stored_after_env);
	tcase_add_test(tc, parse_mapping);
	tcase_add_test(tc, parse_mapping_file_and_order);
	tcase_add_test(tc, parse_mapping_bad);
	tcase_add_test(tc, parse_mapping_limits);
	tcase_add_test(tc, stored_list);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(route_suite)
