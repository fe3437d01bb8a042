/*
 * Unit tests for upstream/glm/body.c (the §3.5 prompt flattening and the
 * chat body, byte for byte), the GLM provider's hooks (name switches,
 * pasted credentials, the client's own tokens), its routes and its
 * configuration (GLM_BASE_URL, LB_STRATEGY_GLM), the answers' envelope
 * (api.c) and the attachments uploads are made of (upstream/attach.c).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/arena.h"
#include "fcgi/conf.h"
#include "tests/unit/unit.h"
#include "upstream/attach.h"
#include "upstream/glm/body.h"
#include "upstream/glm/glm.h"
#include "upstream/glm/internal.h"
#include "upstream/route.h"

static struct arena	 A;

static void
setup(void)
{
	arena_init(&A, 0);
}

static void
teardown(void)
{
	arena_free(&A);
}

/* ------------------------------------------------------------ requests */

#define MAXM	8
#define MAXP	4

struct req {
	struct chat_request	 r;
	struct chat_message	 m[MAXM];
	struct chat_part	 p[MAXM][MAXP];
};

/* Adds a message of role with text parts (NULL ends, "!url" an image). */
static void
msg(struct req *q, enum chat_role role, ...)
{
	struct chat_message	*m = &q->m[q->r.nmessages];
	const char		*s;
	va_list			 ap;

	ck_assert_uint_lt(q->r.nmessages, MAXM);
	memset(m, 0, sizeof(*m));
	m->role = role;
	m->parts = q->p[q->r.nmessages];
	va_start(ap, role);
	while ((s = va_arg(ap, const char *)) != NULL) {
		struct chat_part *p = &m->parts[m->nparts++];

		memset(p, 0, sizeof(*p));
		if (*s == '!') {
			p->type = CHAT_PART_IMAGE;
			p->url = s + 1;
		} else {
			p->type = CHAT_PART_TEXT;
			p->text = s;
			p->len = strlen(s);
		}
	}
	va_end(ap);
	q->r.messages = q->m;
	q->r.nmessages++;
}

START_TEST(prompt_one_message)
{
	struct req	 q;
	size_t		 n;
	char		*p;

	memset(&q, 0, sizeof(q));
	msg(&q, CHAT_ROLE_USER, "Hello 中文 😀", NULL);
	p = glm_prompt(&A, &q.r, &n);
	ck_assert_str_eq(p, "Hello 中文 😀\n");
	ck_assert_uint_eq(n, strlen(p));
	/* text parts joined with "\n", images left to the uploads */
	memset(&q, 0, sizeof(q));
	msg(&q, CHAT_ROLE_SYSTEM, "a", "!data:image/png;base64,AAAA", "b",
	    NULL);
	ck_assert_str_eq(glm_prompt(&A, &q.r, NULL), "a\nb\n");
	/* no messages: an empty prompt */
	memset(&q, 0, sizeof(q));
	ck_assert_str_eq(glm_prompt(&A, &q.r, &n), "");
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(prompt_conversation)
{
	struct req	 q;

	memset(&q, 0, sizeof(q));
	msg(&q, CHAT_ROLE_SYSTEM, "Be brief.", NULL);
	msg(&q, CHAT_ROLE_DEVELOPER, "No markdown.", NULL);
	msg(&q, CHAT_ROLE_USER, "First", "question", NULL);
	msg(&q, CHAT_ROLE_ASSISTANT, "First answer\n\nwith a blank line", NULL);
	msg(&q, CHAT_ROLE_TOOL, "tool output", NULL);
	msg(&q, CHAT_ROLE_USER, "!https://x.example/i.png", NULL);
	msg(&q, CHAT_ROLE_USER, "and \"more\"", NULL);
	ck_assert_str_eq(glm_prompt(&A, &q.r, NULL),
	    "System: Be brief.\n\n"
	    "System: No markdown.\n\n"
	    "User: First\nquestion\n\n"
	    "Assistant: First answer\n\nwith a blank line\n\n"
	    "User: tool output\n\n"
	    "User: \n\n"
	    "User: and \"more\"\n\n"
	    "Assistant: ");
}
END_TEST

/* ------------------------------------------------------------ body */

#define META(mode, net) "\"meta_data\":{\"channel\":\"\"," mode \
	"\"draft_id\":\"\",\"if_plus_model\":true,\"input_question_type\":" \
	"\"xxxx\",\"is_networking\":" net ",\"is_test\":false,\"platform\":" \
	"\"pc\",\"quote_log_id\":\"\",\"cogview\":{\"rm_label_watermark\":" \
	"false}}}"
#define HEAD(asst) "{\"assistant_id\":\"" asst "\",\"conversation_id\":\"\"," \
	"\"project_id\":\"\",\"chat_type\":\"user_chat\",\"messages\":[{" \
	"\"role\":\"user\",\"content\":["

#define HI	"{\"type\":\"text\",\"text\":\"hi\\n\"}]}],"

START_TEST(body_modes)
{
	static const struct {
		unsigned	 flags;
		const char	*want;
	} v[] = {
		{ 0, HEAD(GLM_ASSISTANT) HI META("", "false") },
		{ ROUTE_THINK, HEAD(GLM_ASSISTANT) HI
		  META("\"chat_mode\":\"zero\",", "false") },
		{ ROUTE_SEARCH, HEAD(GLM_ASSISTANT) HI META("", "true") },
		{ ROUTE_DEEP_RESEARCH | ROUTE_THINK | ROUTE_SEARCH,
		  HEAD(GLM_ASSISTANT) HI
		  META("\"chat_mode\":\"deep_research\",", "true") },
	};
	struct route	 rt;
	struct req	 q;
	size_t		 i;

	memset(&q, 0, sizeof(q));
	msg(&q, CHAT_ROLE_USER, "hi", NULL);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&rt, 0, sizeof(rt));
		rt.requested = "GLM-5";
		rt.upstream_model = "glm-5";
		rt.flags = v[i].flags;
		ck_assert_str_eq(glm_body(&A, &q.r, &rt, NULL, 0, NULL),
		    v[i].want);
	}
}
END_TEST

