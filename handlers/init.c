/*
 * What the handlers need set up once per process and torn down at its
 * end: the upstream HTTP client (libcurl's global state and the shared
 * handle) and the clock /health reports uptime from.  fcgi/main.c calls
 * these and nothing below the handlers.
 */
#include "config.h"

#include <curl/curl.h>

#include "handlers/handlers.h"
#include "upstream/http.h"

int
handlers_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	if (http_global_init() != 0) {
		curl_global_cleanup();
		return -1;
	}
	h_status_init();
	return 0;
}

void
handlers_thread_done(void)
{
	http_thread_cleanup();
}

void
handlers_cleanup(void)
{
	http_global_cleanup();
	curl_global_cleanup();
}
