/*
 * The Redis URL: redis://[[user]:password@]host[:port][/db][?prefix=name].
 * Everything is checked against explicit limits here, at the edge, so
 * the connection code only ever sees a host, a port, a db and a prefix
 * it can use as they are.  Error messages never quote the password.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store/kv_redis_priv.h"

static int
fail(char *err, size_t errsz, const char *msg)
{
	if (errsz > 0)
		snprintf(err, errsz, "CHAT2API_STORE: %s", msg);
	return -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes [s, e) into out (max bytes + NUL); -1 if too long, a
 * bad escape or a %00. */
static int
pct_decode(const char *s, const char *e, char *out, size_t max)
{
	size_t	n = 0;
	int	hi, lo;

	while (s < e) {
		if (n >= max)
			return -1;
		if (*s == '%') {
			if (e - s < 3 || (hi = hexval(s[1])) < 0 ||
			    (lo = hexval(s[2])) < 0 || (hi | lo) == 0)
				return -1;
			out[n++] = (char)(hi << 4 | lo);
			s += 3;
		} else
			out[n++] = *s++;
	}
	out[n] = '\0';
	return 0;
}

/* Digits only, at most maxdig of them, value in [lo, hi]; else -1. */
static long
parse_num(const char *s, const char *e, int maxdig, long lo, long hi)
{
	long	v = 0;

	if (s == e || e - s > maxdig)
		return -1;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v >= lo && v <= hi ? v : -1;
}

static int
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static int
parse_host(const char *h, const char *e, struct kvr_url *u, char *err,
    size_t errsz)
{
	const char	*hend, *q;
	long		 port;
	int		 v6 = 0;

	if (h < e && *h == '[') {
		if ((hend = memchr(h, ']', (size_t)(e - h))) == NULL)
			return fail(err, errsz, "'[' without ']' in the host");
		for (q = h + 1; q < hend; q++)
			if (hexval(*q) < 0 && *q != ':' && *q != '.')
				return fail(err, errsz,
				    "bad character in the IPv6 address");
		h++;
		v6 = 1;
		q = hend + 1;
	} else {
		for (hend = h; hend < e && *hend != ':'; hend++)
			if (!host_char(*hend))
				return fail(err, errsz,
				    "bad character in the host name");
		q = hend;
	}
	if (hend == h)
		return fail(err, errsz, "no host in the Redis URL");
	if (hend - h > KVR_HOST_MAX)
		return fail(err, errsz, "host name longer than 255");
	memcpy(u->host, h, (size_t)(hend - h));
	u->host[hend - h] = '\0';
	if (v6 && strchr(u->host, ':') == NULL)
		return fail(err, errsz, "not an IPv6 address inside [ ]");
	if (q == e)
		return 0;
	if (*q != ':')
		return fail(err, errsz, "garbage after the host");
	if ((port = parse_num(q + 1, e, 5, 1, 65535)) < 0)
		return fail(err, errsz, "port must be 1..65535");
	u->port = (int)port;
	return 0;
}

static int
parse_query(const char *q, struct kvr_url *u, char *err, size_t errsz)
{
	size_t	n;

	if (strncmp(q, "prefix=", 7) != 0)
		return fail(err, errsz,
		    "the only URL parameter is prefix=name");
	q += 7;
	if (strchr(q, '&') != NULL || strchr(q, '=') != NULL)
		return fail(err, errsz,
		    "the only URL parameter is prefix=name");
	if ((n = strlen(q)) > KVR_PREFIX_MAX)
		return fail(err, errsz, "prefix longer than 64");
	memcpy(u->prefix, q, n + 1);
	return 0;
}

int
kvr_url_parse(const char *s, struct kvr_url *u, char *err, size_t errsz)
{
	const char	*p, *aend, *at = NULL, *colon, *q;
	size_t		 i, n;
	long		 db;

	memset(u, 0, sizeof(*u));
	u->port = 6379;
	memcpy(u->prefix, KVR_DEFAULT_PREFIX, sizeof(KVR_DEFAULT_PREFIX));
	if (s == NULL || (n = strnlen(s, KVR_URL_MAX + 1)) == 0)
		return fail(err, errsz, "empty Redis URL");
	if (n > KVR_URL_MAX)
		return fail(err, errsz, "Redis URL longer than 2048");
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f || s[i] == '#')
			return fail(err, errsz, "the Redis URL has a space, "
			    "'#', a control or a non-ASCII character "
			    "(percent-encode them in the password)");
	if (strncasecmp(s, "rediss://", 9) == 0)
		return fail(err, errsz, "rediss:// (TLS) is not supported: "
		    "hiredis 0.14 has no TLS; run a TLS tunnel (stunnel, "
		    "spiped) and give redis:// with its local end");
	if (strncasecmp(s, "redis://", 8) != 0)
		return fail(err, errsz, "a Redis URL starts with redis://");
	p = s + 8;
	aend = p + strcspn(p, "/?");
	for (q = p; q < aend; q++)
		if (*q == '@')
			at = q;
	if (at != NULL) {
		if ((colon = memchr(p, ':', (size_t)(at - p))) == NULL)
			return fail(err, errsz, "credentials need a ':' "
			    "before the password (redis://:password@host)");
		if (pct_decode(p, colon, u->user, KVR_USER_MAX) < 0)
			return fail(err, errsz,
			    "user name too long or badly escaped");
		if (pct_decode(colon + 1, at, u->pass, KVR_PASS_MAX) < 0)
			return fail(err, errsz,
			    "password too long (512) or badly escaped");
		if (u->pass[0] == '\0')
			return fail(err, errsz, "empty password");
		p = at + 1;
	}
	if (parse_host(p, aend, u, err, errsz) < 0)
		return -1;
	q = aend;
	if (*q == '/') {
		p = q + 1;
		q = p + strcspn(p, "?");
		if (q != p) {
			if ((db = parse_num(p, q, 2, 0, KVR_DB_MAX)) < 0)
				return fail(err, errsz, "db must be 0..15");
			u->db = (int)db;
		}
	}
	if (*q == '?')
		return parse_query(q + 1, u, err, errsz);
	return 0;
}

void
kvr_url_describe(const struct kvr_url *u, char *out, size_t outsz)
{
	int	v6 = strchr(u->host, ':') != NULL;

	if (outsz == 0)
		return;
	snprintf(out, outsz, "redis://%s%s%s%s%s%s:%d/%d?prefix=%s", u->user,
	    u->pass[0] != '\0' ? ":***" : "",
	    u->pass[0] != '\0' || u->user[0] != '\0' ? "@" : "",
	    v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, u->db,
	    u->prefix);
}
