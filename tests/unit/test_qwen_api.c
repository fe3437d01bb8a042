/*
 * Unit tests for the rest of upstream/qwen/: the ticket as users paste
 * it (normalize, classify, the cookie it becomes, the client's own key),
 * the names and the models they route to (§6.2, §1.2), the query and its
 * nonce, the device id, the headers, and the JSON envelope of refusals.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/arena.h"
#include "fcgi/conf.h"
#include "tests/unit/unit.h"
#include "upstream/qwen/internal.h"
#include "upstream/qwen/qwen.h"
#include "upstream/qwen/stream.h"
#include "upstream/route.h"

#define T	"qwMockTicket0001-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_AbCdEf*GhIj"
#define AL	"login_aliyunid_ticket="

static const struct provider *P = &qwen_provider;

/* normalize(pasted) is want (NULL: refused). */
static void
norm_is(const char *pasted, const char *want)
{
	char	*got = P->normalize(pasted);

	if (want == NULL)
		ck_assert_msg(got == NULL, "[%s] gave [%s]", pasted, got);
	else {
		ck_assert_msg(got != NULL, "[%s] refused", pasted);
		ck_assert_str_eq(got, want);
	}
	free(got);
}

START_TEST(tickets_as_pasted)
{
	norm_is(T, T);
	norm_is("  " T "\n", T);
	norm_is("tongyi_sso_ticket=" T, T);
	norm_is("tongyi_sso_ticket=\"" T "\"", T);
	norm_is("cna=abc; tongyi_sso_ticket=" T "; t=xyz", T);
	norm_is("a=b;tongyi_sso_ticket=" T, T);
	/* both: the tongyi one wins */
	norm_is(AL "aliyunTicketValue0001; tongyi_sso_ticket=" T, T);
	norm_is(AL "aliyunTicketValue0001", AL "aliyunTicketValue0001");
	norm_is("x=1; " AL "aliyunTicketValue0001 ; y=2",
	    AL "aliyunTicketValue0001");
	/* Base64 padding in a bare ticket */
	norm_is("AbCdEfGhIjKlMnOpQr==", "AbCdEfGhIjKlMnOpQr==");
	/* refused: short, separators, spaces, unknown or dead cookies */
	norm_is("short", NULL);
	norm_is("", NULL);
	norm_is("abcdefghijklmnop qrstuvwxyz", NULL);
	norm_is("login_tongyi_ticket=" T, NULL);
	norm_is("cna=abc; other=defghijklmnopqrstuvwxyz", NULL);
	norm_is("tongyi_sso_ticket=short", NULL);
	norm_is("tongyi_sso_ticket=" T ",x", NULL);
	norm_is(AL "bad value with spaces", NULL);
	norm_is("abc\"defghijklmnopqrstuvwxyz", NULL);
}
END_TEST

