#!/usr/bin/env python3
"""The /admin console through nginx + spawn-fcgi (2 processes), the DeepSeek
mock as the upstream (and CGI runs for API_PREFIX):

  * without a login: the page and its live fragment answer 401 with the
    login form (posting to /admin/login); a form POST is sent back (303)
    to the login; under API_PREFIX the same;
  * the login is /tokens' own: a wrong code 401, a right one 303 back to
    /admin with the session cookie; /tokens' login still lands on /tokens;
  * the overview: every number box, six inline SVG charts, a CSP that
    allows only this page's nonce, no external script, font or style;
  * traffic made through the management API's account and key shows up:
    requests today, success rate, requests per minute, p95, the bars of
    the per-minute chart, the provider and model shares; a model name
    with <script> is shown escaped;
  * logout refused without or with a wrong CSRF token (403), then done,
    and the cookie no longer opens the page; the login's throttle is
    /tokens' own; no code, credential or key reaches a log file;
  * "Delete all upstream chats": the button only on rows whose provider
    has a bulk delete (DeepSeek, not Kimi), CSRF refused, a confirmation
    page first, an upstream 500 shown as a clear message, then the mock's
    chats of that account gone and the other account's kept; the same
    through the management API, with and without its secret;
  * headless Chromium (tests/browser/admin_browser.mjs): login, the charts
    drawn with a real size, the live refresh under the CSP, dark mode, an
    account added through the form, bulk validate one by one with its
    progress bar, delete all its upstream chats, delete, a key created
    and shown once, a mapping added and resolved, the log filtered and
    an entry opened, sessions and settings, the navigation,
    logout; screenshots in test-artifacts/admin-*.png.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import html
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
from harness import HarnessError, Results  # noqa: E402
import deepseek_mock  # noqa: E402

CODE = "adm-code-7c1e-" + "q" * 12
SECRET = "adm-mgmt-secret-" + "z" * 16
U1 = deepseek_mock.DEFAULT_USER_TOKEN
U2 = deepseek_mock.OTHER_USER_TOKEN
BOGUS = "dsNoSuchUserToken" + "9" * 40
KIMI = "kimiAdminPurgeToken." + "y" * 40
FORM = "application/x-www-form-urlencoded"
SAME = {"Sec-Fetch-Site": "same-origin"}
EVIL = "<script>alert(1)</script>"
DOWN = "http://127.0.0.1:9"
BROWSER_DIR = os.path.join(os.path.dirname(HERE), "browser")
KEYS = []       # every API key the test made: none may reach a log


def req(port, method, path, body=None, ctype=None, cookie=None, headers=None):
    h = {}
    if ctype:
        h["Content-Type"] = ctype
    if cookie:
        h["Cookie"] = cookie
    h.update(headers or {})
    if body is None and method == "POST":
        body = b""
    return harness.http(port, method, path, body, headers=h, timeout=30)


def mgmt(port, method, path, body=None):
    h = {"Authorization": "Bearer " + SECRET}
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    resp = harness.http(port, method, "/v0/management/" + path, body, headers=h, timeout=60)
    doc = resp.json() or {}
    return resp, (doc.get("data") if doc.get("success") is True else None)


def chat(port, key, content, model="DeepSeek-V3.2"):
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    return harness.http(port, "POST", "/v1/chat/completions", json.dumps(body),
                        headers={"Content-Type": "application/json",
                                 "Authorization": "Bearer " + key}, timeout=60)


def text(resp):
    return resp.body.decode("utf-8", "replace")


def box(page, bid):
    m = re.search(r'<b id="%s">([^<]*)</b>' % re.escape(bid), page)
    return m.group(1) if m else None


def form(**kv):
    return urllib.parse.urlencode(kv)


def login(r, port, pre, base=""):
    resp = req(port, "POST", base + "/admin/login", form(code=CODE), FORM, headers=SAME)
    sc = resp.header("set-cookie") or ""
    ok = r.check(pre + "login: 303 back to /admin with the session cookie",
                 resp.status == 303 and resp.header("location") == base + "/admin?m=login" and
                 sc.startswith("c2a_admin="), resp.describe() + " set-cookie=" + sc)
    return sc.split(";", 1)[0] if ok else None


def check_anonymous(r, port, pre, base=""):
    resp = req(port, "GET", base + "/admin")
    page = text(resp)
    r.check(pre + "GET /admin without a login: 401 with the login form to /admin/login",
            resp.status == 401 and 'action="%s/admin/login"' % base in page and
            'id="live"' not in page, resp.describe())
    head = re.search(r"<header><h1>chat2api <span>([^<]*)</span></h1>", page)
    r.check(pre + "the login page's header says admin, not tokens",
            head is not None and head.group(1) == "\u00b7 admin", head.group(0) if head else "")
    resp = req(port, "GET", base + "/admin?fragment=1")
    r.check(pre + "the live fragment without a login: 401, no numbers",
            resp.status == 401 and 'id="requests"' not in text(resp), resp.describe())
    resp = req(port, "POST", base + "/admin/logout", form(csrf="0" * 64), FORM, headers=SAME)
    r.check(pre + "a form POST without a login: 303 to the login",
            resp.status == 303 and
            resp.header("location") == base + "/admin?m=session", resp.describe())
    resp = req(port, "POST", base + "/admin/login", form(code="wrong-code"), FORM,
               headers=SAME)
    r.check(pre + "a wrong code: 401 and no cookie",
            resp.status == 401 and not resp.header("set-cookie"), resp.describe())
    resp = req(port, "POST", base + "/admin/login", form(code=CODE), FORM,
               headers={"Sec-Fetch-Site": "cross-site"})
    r.check(pre + "a login form from another site: 403", resp.status == 403,
            resp.describe())


def check_page_shape(r, port, cookie):
    resp = req(port, "GET", "/admin?m=login", cookie=cookie)
    page = text(resp)
    csp = resp.header("content-security-policy") or ""
    nonce = re.search(r"script-src 'nonce-([0-9a-f]{32})'", csp)
    r.check("the overview: 200 with the flash 'Logged in.'",
            resp.status == 200 and "Logged in." in page, resp.describe())
    r.check("CSP: scripts and styles only by this response's nonce, fetch to self only",
            nonce is not None and "default-src 'none'" in csp and
            "connect-src 'self'" in csp and
            ('<script nonce="%s">' % nonce.group(1)) in page, csp)
    r.check("no external script, style, font or image: no src=, no href to another host",
            " src=" not in page and "http://" not in page and "https://" not in page and
            "@import" not in page and "url(" not in page, page[:300])
    for bid in ("uptime", "requests", "success-rate", "avg-latency", "p95-latency", "rpm",
                "streams"):
        r.check("number box %s present" % bid, box(page, bid) is not None, bid)
    r.check("six inline SVG charts",
            page.count("<svg class=\"chart") == 6 and
            all('id="chart-%s"' % c in page for c in ("rpm", "rpm-day", "latency",
                                                        "latency-day", "providers",
                                                        "models")), "")
    r.check("light and dark: prefers-color-scheme in the CSS",
            "prefers-color-scheme:dark" in page, "")
    r.check("the logout form carries the CSRF token",
            re.search(r'action="/admin/logout" id="logout"><input type="hidden" '
                      r'name="csrf" value="[0-9a-f]{64}"', page) is not None, "")
    frag = req(port, "GET", "/admin?fragment=1", cookie=cookie)
    ft = text(frag)
    r.check("?fragment=1: only the live part, no script, no page shell",
            frag.status == 200 and 'id="requests"' in ft and "<html" not in ft and
            "<script" not in ft and "script-src" not in
            (frag.header("content-security-policy") or ""), frag.describe())
    return page


def check_traffic(r, port, cookie, before):
    resp, d = mgmt(port, "POST", "accounts", {"provider": "deepseek", "credential": U1,
                                              "label": EVIL, "validate": True})
    r.check("an account added through the management API (the mock validates it)",
            resp.status == 200 and d and d.get("added") is True, resp.describe())
    resp, d = mgmt(port, "POST", "api-keys", {"name": "admin-test"})
    key = (d or {}).get("key") or ""
    KEYS.append(key)
    r.check("a key created", key.startswith("sk-"), resp.describe())
    n0 = int(box(before, "requests") or "-1")
    codes = [chat(port, key, "hello %d" % i).status for i in range(3)]
    codes.append(chat(port, key, "broken [[fail:400]]").status)
    codes.append(chat(port, key, "x", model=EVIL).status)
    r.check("five chat requests: three answered, two refused",
            codes[:3] == [200] * 3 and codes[3] >= 400 and codes[4] >= 400, repr(codes))
    resp = req(port, "GET", "/admin?fragment=1", cookie=cookie)
    page = text(resp)
    n1 = int(box(page, "requests") or "-1")
    r.check("requests today grew by exactly 5 (%d -> %d)" % (n0, n1), n1 == n0 + 5,
            box(page, "requests"))
    rate = box(page, "success-rate") or ""
    want = "%.1f%%" % (3 * 100.0 / n1) if n1 > 0 else "?"
    r.check("success rate today: 3 of %d = %s" % (n1, want), rate == want, rate)
    rpm = float(box(page, "rpm") or "0")
    r.check("requests per minute above zero", rpm > 0, box(page, "rpm"))
    r.check("p95 latency now a number of ms",
            re.fullmatch(r"\d+ ms", box(page, "p95-latency") or "") is not None,
            box(page, "p95-latency"))
    bars = re.search(r'id="chart-rpm">.*?</svg>', page, re.S)
    r.check("the per-minute chart draws requests and errors",
            bars is not None and 'class="ch-bar"' in bars.group(0) and
            'class="ch-err"' in bars.group(0), bars.group(0)[:400] if bars else page[:400])
    # the day's hours are the same minute buckets summed: equal totals
    day = re.search(r'id="chart-rpm-day">.*?</svg>', page, re.S)
    tips = lambda m: [tuple(map(int, t)) for t in re.findall(
        r'<title>(\d+) requests, (\d+) errors</title>', m.group(0) if m else "")]
    th, td = tips(bars), tips(day)
    r.check("the last day per hour: its sums equal the last hour's (%s)"
            % (repr(tuple(map(sum, zip(*td)))) if td else "none"),
            day is not None and day.group(0).count("ch-bar") >= 1 and
            len(td) >= 1 and tuple(map(sum, zip(*td))) == tuple(map(sum, zip(*th))) and
            td[-1][0] >= 5 and td[-1][1] >= 1, day.group(0)[:400] if day else "")
    r.check("the last hour's chart reads -60 min, the last day's -24 h",
            bars is not None and ">-60 min</text>" in bars.group(0) and day is not None and
            ">-24 h</text>" in day.group(0), "")
    lat = re.search(r'id="chart-latency">.*?</svg>', page, re.S)
    r.check("the latency chart draws a line and the p50/p95 marks",
            lat is not None and re.search(r'class="ch-line" d="M[\d.]+ [\d.]+',
                                          lat.group(0)) is not None and
            'class="ch-p95"' in lat.group(0), lat.group(0)[:400] if lat else "")
    prov = re.search(r'id="chart-providers">.*?</svg>', page, re.S)
    r.check("the provider share names deepseek with its requests",
            prov is not None and re.search(r'>deepseek</text>.*?>4 \(\d+%\)</text>',
                                           prov.group(0), re.S) is not None,
            prov.group(0)[:600] if prov else "")
    models = re.search(r'id="chart-models">.*?</svg>', page, re.S)
    r.check("the model share names DeepSeek-V3.2",
            models is not None and ">DeepSeek-V3.2</text>" in models.group(0),
            models.group(0)[:600] if models else "")
    r.check("a model name with <script> is shown escaped, never as markup",
            "&lt;script&gt;alert(1)&lt;/script&gt;" in page and EVIL not in page,
            page[page.find("chart-models"):][:800])
    row = re.search(r"<tr><td>deepseek</td>(.*?)</tr>", page)
    cells = re.findall(r'<td class="n[^"]*">([^<]*)</td>', row.group(1)) if row else []
    r.check("providers table: deepseek with 1 active account and a last latency",
            len(cells) == 5 and cells[0] == "1" and cells[1] == "1" and
            cells[4].endswith(" ms"), repr(cells))


def fp(secret):
    import hashlib
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


ACTIONS = ("add", "validate", "enable", "disable", "delete", "purge")


def acc_row(page, secret):
    m = re.search(r'<tr data-fp="%s">(.*?)</tr>' % fp(secret), page, re.S)
    return m.group(1) if m else None


def check_accounts(r, port, cookie):
    for a in ACTIONS:
        resp = req(port, "POST", "/admin/accounts/" + a, form(csrf="0" * 64, id="x"), FORM,
                   headers=SAME)
        r.check("accounts/%s without a login: 303 to the login" % a,
                resp.status == 303 and
                resp.header("location") == "/admin/accounts?m=session", resp.describe())
    resp = req(port, "GET", "/admin/accounts")
    r.check("GET /admin/accounts without a login: 401 and the login form",
            resp.status == 401 and 'id="login-form"' in text(resp), resp.describe())
    page = text(req(port, "GET", "/admin/accounts?provider=deepseek", cookie=cookie))
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    csrf = csrf.group(1) if csrf else ""
    r.check("the accounts page: every form carries the CSRF token",
            csrf and page.count("<form ") == page.count('name="csrf" value="%s"' % csrf) >= 5,
            "%d forms" % page.count("<form "))
    resp = req(port, "GET", "/admin/accounts?provider=deepseek", cookie=cookie)
    csp = resp.header("content-security-policy") or ""
    nonce = re.search(r"script-src 'nonce-([0-9a-f]+)'", csp)
    r.check("bulk validate: the no-JS form, a hidden <progress>, and the one script under "
            "the page's nonce (connect-src 'self' for its posts)",
            re.search(r'<form method="post" id="bulk-form" action="/admin/accounts/validate">'
                      r'<input type="hidden" name="csrf" value="%s"><input type="hidden" '
                      r'name="provider" value="deepseek">' % csrf, page) is not None and
            re.search(r'<progress id="bulk-progress" max="\d+" value="0" hidden>', page)
            is not None and nonce is not None and "connect-src 'self'" in csp and
            text(resp).count("<script") == 1 and
            '<script nonce="%s">' % nonce.group(1) in text(resp), csp)
    r.check("the add form has the provider's credential field and the label, limit, weight",
            'name="credential"' in page and 'name="label"' in page and
            'name="daily_limit"' in page and 'name="weight"' in page, "")
    row = acc_row(page, U1) or ""
    r.check("the account added by API is listed with its label escaped, by fingerprint",
            "&lt;script&gt;alert(1)&lt;/script&gt;" in row and EVIL not in page and
            U1 not in page, row[:400])
    for a in ACTIONS:
        for c in ("", "0" * 64):
            resp = req(port, "POST", "/admin/accounts/" + a,
                       form(csrf=c, id=fp(U1), provider="deepseek", credential=U2), FORM,
                       cookie=cookie, headers=SAME)
            r.check("accounts/%s with %s CSRF token: 403" % (a, "a wrong" if c else "no"),
                    resp.status == 403, resp.describe())
    resp = req(port, "POST", "/admin/accounts/add",
               form(csrf=csrf, provider="deepseek", credential=U2, label="two", weight="3",
                    daily_limit="50"), FORM, cookie=cookie, headers=SAME)
    r.check("add an account the mock validates: 303 with m=added",
            resp.status == 303 and
            resp.header("location") == "/admin/accounts?provider=deepseek&m=added",
            resp.describe())
    page = text(req(port, "GET", "/admin/accounts?provider=deepseek&m=added", cookie=cookie))
    row = acc_row(page, U2) or ""
    r.check("listed: label, active, 0 / 50 with a bar, weight 3",
            ">two</td>" in row and 'class="st-active">active<' in row and
            "0 / 50" in row and 'class="use"' in row and '<td class="n">3</td>' in row and
            "Account validated and added." in page and U2 not in page, row[:600])
    resp = req(port, "POST", "/admin/accounts/add",
               form(csrf=csrf, provider="deepseek", credential=BOGUS), FORM, cookie=cookie,
               headers=SAME)
    page = text(req(port, "GET", "/admin/accounts?provider=deepseek", cookie=cookie))
    r.check("a credential the mock refuses: m=refused and not saved",
            resp.status == 303 and resp.header("location").endswith("m=refused") and
            acc_row(page, BOGUS) is None, resp.describe())
    resp = req(port, "POST", "/admin/accounts/add", form(csrf=csrf, provider="deepseek",
                                                        credential=U2, weight="1000"),
               FORM, cookie=cookie, headers=SAME)
    r.check("a weight out of range: 400 with the page and a message",
            resp.status == 400 and "weight 1 to 100" in text(resp), resp.describe())
    resp = req(port, "POST", "/admin/accounts/disable",
               form(csrf=csrf, id=fp(U2), provider="deepseek"), FORM, cookie=cookie,
               headers=SAME)
    page = text(req(port, "GET", "/admin/accounts?provider=deepseek", cookie=cookie))
    r.check("disable: 303 and the row says inactive",
            resp.status == 303 and 'class="st-inactive">inactive<' in (acc_row(page, U2) or ""),
            resp.describe())
    resp = req(port, "POST", "/admin/accounts/enable",
               form(csrf=csrf, id=fp(U2), provider="deepseek"), FORM, cookie=cookie,
               headers=SAME)
    page = text(req(port, "GET", "/admin/accounts?provider=deepseek", cookie=cookie))
    r.check("enable: active again",
            resp.status == 303 and 'class="st-active">active<' in (acc_row(page, U2) or ""),
            resp.describe())
    resp = req(port, "POST", "/admin/accounts/validate", form(csrf=csrf, provider="deepseek"),
               FORM, cookie=cookie, headers=SAME)
    r.check("bulk validate: 2 of 2 valid",
            resp.status == 303 and resp.header("location") ==
            "/admin/accounts?provider=deepseek&m=validated&a=2&d=2", resp.describe())
    page = text(req(port, "GET", resp.header("location") or "/", cookie=cookie))
    r.check("the page says so", "Validated: 2 of 2 valid." in page, "")
    resp = req(port, "POST", "/admin/accounts/delete",
               form(csrf=csrf, id=fp(U2), provider="deepseek"), FORM, cookie=cookie,
               headers=SAME)
    page = text(req(port, "GET", "/admin/accounts?provider=deepseek", cookie=cookie))
    r.check("delete: 303 and the row is gone",
            resp.status == 303 and acc_row(page, U2) is None and acc_row(page, U1) is not None,
            resp.describe())
    resp = req(port, "POST", "/admin/accounts/delete",
               form(csrf=csrf, id=fp(U2), provider="deepseek"), FORM, cookie=cookie,
               headers=SAME)
    r.check("delete it again: 404 with the page", resp.status == 404, resp.describe())


def ds_plant(ds, owner, n):
    """n live chat sessions of owner in the DeepSeek mock."""
    with ds.state.lock:
        for _ in range(n):
            ds.state.sessions["purge-" + os.urandom(6).hex()] = {
                "owner": owner, "live": True, "next_id": 1, "replies": [], "turns": 0,
                "seen": []}


def ds_live(ds, owner):
    with ds.state.lock:
        return sum(1 for v in ds.state.sessions.values() if v["owner"] == owner and v["live"])


def check_purge(r, port, cookie, ds):
    """"Delete all upstream chats": the button where the provider has it, a
    question first, then the mock's chats of that account only are gone."""
    resp, d = mgmt(port, "POST", "accounts", {"provider": "deepseek", "credential": U2})
    r.check("purge: a second DeepSeek account (API)", d is not None, resp.describe())
    resp, d = mgmt(port, "POST", "accounts", {"provider": "kimi", "credential": KIMI})
    kimi = d["account"]["id"] if d else "none"
    ds_plant(ds, U1, 3)
    ds_plant(ds, U2, 2)
    page = text(req(port, "GET", "/admin/accounts?provider=deepseek", cookie=cookie))
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    csrf = csrf.group(1) if csrf else ""
    row = acc_row(page, U1) or ""
    r.check("purge: the DeepSeek row has the button, a POST form with the CSRF token",
            re.search(r'<form method="post" action="/admin/accounts/purge"><input type="hidden" '
                      r'name="csrf" value="%s"><input type="hidden" name="id" value="[0-9a-f]+">'
                      r'.*?>Delete all upstream chats</button>' % csrf, row) is not None, row[-700:])
    kpage = text(req(port, "GET", "/admin/accounts?provider=kimi", cookie=cookie))
    krow = acc_row(kpage, KIMI) or ""
    r.check("purge: no button on a Kimi row (its protocol has no bulk delete)",
            krow and "/admin/accounts/purge" not in krow and "Delete all upstream chats" not in
            kpage, krow[-400:])
    resp = req(port, "POST", "/admin/accounts/purge", form(csrf=csrf, id=fp(KIMI)), FORM,
               cookie=cookie, headers=SAME)
    r.check("purge: a Kimi account posted anyway: 400 with the page and a message",
            resp.status == 400 and "no way to delete all chats" in text(resp), resp.describe())
    mgmt(port, "DELETE", "accounts/" + kimi)
    resp = req(port, "POST", "/admin/accounts/purge",
               form(csrf=csrf, id=fp(U1), provider="deepseek"), FORM, cookie=cookie,
               headers=SAME)
    q = text(resp)
    r.check("purge: the first POST asks (no script needed): a confirm form with the CSRF "
            "token and confirm=yes, the fingerprint, nothing deleted yet",
            resp.status == 200 and fp(U1) in q and
            'name="confirm" value="yes"' in q and 'name="csrf" value="%s"' % csrf in q and
            'id="purge-cancel" href="/admin/accounts?provider=deepseek"' in q and
            "&lt;script&gt;" in q and EVIL not in q and U1 not in q and
            ds_live(ds, U1) >= 3, resp.describe())
    for c in ("", "0" * 64):
        resp = req(port, "POST", "/admin/accounts/purge",
                   form(csrf=c, id=fp(U1), provider="deepseek", confirm="yes"), FORM,
                   cookie=cookie, headers=SAME)
        r.check("purge with %s CSRF token and confirm=yes: 403, nothing deleted" %
                ("a wrong" if c else "no"), resp.status == 403 and ds_live(ds, U1) >= 3,
                resp.describe())
    ds.configure({"session_delete_status": 500, "session_delete_status_times": 1})
    resp = req(port, "POST", "/admin/accounts/purge",
               form(csrf=csrf, id=fp(U1), provider="deepseek", confirm="yes"), FORM,
               cookie=cookie, headers=SAME)
    r.check("purge: the upstream answers 500: 502 with the page and a clear message, the "
            "chats stay",
            resp.status == 502 and 'class="flash bad"' in text(resp) and
            "DeepSeek did not delete the chats" in text(resp) and "HTTP 500" in text(resp) and
            ds_live(ds, U1) >= 3, resp.describe())
    resp = req(port, "POST", "/admin/accounts/purge",
               form(csrf=csrf, id=fp(U1), provider="deepseek", confirm="yes"), FORM,
               cookie=cookie, headers=SAME)
    loc = resp.header("location") or ""
    r.check("purge confirmed: 303 with m=purged; the mock has none of the account's chats, "
            "the other account keeps its two",
            resp.status == 303 and loc.startswith("/admin/accounts?provider=deepseek&m=purged&d=")
            and ds_live(ds, U1) == 0 and ds_live(ds, U2) == 2, resp.describe())
    page = text(req(port, "GET", loc or "/", cookie=cookie))
    r.check("purge: the page says so", "Every upstream chat of the account was deleted; " in
            page and 'class="flash ok"' in page, "")
    resp, d = mgmt(port, "POST", "accounts/%s/purge-chats" % fp(U2))
    r.check("purge through the management API (fingerprint as the id): 200, both gone",
            resp.status == 200 and d is not None and ds_live(ds, U2) == 0, resp.describe())
    resp = harness.http(port, "POST", "/v0/management/accounts/%s/purge-chats" % fp(U2), b"",
                        timeout=30)
    r.check("purge-chats without the secret: 401", resp.status == 401, resp.describe())
    mgmt(port, "DELETE", "accounts/" + fp(U2))


