/*
 * Unit tests for upstream/chatgpt/stream.c, the ChatGPT stream decoder.
 *
 * Fixtures live in tests/unit/data/chatgpt: NAME.v1.sse (delta encoding),
 * NAME.old.sse (full snapshots, written by gen.py with its own patch
 * engine) and NAME.expect (the sink events, by hand).  Every stream is fed
 * one event at a time, in three variants (nameless events named "message"
 * as upstream/sse.c reports them, named NULL, and with every JSON payload
 * re-serialised), and the v1 streams once more after converting them to
 * the old format in C through jpatch.c.  All must give the same sink log.
 * A recording sink checks the sink contract on every call.
 * A recording sink (unit_chatgpt_rec.h) checks the sink contract on every
 * call.  The tests that drive the decoder by hand, event by event, are in
 * test_chatgpt_stream_direct.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz/sink_oracle.h"
#include "tests/unit/unit.h"
#include "tests/unit/unit_chatgpt_rec.h"
#include "tests/unit/unit_stream.h"
#include "upstream/chatgpt/jpatch.h"
#include "upstream/chatgpt/stream.h"

static const char *const err_names[] = {
	"ok", "enomem", "proto", "abort", "upstream", "nostart", "truncated",
	"einval"
};

/* ------------------------------------------------------------ event lists */

struct event {
	char	*name;		/* NULL: none */
	char	*data;
	size_t	 len;
};

struct evlist {
	struct event	*ev;
	size_t		 n, cap;
};

static void
ev_add(struct evlist *l, const char *name, const char *data, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->ev = realloc(l->ev, l->cap * sizeof(*l->ev));
		ck_assert_ptr_nonnull(l->ev);
	}
	l->ev[l->n].name = name ? strdup(name) : NULL;
	l->ev[l->n].data = malloc(len + 1);
	ck_assert_ptr_nonnull(l->ev[l->n].data);
	memcpy(l->ev[l->n].data, data, len);
	l->ev[l->n].data[len] = '\0';
	l->ev[l->n].len = len;
	l->n++;
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

