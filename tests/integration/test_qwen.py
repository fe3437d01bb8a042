#!/usr/bin/env python3
"""Qwen (qianwen.com) end to end: nginx + spawn-fcgi (4 processes) + chat2api + the Qwen
mock, which checks the ticket cookie, the browser headers, the query with its nonce and
timestamp, the device id and the exact chat body.

  * the openai npm client: stream and non-stream, reasoning and search variants;
  * /v1/models lists the Qwen models once an account is active;
  * the whole conversation flattened into the one message the body carries, the body and
    query as section 6.2 says, thinking and search switched by name, body and headers;
  * the cumulative stream turned into deltas: markers removed, reasoning before the answer,
    split at every byte (inside UTF-8, SSE lines and compressed data), every ending;
  * gzip, deflate, br and zstd bodies decoded; an unknown coding named in the error;
  * the upstream session deleted after every answer, also after a failure or a client that
    left, without holding the response open;
  * faults: NOT_LOGIN (JSON, 401, in the stream) -> 401 account_expired and the account
    expired; 401/403 -> error; 429 and FLOW_LIMIT -> 429 with Retry-After and the account
    cooling; 5xx and Cloudflare -> 502/503; mid-stream cuts and errors -> an error chunk and
    [DONE]; failover within one request to another Qwen account;
  * the mock refuses a wrong cookie name and a wrong clock (it checks), the device id is
    stable; image parts -> 400; the client's own ticket as its key; accounts validate;
    LB_STRATEGY_QWEN; PROXY_URL (sticky per account); no secret in any log.

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
import qwen_mock  # noqa: E402
import test_chat  # noqa: E402  (the npm client installer)
import test_deepseek  # noqa: E402  (its request and answer readers)
from test_deepseek import err, fp, message, sse  # noqa: E402

CODE = "qwen-code-1"
T1, T2, TA = qwen_mock.DEFAULT_TICKET, qwen_mock.OTHER_TICKET, qwen_mock.ALIYUN_TICKET
ALIYUN = "login_aliyunid_ticket=" + TA


def chat(port, model, messages, token=CODE, **kw):
    """test_deepseek's request, with this test's code."""
    return test_deepseek.chat(port, model, messages, token=token, **kw)


class Cli:
    """chat2api accounts ... on the service's data dir, the mock as the upstream."""

    def __init__(self, binary, ws, base):
        self.bin = binary
        self.env = dict(os.environ, CHAT2API_DATA_DIR=ws.path("data"),
                        CHAT2API_LOG_LEVEL="warn", QWEN_BASE_URL=base)
        self.prefix = ["runuser", "-u", harness.RUN_USER, "--"] if harness.RUN_USER else []

    def run(self, *args, stdin=None):
        p = subprocess.run(self.prefix + [self.bin] + list(args), input=stdin,
                           capture_output=True, text=True, env=self.env, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def rows(self):
        rc, out, _ = self.run("accounts", "list", "qwen")
        rows = {}
        for line in out.splitlines()[1:]:
            if line.startswith("#") or not line.strip():
                continue
            p = line.split()
            rows[p[0]] = {"kind": p[2], "status": p[3], "line": line}
        return rows

    def status(self, secret):
        return self.rows().get(fp(secret), {}).get("status")

    def enable(self, *secrets):
        for s in secrets:
            self.run("accounts", "enable", fp(s))


def chats(m):
    return dict(m.snapshot().get("chats", {}))


def delta(m, before):
    now = chats(m)
    return {k: now.get(k, 0) - before.get(k, 0) for k in now if now.get(k, 0) != before.get(k, 0)}


def all_deleted(m, timeout=5):
    return harness.wait_until(lambda: not m.snapshot().get("live_sessions"), timeout)


def npm_client(r, port):
    cdir = test_chat.client_dir()
    node = harness.which("node")
    base = "http://127.0.0.1:%d/v1" % port
    for mode in ("nonstream", "stream"):
        for model, think, search in (("Qwen3-Max", False, False),
                                     ("Qwen3-Max-Thinking", True, False),
                                     ("Qwen3-Max-Think-Search", True, True)):
            pr = subprocess.run([node, os.path.join(cdir, "openai_client.mjs"), base, CODE,
                                 mode, model, "npm %s %s" % (mode, model)],
                                capture_output=True, text=True, timeout=60)
            try:
                out = json.loads(pr.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                out = {"error": pr.stdout + pr.stderr}
            want = "You said: npm %s %s" % (mode, model) + (
                qwen_mock.SEARCH_SUFFIX if search else "")
            r.check("openai npm %s %s: content%s%s" % (
                mode, model, ", reasoning" if think else "", ", search" if search else ""),
                not out.get("error") and out.get("content") == want and
                out.get("finish_reason") == "stop" and out.get("model") == model and
                (out.get("reasoning", "").startswith("Thinking about: npm") if think
                 else out.get("reasoning", "") == "") and
                (out.get("usage") or {}).get("total_tokens", 0) > 0,
                json.dumps(out)[:600])


def body_and_query(r, port, m):
    msgs = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "First question"},
            {"role": "assistant", "content": "First answer"},
            {"role": "user", "content": [{"type": "text", "text": "Second"},
                                         {"type": "text", "text": "part two"}]},
            {"role": "user", "content": "and more"}]
    resp = chat(port, "Qwen3-Max", msgs)
    lc = m.snapshot().get("last_chat") or {}
    want = ("Be brief.\n\nUser: First question\n\nAssistant: First answer\n\n"
            "User: Second\npart two\n\nand more")
    r.check("the whole conversation flattened into the one message (not only the last turn)",
            resp.status == 200 and lc.get("prompt") == want and
            message(resp)[0].get("content") == "You said: Second\npart two\n\nand more",
            repr(lc.get("prompt")))
    b = lc.get("body") or {}
    q = lc.get("query") or []
    fixed = {"scene": "chat", "sub_scene": "chat", "temporary": False, "from": "default",
             "parent_req_id": "0", "biz_data": '{"entryPoint":"tongyigw"}',
             "scene_param": "first_turn", "chat_client": "h5", "protocol_version": "v2",
             "biz_id": "ai_qwen", "deep_search": "0", "enable_search": False,
             "model": "tongyi-qwen3-max-model-agent"}
    r.check("the body of section 6.2, in its order",
            list(b) == qwen_mock.CHAT_KEYS and all(b.get(k) == v for k, v in fixed.items()) and
            b["messages"] == [{"content": want, "mime_type": "text/plain",
                               "meta_data": {"ori_query": want}}], json.dumps(b)[:600])
    r.check("the query in the reference's order, nonce and timestamp = client_tm",
            [k for k, _ in q] == ["biz_id", "chat_client", "device", "fr", "pr", "ut", "nonce",
                                  "timestamp"] and dict(q).get("timestamp") == b.get("client_tm"),
            str(q))
    h = lc.get("headers") or {}
    acc = h.get("accept-encoding", "")
    r.check("the cookie, the browser headers, and curl offering gzip, br and zstd",
            h.get("cookie") == "tongyi_sso_ticket=" + T1 and
            h.get("origin") == "https://www.qianwen.com" and
            h.get("sec-fetch-site") == "same-site" and "Chrome/145" in h.get("user-agent", "") and
            all(c in acc for c in ("gzip", "deflate", "br", "zstd")), str(h)[:500])
    for model, extra, hdrs, up, think, search in (
            ("Qwen3", None, None, "tongyi-qwen3-max-model-agent", False, False),
            ("Qwen3-Max-Think", None, None, "tongyi-qwen3-max-thinking-agent", True, False),
            ("Qwen3-Max-Thinking", None, None, "tongyi-qwen3-max-thinking-agent", True, False),
            ("Qwen3-Plus-Think", None, None, "tongyi-qwen-plus-agent", True, False),
            ("Qwen3-Flash-Search", None, None, "qwen3-flash", False, True),
            ("Qwen3-Coder", {"reasoning_effort": "low"}, None, "qwen3-coder-plus", True, False),
            ("Qwen3.5-Plus", {"web_search": True}, None, "Qwen3.5-Plus", False, True),
            ("Qwen3-Max", None, {"X-Reasoning-Effort": "high", "X-Web-Search": "true"},
             "tongyi-qwen3-max-thinking-agent", True, True)):
        resp = chat(port, model, "switch", extra=extra, headers=hdrs)
        lc = m.snapshot().get("last_chat") or {}
        b = lc.get("body") or {}
        r.check("%s %s %s: model %s, thinking=%s search=%s" % (model, extra or "", hdrs or "", up,
                                                              think, search),
                resp.status == 200 and b.get("model") == up and
                b.get("deep_search") == ("1" if think or search else "0") and
                b.get("enable_search") is search and lc.get("thinking") is think and
                (message(resp)[0].get("reasoning_content", "").startswith("Thinking")
                 if think and not search else True), json.dumps(b)[:300] + resp.describe())


