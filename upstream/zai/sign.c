/*
 * sign.c - X-Signature and the signed completion query; see sign.h.
 *
 * The query is written from one table in §8.3's order: constants as
 * they are, the varying values by a tag, so that the order the mock (and
 * the upstream's WAF) checks is visible in one place.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "upstream/zai/sign.h"

static const char *const sign_errs[ZAI_SIGN__MAX] = {
	[ZAI_SIGN_OK] = "success",
	[ZAI_SIGN_ENOMEM] = "out of memory",
	[ZAI_SIGN_TOOBIG] = "a signed value is over its limit",
	[ZAI_SIGN_CRYPTO] = "HMAC-SHA256 failed",
};

const char *
zai_sign_strerror(enum zai_sign_err e)
{
	return (unsigned)e < ZAI_SIGN__MAX ? sign_errs[e] : "unknown error";
}

static void
hex(const unsigned char *md, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[2 * n] = '\0';
}

/* lowercase hex of HMAC-SHA256(key, msg) */
static enum zai_sign_err
hmac_hex(const char *key, size_t klen, const char *msg, size_t mlen,
    char out[ZAI_SIG_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
	    mlen, md, &n) == NULL || n * 2 != ZAI_SIG_HEX)
		return ZAI_SIGN_CRYPTO;
	hex(md, n, out);
	return ZAI_SIGN_OK;
}

enum zai_sign_err
zai_sign_window_key(int64_t ts_ms, const char *key, char out[ZAI_SIG_HEX + 1])
{
	char win[24];
	int n;

	if (key == NULL)
		key = ZAI_SIGN_KEY;
	n = snprintf(win, sizeof(win), "%lld",
	    (long long)(ts_ms / ZAI_SIGN_WINDOW_MS));
	return hmac_hex(key, strlen(key), win, (size_t)n, out);
}

enum zai_sign_err
zai_sign_canonical(struct buf *b, const char *request_id, const char *user_id,
    const char *prompt, size_t plen, int64_t ts_ms)
{
	unsigned char *b64;
	size_t cap;
	int n;

	if (plen > ZAI_PROMPT_MAX || strlen(request_id) > ZAI_SIGN_ID_MAX ||
	    strlen(user_id) > ZAI_SIGN_ID_MAX)
		return ZAI_SIGN_TOOBIG;
	cap = (plen + 2) / 3 * 4 + 1;
	if ((b64 = malloc(cap)) == NULL)
		return ZAI_SIGN_ENOMEM;
	/* keys in alphabetical order, key,value pairs joined by commas */
	n = EVP_EncodeBlock(b64, (const unsigned char *)prompt, (int)plen);
	buf_printf(b, "requestId,%s,timestamp,%lld,user_id,%s|", request_id,
	    (long long)ts_ms, user_id);
	buf_add(b, b64, (size_t)n);
	buf_printf(b, "|%lld", (long long)ts_ms);
	free(b64);
	return b->failed ? ZAI_SIGN_ENOMEM : ZAI_SIGN_OK;
}

enum zai_sign_err
zai_sign(const char *request_id, const char *user_id, const char *prompt,
    size_t plen, int64_t ts_ms, const char *key, char out[ZAI_SIG_HEX + 1])
{
	char k[ZAI_SIG_HEX + 1];
	enum zai_sign_err e;
	struct buf b;

	buf_init(&b, 0);
	if ((e = zai_sign_canonical(&b, request_id, user_id, prompt, plen,
	    ts_ms)) == ZAI_SIGN_OK &&
	    (e = zai_sign_window_key(ts_ms, key, k)) == ZAI_SIGN_OK)
		e = hmac_hex(k, ZAI_SIG_HEX, b.p, b.len, out);
	buf_free(&b);
	return e;
}

int
zai_form_arg(struct buf *b, const char *s, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	char esc[3] = { '%', 0, 0 };
	size_t i, run;

	for (i = 0; i < n; i += run) {
		/* the bytes that stay as they are, copied as one run */
		for (run = 0; i + run < n; run++) {
			unsigned char c = (unsigned char)s[i + run];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' &&
			    c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '*' || c == '-' || c == '.' || c == '_'))
				break;
		}
		buf_add(b, s + i, run);
		if (run > 0)
			continue;
		if (s[i] == ' ')
			buf_add(b, "+", 1);
		else {
			esc[1] = digits[(unsigned char)s[i] >> 4];
			esc[2] = digits[(unsigned char)s[i] & 15];
			buf_add(b, esc, 3);
		}
		run = 1;
	}
	return b->failed ? -1 : 0;
}

