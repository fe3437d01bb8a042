#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fcgi/conf.h"
#include "fcgi/log.h"

enum cfg_type {
	CFG_BOOL,	/* true 1 t y yes / false 0 f n no */
	CFG_STR,
	CFG_URL,	/* http:// or https:// */
	CFG_PROXY,	/* http https socks4 socks4a socks5 socks5h */
	CFG_LIST,	/* comma list, spaces removed */
	CFG_URLS,	/* comma list of CFG_URL */
	CFG_PROXIES,	/* comma list of CFG_PROXY */
	CFG_PYLIST,	/* a Python literal list or a comma list */
	CFG_LONG,
	CFG_SIZE,	/* bytes, with k/m/g suffix */
	CFG_HEX,
	CFG_PREFIX,	/* path prefix: normalised to "/a/b" */
	CFG_LOGSPEC,
	CFG_LOGLEVEL,
	CFG_STRATEGY,	/* a load-balancing strategy name */
	CFG_MAPPING,	/* MODEL_MAPPING: JSON object or @file */
	CFG_TZ,		/* a time zone: applied to the process */
	CFG_WORD,	/* one of the words of words_of() */
};

struct cfg_var {
	const char	*name;
	const char	*alias;
	enum cfg_type	 type;
	size_t		 off;
	const char	*def;
	long		 min, max;
	const char	*help;
};

#define OFF(f) offsetof(struct config, f)

