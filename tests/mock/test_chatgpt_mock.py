#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Self-test of tests/mock/chatgpt_mock.py.

Talks to the mock only over HTTP (http.client / urllib / raw sockets); the client side of the
protocol (config array, PoW solver, requirements and proof tokens, SSE and v1 delta parsing) is
implemented here independently from the mock, from shared/protocols/chatgpt.md sections 3 and 5.
The mock runs in-process (ChatGPTMock().start()) except for one test that runs the CLI.

Prints one line per test and, last, exactly one line `# counts: N passed, M failed`.
Exit status is non-zero on any failure.
"""

import base64
import copy
import gzip
import hashlib
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import chatgpt_mock as cm  # noqa: E402  (only to start/stop it in-process and read constants)

UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Safari/537.36")
DOC_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
AT = cm.DEFAULT_ACCESS_TOKEN
MOCK = None
PORT = None


# =========================================================================== client-side PoW

def js_date_string(t):
    """new Date().toString() in a fixed UTC-5 zone (section 3.1, element 1)."""
    lt = time.gmtime(t - 5 * 3600)
    return time.strftime("%a %b %d %Y %H:%M:%S", lt) + " GMT-0500 (Eastern Standard Time)"


def make_config(ua, script="", dpl=None):
    perf = time.perf_counter() * 1000.0
    return [random.choice([3000, 4000, 3120, 4160]), js_date_string(time.time()), 4294705152, 0, ua,
            script, dpl, "en-US", "en-US,es-US,en,es", 0, "webdriver\u2212false",
            random.choice(["_reactListeningo743lnnpvdg", "location"]),
            random.choice(["window", "onload", "fetch", "__NEXT_DATA__"]), perf, str(uuid.uuid4()), "",
            random.choice([8, 16, 24, 32]), time.time() * 1000.0 - perf]


def solve(seed, difficulty, config, limit=500000):
    """Section 3.2 with the strict byte rule of [C]: first len/2 hash bytes < bytes.fromhex(diff)."""
    cfg = list(config)
    target = bytes.fromhex(difficulty)
    for i in range(limit):
        cfg[3] = i
        cfg[9] = i >> 1
        text = json.dumps(cfg, separators=(",", ":"), ensure_ascii=False)
        b64 = base64.b64encode(text.encode("utf-8")).decode("ascii")
        h = hashlib.sha3_512(seed.encode("utf-8") + b64.encode("ascii")).digest()
        if h[:len(target)] < target:
            return b64, i
    return "wQ8Lk5FbGpA2NcR9dShT6gYjU7VxZ4D" + base64.b64encode(('"%s"' % seed).encode()).decode(), None


def requirements_token(config):
    b64, _ = solve(str(random.random()), "0fffff", config)
    return "gAAAAAC" + b64


def proof_token(config, seed, difficulty):
    b64, i = solve(seed, difficulty, config)
    assert i is not None, "unsolved"
    return "gAAAAAB" + b64


# =========================================================================== HTTP helpers

def http_req(method, path, body=None, headers=None, conn=None, port=None):
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port or PORT, timeout=15)
    data = body
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
    elif isinstance(body, str):
        data = body.encode()
    c.request(method, path, body=data, headers=headers or {})
    r = c.getresponse()
    raw = r.read()
    if (r.getheader("Content-Encoding") or "") == "gzip":
        raw = gzip.decompress(raw)
    if own:
        c.close()
    return r.status, r, raw


def jget(path, headers=None):
    st, r, raw = http_req("GET", path, headers=headers)
    return st, json.loads(raw) if raw else None


def mock_config(**kw):
    st, r, raw = http_req("POST", "/_mock/config", kw, {"Content-Type": "application/json"})
    assert st == 200, raw
    return json.loads(raw)


def mock_state():
    return jget("/_mock/state")[1]


def wait_state(pred, timeout=5.0):
    end = time.time() + timeout
    s = mock_state()
    while time.time() < end:
        if pred(s):
            return s
        time.sleep(0.05)
        s = mock_state()
    return None


class Session:
    """One chat2api-like client identity: AT (or anonymous), UA, device id, cookies."""

    def __init__(self, at=AT, ua=UA, device=None):
        self.at, self.ua = at, ua
        self.device = device or str(uuid.uuid4())
        self.base = "/backend-api" if at else "/backend-anon"
        self.config = make_config(ua, "http://127.0.0.1/_next/static/c/TESTBUILD/_/x.js", "c/TESTBUILD/_")
        self.p = None
        self.cookies = {}

    def headers(self, **extra):
        h = {"accept": "*/*", "accept-language": "en-US,en;q=0.9", "content-type": "application/json",
             "oai-language": "en-US", "origin": "http://127.0.0.1", "referer": "http://127.0.0.1/",
             "sec-fetch-dest": "empty", "sec-fetch-mode": "cors", "sec-fetch-site": "same-origin",
             "user-agent": self.ua, "oai-device-id": self.device}
        if self.at:
            h["authorization"] = "Bearer " + self.at
        if self.cookies:
            h["cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        for k, v in extra.items():
            k = k.replace("_", "-")
            if v is None:
                h.pop(k, None)
            else:
                h[k] = v
        return h

    def sentinel(self, p=None, **hdr):
        self.p = p if p is not None else requirements_token(self.config)
        st, r, raw = http_req("POST", self.base + "/sentinel/chat-requirements", {"p": self.p},
                              self.headers(**hdr))
        for sc in r.msg.get_all("Set-Cookie") or []:
            k, v = sc.split(";")[0].split("=", 1)
            self.cookies[k] = v
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        return st, obj, raw

    def sentinel_headers(self, sent):
        h = {"openai-sentinel-chat-requirements-token": sent["token"]}
        pw = sent["proofofwork"]
        if pw.get("required"):
            h["openai-sentinel-proof-token"] = proof_token(self.config, pw["seed"], pw["difficulty"])
        return h

    def body(self, text, v1=False, model="gpt-4o", **over):
        b = {"action": "next",
             "client_contextual_info": {"is_dark_mode": False, "time_since_loaded": 120, "page_height": 800,
                                        "page_width": 1400, "pixel_ratio": 1.5, "screen_height": 1000,
                                        "screen_width": 1600},
             "conversation_mode": {"kind": "primary_assistant"}, "conversation_origin": None,
             "force_paragen": False, "force_paragen_model_slug": "", "force_rate_limit": False,
             "force_use_sse": True, "history_and_training_disabled": True,
             "messages": [{"id": str(uuid.uuid4()), "author": {"role": "user"},
                           "content": {"content_type": "text", "parts": [text]}, "metadata": {}}],
             "model": model, "paragen_cot_summary_display_override": "allow",
             "paragen_stream_type_override": None, "parent_message_id": str(uuid.uuid4()),
             "reset_rate_limits": False, "suggestions": [], "supported_encodings": ["v1"] if v1 else [],
             "system_hints": [], "timezone": "America/Los_Angeles", "timezone_offset_min": -480,
             "variant_purpose": "comparison_implicit", "websocket_request_id": str(uuid.uuid4())}
        b.update(over)
        return b

    def converse(self, body, sent=None, extra_headers=None, path=None, conn=None, do_sentinel=True):
        """Returns (status, response, raw body bytes)."""
        if sent is None and do_sentinel:
            st, sent, raw = self.sentinel()
            assert st == 200, (st, raw)
        h = self.headers(accept="text/event-stream")
        if sent is not None:
            h.update(self.sentinel_headers(sent))
        h.update(extra_headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        return http_req("POST", path or (self.base + "/conversation"), body, h, conn=conn)

    def chat(self, text, v1=False, **kw):
        st, r, raw = self.converse(self.body(text, v1=v1), **kw)
        assert st == 200, (st, raw[:300], r.getheader("x-mock-reason"))
        return r, parse_sse(raw)


# =========================================================================== SSE / v1 parsing

def parse_sse(raw):
    text = raw.decode("utf-8").replace("\r\n", "\n")
    assert text.endswith("\n\n"), "stream does not end with a blank line"
    out = []
    for block in text.split("\n\n"):
        if not block:
            continue
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].lstrip(" ")
            elif line.startswith("data:"):
                d = line[5:]
                data.append(d[1:] if d.startswith(" ") else d)
            elif line.startswith(":") or not line:
                continue
            else:
                raise AssertionError("bad SSE line %r" % line)
        out.append((event, "\n".join(data)))
    return out


def old_docs(events):
    docs, order, others, statuses = {}, [], [], {}
    for ev, data in events:
        assert ev is None, "old format has no event: lines"
        if data == "[DONE]":
            others.append("[DONE]")
            continue
        obj = json.loads(data)
        m = obj.get("message")
        if m:
            if m["id"] not in docs:
                order.append(m["id"])
            docs[m["id"]] = obj
            statuses.setdefault(m["id"], []).append(m["status"])
        else:
            others.append(obj)
    return [docs[i] for i in order], others, statuses


def _tokens(path):
    return [] if path == "" else [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]


def v1_apply(doc, p, o, v):
    if o == "patch":
        for s in v:
            doc = v1_apply(doc, s["p"], s["o"], s["v"])
        return doc
    toks = _tokens(p)
    if not toks:
        assert o in ("add", "replace"), o
        return copy.deepcopy(v)
    tgt = doc
    for t in toks[:-1]:
        tgt = tgt[int(t)] if isinstance(tgt, list) else tgt[t]
    k = toks[-1]
    if isinstance(tgt, list):
        k = int(k)
    if o == "append":
        cur = tgt[k]
        if isinstance(cur, str):
            tgt[k] = cur + v
        elif isinstance(cur, list):
            tgt[k] = cur + list(v)
        elif isinstance(cur, dict):
            merged = dict(cur)
            merged.update(v)
            tgt[k] = merged
        else:
            tgt[k] = v
    elif o in ("replace", "add"):
        tgt[k] = copy.deepcopy(v)
    elif o == "remove":
        del tgt[k]
    elif o == "truncate":
        tgt[k] = tgt[k][:v]
    else:
        raise AssertionError("unknown op " + o)
    return doc


def v1_docs(events):
    assert events[0] == ("delta_encoding", '"v1"'), events[0]
    docs, order, others = {}, [], []
    cur, last_p, last_o = None, None, None
    inherited = 0
    for ev, data in events[1:]:
        if data == "[DONE]":
            others.append("[DONE]")
            continue
        obj = json.loads(data)
        if ev != "delta":
            assert ev is None
            others.append(obj)
            continue
        if "c" in obj and isinstance(obj.get("v"), dict):
            cur = obj["c"]
            docs[cur] = copy.deepcopy(obj["v"])
            order.append(cur)
            last_p, last_o = obj.get("p", ""), obj.get("o", "add")
            continue
        if "p" not in obj or "o" not in obj:
            inherited += 1
        last_p = obj.get("p", last_p)
        last_o = obj.get("o", last_o)
        docs[cur] = v1_apply(docs[cur], last_p, last_o, obj["v"])
    return [docs[c] for c in order], others, inherited


def answer_of(docs):
    for d in reversed(docs):
        m = d["message"]
        if m["author"]["role"] == "assistant" and m["content"]["content_type"] == "text":
            return m["content"]["parts"][0]
    return ""


def dechunk_raw(raw):
    """Parse a raw HTTP/1.1 response (bytes): returns (status, headers, chunk sizes, body, complete)."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    sizes, body, pos, complete = [], b"", 0, False
    while True:
        nl = rest.find(b"\r\n", pos)
        if nl < 0:
            break
        n = int(rest[pos:nl], 16)
        if n == 0:
            complete = rest[nl:nl + 4] == b"\r\n\r\n"
            break
        if len(rest) < nl + 2 + n + 2:
            body += rest[nl + 2:nl + 2 + n]
            break
        body += rest[nl + 2:nl + 2 + n]
        sizes.append(n)
        pos = nl + 2 + n + 2
    return status, hdrs, sizes, body, complete


