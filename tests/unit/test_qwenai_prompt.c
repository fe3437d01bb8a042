/*
 * Unit tests for the parts of upstream/qwenai/ that take no network:
 * the prompt flattening (prompt.h), the error envelopes and their
 * meaning, the cookie check and the JWT reader (errors.h), and the
 * provider's credential and name hooks (§1.2, §7.1, §7.5).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/arena.h"
#include "fcgi/conf.h"
#include "tests/unit/unit.h"
#include "upstream/provider.h"
#include "upstream/qwenai/errors.h"
#include "upstream/qwenai/prompt.h"
#include "upstream/route.h"

/* A JWT with payload {"id":"u1","exp":4102444800} (2100-01-01). */
#define JWT_2100 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." \
	"eyJpZCI6InUxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl"
/* {"id":"u1","exp":1700000000} */
#define JWT_2023 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." \
	"eyJpZCI6InUxIiwiZXhwIjoxNzAwMDAwMDAwfQ.c2lnbmF0dXJl"
/* {"id":"u1"}: no exp */
#define JWT_NOEXP "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6InUxIn0.c2ln"

static struct chat_part
text(const char *s)
{
	struct chat_part p;

	memset(&p, 0, sizeof(p));
	p.type = CHAT_PART_TEXT;
	p.text = s;
	p.len = strlen(s);
	return p;
}

static const char *
flatten(struct chat_message *m, size_t n)
{
	static struct arena a;
	static int init;
	struct chat_request req;
	size_t len;
	char *out;

	if (!init) {
		arena_init(&a, 1 << 16);
		init = 1;
	}
	memset(&req, 0, sizeof(req));
	req.messages = m;
	req.nmessages = n;
	ck_assert_ptr_nonnull(out = qa_prompt(&a, &req, &len));
	ck_assert_uint_eq(len, strlen(out));
	return out;
}

START_TEST(prompt_rules)
{
	struct chat_part sys = text("Be brief."), dev = text("Stay polite.");
	struct chat_part u1 = text("First question"), a1 = text("First answer");
	struct chat_part u2[2] = { text("Second"), text("part two") };
	struct chat_part tool = text("42"), empty = text("");
	struct chat_part img[2] = { text("look"), text("") };
	struct chat_message m[] = {
		{ CHAT_ROLE_SYSTEM, NULL, &sys, 1, 1 },
		{ CHAT_ROLE_USER, NULL, &u1, 1, 1 },
		{ CHAT_ROLE_ASSISTANT, NULL, &a1, 1, 1 },
		{ CHAT_ROLE_DEVELOPER, NULL, &dev, 1, 1 },
		{ CHAT_ROLE_TOOL, NULL, &tool, 1, 1 },
		{ CHAT_ROLE_ASSISTANT, NULL, &empty, 1, 1 },
		{ CHAT_ROLE_USER, NULL, u2, 2, 0 },
	};
	struct chat_message one = { CHAT_ROLE_USER, NULL, &u1, 1, 1 };
	struct chat_message sys_user[] = {
		{ CHAT_ROLE_SYSTEM, NULL, &sys, 1, 1 },
		{ CHAT_ROLE_USER, NULL, &u1, 1, 1 },
	};
	struct chat_message lone_assistant = { CHAT_ROLE_ASSISTANT, NULL, &a1,
	    1, 1 };
	struct chat_request req;
	size_t at = 99;

	ck_assert_str_eq(flatten(m, 7), "Be brief.\n\nStay polite.\n\n"
	    "User: First question\n\nAssistant: First answer\n\nTool: 42\n\n"
	    "User: Second\npart two");
	ck_assert_str_eq(flatten(&one, 1), "First question");
	/* §7.3's own shape: "<system>\n\nUser: <user>" */
	ck_assert_str_eq(flatten(sys_user, 2), "Be brief.\n\nUser: First "
	    "question");
	ck_assert_str_eq(flatten(&lone_assistant, 1), "Assistant: First answer");
	ck_assert_str_eq(flatten(NULL, 0), "");
	/* UTF-8 is copied as is */
	u1 = text("你好 😀");
	ck_assert_str_eq(flatten(&one, 1), "你好 😀");
	/* image and file parts are found, not flattened */
	img[1].type = CHAT_PART_IMAGE;
	img[1].url = "data:image/png;base64,AAAA";
	memset(&req, 0, sizeof(req));
	req.messages = m;
	req.nmessages = 7;
	ck_assert_ptr_null(qa_first_file(&req, &at));
	m[2].parts = img;
	m[2].nparts = 2;
	ck_assert_ptr_eq(qa_first_file(&req, &at), &img[1]);
	ck_assert_uint_eq(at, 2);
	ck_assert_str_eq(flatten(m, 3), "Be brief.\n\nUser: 你好 😀\n\n"
	    "Assistant: look");
}
END_TEST

static int
envelope(const char *json, char *code, char *msg)
{
	struct json_object *o = json_tokener_parse(json), *data;
	int rc;

	ck_assert_ptr_nonnull(o);
	rc = qa_envelope(o, &data, code, QA_CODE_MAX + 1, msg, QA_MSG_MAX + 1);
	if (rc == 0 && strstr(json, "\"data\":{\"id\"") != NULL)
		ck_assert(json_object_is_type(data, json_type_object));
	json_object_put(o);
	return rc;
}

