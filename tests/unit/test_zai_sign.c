/*
 * Unit tests for what a Z.ai request is made of: X-Signature and the
 * signed query (upstream/zai/sign.c), the login token's claims
 * (upstream/zai/jwt.c) and the chat and completion bodies
 * (upstream/zai/body.c).
 *
 * The signature vector of providers.md §8.4 is the independent browser
 * vector; the others were computed with the mock's Python implementation
 * (tests/mock/zai_mock.py, written from the document apart from this C),
 * so the two must agree for the mock to accept what chat2api sends.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "tests/unit/unit.h"
#include "upstream/zai/body.h"
#include "upstream/zai/jwt.h"
#include "upstream/zai/sign.h"

#define RID	"d9fb3ca8-676f-46c3-90c7-ddc70a74e46d"
#define UID	"d0d30815-b85a-4270-af63-b5346a9f3b13"
#define TS	1771762969397LL
#define HDR	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
#define SIG	".c2lnbmF0dXJl"

/* ------------------------------------------------------------ X-Signature */

START_TEST(t_sign_vector)
{
	char k[ZAI_SIG_HEX + 1], sig[ZAI_SIG_HEX + 1];
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(zai_sign_canonical(&b, RID, UID,
	    "Reply with exactly: ok", 22, TS), ZAI_SIGN_OK);
	ck_assert_str_eq(b.p, "requestId," RID ",timestamp,1771762969397,"
	    "user_id," UID "|UmVwbHkgd2l0aCBleGFjdGx5OiBvaw==|1771762969397");
	buf_free(&b);
	ck_assert_int_eq(zai_sign_window_key(TS, NULL, k), ZAI_SIGN_OK);
	ck_assert_str_eq(k, "b2fb416ee0ae56d2704aa98146f94dc4787412038a4aa7dfa"
	    "365aeaaf13301c0");
	ck_assert_int_eq(zai_sign(RID, UID, "Reply with exactly: ok", 22, TS,
	    NULL, sig), ZAI_SIGN_OK);
	ck_assert_str_eq(sig, "26be53ded6069ead38e6d4d596e54b020aaa2e17f75a4fa2"
	    "9325ead00484b214");
	ck_assert_int_eq(zai_sign(RID, UID, "Reply with exactly: ok", 22, TS,
	    ZAI_SIGN_KEY, sig), ZAI_SIGN_OK);
	ck_assert_str_eq(sig, "26be53ded6069ead38e6d4d596e54b020aaa2e17f75a4fa2"
	    "9325ead00484b214");
}
END_TEST