KEY_ACTIONS = ("create", "enable", "disable", "delete")


def key_row(page, name_html):
    m = re.search(r'<tr data-id="([^"]+)"><td class="name">%s</td>(.*?)</tr>'
                  % re.escape(name_html), page, re.S)
    return (m.group(1), m.group(2)) if m else (None, "")


def check_keys(r, port, cookie):
    for a in KEY_ACTIONS:
        resp = req(port, "POST", "/admin/keys/" + a, form(csrf="0" * 64, id="x", name="n"),
                   FORM, headers=SAME)
        r.check("keys/%s without a login: 303 to the login" % a,
                resp.status == 303 and resp.header("location") == "/admin/keys?m=session",
                resp.describe())
    resp = req(port, "GET", "/admin/keys")
    r.check("GET /admin/keys without a login: 401", resp.status == 401, resp.describe())
    page = text(req(port, "GET", "/admin/keys", cookie=cookie))
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    csrf = csrf.group(1) if csrf else ""
    for a in KEY_ACTIONS:
        for c in ("", "0" * 64):
            resp = req(port, "POST", "/admin/keys/" + a, form(csrf=c, id="x", name="n"),
                       FORM, cookie=cookie, headers=SAME)
            r.check("keys/%s with %s CSRF token: 403" % (a, "a wrong" if c else "no"),
                    resp.status == 403, resp.describe())
    once = re.search(r'<input type="hidden" name="once" value="([0-9a-f]{32})">', page)
    once = once.group(1) if once else ""
    r.check("the create form carries a one-time token", once != "", "")
    name = "<b>ci</b>"
    resp = req(port, "POST", "/admin/keys/create", form(csrf=csrf, name=name), FORM,
               cookie=cookie, headers=SAME)
    r.check("create without the one-time token: 400, no key made",
            resp.status == 400 and 'id="key"' not in text(resp) and
            key_row(text(req(port, "GET", "/admin/keys", cookie=cookie)),
                    "&lt;b&gt;ci&lt;/b&gt;")[0] is None, resp.describe())
    resp = req(port, "POST", "/admin/keys/create", form(csrf=csrf, once=once, name=name), FORM,
               cookie=cookie, headers=SAME)
    page = text(resp)
    m = re.search(r'<code id="key">(sk-[^<]+)</code>', page)
    key = m.group(1) if m else ""
    KEYS.append(key)
    r.check("create a key: the answer shows it once, its name escaped",
            resp.status == 200 and key and "&lt;b&gt;ci&lt;/b&gt;" in page and
            "<b>ci</b>" not in page, resp.describe())
    once2 = re.search(r'name="once" value="([0-9a-f]{32})"', page)
    r.check("the answer's form has a new one-time token",
            once2 is not None and once2.group(1) != once, "")
    # a reload of that answer posts the same form again
    resp = req(port, "POST", "/admin/keys/create", form(csrf=csrf, once=once, name=name), FORM,
               cookie=cookie, headers=SAME)
    again = text(req(port, "GET", resp.header("location") or "/admin/keys", cookie=cookie))
    n_ci = len(re.findall(r'<td class="name">&lt;b&gt;ci&lt;/b&gt;</td>', again))
    r.check("a reload of the create answer: 303 m=once, no second key, no key shown (%d)"
            % n_ci, resp.status == 303 and
            resp.header("location") == "/admin/keys?m=once" and n_ci == 1 and
            "no second key was made" in again and 'id="key"' not in again and
            key not in again and key not in text(resp), resp.describe())
    page = text(req(port, "GET", "/admin/keys", cookie=cookie))
    kid, row = key_row(page, "&lt;b&gt;ci&lt;/b&gt;")
    r.check("listed by name and hint, the key itself no longer shown",
            kid and "enabled" in row and key and key not in page, row[:300])
    resp = chat(port, key, "with the console's key")
    page = text(req(port, "GET", "/admin/keys", cookie=cookie))
    r.check("the key works for a chat request, and its use is counted",
            resp.status == 200 and '<td class="n">1</td>' in key_row(page, "&lt;b&gt;ci&lt;/b&gt;")[1],
            resp.describe())
    resp = req(port, "POST", "/admin/keys/disable", form(csrf=csrf, id=kid), FORM,
               cookie=cookie, headers=SAME)
    st = chat(port, key, "disabled?").status
    r.check("disable: 303 and the key is refused",
            resp.status == 303 and resp.header("location") == "/admin/keys?m=disabled" and
            st in (401, 403), "%s chat=%d" % (resp.describe(), st))
    resp = req(port, "POST", "/admin/keys/enable", form(csrf=csrf, id=kid), FORM,
               cookie=cookie, headers=SAME)
    r.check("enable: it works again", resp.status == 303 and
            chat(port, key, "again").status == 200, resp.describe())
    resp = req(port, "POST", "/admin/keys/delete", form(csrf=csrf, id=kid), FORM,
               cookie=cookie, headers=SAME)
    page = text(req(port, "GET", "/admin/keys", cookie=cookie))
    r.check("delete: gone from the page and refused",
            resp.status == 303 and key_row(page, "&lt;b&gt;ci&lt;/b&gt;")[0] is None and
            chat(port, key, "gone").status in (401, 403), resp.describe())
    resp = req(port, "POST", "/admin/keys/create",
               form(csrf=csrf, once=once2.group(1) if once2 else "", name=""), FORM,
               cookie=cookie, headers=SAME)
    r.check("a key without a name: 400 with the page", resp.status == 400 and
            "needs a name" in text(resp), resp.describe())


