/* The static route table, scanned once per request by fcgi/router.c. */
#include "config.h"

#include "fcgi/router.h"
#include "handlers/handlers.h"

/*
 * The pool management page and its JSON endpoints: at the root and, when
 * API_PREFIX is set, under it too (the first match wins, so without a
 * prefix the second set is never reached).
 */
#define TOKENS_ROUTES(flags)						\
	{ "GET", "/tokens", (flags), h_tokens_page },			\
	{ "POST", "/tokens/login", (flags) | ROUTE_BODY, h_tokens_login }, \
	{ "POST", "/tokens/logout", (flags) | ROUTE_BODY, h_tokens_logout }, \
	{ "POST", "/tokens/upload", (flags) | ROUTE_BODY, h_tokens_upload }, \
	{ "POST", "/tokens/clear", (flags) | ROUTE_BODY, h_tokens_clear }, \
	{ "POST", "/tokens/error", (flags) | ROUTE_BODY, h_tokens_error }, \
	{ "POST", "/tokens/errors/clear", (flags) | ROUTE_BODY,		\
	  h_tokens_errors_clear },					\
	{ "POST", "/tokens/remove", (flags) | ROUTE_BODY, h_tokens_remove }, \
	{ "POST", "/seed_tokens/clear", (flags) | ROUTE_BODY,		\
	  h_seed_tokens_clear }

/* The operator console (handlers/admin.c), at the root and under the prefix. */
#define ADMIN_ROUTES(flags)						\
	{ "GET", "/admin", (flags), h_admin_page },			\
	{ "POST", "/admin/login", (flags) | ROUTE_BODY, h_admin_login }, \
	{ "POST", "/admin/logout", (flags) | ROUTE_BODY, h_admin_logout }, \
	{ "GET", "/admin/accounts", (flags), h_admin_accounts },	\
	{ "POST", "/admin/accounts/", (flags) | ROUTE_SUBPATH | ROUTE_BODY, \
	  h_admin_accounts_post },					\
	{ "GET", "/admin/keys", (flags), h_admin_keys },		\
	{ "POST", "/admin/keys/", (flags) | ROUTE_SUBPATH | ROUTE_BODY,	\
	  h_admin_keys_post },						\
	{ "GET", "/admin/mappings", (flags), h_admin_mappings },	\
	{ "POST", "/admin/mappings/", (flags) | ROUTE_SUBPATH | ROUTE_BODY, \
	  h_admin_mappings_post },					\
	{ "GET", "/admin/logs", (flags), h_admin_logs },		\
	{ "GET", "/admin/sessions", (flags), h_admin_sessions },	\
	{ "POST", "/admin/sessions/", (flags) | ROUTE_SUBPATH | ROUTE_BODY, \
	  h_admin_sessions_post },					\
	{ "GET", "/admin/settings", (flags), h_admin_settings }

/*
 * The gateway (ENABLE_GATEWAY): its pages before the JSON index, its
 * own routes after the API's, and the mirror's proxy as the fallback
 * for every other path.  None of it lives under API_PREFIX.
 */
#define GATEWAY		ROUTE_GATEWAY
#define GATEWAY_ROUTES							\
	{ "GET", "/login", GATEWAY, h_gw_login_page },			\
	{ "POST", "/login", GATEWAY | ROUTE_BODY, h_gw_login },		\
	{ "GET", "/auth/logout", GATEWAY, h_gw_logout },		\
	{ "POST", "/auth/refresh", GATEWAY | ROUTE_BODY, h_gw_auth_refresh }, \
	{ "GET POST DELETE", "/seedtoken", GATEWAY | ROUTE_BODY,	\
	  h_gw_seedtoken },						\
	{ "GET", "/gpts", GATEWAY, h_gw_home },				\
	{ "GET", "/gpts.data", GATEWAY, h_gw_gpts_data },		\
	{ "GET", "/c/", GATEWAY | ROUTE_SUBPATH, h_gw_home },		\
	{ "GET", "/g/", GATEWAY | ROUTE_SUBPATH, h_gw_home },		\
	{ "GET", "/", GATEWAY | ROUTE_FALLBACK, h_gw_site },		\
	{ "POST PUT PATCH DELETE", "/", GATEWAY | ROUTE_FALLBACK |	\
	  ROUTE_BODY, h_gw_site }

const struct route handler_routes[] = {
	{ "GET", "/", GATEWAY, h_gw_home },
	{ "GET", "/", 0, h_index },
	{ "GET", "/health", 0, h_health },
	{ "GET", "/stats", ROUTE_API, h_stats },
	{ "GET", "/v1/models", ROUTE_API | ROUTE_COUNT, h_models_list },
	{ "GET", "/v1/models/", ROUTE_API | ROUTE_SUBPATH | ROUTE_COUNT,
	  h_models_get },
	{ "POST", "/v1/chat/completions", ROUTE_API | ROUTE_COUNT | ROUTE_BODY,
	  h_chat_completions },
	{ "POST", "/v1/completions", ROUTE_API | ROUTE_COUNT | ROUTE_BODY,
	  h_completions },
	{ "POST", "/v1/messages", ROUTE_API | ROUTE_COUNT | ROUTE_BODY,
	  h_messages },
	{ "POST", "/v1/messages/count_tokens", ROUTE_API | ROUTE_BODY,
	  h_messages_count_tokens },
	{ "POST", "/v1/responses", ROUTE_API | ROUTE_COUNT | ROUTE_BODY,
	  h_responses },
	{ "GET DELETE", "/v1/responses/", ROUTE_API | ROUTE_SUBPATH,
	  h_responses_item },
	TOKENS_ROUTES(0),
	TOKENS_ROUTES(ROUTE_API),
	ADMIN_ROUTES(0),
	ADMIN_ROUTES(ROUTE_API),
	/* off (404) unless METRICS / MANAGEMENT_SECRET: handlers/metrics.c,
	 * handlers/mgmt_api.c */
	{ "GET", "/metrics", 0, h_metrics },
	{ "GET", "/metrics", ROUTE_API, h_metrics },
	{ "GET POST PATCH DELETE", "/v0/management/", ROUTE_TREE |
	  ROUTE_BODY, h_management },
	{ "GET POST PATCH DELETE", "/v0/management/", ROUTE_API |
	  ROUTE_TREE | ROUTE_BODY, h_management },
	{ "GET POST", "/_test/echo", ROUTE_TEST | ROUTE_COUNT | ROUTE_BODY,
	  h_test_echo },
	{ "GET", "/_test/sse", ROUTE_TEST, h_test_sse },
	GATEWAY_ROUTES,
};
const size_t handler_nroutes = sizeof(handler_routes) /
    sizeof(handler_routes[0]);
