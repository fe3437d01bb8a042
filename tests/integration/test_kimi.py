#!/usr/bin/env python3
"""Kimi end to end: nginx + spawn-fcgi (4 processes) + chat2api + the Kimi mock, which signs
and verifies every JWT, rotates refresh tokens, checks the one Connect envelope of every
Chat request to the byte and the identity headers of every call.

  * accounts add (refresh token, Local Storage array, access JWT), validate (GetSubscription),
    /v1/models once an account is active;
  * the openai npm client, stream and non-stream, with reasoning and search variants; the
    exact body and prompt (§4.2, §4.3) the mock received; switches by name, body, headers;
  * the stream split at every byte (inside UTF-8 and the 5-byte envelope headers), dripped;
  * refresh: one exchange for four processes; a conversation that outlives several 4-second
    access tokens with no user-visible error and no token refused upstream; rotated refresh
    tokens stored (the old one is dead at the mock); a stream longer than its token, then the
    chat deleted with a renewed one; a revoked access token renewed within the request;
  * faults: 401 (renewed once, then the account is error), refused refresh (expired), 403,
    429 with Retry-After (HTTP and in the stream), 5xx and overload, Cloudflare, in-stream
    errors before and after the first byte (error chunk and [DONE]), resets, cut streams;
  * failover within one request from a rejected account to a good one;
  * the mock's checks bite: a new JWT secret and an envelope length it does not expect fail;
  * images refused with 400 before any upstream call; chats deleted after every answer, also
    after failures and a client gone mid-stream; PROXY_URL sticky per account;
  * nothing secret in any log.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import json
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402
import http_proxy  # noqa: E402
import kimi_mock  # noqa: E402
from kimi_wire import FOCUS as FOCUS_TEXT, SEARCH_SUFFIX  # noqa: E402
import test_chat  # noqa: E402  (the npm client installer)
from test_accounts import Cli  # noqa: E402
from test_deepseek import err, fp, message, sse  # noqa: E402
import test_deepseek  # noqa: E402

CODE = "kimi-code-1"
MODEL = "Kimi-K2.5"
FOCUS = "system:" + FOCUS_TEXT + "\n"
URL_OPEN = '<url id="" type="url" status="" title="" wc="">'


def chat(port, messages, model=MODEL, **kw):
    kw.setdefault("token", CODE)
    return test_deepseek.chat(port, model, messages, **kw)


def last(mock):
    return mock.snapshot().get("last_chat") or {}


class Kimi:
    """The service, the CLI and the mock of one test run."""

    def __init__(self, r, fe, cli, mock):
        self.r, self.fe, self.port, self.cli, self.m = r, fe, fe.port, cli, mock

    def rows(self):
        return self.cli.accounts("kimi")

    def status(self, user):
        """The status of the account holding user's newest refresh token."""
        row = self.rows().get(fp(self.m.newest_refresh(user)))
        return row and row["status"]

    def enable_all(self):
        for rid in self.rows():
            self.cli.run("accounts", "enable", rid)

    def deleted_all(self, timeout=5):
        return harness.wait_until(lambda: not self.m.snapshot().get("live_chats"), timeout)

    def check(self, name, cond, detail=None):
        self.r.check(name, cond, detail)