START_TEST(t_sign_others)
{
	const char *p = "\xe4\xb8\xad\xe6\x96\x87 and emoji \xf0\x9f\x98\x80";
	char sig[ZAI_SIG_HEX + 1], k[ZAI_SIG_HEX + 1];
	struct buf b;

	/* UTF-8 prompt; the canonical string of it */
	buf_init(&b, 0);
	ck_assert_int_eq(zai_sign_canonical(&b,
	    "0b5f8a2e-7c1d-4e3f-9a8b-6c5d4e3f2a1b", "42", p, strlen(p),
	    1700000000000LL), ZAI_SIGN_OK);
	ck_assert_str_eq(b.p, "requestId,0b5f8a2e-7c1d-4e3f-9a8b-6c5d4e3f2a1b,"
	    "timestamp,1700000000000,user_id,42|5Lit5paHIGFuZCBlbW9qaSDwn5iA|"
	    "1700000000000");
	buf_free(&b);
	ck_assert_int_eq(zai_sign("0b5f8a2e-7c1d-4e3f-9a8b-6c5d4e3f2a1b", "42",
	    p, strlen(p), 1700000000000LL, NULL, sig), ZAI_SIGN_OK);
	ck_assert_str_eq(sig, "ce3aaecd3176821463d8ff38f0bc32885a8562eb57eef726"
	    "ffc05d7e1db75f00");
	/* an empty prompt: "||" */
	ck_assert_int_eq(zai_sign("0b5f8a2e-7c1d-4e3f-9a8b-6c5d4e3f2a1b",
	    "guest", "", 0, 1700000000000LL, NULL, sig), ZAI_SIGN_OK);
	ck_assert_str_eq(sig, "da2d3bb20f18d7089e57370d669b37adff948370715e6412"
	    "6eb19b9d51e68f60");
	/* another key: another signature (the mock's sign_key knob) */
	ck_assert_int_eq(zai_sign(RID, UID, "Reply with exactly: ok", 22, TS,
	    "another-secret", sig), ZAI_SIGN_OK);
	ck_assert_str_eq(sig, "a9326a7d509a59702caa2738e19629705e705b98e324ae5b"
	    "fe6d412484df94a6");
	/* the 5-minute windows: 299999 and 300000 differ */
	ck_assert_int_eq(zai_sign_window_key(299999, NULL, k), ZAI_SIGN_OK);
	ck_assert_str_eq(k, "4c7e1a4fe421f176f39e88b08ba30df1b4edb9153115cf1a3c"
	    "99b6f675c729ce");
	ck_assert_int_eq(zai_sign_window_key(300000, NULL, k), ZAI_SIGN_OK);
	ck_assert_str_eq(k, "c7df9a5a32fecdabafbc694923ed8ad8c1081e36f101cdd422"
	    "7b7c78ad7b1515");
	ck_assert_int_eq(zai_sign_window_key(599999, NULL, k), ZAI_SIGN_OK);
	ck_assert_str_eq(k, "c7df9a5a32fecdabafbc694923ed8ad8c1081e36f101cdd422"
	    "7b7c78ad7b1515");
}
END_TEST

START_TEST(t_sign_limits)
{
	char sig[ZAI_SIG_HEX + 1], id[ZAI_SIGN_ID_MAX + 2];

	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	ck_assert_int_eq(zai_sign(id, UID, "x", 1, TS, NULL, sig),
	    ZAI_SIGN_TOOBIG);
	ck_assert_int_eq(zai_sign(RID, id, "x", 1, TS, NULL, sig),
	    ZAI_SIGN_TOOBIG);
	ck_assert_int_eq(zai_sign(RID, UID, "x", ZAI_PROMPT_MAX + 1, TS, NULL,
	    sig), ZAI_SIGN_TOOBIG);
	id[ZAI_SIGN_ID_MAX] = '\0';	/* exactly the limit */
	ck_assert_int_eq(zai_sign(id, UID, "x", 1, TS, NULL, sig),
	    ZAI_SIGN_OK);
	ck_assert_str_eq(zai_sign_strerror(ZAI_SIGN_TOOBIG),
	    "a signed value is over its limit");
	ck_assert_str_eq(zai_sign_strerror(99), "unknown error");
}
END_TEST

/* ------------------------------------------------------------ the query */

static const char *
form(const char *s, size_t n)
{
	static char out[512];
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(zai_form_arg(&b, s, n), 0);
	buf_add(&b, "", 1);
	snprintf(out, sizeof(out), "%s", b.p);
	buf_free(&b);
	return out;
}

START_TEST(t_form)
{
	const char *s = "a b&c:d/e,f~g*h-i.j_k%l+m=n?o#p\"q'r!s";

	ck_assert_str_eq(form(s, strlen(s)), "a+b%26c%3Ad%2Fe%2Cf%7Eg*h-i.j_k"
	    "%25l%2Bm%3Dn%3Fo%23p%22q%27r%21s");
	ck_assert_str_eq(form("\xe4\xb8\xad\xc3\xa9", 5), "%E4%B8%AD%C3%A9");
	ck_assert_str_eq(form("", 0), "");
	ck_assert_str_eq(form("\0\n\x7f\xff", 4), "%00%0A%7F%FF");
	ck_assert_str_eq(form("AZaz09", 6), "AZaz09");
}
END_TEST

