#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Self-test of tests/mock/glm_mock.py.

Talks to the mock over HTTP only.  The client side (the X-Sign rule, the browser headers, the
refresh exchange, multipart uploads, the SSE parser and a snapshot renderer) is written here
from shared/protocols/providers.md section 3, independently of the mock's own helpers, so the
mock's checks are tested against a second reading of the document: both of its X-Sign vectors
first, then every check must refuse what breaks it and take what does not.

    python3 tests/mock/test_glm_mock.py [test_name ...]

Prints one line per test and, last, `# counts: N passed, M failed`.
"""

import gzip
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import glm_mock as gm  # noqa: E402  (started in-process; constants)

RT = gm.DEFAULT_REFRESH_TOKEN
RT2 = gm.OTHER_REFRESH_TOKEN
SECRET = "8a1317a7468aa3ad86e997d08f3f31cb"
UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0")
MOCK = None
PORT = None
P = "/chatglm"


# =========================================================================== HTTP helpers

def http_req(method, path, body=None, headers=None, port=None, timeout=20):
    """(status, response, body bytes, gunzipped) of one request to the mock."""
    c = http.client.HTTPConnection("127.0.0.1", port or PORT, timeout=timeout)
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    c.request(method, path, body=data, headers=headers or {})
    r = c.getresponse()
    raw = r.read()
    if r.getheader("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    c.close()
    return r.status, r, raw


def jreq(method, path, body=None, headers=None, port=None):
    """As http_req, the body decoded as JSON when it is (else the bytes)."""
    st, r, raw = http_req(method, path, body, headers, port)
    try:
        return st, r, json.loads(raw) if raw else None
    except ValueError:
        return st, r, raw


def state():
    return jreq("GET", "/_mock/state")[2]


def mock_config(**kw):
    st, r, obj = jreq("POST", "/_mock/config", kw, {"Content-Type": "application/json"})
    check(st == 200, "POST /_mock/config: %d %r" % (st, obj))
    return obj


def parse_sse(raw):
    """[(event name or None, data string)] from an SSE byte stream (LF or CRLF)."""
    text = raw.decode("utf-8").replace("\r\n", "\n")
    out = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        out.append((name, "\n".join(data)))
    return out


def dechunk(raw):
    """(body, chunk count, complete) from a chunked HTTP body."""
    body, n, i = b"", 0, 0
    while True:
        j = raw.find(b"\r\n", i)
        if j < 0:
            return body, n, False
        size = int(raw[i:j], 16)
        if size == 0:
            return body, n, True
        if j + 2 + size > len(raw):
            return body + raw[j + 2:], n, False
        body += raw[j + 2:j + 2 + size]
        n += 1
        i = j + 2 + size + 2


# =========================================================================== the client side

def x_timestamp(now_ms):
    a = [int(c) for c in str(now_ms)]
    t = len(a)
    a[t - 2] = (sum(a) - a[t - 2]) % 10
    return "".join(map(str, a))


def x_sign(ts, nonce, secret=SECRET):
    return hashlib.md5(("%s-%s-%s" % (ts, nonce, secret)).encode()).hexdigest()


def headers(token, ctype="application/json", secret=SECRET, ts=None, nonce=None, drop=(),
            **over):
    ts = ts or x_timestamp(int(time.time() * 1000))
    nonce = nonce or str(uuid.uuid4())
    h = {"Accept": "text/event-stream", "Accept-Encoding": "gzip", "App-Name": "chatglm",
         "Authorization": "Bearer " + token, "Content-Type": ctype, "Origin": "https://chatglm.cn",
         "Referer": "https://chatglm.cn/main/alltoolsdetail", "User-Agent": UA,
         "X-App-Platform": "pc", "X-App-Version": "0.0.1", "X-Device-Id": str(uuid.uuid4()),
         "X-Request-Id": str(uuid.uuid4()), "X-Lang": "zh", "X-Timestamp": ts, "X-Nonce": nonce,
         "X-Sign": x_sign(ts, nonce, secret)}
    for k in drop:
        h.pop(k, None)
    h.update(over)
    return h


def refresh(token=RT, **kw):
    return jreq("POST", P + "/user-api/user/refresh", {}, headers(token, **kw))


def access(token=RT):
    st, r, obj = refresh(token)
    check(st == 200 and obj["status"] == 0, "refresh: %d %r" % (st, obj))
    return obj["result"]["access_token"], obj["result"]["refresh_token"]


def body_of(text, mode=None, net=False, images=(), files=(), assistant="65940acff94777010aa6b796"):
    content = []
    if files:
        content.append({"type": "file", "file": [{"source_id": s, "file_url": u} for s, u in files]})
    content += [{"type": "image_url", "image_url": {"url": u}} for u in images]
    content.append({"type": "text", "text": text})
    meta = {"channel": ""}
    if mode:
        meta["chat_mode"] = mode
    meta.update({"draft_id": "", "if_plus_model": True, "input_question_type": "xxxx",
                 "is_networking": net, "is_test": False, "platform": "pc", "quote_log_id": "",
                 "cogview": {"rm_label_watermark": False}})
    return {"assistant_id": assistant, "conversation_id": "", "project_id": "",
            "chat_type": "user_chat", "messages": [{"role": "user", "content": content}],
            "meta_data": meta}


def stream(at, body, **kw):
    st, r, raw = http_req("POST", P + "/backend-api/assistant/stream", body, headers(at, **kw))
    return st, r, raw


def cite(text, urls, numbers):
    """Markers (【】 optional around turnDLD) of known keys -> " [N](url)", by scanning."""
    out, i = "", 0
    while i < len(text):
        j = i + (1 if text[i] == "\u3010" else 0)
        k = j
        if text.startswith("turn", j):
            k = j + 4
            for cls in (str.isdigit, str.isalpha, str.isdigit):
                s = k
                while k < len(text) and text[k].isascii() and cls(text[k]):
                    k += 1
                if k == s:
                    k = -1
                    break
        else:
            k = -1
        if k > 0 and text[j:k] in urls:
            key = text[j:k]
            numbers.setdefault(key, len(numbers) + 1)
            esc = "".join("%%%02X" % ord(c) if c in "()" else c for c in urls[key])
            out += " [%d](%s)" % (numbers[key], esc)
            i = k + (1 if k < len(text) and text[k] == "\u3011" else 0)
        else:
            out += text[i]
            i += 1
    return out


def snapshots(events):
    """Render the snapshot stream like a client: (content, reasoning, final status, error,
    conversation id)."""
    parts, order, status, err, cid = {}, [], None, None, None
    for name, data in events:
        o = json.loads(data)
        if name == "error" or o.get("status") in ("error",) or (
                "parts" not in o and isinstance(o.get("status"), int) and o["status"]):
            err = o
            break
        cid = cid or o.get("conversation_id")
        for p in o.get("parts", []):
            if p["logic_id"] not in parts:
                order.append(p["logic_id"])
            parts[p["logic_id"]] = p
        status = o.get("status")
        if status in ("finish", "intervene"):
            break
    urls, texts, thinks, numbers = {}, [], [], {}
    for lid in order:
        for r in parts[lid].get("meta_data", {}).get("tool_result_extra", {}).get("search_results", []):
            urls.setdefault(r["match_key"], r["url"])
    for lid in order:
        p, t, k = parts[lid], "", ""
        for it in p["content"]:
            if it["type"] == "text":
                t += it["text"]
            elif it["type"] == "think":
                k += it["think"]
            elif it["type"] == "image" and p["status"] == "finish" and it["image"]:
                t += "".join("![image](%s)" % i["image_url"] for i in it["image"]) + "\n"
            elif it["type"] == "code":
                t += "```python\n" + it["code"] + ("\n```\n" if p["status"] == "finish" else "")
            elif it["type"] == "execution_output" and p["status"] == "finish":
                t += it["content"] + "\n"
        if t:
            texts.append(t)
        if k:
            thinks.append(k)
    return cite("\n".join(texts), urls, numbers), "\n".join(thinks), status, err, cid


def upload(at, data, name="a.png", ctype="image/png", raw=None):
    b = "----t" + uuid.uuid4().hex
    body = raw if raw is not None else (
        ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
         "Content-Type: %s\r\n\r\n" % (b, name, ctype)).encode() + data + ("\r\n--%s--\r\n" % b).encode())
    return jreq("POST", P + "/backend-api/assistant/file_upload", body,
                headers(at, "multipart/form-data; boundary=" + b))


def raw_stream(at, body, timeout=10):
    """The stream over a raw socket: (status line, body bytes, how it ended, chunks)."""
    data = json.dumps(body).encode()
    h = headers(at)
    h.update({"Content-Length": str(len(data)), "Host": "127.0.0.1:%d" % PORT})
    req = "POST %s/backend-api/assistant/stream HTTP/1.1\r\n" % P + \
        "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    s.sendall(req.encode() + data)
    buf, how, reads = b"", "eof", 0
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            reads += 1
            buf += d
            if buf.endswith(b"\r\n0\r\n\r\n"):
                how = "complete"
                break
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        how = "timeout"
    s.close()
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], rest, how


# =========================================================================== framework

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def refused(res, reason_part, status=400, code=None):
    st, r, obj = res
    check(st == status, "status %d, want %d: %r" % (st, status, obj))
    if code is not None:
        check(isinstance(obj, dict) and obj.get("status") == code, "code %r, want %r" % (obj, code))
    reason = r.getheader("x-mock-reason") or ""
    check(reason_part.lower() in reason.lower(), "x-mock-reason %r lacks %r" % (reason, reason_part))
    last = state()["last_rejection"]
    check(last and reason_part.lower() in last["reason"].lower(), "not recorded: %r" % last)


def reset():
    jreq("POST", "/_mock/reset", {"all": True}, {"Content-Type": "application/json"})


# =========================================================================== tests

@test
def sign_vectors_of_the_document():
    check(x_timestamp(1735689600987) == "1735689600917")
    check(x_timestamp(1700000000123) == "1700000000123")
    n = "3f2b8c1e9a7d4e5f8b6c0d1a2e3f4a5b"
    check(x_sign("1735689600917", n) == "419a89b24ab424367e66ebd667e7feee")
    check(x_sign("1700000000123", n) == "911255f6d70a95b83f6969697e554d4c")
    check(gm.sign_of("1735689600917", n) == "419a89b24ab424367e66ebd667e7feee")
    check(gm.digit_rule_ok("1735689600917") and not gm.digit_rule_ok("1735689600987"))


@test
def valid_flow_and_expected_rendering():
    at, rt = access()
    check(rt == RT, "no rotation by default")
    st, r, raw = stream(at, body_of("hello [[unicode]]"))
    check(st == 200 and r.getheader("Content-Type").startswith("text/event-stream"), (st, raw[:200]))
    content, reasoning, status, err, cid = snapshots(parse_sse(raw))
    s = state()
    lc = s["last_completion"]
    check(status == "finish" and err is None)
    check(content == "You said: hello" + gm.UNICODE_TAIL == lc["expected"]["content"], content)
    check(reasoning == "" and lc["chat_mode"] is None and lc["completed"])
    check(lc["prompt"] == "hello [[unicode]]" and lc["user_text"] == "hello")
    check(s["conversations_live"] == {RT: 1} and cid == lc["conversation_id"])
    st, r, obj = jreq("POST", P + "/backend-api/assistant/conversation/delete",
                      {"assistant_id": "65940acff94777010aa6b796", "conversation_id": cid}, headers(at))
    check(st == 200 and obj["status"] == 0, obj)
    s = state()
    check(s["conversations_live"] == {} and s["conversations_deleted"] == {RT: 1})
    check(s["sign_ok"] == 3 and s["sign_failed"] == 0 and s["refreshes"] == {RT: 1})


@test
def signature_is_checked():
    at, _ = access()
    b = body_of("x")
    refused(stream(at, b, secret="0" * 32), "X-Sign does not match")
    refused(stream(at, b, ts="1735689600987"), "digit rule")
    refused(stream(at, b, ts=x_timestamp(int(time.time() * 1000) - 3600 * 1000)), "outside the window")
    refused(stream(at, b, nonce="not-a-uuid"), "not a UUID")
    n = uuid.uuid4().hex        # 32 hex: taken once, not twice
    check(stream(at, b, nonce=n)[0] == 200)
    refused(stream(at, b, nonce=n), "used before")
    refused(stream(at, b, drop=("X-Sign",)), "are all required")
    check(state()["sign_failed"] == 6)
    # the secret is a knob: a correct client is now refused everywhere
    mock_config(sign_secret="1" * 32)
    refused(refresh(), "X-Sign does not match")
    check(refresh(secret="1" * 32)[0] == 200)
    mock_config(sign_secret=SECRET, sign_reject_status=403)
    refused(refresh(secret="2" * 32), "X-Sign", 403)
    mock_config(check_sign=False)
    check(refresh(secret="2" * 32)[0] == 200)


@test
def browser_headers_are_checked():
    at, _ = access()
    b = body_of("x")
    for drop, over, reason in ((("App-Name",), {}, "App-Name"), ((), {"Origin": "https://x.cn"}, "Origin"),
                               ((), {"Referer": "https://evil/"}, "Referer"),
                               ((), {"X-App-Platform": "web"}, "X-App-Platform"),
                               ((), {"User-Agent": "curl/8"}, "User-Agent"),
                               (("X-Lang",), {}, "X-Lang"),
                               ((), {"X-Device-Id": "dev1"}, "X-Device-Id"),
                               (("X-Request-Id",), {}, "X-Request-Id"),
                               ((), {"Content-Type": "text/plain"}, "Content-Type")):
        refused(stream(at, b, drop=drop, **over), reason)
    mock_config(check_headers=False)
    check(stream(at, b, drop=("App-Name",))[0] == 200)


@test
def credentials_and_refusals():
    refused(refresh("glmUnknownRefreshToken0123456789"), "unknown refresh token", 200, 40001)
    mock_config(invalid_status=401)
    refused(refresh("glmUnknownRefreshToken0123456789"), "unknown refresh token", 401)
    mock_config(expired_refresh_tokens=[RT2])
    refused(refresh(RT2), "expired", 200, 40102)
    at, _ = access()
    refused(stream("glmat.bogus", body_of("x")), "unknown access token", 401)
    refused(stream(RT, body_of("x")), "refresh token was sent as the access token", 401)
    mock_config(revoke_access=True)
    refused(stream(at, body_of("x")), "revoked", 401)
    at, _ = access()
    mock_config(access_ttl_s=0.2)
    time.sleep(0.3)
    refused(stream(at, body_of("x")), "older than access_ttl_s", 401)
    s = state()
    check(s["refresh_tokens_sent"].get("glmUnknownRefreshToken0123456789") == 2, s["refresh_tokens_sent"])


@test
def refresh_tokens_rotate():
    mock_config(rotate_every=2)
    at1, rt1 = access()
    check(rt1 == RT)
    at2, rt2 = access()
    check(rt2 != RT and rt2.startswith("glmrt."), rt2)
    # the old one is refused now, and counted
    refused(refresh(RT), "rotated away", 200, 40001)
    at3, rt3 = access(rt2)
    check(rt3 == rt2)
    s = state()
    check(s["old_token_uses"] == 1 and s["rotations"][0]["old"] == RT and s["rotations"][0]["new"] == rt2)
    check(s["users"][RT]["token"] == rt2 and MOCK.current_token() == rt2)
    check(s["refreshes"] == {RT: 3}, s["refreshes"])
    mock_config(old_token="keep")
    check(refresh(RT)[0] == 200)
    # every access token of the user still works
    for at in (at1, at2, at3):
        check(stream(at, body_of("x"))[0] == 200)


@test
def chat_body_is_validated():
    at, _ = access()
    bad = []
    b = body_of("x")
    b["assistant_id"] = "GLM-5"
    bad.append((b, "assistant_id"))
    b = body_of("x")
    b["conversation_id"] = "abc"
    bad.append((b, "conversation_id"))
    b = body_of("x")
    b = {k: b[k] for k in reversed(list(b))}
    bad.append((b, "body keys"))
    b = body_of("x", mode="fast")
    bad.append((b, "chat_mode"))
    b = body_of("x")
    b["meta_data"]["is_networking"] = "yes"
    bad.append((b, "is_networking"))
    b = body_of("x")
    b["meta_data"]["platform"] = "web"
    bad.append((b, "platform"))
    b = body_of("x")
    b["messages"][0]["content"].append({"type": "image_url", "image_url": {"url": "https://x/y.png"}})
    bad.append((b, "end with one text"))
    b = body_of("x", images=["https://sfile.chatglm.cn/chatglm-mock/nothing.png"])
    bad.append((b, "was not uploaded"))
    b = body_of("x")
    b["messages"].append(b["messages"][0])
    bad.append((b, "one {role:user"))
    for body, reason in bad:
        refused(stream(at, body), reason)
    refused(jreq("POST", P + "/backend-api/assistant/stream", b"{no", headers(at)), "not JSON")


@test
def modes_search_and_prompts():
    at, _ = access()
    prompt = "System: Be brief.\n\nUser: first\n\nAssistant: answer\n\nUser: second q\n\nAssistant: "
    st, r, raw = stream(at, body_of(prompt, mode="zero"))
    content, reasoning, status, err, cid = snapshots(parse_sse(raw))
    lc = state()["last_completion"]
    check([t["role"] for t in lc["turns"]] == ["system", "user", "assistant", "user"], lc["turns"])
    check(lc["user_text"] == "second q" and content == "You said: second q", content)
    check(reasoning.startswith("Thinking about: second q") and reasoning == lc["expected"]["reasoning"])
    st, r, raw = stream(at, body_of("deep\n", mode="deep_research", net=True))
    content, reasoning, status, err, cid = snapshots(parse_sse(raw))
    lc = state()["last_completion"]
    check(reasoning.startswith("Researching: deep") and lc["is_networking"] is True)
    want = ("You said: deep Found it [1](https://example.com/one) and here  [2](https://example.org/"
            "two?a=%28b%29), again [1](https://example.com/one).")
    check(content == want == lc["expected"]["content"], content)
    check("turn0search1" in lc["reply_text"])


@test
def uploads_are_parsed_and_referenced():
    at, _ = access()
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 20
    st, r, obj = upload(at, png)
    check(st == 200 and obj["status"] == 0 and obj["result"]["file_url"].endswith(".png"), obj)
    img = obj["result"]
    st, r, obj = upload(at, b"%PDF-1.4 text", "doc.pdf", "application/pdf")
    doc = obj["result"]
    check(state()["last_upload"]["sha256"] == hashlib.sha256(b"%PDF-1.4 text").hexdigest())
    st, r, raw = stream(at, body_of("look", images=[img["file_url"]],
                                    files=[(doc["source_id"], doc["file_url"])]))
    content = snapshots(parse_sse(raw))[0]
    check(st == 200 and content == "You said: look (I see 1 image) (and 1 file)", content)
    lc = state()["last_completion"]
    check(lc["images"] == [img["source_id"]] and lc["files"] == [doc["source_id"]])
    # another user's upload is not this user's to reference
    at2, _ = access(RT2)
    refused(stream(at2, body_of("x", images=[img["file_url"]])), "not uploaded by this user")
    # malformed multipart bodies
    refused(upload(at, b"x", raw=b"garbage"), "does not start and end")
    b = "----tb"
    two = ("--{0}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\nContent-Type: a/b"
           "\r\n\r\nx\r\n--{0}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b\"\r\n"
           "Content-Type: a/b\r\n\r\ny\r\n--{0}--\r\n").format(b).encode()
    refused(jreq("POST", P + "/backend-api/assistant/file_upload", two,
                 headers(at, "multipart/form-data; boundary=" + b)), "exactly one part")
    refused(upload(at, b"x", name="a.png", ctype="image/png",
                   raw=("--{0}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\"\r\n"
                        "Content-Type: a/b\r\n\r\nx\r\n--{0}--\r\n").format("zz").encode()),
            "boundary")
    refused(jreq("POST", P + "/backend-api/assistant/file_upload", b"x", headers(at)), "Content-Type")


@test
def split_at_every_byte_gives_the_same_bytes():
    at, _ = access()
    line, whole, how = raw_stream(at, body_of("same [[unicode]] [[long:5]]"))
    whole_body, n, done = dechunk(whole)
    check(b"200" in line and how == "complete" and done)
    for mk in ("[[split:bytes]]", "[[split:random]]", "[[split:7]]"):
        line, raw, how = raw_stream(at, body_of("same [[unicode]] [[long:5]] " + mk))
        body, n, done = dechunk(raw)
        check(done and how == "complete")
        c1 = snapshots(parse_sse(body))[0]
        c2 = snapshots(parse_sse(whole_body))[0]
        check(c1 == c2, (c1, c2))
        if mk == "[[split:bytes]]":
            check(n == len(body), "not one byte per chunk")


@test
def stream_shapes_give_the_same_answer():
    at, _ = access()
    base = snapshots(parse_sse(stream(at, body_of("shape [[long:12]]", mode="zero", net=True))[2]))
    for mk, extra in (("[[repeat]]", {}), ("[[shrink]]", {}), ("[[parts:changed]]", {}),
                      ("[[ascii]] [[crlf]]", {})):
        raw = stream(at, body_of("shape [[long:12]] " + mk, mode="zero", net=True))[2]
        got = snapshots(parse_sse(raw))
        check(got[:3] == base[:3], (mk, got[:3], base[:3]))
        lc = state()["last_completion"]
        check(lc["expected"]["content"] == got[0] and lc["expected"]["reasoning"] == got[1])
    evs = state()["last_completion"]["events"]
    check(all("\r\n" in e for e in evs) and "\\u" in "".join(evs))
    raw = stream(at, body_of("shape [[shrink]]"))[2]
    texts = [json.loads(d)["parts"][-1]["content"][0]["text"] for n, d in parse_sse(raw)
             if json.loads(d).get("parts")]
    check(any(len(b) < len(a) for a, b in zip(texts, texts[1:])), "no snapshot shrank")
    raw = stream(at, body_of("shape [[image]] [[code]]"))[2]
    content = snapshots(parse_sse(raw))[0]
    check(content == "You said: shape\n![image](%s)\n\n```python\nprint(6 * 7)\n```\n42\n" % gm.IMAGE_OUT
          == state()["last_completion"]["expected"]["content"], repr(content))


@test
def in_stream_errors_and_intervene():
    at, _ = access()
    for kind in ("event", "status", "inline"):
        raw = stream(at, body_of("err [[long:10]] [[error:%s]]" % kind))[2]
        content, reasoning, status, err, cid = snapshots(parse_sse(raw))
        check(err is not None and content.startswith("You said") and status != "finish", (kind, err))
        check(content == state()["last_completion"]["expected"]["content"])
    evs = parse_sse(stream(at, body_of("x [[error:expired]]"))[2])
    check(len(evs) == 1 and json.loads(evs[0][1])["status"] == 40102, evs)
    raw = stream(at, body_of("stop [[intervene]]"))[2]
    evs = parse_sse(raw)
    last = json.loads(evs[-1][1])
    check(last["status"] == "intervene" and last["last_error"]["intervene_text"] == gm.INTERVENE_TEXT)
    check(state()["last_completion"]["expected"]["content"] == "You said: stop\n\n" + gm.INTERVENE_TEXT)


@test
def fail_markers_and_fault_knobs():
    at, _ = access()
    for code, status, want in ((401, 401, 401), (403, 403, 403), (429, 429, 429), (500, 500, 500),
                               (502, 502, 502), (503, 503, 503), (40001, 200, 40001), (40102, 200, 40102),
                               (200, 200, 10002)):
        st, r, obj = jreq("POST", P + "/backend-api/assistant/stream", body_of("f [[fail:%d]]" % code),
                          headers(at))
        check(st == status and obj["status"] == want, (code, st, obj))
        check(r.getheader("Content-Type").startswith("application/json"))
        if code == 429:
            check(r.getheader("Retry-After") == "30")
    st, r, raw = http_req("POST", P + "/backend-api/assistant/stream", body_of("f [[cf:503]]"), headers(at))
    check(st == 503 and b"cf-error-details" in raw)
    mock_config(refresh_status=503, refresh_status_times=2)
    check(refresh()[0] == 503 and refresh()[0] == 503 and refresh()[0] == 200)
    mock_config(stream_status=429, stream_status_times=1, retry_after=7)
    st, r, obj = stream(at, body_of("x"))
    check(st == 429 and r.getheader("Retry-After") == "7")
    check(stream(at, body_of("x"))[0] == 200)
    mock_config(upload_status=500, delete_status=40001, envelope="code")
    check(upload(at, b"x", "a.txt", "text/plain")[0] == 500)
    st, r, obj = jreq("POST", P + "/backend-api/assistant/conversation/delete",
                      {"assistant_id": "a", "conversation_id": "b"}, headers(at))
    check(st == 200 and obj == {"code": 40001, "message": "token invalid (40001)"}, obj)
    # by_token: one user only
    mock_config(reset=True)
    mock_config(by_token={RT2: {"stream_status": 502}})
    at2, _ = access(RT2)
    check(stream(at2, body_of("x"))[0] == 502 and stream(at, body_of("x"))[0] == 200)
    mock_config(by_token={RT2: None})
    check(stream(at2, body_of("x"))[0] == 200)


@test
def close_reset_stall_and_drip():
    at, _ = access()
    line, raw, how = raw_stream(at, body_of("c [[long:30]] [[close:4]]"))
    check(how == "eof" and not dechunk(raw)[2])
    line, raw, how = raw_stream(at, body_of("c [[long:30]] [[reset:4]]"))
    check(how in ("reset", "eof") and not dechunk(raw)[2], how)
    mock_config(stall_max_s=1)
    t0 = time.monotonic()
    line, raw, how = raw_stream(at, body_of("c [[stall:3]]"), timeout=5)
    check(time.monotonic() - t0 >= 0.9 and not dechunk(raw)[2] and state()["stalls"] == 1)
    t0 = time.monotonic()
    line, raw, how = raw_stream(at, body_of("c [[drip:40]]"))
    n = len(parse_sse(dechunk(raw)[0]))
    check(how == "complete" and time.monotonic() - t0 >= 0.04 * (n - 1) * 0.9, n)
    s = state()
    check(s["server_aborts"] == 3 and s["completions_completed"] == 1, s["server_aborts"])


@test
def conversations_belong_to_their_user():
    at, _ = access()
    at2, _ = access(RT2)
    cids = []
    for i in range(3):
        cids.append(snapshots(parse_sse(stream(at, body_of("c%d" % i))[2]))[4])
    st, r, obj = jreq("POST", P + "/backend-api/assistant/conversation/delete",
                      {"assistant_id": "65940acff94777010aa6b796", "conversation_id": cids[0]},
                      headers(at2))
    check(st == 200 and obj["status"] == 10004, obj)
    st, r, obj = jreq("POST", P + "/backend-api/assistant/conversation/delete",
                      {"assistant_id": "65a232c082ff90a2ad2f15e2", "conversation_id": cids[0]}, headers(at))
    check(obj["status"] == 10004)
    st, r, obj = jreq("POST", P + "/mainchat-api/conversation/recent_list", {"page": 1, "page_size": 2},
                      headers(at))
    check(len(obj["result"]["conversation_list"]) == 2 and obj["result"]["has_more"], obj)
    page1 = [c["conversation_id"] for c in obj["result"]["conversation_list"]]
    st, r, obj = jreq("POST", P + "/mainchat-api/conversation/recent_list", {"page": 2, "page_size": 2},
                      headers(at))
    page2 = [c["conversation_id"] for c in obj["result"]["conversation_list"]]
    check(len(page2) == 1 and not obj["result"]["has_more"] and sorted(page1 + page2) ==
          sorted(cids), obj)
    st, r, obj = jreq("POST", P + "/mainchat-api/conversation/recent_list", {"page": 0, "page_size": 2},
                      headers(at))
    check(obj["status"] == 10001, obj)
    st, r, obj = jreq("POST", P + "/mainchat-api/conversation/bulk_delete", {"conversation_ids": []},
                      headers(at))
    check(obj["status"] == 10001 and len(state()["conversations_live"]) == 1, obj)
    jreq("POST", P + "/mainchat-api/conversation/bulk_delete", {"conversation_ids": cids}, headers(at))
    check(state()["conversations_live"] == {})


@test
def control_api():
    st, r, obj = jreq("POST", "/_mock/config", {"nope": 1}, {"Content-Type": "application/json"})
    check(st == 400 and "unknown config key" in obj["error"])
    st, r, obj = jreq("POST", "/_mock/config", {"by_token": {RT: {"nope": 1}}})
    check(st == 400)
    cfg = mock_config(rotate_every=3)
    check(cfg["rotate_every"] == 3 and RT in cfg["users"])
    check(jreq("GET", "/_mock/config")[2]["rotate_every"] == 3)
    jreq("POST", "/_mock/reset", {"config": True})
    check(jreq("GET", "/_mock/config")[2]["rotate_every"] == 0)
    check(jreq("GET", "/nothing")[0] == 404 and jreq("GET", P + "/user-api/user/refresh")[0] == 405)
    mock_config(add_refresh_tokens=["glmThirdUserRefreshToken0123456789"])
    check(access("glmThirdUserRefreshToken0123456789")[0].startswith("glmat."))


@test
def cli_runs_and_writes_port_file():
    d = tempfile.mkdtemp()
    pf = os.path.join(d, "port")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "glm_mock.py"), "--port", "0",
                          "--port-file", pf, "--config", '{"rotate_every": 1}'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(pf):
                break
            time.sleep(0.05)
        port = int(open(pf).read())
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/_mock/config")
        check(json.loads(c.getresponse().read())["rotate_every"] == 1)
    finally:
        p.terminate()
        rc = p.wait(10)
    check(rc == 0, "exit code %s" % rc)


@test
def a_conversation_continues():
    at, _ = access()
    st, r, raw = stream(at, body_of("first question"))
    cid = snapshots(parse_sse(raw))[4]
    check(st == 200 and cid, (st, raw[:200]))
    b = body_of("second question")
    b["conversation_id"] = cid
    st, r, raw = stream(at, b)
    content, _, status, err, cid2 = snapshots(parse_sse(raw))
    lc = state()["last_completion"]
    check(st == 200 and status == "finish" and cid2 == cid and lc["continued"] and
          content == "You said: second question", (st, content, cid2))
    check(state()["conversations_live"] == {RT: 1} and state()["continued_completions"] == {RT: 1})
    b = body_of("second question again")
    b["conversation_id"] = cid
    refused(stream(at, b), "resent an earlier turn")
    at2, _ = access(RT2)
    b = body_of("third question")
    b["conversation_id"] = cid
    refused(stream(at2, b), "not a live one")


# =========================================================================== main

def main():
    global MOCK, PORT
    MOCK = gm.GLMMock().start()
    PORT = MOCK.port
    passed = failed = 0
    only = sys.argv[1:]
    try:
        for fn in TESTS:
            if only and fn.__name__ not in only:
                continue
            reset()
            t0 = time.time()
            try:
                fn()
                passed += 1
                print("ok - %s (%.2fs)" % (fn.__name__, time.time() - t0))
            except Exception:
                failed += 1
                print("not ok - %s" % fn.__name__)
                for line in traceback.format_exc().rstrip().split("\n"):
                    print("#   " + line)
                try:
                    print("#   last_rejection: %s" % state().get("last_rejection"))
                except Exception:   # noqa: BLE001
                    pass
            sys.stdout.flush()
    finally:
        MOCK.stop()
    print("# counts: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
