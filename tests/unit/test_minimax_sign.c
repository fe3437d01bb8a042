/*
 * Unit tests for upstream/minimax/sign.c and prompt.c: the query string
 * of §5.3 in its order, the yy and x-signature of §5.4 against the
 * protocol document's vector (computed there by Node and Python), the
 * credential forms of §5.1 and the prompt flattening of §5.5.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fcgi/arena.h"
#include "tests/unit/unit.h"
#include "upstream/call.h"
#include "upstream/minimax/prompt.h"
#include "upstream/minimax/sign.h"

/* §5.4's vector */
#define V_JWT	"eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjp7ImlkIjoiMTIzNDU2Nzg5In19.sig"
#define V_UID	"123456789"
#define V_DEV	"987654321"
#define V_UNIX	"1735689600123"
#define V_TS	1735689600LL
#define V_PATH	"/matrix/api/v1/chat/get_chat_detail"
#define V_BODY	"{\"chat_id\":\"1001\"}"

#define V_QUERY	"device_platform=web&biz_id=3&app_id=3001&version_code=22201" \
	"&uuid=" V_UID "&device_id=" V_DEV "&os_name=Mac&browser_name=chrome" \
	"&device_memory=8&cpu_core_num=11&browser_language=zh-CN" \
	"&browser_platform=MacIntel&user_id=" V_UID "&screen_width=1920" \
	"&screen_height=1080&unix=" V_UNIX "&lang=zh&token=" V_JWT \
	"&timezone_offset=28800&sys_language=zh&client=web"

START_TEST(vector_query)
{
	struct arena a;
	struct mm_query q = { V_UID, V_DEV, V_UID, V_UNIX, V_JWT };
	char *s;

	arena_init(&a, 0);
	s = mm_query(&a, &q);
	ck_assert_str_eq(s, V_QUERY);
	/* no device yet: the key is left out, the order stays */
	q.device_id = "";
	s = mm_query(&a, &q);
	ck_assert_ptr_null(strstr(s, "device_id"));
	ck_assert_ptr_nonnull(strstr(s, "&uuid=" V_UID "&os_name=Mac&"));
	q.device_id = NULL;
	ck_assert_str_eq(mm_query(&a, &q), s);
	/* the registration's quirk: the literal null */
	q.device_id = "null";
	ck_assert_ptr_nonnull(strstr(mm_query(&a, &q),
	    "&uuid=" V_UID "&device_id=null&os_name=Mac&"));
	arena_free(&a);
}
END_TEST

START_TEST(vector_signatures)
{
	struct arena a;
	struct mm_query q = { V_UID, V_DEV, V_UID, V_UNIX, V_JWT };
	char md[33], yy[33], xs[33], *query;

	arena_init(&a, 0);
	mm_md5hex(V_UNIX, strlen(V_UNIX), md);
	ck_assert_str_eq(md, "395ba8ff5f3e69bf5aacab0bfd1cd449");
	query = mm_query(&a, &q);
	ck_assert_int_eq(mm_yy(&a, V_PATH, query, V_BODY, V_UNIX, yy), 0);
	ck_assert_str_eq(yy, "bc8f1c255f5765bb2a9440bf58d92359");
	mm_xsig(V_TS, V_JWT, V_BODY, xs);
	ck_assert_str_eq(xs, "1ae3540b6aaec8247a2cd36c51adc33c");
	/* any byte of what is signed changes it */
	ck_assert_int_eq(mm_yy(&a, V_PATH, query, "{\"chat_id\":\"1002\"}",
	    V_UNIX, md), 0);
	ck_assert_str_ne(md, yy);
	mm_xsig(V_TS + 1, V_JWT, V_BODY, md);
	ck_assert_str_ne(md, xs);
	arena_free(&a);
}
END_TEST

/* yy of a path that already holds a query joins with '&' (§5.4 step 3). */
START_TEST(path_with_query)
{
	struct arena a;
	char y1[33], y2[33];

	arena_init(&a, 0);
	ck_assert_int_eq(mm_yy(&a, "/p?x=1", "a=b", "{}", "1", y1), 0);
	mm_md5hex("%2Fp%3Fx%3D1%26a%3Db_{}c4ca4238a0b923820dcc509a6f75849b"
	    "ooui", strlen("%2Fp%3Fx%3D1%26a%3Db_{}c4ca4238a0b923820dcc509a6f"
	    "75849booui"), y2);
	ck_assert_str_eq(y1, y2);
	arena_free(&a);
}
END_TEST

START_TEST(uri_component)
{
	struct arena a;

	arena_init(&a, 0);
	ck_assert_str_eq(call_pct_encode(&a, "azAZ09-_.!~*'()", MM_URI_KEEP),
	    "azAZ09-_.!~*'()");
	ck_assert_str_eq(call_pct_encode(&a, "/a?b=c&d:e f+g#h%", MM_URI_KEEP),
	    "%2Fa%3Fb%3Dc%26d%3Ae%20f%2Bg%23h%25");
	/* UTF-8 bytes, upper-case hex, as JavaScript does */
	ck_assert_str_eq(call_pct_encode(&a, "\xc3\xa9\xe4\xbd\xa0",
	    MM_URI_KEEP), "%C3%A9%E4%BD%A0");
	ck_assert_str_eq(call_pct_encode(&a, "", MM_URI_KEEP), "");
	arena_free(&a);
}
END_TEST