def shapes_and_codings(r, port, m):
    whole = message(chat(port, "Qwen3-Max-Thinking", "shape [[unicode]] [[long:30]]"))[0]
    r.check("non-stream: markers removed, reasoning apart",
            whole.get("content") == "You said: shape" + qwen_mock.UNICODE_TAIL +
            "".join(" word%d" % i for i in range(1, 31)) and
            whole.get("reasoning_content", "").startswith("Thinking about: shape"),
            json.dumps(whole)[:300])
    for mk in ("[[split:bytes]]", "[[split:random]]", "[[shape:plain]]", "[[end:status]]",
               "[[end:done]]", "[[end:none]]", "[[split:bytes]] [[crlf]] [[named]]",
               "[[ascii]] [[split:7]]", "[[drip:5]] [[split:3]]",
               "[[enc:gzip]] [[split:bytes]]", "[[enc:deflate]] [[split:bytes]]",
               "[[enc:br]] [[split:bytes]]", "[[enc:zstd]] [[split:bytes]]",
               "[[enc:zstd]] [[split:random]] [[shape:plain]]", "[[enc:br]]"):
        resp = chat(port, "Qwen3-Max-Thinking", "shape [[unicode]] [[long:30]] " + mk,
                    stream=True)
        sc, sr, sf, se, sd = sse(resp)
        enc = (m.snapshot().get("last_chat") or {}).get("encoding")
        want_enc = mk.split("[[enc:")[1].split("]]")[0] if "[[enc:" in mk else "identity"
        r.check("stream %s: same content and reasoning, UTF-8 intact, [DONE]" % mk,
                resp.status == 200 and sd and se is None and sf == "stop" and
                sc == whole.get("content") and sr == whole.get("reasoning_content") and
                enc == want_enc, repr(sc[-120:]) + " enc=%s %s" % (enc, se))
    for c in ("gzip", "deflate", "br", "zstd"):
        resp = chat(port, "Qwen3", "compressed [[unicode]] [[enc:%s]] [[split:bytes]]" % c)
        r.check("non-stream %s body split at every byte: whole UTF-8 text" % c,
                resp.status == 200 and message(resp)[0].get("content") ==
                "You said: compressed" + qwen_mock.UNICODE_TAIL, resp.describe())
    resp = chat(port, "Qwen3", "unknown coding [[enc:bogus]]")
    e = err(resp)
    r.check("a coding libcurl cannot decode -> 502 unsupported_encoding naming it",
            resp.status == 502 and e.get("code") == "unsupported_encoding" and
            "x-bogus" in e.get("message", "") and "zstd" in e.get("message", ""),
            resp.describe())
    # the list and delete answers compressed too
    m.configure({"json_encoding": "zstd"})
    resp = chat(port, "Qwen3", "zstd json")
    r.check("zstd JSON answers of the delete are read", resp.status == 200 and
            all_deleted(m), str(m.snapshot().get("live_sessions")))
    m.configure({"json_encoding": "identity"})
    before = m.snapshot().get("requests", {}).get("chat", 0)
    resp = chat(port, "Qwen3", [{"role": "user", "content": [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}])
    r.check("an image part -> 400 unsupported_content, nothing sent upstream",
            resp.status == 400 and err(resp).get("code") == "unsupported_content" and
            m.snapshot().get("requests", {}).get("chat", 0) == before, resp.describe())


def deletes(r, port, m):
    r.check("every upstream session deleted after its answer", all_deleted(m),
            str(m.snapshot().get("live_sessions")))
    m.configure({"api_delay_ms": 600})
    t0 = time.monotonic()
    resp = chat(port, "Qwen3", "quick end")
    took = time.monotonic() - t0
    m.configure({"api_delay_ms": 0})
    r.check("the response ends before the session delete (a 600 ms call)",
            resp.status == 200 and took < 0.45 and all_deleted(m),
            "took %.2fs" % took)
    st = m.snapshot()
    r.check("one stable device id per ticket, across processes and calls",
            st.get("devices", {}).get(T1) and len(st["devices"][T1]) == 1 and
            not [x for x in st.get("rejections", []) if "device" in x["reason"]],
            str(st.get("devices")))


def faults(r, port, m, cli):
    def case(name, text, status, code=None, stream=False, account=None, hdr=None):
        resp = chat(port, "Qwen3", text, stream=stream)
        e = err(resp)
        ok = resp.status == status and (code is None or e.get("code") == code) and \
            e.get("message") and e.get("type")
        if hdr:
            ok = ok and resp.header(hdr) is not None
        got = cli.status(T1)
        if account:
            ok = ok and got == account
        r.check("%s -> %d %s%s" % (name, status, code or "", ", account " + account if account
                                   else ""), ok, resp.describe() + " account=%s" % got)
        cli.enable(T1)
        return resp

    before = m.snapshot().get("requests", {}).get("chat", 0)
    r.check("no session is deleted that the upstream never made (refusals make none)",
            not [x for x in m.snapshot().get("rejections", []) if x["route"] == "delete_batch"],
            str(m.snapshot().get("rejections"))[:600])
    case("upstream 500 on every try (retried)", "f [[fail:500]]", 502, "upstream_error",
         account="active")
    r.check("5xx retried: three tries", m.snapshot().get("requests", {}).get("chat", 0) ==
            before + 3, str(m.snapshot().get("requests")))
    case("a Cloudflare 503 page", "f [[cf:503]]", 503, "cf_challenge")
    case("a JSON refusal with HTTP 200", "f [[fail:200]]", 502, "upstream_error")
    case("upstream 403", "f [[fail:403]]", 403, "upstream_forbidden", account="error")
    case("upstream 401", "f [[fail:401]]", 401, "invalid_api_key", account="error")
    case("NOT_LOGIN as JSON with HTTP 200", "f [[fail:notlogin]]", 401, "account_expired",
         account="expired")
    case("NOT_LOGIN as the stream's first event", "f [[error:login]]", 401, "account_expired",
         stream=True, account="expired")
    case("upstream 429 with Retry-After", "f [[fail:429]]", 429, "rate_limit_exceeded",
         hdr="retry-after", account="cooling")
    case("FLOW_LIMIT as JSON with HTTP 200", "f [[fail:limit]]", 429, "rate_limit_exceeded",
         account="cooling")
    case("FLOW_LIMIT in the stream", "f [[error:limit]]", 429, "rate_limit_exceeded",
         account="cooling")
    m.configure({"chat_status": 429, "chat_status_times": 1})
    chat(port, "Qwen3", "cool me")
    resp = chat(port, "Qwen3", "while cooling")
    ra = resp.header("retry-after")
    r.check("the only account cooling -> 429 with Retry-After, not 503",
            resp.status == 429 and ra is not None and 0 < int(ra) <= 60 and
            cli.status(T1) == "cooling", resp.describe())
    cli.enable(T1)
    m.configure({"auth_error": "http401", "tickets": [T2, TA]})
    case("NOT_LOGIN with HTTP 401", "f", 401, "account_expired", account="expired")
    m.configure({"auth_error": "sse"})
    case("NOT_LOGIN in a 200 stream", "f", 401, "account_expired", account="expired")
    m.configure({"reset": True})
    # the mock checks what it says it checks: a wrong cookie name, a wrong clock
    m.configure({"ticket_cookie": "login_tongyi_ticket"})
    case("the mock expects another cookie (the 2024 name): refused", "f", 401,
         "account_expired", account="expired")
    m.configure({"ticket_cookie": "tongyi_sso_ticket", "clock_offset_ms": 86400000})
    resp = case("the mock's clock a day off: the timestamp is refused", "f", 400,
                "upstream_bad_request")
    r.check("... and the mock said why", "off the mock's clock" in
            (m.snapshot().get("last_rejection") or {}).get("reason", ""),
            str(m.snapshot().get("last_rejection")))
    m.configure({"clock_offset_ms": 0})
    # errors after the answer started: an error chunk, [DONE]
    for name, marker in (("RST mid-stream", "[[reset:6]]"),
                         ("FIN mid-stream", "[[close:6]]"),
                         ("a zstd body cut mid-frame", "[[enc:zstd]] [[close:8]]"),
                         ("error_code mid-answer", "[[error:mid]]"),
                         ("an error event mid-answer", "[[error:event]]")):
        resp = chat(port, "Qwen3", "mid [[long:20]] " + marker, stream=True)
        sc, sr, sf, se, sd = sse(resp)
        r.check("stream, %s: text so far, then an error chunk and [DONE]" % name,
                resp.status == 200 and sd and se is not None and se.get("message") and
                sc.startswith("You said") and "[(" not in sc,
                repr(sc[-100:]) + " error=" + str(se))
        resp = chat(port, "Qwen3", "mid [[long:20]] " + marker)
        r.check("non-stream, %s: a 5xx OpenAI error, no partial answer" % name,
                resp.status >= 500 and err(resp).get("message"), resp.describe())
    r.check("sessions of failed answers are deleted too", all_deleted(m),
            str(m.snapshot().get("live_sessions")))
    r.check("... and only sessions the upstream made",
            not [x for x in m.snapshot().get("rejections", []) if x["route"] == "delete_batch"
                 and "unknown" in x["reason"]], str(m.snapshot().get("rejections"))[-600:])
    cli.enable(T1)


def failover(r, port, m, cli):
    """Three accounts, round-robin by LB_STRATEGY_QWEN: a refused one is left within the
    request for the next."""
    rc1, out1, err1 = cli.run("accounts", "add", "qwen", "cna=abc; tongyi_sso_ticket=%s; x=1" % T2)
    rc2, out2, err2 = cli.run("accounts", "add", "qwen", ALIYUN)
    rc3, out3, err3 = cli.run("accounts", "add", "qwen", "too-short")
    rows = cli.rows()
    r.check("accounts add takes a Cookie header and the Aliyun form, refuses a non-ticket",
            rc1 == 0 and rc2 == 0 and rc3 != 0 and "no Qwen credential" in err3 and
            rows.get(fp(T2), {}).get("kind") == "sso_ticket" and
            rows.get(fp(ALIYUN), {}).get("kind") == "aliyun_ticket",
            out1 + err1 + out2 + err2 + err3 + str(rows))
    s0 = chats(m)
    st = [chat(port, "Qwen3", "rr %d" % i).status for i in range(6)]
    r.check("LB_STRATEGY_QWEN=round-robin: two answers per account, the Aliyun ticket "
            "as login_aliyunid_ticket", st == [200] * 6 and sorted(delta(m, s0).values()) ==
            [2, 2, 2], str(st) + str(delta(m, s0)))
    for name, knob, status in (("NOT_LOGIN", "notlogin", "expired"), ("401", 401, "error"),
                               ("403", 403, "error"), ("429", 429, "cooling"),
                               ("FLOW_LIMIT", "limit", "cooling")):
        m.configure({"by_ticket": {T1: {"chat_status": knob}}})
        s0 = chats(m)
        st = [chat(port, "Qwen3", "fo %s %d" % (name, i)).status for i in range(4)]
        d = delta(m, s0)
        r.check("%s on one account: every request still answers (failover within it), the "
                "account %s" % (name, status), st == [200] * 4 and cli.status(T1) == status and
                d.get(T2, 0) + d.get(TA, 0) == 4, str(st) + str(d) + str(cli.status(T1)))
        m.configure({"by_ticket": {T1: None}})
        cli.enable(T1)
    m.configure({"by_ticket": {T1: {"chat_status": 502}}})
    s0 = chats(m)
    st = [chat(port, "Qwen3", "5xx %d" % i).status for i in range(3)]
    r.check("a 502 on one account: the request moves on", st == [200] * 3 and
            sum(delta(m, s0).values()) >= 3, str(st) + str(delta(m, s0)))
    m.configure({"by_ticket": {T1: None}})
    r.check("the deletes of these answers are done", all_deleted(m),
            str(m.snapshot().get("live_sessions")))
    # validate asks the upstream (the list endpoint), also with zstd JSON
    m.configure({"expired_tickets": [T2], "json_encoding": "zstd"})
    rc, out, errs = cli.run("accounts", "validate", "qwen")
    r.check("accounts validate: the live tickets active, the logged-out one expired",
            cli.status(T1) == "active" and cli.status(ALIYUN) == "active" and
            cli.status(T2) == "expired" and m.snapshot().get("lists", {}).get(T1, 0) >= 1,
            out + errs + str(cli.rows()))
    m.configure({"reset": True})
    rc, out, errs = cli.run("accounts", "validate", fp(T2))
    r.check("accounts validate puts it back once the upstream takes it",
            cli.status(T2) == "active", out + errs)
    for s in (T2, ALIYUN):
        cli.run("accounts", "remove", fp(s))


def own_ticket(r, port, m):
    s0 = chats(m)
    resp = chat(port, "Qwen3", "own", token="tongyi_sso_ticket=" + T2)
    r.check("the client's own ticket as its key, beside codes", resp.status == 200 and
            delta(m, s0) == {T2: 1}, resp.describe())
    resp = chat(port, "Qwen3", "placeholder", token="sk-placeholder")
    r.check("a placeholder key on a server with codes -> 401 invalid_api_key",
            resp.status == 401 and err(resp).get("code") == "invalid_api_key", resp.describe())


def client_leaves(r, port, m):
    before = m.snapshot().get("sessions_deleted", {}).get(T1, 0)
    s = socket.create_connection(("127.0.0.1", port))
    body = json.dumps({"model": "Qwen3", "stream": True, "messages": [
        {"role": "user", "content": "leaving [[long:200]] [[drip:30]]"}]})
    s.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s"
               "\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" %
               (CODE, len(body), body)).encode())
    s.recv(2048)
    s.close()
    ok = harness.wait_until(lambda: m.snapshot().get("sessions_deleted", {}).get(T1, 0) >
                            before and not m.snapshot().get("live_sessions"), 15)
    st = m.snapshot()
    r.check("a client gone mid-stream: the upstream transfer stops, the session is deleted",
            ok and st.get("client_disconnects", 0) >= 1, "disconnects=%s live=%s %s %s" % (
                st.get("client_disconnects"), st.get("live_sessions"),
                [(sid, r["title"]) for sid, r in m.state.sessions.items() if r["live"]],
                [x for x in st.get("rejections", []) if x["route"].startswith("delete")]))


