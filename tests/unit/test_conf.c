/* Config parsing: defaults, booleans, lists, sizes, prefixes, errors. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/conf.h"
#include "unit.h"

static void
clear_env(void)
{
	static const char *const vars[] = { "API_PREFIX", "AUTHORIZATION",
	    "CHATGPT_BASE_URL", "PROXY_URL", "HISTORY_DISABLED",
	    "POW_DIFFICULTY", "RETRY_TIMES", "CHAT2API_MAX_BODY",
	    "CHAT2API_MOUNT", "CHAT2API_THREADS", "IMPERSONATE",
	    "ARKOSE_TOKEN_URL", "ARK0SE_TOKEN_URL", "CHAT2API_LOG",
	    "CHAT2API_LOG_LEVEL", "RANDOM_TOKEN", "LB_STRATEGY",
	    "LB_STRATEGY_CHATGPT", "LB_STRATEGY_DEEPSEEK", "MODEL_MAPPING",
	    "CHAT2API_TZ", "DEEPSEEK_BASE_URL", "REQUIRE_API_KEY",
	    "TOOL_FORMAT", "TOOL_PROMPT", "CONTEXT_STRATEGY",
	    "CONTEXT_MAX_MESSAGES", "CONTEXT_MAX_TOKENS", NULL };
	const char *const *v;

	for (v = vars; *v; v++)
		unsetenv(*v);
}

START_TEST(defaults)
{
	struct config c;
	char err[256];

	clear_env();
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.api_prefix, "");
	ck_assert_int_eq(c.history_disabled, 1);
	ck_assert_int_eq(c.random_token, 1);
	ck_assert_int_eq(c.enable_limit, 1);
	ck_assert_int_eq(c.conversation_only, 0);
	ck_assert_str_eq(c.pow_difficulty, "000032");
	ck_assert_int_eq(c.retry_times, 3);
	ck_assert_int_eq(c.threads, 32);
	ck_assert_int_eq(c.max_body, 20 * 1024 * 1024);
	ck_assert_uint_eq(c.chatgpt_base_url.n, 1);
	ck_assert_str_eq(c.chatgpt_base_url.v[0], "https://chatgpt.com");
	ck_assert_uint_eq(c.authorization.n, 0);
	ck_assert_str_eq(c.oai_language, "zh-CN");
	config_free(&c);
}
END_TEST

START_TEST(lists_and_bools)
{
	struct config c;
	char err[256];

	clear_env();
	setenv("AUTHORIZATION", " code1 , code2,,code3 ", 1);
	setenv("CHATGPT_BASE_URL", "http://127.0.0.1:1, https://b.example", 1);
	setenv("PROXY_URL", "socks5h://u:p@h:1080,http://p:3128", 1);
	setenv("HISTORY_DISABLED", "No", 1);
	setenv("RANDOM_TOKEN", "f", 1);
	setenv("IMPERSONATE", "[\"chrome124\", 'safari17_0']", 1);
	setenv("ARK0SE_TOKEN_URL", "http://solver/a", 1);
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.authorization.n, 3);
	ck_assert_str_eq(c.authorization.v[2], "code3");
	ck_assert_uint_eq(c.chatgpt_base_url.n, 2);
	ck_assert_str_eq(c.chatgpt_base_url.v[1], "https://b.example");
	ck_assert_uint_eq(c.proxy_url.n, 2);
	ck_assert_int_eq(c.history_disabled, 0);
	ck_assert_int_eq(c.random_token, 0);
	ck_assert_uint_eq(c.impersonate.n, 2);
	ck_assert_str_eq(c.impersonate.v[1], "safari17_0");
	ck_assert_uint_eq(c.arkose_token_url.n, 1);
	config_free(&c);
}
END_TEST

START_TEST(sizes_and_prefixes)
{
	struct config c;
	char err[256];

	clear_env();
	setenv("CHAT2API_MAX_BODY", "64k", 1);
	setenv("CHAT2API_THREADS", "4096", 1);
	setenv("API_PREFIX", "secret/", 1);
	setenv("CHAT2API_MOUNT", "//chat2api//x/", 1);
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.max_body, 65536);
	ck_assert_int_eq(c.threads, 4096);
	ck_assert_str_eq(c.api_prefix, "/secret");
	ck_assert_str_eq(c.mount, "/chat2api/x");
	config_free(&c);
}
END_TEST

/* Each bad value must fail, and the message must name the variable. */
static const struct { const char *var, *val; } bad[] = {
	{ "HISTORY_DISABLED", "maybe" },
	{ "RETRY_TIMES", "-1" },
	{ "RETRY_TIMES", "3x" },
	{ "RETRY_TIMES", "999" },
	{ "CHAT2API_THREADS", "0" },
	{ "CHAT2API_THREADS", "4097" },
	{ "CHAT2API_MAX_BODY", "12q" },
	{ "CHAT2API_MAX_BODY", "10" },
	{ "POW_DIFFICULTY", "00zz" },
	{ "CHATGPT_BASE_URL", "chatgpt.com" },
	{ "PROXY_URL", "ftp://x" },
	{ "API_PREFIX", "a b" },
	{ "API_PREFIX", "../etc" },
	{ "CHAT2API_LOG", "file:" },
	{ "CHAT2API_LOG", "console" },
	{ "CHAT2API_LOG_LEVEL", "loud" },
	{ "LB_STRATEGY", "fastest" },
	{ "LB_STRATEGY_DEEPSEEK", "round robin" },
	{ "DEEPSEEK_BASE_URL", "chat.deepseek.com" },
	{ "REQUIRE_API_KEY", "sometimes" },
	{ "MODEL_MAPPING", "{\"a\":" },
	{ "MODEL_MAPPING", "[\"a\"]" },
	{ "MODEL_MAPPING", "{\"a\":42}" },
	{ "MODEL_MAPPING", "{\"a b\":\"x\"}" },
	{ "MODEL_MAPPING", "{\"a\":{\"provider\":\"deepseek\"}}" },
	{ "MODEL_MAPPING", "@/nonexistent/chat2api-mapping.json" },
	{ "CHAT2API_TZ", "Mars/Olympus_Mons" },
	{ "CHAT2API_TZ", "../../etc/passwd" },
	{ "TOOL_FORMAT", "json" },
	{ "TOOL_FORMAT", "brack" },
	{ "TOOL_PROMPT", "smart" },
	{ "TOOL_PROMPT", "always|never" },
	{ "CONTEXT_STRATEGY", "summary" },
	{ "CONTEXT_STRATEGY", "slide" },
	{ "CONTEXT_MAX_MESSAGES", "0" },
	{ "CONTEXT_MAX_MESSAGES", "2049" },
	{ "CONTEXT_MAX_TOKENS", "-1" },
	{ "CONTEXT_MAX_TOKENS", "4k" },
};