def raw_conversation(sess, body, read_all=True, max_bytes=None, timeout=15):
    """Send a conversation over a raw socket. Returns (sock, bytes read)."""
    st, sent, _ = sess.sentinel()
    assert st == 200
    h = sess.headers(accept="text/event-stream")
    h.update(sess.sentinel_headers(sent))
    data = json.dumps(body).encode()
    h["content-length"] = str(len(data))
    h["host"] = "127.0.0.1:%d" % PORT
    req = ("POST %s/conversation HTTP/1.1\r\n" % sess.base +
           "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n").encode() + data
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    s.sendall(req)
    buf = b""
    while True:
        if max_bytes is not None and len(buf) >= max_bytes:
            break
        try:
            d = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not d:
            break
        buf += d
        if not read_all and max_bytes is None:
            break
        if read_all and buf.endswith(b"\r\n0\r\n\r\n"):
            break
    return s, buf


# =========================================================================== test runner

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def reset():
    http_req("POST", "/_mock/reset", {"config": True}, {"Content-Type": "application/json"})


# =========================================================================== tests

@test
def pow_solver_matches_protocol_vectors():
    check(hashlib.sha3_512(b"abc").hexdigest().startswith("b751850b1a57168a"))
    cfg = [4000, "Mon Jan 06 2025 10:00:00 GMT-0500 (Eastern Standard Time)", 4294705152, 0, DOC_UA,
           "https://cdn.oaistatic.com/assets/abc.js", "prod-0123456789abcdef", "en-US", "en-US,es-US,en,es", 0,
           "webdriver\u2212false", "location", "onload", 1234.5, "00000000-0000-4000-8000-000000000000", "", 16,
           1736175600000.0]
    b64, i = solve("0.42", "0fffff", cfg)
    check(i == 19 and len(b64) == 532 and b64 == DOC_P_B64, "row 1: i=%s" % i)
    b64, i = solve("0.8863307117434009", "06bf7d", cfg)
    check(i == 9 and b64 == DOC_PROOF_B64, "row 2: i=%s" % i)
    b64, i = solve("0.5", "00fff0", cfg)
    check(i == 194 and len(b64) == 536, "row 3: i=%s" % i)


DOC_P_B64 = ("WzQwMDAsIk1vbiBKYW4gMDYgMjAyNSAxMDowMDowMCBHTVQtMDUwMCAoRWFzdGVybiBTdGFuZGFyZCBUaW1lKSIsNDI5NDcw"
             "NTE1MiwxOSwiTW96aWxsYS81LjAgKFdpbmRvd3MgTlQgMTAuMDsgV2luNjQ7IHg2NCkgQXBwbGVXZWJLaXQvNTM3LjM2IChL"
             "SFRNTCwgbGlrZSBHZWNrbykgQ2hyb21lLzEzMS4wLjAuMCBTYWZhcmkvNTM3LjM2IiwiaHR0cHM6Ly9jZG4ub2Fpc3RhdGlj"
             "LmNvbS9hc3NldHMvYWJjLmpzIiwicHJvZC0wMTIzNDU2Nzg5YWJjZGVmIiwiZW4tVVMiLCJlbi1VUyxlcy1VUyxlbixlcyIs"
             "OSwid2ViZHJpdmVy4oiSZmFsc2UiLCJsb2NhdGlvbiIsIm9ubG9hZCIsMTIzNC41LCIwMDAwMDAwMC0wMDAwLTQwMDAtODAw"
             "MC0wMDAwMDAwMDAwMDAiLCIiLDE2LDE3MzYxNzU2MDAwMDAuMF0=")