START_TEST(envelopes)
{
	char code[QA_CODE_MAX + 1], msg[QA_MSG_MAX + 1];

	ck_assert_int_eq(envelope("{\"success\":true,\"data\":{\"id\":\"c\"}}",
	    code, msg), 0);
	ck_assert_int_eq(envelope("{\"data\":[]}", code, msg), 0);
	ck_assert_int_eq(envelope("{\"success\":false,\"data\":{\"code\":"
	    "\"Bad_Request\",\"details\":\"Bad\\nRequest\"}}", code, msg), -1);
	ck_assert_str_eq(code, "Bad_Request");
	ck_assert_str_eq(msg, "Bad Request");
	/* issue #97's shape */
	ck_assert_int_eq(envelope("{\"code\":\"Bad_Request\",\"detail\":"
	    "\"Bad Request\"}", code, msg), -1);
	ck_assert_str_eq(code, "Bad_Request");
	ck_assert_str_eq(msg, "Bad Request");
	ck_assert_int_eq(envelope("{\"error\":{\"code\":\"RateLimited\","
	    "\"message\":\"slow\"}}", code, msg), -1);
	ck_assert_str_eq(code, "RateLimited");
	ck_assert_str_eq(msg, "slow");
	ck_assert_int_eq(envelope("{\"success\":false}", code, msg), -1);
	ck_assert_str_eq(code, "");
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(envelope("{\"code\":0,\"error\":false}", code, msg), 0);
	ck_assert_int_eq(envelope("{\"code\":\"Success\"}", code, msg), 0);
	ck_assert_int_eq(envelope("[1]", code, msg), -1);
}
END_TEST

START_TEST(classify)
{
	ck_assert_int_eq(qa_classify(0, "Bad_Request"), QA_COOKIES);
	ck_assert_int_eq(qa_classify(400, "BadRequest"), QA_COOKIES);
	ck_assert_int_eq(qa_classify(401, ""), QA_REFUSED);
	ck_assert_int_eq(qa_classify(0, "Unauthorized"), QA_REFUSED);
	ck_assert_int_eq(qa_classify(0, "Not_Login"), QA_REFUSED);
	ck_assert_int_eq(qa_classify(0, "TokenExpired"), QA_REFUSED);
	ck_assert_int_eq(qa_classify(429, ""), QA_LIMITED);
	ck_assert_int_eq(qa_classify(0, "RateLimited"), QA_LIMITED);
	ck_assert_int_eq(qa_classify(200, "too_many_requests"), QA_LIMITED);
	ck_assert_int_eq(qa_classify(403, ""), QA_FORBIDDEN);
	ck_assert_int_eq(qa_classify(0, "Forbidden"), QA_FORBIDDEN);
	ck_assert_int_eq(qa_classify(0, "Internal_Error"), QA_UPSTREAM);
	ck_assert_int_eq(qa_classify(502, ""), QA_HTTP);
	ck_assert_int_eq(qa_classify(0, NULL), QA_UPSTREAM);
	ck_assert_str_eq(qa_strerror(QA_COOKIES),
	    "the upstream wants the browser's cookies");
	ck_assert_str_eq(qa_strerror(QA__MAX), "unknown error");
}
END_TEST

START_TEST(cookies)
{
	char out[128];

	ck_assert_uint_eq(qa_missing_cookies(NULL, out, sizeof(out)), 8);
	ck_assert_str_eq(out, "cnaui, aui, sca, xlly_s, cna, token, _bl_uid, "
	    "x-ap");
	ck_assert_uint_eq(qa_missing_cookies("cnaui=1; aui=2; sca=3; "
	    "xlly_s=1; cna=x; token=eyJ; _bl_uid=u; x-ap=a", out, sizeof(out)),
	    0);
	ck_assert_str_eq(out, "");
	/* "aui" is not found inside "cnaui", nor a name inside a value */
	ck_assert_uint_eq(qa_missing_cookies("cnaui=1;sca=aui=3;  cna=2",
	    out, sizeof(out)), 5);
	ck_assert_str_eq(out, "aui, xlly_s, token, _bl_uid, x-ap");
	ck_assert_uint_eq(qa_missing_cookies("", out, 10), 8);
	ck_assert_str_eq(out, "cnaui, au");	/* cut to the buffer */
}
END_TEST

START_TEST(jwt)
{
	ck_assert(qa_jwt_ok(JWT_2100, strlen(JWT_2100)));
	ck_assert_int_eq(qa_jwt_exp(JWT_2100), 4102444800LL);
	ck_assert_int_eq(qa_jwt_exp(JWT_2023), 1700000000LL);
	ck_assert_int_eq(qa_jwt_exp(JWT_NOEXP), -1);
	ck_assert_int_eq(qa_jwt_exp("eyJhbGciOi.!!!.sig"), -1);
	ck_assert_int_eq(qa_jwt_exp(NULL), -1);
	ck_assert(!qa_jwt_ok("eyJabc.def", 10));			/* two parts */
	ck_assert(!qa_jwt_ok("eyJhbGciOiJIUzI1NiJ9..sig", 26));	/* empty */
	ck_assert(!qa_jwt_ok("abcdefghijklmnopqrstuv.w.x", 26));	/* not eyJ */
	ck_assert(!qa_jwt_ok("eyJhbGciOiJIUzI1NiJ9.a b.c", 26));	/* space */
	ck_assert(!qa_jwt_ok("eyJhbGciOiJIUzI1NiJ9.ab.", 24));	/* trailing */
}
END_TEST