START_TEST(kinds_and_cookies)
{
	struct arena			 a;
	struct provider_account		 acct;

	arena_init(&a, 0);
	ck_assert_int_eq(P->classify(T), 0);
	ck_assert_int_eq(P->classify(AL "aliyunTicketValue0001"), 1);
	ck_assert_str_eq(provider_kind_name(P, 0), "sso_ticket");
	ck_assert_str_eq(provider_kind_name(P, 1), "aliyun_ticket");
	ck_assert_str_eq(qw_cookie(&a, T), "tongyi_sso_ticket=" T);
	ck_assert_str_eq(qw_cookie(&a, AL "aliyunTicketValue0001"),
	    AL "aliyunTicketValue0001");
	ck_assert_ptr_null(qw_cookie(&a, "short"));
	ck_assert_ptr_null(qw_cookie(&a, AL "x"));
	ck_assert_ptr_null(qw_cookie(&a, NULL));
	/* the client's own ticket as its API key; placeholders are not */
	ck_assert_int_eq(P->raw_credential(&a, T, &acct), 1);
	ck_assert_str_eq(acct.secret, T);
	ck_assert_int_eq(acct.kind, 0);
	ck_assert_int_eq(P->raw_credential(&a, AL "aliyunTicketValue0001",
	    &acct), 1);
	ck_assert_int_eq(acct.kind, 1);
	ck_assert_int_eq(P->raw_credential(&a, "tongyi_sso_ticket=" T, &acct),
	    1);
	ck_assert_str_eq(acct.secret, T);
	ck_assert_int_eq(P->raw_credential(&a, "sk-abcdefghijklmnopqrstuvwxyz",
	    &acct), 0);
	ck_assert_int_eq(P->raw_credential(&a, "none", &acct), 0);
	/* chat.qwen.ai's JWT is Qwen AI's, not a qianwen.com ticket */
	ck_assert_int_eq(P->raw_credential(&a, "eyJhbGciOiJIUzI1NiJ9."
	    "eyJpZCI6InUxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJlLXZhbHVl",
	    &acct), 0);
	ck_assert_int_eq(P->raw_credential(&a, "a=b; tongyi_sso_ticket=" T,
	    &acct), 0);
	/* a comma list: one of them, each in any form but a cookie header */
	ck_assert_int_eq(P->raw_credential(&a, T "," AL "aliyunTicketValue0001",
	    &acct), 1);
	ck_assert(strcmp(acct.secret, T) == 0 ||
	    strcmp(acct.secret, AL "aliyunTicketValue0001") == 0);
	ck_assert_int_eq(acct.kind, strcmp(acct.secret, T) != 0);
	/* the account form: one secret field, the ticket */
	ck_assert_uint_eq(P->nfields, 1);
	ck_assert_str_eq(P->fields[0].name, "ticket");
	ck_assert_int_eq(P->fields[0].required, 1);
	arena_free(&a);
}
END_TEST

/* name → provider, upstream model (thinking applied), flags */
static void
routes_to(const char *name, const char *upstream, unsigned flags)
{
	struct config	 cfg;
	struct arena	 a;
	struct route	 r;

	memset(&cfg, 0, sizeof(cfg));
	arena_init(&a, 0);
	ck_assert_int_eq(route_resolve(&cfg, NULL, &a, name, &r), ROUTE_OK);
	ck_assert_msg(r.provider == P, "%s went to %s", name, r.provider->id);
	ck_assert_msg(strcmp(qw_upstream_model(&r), upstream) == 0,
	    "%s: %s, want %s", name, qw_upstream_model(&r), upstream);
	ck_assert_msg(r.flags == flags, "%s: flags %x, want %x", name,
	    r.flags, flags);
	arena_free(&a);
}

START_TEST(models_and_switches)
{
	const unsigned	 TH = ROUTE_THINK, SE = ROUTE_SEARCH;

	routes_to("Qwen3", "tongyi-qwen3-max-model-agent", 0);
	routes_to("qwen3-max", "tongyi-qwen3-max-model-agent", 0);
	routes_to("Qwen3-Max-Think", "tongyi-qwen3-max-thinking-agent", TH);
	routes_to("Qwen3-Think", "tongyi-qwen3-max-thinking-agent", TH);
	routes_to("Qwen3-Max-Thinking", "tongyi-qwen3-max-thinking-agent",
	    TH);
	routes_to("Qwen3-Plus", "tongyi-qwen-plus-agent", 0);
	/* a thinking switch on another model keeps the model */
	routes_to("Qwen3-Plus-Think", "tongyi-qwen-plus-agent", TH);
	routes_to("Qwen3-Plus-Search", "tongyi-qwen-plus-agent", SE);
	routes_to("Qwen3-Max-Think-Search", "tongyi-qwen3-max-thinking-agent",
	    TH | SE);
	routes_to("Qwen3.5-Plus", "Qwen3.5-Plus", 0);
	routes_to("Qwen3-Flash", "qwen3-flash", 0);
	routes_to("Qwen3-Coder", "qwen3-coder-plus", 0);
	routes_to("tongyi-qwen3-max-model-agent",
	    "tongyi-qwen3-max-model-agent", 0);
	routes_to("tongyi-qwen3-max-thinking-agent",
	    "tongyi-qwen3-max-thinking-agent", TH);
	ck_assert_uint_eq(P->name_flags("my-R1-search"), TH | SE);
	ck_assert_uint_eq(P->name_flags("plain"), 0);
}
END_TEST

