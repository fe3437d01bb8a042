/*
 * fuzz_edge.c - libFuzzer driver for the parsers that read what clients
 * send: the OpenAI chat body (handlers/chat_request.c), form fields
 * (html/escape.c form_field, url_unarg), Cookie headers and the Bearer
 * scheme (handlers/admin_auth.c), and credential kind detection.
 *
 * Byte 0 of the input picks the target, the rest is the input.  Oracles
 * besides the sanitizers:
 *  - chat body: strict JSON (fcgi/jstrict.c) is what json-c reads
 *    whole and what the parser does not call invalid_json; a success
 *    obeys every limit of upstream/provider.h
 *    (message and part counts, text bytes summed exactly, model and id
 *    lengths, known roles, text never NULL), also after the UPLOAD_BY_URL
 *    split; a failure is a 4xx with a code and a message; the same bytes
 *    always give the same verdict;
 *  - form field: a found value is NUL-terminated at its length and has
 *    no NUL inside; decoding never grows the text;
 *  - cookies: every value found is NUL-terminated, shorter than the
 *    buffer, and the cursor only moves forward to the end;
 *  - Bearer: the credentials returned lie inside the header;
 *  - response: the request is served in memory (fcgi_handle, a fake
 *    transport; lines: method, URI, Content-Type, one "Name: value"
 *    header, then the body) and every JSON body and every SSE event we
 *    send is strict JSON in strict UTF-8 (fcgi/jstrict.c), an error is
 *    OpenAI-shaped with a 4xx/5xx status.  The server is protected and
 *    its upstreams are a closed loopback port: nothing leaves the host.
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

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi/arena.h"
#include "fcgi/conf.h"
#include "fcgi/handle.h"
#include "fcgi/jstrict.h"
#include "fcgi/log.h"
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
	enum jstrict_err	 je;
	int			 rc, rc2;

	arena_init(&a, 0);
	memset(&e, 0, sizeof(e));
	rc = chat_request_parse(&a, s, n, &r, &root, &e);
	/*
	 * The strict checker decides what is JSON: what it takes json-c
	 * reads whole (s is NUL-terminated), what it refuses is invalid_json.
	 */
	je = jstrict_check(s, n, 64, NULL);
	if (je == JSTRICT_OK) {
		struct json_tokener *tok = json_tokener_new_ex(65);
		struct json_object *o;

		CHECK(tok != NULL);
		/* with its NUL, so that a bare number ends */
		o = json_tokener_parse_ex(tok, s, (int)n + 1);
		CHECK(json_tokener_get_error(tok) == json_tokener_success);
		CHECK(o != NULL || strncmp(s + strspn(s, " \t\r\n"), "null",
		    4) == 0);
		json_object_put(o);
		json_tokener_free(tok);
		CHECK(rc == 0 || strcmp(e.code, "invalid_json") != 0);
	} else if (je != JSTRICT_DEPTH)
		CHECK(rc == -1 && strcmp(e.code, "invalid_json") == 0);
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

/* The in-memory transport of the response target. */
struct fake {
	const char	*params[12];	/* name, value, ..., NULL */
	const char	*body;
	size_t		 body_len, body_off;
	char		*out;
	size_t		 out_len, out_cap;
};

static int
f_write(struct req *r, const char *b, size_t n)
{
	struct fake *f = r->io_ctx;

	if (f->out_len + n + 1 > f->out_cap) {
		f->out_cap = (f->out_len + n + 1) * 2;
		if ((f->out = realloc(f->out, f->out_cap)) == NULL)
			abort();
	}
	memcpy(f->out + f->out_len, b, n);
	f->out_len += n;
	f->out[f->out_len] = '\0';
	return 0;
}

static int
f_flush(struct req *r)
{
	(void)r;
	return 0;
}

static const char *
f_param(struct req *r, const char *name)
{
	struct fake *f = r->io_ctx;
	const char **p;

	for (p = f->params; *p; p += 2)
		if (strcmp(*p, name) == 0)
			return p[1];
	return NULL;
}

static long
f_read(struct req *r, char *buf, size_t n)
{
	struct fake *f = r->io_ctx;

	if (n > f->body_len - f->body_off)
		n = f->body_len - f->body_off;
	memcpy(buf, f->body + f->body_off, n);
	f->body_off += n;
	return (long)n;
}

/* A client that leaves when we would wait for it: no sleeps, no spins. */
static int
f_gone(struct req *r, int ms)
{
	(void)r;
	return ms > 0;
}

static const struct req_io fake_io = { f_write, f_flush, f_param, f_read,
	f_gone };

static struct config fuzz_cfg;

