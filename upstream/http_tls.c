/* Upstream TLS settings (see http_tls.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "fcgi/log.h"
#include "upstream/http_tls.h"

static char	*ca_file;
static int	 openssl_ctx;	/* libcurl hands us OpenSSL's SSL_CTX */

int
http_tls_init(const char *file)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	http_tls_cleanup();
	if (file != NULL && *file != '\0' &&
	    (ca_file = strdup(file)) == NULL)
		return -1;
	/* The callback's argument is the backend's own type: only
	 * OpenSSL's is known here (Debian's libcurl4-openssl). */
	openssl_ctx = v != NULL && v->ssl_version != NULL &&
	    strncmp(v->ssl_version, "OpenSSL/", 8) == 0;
	if (!openssl_ctx)
		log_info("tls: libcurl uses %s: its buffers are kept while "
		    "idle", v != NULL && v->ssl_version != NULL ?
		    v->ssl_version : "no TLS library");
	return 0;
}

void
http_tls_cleanup(void)
{
	free(ca_file);
	ca_file = NULL;
}

/* Each new connection's context: buffers only while records move. */
static CURLcode
ctx_setup(CURL *h, void *ctx, void *arg)
{
	(void)h;
	(void)arg;
	SSL_CTX_set_mode((SSL_CTX *)ctx, SSL_MODE_RELEASE_BUFFERS);
	return CURLE_OK;
}

void
http_tls_apply(CURL *h)
{
	if (ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
	if (openssl_ctx)
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ctx_setup);
}
