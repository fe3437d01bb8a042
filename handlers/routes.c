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

const struct route handler_routes[] = {
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
	TOKENS_ROUTES(0),
	TOKENS_ROUTES(ROUTE_API),
	{ "GET POST", "/_test/echo", ROUTE_TEST | ROUTE_COUNT | ROUTE_BODY,
	  h_test_echo },
	{ "GET", "/_test/sse", ROUTE_TEST, h_test_sse },
};
const size_t handler_nroutes = sizeof(handler_routes) /
    sizeof(handler_routes[0]);
