#!/usr/bin/env python3
"""GLM end to end: nginx + spawn-fcgi (4 processes) + chat2api + the GLM mock, which checks
every X-Sign, the browser headers, the access tokens, the §3.5 body and the uploads, and
rotates refresh tokens when told to.

  * accounts add / list / validate; /v1/models lists GLM once an account is active;
  * the openai npm client, stream and non-stream, plain, thinking and search;
  * the exact prompt and body the mock received: chat_mode and is_networking from names,
    the body and headers; an assistant id through a mapping; images and files uploaded and
    referenced; search citations as numbered links, images, code, intervene;
  * the stream split at every byte, repeated, shrinking, only changed parts: the same answer;
  * one refresh for all processes; a revoked access token exchanged again; the refresh token
    rotated by the upstream is what is stored, survives a restart, and the old one is never
    sent again; one exchange when eight first uses race;
  * faults before the answer (401, 403, 429 with Retry-After, 5xx, Cloudflare, 40001/40102)
    as OpenAI errors and account statuses, failover to a good account within the request;
    a wrong signature refused by the mock; mid-stream failures as an error chunk and [DONE];
  * the conversation deleted after every answer, after the response, also when the client
    left; PROXY_URL (sticky per account); nothing secret in any log.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402
import glm_mock  # noqa: E402
import http_proxy  # noqa: E402
import test_chat  # noqa: E402  (the npm client installer, png())
from test_accounts import App, Cli  # noqa: E402
from test_deepseek import chat, err, fp, message, sse  # noqa: E402

CODE = "glm-code-1"
RT1 = glm_mock.DEFAULT_REFRESH_TOKEN
RT2 = glm_mock.OTHER_REFRESH_TOKEN
RT3 = "glmMockRefresh0003.ThirdUserThirdUserThirdUserThirdUser0123456789"
AGENT = "65a232c082ff90a2ad2f15e2"
MAPPING = json.dumps({"glm-agent": {"target": AGENT, "provider": "glm"}})


def last(mock):
    return mock.snapshot().get("last_completion") or {}


def expected(mock):
    return last(mock).get("expected") or {}


def live(mock):
    return mock.snapshot().get("conversations_live", {})


def status_of(cli, secret):
    return cli.accounts("glm").get(fp(secret), {}).get("status")


def npm(r, port, mock, cdir):
    node = harness.which("node")
    base = "http://127.0.0.1:%d/v1" % port
    for mode in ("nonstream", "stream"):
        for model in ("GLM-5", "GLM-5-Think", "GLM-5-Search"):
            pr = subprocess.run([node, os.path.join(cdir, "openai_client.mjs"), base, CODE, mode,
                                 model, "npm %s %s" % (mode, model)],
                                capture_output=True, text=True, timeout=60)
            try:
                out = json.loads(pr.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                out = {"error": pr.stdout + pr.stderr}
            want = expected(mock)
            think = model.endswith("Think")
            r.check("openai npm %s %s: the answer as the mock says it%s" % (
                    mode, model, ", with reasoning" if think else ""),
                    not out.get("error") and out.get("content") == want.get("content") and
                    out.get("content", "").startswith("You said: npm") and
                    out.get("finish_reason") == "stop" and out.get("model") == model and
                    out.get("reasoning", "") == want.get("reasoning") and
                    (out.get("reasoning", "").startswith("Thinking about") if think else True) and
                    (" [1](https://example.com/one)" in out.get("content", "")
                     if model.endswith("Search") else "[1]" not in out.get("content", "")) and
                    (out.get("usage") or {}).get("total_tokens", 0) > 0,
                    json.dumps(out)[:600] + " want " + json.dumps(want)[:300])


def switches(r, port, mock):
    for model, extra, headers, mode, net in (
            ("GLM-5", None, None, None, False),
            ("GLM-5-Think", None, None, "zero", False),
            ("glm-5-search", None, None, None, True),
            ("GLM-5-Think-Search", None, None, "zero", True),
            ("GLM-5-DeepResearch", None, None, "deep_research", False),
            ("GLM-5", {"reasoning_effort": "high"}, None, "zero", False),
            ("GLM-5", {"reasoning_effort": "none"}, None, None, False),
            ("GLM-5", {"web_search": True}, None, None, True),
            ("GLM-5", {"deep_research": True}, None, "deep_research", False),
            ("GLM-5", None, {"X-Deep-Research": "true"}, "deep_research", False),
            ("GLM-5", {"web_search": False}, {"X-Web-Search": "true"}, None, False),
            ("GLM-5", None, {"X-Web-Search": "true", "X-Reasoning-Effort": "medium"}, "zero",
             True),
            ("GLM-5-Think", {"deep_research": True}, None, "deep_research", False)):
        resp = chat(port, model, "switch", token=CODE, extra=extra, headers=headers)
        lc = last(mock)
        r.check("%s %s %s: chat_mode=%s is_networking=%s" % (model, extra or "", headers or "",
                                                             mode, net),
                resp.status == 200 and lc.get("chat_mode") == mode and
                lc.get("is_networking") is net and lc.get("assistant_id") == glm_mock.DEFAULT_ASSISTANT,
                resp.describe() + " " + str({k: lc.get(k) for k in ("chat_mode", "is_networking")}))
    resp = chat(port, "glm-agent", "agent", token=CODE)
    r.check("a mapping to an assistant id: assistant_id is that id, also in the delete",
            resp.status == 200 and last(mock).get("assistant_id") == AGENT and
            harness.wait_until(lambda: not live(mock), 5), resp.describe())


def prompts_and_uploads(r, port, mock):
    msgs = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "First question"},
            {"role": "assistant", "content": "First answer"},
            {"role": "user", "content": [{"type": "text", "text": "Second"},
                                         {"type": "text", "text": "part two"}]}]
    resp = chat(port, "GLM-5", msgs, token=CODE)
    want = ("System: Be brief.\n\nUser: First question\n\nAssistant: First answer\n\n"
            "User: Second\npart two\n\nAssistant: ")
    r.check("the history flattened as §3.5 says", resp.status == 200 and
            last(mock).get("prompt") == want, repr(last(mock).get("prompt")))
    resp = chat(port, "GLM-5", "only one 中文", token=CODE)
    r.check("one message: its text and a newline", last(mock).get("prompt") == "only one 中文\n",
            repr(last(mock).get("prompt")))
    png = test_chat.png(3, 2)
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    pdf = "data:application/pdf;base64," + base64.b64encode(b"%PDF-1.4 mock").decode()
    before = mock.snapshot().get("uploads", {}).get(RT1, 0)
    resp = chat(port, "GLM-5", [{"role": "user", "content": [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": url}},
        {"type": "file", "file": {"file_data": pdf}}]}], token=CODE)
    m, fin, doc = message(resp)
    s = mock.snapshot()
    lc = s.get("last_completion") or {}
    r.check("an image and a file uploaded through file_upload and referenced in the body",
            resp.status == 200 and s.get("uploads", {}).get(RT1, 0) == before + 2 and
            len(lc.get("images", [])) == 1 and len(lc.get("files", [])) == 1 and
            m.get("content") == "You said: what is this (I see 1 image) (and 1 file)",
            resp.describe())
    body = lc.get("body") or {}
    items = body.get("messages", [{}])[0].get("content", [])
    r.check("the body's content: the file list, the image_url, then the text",
            [i.get("type") for i in items] == ["file", "image_url", "text"] and
            s.get("last_upload", {}).get("sha256") and lc.get("prompt") == "what is this\n",
            json.dumps(items)[:400])
    resp = chat(port, "GLM-5", [{"role": "user", "content": [
        {"type": "text", "text": "x"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,%%%"}}]}], token=CODE)
    r.check("an image that cannot be read -> 400 invalid_image_url",
            resp.status == 400 and err(resp).get("code") == "invalid_image_url", resp.describe())


def shapes(r, port, mock):
    base = "shape [[unicode]] [[long:25]]"
    resp = chat(port, "GLM-5-Think-Search", base, token=CODE)
    m, fin, doc = message(resp)
    want = expected(mock)
    r.check("non-stream thinking and search: content and reasoning as the mock says",
            resp.status == 200 and m.get("content") == want.get("content") and
            m.get("reasoning_content") == want.get("reasoning") and
            " [2](https://example.org/two?a=%28b%29)" in m.get("content", ""),
            json.dumps(m)[:500])
    for mk in ("[[split:bytes]]", "[[split:random]]", "[[repeat]]", "[[shrink]] [[split:3]]",
               "[[parts:changed]]", "[[split:bytes]] [[crlf]]", "[[ascii]] [[split:7]]",
               "[[drip:5]] [[split:5]] [[repeat]]"):
        resp = chat(port, "GLM-5-Think-Search", base + " " + mk, stream=True, token=CODE)
        sc, sr, sf, se, sd = sse(resp)
        r.check("stream %s: the same content and reasoning, UTF-8 whole, [DONE]" % mk,
                resp.status == 200 and sd and se is None and sf == "stop" and
                sc == m.get("content") and sr == m.get("reasoning_content"),
                repr(sc[-160:]) + " / " + repr((m.get("content") or "")[-160:]))
    resp = chat(port, "GLM-5", "art [[image]] [[code]]", token=CODE)
    m, fin, doc = message(resp)
    r.check("images as markdown, code as a python block with its output",
            m.get("content") == expected(mock).get("content") and "![image](" in
            m.get("content", "") and "```python\nprint(6 * 7)\n```\n42" in m.get("content", ""),
            repr(m.get("content")))
    resp = chat(port, "GLM-5", "stop here [[intervene]]", stream=True, token=CODE)
    sc, sr, sf, se, sd = sse(resp)
    r.check("intervene: the intervene text at the end, then stop",
            sd and sf == "stop" and sc == "You said: stop here\n\n" + glm_mock.INTERVENE_TEXT,
            repr(sc))


def faults(r, port, mock, cli):
    def case(name, marker, status, code=None, hdr=None):
        resp = chat(port, "GLM-5", "fail " + marker, token=CODE)
        e = err(resp)
        ok = resp.status == status and (code is None or e.get("code") == code) and \
            e.get("message") and e.get("type")
        if hdr:
            ok = ok and resp.header(hdr) is not None
        r.check("%s -> %d %s" % (name, status, code or ""), ok, resp.describe())
        return resp

    case("upstream 500 on every try (retried)", "[[fail:500]]", 502, "upstream_error")
    case("upstream 503 Cloudflare page", "[[cf:503]]", 503, "cf_challenge")
    case("a JSON error instead of the stream, HTTP 200", "[[fail:200]]", 502, "upstream_error")
    mock.configure({"stream_status": 503, "stream_status_times": 1})
    resp = chat(port, "GLM-5", "heals", token=CODE)
    r.check("a 503 that heals: the retry answers 200", resp.status == 200, resp.describe())
    case("upstream 403", "[[fail:403]]", 403, "upstream_forbidden")
    r.check("a 403 marks the account error", status_of(cli, RT1) == "error",
            str(cli.accounts("glm")))
    cli.run("accounts", "enable", fp(RT1))
    before = mock.snapshot().get("refreshes", {}).get(RT1, 0)
    case("the stream refuses the access token (401) even fresh", "[[fail:401]]", 401,
         "invalid_api_key")
    r.check("... the cached access token was exchanged again once first",
            mock.snapshot().get("refreshes", {}).get(RT1, 0) == before + 1,
            str(mock.snapshot().get("refreshes")))
    r.check("a 401 marks the account error", status_of(cli, RT1) == "error",
            str(cli.accounts("glm")))
    cli.run("accounts", "enable", fp(RT1))
    case("upstream 429", "[[fail:429]]", 429, "rate_limit_exceeded", "retry-after")
    r.check("a 429 cools the account down", status_of(cli, RT1) == "cooling",
            str(cli.accounts("glm")))
    resp = chat(port, "GLM-5", "while cooling", token=CODE)
    ra = resp.header("retry-after")
    r.check("the only account cooling -> 429 with Retry-After",
            resp.status == 429 and ra is not None and 0 < int(ra) <= 30, resp.describe())
    cli.run("accounts", "enable", fp(RT1))
    case("40102 in place of the stream", "[[fail:40102]]", 401, "account_expired")
    r.check("40102 marks the account expired", status_of(cli, RT1) == "expired",
            str(cli.accounts("glm")))
    cli.run("accounts", "enable", fp(RT1))
    resp = chat(port, "GLM-5", "gone [[error:expired]]", token=CODE)
    r.check("40102 as the stream's first event -> 401 account_expired",
            resp.status == 401 and err(resp).get("code") == "account_expired", resp.describe())
    cli.run("accounts", "enable", fp(RT1))
    # the refresh token itself refused: 40001 -> expired, a bare 401 -> error
    mock.configure({"revoke_access": True, "by_token": {RT1: {"refresh_status": 40001}}})
    resp = chat(port, "GLM-5", "expired", token=CODE)
    r.check("40001 from user/refresh -> 401 account_expired, account expired",
            resp.status == 401 and err(resp).get("code") == "account_expired" and
            status_of(cli, RT1) == "expired", resp.describe())
    cli.run("accounts", "enable", fp(RT1))
    mock.configure({"by_token": {RT1: {"refresh_status": 401}}})
    resp = chat(port, "GLM-5", "refused", token=CODE)
    r.check("401 from user/refresh -> 401 invalid_api_key, account error",
            resp.status == 401 and err(resp).get("code") == "invalid_api_key" and
            status_of(cli, RT1) == "error", resp.describe())
    mock.configure({"by_token": {RT1: None}})
    cli.run("accounts", "enable", fp(RT1))

    # a signature the upstream does not take is refused: the mock checks it
    mock.configure({"sign_secret": "0" * 32})
    before = mock.snapshot()
    resp = chat(port, "GLM-5", "signed wrong", token=CODE)
    after = mock.snapshot()
    r.check("the mock expecting another X-Sign secret refuses the request (it checks)",
            resp.status >= 400 and after.get("sign_failed", 0) > before.get("sign_failed", 0) and
            after.get("completions") == before.get("completions") and
            "X-Sign" in ((after.get("last_rejection") or {}).get("reason") or ""),
            resp.describe())
    mock.configure({"sign_secret": glm_mock.SIGN_SECRET})
    cli.run("accounts", "enable", fp(RT1))
    resp = chat(port, "GLM-5", "signed right", token=CODE)
    r.check("... and takes it again with the right secret", resp.status == 200, resp.describe())

    # errors after the answer started: an error chunk and [DONE]
    for name, marker in (("RST mid-stream", "[[reset:8]]"), ("FIN mid-stream", "[[close:8]]"),
                         ("an error event", "[[error:event]]"),
                         ("an error status snapshot", "[[error:status]]"),
                         ("an error envelope mid-stream", "[[error:inline]]")):
        resp = chat(port, "GLM-5", "mid [[long:20]] " + marker, stream=True, token=CODE)
        sc, sr, sf, se, sd = sse(resp)
        r.check("stream, %s: the text so far, an error chunk, [DONE]" % name,
                resp.status == 200 and sd and se is not None and se.get("message") and
                sc.startswith("You said") and "10002" not in sc, repr(sc[-80:]) + str(se))
        resp = chat(port, "GLM-5", "mid [[long:20]] " + marker, token=CODE)
        r.check("non-stream, %s: a 5xx OpenAI error" % name,
                resp.status >= 500 and err(resp).get("message"), resp.describe())
        cli.run("accounts", "enable", fp(RT1))
    gone = harness.wait_until(lambda: not live(mock), 5)
    r.check("conversations of failed answers are deleted too", gone, str(live(mock)))


def failover(r, port, mock, cli):
    rc, out, e = cli.run("accounts", "add", "glm", RT2, "--label", "second")
    r.check("a second GLM account is added", rc == 0, out + e)
    # the first account's refresh token is over: the request moves on, same request
    mock.configure({"revoke_access": True, "expired_refresh_tokens": [RT1]})
    before = dict(mock.snapshot().get("completions", {}))
    for i in range(2):
        resp = chat(port, "GLM-5", "failover %d" % i, token=CODE)
        r.check("failover %d: an expired account, the answer from the other one" % i,
                resp.status == 200, resp.describe())
    now = mock.snapshot().get("completions", {})
    r.check("both answers came from the good account; the expired one is marked",
            now.get(RT2, 0) - before.get(RT2, 0) == 2 and now.get(RT1, 0) == before.get(RT1, 0) and
            status_of(cli, RT1) == "expired", "%s %s" % (now, cli.accounts("glm")))
    mock.configure({"add_refresh_tokens": [RT1]})
    cli.run("accounts", "enable", fp(RT1))
    # a plain 401 on the stream of one account: the other answers
    mock.configure({"by_token": {RT1: {"stream_status": 401}, RT2: None}})
    ok = [chat(port, "GLM-5", "401 failover %d" % i, token=CODE).status for i in range(2)]
    r.check("a 401 on one account's stream fails over within the request",
            ok == [200, 200] and status_of(cli, RT1) == "error", "%s %s" % (ok, cli.accounts("glm")))
    mock.configure({"by_token": {RT1: None}})
    cli.run("accounts", "enable", fp(RT1))
    rc, out, e = cli.run("accounts", "remove", fp(RT2))
    r.check("the second account is removed again", rc == 0, out + e)


def rotation(r, port, mock, cli, app, extra):
    mock.configure({"rotate_every": 1, "revoke_access": True})
    before = mock.snapshot()
    resp = chat(port, "GLM-5", "rotate", token=CODE)
    s = mock.snapshot()
    rot = s.get("rotations", [])
    new = mock.current_token(RT1)
    r.check("the upstream rotated the refresh token while answering",
            resp.status == 200 and len(rot) == len(before.get("rotations", [])) + 1 and
            new != RT1, resp.describe() + str(rot[-1:]))
    rows = cli.accounts("glm")
    r.check("the rotated refresh token is what is stored (its fingerprint, same account)",
            fp(new) in rows and fp(RT1) not in rows and rows[fp(new)]["status"] == "active",
            str(rows))
    mock.configure({"rotate_every": 0})
    app.restart(extra)
    mock.configure({"revoke_access": True})
    before = mock.snapshot()
    resp = chat(port, "GLM-5", "after restart", token=CODE)
    s = mock.snapshot()
    sent = s.get("refresh_tokens_sent", {})
    r.check("after a restart the stored rotated token is sent; the old one never again",
            resp.status == 200 and sent.get(new, 0) > before.get("refresh_tokens_sent", {}).get(new, 0)
            and s.get("old_token_uses", 0) == 0 and
            sent.get(RT1, 0) == before.get("refresh_tokens_sent", {}).get(RT1, 0),
            resp.describe() + str({k[:16]: v for k, v in sent.items()}))
    rows = cli.accounts("glm")
    r.check("the rotated token survived the restart in the store", fp(new) in rows, str(rows))
    return new


def races(r, port, mock, cli):
    """Eight first uses of a new account at once: one exchange."""
    mock.configure({"add_refresh_tokens": [RT3], "api_delay_ms": 300})
    rc, out, e = cli.run("accounts", "add", "glm", RT3, "--label", "third")
    for row in cli.accounts("glm"):
        if row != fp(RT3):
            cli.run("accounts", "disable", row)
    res = []

    def one(i):
        res.append(chat(port, "GLM-5", "race %d" % i, token=CODE).status)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    mock.configure({"api_delay_ms": 0})
    r.check("eight concurrent first uses over four processes: one refresh exchange",
            res == [200] * 8 and mock.snapshot().get("refreshes", {}).get(RT3) == 1,
            "%s %s" % (res, mock.snapshot().get("refreshes")))
    for row in cli.accounts("glm"):
        cli.run("accounts", "enable", row)
    cli.run("accounts", "remove", fp(RT3))


def proxies(r, binary):
    """PROXY_URL applies to GLM: every call of an account through the same proxy."""
    ws = harness.Workspace("glm-proxy")
    m = glm_mock.GLMMock().start()
    p1, p2 = http_proxy.HttpProxy().start(), http_proxy.HttpProxy().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        fe.app_extra = {"GLM_BASE_URL": m.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "0",
                        "PROXY_URL": p1.url + "," + p2.url, "LB_STRATEGY_GLM": "round-robin"}
        fe.start()
        cli = Cli(binary, ws.path("data"), {})
        for tok in (RT1, RT2):
            cli.run("accounts", "add", "glm", tok)
        ok = [chat(fe.port, "GLM-5", "via proxy %d" % i, token=CODE).status for i in range(6)]
        h1 = p1.hits("/assistant/stream")
        h2 = p2.hits("/assistant/stream")
        r.check("PROXY_URL: GLM answers come through the proxies",
                ok == [200] * 6 and len(h1) + len(h2) == 6, "%s %d %d" % (ok, len(h1), len(h2)))
        harness.wait_until(lambda: sum(len(p.hits("/conversation/delete")) for p in (p1, p2))
                           == 6, 5)
        st = m.snapshot()
        r.check("PROXY_URL: the refresh and the delete go through them too",
                sum(len(p.hits("/conversation/delete")) for p in (p1, p2)) == 6 and
                sum(len(p.hits("/user/refresh")) for p in (p1, p2)) ==
                sum(st.get("refreshes", {}).values()) == 2, str(st.get("refreshes")))
        r.check("PROXY_URL: one account, one proxy (sticky), round-robin between accounts",
                sorted(st.get("completions", {}).values()) == [3, 3] and len(h1) in (0, 3, 6),
                "p1=%d p2=%d %s" % (len(h1), len(h2), st.get("completions")))
    except HarnessError as e:
        harness.report_setup(r, "glm-proxy", e)
    finally:
        p1.stop()
        p2.stop()
        m.stop()
        harness.finish_workspace(r, ws, "glm-proxy")


def main():
    r = Results("test_glm")
    harness.install_signal_handlers(900)
    binary = harness.find_binary()
    ws = harness.Workspace("glm")
    mock = glm_mock.GLMMock(refresh_tokens=[RT3]).start()
    rotated = None
    try:
        extra = {"GLM_BASE_URL": mock.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "2",
                 "MODEL_MAPPING": MAPPING}
        fe = harness.Nginx(ws, binary, pfx=False, procs=4)
        fe.check_installed()
        fe.app_extra = dict(extra)
        fe.start()
        port = fe.port
        app = App(fe, ws)
        cli = Cli(binary, ws.path("data"), {"GLM_BASE_URL": mock.url})

        # --- accounts and models
        resp = harness.http(port, "GET", "/v1/models", headers={"Authorization": "Bearer " + CODE})
        ids = [m["id"] for m in (resp.json() or {}).get("data", [])]
        r.check("/v1/models: no GLM model without a GLM account", "GLM-5" not in ids, str(ids))
        rc, out, e = cli.run("accounts", "add", "glm", "chatglm_refresh_token=%s; other=1" % RT1)
        r.check("accounts add glm (a Cookie header holding the token)", rc == 0 and
                fp(RT1) in cli.accounts("glm"), out + e)
        rc, out, e = cli.run("accounts", "add", "glm", "sk-short")
        r.check("accounts add glm: a placeholder is refused", rc != 0, out + e)
        resp = harness.http(port, "GET", "/v1/models", headers={"Authorization": "Bearer " + CODE})
        ids = [m["id"] for m in (resp.json() or {}).get("data", [])]
        r.check("/v1/models lists the GLM models once an account is active",
                {"GLM-5", "GLM-5-Think", "GLM-5-Search", "GLM-5-Think-Search",
                 "GLM-5-DeepResearch"} <= set(ids), str(ids))
        before = mock.snapshot().get("refreshes", {}).get(RT1, 0)
        rc, out, e = cli.run("accounts", "validate", "glm")
        r.check("accounts validate glm asks the upstream (user/refresh) and says ok",
                rc == 0 and mock.snapshot().get("refreshes", {}).get(RT1, 0) == before + 1 and
                "glm-user-1@example.com" in out + cli.run("accounts", "list", "glm")[1],
                out + e)

        # --- the npm client; one refresh for all of it
        npm(r, port, mock, test_chat.client_dir())
        s = mock.snapshot()
        r.check("every call signed and taken, nothing rejected",
                s.get("sign_failed") == 0 and not s.get("rejections"),
                json.dumps(s.get("rejections"))[:600])
        r.check("one access token for all of it, across 4 processes",
                s.get("refreshes", {}).get(RT1) == 1, str(s.get("refreshes")))
        gone = harness.wait_until(lambda: not live(mock), 5)
        r.check("every conversation deleted after its answer", gone, str(live(mock)))

        switches(r, port, mock)
        prompts_and_uploads(r, port, mock)
        shapes(r, port, mock)

        # --- the delete does not hold the response open
        mock.configure({"api_delay_ms": 500})
        t0 = time.monotonic()
        resp = chat(port, "GLM-5", "quick end", token=CODE)
        took = time.monotonic() - t0
        mock.configure({"api_delay_ms": 0})
        gone = harness.wait_until(lambda: not live(mock), 5)
        r.check("the response ends before the (slow) conversation delete",
                resp.status == 200 and took < 0.45 and gone, "took %.2fs, deleted=%s" % (took, gone))

        # --- a revoked access token: exchanged again, the request still answers
        mock.configure({"revoke_access": True})
        before = mock.snapshot().get("refreshes", {}).get(RT1, 0)
        resp = chat(port, "GLM-5", "after revoke", token=CODE)
        r.check("a revoked access token is exchanged again once; the request succeeds",
                resp.status == 200 and mock.snapshot().get("refreshes", {}).get(RT1) == before + 1,
                resp.describe())

        faults(r, port, mock, cli)
        failover(r, port, mock, cli)
        races(r, port, mock, cli)
        rotated = rotation(r, port, mock, cli, app, extra)

        # --- the client's own refresh token, without the pool
        before = mock.snapshot().get("completions", {}).get(RT2, 0)
        resp = chat(port, "GLM-5", "own", token=RT2)
        r.check("the client's own refresh token is used as is",
                resp.status == 200 and mock.snapshot().get("completions", {}).get(RT2, 0) ==
                before + 1, resp.describe())

        # --- a client that leaves mid-stream: the conversation still goes
        before = mock.snapshot().get("conversations_deleted", {}).get(RT1, 0)
        sk = socket.create_connection(("127.0.0.1", port))
        body = json.dumps({"model": "GLM-5", "stream": True, "messages": [
            {"role": "user", "content": "leaving [[long:200]] [[drip:30]]"}]})
        sk.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s"
                    "\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" %
                    (CODE, len(body), body)).encode())
        sk.recv(2048)
        sk.close()
        ok = harness.wait_until(lambda: mock.snapshot().get("conversations_deleted", {})
                                .get(RT1, 0) > before and not live(mock), 15)
        r.check("a client gone mid-stream: the transfer stops, the conversation is deleted",
                ok and mock.snapshot().get("client_disconnects", 0) >= 1, str(live(mock)))

        # --- logs
        logs = ""
        for f in os.listdir(ws.path("log")):
            with open(ws.path("log", f), errors="replace") as fh:
                logs += fh.read()
        s = mock.snapshot()
        secrets_ = [RT1, RT2, RT3, CODE, rotated] + [x["new"] for x in s.get("rotations", [])] + \
            list(mock.state.access)
        leaked = [t[:12] for t in secrets_ if t and t in logs]
        r.check("no refresh token, access token or code in any log", not leaked, str(leaked))
    except HarnessError as e:
        harness.report_setup(r, "glm", e)
    finally:
        mock.stop()
        harness.finish_workspace(r, ws, "glm")
    proxies(r, binary)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
