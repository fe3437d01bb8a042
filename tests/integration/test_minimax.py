#!/usr/bin/env python3
"""MiniMax end to end: nginx + spawn-fcgi (4 processes) + chat2api + the MiniMax mock,
which recomputes yy and x-signature, checks the query order, the device registration, the
token and the headers of every call.

  * the openai npm client: stream and non-stream, the models and their -Think/-Search
    names, reasoning included; /v1/models once an account is active;
  * the exact prompt and body the mock received; one device registration for all
    processes; every chat deleted after its answer ("chat is running" retried);
  * an answer polled as it grows: split at every byte, dripped, per poll, rewritten, moved
    to a new msg_id -- the same text as the non-stream answer, which waits for
    chat_status 2; the poll pace backs off while nothing changes and the first chunk comes
    one poll after the upstream's first text;
  * faults before the answer mapped to OpenAI errors and the account's status (401 error,
    1001 expired, 429 cooling with Retry-After, 5xx retried, Cloudflare), failover from a
    rejected account to a good one within one request, a wrong signature refused by the
    mock; failures mid-answer (5xx, dropped connections, garbage, 1001, a chat that never
    finishes) end the stream with an error chunk and [DONE]; a client that leaves stops
    the polling; PROXY_URL; nothing secret in any log.

The 90-second answer is tests/integration/test_minimax_long.py.
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
import minimax_mock as mm  # noqa: E402
import test_chat  # noqa: E402  (the npm client installer)
from test_accounts import Cli, fp  # noqa: E402
from test_deepseek import err, message, sse  # noqa: E402

CODE = "mm-code-1"
J1, J2, J3 = mm.DEFAULT_JWT, mm.OTHER_JWT, mm.NOID_JWT
POLL_MIN_MS, POLL_MAX_MS, TIMEOUT_S = 100, 400, 6
MODEL = "MiniMax-M2.7"


def chat(port, model, messages, stream=False, token=CODE, extra=None, timeout=60):
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    body = {"model": model, "messages": messages}
    if stream:
        body["stream"] = True
    body.update(extra or {})
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    return harness.http(port, "POST", "/v1/chat/completions", json.dumps(body), headers=h,
                        timeout=timeout)


def content_chunks(resp):
    """[(t, content delta)] of a stream, t = seconds since the request was sent."""
    out = []
    for t, ev in resp.sse_events():
        data = "\n".join(line[6:] for line in ev.split("\n") if line.startswith("data: "))
        try:
            o = json.loads(data)
        except ValueError:
            continue
        for ch in o.get("choices", []):
            d = ch.get("delta", {})
            if d.get("content") or d.get("reasoning_content"):
                out.append((t, (d.get("content") or "") + (d.get("reasoning_content") or "")))
    return out


def last_chat(m):
    s = m.snapshot()
    return s["chats"][str(s["last_send"]["chat_id"])]


def npm(r, port, mode, model, prompt):
    cdir = test_chat.client_dir()
    pr = subprocess.run([harness.which("node"), os.path.join(cdir, "openai_client.mjs"),
                         "http://127.0.0.1:%d/v1" % port, CODE, mode, model, prompt],
                        capture_output=True, text=True, timeout=90)
    try:
        return json.loads(pr.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": pr.stdout + pr.stderr}


def basics(r, port, m, cli):
    # --- models: only once an account is active
    ids = npm(r, port, "models", "", "").get("ids") or []
    r.check("/v1/models without a MiniMax account: not listed", MODEL not in ids, str(ids))
    rc, out, e = cli.run("accounts", "add", "minimax", J1, "--label", "one")
    r.check("accounts add minimax JWT (the user id read from its payload)", rc == 0,
            out + e)
    rc, out, e = cli.run("accounts", "add", "minimax", "not-a-jwt")
    r.check("accounts add minimax refuses what is no JWT", rc != 0 and "MiniMax" in e, e)
    ids = npm(r, port, "models", "", "").get("ids") or []
    r.check("/v1/models lists MiniMax-M2.7 and MiniMax-M2.5 once an account is active",
            MODEL in ids and "MiniMax-M2.5" in ids, str(ids))
    rc, out, e = cli.run("accounts", "validate", "minimax")
    st = m.snapshot()
    r.check("accounts validate asks the upstream (a device registration): active",
            rc == 0 and st["registers"].get(mm.DEFAULT_UID) == 1 and
            cli.accounts("minimax")[fp(J1)]["status"] == "active", out + e + str(st["registers"]))

    # --- the openai npm client, stream and non-stream, reasoning
    for mode in ("nonstream", "stream"):
        for model in (MODEL, "MiniMax-M2.5-Think", "MiniMax-M2.7-Search"):
            prompt = "npm %s %s" % (mode, model)
            out = npm(r, port, mode, model, prompt)
            r.check("openai npm %s %s: content, reasoning, finish, usage" % (mode, model),
                    not out.get("error") and out.get("content") == "You said: " + prompt and
                    out.get("reasoning") == "Thinking about: %s." % prompt and
                    out.get("finish_reason") == "stop" and out.get("model") == model and
                    (out.get("usage") or {}).get("total_tokens", 0) > 0,
                    json.dumps(out)[:600])
    st = m.snapshot()
    r.check("every call verified by the mock (signatures, query, device, headers)",
            not st["rejections"], json.dumps(st["rejections"])[:600])
    r.check("one device registration for it all, across 4 processes (validate's, cached)",
            st["registers"].get(mm.DEFAULT_UID) == 1, str(st["registers"]))
    gone = harness.wait_until(lambda: not m.snapshot()["chats_live"], 5)
    r.check("every chat deleted after its answer", gone, str(m.snapshot()["chats_live"]))

    # --- the prompt and the body, exactly
    msgs = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "First ![img](http://x/y.png) question"},
            {"role": "assistant", "content": "First answer"},
            {"role": "user", "content": [{"type": "text", "text": "Second"},
                                         {"type": "text", "text": "part two"}]}]
    resp = chat(port, MODEL, msgs)
    ls = m.snapshot()["last_send"]
    want = ("system:Be brief.\nuser:First  question\nassistant:First answer\n"
            "user:Second\npart two\nassistant:")
    r.check("the history flattened as §5.5 says (the whole of it, images dropped)",
            resp.status == 200 and ls["text"] == want, repr(ls["text"]) + " != " + repr(want))
    body = ls["body"]
    r.check("send_msg's body is §5.5's, nothing about model, thinking or search",
            body == {"msg_type": 1, "text": want, "chat_type": 1, "attachments": [],
                     "selected_mcp_tools": [], "backend_config": {}, "sub_agent_ids": []},
            str(body))
    m0 = message(resp)[0]
    r.check("the answer echoes the last user turn", m0.get("content") == "You said: Second\n"
            "part two", str(m0))
    resp = chat(port, "MiniMax-M2.7-Think-Search", "modes", extra={"web_search": True,
                                                                   "reasoning_effort": "high"})
    b2 = m.snapshot()["last_send"]["body"]
    r.check("-Think-Search, web_search and reasoning_effort change nothing upstream",
            resp.status == 200 and sorted(b2) == sorted(body) and b2["text"] == "user:modes",
            str(b2))
    q = m.snapshot()["last_send"]["query"]
    r.check("the query in §5.3's order, raw", q.startswith("device_platform=web&biz_id=3&app_id"
            "=3001&version_code=22201&uuid=%s&device_id=" % mm.DEFAULT_UID) and
            q.endswith("&token=%s&timezone_offset=28800&sys_language=zh&client=web" % J1), q)
    resp = chat(port, MODEL, [{"role": "user", "content": [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}])
    r.check("an image -> 400 unsupported_content (MiniMax takes no files here)",
            resp.status == 400 and err(resp).get("code") == "unsupported_content",
            resp.describe())


def growing(r, port, m):
    # --- the same answer however it is cut, stream or not
    base = "shape [[unicode]] [[long:40]]"
    whole = message(chat(port, MODEL, base))[0]
    r.check("non-stream: the whole answer (unicode, long)",
            (whole.get("content") or "").endswith(" w39") and
            mm.UNICODE_TAIL in whole.get("content", ""), str(whole)[:300])
    for mk in ("[[split:bytes]]", "[[split:random]]", "[[drip:1]] [[split:5]]", "[[pace:1]]",
               "[[perpoll]]", "[[split:bytes]] [[perpoll]]"):
        if "perpoll" in mk:         # a piece per poll: a shorter answer
            base = "shape [[unicode]]"
            whole = message(chat(port, MODEL, base))[0]
        resp = chat(port, MODEL, base + " " + mk, stream=True)
        sc, sr, sf, se, sd = sse(resp)
        r.check("stream %s: same content and reasoning, UTF-8 intact, [DONE]" % mk,
                resp.status == 200 and sd and se is None and sf == "stop" and
                sc == whole.get("content") and sr == whole.get("reasoning_content"),
                repr(sc[-120:]) + " / " + repr((whole.get("content") or "")[-120:]))
        resp = chat(port, MODEL, base + " " + mk)
        r.check("non-stream %s: the same answer" % mk,
                message(resp)[0].get("content") == whole.get("content"), resp.describe())
    resp = chat(port, MODEL, "many [[perpoll]] [[long:15]]", stream=True)
    n = len(content_chunks(resp))
    r.check("a polled answer streams as it grows: one chunk per poll that brought text",
            n >= 10 and n >= last_chat(m)["npolls"] - 2, "%d chunks, %d polls" % (
                n, last_chat(m)["npolls"]))

    # --- rewrites and new message ids
    for mk, want in (("[[newmsg:append]]", None), ("[[newmsg:replace]]", "same"),
                     ("[[rewrite]]", "stream-keeps")):
        text = "abcdefghijklmnopqrstuvwxyz " + mk + " [[perpoll]]"
        resp = chat(port, MODEL, text, stream=True)
        sc, sr, sf, se, sd = sse(resp)
        ns = message(chat(port, MODEL, text))[0].get("content") or ""
        full = "You said: abcdefghijklmnopqrstuvwxyz"
        if want is None:
            h = len(full) // 2
            ok = sc == ns == full[:h] + "\n\n" + full[h:]
        elif want == "same":
            ok = sc == ns == full
        else:
            ok = sc == full and ns == "YOU SAID: abcdefghijklmnopqrstuvwxyz"
        r.check("%s: stream %r, non-stream %r" % (mk, sc, ns), ok and sd and se is None)


    # --- non-stream waits for chat_status 2, not the first text
    resp = chat(port, MODEL, "slow [[pace:40]] [[long:20]] [[nothink]]")
    c = message(resp)[0].get("content") or ""
    r.check("non-stream waits for chat_status 2 (the whole answer, not the first part)",
            resp.status == 200 and c.endswith(" w19") and last_chat(m)["npolls"] >= 3,
            c[-80:] + " polls=%d" % last_chat(m)["npolls"])

    # --- the pace: backs off while nothing changes; first chunk one poll after the text
    t_send = time.time()
    resp = chat(port, MODEL, "late [[delay:2500]] [[nothink]]", stream=True)
    ch = last_chat(m)
    chunks = content_chunks(resp)
    waiting = [p for p in ch["polls"] if p["t"] < ch["first_text_t"]]
    r.check("while nothing changes the polls back off (2.5 s: few polls, not one per %d ms)"
            % POLL_MIN_MS, 5 <= len(waiting) <= 11, "%d polls" % len(waiting))
    first = (t_send + chunks[0][0]) if chunks else 1e18
    r.check("the first chunk arrives within one poll (%d ms) of the upstream's first text"
            % POLL_MAX_MS, 0 <= first - ch["first_text_t"] <= POLL_MAX_MS / 1000.0 + 0.35,
            "%.3f s after" % (first - ch["first_text_t"]))

    # --- the chat is deleted after the answer, "chat is running" retried
    resp = chat(port, MODEL, "delete me [[running:1]]")
    cid = str(m.snapshot()["last_send"]["chat_id"])
    t0 = time.monotonic()
    ok = harness.wait_until(lambda: m.snapshot()["chats"][cid]["deleted"], 6)
    r.check("'chat is running': the delete is tried again 2 s later and succeeds",
            resp.status == 200 and ok and time.monotonic() - t0 >= 1.5,
            "%s after %.1fs" % (ok, time.monotonic() - t0))


def faults(r, port, m, cli):
    def reset_account(tok=J1):
        cli.run("accounts", "enable", fp(tok))

    def case(name, marker, status, code=None, hdr=None, acct=None):
        resp = chat(port, MODEL, "fail " + marker)
        e = err(resp)
        ok = resp.status == status and (code is None or e.get("code") == code) and \
            e.get("message")
        if hdr:
            ok = ok and resp.header(hdr) is not None
        if acct:
            ok = ok and cli.accounts("minimax")[fp(J1)]["status"] == acct
        r.check("%s -> %d %s%s" % (name, status, code or "",
                                   (", account " + acct) if acct else ""), ok,
                resp.describe() + str(cli.accounts("minimax").get(fp(J1), {}).get("line")))
        reset_account()
        return resp

    case("send_msg 401", "[[fail:401]]", 401, "invalid_api_key", acct="error")
    case("send_msg 403", "[[fail:403]]", 403, "upstream_forbidden", acct="error")
    case("send_msg 429", "[[fail:429]]", 429, "rate_limit_exceeded", hdr="retry-after",
         acct="cooling")
    case("status 1001 (login expired)", "[[fail:1001]]", 401, "account_expired",
         acct="expired")
    case("send_msg 500 on every try (retried)", "[[fail:500]]", 502, "upstream_error")
    case("an error code with HTTP 200", "[[fail:200]]", 502, "upstream_error")
    m.configure({"cf_html": True})
    case("a Cloudflare 503 page", "[[fail:503]]", 503, "cf_challenge")
    m.configure({"cf_html": False, "send_status": 502, "send_status_times": 1})
    resp = chat(port, MODEL, "heals")
    r.check("a 502 that heals: the retry answers 200", resp.status == 200, resp.describe())

    # --- a wrong signature: the mock refuses, the test sees it
    m.configure({"yy_salt": "not-ooui"})
    resp = chat(port, MODEL, "signed?")
    r.check("a mock that expects another yy secret refuses the calls -> 502 'bad yy'",
            resp.status == 502 and "bad yy" in err(resp).get("message", ""), resp.describe())
    m.configure({"yy_salt": "ooui"})
    reset_account()

    # --- mid-answer failures: error chunk and [DONE]; non-stream a 5xx/401
    for name, mk, st_ns in (("5xx polls", "[[pollfail:502:4:0]]", 502),
                            ("connections dropped", "[[pollfail:close:4:0]]", 502),
                            ("garbage", "[[pollfail:garbage:4:1]]", 502),
                            ("1001 mid-answer", "[[pollfail:1001:4:1]]", 401)):
        prompt = "mid [[long:30]] [[perpoll]] [[nothink]] " + mk
        resp = chat(port, MODEL, prompt, stream=True)
        sc, sr, sf, se, sd = sse(resp)
        r.check("stream, %s: the text so far, then an error chunk and [DONE]" % name,
                resp.status == 200 and sd and se is not None and se.get("message") and
                sc.startswith("You said") and not sc.endswith(" w29"),
                repr(sc[-80:]) + " error=" + str(se))
        reset_account()
        resp = chat(port, MODEL, prompt)
        r.check("non-stream, %s: an OpenAI error %d, no partial answer" % (name, st_ns),
                resp.status == st_ns and err(resp).get("message"), resp.describe())
        reset_account()
    resp = chat(port, MODEL, "hiccup [[long:10]] [[perpoll]] [[pollfail:502:3:2]]",
                stream=True)
    sc, sr, sf, se, sd = sse(resp)
    r.check("two failed polls in a row are ridden out: the whole answer",
            sd and se is None and sc.endswith(" w9"), repr(sc[-60:]) + str(se))
    t0 = time.monotonic()
    resp = chat(port, MODEL, "forever [[nofinish]]", stream=True)
    sc, sr, sf, se, sd = sse(resp)
    took = time.monotonic() - t0
    r.check("a chat that never finishes: MINIMAX_ANSWER_TIMEOUT ends it with an error chunk "
            "and [DONE], not a silent end", sd and se is not None and
            se.get("code") == "upstream_timeout" and sc == "You said: forever" and
            TIMEOUT_S - 0.5 < took < TIMEOUT_S + 4, "%.1fs %s" % (took, se))
    resp = chat(port, MODEL, "forever too [[nofinish]]")
    r.check("non-stream, never finished -> 504 upstream_timeout",
            resp.status == 504 and err(resp).get("code") == "upstream_timeout",
            resp.describe())
    # --- a client that leaves stops the polling
    s = socket.create_connection(("127.0.0.1", port))
    body = json.dumps({"model": MODEL, "stream": True, "messages": [
        {"role": "user", "content": "leaving [[nofinish]]"}]})
    s.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s"
               "\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" %
               (CODE, len(body), body)).encode())
    s.recv(2048)
    s.close()
    time.sleep(1.0)
    n1 = last_chat(m)["npolls"]
    time.sleep(1.5)
    n2 = last_chat(m)["npolls"]
    r.check("a client gone: the polling stops", n2 == n1, "%d then %d polls" % (n1, n2))
    ok = harness.wait_until(lambda: m.snapshot()["last_delete"] and
                            m.snapshot()["last_delete"]["chat_id"] ==
                            m.snapshot()["last_send"]["chat_id"], 8)
    r.check("... and its chat is still asked to go", ok, str(m.snapshot()["last_delete"]))


def failover(r, port, m, cli):
    rc, out, e = cli.run("accounts", "add", "minimax", J3, "--set",
                         "real_user_id=" + mm.NOID_UID, "--label", "three")
    r.check("accounts add minimax JWT --set real_user_id=... (a JWT without the id)",
            rc == 0, out + e)
    rc, out, e = cli.run("accounts", "add", "minimax", mm.OTHER_UID + "+" + J2)
    r.check("accounts add minimax '<realUserID>+<JWT>'", rc == 0, out + e)
    for k in ("send_status",):
        m.configure({"by_token": {J1: {k: 401}, J2: {k: 401}}})
    ok = 0
    for i in range(3):
        resp = chat(port, MODEL, "failover %d" % i)
        ok += resp.status == 200 and message(resp)[0].get("content") == "You said: failover %d" % i
    rows = cli.accounts("minimax")
    st = m.snapshot()
    r.check("a rejected account fails over to a good one within the same request",
            ok == 3 and st["sends"].get(mm.NOID_UID, 0) >= 3, "%d ok %s" % (ok, st["sends"]))
    r.check("the rejected accounts are marked error, the good one stays active",
            rows[fp(J1)]["status"] == "error" and
            rows[fp(mm.OTHER_UID + "+" + J2)]["status"] == "error" and
            rows[fp(J3)]["status"] == "active", str({k: v["status"] for k, v in rows.items()}))
    m.configure({"by_token": {J1: None, J2: None}})
    # the expired login of one account: expired, and the next one answers
    m.configure({"expired_tokens": [J3]})
    for tok in (J1, mm.OTHER_UID + "+" + J2):
        cli.run("accounts", "enable", fp(tok))
    resp = chat(port, MODEL, "after expiry")
    rc, out, e = cli.run("accounts", "validate", fp(J3))
    r.check("1001 marks an account expired (also through validate), the others answer",
            resp.status == 200 and cli.accounts("minimax")[fp(J3)]["status"] == "expired",
            resp.describe() + out + e)
    m.configure({"expired_tokens": []})
    cli.run("accounts", "enable", fp(J3))
    # the client's own credential as the API key
    before = m.snapshot()["sends"].get(mm.OTHER_UID, 0)
    resp = chat(port, MODEL, "own", token=mm.OTHER_UID + "+" + J2)
    r.check("the client's own '<realUserID>+<JWT>' as the API key, beside codes",
            resp.status == 200 and m.snapshot()["sends"].get(mm.OTHER_UID, 0) == before + 1,
            resp.describe())


def proxies(r, binary):
    """PROXY_URL applies to MiniMax: every call of an account through the same proxy."""
    ws = harness.Workspace("minimax-proxy")
    m = mm.MiniMaxMock().start()
    p1, p2 = http_proxy.HttpProxy().start(), http_proxy.HttpProxy().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        fe.app_extra = {"MINIMAX_BASE_URL": m.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "0",
                        "PROXY_URL": p1.url + "," + p2.url, "LB_STRATEGY_MINIMAX": "round-robin",
                        "MINIMAX_POLL_MIN_MS": "50"}
        fe.start()
        cli = Cli(binary, ws.path("data"), {"MINIMAX_BASE_URL": m.url})
        for tok in (J1, J2):
            cli.run("accounts", "add", "minimax", tok)
        ok = [chat(fe.port, MODEL, "via proxy %d" % i).status for i in range(4)]
        harness.wait_until(lambda: not m.snapshot()["chats_live"], 5)
        sends = [len(p.hits(mm.P_SEND)) for p in (p1, p2)]
        every = sum(len(p.hits(None)) for p in (p1, p2))
        st = m.snapshot()
        total = sum(st["requests"].values()) - st["requests"].get("state", 0)
        r.check("PROXY_URL: every MiniMax call goes through the proxies",
                ok == [200] * 4 and sum(sends) == 4 and every == total,
                "%s sends=%s every=%d mock=%d" % (ok, sends, every, total))
        r.check("PROXY_URL: one account, one proxy (sticky)",
                sorted(st["sends"].values()) == [2, 2] and sends[0] in (0, 2, 4), str(sends))
    except HarnessError as e:
        harness.report_setup(r, "minimax-proxy", e)
    finally:
        p1.stop()
        p2.stop()
        m.stop()
        harness.finish_workspace(r, ws, "minimax-proxy")


def main():
    r = Results("test_minimax")
    harness.install_signal_handlers(900)
    binary = harness.find_binary()
    ws = harness.Workspace("minimax")
    m = mm.MiniMaxMock().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=4)
        fe.check_installed()
        fe.app_extra = {"MINIMAX_BASE_URL": m.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "2",
                        "MINIMAX_POLL_MIN_MS": str(POLL_MIN_MS),
                        "MINIMAX_POLL_MAX_MS": str(POLL_MAX_MS),
                        "MINIMAX_ANSWER_TIMEOUT": str(TIMEOUT_S)}
        fe.start()
        cli = Cli(binary, ws.path("data"), {"MINIMAX_BASE_URL": m.url})
        for part in (basics, growing, faults, failover):
            t0 = time.monotonic()
            if part is growing:
                part(r, fe.port, m)
            else:
                part(r, fe.port, m, cli)
            r.note("%s: %.1f s" % (part.__name__, time.monotonic() - t0))
        logs = ""
        for f in os.listdir(ws.path("log")):
            with open(ws.path("log", f), errors="replace") as fh:
                logs += fh.read()
        secrets = [J1, J2, J3, CODE] + [t.split(".")[1] for t in (J1, J2, J3)]
        leaked = [t[:20] for t in secrets if t in logs]
        r.check("no JWT (nor its payload) or code in any log", not leaked, str(leaked))
    except HarnessError as e:
        harness.report_setup(r, "minimax", e)
    finally:
        m.stop()
        harness.finish_workspace(r, ws, "minimax")
    proxies(r, binary)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