static const struct cfg_var cfg_vars[] = {
	{ "API_PREFIX", NULL, CFG_PREFIX, OFF(api_prefix), "", 0, 0,
	  "secret path segment: API routes move to /PREFIX/v1/..." },
	{ "AUTHORIZATION", NULL, CFG_LIST, OFF(authorization), "", 0, 0,
	  "comma list of codes that select a pooled credential" },
	{ "AUTH_KEY", NULL, CFG_STR, OFF(auth_key), "", 0, 0,
	  "sent upstream as header authkey (private gateways)" },
	{ "X_SIGN", NULL, CFG_STR, OFF(x_sign), "", 0, 0,
	  "gateway: x-sign header on NO_SENTINEL conversation answers" },
	{ "CHATGPT_BASE_URL", NULL, CFG_URLS, OFF(chatgpt_base_url),
	  "https://chatgpt.com", 0, 0,
	  "comma list of upstream base URLs, one picked per request" },
	{ "PROXY_URL", NULL, CFG_PROXIES, OFF(proxy_url), "", 0, 0,
	  "comma list of upstream proxies (http, https, socks5h ...)" },
	{ "SENTINEL_PROXY_URL", NULL, CFG_PROXIES, OFF(sentinel_proxy_url),
	  "", 0, 0, "comma list of proxies for chat-requirements only" },
	{ "EXPORT_PROXY_URL", NULL, CFG_PROXY, OFF(export_proxy_url), "", 0, 0,
	  "proxy for fetching user-supplied file URLs" },
	{ "CF_FILE_URL", NULL, CFG_URL, OFF(cf_file_url), "", 0, 0,
	  "fetch user file URLs through this service instead" },
	{ "FILE_HOST", NULL, CFG_STR, OFF(file_host), "", 0, 0,
	  "gateway: host that replaces files.oaiusercontent.com in pages" },
	{ "VOICE_HOST", NULL, CFG_STR, OFF(voice_host), "", 0, 0,
	  "gateway: host that replaces webrtc.chatgpt.com in pages" },
	{ "ARKOSE_TOKEN_URL", "ARK0SE_TOKEN_URL", CFG_URLS,
	  OFF(arkose_token_url), "", 0, 0, "comma list of arkose solver URLs" },
	{ "TURNSTILE_SOLVER_URL", NULL, CFG_URL, OFF(turnstile_solver_url),
	  "", 0, 0, "external turnstile solver (the local one is used otherwise)" },
	{ "IMPERSONATE", NULL, CFG_PYLIST, OFF(impersonate), "", 0, 0,
	  "curl_cffi TLS profiles; libcurl has none: no effect" },
	{ "USER_AGENTS", NULL, CFG_PYLIST, OFF(user_agents), "", 0, 0,
	  "fixed user-agent pool, a list of strings" },
	{ "DEVICE_TUPLE", NULL, CFG_STR, OFF(device_tuple), "", 0, 0,
	  "user-agent generator constraint (no effect)" },
	{ "BROWSER_TUPLE", NULL, CFG_STR, OFF(browser_tuple), "", 0, 0,
	  "user-agent generator constraint (no effect)" },
	{ "PLATFORM_TUPLE", NULL, CFG_STR, OFF(platform_tuple), "", 0, 0,
	  "user-agent generator constraint (no effect)" },
	{ "HISTORY_DISABLED", NULL, CFG_BOOL, OFF(history_disabled), "true",
	  0, 0, "temporary chats upstream (no history, no training)" },
	{ "POW_DIFFICULTY", NULL, CFG_HEX, OFF(pow_difficulty), "000032", 1, 16,
	  "refuse proof-of-work at or below this difficulty (hex)" },
	{ "RETRY_TIMES", NULL, CFG_LONG, OFF(retry_times), "3", 0, 20,
	  "extra attempts on upstream failure" },
	{ "CONVERSATION_ONLY", NULL, CFG_BOOL, OFF(conversation_only), "false",
	  0, 0, "skip page scrape and sentinel (gateway upstreams)" },
	{ "ENABLE_LIMIT", NULL, CFG_BOOL, OFF(enable_limit), "true", 0, 0,
	  "cool a credential down after a 429 until clears_in" },
	{ "TOOL_FORMAT", NULL, CFG_WORD, OFF(tool_format), "bracket", 0, 0,
	  "the call format the tool prompt teaches: bracket "
	  "([function_calls] blocks) or xml (<tool_use> elements); both are "
	  "always understood in answers" },
	{ "TOOL_PROMPT", NULL, CFG_WORD, OFF(tool_prompt), "auto", 0, 0,
	  "tool calling emulation: auto (not when the client's system prompt "
	  "brings its own tool protocol), always, or never (tools are "
	  "ignored and answers are not parsed)" },
	{ "RESPONSES_TTL", NULL, CFG_LONG, OFF(responses_ttl), "2592000", 0,
	  315360000, "seconds a /v1/responses answer and its conversation "
	  "are kept for previous_response_id and GET (0: never stored)" },
	{ "CONTEXT_STRATEGY", NULL, CFG_WORD, OFF(context_strategy), "none",
	  0, 0, "long histories: none (sent whole), sliding (the system "
	  "messages and the last CONTEXT_MAX_MESSAGES turns) or tokens (the "
	  "oldest turns dropped until the estimate fits CONTEXT_MAX_TOKENS)" },
	{ "CONTEXT_MAX_MESSAGES", NULL, CFG_LONG, OFF(context_max_messages),
	  "20", 1, 2048, "CONTEXT_STRATEGY=sliding: non-system messages "
	  "kept (the last user turn and its tool results always are)" },
	{ "CONTEXT_MAX_TOKENS", NULL, CFG_LONG, OFF(context_max_tokens), "0",
	  0, 100000000, "CONTEXT_STRATEGY=tokens: the estimated prompt tokens "
	  "(about 4 bytes each) for every provider (0: each provider's own "
	  "budget, from 8000 for ChatGPT to 120000)" },
	{ "SESSIONS", NULL, CFG_BOOL, OFF(sessions), "true", 0, 0,
	  "multi-turn: a request that continues an earlier answer of a "
	  "pooled account continues that upstream chat and sends only the "
	  "new turns (false: every request starts a chat of its own)" },
	{ "SESSION_TTL", NULL, CFG_LONG, OFF(session_ttl), "1800", 60,
	  2592000, "seconds a session lives after its last answer" },
	{ "SESSION_DELETE", NULL, CFG_BOOL, OFF(session_delete), "true", 0,
	  0, "delete a session's upstream chat when the session ends "
	  "(false: the chats stay in the accounts)" },
	{ "UPLOAD_BY_URL", NULL, CFG_BOOL, OFF(upload_by_url), "false", 0, 0,
	  "\"URL URL question\" messages upload the URLs" },
	{ "CHECK_MODEL", NULL, CFG_BOOL, OFF(check_model), "false", 0, 0,
	  "accepted for compatibility; unused" },
	{ "SCHEDULED_REFRESH", NULL, CFG_BOOL, OFF(scheduled_refresh), "false",
	  0, 0, "refresh stored RefreshTokens at start" },
	{ "RANDOM_TOKEN", NULL, CFG_BOOL, OFF(random_token), "true", 0, 0,
	  "ChatGPT accounts picked at random when no LB_STRATEGY is set "
	  "(false: round-robin)" },
	{ "OAI_LANGUAGE", NULL, CFG_STR, OFF(oai_language), "zh-CN", 0, 0,
	  "oai-language header" },
	{ "ENABLE_GATEWAY", NULL, CFG_BOOL, OFF(enable_gateway), "false", 0, 0,
	  "mirror the ChatGPT web UI at /, /login, /c/... (open to anyone "
	  "who has a token or seed)" },
	{ "AUTO_SEED", NULL, CFG_BOOL, OFF(auto_seed), "true", 0, 0,
	  "gateway: an unknown seed gets a random pool account (false: "
	  "only seeds set through /seedtoken)" },
	{ "FORCE_NO_HISTORY", NULL, CFG_BOOL, OFF(force_no_history), "false",
	  0, 0, "gateway: every conversation is a temporary chat upstream" },
	{ "NO_SENTINEL", NULL, CFG_BOOL, OFF(no_sentinel), "false", 0, 0,
	  "gateway: the server answers the sentinel for the browser" },
	{ "GATEWAY_PAGE_TTL", NULL, CFG_LONG, OFF(gateway_page_ttl), "300", 0,
	  86400, "gateway: seconds a fetched ChatGPT page is reused (per "
	  "process and account; 0: fetch every time)" },
	{ "OAUTH_URL", NULL, CFG_URL, OFF(oauth_url),
	  "https://auth0.openai.com/oauth/token", 0, 0,
	  "RefreshToken exchange endpoint" },

	{ "CHATGPT_DELTA_ENCODING", NULL, CFG_BOOL, OFF(delta_encoding), "true",
	  0, 0, "ask ChatGPT for the v1 delta stream (false: full messages)" },

	{ "DEEPSEEK_BASE_URL", NULL, CFG_URLS, OFF(deepseek_base_url),
	  "https://chat.deepseek.com", 0, 0,
	  "DeepSeek web backend base URL(s), one picked per request" },
	{ "KIMI_BASE_URL", NULL, CFG_URLS, OFF(kimi_base_url),
	  "https://www.kimi.com", 0, 0,
	  "Kimi web backend base URL(s), one picked per request; the chat, "
	  "token refresh and subscription calls all go under it" },
	{ "GLM_BASE_URL", NULL, CFG_URLS, OFF(glm_base_url),
	  "https://chatglm.cn", 0, 0,
	  "GLM (chatglm.cn) web backend base URL(s), one picked per request" },
	{ "MODEL_MAPPING", NULL, CFG_MAPPING, OFF(model_mapping), "", 0, 0,
	  "JSON object {\"name or pattern*\": \"target\" | {\"target\","
	  "\"provider\",\"account\"}}, or @FILE holding it" },
	{ "LB_STRATEGY", NULL, CFG_STRATEGY, OFF(lb_strategy), "", 0, 0,
	  "account choice: round-robin, fill-first, failover, weighted or "
	  "random (ChatGPT without it: RANDOM_TOKEN decides)" },
	{ "LB_STRATEGY_CHATGPT", NULL, CFG_STRATEGY, OFF(lb_strategy_chatgpt),
	  "", 0, 0, "LB_STRATEGY for ChatGPT accounts only" },
	{ "LB_STRATEGY_DEEPSEEK", NULL, CFG_STRATEGY,
	  OFF(lb_strategy_deepseek), "", 0, 0,
	  "LB_STRATEGY for DeepSeek accounts only" },
	{ "QWEN_BASE_URL", NULL, CFG_URLS, OFF(qwen_base_url), "", 0, 0,
	  "Qwen (qianwen.com) base URL(s) for every Qwen call; unset: the "
	  "real hosts chat2.qianwen.com and chat2-api.qianwen.com" },
	{ "LB_STRATEGY_QWEN", NULL, CFG_STRATEGY, OFF(lb_strategy_qwen), "",
	  0, 0, "LB_STRATEGY for Qwen (qianwen.com) accounts only" },
	{ "QWENAI_BASE_URL", NULL, CFG_URLS, OFF(qwenai_base_url),
	  "https://chat.qwen.ai", 0, 0,
	  "Qwen AI (international) base URL(s), one picked per request" },
	{ "LB_STRATEGY_QWENAI", NULL, CFG_STRATEGY, OFF(lb_strategy_qwenai),
	  "", 0, 0, "LB_STRATEGY for Qwen AI accounts only" },
	{ "QWENAI_USER_AGENT", NULL, CFG_STR, OFF(qwenai_user_agent), "", 0, 0,
	  "User-Agent sent to Qwen AI, the browser's of bx-ua (empty: "
	  "Chrome 145 on macOS)" },
	{ "QWENAI_VERSION", NULL, CFG_STR, OFF(qwenai_version), "0.2.7", 0, 0,
	  "Qwen AI web client version (the Version header)" },
	{ "QWENAI_BX_V", NULL, CFG_STR, OFF(qwenai_bx_v), "2.5.36", 0, 0,
	  "Qwen AI anti-bot script version (bx-v header)" },
	{ "QWENAI_BX_UA", NULL, CFG_STR, OFF(qwenai_bx_ua), "", 0, 0,
	  "Qwen AI anti-bot bx-ua value copied from a browser (an account's "
	  "bx_ua field wins; empty: not sent)" },
	{ "QWENAI_BX_UMIDTOKEN", NULL, CFG_STR, OFF(qwenai_bx_umidtoken), "", 0,
	  0, "Qwen AI anti-bot bx-umidtoken value (an account's bx_umidtoken "
	  "field wins; empty: not sent)" },
	{ "QWENAI_MODELS_TTL", NULL, CFG_LONG, OFF(qwenai_models_ttl), "3600",
	  0, 604800, "seconds Qwen AI's own model list is kept for "
	  "/v1/models (0: only the built-in models)" },
	{ "MINIMAX_BASE_URL", NULL, CFG_URLS, OFF(minimax_base_url),
	  "https://agent.minimaxi.com", 0, 0,
	  "MiniMax agent backend base URL(s), one picked per request" },
	{ "LB_STRATEGY_MINIMAX", NULL, CFG_STRATEGY, OFF(lb_strategy_minimax),
	  "", 0, 0, "LB_STRATEGY for MiniMax accounts only" },
	{ "MINIMAX_POLL_MIN_MS", NULL, CFG_LONG, OFF(minimax_poll_min_ms),
	  "400", 50, 60000, "MiniMax answer polls: the wait after a poll "
	  "that showed new text (ms)" },
	{ "MINIMAX_POLL_MAX_MS", NULL, CFG_LONG, OFF(minimax_poll_max_ms),
	  "2000", 50, 60000, "MiniMax answer polls: the longest wait, "
	  "reached while nothing changes (ms)" },
	{ "MINIMAX_ANSWER_TIMEOUT", NULL, CFG_LONG,
	  OFF(minimax_answer_timeout), "600", 1, 86400, "seconds a MiniMax "
	  "answer may take before it ends with an error" },
	{ "ZAI_BASE_URL", NULL, CFG_URLS, OFF(zai_base_url),
	  "https://chat.z.ai", 0, 0,
	  "Z.ai web backend base URL(s), one picked per request" },
	{ "LB_STRATEGY_ZAI", NULL, CFG_STRATEGY, OFF(lb_strategy_zai), "",
	  0, 0, "LB_STRATEGY for Z.ai accounts only" },
	{ "LB_STRATEGY_KIMI", NULL, CFG_STRATEGY, OFF(lb_strategy_kimi), "",
	  0, 0, "LB_STRATEGY for Kimi accounts only" },
	{ "LB_STRATEGY_GLM", NULL, CFG_STRATEGY, OFF(lb_strategy_glm), "", 0,
	  0, "LB_STRATEGY for GLM accounts only" },
	{ "REQUIRE_API_KEY", NULL, CFG_BOOL, OFF(require_api_key), "false", 0,
	  0, "refuse API requests without an AUTHORIZATION code or API key" },
	{ "CHAT2API_TZ", NULL, CFG_TZ, OFF(tz), "", 0, 0,
	  "time zone of daily limits, e.g. Asia/Shanghai (default: the "
	  "system's)" },

	{ "CHAT2API_DATA_DIR", NULL, CFG_STR, OFF(data_dir),
	  "/var/lib/chat2api", 0, 0, "LMDB directory (created if missing)" },
	{ "CHAT2API_STORE", NULL, CFG_STR, OFF(store), "lmdb", 0, 0,
	  "where the shared state lives: lmdb (in DATA_DIR) or "
	  "redis[s]://[:password@]host[:port][/db][?prefix=name][&ca=FILE] "
	  "for several hosts (built --with-redis)" },
	{ "CHAT2API_SECRET_KEY", NULL, CFG_STR, OFF(secret_key), "", 0, 0,
	  "key for credentials at rest: 64 hex digits or a 16+ char "
	  "passphrase (default: DATA_DIR/secret.key)" },
	/* streams park (fcgi/coro.h): threads only set requests up */
	{ "CHAT2API_THREADS", NULL, CFG_LONG, OFF(threads), "32", 1, 4096,
	  "worker threads per FastCGI process (1..4096), and as many resume "
	  "threads (at most 256); an open stream holds none while it waits" },
	{ "CHAT2API_MAX_BODY", NULL, CFG_SIZE, OFF(max_body), "20m", 1024,
	  1L << 30, "largest request body (bytes, k/m suffix); over it: 413" },
	{ "CHAT2API_MOUNT", NULL, CFG_PREFIX, OFF(mount), "", 0, 0,
	  "URL prefix the front server mounts chat2api under" },
	{ "CHAT2API_LOG", NULL, CFG_LOGSPEC, OFF(log_spec), "stderr", 0, 0,
	  "stderr, syslog or file:PATH" },
	{ "CHAT2API_LOG_LEVEL", NULL, CFG_LOGLEVEL, OFF(log_level), "info",
	  0, 0, "error, warn, info or debug" },
	{ "CHAT2API_GRACE", NULL, CFG_LONG, OFF(grace), "30", 0, 3600,
	  "seconds in-flight requests get after SIGTERM" },
	{ "CHAT2API_SSE_KEEPALIVE", NULL, CFG_LONG, OFF(sse_keepalive), "15",
	  1, 3600, "seconds of stream silence before a keep-alive comment" },
	{ "CHAT2API_TEST_ROUTES", NULL, CFG_BOOL, OFF(test_routes), "false",
	  0, 0, "enable /_test/* routes (tests only)" },
	{ "CHAT2API_TEST_CLOCK_SKEW", NULL, CFG_LONG, OFF(test_clock_skew),
	  "0", -31536000, 31536000, "seconds added to the store's clock "
	  "(tests only: needs CHAT2API_TEST_ROUTES)" },
	{ "CHAT2API_MAP_SIZE", NULL, CFG_SIZE, OFF(map_size), "64m", 1L << 20,
	  LONG_MAX, "initial LMDB map size; grows when full" },
	{ "CHAT2API_ADMIN_MAX_FAILS", NULL, CFG_LONG, OFF(admin_max_fails),
	  "10", 0, 100000, "failed /tokens and /admin logins or Bearer codes per "
	  "client address in a window before it gets 429 (0: no limit)" },
	{ "CHAT2API_ADMIN_FAIL_WINDOW", NULL, CFG_LONG, OFF(admin_fail_window),
	  "600", 1, 86400, "seconds of that window" },
	{ "CHAT2API_CORS_ORIGIN", NULL, CFG_STR, OFF(cors_origin), "*", 0, 0,
	  "Access-Control-Allow-Origin value" },
	{ "CHAT2API_CA_FILE", NULL, CFG_STR, OFF(ca_file), "", 0, 0,
	  "PEM file of the CAs upstream TLS connections trust (empty: "
	  "libcurl's default bundle)" },

	{ "MANAGEMENT_SECRET", NULL, CFG_STR, OFF(management_secret), "", 0, 0,
	  "secret of the management API /v0/management/* (Authorization: "
	  "Bearer or X-Management-Secret); unset: the API answers 404" },
	{ "METRICS", NULL, CFG_BOOL, OFF(metrics), "false", 0, 0,
	  "serve Prometheus metrics at /metrics (false: 404)" },
	{ "METRICS_CODE", NULL, CFG_STR, OFF(metrics_code), "", 0, 0,
	  "if set, /metrics wants it as Authorization: Bearer or ?code=" },
	{ "LOG_MAX_ENTRIES", NULL, CFG_LONG, OFF(log_max_entries), "10000", 0,
	  10000000, "API requests the request log keeps, the oldest "
	  "dropped a few per request (0: no request log)" },
	{ "LOG_RETENTION_DAYS", NULL, CFG_LONG, OFF(log_retention_days), "7",
	  0, 3650, "days a request log entry is kept (0: until "
	  "LOG_MAX_ENTRIES pushes it out)" },
	{ "LOG_BODIES", NULL, CFG_BOOL, OFF(log_bodies), "false", 0, 0,
	  "the request log also keeps request and response bodies, cut at "
	  "LOG_BODY_MAX, credentials redacted" },
	{ "LOG_BODY_MAX", NULL, CFG_SIZE, OFF(log_body_max), "4k", 256, 65535,
	  "bytes of each body LOG_BODIES keeps" },
};

