/*
 * MiniMax's signing and credential forms (see sign.h).  Everything here
 * is a pure function of its arguments: the clock and the random uuid come
 * from the caller, so a test can replay the protocol document's vector.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "fcgi/arena.h"
#include "fcgi/b64.h"
#include "upstream/call.h"
#include "upstream/minimax/sign.h"

static const char *const cred_errs[] = {
	[MMC_OK] = "ok",
	[MMC_NOT_JWT] = "the token is not a JWT (three base64url parts)",
	[MMC_BAD_UID] = "the realUserID holds characters other than letters, "
	    "digits, '-', '_' and '.'",
	[MMC_NO_UID] = "no realUserID: give it as \"<realUserID>+<JWT>\" or "
	    "--set real_user_id=..., or use a JWT whose payload names the user",
	[MMC_ENOMEM] = "out of memory",
};

const char *
mm_cred_strerror(enum mm_cred_err e)
{
	return (unsigned)e < sizeof(cred_errs) / sizeof(cred_errs[0]) ?
	    cred_errs[e] : "unknown error";
}

int
mm_jwt_shape(const char *s, size_t n)
{
	size_t i, dots = 0, seg = 0;

	if (n == 0 || n > MM_JWT_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			/* header and payload may not be empty */
			if (seg == 0 && dots < 2)
				return 0;
			dots++;
			seg = 0;
		} else if (b64_value((unsigned char)s[i], B64_URL) >= 0)
			seg++;
		else
			return 0;
	}
	return dots == 2;
}

int
mm_id_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > MM_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

/* A string or an integer member as text, or NULL. */
static const char *
id_member(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	if (json_object_is_type(v, json_type_string) ||
	    json_object_is_type(v, json_type_int))
		return json_object_get_string(v);
	return NULL;
}

char *
mm_jwt_uid(struct arena *a, const char *jwt)
{
	unsigned char dec[MM_PAYLOAD_MAX + 1];
	struct json_object *root, *user;
	const char *p, *q, *id = NULL;
	char *out = NULL;
	long n;

	/* not call_jwt_payload(): an unsigned token ("h.p.") counts too */
	if ((p = strchr(jwt, '.')) == NULL || (q = strchr(p + 1, '.')) == NULL)
		return NULL;
	if ((n = b64_decode(p + 1, (size_t)(q - p - 1), dec, MM_PAYLOAD_MAX,
	    B64_URL)) <= 0)
		return NULL;
	dec[n] = '\0';
	if ((root = json_tokener_parse((const char *)dec)) == NULL)
		return NULL;
	/* §5.1: user.id, then the checker's id and sub */
	if (json_object_object_get_ex(root, "user", &user))
		id = id_member(user, "id");
	if (id == NULL)
		id = id_member(root, "id");
	if (id == NULL)
		id = id_member(root, "sub");
	if (id != NULL && mm_id_ok(id, strlen(id)))
		out = arena_strdup(a, id);
	json_object_put(root);
	return out;
}

enum mm_cred_err
mm_cred_parse(struct arena *a, const char *secret, const char *field_uid,
    struct mm_cred *out)
{
	const char *s = secret, *e, *plus;
	size_t n;

	out->jwt = out->uid = NULL;
	while (isspace((unsigned char)*s))
		s++;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	/* base64url has no '+': one can only be the separator */
	if ((plus = memchr(s, '+', (size_t)(e - s))) != NULL) {
		if (!mm_id_ok(s, (size_t)(plus - s)))
			return MMC_BAD_UID;
		if ((out->uid = arena_strndup(a, s, (size_t)(plus - s))) ==
		    NULL)
			return MMC_ENOMEM;
		s = plus + 1;
	}
	n = (size_t)(e - s);
	if (!mm_jwt_shape(s, n))
		return MMC_NOT_JWT;
	if ((out->jwt = arena_strndup(a, s, n)) == NULL)
		return MMC_ENOMEM;
	if (field_uid != NULL && *field_uid != '\0') {
		if (!mm_id_ok(field_uid, strlen(field_uid)))
			return MMC_BAD_UID;
		/* a copy: the call may outlive the account's record */
		if ((out->uid = arena_strdup(a, field_uid)) == NULL)
			return MMC_ENOMEM;
	}
	if (out->uid == NULL && (out->uid = mm_jwt_uid(a, out->jwt)) == NULL)
		return MMC_NO_UID;
	return MMC_OK;
}

char *
mm_query(struct arena *a, const struct mm_query *q)
{
	int dev = q->device_id != NULL && *q->device_id != '\0';

	return arena_printf(a, "device_platform=web&biz_id=3&app_id=3001"
	    "&version_code=22201&uuid=%s%s%s&os_name=Mac&browser_name=chrome"
	    "&device_memory=8&cpu_core_num=11&browser_language=zh-CN"
	    "&browser_platform=MacIntel&user_id=%s&screen_width=1920"
	    "&screen_height=1080&unix=%s&lang=zh&token=%s"
	    "&timezone_offset=28800&sys_language=zh&client=web", q->uuid,
	    dev ? "&device_id=" : "", dev ? q->device_id : "", q->user_id,
	    q->unix_ms, q->jwt);
}

void
mm_md5hex(const void *s, size_t n, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	EVP_Digest(s, n, md, &len, EVP_md5(), NULL);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[32] = '\0';
}

int
mm_yy(struct arena *a, const char *path, const char *query,
    const char *body, const char *unix_ms, char out[33])
{
	char mu[33], *full, *enc, *msg;

	full = arena_printf(a, "%s%s%s", path, strchr(path, '?') != NULL ?
	    "&" : "?", query);
	if (full == NULL ||
	    (enc = call_pct_encode(a, full, MM_URI_KEEP)) == NULL)
		return -1;
	mm_md5hex(unix_ms, strlen(unix_ms), mu);
	if ((msg = arena_printf(a, "%s_%s%s" MM_YY_SALT, enc, body, mu)) ==
	    NULL)
		return -1;
	mm_md5hex(msg, strlen(msg), out);
	return 0;
}

void
mm_xsig(long long ts, const char *jwt, const char *body, char out[33])
{
	EVP_MD_CTX *ctx;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	char t[24];

	snprintf(t, sizeof(t), "%lld", ts);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, t, strlen(t)) != 1 ||
	    EVP_DigestUpdate(ctx, jwt, strlen(jwt)) != 1 ||
	    EVP_DigestUpdate(ctx, body, strlen(body)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &len) != 1) {
		EVP_MD_CTX_free(ctx);
		out[0] = '\0';
		return;
	}
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[32] = '\0';
}