START_TEST(query_nonce_device)
{
	struct arena	 a;
	char		 n[QW_NONCE_LEN + 1];
	char		 id[QW_HEX_ID + 1], id2[QW_HEX_ID + 1];
	size_t		 i, k;

	arena_init(&a, 0);
	/* §6.1 / §6.2, in the reference's order */
	ck_assert_str_eq(qw_query(&a, "0123456789abcdef0123456789abcdef",
	    NULL, 0), "biz_id=ai_qwen&chat_client=h5&device=pc&fr=pc&pr=qwen&"
	    "ut=0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(qw_query(&a, "0123456789abcdef0123456789abcdef",
	    "a1b2c3d4e5f6", 1764547200123LL), "biz_id=ai_qwen&chat_client=h5&"
	    "device=pc&fr=pc&pr=qwen&ut=0123456789abcdef0123456789abcdef&"
	    "nonce=a1b2c3d4e5f6&timestamp=1764547200123");
	for (k = 0; k < 200; k++) {
		qw_nonce(n);
		ck_assert_uint_eq(strlen(n), QW_NONCE_LEN);
		for (i = 0; i < QW_NONCE_LEN; i++)
			ck_assert((n[i] >= 'a' && n[i] <= 'z') ||
			    (n[i] >= '0' && n[i] <= '9'));
	}
	qw_hex_id(id);
	qw_hex_id(id2);
	ck_assert_uint_eq(strlen(id), QW_HEX_ID);
	ck_assert_uint_eq(strspn(id, "0123456789abcdef"), QW_HEX_ID);
	ck_assert_str_ne(id, id2);
	/* SHA-256("qwen-device:" ticket), 16 bytes in hex: stable */
	qw_device_id(T, id);
	ck_assert_str_eq(id, "84b1dd3bfd49adabf0c9bf932cf28b98");
	qw_device_id("abc", id);
	ck_assert_str_eq(id, "48f8d274953c9bfdda7384166b0600ed");
	arena_free(&a);
}
END_TEST

START_TEST(call_and_headers)
{
	struct config		 cfg;
	struct provider_ctx	 x;
	struct arena		 a;
	struct qw_call		 c;
	const char		**h, *base[] = { "http://127.0.0.1:9/" };
	size_t			 i, n;
	int			 api;

	memset(&cfg, 0, sizeof(cfg));
	arena_init(&a, 0);
	x.cfg = &cfg;
	x.store = NULL;
	x.arena = &a;
	/* no QWEN_BASE_URL: the two real hosts */
	ck_assert_int_eq(qw_call_init(&c, &x, T), 0);
	ck_assert_str_eq(c.chat_base, "https://chat2.qianwen.com");
	ck_assert_str_eq(c.api_base, "https://chat2-api.qianwen.com");
	ck_assert_str_eq(c.cookie, "tongyi_sso_ticket=" T);
	ck_assert_str_eq(c.device, "84b1dd3bfd49adabf0c9bf932cf28b98");
	ck_assert_ptr_null(c.proxy);
	/* one base for both */
	cfg.qwen_base_url.v = (char **)base;
	cfg.qwen_base_url.n = 1;
	ck_assert_int_eq(qw_call_init(&c, &x, T), 0);
	ck_assert_str_eq(c.chat_base, "http://127.0.0.1:9");
	ck_assert_str_eq(c.api_base, "http://127.0.0.1:9");
	for (api = 0; api < 2; api++) {
		h = qw_headers(&c, api);
		for (n = 0; h[n] != NULL; n++)
			;
		ck_assert_uint_eq(n, api ? 15 : 13);
		ck_assert_str_eq(h[0], api ? "accept: application/json, "
		    "text/plain, */*" : "accept: application/json, "
		    "text/event-stream, text/plain, */*");
		for (i = 0; i < n; i++)
			ck_assert_msg(strncasecmp(h[i], "accept-encoding", 15) !=
			    0, "curl offers its own codings");
		ck_assert_str_eq(h[3], "cookie: tongyi_sso_ticket=" T);
		ck_assert_str_eq(h[4], "origin: https://www.qianwen.com");
		ck_assert_str_eq(h[5], "referer: https://www.qianwen.com/");
		ck_assert_str_eq(h[11], "sec-fetch-site: same-site");
		ck_assert(strstr(h[12], "Chrome/145") != NULL);
		if (api) {
			ck_assert_str_eq(h[13], "x-platform: pc_tongyi");
			ck_assert_str_eq(h[14], "x-deviceid: "
			    "84b1dd3bfd49adabf0c9bf932cf28b98");
		}
	}
	ck_assert_int_eq(qw_call_init(&c, &x, "bad ticket"), -1);
	arena_free(&a);
}
END_TEST

