#!/usr/bin/env python3
"""Z.ai end to end: nginx + spawn-fcgi + chat2api + the Z.ai mock, which
checks the login (Bearer and cookie), the browser headers, the signed query
in its order and encoding, X-Signature and both bodies.

  * accounts: `accounts add zai` (the token, "token=..." cookie text or
    JSON), `accounts validate`, /v1/models once an account is active;
  * the openai npm client, stream and non-stream, reasoning and search
    variants; usage is the upstream's;
  * what the mock received: the history with the system prefix, the last
    user text signed, the switches from names, body and headers, the
    upstream model ids;
  * the stream split at every byte, both thinking styles, every ending;
  * faults mapped to the OpenAI status and to the account: 401 (error),
    an expired login (expired), 429 (cooling, Retry-After), 5xx and
    Cloudflare pages, a signature the upstream no longer accepts (the
    accounts stay usable), a guest's GLM-5 (another account answers);
  * failover from a refused account to a good one within a request;
  * mid-stream failures end the stream with an error chunk and [DONE];
  * chats deleted after every answer, without delaying it; images refused;
  * PROXY_URL sticky per account, LB_STRATEGY_ZAI over LB_STRATEGY;
  * nothing secret in any log, at debug level.

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
import test_chat  # noqa: E402  (the npm client installer)
from test_accounts import Cli, fp  # noqa: E402
import test_deepseek  # noqa: E402
from test_deepseek import err, message, sse  # noqa: E402
import zai_mock  # noqa: E402

CODE = "zai-code-1"
A = zai_mock.DEFAULT_TOKEN
B = zai_mock.OTHER_TOKEN
GUEST = zai_mock.GUEST_TOKEN
OLD = zai_mock.EXPIRED_TOKEN
UA, UB = zai_mock.user_id_of(zai_mock.jwt_payload(A)[0]), \
    zai_mock.user_id_of(zai_mock.jwt_payload(B)[0])
UG = zai_mock.user_id_of(zai_mock.jwt_payload(GUEST)[0])
MODELS = ["GLM-5-Turbo", "GLM-5", "GLM-4.7", "GLM-4.6V", "GLM-4.6", "GLM-4.5V", "GLM-4.5-Air"]


def chat(port, model, messages, **kw):
    """test_deepseek's request, with this test's code by default."""
    kw.setdefault("token", CODE)
    return test_deepseek.chat(port, model, messages, **kw)


def last(zm):
    return zm.snapshot().get("last_completion") or {}


def status_of(cli, token):
    return cli.accounts("zai").get(fp(token), {}).get("status")


def npm(r, base, zm):
    """The openai npm client: stream and non-stream, plain, thinking, search."""
    cdir = test_chat.client_dir()
    node = harness.which("node")
    for mode in ("nonstream", "stream"):
        for model in ("GLM-4.7", "GLM-4.7-Think", "GLM-5-Turbo-Search", "GLM-4.5-Air"):
            pr = subprocess.run([node, os.path.join(cdir, "openai_client.mjs"), base, CODE,
                                 mode, model, "npm %s %s" % (mode, model)],
                                capture_output=True, text=True, timeout=60)
            try:
                out = json.loads(pr.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                out = {"error": pr.stdout + pr.stderr}
            lc = last(zm)
            think, search = "Think" in model, "Search" in model
            usage = out.get("usage") or {}
            r.check("openai npm %s %s: content%s%s, the upstream's usage" % (
                        mode, model, ", reasoning" if think else "",
                        ", citations taken out" if search else ""),
                    not out.get("error") and out.get("finish_reason") == "stop" and
                    out.get("model") == model and
                    out.get("content") == lc.get("expected_content") and
                    out["content"].startswith("You said: npm %s" % mode) and
                    ("turn0search" not in out["content"]) and
                    (("\u3010plain\u3011" in out["content"]) == search) and
                    (out.get("reasoning", "").startswith("Thinking about: npm") if think
                     else out.get("reasoning", "") == "") and
                    usage.get("total_tokens") == (lc.get("usage") or {}).get("total_tokens")
                    and usage.get("prompt_tokens") == lc["usage"]["prompt_tokens"],
                    json.dumps(out)[:600])


def main():
    r = Results("test_zai")
    harness.install_signal_handlers(900)
    binary = harness.find_binary()
    ws = harness.Workspace("zai")
    zm = zai_mock.ZaiMock().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=2)
        fe.check_installed()
        fe.app_extra = {"ZAI_BASE_URL": zm.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "2",
                        "CHAT2API_LOG_LEVEL": "debug"}
        fe.start()
        port = fe.port
        cli = Cli(binary, ws.path("data"), {"ZAI_BASE_URL": zm.url})

        # --- accounts and models
        resp = harness.http(port, "GET", "/v1/models")
        ids = [m["id"] for m in (resp.json() or {}).get("data", [])]
        r.check("/v1/models without a Z.ai account: no Z.ai model",
                resp.status == 200 and not set(MODELS) & set(ids), str(ids))
        rc, out, e = cli.run("accounts", "add", "zai", "token=%s; theme=dark" % A,
                             "--label", "first")
        r.check("accounts add zai (the cookie as copied)", rc == 0 and "added" in out,
                out + e)
        rc, out, e = cli.run("accounts", "add", "zai", "-", stdin=json.dumps({"token": A}))
        r.check("accounts add zai: the same token as JSON is the same account",
                rc == 0 and "already present" in out, out + e)
        rc, out, e = cli.run("accounts", "add", "zai", "sk-placeholder-0123456789abcdef")
        r.check("accounts add zai: a placeholder is refused", rc != 0, out + e)
        resp = harness.http(port, "GET", "/v1/models")
        got = [(m["id"], m["owned_by"]) for m in (resp.json() or {}).get("data", [])
               if m["id"] in MODELS]
        r.check("/v1/models lists the Z.ai models once an account is active",
                got == [(m, "zai") for m in MODELS], str(got))
        rc, out, e = cli.run("accounts", "validate", "zai")
        rows = cli.accounts("zai")
        r.check("accounts validate zai asks the upstream: valid, e-mail kept",
                rc == 0 and "valid" in out and zm.snapshot().get("settings", {}).get(A) == 1
                and "mock-user-1@example.com" in out + json.dumps(rows), out + e)

        # --- the openai npm client
        npm(r, "http://127.0.0.1:%d/v1" % port, zm)
        st = zm.snapshot()
        r.check("every request verified: signatures, query, headers, bodies",
                st.get("signatures_ok", 0) >= 8 and st.get("signatures_failed") == 0 and
                not st.get("rejections"), json.dumps(st.get("rejections"))[:600])
        gone = harness.wait_until(lambda: not zm.snapshot().get("chats_live", {}).get(UA), 5)
        r.check("every chat deleted after its answer", gone and
                st.get("chats_created", {}).get(UA) >= 8,
                str(zm.snapshot().get("live_chats")))

        # --- the history as Z.ai takes it
        msgs = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": "First question"},
                {"role": "assistant", "content": "First answer"},
                {"role": "developer", "content": "Use English."},
                {"role": "user", "content": [{"type": "text", "text": "Second"},
                                             {"type": "text", "text": "part two"}]}]
        resp = chat(port, "GLM-4.6", msgs)
        lc = last(zm)
        body = lc.get("body") or {}
        r.check("the history: system text before the first user message, parts joined, "
                "the last user text signed",
                resp.status == 200 and body.get("messages") == [
                    {"role": "user", "content": "Be brief.\n\nUse English.\n\nUser: "
                                                "First question"},
                    {"role": "assistant", "content": "First answer"},
                    {"role": "user", "content": "Second\npart two"}] and
                body.get("signature_prompt") == "Second\npart two" and
                body.get("model") == "glm-4.6v", json.dumps(body)[:600])
        h = lc.get("headers") or {}
        r.check("the completion carries the login twice, X-Signature and the chat's page",
                h.get("authorization") == "Bearer " + A and h.get("cookie") == "token=" + A
                and len(h.get("x-signature", "")) == 64 and
                h.get("referer") == "https://chat.z.ai/c/" + lc.get("chat_id", "?") and
                h.get("x-fe-version", "").startswith("prod-fe-"), json.dumps(h)[:400])
        resp = chat(port, "GLM-5-Turbo", "turbo")
        r.check("GLM-5-Turbo keeps its upper-case upstream id",
                resp.status == 200 and last(zm)["body"]["model"] == "GLM-5-Turbo",
                resp.describe())

        # --- switches: names, body, headers
        for model, extra, hdrs, think, search in (
                ("GLM-4.7", None, None, False, False),
                ("GLM-4.7-Think", None, None, True, False),
                ("GLM-4.7-Search", None, None, False, True),
                ("glm-4.7-think-search", None, None, True, True),
                ("GLM-4.7", {"reasoning_effort": "high"}, None, True, False),
                ("GLM-4.7", {"web_search": True}, None, False, True),
                ("GLM-4.7", None, {"X-Web-Search": "true", "X-Reasoning-Effort": "low"},
                 True, True)):
            resp = chat(port, model, "switch", extra=extra, headers=hdrs)
            f = (last(zm).get("body") or {}).get("features") or {}
            r.check("%s %s %s: thinking=%s search=%s" % (model, extra or "", hdrs or "",
                                                         think, search),
                    resp.status == 200 and f.get("enable_thinking") is think and
                    f.get("auto_web_search") is search, str(f))

        # --- the stream cut anywhere gives the same answer
        whole = message(chat(port, "GLM-4.7-Think-Search",
                             "shape [[unicode]] [[long:30]]"))[0]
        for mk in ("[[split:bytes]]", "[[split:random]]", "[[split:bytes]] [[crlf]]",
                   "[[ascii]] [[split:5]]", "[[think:details]] [[split:bytes]]",
                   "[[usage:done]]", "[[end:flag]]", "[[drip:5]] [[split:3]]"):
            resp = chat(port, "GLM-4.7-Think-Search", "shape [[unicode]] [[long:30]] " + mk,
                        stream=True)
            sc, sr, sf, se, sd = sse(resp)
            r.check("stream %s: same content and reasoning, UTF-8 intact, [DONE]" % mk,
                    resp.status == 200 and sd and se is None and sf == "stop" and
                    sc == whole.get("content") and sr == whole.get("reasoning_content") and
                    "turn0search" not in sc,
                    repr(sc[-120:]) + " / " + repr((whole.get("content") or "")[-120:]))
        m, fin, doc = message(chat(port, "GLM-4.7", "ns [[unicode]] [[split:bytes]] "
                                   "[[end:none]]"))
        r.check("non-stream, every byte its own chunk, no \"done\": the whole answer",
                m.get("content", "").endswith(zai_mock.UNICODE_TAIL) and fin == "stop",
                m.get("content", "")[-80:])

        # --- the delete does not hold the response
        zm.configure({"api_delay_ms": 600})
        t0 = time.monotonic()
        resp = chat(port, "GLM-4.7", "quick end")
        took = time.monotonic() - t0
        zm.configure({"api_delay_ms": 0})
        gone = harness.wait_until(lambda: not zm.snapshot().get("chats_live", {}).get(UA), 5)
        r.check("the response ends before the chat delete (1 slow call, not 2)",
                resp.status == 200 and 0.55 < took < 1.15 and gone,
                "took %.2fs, deleted=%s" % (took, gone))

        # --- images are refused, nothing is created upstream
        before = zm.snapshot().get("chats_created", {}).get(UA, 0)
        resp = chat(port, "GLM-4.6V", [{"role": "user", "content": [
            {"type": "text", "text": "what is this"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])
        r.check("an image part -> 400 unsupported_content, no upstream call",
                resp.status == 400 and err(resp).get("code") == "unsupported_content" and
                "text only" in err(resp).get("message", "") and
                zm.snapshot().get("chats_created", {}).get(UA, 0) == before,
                resp.describe())

        # --- faults before the answer, on the only account
        def case(name, marker, status, code, hdr=None):
            resp = chat(port, "GLM-4.7", "fail " + marker)
            e = err(resp)
            r.check("%s -> %d %s" % (name, status, code),
                    resp.status == status and e.get("code") == code and e.get("message") and
                    (hdr is None or resp.header(hdr) is not None), resp.describe())

        n0 = zm.snapshot().get("responses", {}).get("completion 500", 0)
        case("upstream 500 on every try", "[[fail:500]]", 502, "upstream_error")
        r.check("a 5xx is retried (RETRY_TIMES=2: 3 tries)",
                zm.snapshot().get("responses", {}).get("completion 500", 0) - n0 == 3,
                str(zm.snapshot().get("responses")))
        case("a Cloudflare 503 page", "[[cf:503]]", 503, "cf_challenge")
        case("a JSON refusal with HTTP 200", "[[fail:200]]", 502, "upstream_error")
        resp = chat(port, "GLM-4.7", "fail [[waf]]")
        r.check("a WAF page that quotes the URL (and the token in it) -> 502, the token "
                "withheld from the client", resp.status == 502 and A not in resp.text(100000)
                and "withheld" in err(resp).get("message", ""), resp.describe())
        r.check("after 5xx: the account is still active", status_of(cli, A) == "active",
                str(cli.accounts("zai")))
        case("upstream 403", "[[fail:403]]", 403, "upstream_forbidden")
        r.check("a 403 marks the account error", status_of(cli, A) == "error",
                str(cli.accounts("zai")))
        cli.run("accounts", "enable", fp(A))
        case("upstream 401", "[[fail:401]]", 401, "invalid_api_key")
        r.check("a 401 marks the account error", status_of(cli, A) == "error",
                str(cli.accounts("zai")))
        cli.run("accounts", "enable", fp(A))
        case("upstream 429", "[[fail:429]]", 429, "rate_limit_exceeded", "retry-after")
        r.check("a 429 cools the account down", status_of(cli, A) == "cooling",
                str(cli.accounts("zai")))
        resp = chat(port, "GLM-4.7", "while cooling")
        r.check("the only account cooling -> 429 with Retry-After",
                resp.status == 429 and 0 < int(resp.header("retry-after") or 0) <= 30,
                resp.describe())
        cli.run("accounts", "enable", fp(A))

        # --- a signature the upstream no longer accepts: not the account's fault
        zm.configure({"sign_key": "rotated-upstream-secret"})
        resp = chat(port, "GLM-4.7", "signed?")
        st = zm.snapshot()
        zm.configure({"sign_key": zai_mock.SIGN_KEY})
        r.check("the mock checks X-Signature: another secret -> 502 signature_rejected",
                resp.status == 502 and err(resp).get("code") == "signature_rejected" and
                st.get("signatures_failed", 0) >= 1 and
                "Signature validation failed" in (st.get("last_rejection") or {}).get(
                    "reason", "") + json.dumps(err(resp), ensure_ascii=False),
                resp.describe())
        r.check("a rejected signature leaves the account active", status_of(cli, A) == "active",
                str(cli.accounts("zai")))
        resp = chat(port, "GLM-4.7", "signed again")
        r.check("with the right secret again: 200", resp.status == 200, resp.describe())

        # --- an expired login
        cli.run("accounts", "disable", fp(A))
        cli.run("accounts", "add", "zai", OLD, "--label", "old")
        resp = chat(port, "GLM-4.7", "expired login")
        r.check("a login past its exp, refused -> 401 account_expired",
                resp.status == 401 and err(resp).get("code") == "account_expired",
                resp.describe())
        r.check("the account is marked expired", status_of(cli, OLD) == "expired",
                str(cli.accounts("zai")))
        cli.run("accounts", "remove", fp(OLD))

        # --- a guest login: GLM-5 is refused to it, older models are not
        cli.run("accounts", "add", "zai", GUEST, "--label", "guest")
        resp = chat(port, "GLM-5", "as a guest")
        r.check("a guest asking for GLM-5 -> 403 model_not_available",
                resp.status == 403 and err(resp).get("code") == "model_not_available",
                resp.describe())
        r.check("... and the guest account stays usable",
                status_of(cli, GUEST) == "active", str(cli.accounts("zai")))
        resp = chat(port, "GLM-4.7", "as a guest, older model")
        r.check("a guest's GLM-4.7 answers", resp.status == 200 and
                last(zm).get("user") == UG, resp.describe())
        cli.run("accounts", "enable", fp(A))
        stats = [chat(port, "GLM-5", "guest or not %d" % i).status for i in range(4)]
        r.check("GLM-5 with a guest and a user account: every request answered (the "
                "guest's refusal fails over to the user)", stats == [200] * 4 and
                status_of(cli, GUEST) == "active", str(stats))
        cli.run("accounts", "remove", fp(GUEST))

        # --- failover: a refused account, a good one, one request
        cli.run("accounts", "add", "zai", B, "--label", "second")
        zm.configure({"by_token": {A: {"completion_status": 401}}})
        c0 = dict(zm.snapshot().get("completions", {}))
        stats = [chat(port, "GLM-4.7", "failover %d" % i).status for i in range(4)]
        c1 = zm.snapshot().get("completions", {})
        r.check("401 on one account: every request answered by the other within it",
                stats == [200] * 4 and c1.get(UB, 0) - c0.get(UB, 0) == 4, str(stats))
        r.check("... and the refused account is marked error", status_of(cli, A) == "error",
                str(cli.accounts("zai")))
        zm.configure({"by_token": {A: None}})
        cli.run("accounts", "enable", fp(A))
        zm.configure({"by_token": {B: {"completion_status": 503}}})
        stats = [chat(port, "GLM-4.7", "5xx failover %d" % i).status for i in range(4)]
        zm.configure({"by_token": {B: None}})
        r.check("503 on one account: every request answered by the other, both stay active",
                stats == [200] * 4 and status_of(cli, B) == "active" and
                status_of(cli, A) == "active", str(stats))

        # --- after the first byte: error chunk and [DONE]
        for name, marker in (("RST mid-stream", "[[reset:5]]"),
                             ("FIN without done", "[[close:5]]"),
                             ("an error in the data", "[[error:data]]"),
                             ("a top-level error", "[[error:top]]"),
                             ("a rate limit in the stream", "[[error:rate]]")):
            resp = chat(port, "GLM-4.7", "mid [[long:20]] " + marker, stream=True)
            sc, sr, sf, se, sd = sse(resp)
            r.check("stream, %s: text so far, then an error chunk and [DONE]" % name,
                    resp.status == 200 and sd and se is not None and se.get("message") and
                    sc.startswith("You said") and "[[" not in sc, repr(sc[-80:]) + str(se))
            resp = chat(port, "GLM-4.7", "mid [[long:20]] " + marker)
            r.check("non-stream, %s: an OpenAI error, no partial answer" % name,
                    resp.status in (429, 502) and err(resp).get("message") and
                    "choices" not in (resp.json() or {}), resp.describe())
        # A rate limit is the account's even after the answer began.
        r.check("a rate limit inside the stream cools the account it came from",
                "cooling" in (status_of(cli, A), status_of(cli, B)),
                str(cli.accounts("zai")))
        cli.run("accounts", "enable", fp(A))
        cli.run("accounts", "enable", fp(B))

        # --- the client's own token, placeholders
        before = zm.snapshot().get("completions", {}).get(UB, 0)
        resp = chat(port, "GLM-4.7", "own token", token=B)
        r.check("the client's own chat.z.ai token is used as is, beside codes",
                resp.status == 200 and
                zm.snapshot().get("completions", {}).get(UB, 0) == before + 1,
                resp.describe())
        resp = chat(port, "GLM-4.7", "placeholder", token="sk-placeholder")
        r.check("a placeholder key on a server with codes -> 401 invalid_api_key",
                resp.status == 401 and err(resp).get("code") == "invalid_api_key",
                resp.describe())

        # --- a client that leaves mid-stream: the chat still goes
        before = sum(zm.snapshot().get("chats_deleted", {}).values())
        s = socket.create_connection(("127.0.0.1", port))
        body = json.dumps({"model": "GLM-4.7", "stream": True, "messages": [
            {"role": "user", "content": "leaving [[long:200]] [[drip:30]]"}]})
        s.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s"
                   "\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" %
                   (CODE, len(body), body)).encode())
        s.recv(2048)
        s.close()
        ok = harness.wait_until(lambda: sum(zm.snapshot().get("chats_deleted", {}).values())
                                > before and not any(zm.snapshot().get("chats_live", {})
                                                     .values()), 15)
        r.check("a client gone mid-stream: the transfer stops, the chat is deleted",
                ok and zm.snapshot().get("client_disconnects", 0) >= 1,
                str(zm.snapshot().get("live_chats")))

        # --- logs, at debug level
        logs = ""
        for f in os.listdir(ws.path("log")):
            with open(ws.path("log", f), errors="replace") as fh:
                logs += fh.read()
        leaked = [t[:16] for t in (A, B, GUEST, OLD, CODE) if t in logs]
        leaked += [t.split(".")[2][:8] for t in (A, B, GUEST, OLD)
                   if t.split(".")[2] in logs]
        r.check("no token (nor its signature part) or code in any log, at debug level "
                "(where the broken streams logged their URL, without its query)",
                not leaked and "/api/v2/chat/completions: " in logs, str(leaked))
    except HarnessError as e:
        harness.report_setup(r, "zai", e)
    finally:
        zm.stop()
        harness.finish_workspace(r, ws, "zai")
    proxies(r, binary)
    return r.finish()


def proxies(r, binary):
    """PROXY_URL carries Z.ai too, one proxy per account; LB_STRATEGY_ZAI
    (round-robin) wins over LB_STRATEGY (failover) for Z.ai."""
    ws = harness.Workspace("zai-proxy")
    zm = zai_mock.ZaiMock().start()
    p1, p2 = http_proxy.HttpProxy().start(), http_proxy.HttpProxy().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        fe.app_extra = {"ZAI_BASE_URL": zm.url, "AUTHORIZATION": CODE, "RETRY_TIMES": "0",
                        "PROXY_URL": p1.url + "," + p2.url, "LB_STRATEGY": "failover",
                        "LB_STRATEGY_ZAI": "round-robin"}
        fe.start()
        cli = Cli(binary, ws.path("data"), {})
        for tok in (A, B):
            cli.run("accounts", "add", "zai", tok)
        ok = [chat(fe.port, "GLM-4.7", "via proxy %d" % i).status for i in range(6)]
        h1 = p1.hits("/api/v2/chat/completions")
        h2 = p2.hits("/api/v2/chat/completions")
        r.check("PROXY_URL: Z.ai answers come through the proxies",
                ok == [200] * 6 and len(h1) + len(h2) == 6, "%s p1=%d p2=%d" % (
                    ok, len(h1), len(h2)))
        harness.wait_until(lambda: sum(len(p.hits("/api/v1/chats/")) for p in (p1, p2))
                           == 12, 5)
        r.check("PROXY_URL: chats/new and the deletes go through them too",
                sum(len(p.hits("/api/v1/chats/new")) for p in (p1, p2)) == 6 and
                sum(len(p.hits("/api/v1/chats/")) for p in (p1, p2)) == 12,
                "%d %d" % (len(p1.hits(None)), len(p2.hits(None))))
        c = zm.snapshot().get("completions", {})
        r.check("LB_STRATEGY_ZAI=round-robin over LB_STRATEGY=failover: 3 and 3; one "
                "account, one proxy (sticky)", sorted(c.values()) == [3, 3] and
                len(h1) in (0, 3, 6), "p1=%d p2=%d %s" % (len(h1), len(h2), c))
    except HarnessError as e:
        harness.report_setup(r, "zai-proxy", e)
    finally:
        p1.stop()
        p2.stop()
        zm.stop()
        harness.finish_workspace(r, ws, "zai-proxy")


if __name__ == "__main__":
    sys.exit(main())