def npm_client(k):
    cdir = test_chat.client_dir()
    node = harness.which("node")
    base = "http://127.0.0.1:%d/v1" % k.port
    for mode in ("nonstream", "stream"):
        for model in (MODEL, "Kimi-K2.5-Think", "Kimi-K2.5-Search", "kimi-k2.5-think-search"):
            prompt = "npm %s %s" % (mode, model)
            pr = subprocess.run([node, os.path.join(cdir, "openai_client.mjs"), base, CODE, mode,
                                 model, prompt], capture_output=True, text=True, timeout=60)
            try:
                out = json.loads(pr.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                out = {"error": pr.stdout + pr.stderr}
            think, search = "think" in model.lower(), "search" in model.lower()
            want = "You said: " + prompt + (SEARCH_SUFFIX if search else "")
            lc = last(k.m)
            k.check("openai npm %s %s: content%s%s" % (mode, model, ", reasoning" if think else "",
                                                        ", search" if search else ""),
                    not out.get("error") and out.get("content") == want and
                    out.get("finish_reason") == "stop" and out.get("model") == model and
                    (out.get("reasoning") == "Thinking about: %s. The user wants an echo." % prompt
                     if think else not out.get("reasoning")) and
                    lc.get("thinking") is think and lc.get("search") is search and
                    (out.get("usage") or {}).get("total_tokens", 0) > 0,
                    json.dumps(out)[:600])


def prompt_and_switches(k):
    msgs = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "First, see https://kimi.com/docs?a=1 please"},
            {"role": "assistant", "content": "First answer at https://example.com"},
            {"role": "developer", "content": "Answer in English."},
            {"role": "user", "content": [{"type": "text", "text": "Second"},
                                         {"type": "text", "text": "part two"}]}]
    resp = chat(k.port, msgs)
    lc = last(k.m)
    want = ("system:Answer in English.\nuser:First, see " + URL_OPEN + "https://kimi.com/docs?a=1"
            "</url> please\nassistant:First answer at https://example.com\n" + FOCUS +
            "user:Second\npart two\n")
    k.check("the history flattened as §4.3 says (last system first, URLs wrapped, focus line)",
            resp.status == 200 and lc.get("prompt") == want, repr(lc.get("prompt")))
    body = lc.get("body") or {}
    k.check("the body is §4.2's, in one envelope of its exact length",
            body.get("scenario") == "SCENARIO_K2D5" and body.get("chat_id") == "" and
            body["message"]["blocks"][0]["message_id"] == "" and
            lc.get("envelope_len") == len(json.dumps(body, ensure_ascii=False,
                                                      separators=(",", ":")).encode()),
            str(lc.get("envelope_len")))
    h = lc.get("headers") or {}
    k.check("identity headers and Connect version on the Chat call",
            h.get("x-msh-platform") == "web" and h.get("connect-protocol-version") == "1" and
            h.get("content-type") == "application/connect+json" and h.get("x-traffic-id") and
            h.get("x-msh-device-id") and h.get("x-msh-session-id"), str(h)[:400])
    for model, extra, hdrs, think, search in (
            (MODEL, None, None, False, False),
            ("Kimi-K2.5-Think", None, None, True, False),
            ("Kimi-K2.5-Search", None, None, False, True),
            ("Kimi-K2.5-Think-Search", None, None, True, True),
            (MODEL, {"reasoning_effort": "high"}, None, True, False),
            (MODEL, {"reasoning_effort": "none"}, None, False, False),
            (MODEL, {"web_search": True}, None, False, True),
            (MODEL, None, {"X-Web-Search": "true", "X-Reasoning-Effort": "low"}, True, True)):
        resp = chat(k.port, "switch", model=model, extra=extra, headers=hdrs)
        lc = last(k.m)
        k.check("%s %s %s: thinking=%s search=%s" % (model, extra or "", hdrs or "", think, search),
                resp.status == 200 and lc.get("thinking") is think and lc.get("search") is search,
                str(lc.get("body"))[:300])


def splits(k):
    base = "shape [[unicode]] [[long:25]]"
    whole = message(chat(k.port, base, model="Kimi-K2.5-Think"))[0]
    for mk in ("[[split:bytes]]", "[[split:random]]", "[[split:3]]", "[[drip:5]] [[split:2]]"):
        resp = chat(k.port, base + " " + mk, model="Kimi-K2.5-Think", stream=True)
        c, rs, fin, e, done = sse(resp)
        k.check("stream %s: the same answer and reasoning, UTF-8 intact, [DONE]" % mk,
                resp.status == 200 and done and e is None and fin == "stop" and
                c == whole.get("content") and rs == whole.get("reasoning_content"),
                repr(c[-100:]) + " / " + repr((whole.get("content") or "")[-100:]))
    m = message(chat(k.port, base + " [[split:bytes]]", model="Kimi-K2.5-Think"))[0]
    k.check("non-stream split at every byte: the same answer",
            m.get("content") == whole.get("content") and
            m.get("reasoning_content") == whole.get("reasoning_content"), str(m)[:200])
    k.check("every chat deleted after its answer", k.deleted_all(),
            str(k.m.snapshot().get("live_chats")))


