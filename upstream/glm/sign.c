/*
 * sign.c - GLM's request signature (see sign.h).  The digit rule is
 * applied to the decimal text, not to the number, exactly as the web
 * client's script does it, so that times with any number of digits sign
 * the same way on both sides.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "upstream/call.h"
#include "upstream/glm/sign.h"

int
glm_sign_timestamp(long long now_ms, char *out, size_t outsz)
{
	char a[GLM_TS_MAX + 2];
	int t, i, sum = 0;

	if (now_ms < 0 || (t = snprintf(a, sizeof(a), "%lld", now_ms)) < 2 ||
	    t > GLM_TS_MAX || (size_t)t >= outsz)
		return -1;
	for (i = 0; i < t; i++)
		if (i != t - 2)
			sum += a[i] - '0';
	a[t - 2] = (char)('0' + sum % 10);
	memcpy(out, a, (size_t)t + 1);
	return 0;
}

int
glm_sign_make(long long now_ms, const char *nonce, struct glm_sign *s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	char text[GLM_TS_MAX + GLM_NONCE_MAX + sizeof(GLM_SIGN_SECRET) + 3];
	int len;

	memset(s, 0, sizeof(*s));
	if (strlen(nonce) > GLM_NONCE_MAX ||
	    glm_sign_timestamp(now_ms, s->timestamp, sizeof(s->timestamp)) < 0)
		return -1;
	memcpy(s->nonce, nonce, strlen(nonce) + 1);
	len = snprintf(text, sizeof(text), "%s-%s-" GLM_SIGN_SECRET,
	    s->timestamp, s->nonce);
	if (len < 0 || (size_t)len >= sizeof(text) ||
	    EVP_Digest(text, (size_t)len, md, &n, EVP_md5(), NULL) != 1 ||
	    n != 16)
		return -1;
	for (i = 0; i < n; i++) {
		s->sign[2 * i] = hex[md[i] >> 4];
		s->sign[2 * i + 1] = hex[md[i] & 15];
	}
	s->sign[32] = '\0';
	return 0;
}

int
glm_sign_now(struct glm_sign *s)
{
	struct timespec ts;
	char nonce[37];

	clock_gettime(CLOCK_REALTIME, &ts);
	call_uuid4(nonce);
	return glm_sign_make((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	    nonce, s);
}
