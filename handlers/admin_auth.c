/* Admin login, stateless sessions and CSRF tokens (handlers/admin_auth.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "fcgi/log.h"
#include "handlers/admin_auth.h"
#include "store/crypto.h"
#include "store/store.h"

/* Distinct labels: a session MAC can never pass as a CSRF token. */
#define LABEL_SESSION	"chat2api admin session v1"
#define LABEL_CSRF	"chat2api admin csrf v1"
#define LABEL_CODE	"chat2api admin code v1"

#define NONCE_BYTES	8
#define CODEID_BYTES	8

static void
hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
admin_enabled(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->authorization.n; i++)
		if (cfg->authorization.v[i][0] != '\0')
			return 1;
	return 0;
}

int
admin_code_ok(const struct config *cfg, const char *code, size_t len)
{
	unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
	char wh[2 * SHA256_DIGEST_LENGTH + 1], gh[2 * SHA256_DIGEST_LENGTH + 1];
	size_t i;
	int ok = 0;

	if (code == NULL || len == 0)
		return 0;
	SHA256((const unsigned char *)code, len, got);
	hex_encode(got, sizeof(got), gh);
	for (i = 0; i < cfg->authorization.n; i++) {
		const char *c = cfg->authorization.v[i];
		if (c[0] == '\0')
			continue;
		SHA256((const unsigned char *)c, strlen(c), want);
		hex_encode(want, sizeof(want), wh);
		ok |= crypto_streq(wh, gh);
	}
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(gh, sizeof(gh));
	return ok;
}

int
admin_secret_ok(const char *want, const char *got)
{
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
	char ah[2 * SHA256_DIGEST_LENGTH + 1], bh[2 * SHA256_DIGEST_LENGTH + 1];
	int ok;

	if (want == NULL || *want == '\0' || got == NULL || *got == '\0')
		return 0;
	SHA256((const unsigned char *)want, strlen(want), a);
	SHA256((const unsigned char *)got, strlen(got), b);
	hex_encode(a, sizeof(a), ah);
	hex_encode(b, sizeof(b), bh);
	ok = crypto_streq(ah, bh);
	OPENSSL_cleanse(b, sizeof(b));
	OPENSSL_cleanse(bh, sizeof(bh));
	return ok;
}

/* A short keyed id of a code: the session names its code without it. */
static void
code_id(struct store *st, const char *code, size_t len,
    char out[2 * CODEID_BYTES + 1])
{
	unsigned char mac[CRYPTO_MAC_LEN];

	store_mac(st, LABEL_CODE, code, len, mac);
	hex_encode(mac, CODEID_BYTES, out);
}

int
admin_session_new(struct store *st, const char *code, size_t len,
    time_t now, char out[ADMIN_SESSION_MAX])
{
	unsigned char nonce[NONCE_BYTES], mac[CRYPTO_MAC_LEN];
	char nh[2 * NONCE_BYTES + 1], cid[2 * CODEID_BYTES + 1];
	char mh[2 * CRYPTO_MAC_LEN + 1];
	int n;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return -1;
	hex_encode(nonce, sizeof(nonce), nh);
	code_id(st, code, len, cid);
	n = snprintf(out, ADMIN_SESSION_MAX, "1.%lld.%s.%s",
	    (long long)now + ADMIN_SESSION_TTL, nh, cid);
	if (n < 0 || (size_t)n + 1 + sizeof(mh) > ADMIN_SESSION_MAX)
		return -1;
	store_mac(st, LABEL_SESSION, out, (size_t)n, mac);
	hex_encode(mac, sizeof(mac), mh);
	out[n] = '.';
	memcpy(out + n + 1, mh, sizeof(mh));
	return 0;
}