#define NVARS (sizeof(cfg_vars) / sizeof(cfg_vars[0]))

int
config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "1", "t", "y", "yes", "on" };
	static const char *const no[] = { "false", "0", "f", "n", "no", "off" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	return -1;
}

static int
has_scheme(const char *s, const char *const *schemes)
{
	for (; *schemes != NULL; schemes++) {
		size_t n = strlen(*schemes);
		if (strncasecmp(s, *schemes, n) == 0 && s[n] != '\0')
			return 1;
	}
	return 0;
}

static const char *const url_schemes[] = { "http://", "https://", NULL };
static const char *const proxy_schemes[] = { "http://", "https://",
	"socks4://", "socks4a://", "socks5://", "socks5h://", NULL };

/* Splits on ',' after removing all spaces, as the reference does. */
static int
split_list(const char *s, struct strlist *out)
{
	char *copy, *o, *tok, *save = NULL;
	const char *p;
	size_t n = 1;

	if ((copy = malloc(strlen(s) + 1)) == NULL)
		return -1;
	for (p = s, o = copy; *p; p++)
		if (!isspace((unsigned char)*p))
			*o++ = *p;
	*o = '\0';
	for (p = copy; *p; p++)
		n += *p == ',';
	if ((out->v = calloc(n + 1, sizeof(char *))) == NULL) {
		free(copy);
		return -1;
	}
	out->n = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		if ((out->v[out->n++] = strdup(tok)) == NULL) {
			free(copy);
			return -1;
		}
	free(copy);
	return 0;
}