START_TEST(body_refs_and_escapes)
{
	static const struct glm_ref refs[] = {
		{ 1, "src1", "https://f.example/1.png" },
		{ 0, "src2", "https://f.example/2.pdf" },
		{ 1, "src3", "https://f.example/3\".png" },
		{ 0, "src4", "https://f.example/4.txt" },
	};
	struct route	 rt;
	struct req	 q;

	memset(&q, 0, sizeof(q));
	msg(&q, CHAT_ROLE_USER, "tab\there \"q\" \\ \x01", NULL);
	memset(&rt, 0, sizeof(rt));
	rt.requested = "GLM-5";
	rt.upstream_model = "glm-5";
	ck_assert_str_eq(glm_body(&A, &q.r, &rt, refs, 4, NULL),
	    HEAD(GLM_ASSISTANT)
	    "{\"type\":\"file\",\"file\":[{\"source_id\":\"src2\",\"file_url\":"
	    "\"https://f.example/2.pdf\"},{\"source_id\":\"src4\",\"file_url\":"
	    "\"https://f.example/4.txt\"}]},"
	    "{\"type\":\"image_url\",\"image_url\":{\"url\":"
	    "\"https://f.example/1.png\"}},"
	    "{\"type\":\"image_url\",\"image_url\":{\"url\":"
	    "\"https://f.example/3\\\".png\"}},"
	    "{\"type\":\"text\",\"text\":"
	    "\"tab\\there \\\"q\\\" \\\\ \\u0001\\n\"}]}],"
	    META("", "false"));
}
END_TEST

/* A multi-turn session's turn: its conversation id, the new turn alone. */
START_TEST(body_continued)
{
	struct route	 rt;
	struct req	 q;

	memset(&q, 0, sizeof(q));
	msg(&q, CHAT_ROLE_USER, "hi", NULL);
	memset(&rt, 0, sizeof(rt));
	rt.requested = "GLM-5";
	rt.upstream_model = "glm-5";
	ck_assert_str_eq(glm_body(&A, &q.r, &rt, NULL, 0, "67a0\"b"),
	    "{\"assistant_id\":\"" GLM_ASSISTANT "\",\"conversation_id\":"
	    "\"67a0\\\"b\",\"project_id\":\"\",\"chat_type\":\"user_chat\","
	    "\"messages\":[{\"role\":\"user\",\"content\":[" HI
	    META("", "false"));
}
END_TEST