def check_mappings(r, port, cookie):
    for a in ("add", "delete"):
        resp = req(port, "POST", "/admin/mappings/" + a, form(csrf="0" * 64, name="x"), FORM,
                   headers=SAME)
        r.check("mappings/%s without a login: 303 to the login" % a,
                resp.status == 303 and
                resp.header("location") == "/admin/mappings?m=session", resp.describe())
    resp = req(port, "GET", "/admin/mappings?model=DeepSeek-V3.2")
    r.check("GET /admin/mappings without a login: 401, nothing resolved",
            resp.status == 401 and 'id="resolved"' not in text(resp), resp.describe())
    page = text(req(port, "GET", "/admin/mappings", cookie=cookie))
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    csrf = csrf.group(1) if csrf else ""
    for a in ("add", "delete"):
        for c in ("", "0" * 64):
            resp = req(port, "POST", "/admin/mappings/" + a,
                       form(csrf=c, name="team-x", target="DeepSeek-V3.2"), FORM,
                       cookie=cookie, headers=SAME)
            r.check("mappings/%s with %s CSRF token: 403" % (a, "a wrong" if c else "no"),
                    resp.status == 403, resp.describe())
    resp = req(port, "POST", "/admin/mappings/add",
               form(csrf=csrf, name=EVIL, target="DeepSeek-V3.2", provider="deepseek"),
               FORM, cookie=cookie, headers=SAME)
    page = text(req(port, "GET", "/admin/mappings", cookie=cookie))
    esc = "&lt;script&gt;alert(1)&lt;/script&gt;"
    r.check("add a mapping named <script>: 303, listed escaped with a Remove form",
            resp.status == 303 and resp.header("location") == "/admin/mappings?m=added" and
            '<td class="name">%s</td>' % esc in page and EVIL not in page and
            "Remove</button>" in page, resp.describe())
    page = text(req(port, "GET", "/admin/mappings?model=" + urllib.parse.quote(EVIL),
                    cookie=cookie))
    res = re.search(r'<table id="resolved">(.*?)</table>', page, re.S)
    res = res.group(1) if res else ""
    r.check("where does it go: deepseek via the mapping, 1 usable account, name escaped",
            '<td class="provider">deepseek</td>' in res and '<td class="via">mapping</td>' in res
            and '<td class="n usable">1</td>' in res and EVIL not in page and
            'value="&#x3C;script' in page, res[:500])
    page = text(req(port, "GET", "/admin/mappings?model=DeepSeek-R1", cookie=cookie))
    res = re.search(r'<table id="resolved">(.*?)</table>', page, re.S)
    r.check("a built-in name: deepseek, built-in, thinking",
            res and '<td class="via">built-in</td>' in res.group(1) and
            '<td class="think">yes</td>' in res.group(1), page[:300])
    resp = req(port, "POST", "/admin/mappings/add", form(csrf=csrf, name="x", target=""),
               FORM, cookie=cookie, headers=SAME)
    r.check("a mapping without a target: 400 with the page", resp.status == 400 and
            'class="flash bad"' in text(resp), resp.describe())
    resp = req(port, "POST", "/admin/mappings/delete", form(csrf=csrf, name=EVIL), FORM,
               cookie=cookie, headers=SAME)
    page = text(req(port, "GET", "/admin/mappings", cookie=cookie))
    r.check("remove it: 303 and gone", resp.status == 303 and esc not in page,
            resp.describe())
    resp = req(port, "POST", "/admin/mappings/delete", form(csrf=csrf, name=EVIL), FORM,
               cookie=cookie, headers=SAME)
    r.check("remove it again: 404", resp.status == 404, resp.describe())


