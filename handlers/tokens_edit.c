/*
 * /tokens actions that change the pool: upload, clear, the error list
 * and its reset, removing one credential, clearing the gateway's seeds.
 * Every one passes tok_gate() first (login or Bearer code, CSRF, origin).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/resp.h"
#include "handlers/acct_lines.h"
#include "handlers/handlers.h"
#include "handlers/tokens.h"
#include "html/escape.h"
#include "store/accounts.h"
#include "store/tokcache.h"
#include "upstream/provider.h"

/* ------------------------------------------------------------ upload */

/* CRLF and lone CR become LF (a textarea sends CRLF); returns lines. */
static size_t
tok_lines(char *s, size_t *len)
{
	size_t i, o = 0, lines = 0;

	for (i = 0; i < *len; i++) {
		if (s[i] == '\r') {
			if (i + 1 < *len && s[i + 1] == '\n')
				continue;
			s[i] = '\n';
		}
		s[o++] = s[i];
		if (s[i] == '\n')
			lines++;
	}
	s[o] = '\0';
	*len = o;
	if (o > 0 && s[o - 1] != '\n')
		lines++;
	return lines;
}

/* {"text": "..."} or {"tokens": ["...", ...]} */
static int
tok_json_text(struct tok *t, char **text, size_t *len, const char **why)
{
	struct req *r = t->r;
	struct json_tokener *tk;
	struct json_object *o = NULL, *v, *it;
	struct buf b;
	size_t i, n, sl;
	const char *s;
	int ret = -1;

	buf_init(&b, (size_t)TOK_UPLOAD_MAX + 1);
	*why = "The body must be a JSON object with \"text\" (a string) or "
	    "\"tokens\" (an array of strings).";
	if ((tk = json_tokener_new()) == NULL)
		goto fail;
	o = json_tokener_parse_ex(tk, r->body, (int)r->body_len);
	if (o == NULL || json_tokener_get_error(tk) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))
		goto fail;
	if (json_object_object_get_ex(o, "text", &v)) {
		if (!json_object_is_type(v, json_type_string))
			goto fail;
		buf_add(&b, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	} else if (json_object_object_get_ex(o, "tokens", &v)) {
		if (!json_object_is_type(v, json_type_array))
			goto fail;
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			it = json_object_array_get_idx(v, i);
			if (!json_object_is_type(it, json_type_string))
				goto fail;
			s = json_object_get_string(it);
			sl = (size_t)json_object_get_string_len(it);
			/* One token per entry: a newline would make two. */
			if (memchr(s, '\n', sl) != NULL ||
			    memchr(s, '\r', sl) != NULL) {
				*why = "A token in \"tokens\" contains a line "
				    "break.";
				goto fail;
			}
			buf_add(&b, s, sl);
			buf_add(&b, "\n", 1);
		}
	} else
		goto fail;
	if (b.failed || (b.len && memchr(b.p, '\0', b.len) != NULL)) {
		*why = b.failed ? "The upload is over 1 MiB." :
		    "The upload contains a NUL character.";
		goto fail;
	}
	if ((*text = arena_alloc(r->arena, b.len + 1)) == NULL)
		goto fail;
	if (b.len)
		memcpy(*text, b.p, b.len);
	(*text)[b.len] = '\0';
	*len = b.len;
	ret = 0;
fail:
	if (o != NULL)
		json_object_put(o);
	if (tk != NULL)
		json_tokener_free(tk);
	buf_free(&b);
	return ret;
}

