/*
 * fuzz_edge.c - libFuzzer driver for the parsers that read what clients
 * send: the OpenAI chat body (handlers/chat_request.c), form fields
 * (html/escape.c form_field, url_unarg), Cookie headers and the Bearer
 * scheme (handlers/admin_auth.c), and credential kind detection.
 *
 * Byte 0 of the input picks the target, the rest is the input.  Oracles
 * besides the sanitizers:
 *  - chat body: a success obeys every limit of upstream/provider.h
 *    (message and part counts, text bytes summed exactly, model and id
 *    lengths, known roles, text never NULL), also after the UPLOAD_BY_URL
 *    split; a failure is a 4xx with a code and a message; the same bytes
 *    always give the same verdict;
 *  - form field: a found value is NUL-terminated at its length and has
 *    no NUL inside; decoding never grows the text;
 *  - cookies: every value found is NUL-terminated, shorter than the
 *    buffer, and the cursor only moves forward to the end;
 *  - Bearer: the credentials returned lie inside the header.
 *
 *   mkdir /tmp/fz && cd /tmp/fz && CC=clang CFLAGS='-g -O1
 *       -fsanitize=fuzzer-no-link,address,undefined' SRC/configure -q &&
 *       make libchat2api.a
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -ISRC
 *       SRC/fuzz/fuzz_edge.c libchat2api.a $(pkg-config --libs fcgi
 *       libcurl json-c libcrypto lmdb) -lm -lpthread -o fuzz_edge
 *   ./fuzz_edge -max_total_time=300 /tmp/fz/corpus SRC/fuzz/corpus/edge
 *
 * Without libFuzzer, -DFUZZ_STANDALONE adds a main() that replays the
 * files named on the command line, or $top_srcdir/fuzz/corpus/edge (for
 * "make check", gcc or valgrind).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi/arena.h"
#include "handlers/admin_auth.h"
#include "handlers/chat_request.h"
#include "html/escape.h"
#include "upstream/chatgpt/chatgpt.h"

#define CHECK(c)	do { if (!(c)) { fprintf(stderr, "fuzz_edge: %s:%d: %s\n", \
			    __FILE__, __LINE__, #c); abort(); } } while (0)

static bool
bounded(const char *s, size_t max)
{
	return s == NULL || strlen(s) <= max;
}

static void
chat_body(const char *s, size_t n)
{
	struct arena		 a;
	struct chat_request	 r, r2;
	struct chat_req_error	 e, e2;
	struct json_object	*root = NULL, *root2 = NULL;
	size_t			 i, j, text = 0;
	int			 rc, rc2;

	arena_init(&a, 0);
	memset(&e, 0, sizeof(e));
	rc = chat_request_parse(&a, s, n, &r, &root, &e);
	if (rc == 0) {
		CHECK(r.nmessages >= 1 && r.nmessages <= CHAT_MAX_MESSAGES);
		CHECK(bounded(r.model, CHAT_MAX_MODEL));
		CHECK(bounded(r.conversation_id, CHAT_MAX_ID));
		CHECK(bounded(r.parent_message_id, CHAT_MAX_ID));
		CHECK(bounded(r.account_id, CHAT_MAX_ID));
		for (i = 0; i < r.nmessages; i++) {
			const struct chat_message *m = &r.messages[i];

			CHECK(m->role >= CHAT_ROLE_SYSTEM &&
			    m->role <= CHAT_ROLE_TOOL);
			CHECK(chat_role_name(m->role) != NULL);
			CHECK(m->nparts <= CHAT_MAX_PARTS);
			for (j = 0; j < m->nparts; j++) {
				const struct chat_part *p = &m->parts[j];

				if (p->type == CHAT_PART_TEXT) {
					CHECK(p->text != NULL);
					text += p->len;
				} else
					CHECK(p->url != NULL);
			}
		}
		CHECK(text == r.text_bytes && text <= CHAT_MAX_TEXT);
	} else {
		CHECK(rc == -1);
		CHECK(e.status >= 400 && e.status < 500);
		CHECK(e.code != NULL && *e.code != '\0');
		CHECK(memchr(e.param, '\0', sizeof(e.param)) != NULL);
		CHECK(memchr(e.message, '\0', sizeof(e.message)) != NULL &&
		    e.message[0] != '\0');
	}
	/* Deterministic: the same bytes, the same verdict. */
	memset(&e2, 0, sizeof(e2));
	rc2 = chat_request_parse(&a, s, n, &r2, &root2, &e2);
	CHECK(rc2 == rc);
	if (rc == 0)
		CHECK(r2.nmessages == r.nmessages &&
		    r2.text_bytes == r.text_bytes);
	else
		CHECK(e2.status == e.status && strcmp(e2.code, e.code) == 0 &&
		    strcmp(e2.message, e.message) == 0);
	/* UPLOAD_BY_URL keeps every limit and the text count exact. */
	if (rc == 0) {
		CHECK(chat_request_split_urls(&a, &r2) == 0);
		for (i = 0, text = 0; i < r2.nmessages; i++) {
			CHECK(r2.messages[i].nparts <= CHAT_MAX_PARTS);
			for (j = 0; j < r2.messages[i].nparts; j++) {
				const struct chat_part *p =
				    &r2.messages[i].parts[j];

				if (p->type == CHAT_PART_TEXT)
					text += p->len;
				else
					CHECK(p->url != NULL);
			}
		}
		CHECK(text == r2.text_bytes && text <= r.text_bytes);
	}
	json_object_put(root);
	json_object_put(root2);
	arena_free(&a);
}