def log_rows(page):
    return re.findall(r'<tr data-id="(\d+)">(.*?)</tr>', page, re.S)


def check_logs(r, port, cookie):
    for path in ("/admin/logs", "/admin/logs?format=csv", "/admin/logs?format=json",
                 "/admin/logs?id=1"):
        resp = req(port, "GET", path)
        r.check("GET %s without a login: 401, no log data" % path,
                resp.status == 401 and "/v1/chat" not in text(resp), resp.describe())
    _, all_rows = mgmt(port, "GET", "logs?limit=1000")
    all_rows = all_rows or []
    page = text(req(port, "GET", "/admin/logs", cookie=cookie))
    rows = log_rows(page)
    r.check("the log page lists every logged request (%d)" % len(all_rows),
            len(rows) == len(all_rows) > 0 and
            [i for i, _ in rows] == [x["id"] for x in all_rows], "%d rows" % len(rows))
    page = text(req(port, "GET", "/admin/logs?status=4xx", cookie=cookie))
    st = [int(m) for m in re.findall(r'<td class="n status">(\d+)</td>', page)]
    want = sum(1 for x in all_rows if 400 <= x["status"] < 500)
    r.check("filter status=4xx: exactly the %d refused ones" % want,
            len(st) == want > 0 and all(400 <= x < 500 for x in st), repr(st))
    page = text(req(port, "GET", "/admin/logs?model=" + urllib.parse.quote(EVIL), cookie=cookie))
    r.check("filter by a model named <script>: one row, escaped everywhere",
            len(log_rows(page)) == 1 and EVIL not in page and
            '<td class="model">&lt;script&gt;alert(1)&lt;/script&gt;</td>' in page,
            page[page.find('id="log"'):][:600])
    page = text(req(port, "GET", "/admin/logs?provider=deepseek&q=%3Cb%3Eci", cookie=cookie))
    want_q = sum(1 for x in all_rows if x.get("provider") == "deepseek" and
                 "<b>ci" in (x.get("key") or ""))
    r.check("filter by provider and text (a key name with markup): %d rows" % want_q,
            len(log_rows(page)) == want_q > 0 and "<b>ci" not in page,
            "%d" % len(log_rows(page)))
    page = text(req(port, "GET", "/admin/logs?from=&status=&provider=&model=&q=",
                    cookie=cookie))
    r.check("the form's empty fields mean any: every entry", len(log_rows(page)) == len(all_rows),
            "%d" % len(log_rows(page)))
    frm = int(time.time()) + 3600
    page = text(req(port, "GET", "/admin/logs?from=%d" % frm, cookie=cookie))
    r.check("a time range after the traffic: nothing", log_rows(page) == [] and
            'id="none"' in page, "")
    resp = req(port, "GET", "/admin/logs?status=9xx", cookie=cookie)
    r.check("a bad status class: 400 with a message", resp.status == 400 and
            'class="flash bad"' in text(resp), resp.describe())
    page = text(req(port, "GET", "/admin/logs?status=4xx", cookie=cookie))
    csv_href = re.search(r'id="export-csv" href="([^"]+)"', page)
    href = html.unescape(csv_href.group(1)) if csv_href else ""
    resp = req(port, "GET", href or "/none", cookie=cookie)
    lines = text(resp).strip().splitlines()
    r.check("the CSV link exports the same filter",
            resp.status == 200 and "text/csv" in (resp.header("content-type") or "") and
            lines and lines[0].startswith("id,time,method,route,status") and
            len(lines) == 1 + want, "%s %s" % (href, resp.describe()))
    resp = req(port, "GET", "/admin/logs?status=4xx&format=json", cookie=cookie)
    doc = resp.json()
    r.check("the JSON export: the filtered entries",
            resp.status == 200 and isinstance(doc, list) and len(doc) == want, resp.describe())
    first = all_rows[0]["id"] if all_rows else "0"
    page = text(req(port, "GET", "/admin/logs?id=" + first, cookie=cookie))
    r.check("the detail view of the newest entry",
            'id="entry"' in page and '<td class="route">/v1/chat/completions</td>' in page,
            page[:400])
    resp = req(port, "GET", "/admin/logs?id=99999999", cookie=cookie)
    r.check("the detail of a missing entry: 404", resp.status == 404, resp.describe())