/* ["a", 'b'] or a,b: quotes and brackets are dropped. */
static int
split_pylist(const char *s, struct strlist *out)
{
	char *copy, *o;
	const char *p;
	int rc;

	if ((copy = malloc(strlen(s) + 1)) == NULL)
		return -1;
	for (p = s, o = copy; *p; p++)
		if (*p != '[' && *p != ']' && *p != '"' && *p != '\'' &&
		    *p != '(' && *p != ')')
			*o++ = *p;
	*o = '\0';
	rc = split_list(copy, out);
	free(copy);
	return rc;
}

static int
parse_size(const char *s, long *out)
{
	char *end;
	long v, mul = 1;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'k': mul = 1L << 10; end++; break;
	case 'm': mul = 1L << 20; end++; break;
	case 'g': mul = 1L << 30; end++; break;
	default: return -1;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || (v && mul > LONG_MAX / v))
		return -1;
	*out = v * mul;
	return 0;
}

/* "secret", "/secret/", "/a/b" -> "/secret", "/a/b"; rejects odd bytes. */
static char *
norm_prefix(const char *s)
{
	char *out, *o;
	const char *p;

	if ((out = malloc(strlen(s) + 2)) == NULL)
		return NULL;
	o = out;
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '/') {
			if (o > out && o[-1] == '/')
				continue;
			*o++ = '/';
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_' && c != '.' &&
		    c != '~') {
			free(out);
			return NULL;
		}
		if (o == out)
			*o++ = '/';
		*o++ = (char)c;
	}
	while (o > out && o[-1] == '/')
		o--;
	*o = '\0';
	if (strstr(out, "/./") || strstr(out, "/../") ||
	    (strlen(out) >= 2 && strcmp(out + strlen(out) - 2, "/.") == 0) ||
	    (strlen(out) >= 3 && strcmp(out + strlen(out) - 3, "/..") == 0)) {
		free(out);
		return NULL;
	}
	return out;
}