static void
fuzz_config(void)
{
	static const char *const closed[] = { "CHATGPT_BASE_URL",
	    "DEEPSEEK_BASE_URL", "KIMI_BASE_URL", "GLM_BASE_URL",
	    "QWEN_BASE_URL", "QWENAI_BASE_URL", "MINIMAX_BASE_URL",
	    "ZAI_BASE_URL" };
	static int done;
	char err[256];
	size_t i;

	if (done)
		return;
	for (i = 0; i < sizeof(closed) / sizeof(closed[0]); i++)
		setenv(closed[i], "http://127.0.0.1:9", 1);
	setenv("AUTHORIZATION", "fuzz-only-code", 1);
	setenv("CHAT2API_TEST_ROUTES", "1", 1);
	setenv("CHAT2API_MAX_BODY", "65536", 1);
	if (config_load(&fuzz_cfg, err, sizeof(err)) != 0 ||
	    log_open("stderr", LOG_LVL_ERROR, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_edge: config: %s\n", err);
		abort();
	}
	done = 1;
}

/* A body we sent: strict JSON in strict UTF-8. */
static void
strict_json(const char *s, size_t n)
{
	enum jstrict_err je;
	size_t off;

	je = jstrict_check(s, n, 64, &off);
	if (je != JSTRICT_OK)
		fprintf(stderr, "fuzz_edge: %s at %zu in: %.*s\n",
		    jstrict_strerror(je), off, (int)(n < 400 ? n : 400), s);
	CHECK(je == JSTRICT_OK);
}

/* An error body: {"error":{"message","type","param","code"}}. */
static void
error_shape(const char *s)
{
	struct json_object *o = json_tokener_parse(s), *e, *v;

	CHECK(o != NULL && json_object_object_get_ex(o, "error", &e));
	CHECK(json_object_object_get_ex(e, "message", &v) &&
	    json_object_is_type(v, json_type_string));
	CHECK(json_object_object_get_ex(e, "type", &v) &&
	    json_object_is_type(v, json_type_string));
	CHECK(json_object_object_get_ex(e, "param", NULL));
	CHECK(json_object_object_get_ex(e, "code", NULL));
	json_object_put(o);
}

/* The next line of s (cut at '\n', which becomes a NUL). */
static char *
next_line(char **s)
{
	char *l = *s, *nl;

	if ((nl = strchr(l, '\n')) == NULL)
		*s = l + strlen(l);
	else {
		*nl = '\0';
		*s = nl + 1;
	}
	return l;
}

static void
response(char *s, size_t n)
{
	struct fake	 f;
	struct arena	 a;
	struct req	 r;
	char		*cur = s, *method, *uri, *ctype, *hdr, *colon;
	char		*body;
	char		*p, *end, hname[64], clen[24];
	size_t		 i, k;
	int		 status = 0;

	fuzz_config();
	method = next_line(&cur);
	uri = next_line(&cur);
	ctype = next_line(&cur);
	hdr = next_line(&cur);
	body = cur;
	memset(&f, 0, sizeof(f));
	f.body = body;
	f.body_len = n - (size_t)(body - s);
	snprintf(clen, sizeof(clen), "%zu", f.body_len);
	k = 0;
	f.params[k++] = "REQUEST_METHOD";
	f.params[k++] = method;
	f.params[k++] = "REQUEST_URI";
	f.params[k++] = uri;
	f.params[k++] = "CONTENT_TYPE";
	f.params[k++] = ctype;
	f.params[k++] = "CONTENT_LENGTH";
	f.params[k++] = clen;
	/* "Name: value" as HTTP_NAME, as a front server would pass it */
	if ((colon = strchr(hdr, ':')) != NULL && colon > hdr &&
	    colon - hdr < 40) {
		memcpy(hname, "HTTP_", 5);
		for (i = 0; hdr + i < colon; i++)
			hname[5 + i] = hdr[i] == '-' ? '_' :
			    (char)toupper((unsigned char)hdr[i]);
		hname[5 + i] = '\0';
		f.params[k++] = hname;
		f.params[k++] = colon[1] == ' ' ? colon + 2 : colon + 1;
	}
	f.params[k] = NULL;

	arena_init(&a, 0);
	memset(&r, 0, sizeof(r));
	r.io = &fake_io;
	r.io_ctx = &f;
	r.arena = &a;
	r.cfg = &fuzz_cfg;
	fcgi_handle(&r);
	arena_free(&a);

	CHECK(f.out != NULL && sscanf(f.out, "Status: %d", &status) == 1);
	CHECK(status >= 200 && status < 600);
	CHECK((p = strstr(f.out, "\r\n\r\n")) != NULL);
	*p = '\0';
	p += 4;
	end = f.out + f.out_len;
	if (strstr(f.out, "Content-Type: application/json") != NULL) {
		CHECK(end > p && end[-1] == '\n');
		strict_json(p, (size_t)(end - p - 1));
		if (status >= 400)
			error_shape(p);
	} else if (strstr(f.out, "Content-Type: text/event-stream")) {
		/* each "data: X\n\n"; comments (": ...") are not JSON */
		while (p < end) {
			char *ev = strstr(p, "\n\n");

			CHECK(ev != NULL);
			*ev = '\0';
			if (strncmp(p, "data: ", 6) == 0 &&
			    strcmp(p + 6, "[DONE]") != 0)
				strict_json(p + 6, (size_t)(ev - p - 6));
			p = ev + 2;
		}
	}
	free(f.out);
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
	switch (data[0] % 5) {
	case 0:
		chat_body(s, size - 1);
		break;
	case 1:
		form(s, size - 1);
		break;
	case 2:
		cookies(s);
		break;
	case 4:
		response(s, size - 1);
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