START_TEST(assistant_ids)
{
	struct route	 rt;

	memset(&rt, 0, sizeof(rt));
	rt.requested = "GLM-5";
	rt.upstream_model = "glm-5";
	ck_assert_str_eq(glm_assistant(&rt), GLM_ASSISTANT);
	rt.upstream_model = "65a232c082ff90a2ad2f15e2";
	ck_assert_str_eq(glm_assistant(&rt), "65a232c082ff90a2ad2f15e2");
	/* 23 characters, capitals, other bytes: not an assistant id */
	rt.upstream_model = "65a232c082ff90a2ad2f15e";
	ck_assert_str_eq(glm_assistant(&rt), GLM_ASSISTANT);
	rt.upstream_model = "65A232C082FF90A2AD2F15E2";
	ck_assert_str_eq(glm_assistant(&rt), GLM_ASSISTANT);
	rt.upstream_model = "65a232c082ff90a2ad2f15e2-x";
	ck_assert_str_eq(glm_assistant(&rt), GLM_ASSISTANT);
	/* the requested name when the upstream model is none */
	rt.upstream_model = NULL;
	rt.requested = "0123456789abcdefghij0123456789";
	ck_assert_str_eq(glm_assistant(&rt), "0123456789abcdefghij0123456789");
}
END_TEST

/* ------------------------------------------------------------ provider */

START_TEST(name_switches)
{
	const struct provider	*p = &glm_provider;

	ck_assert_uint_eq(p->name_flags("GLM-5"), 0);
	ck_assert_uint_eq(p->name_flags("glm-5-THINK"), ROUTE_THINK);
	ck_assert_uint_eq(p->name_flags("GLM-Zero-Preview"), ROUTE_THINK);
	ck_assert_uint_eq(p->name_flags("GLM-5-DeepResearch"),
	    ROUTE_DEEP_RESEARCH);
	ck_assert_uint_eq(p->name_flags("glm-deep-research-think"),
	    ROUTE_DEEP_RESEARCH | ROUTE_THINK);
	/* search has no word of its own in a GLM name (§1.2) */
	ck_assert_uint_eq(p->name_flags("GLM-5-Searcher"), 0);
}
END_TEST

START_TEST(pasted_credentials)
{
	const struct provider	*p = &glm_provider;
	const char		*tok = "eyJhbGciOiJIUzI1NiJ9."
				    "eyJzdWIiOiJ4In0.sig-_";
	char			*s, cookie[256];

	ck_assert_ptr_nonnull(s = p->normalize(tok));
	ck_assert_str_eq(s, tok);
	free(s);
	ck_assert_ptr_nonnull(s = p->normalize("  \t" "eyJhbGciOiJIUzI1NiJ9"
	    ".eyJzdWIiOiJ4In0.sig-_\n"));
	ck_assert_str_eq(s, tok);
	free(s);
	snprintf(cookie, sizeof(cookie), "Cookie: a=b; chatglm_refresh_token="
	    "%s; chatglm_token=zzz", tok);
	ck_assert_ptr_nonnull(s = p->normalize(cookie));
	ck_assert_str_eq(s, tok);
	free(s);
	snprintf(cookie, sizeof(cookie), "chatglm_refresh_token=%s", tok);
	ck_assert_ptr_nonnull(s = p->normalize(cookie));
	ck_assert_str_eq(s, tok);
	free(s);
	ck_assert_ptr_null(p->normalize("short"));
	ck_assert_ptr_null(p->normalize("sk-0123456789abcdefghijklmnop"));
	ck_assert_ptr_null(p->normalize("has a space in it 0123456789"));
	ck_assert_ptr_null(p->normalize("chatglm_refresh_token=; x=y"));
}
END_TEST

START_TEST(own_credentials)
{
	const struct provider	*p = &glm_provider;
	struct provider_account	 a;
	int			 seen[2] = { 0, 0 }, i;

	ck_assert_int_eq(p->raw_credential(&A, "sk-placeholder", &a), 0);
	ck_assert_int_eq(p->raw_credential(&A, "abc", &a), 0);
	ck_assert_int_eq(p->raw_credential(&A,
	    "glmRefreshToken000000000001", &a), 1);
	ck_assert_str_eq(a.secret, "glmRefreshToken000000000001");
	ck_assert_ptr_null(a.id);
	/* a comma list: one of them each time, both over many tries */
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(p->raw_credential(&A,
		    "glmRefreshToken000000000001,glmRefreshToken000000000002",
		    &a), 1);
		seen[a.secret[strlen(a.secret) - 1] - '1']++;
	}
	ck_assert(seen[0] > 0 && seen[1] > 0);
	ck_assert_ptr_nonnull(p->validate);
	ck_assert_ptr_nonnull(p->refresh);
	ck_assert_str_eq(p->fields[0].name, "refresh_token");
	ck_assert_str_eq(provider_by_id("glm")->display, "GLM");
}
END_TEST

