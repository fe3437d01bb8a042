/*
 * rediss://: Redis over TLS.  Debian 12's hiredis (0.14) has no TLS, so
 * this file makes the connection itself with OpenSSL (TLS 1.2 or newer,
 * the server's certificate checked against the system's CAs or the URL's
 * ca=, and its name against the host) and leaves hiredis only what it
 * does well: formatting commands and reading replies.  Timeouts are the
 * plain connection's: 1 s to connect, 2 s for each send or receive.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "fcgi/log.h"
#include "store/kv_redis_priv.h"

#define TLS_READ_CHUNK	16384

struct kvr_tls {
	int		 fd;
	SSL		*ssl;
	redisReader	*rd;
};

struct ssl_ctx_st *
kvr_tls_ctx(const struct kvr_url *u, char *err, size_t errsz)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (u->ca[0] != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, u->ca, NULL) != 1) {
			snprintf(err, errsz, "ca=%s: no CA certificate could "
			    "be read from it", u->ca);
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		goto fail;
	return ctx;
fail:
	snprintf(err, errsz, "TLS set-up failed");
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	return NULL;
}

/* A TCP connection within timeout_ms, then blocking with I/O timeouts. */
static int
tcp_connect(const struct kvr_url *u, int timeout_ms, int io_ms,
    char *err, size_t errsz)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = { io_ms / 1000, (io_ms % 1000) * 1000 };
	struct pollfd pfd;
	char port[8];
	socklen_t sl;
	int fd = -1, rc, soerr, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", u->port);
	if ((rc = getaddrinfo(u->host, port, &hints, &res)) != 0) {
		snprintf(err, errsz, "resolve: %s", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			sl = sizeof(soerr);
			if (poll(&pfd, 1, timeout_ms) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &sl) == 0 && soerr == 0)
				break;
			errno = soerr ? soerr : ETIMEDOUT;
		}
		snprintf(err, errsz, "connect: %s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

void
kvr_tls_free(struct kvr_tls *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL) {
		SSL_shutdown(t->ssl);
		SSL_free(t->ssl);
	}
	if (t->fd >= 0)
		close(t->fd);
	if (t->rd != NULL)
		redisReaderFree(t->rd);
	free(t);
}

struct kvr_tls *
kvr_tls_connect(struct ssl_ctx_st *ctx, const struct kvr_url *u, int timeout_ms,
    int io_ms, char *err, size_t errsz)
{
	struct kvr_tls *t;
	unsigned char ip[16];
	long vr;
	int is_ip;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	t->fd = -1;
	if ((t->fd = tcp_connect(u, timeout_ms, io_ms, err, errsz)) < 0)
		goto fail;
	if ((t->ssl = SSL_new(ctx)) == NULL || (t->rd = redisReaderCreate()) ==
	    NULL || SSL_set_fd(t->ssl, t->fd) != 1) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	is_ip = inet_pton(AF_INET, u->host, ip) == 1 ||
	    inet_pton(AF_INET6, u->host, ip) == 1;
	/* The certificate must name what the URL names. */
	if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl),
	    u->host) != 1 : (SSL_set_tlsext_host_name(t->ssl, u->host) != 1 ||
	    SSL_set1_host(t->ssl, u->host) != 1)) {
		snprintf(err, errsz, "TLS set-up failed");
		goto fail;
	}
	ERR_clear_error();
	if (SSL_connect(t->ssl) != 1) {
		vr = SSL_get_verify_result(t->ssl);
		if (vr != X509_V_OK)
			snprintf(err, errsz, "TLS: the server's certificate "
			    "is refused: %s", X509_verify_cert_error_string(vr));
		else
			snprintf(err, errsz, "TLS handshake failed (%s)",
			    ERR_reason_error_string(ERR_peek_last_error()) ?
			    ERR_reason_error_string(ERR_peek_last_error()) :
			    "the connection closed");
		goto fail;
	}
	return t;
fail:
	ERR_clear_error();
	kvr_tls_free(t);
	return NULL;
}

/* One command and its reply; NULL with err set on an I/O error. */
redisReply *
kvr_tls_command(struct kvr_tls *t, int argc, const char **argv,
    const size_t *lens, char *err, size_t errsz)
{
	char *cmd = NULL, buf[TLS_READ_CHUNK];
	void *reply = NULL;
	int len, off, n;

	if ((len = redisFormatCommandArgv(&cmd, argc, argv, lens)) < 0) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	for (off = 0; off < len; off += n)
		if ((n = SSL_write(t->ssl, cmd + off, len - off)) <= 0) {
			snprintf(err, errsz, "TLS write failed");
			goto fail;
		}
	for (;;) {
		if (redisReaderGetReply(t->rd, &reply) != REDIS_OK) {
			snprintf(err, errsz, "protocol error");
			goto fail;
		}
		if (reply != NULL)
			break;
		if ((n = SSL_read(t->ssl, buf, sizeof(buf))) <= 0) {
			snprintf(err, errsz, "TLS read failed or timed out");
			goto fail;
		}
		if (redisReaderFeed(t->rd, buf, (size_t)n) != REDIS_OK) {
			snprintf(err, errsz, "protocol error");
			goto fail;
		}
	}
	free(cmd);
	return reply;
fail:
	n = errno;	/* a timeout tells itself by EAGAIN */
	ERR_clear_error();
	free(cmd);
	errno = n;
	return NULL;
}
