/*
 * pow.c - ChatGPT sentinel proof of work; see pow.h and
 * protocols/chatgpt.md §3.
 *
 * Speed: a try hashes seed ‖ base64(json).  The json only changes at the
 * two nonces, so it is serialised once and cut into three invariant parts
 *     P0 <i> P1 <j> P2
 * The base64 of P0 (cut to a multiple of 3 bytes) is constant, and so is
 * the base64 of P1 and of P2 for each of the three possible byte
 * alignments; they are encoded once.  A try only encodes the few bytes
 * around each nonce and copies the rest.  The hash state that absorbed
 * seed ‖ base64(P0) is kept and cloned per try, so a try only absorbs the
 * varying tail.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "pow.h"

#define POW_DIGEST_MAX	64	/* SHA3-512 */

/* ------------------------------------------------------------------ */
/* base64 */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with '=' padding; returns the characters written. */
static size_t
b64_encode(const unsigned char *in, size_t n, char *out)
{
	char	*o = out;
	size_t	 i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];

		o[0] = b64_alphabet[v >> 18];
		o[1] = b64_alphabet[(v >> 12) & 63];
		o[2] = b64_alphabet[(v >> 6) & 63];
		o[3] = b64_alphabet[v & 63];
		o += 4;
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		o[0] = b64_alphabet[v >> 18];
		o[1] = b64_alphabet[(v >> 12) & 63];
		o[2] = o[3] = '=';
		o += 4;
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		o[0] = b64_alphabet[v >> 18];
		o[1] = b64_alphabet[(v >> 12) & 63];
		o[2] = b64_alphabet[(v >> 6) & 63];
		o[3] = '=';
		o += 4;
	}
	return (size_t)(o - out);
}