START_TEST(t_query)
{
	struct zai_query_in q = { TS, RID, UID, "aaa.bbb.ccc",
	    "chat-1", "Mozilla/5.0 (X11) Chrome/144.0.0.0" };
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(zai_query(&b, &q), 0);
	buf_add(&b, "", 1);
	ck_assert_str_eq(b.p, "timestamp=1771762969397&requestId=" RID
	    "&user_id=" UID "&version=0.0.1&platform=web&token=aaa.bbb.ccc"
	    "&user_agent=Mozilla%2F5.0+%28X11%29+Chrome%2F144.0.0.0"
	    "&language=zh-CN&languages=zh-CN%2Czh&timezone=Asia%2FShanghai"
	    "&cookie_enabled=true&screen_width=1512&screen_height=982"
	    "&screen_resolution=1512x982&viewport_height=945"
	    "&viewport_width=923&viewport_size=923x945&color_depth=30"
	    "&pixel_ratio=2&current_url=https%3A%2F%2Fchat.z.ai%2Fc%2Fchat-1"
	    "&pathname=%2Fc%2Fchat-1&search=&hash=&host=chat.z.ai"
	    "&hostname=chat.z.ai&protocol=https%3A&referrer="
	    "&title=Z.ai+-+Free+AI+Chatbot+%26+Agent+powered+by+GLM-5+%26+"
	    "GLM-4.7&timezone_offset=-480"
	    "&local_time=2026-02-22T12%3A22%3A49.397Z"
	    "&utc_time=Sun%2C+22+Feb+2026+12%3A22%3A49+GMT&is_mobile=false"
	    "&is_touch=false&max_touch_points=0&browser_name=Chrome"
	    "&os_name=Mac+OS&signature_timestamp=1771762969397");
	buf_free(&b);
}
END_TEST

START_TEST(t_times)
{
	char t[ZAI_TIME_MAX];

	zai_time_iso(TS, t);
	ck_assert_str_eq(t, "2026-02-22T12:22:49.397Z");
	zai_time_utc(TS, t);
	ck_assert_str_eq(t, "Sun, 22 Feb 2026 12:22:49 GMT");
	zai_time_iso(951782400000LL + 86399999, t);	/* a leap day's end */
	ck_assert_str_eq(t, "2000-02-29T23:59:59.999Z");
	zai_time_utc(951782400000LL + 86399999, t);
	ck_assert_str_eq(t, "Tue, 29 Feb 2000 23:59:59 GMT");
	zai_time_iso(0, t);
	ck_assert_str_eq(t, "1970-01-01T00:00:00.000Z");
	zai_time_utc(0, t);
	ck_assert_str_eq(t, "Thu, 01 Jan 1970 00:00:00 GMT");
}
END_TEST

/* ------------------------------------------------------------ the JWT */