def faults(k):
    def case(name, marker, status, code=None, hdr=None, stream=False):
        resp = chat(k.port, "fail " + marker, stream=stream)
        e = err(resp)
        ok = resp.status == status and (code is None or e.get("code") == code) and \
            e.get("message") and e.get("type")
        if hdr is not None:
            ok = ok and resp.header("retry-after") == hdr
        k.check("%s -> %d %s" % (name, status, code or ""), ok, resp.describe())
        return resp

    case("upstream 500 on every try (retried)", "[[fail:500]]", 502, "upstream_error")
    case("upstream 503", "[[fail:503]]", 502, "upstream_error")
    case("overloaded in the stream before the answer", "[[error:overloaded]]", 502,
         "upstream_error")
    case("a Cloudflare page", "[[cf:503]]", 503, "cf_challenge")
    k.m.configure({"chat_status": 503, "chat_status_times": 1})
    resp = chat(k.port, "heals")
    k.check("a 503 that heals: the retry answers 200", resp.status == 200, resp.describe())
    case("upstream 429 over HTTP", "[[fail:429]]", 429, "rate_limit_exceeded", hdr="30")
    k.check("a 429 cools the account down", k.status("u1") == "cooling", str(k.rows()))
    k.enable_all()
    case("resource_exhausted in the end-of-stream", "[[error:rate]]", 429,
         "rate_limit_exceeded", hdr="17")
    k.enable_all()
    case("upstream 403", "[[fail:403]]", 403, "upstream_forbidden")
    k.check("a 403 marks the account error", k.status("u1") == "error", str(k.rows()))
    k.enable_all()
    before = sum(k.m.snapshot().get("refreshes", {}).values())
    case("a 401 that stays after a fresh token", "[[fail:401]]", 401, "invalid_api_key")
    k.check("the refused cached token was renewed once before giving up",
            sum(k.m.snapshot().get("refreshes", {}).values()) == before + 1,
            str(k.m.snapshot().get("refreshes")))
    k.check("a 401 marks the account error", k.status("u1") == "error", str(k.rows()))
    k.enable_all()
    case("unauthenticated in the stream, twice", "[[error:unauth]]", 401, "invalid_api_key")
    k.enable_all()
    k.m.configure({"revoke_access": True})
    resp = chat(k.port, "after revocation", stream=True)
    c, rs, fin, e, done = sse(resp)
    k.check("a revoked access token is renewed within the request: no error seen",
            resp.status == 200 and done and e is None and c == "You said: after revocation",
            resp.describe())
    for name, marker in (("RST mid-stream", "[[reset:12]]"), ("FIN mid-stream", "[[close:12]]"),
                         ("an error message mid-stream", "[[error:message]]"),
                         ("an end-of-stream error mid-stream", "[[error:end]]"),
                         ("a stream cut without its end", "[[error:cut]]")):
        resp = chat(k.port, "mid [[long:20]] " + marker, stream=True)
        c, rs, fin, e, done = sse(resp)
        k.check("stream, %s: text so far, then an error chunk and [DONE]" % name,
                resp.status == 200 and done and e is not None and e.get("message") and
                c.startswith("You said: mid"), repr(c[-80:]) + " error=" + str(e))
        resp = chat(k.port, "mid [[long:20]] " + marker)
        k.check("non-stream, %s: a 5xx OpenAI error, no partial answer" % name,
                resp.status >= 500 and err(resp).get("message"), resp.describe())
    k.enable_all()
    for marker in ("[[error:nodone]]", "[[error:noend]]"):
        resp = chat(k.port, "ends " + marker, stream=True)
        c, rs, fin, e, done = sse(resp)
        k.check("%s: still a whole answer" % marker, resp.status == 200 and done and e is None and
                c == "You said: ends", resp.describe())
    resp = chat(k.port, [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}])
    k.check("an image part: 400 unsupported_content, nothing sent upstream",
            resp.status == 400 and err(resp).get("code") == "unsupported_content" and
            "messages[0]" in err(resp).get("message", ""), resp.describe())
    k.check("chats of failed attempts are deleted too", k.deleted_all(),
            str(k.m.snapshot().get("live_chats")))