int
admin_session_ok(struct store *st, const struct config *cfg,
    const char *value, time_t now, time_t *expires)
{
	unsigned char mac[CRYPTO_MAC_LEN];
	char mh[2 * CRYPTO_MAC_LEN + 1], cid[2 * CODEID_BYTES + 1];
	char given[2 * CODEID_BYTES + 1];
	const char *p, *dot;
	long long exp;
	size_t i;
	char *end;
	int match = 0, revoked;

	/* 1.<expiry>.<nonce>.<code id>.<mac>, all fields fixed in shape */
	if (strncmp(value, "1.", 2) != 0)
		return 0;
	p = value + 2;
	if (*p < '1' || *p > '9')
		return 0;
	errno = 0;
	exp = strtoll(p, &end, 10);
	if (errno || *end != '.' || end - p > 12)
		return 0;
	p = end + 1;
	if (strlen(p) != 2 * NONCE_BYTES + 1 + 2 * CODEID_BYTES + 1 +
	    2 * CRYPTO_MAC_LEN || !is_lower_hex(p, 2 * NONCE_BYTES) ||
	    p[2 * NONCE_BYTES] != '.')
		return 0;
	p += 2 * NONCE_BYTES + 1;
	if (!is_lower_hex(p, 2 * CODEID_BYTES) || p[2 * CODEID_BYTES] != '.')
		return 0;
	memcpy(given, p, 2 * CODEID_BYTES);
	given[2 * CODEID_BYTES] = '\0';
	dot = p + 2 * CODEID_BYTES;
	if (!is_lower_hex(dot + 1, 2 * CRYPTO_MAC_LEN))
		return 0;

	/* The MAC covers everything before its own dot. */
	store_mac(st, LABEL_SESSION, value, (size_t)(dot - value), mac);
	hex_encode(mac, sizeof(mac), mh);
	if (!crypto_streq(mh, dot + 1))
		return 0;
	/* Signed by us, so the expiry is ours; still bound it. */
	if (exp <= (long long)now || exp > (long long)now + ADMIN_SESSION_TTL)
		return 0;
	/* The code it was made with must still be configured. */
	for (i = 0; i < cfg->authorization.n; i++) {
		const char *c = cfg->authorization.v[i];
		if (c[0] == '\0')
			continue;
		code_id(st, c, strlen(c), cid);
		match |= crypto_streq(cid, given);
	}
	if (!match)
		return 0;
	/* Logged out before it expired (a read of the revocation list). */
	if (store_is_revoked(st, "session", value, &revoked) != STORE_OK ||
	    revoked)
		return 0;
	if (expires != NULL)
		*expires = (time_t)exp;
	return 1;
}

void
admin_csrf(struct store *st, const char *session,
    char out[ADMIN_CSRF_LEN + 1])
{
	unsigned char mac[CRYPTO_MAC_LEN];

	store_mac(st, LABEL_CSRF, session, strlen(session), mac);
	hex_encode(mac, sizeof(mac), out);
}

int
admin_csrf_ok(struct store *st, const char *session, const char *token)
{
	char want[ADMIN_CSRF_LEN + 1];

	if (session == NULL || session[0] == '\0' || token == NULL)
		return 0;
	admin_csrf(st, session, want);
	return crypto_streq(want, token);
}

int
admin_cookie_next(const char **cursor, const char *name, char *out,
    size_t outsz)
{
	const char *p = *cursor, *k, *v, *end;
	size_t nlen = strlen(name), klen, vlen;

	while (p != NULL && *p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		k = p;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		p = *end ? end + 1 : end;
		if ((v = memchr(k, '=', (size_t)(end - k))) == NULL)
			continue;
		klen = (size_t)(v - k);
		while (klen && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
			klen--;
		if (klen != nlen || strncmp(k, name, nlen) != 0)
			continue;
		v++;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		vlen = (size_t)(end - v);
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
			v++;
			vlen -= 2;
		}
		if (vlen >= outsz)
			continue;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		*cursor = p;
		return 1;
	}
	*cursor = p;
	return 0;
}

const char *
admin_bearer(const char *auth)
{
	if (auth == NULL || strncasecmp(auth, "Bearer", 6) != 0 ||
	    (auth[6] != ' ' && auth[6] != '\t'))
		return NULL;
	auth += 7;
	while (*auth == ' ' || *auth == '\t')
		auth++;
	return auth;
}

int
admin_https(struct req *r)
{
	const char *h = req_param(r, "HTTPS");

	return h != NULL && strcasecmp(h, "on") == 0;
}

