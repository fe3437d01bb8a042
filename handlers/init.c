/*
 * What the handlers need set up once per process and torn down at its
 * end: the upstream HTTP client (libcurl's global state, the shared
 * handle, the CAs it trusts) and the clock /health reports uptime from.
 * fcgi/main.c calls these and nothing below the handlers.
 */
#include "config.h"

#include <curl/curl.h>

#include "handlers/handlers.h"
#include "fcgi/conf.h"
#include "upstream/http.h"

int
handlers_init(const struct config *cfg)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	if (http_global_init() != 0 || http_ca_file(cfg->ca_file) != 0) {
		http_global_cleanup();
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
