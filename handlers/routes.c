/* The static route table, scanned once per request by fcgi/router.c. */
#include "config.h"

#include "fcgi/router.h"
#include "handlers/handlers.h"

const struct route handler_routes[] = {
	{ "GET", "/", 0, h_index },
	{ "GET", "/health", 0, h_health },
	{ "GET", "/stats", ROUTE_API, h_stats },
	{ "GET", "/v1/models", ROUTE_API | ROUTE_COUNT, h_models_list },
	{ "GET", "/v1/models/", ROUTE_API | ROUTE_SUBPATH | ROUTE_COUNT,
	  h_models_get },
	{ "POST", "/v1/chat/completions", ROUTE_API | ROUTE_COUNT | ROUTE_BODY,
	  h_chat_completions },
	{ "GET POST", "/_test/echo", ROUTE_TEST | ROUTE_COUNT | ROUTE_BODY,
	  h_test_echo },
	{ "GET", "/_test/sse", ROUTE_TEST, h_test_sse },
};
const size_t handler_nroutes = sizeof(handler_routes) /
    sizeof(handler_routes[0]);