def refresh_lifetime(k):
    """Access tokens of 4 s: renewed before they expire, rotation stored, nothing refused."""
    first = k.m.newest_refresh("u1")
    # the cached 15-minute token goes: the next request renews it (within the request)
    k.m.configure({"access_ttl_s": 4, "revoke_access": True})
    resp = chat(k.port, "warm up")
    k.check("the cached token revoked: renewed within the request", resp.status == 200,
            resp.describe())
    k.m.reset()
    stored_before = fp(k.m.newest_refresh("u1"))
    t0, codes = time.monotonic(), []
    i = 0
    while time.monotonic() - t0 < 11:
        resp = chat(k.port, "turn %d" % i, stream=i % 2 == 0)
        codes.append(resp.status if i % 2 else (resp.status, sse(resp)[3] is None))
        i += 1
        time.sleep(0.7)
    st = k.m.snapshot()
    k.check("a conversation of %d turns over 11 s of 4-second tokens: no error seen" % i,
            all(c in (200, (200, True)) for c in codes), str(codes))
    k.check("no token was refused upstream: every one renewed before it expired",
            not st.get("rejections"), json.dumps(st.get("rejections"))[:600])
    k.check("the access token was renewed (about every 3 s), not per request",
            3 <= st.get("refreshes", {}).get("u1", 0) <= 6, str(st.get("refreshes")))
    newest = k.m.newest_refresh("u1")
    k.check("each renewal rotated the refresh token; the stored one is the newest",
            fp(newest) in k.rows() and fp(newest) != stored_before, str(list(k.rows())))
    k.check("the first refresh token is dead at the mock (it was rotated out)",
            first not in st["users"]["u1"]["refresh_tokens"], "still valid")
    # a stream that lives longer than its token, then the delete with a new one
    before = st.get("chats_deleted", {}).get("u1", 0)
    t0 = time.monotonic()
    resp = chat(k.port, "long [[long:60]] [[drip:90]]", stream=True, timeout=90)
    took = time.monotonic() - t0
    c, rs, fin, e, done = sse(resp)
    ok = harness.wait_until(lambda: k.m.snapshot().get("chats_deleted", {}).get("u1", 0) >
                            before, 10)
    st = k.m.snapshot()
    k.check("a %.1f-s stream outlives its 4-s token; its chat is deleted with a renewed one" %
            took, resp.status == 200 and done and e is None and took > 5 and ok and
            not st.get("rejections"), json.dumps(st.get("rejections"))[:400])
    # the stored (rotated) refresh token is the live one: drop every access token
    k.m.configure({"revoke_access": True})
    resp = chat(k.port, "after all that")
    k.check("with every access token revoked the stored refresh token still logs in",
            resp.status == 200, resp.describe())
    k.m.configure({"access_ttl_s": 900})


def failover_and_checks(k):
    u2 = k.m.refresh_token("u2")
    rc, out, e = k.cli.run("accounts", "add", "kimi", u2, "--label", "second")
    k.check("a second Kimi account", rc == 0 and "added" in out, out + e)
    k.m.configure({"by_user": {"u1": {"chat_status": 401}}})
    before = dict(k.m.snapshot().get("chats", {}))
    ok = all(chat(k.port, "failover %d" % i).status == 200 for i in range(2))
    after = k.m.snapshot().get("chats", {})
    k.check("a rejected account fails over to the good one within each request",
            ok and after.get("u2", 0) >= before.get("u2", 0) + 2, str(after))
    k.check("the rejected account is error, the good one active",
            k.status("u1") == "error" and k.status("u2") == "active", str(k.rows()))
    k.m.configure({"by_user": {"u1": None}})
    k.enable_all()
    # the login of u1 ends: the refresh is refused -> expired, u2 answers
    k.m.configure({"expired_users": ["u1"]})
    ok = all(chat(k.port, "expiry %d" % i).status == 200 for i in range(2))
    k.check("an account whose login ended is expired; the request fails over",
            ok and k.status("u1") == "expired", str(k.rows()))
    k.m.configure({"users": ["u1"]})
    k.enable_all()
    # the mock's checks bite: a secret it now expects, an envelope length it now expects
    k.m.configure({"jwt_secret": "a-secret-chat2api-cannot-know"})
    resp = chat(k.port, "wrong secret")
    k.check("a JWT secret the mock now expects: every token refused -> 401",
            resp.status == 401 and err(resp).get("code") in ("account_expired", "invalid_api_key"),
            resp.describe())
    rejected = [x["reason"] for x in k.m.snapshot().get("rejections", [])]
    k.check("... refused for its signature", any("signature" in x for x in rejected),
            str(rejected)[:300])
    k.m.configure({"jwt_secret": "kimi-mock-secret-1"})
    k.enable_all()
    k.m.configure({"envelope_len_delta": 1})
    resp = chat(k.port, "wrong length")
    k.check("an envelope length the mock does not expect: 400 upstream_bad_request",
            resp.status == 400 and err(resp).get("code") == "upstream_bad_request" and
            "envelope length" in err(resp).get("message", ""), resp.describe())
    k.m.configure({"envelope_len_delta": 0})
    k.enable_all()
    rc, out, e = k.cli.run("accounts", "remove", fp(k.m.newest_refresh("u2")))
    k.check("the second account removed", rc == 0, out + e)