enum app_err
h_tokens_upload(struct req *r, const char *rest)
{
	struct tok t;
	struct json_object *o;
	char *text = NULL, fp[LOG_FP_LEN], *q;
	const char *why;
	struct acct_lines_result res;
	size_t len = 0, lines;
	enum store_err se;
	enum app_err e;
	int got;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if (r->body_len > (size_t)TOK_UPLOAD_MAX) {
		if (t.html)
			return tok_redirect(&t, "m=toobig", NULL, NULL);
		return tok_json_error(&t, 413, "invalid_request_error",
		    "upload_too_large", "text", "An upload may be at most "
		    "1 MiB; split it.", NULL);
	}
	if (t.form) {
		got = r->body != NULL ? form_field(r->arena, r->body,
		    r->body_len, "text", &text, &len) : 0;
		if (got != 1)
			return tok_json_error(&t, 400, "invalid_request_error",
			    "invalid_request", "text", got < 0 ?
			    "Malformed form body." : "Missing form field text "
			    "(one token per line).", NULL);
	} else if (t.json) {
		if (tok_json_text(&t, &text, &len, &why) < 0)
			return tok_json_error(&t, 400, "invalid_request_error",
			    "invalid_request", "text", why, NULL);
	} else if (tok_ctype_is(r->content_type, "text/plain")) {
		text = r->body != NULL ? r->body : "";
		len = r->body_len;
		if (memchr(text, '\0', len) != NULL)
			return tok_json_error(&t, 400, "invalid_request_error",
			    "invalid_request", "text", "The upload contains a "
			    "NUL character.", NULL);
	} else
		return tok_json_error(&t, 415, "invalid_request_error",
		    "unsupported_media_type", NULL, "Send form field text, "
		    "JSON {\"text\"} or {\"tokens\"}, or text/plain.", NULL);

	if ((lines = tok_lines(text, &len)) > TOK_LINES_MAX) {
		if (t.html)
			return tok_redirect(&t, "m=toomany", NULL, NULL);
		return tok_json_error(&t, 413, "invalid_request_error",
		    "too_many_lines", "text", "An upload may have at most "
		    "10000 lines; split it.", NULL);
	}
	if ((se = acct_lines_add(r->store, provider_by_id(tok_provider()),
	    text, len, &res)) != STORE_OK)
		return tok_store_err(se);
	/* The pool skips lines that are no token; say how many. */
	log_info("tokens: upload of %zu line(s): %zu added, %zu duplicate(s), "
	    "%zu skipped (by %s)", lines, res.added, res.dups, res.skipped,
	    tok_who(&t, fp));
	if (t.html) {
		if ((q = arena_printf(r->arena, "m=added&a=%zu&d=%zu&s=%zu",
		    res.added, res.dups, res.skipped)) == NULL)
			return APP_ENOMEM;
		return tok_redirect(&t, q, NULL, NULL);
	}
	if ((o = json_object_new_object()) == NULL)
		return APP_ENOMEM;
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "added", json_object_new_int64(
	    (int64_t)res.added));
	json_object_object_add(o, "duplicates", json_object_new_int64(
	    (int64_t)res.dups));
	json_object_object_add(o, "skipped", json_object_new_int64(
	    (int64_t)res.skipped));
	json_object_object_add(o, "tokens_count", json_object_new_int64(
	    (int64_t)tok_active(r->store)));
	return tok_json(&t, 200, o, NULL);
}

/* ------------------------------------------------------------ clear */

/* Browser forms for destructive actions carry a ticked confirm box. */
static int
tok_confirmed(struct tok *t)
{
	int bad;
	const char *c;

	if (!t->html)
		return 1;
	c = tok_arg(t, "confirm", &bad);
	return c != NULL && strcmp(c, "yes") == 0;
}

enum app_err
h_tokens_clear(struct req *r, const char *rest)
{
	struct tok t;
	char fp[LOG_FP_LEN], *q;
	size_t removed = 0;
	enum store_err se;
	enum app_err e;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if (!tok_confirmed(&t))
		return tok_redirect(&t, "m=confirm", "danger", NULL);
	if ((se = acct_clear(r->store, tok_provider(), &removed)) != STORE_OK)
		return tok_store_err(se);
	/* Exchanged tokens of what was just removed go too. */
	tokcache_clear(r->store);
	log_info("tokens: pool cleared, %zu removed (by %s)", removed,
	    tok_who(&t, fp));
	if (t.html) {
		if ((q = arena_printf(r->arena, "m=cleared&a=%zu", removed)) ==
		    NULL)
			return APP_ENOMEM;
		return tok_redirect(&t, q, NULL, NULL);
	}
	return tok_success(&t, "tokens_count", 0, "removed", removed, NULL, 0);
}

enum app_err
h_seed_tokens_clear(struct req *r, const char *rest)
{
	struct tok t;
	char fp[LOG_FP_LEN], *q;
	size_t removed = 0;
	enum store_err se;
	enum app_err e;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if (!tok_confirmed(&t))
		return tok_redirect(&t, "m=confirm", "danger", NULL);
	if ((se = store_seeds_clear(r->store, &removed)) != STORE_OK)
		return tok_store_err(se);
	log_info("tokens: seeds cleared, %zu removed (by %s)", removed,
	    tok_who(&t, fp));
	if (t.html) {
		if ((q = arena_printf(r->arena, "m=seedclr&a=%zu", removed)) ==
		    NULL)
			return APP_ENOMEM;
		return tok_redirect(&t, q, NULL, NULL);
	}
	return tok_success(&t, "seed_tokens_count", 0, "removed", removed,
	    NULL, 0);
}

