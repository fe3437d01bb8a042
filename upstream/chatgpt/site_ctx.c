/*
 * The live page's React Router context (chatgpt.md §9.1).  The page
 * streams its loader data in script lines such as
 *
 *	window.__reactRouterContext.streamController.enqueue("[...]\n");
 *
 * where the JavaScript string holds a turbo-stream: one flat JSON array
 * whose objects name their members by index, {"_12":13}, element 12
 * being the key ("accessToken") and 13 its value.  The token of the
 * logged-in user goes into every accessToken value, the locale into
 * every locale, and a seed never sees the real account's e-mail.  The
 * string is decoded, parsed, changed and written back as a JavaScript
 * string that cannot end its script element.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "upstream/chatgpt/site.h"

#define ENQUEUE		"streamController.enqueue("
#define KEYS_MAX	64	/* key strings of interest per context */

static const char *const site_errs[SITE__MAX] = {
	[SITE_OK] = "success",
	[SITE_ENOMEM] = "out of memory",
	[SITE_INVAL] = "invalid argument",
	[SITE_TOOBIG] = "page or context too large",
	[SITE_NOCTX] = "no login context in the page",
	[SITE_BADCTX] = "a context string does not parse",
	[SITE_NET] = "upstream unreachable",
	[SITE_HTTP] = "upstream error status",
	[SITE_ABORTED] = "client went away",
	[SITE_SENTINEL] = "sentinel failed",
};

const char *
site_strerror(enum site_err e)
{
	return (unsigned)e < SITE__MAX ? site_errs[e] : "unknown error";
}

int
site_locale_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || n > SITE_LOCALE_MAX || !isalpha((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

static int
hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void
put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];

	if (cp < 0x80) {
		u[0] = (char)cp;
		buf_add(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 4);
	}
}

