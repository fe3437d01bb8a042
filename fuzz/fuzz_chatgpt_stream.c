/*
 * fuzz_chatgpt_stream.c - libFuzzer driver for upstream/chatgpt/stream.c
 * and jpatch.c.
 *
 * The input is an SSE text cut into events at "\n\n"; in each block,
 * "event:" and "data:" lines are read as SSE fields (data lines joined with
 * "\n"), and a block without such lines is one data payload as a whole.
 * Options (history, an image resolver, a sink that stops at call k, small
 * limits) are derived from a hash of the input, so plain SSE files are
 * good seeds.
 *
 * Oracles:
 *  - the fast paths (v1 lines, skim.c for old-format events) are
 *    invisible: the same events with opts.json_only give exactly the
 *    same sink log and result;
 *  - the sink contract, checked on every callback: role() first and once,
 *    nothing after finish()/error(), text never empty and valid UTF-8,
 *    and a started stream always ends with finish() or error();
 *  - differential: the stream is fed as given, and once more after the v1
 *    deltas were turned into old-format snapshots through jpatch.c
 *    (protocols/chatgpt.md §5.3).  When neither run hit a parse or limit
 *    error and the rebuild was unambiguous, both sink logs must be equal;
 *  - the sanitizers.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -include config.h \
 *       fuzz/fuzz_chatgpt_stream.c upstream/chatgpt/stream.c \
 *       upstream/chatgpt/stream_out.c upstream/chatgpt/stream_convert.c \
 *       upstream/chatgpt/stream_v1.c upstream/chatgpt/stream_spec.c \
 *       upstream/chatgpt/jpatch.c upstream/chatgpt/skim.c upstream/jv.c \
 *       fcgi/buf.c fcgi/utf8.c $(pkg-config --cflags --libs json-c) \
 *       -o fuzz_chatgpt_stream
 *   mkdir -p /tmp/cgs && ./fuzz_chatgpt_stream -max_total_time=60 \
 *       /tmp/cgs tests/unit/data/chatgpt tests/unit/data/chatgpt/fuzz
 *
 * (libFuzzer writes new inputs into the first directory.)  The minimised
 * corpus in tests/unit/data/chatgpt/fuzz was made with -merge=1
 * -use_counters=0 -max_len=1000 on top of the fixtures; bug-* files are
 * minimised reproducers of bugs found this way.  Without
 * libFuzzer, -DFUZZ_STANDALONE adds a main() that runs the files named on
 * the command line, or with no arguments replays the fixture streams and
 * the minimised corpus in $top_srcdir/tests/unit/data/chatgpt{,/fuzz}
 * (corpus replay for make check, gcc or valgrind).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz/sink_oracle.h"
#include "upstream/chatgpt/jpatch.h"
#include "upstream/chatgpt/stream.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* ------------------------------------------------------------ buffers */

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
buf_add(struct buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t	 ncap = b->cap ? b->cap : 256;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((b->p = realloc(b->p, ncap)) == NULL)
			abort();
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

struct event {
	char	*name;
	char	*data;
	size_t	 len;
};

struct evlist {
	struct event	*ev;
	size_t		 n, cap;
};

static void
ev_add(struct evlist *l, const char *name, size_t nlen, const char *data,
    size_t len)
{
	struct event	*e;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		if ((l->ev = realloc(l->ev, l->cap * sizeof(*l->ev))) == NULL)
			abort();
	}
	e = &l->ev[l->n++];
	e->name = NULL;
	if (name != NULL) {
		if ((e->name = malloc(nlen + 1)) == NULL)
			abort();
		memcpy(e->name, name, nlen);
		e->name[nlen] = '\0';
	}
	if ((e->data = malloc(len + 1)) == NULL)
		abort();
	memcpy(e->data, data, len);
	e->data[len] = '\0';
	e->len = len;
}

static void
ev_free(struct evlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->ev[i].name);
		free(l->ev[i].data);
	}
	free(l->ev);
	memset(l, 0, sizeof(*l));
}