START_TEST(t_jwt_claims)
{
	struct zai_claims c;

	ck_assert_int_eq(zai_jwt_claims(HDR "eyJpZCI6ImQwZDMwODE1LWI4NWEtNDI3"
	    "MC1hZjYzLWI1MzQ2YTlmM2IxMyIsImVtYWlsIjoiYUBleGFtcGxlLmNvbSIsImV4"
	    "cCI6NDEwMjQ0NDgwMH0" SIG, &c), ZAI_JWT_OK);
	ck_assert_str_eq(c.user_id, UID);
	ck_assert_str_eq(c.email, "a@example.com");
	ck_assert_int_eq(c.exp, 4102444800LL);
	ck_assert_int_eq(c.guest, 0);
	ck_assert_int_eq(zai_jwt_expired(&c, 1700000000), 0);
	ck_assert_int_eq(zai_jwt_expired(&c, 4102444801LL), 1);
	/* a numeric id; a guest's e-mail */
	ck_assert_int_eq(zai_jwt_claims(HDR "eyJpZCI6MTIzNDUsImVtYWlsIjoiZ3Vl"
	    "c3QtMUBndWVzdC5jb20ifQ" SIG, &c), ZAI_JWT_OK);
	ck_assert_str_eq(c.user_id, "12345");
	ck_assert_int_eq(c.guest, 1);
	ck_assert_int_eq(c.exp, 0);
	ck_assert_int_eq(zai_jwt_expired(&c, 4102444801LL), 0);
	/* the fallbacks in order: user_id before uid before sub */
	ck_assert_int_eq(zai_jwt_claims(HDR "eyJ1c2VyX2lkIjoidS0yIiwidWlkIjoi"
	    "dS0zIiwic3ViIjoidS00In0" SIG, &c), ZAI_JWT_OK);
	ck_assert_str_eq(c.user_id, "u-2");
	ck_assert_int_eq(zai_jwt_claims(HDR "eyJzdWIiOiJzLTEiLCJleHAiOjE2MDAw"
	    "MDAwMDB9" SIG, &c), ZAI_JWT_OK);
	ck_assert_str_eq(c.user_id, "s-1");
	ck_assert_int_eq(zai_jwt_expired(&c, 1700000000), 1);
	/* an empty id is no id */
	ck_assert_int_eq(zai_jwt_claims(HDR "eyJpZCI6IiIsInVpZCI6InUtNSJ9" SIG,
	    &c), ZAI_JWT_OK);
	ck_assert_str_eq(c.user_id, "u-5");
	/* none: the browser's "guest" */
	ck_assert_int_eq(zai_jwt_claims(HDR "eyJuYW1lIjoibm9ib2R5In0" SIG, &c),
	    ZAI_JWT_OK);
	ck_assert_str_eq(c.user_id, "guest");
	ck_assert_str_eq(c.email, "");
}
END_TEST

START_TEST(t_jwt_bad)
{
	struct zai_claims c;
	char big[ZAI_JWT_MAX + 8];

	/* not JSON, a JSON array, not base64url: guest, with the reason */
	ck_assert_int_eq(zai_jwt_claims(HDR "bm90IGpzb24" SIG, &c),
	    ZAI_JWT_JSON);
	ck_assert_str_eq(c.user_id, "guest");
	ck_assert_int_eq(zai_jwt_claims(HDR "WzEsMl0" SIG, &c), ZAI_JWT_JSON);
	ck_assert_int_eq(zai_jwt_claims(HDR "eyJpZCI6MX0xy" SIG, &c),
	    ZAI_JWT_BASE64);		/* 4n+1 characters */
	ck_assert_int_eq(zai_jwt_claims("sk-placeholder-key-of-some-sdk-xyz",
	    &c), ZAI_JWT_SHAPE);
	ck_assert_int_eq(zai_jwt_claims(HDR "eyJpZCI6MX0", &c), ZAI_JWT_SHAPE);
	ck_assert_int_eq(zai_jwt_claims(NULL, &c), ZAI_JWT_SHAPE);
	ck_assert_str_eq(zai_jwt_strerror(ZAI_JWT_JSON),
	    "the JWT payload is not a JSON object");
	/* the shape alone */
	ck_assert_int_eq(zai_jwt_shape(HDR "eyJpZCI6MX0" SIG,
	    strlen(HDR "eyJpZCI6MX0" SIG)), 1);
	ck_assert_int_eq(zai_jwt_shape(HDR "eyJp ZCI6MX0" SIG,
	    strlen(HDR "eyJp ZCI6MX0" SIG)), 0);
	ck_assert_int_eq(zai_jwt_shape(HDR ".c2ln", strlen(HDR ".c2ln")), 0);
	ck_assert_int_eq(zai_jwt_shape(HDR "eyJpZCI6MX0" SIG ".x",
	    strlen(HDR "eyJpZCI6MX0" SIG ".x")), 0);
	ck_assert_int_eq(zai_jwt_shape("a.b.c", 5), 0);	/* too short */
	memset(big, 'A', sizeof(big));
	big[10] = big[20] = '.';
	ck_assert_int_eq(zai_jwt_shape(big, ZAI_JWT_MAX), 1);
	ck_assert_int_eq(zai_jwt_shape(big, ZAI_JWT_MAX + 1), 0);
}
END_TEST