/* n hex digits at p, or -1. */
static long
hexn(const char *p, const char *end, int n)
{
	long v = 0;
	int i, d;

	if (end - p < n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((d = hexv(p[i])) < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * The JavaScript string literal opened by the quote at *pp, decoded into
 * out; *pp ends after the closing quote.  -1 if it does not close.
 */
static int
js_string(const char **pp, const char *end, struct buf *out)
{
	const char *p = *pp;
	char q = *p++;
	long cp, lo;

	while (p < end && *p != q) {
		if (*p == '\n' || *p == '\r')
			return -1;
		if (*p != '\\') {
			buf_add(out, p++, 1);
			continue;
		}
		if (++p >= end)
			return -1;
		switch (*p) {
		case 'n': buf_add(out, "\n", 1); p++; break;
		case 'r': buf_add(out, "\r", 1); p++; break;
		case 't': buf_add(out, "\t", 1); p++; break;
		case 'b': buf_add(out, "\b", 1); p++; break;
		case 'f': buf_add(out, "\f", 1); p++; break;
		case 'v': buf_add(out, "\v", 1); p++; break;
		case '0': buf_add(out, "", 1); p++; break;
		case '\r':
			if (++p < end && *p == '\n')
				p++;
			break;		/* a line continuation */
		case '\n':
			p++;
			break;
		case 'x':
			if ((cp = hexn(p + 1, end, 2)) < 0)
				return -1;
			put_utf8(out, (unsigned long)cp);
			p += 3;
			break;
		case 'u':
			if ((cp = hexn(p + 1, end, 4)) < 0)
				return -1;
			p += 5;
			/* A surrogate pair is one character. */
			if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' &&
			    (lo = hexn(p + 2, end, 4)) >= 0xdc00 &&
			    lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			put_utf8(out, (unsigned long)cp);
			break;
		default:
			buf_add(out, p++, 1);	/* \" \' \\ \/ and the like */
			break;
		}
		if (out->len > SITE_CTX_MAX)
			return -1;
	}
	if (p >= end)
		return -1;
	*pp = p + 1;
	return out->failed ? -1 : 0;
}

/*
 * s as a double-quoted JavaScript string: nothing in it can end the
 * script element or the string ("<" and line separators escaped).
 */
static void
js_quote(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	const unsigned char *run;
	char u[6] = { '\\', 'u', '0', '0', 0, 0 };

	buf_add(b, "\"", 1);
	while (p < end) {
		for (run = p; p < end && *p >= 0x20 && *p != '"' &&
		    *p != '\\' && *p != '<' && *p != '>' && *p != 0xe2; p++)
			;
		buf_add(b, run, (size_t)(p - run));
		if (p == end)
			break;
		if (*p == 0xe2 && end - p >= 3 && p[1] == 0x80 &&
		    (p[2] == 0xa8 || p[2] == 0xa9)) {
			buf_adds(b, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
			p += 3;
			continue;
		}
		switch (*p) {
		case 0xe2: buf_add(b, p, 1); break;
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		default:
			u[4] = hex[*p >> 4];
			u[5] = hex[*p & 15];
			buf_add(b, u, 6);
		}
		p++;
	}
	buf_add(b, "\"", 1);
}

/* The string element at i, or NULL. */
static const char *
elem_str(struct json_object *arr, size_t i)
{
	struct json_object *e = json_object_array_get_idx(arr, i);

	return json_object_is_type(e, json_type_string) ?
	    json_object_get_string(e) : NULL;
}

enum { K_TOKEN, K_LOCALE, K_EMAIL };

/* The value for key kind, or NULL to leave it. */
static const char *
value_for(int kind, const char *old, const struct site_page_opts *o)
{
	switch (kind) {
	case K_TOKEN:
		return o->token;
	case K_LOCALE:
		return o->locale;
	default:
		return o->email != NULL && strchr(old, '@') != NULL ?
		    o->email : NULL;
	}
}

/* Replaces element v (a string) by the value of kind; 1 if it did. */
static int
fill(struct json_object *arr, size_t v, int kind,
    const struct site_page_opts *o)
{
	const char *old = elem_str(arr, v), *nv;

	if (old == NULL || (nv = value_for(kind, old, o)) == NULL)
		return 0;
	json_object_array_put_idx(arr, v, json_object_new_string(nv));
	return 1;
}

static int
is_key(const size_t *key_at, size_t nkeys, size_t i)
{
	size_t j;

	for (j = 0; j < nkeys; j++)
		if (key_at[j] == i)
			return 1;
	return 0;
}

/*
 * The turbo-stream array: every member whose key is of interest.  A key
 * string itself is never overwritten, whatever points at it.
 */
static size_t
fill_array(struct json_object *arr, const struct site_page_opts *o)
{
	size_t key_at[KEYS_MAX], nkeys = 0, n, i, j, filled = 0;
	int kind[KEYS_MAX], used[KEYS_MAX];
	const char *s;
	char *end;
	long v, k;

	n = json_object_array_length(arr);
	for (i = 0; i < n && nkeys < KEYS_MAX; i++) {
		if ((s = elem_str(arr, i)) == NULL)
			continue;
		if (strcmp(s, "accessToken") == 0)
			kind[nkeys] = K_TOKEN;
		else if (strcmp(s, "locale") == 0)
			kind[nkeys] = K_LOCALE;
		else if (strcmp(s, "email") == 0)
			kind[nkeys] = K_EMAIL;
		else
			continue;
		used[nkeys] = 0;
		key_at[nkeys++] = i;
	}
	if (nkeys == 0)
		return 0;
	/* {"_K":V}: the value of key K is element V. */
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(e, json_type_object))
			continue;
		json_object_object_foreach(e, mk, mv) {
			if (mk[0] != '_' || !json_object_is_type(mv,
			    json_type_int))
				continue;
			k = strtol(mk + 1, &end, 10);
			v = (long)json_object_get_int64(mv);
			if (*end != '\0' || v < 0 || (size_t)v >= n ||
			    is_key(key_at, nkeys, (size_t)v))
				continue;
			for (j = 0; j < nkeys; j++)
				if ((long)key_at[j] == k) {
					used[j] = 1;
					if (fill(arr, (size_t)v, kind[j], o) &&
					    kind[j] == K_TOKEN)
						filled++;
				}
		}
	}
	/* A key no object names: its value follows it (the reference's rule). */
	for (j = 0; j < nkeys; j++)
		if (!used[j] && key_at[j] + 1 < n &&
		    !is_key(key_at, nkeys, key_at[j] + 1) &&
		    fill(arr, key_at[j] + 1, kind[j], o) && kind[j] == K_TOKEN)
			filled++;
	return filled;
}

/*
 * One context string (decoded in ctx): a "P<n>:" promise prefix is
 * kept, the JSON after it filled.  Written to out as a JS string.
 */
static enum site_err
fill_context(struct buf *out, struct buf *ctx, const struct site_page_opts *o,
    size_t *ntokens)
{
	struct json_tokener *tok;
	struct json_object *arr = NULL;
	const char *j = ctx->p, *s;
	size_t pre = 0, len;
	struct buf res;

	if (ctx->len == 0)
		goto asis;
	if (j[0] == 'P') {
		for (pre = 1; pre < ctx->len && isdigit((unsigned char)j[pre]);
		    pre++)
			;
		if (pre == 1 || pre >= ctx->len || j[pre] != ':')
			goto asis;
		pre++;
	}
	if (j[pre] != '[')
		goto asis;
	if ((tok = json_tokener_new()) == NULL)
		return SITE_ENOMEM;
	arr = json_tokener_parse_ex(tok, j + pre, (int)(ctx->len - pre));
	/* Only whitespace (the turbo-stream's newline) may follow. */
	if (arr != NULL) {
		for (len = pre + (size_t)json_tokener_get_parse_end(tok);
		    len < ctx->len && isspace((unsigned char)j[len]); len++)
			;
		if (len != ctx->len || !json_object_is_type(arr,
		    json_type_array)) {
			json_object_put(arr);
			arr = NULL;
		}
	}
	json_tokener_free(tok);
	if (arr == NULL)
		return SITE_BADCTX;
	*ntokens += fill_array(arr, o);
	s = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	buf_init(&res, 0);
	buf_add(&res, j, pre);
	buf_adds(&res, s);
	buf_add(&res, "\n", 1);
	json_object_put(arr);
	if (res.failed) {
		buf_free(&res);
		return SITE_ENOMEM;
	}
	js_quote(out, res.p, res.len);
	buf_free(&res);
	return SITE_OK;
asis:
	js_quote(out, ctx->p ? ctx->p : "", ctx->len);
	return SITE_OK;
}

/*
 * ` integrity="sha384-..."` at p (hashes: base64 and spaces only): its
 * length, else 0.
 */
static size_t
integrity_attr(const char *p, const char *end)
{
	static const char attr[] = " integrity=\"sha";
	const char *q;

	if ((size_t)(end - p) < sizeof(attr) - 1 ||
	    memcmp(p, attr, sizeof(attr) - 1) != 0)
		return 0;
	for (q = p + sizeof(attr) - 1; q < end && (isalnum((unsigned char)*q) ||
	    *q == '+' || *q == '/' || *q == '=' || *q == '-' || *q == ' '); q++)
		;
	return q < end && *q == '"' ? (size_t)(q + 1 - p) : 0;
}

enum site_err
site_page_inject(struct buf *out, const char *page, size_t len,
    const struct site_page_opts *o, size_t *ntokens)
{
	const char *p = page, *end = page + len, *run = page, *q;
	struct buf ctx;
	enum site_err e = SITE_OK;
	size_t n;

	*ntokens = 0;
	if (len > SITE_PAGE_MAX)
		return SITE_TOOBIG;
	if (o->token == NULL)
		return SITE_INVAL;
	buf_init(&ctx, SITE_CTX_MAX + 16);
	while (p < end) {
		if (*p == '<' && end - p > 7 && memcmp(p, "<script", 7) == 0 &&
		    (p[7] == '>' || isspace((unsigned char)p[7])) &&
		    o->nonce != NULL) {
			buf_add(out, run, (size_t)(p + 7 - run));
			buf_adds(out, " nonce=\"");
			buf_adds(out, o->nonce);
			buf_adds(out, "\"");
			run = p += 7;
			continue;
		}
		if (*p == ' ' && (n = integrity_attr(p, end)) > 0) {
			/* Renamed, not cut: nothing new is joined by it. */
			buf_add(out, run, (size_t)(p + 1 - run));
			buf_adds(out, "data-");
			run = p + 1;
			p += n;
			continue;
		}
		if (*p != 's' || (size_t)(end - p) < sizeof(ENQUEUE) - 1 ||
		    memcmp(p, ENQUEUE, sizeof(ENQUEUE) - 1) != 0) {
			p++;
			continue;
		}
		q = p + sizeof(ENQUEUE) - 1;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q >= end || (*q != '"' && *q != '\'')) {
			p = q;
			continue;
		}
		buf_add(out, run, (size_t)(q - run));
		buf_reset(&ctx);
		if (js_string(&q, end, &ctx) < 0) {
			e = ctx.failed || ctx.len > SITE_CTX_MAX ?
			    SITE_TOOBIG : SITE_BADCTX;
			break;
		}
		if ((e = fill_context(out, &ctx, o, ntokens)) != SITE_OK)
			break;
		run = p = q;
	}
	if (e == SITE_OK)
		buf_add(out, run, (size_t)(end - run));
	buf_free(&ctx);
	if (e == SITE_OK && out->failed)
		e = SITE_ENOMEM;
	return e;
}
