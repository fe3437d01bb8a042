#!/usr/bin/env python3
"""The gateway (ENABLE_GATEWAY=true) end to end through nginx + spawn-fcgi
(2 processes sharing LMDB) against tests/mock/chatgpt_site_mock.py:

  * /login (CSP, CSRF: missing, wrong, cross-site), the token cookie
    (HttpOnly, SameSite=Lax, Secure behind TLS), an empty entry reusing it,
    /?token= logins that leave the URL, an AUTHORIZATION code refused as a
    login, logout;
  * AccessToken and RefreshToken logins: the page carries the login, never
    the exchanged AccessToken;
  * seeds: the mirrored page (context filled, hosts rewritten, integrity gone,
    nonce on every script), isolation (a second seed neither lists, reads,
    patches nor continues the first one's conversation: 404), PATCH title /
    archive / hide keeping the seed's list in step, offset/limit/is_archived,
    banned routes 403, faked routes, the real AccessToken and e-mail replaced
    in whatever comes back;
  * the proxy: the mock saw the real AccessToken and never a seed or one of
    our cookies; redirects as 307 with Location rewritten; SSE through nginx
    event by event; a 5 MB asset byte-exact with its length and without
    growing the worker (peak RSS); images keep their headers, lose the rest;
    statsig ip/country masked; FILE_HOST/VOICE_HOST in text; WebSocket 426;
  * NO_SENTINEL (fake requirements, the server's sentinel, x-sign),
    FORCE_NO_HISTORY, the page cache (GATEWAY_PAGE_TTL);
  * AUTO_SEED=false, the /seedtoken admin API with and without the code,
    /auth/refresh, /seed_tokens/clear on the real store;
  * the gateway off: today's JSON 404s;
  * headless Chromium (tests/browser/gateway_browser.mjs): login, the mirror,
    a streamed conversation, isolation, the fallback page; screenshots
    $top_builddir/test-artifacts/gateway-{login,mirror,fallback}.png;
  * no seed, token, code or cookie value in any log line (chat2api's and
    nginx's).

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1, C2A_IT_NO_BROWSER=1.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Missing, Results  # noqa: E402
import chatgpt_mock  # noqa: E402
import chatgpt_site_mock  # noqa: E402

CODE = "gw-admin-code-7c1e2f"
AT = chatgpt_mock.DEFAULT_ACCESS_TOKEN
RT = chatgpt_mock.DEFAULT_REFRESH_TOKEN
RT_AT = chatgpt_mock.DEFAULT_REFRESH_ACCESS_TOKEN
SEED_A, SEED_B, SEED_C = "seed-alpha-4f1b", "seed-bravo-9e2d", "seed-link-c3a0"
BROWSER_A, BROWSER_B = "browser-seed-a-71", "browser-seed-b-72"
SET_SEED = "chat-share-user-17"
SECRETS = {CODE, AT, RT, RT_AT, SEED_A, SEED_B, SEED_C, BROWSER_A, BROWSER_B, SET_SEED}
SECRETS.update("flood-seed-%02d" % i for i in range(40))
FORM = "application/x-www-form-urlencoded"
BROWSER_DIR = os.path.join(os.path.dirname(HERE), "browser")
CONV_BODY = {"action": "next", "model": "auto", "parent_message_id": "client-root",
             "messages": [{"id": "aaaaaaaa-0000-4000-8000-000000000001", "author": {"role": "user"},
                           "content": {"content_type": "text", "parts": ["hello gateway"]}}],
             "supported_encodings": ["v1"], "history_and_training_disabled": False}


def req(port, method, path, body=None, ctype=None, cookie=None, bearer=None, headers=None,
        timeout=30):
    h = {}
    if ctype:
        h["Content-Type"] = ctype
    if cookie:
        h["Cookie"] = cookie
    if bearer:
        h["Authorization"] = "Bearer " + bearer
    h.update(headers or {})
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    return harness.http(port, method, path, body, headers=h, timeout=timeout)


def cookie_of(resp, name):
    for k, v in resp.headers:
        if k.lower() == "set-cookie" and v.startswith(name + "="):
            return v
    return None


def conversation(port, seed, prompt="hello gateway", cid=None, parent=None):
    body = json.loads(json.dumps(CONV_BODY))
    body["messages"][0]["content"]["parts"] = [prompt]
    body["messages"][0]["id"] = "aaaaaaaa-0000-4000-8000-%012d" % (int(time.time() * 1000) % 10 ** 12)
    if cid:
        body["conversation_id"] = cid
        body["parent_message_id"] = parent
    return req(port, "POST", "/backend-api/conversation", body, bearer=seed,
               headers={"Accept": "text/event-stream"})


def sse_conv_id(resp):
    for _, ev in resp.sse_events():
        for line in ev.split("\n"):
            if not line.startswith("data: {"):
                continue
            try:
                j = json.loads(line[6:])
            except ValueError:
                continue
            v = j.get("v")
            cid = j.get("conversation_id") or (v.get("conversation_id") if isinstance(v, dict)
                                               else None)
            if cid:
                return cid
    return None


def last_assistant(resp):
    """The id of the assistant message (the parent of a follow-up)."""
    mid = None
    for _, ev in resp.sse_events():
        for line in ev.split("\n"):
            if line.startswith("data: {"):
                try:
                    j = json.loads(line[6:])
                except ValueError:
                    continue
                v = j.get("v")
                if isinstance(v, dict) and (v.get("message") or {}).get("author", {}).get("role") == \
                        "assistant":
                    mid = v["message"]["id"]
    return mid


def login_form(port):
    """GET /login: (nonce cookie pair, csrf)."""
    resp = req(port, "GET", "/login")
    ck = (cookie_of(resp, "c2a_gw_login") or "").split(";")[0]
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', resp.body.decode("utf-8", "replace"))
    return resp, ck, (m.group(1) if m else None)


def login(port, token, cookie_extra=None):
    _, ck, csrf = login_form(port)
    cookie = ck + ("; " + cookie_extra if cookie_extra else "")
    return req(port, "POST", "/login", urllib.parse.urlencode({"csrf": csrf or "", "token": token}),
               FORM, cookie=cookie, headers={"Sec-Fetch-Site": "same-origin"})


def token_cookie(resp):
    sc = cookie_of(resp, "token") or ""
    return sc.split(";")[0] if sc else None


def add_pool(r, port, pre):
    resp = req(port, "POST", "/tokens/upload", {"tokens": [AT]}, bearer=CODE)
    r.check(pre + "the mock's account is in the pool", resp.status == 200 and
            (resp.json() or {}).get("tokens_count") == 1, resp.describe())


def vm_hwm(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---------------------------------------------------------------- login
def login_suite(r, fe, mock):
    port, pre = fe.port, "login: "
    resp, ck, csrf = login_form(port)
    body = resp.body.decode("utf-8", "replace")
    csp = resp.header("content-security-policy") or ""
    r.check(pre + "/login: the form, CSP, no script, nothing from elsewhere",
            resp.status == 200 and 'id="login-form"' in body and 'action="/login"' in body and
            "default-src 'none'" in csp and "form-action 'self'" in csp and
            "<script" not in body and not re.search(r'(src|href)="(https?:)?//', body),
            resp.describe() + " csp=" + csp)
    r.check(pre + "its form nonce cookie: HttpOnly, SameSite=Strict", "HttpOnly" in
            (cookie_of(resp, "c2a_gw_login") or "") and "SameSite=Strict" in
            (cookie_of(resp, "c2a_gw_login") or "") and csrf is not None,
            str(resp.headers))
    form = urllib.parse.urlencode({"csrf": csrf, "token": SEED_A})
    resp = req(port, "POST", "/login", urllib.parse.urlencode({"token": SEED_A}), FORM, cookie=ck)
    r.check(pre + "no CSRF field: 403, no cookie", resp.status == 403 and
            token_cookie(resp) is None, resp.describe())
    resp = req(port, "POST", "/login", form.replace(csrf, "0" * 64), FORM, cookie=ck)
    r.check(pre + "a wrong CSRF field: 403", resp.status == 403, resp.describe())
    resp = req(port, "POST", "/login", form, FORM, cookie=ck,
               headers={"Sec-Fetch-Site": "cross-site"})
    r.check(pre + "posted from another site: 403", resp.status == 403, resp.describe())
    resp = req(port, "POST", "/login", form, FORM, cookie=ck, headers={"Sec-Fetch-Site": "same-origin"})
    sc = cookie_of(resp, "token") or ""
    attrs = [a.strip() for a in sc.split(";")]
    r.check(pre + "a seed logs in: 303 to /, token cookie HttpOnly, SameSite=Lax, not Secure on http",
            resp.status == 303 and resp.header("location") == "/" and
            attrs[0] == "token=" + SEED_A and "HttpOnly" in attrs and "SameSite=Lax" in attrs and
            "Secure" not in attrs and "Path=/" in attrs, resp.describe() + " " + sc)
    resp = login(port, SEED_A, None)
    _, ck2, csrf2 = login_form(port)
    resp = req(port, "POST", "/login", urllib.parse.urlencode({"csrf": csrf2, "token": SEED_A}), FORM,
               cookie=ck2, headers={"X-Forwarded-Proto": "https"})
    r.check(pre + "behind TLS (X-Forwarded-Proto: https) the cookie is Secure",
            "Secure" in [a.strip() for a in (cookie_of(resp, "token") or "").split(";")],
            str(resp.headers))
    _, ck3, csrf3 = login_form(port)
    resp = req(port, "POST", "/login", urllib.parse.urlencode({"csrf": csrf3, "token": ""}), FORM,
               cookie=ck3 + "; token=" + SEED_A)
    r.check(pre + "an empty entry continues with the last login", resp.status == 303 and
            token_cookie(resp) == "token=" + SEED_A, resp.describe())
    resp = req(port, "GET", "/login", cookie="token=" + SEED_A)
    r.check(pre + "the page says so when a login is there", 'id="reuse"' in resp.text(20000),
            resp.describe())
    resp = login(port, CODE)
    r.check(pre + "an AUTHORIZATION code is no login (401, no cookie)", resp.status == 401 and
            token_cookie(resp) is None, resp.describe())
    resp = login(port, "not a seed!")
    r.check(pre + "a seed with other characters: 401 and why", resp.status == 401 and
            "letters, digits" in resp.text(20000), resp.describe())
    resp = req(port, "GET", "/?token=" + SEED_C)
    r.check(pre + "/?token=seed logs in and drops the token from the URL", resp.status == 303 and
            resp.header("location") == "/" and token_cookie(resp) == "token=" + SEED_C and
            "no-referrer" in (resp.header("referrer-policy") or ""), resp.describe())
    resp = req(port, "GET", "/c/00000000-0000-4000-8000-000000000000?token=" + SEED_C)
    r.check(pre + "/c/<id>?token= keeps the path", resp.header("location") ==
            "/c/00000000-0000-4000-8000-000000000000", resp.describe())
    resp = req(port, "GET", "/")
    r.check(pre + "/ without a login: to /login", resp.status == 302 and
            resp.header("location") == "/login", resp.describe())
    resp = req(port, "GET", "/auth/logout", cookie="token=" + SEED_A)
    sc = cookie_of(resp, "token") or ""
    r.check(pre + "/auth/logout: 302 to /login, the cookie deleted, the site's storage cleared",
            resp.status == 302 and resp.header("location") == "/login" and "Max-Age=0" in sc and
            "storage" in (resp.header("clear-site-data") or ""), resp.describe() + " " + sc)


# ---------------------------------------------------------------- the page
def page_suite(r, fe, mock):
    port, pre = fe.port, "page: "
    origin = "http://127.0.0.1:%d" % port
    resp = req(port, "GET", "/", cookie="token=" + SEED_A)
    body = resp.body.decode("utf-8", "replace")
    csp = resp.header("content-security-policy") or ""
    nonce = re.search(r"'nonce-([0-9a-f]+)'", csp)
    r.check(pre + "a seed gets the live page (200, text/html, CSP with a nonce)",
            resp.status == 200 and (resp.header("content-type") or "").startswith("text/html") and
            nonce is not None and "default-src 'self'" in csp, resp.describe())
    scripts = re.findall(r"<script[^>]*>", body)
    r.check(pre + "every script tag carries the nonce", scripts and nonce and all(
        'nonce="%s"' % nonce.group(1) in s for s in scripts), "%r" % scripts)
    r.check(pre + "the context holds the seed; no AccessToken, no account e-mail in the page",
            ('\\"accessToken\\",\\"%s\\"' % SEED_A) in body and AT not in body and
            chatgpt_site_mock.ACCOUNT_EMAIL not in body and "chatgpt@openai.com" in body,
            body[-1200:])
    r.check(pre + "hosts rewritten to ours, integrity attributes disarmed",
            "cdn.oaistatic.com" not in body and "https://chatgpt.com" not in body and
            mock.url not in body and (origin + "/assets/app-mock.js") in body and
            " integrity=" not in body, body[:800])
    resp = req(port, "GET", "/", cookie="token=" + SEED_A,
               headers={"Accept-Language": "de-DE,de;q=0.9"})
    r.check(pre + "the locale comes from Accept-Language", '\\"locale\\",\\"de-DE\\"' in
            resp.text(100000), resp.text(2000)[-600:])
    resp = req(port, "GET", "/", cookie="token=" + SEED_A + "; oai-locale=fr-FR",
               headers={"Accept-Language": "de-DE"})
    r.check(pre + "... and from the oai-locale cookie first", '\\"locale\\",\\"fr-FR\\"' in
            resp.text(100000), resp.describe())
    resp = req(port, "GET", "/", cookie="token=" + SEED_A + "; oai-locale=</script><x>")
    r.check(pre + "a hostile locale cookie is not used", "</script><x>" not in resp.text(100000),
            resp.describe())
    for path in ("/c/00000000-0000-4000-8000-000000000000", "/g/g-abc", "/gpts"):
        resp = req(port, "GET", path, cookie="token=" + SEED_A)
        r.check(pre + "%s serves the page" % path, resp.status == 200 and
                "accessToken" in resp.text(100000), resp.describe())
    resp = req(port, "GET", "/library/deep/link", cookie="token=" + SEED_A,
               headers={"Sec-Fetch-Mode": "navigate", "Accept": "text/html"})
    r.check(pre + "a deep link navigation serves the page", resp.status == 200 and
            "accessToken" in resp.text(100000), resp.describe())
    resp = req(port, "GET", "/library/deep/link", cookie="token=" + SEED_A,
               headers={"Accept": "application/json"})
    r.check(pre + "... an API call to an unknown path is the JSON 404", resp.status == 404 and
            (resp.json() or {}).get("error", {}).get("code") == "not_found", resp.describe())
    resp = req(port, "GET", "/gpts.data", headers={"Referer": "http://x/gpts"})
    r.check(pre + "/gpts.data: the fixed turbo-stream", resp.status == 200 and
            (resp.header("content-type") or "").startswith("text/x-script") and
            b'"routes/gpts._index"' in resp.body, resp.describe())

    # AccessToken and RefreshToken logins
    resp = login(port, AT)
    ck = token_cookie(resp)
    page = req(port, "GET", "/", cookie=ck)
    r.check(pre + "an AccessToken logs in; its page carries it (and the account's e-mail)",
            resp.status == 303 and page.status == 200 and AT in page.text(200000) and
            chatgpt_site_mock.ACCOUNT_EMAIL in page.text(200000), page.describe())
    resp = login(port, RT)
    ck = token_cookie(resp)
    page = req(port, "GET", "/", cookie=ck)
    r.check(pre + "a RefreshToken logs in (exchanged at the mock); the page carries the RT, "
            "never the AccessToken it gave", resp.status == 303 and page.status == 200 and
            ('\\"accessToken\\",\\"%s\\"' % RT) in page.text(200000) and
            RT_AT not in page.text(200000), page.describe())
    resp = req(port, "GET", "/backend-api/me", bearer=RT)
    r.check(pre + "a RefreshToken user gets the account's own /me",
            (resp.json() or {}).get("email") == chatgpt_site_mock.ACCOUNT_EMAIL, resp.describe())
    resp = login(port, "rt-" + "9" * 42)
    r.check(pre + "an unknown RefreshToken: 401 login page", resp.status == 401 and
            "refused" in resp.text(20000), resp.describe())


# ---------------------------------------------------------------- seeds
def isolation_suite(r, fe, mock):
    port, pre = fe.port, "isolation: "
    resp = conversation(port, SEED_A, "isolation one")
    cid = sse_conv_id(resp)
    parent = last_assistant(resp)
    r.check(pre + "seed A streams a conversation", resp.status == 200 and cid is not None and
            "text/event-stream" in (resp.header("content-type") or ""), resp.describe())
    lst = req(port, "GET", "/backend-api/conversations", bearer=SEED_A).json() or {}
    items = lst.get("items") or []
    r.check(pre + "it is in A's list with the title the stream gave",
            [i.get("id") for i in items] == [cid] and items[0].get("title") ==
            "Mock: isolation one" and lst.get("total") == 1, json.dumps(lst))
    lst = req(port, "GET", "/backend-api/conversations", bearer=SEED_B).json() or {}
    r.check(pre + "B's list is empty", lst.get("items") == [] and lst.get("total") == 0,
            json.dumps(lst))
    resp = req(port, "GET", "/backend-api/conversation/" + cid, bearer=SEED_A)
    r.check(pre + "A reads its conversation", resp.status == 200 and
            (resp.json() or {}).get("conversation_id") == cid, resp.describe())
    resp = req(port, "GET", "/backend-api/conversation/" + cid, bearer=SEED_B)
    r.check(pre + "B reading A's conversation: 404", resp.status == 404 and
            "Can't load conversation" in resp.text(), resp.describe())
    resp = req(port, "PATCH", "/backend-api/conversation/" + cid, {"title": "stolen"}, bearer=SEED_B)
    r.check(pre + "B patching it: 404", resp.status == 404, resp.describe())
    resp = conversation(port, SEED_B, "continue theirs", cid=cid, parent=parent)
    r.check(pre + "B continuing it: 404", resp.status == 404, resp.describe())
    resp = req(port, "GET", "/backend-api/conversation/%s/textdocs" % cid, bearer=SEED_B)
    r.check(pre + "B on anything under it: 404", resp.status == 404, resp.describe())
    resp = conversation(port, SEED_A, "follow up", cid=cid, parent=parent)
    r.check(pre + "A continues its own", resp.status == 200 and sse_conv_id(resp) == cid,
            resp.describe())
    resp = conversation(port, SEED_A, "second chat")
    cid2 = sse_conv_id(resp)
    lst = req(port, "GET", "/backend-api/conversations", bearer=SEED_A).json() or {}
    r.check(pre + "newest first", [i["id"] for i in lst.get("items", [])] == [cid2, cid],
            json.dumps(lst))
    lst = req(port, "GET", "/backend-api/conversations?offset=1&limit=1", bearer=SEED_A).json() or {}
    r.check(pre + "offset and limit", [i["id"] for i in lst.get("items", [])] == [cid] and
            lst.get("total") == 2 and lst.get("limit") == 1 and lst.get("offset") == 1,
            json.dumps(lst))
    resp = req(port, "PATCH", "/backend-api/conversation/" + cid, {"title": "Renamed"},
               bearer=SEED_A)
    lst = req(port, "GET", "/backend-api/conversations", bearer=SEED_A).json() or {}
    r.check(pre + "A renames its conversation: the list follows", resp.status == 200 and
            any(i["id"] == cid and i["title"] == "Renamed" for i in lst.get("items", [])),
            resp.describe() + json.dumps(lst))
    req(port, "PATCH", "/backend-api/conversation/" + cid, {"is_archived": True}, bearer=SEED_A)
    lst = req(port, "GET", "/backend-api/conversations", bearer=SEED_A).json() or {}
    arch = req(port, "GET", "/backend-api/conversations?is_archived=true", bearer=SEED_A).json() or {}
    r.check(pre + "archived: out of the list, in is_archived=true",
            [i["id"] for i in lst.get("items", [])] == [cid2] and
            [i["id"] for i in arch.get("items", [])] == [cid] and arch["items"][0]["is_archived"],
            json.dumps(lst) + json.dumps(arch))
    resp = req(port, "PATCH", "/backend-api/conversation/" + cid2, {"is_visible": False},
               bearer=SEED_A)
    lst = req(port, "GET", "/backend-api/conversations", bearer=SEED_A).json() or {}
    r.check(pre + "hidden ({is_visible:false}): gone from the list", resp.status == 200 and
            lst.get("items") == [], json.dumps(lst))
    resp = req(port, "PATCH", "/backend-api/conversations", {"is_visible": False}, bearer=SEED_A)
    r.check(pre + "PATCH of every conversation: 403 for a seed", resp.status == 403,
            resp.describe())
    resp = req(port, "GET", "/backend-api/conversations", bearer=AT)
    r.check(pre + "an AccessToken user gets the account's own list (proxied)", resp.status == 200
            and cid in [i["id"] for i in (resp.json() or {}).get("items", [])], resp.describe())


def routes_suite(r, fe, mock):
    port, pre = fe.port, "routes: "
    for method, path in (("GET", "/backend-api/payments/customer_portal"),
                         ("POST", "/backend-api/accounts/logout_all"),
                         ("POST", "/backend-api/accounts/deactivate"),
                         ("GET", "/backend-api/accounts/acc-1/invites"),
                         ("POST", "/backend-api/memories"),
                         ("DELETE", "/backend-api/settings/clear_account_user_memory"),
                         ("GET", "/backend-api/conversations/bulk")):
        resp = req(port, method, path, "{}" if method != "GET" else None, bearer=SEED_A,
                   ctype="application/json" if method != "GET" else None)
        r.check(pre + "a seed: %s %s is banned (403)" % (method, path), resp.status == 403 and
                (resp.json() or {}).get("detail") == "Forbidden", resp.describe())
    resp = req(port, "GET", "/admin/anything", bearer=SEED_A)
    r.check(pre + "/admin is not the site's: never proxied (404)", resp.status == 404,
            resp.describe())
    resp = req(port, "POST", "/backend-api/accounts/logout_all", "{}", "application/json",
               bearer=AT)
    r.check(pre + "an AccessToken user is not banned (proxied: the mock's 404)",
            resp.status == 404 and "Not Found" in resp.text(), resp.describe())
    fakes = [("GET", "/backend-api/me", "user-chatgpt"),
             ("GET", "/backend-api/gizmos/bootstrap", '"gizmos":[]'),
             ("GET", "/backend-api/gizmos/pinned", '"cursor":null'),
             ("GET", "/public-api/gizmos/discovery/recent", "Recently Used"),
             ("GET", "/backend-api/subscriptions", '"plan_type":"free"'),
             ("GET", "/backend-api/tasks", '"tasks":[]'),
             ("GET", "/backend-api/user_system_messages", "user_system_message_detail"),
             ("GET", "/backend-api/memories", '"memories":[]')]
    for method, path, want in fakes:
        resp = req(port, method, path, bearer=SEED_A)
        r.check(pre + "a seed: %s is faked" % path, resp.status == 200 and want in resp.text(4000),
                resp.describe())
    for method, path, status in (("POST", "/backend-api/edge", 204), ("POST", "/v1/rgstr", 202),
                                 ("POST", "/ces/v1/t", 202), ("POST", "/ces/statsc/flush", 200),
                                 ("GET", "/ces/v1/projects/oai/settings", 200)):
        resp = req(port, method, path, "{}" if method == "POST" else None, bearer=SEED_A,
                   ctype="application/json" if method == "POST" else None)
        r.check(pre + "%s %s answered here (%d)" % (method, path, status), resp.status == status,
                resp.describe())
    resp = req(port, "GET", "/api/auth/session", cookie="token=" + SEED_A)
    j = resp.json() or {}
    r.check(pre + "/api/auth/session gives the page its login", j.get("accessToken") == SEED_A and
            (j.get("user") or {}).get("email") == "chatgpt@openai.com", resp.describe())
    resp = req(port, "GET", "/backend-api/me", bearer=AT)
    r.check(pre + "an AccessToken user's /me is the account's", (resp.json() or {}).get("email") ==
            chatgpt_site_mock.ACCOUNT_EMAIL, resp.describe())
    resp = req(port, "GET", "/backend-api/accounts/check/v4-2023-04-27", bearer=SEED_A)
    acct = ((resp.json() or {}).get("accounts") or {}).get("acc-1", {}).get("account", {})
    r.check(pre + "accounts/check for a seed: the account's user id replaced",
            acct.get("account_user_id") == "user-chatgpt__acc-1", resp.describe())
    resp = req(port, "GET", "/backend-api/me")
    r.check(pre + "/backend-api without a login: 401 {detail}", resp.status == 401 and
            (resp.json() or {}).get("detail") == "Unauthorized", resp.describe())
    resp = req(port, "GET", "/backend-api/me", bearer="bad seed")
    r.check(pre + "a malformed Bearer: 401", resp.status == 401, resp.describe())


def proxy_suite(r, fe, mock):
    port, pre = fe.port, "proxy: "
    origin = "http://127.0.0.1:%d" % port
    resp = req(port, "GET", "/backend-api/echo_auth", bearer=SEED_A, cookie="token=" + SEED_A +
               "; c2a_admin=x")
    j = resp.json() or {}
    r.check(pre + "the upstream's echo of the real token comes back as the seed; no cookie went up",
            j.get("authorization") == "Bearer " + SEED_A and j.get("cookie") is None and
            AT not in resp.text(100000), resp.describe())
    resp = req(port, "GET", "/backend-api/redirect", bearer=SEED_A)
    r.check(pre + "a redirect is a 307 with its Location made ours", resp.status == 307 and
            resp.header("location") == origin + "/assets/app-mock.js", resp.describe())
    resp = req(port, "GET", "/assets/app-mock.js")
    text = resp.text(200000)
    r.check(pre + "a script: rewritten (site hosts, the mock's base, FILE_HOST, VOICE_HOST, "
            "sandbox)", resp.status == 200 and "cdn.oaistatic.com" not in text and
            "https://chatgpt.com" not in text and mock.url not in text and
            "files.example.test/file-x" in text and "voice.example.test/v1" in text and
            "127.0.0.1:%d/sandbox/s" % port in text and (origin + "/v1/") in text and
            resp.header("cache-control") == "public, max-age=31536000, immutable",
            resp.describe())
    resp = req(port, "GET", "/assets/logo.png")
    r.check(pre + "an image: as is, its ETag kept, its Set-Cookie dropped", resp.status == 200 and
            resp.body == chatgpt_site_mock.PNG and resp.header("etag") == '"mock-png"' and
            resp.header("set-cookie") is None and resp.header("content-type") == "image/png",
            resp.describe())
    pids = fe.app_pids()
    before = {p: vm_hwm(p) for p in pids}
    size = 5 * 1024 * 1024
    t0 = time.monotonic()
    resp = req(port, "GET", "/assets/big.bin?size=%d" % size, timeout=60)
    took = time.monotonic() - t0
    grown = max([vm_hwm(p) - before.get(p, 0) for p in pids] or [0])
    r.check(pre + "a 5 MB asset arrives byte-exact with its length, no upstream-only header",
            resp.status == 200 and len(resp.body) == size and
            hashlib.sha256(resp.body).digest() ==
            hashlib.sha256(chatgpt_site_mock.big_bytes(size)).digest() and
            resp.header("content-length") == str(size) and
            resp.header("x-mock-secret-header") is None, resp.describe())
    r.check(pre + "... without being held: the workers' peak RSS grew by %d KiB (< 2 MiB)" % grown,
            0 <= grown < 2048, "before %r" % before)
    r.note("5 MiB asset through nginx + gateway in %.3f s" % took)
    resp = req(port, "GET", "/backend-api/slow_sse?n=5&ms=400", bearer=SEED_A)
    evs = resp.sse_events()
    times = [t for t, e in evs if "data:" in e]
    r.check(pre + "SSE passes event by event (first at %.2fs, last at %.2fs)" %
            (times[0] if times else -1, times[-1] if times else -1),
            resp.status == 200 and len(times) == 5 and times[0] < 0.35 and
            times[-1] - times[0] > 1.4 and
            (resp.header("content-type") or "").startswith("text/event-stream") and
            resp.header("cache-control") == "no-cache", resp.describe())
    resp = req(port, "POST", "/v1/initialize", {"user": {"userID": "x"}}, bearer=SEED_A)
    j = resp.json() or {}
    r.check(pre + "statsig: every ip 8.8.8.8 and country US", resp.status == 200 and
            j.get("user", {}).get("ip") == "8.8.8.8" and j["user"].get("country") == "US" and
            j["user"].get("custom", {}).get("ip") == "8.8.8.8", resp.describe())
    resp = req(port, "GET", "/backend-api/me", bearer=SEED_A,
               headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    r.check(pre + "a WebSocket upgrade: 426", resp.status == 426, resp.describe())
    resp = req(port, "GET", "/backend-api/me?x=%0d%0aevil", bearer=AT)
    r.check(pre + "a query the upstream could be fooled by is refused or passed encoded",
            resp.status in (200, 400), resp.describe())
    resp = req(port, "HEAD", "/assets/logo.png")
    r.check(pre + "HEAD of an asset: the head only", resp.status == 200 and resp.body == b"" and
            resp.header("content-type") == "image/png", resp.describe())


def mock_saw(r, mock, pre, chatted):
    seen = mock.seen()
    seeds = [SEED_A, SEED_B, SEED_C, BROWSER_A, BROWSER_B, SET_SEED]
    bad = [e for e in seen if any(s in json.dumps(e) for s in seeds)]
    r.check(pre + "the mock never saw a seed (%d requests)" % len(seen), not bad, repr(bad[:3]))
    authz = {e["authorization"] for e in seen}
    r.check(pre + "... only the real AccessTokens or none as Authorization",
            authz <= {None, "Bearer " + AT, "Bearer " + RT_AT} and
            (("Bearer " + AT) in authz or not chatted),
            repr(authz))
    cookies = [e["cookie"] for e in seen if e["cookie"] and ("token=" in e["cookie"] or
                                                            "c2a_" in e["cookie"])]
    r.check(pre + "... and none of our cookies", not cookies, repr(cookies[:3]))


# ---------------------------------------------------------------- admin
def admin_suite(r, fe, mock):
    port, pre = fe.port, "admin: "
    resp = req(port, "GET", "/seedtoken")
    r.check(pre + "/seedtoken without a code: 401", resp.status == 401 and
            (resp.json() or {}).get("error", {}).get("code") == "missing_authorization",
            resp.describe())
    resp = req(port, "GET", "/seedtoken", bearer="wrong")
    r.check(pre + "with a wrong code: 401", resp.status == 401, resp.describe())
    resp = req(port, "POST", "/seedtoken", {"token": AT}, bearer=CODE)
    r.check(pre + "POST without a seed: 400 (the reference: 500)", resp.status == 400 and
            (resp.json() or {})["error"]["code"] == "missing_seed", resp.describe())
    resp = req(port, "POST", "/seedtoken", {"seed": SET_SEED, "token": "not-a-token"}, bearer=CODE)
    r.check(pre + "POST with something that is no token: 400", resp.status == 400,
            resp.describe())
    resp = req(port, "POST", "/seedtoken", {"seed": "bad seed", "token": AT}, bearer=CODE)
    r.check(pre + "POST with a malformed seed: 400", resp.status == 400, resp.describe())
    resp = req(port, "POST", "/seedtoken", {"seed": SET_SEED, "token": RT}, bearer=CODE)
    r.check(pre + "POST seed -> RefreshToken", resp.status == 200 and
            (resp.json() or {}).get("message") == "Token updated successfully", resp.describe())
    resp = req(port, "GET", "/seedtoken?seed=" + SET_SEED, bearer=CODE)
    d = (resp.json() or {}).get("data") or {}
    r.check(pre + "GET one: its fingerprint and source, never the token", resp.status == 200 and
            d.get("seed") == SET_SEED and d.get("source") == "set" and
            d.get("fingerprint") == hashlib.sha256(RT.encode()).hexdigest()[:12] and
            RT not in resp.text(), resp.describe())
    resp = req(port, "GET", "/backend-api/me", bearer=SET_SEED)
    r.check(pre + "the set seed works (RT exchanged behind it; the seed still sees no account)",
            resp.status == 200 and (resp.json() or {}).get("email") == "chatgpt@openai.com",
            resp.describe())
    resp = req(port, "GET", "/seedtoken", bearer=CODE)
    d = (resp.json() or {}).get("data") or {}
    r.check(pre + "GET all: every seed with its source", SET_SEED in d and SEED_A in d and
            d[SEED_A]["source"] == "pool" and AT not in resp.text(), resp.describe())
    resp = req(port, "GET", "/seedtoken?seed=nobody-here", bearer=CODE)
    r.check(pre + "GET an unknown seed: 404 (the reference: 500)", resp.status == 404,
            resp.describe())
    resp = req(port, "DELETE", "/seedtoken", {"seed": "nobody-here"}, bearer=CODE)
    r.check(pre + "DELETE an unknown seed: 404", resp.status == 404, resp.describe())
    resp = req(port, "DELETE", "/seedtoken", {}, bearer=CODE)
    r.check(pre + "DELETE without a seed: 400", resp.status == 400, resp.describe())
    resp = req(port, "DELETE", "/seedtoken", {"seed": SET_SEED}, bearer=CODE)
    r.check(pre + "DELETE one", resp.status == 200 and (resp.json() or {}).get("removed") == 1,
            resp.describe())
    resp = req(port, "POST", "/auth/refresh", urllib.parse.urlencode({"refresh_token": RT}), FORM)
    j = resp.json() or {}
    r.check(pre + "/auth/refresh: the AccessToken, models and the account check",
            resp.status == 200 and j.get("accessToken") == RT_AT and j.get("refresh_token") == RT and
            j.get("accountCheckInfo", {}).get("plan_type") == "plus" and
            isinstance(j.get("models"), list) and j["models"], resp.describe())
    resp = req(port, "POST", "/auth/refresh", urllib.parse.urlencode({"access_token": AT}), FORM)
    j = resp.json() or {}
    r.check(pre + "/auth/refresh with a long-lived AccessToken keeps it", resp.status == 200 and
            j.get("accessToken") == AT, resp.describe())
    resp = req(port, "POST", "/auth/refresh", urllib.parse.urlencode({"refresh_token": "rt-" + "1" * 42}),
               FORM)
    r.check(pre + "/auth/refresh with a refused RefreshToken: 401", resp.status == 401,
            resp.describe())
    n_before = len(((req(port, "GET", "/seedtoken", bearer=CODE).json() or {}).get("data") or {}))
    resp = req(port, "POST", "/tokens/login", urllib.parse.urlencode({"code": CODE}), FORM,
               headers={"Sec-Fetch-Site": "same-origin"})
    admin = (cookie_of(resp, "c2a_admin") or "").split(";")[0]
    page = req(port, "GET", "/tokens", cookie=admin)
    r.check(pre + "the /tokens page counts the seeds of the store (%d)" % n_before,
            ('id="seed-count">%d<' % n_before) in page.text(200000), page.describe())
    resp = req(port, "POST", "/seed_tokens/clear", None, bearer=CODE)
    j = resp.json() or {}
    after = (req(port, "GET", "/seedtoken", bearer=CODE).json() or {}).get("data")
    r.check(pre + "/seed_tokens/clear empties the real store (%d seeds)" % n_before,
            resp.status == 200 and j.get("removed") == n_before and n_before >= 3 and after == {},
            resp.describe())
    lst = req(port, "GET", "/backend-api/conversations", bearer=SEED_A).json() or {}
    r.check(pre + "... a seed that comes back starts over", lst.get("items") == [],
            json.dumps(lst))


# ---------------------------------------------------------------- options
def options_suite(r, fe, mock):
    """NO_SENTINEL, X_SIGN, FORCE_NO_HISTORY, GATEWAY_PAGE_TTL=300."""
    port, pre = fe.port, "options: "
    resp = req(port, "POST", "/backend-api/sentinel/chat-requirements", {"p": "x"}, bearer=SEED_A)
    j = resp.json() or {}
    r.check(pre + "NO_SENTINEL: chat-requirements answered here, nothing required",
            resp.status == 200 and j.get("persona") == "chatgpt-paid" and
            j.get("proofofwork", {}).get("required") is False and len(j.get("token", "")) == 36,
            resp.describe())
    resp = req(port, "POST", "/backend-api/conversation", CONV_BODY, bearer=SEED_A,
               headers={"Accept": "text/event-stream",
                        "openai-sentinel-chat-requirements-token": j.get("token", "x"),
                        "openai-sentinel-proof-token": "gAAAAABfake"})
    last = mock.snapshot().get("last_conversation") or {}
    r.check(pre + "... the conversation carries the server's own sentinel tokens (the mock "
            "checked the proof)", resp.status == 200 and
            (last.get("sentinel") or {}).get("proof") == "ok" and
            (last.get("sentinel") or {}).get("chat_token") == "ok", resp.describe() +
            json.dumps(last.get("sentinel")))
    r.check(pre + "X_SIGN: the x-sign header on it", resp.header("x-sign") == "sig-123",
            str(resp.headers))
    r.check(pre + "FORCE_NO_HISTORY: the mock got history_and_training_disabled=true",
            (last.get("body") or {}).get("history_and_training_disabled") is True,
            json.dumps(last.get("body"))[:400])
    lst = req(port, "GET", "/backend-api/conversations", bearer=SEED_A).json() or {}
    r.check(pre + "... and a temporary chat joins no seed's list", lst.get("items") == [],
            json.dumps(lst))
    home = lambda: sum(1 for e in mock.seen() if e["path"] == "/" and e["authorization"])  # noqa
    n0 = home()
    for _ in range(3):
        req(port, "GET", "/", cookie="token=" + SEED_A)
    r.check(pre + "GATEWAY_PAGE_TTL=300: three page views, at most one fetch per worker "
            "(%d)" % (home() - n0), 1 <= home() - n0 <= 2, "fetches %d" % (home() - n0))


def seed_flood_suite(r, fe, mock):
    """One address makes at most GW_NEW_SEEDS (30) seeds per window."""
    port, pre = fe.port, "seed flood: "
    made, first_refused = 1, None          # SEED_A exists already
    for i in range(40):
        resp = req(port, "GET", "/backend-api/me", bearer="flood-seed-%02d" % i)
        if resp.status == 429:
            first_refused = i
            break
        made += resp.status == 200
    r.check(pre + "the 31st new seed from one address is refused (429)", made == 30 and
            first_refused == 29, "made %d, first refused at %r" % (made, first_refused))
    resp = req(port, "GET", "/backend-api/me", bearer=SEED_A)
    r.check(pre + "... seeds that exist go on working", resp.status == 200, resp.describe())


def noauto_suite(r, fe, mock):
    port, pre = fe.port, "AUTO_SEED=false: "
    resp = login(port, SEED_B)
    r.check(pre + "an unknown seed is refused (401 Invalid Seed)", resp.status == 401 and
            "Invalid Seed" in resp.text(20000), resp.describe())
    resp = req(port, "GET", "/backend-api/me", bearer=SEED_B)
    r.check(pre + "... on the API of the page too", resp.status == 401 and
            (resp.json() or {}).get("detail") == "Invalid Seed", resp.describe())
    resp = req(port, "POST", "/seedtoken", {"seed": SEED_B, "token": AT}, bearer=CODE)
    r.check(pre + "the operator sets it", resp.status == 200, resp.describe())
    resp = login(port, SEED_B)
    r.check(pre + "then it logs in", resp.status == 303 and token_cookie(resp) == "token=" + SEED_B,
            resp.describe())
    resp = req(port, "DELETE", "/seedtoken", {"seed": SEED_B}, bearer=CODE)
    resp = req(port, "GET", "/backend-api/me", bearer=SEED_B)
    r.check(pre + "removed, it is refused again", resp.status == 401, resp.describe())


def off_suite(r, fe, mock):
    port, pre = fe.port, "gateway off: "
    resp = req(port, "GET", "/")
    r.check(pre + "/ is the JSON index", resp.status == 200 and
            (resp.json() or {}).get("name") == "chat2api", resp.describe())
    for path in ("/login", "/backend-api/me", "/assets/app-mock.js", "/seedtoken", "/c/abc"):
        resp = req(port, "GET", path, bearer=SEED_A)
        r.check(pre + "GET %s: the JSON 404" % path, resp.status == 404 and
                (resp.json() or {}).get("error", {}).get("code") == "not_found", resp.describe())
    resp = req(port, "POST", "/health", "{}", "application/json")
    r.check(pre + "a wrong method on a route still 405", resp.status == 405, resp.describe())


# ---------------------------------------------------------------- browser
def browser_dir():
    base = os.environ.get("top_builddir") or os.getcwd()
    dest = os.path.join(base, "tests", "browser-node")
    os.makedirs(dest, exist_ok=True)
    for f in ("package.json", "package-lock.json", "gateway_browser.mjs"):
        shutil.copyfile(os.path.join(BROWSER_DIR, f), os.path.join(dest, f))
    if not os.path.isdir(os.path.join(dest, "node_modules", "playwright-core")):
        rc = subprocess.run([harness.which("npm"), "ci", "--no-audit", "--no-fund", "--silent"],
                            cwd=dest, capture_output=True, text=True, timeout=300)
        if rc.returncode != 0:
            raise HarnessError("npm ci failed: " + (rc.stderr or rc.stdout)[-800:])
    return dest


def browser_suite(r, fe, mock):
    pre = "browser: "
    if os.environ.get("C2A_IT_NO_BROWSER") == "1":
        r.skip(pre + "headless Chromium", "C2A_IT_NO_BROWSER=1")
        return
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        raise Missing("chromium is not installed (apt-get install chromium)")
    node = harness.which("node")
    bdir = browser_dir()
    art = os.path.join(os.environ.get("top_builddir") or os.getcwd(), "test-artifacts")
    os.makedirs(art, exist_ok=True)
    shots = [os.path.join(art, "gateway-%s.png" % n) for n in ("login", "mirror", "fallback")]
    for s in shots:
        if os.path.exists(s):
            os.unlink(s)
    p = subprocess.run([node, os.path.join(bdir, "gateway_browser.mjs"),
                        "http://127.0.0.1:%d" % fe.port, mock.url, BROWSER_A, BROWSER_B, art],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, CHROMIUM=chromium))
    done = False
    for line in p.stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("done"):
            done = True
        elif "check" in o:
            r.check(pre + o["check"], o.get("ok"), o.get("detail"))
    r.check(pre + "the browser script ran to the end", done and p.returncode == 0,
            "rc=%s stderr=%s" % (p.returncode, p.stderr[-1500:]))
    for s in shots:
        r.check(pre + "screenshot kept: " + os.path.basename(s), os.path.exists(s), s)


def no_secrets_logged(r, ws, label):
    leaks = []
    logdir = ws.path("log")
    for fn in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
        try:
            with open(os.path.join(logdir, fn), "rb") as f:
                data = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        for s in SECRETS:
            if s in data:
                leaks.append("%s in %s" % (s[:10] + "...", fn))
    r.check(label + ": no seed, token, code or cookie value in any log file", not leaks,
            "; ".join(leaks[:5]))


# ---------------------------------------------------------------- setups
def run_setup(r, binary, label, extra, suites):
    ws = harness.Workspace("gateway-" + label)
    mock = None
    try:
        mock = chatgpt_site_mock.ChatGPTSiteMock().start()
        fe = harness.Nginx(ws, binary, pfx=False,
                           variant="gateway" if extra.get("ENABLE_GATEWAY") else None)
        fe.check_installed()
        fe.app_extra = {"AUTHORIZATION": CODE, "CHATGPT_BASE_URL": mock.url,
                        "OAUTH_URL": mock.url + "/oauth/token", "RETRY_TIMES": "0",
                        "CHAT2API_MAX_BODY": "20m"}
        fe.app_extra.update(extra)
        fe.start()
        if extra.get("ENABLE_GATEWAY") == "true":
            add_pool(r, fe.port, label + ": ")
        for fn in suites:
            try:
                fn(r, fe, mock)
            except Missing as e:
                if harness.allow_skip():
                    r.skip(label + ": " + fn.__name__, str(e))
                else:
                    r.fail(label + ": " + fn.__name__ + ": setup", str(e))
        if extra.get("ENABLE_GATEWAY") == "true":
            mock_saw(r, mock, label + ": ", label != "noauto")
        fe.ws.stop_all()
        no_secrets_logged(r, ws, label)
        if r.failed:
            r.note(ws.log_tails(30))
    except HarnessError as e:
        harness.report_setup(r, label, e)
    finally:
        if mock is not None:
            mock.stop()
        harness.finish_workspace(r, ws, "gateway-" + label)


def main():
    r = Results("test_gateway")
    harness.install_signal_handlers(900)
    binary = harness.find_binary()
    on = {"ENABLE_GATEWAY": "true", "GATEWAY_PAGE_TTL": "0", "FILE_HOST": "files.example.test",
          "VOICE_HOST": "voice.example.test"}
    run_setup(r, binary, "main", on, [login_suite, page_suite, isolation_suite, routes_suite,
                                      proxy_suite, browser_suite, admin_suite])
    run_setup(r, binary, "options", dict(on, NO_SENTINEL="true", X_SIGN="sig-123",
                                         FORCE_NO_HISTORY="true", GATEWAY_PAGE_TTL="300"),
              [options_suite, seed_flood_suite])
    run_setup(r, binary, "noauto", dict(on, AUTO_SEED="false"), [noauto_suite])
    run_setup(r, binary, "off", {}, [off_suite])
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
