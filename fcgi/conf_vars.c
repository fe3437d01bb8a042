/* Every environment variable chat2api reads (see conf_vars.h). */
#include "config.h"

#include <limits.h>
#include <stddef.h>

#include "fcgi/conf.h"
#include "fcgi/conf_vars.h"

#define OFF(f) offsetof(struct config, f)

const struct cfg_var cfg_vars[] = {
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

const size_t cfg_nvars = sizeof(cfg_vars) / sizeof(cfg_vars[0]);