START_TEST(jwt_shape)
{
	ck_assert_int_eq(mm_jwt_shape(V_JWT, strlen(V_JWT)), 1);
	ck_assert_int_eq(mm_jwt_shape("a.b.", 4), 1);	/* alg none */
	ck_assert_int_eq(mm_jwt_shape("a.b", 3), 0);
	ck_assert_int_eq(mm_jwt_shape(".b.c", 4), 0);
	ck_assert_int_eq(mm_jwt_shape("a..c", 4), 0);
	ck_assert_int_eq(mm_jwt_shape("a.b.c.d", 7), 0);
	ck_assert_int_eq(mm_jwt_shape("a.b+.c", 6), 0);
	ck_assert_int_eq(mm_jwt_shape("a.b c.d", 7), 0);
	ck_assert_int_eq(mm_jwt_shape("", 0), 0);
}
END_TEST

START_TEST(jwt_uid)
{
	struct arena a;

	arena_init(&a, 0);
	ck_assert_str_eq(mm_jwt_uid(&a, V_JWT), V_UID);
	ck_assert_str_eq(mm_jwt_uid(&a, "h.eyJpZCI6NDJ9.s"), "42");
	ck_assert_str_eq(mm_jwt_uid(&a, "h.eyJzdWIiOiJhYmMtOSJ9.s"), "abc-9");
	ck_assert_ptr_null(mm_jwt_uid(&a, "h.eyJuYW1lIjoieCJ9.s"));
	/* an id a query cannot carry is no id */
	ck_assert_ptr_null(mm_jwt_uid(&a, "h.eyJ1c2VyIjp7ImlkIjoiMTIgMzQifX0.s"));
	ck_assert_ptr_null(mm_jwt_uid(&a, "h.!!!.s"));
	ck_assert_ptr_null(mm_jwt_uid(&a, "h.e.s"));
	ck_assert_ptr_null(mm_jwt_uid(&a, "nodots"));
	arena_free(&a);
}
END_TEST

START_TEST(cred_forms)
{
	struct arena a;
	struct mm_cred c;

	arena_init(&a, 0);
	ck_assert_int_eq(mm_cred_parse(&a, V_JWT, NULL, &c), MMC_OK);
	ck_assert_str_eq(c.jwt, V_JWT);
	ck_assert_str_eq(c.uid, V_UID);
	ck_assert_int_eq(mm_cred_parse(&a, " 777+" V_JWT "\n", NULL, &c),
	    MMC_OK);
	ck_assert_str_eq(c.jwt, V_JWT);
	ck_assert_str_eq(c.uid, "777");
	/* the account's field wins over both */
	ck_assert_int_eq(mm_cred_parse(&a, "777+" V_JWT, "888", &c), MMC_OK);
	ck_assert_str_eq(c.uid, "888");
	ck_assert_int_eq(mm_cred_parse(&a, "h.eyJuYW1lIjoieCJ9.s", "", &c),
	    MMC_NO_UID);
	ck_assert_str_eq(c.jwt, "h.eyJuYW1lIjoieCJ9.s");
	ck_assert_int_eq(mm_cred_parse(&a, "h.eyJuYW1lIjoieCJ9.s", "9", &c),
	    MMC_OK);
	ck_assert_int_eq(mm_cred_parse(&a, "1 2+" V_JWT, NULL, &c),
	    MMC_BAD_UID);
	ck_assert_int_eq(mm_cred_parse(&a, "+" V_JWT, NULL, &c), MMC_BAD_UID);
	ck_assert_int_eq(mm_cred_parse(&a, V_JWT, "a&b", &c), MMC_BAD_UID);
	ck_assert_int_eq(mm_cred_parse(&a, "sk-placeholder", NULL, &c),
	    MMC_NOT_JWT);
	ck_assert_int_eq(mm_cred_parse(&a, "1+2+" V_JWT, NULL, &c),
	    MMC_NOT_JWT);
	ck_assert_str_ne(mm_cred_strerror(MMC_NO_UID), "");
	arena_free(&a);
}
END_TEST

/* ------------------------------------------------------------ prompt */

struct pcase {
	const char	*want;
	int		 n;
	struct {
		enum chat_role	 role;
		const char	*text;
	} m[5];
};