START_TEST(routes_and_config)
{
	struct config	 c;
	struct route	 r;
	char		 err[256];

	unsetenv("GLM_BASE_URL");
	unsetenv("LB_STRATEGY_GLM");
	unsetenv("LB_STRATEGY");
	unsetenv("MODEL_MAPPING");
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.glm_base_url.n, 1);
	ck_assert_str_eq(c.glm_base_url.v[0], "https://chatglm.cn");
	ck_assert_ptr_null(config_lb_strategy(&c, "glm"));
	ck_assert_int_eq(route_resolve(&c, NULL, &A, "GLM-5", &r), ROUTE_OK);
	ck_assert_str_eq(r.provider->id, "glm");
	ck_assert_str_eq(r.upstream_model, "glm-5");
	ck_assert_uint_eq(r.flags, 0);
	ck_assert_int_eq(route_resolve(&c, NULL, &A, "glm-5-think-search", &r),
	    ROUTE_OK);
	ck_assert_str_eq(r.provider->id, "glm");
	ck_assert_uint_eq(r.flags, ROUTE_THINK | ROUTE_SEARCH);
	ck_assert_int_eq(route_resolve(&c, NULL, &A, "GLM-5-DeepResearch", &r),
	    ROUTE_OK);
	ck_assert_uint_eq(r.flags, ROUTE_DEEP_RESEARCH);
	ck_assert_int_eq(route_resolve(&c, NULL, &A, "GLM-5-Search", &r),
	    ROUTE_OK);
	ck_assert_uint_eq(r.flags, ROUTE_SEARCH);
	config_free(&c);

	setenv("GLM_BASE_URL", "http://127.0.0.1:1,http://127.0.0.1:2/", 1);
	setenv("LB_STRATEGY_GLM", "failover", 1);
	setenv("LB_STRATEGY", "weighted", 1);
	setenv("MODEL_MAPPING", "{\"agent\":{\"target\":"
	    "\"65a232c082ff90a2ad2f15e2\",\"provider\":\"glm\"}}", 1);
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.glm_base_url.n, 2);
	ck_assert_str_eq(config_lb_strategy(&c, "glm"), "failover");
	ck_assert_str_eq(config_lb_strategy(&c, "deepseek"), "weighted");
	ck_assert_int_eq(route_resolve(&c, NULL, &A, "agent", &r), ROUTE_OK);
	ck_assert_str_eq(r.provider->id, "glm");
	ck_assert_str_eq(glm_assistant(&r), "65a232c082ff90a2ad2f15e2");
	config_free(&c);
	setenv("GLM_BASE_URL", "chatglm.cn", 1);
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), -1);
	ck_assert(strstr(err, "GLM_BASE_URL") != NULL);
	setenv("GLM_BASE_URL", "https://chatglm.cn", 1);
	setenv("LB_STRATEGY_GLM", "fastest", 1);
	ck_assert_int_eq(config_load(&c, err, sizeof(err)), -1);
	ck_assert(strstr(err, "LB_STRATEGY_GLM") != NULL);
	unsetenv("GLM_BASE_URL");
	unsetenv("LB_STRATEGY_GLM");
	unsetenv("LB_STRATEGY");
	unsetenv("MODEL_MAPPING");
}
END_TEST

/* ------------------------------------------------------------ answers */