static int
strategy_ok(const char *s)
{
	static const char *const names[] = { "round-robin", "fill-first",
	    "failover", "weighted", "random" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0)
			return 1;
	return 0;
}

/* An IANA name that exists here, or a POSIX value (letters, offset). */
static int
tz_ok(const char *s)
{
	char path[512];
	const char *p;

	if (strlen(s) > 128 || strstr(s, "..") || *s == '/')
		return 0;
	if (*s == ':')
		s++;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", s);
	if (strchr(s, '/') != NULL || strcmp(s, "UTC") == 0 ||
	    strcmp(s, "GMT") == 0)
		return access(path, R_OK) == 0 || strcmp(s, "UTC") == 0 ||
		    strcmp(s, "GMT") == 0;
	for (p = s; isalpha((unsigned char)*p); p++)
		;
	if (p - s < 3)
		return 0;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("+-:,./<>", *p) ==
		    NULL)
			return 0;
	return 1;
}

/* The words a CFG_WORD variable takes, separated by '|'. */
static const char *
words_of(const char *name)
{
	if (strcmp(name, "TOOL_FORMAT") == 0)
		return "bracket|xml";
	if (strcmp(name, "TOOL_PROMPT") == 0)
		return "auto|always|never";
	if (strcmp(name, "CONTEXT_STRATEGY") == 0)
		return "none|sliding|tokens";
	return "";
}