/* The fixtures' SSE subset: blank-line separated, "event:" and "data:". */
static bool
load_sse(const char *file, struct evlist *out)
{
	char		*text = unit_slurp("chatgpt", file, NULL);
	char		*blk, *next, *ln, *nl;
	struct sb	 data;

	if (text == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	for (blk = text; blk != NULL && *blk != '\0'; blk = next) {
		char	*name = NULL;
		bool	 have = false;

		if ((next = strstr(blk, "\n\n")) != NULL) {
			*next = '\0';
			next += 2;
		}
		memset(&data, 0, sizeof(data));
		for (ln = blk; ln != NULL; ln = nl) {
			if ((nl = strchr(ln, '\n')) != NULL)
				*nl++ = '\0';
			if (strncmp(ln, "event: ", 7) == 0)
				name = ln + 7;
			else if (strncmp(ln, "data: ", 6) == 0) {
				if (have)
					sb_add(&data, "\n", 1);
				sb_add(&data, ln + 6, strlen(ln + 6));
				have = true;
			}
		}
		if (have)
			ev_add(out, name, data.p, data.len);
		free(data.p);
	}
	free(text);
	return true;
}

/* ------------------------------------------------------------ running */

enum variant { V_MESSAGE, V_NULLNAME, V_RESERIALIZE, V_JSON_ONLY, V_COUNT };

static const char *const variant_names[] = {
	"named-message", "name-NULL", "reserialised", "json-c only"
};

struct runopt {
	enum variant	 variant;
	int		 abort_at;
	int		 history;
	bool		 no_resolver;
};

static char *
run(const struct evlist *l, const struct runopt *ro, int *callsp)
{
	struct rec			 r;
	struct chat_sink		 sink;
	struct chatgpt_stream		*st;
	struct chatgpt_stream_opts	 o;
	enum chatgpt_stream_err		 rc;
	const char			*ue;

	memset(&r, 0, sizeof(r));
	r.abort_at = ro->abort_at;
	sink = rec_sink(&r);
	memset(&o, 0, sizeof(o));
	o.history = ro->history;
	o.json_only = ro->variant == V_JSON_ONLY;
	if (!ro->no_resolver)
		o.resolve_image = fake_resolve;
	ck_assert_int_eq(chatgpt_stream_new(&st, &sink, &o), CGS_OK);
	for (size_t i = 0; i < l->n; i++) {
		const struct event	*e = &l->ev[i];
		const char		*name = e->name, *data = e->data;
		size_t			 len = e->len;
		json_object		*j = NULL;

		if (name == NULL && ro->variant == V_MESSAGE)
			name = "message";
		if (ro->variant == V_RESERIALIZE && strcmp(data, "[DONE]")) {
			j = json_tokener_parse(data);
			if (j != NULL) {
				data = json_object_to_json_string_ext(j,
				    JSON_C_TO_STRING_PRETTY |
				    JSON_C_TO_STRING_NOSLASHESCAPE);
				len = strlen(data);
			}
		}
		rc = chatgpt_stream_event(st, name, data, len);
		json_object_put(j);
		if (rc != CGS_OK) {
			sb_printf(&r.log, "event %s\n", err_names[rc]);
			/* errors are sticky */
			ck_assert_int_eq(chatgpt_stream_event(st, NULL, "{}",
			    2), rc);
			ck_assert(chatgpt_stream_done(st));
			break;
		}
	}
	rc = chatgpt_stream_end(st);
	sb_printf(&r.log, "end %s\n", err_names[rc]);
	ck_assert_int_eq(chatgpt_stream_end(st), rc);	/* idempotent */
	sb_printf(&r.log, "started %d\n", chatgpt_stream_started(st));
	if ((ue = chatgpt_stream_upstream_error(st)) != NULL) {
		sb_add(&r.log, "upstream ", 9);
		sb_quote(&r.log, ue, strlen(ue));
		sb_add(&r.log, "\n", 1);
	}
	/* the contract: a started stream always got its terminal call */
	if (chatgpt_stream_started(st) && rc != CGS_ABORT)
		ck_assert_msg(r.terminal, "started stream without finish/error");
	if (!chatgpt_stream_started(st))
		ck_assert_int_eq(r.calls, 0);
	chatgpt_stream_free(st);
	if (callsp != NULL)
		*callsp = r.calls;
	return r.log.p;
}

/* Section 5.3 in C: rebuild the v1 documents, emit snapshots. */
static void
derive_old(const struct evlist *in, struct evlist *out)
{
	struct jpatch	 jp;
	json_object	*docs[64] = { NULL };
	long		 cur = 0;
	bool		 v1 = false;

	memset(out, 0, sizeof(*out));
	jp_init(&jp, NULL);
	for (size_t i = 0; i < in->n; i++) {
		const struct event	*e = &in->ev[i];
		json_object		*o, *c, *v, *p, *op;
		const char		*s;

		if (strcmp(e->data, "[DONE]") == 0) {
			ev_add(out, NULL, e->data, e->len);
			continue;
		}
		o = json_tokener_parse(e->data);
		ck_assert_ptr_nonnull(o);
		if ((e->name && !strcmp(e->name, "delta_encoding")) ||
		    (json_object_is_type(o, json_type_string) &&
		    !strcmp(json_object_get_string(o), "v1"))) {
			v1 = true;
			json_object_put(o);
			continue;
		}
		if (e->name && !strcmp(e->name, "delta"))
			v1 = true;
		if (!v1 || !json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "v", &v) ||
		    json_object_object_get_ex(o, "message", NULL)) {
			ev_add(out, NULL, e->data, e->len);
			json_object_put(o);
			continue;
		}
		if (json_object_object_get_ex(o, "c", &c)) {
			cur = json_object_get_int(c);
			ck_assert(cur >= 0 && cur < 64);
			if (json_object_is_type(v, json_type_object) &&
			    (!json_object_object_get_ex(o, "p", &p) ||
			    !strcmp(json_object_get_string(p), "")) &&
			    (!json_object_object_get_ex(o, "o", &op) ||
			    !strcmp(json_object_get_string(op), "add"))) {
				json_object_put(docs[cur]);
				docs[cur] = json_object_get(v);
				goto emit;
			}
		}
		(void)jp_line(&jp, &docs[cur], o);
	emit:
		if (docs[cur] != NULL) {
			ck_assert_int_eq(jp_sync(&jp), JP_OK);
			s = json_object_to_json_string_ext(docs[cur],
			    JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE);
			ev_add(out, NULL, s, strlen(s));
		}
		json_object_put(o);
	}
	jp_free(&jp);
	for (size_t i = 0; i < 64; i++)
		json_object_put(docs[i]);
}