/* TOOL_FORMAT and TOOL_PROMPT: their defaults and their words. */
START_TEST(tool_words)
{
	struct config c;
	char err[256];

	clear_env();
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.tool_format, "bracket");
	ck_assert_str_eq(c.tool_prompt, "auto");
	config_free(&c);
	setenv("TOOL_FORMAT", "xml", 1);
	setenv("TOOL_PROMPT", "never", 1);
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.tool_format, "xml");
	ck_assert_str_eq(c.tool_prompt, "never");
	config_free(&c);
	clear_env();
}
END_TEST

/* CONTEXT_*: off by default, 20 turns, the providers' own budgets. */
START_TEST(context_vars)
{
	struct config c;
	char err[256];

	clear_env();
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.context_strategy, "none");
	ck_assert_int_eq(c.context_max_messages, 20);
	ck_assert_int_eq(c.context_max_tokens, 0);
	config_free(&c);
	setenv("CONTEXT_STRATEGY", "tokens", 1);
	setenv("CONTEXT_MAX_MESSAGES", "2048", 1);
	setenv("CONTEXT_MAX_TOKENS", "16000", 1);
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.context_strategy, "tokens");
	ck_assert_int_eq(c.context_max_messages, 2048);
	ck_assert_int_eq(c.context_max_tokens, 16000);
	config_free(&c);
	setenv("CONTEXT_STRATEGY", "sliding", 1);
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.context_strategy, "sliding");
	config_free(&c);
	clear_env();
}
END_TEST

START_TEST(bad_values)
{
	struct config c;
	char err[256];

	clear_env();
	setenv(bad[_i].var, bad[_i].val, 1);
	err[0] = '\0';
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, bad[_i].var) != NULL, "err=%s", err);
	ck_assert_msg(strstr(err, "accepts") != NULL, "err=%s", err);
	unsetenv(bad[_i].var);
}
END_TEST