START_TEST(envelopes)
{
	static const struct {
		const char	*json;
		int		 ok;
		long		 code;
		const char	*msg;
		int		 result, over;
	} v[] = {
		{ "{\"status\":0,\"message\":\"success\",\"result\":{}}", 1, 0,
		  "success", 1, 0 },
		{ "{\"code\":0,\"msg\":\"ok\"}", 1, 0, "ok", 0, 0 },
		{ "{\"code\":0,\"status\":\"init\",\"result\":[]}", 1, 0, "", 0,
		  0 },
		{ "{\"status\":40001,\"message\":\"token invalid\"}", 0, 40001,
		  "token invalid", 0, 1 },
		{ "{\"code\":500,\"status\":40102,\"message\":\"x\"}", 0, 40102,
		  "x", 0, 1 },
		{ "{\"code\":10002,\"message\":\"refresh expired (40102)\"}", 0,
		  10002, "refresh expired (40102)", 0, 1 },
		{ "{\"code\":\"0\",\"message\":\"a string code\"}", 0, -1,
		  "a string code", 0, 0 },
		{ "{\"result\":{}}", 0, -1, "", 0, 0 },
		{ "[0]", 0, -1, "", 0, 0 },
	};
	struct json_object	*root, *res;
	struct glm_call		 c;
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&c, 0, sizeof(c));
		ck_assert_ptr_nonnull(root = json_tokener_parse(v[i].json));
		ck_assert_int_eq(glm_envelope(&c, root, &res) == 0, v[i].ok);
		ck_assert_int_eq(c.code, v[i].code);
		ck_assert_str_eq(c.msg, v[i].msg);
		ck_assert_int_eq(res != NULL, v[i].result);
		ck_assert_int_eq(glm_login_over(&c), v[i].over);
		json_object_put(root);
	}
	ck_assert_ptr_nonnull(root = json_tokener_parse("{\"a\":\"\","
	    "\"b\":\"xyz\",\"c\":1}"));
	ck_assert_ptr_null(glm_json_str(root, "a", 10));
	ck_assert_str_eq(glm_json_str(root, "b", 3), "xyz");
	ck_assert_ptr_null(glm_json_str(root, "b", 2));
	ck_assert_ptr_null(glm_json_str(root, "c", 10));
	ck_assert_ptr_null(glm_json_str(root, "d", 10));
	json_object_put(root);
}
END_TEST

/* What uploads are made of: data: URLs decoded, other schemes refused. */
START_TEST(attachments)
{
	struct config	 cfg;
	struct attach	 at;

	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(attach_fetch(&cfg, &A, "data:image/png;base64,"
	    "iVBORw0KGgo=", 100, NULL, NULL, &at), 0);
	ck_assert_str_eq(at.mime, "image/png");
	ck_assert_uint_eq(at.size, 8);
	ck_assert(memcmp(at.data, "\x89PNG\r\n\x1a\n", 8) == 0);
	ck_assert_int_eq(attach_fetch(&cfg, &A, "data:text/plain;base64,"
	    "aGk=", 100, NULL, NULL, &at), 0);
	ck_assert_uint_eq(at.size, 2);
	ck_assert(memcmp(at.data, "hi", 2) == 0);
	/* over the limit, not base64, no payload, other schemes */
	ck_assert_int_eq(attach_fetch(&cfg, &A, "data:text/plain;base64,"
	    "aGk=", 2, NULL, NULL, &at), -1);
	ck_assert_int_eq(attach_fetch(&cfg, &A, "data:text/plain,hi", 100,
	    NULL, NULL, &at), -1);
	ck_assert_int_eq(attach_fetch(&cfg, &A, "data:text/plain;base64,",
	    100, NULL, NULL, &at), -1);
	ck_assert_int_eq(attach_fetch(&cfg, &A, "data:x;base64,%%%%", 100,
	    NULL, NULL, &at), -1);
	ck_assert_int_eq(attach_fetch(&cfg, &A, "file:///etc/passwd", 100,
	    NULL, NULL, &at), -1);
	ck_assert_int_eq(attach_fetch(&cfg, &A, NULL, 100, NULL, NULL, &at),
	    -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("glm_body");
	TCase	*tc = tcase_create("all");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, prompt_one_message);
	tcase_add_test(tc, prompt_conversation);
	tcase_add_test(tc, body_modes);
	tcase_add_test(tc, body_refs_and_escapes);
	tcase_add_test(tc, body_continued);
	tcase_add_test(tc, assistant_ids);
	tcase_add_test(tc, name_switches);
	tcase_add_test(tc, pasted_credentials);
	tcase_add_test(tc, own_credentials);
	tcase_add_test(tc, routes_and_config);
	tcase_add_test(tc, envelopes);
	tcase_add_test(tc, attachments);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