def check_sessions_settings(r, port, cookie):
    for a in ("prune", "end"):
        resp = req(port, "POST", "/admin/sessions/" + a, form(csrf="0" * 64, id="x"), FORM,
                   headers=SAME)
        r.check("sessions/%s without a login: 303 to the login" % a,
                resp.status == 303 and
                resp.header("location") == "/admin/sessions?m=session", resp.describe())
    for path in ("/admin/sessions", "/admin/settings"):
        resp = req(port, "GET", path)
        r.check("GET %s without a login: 401" % path, resp.status == 401 and
                "DEEPSEEK_BASE_URL" not in text(resp), resp.describe())
    page = text(req(port, "GET", "/admin/sessions", cookie=cookie))
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    csrf = csrf.group(1) if csrf else ""
    for a in ("prune", "end"):
        for c in ("", "0" * 64):
            resp = req(port, "POST", "/admin/sessions/" + a, form(csrf=c, id="x"), FORM,
                       cookie=cookie, headers=SAME)
            r.check("sessions/%s with %s CSRF token: 403" % (a, "a wrong" if c else "no"),
                    resp.status == 403, resp.describe())
    _, live = mgmt(port, "GET", "sessions")
    live = live or []
    ids = re.findall(r'name="id" value="([^"]+)"', page)
    r.check("the sessions page lists what the API lists (%d) with an End form each" % len(live),
            len(ids) == len(live) and (live or 'id="none"' in page) and
            all(html.escape(x["id"], quote=False) in page for x in live), "%d forms" % len(ids))
    if ids:
        resp = req(port, "POST", "/admin/sessions/end", form(csrf=csrf, id=html.unescape(ids[0])),
                   FORM, cookie=cookie, headers=SAME)
        _, after = mgmt(port, "GET", "sessions")
        r.check("end one: 303 m=ended and one fewer",
                resp.status == 303 and resp.header("location") == "/admin/sessions?m=ended" and
                len(after or []) == len(live) - 1, resp.describe())
    resp = req(port, "POST", "/admin/sessions/end", form(csrf=csrf, id="nosuchsession"), FORM,
               cookie=cookie, headers=SAME)
    r.check("end an unknown session: 404 with the page", resp.status == 404 and
            'class="flash bad"' in text(resp), resp.describe())
    resp = req(port, "POST", "/admin/sessions/prune", form(csrf=csrf), FORM, cookie=cookie,
               headers=SAME)
    r.check("prune: 303 m=pruned", resp.status == 303 and
            resp.header("location") == "/admin/sessions?m=pruned", resp.describe())
    resp = req(port, "GET", "/admin/settings", cookie=cookie)
    page = text(resp)
    row = re.search(r'<tr data-name="AUTHORIZATION">(.*?)</tr>', page, re.S)
    r.check("settings: AUTHORIZATION set, hidden, from the environment; no secret on the page",
            resp.status == 200 and row and '<td class="value">(set, hidden)</td>' in row.group(1)
            and '<td class="source">environment</td>' in row.group(1) and
            CODE not in page and SECRET not in page, row.group(1) if row else page[:300])
    row = re.search(r'<tr data-name="RETRY_TIMES">(.*?)</tr>', page, re.S)
    r.check("settings: RETRY_TIMES=1 from the environment",
            row and '<td class="value">1</td>' in row.group(1), row.group(1) if row else "")