def models(r, port, cli, before):
    resp = harness.http(port, "GET", "/v1/models", headers={"Authorization": "Bearer " + CODE})
    ids = {x["id"]: x.get("owned_by") for x in (resp.json() or {}).get("data", [])}
    r.check("/v1/models: no Qwen model before an account", "Qwen3-Max" not in before,
            str(sorted(before))[:300])
    r.check("/v1/models lists the Qwen models once an account is active",
            all(ids.get(k) == "qwen" for k in ("Qwen3", "Qwen3-Max", "Qwen3-Max-Thinking",
                                               "Qwen3-Plus", "Qwen3.5-Plus", "Qwen3-Flash",
                                               "Qwen3-Coder")), str(ids)[:500])


def proxies(r, binary):
    """PROXY_URL: every call of an account (chat and delete) through the same proxy."""
    ws = harness.Workspace("qwen-proxy")
    m = qwen_mock.QwenMock().start()
    p1, p2 = http_proxy.HttpProxy().start(), http_proxy.HttpProxy().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        fe.app_extra = {"QWEN_BASE_URL": m.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "0",
                        "PROXY_URL": p1.url + "," + p2.url, "LB_STRATEGY_QWEN": "round-robin"}
        fe.start()
        cli = Cli(binary, ws, m.url)
        for t in (T1, T2):
            cli.run("accounts", "add", "qwen", t)
        ok = [chat(fe.port, "Qwen3", "via proxy %d" % i).status for i in range(6)]
        harness.wait_until(lambda: sum(len(p.hits("/api/v1/session/delete/batch"))
                                       for p in (p1, p2)) == 6, 5)
        h1, h2 = p1.hits("/api/v2/chat"), p2.hits("/api/v2/chat")
        d1 = p1.hits("/api/v1/session/delete/batch")
        st = m.snapshot()
        r.check("PROXY_URL: Qwen answers and deletes come through the proxies",
                ok == [200] * 6 and len(h1) + len(h2) == 6 and
                len(d1) + len(p2.hits("/api/v1/session/delete/batch")) == 6,
                "%s p1=%d p2=%d" % (ok, len(h1), len(h2)))
        r.check("PROXY_URL: one account, one proxy (sticky)",
                sorted(st.get("chats", {}).values()) == [3, 3] and len(h1) in (0, 3, 6) and
                len(d1) == len(h1), "p1=%d d1=%d %s" % (len(h1), len(d1), st.get("chats")))
    except HarnessError as e:
        harness.report_setup(r, "qwen-proxy", e)
    finally:
        p1.stop()
        p2.stop()
        m.stop()
        harness.finish_workspace(r, ws, "qwen-proxy")