/* ------------------------------------------------------------ bodies */

static struct chat_part	 parts[16];
static struct chat_message msgs[8];
static size_t		 np, nm;

static void
msg(enum chat_role role, const char *a, const char *b)
{
	struct chat_message *m = &msgs[nm++];

	memset(m, 0, sizeof(*m));
	m->role = role;
	m->parts = &parts[np];
	if (a != NULL) {
		parts[np].type = CHAT_PART_TEXT;
		parts[np].text = a;
		parts[np++].len = strlen(a);
		m->nparts++;
	}
	if (b != NULL) {
		parts[np].type = CHAT_PART_TEXT;
		parts[np].text = b;
		parts[np++].len = strlen(b);
		m->nparts++;
	}
}

static struct chat_request *
request(void)
{
	static struct chat_request cr;

	memset(&cr, 0, sizeof(cr));
	cr.messages = msgs;
	cr.nmessages = nm;
	return &cr;
}

static void
reset(void)
{
	np = nm = 0;
}

static const char *
turn(const struct zai_history *h, size_t i)
{
	static char out[1024];

	ck_assert_uint_lt(i, h->n);
	snprintf(out, sizeof(out), "%s:%.*s", h->turns[i].role,
	    (int)h->turns[i].len, h->turns[i].text);
	return out;
}

START_TEST(t_history)
{
	struct zai_history h;
	struct arena a;

	arena_init(&a, 0);
	reset();
	msg(CHAT_ROLE_SYSTEM, "Be brief.", NULL);
	msg(CHAT_ROLE_USER, "First", "part two");
	msg(CHAT_ROLE_DEVELOPER, "Use English.", NULL);
	msg(CHAT_ROLE_ASSISTANT, "Answer one", NULL);
	msg(CHAT_ROLE_ASSISTANT, NULL, NULL);		/* no text: left out */
	msg(CHAT_ROLE_TOOL, "tool says 42", NULL);
	msg(CHAT_ROLE_USER, "Last question", NULL);
	ck_assert_int_eq(zai_history(&a, request(), &h), ZAI_BODY_OK);
	ck_assert_uint_eq(h.n, 4);
	ck_assert_str_eq(turn(&h, 0), "user:Be brief.\n\nUse English.\n\n"
	    "User: First\npart two");
	ck_assert_str_eq(turn(&h, 1), "assistant:Answer one");
	ck_assert_str_eq(turn(&h, 2), "user:tool says 42");
	ck_assert_str_eq(turn(&h, 3), "user:Last question");
	ck_assert_uint_eq(h.last_len, 13);
	ck_assert(memcmp(h.last, "Last question", 13) == 0);

	/* one user message with a system one: signed without the prefix */
	reset();
	msg(CHAT_ROLE_SYSTEM, "Sys", NULL);
	msg(CHAT_ROLE_USER, "Hi", NULL);
	ck_assert_int_eq(zai_history(&a, request(), &h), ZAI_BODY_OK);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_str_eq(turn(&h, 0), "user:Sys\n\nUser: Hi");
	ck_assert(h.last_len == 2 && memcmp(h.last, "Hi", 2) == 0);

	/* system text alone is the user's; an empty system is nothing */
	reset();
	msg(CHAT_ROLE_SYSTEM, "", NULL);
	msg(CHAT_ROLE_SYSTEM, "Only this", NULL);
	ck_assert_int_eq(zai_history(&a, request(), &h), ZAI_BODY_OK);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_str_eq(turn(&h, 0), "user:Only this");
	ck_assert(h.last_len == 9 && memcmp(h.last, "Only this", 9) == 0);

	/* nothing to say; an assistant alone says nothing either */
	reset();
	msg(CHAT_ROLE_USER, "", NULL);
	ck_assert_int_eq(zai_history(&a, request(), &h), ZAI_BODY_EMPTY);
	reset();
	msg(CHAT_ROLE_ASSISTANT, "prefill", NULL);
	ck_assert_int_eq(zai_history(&a, request(), &h), ZAI_BODY_EMPTY);

	/* an image: refused, not dropped */
	reset();
	msg(CHAT_ROLE_USER, "look", NULL);
	parts[np].type = CHAT_PART_IMAGE;
	parts[np++].url = "data:image/png;base64,AAAA";
	msgs[0].nparts++;
	ck_assert_int_eq(zai_history(&a, request(), &h), ZAI_BODY_ATTACHMENT);
	ck_assert(strstr(zai_body_strerror(ZAI_BODY_ATTACHMENT),
	    "text only") != NULL);
	arena_free(&a);
}
END_TEST