def check_logout(r, port, cookie):
    resp = req(port, "POST", "/admin/logout", "", FORM, cookie=cookie, headers=SAME)
    r.check("logout without the CSRF token: 403", resp.status == 403, resp.describe())
    resp = req(port, "POST", "/admin/logout", form(csrf="0" * 64), FORM, cookie=cookie,
               headers=SAME)
    r.check("logout with a wrong CSRF token: 403", resp.status == 403, resp.describe())
    page = text(req(port, "GET", "/admin", cookie=cookie))
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    resp = req(port, "POST", "/admin/logout", form(csrf=csrf.group(1) if csrf else ""),
               FORM, cookie=cookie, headers={"Sec-Fetch-Site": "cross-site"})
    r.check("logout with the token but from another site: 403", resp.status == 403,
            resp.describe())
    resp = req(port, "POST", "/admin/logout", form(csrf=csrf.group(1) if csrf else ""),
               FORM, cookie=cookie, headers=SAME)
    r.check("logout with the token: 303 to /admin?m=logout",
            resp.status == 303 and resp.header("location") == "/admin?m=logout",
            resp.describe())
    resp = req(port, "GET", "/admin", cookie=cookie)
    r.check("the old cookie no longer opens the console: 401",
            resp.status == 401, resp.describe())