DOC_PROOF_B64 = ("WzQwMDAsIk1vbiBKYW4gMDYgMjAyNSAxMDowMDowMCBHTVQtMDUwMCAoRWFzdGVybiBTdGFuZGFyZCBUaW1lKSIsNDI5N"
                 "DcwNTE1Miw5LCJNb3ppbGxhLzUuMCAoV2luZG93cyBOVCAxMC4wOyBXaW42NDsgeDY0KSBBcHBsZVdlYktpdC81MzcuMzYg"
                 "KEtIVE1MLCBsaWtlIEdlY2tvKSBDaHJvbWUvMTMxLjAuMC4wIFNhZmFyaS81MzcuMzYiLCJodHRwczovL2Nkbi5vYWlzdGF"
                 "0aWMuY29tL2Fzc2V0cy9hYmMuanMiLCJwcm9kLTAxMjM0NTY3ODlhYmNkZWYiLCJlbi1VUyIsImVuLVVTLGVzLVVTLGVuLG"
                 "VzIiw0LCJ3ZWJkcml2ZXLiiJJmYWxzZSIsImxvY2F0aW9uIiwib25sb2FkIiwxMjM0LjUsIjAwMDAwMDAwLTAwMDAtNDAwM"
                 "C04MDAwLTAwMDAwMDAwMDAwMCIsIiIsMTYsMTczNjE3NTYwMDAwMC4wXQ==")


