#!/usr/bin/env python3
"""/v1/chat/completions end to end: client -> nginx -> spawn-fcgi chat2api ->
the loopback ChatGPT mock (tests/mock/chatgpt_mock.py), which verifies the
proof of work, headers, tokens and body the way chatgpt.com does.

The same checks run in four setups: v1 delta stream and old full-message
stream, each with normal chunking and with every upstream chunk split into
single bytes (inside UTF-8 characters and SSE lines).  Then the error cases,
the official openai npm client, a client that disconnects mid-stream, and
PROXY_URL through loopback forward proxies (tests/mock/http_proxy.py).

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402
import chatgpt_mock  # noqa: E402
import http_proxy  # noqa: E402

AT = chatgpt_mock.DEFAULT_ACCESS_TOKEN
CLIENT_DIR = os.path.join(os.path.dirname(HERE), "client")


def chat(port, content, model="gpt-4o", stream=False, token=None, extra=None,
         timeout=30):
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    if stream:
        body["stream"] = True
    if extra:
        body.update(extra)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    return harness.http(port, "POST", "/v1/chat/completions", json.dumps(body),
                        headers=headers, timeout=timeout)


def sse_json(resp):
    """[(obj or '[DONE]')] from an SSE response body."""
    out = []
    for block in resp.body.decode("utf-8", "replace").split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: "):
                d = line[6:]
                out.append(d if d == "[DONE]" else json.loads(d))
    return out


def check_error_shape(r, name, resp, status, code=None):
    ok = resp.status == status
    try:
        e = resp.json()["error"]
        ok = ok and set(e) >= {"message", "type", "param", "code"}
        ok = ok and (code is None or e["code"] == code)
    except Exception:  # noqa: BLE001
        ok = False
    r.check(name, ok, resp.describe())


def stream_parts(events):
    content = "".join(e["choices"][0]["delta"].get("content", "") for e in events
                      if isinstance(e, dict) and e.get("choices"))
    reasoning = "".join(e["choices"][0]["delta"].get("reasoning_content", "")
                        for e in events if isinstance(e, dict) and e.get("choices"))
    finish = [e["choices"][0]["finish_reason"] for e in events
              if isinstance(e, dict) and e.get("choices") and e["choices"][0]["finish_reason"]]
    return content, reasoning, finish


def suite(r, label, fe, mock):
    port = fe.port
    pre = label + ": "

    # --- anonymous, non-stream
    mock.reset()
    resp = chat(port, "hello there")
    ok = resp.status == 200
    body = resp.json() if ok else {}
    st = mock.snapshot()
    last = st.get("last_conversation") or {}
    r.check(pre + "anonymous non-stream answers", ok and body.get("object") == "chat.completion",
            resp.describe())
    if ok:
        msg = body["choices"][0]["message"]
        r.check(pre + "non-stream content is the upstream reply",
                msg["content"] == last.get("reply_text") and "You said: hello there" in msg["content"],
                "got %r want %r" % (msg["content"][:120], (last.get("reply_text") or "")[:120]))
        r.check(pre + "non-stream shape", body["id"].startswith("chatcmpl-") and
                set(body) - {"system_fingerprint"} == {"id", "object", "created", "model",
                                                       "choices", "usage"} and
                isinstance(body["created"], int) and
                body.get("system_fingerprint", "fp_").startswith("fp_") and
                set(body["choices"][0]) == {"index", "message", "logprobs", "finish_reason"} and
                body["choices"][0]["index"] == 0 and body["choices"][0]["logprobs"] is None and
                msg["role"] == "assistant" and
                body["model"] == "gpt-4o-2024-08-06" and
                body["choices"][0]["finish_reason"] == "stop" and
                body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] +
                body["usage"]["completion_tokens"] and body["usage"]["completion_tokens"] > 0,
                json.dumps(body)[:400])
    r.check(pre + "anonymous goes to backend-anon", "backend-anon" in (last.get("path") or ""),
            str(last.get("path")))
    r.check(pre + "mock verified the proof of work", st.get("proofs_ok", 0) >= 1 and
            st.get("proofs_failed", 0) == 0, "proofs ok=%s failed=%s" % (
                st.get("proofs_ok"), st.get("proofs_failed")))

    # --- access token, stream
    mock.reset()
    resp = chat(port, "stream me 你好 🌍", stream=True, token=AT,
                extra={"stream_options": {"include_usage": True}})
    st = mock.snapshot()
    last = st.get("last_conversation") or {}
    ev = sse_json(resp) if resp.status == 200 else []
    content, reasoning, finish = stream_parts(ev)
    r.check(pre + "AccessToken stream answers", resp.status == 200 and
            resp.header("content-type", "").startswith("text/event-stream"), resp.describe())
    r.check(pre + "AccessToken goes to backend-api with the token",
            "backend-api" in (last.get("path") or "") and
            (last.get("headers") or {}).get("authorization") == "Bearer " + AT,
            str(last.get("path")))
    r.check(pre + "stream content equals upstream reply (UTF-8 intact)",
            content == last.get("reply_text") and "你好 🌍" in content,
            "got %r want %r" % (content[:100], (last.get("reply_text") or "")[:100]))
    first = ev[0] if ev else {}
    r.check(pre + "first chunk carries the role",
            isinstance(first, dict) and first.get("object") == "chat.completion.chunk" and
            first["choices"][0]["delta"].get("role") == "assistant", str(first)[:200])
    r.check(pre + "stream ends with finish, usage, [DONE]",
            finish == ["stop"] and len(ev) >= 3 and ev[-1] == "[DONE]" and
            isinstance(ev[-2], dict) and ev[-2].get("usage", {}).get("total_tokens", 0) > 0 and
            ev[-2].get("choices") == [], str(ev[-3:])[:300])
    ids = {e["id"] for e in ev if isinstance(e, dict)}
    r.check(pre + "one id for all chunks", len(ids) == 1, str(ids))

    # --- scripts
    resp = chat(port, "think [[script:thoughts]]", model="o1", token=AT)
    b = resp.json() if resp.status == 200 else {}
    msg = (b.get("choices") or [{}])[0].get("message", {})
    r.check(pre + "thoughts become reasoning_content", resp.status == 200 and
            msg.get("reasoning_content") and msg.get("content"), resp.describe())
    resp = chat(port, "think [[script:o1]]", model="o1", stream=True, token=AT)
    content, reasoning, finish = stream_parts(sse_json(resp) if resp.status == 200 else [])
    r.check(pre + "o1 tool steps stream as reasoning_content", resp.status == 200 and
            reasoning and content and finish == ["stop"], resp.describe())
    resp = chat(port, "code [[script:code]]", token=AT)
    b = resp.json() if resp.status == 200 else {}
    txt = ((b.get("choices") or [{}])[0].get("message") or {}).get("content") or ""
    r.check(pre + "code and execution output are fenced", "```" in txt, txt[:200])
    resp = chat(port, "long [[script:max_tokens]]", token=AT)
    b = resp.json() if resp.status == 200 else {}
    r.check(pre + "upstream max_tokens finish is length", resp.status == 200 and
            b["choices"][0]["finish_reason"] == "length", resp.describe())
    resp = chat(port, "bad [[script:moderation]]", stream=True, token=AT)
    content, reasoning, finish = stream_parts(sse_json(resp) if resp.status == 200 else [])
    r.check(pre + "moderation ends with content_filter", finish == ["content_filter"],
            resp.describe())
    resp = chat(port, "[[script:citation]] cite", token=AT)
    b = resp.json() if resp.status == 200 else {}
    r.check(pre + "citation answer", resp.status == 200, resp.describe())
    resp = chat(port, "x [[script:error_mid]]", stream=True, token=AT)
    ev = sse_json(resp) if resp.status == 200 else []
    r.check(pre + "in-stream error ends with an error chunk and [DONE]",
            len(ev) >= 2 and ev[-1] == "[DONE]" and isinstance(ev[-2], dict) and "error" in ev[-2],
            str(ev[-2:])[:300])
    resp = chat(port, "x [[close:6]] [[long:40]]", stream=True, token=AT)
    ev = sse_json(resp) if resp.status == 200 else []
    r.check(pre + "stream cut short ends with an error chunk and [DONE]",
            len(ev) >= 2 and ev[-1] == "[DONE]" and isinstance(ev[-2], dict) and "error" in ev[-2],
            resp.describe())
    resp = chat(port, "x [[script:no_in_progress]]", token=AT)
    check_error_shape(r, pre + "stream that never starts is 403", resp, 403,
                      "upstream_not_started")

    # --- upstream errors in OpenAI's shape
    check_error_shape(r, pre + "upstream 401 -> 401", chat(port, "[[fail:401]]", token=AT),
                      401, "invalid_api_key")
    resp = chat(port, "[[script:rate_limit]] [[clears_in:42]]", token=AT)
    check_error_shape(r, pre + "upstream 429 -> 429", resp, 429, "rate_limit_exceeded")
    r.check(pre + "429 carries clears_in", "42" in resp.text(), resp.text())
    check_error_shape(r, pre + "Cloudflare page -> 403", chat(port, "[[cf]]", token=AT),
                      403, "cf_challenge")
    check_error_shape(r, pre + "upstream 503 -> 502", chat(port, "[[fail:503]]", token=AT),
                      502, "upstream_error")
    check_error_shape(r, pre + "unknown token -> 401", chat(port, "hi", token="eyJbogus"),
                      401, "invalid_api_key")

    # --- request validation through the front server
    resp = harness.http(port, "POST", "/v1/chat/completions", "{not json",
                        headers={"Content-Type": "application/json"})
    check_error_shape(r, pre + "bad JSON -> 400", resp, 400, "invalid_json")
    resp = harness.http(port, "POST", "/v1/chat/completions",
                        '{"model":"gpt-4o","messages":[{"role":"wizard","content":"x"}]}',
                        headers={"Content-Type": "application/json"})
    check_error_shape(r, pre + "unknown role -> 400", resp, 400, "invalid_value")
    resp = harness.http(port, "POST", "/v1/chat/completions", '{"messages":[]}',
                        headers={"Content-Type": "application/json"})
    check_error_shape(r, pre + "empty messages -> 400 empty_array (as OpenAI)", resp, 400,
                      "empty_array")


def sentinel_cases(r, fe, mock):
    port = fe.port
    mock.configure({"difficulty": "00001f"})
    check_error_shape(r, "PoW harder than POW_DIFFICULTY -> 403", chat(port, "hi", token=AT),
                      403, "pow_too_hard")
    mock.configure({"difficulty": "0fffff", "arkose_required": True})
    check_error_shape(r, "arkose required without solver -> 403", chat(port, "hi", token=AT),
                      403, "arkose_required")
    mock.configure({"arkose_required": False, "turnstile_required": True,
                    "enforce_turnstile": True})
    resp = chat(port, "turnstile please", token=AT)
    r.check("turnstile required: local solver answers it", resp.status == 200 and
            mock.snapshot().get("turnstile_tokens_seen", 0) >= 1, resp.describe())
    mock.configure({"turnstile_required": False, "enforce_turnstile": False})
    mock.configure({"conversation_status": 502, "conversation_status_times": 2})
    resp = chat(port, "retry me", token=AT)
    r.check("5xx is retried (RETRY_TIMES) and then succeeds", resp.status == 200,
            resp.describe())
    mock.configure({"conversation_status": 0, "conversation_status_times": 0})


def client_dir():
    """A writable copy of tests/client with node_modules installed (npm ci,
    from the lock file).  Kept in the build tree so reruns skip the install;
    the source tree may be read-only (make distcheck)."""
    import fcntl
    base = os.environ.get("top_builddir") or os.getcwd()
    dest = os.path.join(base, "tests", "client-node")
    os.makedirs(dest, exist_ok=True)
    # tests run in parallel (make -j check): one installs, the others wait
    with open(os.path.join(dest, ".install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for f in ("package.json", "package-lock.json", "openai_client.mjs"):
            shutil.copyfile(os.path.join(CLIENT_DIR, f), os.path.join(dest, f))
        with open(os.path.join(dest, "package.json")) as f:
            deps = json.load(f).get("dependencies", {})
        if not all(os.path.isdir(os.path.join(dest, "node_modules", d)) for d in deps):
            rc = subprocess.run([harness.which("npm"), "ci", "--no-audit", "--no-fund",
                                 "--silent"], cwd=dest, capture_output=True, text=True,
                                timeout=300)
            if rc.returncode != 0:
                raise HarnessError("npm ci failed: " + (rc.stderr or rc.stdout)[-800:])
    return dest


def png(w, h):
    import struct
    import zlib

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def uploads(r, fe, mock):
    """image_url and file parts: uploaded (files, blob PUT, uploaded) and
    referenced from the conversation as the web client does."""
    import base64
    img = png(2, 3)
    doc = b"%PDF-1.4 not really a pdf, but bytes to upload"
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is in these?"},
        {"type": "image_url", "image_url": {
            "url": "data:image/png;base64," + base64.b64encode(img).decode()}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64," +
                                  base64.b64encode(doc).decode()}}]}]}
    mock.reset()
    resp = harness.http(fe.port, "POST", "/v1/chat/completions", json.dumps(body), headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + AT})
    st = mock.snapshot()
    conv = (st.get("last_conversation") or {}).get("body") or {}
    msg = (conv.get("messages") or [{}])[-1]
    parts = (msg.get("content") or {}).get("parts") or []
    ptr = [p for p in parts if isinstance(p, dict)]
    atts = (msg.get("metadata") or {}).get("attachments") or []
    r.check("image and file parts are uploaded (2 blob PUTs)", resp.status == 200 and
            st.get("uploads") == 2, "%s uploads=%s" % (resp.describe(), st.get("uploads")))
    r.check("the image becomes an image_asset_pointer with its size",
            len(ptr) == 1 and ptr[0].get("asset_pointer", "").startswith("file-service://") and
            ptr[0].get("width") == 2 and ptr[0].get("height") == 3 and
            ptr[0].get("size_bytes") == len(img), str(ptr)[:300])
    r.check("both are attachments with their MIME types",
            sorted(a.get("mime_type") for a in atts) == ["application/pdf", "image/png"] and
            (msg.get("content") or {}).get("content_type") == "multimodal_text", str(atts)[:300])
    bad = dict(body)
    bad["messages"] = [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}]}]
    resp = harness.http(fe.port, "POST", "/v1/chat/completions", json.dumps(bad), headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + AT})
    check_error_shape(r, "unreadable image_url -> 400", resp, 400, "invalid_image_url")


def openai_client(r, fe, mock, label):
    node = harness.which("node")
    cdir = client_dir()
    base = "http://127.0.0.1:%d/v1" % fe.port

    def run(*args):
        p = subprocess.run([node, os.path.join(cdir, "openai_client.mjs"), base] +
                           list(args), capture_output=True, text=True, timeout=60)
        try:
            return json.loads(p.stdout.strip().splitlines()[-1])
        except Exception:  # noqa: BLE001
            return {"error": {"message": "no output: " + p.stdout + p.stderr}}

    out = run(AT, "stream", "gpt-4o", "hello from the SDK")
    r.check(label + ": openai npm: stream", not out.get("error") and
            "You said: hello from the SDK" in out.get("content", "") and
            out.get("finish_reason") == "stop" and out.get("usage", {}).get("total_tokens", 0) > 0,
            json.dumps(out)[:400])
    out = run("", "nonstream", "gpt-4o-mini", "anonymous SDK call")
    r.check(label + ": openai npm: non-stream, anonymous", not out.get("error") and
            "You said: anonymous SDK call" in out.get("content", "") and
            out.get("object") == "chat.completion", json.dumps(out)[:400])
    out = run("eyJnot-a-real-token", "nonstream", "gpt-4o", "x")
    err = out.get("error") or {}
    r.check(label + ": openai npm: 401 surfaces as AuthenticationError",
            err.get("status") == 401 and err.get("name") == "AuthenticationError" and
            err.get("code") == "invalid_api_key", json.dumps(out)[:400])
    out = run(AT, "completion", "gpt-4o", "legacy SDK call")
    r.check(label + ": openai npm: completions.create", not out.get("error") and
            "You said: legacy SDK call" in out.get("content", "") and
            out.get("object") == "text_completion" and out.get("finish_reason") == "stop",
            json.dumps(out)[:400])
    out = run("", "completion-stream", "gpt-4o", "legacy streamed")
    r.check(label + ": openai npm: completions.create, stream", not out.get("error") and
            "You said: legacy streamed" in out.get("content", "") and
            out.get("finish_reason") == "stop" and out.get("usage", {}).get("total_tokens", 0) > 0,
            json.dumps(out)[:400])
    out = run("", "models", "", "")
    r.check(label + ": openai npm: models.list", "gpt-4o" in (out.get("ids") or []), json.dumps(out)[:300])


def raw_stream(port, prompt, timeout):
    """A streamed chat request on a plain socket, to time or drop its reads."""
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [
        {"role": "user", "content": prompt}]})
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
               "\r\nAuthorization: Bearer %s\r\nConnection: close\r\nContent-Length: %d"
               "\r\n\r\n%s" % (AT, len(body), body)).encode())
    return s


def completions(r, fe, mock, label):
    """POST /v1/completions: the prompt goes up as one chat turn, the
    answer comes back as text_completion objects."""
    pre = label + ": /v1/completions: "
    port = fe.port

    def post(body, token=AT):
        return harness.http(port, "POST", "/v1/completions", json.dumps(body), headers={
            "Content-Type": "application/json", "Authorization": "Bearer " + token})

    mock.reset()
    resp = post({"model": "gpt-4o", "prompt": "complete this please", "max_tokens": 500})
    body = resp.json() if resp.status == 200 else {}
    ch = (body.get("choices") or [{}])[0]
    last = mock.snapshot().get("last_conversation") or {}
    r.check(pre + "non-stream text_completion", resp.status == 200 and
            body.get("object") == "text_completion" and body.get("id", "").startswith("cmpl-") and
            set(ch) == {"text", "index", "logprobs", "finish_reason"} and
            ch.get("text") == last.get("reply_text") and
            "You said: complete this please" in ch.get("text", "") and
            ch.get("finish_reason") == "stop" and body["usage"]["total_tokens"] > 0,
            json.dumps(body)[:400] or resp.describe())
    msgs = ((last.get("body") or {}).get("messages")) or [{}]
    r.check(pre + "the prompt went up as one user message",
            len(msgs) == 1 and msgs[0].get("author", {}).get("role") == "user" and
            msgs[0].get("content", {}).get("parts") == ["complete this please"], str(msgs)[:300])
    resp = post({"model": "gpt-4o", "prompt": ["as a list"], "stream": True,
                 "stream_options": {"include_usage": True}})
    ev = sse_json(resp) if resp.status == 200 else []
    objs = [e for e in ev if isinstance(e, dict)]
    text = "".join((e.get("choices") or [{}])[0].get("text", "") for e in objs if e.get("choices"))
    r.check(pre + "stream: text_completion chunks, no delta, finish, usage, [DONE]",
            resp.status == 200 and objs and ev[-1] == "[DONE]" and
            all(o.get("object") == "text_completion" for o in objs) and
            not any("delta" in c for o in objs for c in o.get("choices") or []) and
            "You said: as a list" in text and
            [c.get("finish_reason") for o in objs for c in o.get("choices") or []
             if c.get("finish_reason")] == ["stop"] and
            objs[-1].get("choices") == [] and objs[-1].get("usage", {}).get("total_tokens", 0) > 0,
            (json.dumps(ev)[:600] if ev else resp.describe()))
    for name, extra, code in (
            ("two prompts", {"prompt": ["a", "b"]}, "unsupported_value"),
            ("token ids", {"prompt": [[1, 2, 3]]}, "unsupported_value"),
            ("echo", {"prompt": "x", "echo": True}, "unsupported_value"),
            ("suffix", {"prompt": "x", "suffix": "after"}, "unsupported_value"),
            ("n=2", {"prompt": "x", "n": 2}, "unsupported_value"),
            ("no prompt", {}, "missing_required_parameter"),
            ("prompt of the wrong type", {"prompt": {"x": 1}}, "invalid_type"),
            ("empty prompt list", {"prompt": []}, "unsupported_value")):
        resp = post(dict({"model": "gpt-4o"}, **extra))
        check_error_shape(r, pre + name + " -> 400", resp, 400, code)
    resp = harness.http(port, "POST", "/v1/completions", "{not json", headers={
        "Content-Type": "application/json"})
    check_error_shape(r, pre + "bad JSON -> 400", resp, 400, "invalid_json")
    resp = post({"model": "gpt-4o", "prompt": "x", "temperature": 9})
    err = (resp.json() or {}).get("error", {}) if resp.status == 400 else {}
    r.check(pre + "chat limits apply (temperature 9 -> 400 on 'temperature')",
            resp.status == 400 and err.get("param") == "temperature", resp.describe())


def disconnect(r, fe, mock):
    """The client leaves mid-stream: chat2api must drop the upstream."""
    mock.reset()
    s = raw_stream(fe.port, "slow [[drip:150]] [[long:200]]", 10)
    got = b""
    deadline = time.monotonic() + 10
    while got.count(b"data: ") < 3 and time.monotonic() < deadline:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.close()
    seen = mock.wait_for(lambda st: st.get("client_disconnects", 0) >= 1, timeout=8)
    st = mock.snapshot()
    r.check("client disconnect aborts the upstream stream", bool(seen) and
            st.get("conversations_completed", 0) == 0,
            "disconnects=%s completed=%s" % (st.get("client_disconnects"),
                                             st.get("conversations_completed")))


def drip_timing(r, fe, mock):
    """Chunks reach the client as the upstream sends them, not at the end."""
    mock.reset()
    s = raw_stream(fe.port, "timed [[drip:120]] [[long:12]]", 15)
    times, got, t0 = [], b"", time.monotonic()
    while time.monotonic() - t0 < 15:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
        n = got.count(b"data: {") - len(times)
        times.extend([time.monotonic() - t0] * n)
    s.close()
    # 12+ content events 120 ms apart: they must arrive over >= 1 s, in
    # many separate reads, and the last one well after the first.
    distinct = len(set(round(t, 2) for t in times))
    r.check("stream: chunks arrive as the upstream drips them (not batched to the end)",
            len(times) >= 10 and times[-1] - times[0] >= 1.0 and distinct >= 8 and
            b"data: [DONE]" in got,
            "chunks=%d distinct=%d span=%.2fs" % (len(times), distinct,
                                                   (times[-1] - times[0]) if times else 0))


def modes(r, fe, mock, label):
    """CONVERSATION_ONLY and HISTORY_DISABLED=false instances."""
    port = fe.port
    mock.reset()
    if label == "conversation-only":
        resp = chat(port, "no sentinel please", token=AT)
        st = mock.snapshot()
        r.check("CONVERSATION_ONLY: answers without page or sentinel", resp.status == 200 and
                st.get("requests", {}).get("conversation", 0) == 1 and
                st.get("requests", {}).get("sentinel", 0) == 0 and
                st.get("requests", {}).get("home", 0) == 0, "%s %s" % (
                    resp.describe(), st.get("requests")))
        hdrs = (st.get("last_conversation") or {}).get("headers") or {}
        r.check("CONVERSATION_ONLY: no sentinel headers",
                not any(h.startswith("openai-sentinel") for h in hdrs), str(sorted(hdrs)))
    else:
        resp = chat(port, "remember me", token=AT, stream=True)
        ev = [e for e in (sse_json(resp) if resp.status == 200 else []) if isinstance(e, dict)]
        st = mock.snapshot()
        last = st.get("last_conversation") or {}
        body = last.get("body") or {}
        r.check("HISTORY_DISABLED=false: upstream keeps history",
                body.get("history_and_training_disabled") is False, str(body)[:200])
        r.check("HISTORY_DISABLED=false: chunks carry conversation_id and message_id",
                ev and all(e.get("conversation_id") == last.get("conversation_id") and
                           e.get("message_id") for e in ev[1:]), str(ev[:2])[:300])
        cid = last.get("conversation_id")
        mid = ev[-1].get("message_id") if ev else None
        resp = chat(port, "and continue", token=AT, extra={
            "conversation_id": cid, "parent_message_id": mid})
        body = (mock.snapshot().get("last_conversation") or {}).get("body") or {}
        r.check("conversation_id/parent_message_id continue a conversation",
                resp.status == 200 and body.get("conversation_id") == cid and
                body.get("parent_message_id") == mid, resp.describe())
        mock.reset()
        mock.configure({"arkose_required": True, "enforce_arkose": True,
                        "turnstile_required": True, "enforce_turnstile": True})
        resp = chat(port, "solvers please", token=AT)
        st = mock.snapshot()
        r.check("ARKOSE_TOKEN_URL and TURNSTILE_SOLVER_URL solve the challenges",
                resp.status == 200 and st.get("arkose_tokens_seen", 0) >= 1 and
                (st.get("solver_requests") or {}).get("arkose", 0) >= 1 and
                (st.get("solver_requests") or {}).get("turnstile", 0) >= 1,
                "%s %s" % (resp.describe(), st.get("solver_requests")))
        mock.configure({"arkose_required": False, "enforce_arkose": False,
                        "turnstile_required": False, "enforce_turnstile": False})


def proxy_setup(r, binary, label, proxy_url, fn, extra=None):
    ws = harness.Workspace("chat-" + label)
    mock = chatgpt_mock.ChatGPTMock().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        fe.app_extra = dict(CHATGPT_BASE_URL=mock.url, RETRY_TIMES="0", **(extra or {}))
        if proxy_url:
            fe.app_extra["PROXY_URL"] = proxy_url
        fe.start()
        fn(fe, mock)
    except HarnessError as e:
        harness.report_setup(r, label, e)
    finally:
        mock.stop()
        harness.finish_workspace(r, ws, "chat-" + label)


def proxies(r, binary):
    """PROXY_URL (chatgpt.md §11.3): every upstream call of an answer goes
    through the chosen proxy; random per anonymous request, sticky per
    token; "{}" becomes the md5 of the token."""
    p1, p2, p3 = (http_proxy.HttpProxy().start() for _ in range(3))

    def rotation(fe, mock):
        p1.reset()
        p2.reset()
        answers = 0
        for i in range(40):
            stream = i % 2 == 1
            resp = chat(fe.port, "via a proxy %d" % i, stream=stream)
            if resp.status != 200:
                break
            text = stream_parts(sse_json(resp))[0] if stream else \
                resp.json()["choices"][0]["message"]["content"]
            if "You said: via a proxy %d" % i not in text:
                break
            answers += 1
            if i >= 7 and p1.hits("/conversation") and p2.hits("/conversation"):
                break
        st = mock.snapshot()
        n1, n2 = len(p1.hits("/conversation")), len(p2.hits("/conversation"))
        r.check("PROXY_URL: anonymous answers (stream and not) come through the proxies",
                answers >= 8 and n1 + n2 == answers ==
                st.get("requests", {}).get("conversation", 0),
                "answers=%d via p1=%d p2=%d mock=%s" % (answers, n1, n2, st.get("requests")))
        r.check("PROXY_URL: anonymous requests spread over both proxies", n1 > 0 and n2 > 0,
                "p1=%d p2=%d" % (n1, n2))
        r.check("PROXY_URL: the sentinel goes through the proxies too",
                len(p1.hits("/chat-requirements")) + len(p2.hits("/chat-requirements")) ==
                st.get("requests", {}).get("sentinel", -1), str(st.get("requests")))
        p1.reset()
        p2.reset()
        for i in range(6):
            chat(fe.port, "sticky %d" % i, token=AT)
        n1, n2 = len(p1.hits("/conversation")), len(p2.hits("/conversation"))
        r.check("PROXY_URL: one access token always uses the same proxy",
                n1 + n2 == 6 and (n1 == 0 or n2 == 0), "p1=%d p2=%d" % (n1, n2))

    def session(fe, mock):
        resp = chat(fe.port, "session proxy", token=AT)
        users = {h["user"] for h in p3.hits()}
        want = "sess-%s:pw" % hashlib.md5(AT.encode()).hexdigest()
        r.check("PROXY_URL: {} in the proxy URL becomes md5(token) (sticky provider session)",
                resp.status == 200 and users == {want}, "users=%s want=%s %s" % (
                    users, want, resp.describe()))

    def sentinel_proxy(fe, mock):
        p1.reset()
        p2.reset()
        resp = chat(fe.port, "sentinel through its own proxy")
        r.check("SENTINEL_PROXY_URL: chat-requirements through it, the conversation through "
                "PROXY_URL", resp.status == 200 and
                len(p2.hits("/chat-requirements")) == 1 and not p2.hits("/conversation") and
                len(p1.hits("/conversation")) == 1 and not p1.hits("/chat-requirements"),
                "p1=%s p2=%s" % ([h["url"] for h in p1.hits()], [h["url"] for h in p2.hits()]))

    try:
        proxy_setup(r, binary, "proxy-sentinel", p1.url, sentinel_proxy,
                    extra={"SENTINEL_PROXY_URL": p2.url})
        proxy_setup(r, binary, "proxy", "%s,%s" % (p1.url, p2.url), rotation)
        proxy_setup(r, binary, "proxy-session", "http://sess-{}:pw@127.0.0.1:%d" % p3.port,
                    session)
    finally:
        for p in (p1, p2, p3):
            p.stop()


class _Files:
    """A loopback file server for UPLOAD_BY_URL: path -> (type, bytes)."""

    def __init__(self, files):
        import http.server
        import threading
        outer = self
        self.files, self.seen = files, []

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.seen.append(self.path)
                ctype, data = outer.files.get(self.path, (None, None))
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                # CF_FILE_URL: {"file_url": url} -> that file, by its path
                n = int(self.headers.get("Content-Length") or 0)
                try:
                    url = json.loads(self.rfile.read(n)).get("file_url", "")
                except ValueError:
                    url = ""
                outer.seen.append("POST %s %s %s" % (self.path, url,
                                                     self.headers.get("Content-Type")))
                self.path = urllib.parse.urlsplit(url).path or "/none"
                self.do_GET()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def upload_by_url(r, binary):
    """UPLOAD_BY_URL (§11.1): "<url> <url> question" uploads both URLs,
    fetched through EXPORT_PROXY_URL; a non-image becomes a file."""
    img = png(2, 3)
    files = _Files({"/cat.png": ("image/png", img),
                    "/notes.txt": ("text/plain; charset=utf-8", b"some notes\n")})
    proxy = http_proxy.HttpProxy().start()

    def run(fe, mock):
        prompt = "%s/cat.png %s/notes.txt what are these?" % (files.url, files.url)
        resp = chat(fe.port, prompt, token=AT)
        st = mock.snapshot()
        conv = (st.get("last_conversation") or {}).get("body") or {}
        msg = (conv.get("messages") or [{}])[-1]
        parts = (msg.get("content") or {}).get("parts") or []
        atts = (msg.get("metadata") or {}).get("attachments") or []
        text = [p for p in parts if isinstance(p, str)]
        ptr = [p for p in parts if isinstance(p, dict)]
        r.check("UPLOAD_BY_URL: both URLs are uploaded and the question is what is left",
                resp.status == 200 and st.get("uploads") == 2 and text == ["what are these?"],
                "%s uploads=%s text=%s" % (resp.describe(), st.get("uploads"), text))
        r.check("UPLOAD_BY_URL: the PNG is an image pointer, the text file an attachment",
                len(ptr) == 1 and ptr[0].get("width") == 2 and ptr[0].get("height") == 3 and
                sorted(a.get("mime_type") for a in atts) == ["image/png", "text/plain"],
                "%s %s" % (str(ptr)[:200], str(atts)[:300]))
        via = sorted(h["url"] for h in proxy.hits())
        r.check("UPLOAD_BY_URL: both fetched through EXPORT_PROXY_URL",
                via == sorted([files.url + "/cat.png", files.url + "/notes.txt"]) and
                sorted(files.seen) == ["/cat.png", "/notes.txt"], "proxy=%s server=%s" % (
                    via, files.seen))
        resp = chat(fe.port, "%s/missing.png and this?" % files.url, token=AT)
        check_error_shape(r, "UPLOAD_BY_URL: a URL that cannot be fetched -> 400", resp, 400,
                          "invalid_image_url")
        resp = chat(fe.port, "plain question, no link", token=AT)
        r.check("UPLOAD_BY_URL: a message without a leading URL is plain text",
                resp.status == 200 and "You said: plain question, no link" in
                resp.json()["choices"][0]["message"]["content"], resp.describe())

    def via_fetcher(fe, mock):
        files.seen.clear()
        resp = chat(fe.port, "http://files.example.invalid/cat.png and this one?", token=AT)
        st = mock.snapshot()
        msg = (((st.get("last_conversation") or {}).get("body") or {}).get("messages") or [{}])[-1]
        ptr = [p for p in (msg.get("content") or {}).get("parts") or [] if isinstance(p, dict)]
        r.check("CF_FILE_URL: the URL is fetched by POST {file_url} to the fetcher",
                resp.status == 200 and len(ptr) == 1 and ptr[0].get("width") == 2 and
                files.seen == ["POST /fetch http://files.example.invalid/cat.png "
                               "application/json", "/cat.png"],  # (the fetcher's own lookup)
                "%s seen=%s ptr=%s" % (resp.describe(), files.seen, str(ptr)[:200]))

    try:
        proxy_setup(r, binary, "upload-by-url", "", run,
                    extra={"UPLOAD_BY_URL": "true", "EXPORT_PROXY_URL": proxy.url})
        proxy_setup(r, binary, "cf-file-url", "", via_fetcher,
                    extra={"UPLOAD_BY_URL": "true", "CF_FILE_URL": files.url + "/fetch"})
    finally:
        files.stop()
        proxy.stop()


def base_urls(r, binary):
    """CHATGPT_BASE_URL list (§11.4): a random base per request, and each
    answer's sentinel and conversation stay on the base it picked (the
    mocks verify their own proof-of-work seeds)."""
    ws = harness.Workspace("chat-bases")
    m1, m2 = chatgpt_mock.ChatGPTMock().start(), chatgpt_mock.ChatGPTMock().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        fe.app_extra = dict(CHATGPT_BASE_URL="%s,%s" % (m1.url, m2.url), RETRY_TIMES="0")
        fe.start()
        ok = 0
        for i in range(40):
            resp = chat(fe.port, "base %d" % i)
            ok += resp.status == 200
            c1 = m1.snapshot().get("requests", {}).get("conversation", 0)
            c2 = m2.snapshot().get("requests", {}).get("conversation", 0)
            if i >= 7 and c1 and c2:
                break
        s1, s2 = m1.snapshot(), m2.snapshot()
        c1 = s1.get("requests", {}).get("conversation", 0)
        c2 = s2.get("requests", {}).get("conversation", 0)
        r.check("CHATGPT_BASE_URL list: every answer succeeds and both bases serve some",
                ok == i + 1 and c1 + c2 == ok and c1 > 0 and c2 > 0 and
                s1.get("proofs_failed", 0) == 0 and s2.get("proofs_failed", 0) == 0,
                "ok=%d/%d m1=%d m2=%d" % (ok, i + 1, c1, c2))
    except HarnessError as e:
        harness.report_setup(r, "bases", e)
    finally:
        m1.stop()
        m2.stop()
        harness.finish_workspace(r, ws, "chat-bases")


def main():
    r = Results("test_chat")
    harness.install_signal_handlers(600)
    binary = harness.find_binary()
    setups = [("v1", {"CHATGPT_DELTA_ENCODING": "true"}, {}),
              ("old", {"CHATGPT_DELTA_ENCODING": "false"}, {}),
              ("v1+bytes", {"CHATGPT_DELTA_ENCODING": "true"}, {"split": "bytes"}),
              ("old+bytes", {"CHATGPT_DELTA_ENCODING": "false"}, {"split": "bytes"})]
    setups += [("conversation-only", {"CONVERSATION_ONLY": "true"},
                {"require_sentinel": False}),
               ("history", {"HISTORY_DISABLED": "false",
                            "ARKOSE_TOKEN_URL": "{mock}/arkose",
                            "TURNSTILE_SOLVER_URL": "{mock}/turnstile"}, {})]
    for i, (label, env, mconf) in enumerate(setups):
        ws = harness.Workspace("chat-" + label.replace("+", "-"))
        mock = chatgpt_mock.ChatGPTMock().start()
        try:
            mock.configure(mconf or None)
            fe = harness.Nginx(ws, binary, pfx=False)
            fe.check_installed()
            env = {k: v.replace("{mock}", mock.url) for k, v in env.items()}
            fe.app_extra = dict(env, CHATGPT_BASE_URL=mock.url, RETRY_TIMES="2")
            fe.start()
            if label in ("conversation-only", "history"):
                modes(r, fe, mock, label)
                continue
            suite(r, label, fe, mock)
            if i < 2:
                openai_client(r, fe, mock, label)
            if i in (0, 1, 3):
                completions(r, fe, mock, label)
            if i == 0:
                sentinel_cases(r, fe, mock)
                uploads(r, fe, mock)
                disconnect(r, fe, mock)
                drip_timing(r, fe, mock)
        except HarnessError as e:
            harness.report_setup(r, label, e)
        finally:
            mock.stop()
            harness.finish_workspace(r, ws, "chat-" + label)
    proxies(r, binary)
    base_urls(r, binary)
    upload_by_url(r, binary)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