static int
word_ok(const char *words, const char *val)
{
	size_t n = strlen(val);
	const char *w;

	if (strchr(val, '|') != NULL)
		return 0;
	for (w = words; n > 0 && *w; w += strcspn(w, "|") + (w[strcspn(w,
	    "|")] == '|'))
		if (strncmp(w, val, n) == 0 && (w[n] == '|' || w[n] == '\0'))
			return 1;
	return 0;
}

static int
parse_one(struct config *c, const struct cfg_var *v, const char *val,
    char *err, size_t errsz)
{
	void *field = (char *)c + v->off;
	const char *what = NULL;
	struct strlist *l;
	size_t i;
	long n;
	char *end;
	enum log_level lvl;

	switch (v->type) {
	case CFG_BOOL:
		if (config_parse_bool(val, (int *)field) < 0)
			what = "true/false (also 1/0, yes/no, t/f, y/n)";
		break;
	case CFG_URL:
		if (*val && !has_scheme(val, url_schemes)) {
			what = "an http:// or https:// URL";
			break;
		}
		goto str;
	case CFG_PROXY:
		if (*val && !has_scheme(val, proxy_schemes)) {
			what = "a proxy URL (http, https, socks4, socks4a, "
			    "socks5, socks5h)";
			break;
		}
		goto str;
	case CFG_STR:
	case CFG_LOGSPEC:
	str:
		if (v->type == CFG_LOGSPEC && strcmp(val, "stderr") != 0 &&
		    strcmp(val, "syslog") != 0 &&
		    (strncmp(val, "file:", 5) != 0 || val[5] == '\0')) {
			what = "stderr, syslog or file:PATH";
			break;
		}
		if ((*(char **)field = strdup(val)) == NULL)
			what = "(out of memory)";
		break;
	case CFG_LOGLEVEL:
		if (log_level_parse(val, &lvl) < 0) {
			what = "error, warn, info or debug";
			break;
		}
		goto str;
	case CFG_LIST:
	case CFG_URLS:
	case CFG_PROXIES:
	case CFG_PYLIST:
		l = field;
		if ((v->type == CFG_PYLIST ? split_pylist(val, l) :
		    split_list(val, l)) < 0) {
			what = "(out of memory)";
			break;
		}
		for (i = 0; i < l->n; i++) {
			if (v->type == CFG_URLS &&
			    !has_scheme(l->v[i], url_schemes))
				what = "a comma list of http(s):// URLs";
			if (v->type == CFG_PROXIES &&
			    !has_scheme(l->v[i], proxy_schemes))
				what = "a comma list of proxy URLs (http, "
				    "https, socks4, socks4a, socks5, socks5h)";
		}
		break;
	case CFG_LONG:
		errno = 0;
		n = strtol(val, &end, 10);
		if (errno || end == val || *end != '\0' || n < v->min ||
		    n > v->max) {
			snprintf(err, errsz, "%s=%s: accepts an integer from "
			    "%ld to %ld", v->name, val, v->min, v->max);
			return -1;
		}
		*(long *)field = n;
		break;
	case CFG_SIZE:
		if (parse_size(val, &n) < 0 || n < v->min || n > v->max) {
			snprintf(err, errsz, "%s=%s: accepts a byte count "
			    "from %ld (k, m, g suffixes allowed)", v->name,
			    val, v->min);
			return -1;
		}
		*(long *)field = n;
		break;
	case CFG_HEX:
		n = (long)strlen(val);
		for (i = 0; val[i]; i++)
			if (!isxdigit((unsigned char)val[i]))
				n = -1;
		if (n < v->min || n > v->max) {
			snprintf(err, errsz, "%s=%s: accepts 1 to %ld hex "
			    "digits", v->name, val, v->max);
			return -1;
		}
		goto str;
	case CFG_PREFIX:
		if ((*(char **)field = norm_prefix(val)) == NULL)
			what = "a URL path like /secret (letters, digits, "
			    "- _ . ~ and /)";
		break;
	case CFG_STRATEGY:
		if (*val && !strategy_ok(val)) {
			what = "round-robin, fill-first, failover, weighted or "
			    "random";
			break;
		}
		goto str;
	case CFG_TZ:
		if (*val && !tz_ok(val)) {
			what = "a time zone name of /usr/share/zoneinfo (e.g. "
			    "Europe/Berlin) or a POSIX TZ value (e.g. UTC, "
			    "CST-8)";
			break;
		}
		/* Daily limits count in this zone: all of the process. */
		if (*val) {
			setenv("TZ", val, 1);
			tzset();
		}
		goto str;
	case CFG_WORD:
		if (!word_ok(words_of(v->name), val)) {
			snprintf(err, errsz, "%s=%s: accepts one of %s", v->name,
			    val, words_of(v->name));
			return -1;
		}
		goto str;
	case CFG_MAPPING:
		if (config_parse_mapping(val, field, err, errsz) < 0)
			return -1;
		break;
	}
	if (what != NULL) {
		snprintf(err, errsz, "%s=%s: accepts %s", v->name, val, what);
		return -1;
	}
	return 0;
}