START_TEST(t_new_chat_body)
{
	struct zai_history h;
	struct arena a;
	char *s;

	arena_init(&a, 0);
	reset();
	msg(CHAT_ROLE_USER, "say \"hi\"\n", NULL);
	ck_assert_int_eq(zai_history(&a, request(), &h), ZAI_BODY_OK);
	s = zai_new_chat_body(&a, "glm-4.7", "m-1", &h, TS);
	ck_assert_str_eq(s, "{\"chat\":{\"id\":\"\",\"title\":\"New Chat\","
	    "\"models\":[\"glm-4.7\"],\"params\":{},\"history\":{\"messages\":"
	    "{\"m-1\":{\"id\":\"m-1\",\"parentId\":null,\"childrenIds\":[],"
	    "\"role\":\"user\",\"content\":\"say \\\"hi\\\"\\n\","
	    "\"timestamp\":1771762969,\"models\":[\"glm-4.7\"]}},"
	    "\"currentId\":\"m-1\"},\"tags\":[],\"flags\":[],\"features\":"
	    "[{\"type\":\"tool_selector\",\"server\":\"tool_selector_h\","
	    "\"status\":\"hidden\"}],\"mcp_servers\":[],\"enable_thinking\":"
	    "false,\"auto_web_search\":false,\"message_version\":1,"
	    "\"extra\":{},\"timestamp\":1771762969397}}");
	arena_free(&a);
}
END_TEST