void
zai_time_iso(int64_t ts_ms, char out[ZAI_TIME_MAX])
{
	time_t t = (time_t)(ts_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, ZAI_TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ts_ms % 1000));
}

void
zai_time_utc(int64_t ts_ms, char out[ZAI_TIME_MAX])
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(ts_ms / 1000);
	struct tm tm;

	/* not strftime: %a and %b follow the locale */
	gmtime_r(&t, &tm);
	snprintf(out, ZAI_TIME_MAX, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The varying values of the query, by tag. */
enum qv {
	Q_CONST, Q_TS, Q_REQUEST_ID, Q_USER_ID, Q_TOKEN, Q_UA, Q_URL,
	Q_PATH, Q_LOCAL, Q_UTC
};

/* §8.3, in order: the browser the upstream expects to see. */
static const struct {
	const char	*name;
	enum qv		 v;
	const char	*value;		/* Q_CONST */
} query[] = {
	{ "timestamp", Q_TS, NULL },
	{ "requestId", Q_REQUEST_ID, NULL },
	{ "user_id", Q_USER_ID, NULL },
	{ "version", Q_CONST, "0.0.1" },
	{ "platform", Q_CONST, "web" },
	{ "token", Q_TOKEN, NULL },
	{ "user_agent", Q_UA, NULL },
	{ "language", Q_CONST, "zh-CN" },
	{ "languages", Q_CONST, "zh-CN,zh" },
	{ "timezone", Q_CONST, "Asia/Shanghai" },
	{ "cookie_enabled", Q_CONST, "true" },
	{ "screen_width", Q_CONST, "1512" },
	{ "screen_height", Q_CONST, "982" },
	{ "screen_resolution", Q_CONST, "1512x982" },
	{ "viewport_height", Q_CONST, "945" },
	{ "viewport_width", Q_CONST, "923" },
	{ "viewport_size", Q_CONST, "923x945" },
	{ "color_depth", Q_CONST, "30" },
	{ "pixel_ratio", Q_CONST, "2" },
	{ "current_url", Q_URL, NULL },
	{ "pathname", Q_PATH, NULL },
	{ "search", Q_CONST, "" },
	{ "hash", Q_CONST, "" },
	{ "host", Q_CONST, "chat.z.ai" },
	{ "hostname", Q_CONST, "chat.z.ai" },
	{ "protocol", Q_CONST, "https:" },
	{ "referrer", Q_CONST, "" },
	{ "title", Q_CONST, "Z.ai - Free AI Chatbot & Agent powered by "
	  "GLM-5 & GLM-4.7" },
	{ "timezone_offset", Q_CONST, "-480" },
	{ "local_time", Q_LOCAL, NULL },
	{ "utc_time", Q_UTC, NULL },
	{ "is_mobile", Q_CONST, "false" },
	{ "is_touch", Q_CONST, "false" },
	{ "max_touch_points", Q_CONST, "0" },
	{ "browser_name", Q_CONST, "Chrome" },
	{ "os_name", Q_CONST, "Mac OS" },
	{ "signature_timestamp", Q_TS, NULL },
};

int
zai_query(struct buf *b, const struct zai_query_in *in)
{
	char tmp[160];
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(query) / sizeof(query[0]); i++) {
		v = tmp;
		switch (query[i].v) {
		case Q_CONST:
			v = query[i].value;
			break;
		case Q_TS:
			snprintf(tmp, sizeof(tmp), "%lld",
			    (long long)in->ts_ms);
			break;
		case Q_REQUEST_ID:
			v = in->request_id;
			break;
		case Q_USER_ID:
			v = in->user_id;
			break;
		case Q_TOKEN:
			v = in->token;
			break;
		case Q_UA:
			v = in->user_agent;
			break;
		case Q_URL:
			snprintf(tmp, sizeof(tmp), "https://chat.z.ai/c/%s",
			    in->chat_id);
			break;
		case Q_PATH:
			snprintf(tmp, sizeof(tmp), "/c/%s", in->chat_id);
			break;
		case Q_LOCAL:
			zai_time_iso(in->ts_ms, tmp);
			break;
		case Q_UTC:
			zai_time_utc(in->ts_ms, tmp);
			break;
		}
		buf_printf(b, "%s%s=", i > 0 ? "&" : "", query[i].name);
		zai_form_arg(b, v, strlen(v));
	}
	return b->failed ? -1 : 0;
}