int
config_load(struct config *c, char *err, size_t errsz)
{
	const struct cfg_var *v;
	const char *val;

	memset(c, 0, sizeof(*c));
	for (v = cfg_vars; v < cfg_vars + NVARS; v++) {
		val = getenv(v->name);
		if (val == NULL && v->alias != NULL)
			val = getenv(v->alias);
		if (val == NULL || (*val == '\0' && v->type != CFG_STR))
			val = v->def;
		if (parse_one(c, v, val, err, errsz) < 0) {
			config_free(c);
			return -1;
		}
	}
	return 0;
}

static void
free_list(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
config_free(struct config *c)
{
	const struct cfg_var *v;
	void *field;

	for (v = cfg_vars; v < cfg_vars + NVARS; v++) {
		field = (char *)c + v->off;
		switch (v->type) {
		case CFG_LIST: case CFG_URLS: case CFG_PROXIES: case CFG_PYLIST:
			free_list(field);
			break;
		case CFG_MAPPING:
			config_free_mapping(field);
			break;
		case CFG_STR: case CFG_URL: case CFG_PROXY: case CFG_HEX:
		case CFG_PREFIX: case CFG_LOGSPEC: case CFG_LOGLEVEL:
		case CFG_STRATEGY: case CFG_TZ: case CFG_WORD:
			free(*(char **)field);
			*(char **)field = NULL;
			break;
		default:
			break;
		}
	}
}

const char *
config_lb_strategy(const struct config *c, const char *provider)
{
	const char *s = NULL;

	if (strcmp(provider, "chatgpt") == 0)
		s = c->lb_strategy_chatgpt;
	else if (strcmp(provider, "deepseek") == 0)
		s = c->lb_strategy_deepseek;
	else if (strcmp(provider, "qwen") == 0)
		s = c->lb_strategy_qwen;
	else if (strcmp(provider, "qwenai") == 0)
		s = c->lb_strategy_qwenai;
	else if (strcmp(provider, "minimax") == 0)
		s = c->lb_strategy_minimax;
	else if (strcmp(provider, "zai") == 0)
		s = c->lb_strategy_zai;
	else if (strcmp(provider, "kimi") == 0)
		s = c->lb_strategy_kimi;
	else if (strcmp(provider, "glm") == 0)
		s = c->lb_strategy_glm;
	if (s == NULL || *s == '\0')
		s = c->lb_strategy;
	/* The reference's switch, for the pool it was made for. */
	if ((s == NULL || *s == '\0') && strcmp(provider, "chatgpt") == 0 &&
	    c->random_token)
		s = "random";
	return s != NULL && *s ? s : NULL;
}

const char *
config_var_name(size_t i)
{
	return i < NVARS ? cfg_vars[i].name : NULL;
}

/*
 * Where variable i's value comes from, for the management API: the
 * environment (by name or alias), else the default.  secret: a value
 * that must never be shown (codes, keys, credentials in proxy URLs).
 */
int
config_describe(size_t i, struct config_desc *d)
{
	static const char *const secrets[] = { "AUTHORIZATION", "AUTH_KEY",
	    "X_SIGN", "CHAT2API_SECRET_KEY", "MANAGEMENT_SECRET",
	    "METRICS_CODE", "PROXY_URL", "SENTINEL_PROXY_URL",
	    "EXPORT_PROXY_URL", "QWENAI_BX_UA", "QWENAI_BX_UMIDTOKEN", NULL };
	const struct cfg_var *v;
	const char *const *p;
	const char *val;

	if (i >= NVARS)
		return -1;
	v = &cfg_vars[i];
	memset(d, 0, sizeof(*d));
	d->name = v->name;
	d->help = v->help;
	d->source = "default";
	d->value = v->def;
	if ((val = getenv(v->name)) != NULL && (*val || v->type == CFG_STR)) {
		d->value = val;
		d->source = "environment";
	} else if (v->alias != NULL && (val = getenv(v->alias)) != NULL &&
	    (*val || v->type == CFG_STR)) {
		d->value = val;
		d->source = v->alias;
	}
	for (p = secrets; *p != NULL; p++)
		if (strcmp(*p, v->name) == 0)
			d->secret = 1;
	return 0;
}

void
config_usage(FILE *f)
{
	const struct cfg_var *v;

	fprintf(f, "Environment (parsed once at start):\n");
	for (v = cfg_vars; v < cfg_vars + NVARS; v++)
		fprintf(f, "  %-22s %s%s%s%s\n", v->name, v->help,
		    *v->def ? " [default: " : "", v->def, *v->def ? "]" : "");
}
