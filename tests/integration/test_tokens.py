#!/usr/bin/env python3
"""/tokens end to end through nginx + spawn-fcgi (2 processes sharing the
LMDB pool), with the ChatGPT mock behind it for a real error-list entry.

  * HTTP: login form, wrong code, session cookie attributes, the CSRF token
    on every form (missing, wrong, cross-site: 403), Bearer JSON endpoints
    (upload as JSON, form or text/plain; duplicates; kinds; counts; error
    list with fingerprints; clear; seed clear; remove), a wrong Bearer is
    an OpenAI-shaped 401, size and line limits (413), page headers;
  * a pooled token the upstream rejects lands in the error list, shown by
    fingerprint, kind and reason, and "reset errors" brings it back;
  * headless Chromium (tests/browser, playwright-core + Debian's chromium)
    logs in, uploads, sees the counts change, checks a <script> token never
    runs or shows, is refused without the CSRF token and from another
    site, clears, logs out; the screenshot is kept as
    $top_builddir/test-artifacts/tokens.png;
  * API_PREFIX: the same under /secret/..., links follow the way in;
  * no AUTHORIZATION: the page says how to enable it, the API is 403;
  * no secret ever reaches a log file.

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

CODE1, CODE2 = "tok-code-1-9f2c", "tok-code-2-41aa"
BROWSER_DIR = os.path.join(os.path.dirname(HERE), "browser")
FORM = "application/x-www-form-urlencoded"
# Every secret this test hands the server; none may reach a log.
SECRETS = set()


def fp(secret):
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def at(name):
    s = "eyJtokens.%s.sig" % name
    SECRETS.add(s)
    return s


def req(port, method, path, body=None, ctype=None, cookie=None, bearer=None,
        headers=None):
    h = {}
    if ctype:
        h["Content-Type"] = ctype
    if cookie:
        h["Cookie"] = cookie
    if bearer:
        h["Authorization"] = "Bearer " + bearer
    h.update(headers or {})
    if body is None and method == "POST":
        body = b""
    return harness.http(port, method, path, body, headers=h, timeout=30)


def form(**kv):
    return urllib.parse.urlencode(kv)


def error_shape(resp, status, code):
    try:
        e = resp.json()["error"]
        return (resp.status == status and set(e) >= {"message", "type", "param", "code"}
                and e["code"] == code)
    except Exception:  # noqa: BLE001
        return False


def csrf_of(resp):
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', resp.body.decode("utf-8", "replace"))
    return m.group(1) if m else None


def count_of(resp, which):
    m = re.search(r'<b id="count-%s">(\d+)</b>' % which, resp.body.decode("utf-8", "replace"))
    return int(m.group(1)) if m else None


def login(r, port, pre, base=""):
    """Returns (cookie pair, csrf) or (None, None)."""
    resp = req(port, "POST", base + "/tokens/login", form(code=CODE2), FORM,
               headers={"Sec-Fetch-Site": "same-origin"})
    sc = resp.header("set-cookie") or ""
    ok = r.check(pre + "login: 303 to the page with a session cookie",
                 resp.status == 303 and resp.header("location") == base + "/tokens?m=login" and
                 sc.startswith("c2a_admin="), resp.describe() + " set-cookie=" + sc)
    if not ok:
        return None, None
    cookie = sc.split(";", 1)[0]
    page = req(port, "GET", base + "/tokens", cookie=cookie)
    return cookie, csrf_of(page)


# ---------------------------------------------------------------- HTTP suite
def http_suite(r, fe, mock):
    port = fe.port
    pre = "http: "

    # --- the login page and its headers
    resp = req(port, "GET", "/tokens")
    body = resp.body.decode("utf-8", "replace")
    r.check(pre + "GET /tokens without a session: the login form",
            resp.status == 200 and 'id="login-form"' in body and
            resp.header("content-type") == "text/html; charset=utf-8", resp.describe())
    csp = resp.header("content-security-policy") or ""
    r.check(pre + "HTML headers: CSP, X-Frame-Options, no-store, no referrer, nosniff",
            "default-src 'none'" in csp and "form-action 'self'" in csp and
            "frame-ancestors 'none'" in csp and "style-src 'nonce-" in csp and
            resp.header("x-frame-options") == "DENY" and
            resp.header("cache-control") == "no-store" and
            resp.header("referrer-policy") == "no-referrer" and
            resp.header("x-content-type-options") == "nosniff",
            str(resp.headers))
    nonce = re.search(r"'nonce-([0-9a-f]+)'", csp)
    r.check(pre + "the style nonce matches the CSP and is fresh per page",
            nonce is not None and ('<style nonce="%s">' % nonce.group(1)) in body and
            nonce.group(1) not in (req(port, "GET", "/tokens").header(
                "content-security-policy") or ""), csp)
    r.check(pre + "the page loads nothing from elsewhere",
            not re.search(r"(src|href)=\"(https?:)?//", body) and "<script" not in body, body[:300])

    # --- wrong code, right code
    resp = req(port, "POST", "/tokens/login", form(code="nope"), FORM)
    r.check(pre + "wrong code: 401 login page, no cookie",
            resp.status == 401 and resp.header("set-cookie") is None and
            "Wrong code" in resp.text(20000), resp.describe())
    resp = req(port, "POST", "/tokens/login", form(code=CODE1), FORM,
               headers={"Sec-Fetch-Site": "cross-site"})
    r.check(pre + "a login posted from another site is refused (403)",
            resp.status == 403 and resp.header("set-cookie") is None, resp.describe())
    resp = req(port, "POST", "/tokens/login", form(code=CODE1), FORM,
               headers={"Sec-Fetch-Site": "same-origin"})
    sc = resp.header("set-cookie") or ""
    attrs = [a.strip() for a in sc.split(";")]
    r.check(pre + "login cookie: HttpOnly, SameSite=Strict, Path=/, Max-Age 12 h, not Secure on http",
            resp.status == 303 and "HttpOnly" in attrs and "SameSite=Strict" in attrs and
            "Path=/" in attrs and "Max-Age=43200" in attrs and "Secure" not in attrs, sc)
    cookie, csrf = login(r, port, pre)
    if cookie is None:
        return
    r.check(pre + "the page carries a CSRF token", csrf is not None, "no csrf field")
    tampered = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
    resp = req(port, "GET", "/tokens", cookie=tampered)
    r.check(pre + "a tampered session cookie gets the login form",
            resp.status == 200 and 'id="login-form"' in resp.text(100000), resp.describe())

    # --- Bearer JSON: wrong, missing, right
    resp = req(port, "POST", "/tokens/upload", json.dumps({"tokens": [at("x")]}),
               "application/json", bearer="wrong-code")
    r.check(pre + "wrong Bearer: 401 OpenAI-shaped error with WWW-Authenticate",
            error_shape(resp, 401, "invalid_api_key") and
            (resp.header("www-authenticate") or "").startswith("Bearer"), resp.describe())
    resp = req(port, "POST", "/tokens/upload", json.dumps({"tokens": [at("x")]}),
               "application/json")
    r.check(pre + "no credentials at all on JSON: 401", error_shape(resp, 401,
            "missing_authorization"), resp.describe())
    resp = req(port, "POST", "/tokens/upload", json.dumps({"tokens": [at("x")]}),
               "application/json", bearer=CODE1 + "x")
    r.check(pre + "a code with a suffix is wrong too", resp.status == 401, resp.describe())
    resp = req(port, "GET", "/tokens", bearer=CODE1)
    j = resp.json() or {}
    base_total = j.get("total")
    r.check(pre + "GET /tokens with a Bearer: JSON counts",
            resp.status == 200 and j.get("status") == "success" and
            isinstance(base_total, int) and set(j.get("by_kind", {})) ==
            {"access_token", "refresh_token", "other"}, resp.describe())

    rt = "r" * 45
    SECRETS.add(rt)
    other = "sk-other-token-1234"
    SECRETS.add(other)
    toks = [at("a"), at("b"), rt, other, at("a")]
    resp = req(port, "POST", "/tokens/upload", json.dumps({"tokens": toks}), "application/json",
               bearer=CODE1)
    j = resp.json() or {}
    r.check(pre + "Bearer upload (JSON tokens): added, duplicates, tokens_count",
            resp.status == 200 and j.get("status") == "success" and j.get("added") == 4 and
            j.get("duplicates") == 1 and j.get("tokens_count") == base_total + 4,
            resp.describe())
    resp = req(port, "POST", "/tokens/upload",
               form(text="%s\r\n# comment\r\n\r\n%s,acct-1\r\nnot a token\r\n" % (at("c"), at("a"))),
               FORM, bearer=CODE2)
    j = resp.json() or {}
    r.check(pre + "Bearer upload (form text, CRLF): JSON, no CSRF needed, comments ignored",
            resp.status == 200 and j.get("added") == 1 and j.get("duplicates") == 1 and
            j.get("skipped") == 1 and j.get("tokens_count") == base_total + 5, resp.describe())
    resp = req(port, "POST", "/tokens/upload", "%s\n" % at("d"), "text/plain; charset=utf-8",
               bearer=CODE2)
    r.check(pre + "Bearer upload (text/plain)", resp.status == 200 and
            (resp.json() or {}).get("added") == 1, resp.describe())
    resp = req(port, "POST", "/tokens/upload", json.dumps({"text": "%s\n%s" % (at("e"), at("d"))}),
               "application/json", bearer=CODE2)
    r.check(pre + "Bearer upload (JSON text)", resp.status == 200 and
            (resp.json() or {}).get("added") == 1 and
            (resp.json() or {}).get("duplicates") == 1, resp.describe())
    # The other process must see what one process wrote (LMDB, not memory).
    seen = set()
    for _ in range(6):
        j = req(port, "GET", "/tokens", bearer=CODE1).json() or {}
        seen.add(j.get("total"))
    r.check(pre + "every worker process sees the same pool", seen == {base_total + 7}, seen)
    j = req(port, "GET", "/tokens", bearer=CODE1).json() or {}
    r.check(pre + "kinds detected: access, refresh, other",
            j.get("by_kind", {}).get("refresh_token", 0) >= 1 and
            j.get("by_kind", {}).get("other", 0) >= 1 and
            j.get("by_kind", {}).get("access_token", 0) >= 5, j)

    # --- edge validation
    resp = req(port, "POST", "/tokens/upload", json.dumps({"tokens": ["a\nb"]}),
               "application/json", bearer=CODE1)
    r.check(pre + "a JSON token with a line break: 400", error_shape(resp, 400, "invalid_request"),
            resp.describe())
    resp = req(port, "POST", "/tokens/upload", "--x\r\n", "multipart/form-data; boundary=x",
               bearer=CODE1)
    r.check(pre + "multipart: 415", error_shape(resp, 415, "unsupported_media_type"),
            resp.describe())
    big = "eyJ" + "a" * (1 << 20)
    resp = req(port, "POST", "/tokens/upload", big, "text/plain", bearer=CODE1)
    r.check(pre + "an upload over 1 MiB: 413 upload_too_large",
            error_shape(resp, 413, "upload_too_large"), resp.describe())
    resp = req(port, "POST", "/tokens/upload", "x\n" * 10001, "text/plain", bearer=CODE1)
    r.check(pre + "an upload over 10000 lines: 413 too_many_lines",
            error_shape(resp, 413, "too_many_lines"), resp.describe())
    j = req(port, "GET", "/tokens", bearer=CODE1).json() or {}
    r.check(pre + "refused uploads stored nothing", j.get("total") == base_total + 7, j)

    # --- browser forms: CSRF
    page = req(port, "GET", "/tokens", cookie=cookie)
    r.check(pre + "page shows the counts", count_of(page, "total") == base_total + 7,
            count_of(page, "total"))
    text = page.body.decode("utf-8", "replace")
    r.check(pre + "page shows fingerprints and never a secret",
            all(fp(s) in text for s in (at("a"), rt, other)) and
            not any(s in text for s in SECRETS), "a secret or a fingerprint is wrong")
    forms = len(re.findall(r"<form ", text))
    r.check(pre + "every form on the page carries the CSRF token",
            forms >= 6 and forms == text.count('name="csrf" value="%s"' % csrf),
            "%d forms" % forms)
    new = at("form")
    resp = req(port, "POST", "/tokens/upload", form(text=new), FORM, cookie=cookie)
    r.check(pre + "form POST without the CSRF token: 403", resp.status == 403, resp.describe())
    resp = req(port, "POST", "/tokens/upload", form(text=new, csrf="0" * 64), FORM, cookie=cookie)
    r.check(pre + "form POST with a wrong CSRF token: 403", resp.status == 403, resp.describe())
    resp = req(port, "POST", "/tokens/upload", form(text=new, csrf=csrf), FORM, cookie=cookie,
               headers={"Sec-Fetch-Site": "cross-site"})
    r.check(pre + "form POST from another site (Sec-Fetch-Site): 403", resp.status == 403,
            resp.describe())
    other_csrf = login(r, port, pre)[1]
    resp = req(port, "POST", "/tokens/upload", form(text=new, csrf=other_csrf), FORM,
               cookie=cookie)
    r.check(pre + "another session's CSRF token: 403", resp.status == 403, resp.describe())
    resp = req(port, "POST", "/tokens/clear", form(confirm="yes"), FORM)
    r.check(pre + "form POST without a session: 303 to the login page",
            resp.status == 303 and resp.header("location") == "/tokens?m=session",
            resp.describe())
    j = req(port, "GET", "/tokens", bearer=CODE1).json() or {}
    r.check(pre + "refused forms changed nothing", j.get("total") == base_total + 7, j)
    resp = req(port, "POST", "/tokens/upload", form(csrf=csrf, text=new), FORM, cookie=cookie,
               headers={"Sec-Fetch-Site": "same-origin"})
    r.check(pre + "form POST with the CSRF token: 303 with a flash",
            resp.status == 303 and resp.header("location") == "/tokens?m=added&a=1&d=0&s=0",
            resp.describe())
    page = req(port, "GET", resp.header("location") or "/tokens", cookie=cookie)
    r.check(pre + "the page shows the new count and the flash",
            count_of(page, "total") == base_total + 8 and
            "1 added, 0 already in the pool" in page.text(200000), count_of(page, "total"))

    # --- a pooled token the upstream rejects lands in the error list
    resp = req(port, "POST", "/tokens/clear", None, bearer=CODE1)
    j = resp.json() or {}
    r.check(pre + "clear (Bearer): tokens_count 0",
            resp.status == 200 and j.get("status") == "success" and j.get("tokens_count") == 0,
            resp.describe())
    bad = at("rejected-by-upstream")
    req(port, "POST", "/tokens/upload", json.dumps({"tokens": [bad]}), "application/json",
        bearer=CODE1)
    mark_error(r, port, bad, pre)
    resp = req(port, "POST", "/tokens/error", None, bearer=CODE1)
    j = resp.json() or {}
    errs = j.get("error_tokens") or []
    e0 = errs[0] if errs else {}
    r.check(pre + "/tokens/error lists it: fingerprint, kind, reason, time; no secret",
            resp.status == 200 and len(errs) == 1 and e0.get("fingerprint") == fp(bad) and
            e0.get("kind") == "access_token" and "401" in (e0.get("reason") or "") and
            re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", e0.get("at") or "") and
            bad not in resp.body.decode(), resp.describe())
    page = req(port, "GET", "/tokens", cookie=cookie)
    r.check(pre + "the page's error list shows it",
            fp(bad) in page.text(200000) and count_of(page, "error") == 1, page.describe())
    resp = req(port, "POST", "/tokens/errors/clear", None, bearer=CODE1)
    j = resp.json() or {}
    r.check(pre + "reset errors: back in rotation", resp.status == 200 and
            j.get("tokens_count") == 1 and
            (req(port, "POST", "/tokens/error", None, bearer=CODE1).json() or {}).get(
                "error_tokens") == [], resp.describe())

    # --- remove, seeds, logout
    resp = req(port, "POST", "/tokens/remove", json.dumps({"fingerprint": fp(bad)}),
               "application/json", bearer=CODE1)
    r.check(pre + "remove by fingerprint", resp.status == 200 and
            (resp.json() or {}).get("tokens_count") == 0, resp.describe())
    resp = req(port, "POST", "/tokens/remove", json.dumps({"fingerprint": fp(bad)}),
               "application/json", bearer=CODE1)
    r.check(pre + "remove again: 404", error_shape(resp, 404, "not_found"), resp.describe())
    resp = req(port, "POST", "/seed_tokens/clear", None, bearer=CODE1)
    j = resp.json() or {}
    r.check(pre + "seed tokens clear: seed_tokens_count 0", resp.status == 200 and
            j.get("status") == "success" and j.get("seed_tokens_count") == 0, resp.describe())
    resp = req(port, "POST", "/tokens/logout", form(csrf=csrf), FORM, cookie=cookie)
    sc = resp.header("set-cookie") or ""
    r.check(pre + "logout: 303 and the cookie deleted",
            resp.status == 303 and sc.startswith("c2a_admin=;") and "Max-Age=0" in sc,
            resp.describe() + " " + sc)
    resp = req(port, "GET", "/tokens", cookie=cookie)
    r.check(pre + "after logout a saved copy of the cookie gets the login form (revoked)",
            resp.status == 200 and 'id="login-form"' in resp.text(100000), resp.describe())
    resp = req(port, "POST", "/tokens/clear", form(confirm="yes", csrf=csrf), FORM, cookie=cookie,
               headers={"Sec-Fetch-Site": "same-origin"})
    r.check(pre + "... and cannot post forms any more", resp.status == 303 and
            (resp.header("location") or "").endswith("m=session"), resp.describe())
    other, _ = login(r, port, pre)
    resp = req(port, "GET", "/tokens", cookie=other)
    r.check(pre + "a new login after the logout works", resp.status == 200 and
            'id="login-form"' not in resp.text(100000), resp.describe())
    resp = req(port, "GET", "/tokens/upload")
    r.check(pre + "GET on an action: 405", resp.status == 405, resp.describe())


def mark_error(r, port, token, pre):
    """Chat with the code: the pool hands out token, the mock answers 401."""
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    resp = harness.http(port, "POST", "/v1/chat/completions", json.dumps(body),
                        headers={"Content-Type": "application/json",
                                 "Authorization": "Bearer " + CODE1}, timeout=30)
    j = req(port, "GET", "/tokens", bearer=CODE1).json() or {}
    return r.check(pre + "a pooled token the upstream rejects is marked as error",
                   j.get("error") == 1, "chat: %s; counts %s" % (resp.describe(), j))


# ---------------------------------------------------------------- browser
def browser_dir():
    """A writable copy of tests/browser with playwright-core installed (npm
    ci from the lock file), kept in the build tree so reruns skip it."""
    base = os.environ.get("top_builddir") or os.getcwd()
    dest = os.path.join(base, "tests", "browser-node")
    os.makedirs(dest, exist_ok=True)
    for f in ("package.json", "package-lock.json", "tokens_browser.mjs"):
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
    port = fe.port
    # A failing token for the page's error list, through the real chat path.
    req(port, "POST", "/tokens/clear", None, bearer=CODE1)
    bad = at("browser-rejected")
    req(port, "POST", "/tokens/upload", json.dumps({"tokens": [bad]}), "application/json",
        bearer=CODE1)
    mark_error(r, port, bad, pre)
    SECRETS.update(["eyJbrowser.token.one", "rt-browser-two", "<script>window.__xss=1</script>",
                    "eyJno.csrf.token"])

    art = os.path.join(os.environ.get("top_builddir") or os.getcwd(), "test-artifacts")
    os.makedirs(art, exist_ok=True)
    shot = os.path.join(art, "tokens.png")
    if os.path.exists(shot):
        os.unlink(shot)
    p = subprocess.run([node, os.path.join(bdir, "tokens_browser.mjs"),
                        "http://127.0.0.1:%d" % port, CODE2, shot, fp(bad)],
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
    r.check(pre + "screenshot kept as test-artifacts/tokens.png", os.path.exists(shot), shot)
    if os.path.exists(shot):
        r.note("screenshot: " + shot)


def no_secrets_logged(r, ws, label):
    leaks = []
    logdir = ws.path("log")
    for fn in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
        try:
            with open(os.path.join(logdir, fn), "rb") as f:
                data = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        for s in SECRETS | {CODE1, CODE2}:
            if s in data:
                leaks.append("%s in %s" % (s[:12] + "...", fn))
    r.check(label + ": no token or code in any log file", not leaks, "; ".join(leaks[:5]))


# ---------------------------------------------------------------- other setups
def prefix_suite(r, fe):
    port = fe.port
    pre = "API_PREFIX: "
    resp = req(port, "GET", "/secret/tokens")
    r.check(pre + "/secret/tokens serves the login form, posting under the prefix",
            resp.status == 200 and 'action="/secret/tokens/login"' in resp.text(100000),
            resp.describe())
    resp = req(port, "GET", "/tokens")
    r.check(pre + "/tokens is there too", resp.status == 200 and
            'action="/tokens/login"' in resp.text(100000), resp.describe())
    cookie, csrf = login(r, port, pre, base="/secret")
    if cookie is None:
        return
    page = req(port, "GET", "/secret/tokens", cookie=cookie)
    r.check(pre + "the page's forms stay under the prefix",
            'action="/secret/tokens/upload"' in page.text(200000) and
            'action="/secret/seed_tokens/clear"' in page.text(200000), page.describe())
    resp = req(port, "POST", "/secret/tokens/upload", form(csrf=csrf, text=at("pfx")), FORM,
               cookie=cookie)
    r.check(pre + "upload redirects back under the prefix", resp.status == 303 and
            resp.header("location") == "/secret/tokens?m=added&a=1&d=0&s=0", resp.describe())
    resp = req(port, "POST", "/secret/tokens/clear", None, bearer=CODE1)
    r.check(pre + "JSON clear under the prefix", resp.status == 200 and
            (resp.json() or {}).get("tokens_count") == 0, resp.describe())
    resp = req(port, "POST", "/secret/seed_tokens/clear", None, bearer=CODE1)
    r.check(pre + "JSON seed clear under the prefix", resp.status == 200, resp.describe())


def disabled_suite(r, fe):
    port = fe.port
    pre = "no AUTHORIZATION: "
    resp = req(port, "GET", "/tokens")
    text = resp.text(100000)
    r.check(pre + "/tokens explains how to enable it (403, no form)",
            resp.status == 403 and "AUTHORIZATION=" in text and "<form" not in text,
            resp.describe())
    for path in ("/tokens/upload", "/tokens/clear", "/tokens/error", "/seed_tokens/clear"):
        resp = req(port, "POST", path, json.dumps({"text": at("disabled")}), "application/json",
                   bearer="anything")
        r.check(pre + "POST %s: 403 admin_disabled" % path,
                error_shape(resp, 403, "admin_disabled"), resp.describe())
    resp = req(port, "POST", "/tokens/login", form(code=""), FORM)
    r.check(pre + "login: 403", resp.status == 403 and resp.header("set-cookie") is None,
            resp.describe())


def throttle_suite(r, fe):
    """Wrong codes per address are limited across both worker processes."""
    port = fe.port
    pre = "throttle: "
    same = {"Sec-Fetch-Site": "same-origin"}
    for i in range(3):
        resp = req(port, "POST", "/tokens/login", form(code="guess-%d" % i), FORM, headers=same)
        r.check(pre + "wrong code %d: 401" % (i + 1), resp.status == 401, resp.describe())
    resp = req(port, "POST", "/tokens/login", form(code=CODE1), FORM, headers=same)
    ra = resp.header("retry-after") or ""
    r.check(pre + "after 3 wrong codes even the right one gets 429 with Retry-After, no cookie",
            resp.status == 429 and ra.isdigit() and 1 <= int(ra) <= 3 and
            resp.header("set-cookie") is None and "Too many wrong codes" in resp.text(100000),
            resp.describe() + " retry-after=" + ra)
    resp = req(port, "POST", "/tokens/clear", "{}", "application/json", bearer=CODE1)
    r.check(pre + "a right Bearer from the blocked address: 429 rate_limit_error",
            error_shape(resp, 429, "too_many_failures") and
            (resp.header("retry-after") or "").isdigit(), resp.describe())
    time.sleep(3.2)
    cookie, _ = login(r, port, pre)
    r.check(pre + "the window ends: the right code logs in", cookie is not None, "")
    for i in range(2):
        resp = req(port, "POST", "/tokens/upload", "{}", "application/json", bearer="nope-%d" % i)
        r.check(pre + "a success cleared the count: wrong Bearer %d is 401" % (i + 1),
                error_shape(resp, 401, "invalid_api_key"), resp.describe())
    resp = req(port, "GET", "/tokens", bearer=CODE2)
    r.check(pre + "two failures stay under the limit: a right Bearer works",
            resp.status == 200, resp.describe())
    # The same codes open the pool: guesses on the API count too.
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    resp = req(port, "POST", "/v1/chat/completions", body, "application/json", bearer="nope-3")
    r.check(pre + "a wrong API key: 401 (third failure)", error_shape(resp, 401, "invalid_api_key"),
            resp.describe())
    resp = req(port, "POST", "/v1/chat/completions", body, "application/json", bearer=CODE1)
    r.check(pre + "then the right code on /v1/chat/completions: 429 with Retry-After",
            error_shape(resp, 429, "too_many_failures") and
            (resp.header("retry-after") or "").isdigit(), resp.describe())
    resp = req(port, "POST", "/v1/chat/completions", body, "application/json",
               bearer=at("throttle-own-token"))
    r.check(pre + "an own access token from that address is not blocked (upstream down: 502)",
            resp.status == 502, resp.describe())


def run_setup(r, binary, label, extra, fn, with_mock=False):
    ws = harness.Workspace("tokens-" + label)
    mock = None
    try:
        if with_mock:
            mock = chatgpt_mock.ChatGPTMock().start()
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        fe.app_extra = dict(extra)
        if mock is not None:
            fe.app_extra.update(CHATGPT_BASE_URL=mock.url, RETRY_TIMES="0")
        fe.start()
        fn(r, fe, mock) if with_mock else fn(r, fe)
        fe.ws.stop_all()
        no_secrets_logged(r, ws, label)
    except HarnessError as e:
        harness.report_setup(r, label, e)
    finally:
        if mock is not None:
            mock.stop()
        harness.finish_workspace(r, ws, "tokens-" + label)


def main():
    r = Results("test_tokens")
    harness.install_signal_handlers(900)
    binary = harness.find_binary()
    auth = {"AUTHORIZATION": "%s,%s" % (CODE1, CODE2), "CHAT2API_MAX_BODY": "4m"}

    def both(r_, fe, mock):
        http_suite(r_, fe, mock)
        try:
            browser_suite(r_, fe, mock)
        except Missing as e:
            if harness.allow_skip():
                r_.skip("browser", str(e))
            else:
                r_.fail("browser: setup", str(e))

    run_setup(r, binary, "main", auth, both, with_mock=True)
    run_setup(r, binary, "prefix", dict(auth, API_PREFIX="secret"), prefix_suite)
    run_setup(r, binary, "disabled", {}, disabled_suite)
    run_setup(r, binary, "throttle", dict(auth, CHAT2API_ADMIN_MAX_FAILS="3",
                                          CHAT2API_ADMIN_FAIL_WINDOW="3",
                                          CHATGPT_BASE_URL="http://127.0.0.1:9",
                                          RETRY_TIMES="0"), throttle_suite)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