def cgi(binary, method, path, env, body=b"", extra=None):
    """One CGI run of the binary: (status, headers text, body)."""
    e = dict(env, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD=method, REQUEST_URI=path,
             QUERY_STRING=path.split("?", 1)[1] if "?" in path else "",
             SERVER_PROTOCOL="HTTP/1.1", CHAT2API_LOG_LEVEL="error",
             CONTENT_LENGTH=str(len(body)), REMOTE_ADDR="127.0.0.1")
    e.update(extra or {})
    p = subprocess.run([binary], env=e, input=body, capture_output=True, timeout=30)
    head, _, out = p.stdout.partition(b"\r\n\r\n")
    head = head.decode("latin-1")
    m = re.search(r"(?im)^status: (\d+)", head)
    return (int(m.group(1)) if m else 0), head, out.decode("utf-8", "replace")


def check_prefix(r, binary, ws):
    """Under API_PREFIX (CGI runs): the same gate, links and redirects follow."""
    data_dir = ws.mkdir("data-cgi")
    harness.chown_run_user(data_dir)
    env = dict(os.environ, CHAT2API_DATA_DIR=data_dir, API_PREFIX="secret",
               AUTHORIZATION=CODE)
    st, _, out = cgi(binary, "GET", "/secret/admin", env)
    r.check("API_PREFIX: /secret/admin without a login: 401, the form posts under the prefix",
            st == 401 and 'action="/secret/admin/login"' in out, "%d %s" % (st, out[:300]))
    st, head, _ = cgi(binary, "POST", "/secret/admin/login", env,
                      form(code=CODE).encode(),
                      {"CONTENT_TYPE": FORM, "HTTP_SEC_FETCH_SITE": "same-origin"})
    r.check("API_PREFIX: login: 303 to /secret/admin?m=login",
            st == 303 and "Location: /secret/admin?m=login" in head, head)
    st, head, _ = cgi(binary, "POST", "/secret/admin/logout", env, form(csrf="0").encode(),
                      {"CONTENT_TYPE": FORM})
    r.check("API_PREFIX: a form POST without a login: 303 to the login",
            st == 303 and "Location: /secret/admin?m=session" in head, head)