/* {success, code, errorCode, errorMsg}: what a refusal says. */
START_TEST(envelopes)
{
	static const struct {
		const char	*json;
		int		 rc;
		const char	*code, *msg;
		int		 status;
	} v[] = {
		{ "{\"success\":true,\"code\":0,\"data\":{}}", 0, "", "", 502 },
		{ "{\"success\":true,\"data\":{\"list\":[]}}", 0, "", "", 502 },
		{ "{\"success\":false,\"code\":40100,\"errorCode\":\"NOT_LOGIN\","
		  "\"errorMsg\":\"\xe8\xaf\xb7\xe5\x85\x88\xe7\x99\xbb\xe5\xbd"
		  "\x95\"}", -1, "NOT_LOGIN", "\xe8\xaf\xb7\xe5\x85\x88\xe7\x99"
		  "\xbb\xe5\xbd\x95", 401 },
		{ "{\"success\":false,\"errorCode\":\"FLOW_LIMIT\",\"errorMsg\":"
		  "\"slow down\"}", -1, "FLOW_LIMIT", "slow down", 429 },
		{ "{\"code\":50000,\"msg\":\"line\\none\"}", -1, "50000",
		  "line one", 502 },
		{ "{\"success\":false}", -1, "", "", 502 },
		{ "{\"error_code\":\"E\",\"message\":\"m\"}", -1, "E", "m", 502 },
		{ "[1]", -1, "", "an answer that is no JSON object", 502 },
	};
	struct json_object	*o;
	struct qw_call		 c;
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&c, 0, sizeof(c));
		o = json_tokener_parse(v[i].json);
		ck_assert_int_eq(qw_envelope(&c, o), v[i].rc);
		ck_assert_str_eq(c.code, v[i].code);
		ck_assert_str_eq(c.msg, v[i].msg);
		if (v[i].rc < 0)
			ck_assert_int_eq(qw_error_status(c.code, c.msg),
			    v[i].status);
		json_object_put(o);
	}
	/* told to nobody: the kind of failure is still returned */
	memset(&c, 0, sizeof(c));
	snprintf(c.code, sizeof(c.code), "NOT_LOGIN");
	ck_assert_int_eq(qw_fail(&c, "test"), QW_STEP_EXPIRED);
	snprintf(c.code, sizeof(c.code), "OTHER");
	ck_assert_int_eq(qw_fail(&c, "test"), QW_STEP_FAILED);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("qwen_api");
	TCase	*t = tcase_create("api");

	tcase_add_test(t, tickets_as_pasted);
	tcase_add_test(t, kinds_and_cookies);
	tcase_add_test(t, models_and_switches);
	tcase_add_test(t, query_nonce_device);
	tcase_add_test(t, call_and_headers);
	tcase_add_test(t, envelopes);
	suite_add_tcase(s, t);
	return s;
}

UNIT_MAIN(suite)