def main():
    r = Results("test_qwen")
    harness.install_signal_handlers(900)
    binary = harness.find_binary()
    ws = harness.Workspace("qwen")
    m = qwen_mock.QwenMock().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=4)
        fe.check_installed()
        fe.app_extra = {"QWEN_BASE_URL": m.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "2",
                        "LB_STRATEGY": "failover", "LB_STRATEGY_QWEN": "round-robin"}
        fe.start()
        port = fe.port
        cli = Cli(binary, ws, m.url)
        resp = harness.http(port, "GET", "/v1/models", headers={"Authorization": "Bearer " + CODE})
        before = {x["id"] for x in (resp.json() or {}).get("data", [])}
        rc, out, errs = cli.run("accounts", "add", "qwen", T1)
        r.check("an account is added", rc == 0, out + errs)
        models(r, port, cli, before)
        npm_client(r, port)
        body_and_query(r, port, m)
        shapes_and_codings(r, port, m)
        deletes(r, port, m)
        faults(r, port, m, cli)
        failover(r, port, m, cli)
        own_ticket(r, port, m)
        client_leaves(r, port, m)
        logs = ""
        for f in os.listdir(ws.path("log")):
            with open(ws.path("log", f), errors="replace") as fh:
                logs += fh.read()
        leaked = [t for t in (T1, T2, TA, CODE) if t in logs]
        r.check("no ticket or code in any log", not leaked, str(leaked)[:200])
    except HarnessError as e:
        harness.report_setup(r, "qwen", e)
    finally:
        m.stop()
        harness.finish_workspace(r, ws, "qwen")
    proxies(r, binary)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