static const char *
memfind(const char *h, size_t hl, const char *n, size_t nl)
{
	for (size_t i = 0; i + nl <= hl; i++)
		if (memcmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

static void
split(const char *s, size_t len, struct evlist *out)
{
	const char	*end = s + len;

	while (s < end) {
		const char	*blk_end = memfind(s, (size_t)(end - s),
				    "\n\n", 2);
		const char	*be = blk_end ? blk_end : end, *ln = s;
		const char	*name = NULL;
		size_t		 nlen = 0;
		struct buf	 data = { 0 };
		bool		 fields = false, have = false;

		while (ln < be) {
			const char	*nl = memchr(ln, '\n', (size_t)(be - ln));
			const char	*le = nl ? nl : be;
			size_t		 ll = (size_t)(le - ln), skip;

			if (ll >= 6 && memcmp(ln, "event:", 6) == 0) {
				skip = ll > 6 && ln[6] == ' ' ? 7 : 6;
				name = ln + skip;
				nlen = ll - skip;
				fields = true;
			} else if (ll >= 5 && memcmp(ln, "data:", 5) == 0) {
				skip = ll > 5 && ln[5] == ' ' ? 6 : 5;
				if (have)
					buf_add(&data, "\n", 1);
				buf_add(&data, ln + skip, ll - skip);
				have = fields = true;
			}
			ln = nl ? nl + 1 : be;
		}
		if (have)
			ev_add(out, name, nlen, data.p, data.len);
		else if (!fields && be > s)
			ev_add(out, NULL, 0, s, (size_t)(be - s));
		free(data.p);
		s = blk_end ? blk_end + 2 : end;
	}
}

/* ------------------------------------------------------------ checking sink */

struct rec {
	struct buf	 log;
	int		 calls;
	int		 abort_at;
	bool		 role;
	bool		 terminal;
};

static int
rec_call(struct rec *r, const char *tag, const char *s, size_t n)
{
	if (r->terminal || (!r->role && strcmp(tag, "role") != 0))
		abort();
	buf_str(&r->log, tag);
	buf_add(&r->log, " ", 1);
	buf_add(&r->log, &n, sizeof(n));
	buf_add(&r->log, s, n);
	r->calls++;
	return r->abort_at != 0 && r->calls == r->abort_at;
}

static int
f_role(void *ctx, const char *role)
{
	struct rec	*r = ctx;

	if (r->role)
		abort();
	r->role = true;
	return rec_call(r, "role", role, strlen(role));
}

static int
f_text(void *ctx, const char *s, size_t n)
{
	if (n == 0 || !oracle_utf8((const unsigned char *)s, n))
		abort();
	return rec_call(ctx, "text", s, n);
}

static int
f_reasoning(void *ctx, const char *s, size_t n)
{
	if (n == 0 || !oracle_utf8((const unsigned char *)s, n))
		abort();
	return rec_call(ctx, "reasoning", s, n);
}

static int
f_meta(void *ctx, const char *cid, const char *mid)
{
	struct rec	*r = ctx;
	int		 rc;

	if (cid == NULL || mid == NULL)
		abort();
	rc = rec_call(r, "meta", cid, strlen(cid));
	buf_str(&r->log, mid);
	return rc;
}

static int
f_finish(void *ctx, enum chat_finish f, const struct chat_usage *u)
{
	struct rec	*r = ctx;
	char		 c = (char)('0' + (int)f);
	int		 rc;

	if (u != NULL)
		abort();
	rc = rec_call(r, "finish", &c, 1);
	r->terminal = true;
	return rc;
}

static int
f_error(void *ctx, int status, const char *type, const char *code,
    const char *msg)
{
	struct rec	*r = ctx;

	if (type == NULL || msg == NULL ||
	    !oracle_utf8((const unsigned char *)msg, strlen(msg)) ||
	    status != 502)
		abort();
	/*
	 * Never "abort" here: the run's result must keep telling a decoder
	 * error (which may legitimately differ between the formats) from a
	 * sink abort.  test_chatgpt_stream.c aborts at every call.
	 */
	(void)rec_call(r, "error", msg, strlen(msg));
	if (code != NULL)
		buf_str(&r->log, code);
	r->terminal = true;
	return 0;
}

static int
f_resolve(void *ctx, enum chatgpt_asset kind, const char *id,
    const char *cid, const char *mid, char **url)
{
	size_t	 n = strlen(id);

	(void)ctx;
	(void)cid;
	(void)mid;
	if (n == 0 || (kind == CHATGPT_ASSET_SANDBOX ? n > 512 ||
	    id[0] != '/' || strstr(id, "..") != NULL || strchr(id, ' ') ||
	    strchr(id, ')') : n > 128 || strchr(id, '/') != NULL))
		abort();
	if (id[0] == 'x')
		return -1;
	if ((*url = malloc(n + 32)) == NULL)
		return -1;
	snprintf(*url, n + 32, "https://f.example/%s (%d)", id, (int)kind);
	return 0;
}

/* ------------------------------------------------------------ runs */

struct outcome {
	struct rec		 rec;
	enum chatgpt_stream_err	 rc;	/* first non-OK event rc, or end's */
	bool			 bad;	/* PROTO/ENOMEM somewhere */
};

static void
run(const struct evlist *l, const struct chatgpt_stream_opts *o,
    int abort_at, struct outcome *out)
{
	struct chat_sink	 sink = {
		.ctx = &out->rec, .role = f_role, .text = f_text,
		.reasoning = f_reasoning, .meta = f_meta, .finish = f_finish,
		.error = f_error,
	};
	struct chatgpt_stream	*st;
	enum chatgpt_stream_err	 rc = CGS_OK;
	const char		*id;

	memset(out, 0, sizeof(*out));
	out->rec.abort_at = abort_at;
	if (chatgpt_stream_new(&st, &sink, o) != CGS_OK)
		abort();
	for (size_t i = 0; i < l->n && rc == CGS_OK; i++) {
		rc = chatgpt_stream_event(st, l->ev[i].name, l->ev[i].data,
		    l->ev[i].len);
		if (rc != CGS_OK &&
		    chatgpt_stream_event(st, NULL, "{}", 2) != rc)
			abort();	/* errors are sticky */
	}
	if (rc == CGS_OK)
		rc = chatgpt_stream_end(st);
	else if (chatgpt_stream_end(st) != rc)
		abort();
	out->rc = rc;
	out->bad = rc == CGS_PROTO || rc == CGS_ENOMEM;
	if (chatgpt_stream_started(st) && !out->rec.terminal &&
	    rc != CGS_ABORT)
		abort();
	if (!chatgpt_stream_started(st) && out->rec.calls != 0)
		abort();
	if (!chatgpt_stream_done(st) && rc != CGS_NOSTART)
		abort();
	/* a session keeps only an answer the sink took whole */
	if (chatgpt_stream_finished(st) && (!out->rec.terminal ||
	    rc != CGS_OK))
		abort();
	id = chatgpt_stream_message_id(st);
	if (id != NULL && (*id == '\0' || strspn(id, "!\"#$%&'()*+,-./"
	    "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
	    "abcdefghijklmnopqrstuvwxyz{|}~") != strlen(id)))
		abort();
	chatgpt_stream_free(st);
}

/* A JSON string equal to lit, embedded NULs included (as the decoder). */
static bool
jstr_is(json_object *o, const char *lit)
{
	return json_object_is_type(o, json_type_string) &&
	    (size_t)json_object_get_string_len(o) == strlen(lit) &&
	    memcmp(json_object_get_string(o), lit, strlen(lit)) == 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * §5.3: the v1 documents as old-format snapshots.  Returns false when
 * the result could legitimately differ from the v1 run (a document the
 * decoder might have evicted, a document that reads as a typed event, an
 * event the decoder rejects).
 */
static bool
derive_old(const struct evlist *in, struct evlist *out)
{
	json_object	*docs[CGS_MAX_DOCS] = { NULL };
	long		 cs[CGS_MAX_DOCS];
	bool		 unread[CGS_MAX_DOCS] = { false };
	size_t		 ndocs = 0, cur = 0;
	struct jpatch	 jp;
	bool		 v1 = false, ok = true;

	jp_init(&jp, NULL);
	for (size_t i = 0; i < in->n && ok; i++) {
		const struct event	*e = &in->ev[i];
		json_object		*o, *v, *p, *op, *c, *d;
		json_tokener		*tok;
		const char		*name = e->name, *s, *data = e->data;
		size_t			 k, len = e->len;

		if (name != NULL && (*name == '\0' ||
		    strcmp(name, "message") == 0))
			name = NULL;
		while (len > 0 && is_space(*data)) {
			data++;
			len--;
		}
		while (len > 0 && is_space(data[len - 1]))
			len--;
		if ((tok = json_tokener_new_ex(CGS_JSON_DEPTH)) == NULL)
			abort();
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
		o = json_tokener_parse_ex(tok, data, (int)len);
		if (json_tokener_get_error(tok) != json_tokener_success ||
		    json_tokener_get_parse_end(tok) != len) {
			json_object_put(o);
			o = NULL;
		}
		json_tokener_free(tok);
		if (o == NULL) {
			/* [DONE], JSON null, malformed: as they are */
			ev_add(out, NULL, 0, e->data, e->len);
			continue;
		}
		if (name != NULL && strcmp(name, "delta_encoding") == 0) {
			if (jstr_is(o, "v1"))
				v1 = true;
			else
				ok = false;	/* the decoder stops */
			json_object_put(o);
			continue;
		}
		if (jstr_is(o, "v1")) {
			v1 = true;
			json_object_put(o);
			continue;
		}
		if (name != NULL && strcmp(name, "delta") == 0 &&
		    json_object_is_type(o, json_type_object))
			v1 = true;
		if (!v1 || !json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "v", &v) ||
		    json_object_object_get_ex(o, "message", NULL)) {
			ev_add(out, NULL, 0, e->data, e->len);
			json_object_put(o);
			continue;
		}
		if (json_object_object_get_ex(o, "c", &c)) {
			int64_t	 cv;

			if (!json_object_is_type(c, json_type_int) ||
			    (cv = json_object_get_int64(c)) < 0 ||
			    cv > CGS_MAX_C) {
				ok = false;	/* the decoder stops here */
				json_object_put(o);
				continue;
			}
			for (k = 0; k < ndocs && cs[k] != cv; k++)
				;
			if (k == ndocs) {
				if (ndocs == CGS_MAX_DOCS) {
					ok = false;
					json_object_put(o);
					continue;
				}
				cs[ndocs++] = (long)cv;
			}
			cur = k;
			if (json_object_is_type(v, json_type_object) &&
			    (!json_object_object_get_ex(o, "p", &p) ||
			    jstr_is(p, "")) &&
			    (!json_object_object_get_ex(o, "o", &op) ||
			    jstr_is(op, "add") || jstr_is(op, "replace"))) {
				json_object_put(docs[cur]);
				docs[cur] = json_object_get(v);
				unread[cur] = false;
				goto emit;
			}
		} else if (ndocs == 0) {
			cs[0] = 0;	/* the decoder starts on document 0 */
			ndocs = 1;
			cur = 0;
		}
		/* the decoder drops a user or system message and ignores its
		 * deltas; a snapshot of it could read otherwise */
		if (unread[cur])
			ok = false;
		if (jp_line(&jp, &docs[cur], o) == JP_ENOMEM)
			ok = false;
	emit:
		d = docs[cur];
		if (json_object_is_type(d, json_type_object)) {
			json_object	*m = NULL, *a = NULL, *r = NULL;

			if (json_object_object_get_ex(d, "message", &m) &&
			    json_object_is_type(m, json_type_object) &&
			    json_object_object_get_ex(m, "author", &a) &&
			    json_object_is_type(a, json_type_object) &&
			    json_object_object_get_ex(a, "role", &r) &&
			    (jstr_is(r, "user") || jstr_is(r, "system")))
				unread[cur] = true;
			if (!json_object_object_get_ex(d, "message", NULL) &&
			    json_object_object_get_ex(d, "type", NULL))
				ok = false;
			if (jp_sync(&jp) != JP_OK)
				ok = false;
			s = json_object_to_json_string_ext(d,
			    JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE);
			ev_add(out, NULL, 0, s, strlen(s));
		}
		json_object_put(o);
	}
	jp_free(&jp);
	for (size_t i = 0; i < CGS_MAX_DOCS; i++)
		json_object_put(docs[i]);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chatgpt_stream_opts	 o;
	struct evlist			 l = { 0 }, d = { 0 };
	struct outcome			 a, b;
	uint32_t			 h = oracle_hash(data, size);
	int				 abort_at;
	bool				 comparable;

	if (size > 1 << 20)
		return 0;
	memset(&o, 0, sizeof(o));
	o.history = (int)(h & 1);
	if (h & 2)
		o.resolve_image = f_resolve;
	if ((h & 0x1c) == 0x1c) {	/* small limits now and then */
		o.max_text = 64;
		o.max_event = 512;
		o.max_doc_bytes = 2048;
	}
	abort_at = (h >> 5) % 8 == 0 ? (int)((h >> 8) % 16) + 1 : 0;

	split((const char *)data, size, &l);
	run(&l, &o, abort_at, &a);
	/* the fast paths must be invisible: exact same run with json-c */
	o.json_only = 1;
	run(&l, &o, abort_at, &b);
	o.json_only = 0;
	if (a.rc != b.rc || a.rec.log.len != b.rec.log.len ||
	    (a.rec.log.len > 0 &&
	    memcmp(a.rec.log.p, b.rec.log.p, a.rec.log.len) != 0)) {
		fprintf(stderr, "fast path and json-c runs differ\n");
		abort();
	}
	free(b.rec.log.p);
	comparable = derive_old(&l, &d);
	run(&d, &o, abort_at, &b);
	if (comparable && !a.bad && !b.bad &&
	    (a.rec.log.len != b.rec.log.len || (a.rec.log.len > 0 &&
	    memcmp(a.rec.log.p, b.rec.log.p, a.rec.log.len) != 0) ||
	    a.rc != b.rc)) {
		fprintf(stderr, "v1 and rebuilt old-format runs differ "
		    "(rc %d vs %d)\n", (int)a.rc, (int)b.rc);
		if (getenv("FUZZ_DUMP") != NULL) {
			fwrite(a.rec.log.p, 1, a.rec.log.len, stderr);
			fputs("\n=====\n", stderr);
			fwrite(b.rec.log.p, 1, b.rec.log.len, stderr);
			fputs("\n=====\n", stderr);
			for (size_t i = 0; i < d.n; i++)
				fprintf(stderr, "%s\n", d.ev[i].data);
		}
		abort();
	}
	free(a.rec.log.p);
	free(b.rec.log.p);
	ev_free(&l);
	ev_free(&d);
	return 0;
}

#ifdef FUZZ_STANDALONE
#include <dirent.h>

static int
replay(const char *path)
{
	FILE		*f = fopen(path, "rb");
	struct buf	 b = { 0 };
	char		 chunk[65536];
	size_t		 n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	LLVMFuzzerTestOneInput((const uint8_t *)(b.p ? b.p : ""), b.len);
	free(b.p);
	return 0;
}

/* Every regular file of dir whose name ends in suffix ("" = all). */
static int
replay_dir(const char *dir, const char *suffix)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	char		 path[4096];
	int		 n = 0;
	size_t		 sl = strlen(suffix), nl;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (de->d_name[0] == '.' || nl < sl ||
		    strcmp(de->d_name + nl - sl, suffix) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (replay(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/*
 * With file arguments: run them.  Without: replay the unit-test fixture
 * streams and the minimised corpus under $top_srcdir (make check).
 */
int
main(int argc, char **argv)
{
	const char	*top = getenv("top_srcdir");
	char		 dir[4096];
	int		 n = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (replay(argv[i]) != 0)
				return 1;
		printf("ran %d input(s)\n", argc - 1);
		return 0;
	}
	if (top == NULL)
		top = ".";
	snprintf(dir, sizeof(dir), "%s/tests/unit/data/chatgpt", top);
	n += replay_dir(dir, ".sse");
	snprintf(dir, sizeof(dir), "%s/tests/unit/data/chatgpt/fuzz", top);
	n += replay_dir(dir, "");
	printf("# counts: %d passed, 0 failed\n", n);
	return n > 0 ? 0 : 1;
}
#endif