static const struct pcase pcases[] = {
	{ "user:hello", 1, { { CHAT_ROLE_USER, "hello" } } },
	{ "system:Be brief.\nuser:hi", 2, {
	    { CHAT_ROLE_SYSTEM, "Be brief." }, { CHAT_ROLE_USER, "hi" } } },
	/* the last system message only; two turns: assistant: follows */
	{ "system:second\nuser:q1\nassistant:a1\nuser:q2\nassistant:", 5, {
	    { CHAT_ROLE_SYSTEM, "first" }, { CHAT_ROLE_USER, "q1" },
	    { CHAT_ROLE_ASSISTANT, "a1" }, { CHAT_ROLE_DEVELOPER, "second" },
	    { CHAT_ROLE_USER, "q2" } } },
	/* images gone, a message left empty gone with its tag */
	{ "user:see  here\nuser:x\nassistant:", 3, {
	    { CHAT_ROLE_USER, "see ![a](http://i/1.png) here" },
	    { CHAT_ROLE_ASSISTANT, "![only](u)" }, { CHAT_ROLE_USER, "x" } } },
	{ "user:q\nuser:[TOOL_RESULT] 42\nassistant:", 2, {
	    { CHAT_ROLE_USER, "q" }, { CHAT_ROLE_TOOL, "42" } } },
	{ "user:  keep inner  space", 1, {
	    { CHAT_ROLE_USER, "  keep inner  space \n" } } },
	{ "", 1, { { CHAT_ROLE_USER, "  " } } },
};

START_TEST(prompt_cases)
{
	const struct pcase *pc = &pcases[_i];
	struct chat_message msgs[5];
	struct chat_part parts[5];
	struct chat_request req;
	struct arena a;
	size_t len;
	char *out;
	int i;

	memset(&req, 0, sizeof(req));
	memset(msgs, 0, sizeof(msgs));
	memset(parts, 0, sizeof(parts));
	for (i = 0; i < pc->n; i++) {
		parts[i].type = CHAT_PART_TEXT;
		parts[i].text = pc->m[i].text;
		parts[i].len = strlen(pc->m[i].text);
		msgs[i].role = pc->m[i].role;
		msgs[i].parts = &parts[i];
		msgs[i].nparts = 1;
	}
	req.messages = msgs;
	req.nmessages = (size_t)pc->n;
	arena_init(&a, 0);
	out = mm_prompt(&a, &req, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, pc->want);
	ck_assert_uint_eq(len, strlen(pc->want));
	arena_free(&a);
}
END_TEST

START_TEST(prompt_parts_and_name)
{
	struct chat_part parts[3] = {
		{ CHAT_PART_TEXT, "one", 3, NULL, NULL },
		{ CHAT_PART_IMAGE, NULL, 0, "http://i/x.png", NULL },
		{ CHAT_PART_TEXT, "two", 3, NULL, NULL },
	};
	struct chat_part tp = { CHAT_PART_TEXT, "{}", 2, NULL, NULL };
	struct chat_message msgs[2] = {
		{ CHAT_ROLE_USER, NULL, parts, 3, 0 },
		{ CHAT_ROLE_TOOL, "get_time", &tp, 1, 1 },
	};
	struct chat_request req;
	struct arena a;

	memset(&req, 0, sizeof(req));
	req.messages = msgs;
	req.nmessages = 2;
	arena_init(&a, 0);
	ck_assert_str_eq(mm_prompt(&a, &req, NULL), "user:one\ntwo\n"
	    "user:[TOOL_RESULT for get_time] {}\nassistant:");
	arena_free(&a);
}
END_TEST

START_TEST(strip_images)
{
	static const struct {
		const char *in, *out;
	} c[] = {
		{ "a![x](y)b", "ab" },
		{ "![x](y)![z](w)", "" },
		{ "![x](y", "![x](y" },
		{ "![x]\n(y)", "![x]\n(y)" },		/* never across lines */
		{ "![a ![b](c) d", " d" },		/* the first "![" wins */
		{ "!![x](y)!", "!!" },
		{ "no image", "no image" },
		{ "![x](y)\r\n![", "\r\n![" },
	};
	char buf[64];
	size_t i, n;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		strcpy(buf, c[i].in);
		n = mm_strip_images(buf, strlen(buf));
		buf[n] = '\0';
		ck_assert_msg(strcmp(buf, c[i].out) == 0, "%s -> %s, want %s",
		    c[i].in, buf, c[i].out);
	}
}
END_TEST

/* A line full of "![" that never closes stays linear. */
START_TEST(strip_images_linear)
{
	size_t n = 4u << 20, i;
	char *t = malloc(n);

	ck_assert_ptr_nonnull(t);
	for (i = 0; i + 1 < n; i += 2) {
		t[i] = '!';
		t[i + 1] = '[';
	}
	ck_assert_uint_eq(mm_strip_images(t, n), n);
	free(t);
}
END_TEST

static Suite *
minimax_sign_suite(void)
{
	Suite *s = suite_create("minimax_sign");
	TCase *tc = tcase_create("sign");

	tcase_add_test(tc, vector_query);
	tcase_add_test(tc, vector_signatures);
	tcase_add_test(tc, path_with_query);
	tcase_add_test(tc, uri_component);
	tcase_add_test(tc, jwt_shape);
	tcase_add_test(tc, jwt_uid);
	tcase_add_test(tc, cred_forms);
	tcase_add_loop_test(tc, prompt_cases, 0,
	    (int)(sizeof(pcases) / sizeof(pcases[0])));
	tcase_add_test(tc, prompt_parts_and_name);
	tcase_add_test(tc, strip_images);
	tcase_add_test(tc, strip_images_linear);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(minimax_sign_suite)