def credentials(k):
    rc, out, e = k.cli.run("accounts", "validate", "kimi")
    sub = k.m.snapshot().get("subscriptions", {})
    k.check("accounts validate kimi asks GetSubscription: valid, the user's name kept",
            rc == 0 and sub.get("u1") == 1 and " valid " in out and "Mock u1" in out and
            k.status("u1") == "active", out + e + str(sub))
    before = k.m.snapshot().get("refreshes", {}).get("u1", 0)
    rc, out, e = k.cli.run("refresh", "--force")
    k.check("chat2api refresh --force renews the Kimi account's token; the rotated one is stored",
            rc == 0 and "refreshed 1" in out and
            k.m.snapshot().get("refreshes", {}).get("u1", 0) == before + 1 and
            fp(k.m.newest_refresh("u1")) in k.rows(), out + e + str(list(k.rows())))
    stale = k.m.access_token("u3", ttl=-1000)
    rc, out, e = k.cli.run("accounts", "add", "kimi", "Bearer " + stale, "--label", "stale")
    rows = k.rows()
    k.check("an access JWT is added as kind access", rc == 0 and
            rows.get(fp(stale), {}).get("kind") == "access", out + e + str(rows))
    rc, out, e = k.cli.run("accounts", "validate", fp(stale))
    k.check("validate: an expired access JWT is expired",
            k.rows().get(fp(stale), {}).get("status") == "expired", out + e)
    k.cli.run("accounts", "remove", fp(stale))
    own = k.m.access_token("u3", ttl=600)
    resp = chat(k.port, "own access", token=own)
    k.check("the client's own access JWT as the key: answered as u3",
            resp.status == 200 and last(k.m).get("user") == "u3", resp.describe())
    resp = chat(k.port, "own stale", token=stale)
    k.check("the client's own expired access JWT: 401 account_expired, told why",
            resp.status == 401 and err(resp).get("code") == "account_expired" and
            "refresh_token" in err(resp).get("message", ""), resp.describe())
    rt3 = k.m.refresh_token("u3")
    codes = [chat(k.port, "own refresh %d" % i, token=rt3).status for i in range(2)]
    k.m.configure({"revoke_access": True})
    codes.append(chat(k.port, "own refresh, rotated", token=rt3).status)
    k.check("the client's own refresh token keeps working after Kimi rotated it", codes ==
            [200, 200, 200] and rt3 not in k.m.snapshot()["users"]["u3"]["refresh_tokens"],
            str(codes))
    resp = chat(k.port, "placeholder", token="sk-placeholder")
    k.check("a placeholder key on a server with codes -> 401", resp.status == 401, resp.describe())
    k.deleted_all()


def disconnect(k):
    before = k.m.snapshot().get("chats_deleted", {}).get("u1", 0)
    s = socket.create_connection(("127.0.0.1", k.port))
    body = json.dumps({"model": MODEL, "stream": True, "messages": [
        {"role": "user", "content": "leaving [[long:200]] [[drip:30]]"}]})
    s.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" %
               (CODE, len(body), body)).encode())
    s.recv(2048)
    s.close()
    ok = harness.wait_until(lambda: k.m.snapshot().get("chats_deleted", {}).get("u1", 0) > before
                            and not k.m.snapshot().get("live_chats"), 15)
    k.check("a client gone mid-stream: the transfer stops, the chat is deleted",
            ok and k.m.snapshot().get("client_disconnects", 0) >= 1,
            str(k.m.snapshot().get("live_chats")))


