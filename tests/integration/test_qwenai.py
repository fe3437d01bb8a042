#!/usr/bin/env python3
"""Qwen AI (chat.qwen.ai) end to end: nginx + spawn-fcgi (4 processes) +
chat2api + the Qwen AI mock, which checks the JWT's signature, the cookies,
the §7.2 headers (the anti-bot values included), the bodies and the chats.

  * the openai npm client: stream and non-stream, reasoning included;
  * the conversation flattened whole; thinking by name (-Thinking forces it
    on, -fast off), body and header; aliases and the upstream's ids; the
    upstream's own model list in /v1/models (fetched once for all
    processes) and routed;
  * the chat deleted after every answer (after a failure or a client that
    left too), without holding the response open;
  * the stream split at every byte (inside UTF-8 and SSE lines), CRLF,
    \\u escapes, drips, a rewritten summary;
  * misbehaviour: 401 (refused and expired tokens), 403, 429 with
    Retry-After, 5xx with retries, Cloudflare pages, JSON errors with 200,
    Bad_Request naming the missing cookies, resets and early closes
    mid-stream, in-stream errors -- each a clear OpenAI error and the
    account's status (error / expired / cooling); failover within a request;
    a wrong JWT secret refused by the mock; image parts refused (400);
  * accounts add/validate, the client's own JWT, PROXY_URL (sticky), no
    token, cookie or code in any log.

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
import qwenai_mock as qm  # noqa: E402
import test_chat  # noqa: E402  (the npm client installer)
import test_deepseek  # noqa: E402
from test_deepseek import err, fp, message, sse  # noqa: E402

CODE = "qa-code-1"
U1, U2, U3 = qm.DEFAULT_TOKEN, qm.OTHER_TOKEN, qm.THIRD_TOKEN
C1, C3 = qm.make_cookies(U1), qm.make_cookies(U3)
BX_UA, BX_UMID = "231!mock-bx-ua-" + "x" * 40, "T2gA-mock-umid-token"


def chat(port, model, messages, stream=False, token=None, **kw):
    return test_deepseek.chat(port, model, messages, stream=stream, token=token or CODE, **kw)


class Cli:
    def __init__(self, ws, binary, base):
        self.env = dict(os.environ, CHAT2API_DATA_DIR=ws.path("data"), CHAT2API_LOG_LEVEL="warn",
                        QWENAI_BASE_URL=base)
        self.prefix = ["runuser", "-u", harness.RUN_USER, "--"] if harness.RUN_USER else []
        self.binary = binary

    def run(self, *args, env=None):
        p = subprocess.run(self.prefix + [self.binary] + list(args), env=dict(self.env, **(env or {})),
                           capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    def status(self, token):
        rc, out, _ = self.run("accounts", "list", "qwenai")
        for line in out.splitlines():
            if line.startswith(fp(token)):
                return line.split()[3]
        return None


def npm(r, port):
    cdir = test_chat.client_dir()
    node = harness.which("node")
    base = "http://127.0.0.1:%d/v1" % port
    for mode in ("nonstream", "stream"):
        for model in ("Qwen3-Max", "Qwen3-Max-Thinking"):
            pr = subprocess.run([node, os.path.join(cdir, "openai_client.mjs"), base, CODE, mode, model,
                                 "npm %s %s" % (mode, model)], capture_output=True, text=True, timeout=60)
            try:
                out = json.loads(pr.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                out = {"error": pr.stdout + pr.stderr}
            think = model.endswith("Thinking")
            want_r = ("Thinking about: npm %s %s.%s" % (mode, model, "\n".join(qm.SUMMARY_LINES))
                      if think else "")
            r.check("openai npm %s %s: content%s, usage" % (mode, model, ", reasoning" if think else ""),
                    not out.get("error") and out.get("content") == "You said: npm %s %s" % (mode, model)
                    and out.get("finish_reason") == "stop" and out.get("model") == model and
                    out.get("reasoning", "") == want_r and
                    (out.get("usage") or {}).get("completion_tokens", 0) > 0, json.dumps(out)[:600])
    pr = subprocess.run([node, os.path.join(cdir, "openai_client.mjs"), base, CODE, "models", "", ""],
                        capture_output=True, text=True, timeout=60)
    try:
        ids = json.loads(pr.stdout.strip().splitlines()[-1]).get("ids") or []
    except (ValueError, IndexError):
        ids = []
    return ids


def switches(r, port, mock):
    for model, extra, headers, up, think in (
            ("Qwen3.5-Plus", None, None, "qwen3.5-plus", False),
            ("Qwen3.5-Plus-Thinking", None, None, "qwen3.5-plus", True),
            ("qwen3.5-plus-think", None, None, "qwen3.5-plus", True),
            ("Qwen3.5-Plus", {"reasoning_effort": "high"}, None, "qwen3.5-plus", True),
            ("Qwen3.5-Plus", None, {"X-Reasoning-Effort": "low"}, "qwen3.5-plus", True),
            ("Qwen3.5-Plus-fast", {"reasoning_effort": "high"}, None, "qwen3.5-plus", False),
            ("Qwen3-Max", None, None, "qwen3-max-2026-01-23", False),
            ("qwen", None, None, "qwen3-max-2026-01-23", False),
            ("qwen3-vl", None, None, "qwen3-vl-plus", False),
            ("qwen-plus-2025-07-28", None, None, "qwen-plus-2025-07-28", False),
            ("Qwen2.5-Max", None, None, "qwen-max-latest", False)):
        resp = chat(port, model, "switch", extra=extra, headers=headers)
        lc = mock.snapshot().get("last_completion") or {}
        body = lc.get("body") or {}
        fc = ((body.get("messages") or [{}])[0]).get("feature_config") or {}
        r.check("%s %s %s: model %s, thinking=%s" % (model, extra or "", headers or "", up, think),
                resp.status == 200 and body.get("model") == up and fc.get("thinking_enabled") is think and
                fc.get("auto_search") is False and message(resp)[2].get("model") == model,
                resp.describe() + " " + json.dumps(body)[:300])


def prompt_and_headers(r, port, mock):
    msgs = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "First question"},
            {"role": "assistant", "content": "First answer"},
            {"role": "developer", "content": "Stay polite."},
            {"role": "user", "content": [{"type": "text", "text": "Second"},
                                         {"type": "text", "text": "part two"}]}]
    resp = chat(port, "Qwen3-Max", msgs)
    lc = mock.snapshot().get("last_completion") or {}
    want = ("Be brief.\n\nStay polite.\n\nUser: First question\n\nAssistant: First answer\n\n"
            "User: Second\npart two")
    r.check("the whole conversation flattened (system first, every turn labelled)",
            resp.status == 200 and lc.get("prompt") == want, repr(lc.get("prompt")))
    m, _, _ = message(resp)
    r.check("the answer echoes the last user turn", m.get("content") == "You said: Second\npart two",
            m.get("content"))
    resp = chat(port, "Qwen3-Max", [{"role": "user", "content": "only one"}])
    lc = mock.snapshot().get("last_completion") or {}
    r.check("one user message goes up bare", lc.get("prompt") == "only one", repr(lc.get("prompt")))
    h = lc.get("headers") or {}
    r.check("§7.2 headers: bearer, cookies, source, version, bx-v, bx-ua, bx-umidtoken, referer of "
            "the chat", h.get("authorization") == "Bearer " + U1 and h.get("cookie") == C1 and
            h.get("source") == "web" and h.get("version") == "0.2.7" and h.get("bx-v") == "2.5.36" and
            h.get("bx-ua") == BX_UA and h.get("bx-umidtoken") == BX_UMID and
            h.get("referer") == qm.ORIGIN + "/c/" + lc.get("chat_id", "?") and
            h.get("x-accel-buffering") == "no", json.dumps(h)[:600])
    resp = chat(port, "Qwen3-Max", [{"role": "user", "content": [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}])
    e = err(resp)
    r.check("an image part -> 400 unsupported_content naming the message, nothing sent upstream",
            resp.status == 400 and e.get("code") == "unsupported_content" and "messages[0]" in
            e.get("message", "") and (mock.snapshot().get("last_completion") or {}).get("prompt") ==
            "only one", resp.describe())


def shapes(r, port):
    whole = message(chat(port, "Qwen3-Max-Thinking", "shape [[unicode]] [[long:30]]"))[0]
    r.check("non-stream with thinking: content and reasoning",
            whole.get("content", "").endswith("word30") and
            whole.get("reasoning_content", "").startswith("Thinking about: shape"), json.dumps(whole)[:300])
    for mk in ("[[split:bytes]]", "[[split:random]]", "[[split:bytes]] [[crlf]]",
               "[[ascii]] [[split:7]]", "[[drip:5]] [[split:3]]", "[[nodone]] [[split:2]]"):
        resp = chat(port, "Qwen3-Max-Thinking", "shape [[unicode]] [[long:30]] " + mk, stream=True)
        sc, sr, sf, se, sd = sse(resp)
        r.check("stream %s: same content and reasoning, UTF-8 intact, [DONE]" % mk,
                resp.status == 200 and sd and se is None and sf == "stop" and
                sc == whole.get("content") and sr == whole.get("reasoning_content"),
                repr(sc[-120:]) + " / " + repr(sr[-80:]))
    resp = chat(port, "Qwen3-Max", "non-stream split [[unicode]] [[split:bytes]]")
    m = message(resp)[0]
    r.check("non-stream split at every byte: whole UTF-8 text",
            resp.status == 200 and m.get("content", "").endswith(qm.UNICODE_TAIL), m.get("content", "")[-60:])
    resp = chat(port, "Qwen3-Max-Thinking", "rewrite [[rewrite]]")
    m = message(resp)[0]
    r.check("a rewritten summary follows the first after a blank line",
            m.get("reasoning_content", "").endswith("\n".join(qm.SUMMARY_LINES) +
                                                    "\n\nRewritten summary."), repr(m))
    resp = chat(port, "Qwen3-Max", "cut [[finish:length]]")
    r.check("finish_reason length passes through", message(resp)[1] == "length", resp.describe())


def faults(r, port, mock, cli):
    def case(name, marker, status, code=None, stream=False, hdr=None):
        resp = chat(port, "Qwen3-Max", "fail " + marker, stream=stream)
        e = err(resp)
        ok = resp.status == status and (code is None or e.get("code") == code) and \
            e.get("message") and e.get("type")
        if hdr:
            ok = ok and resp.header(hdr) is not None
        r.check("%s -> %d %s" % (name, status, code or ""), ok, resp.describe())
        return resp

    case("upstream 500 on every try (retried)", "[[fail:500]]", 502, "upstream_error")
    case("upstream 503 Cloudflare page", "[[cf:503]]", 503, "cf_challenge")
    case("a JSON error with HTTP 200", "[[fail:200]]", 502, "upstream_error")
    mock.configure({"completion_status": 500, "completion_status_times": 1})
    resp = chat(port, "Qwen3-Max", "heals")
    r.check("a 500 that heals: the retry answers 200", resp.status == 200, resp.describe())
    case("upstream 403", "[[fail:403]]", 403, "upstream_forbidden")
    r.check("a 403 marks the account error", cli.status(U1) == "error", cli.run("accounts", "list")[1])
    cli.run("accounts", "enable", fp(U1))
    case("upstream 401", "[[fail:401]]", 401, "invalid_api_key")
    r.check("a 401 marks the account error", cli.status(U1) == "error", cli.run("accounts", "list")[1])
    cli.run("accounts", "enable", fp(U1))
    resp = case("upstream 429", "[[fail:429]]", 429, "rate_limit_exceeded", hdr="retry-after")
    r.check("a 429 cools the account down; the next request -> 429 with Retry-After",
            cli.status(U1) == "cooling" and chat(port, "Qwen3-Max", "cooling").status == 429,
            cli.run("accounts", "list")[1])
    cli.run("accounts", "enable", fp(U1))
    resp = chat(port, "Qwen3-Max", "limited [[error:limit]]")
    r.check("RateLimited in the stream before any text -> 429", resp.status == 429 and
            err(resp).get("type") == "rate_limit_error", resp.describe())
    cli.run("accounts", "enable", fp(U1))
    resp = chat(port, "Qwen3-Max", "auth [[error:auth]]")
    r.check("Unauthorized in the stream before any text -> 401, account error",
            resp.status == 401 and cli.status(U1) == "error", resp.describe())
    cli.run("accounts", "enable", fp(U1))
    for name, marker in (("RST mid-stream", "[[reset:6]]"), ("FIN mid-stream", "[[close:6]]"),
                         ("an error object mid-stream", "[[error:inline]]"),
                         ("an error event mid-stream", "[[error:event]]")):
        resp = chat(port, "Qwen3-Max", "mid [[long:20]] " + marker, stream=True)
        sc, sr, sf, se, sd = sse(resp)
        r.check("stream, %s: text so far, then an error chunk and [DONE]" % name,
                resp.status == 200 and sd and se is not None and se.get("message") and
                sc.startswith("You said") and "never seen" not in sc, repr(sc[-80:]) + " " + str(se))
        resp = chat(port, "Qwen3-Max", "mid [[long:20]] " + marker)
        r.check("non-stream, %s: a 5xx OpenAI error" % name,
                resp.status >= 500 and err(resp).get("message"), resp.describe())
    gone = harness.wait_until(lambda: not mock.snapshot().get("chats_live", {}).get("u1"), 5)
    r.check("the chats of failed attempts are deleted too", gone, str(mock.snapshot().get("live_chats")))


def credentials(r, port, mock, cli):
    # a wrong signature: the mock's secret changes, every token is refused
    mock.configure({"jwt_secret": "another-secret"})
    resp = chat(port, "Qwen3-Max", "wrong secret")
    rej = (mock.snapshot().get("last_rejection") or {}).get("reason")
    r.check("the mock checks the JWT signature: another secret -> 401, account error",
            resp.status == 401 and err(resp).get("code") == "invalid_api_key" and
            rej == "the JWT signature is wrong" and cli.status(U1) == "error", resp.describe() + str(rej))
    mock.configure({"jwt_secret": qm.JWT_SECRET})
    rc, out, e = cli.run("accounts", "validate", "qwenai")
    r.check("accounts validate asks /api/v2/user: the account is active again, with its e-mail",
            rc == 0 and cli.status(U1) == "active" and "mock-user-1@example.com" in
            cli.run("accounts", "list", "qwenai")[1] + out, out + e)
    mock.configure({"expired_users": ["u1"]})
    rc, out, e = cli.run("accounts", "validate", "qwenai")
    r.check("accounts validate of a refused login marks it error", cli.status(U1) == "error", out + e)
    mock.configure({"expired_users": []})
    cli.run("accounts", "enable", fp(U1))
    # the client's own JWT as the API key (its user needs no cookies here)
    mock.configure({"by_token": {U2: {"require_cookies": False}}})
    resp = chat(port, "Qwen3-Max", "own", token=U2)
    lc = mock.snapshot().get("last_completion") or {}
    r.check("the client's own JWT is used as is", resp.status == 200 and lc.get("user") == "u2",
            resp.describe())
    mock.configure({"by_token": {U2: None}})
    resp = chat(port, "Qwen3-Max", "placeholder", token="sk-placeholder")
    r.check("a placeholder key on a server with codes -> 401 invalid_api_key",
            resp.status == 401 and err(resp).get("code") == "invalid_api_key", resp.describe())


def cookies_and_failover(r, binary):
    """Accounts without (or with half) the cookies, an expired one, and
    failover to a good one within the request."""
    ws = harness.Workspace("qwenai-accounts")
    mock = qm.QwenAIMock().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        fe.app_extra = {"QWENAI_BASE_URL": mock.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "3",
                        "LB_STRATEGY_QWENAI": "round-robin"}
        fe.start()
        cli = Cli(ws, binary, mock.url)
        cli.run("accounts", "add", "qwenai", U2)
        resp = chat(fe.port, "Qwen3-Max", "no cookies")
        msg = err(resp).get("message", "")
        r.check("Bad_Request on an account without cookies -> 403 naming the cookies; account error",
                resp.status == 403 and "no cookies" in msg and "cnaui" in msg and "_bl_uid" in msg and
                cli.status(U2) == "error", resp.describe())
        cli.run("accounts", "remove", fp(U2))
        cli.run("accounts", "add", "qwenai", U2, "--set",
                "cookies=" + qm.make_cookies(U2, drop=("x-ap", "_bl_uid")))
        resp = chat(fe.port, "Qwen3-Max", "half the cookies")
        msg = err(resp).get("message", "")
        r.check("Bad_Request with half the cookies names the missing ones",
                resp.status == 403 and "lack _bl_uid, x-ap" in msg and "cnaui" not in msg,
                resp.describe())
        cli.run("accounts", "add", "qwenai", qm.EXPIRED_TOKEN, "--set",
                "cookies=" + qm.make_cookies(qm.EXPIRED_TOKEN))
        cli.run("accounts", "add", "qwenai", U3, "--set", "cookies=" + C3)
        cli.run("accounts", "enable", fp(U2))
        before = mock.snapshot().get("completions", {}).get("u3", 0)
        got = [chat(fe.port, "Qwen3-Max", "failover %d" % i).status for i in range(3)]
        st = mock.snapshot()
        r.check("failover within each request: the cookie-less and the expired accounts fail, the "
                "good one answers (3 requests, each account first once)", got == [200] * 3 and
                st.get("completions", {}).get("u3", 0) == before + 3, str(got))
        r.check("the expired JWT's account is marked expired, the cookie-less one error",
                cli.status(qm.EXPIRED_TOKEN) == "expired" and cli.status(U2) == "error",
                cli.run("accounts", "list", "qwenai")[1])
        rc, out, e = cli.run("accounts", "validate", fp(qm.EXPIRED_TOKEN))
        r.check("accounts validate: an expired JWT stays expired", cli.status(qm.EXPIRED_TOKEN) ==
                "expired", out + e)
        mock.configure({"by_token": {U3: {"completion_status": 401}}})
        cli.run("accounts", "add", "qwenai", U1, "--set", "cookies=" + C1)
        got = [chat(fe.port, "Qwen3-Max", "401 then good %d" % i).status for i in range(2)]
        r.check("a 401 on one account moves the request to the next (200), marks it error",
                got == [200, 200] and cli.status(U3) == "error" and
                (mock.snapshot().get("last_completion") or {}).get("user") == "u1", str(got))
    except HarnessError as e:
        harness.report_setup(r, "qwenai-accounts", e)
    finally:
        mock.stop()
        harness.finish_workspace(r, ws, "qwenai-accounts")


def proxies(r, binary):
    """PROXY_URL applies to Qwen AI too, one proxy per account (sticky)."""
    ws = harness.Workspace("qwenai-proxy")
    mock = qm.QwenAIMock().start()
    p1, p2 = http_proxy.HttpProxy().start(), http_proxy.HttpProxy().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        fe.app_extra = {"QWENAI_BASE_URL": mock.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "0",
                        "PROXY_URL": p1.url + "," + p2.url, "LB_STRATEGY": "round-robin"}
        fe.start()
        cli = Cli(ws, binary, mock.url)
        cli.run("accounts", "add", "qwenai", U1, "--set", "cookies=" + C1)
        cli.run("accounts", "add", "qwenai", U3, "--set", "cookies=" + C3)
        ok = [chat(fe.port, "Qwen3-Max", "via proxy %d" % i).status for i in range(6)]
        h1, h2 = p1.hits("/api/v2/chat/completions"), p2.hits("/api/v2/chat/completions")
        r.check("PROXY_URL: Qwen AI answers come through the proxies",
                ok == [200] * 6 and len(h1) + len(h2) == 6, "%s p1=%d p2=%d" % (ok, len(h1), len(h2)))
        harness.wait_until(lambda: sum(len(p.hits(None)) for p in (p1, p2)) >= 18, 5)
        st = mock.snapshot()
        r.check("PROXY_URL: chats/new and the delete go through them too; one account, one proxy",
                sum(len(p.hits("/api/v2/chats/new")) for p in (p1, p2)) == 6 and
                sorted(st.get("completions", {}).values()) == [3, 3] and len(h1) in (0, 3, 6),
                "p1=%d p2=%d %s" % (len(h1), len(h2), st.get("completions")))
    except HarnessError as e:
        harness.report_setup(r, "qwenai-proxy", e)
    finally:
        p1.stop()
        p2.stop()
        mock.stop()
        harness.finish_workspace(r, ws, "qwenai-proxy")


def main():
    r = Results("test_qwenai")
    harness.install_signal_handlers(900)
    binary = harness.find_binary()
    ws = harness.Workspace("qwenai")
    mock = qm.QwenAIMock(config={"require_bx": True, "expected_bx_ua": BX_UA,
                                 "expected_bx_umidtoken": BX_UMID}).start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=4)
        fe.check_installed()
        fe.app_extra = {"QWENAI_BASE_URL": mock.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "2",
                        "QWENAI_BX_UA": BX_UA, "QWENAI_BX_UMIDTOKEN": BX_UMID}
        fe.start()
        port = fe.port
        cli = Cli(ws, binary, mock.url)
        cli.env.update(QWENAI_BX_UA=BX_UA, QWENAI_BX_UMIDTOKEN=BX_UMID)
        rc, out, e = cli.run("accounts", "add", "qwenai", "not-a-jwt")
        r.check("accounts add refuses what is no JWT", rc != 0, out + e)
        rc, out, e = cli.run("accounts", "add", "qwenai", '"Bearer %s"' % U1, "--set", "cookies=" + C1)
        r.check("accounts add qwenai TOKEN --set cookies=...", rc == 0 and "added" in out, out + e)
        resp = harness.http(port, "GET", "/v1/models", headers={"Authorization": "Bearer " + CODE})
        ids = [m.get("id") for m in (resp.json() or {}).get("data", [])]
        for _ in range(5):
            harness.http(port, "GET", "/v1/models", headers={"Authorization": "Bearer " + CODE})
        r.check("/v1/models: the built-in models, the upstream's extra ones, no aliases",
                "Qwen3-Max" in ids and "Qwen3.6-Plus" in ids and "qwq-32b" in ids and
                "qwen3-next-80b-a3b" in ids and "qwen" not in ids and "qwen3-max-2026-01-23" not in ids,
                str(ids))
        r.check("the upstream's list fetched once for 6 listings across 4 processes",
                mock.snapshot().get("models_calls") == 1, str(mock.snapshot().get("models_calls")))
        resp = harness.http(port, "GET", "/v1/models/qwq-32b", headers={"Authorization": "Bearer " + CODE})
        r.check("/v1/models/qwq-32b: a listed model is a model", resp.status == 200 and
                (resp.json() or {}).get("owned_by") == "qwenai", resp.describe())
        resp = chat(port, "qwq-32b-thinking", "listed")
        lc = mock.snapshot().get("last_completion") or {}
        r.check("a model only the upstream lists routes to Qwen AI as it is (-thinking too)",
                resp.status == 200 and lc.get("model") == "qwq-32b" and lc.get("thinking") is True,
                resp.describe())
        ids2 = npm(r, port)
        r.check("openai npm models.list lists Qwen AI's models", "Qwen3-Max" in ids2 and "qwq-32b" in ids2,
                str(ids2))
        st = mock.snapshot()
        r.check("every request verified by the mock: nothing rejected", not st.get("rejections"),
                json.dumps(st.get("rejections"))[:600])
        gone = harness.wait_until(lambda: not mock.snapshot().get("chats_live", {}).get("u1"), 5)
        r.check("every chat deleted after its answer", gone and
                mock.snapshot().get("chats_deleted", {}).get("u1") ==
                mock.snapshot().get("chats_created", {}).get("u1"), str(mock.snapshot().get("live_chats")))
        switches(r, port, mock)
        prompt_and_headers(r, port, mock)
        shapes(r, port)

        # the delete does not hold the response open
        mock.configure({"api_delay_ms": 600})
        t0 = time.monotonic()
        resp = chat(port, "Qwen3-Max", "quick end")
        took = time.monotonic() - t0
        mock.configure({"api_delay_ms": 0})
        gone = harness.wait_until(lambda: not mock.snapshot().get("chats_live", {}).get("u1"), 5)
        r.check("the response ends before the chat delete (one slow call, not two)",
                resp.status == 200 and 0.55 < took < 1.1 and gone, "took %.2fs, deleted=%s" % (took, gone))

        faults(r, port, mock, cli)
        credentials(r, port, mock, cli)

        # a client that leaves mid-stream: the chat still goes
        before = mock.snapshot().get("chats_deleted", {}).get("u1", 0)
        s = socket.create_connection(("127.0.0.1", port))
        body = json.dumps({"model": "Qwen3-Max", "stream": True, "messages": [
            {"role": "user", "content": "leaving [[long:200]] [[drip:30]]"}]})
        s.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" %
                   (CODE, len(body), body)).encode())
        s.recv(2048)
        s.close()
        ok = harness.wait_until(lambda: mock.snapshot().get("chats_deleted", {}).get("u1", 0) > before and
                                not mock.snapshot().get("chats_live", {}).get("u1"), 15)
        r.check("a client gone mid-stream: the transfer stops, the chat is deleted",
                ok and mock.snapshot().get("client_disconnects", 0) >= 1, str(mock.snapshot().get("live_chats")))

        logs = ""
        for f in os.listdir(ws.path("log")):
            with open(ws.path("log", f), errors="replace") as fh:
                logs += fh.read()
        leaked = [t for t in (U1, U2, CODE, C1, BX_UA, U1.split(".")[2]) if t in logs]
        r.check("no token, cookie, anti-bot value or code in any log", not leaked, str(leaked)[:200])
    except HarnessError as e:
        harness.report_setup(r, "qwenai", e)
    finally:
        mock.stop()
        harness.finish_workspace(r, ws, "qwenai")
    cookies_and_failover(r, binary)
    proxies(r, binary)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