static const char *
jstr(struct json_object *o, const char *path)
{
	struct json_object *v = o;
	char key[64];
	const char *p = path, *dot;

	while (p != NULL) {
		dot = strchr(p, '/');
		snprintf(key, sizeof(key), "%.*s", dot ? (int)(dot - p) :
		    (int)strlen(p), p);
		ck_assert_msg(json_object_object_get_ex(v, key, &v), "%s",
		    path);
		p = dot ? dot + 1 : NULL;
	}
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

START_TEST(t_completion_body)
{
	struct zai_completion_in in = { "GLM-5-Turbo", "chat-1", RID, "m-1", 1,
	    0, TS };
	struct json_object *o, *v;
	struct zai_history h;
	struct arena a;
	char *s;
	size_t i;
	static const char *const keys[] = { "stream", "model", "messages",
	    "signature_prompt", "params", "extra", "features", "variables",
	    "chat_id", "id", "current_user_message_id",
	    "current_user_message_parent_id", "background_tasks" };

	arena_init(&a, 0);
	reset();
	msg(CHAT_ROLE_SYSTEM, "Sys", NULL);
	msg(CHAT_ROLE_USER, "Q1", NULL);
	msg(CHAT_ROLE_ASSISTANT, "A1", NULL);
	msg(CHAT_ROLE_USER, "Q2 \xe4\xb8\xad", NULL);
	ck_assert_int_eq(zai_history(&a, request(), &h), ZAI_BODY_OK);
	s = zai_completion_body(&a, &h, &in);
	ck_assert_ptr_nonnull(o = json_tokener_parse(s));
	/* the keys in §8.2's order */
	i = 0;
	json_object_object_foreach(o, k, val) {
		(void)val;
		ck_assert_uint_lt(i, sizeof(keys) / sizeof(keys[0]));
		ck_assert_str_eq(k, keys[i++]);
	}
	ck_assert_uint_eq(i, sizeof(keys) / sizeof(keys[0]));
	ck_assert_str_eq(jstr(o, "stream"), "true");
	ck_assert_str_eq(jstr(o, "model"), "\"GLM-5-Turbo\"");
	ck_assert_str_eq(jstr(o, "messages"), "[{\"role\":\"user\",\"content\":"
	    "\"Sys\\n\\nUser: Q1\"},{\"role\":\"assistant\","
	    "\"content\":\"A1\"},"
	    "{\"role\":\"user\",\"content\":\"Q2 \xe4\xb8\xad\"}]");
	ck_assert_str_eq(jstr(o, "signature_prompt"), "\"Q2 \xe4\xb8\xad\"");
	ck_assert_str_eq(jstr(o, "features"), "{\"image_generation\":false,"
	    "\"web_search\":false,\"auto_web_search\":false,\"preview_mode\":"
	    "true,\"flags\":[],\"vlm_tools_enable\":false,"
	    "\"vlm_web_search_enable\":false,\"vlm_website_mode\":false,"
	    "\"enable_thinking\":true}");
	ck_assert_str_eq(jstr(o, "variables"), "{\"{{USER_NAME}}\":\"User\","
	    "\"{{USER_LOCATION}}\":\"Unknown\",\"{{CURRENT_DATETIME}}\":"
	    "\"2026-02-22 12:22:49\",\"{{CURRENT_DATE}}\":\"2026-02-22\","
	    "\"{{CURRENT_TIME}}\":\"12:22:49\",\"{{CURRENT_WEEKDAY}}\":"
	    "\"Sunday\",\"{{CURRENT_TIMEZONE}}\":\"UTC\",\"{{USER_LANGUAGE}}\":"
	    "\"en-US\"}");
	ck_assert_str_eq(jstr(o, "chat_id"), "\"chat-1\"");
	ck_assert_str_eq(jstr(o, "id"), "\"" RID "\"");
	ck_assert_str_eq(jstr(o, "current_user_message_id"), "\"m-1\"");
	ck_assert_str_eq(jstr(o, "current_user_message_parent_id"), "null");
	ck_assert_str_eq(jstr(o, "background_tasks"), "{\"title_generation\":"
	    "true,\"tags_generation\":true}");
	ck_assert(json_object_object_get_ex(o, "params", &v) &&
	    json_object_object_length(v) == 0);
	json_object_put(o);
	/* search on, thinking off */
	in.think = 0;
	in.search = 1;
	ck_assert_ptr_nonnull(o = json_tokener_parse(zai_completion_body(&a,
	    &h, &in)));
	ck_assert_str_eq(jstr(o, "features/auto_web_search"), "true");
	ck_assert_str_eq(jstr(o, "features/enable_thinking"), "false");
	ck_assert_str_eq(jstr(o, "features/web_search"), "false");
	json_object_put(o);
	arena_free(&a);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("zai_sign");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, t_sign_vector);
	tcase_add_test(tc, t_sign_others);
	tcase_add_test(tc, t_sign_limits);
	tcase_add_test(tc, t_form);
	tcase_add_test(tc, t_query);
	tcase_add_test(tc, t_times);
	tcase_add_test(tc, t_jwt_claims);
	tcase_add_test(tc, t_jwt_bad);
	tcase_add_test(tc, t_history);
	tcase_add_test(tc, t_new_chat_body);
	tcase_add_test(tc, t_completion_body);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(suite)
