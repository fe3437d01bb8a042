/*
 * errors.h - what Qwen AI's answers say went wrong, shared by the JSON
 * calls, the stream decoder and the account check (no sink here: the
 * decoder and the fuzzer use it alone).
 *
 * Qwen AI wraps answers as {"success": true, "data": {...}} and failures
 * as {"success": false, "data": {"code": "Bad_Request", "details": ...}};
 * older and stream answers put {"code": ..., "detail": ...} or {"error":
 * {...}} at the top instead, often with HTTP 200.  qa_envelope() reads
 * all of them; qa_classify() sorts a code (and the HTTP status) into what
 * it means for the client and the account.
 */
#ifndef UPSTREAM_QWENAI_ERRORS_H
#define UPSTREAM_QWENAI_ERRORS_H

#include <stddef.h>

#include <json-c/json.h>

#define QA_CODE_MAX	64	/* bytes of an upstream error code kept */
#define QA_MSG_MAX	256	/* bytes of an upstream message kept */
#define QA_JWT_MAX	4096	/* a longer token is no JWT */

/* The cookies §7.1 says the completion wants beside the JWT. */
#define QA_COOKIE_NAMES	"cnaui", "aui", "sca", "xlly_s", "cna", "token", \
			"_bl_uid", "x-ap"

enum qa_err {
	QA_OK = 0,
	QA_ENOMEM,
	QA_NET,		/* no HTTP answer */
	QA_HTTP,	/* a non-2xx answer without a Qwen error code */
	QA_REFUSED,	/* the JWT was refused (401, Unauthorized) */
	QA_EXPIRED,	/* ... and its exp claim has passed */
	QA_FORBIDDEN,	/* 403, Forbidden: refused for this account */
	QA_COOKIES,	/* Bad_Request: the account's cookies are missing */
	QA_LIMITED,	/* rate limited */
	QA_UPSTREAM,	/* any other Qwen error code */
	QA_PROTO,	/* an answer without what it should carry */
	QA__MAX
};

const char	*qa_strerror(enum qa_err);

/*
 * 0 when root is a success envelope (*data: its "data" member or NULL),
 * -1 when it reports an error: code and msg (NUL-terminated, cut to
 * their sizes) say which, "" when it named none.
 */
int		 qa_envelope(struct json_object *root, struct json_object **data,
		    char *code, size_t codesz, char *msg, size_t msgsz);

/* What an upstream error code (or "") with an HTTP status (0: 200) is. */
enum qa_err	 qa_classify(long http_status, const char *code);

/*
 * The names of QA_COOKIE_NAMES that cookies (a Cookie header value, or
 * NULL) lacks, comma separated in out; returns how many.
 */
size_t		 qa_missing_cookies(const char *cookies, char *out,
		    size_t outsz);

/* The exp claim of a JWT (unix time), or -1 when it has none. */
long long	 qa_jwt_exp(const char *jwt);

/* A JWT's shape: three base64url parts, the first a JSON header. */
int		 qa_jwt_ok(const char *s, size_t n);

#endif