START_TEST(provider_hooks)
{
	const struct provider *p = provider_by_id("qwenai");
	struct provider_account a;
	struct arena ar;
	char *s;
	size_t i, listed = 0, aliases = 0;

	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->fields[1].name, "cookies");
	/* what users paste */
	ck_assert_ptr_nonnull(s = p->normalize("  \"" JWT_2100 "\"\n"));
	ck_assert_str_eq(s, JWT_2100);
	free(s);
	ck_assert_ptr_nonnull(s = p->normalize("Bearer " JWT_2100));
	ck_assert_str_eq(s, JWT_2100);
	free(s);
	ck_assert_ptr_nonnull(s = p->normalize("cna=x; token=" JWT_2100
	    "; x-ap=a"));
	ck_assert_str_eq(s, JWT_2100);
	free(s);
	ck_assert_ptr_null(p->normalize("sk-placeholder"));
	ck_assert_ptr_null(p->normalize("mytoken=eyJabc"));
	/* §1.2 */
	ck_assert_uint_eq(p->name_flags("Qwen3-Max"), 0);
	ck_assert_uint_eq(p->name_flags("Qwen3-Max-Thinking"), ROUTE_THINK);
	ck_assert_uint_eq(p->name_flags("qwen3-think-fast"), 0);
	ck_assert_uint_eq(p->name_flags("my-r1"), ROUTE_THINK);
	ck_assert_uint_eq(p->name_flags("Qwen3-Max-Search"), 0);
	/* the client's own JWT */
	arena_init(&ar, 4096);
	ck_assert(p->raw_credential(&ar, JWT_2100, &a));
	ck_assert_str_eq(a.secret, JWT_2100);
	ck_assert(!p->raw_credential(&ar, "sk-xxx", &a));
	arena_free(&ar);
	/* §7.5: 17 listed names, the ids and short aliases taken but hidden */
	for (i = 0; p->models[i].id != NULL; i++) {
		if (p->models[i].flags & MODEL_ALIAS)
			aliases++;
		else
			listed++;
	}
	ck_assert_uint_eq(listed, 17);
	ck_assert_uint_eq(aliases, 13);
	ck_assert_str_eq(p->models[11].id, "Qwen3-Max");
	ck_assert_str_eq(p->models[11].upstream, "qwen3-max-2026-01-23");
}
END_TEST

/* §1.2 and §7.5 through the router: suffixes, aliases, no stray flags. */
START_TEST(routing)
{
	static const struct {
		const char	*name, *upstream;
		unsigned	 flags;
	} cases[] = {
		{ "Qwen3-Max", "qwen3-max-2026-01-23", 0 },
		{ "qwen3-max-thinking", "qwen3-max-2026-01-23", ROUTE_THINK },
		{ "Qwen3.5-Plus-Fast", "qwen3.5-plus", 0 },
		{ "Qwen3.5-Plus-Think", "qwen3.5-plus", ROUTE_THINK },
		{ "qwen", "qwen3-max-2026-01-23", 0 },
		{ "QWEN2.5", "qwen-max-latest", 0 },
		{ "qwen3-omni-thinking", "qwen3-omni-flash-2025-12-01",
		    ROUTE_THINK },
		{ "qwen-plus-2025-07-28", "qwen-plus-2025-07-28", 0 },
	};
	struct config cfg;
	struct arena a;
	struct route r;
	char err[256];
	size_t i;

	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), 0);
	arena_init(&a, 1 << 14);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(route_resolve(&cfg, NULL, &a, cases[i].name,
		    &r), ROUTE_OK);
		ck_assert_str_eq(r.provider->id, "qwenai");
		ck_assert_str_eq(r.upstream_model, cases[i].upstream);
		ck_assert_msg(r.flags == cases[i].flags, "%s: flags %#x",
		    cases[i].name, r.flags);
		ck_assert_str_eq(r.reported, cases[i].name);
	}
	/* without a store no upstream list is read: the catch-all */
	ck_assert_int_eq(route_resolve(&cfg, NULL, &a, "qwq-32b", &r),
	    ROUTE_OK);
	ck_assert_str_eq(r.provider->id, "chatgpt");
	arena_free(&a);
	config_free(&cfg);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("qwenai_prompt");
	TCase *tc = tcase_create("all");

	tcase_add_test(tc, prompt_rules);
	tcase_add_test(tc, envelopes);
	tcase_add_test(tc, classify);
	tcase_add_test(tc, cookies);
	tcase_add_test(tc, jwt);
	tcase_add_test(tc, provider_hooks);
	tcase_add_test(tc, routing);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