@test
def home_page_gives_dpl():
    st, r, raw = http_req("GET", "/", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    check(st == 200 and r.getheader("Content-Encoding") == "gzip", "gzip when accepted")
    html = raw.decode()
    check('data-build="prod-test"' in html)
    srcs = re.findall(r'<script[^>]+src="([^"]+)"', html)
    dpl = next((m.group(0) for s in srcs for m in [re.search(r"c/[^/]+/_", s)] if m), None)
    check(dpl == "c/TESTBUILD/_", "dpl %r from %r" % (dpl, srcs))
    check(any(s.startswith("http://127.0.0.1:%d/" % PORT) for s in srcs))
    check(any(c.startswith("__cf_bm=") for c in r.msg.get_all("Set-Cookie")))
    mock_config(home_dpl_script=False)
    st, r, raw = http_req("GET", "/")
    check("c/TESTBUILD/_" not in raw.decode() and 'data-build="prod-test"' in raw.decode())
    st, r, raw = http_req("GET", "/_next/static/c/TESTBUILD/_/x.js")
    check(st == 200 and b"mock" in raw)


@test
def sentinel_issues_token():
    s = Session()
    st, obj, raw = s.sentinel()
    check(st == 200, raw)
    check(obj["persona"] == "chatgpt-freeaccount" and obj["token"].startswith("gAAAAAB"))
    check(obj["proofofwork"]["required"] is True and obj["proofofwork"]["difficulty"] == "0fffff")
    check(re.fullmatch(r"0\.\d+", obj["proofofwork"]["seed"]) is not None)
    check(obj["turnstile"] == {"required": False, "dx": None} and obj["arkose"]["required"] is False)
    check("oai-sc" in s.cookies)
    a = Session(at=None)
    st, obj, raw = a.sentinel()
    check(st == 200 and obj["persona"] == "chatgpt-noauth", raw)
    mock_config(persona="chatgpt-paid")
    check(Session().sentinel()[1]["persona"] == "chatgpt-paid")
    state = mock_state()
    check(state["sentinel_tokens_issued"] == 3 and state["requirements_ok"] == 3)
    check(state["requests"]["sentinel"] == 3)


@test
def sentinel_rejects_bad_requirements_token():
    s = Session()
    good = requirements_token(s.config)
    bad = [
        "gAAAAAB" + good[7:],                                                 # wrong prefix
        "gAAAAAC" + base64.b64encode(json.dumps(s.config[:17]).encode()).decode(),   # 17 elements
        "gAAAAAC" + "not*base64!",                                            # not base64
        "gAAAAAC" + base64.b64encode(b'{"a":1}').decode(),                    # not an array
    ]
    for p in bad:
        st, obj, raw = s.sentinel(p=p)
        check(st == 403, "accepted bad p %r: %s" % (p[:20], raw[:100]))
    other = Session(ua="Other/1.0")
    st, _, _ = other.sentinel(p=good)                                          # UA mismatch with config[4]
    check(st == 403)
    st, r, raw = http_req("POST", "/backend-api/sentinel/chat-requirements", {"q": 1}, s.headers())
    check(st == 400)
    st, r, raw = http_req("POST", "/backend-api/sentinel/chat-requirements", {"p": good},
                          s.headers(**{"oai-device-id": None}))
    check(st == 400 and "device" in r.getheader("x-mock-reason"))
    check(mock_state()["requirements_failed"] >= 6)
    st, obj, raw = s.sentinel(p=good + "~S")                                  # optional ~S suffix
    check(st == 200)


@test
def conversation_old_format():
    s = Session()
    r, events = s.chat("hello mock")
    check(r.getheader("Content-Type") == "text/event-stream; charset=utf-8")
    check(r.getheader("Transfer-Encoding") == "chunked")
    docs, others, statuses = old_docs(events)
    check(others[-1] == "[DONE]" and others[-2]["type"] == "title_generation")
    check(docs[0]["message"]["author"]["role"] == "user")
    a = docs[-1]["message"]
    check(a["author"]["role"] == "assistant" and a["status"] == "finished_successfully" and a["end_turn"] is True)
    check(a["metadata"]["model_slug"] == "gpt-4o" and a["metadata"]["finish_details"]["type"] == "stop")
    txt = a["content"]["parts"][0]
    check(txt.startswith("You said: hello mock") and "你好" in txt and "🌍" in txt, txt)
    check(statuses[a["id"]][0] == "in_progress" and len(statuses[a["id"]]) > 10)
    state = mock_state()
    lc = state["last_conversation"]
    check(lc["reply_text"] == txt and lc["format"] == "old" and lc["completed"])
    check(state["proofs_ok"] == 1 and state["conversations_served"] == 1 and state["conversations_completed"] == 1)
    r, events = s.chat("again")
    check(mock_state()["streams_by_format"]["old"] == 2)


@test
def conversation_v1_format():
    s = Session()
    r, events = s.chat("hello v1", v1=True)
    docs, others, inherited = v1_docs(events)
    check(inherited > 0, "no p/o inheritance exercised")
    check([o["type"] for o in others if isinstance(o, dict)][-2:] == ["message_stream_complete", "title_generation"])
    check(others[-1] == "[DONE]")
    a = docs[-1]["message"]
    check(a["status"] == "finished_successfully" and a["end_turn"] is True and
          a["metadata"]["is_complete"] is True and a["metadata"]["model_slug"] == "gpt-4o")
    check(a["content"]["parts"][0] == mock_state()["last_conversation"]["reply_text"])
    check(a["content"]["parts"][0].startswith("You said: hello v1"))
    check(mock_state()["last_conversation"]["format"] == "v1")
    # the f/conversation path is also served
    st, r, raw = s.converse(s.body("via f", v1=True), path="/backend-api/f/conversation")
    check(st == 200 and v1_docs(parse_sse(raw))[0][-1]["message"]["content"]["parts"][0].startswith("You said: via f"))


@test
def anonymous_conversation():
    s = Session(at=None)
    r, events = s.chat("anon here", v1=True)
    check(answer_of(v1_docs(events)[0]).startswith("You said: anon here"))
    check(mock_state()["last_conversation"]["auth"] == "anon")


@test
def proof_token_is_verified():
    s = Session()
    st, sent, _ = s.sentinel()
    pw = sent["proofofwork"]
    good = proof_token(s.config, pw["seed"], pw["difficulty"])
    # a proof solved for another seed (almost surely fails this seed's difficulty): find one that fails
    wrong = None
    for k in range(50):
        cand = proof_token(s.config, "0.%d" % (k + 11), pw["difficulty"])
        if not cm.pow_accepts(pw["seed"], pw["difficulty"], cand[7:]):
            wrong = cand
            break
    check(wrong is not None)
    fallback = "gAAAAAB" + "wQ8Lk5FbGpA2NcR9dShT6gYjU7VxZ4D" + base64.b64encode(b'"0.1"').decode()
    for bad in (wrong, fallback, "gAAAAAC" + good[7:], None):
        st2, r, raw = s.converse(s.body("x"), sent=None, do_sentinel=False,
                                 extra_headers={"openai-sentinel-chat-requirements-token": sent["token"],
                                                "openai-sentinel-proof-token": bad})
        check(st2 == 403 and json.loads(raw)["detail"] == cm.UNUSUAL_ACTIVITY, (st2, raw))
    st2, r, raw = s.converse(s.body("x"), sent=None, do_sentinel=False,
                             extra_headers={"openai-sentinel-chat-requirements-token": sent["token"],
                                            "openai-sentinel-proof-token": good})
    check(st2 == 200, raw[:200])
    st2, r, raw = s.converse(s.body("x"), sent=None, do_sentinel=False,
                             extra_headers={"openai-sentinel-chat-requirements-token": sent["token"],
                                            "openai-sentinel-proof-token": good + "~S"})
    check(st2 == 200)
    state = mock_state()
    check(state["proofs_failed"] == 4 and state["proofs_ok"] == 2, (state["proofs_failed"], state["proofs_ok"]))


@test
def protocol_vector_tokens_accepted():
    mock_config(seed="0.8863307117434009", difficulty="06bf7d")
    s = Session(ua=DOC_UA)
    st, sent, raw = s.sentinel(p="gAAAAAC" + DOC_P_B64)
    check(st == 200 and sent["proofofwork"]["seed"] == "0.8863307117434009", raw)
    hdr = {"openai-sentinel-chat-requirements-token": sent["token"]}
    st, r, raw = s.converse(s.body("vector"), do_sentinel=False,
                            extra_headers=dict(hdr, **{"openai-sentinel-proof-token": "gAAAAAB" + DOC_PROOF_B64}))
    check(st == 200, raw[:200])
    # i = 8 (j = 4) is documented as not accepted
    cfg = json.loads(base64.b64decode(DOC_PROOF_B64))
    cfg[3], cfg[9] = 8, 4
    b64 = base64.b64encode(json.dumps(cfg, separators=(",", ":"), ensure_ascii=False).encode()).decode()
    st, r, raw = s.converse(s.body("vector"), do_sentinel=False,
                            extra_headers=dict(hdr, **{"openai-sentinel-proof-token": "gAAAAAB" + b64}))
    check(st == 403)


@test
def chat_token_is_checked():
    s = Session()
    st, r, raw = s.converse(s.body("x"), do_sentinel=False)                   # no sentinel headers at all
    check(st == 403 and "chat-requirements" in r.getheader("x-mock-reason"))
    st, r, raw = s.converse(s.body("x"), do_sentinel=False,
                            extra_headers={"openai-sentinel-chat-requirements-token": "gAAAAABnever"})
    check(st == 403 and "never issued" in r.getheader("x-mock-reason"))
    st, sent, _ = s.sentinel()
    other = Session(device=str(uuid.uuid4()))
    other.config = s.config
    st, r, raw = other.converse(other.body("x"), sent=sent)
    check(st == 403 and "device" in r.getheader("x-mock-reason"))
    anon = Session(at=None, device=s.device)
    anon.config = s.config
    st, r, raw = anon.converse(anon.body("x"), sent=sent)
    check(st == 403 and "credential" in r.getheader("x-mock-reason"))
    mock_config(require_sentinel=False)
    st, r, raw = s.converse(s.body("x"), do_sentinel=False)
    check(st == 200)


@test
def auth_is_checked():
    s = Session()
    for at, want, code in ((None, 401, "missing_authorization"), ("nope", 401, "invalid_jwt")):
        h = s.headers(authorization=("Bearer " + at) if at else None)
        st, r, raw = http_req("POST", "/backend-api/sentinel/chat-requirements", {"p": requirements_token(s.config)}, h)
        check(st == want and json.loads(raw)["detail"]["code"] == code, raw)
    st, r, raw = http_req("POST", "/backend-anon/sentinel/chat-requirements", {"p": requirements_token(s.config)},
                          s.headers())
    check(st == 400, "authorization accepted on backend-anon")
    exp = cm.make_jwt("expired-user", exp=1000)
    mock_config(add_access_tokens=[exp], expired_access_tokens=[exp])
    st, obj, raw = Session(at=exp).sentinel()
    check(st == 401 and obj["detail"]["code"] == "token_expired")
    new_at = cm.make_jwt("another")
    mock_config(add_access_tokens=[new_at])
    r, ev = Session(at=new_at).chat("new token")
    check(answer_of(old_docs(ev)[0]).startswith("You said: new token"))


@test
def headers_and_body_are_validated():
    s = Session()
    cases = [
        ({}, {"accept": "*/*"}, 400),
        ({}, {"oai-device-id": None}, 400),
        ({}, {"user-agent": None}, 400),
        ({}, {"content-type": "text/plain"}, 400),
        ({"messages": None}, {}, 400),
        ({"messages": []}, {}, 400),
        ({"messages": [{"author": {}, "content": {"content_type": "text", "parts": ["x"]}}]}, {}, 400),
        ({"messages": [{"author": {"role": "wizard"}, "content": {"content_type": "text", "parts": ["x"]}}]}, {}, 400),
        ({"messages": [{"author": {"role": "user"}, "content": {"content_type": "text"}}]}, {}, 400),
        ({"messages": [{"author": {"role": "user"}, "content": {"content_type": "text", "parts": [1]}}]}, {}, 400),
        ({"action": "jump"}, {}, 400),
        ({"model": ""}, {}, 400),
        ({"parent_message_id": None}, {}, 400),
        ({"history_and_training_disabled": "yes"}, {}, 400),
        ({"supported_encodings": "v1"}, {}, 400),
        ({"conversation_mode": {"kind": "gizmo_interaction", "gizmo_id": "x"}}, {}, 400),
        ({"conversation_id": str(uuid.uuid4())}, {}, 404),
    ]
    for over, hdr, want in cases:
        body = s.body("x")
        for k, v in over.items():
            if v is None:
                body.pop(k)
            else:
                body[k] = v
        accept = hdr.pop("accept", "text/event-stream")
        st, r, raw = s.converse(body, extra_headers=dict(hdr, accept=accept))
        check(st == want, "%r %r -> %d %s" % (over, hdr, st, raw[:120]))
    st, sent, _ = s.sentinel()
    h = s.headers(accept="text/event-stream")
    h.update(s.sentinel_headers(sent))
    st, r, raw = http_req("POST", "/backend-api/conversation", b"{not json", h)
    check(st == 400)
    check(mock_state()["conversations_rejected"] == len(cases) + 1)


@test
def every_script_in_both_formats_agrees():
    mock_config(deterministic=7)
    s = Session()
    for name in cm.SCRIPTS:
        if name == "rate_limit":
            continue
        body = s.body("script test [[script:%s]]" % name)
        st1, _, raw_old = s.converse(body)
        old_reply = mock_state()["last_conversation"]["reply_text"]
        st2, _, raw_v1 = s.converse(dict(body, supported_encodings=["v1"]))
        check(st1 == 200 and st2 == 200, name)
        ev_old, ev_v1 = parse_sse(raw_old), parse_sse(raw_v1)
        d_old, o_old, _ = old_docs(ev_old)
        d_v1, o_v1, _ = v1_docs(ev_v1)
        check(d_old == d_v1, "%s: final documents differ between formats" % name)
        check(o_old[-1] == "[DONE]" and o_v1[-1] == "[DONE]", name)
        check(answer_of(d_old) == old_reply, "%s: reply_text" % name)


@test
def scripts_have_their_features():
    s = Session()

    def run(name, v1=False):
        r, ev = s.chat("feat [[script:%s]]" % name, v1=v1)
        docs, others, statuses = old_docs(ev) if not v1 else (v1_docs(ev)[0], v1_docs(ev)[1], None)
        return docs, others, statuses, mock_state()["last_conversation"]

    docs, others, statuses, lc = run("code")
    kinds = [(d["message"]["author"]["role"], d["message"]["content"]["content_type"]) for d in docs]
    check(kinds == [("user", "text"), ("assistant", "code"), ("tool", "execution_output"), ("assistant", "text")], kinds)
    check(docs[1]["message"]["recipient"] == "python" and "print(" in docs[1]["message"]["content"]["text"])
    check(docs[2]["message"]["content"]["text"] == "10\n")
    final = docs[-1]["message"]
    check("(sandbox:/mnt/data/result.csv)" in final["content"]["parts"][0])
    st, obj = jget("/backend-api/conversation/%s/interpreter/download?message_id=%s&sandbox_path=%s"
                   % (lc["conversation_id"], final["id"], "/mnt/data/result.csv"), s.headers())
    check(st == 200 and obj["download_url"].startswith("http://127.0.0.1:%d/dl/" % PORT), obj)
    st, r, raw = http_req("GET", obj["download_url"].split(str(PORT), 1)[1])
    check(st == 200 and raw == b"1,2\r\n3,4\r\n")
    st, obj = jget("/backend-api/conversation/%s/interpreter/download?message_id=%s&sandbox_path=/x"
                   % (lc["conversation_id"], final["id"]), s.headers())
    check(st == 404)

    docs, others, _, lc = run("image")
    ptr = docs[2]["message"]["content"]["parts"][0]
    check(docs[1]["message"]["recipient"] == "dalle.text2im" and ptr["asset_pointer"].startswith("file-service://"))
    fid = ptr["asset_pointer"][len("file-service://"):]
    st, obj = jget("/backend-api/files/%s/download" % fid, s.headers())
    check(st == 200 and obj["status"] == "success", obj)
    st, r, raw = http_req("GET", "/" + obj["download_url"].split("/", 3)[3])
    check(st == 200 and raw.startswith(b"\x89PNG") and r.getheader("Content-Type") == "image/png")

    docs, others, statuses, lc = run("sediment")
    tool = docs[2]["message"]
    ptr = tool["content"]["parts"][0]
    check(ptr["asset_pointer"].startswith("sediment://") and ptr["metadata"]["generation"]["height"] == ptr["height"])
    check(statuses[tool["id"]].count("in_progress") == 4)
    fid = ptr["asset_pointer"][len("sediment://"):]
    st, obj = jget("/backend-api/conversation/%s/attachment/%s/download" % (lc["conversation_id"], fid), s.headers())
    check(st == 200 and "/dl/" in obj["download_url"])
    st, obj = jget("/backend-api/conversation/%s/attachment/%s/download" % (str(uuid.uuid4()), fid), s.headers())
    check(st == 404)

    docs, others, _, lc = run("citation", v1=True)
    m = docs[-1]["message"]
    check(len(m["metadata"]["citations"]) == 2 and m["metadata"]["citations"][0]["metadata"]["url"] == "https://example.com/")
    c0 = m["metadata"]["citations"][0]
    check(m["content"]["parts"][0][c0["start_ix"]:c0["end_ix"]] == "【0†Example Domain】")

    docs, others, _, lc = run("o1")
    t = docs[1]["message"]
    check(t["author"]["role"] == "tool" and t["metadata"]["initial_text"] == "Thinking"
          and t["metadata"]["finished_text"] == "Thought for 3 seconds")

    docs, others, _, lc = run("thoughts", v1=True)
    th = docs[1]["message"]["content"]
    check(th["content_type"] == "thoughts" and len(th["thoughts"]) == 2 and th["thoughts"][1]["summary"] == "Checking the answer")
    check(docs[2]["message"]["content"]["content_type"] == "reasoning_recap")

    docs, others, _, lc = run("moderation")
    check(any(isinstance(o, dict) and o.get("type") == "moderation" for o in others))

    r, ev = s.chat("x [[script:error]]", v1=True)
    docs, others, _ = v1_docs(ev)
    check(len(docs) == 1 and others[0]["message"] is None and others[0]["error"] and others[-1] == "[DONE]")
    r, ev = s.chat("x [[script:error_mid]]")
    check(any(isinstance(o, dict) and o.get("error") for o in old_docs(ev)[1]))

    docs, others, statuses, lc = run("no_in_progress")
    check(all(st == "finished_successfully" for sts in statuses.values() for st in sts))

    docs, others, _, lc = run("max_tokens", v1=True)
    m = docs[-1]["message"]
    check(m["metadata"]["finish_details"]["type"] == "max_tokens" and m["end_turn"] is False)

    docs, others, _, lc = run("empty")
    check(docs[-1]["message"]["content"]["parts"] == [""] and lc["reply_text"] == "")

    docs, others, _, lc = run("unicode", v1=True)
    check("👨‍👩‍👧‍👦" in answer_of(docs) and "𝔘" in answer_of(docs))

    r, ev = s.chat("x [[long:50]]", v1=True)
    check(answer_of(v1_docs(ev)[0]).endswith("w49 w50"))

    st, r, raw = s.converse(s.body("x [[script:nope]]"))
    check(st == 400)


@test
def rate_limit_and_fail_markers():
    s = Session()
    st, r, raw = s.converse(s.body("x [[script:rate_limit]] [[clears_in:42]]"))
    d = json.loads(raw)["detail"]
    check(st == 429 and d["clears_in"] == 42 and d["code"] == "model_cap_exceeded")
    for code in (401, 403, 429, 500):
        st, r, raw = s.converse(s.body("x [[fail:%d]]" % code))
        check(st == code and "detail" in json.loads(raw), (code, st, raw))
    for code in (502, 503):
        st, r, raw = s.converse(s.body("x [[fail:%d]]" % code))
        check(st == code and r.getheader("Content-Type").startswith("text/html"))
    st, r, raw = s.converse(s.body("x [[cf]]"))
    check(st == 403 and b"cf_chl_opt" in raw and r.getheader("cf-mitigated") == "challenge")


@test
def global_knobs_on_sentinel_and_conversation():
    s = Session()
    for code in (401, 403, 429, 500, 502, 503):
        mock_config(sentinel_status=code)
        st, obj, raw = s.sentinel()
        check(st == code, (code, st))
    mock_config(sentinel_status=0, cf_challenge="sentinel")
    st, obj, raw = s.sentinel()
    check(st == 403 and b"cf_chl_opt" in raw)
    mock_config(cf_challenge=[], conversation_status=500, conversation_status_times=1)
    st, r, raw = s.converse(s.body("x"))
    check(st == 500)
    st, r, raw = s.converse(s.body("x"))
    check(st == 200, "times=1 should fail once")
    mock_config(cf_challenge="home", cf_challenge_times=2)
    check(http_req("GET", "/")[0] == 403 and http_req("GET", "/")[0] == 403 and http_req("GET", "/")[0] == 200)
    mock_config(difficulty="000000")
    st, obj, raw = s.sentinel()
    check(obj["proofofwork"]["difficulty"] == "000000")
    mock_config(difficulty="0fffff", pow_required=False)
    st, sent, raw = s.sentinel()
    check(sent["proofofwork"]["required"] is False)
    st, r, raw = s.converse(s.body("no pow"), sent=sent)
    check(st == 200)
    state = mock_state()
    check(state["last_conversation"]["sentinel"]["proof"] == "not_required")
    st, r, raw = http_req("POST", "/_mock/config", {"no_such_knob": 1})
    check(st == 400)


@test
def turnstile_and_arkose_required():
    s = Session()
    mock_config(turnstile_required=True)
    st, sent, raw = s.sentinel()
    check(sent["turnstile"]["required"] is True and sent["turnstile"]["dx"])
    dx = base64.b64decode(sent["turnstile"]["dx"]).decode()
    prog = "".join(chr(ord(c) ^ ord(s.p[i % len(s.p)])) for i, c in enumerate(dx))
    check(isinstance(json.loads(prog), list), "dx is xor(program, p)")
    st, r, raw = s.converse(s.body("x"), sent=sent)
    check(st == 403 and "turnstile" in r.getheader("x-mock-reason"))
    st, obj = json.loads(http_req("POST", "/turnstile", {"url": "https://chatgpt.com", "p": s.p,
                                                          "dx": sent["turnstile"]["dx"], "ua": UA},
                                   {"Content-Type": "application/json"})[2]), None
    # the solver service runs the challenge; a wrong answer is refused
    check(st["t"] and st["t"] != "turnstile-test", "solver returns the program's answer")
    good = st["t"]
    st, r, raw = s.converse(s.body("x"), sent=sent,
                            extra_headers={"openai-sentinel-turnstile-token": "wrong-answer"})
    check(st == 403 and "turnstile" in r.getheader("x-mock-reason"))
    st, r, raw = s.converse(s.body("x"), sent=sent, extra_headers={"openai-sentinel-turnstile-token": good})
    check(st == 200)
    mock_config(turnstile_required=False, arkose_required=True)
    st, sent, raw = s.sentinel()
    check(sent["arkose"]["required"] is True and sent["arkose"]["dx"])
    st, r, raw = s.converse(s.body("x"), sent=sent)
    check(st == 403 and "arkose" in r.getheader("x-mock-reason"))
    st, r, raw = http_req("POST", "/arkose", {"blob": sent["arkose"]["dx"], "method": "chat35"},
                          {"Content-Type": "application/json"})
    tok = json.loads(raw)
    check(tok == {"solved": True, "token": "arkose-test"})
    st, r, raw = s.converse(s.body("x"), sent=sent, extra_headers={"openai-sentinel-arkose-token": tok["token"]})
    check(st == 200)
    mock_config(arkose_solved=False)
    st, r, raw = http_req("POST", "/arkose", {"blob": "b", "method": "chat4"}, {"Content-Type": "application/json"})
    check(json.loads(raw)["solved"] is False)
    st, r, raw = http_req("POST", "/arkose", {"blob": "b", "method": "x"}, {"Content-Type": "application/json"})
    check(st == 400)
    state = mock_state()
    check(state["turnstile_tokens_seen"] == 2 and state["arkose_tokens_seen"] == 1)
    check(state["solver_requests"]["arkose"] == 3 and state["solver_requests"]["turnstile"] == 1)


@test
def splitting_gives_identical_bytes():
    mock_config(deterministic=11)
    s = Session()
    body = s.body("split test 分割 🧩", v1=True)
    _, normal = raw_conversation(s, body)
    st0, h0, sizes0, body0, ok0 = dechunk_raw(normal)
    check(st0 == 200 and ok0 and h0.get("transfer-encoding") == "chunked" and len(sizes0) > 20)
    for split in ("bytes", "random", "7", "coalesce"):
        mock_config(split=split)
        sock, raw = raw_conversation(s, body)
        sock.close()
        st, h, sizes, b, ok = dechunk_raw(raw)
        check(st == 200 and ok, split)
        check(b == body0, "%s split changes the stream" % split)
        if split == "bytes":
            check(set(sizes) == {1} and len(sizes) == len(body0))
        if split == "7":
            check(set(sizes[:-1]) == {7})
        if split == "coalesce":
            check(len(sizes) < len(sizes0))
    mock_config(split="none")
    # the same through http.client (decoded), old format + CRLF and \\u escapes still parse identically
    r, ev_lf = s.chat("fmt", v1=True)
    r, ev_crlf = s.chat("fmt [[crlf]]", v1=True)
    r, ev_ascii = s.chat("fmt [[ascii]]", v1=True)
    a_lf = answer_of(v1_docs(ev_lf)[0])
    check(answer_of(v1_docs(ev_crlf)[0]) == a_lf and answer_of(v1_docs(ev_ascii)[0]) == a_lf)
    st, r, raw = s.converse(s.body("esc [[ascii]]", v1=True))
    check(b"\\ud83c\\udf0d" in raw and "🌍" in answer_of(v1_docs(parse_sse(raw))[0]))
    st, r, raw = s.converse(s.body("crlf [[crlf]]"))
    check(b"\r\n\r\n" in raw and b"\n\n" not in raw.replace(b"\r\n", b""))


@test
def mid_stream_close_and_reset():
    s = Session()
    before = mock_state()["server_aborts"]
    st, r, raw = None, None, None
    try:
        st, r, raw = s.converse(s.body("x [[close:4]]"))
        check(False, "http.client read a truncated stream without error")
    except http.client.IncompleteRead:
        pass
    _, raw = raw_conversation(s, s.body("x [[close:4]]"))
    st, h, sizes, body, complete = dechunk_raw(raw)
    check(st == 200 and not complete and len(parse_sse(body)) == 4)
    _, raw = raw_conversation(s, s.body("x [[close_bytes:333]]"))
    st, h, sizes, body, complete = dechunk_raw(raw)
    check(not complete and len(body) == 333)
    sock, raw = raw_conversation(s, s.body("x [[reset:3]]"))
    got_reset = False
    try:
        more = sock.recv(100)
        got_reset = more == b""
    except ConnectionResetError:
        got_reset = True
    st, h, sizes, body, complete = dechunk_raw(raw)
    check(not complete and got_reset)
    check(mock_state()["server_aborts"] - before == 4)


@test
def client_disconnect_is_observed():
    s = Session()
    before = mock_state()["client_disconnects"]
    sock, raw = raw_conversation(s, s.body("leave early [[drip:100]] [[long:100]]"), read_all=False, max_bytes=1500)
    check(b"200 OK" in raw.split(b"\r\n")[0])
    sock.close()
    state = wait_state(lambda x: x["client_disconnects"] > before, 5)
    check(state is not None, "disconnect not observed")
    check(state["last_disconnect"]["events_started"] < 100 and state["conversations_completed"] == 0)
    # a stalled stream: the client gives up, the mock notices
    sock, raw = raw_conversation(s, s.body("stall [[stall:3]]"), read_all=False, max_bytes=400)
    time.sleep(0.3)
    check(mock_state()["stalls"] == 1)
    sock.close()
    check(wait_state(lambda x: x["client_disconnects"] > before + 1, 5) is not None, "stall disconnect")
    # the drip really drips
    t0 = time.time()
    s.chat("slow [[drip:20]]")
    check(time.time() - t0 > 0.4)
    # a disconnect while the mock delays the response head is also seen
    sock, raw = raw_conversation(s, s.body("delayed [[delay:3000]]"), read_all=False, max_bytes=1, timeout=0.3)
    sock.close()
    check(wait_state(lambda x: x["client_disconnects"] > before + 2, 5) is not None, "pre-response disconnect")


@test
def keep_alive_across_requests():
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    s = Session()
    st, r, raw = http_req("GET", "/", conn=c)
    sock1 = c.sock
    check(st == 200 and sock1 is not None)
    st, r, raw = s.converse(s.body("ka 1", v1=True), conn=c)
    check(st == 200 and c.sock is sock1)
    st, r, raw = s.converse(s.body("ka [[fail:500]]"), conn=c)
    check(st == 500 and c.sock is sock1)
    st, r, raw = s.converse(s.body("ka 2"), conn=c)
    check(st == 200 and c.sock is sock1 and old_docs(parse_sse(raw))[0][-1]["message"]["status"] == "finished_successfully")
    c.close()
    # Expect: 100-continue bodies are fine
    st, sent, _ = s.sentinel()
    h = s.headers(accept="text/event-stream", expect="100-continue")
    h.update(s.sentinel_headers(sent))
    st, r, raw = http_req("POST", "/backend-api/conversation", s.body("expect"), h)
    check(st == 200)


@test
def oauth_refresh_exchange():
    body = {"client_id": cm.OAUTH_CLIENT_ID, "grant_type": "refresh_token",
            "redirect_uri": "com.openai.chat://auth0.openai.com/ios/com.openai.chat/callback",
            "refresh_token": cm.DEFAULT_REFRESH_TOKEN}
    check(len(cm.DEFAULT_REFRESH_TOKEN) == 45)
    st, r, raw = http_req("POST", "/oauth/token", body, {"Content-Type": "application/json"})
    obj = json.loads(raw)
    check(st == 200 and obj["access_token"].startswith("eyJhbGciOi") and obj["expires_in"] == 864000)
    r2, ev = Session(at=obj["access_token"]).chat("from rt")
    check(answer_of(old_docs(ev)[0]).startswith("You said: from rt"))
    mock_config(refresh_tokens={"R" * 45: "eyJhbGciOiMOCK.rt2.sig"})
    form = dict(body, refresh_token="R" * 45,
                redirect_uri="com.openai.chat://auth.openai.com/ios/com.openai.chat/callback")
    data = "&".join("%s=%s" % (k, urllib.request.quote(v, safe="")) for k, v in form.items())
    req = urllib.request.Request("http://127.0.0.1:%d/oauth/token" % PORT, data=data.encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        check(json.loads(resp.read())["access_token"] == "eyJhbGciOiMOCK.rt2.sig")
    bad = [(dict(body, refresh_token="unknown"), 400, "invalid_grant"),
           (dict(body, client_id="x"), 401, "invalid_client"),
           (dict(body, grant_type="password"), 400, "unsupported_grant_type"),
           (dict(body, redirect_uri="https://evil/cb"), 400, "invalid_request")]
    for b, want, err in bad:
        st, r, raw = http_req("POST", "/oauth/token", b, {"Content-Type": "application/json"})
        check(st == want and json.loads(raw)["error"] == err, (b, st, raw))
    http_req("POST", "/oauth/token", body, {"Content-Type": "application/json"})
    state = mock_state()
    check(state["oauth_exchanges"] == {cm.DEFAULT_REFRESH_TOKEN: 2, "R" * 45: 1}, state["oauth_exchanges"])
    check(state["oauth_failures"]["unknown"] == 1)


@test
def file_upload_flow():
    s = Session()
    data = cm.make_png(4, 4)
    h = s.headers()
    st, r, raw = http_req("POST", "/backend-api/files", {"file_name": "a.png", "file_size": len(data),
                                                         "reset_rate_limits": False, "timezone_offset_min": -480,
                                                         "use_case": "multimodal"}, h)
    obj = json.loads(raw)
    check(st == 200 and obj["status"] == "success" and obj["file_id"].startswith("file-"))
    fid, up = obj["file_id"], obj["upload_url"]
    check(up.startswith("http://127.0.0.1:%d/blob/%s?" % (PORT, fid)) and "sig=" in up)
    path = up.split(str(PORT), 1)[1]
    st, r, raw = http_req("POST", "/backend-api/files/%s/uploaded" % fid, {}, h)
    check(st == 400, "uploaded before PUT")
    put_h = {"Content-Type": "image/png", "x-ms-version": "2020-04-08", "accept": "application/json, text/plain, */*"}
    st, r, raw = http_req("PUT", path, data, put_h)
    check(st == 400 and b"MissingRequiredHeader" in raw)
    st, r, raw = http_req("PUT", path, data, dict(put_h, **{"x-ms-blob-type": "BlockBlob",
                                                           "Authorization": "Bearer " + AT}))
    check(st == 400, "AT leaked to blob storage accepted")
    st, r, raw = http_req("PUT", path.split("?")[0], data, dict(put_h, **{"x-ms-blob-type": "BlockBlob"}))
    check(st == 403)
    st, r, raw = http_req("PUT", path, data, dict(put_h, **{"x-ms-blob-type": "BlockBlob"}))
    check(st == 201 and raw == b"")
    st, r, raw = http_req("POST", "/backend-api/files/%s/uploaded" % fid, {}, h)
    obj = json.loads(raw)
    check(st == 200 and obj["download_url"])
    st, r, raw = http_req("GET", "/" + obj["download_url"].split("/", 3)[3])
    check(raw == data)
    mock_config(index_pending_polls=1)
    check(jget("/backend-api/files/%s" % fid, h)[1]["retrieval_index_status"] == "pending")
    check(jget("/backend-api/files/%s" % fid, h)[1]["retrieval_index_status"] == "success")
    body = s.body("what is this")
    body["messages"][0]["content"] = {"content_type": "multimodal_text", "parts": [
        "what is this", {"content_type": "image_asset_pointer", "asset_pointer": "file-service://" + fid,
                         "size_bytes": len(data), "width": 4, "height": 4}]}
    body["messages"][0]["metadata"] = {"attachments": [{"id": fid, "size": len(data), "name": "a.png",
                                                        "mime_type": "image/png", "width": 4, "height": 4}]}
    st, r, raw = s.converse(body)
    check(st == 200)
    check("[attachment %s image/png]" % fid in answer_of(old_docs(parse_sse(raw))[0]))
    body["messages"][0]["content"]["parts"][1]["asset_pointer"] = "file-service://file-nothere"
    body["messages"][0]["metadata"] = {}
    st, r, raw = s.converse(body)
    check(st == 400)
    st, r, raw = http_req("POST", "/backend-api/files", {"file_name": "a", "file_size": "1", "use_case": "x"}, h)
    check(st == 400)
    state = mock_state()
    check(state["uploads"] == 1 and state["files"][fid]["uploaded"])


@test
def gateway_extras_and_continuation():
    s = Session()
    st, obj = jget("/backend-api/models", s.headers())
    check(st == 200 and obj["models"][0]["slug"] == "gpt-4o")
    st, obj = jget("/backend-api/accounts/check/v4-2023-04-27", s.headers())
    check(obj["accounts"]["acc-1"]["account"]["plan_type"] == "plus" and obj["account_ordering"] == ["acc-1"])
    st, r, raw = s.converse(s.body("remember me [[script:max_tokens]]", history_and_training_disabled=False),
                            extra_headers={"chatgpt-account-id": "acc-team-9"})
    check(st == 200)
    state = mock_state()
    check(state["last_account_id"] == "acc-team-9")
    docs = old_docs(parse_sse(raw))[0]
    cid, last_id = docs[-1]["conversation_id"], docs[-1]["message"]["id"]
    st, obj = jget("/backend-api/conversations?offset=0&limit=28&order=updated", s.headers())
    check(cid in [i["id"] for i in obj["items"]])
    st, obj = jget("/backend-api/conversation/%s" % cid, s.headers())
    check(st == 200 and obj["conversation_id"] == cid and last_id in obj["mapping"])
    # continue after max_tokens
    b = s.body("", conversation_id=cid, parent_message_id=last_id, action="continue", messages=[])
    st, r, raw = s.converse(b)
    check(st == 200, raw[:200])
    d2, o2, _ = old_docs(parse_sse(raw))
    check(d2[0]["message"]["author"]["role"] == "assistant" and "(continued)" in answer_of(d2))
    check(not any(isinstance(o, dict) and o.get("type") == "title_generation" for o in o2))
    # a follow-up with a wrong parent is refused, with the right one accepted
    st, r, raw = s.converse(s.body("next", conversation_id=cid, parent_message_id=str(uuid.uuid4())))
    check(st == 400)
    st, r, raw = s.converse(s.body("next", conversation_id=cid, parent_message_id=last_id, supported_encodings=["v1"]))
    check(st == 200 and v1_docs(parse_sse(raw))[0][0]["conversation_id"] == cid)
    # another credential cannot see it
    other = cm.make_jwt("other-user")
    mock_config(add_access_tokens=[other])
    check(jget("/backend-api/conversation/%s" % cid, Session(at=other).headers())[0] == 404)
    st, r, raw = http_req("PATCH", "/backend-api/conversation/%s" % cid, {"is_visible": False}, s.headers())
    check(st == 200 and json.loads(raw) == {"success": True})
    st, obj = jget("/backend-api/conversations", s.headers())
    check(cid not in [i["id"] for i in obj["items"]])


@test
def temporary_chat_continues_with_new_turns_only():
    s = Session()
    st, r, raw = s.converse(s.body("the first turn of a temporary chat"))
    check(st == 200)
    docs = old_docs(parse_sse(raw))[0]
    cid, last_id = docs[-1]["conversation_id"], docs[-1]["message"]["id"]
    # an earlier turn sent again into the conversation that holds it is refused
    b = s.body("x", conversation_id=cid, parent_message_id=last_id)
    b["messages"][0]["content"]["parts"] = ["the first turn of a temporary chat", "then more"]
    st, r, raw = s.converse(b)
    check(st == 400 and b"resent an earlier turn" in raw, raw[:200])
    st, r, raw = s.converse(s.body("the second turn alone", conversation_id=cid, parent_message_id=last_id))
    check(st == 200 and old_docs(parse_sse(raw))[0][-1]["conversation_id"] == cid, raw[:200])
    check(mock_state().get("continued_conversations", 0) >= 1)
    # hidden (the session ended): it cannot be continued
    st, r, raw = http_req("PATCH", "/backend-api/conversation/%s" % cid, {"is_visible": False}, s.headers())
    check(st == 200)
    st, r, raw = s.converse(s.body("a third turn", conversation_id=cid, parent_message_id=last_id))
    check(st == 404, raw[:200])


@test
def by_token_overrides_are_isolated():
    a2 = cm.make_jwt("isolated")
    mock_config(add_access_tokens=[a2], by_token={a2: {"conversation_status": 503, "persona": "chatgpt-paid"}})
    s1, s2 = Session(), Session(at=a2)
    check(s2.sentinel()[1]["persona"] == "chatgpt-paid" and s1.sentinel()[1]["persona"] == "chatgpt-freeaccount")
    check(s2.converse(s2.body("x"))[0] == 503 and s1.converse(s1.body("x"))[0] == 200)
    mock_config(by_token={"anon": {"split": "bytes"}})
    a = Session(at=None)
    sock, raw = raw_conversation(a, a.body("anon bytes"))
    sock.close()
    st, h, sizes, body, ok = dechunk_raw(raw)
    check(ok and set(sizes) == {1})


@test
def state_counts_requests_per_endpoint():
    s = Session()
    http_req("GET", "/")
    s.chat("count me")
    http_req("GET", "/nope")
    state = mock_state()
    check(state["requests"].get("home") == 1 and state["requests"].get("sentinel") == 1
          and state["requests"].get("conversation") == 1 and state["requests"].get("not_found") == 1, state["requests"])
    check(state["paths"].get("POST /backend-api/conversation") == 1)
    check(state["responses"].get("conversation 200") == 1)
    check("mock_state" not in state["requests"])
    lc = state["last_conversation"]
    check(lc["headers"]["oai-device-id"] == s.device and lc["body"]["model"] == "gpt-4o")


@test
def cli_runs_and_writes_port_file():
    tmp = tempfile.mkdtemp()
    pf = os.path.join(tmp, "port")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "chatgpt_mock.py"), "--port", "0", "--port-file", pf,
                          "--access-token", "eyJhbGciOiCLI", "--refresh-token", "X" * 45 + "=eyJhbGciOiCLIRT",
                          "--config", '{"persona":"chatgpt-paid"}'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        end = time.time() + 10
        while not os.path.exists(pf) and time.time() < end:
            time.sleep(0.05)
        port = int(open(pf).read())
        st, r, raw = http_req("GET", "/", port=port)
        check(st == 200)
        s = Session(at="eyJhbGciOiCLI")
        h = s.headers()
        st, r, raw = http_req("POST", "/backend-api/sentinel/chat-requirements", {"p": requirements_token(s.config)},
                              h, port=port)
        check(st == 200 and json.loads(raw)["persona"] == "chatgpt-paid")
        st, r, raw = http_req("POST", "/oauth/token", {
            "client_id": cm.OAUTH_CLIENT_ID, "grant_type": "refresh_token", "refresh_token": "X" * 45,
            "redirect_uri": "com.openai.chat://auth0.openai.com/ios/com.openai.chat/callback"},
            {"Content-Type": "application/json"}, port=port)
        check(json.loads(raw)["access_token"] == "eyJhbGciOiCLIRT")
        http_req("POST", "/_mock/reset", {"config": True}, {"Content-Type": "application/json"}, port=port)
        st, r, raw = http_req("GET", "/_mock/config", port=port)
        check(json.loads(raw)["persona"] == "chatgpt-paid", "reset keeps the --config start-up values")
    finally:
        p.terminate()
        rc = p.wait(10)
    check(rc == 0, "exit code %s" % rc)


# =========================================================================== main

def main():
    global MOCK, PORT
    MOCK = cm.ChatGPTMock().start()
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
                    print("#   last_rejection: %s" % mock_state().get("last_rejection"))
                except Exception:
                    pass
            sys.stdout.flush()
    finally:
        MOCK.stop()
    print("# counts: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
