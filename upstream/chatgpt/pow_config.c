/*
 * pow_config.c - what the ChatGPT proof of work hashes: the browser
 * config of protocols/chatgpt.md §3.1 (defaults, random seed, date and
 * number formatting) and its JSON text, cut at the two nonces.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fcgi/b64.h"
#include "fcgi/hex.h"
#include "pow_internal.h"

/* ------------------------------------------------------------------ */
/* formatting helpers */

size_t
pow_repr_double(double v, char buf[POW_DOUBLE_BUFSZ])
{
	char	 tmp[40], digits[24], *o = buf;
	int	 prec, exp10 = 0, decpt;
	size_t	 nd = 0;
	bool	 neg;
	char	*e;

	if (isnan(v))
		return (size_t)snprintf(buf, POW_DOUBLE_BUFSZ, "NaN");
	if (isinf(v))
		return (size_t)snprintf(buf, POW_DOUBLE_BUFSZ, "%s",
		    v > 0 ? "Infinity" : "-Infinity");
	if (v == 0)
		return (size_t)snprintf(buf, POW_DOUBLE_BUFSZ, "%s",
		    signbit(v) ? "-0.0" : "0.0");

	/*
	 * Shortest digit count that reads back to the same double.  15
	 * digits are always tried first: 15-digit decimals lie further
	 * apart than doubles, so if any k <= 15 digits read back, the
	 * 15-digit rounding is those k digits padded with zeros, which the
	 * trailing-zero strip below removes.  One or three conversions
	 * instead of up to seventeen.  Subnormals have fewer bits, so they
	 * take the full search.
	 */
	for (prec = fabs(v) >= DBL_MIN ? 15 : 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
	neg = tmp[0] == '-';
	e = strchr(tmp, 'e');
	for (char *c = tmp; c < e; c++)	/* skips sign and decimal point */
		if (*c >= '0' && *c <= '9')
			digits[nd++] = *c;
	exp10 = atoi(e + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	decpt = exp10 + 1;

	if (neg)
		*o++ = '-';
	if (decpt > -4 && decpt <= 16) {
		/* Python repr: positional notation, always with a dot. */
		if (decpt <= 0) {
			*o++ = '0';
			*o++ = '.';
			for (int z = 0; z < -decpt; z++)
				*o++ = '0';
			memcpy(o, digits, nd);
			o += nd;
		} else if ((size_t)decpt >= nd) {
			memcpy(o, digits, nd);
			o += nd;
			for (size_t z = nd; z < (size_t)decpt; z++)
				*o++ = '0';
			*o++ = '.';
			*o++ = '0';
		} else {
			memcpy(o, digits, (size_t)decpt);
			o += decpt;
			*o++ = '.';
			memcpy(o, digits + decpt, nd - (size_t)decpt);
			o += nd - (size_t)decpt;
		}
	} else {
		*o++ = digits[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, digits + 1, nd - 1);
			o += nd - 1;
		}
		o += snprintf(o, 8, "e%c%02d", exp10 < 0 ? '-' : '+',
		    exp10 < 0 ? -exp10 : exp10);
	}
	*o = '\0';
	return (size_t)(o - buf);
}

void
pow_format_date(time_t t, char buf[POW_DATE_BUFSZ])
{
	static const char	*days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm		 tm;

	/* chat2api pins the zone to UTC-5 whatever the host says. */
	t -= 5 * 3600;
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(buf, POW_DATE_BUFSZ,
	    "%s %s %02d %04d %02d:%02d:%02d GMT-0500 (Eastern Standard Time)",
	    days[tm.tm_wday % 7], months[tm.tm_mon % 12], tm.tm_mday,
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * The config picks, the session UUID and the requirements seed only have
 * to look random: a per-thread xorshift128+ seeded once from OpenSSL
 * saves a DRBG call (and OpenSSL's getpid() fork check) per value.
 */
static __thread uint64_t	 rng_s[2];
static __thread int		 rng_seeded;

static enum pow_err
rng_u64(uint64_t *v)
{
	uint64_t	 a, b;

	if (!rng_seeded) {
		if (RAND_bytes((unsigned char *)rng_s, sizeof(rng_s)) != 1)
			return POW_ECRYPTO;
		rng_s[0] |= 1;		/* never the all-zero state */
		rng_seeded = 1;
	}
	a = rng_s[0];
	b = rng_s[1];
	rng_s[0] = b;
	a ^= a << 23;
	rng_s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
	*v = rng_s[1] + b;
	return POW_OK;
}

static enum pow_err
rand_u32(uint32_t *v)
{
	uint64_t	 r;

	if (rng_u64(&r) != POW_OK)
		return POW_ECRYPTO;
	*v = (uint32_t)(r >> 32);
	return POW_OK;
}

enum pow_err
pow_random_seed(char buf[POW_SEED_BUFSZ])
{
	uint64_t	 r;

	if (rng_u64(&r) != POW_OK)
		return POW_ECRYPTO;
	/* 53 random bits, as Python's random.random(). */
	pow_repr_double((double)(r >> 11) / 9007199254740992.0, buf);
	return POW_OK;
}

static enum pow_err
uuid4(char buf[POW_UUID_BUFSZ])
{
	unsigned char	 u[16];
	uint64_t	 r[2];

	if (rng_u64(&r[0]) != POW_OK || rng_u64(&r[1]) != POW_OK)
		return POW_ECRYPTO;
	memcpy(u, r, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(buf, POW_UUID_BUFSZ, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
	    u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
	    u[14], u[15]);
	return POW_OK;
}

/* ------------------------------------------------------------------ */
/* config */

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MINUS		"\xe2\x88\x92"	/* U+2212, the [10] separator */

static const long long	 screens[] = { 3000, 4000, 3120, 4160 };
static const long long	 core_counts[] = { 8, 16, 24, 32 };
static const char	*doc_props[] = { "_reactListeningo743lnnpvdg",
    "location" };
/* A sample of what a desktop Chrome exposes; any plausible entry works. */
static const char	*nav_props[] = {
	"webdriver" MINUS "false", "vendor" MINUS "Google Inc.",
	"cookieEnabled" MINUS "true", "pdfViewerEnabled" MINUS "true",
	"hardwareConcurrency" MINUS "16", "hardwareConcurrency" MINUS "32",
	"language" MINUS "en-US", "onLine" MINUS "true",
	"maxTouchPoints" MINUS "0", "productSub" MINUS "20030107",
	"vendorSub" MINUS "", "appCodeName" MINUS "Mozilla",
	"appName" MINUS "Netscape", "product" MINUS "Gecko",
	"platform" MINUS "Win32", "deviceMemory" MINUS "8",
	"storage" MINUS "[object StorageManager]",
	"geolocation" MINUS "[object Geolocation]",
	"clipboard" MINUS "[object Clipboard]",
	"mediaDevices" MINUS "[object MediaDevices]",
	"locks" MINUS "[object LockManager]",
	"permissions" MINUS "[object Permissions]",
	"userActivation" MINUS "[object UserActivation]",
	"connection" MINUS "[object NetworkInformation]",
	"gpu" MINUS "[object GPU]", "usb" MINUS "[object USB]",
	"hid" MINUS "[object HID]", "serial" MINUS "[object Serial]",
	"keyboard" MINUS "[object Keyboard]",
	"wakeLock" MINUS "[object WakeLock]",
	"credentials" MINUS "[object CredentialsContainer]",
	"serviceWorker" MINUS "[object ServiceWorkerContainer]",
	"xr" MINUS "[object XRSystem]",
	"sendBeacon" MINUS "function sendBeacon() { [native code] }",
	"javaEnabled" MINUS "function javaEnabled() { [native code] }",
};
static const char	*win_props[] = {
	"0", "window", "self", "document", "name", "location",
	"customElements", "history", "navigation", "locationbar", "menubar",
	"personalbar", "scrollbars", "statusbar", "toolbar", "status",
	"closed", "frames", "length", "top", "opener", "parent",
	"frameElement", "navigator", "origin", "external", "screen",
	"innerWidth", "innerHeight", "scrollX", "pageXOffset", "scrollY",
	"pageYOffset", "visualViewport", "screenX", "screenY", "outerWidth",
	"outerHeight", "devicePixelRatio", "clientInformation", "screenLeft",
	"screenTop", "isSecureContext", "trustedTypes", "performance",
	"crypto", "indexedDB", "sessionStorage", "localStorage", "onload",
	"onfocus", "onmessage", "fetch", "requestIdleCallback", "matchMedia",
	"caches", "cookieStore", "scheduler", "__NEXT_DATA__",
	"_oaiHandleSessionExpired",
};

#define DEFAULT_UA	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) " \
	"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 " \
	"Safari/537.36"
#define DEFAULT_SCRIPT	"https://chatgpt.com/backend-api/sentinel/sdk.js"

enum pow_err
pow_config_defaults(struct pow_config *cfg, const char *user_agent,
    const char *script_src, const char *dpl, time_t now)
{
	uint32_t	 r[5];
	struct timespec	 mono, real;
	double		 perf_ms;
	enum pow_err	 rc;

	memset(cfg, 0, sizeof(*cfg));
	for (size_t k = 0; k < NELEM(r); k++)
		if ((rc = rand_u32(&r[k])) != POW_OK)
			return rc;
	if ((rc = uuid4(cfg->session_id)) != POW_OK)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	perf_ms = (double)mono.tv_sec * 1e3 + (double)mono.tv_nsec / 1e6;

	cfg->screen = screens[r[0] % NELEM(screens)];
	pow_format_date(now, cfg->date);
	cfg->heap_limit = POW_HEAP_LIMIT;
	cfg->user_agent = user_agent != NULL ? user_agent : DEFAULT_UA;
	cfg->script_src = script_src != NULL ? script_src : DEFAULT_SCRIPT;
	cfg->dpl = dpl;
	cfg->language = "en-US";
	cfg->languages = "en-US,es-US,en,es";
	cfg->nav_prop = nav_props[r[1] % NELEM(nav_props)];
	cfg->doc_prop = doc_props[r[2] % NELEM(doc_props)];
	cfg->win_prop = win_props[r[3] % NELEM(win_props)];
	cfg->perf_now = perf_ms;
	cfg->search_keys = "";
	cfg->cores = core_counts[r[4] % NELEM(core_counts)];
	cfg->time_origin = (double)real.tv_sec * 1e3 +
	    (double)real.tv_nsec / 1e6 - perf_ms;
	return POW_OK;
}
static void
jb_put(struct jbuf *b, const void *s, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (b->err != POW_OK)
		return;
	if (n > POW_JSON_MAX - b->len) {
		b->err = POW_EINVAL;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 512;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = POW_ENOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
jb_ch(struct jbuf *b, char c)
{
	jb_put(b, &c, 1);
}

/* json.dumps(ensure_ascii=False): escape only '"', '\\' and C0 controls. */
static void
jb_str(struct jbuf *b, const char *s)
{
	const char	*run;
	char		 esc[8];

	if (s == NULL)
		s = "";
	jb_ch(b, '"');
	for (run = s; *s != '\0'; s++) {
		unsigned char	 c = (unsigned char)*s;
		const char	*e = NULL;

		switch (c) {
		case '"':  e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		default:
			if (c >= 0x20)
				continue;
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			e = esc;
		}
		jb_put(b, run, (size_t)(s - run));
		jb_put(b, e, strlen(e));
		run = s + 1;
	}
	jb_put(b, run, (size_t)(s - run));
	jb_ch(b, '"');
}

static void
jb_int(struct jbuf *b, long long v)
{
	char	 tmp[24];

	jb_put(b, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%lld", v));
}

static void
jb_double(struct jbuf *b, double v)
{
	char	 tmp[POW_DOUBLE_BUFSZ];

	jb_put(b, tmp, pow_repr_double(v, tmp));
}

/*
 * The §3.1 array without the two nonces: P0 = [0, *oi), P1 = [*oi, *oj),
 * P2 = [*oj, len).  Element order and JSON types are the protocol.
 */
enum pow_err
pow_config_parts(const struct pow_config *cfg, struct jbuf *b, size_t *oi,
    size_t *oj)
{
	jb_ch(b, '[');
	jb_int(b, cfg->screen);				/* 0 */
	jb_ch(b, ',');
	jb_str(b, cfg->date);				/* 1 */
	jb_ch(b, ',');
	jb_int(b, cfg->heap_limit);			/* 2 */
	jb_ch(b, ',');
	*oi = b->len;					/* 3: i */
	jb_ch(b, ',');
	jb_str(b, cfg->user_agent);			/* 4 */
	jb_ch(b, ',');
	jb_str(b, cfg->script_src);			/* 5 */
	jb_ch(b, ',');
	if (cfg->dpl != NULL)				/* 6 */
		jb_str(b, cfg->dpl);
	else
		jb_put(b, "null", 4);
	jb_ch(b, ',');
	jb_str(b, cfg->language);			/* 7 */
	jb_ch(b, ',');
	jb_str(b, cfg->languages);			/* 8 */
	jb_ch(b, ',');
	*oj = b->len;					/* 9: j */
	jb_ch(b, ',');
	jb_str(b, cfg->nav_prop);			/* 10 */
	jb_ch(b, ',');
	jb_str(b, cfg->doc_prop);			/* 11 */
	jb_ch(b, ',');
	jb_str(b, cfg->win_prop);			/* 12 */
	jb_ch(b, ',');
	jb_double(b, cfg->perf_now);			/* 13 */
	jb_ch(b, ',');
	jb_str(b, cfg->session_id);			/* 14 */
	jb_ch(b, ',');
	jb_str(b, cfg->search_keys);			/* 15 */
	jb_ch(b, ',');
	jb_int(b, cfg->cores);				/* 16 */
	jb_ch(b, ',');
	jb_double(b, cfg->time_origin);			/* 17 */
	jb_ch(b, ']');
	return b->err;
}

/* Decimal digits of v; returns the length (at most 20). */
size_t
pow_utoa(unsigned long v, char *out)
{
	char	 tmp[24];
	size_t	 n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t k = 0; k < n; k++)
		out[k] = tmp[n - 1 - k];
	return n;
}

enum pow_err
pow_config_json(const struct pow_config *cfg, unsigned long i,
    unsigned long j, char **json, size_t *len)
{
	struct jbuf	 b = { 0 }, out = { 0 };
	size_t		 oi, oj;
	char		 num[24];
	enum pow_err	 rc;

	if (json == NULL)
		return POW_EINVAL;
	*json = NULL;
	if (cfg == NULL)
		return POW_EINVAL;
	if ((rc = pow_config_parts(cfg, &b, &oi, &oj)) != POW_OK)
		goto fail;
	jb_put(&out, b.p, oi);
	jb_put(&out, num, pow_utoa(i, num));
	jb_put(&out, b.p + oi, oj - oi);
	jb_put(&out, num, pow_utoa(j, num));
	jb_put(&out, b.p + oj, b.len - oj);
	if ((rc = out.err) != POW_OK)
		goto fail;
	free(b.p);
	*json = out.p;
	if (len != NULL)
		*len = out.len;
	return POW_OK;
fail:
	free(b.p);
	free(out.p);
	return rc;
}