static size_t
b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Well-formed padded base64 (what b64_encode can produce)? */
static bool
b64_valid(const char *s, size_t n)
{
	size_t	 pad = 0;

	if (n == 0 || n % 4 != 0)
		return false;
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (s[i] == '=' || memchr(b64_alphabet, s[i], 64) == NULL ||
		    s[i] == '\0')
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* the hash seam */

/*
 * One algorithm = a state that absorbs an invariant prefix once
 * (begin/absorb) and then finishes prefix ‖ tail as often as asked
 * without losing the prefix (digest).  A new algorithm (§14 FNV) adds one
 * table entry; nothing else in the solver changes.
 */
struct pow_hash_ops {
	enum pow_algo	 algo;
	const char	*suffix;	/* appended to every token */
	size_t		 digest_len;
	enum pow_err	(*state_new)(void **stp);
	void		(*state_free)(void *st);
	enum pow_err	(*begin)(void *st, const void *p, size_t n);
	enum pow_err	(*absorb)(void *st, const void *p, size_t n);
	enum pow_err	(*digest)(void *st, const void *tail, size_t n,
			    unsigned char *out);
};

struct sha3_state {
	EVP_MD		*md;	/* fetched once: no lookup per try */
	EVP_MD_CTX	*base;	/* has absorbed the prefix */
	EVP_MD_CTX	*work;	/* clone of base, per try */
};

static void
sha3_free(void *p)
{
	struct sha3_state	*st = p;

	if (st == NULL)
		return;
	EVP_MD_CTX_free(st->work);
	EVP_MD_CTX_free(st->base);
	EVP_MD_free(st->md);
	free(st);
}

static enum pow_err
sha3_new(void **stp)
{
	struct sha3_state	*st;
	enum pow_err		 rc = POW_ECRYPTO;

	*stp = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return POW_ENOMEM;
	if ((st->md = EVP_MD_fetch(NULL, "SHA3-512", NULL)) == NULL)
		goto fail;
	if ((st->base = EVP_MD_CTX_new()) == NULL ||
	    (st->work = EVP_MD_CTX_new()) == NULL)
		goto fail;
	*stp = st;
	return POW_OK;
fail:
	sha3_free(st);
	return rc;
}

static enum pow_err
sha3_begin(void *p, const void *data, size_t n)
{
	struct sha3_state	*st = p;

	if (EVP_DigestInit_ex(st->base, st->md, NULL) != 1 ||
	    EVP_DigestUpdate(st->base, data, n) != 1)
		return POW_ECRYPTO;
	return POW_OK;
}

static enum pow_err
sha3_absorb(void *p, const void *data, size_t n)
{
	struct sha3_state	*st = p;

	return EVP_DigestUpdate(st->base, data, n) == 1 ?
	    POW_OK : POW_ECRYPTO;
}

static enum pow_err
sha3_digest(void *p, const void *tail, size_t n, unsigned char *out)
{
	struct sha3_state	*st = p;

	if (EVP_MD_CTX_copy_ex(st->work, st->base) != 1 ||
	    (n > 0 && EVP_DigestUpdate(st->work, tail, n) != 1) ||
	    EVP_DigestFinal_ex(st->work, out, NULL) != 1)
		return POW_ECRYPTO;
	return POW_OK;
}

static const struct pow_hash_ops pow_hashes[] = {
	{ POW_ALGO_SHA3_512, "", 64, sha3_new, sha3_free, sha3_begin,
	    sha3_absorb, sha3_digest },
};

static const struct pow_hash_ops *
hash_ops(enum pow_algo algo)
{
	for (size_t i = 0; i < sizeof(pow_hashes) / sizeof(pow_hashes[0]); i++)
		if (pow_hashes[i].algo == algo)
			return &pow_hashes[i];
	return NULL;
}

size_t
pow_hash(enum pow_algo algo, const void *p, size_t n, unsigned char *out)
{
	const struct pow_hash_ops	*ops = hash_ops(algo);
	void				*st = NULL;
	size_t				 len = 0;

	if (ops == NULL || ops->state_new(&st) != POW_OK)
		goto out;
	if (ops->begin(st, p, n) != POW_OK ||
	    ops->digest(st, NULL, 0, out) != POW_OK)
		goto out;
	len = ops->digest_len;
out:
	if (ops != NULL)
		ops->state_free(st);
	return len;
}

/* ------------------------------------------------------------------ */
/* difficulty */

struct difficulty {
	unsigned char	 nib[POW_DIFFICULTY_MAX];
	size_t		 n;
};

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static enum pow_err
difficulty_parse(const char *s, size_t digest_len, struct difficulty *d)
{
	size_t	 n;

	if (s == NULL)
		return POW_EINVAL;
	n = strlen(s);
	if (n > POW_DIFFICULTY_MAX || n > digest_len * 2)
		return POW_EINVAL;
	for (size_t k = 0; k < n; k++) {
		int	 v = hexval((unsigned char)s[k]);

		if (v < 0)
			return POW_EINVAL;
		d->nib[k] = (unsigned char)v;
	}
	d->n = n;
	return POW_OK;
}

/*
 * Compare the first n hex digits of h with the difficulty.  Almost every
 * try is decided by the first digit, so a nibble loop is as fast as any.
 */
static bool
difficulty_met(const unsigned char *h, const struct difficulty *d,
    enum pow_rule rule)
{
	for (size_t k = 0; k < d->n; k++) {
		unsigned	 hn = k & 1 ? h[k >> 1] & 15 : h[k >> 1] >> 4;

		if (hn != d->nib[k])
			return hn < d->nib[k];
	}
	/*
	 * Equal prefix: [C] compares len(diff) hash bytes with len/2
	 * difficulty bytes, so the longer (hash) side is greater.
	 */
	return rule == POW_RULE_HEX || d->n == 0;
}

bool
pow_difficulty_too_high(const char *difficulty, const char *limit)
{
	if (limit == NULL)
		return false;
	if (difficulty == NULL)
		return true;
	/* Python str <= str on ASCII is strcmp on unsigned bytes. */
	return strcmp(difficulty, limit) <= 0;
}

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

	/* Shortest digit count that reads back to the same double. */
	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
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

static enum pow_err
rand_u32(uint32_t *v)
{
	return RAND_bytes((unsigned char *)v, sizeof(*v)) == 1 ?
	    POW_OK : POW_ECRYPTO;
}

enum pow_err
pow_random_seed(char buf[POW_SEED_BUFSZ])
{
	uint64_t	 r;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return POW_ECRYPTO;
	/* 53 random bits, as Python's random.random(). */
	pow_repr_double((double)(r >> 11) / 9007199254740992.0, buf);
	return POW_OK;
}

static enum pow_err
uuid4(char buf[POW_UUID_BUFSZ])
{
	unsigned char	 u[16];

	if (RAND_bytes(u, sizeof(u)) != 1)
		return POW_ECRYPTO;
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

/* A bounded growable buffer for the JSON text. */
struct jbuf {
	char		*p;
	size_t		 len, cap;
	enum pow_err	 err;
};

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
static enum pow_err
config_parts(const struct pow_config *cfg, struct jbuf *b, size_t *oi,
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
static size_t
utoa(unsigned long v, char *out)
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
	if ((rc = config_parts(cfg, &b, &oi, &oj)) != POW_OK)
		goto fail;
	jb_put(&out, b.p, oi);
	jb_put(&out, num, utoa(i, num));
	jb_put(&out, b.p + oi, oj - oi);
	jb_put(&out, num, utoa(j, num));
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

/* ------------------------------------------------------------------ */
/* solver */

struct pow_solver {
	const struct pow_hash_ops *ops;
	void		*hs;		/* hash state */
	enum pow_rule	 rule;
	unsigned long	 max_tries;

	char		*json;		/* P0 P1 P2 back to back */
	const char	*p1, *p2;
	size_t		 len1, len2;

	unsigned char	 rem0[2];	/* P0 bytes after its last full group */
	size_t		 rem0_len;
	/* base64 of P1[k..] and P2[k..] for the three alignments k */
	char		*t1[3], *t2[3];
	size_t		 t1_len[3], t2_len[3];
	unsigned char	 r1[3][2];	/* P1 bytes left after t1[k] */
	size_t		 r1_len[3];

	char		*work;		/* base64(P0 cut) ‖ varying tail */
	size_t		 head_len;
};

void
pow_solver_free(struct pow_solver *s)
{
	if (s == NULL)
		return;
	if (s->ops != NULL)
		s->ops->state_free(s->hs);
	for (int k = 0; k < 3; k++) {
		free(s->t1[k]);
		free(s->t2[k]);
	}
	free(s->work);
	free(s->json);
	free(s);
}

enum pow_err
pow_solver_new(struct pow_solver **sp, const struct pow_config *cfg,
    const struct pow_opts *opts)
{
	struct pow_opts		 def = { POW_ALGO_SHA3_512, POW_RULE_BYTES, 0 };
	struct pow_solver	*s = NULL;
	struct jbuf		 b = { 0 };
	size_t			 oi, oj, l0, tail_max;
	enum pow_err		 rc = POW_EINVAL;

	if (sp == NULL)
		return POW_EINVAL;
	*sp = NULL;
	if (cfg == NULL)
		goto fail;
	if (opts == NULL)
		opts = &def;
	if (opts->rule != POW_RULE_BYTES && opts->rule != POW_RULE_HEX)
		goto fail;
	rc = POW_ENOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	s->rule = opts->rule;
	s->max_tries = opts->max_tries ? opts->max_tries : POW_MAX_TRIES;
	rc = POW_EINVAL;
	if ((s->ops = hash_ops(opts->algo)) == NULL)
		goto fail;
	if ((rc = s->ops->state_new(&s->hs)) != POW_OK)
		goto fail;

	if ((rc = config_parts(cfg, &b, &oi, &oj)) != POW_OK)
		goto fail;
	s->json = b.p;
	b.p = NULL;
	s->p1 = s->json + oi;
	s->len1 = oj - oi;
	s->p2 = s->json + oj;
	s->len2 = b.len - oj;
	/* Both always hold at least ",x,": room for a 2-byte borrow. */
	if (s->len1 < 2 || s->len2 < 2) {
		rc = POW_EINVAL;
		goto fail;
	}

	rc = POW_ENOMEM;
	l0 = oi - oi % 3;
	s->rem0_len = oi - l0;
	memcpy(s->rem0, s->json + l0, s->rem0_len);
	for (size_t k = 0; k < 3; k++) {
		size_t	 m = (s->len1 - k) / 3 * 3;

		if ((s->t1[k] = malloc(b64_len(m) + 1)) == NULL)
			goto fail;
		s->t1_len[k] = b64_encode((const unsigned char *)s->p1 + k, m,
		    s->t1[k]);
		s->r1_len[k] = s->len1 - k - m;
		memcpy(s->r1[k], s->p1 + k + m, s->r1_len[k]);

		if ((s->t2[k] = malloc(b64_len(s->len2 - k) + 1)) == NULL)
			goto fail;
		s->t2_len[k] = b64_encode((const unsigned char *)s->p2 + k,
		    s->len2 - k, s->t2[k]);
	}
	/* Tail = rem0 i P1 j P2 with i, j up to 20 digits each. */
	tail_max = b64_len(2 + 20 + s->len1 + 20 + s->len2) + 8;
	s->head_len = b64_len(l0);
	if ((s->work = malloc(s->head_len + tail_max + 1)) == NULL)
		goto fail;
	b64_encode((const unsigned char *)s->json, l0, s->work);
	*sp = s;
	return POW_OK;
fail:
	free(b.p);
	pow_solver_free(s);
	return rc;
}

/*
 * Write base64(rem0 i P1 j P2) at out.  Each piece handed to b64_encode
 * is a multiple of 3 bytes except the last, so the pieces concatenate to
 * the encoding of the whole.
 */
static size_t
solver_tail(const struct pow_solver *s, unsigned long i, unsigned long j,
    char *out)
{
	unsigned char	 a[2 + 24 + 2];
	size_t		 na, k1, k2;
	char		*o = out;

	memcpy(a, s->rem0, s->rem0_len);
	na = s->rem0_len + utoa(i, (char *)a + s->rem0_len);
	k1 = (3 - na % 3) % 3;
	memcpy(a + na, s->p1, k1);
	o += b64_encode(a, na + k1, o);
	memcpy(o, s->t1[k1], s->t1_len[k1]);
	o += s->t1_len[k1];

	memcpy(a, s->r1[k1], s->r1_len[k1]);
	na = s->r1_len[k1] + utoa(j, (char *)a + s->r1_len[k1]);
	k2 = (3 - na % 3) % 3;
	memcpy(a + na, s->p2, k2);
	o += b64_encode(a, na + k2, o);
	memcpy(o, s->t2[k2], s->t2_len[k2]);
	o += s->t2_len[k2];
	return (size_t)(o - out);
}

enum pow_err
pow_solve(struct pow_solver *s, const char *seed, const char *difficulty,
    char **answer, unsigned long *nonce)
{
	struct difficulty	 d;
	unsigned char		 h[POW_DIGEST_MAX];
	size_t			 seed_len, tail_len;
	unsigned long		 i;
	char			*tail;
	enum pow_err		 rc = POW_EINVAL;

	if (answer == NULL)
		return POW_EINVAL;
	*answer = NULL;
	if (s == NULL || seed == NULL ||
	    (seed_len = strlen(seed)) > POW_SEED_MAX)
		goto fail;
	if ((rc = difficulty_parse(difficulty, s->ops->digest_len, &d)) !=
	    POW_OK)
		goto fail;
	if ((rc = s->ops->begin(s->hs, seed, seed_len)) != POW_OK ||
	    (rc = s->ops->absorb(s->hs, s->work, s->head_len)) != POW_OK)
		goto fail;

	tail = s->work + s->head_len;
	for (i = 0; i < s->max_tries; i++) {
		tail_len = solver_tail(s, i, i >> 1, tail);
		if ((rc = s->ops->digest(s->hs, tail, tail_len, h)) != POW_OK)
			goto fail;
		if (difficulty_met(h, &d, s->rule)) {
			if ((*answer = strndup(s->work, s->head_len +
			    tail_len)) == NULL) {
				rc = POW_ENOMEM;
				goto fail;
			}
			if (nonce != NULL)
				*nonce = i;
			return POW_OK;
		}
	}
	if ((*answer = pow_fallback(seed)) == NULL) {
		rc = POW_ENOMEM;
		goto fail;
	}
	if (nonce != NULL)
		*nonce = i;
	return POW_UNSOLVED;
fail:
	return rc;
}

char *
pow_fallback(const char *seed)
{
	size_t	 n, plen = sizeof(POW_FALLBACK_PREFIX) - 1;
	char	*quoted = NULL, *out = NULL;

	if (seed == NULL || (n = strlen(seed)) > POW_SEED_MAX)
		return NULL;
	if ((quoted = malloc(n + 2)) == NULL)
		goto out;
	quoted[0] = '"';
	memcpy(quoted + 1, seed, n);
	quoted[n + 1] = '"';
	if ((out = malloc(plen + b64_len(n + 2) + 1)) == NULL)
		goto out;
	memcpy(out, POW_FALLBACK_PREFIX, plen);
	out[plen + b64_encode((unsigned char *)quoted, n + 2, out + plen)] =
	    '\0';
out:
	free(quoted);
	return out;
}

/* prefix ‖ body ‖ suffix, freeing body. */
static char *
token_wrap(const char *prefix, char *body, const char *suffix)
{
	size_t	 lp = strlen(prefix), lb = strlen(body), ls = strlen(suffix);
	char	*t;

	if ((t = malloc(lp + lb + ls + 1)) != NULL) {
		memcpy(t, prefix, lp);
		memcpy(t + lp, body, lb);
		memcpy(t + lp + lb, suffix, ls + 1);
	}
	free(body);
	return t;
}

static enum pow_err
solve_token(struct pow_solver *s, const char *seed, const char *difficulty,
    const char *prefix, char **token)
{
	char		*body = NULL;
	enum pow_err	 rc;

	rc = pow_solve(s, seed, difficulty, &body, NULL);
	if (rc != POW_OK && rc != POW_UNSOLVED)
		return rc;
	if ((*token = token_wrap(prefix, body, s->ops->suffix)) == NULL)
		return POW_ENOMEM;
	return rc;
}

enum pow_err
pow_requirements_token(struct pow_solver *s, const char *seed, char **token)
{
	char		 rnd[POW_SEED_BUFSZ];
	enum pow_err	 rc;

	if (token == NULL)
		return POW_EINVAL;
	*token = NULL;
	if (s == NULL)
		return POW_EINVAL;
	if (seed == NULL) {
		if ((rc = pow_random_seed(rnd)) != POW_OK)
			return rc;
		seed = rnd;
	}
	return solve_token(s, seed, POW_REQ_DIFFICULTY, POW_REQ_PREFIX, token);
}

enum pow_err
pow_proof_token(struct pow_solver *s, const char *seed,
    const char *difficulty, const char *limit, char **token)
{
	if (token == NULL)
		return POW_EINVAL;
	*token = NULL;
	if (s == NULL || seed == NULL || difficulty == NULL)
		return POW_EINVAL;
	if (pow_difficulty_too_high(difficulty, limit))
		return POW_TOOHARD;
	return solve_token(s, seed, difficulty, POW_PROOF_PREFIX, token);
}

enum pow_err
pow_verify(enum pow_algo algo, enum pow_rule rule, const char *seed,
    const char *difficulty, const char *token, bool proof)
{
	const struct pow_hash_ops	*ops = hash_ops(algo);
	const char			*prefix = proof ? POW_PROOF_PREFIX :
					    POW_REQ_PREFIX;
	struct difficulty		 d;
	unsigned char			 h[POW_DIGEST_MAX];
	size_t				 n, lp, ls;
	void				*st = NULL;
	enum pow_err			 rc = POW_EINVAL;

	if (ops == NULL || seed == NULL || token == NULL ||
	    strlen(seed) > POW_SEED_MAX ||
	    (rule != POW_RULE_BYTES && rule != POW_RULE_HEX))
		goto out;
	if ((rc = difficulty_parse(difficulty, ops->digest_len, &d)) != POW_OK)
		goto out;

	rc = POW_EBADTOKEN;
	lp = strlen(prefix);
	ls = strlen(ops->suffix);
	n = strnlen(token, POW_TOKEN_MAX + 1);
	if (n > POW_TOKEN_MAX || n < lp + ls ||
	    strncmp(token, prefix, lp) != 0 ||
	    strcmp(token + n - ls, ops->suffix) != 0)
		goto out;
	token += lp;
	n -= lp + ls;
	if (n >= sizeof(POW_FALLBACK_PREFIX) - 1 && strncmp(token,
	    POW_FALLBACK_PREFIX, sizeof(POW_FALLBACK_PREFIX) - 1) == 0)
		goto out;
	if (!b64_valid(token, n))
		goto out;

	if ((rc = ops->state_new(&st)) != POW_OK ||
	    (rc = ops->begin(st, seed, strlen(seed))) != POW_OK ||
	    (rc = ops->absorb(st, token, n)) != POW_OK ||
	    (rc = ops->digest(st, NULL, 0, h)) != POW_OK)
		goto out;
	rc = difficulty_met(h, &d, rule) ? POW_OK : POW_EMISMATCH;
out:
	if (ops != NULL)
		ops->state_free(st);
	return rc;
}

const char *
pow_strerror(enum pow_err err)
{
	switch (err) {
	case POW_OK:
		return "success";
	case POW_ENOMEM:
		return "out of memory";
	case POW_EINVAL:
		return "invalid argument";
	case POW_ECRYPTO:
		return "cryptographic library failure";
	case POW_TOOHARD:
		return "Proof of work difficulty too high";
	case POW_UNSOLVED:
		return "Failed to solve proof of work";
	case POW_EBADTOKEN:
		return "malformed proof-of-work token";
	case POW_EMISMATCH:
		return "proof-of-work answer does not meet the difficulty";
	}
	return "unknown error";
}
