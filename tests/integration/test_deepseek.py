#!/usr/bin/env python3
"""DeepSeek end to end: nginx + spawn-fcgi (4 processes) + chat2api + the
DeepSeek mock, which checks the bearer, every proof of work, the browser
headers and the sessions.

  * the openai npm client: stream and non-stream, reasoning included;
  * the prompt as §2.5 flattens it, thinking and search switched by name,
    body and headers, search references appended, citations rewritten;
  * one bearer per account for its hour, across processes; a revoked one
    fetched again; the session deleted after every answer, also after a
    failure or a client that left;
  * the stream split at every byte (inside UTF-8 and SSE lines), both path
    styles and both endings, dripped;
  * misbehaviour: 40003, 401, 429 (Retry-After), 5xx with retries, non-SSE
    error bodies, Cloudflare pages, resets and early closes mid-stream,
    in-stream errors, an unsolvable proof of work — each a clear OpenAI
    error, mid-stream ones as an error chunk and [DONE].

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
import deepseek_mock  # noqa: E402
import http_proxy  # noqa: E402
import test_chat  # noqa: E402  (the npm client installer)

CODE = "ds-code-1"
U1 = deepseek_mock.DEFAULT_USER_TOKEN
U2 = deepseek_mock.OTHER_USER_TOKEN
USER = deepseek_mock.USER
ASSISTANT = deepseek_mock.ASSISTANT
EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"


def fp(secret):
    import hashlib
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def chat(port, model, messages, stream=False, token=CODE, headers=None, extra=None,
         timeout=60):
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    body = {"model": model, "messages": messages}
    if stream:
        body["stream"] = True
    body.update(extra or {})
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    return harness.http(port, "POST", "/v1/chat/completions", json.dumps(body), headers=h,
                        timeout=timeout)


def sse(resp):
    """(content, reasoning, finish_reason, error object, done) of a stream."""
    content, reasoning, finish, error, done = "", "", None, None, False
    raw = b"".join(d for _, d in resp.pieces).decode("utf-8", "replace")
    for ev in raw.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[6:] for line in ev.split("\n") if line.startswith("data: "))
        if data == "[DONE]":
            done = True
            continue
        try:
            o = json.loads(data)
        except ValueError:
            continue
        if "error" in o:
            error = o["error"]
            continue
        for ch in o.get("choices", []):
            d = ch.get("delta", {})
            content += d.get("content") or ""
            reasoning += d.get("reasoning_content") or ""
            finish = ch.get("finish_reason") or finish
    return content, reasoning, finish, error, done


def message(resp):
    doc = resp.json() or {}
    ch = (doc.get("choices") or [{}])[0]
    return ch.get("message", {}), ch.get("finish_reason"), doc


def err(resp):
    return (resp.json() or {}).get("error") or {}


def proxies(r, binary):
    """PROXY_URL applies to DeepSeek too: every call of an account goes
    through the same proxy (sticky)."""
    ws = harness.Workspace("deepseek-proxy")
    ds = deepseek_mock.DeepSeekMock().start()
    p1, p2 = http_proxy.HttpProxy().start(), http_proxy.HttpProxy().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        fe.app_extra = {"DEEPSEEK_BASE_URL": ds.url, "AUTHORIZATION": CODE,
                        "RETRY_TIMES": "0", "PROXY_URL": p1.url + "," + p2.url,
                        "LB_STRATEGY": "round-robin"}
        fe.start()
        env = dict(os.environ, CHAT2API_DATA_DIR=ws.path("data"), CHAT2API_LOG_LEVEL="warn")
        prefix = ["runuser", "-u", harness.RUN_USER, "--"] if harness.RUN_USER else []
        for tok in (U1, U2):
            subprocess.run(prefix + [binary, "accounts", "add", "deepseek", tok], env=env,
                           capture_output=True)
        ok = [chat(fe.port, "DeepSeek-V3.2", "via proxy %d" % i).status for i in range(6)]
        h1 = p1.hits("/api/v0/chat/completion")
        h2 = p2.hits("/api/v0/chat/completion")
        r.check("PROXY_URL: DeepSeek answers come through the proxies",
                ok == [200] * 6 and len(h1) + len(h2) == 6, "%s p1=%d p2=%d" % (
                    ok, len(h1), len(h2)))
        # deletes run after each response: wait for the last one
        harness.wait_until(lambda: sum(len(p.hits("/api/v0/chat_session/delete"))
                                       for p in (p1, p2)) == 6, 5)
        st = ds.snapshot()
        per = {"p1": len(p1.hits(None)), "p2": len(p2.hits(None)),
               "users": st.get("completions")}
        r.check("PROXY_URL: users/current, session, PoW and delete go through them too",
                sum(len(p.hits("/api/v0/chat_session/delete")) for p in (p1, p2)) == 6 and
                sum(len(p.hits("/api/v0/chat/create_pow_challenge")) for p in (p1, p2)) == 6
                and sum(len(p.hits("/api/v0/users/current")) for p in (p1, p2)) ==
                sum(st.get("users_current", {}).values()), str(per))
        # round-robin gives each account 3 answers; sticky proxies carry
        # whole accounts, so a proxy carries 0, 3 or 6 of them
        r.check("PROXY_URL: one account, one proxy (sticky)",
                sorted(st.get("completions", {}).values()) == [3, 3] and
                len(h1) in (0, 3, 6), "p1=%d p2=%d %s" % (len(h1), len(h2),
                                                           st.get("completions")))
    except HarnessError as e:
        harness.report_setup(r, "deepseek-proxy", e)
    finally:
        p1.stop()
        p2.stop()
        ds.stop()
        harness.finish_workspace(r, ws, "deepseek-proxy")


def main():
    r = Results("test_deepseek")
    harness.install_signal_handlers(900)
    binary = harness.find_binary()
    ws = harness.Workspace("deepseek")
    ds = deepseek_mock.DeepSeekMock().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=4)
        fe.check_installed()
        fe.app_extra = {"DEEPSEEK_BASE_URL": ds.url, "AUTHORIZATION": CODE,
                        "RETRY_TIMES": "2"}
        fe.start()
        port = fe.port
        env = dict(os.environ, CHAT2API_DATA_DIR=ws.path("data"), CHAT2API_LOG_LEVEL="warn")
        prefix = ["runuser", "-u", harness.RUN_USER, "--"] if harness.RUN_USER else []
        p = subprocess.run(prefix + [binary, "accounts", "add", "deepseek", U1], env=env,
                           capture_output=True, text=True)
        r.check("an account is added", p.returncode == 0, p.stdout + p.stderr)

        # --- the openai npm client, stream and non-stream, reasoning
        cdir = test_chat.client_dir()
        node = harness.which("node")
        base = "http://127.0.0.1:%d/v1" % port
        for mode in ("nonstream", "stream"):
            for model in ("DeepSeek-V3.2", "DeepSeek-R1"):
                pr = subprocess.run([node, os.path.join(cdir, "openai_client.mjs"), base, CODE,
                                     mode, model, "npm %s %s" % (mode, model)],
                                    capture_output=True, text=True, timeout=60)
                try:
                    out = json.loads(pr.stdout.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    out = {"error": pr.stdout + pr.stderr}
                think = model == "DeepSeek-R1"
                r.check("openai npm %s %s: content%s" % (mode, model,
                        ", reasoning" if think else ""),
                        not out.get("error") and
                        out.get("content") == "You said: npm %s %s" % (mode, model) and
                        out.get("finish_reason") == "stop" and out.get("model") == model and
                        (out.get("reasoning", "").startswith("Thinking about: npm") if think
                         else out.get("reasoning", "") == "") and
                        (out.get("usage") or {}).get("total_tokens", 0) > 0,
                        json.dumps(out)[:600])
        st = ds.snapshot()
        r.check("every proof of work verified, nothing rejected",
                st.get("pow_ok", 0) >= 4 and st.get("pow_failed", 0) == 0 and
                not st.get("rejections"), json.dumps(st.get("rejections"))[:600])
        r.check("one bearer for all of it, across 4 processes",
                st.get("users_current", {}).get(U1) == 1, str(st.get("users_current")))
        # the delete runs once each response is complete: give it a moment
        gone = harness.wait_until(lambda: not ds.snapshot().get("sessions_live", {})
                                  .get(U1), 5)
        r.check("every chat session deleted after its answer", gone,
                str(ds.snapshot().get("live_sessions")))

        # --- the prompt
        msgs = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": "First ![img](http://x/y.png) question"},
                {"role": "assistant", "content": "First answer"},
                {"role": "user", "content": [{"type": "text", "text": "Second"},
                                             {"type": "text", "text": "part two"}]},
                {"role": "user", "content": "and more"}]
        resp = chat(port, "DeepSeek-V3.2", msgs)
        prompt = ds.snapshot().get("last_completion", {}).get("prompt")
        want = ("Be brief.\n\nFirst  question" + ASSISTANT + "First answer" + EOS + USER +
                "Second\npart two\n\nand more")
        r.check("the history flattened as §2.5 says (first block bare, merged turns, "
                "images dropped)", resp.status == 200 and prompt == want,
                repr(prompt) + " != " + repr(want))

        # --- switches: name, body, headers
        for model, extra, headers, think, search in (
                ("DeepSeek-V3.2", None, None, False, False),
                ("DeepSeek-R1", None, None, True, False),
                ("deepseek-reasoner", None, None, True, False),
                ("DeepSeek-V3.2-Think", None, None, True, False),
                ("DeepSeek-Search", None, None, False, True),
                ("DeepSeek-V3.2", {"reasoning_effort": "low"}, None, True, False),
                ("DeepSeek-V3.2", {"reasoning_effort": "none"}, None, False, False),
                ("DeepSeek-V3.2", {"web_search": True}, None, False, True),
                ("DeepSeek-V3.2", {"web_search": False}, {"X-Web-Search": "true"}, False,
                 False),
                ("DeepSeek-V3.2", None, {"X-Web-Search": "true",
                                         "X-Reasoning-Effort": "medium"}, True, True)):
            resp = chat(port, model, "switch", extra=extra, headers=headers)
            body = ds.snapshot().get("last_completion", {}).get("body") or {}
            r.check("%s %s %s: thinking=%s search=%s" % (model, extra or "", headers or "",
                                                         think, search),
                    resp.status == 200 and body.get("thinking_enabled") is think and
                    body.get("search_enabled") is search, str(body)[:300])

        # --- search: references appended, citations rewritten, summary dropped
        resp = chat(port, "DeepSeek-R1-Search", "find it")
        m, fin, doc = message(resp)
        c = m.get("content") or ""
        r.check("search: [citation:N] -> [N], references appended in order",
                resp.status == 200 and "[citation:" not in c and "this [1] and that [2]" in c and
                c.index("[1]: [") < c.index("[2]: [") and "](https://" in c and
                deepseek_mock.SEARCH_SUMMARY not in c and
                m.get("reasoning_content", "").startswith("Thinking about"), c[-400:])
        resp = chat(port, "DeepSeek-Search", "find it [[split:bytes]]", stream=True)
        sc, sr, sf, se, sd = sse(resp)
        r.check("search streamed at one byte per chunk: the same answer",
                resp.status == 200 and sd and sc == c.replace("find it", "find it") and
                se is None, repr(sc[-200:]) + " vs " + repr(c[-200:]))

        # --- stream shapes split at every byte
        whole = message(chat(port, "DeepSeek-R1", "shape [[unicode]] [[long:30]]"))[0]
        for mk in ("[[split:bytes]]", "[[split:random]]", "[[path:index]]",
                   "[[end:set]]", "[[split:bytes]] [[crlf]]", "[[ascii]] [[split:7]]",
                   "[[drip:5]] [[split:3]]"):
            resp = chat(port, "DeepSeek-R1", "shape [[unicode]] [[long:30]] " + mk,
                        stream=True)
            sc, sr, sf, se, sd = sse(resp)
            r.check("stream %s: same content and reasoning, UTF-8 intact, [DONE]" % mk,
                    resp.status == 200 and sd and se is None and sf == "stop" and
                    sc == whole.get("content") and sr == whole.get("reasoning_content"),
                    repr(sc[-120:]) + " / " + repr((whole.get("content") or "")[-120:]))
        resp = chat(port, "DeepSeek-V3.2", "non-stream split [[unicode]] [[split:bytes]]")
        m, fin, doc = message(resp)
        r.check("non-stream split at every byte: whole UTF-8 text",
                resp.status == 200 and m.get("content", "").endswith(
                    deepseek_mock.UNICODE_TAIL.rstrip()), m.get("content", "")[-80:])

        # --- the session delete does not hold the response open
        ds.configure({"api_delay_ms": 600})
        t0 = time.monotonic()
        resp = chat(port, "DeepSeek-V3.2", "quick end")
        took = time.monotonic() - t0
        ds.configure({"api_delay_ms": 0})
        gone = harness.wait_until(lambda: not ds.snapshot().get("sessions_live", {})
                                  .get(U1), 5)
        r.check("the response ends before the session delete (2 slow calls, not 3)",
                resp.status == 200 and 1.1 < took < 1.65 and gone,
                "took %.2fs, deleted=%s" % (took, gone))

        # --- bearer revoked: fetched again, the request still succeeds
        ds.configure({"revoke_bearers": True})
        resp = chat(port, "DeepSeek-V3.2", "after revoke")
        st = ds.snapshot()
        r.check("a revoked bearer is fetched again once; the request succeeds",
                resp.status == 200 and st.get("users_current", {}).get(U1) == 2,
                resp.describe() + str(st.get("users_current")))

        # --- errors before the answer
        def case(name, marker, status, code=None, stream=False, hdr=None):
            resp = chat(port, "DeepSeek-V3.2", "fail " + marker, stream=stream)
            e = err(resp)
            ok = resp.status == status and (code is None or e.get("code") == code) and \
                e.get("message") and e.get("type")
            if hdr:
                ok = ok and resp.header(hdr) is not None
            r.check("%s -> %d %s" % (name, status, code or ""), ok, resp.describe())
            return resp

        case("upstream 500 on every try (retried)", "[[fail:500]]", 502, "upstream_error")
        case("upstream 503 Cloudflare page", "[[cf:503]]", 503, "cf_challenge")
        case("non-SSE JSON error with HTTP 200", "[[fail:200]]", 502, "upstream_error")
        case("upstream 403", "[[fail:403]]", 403, "upstream_forbidden")
        # a 403 puts the account in error: the operator takes it back
        p = subprocess.run(prefix + [binary, "accounts", "list", "deepseek"], env=env,
                           capture_output=True, text=True)
        r.check("a 403 marks the account error", " error " in p.stdout, p.stdout)
        subprocess.run(prefix + [binary, "accounts", "enable", fp(U1)], env=env,
                       capture_output=True)
        gone = harness.wait_until(lambda: not ds.snapshot().get("sessions_live", {})
                                  .get(U1), 5)
        r.check("sessions of failed attempts are deleted too", gone,
                str(ds.snapshot().get("live_sessions")))
        ds.configure({"completion_status": 500, "completion_status_times": 1})
        resp = chat(port, "DeepSeek-V3.2", "heals")
        r.check("a 500 that heals: the retry answers 200", resp.status == 200,
                resp.describe())
        ds.configure({"pow_answer": 10 ** 9})
        resp = chat(port, "DeepSeek-V3.2", "unsolvable")
        r.check("an unsolvable proof of work -> 502 pow_failed",
                resp.status == 502 and err(resp).get("code") == "pow_failed", resp.describe())
        ds.configure({"pow_answer": None, "pow_algorithm": "OtherHashV9"})
        resp = chat(port, "DeepSeek-V3.2", "unknown algorithm")
        r.check("an unknown proof-of-work algorithm -> 502 pow_failed",
                resp.status == 502 and err(resp).get("code") == "pow_failed", resp.describe())
        ds.configure({"pow_algorithm": "DeepSeekHashV1", "difficulty": 144000})
        t0 = time.monotonic()
        resp = chat(port, "DeepSeek-V3.2", "real difficulty")
        r.check("the real difficulty (144000) is solved and verified",
                resp.status == 200, resp.describe() + " %.2fs" % (time.monotonic() - t0))
        ds.configure({"difficulty": 2000})

        # --- errors after the answer started: error chunk, [DONE]
        for name, marker in (("RST mid-stream", "[[reset:6]]"),
                             ("FIN without FINISHED", "[[close:6]]"),
                             ("in-stream error event", "[[error:event]]"),
                             ("inline 40003 mid-stream", "[[error:inline]]")):
            resp = chat(port, "DeepSeek-V3.2", "mid [[long:20]] " + marker, stream=True)
            sc, sr, sf, se, sd = sse(resp)
            r.check("stream, %s: text so far, then an error chunk and [DONE]" % name,
                    resp.status == 200 and sd and se is not None and se.get("message") and
                    sc.startswith("You said") and
                    "40003" not in sc and "Authorization Failed" not in sc,
                    repr(sc[-100:]) + " error=" + str(se))
            resp = chat(port, "DeepSeek-V3.2", "mid [[long:20]] " + marker)
            r.check("non-stream, %s: a 5xx OpenAI error, no partial answer" % name,
                    resp.status >= 500 and err(resp).get("message"), resp.describe())
        resp = chat(port, "DeepSeek-V3.2", "limited [[error:hint]]")
        r.check("a rate-limit hint right after ready -> 429",
                resp.status == 429 and err(resp).get("type") == "rate_limit_error",
                resp.describe())
        resp = chat(port, "DeepSeek-V3.2", "while cooling")
        ra = resp.header("retry-after")
        r.check("the only account cooling down -> 429 with Retry-After, not 503",
                resp.status == 429 and ra is not None and 0 < int(ra) <= 60,
                resp.describe())
        subprocess.run(prefix + [binary, "accounts", "enable", fp(U1)], env=env,
                       capture_output=True)

        # --- the account's login refused: 40003 everywhere -> 401, expired
        ds.configure({"by_token": {U1: {"completion_status": 40003,
                                        "users_current_status": 40003}}})
        resp = chat(port, "DeepSeek-V3.2", "expired")
        r.check("40003 on the only account -> 401 account_expired",
                resp.status == 401 and err(resp).get("code") == "account_expired",
                resp.describe())
        p = subprocess.run(prefix + [binary, "accounts", "list", "deepseek"], env=env,
                           capture_output=True, text=True)
        r.check("the account is marked expired", " expired " in p.stdout, p.stdout)
        ds.configure({"by_token": {U1: None}})
        subprocess.run(prefix + [binary, "accounts", "enable", fp(U1)], env=env,
                       capture_output=True, text=True)
        resp = chat(port, "DeepSeek-V3.2", "429 [[fail:429]]")
        r.check("an upstream 429 on the only account -> 429 with Retry-After",
                resp.status == 429 and resp.header("retry-after") is not None,
                resp.describe())
        subprocess.run(prefix + [binary, "tokens", "errors-clear"], env=env)
        subprocess.run(prefix + [binary, "accounts", "enable", fp(U1)], env=env,
                       capture_output=True)

        # --- the client's own userToken, without the pool
        before = ds.snapshot().get("completions", {}).get(U2, 0)
        resp = chat(port, "DeepSeek-V3.2", "own", token=U2)
        st = ds.snapshot()
        r.check("the client's own userToken is used as is, also beside codes",
                resp.status == 200 and st.get("completions", {}).get(U2, 0) == before + 1,
                resp.describe())
        resp = chat(port, "DeepSeek-V3.2", "placeholder", token="sk-placeholder")
        r.check("a placeholder key on a server with codes -> 401 invalid_api_key",
                resp.status == 401 and err(resp).get("code") == "invalid_api_key",
                resp.describe())

        # --- a client that leaves mid-stream: the session still goes
        before = ds.snapshot().get("sessions_deleted", {}).get(U1, 0)
        s = socket.create_connection(("127.0.0.1", port))
        body = json.dumps({"model": "DeepSeek-V3.2", "stream": True, "messages": [
            {"role": "user", "content": "leaving [[long:200]] [[drip:30]]"}]})
        s.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s"
                   "\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" %
                   (CODE, len(body), body)).encode())
        s.recv(2048)
        s.close()
        ok = harness.wait_until(lambda: ds.snapshot().get("sessions_deleted", {}).get(U1, 0) >
                                before and not ds.snapshot().get("sessions_live", {}).get(U1),
                                15)
        st = ds.snapshot()
        r.check("a client gone mid-stream: the upstream transfer stops, the session is "
                "deleted", ok and st.get("client_disconnects", 0) >= 1,
                "disconnects=%s live=%s" % (st.get("client_disconnects"),
                                           st.get("live_sessions")))

        # --- logs
        logs = ""
        for f in os.listdir(ws.path("log")):
            with open(ws.path("log", f), errors="replace") as fh:
                logs += fh.read()
        bearers = [u.get("bearer") for u in ds.snapshot().get("users", {}).values()]
        leaked = [t for t in [U1, U2, CODE] + bearers if t and t in logs]
        r.check("no userToken, bearer or code in any log", not leaked, str(leaked)[:200])
    except HarnessError as e:
        harness.report_setup(r, "deepseek", e)
    finally:
        ds.stop()
        harness.finish_workspace(r, ws, "deepseek")
    proxies(r, binary)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