const char *
admin_cookie_name(struct req *r)
{
	/* __Host- needs Secure and Path=/, which a mount rules out. */
	return admin_https(r) && r->cfg->mount[0] == '\0' ?
	    ADMIN_COOKIE_HOST : ADMIN_COOKIE;
}

static const char *
admin_client(struct req *r)
{
	const char *a = req_param(r, "REMOTE_ADDR");

	/* Behind a proxy every client shares its address: fail closed. */
	return a != NULL && *a != '\0' ? a : "-";
}

static void
admin_limits(struct req *r, struct store_throttle *lim)
{
	lim->max_fails = r->cfg->admin_max_fails;
	lim->window_s = r->cfg->admin_fail_window;
}

int
admin_throttled(struct req *r, long *wait_s)
{
	struct store_throttle lim;

	*wait_s = 0;
	if (r->store == NULL)
		return 0;
	admin_limits(r, &lim);
	if (store_throttle_check(r->store, "admin", admin_client(r), &lim,
	    wait_s) != STORE_OK)
		return 0;
	return *wait_s > 0;
}

void
admin_failed(struct req *r)
{
	struct store_throttle lim;
	long wait = 0;

	if (r->store == NULL)
		return;
	admin_limits(r, &lim);
	store_throttle_fail(r->store, "admin", admin_client(r), &lim, &wait);
	if (wait > 0)
		log_warn("admin: %s blocked for %lds after %ld failed codes",
		    admin_client(r), wait, lim.max_fails);
}

void
admin_succeeded(struct req *r)
{
	struct store_throttle lim;

	if (r->store == NULL)
		return;
	admin_limits(r, &lim);
	store_throttle_clear(r->store, "admin", admin_client(r), &lim);
}

enum admin_verdict
admin_check(struct req *r, struct admin_auth *a)
{
	const char *bearer, *cookies, *cur, *name;
	time_t now = time(NULL);

	memset(a, 0, sizeof(*a));
	a->via = ADMIN_ANON;
	if (!admin_enabled(r->cfg))
		return ADMIN_DISABLED;
	/* Only a Bearer is ours: Basic may belong to the front server. */
	if ((bearer = admin_bearer(r->auth)) != NULL) {
		if (admin_throttled(r, &a->retry_after))
			return ADMIN_THROTTLED;
		if (!admin_code_ok(r->cfg, bearer, strlen(bearer))) {
			admin_failed(r);
			return ADMIN_BADBEARER;
		}
		a->via = ADMIN_BEARER;
		return ADMIN_OK;
	}
	if (r->store == NULL)
		return ADMIN_NOAUTH;
	cookies = req_param(r, "HTTP_COOKIE");
	name = admin_cookie_name(r);
	/* Several cookies of one name (other paths): any valid one. */
	for (cur = cookies; admin_cookie_next(&cur, name, a->session,
	    sizeof(a->session)); ) {
		if (admin_session_ok(r->store, r->cfg, a->session, now,
		    &a->expires)) {
			admin_csrf(r->store, a->session, a->csrf);
			a->via = ADMIN_SESSION;
			return ADMIN_OK;
		}
	}
	a->session[0] = '\0';
	return ADMIN_NOAUTH;
}

int
admin_fetch_ok(struct req *r)
{
	const char *s = req_param(r, "HTTP_SEC_FETCH_SITE");

	if (s == NULL || *s == '\0')
		return 1;	/* older browsers and scripts */
	return strcmp(s, "same-origin") == 0 || strcmp(s, "none") == 0;
}

int
admin_set_cookie(struct req *r, struct buf *b, const char *value)
{
	buf_printf(b, "Set-Cookie: %s=%s; Path=%s/; HttpOnly; "
	    "SameSite=Strict%s; Max-Age=%d\r\n",
	    admin_cookie_name(r), value != NULL ? value : "",
	    r->cfg->mount, admin_https(r) ? "; Secure" : "",
	    value != NULL ? ADMIN_SESSION_TTL : 0);
	return b->failed ? -1 : 0;
}