static void
form(const char *s, size_t n)
{
	static const char *const keys[] = { "code", "csrf", "text", "confirm",
	    "id", "" };
	struct arena	 a;
	char		*v, *dst;
	size_t		 vlen, k;
	ssize_t		 dn;
	int		 rc;

	arena_init(&a, 0);
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		v = NULL;
		vlen = 0;
		rc = form_field(&a, s, n, keys[k], &v, &vlen);
		CHECK(rc >= -1 && rc <= 1);
		if (rc == 1) {
			CHECK(v != NULL && v[vlen] == '\0');
			CHECK(memchr(v, '\0', vlen) == NULL);
			CHECK(vlen <= n);
		}
	}
	if ((dst = malloc(n + 1)) == NULL)
		abort();
	for (int plus = 0; plus <= 1; plus++) {
		dn = url_unarg(dst, s, n, plus);
		CHECK(dn >= -1 && dn <= (ssize_t)n);
	}
	free(dst);
	arena_free(&a);
}

static void
cookies(const char *s)
{
	static const char *const names[] = { ADMIN_COOKIE, ADMIN_COOKIE_HOST,
	    "a", "" };
	char		 out[ADMIN_SESSION_MAX];
	const char	*cur, *prev, *end = s + strlen(s);
	size_t		 k;
	int		 guard;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		cur = s;
		for (guard = 0; guard < 100000; guard++) {
			prev = cur;
			if (!admin_cookie_next(&cur, names[k], out,
			    sizeof(out)))
				break;
			CHECK(strlen(out) < sizeof(out));
			CHECK(cur > prev && cur <= end);
		}
		CHECK(guard < 100000);
		CHECK(cur == NULL || (cur >= s && cur <= end));
	}
}

static void
bearer(const char *s)
{
	const char	*b = admin_bearer(s);

	if (b != NULL)
		CHECK(b >= s && b <= s + strlen(s));
	(void)chatgpt_token_kind(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if (size < 1)
		return 0;
	/* NUL-terminated copy: the targets that take C strings need one. */
	if ((s = malloc(size)) == NULL)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		chat_body(s, size - 1);
		break;
	case 1:
		form(s, size - 1);
		break;
	case 2:
		cookies(s);
		break;
	default:
		bearer(s);
		break;
	}
	free(s);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "edge"
#include "fuzz/replay.h"
#endif