/* Routing and accounts: the strategy chosen per provider, mappings. */
START_TEST(providers_and_routing)
{
	struct config c;
	char err[256];

	clear_env();
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.deepseek_base_url.v[0], "https://chat.deepseek.com");
	ck_assert_int_eq(c.require_api_key, 0);
	ck_assert_uint_eq(c.model_mapping.n, 0);
	/* RANDOM_TOKEN (default true) decides for ChatGPT only */
	ck_assert_str_eq(config_lb_strategy(&c, "chatgpt"), "random");
	ck_assert_ptr_null(config_lb_strategy(&c, "deepseek"));
	config_free(&c);

	setenv("LB_STRATEGY", "fill-first", 1);
	setenv("LB_STRATEGY_DEEPSEEK", "Weighted", 1);
	setenv("MODEL_MAPPING", " {\"gpt-4o\": \"DeepSeek-V3.2\", "
	    "\"claude-*\": {\"target\": \"DeepSeek-R1\", "
	    "\"provider\": \"deepseek\", \"account\": \"0a1b2c3d4e5f\"}}", 1);
	setenv("CHAT2API_TZ", "UTC", 1);
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(config_lb_strategy(&c, "chatgpt"), "fill-first");
	ck_assert_str_eq(config_lb_strategy(&c, "deepseek"), "Weighted");
	ck_assert_uint_eq(c.model_mapping.n, 2);
	ck_assert_str_eq(c.model_mapping.v[0].name, "gpt-4o");
	ck_assert_str_eq(c.model_mapping.v[0].target, "DeepSeek-V3.2");
	ck_assert_ptr_null(c.model_mapping.v[0].provider);
	ck_assert_str_eq(c.model_mapping.v[1].name, "claude-*");
	ck_assert_str_eq(c.model_mapping.v[1].provider, "deepseek");
	ck_assert_str_eq(c.model_mapping.v[1].account, "0a1b2c3d4e5f");
	ck_assert_str_eq(getenv("TZ"), "UTC");
	config_free(&c);
	unsetenv("LB_STRATEGY");
	unsetenv("LB_STRATEGY_DEEPSEEK");
	unsetenv("MODEL_MAPPING");
	unsetenv("CHAT2API_TZ");
}
END_TEST

START_TEST(bool_forms)
{
	int v;

	ck_assert_int_eq(config_parse_bool("TRUE", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(config_parse_bool("y", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(config_parse_bool("0", &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(config_parse_bool("", &v), -1);
	ck_assert_int_eq(config_parse_bool("2", &v), -1);
}
END_TEST

/* The man page documents every variable the table knows. */
START_TEST(man_page_complete)
{
	const char *top = getenv("top_srcdir"), *name;
	char path[512], needle[80], *text;
	FILE *f;
	long n;
	size_t i;

	snprintf(path, sizeof(path), "%s/chat2api.8", top ? top : ".");
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = '\0';
	fclose(f);
	for (i = 0; (name = config_var_name(i)) != NULL; i++) {
		snprintf(needle, sizeof(needle), "\n.B %s\n", name);
		ck_assert_msg(strstr(text, needle) != NULL,
		    "%s missing from chat2api.8", name);
	}
	ck_assert_uint_gt(i, 40);
	free(text);
}
END_TEST

/* Kimi's own variables: its base URL(s) and its strategy. */
START_TEST(kimi_variables)
{
	struct config c;
	char err[256];

	clear_env();
	unsetenv("KIMI_BASE_URL");
	unsetenv("LB_STRATEGY_KIMI");
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.kimi_base_url.n, 1);
	ck_assert_str_eq(c.kimi_base_url.v[0], "https://www.kimi.com");
	ck_assert_ptr_null(config_lb_strategy(&c, "kimi"));
	config_free(&c);
	setenv("KIMI_BASE_URL", "http://a.example:1,http://b.example:2", 1);
	setenv("LB_STRATEGY", "round-robin", 1);
	setenv("LB_STRATEGY_KIMI", "failover", 1);
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.kimi_base_url.n, 2);
	ck_assert_str_eq(c.kimi_base_url.v[1], "http://b.example:2");
	ck_assert_str_eq(config_lb_strategy(&c, "kimi"), "failover");
	ck_assert_str_eq(config_lb_strategy(&c, "deepseek"), "round-robin");
	config_free(&c);
	setenv("KIMI_BASE_URL", "www.kimi.com", 1);
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "KIMI_BASE_URL") != NULL, "err=%s", err);
	unsetenv("KIMI_BASE_URL");
	unsetenv("LB_STRATEGY");
	unsetenv("LB_STRATEGY_KIMI");
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, lists_and_bools);
	tcase_add_test(tc, sizes_and_prefixes);
	tcase_add_test(tc, tool_words);
	tcase_add_test(tc, context_vars);
	tcase_add_loop_test(tc, bad_values, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, providers_and_routing);
	tcase_add_test(tc, bool_forms);
	tcase_add_test(tc, man_page_complete);
	tcase_add_test(tc, kimi_variables);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(conf_suite)