def proxies(r, binary):
    """PROXY_URL: every Kimi call of an account through the same proxy."""
    ws = harness.Workspace("kimi-proxy")
    m = kimi_mock.KimiMock().start()
    p1, p2 = http_proxy.HttpProxy().start(), http_proxy.HttpProxy().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        fe.app_extra = {"KIMI_BASE_URL": m.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "0",
                        "PROXY_URL": p1.url + "," + p2.url, "LB_STRATEGY_KIMI": "round-robin"}
        fe.start()
        cli = Cli(binary, ws.path("data"), {})
        for u in ("u1", "u2"):
            cli.run("accounts", "add", "kimi", m.refresh_token(u))
        ok = [chat(fe.port, "via proxy %d" % i).status for i in range(6)]
        harness.wait_until(lambda: not m.snapshot().get("live_chats"), 5)
        hits = {p: {path: len(p.hits(path)) for path in (kimi_mock.CHAT, kimi_mock.DELETE,
                                                          kimi_mock.REFRESH)} for p in (p1, p2)}
        st = m.snapshot()
        r.check("PROXY_URL: Kimi's chat, delete and refresh go through the proxies",
                ok == [200] * 6 and sum(h[kimi_mock.CHAT] for h in hits.values()) == 6 and
                sum(h[kimi_mock.DELETE] for h in hits.values()) == 6 and
                sum(h[kimi_mock.REFRESH] for h in hits.values()) ==
                sum(st.get("refreshes", {}).values()), str(ok) + str(hits))
        r.check("PROXY_URL: one account, one proxy (sticky), round-robin between accounts",
                sorted(st.get("chats", {}).values()) == [3, 3] and
                hits[p1][kimi_mock.CHAT] in (0, 3, 6), str(st.get("chats")) + str(hits))
    except HarnessError as e:
        harness.report_setup(r, "kimi-proxy", e)
    finally:
        p1.stop()
        p2.stop()
        m.stop()
        harness.finish_workspace(r, ws, "kimi-proxy")


def main():
    r = Results("test_kimi")
    harness.install_signal_handlers(900)
    binary = harness.find_binary()
    ws = harness.Workspace("kimi")
    m = kimi_mock.KimiMock().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=4)
        fe.check_installed()
        fe.app_extra = {"KIMI_BASE_URL": m.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "2",
                        "ENABLE_LIMIT": "true"}
        fe.start()
        cli = Cli(binary, ws.path("data"), {"KIMI_BASE_URL": m.url})
        k = Kimi(r, fe, cli, m)
        resp = harness.http(fe.port, "GET", "/v1/models")
        ids = [x.get("id") for x in (resp.json() or {}).get("data", [])]
        r.check("/v1/models: no Kimi model without an account", MODEL not in ids, str(ids))
        rt = m.refresh_token("u1")
        rc, out, e = cli.run("accounts", "add", "kimi", json.dumps(rt.split(".")))
        rows = k.rows()
        r.check("accounts add kimi: Local Storage's array of pieces, joined with '.'",
                rc == 0 and "added" in out and rows.get(fp(rt), {}).get("kind") == "refresh",
                out + e + str(rows))
        resp = harness.http(fe.port, "GET", "/v1/models")
        doc = resp.json() or {}
        r.check("/v1/models lists Kimi-K2.5 once an account is active",
                any(x.get("id") == MODEL and x.get("owned_by") == "kimi"
                    for x in doc.get("data", [])), resp.describe())
        npm_client(k)
        st = m.snapshot()
        r.check("one exchange for all of it, across 4 processes",
                st.get("refreshes", {}) == {"u1": 1}, str(st.get("refreshes")))
        r.check("nothing refused by the mock so far", not st.get("rejections"),
                json.dumps(st.get("rejections"))[:600])
        k.check("every chat deleted after its answer", k.deleted_all(), str(st.get("live_chats")))
        credentials(k)
        prompt_and_switches(k)
        splits(k)
        faults(k)
        refresh_lifetime(k)
        failover_and_checks(k)
        disconnect(k)
        logs = ""
        for f in os.listdir(ws.path("log")):
            with open(ws.path("log", f), errors="replace") as fh:
                logs += fh.read()
        secrets = [CODE] + [t for u in m.snapshot()["users"].values() for t in u["refresh_tokens"]]
        secrets += [m.refresh_token(u) for u in ("u1", "u2", "u3")]
        secrets += [t.split(".")[2] for t in secrets if t.count(".") == 2]
        leaked = [t for t in secrets if t and t in logs]
        r.check("no refresh token, access token, JWT signature or code in any log",
                not leaked and "eyJ" not in logs, str(leaked)[:200])
    except HarnessError as e:
        harness.report_setup(r, "kimi", e)
    finally:
        m.stop()
        harness.finish_workspace(r, ws, "kimi")
    proxies(r, binary)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