/* ------------------------------------------------------------ fixtures */

static const char *const fixtures[] = {
	"sample51", "sample52", "plain_unicode", "code", "citation", "o1",
	"thoughts", "moderation", "error_before", "error_after",
	"max_tokens", "interrupted", "image_file", "image_sediment",
	"no_in_progress", "cut_short", "done_no_finish", "id_change",
	"truncate",
};
#define NFIXTURES	(sizeof(fixtures) / sizeof(fixtures[0]))

static void
check_stream(const char *fixture, const char *what, const struct evlist *l,
    const char *want)
{
	for (int v = 0; v < V_COUNT; v++) {
		struct runopt	 ro = { .variant = (enum variant)v,
				    .history = 1 };
		char		*got = run(l, &ro, NULL);

		ck_assert_msg(strcmp(got, want) == 0,
		    "%s (%s, %s):\n--- want\n%s--- got\n%s", fixture, what,
		    variant_names[v], want, got);
		free(got);
	}
}

START_TEST(fixture)
{
	const char	*name = fixtures[_i];
	char		 file[256], *want;
	struct evlist	 l, d;
	int		 formats = 0;

	snprintf(file, sizeof(file), "%s.expect", name);
	want = unit_slurp("chatgpt", file, NULL);
	ck_assert_msg(want != NULL, "missing %s", file);
	snprintf(file, sizeof(file), "%s.old.sse", name);
	if (load_sse(file, &l)) {
		check_stream(name, "old format", &l, want);
		ev_free(&l);
		formats++;
	}
	snprintf(file, sizeof(file), "%s.v1.sse", name);
	if (load_sse(file, &l)) {
		check_stream(name, "v1", &l, want);
		derive_old(&l, &d);
		check_stream(name, "v1 rebuilt by jpatch.c", &d, want);
		ev_free(&d);
		ev_free(&l);
		formats++;
	}
	ck_assert_int_gt(formats, 0);
	free(want);
}
END_TEST

/*
 * Stop the sink at every call of every fixture: the decoder must return
 * CGS_ABORT, never call the sink again, and leak nothing.
 */
START_TEST(fixture_abort_everywhere)
{
	const char	*name = fixtures[_i];
	char		 file[256], *full, *got;
	struct evlist	 l;
	int		 calls = 0;

	snprintf(file, sizeof(file), "%s.v1.sse", name);
	if (!load_sse(file, &l)) {
		snprintf(file, sizeof(file), "%s.old.sse", name);
		ck_assert(load_sse(file, &l));
	}
	{
		struct runopt	 ro = { .history = 1 };

		full = run(&l, &ro, &calls);
	}
	for (int k = 1; k <= calls; k++) {
		struct runopt	 ro = { .history = 1, .abort_at = k };

		got = run(&l, &ro, NULL);
		ck_assert_msg(strstr(got, "end abort\n") != NULL,
		    "%s: abort at call %d:\n%s", name, k, got);
		free(got);
	}
	free(full);
	ev_free(&l);
}
END_TEST

static Suite *
chatgpt_stream_suite(void)
{
	Suite	*s = suite_create("chatgpt_stream");
	TCase	*tc = tcase_create("fixtures");

	tcase_add_loop_test(tc, fixture, 0, (int)NFIXTURES);
	tcase_add_loop_test(tc, fixture_abort_everywhere, 0, (int)NFIXTURES);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(chatgpt_stream_suite)