/* ------------------------------------------------------------ errors */

static void
tok_iso_time(int64_t at, char *out, size_t outsz)
{
	struct tm tm;
	time_t tt = (time_t)at;

	if (at <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

static int
error_one(void *arg, const struct acct_info *ci)
{
	const struct provider *p = provider_by_id(tok_provider());
	struct json_object *arr = arg, *o;
	char at[32];

	if (ci->status != ACCT_ERROR && ci->status != ACCT_EXPIRED)
		return 0;
	if ((o = json_object_new_object()) == NULL)
		return -1;
	tok_iso_time(ci->last_error_at, at, sizeof(at));
	json_object_object_add(o, "id", json_object_new_string(ci->id));
	json_object_object_add(o, "fingerprint",
	    json_object_new_string(ci->fingerprint));
	json_object_object_add(o, "kind",
	    json_object_new_string(provider_kind_name(p, ci->kind)));
	json_object_object_add(o, "reason",
	    json_object_new_string(ci->last_error));
	json_object_object_add(o, "at", at[0] ?
	    json_object_new_string(at) : NULL);
	json_object_object_add(o, "count",
	    json_object_new_int64((int64_t)ci->error_count));
	json_object_array_add(arr, o);
	return 0;
}

enum app_err
h_tokens_error(struct req *r, const char *rest)
{
	struct tok t;
	struct json_object *o, *arr;
	enum store_err se;
	enum app_err e;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	/* The page shows the list itself. */
	if (t.html)
		return tok_redirect(&t, NULL, "errors", NULL);
	if ((arr = json_object_new_array()) == NULL)
		return APP_ENOMEM;
	if ((se = acct_list(r->store, tok_provider(), error_one, arr)) != STORE_OK) {
		json_object_put(arr);
		return tok_store_err(se);
	}
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(arr);
		return APP_ENOMEM;
	}
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "error_tokens", arr);
	return tok_json(&t, 200, o, NULL);
}

enum app_err
h_tokens_errors_clear(struct req *r, const char *rest)
{
	struct tok t;
	char fp[LOG_FP_LEN];
	enum store_err se;
	enum app_err e;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if ((se = acct_errors_clear(r->store, tok_provider())) != STORE_OK)
		return tok_store_err(se);
	log_info("tokens: error status reset (by %s)", tok_who(&t, fp));
	if (t.html)
		return tok_redirect(&t, "m=errclr", NULL, NULL);
	return tok_success(&t, "tokens_count", tok_active(r->store), NULL, 0,
	    NULL, 0);
}

/* ------------------------------------------------------------ remove */

static int
tok_id_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > TOK_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

enum app_err
h_tokens_remove(struct req *r, const char *rest)
{
	struct tok t;
	char fp[LOG_FP_LEN];
	const char *id;
	enum store_err se;
	enum app_err e;
	int bad;

	(void)rest;
	tok_init(&t, r);
	if ((e = tok_gate(&t)) != APP_OK || !t.go)
		return e;
	if ((id = tok_arg(&t, "id", &bad)) == NULL &&
	    (id = tok_arg(&t, "fingerprint", &bad)) == NULL)
		id = "";
	if (!tok_id_ok(id))
		return tok_json_error(&t, 400, "invalid_request_error",
		    "invalid_request", "id", "Give the id or fingerprint "
		    "(hex) of one credential.", NULL);
	se = acct_remove(r->store, tok_provider(), id);
	if (se == STORE_INVAL)
		return tok_json_error(&t, 400, "invalid_request_error",
		    "invalid_request", "id", "An id has 32 hex digits, a "
		    "fingerprint 12.", NULL);
	if (se == STORE_NOTFOUND) {
		if (t.html)
			return tok_redirect(&t, "m=gone", NULL, NULL);
		return tok_json_error(&t, 404, "invalid_request_error",
		    "not_found", "id", "No credential with that id or "
		    "fingerprint.", NULL);
	}
	if (se != STORE_OK)
		return tok_store_err(se);
	log_info("tokens: credential %s removed (by %s)", id, tok_who(&t, fp));
	if (t.html)
		return tok_redirect(&t, "m=removed", NULL, NULL);
	return tok_success(&t, "tokens_count", tok_active(r->store), NULL, 0,
	    NULL, 0);
}