# ---------------------------------------------------------------- browser
def browser_dir():
    """tests/browser with playwright-core installed (npm ci from the lock
    file), kept in the build tree as test_tokens.py keeps it."""
    base = os.environ.get("top_builddir") or os.getcwd()
    dest = os.path.join(base, "tests", "browser-node")
    os.makedirs(dest, exist_ok=True)
    for f in ("package.json", "package-lock.json", "admin_browser.mjs"):
        shutil.copyfile(os.path.join(BROWSER_DIR, f), os.path.join(dest, f))
    if not os.path.isdir(os.path.join(dest, "node_modules", "playwright-core")):
        rc = subprocess.run([harness.which("npm"), "ci", "--no-audit", "--no-fund", "--silent"],
                            cwd=dest, capture_output=True, text=True, timeout=300)
        if rc.returncode != 0:
            raise HarnessError("npm ci failed: " + (rc.stderr or rc.stdout)[-800:])
    return dest


def browser_suite(r, port):
    pre = "browser: "
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if os.environ.get("C2A_IT_NO_BROWSER") == "1" or not os.access(chromium, os.X_OK):
        if os.environ.get("C2A_IT_NO_BROWSER") == "1" or harness.allow_skip():
            r.skip(pre + "headless Chromium", "C2A_IT_NO_BROWSER=1 or no chromium")
        else:
            r.fail(pre + "setup", "chromium is not installed (apt-get install chromium)")
        return
    bdir = browser_dir()
    art = os.path.join(os.environ.get("top_builddir") or os.getcwd(), "test-artifacts")
    os.makedirs(art, exist_ok=True)
    for f in os.listdir(art):
        if f.startswith("admin-") and f.endswith(".png"):
            os.unlink(os.path.join(art, f))
    p = subprocess.run([harness.which("node"), os.path.join(bdir, "admin_browser.mjs"),
                        "http://127.0.0.1:%d" % port, CODE, art, U2, fp(U2)],
                       capture_output=True, text=True, timeout=240,
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
    shots = sorted(f for f in os.listdir(art) if f.startswith("admin-"))
    r.check(pre + "screenshots of every page in test-artifacts/",
            shots == ["admin-accounts.png", "admin-keys.png", "admin-log-entry.png",
                      "admin-login.png", "admin-logs.png", "admin-mappings.png",
                      "admin-overview-dark.png", "admin-overview.png", "admin-sessions.png",
                      "admin-settings.png", "admin-tokens.png"],
            repr(shots))


def check_throttle(r, binary, ws):
    """The console's login shares /tokens' throttle (CGI runs, one store)."""
    data_dir = ws.mkdir("data-throttle")
    harness.chown_run_user(data_dir)
    env = dict(os.environ, CHAT2API_DATA_DIR=data_dir, AUTHORIZATION=CODE,
               CHAT2API_ADMIN_MAX_FAILS="2", CHAT2API_ADMIN_FAIL_WINDOW="60")
    post = {"CONTENT_TYPE": FORM, "HTTP_SEC_FETCH_SITE": "same-origin"}
    got = [cgi(binary, "POST", "/admin/login", env, form(code="wrong").encode(), post)[0]
           for _ in range(2)]
    st, head, _ = cgi(binary, "POST", "/admin/login", env, form(code=CODE).encode(), post)
    r.check("throttle: two wrong codes (401), then even the right one: 429 with Retry-After",
            got == [401, 401] and st == 429 and "Retry-After:" in head, "%r %d" % (got, st))
    st, _, _ = cgi(binary, "POST", "/tokens/login", env, form(code=CODE).encode(), post)
    r.check("throttle: /tokens' login is blocked for that address too", st == 429, "%d" % st)


def no_secrets_logged(r, ws, secrets):
    leaks = []
    logdir = ws.path("log")
    for fn in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
        try:
            with open(os.path.join(logdir, fn), "rb") as f:
                data = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        for s_ in secrets:
            if s_ and s_ in data:
                leaks.append("%s in %s" % (s_[:10] + "...", fn))
    r.check("no code, secret, credential or key in any log file", not leaks,
            "; ".join(leaks[:5]))


def check_tokens_login(r, port):
    resp = req(port, "POST", "/tokens/login", form(code=CODE), FORM, headers=SAME)
    r.check("/tokens' own login still lands on /tokens",
            resp.status == 303 and resp.header("location") == "/tokens?m=login",
            resp.describe())
    head = re.search(r"<header><h1>chat2api <span>([^<]*)</span></h1>",
                     text(req(port, "GET", "/tokens")))
    r.check("/tokens' login page still says tokens",
            head is not None and head.group(1) == "\u00b7 tokens", head.group(0) if head else "")


def main():
    r = Results("test_admin")
    harness.install_signal_handlers(300)
    binary = harness.find_binary()
    ws = harness.Workspace("admin")
    ds = deepseek_mock.DeepSeekMock().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=2)
        fe.check_installed()
        fe.app_extra = {"DEEPSEEK_BASE_URL": ds.url, "CHATGPT_BASE_URL": DOWN,
                        "AUTHORIZATION": CODE, "MANAGEMENT_SECRET": SECRET,
                        "RETRY_TIMES": "1", "CHAT2API_ADMIN_MAX_FAILS": "50"}
        fe.start()
        port = fe.port
        check_anonymous(r, port, "")
        cookie = login(r, port, "")
        if cookie:
            before = check_page_shape(r, port, cookie)
            check_traffic(r, port, cookie, before)
            check_accounts(r, port, cookie)
            check_purge(r, port, cookie, ds)
            check_keys(r, port, cookie)
            check_mappings(r, port, cookie)
            check_logs(r, port, cookie)
            check_sessions_settings(r, port, cookie)
            browser_suite(r, port)
            check_logout(r, port, cookie)
        check_tokens_login(r, port)
        check_prefix(r, binary, ws)
        check_throttle(r, binary, ws)
        no_secrets_logged(r, ws, [CODE, SECRET, U1, U2, BOGUS, KIMI] + KEYS)
    except HarnessError as e:
        harness.report_setup(r, "admin", e)
    finally:
        ds.stop()
        harness.finish_workspace(r, ws, "admin")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
