#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Self-test of tests/mock/deepseek_mock.py.

Talks to the mock only over HTTP (http.client and raw sockets).  The client side (browser
headers, bearer exchange, PoW solving, the SSE parser and the section 2.7 patch interpreter)
is written here from shared/protocols/providers.md section 2; only the hash comes from
deepseek_pow.py, which the first test checks against every section 2.6 vector.  The mock
runs in-process (DeepSeekMock().start()) except for one test that runs the CLI.

    python3 tests/mock/test_deepseek_mock.py [test_name ...]

Prints one line per test and, last, `# counts: N passed, M failed`; exits non-zero on any
failure.
"""

import base64
import copy
import gzip
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import deepseek_mock as dm  # noqa: E402  (to start it in-process and read constants)
import selftest  # noqa: E402
from selftest import dechunk, http_req, jreq, mock_config, parse_sse, state  # noqa: E402
import deepseek_pow as dp  # noqa: E402

UT = dm.DEFAULT_USER_TOKEN
UT2 = dm.OTHER_USER_TOKEN
UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/134.0.0.0 Safari/537.36")
U, A = "<\uff5cUser\uff5c>", "<\uff5cAssistant\uff5c>"
EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"
MOCK = None
PORT = None


# =========================================================================== HTTP helpers

def browser_headers(token=None, post=True):
    h = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
         "Origin": "https://chat.deepseek.com", "Referer": "https://chat.deepseek.com/",
         "User-Agent": UA, "X-App-Version": "20241129.1", "X-Client-Locale": "zh-CN",
         "X-Client-Platform": "web", "X-Client-Version": "1.8.0", "x-client-timezone-offset": "28800"}
    if post:
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = "Bearer " + token
    return h


def biz(obj):
    check(obj["code"] == 0 and obj["data"]["biz_code"] == 0, "not a success envelope: %r" % obj)
    return obj["data"]["biz_data"]


class Client:
    """One chat2api-like DeepSeek account: userToken -> bearer -> session -> PoW -> completion."""

    def __init__(self, user_token=UT):
        self.ut, self.bearer = user_token, None

    def login(self):
        st, r, obj = jreq("GET", "/api/v0/users/current", headers=browser_headers(self.ut, post=False))
        check(st == 200, "users/current status %d" % st)
        self.bearer = biz(obj)["token"]
        return self.bearer

    def post(self, path, body, extra=None, drop=()):
        h = browser_headers(self.bearer or self.login())
        h.update(extra or {})
        for k in drop:
            h.pop(k, None)
        return jreq("POST", "/api/v0" + path, body, h)

    def session(self):
        st, r, obj = self.post("/chat_session/create", {})
        check(st == 200, "session create %d %r" % (st, obj))
        return biz(obj)["chat_session"]["id"]

    def challenge(self):
        st, r, obj = self.post("/chat/create_pow_challenge", {"target_path": "/api/v0/chat/completion"})
        check(st == 200, "pow %d %r" % (st, obj))
        return biz(obj)["challenge"]

    def pow_header(self, ch=None):
        ch = ch or self.challenge()
        ans = dp.solve(ch["challenge"], ch["salt"], ch["expire_at"], ch["difficulty"])
        check(ans is not None, "challenge not solvable")
        return dp.response_header(ch, ans)

    def body(self, text, sid=None, **over):
        b = {"chat_session_id": sid or self.session(), "parent_message_id": None, "prompt": text,
             "ref_file_ids": [], "thinking_enabled": False, "search_enabled": False}
        b.update(over)
        return b

    def complete(self, body, pow_header=None, extra=None, drop=()):
        """POST the completion; returns (status, response, raw bytes)."""
        h = browser_headers(self.bearer or self.login())
        h["X-Ds-Pow-Response"] = pow_header or self.pow_header()
        h.update(extra or {})
        for k in drop:
            h.pop(k, None)
        return http_req("POST", "/api/v0/chat/completion", body, h)

    def chat(self, prompt, **over):
        st, r, raw = self.complete(self.body(prompt, **over))
        check(st == 200 and r.getheader("Content-Type", "").startswith("text/event-stream"),
              "completion %d %s %r" % (st, r.getheader("Content-Type"), raw[:300]))
        return interpret(parse_sse(raw))


# =========================================================================== SSE + 2.7 patches

def _walk(doc, toks):
    for t in toks:
        doc = doc[int(t)] if isinstance(doc, list) else doc[t]
    return doc


def _apply(doc, path, op, v):
    toks = path.split("/")
    parent, key = _walk(doc, toks[:-1]), toks[-1]
    if isinstance(parent, list):
        key = int(key)
    v = copy.deepcopy(v)
    if op == "SET":
        parent[key] = v
    elif op == "APPEND":
        cur = parent[key]
        if isinstance(cur, list):
            cur.extend(v)
        else:
            parent[key] = cur + v
    else:
        raise ValueError("unknown op %r" % op)


def interpret(events):
    """Apply the section 2.7 stream; returns a dict with the final document, the texts routed by
    fragment type in stream order, the named events and the raw JSON objects."""
    doc, last_path = {}, None
    res = {"names": [], "objs": [], "ready": None, "reasoning": "", "answer": "", "dropped": "",
           "status": None, "usage": None, "title": None, "paths": [], "inline_error": None, "named": {}}

    def route_text(path, text):
        frag = _walk(doc, path.split("/")[:-1])
        kind = {"THINK": "reasoning", "RESPONSE": "answer", "ANSWER": "answer"}.get(frag["type"], "dropped")
        res[kind] += text

    for name, data in events:
        res["names"].append(name)
        obj = json.loads(data)
        if name == "ready":
            res["ready"] = obj
        if name == "title":
            res["title"] = obj["content"]
        if name is not None:
            res["named"][name] = obj
            continue
        if res["inline_error"] is not None:
            continue                            # nothing after an inline error counts
        res["objs"].append(obj)
        if "v" not in obj:
            res["inline_error"] = obj
            continue
        p, o, v = obj.get("p"), obj.get("o"), obj["v"]
        if p is None and last_path is None:
            doc.update(copy.deepcopy(v))        # the initial {"v":{"response":{...}}}
            continue
        if p is None:
            p, o = last_path, "APPEND"
        o = o or "SET"
        res["paths"].append(p)
        if o == "BATCH":
            for sub in v:
                sp, so = p + "/" + sub["p"], sub.get("o", "SET")
                before = len(_walk(doc, sp.split("/"))) if so == "APPEND" else 0
                _apply(doc, sp, so, sub["v"])
                if sp.endswith("fragments") and so == "APPEND":
                    for i, f in enumerate(sub["v"]):
                        route_text("%s/%d/content" % (sp, before + i), f.get("content", ""))
            last_path = None
        else:
            if p.endswith("/fragments") and o == "APPEND":
                before = len(_walk(doc, p.split("/")))
                _apply(doc, p, o, v)
                for i, f in enumerate(v):
                    route_text("%s/%d/content" % (p, before + i), f.get("content", ""))
            else:
                _apply(doc, p, o, v)
                if o == "APPEND" and p.endswith("/content"):
                    route_text(p, v)
            last_path = p
    r = doc.get("response", {})
    res["doc"], res["status"] = doc, r.get("status")
    res["quasi_status"], res["usage"] = r.get("quasi_status"), r.get("accumulated_token_usage")
    res["fragments"] = r.get("fragments", [])
    return res


def raw_completion(cl, body, timeout=10, read=True):
    """Send a completion over a raw socket; returns (head bytes, body bytes, how it ended)."""
    h = browser_headers(cl.bearer or cl.login())
    h["X-Ds-Pow-Response"] = cl.pow_header()
    data = json.dumps(body).encode()
    h["Content-Length"] = str(len(data))
    h["Host"] = "127.0.0.1:%d" % PORT
    req = "POST /api/v0/chat/completion HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    s.sendall(req.encode() + data)
    if not read:
        return s
    buf, how = b"", "eof"
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
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
    return head, rest, how


# =========================================================================== framework

SUITE = selftest.Suite()
test = SUITE.test
check = selftest.check


def rejected(st, r, obj, reason_part, code=None, status=400):
    """The request was refused as a JSON error with a recorded reason containing reason_part."""
    check(st == status, "status %d, want %d: %r" % (st, status, obj))
    check(r.getheader("Content-Type", "").startswith("application/json"), r.getheader("Content-Type"))
    if code is not None:
        check(obj["code"] == code, "code %r, want %r" % (obj.get("code"), code))
    reason = r.getheader("x-mock-reason") or ""
    check(reason_part.lower() in reason.lower(), "x-mock-reason %r lacks %r" % (reason, reason_part))
    last = state()["last_rejection"]
    check(last and reason_part.lower() in last["reason"].lower(), "not recorded: %r" % last)


def reset():
    jreq("POST", "/_mock/reset", {"all": True}, {"Content-Type": "application/json"})


# =========================================================================== tests

@test
def pow_hash_matches_protocol_vectors():
    for text, want in dp.VECTORS:
        check(dp.ds_hash_hex(text) == want, "H(%r)" % text)
    for data in (b"", b"abc", b"x" * 135, b"x" * 136, b"x" * 300, "中文".encode()):
        check(dp.keccak_sha3_256(data, 24) == hashlib.sha3_256(data).digest(), "24 rounds != SHA3-256")
    e = dp.E2E
    pre = dp.prefix(e["salt"], e["expire_at"])
    check(pre == "a1b2c3d4e5f6a7b8c9d0_1778657378900_")
    check(dp.ds_hash_hex(pre + "31337") == e["challenge"], "end-to-end hash")
    check(dp.response_header(e, 31337) == e["header"], "end-to-end header")
    check(json.loads(base64.b64decode(e["header"]))["answer"] == 31337)
    # the solver scans upward and stops at the answer (a window; the full scan takes seconds)
    hits = [n for n in range(31300, 31400) if dp.ds_hash(pre + str(n)) == bytes.fromhex(e["challenge"])]
    check(hits == [31337], hits)
    ch = dp.ds_hash_hex(dp.prefix("00ff", 1700000000000) + "10").upper()      # hex is case-insensitive
    check(dp.solve(ch, "00ff", 1700000000000, 11) == 10, "solver finds the answer")
    check(dp.solve(ch, "00ff", 1700000000000, 10) is None, "range excludes difficulty")


@test
def valid_flow_passes():
    cl = Client()
    bearer = cl.login()
    check(bearer != UT, "bearer must differ from the userToken")
    st, r, obj = jreq("GET", "/api/v0/users/current", headers=browser_headers(UT, post=False))
    u = biz(obj)
    check(u["email"] and u["id"] and u["id_profile"]["name"] and u["token"] == bearer)
    sid = cl.session()
    ch = cl.challenge()
    check(ch["algorithm"] == "DeepSeekHashV1" and len(ch["challenge"]) == 64 and ch["difficulty"] == 2000)
    check(abs(ch["expire_at"] - time.time() * 1000 - 300000) < 5000 and ch["expire_after"] == 300000)
    check(ch["target_path"] == "/api/v0/chat/completion" and ch["salt"] and ch["signature"])
    res = cl.chat("hello there", sid=sid)
    check(res["answer"] == "You said: hello there", res["answer"])
    check(res["ready"] == {"request_message_id": 1, "response_message_id": 2}, res["ready"])
    check(res["status"] == "FINISHED" and res["reasoning"] == "")
    s = state()
    lc = s["last_completion"]
    check(lc["reply_text"] == res["answer"] and lc["completed"] and lc["prompt"] == "hello there")
    check(res["usage"] == lc["token_usage"] and isinstance(res["usage"], int))
    check(res["names"][:2] == ["ready", "update_session"] and res["names"][-4:] ==
          ["finish", "update_session", "title", "close"], res["names"])
    check(s["users_current"] == {UT: 2} and s["sessions_created"] == {UT: 1} and s["completions"] == {UT: 1})
    check(s["pow_issued"] == 2 and s["pow_ok"] == 1 and s["pow_failed"] == 0 and s["rejections"] == [])
    check(s["live_sessions"] == {UT: [sid]} and s["completions_completed"] == 1)
    # continuation in the same session
    res2 = cl.chat("again", sid=sid, parent_message_id=2, model_type="expert", preempt=False,
                   client_stream_id="20251122-a966ea999de140c5")
    check(res2["ready"] == {"request_message_id": 3, "response_message_id": 4, "model_type": "expert"})
    check("title" not in res2["names"], "title only on the first turn")
    check(state()["last_completion"]["body"]["parent_message_id"] == 2)


@test
def stream_shape_follows_section_2_7():
    cl = Client()
    res = cl.chat("abcdefghijklmnopqrstuvwxyz " * 2)
    objs = res["objs"]
    check("fragments" in objs[0]["v"]["response"] and objs[0]["v"]["response"]["fragments"] == [])
    b = objs[1]
    check(b["p"] == "response" and b["o"] == "BATCH" and b["v"][0] == {"v": False, "p": "has_pending_fragment"})
    check(b["v"][1]["p"] == "fragments" and b["v"][1]["o"] == "APPEND" and b["v"][1]["v"][0]["type"] == "RESPONSE")
    check(objs[2] == {"v": objs[2]["v"], "p": "response/fragments/-1/content", "o": "APPEND"}, objs[2])
    check(list(objs[3]) == ["v"], "bare continuation expected: %r" % objs[3])
    check(objs[-1] == {"v": [{"v": "FINISHED", "p": "status"}, {"v": res["usage"], "p": "accumulated_token_usage"}],
                       "p": "response", "o": "BATCH"}, objs[-1])
    events = state()["last_completion"]["events"]
    check(events[0].startswith("event: ready\ndata: {") and events[-1].startswith("event: close\n"))
    check(json.loads(events[-1].split("data: ")[1]) == {"click_behavior": "none", "auto_resume": False})
    # older path style and the SET end
    res = cl.chat("x [[path:index]] [[end:set]]")
    check(res["answer"] == "You said: x", res["answer"])
    check("response/fragments/0/content" in res["paths"] and "response/fragments/-1/content" not in res["paths"])
    check(res["objs"][-1] == {"p": "response/status", "o": "SET", "v": "FINISHED"})
    check(res["quasi_status"] == "FINISHED" and res["status"] == "FINISHED" and res["usage"])
    res = cl.chat("y [[end:none]]")
    check(res["status"] == "WIP" and "finish" not in res["names"] and "close" not in res["names"])
    mock_config(path_style="index", end_style="set")
    res = cl.chat("z")
    check("response/fragments/0/content" in res["paths"] and res["objs"][-1]["o"] == "SET")


@test
def prompt_flattening_is_recorded_and_last_turn_echoed():
    cl = Client()
    prompt = ("You are terse." + U + "first question" + A + "first answer" + EOS + U + "second\n\nquestion")
    res = cl.chat(prompt)
    check(res["answer"] == "You said: second\n\nquestion", res["answer"])
    lc = state()["last_completion"]
    check(lc["prompt"] == prompt)
    check(lc["turns"] == [{"role": "first", "text": "You are terse."}, {"role": "user", "text": "first question"},
                          {"role": "assistant", "text": "first answer"},
                          {"role": "user", "text": "second\n\nquestion"}], lc["turns"])
    # ASCII-space end marker (C2A) is understood too; markers only count in the last user turn
    res = cl.chat("[[fail:500]] a" + A + "b<\uff5cend of sentence\uff5c>" + U + "c [[unicode]]")
    check(res["answer"] == "You said: c" + dm.UNICODE_TAIL, res["answer"])
    check(state()["last_completion"]["turns"][1] == {"role": "assistant", "text": "b"})
    res = cl.chat("d [[long:5]]")
    check(res["answer"] == "You said: d word1 word2 word3 word4 word5", res["answer"])


@test
def thinking_and_search_fragments():
    cl = Client()
    res = cl.chat("why? [[unicode]]", thinking_enabled=True)
    fr = res["fragments"]
    check([f["type"] for f in fr] == ["THINK", "RESPONSE"], fr)
    lc = state()["last_completion"]
    check(res["reasoning"] == lc["reasoning_text"] and res["reasoning"].startswith("Thinking about: why?"))
    check(fr[0]["content"] == res["reasoning"] and fr[0]["elapsed_secs"] == 1.25)
    check(res["answer"] == "You said: why?" + dm.UNICODE_TAIL and fr[1]["content"] == res["answer"])
    check(res["doc"]["response"]["thinking_enabled"] is True)
    res = cl.chat("news", search_enabled=True)
    fr = res["fragments"]
    check([f["type"] for f in fr] == ["SEARCH", "RESPONSE"], fr)
    check(fr[0]["queries"] == [{"query": "news"}] and fr[0]["content"] == dm.SEARCH_SUMMARY)
    check(res["dropped"] == dm.SEARCH_SUMMARY, "search summary text must be routed away from the answer")
    check([(x["cite_index"], bool(x["url"] and x["title"] and x["snippet"] and x["site_name"]))
           for x in fr[0]["results"]] == [(1, True), (2, True)], fr[0]["results"])
    check("[citation:1]" in res["answer"] and "[citation:2]" in res["answer"])
    check(res["answer"] == "You said: news" + dm.SEARCH_SUFFIX)
    res = cl.chat("both [[path:index]]", search_enabled=True, thinking_enabled=True)
    check([f["type"] for f in res["fragments"]] == ["SEARCH", "THINK", "RESPONSE"])
    check("response/fragments/2/content" in res["paths"] and res["reasoning"].startswith("Thinking about: both"))
    check(res["answer"] == "You said: both" + dm.SEARCH_SUFFIX)


@test
def credentials_are_checked():
    cl = Client()
    sid = cl.session()
    # the userToken itself as bearer
    h = browser_headers(UT)
    st, r, obj = jreq("POST", "/api/v0/chat_session/create", {}, h)
    check(st == 200 and obj == {"code": 40003, "msg": "Authorization Failed (invalid token)", "data": None}, obj)
    check("userToken was sent as bearer" in r.getheader("x-mock-reason"))
    st, r, obj = jreq("POST", "/api/v0/chat/create_pow_challenge", {"target_path": dp.TARGET_PATH},
                      browser_headers("dsb-unknown"))
    check(obj["code"] == 40003 and "unknown bearer" in state()["last_rejection"]["reason"])
    h = browser_headers(None)
    st, r, obj = jreq("POST", "/api/v0/chat_session/create", {}, h)
    check(obj["code"] == 40003, "no Authorization")
    st, r, obj = jreq("GET", "/api/v0/users/current", headers=browser_headers("nope", post=False))
    check(obj["code"] == 40003 and state()["users_current"].get("nope") == 1)
    # completion with the userToken as bearer
    st, r, raw = cl.complete(cl.body("hi", sid=sid), extra={"Authorization": "Bearer " + UT})
    check(json.loads(raw)["code"] == 40003 and state()["completions"] == {})
    # HTTP 401 on demand
    mock_config(auth_error_status=401)
    st, r, obj = jreq("POST", "/api/v0/chat_session/create", {}, browser_headers(UT))
    check(st == 401 and obj["code"] == 40003)
    mock_config(auth_error_status=200)
    # an expired user: users/current and its already issued bearer both fail
    c2 = Client(UT2)
    b2 = c2.login()
    mock_config(expired_user_tokens=[UT2])
    st, r, obj = jreq("GET", "/api/v0/users/current", headers=browser_headers(UT2, post=False))
    check(obj["code"] == 40003 and "expired userToken" in r.getheader("x-mock-reason"))
    st, r, obj = jreq("POST", "/api/v0/chat_session/create", {}, browser_headers(b2))
    check(obj["code"] == 40003 and "expired" in r.getheader("x-mock-reason"))
    mock_config(add_user_tokens=[UT2])
    check(c2.session())
    check(state()["users_current"][UT2] == 2)


@test
def bearer_cache_counting_and_revocation():
    cl = Client()
    b1 = cl.login()
    check(cl.login() == b1, "stable bearer until revoked")
    cl.session()
    cl.session()
    s = state()
    check(s["users_current"] == {UT: 2} and s["bearers_issued"] == {UT: 1})
    mock_config(revoke_bearers=[UT])
    st, r, obj = cl.post("/chat_session/create", {})
    check(obj["code"] == 40003 and "revoked bearer" in r.getheader("x-mock-reason"))
    b2 = cl.login()
    check(b2 != b1 and cl.session(), "a fresh bearer works after revocation")
    mock_config(rotate_bearer=True)
    b3 = cl.login()
    check(b3 != b2 and cl.session() and state()["bearers_issued"] == {UT: 3})
    st, r, obj = jreq("POST", "/api/v0/chat_session/create", {}, browser_headers(b2))
    check(obj["code"] == 0, "rotation leaves older bearers valid")
    mock_config(rotate_bearer=False, bearer_ttl_s=0.2)
    time.sleep(0.3)
    st, r, obj = cl.post("/chat_session/create", {})
    check(obj["code"] == 40003 and "bearer_ttl_s" in r.getheader("x-mock-reason"))
    mock_config(revoke_bearers=True)
    check(cl.login() != b3)


@test
def browser_headers_are_checked():
    cl = Client()
    cl.login()
    cases = [({"X-Client-Platform": None}, "x-client-platform"), ({"X-Client-Platform": "android"}, "x-client-platform"),
             ({"Origin": "https://evil.example"}, "Origin"), ({"Origin": None}, "Origin"),
             ({"Referer": "https://chat.deepseek.com.evil/"}, "Referer"), ({"User-Agent": "curl/8.0"}, "User-Agent"),
             ({"X-App-Version": None}, "x-app-version"), ({"X-Client-Version": ""}, "x-client-version"),
             ({"X-Client-Locale": None}, "x-client-locale"), ({"Content-Type": "text/plain"}, "Content-Type")]
    for change, part in cases:
        h = browser_headers(cl.bearer)
        for k, v in change.items():
            if v is None:
                h.pop(k)
            else:
                h[k] = v
        st, r, obj = jreq("POST", "/api/v0/chat/create_pow_challenge", {"target_path": dp.TARGET_PATH}, h)
        rejected(st, r, obj, part, code=40000)
    # GET needs no content type; a Referer of a session page is fine
    h = browser_headers(UT, post=False)
    h["Referer"] = "https://chat.deepseek.com/a/chat/s/1234"
    check(jreq("GET", "/api/v0/users/current", headers=h)[2]["code"] == 0)
    # users/current calls are counted even when refused
    n = state()["users_current"][UT]
    h = browser_headers(UT, post=False)
    del h["X-Client-Platform"]
    check(jreq("GET", "/api/v0/users/current", headers=h)[0] == 400 and state()["users_current"][UT] == n + 1)
    # a missing x-client-platform on the completion itself
    st, r, raw = cl.complete(cl.body("hi"), drop=("X-Client-Platform",))
    check(st == 400 and "x-client-platform" in r.getheader("x-mock-reason"))
    check(len(state()["rejections"]) == len(cases) + 2)
    mock_config(check_headers=False)
    h = browser_headers(cl.bearer)
    del h["X-Client-Platform"]
    check(jreq("POST", "/api/v0/chat_session/create", {}, h)[2]["code"] == 0)


@test
def sessions_belong_to_their_user():
    a, b = Client(UT), Client(UT2)
    sa1, sa2, sb1 = a.session(), a.session(), b.session()
    s = state()
    check(sorted(s["live_sessions"][UT]) == sorted([sa1, sa2]) and s["sessions_live"] == {UT: 2, UT2: 1})
    # another user's session: not deleted, not usable
    st, r, obj = b.post("/chat_session/delete", {"chat_session_id": sa1})
    check(st == 200 and obj["code"] == 0 and obj["data"]["biz_code"] == 40400, obj)
    check("another user" in state()["last_rejection"]["reason"] and sa1 in state()["live_sessions"][UT])
    st, r, raw = b.complete(b.body("hi", sid=sa1))
    rejected(st, r, json.loads(raw), "another user", code=40400)
    # a deleted session
    st, r, obj = a.post("/chat_session/delete", {"chat_session_id": sa1})
    check(biz(obj) is None and state()["sessions_deleted"] == {UT: 1})
    st, r, raw = a.complete(a.body("hi", sid=sa1))
    rejected(st, r, json.loads(raw), "was deleted", code=40400)
    st, r, obj = a.post("/chat_session/delete", {"chat_session_id": sa1})
    check(obj["data"]["biz_code"] == 40400, "double delete")
    st, r, raw = a.complete(a.body("hi", sid="00000000-0000-4000-8000-000000000000"))
    rejected(st, r, json.loads(raw), "unknown chat_session_id", code=40400)
    # delete_all removes only the caller's
    check(biz(a.post("/chat_session/delete_all", {})[2]) is None)
    s = state()
    check(s["live_sessions"] == {UT2: [sb1]} and s["sessions_deleted"] == {UT: 2}, s["live_sessions"])
    # create bodies and the old shape
    check(biz(a.post("/chat_session/create", {"character_id": None})[2])["chat_session"]["id"])
    st, r, obj = a.post("/chat_session/create", {"character_id": 7})
    rejected(st, r, obj, "character_id", code=40000)
    mock_config(session_shape="old")
    d = biz(a.post("/chat_session/create", {})[2])
    check("chat_session" not in d and d["id"] in state()["live_sessions"][UT])
    mock_config(session_shape="new")
    d = biz(a.post("/chat_session/create", {})[2])
    check(d["ttl_seconds"] == 259200 and d["model_type"] == "default" and d["chat_session"]["id"])


def _pow_case(cl, mutate, reason, sid=None):
    ch = cl.challenge()
    ans = dp.solve(ch["challenge"], ch["salt"], ch["expire_at"], ch["difficulty"])
    hdr = mutate(ch, ans)
    st, r, raw = cl.complete(cl.body("hi", sid=sid), pow_header=hdr)
    rejected(st, r, json.loads(raw), reason, code=40301)
    return ch, ans


def _b64(obj_or_text):
    text = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text, separators=(",", ":"))
    return base64.b64encode(text.encode()).decode()


@test
def pow_is_verified():
    cl = Client()
    sid = cl.session()

    def fields(ch, ans, **over):
        d = {"algorithm": ch["algorithm"], "challenge": ch["challenge"], "salt": ch["salt"], "answer": ans,
             "signature": ch["signature"], "target_path": ch["target_path"]}
        d.update(over)
        return d

    _pow_case(cl, lambda ch, a: dp.response_header(ch, (a + 1) % ch["difficulty"]), "is wrong", sid)
    _pow_case(cl, lambda ch, a: _b64(fields(ch, a, salt=ch["salt"][:-1] + "0" if ch["salt"][-1] != "0"
                                            else ch["salt"][:-1] + "1")), "salt differs", sid)
    _pow_case(cl, lambda ch, a: _b64(fields(ch, a, signature="0" * 64)), "signature differs", sid)
    _pow_case(cl, lambda ch, a: _b64({k: fields(ch, a)[k] for k in
                                      ("challenge", "algorithm", "salt", "answer", "signature", "target_path")}),
              "in this order", sid)
    _pow_case(cl, lambda ch, a: _b64({k: v for k, v in fields(ch, a).items() if k != "signature"}),
              "in this order", sid)
    _pow_case(cl, lambda ch, a: _b64(json.dumps(fields(ch, a))), "not compact", sid)
    _pow_case(cl, lambda ch, a: _b64(fields(ch, str(a))), "not a JSON integer", sid)
    _pow_case(cl, lambda ch, a: _b64(fields(ch, a, algorithm="DeepSeekHashV2")), "algorithm", sid)
    _pow_case(cl, lambda ch, a: _b64(fields(ch, a, target_path="/api/v0/x")), "target_path", sid)
    _pow_case(cl, lambda ch, a: _b64(fields(ch, a, challenge="ab" * 32)), "not issued", sid)
    _pow_case(cl, lambda ch, a: dp.response_header(ch, a).rstrip("=") + "!", "base64", sid)
    # a reused challenge: the first use passes, the second is refused
    ch = cl.challenge()
    hdr = cl.pow_header(ch)
    st, r, raw = cl.complete(cl.body("first", sid=sid), pow_header=hdr)
    check(st == 200 and r.getheader("Content-Type").startswith("text/event-stream"))
    st, r, raw = cl.complete(cl.body("second", sid=sid), pow_header=hdr)
    rejected(st, r, json.loads(raw), "already used", code=40301)
    # no header
    st, r, raw = cl.complete(cl.body("x", sid=sid), drop=("X-Ds-Pow-Response",))
    rejected(st, r, json.loads(raw), "no X-Ds-Pow-Response", code=40301)
    # an expired challenge
    mock_config(pow_expire_after_ms=150)
    ch = cl.challenge()
    check(ch["expire_after"] == 150)
    hdr = cl.pow_header(ch)
    time.sleep(0.3)
    st, r, raw = cl.complete(cl.body("late", sid=sid), pow_header=hdr)
    rejected(st, r, json.loads(raw), "expired", code=40301)
    mock_config(pow_expire_after_ms=300000)
    # a challenge issued to another user
    other = Client(UT2)
    st, r, raw = cl.complete(cl.body("x", sid=sid), pow_header=other.pow_header())
    rejected(st, r, json.loads(raw), "another user", code=40301)
    # wrong create body
    st, r, obj = cl.post("/chat/create_pow_challenge", {"target_path": "/api/v0/chat/completions"})
    rejected(st, r, obj, "target_path", code=40000)
    s = state()
    check(s["pow_ok"] == 1 and s["pow_failed"] == 15 and s["completions"] == {UT: 1}, (s["pow_ok"], s["pow_failed"]))
    check(s["last_pow"]["ok"] is False and s["completions_rejected"] >= 15)


@test
def pow_knobs():
    cl = Client()
    mock_config(difficulty=50, pow_answer=49)
    ch = cl.challenge()
    check(ch["difficulty"] == 50 and dp.solve(ch["challenge"], ch["salt"], ch["expire_at"], 50) == 49)
    mock_config(pow_answer=50)             # answer == difficulty: no n in [0, difficulty) works
    ch = cl.challenge()
    check(dp.solve(ch["challenge"], ch["salt"], ch["expire_at"], ch["difficulty"]) is None)
    mock_config(pow_answer=None, pow_algorithm="DeepSeekHashV2")
    check(cl.challenge()["algorithm"] == "DeepSeekHashV2")
    mock_config(pow_algorithm="DeepSeekHashV1", pow_required=False)
    st, r, raw = cl.complete(cl.body("no pow"), drop=("X-Ds-Pow-Response",))
    check(st == 200 and interpret(parse_sse(raw))["answer"] == "You said: no pow")
    mock_config(pow_required=True, pow_bind_user=False)
    other = Client(UT2)
    st, r, raw = cl.complete(cl.body("shared"), pow_header=other.pow_header())
    check(st == 200, "unbound challenge accepted")
    mock_config(difficulty=144000, pow_answer=3)
    ch = cl.challenge()
    check(ch["difficulty"] == 144000 and cl.chat("big")["answer"] == "You said: big")


@test
def completion_body_is_validated():
    cl = Client()
    sid = cl.session()
    cases = [({"prompt": ""}, "prompt"), ({"prompt": None}, "prompt"), ({"ref_file_ids": None}, "ref_file_ids"),
             ({"ref_file_ids": [1]}, "ref_file_ids"), ({"search_enabled": "false"}, "search_enabled"),
             ({"thinking_enabled": 0}, "thinking_enabled"), ({"model_type": "deepseek-chat"}, "model_type"),
             ({"parent_message_id": "2"}, "parent_message_id"), ({"parent_message_id": True}, "parent_message_id"),
             ({"parent_message_id": 99}, "is not a reply"), ({"preempt": "no"}, "preempt"),
             ({"chat_session_id": 5}, "chat_session_id")]
    for over, part in cases:
        st, r, raw = cl.complete(cl.body("hi", sid=sid, **over))
        rejected(st, r, json.loads(raw), part, code=40000)
    for k in ("thinking_enabled", "search_enabled", "ref_file_ids", "prompt", "chat_session_id"):
        b = cl.body("hi", sid=sid)
        del b[k]
        st, r, raw = cl.complete(b)
        rejected(st, r, json.loads(raw), k)
    st, r, raw = cl.complete(b"not json")
    rejected(st, r, json.loads(raw), "not JSON", code=40000)
    b = cl.body("hi", sid=sid)
    del b["parent_message_id"]
    b["extra_field"] = 1
    res = interpret(parse_sse(cl.complete(b)[2]))
    check(res["answer"] == "You said: hi" and state()["last_completion"]["unknown_body_keys"] == ["extra_field"])
    mock_config(reject_status=200)
    st, r, raw = cl.complete(cl.body("", sid=sid))
    check(st == 200 and r.getheader("Content-Type") == "application/json" and json.loads(raw)["code"] == 40000)


@test
def splitting_at_every_byte_delivers_the_same_bytes():
    cl = Client()
    for marker in ("[[split:bytes]]", "[[split:random]]", "[[split:3]]", ""):
        head, body, how = raw_completion(cl, cl.body("split \u4f60\u597d [[unicode]] " + marker,
                                                     thinking_enabled=True))
        check(how == "complete" and b"200 OK" in head and b"chunked" in head.lower(), (how, head))
        data, n, complete = dechunk(body)
        lc = state()["last_completion"]
        check(complete and hashlib.sha256(data).hexdigest() == lc["sha256"] and len(data) == lc["bytes"])
        if marker == "[[split:bytes]]":
            check(n == len(data), "one chunk per byte: %d chunks for %d bytes" % (n, len(data)))
        elif marker == "":
            check(n == len(lc["events"]), "one chunk per event")
        res = interpret(parse_sse(data))
        check(res["answer"] == "You said: split \u4f60\u597d" + dm.UNICODE_TAIL, res["answer"])
        check(res["reasoning"] == lc["reasoning_text"])
    # escapes and CRLF parse to the same text
    res = cl.chat("e [[unicode]] [[ascii]] [[crlf]]")
    raw = "".join(state()["last_completion"]["events"])
    check("\\ud83d" in raw and "\r\n\r\n" in raw and "\U0001f600" not in raw)
    check(res["answer"] == "You said: e" + dm.UNICODE_TAIL)
    mock_config(split="bytes", unicode=True)
    check(cl.chat("k")["answer"] == "You said: k" + dm.UNICODE_TAIL)


@test
def in_stream_errors():
    cl = Client()
    res = cl.chat("abcdefghijklmnopqrstuvwxyz [[error:event]]")
    lc = state()["last_completion"]
    check(lc["stream_error"] == "event" and res["names"][-2:] == ["error", "close"] and "finish" not in res["names"])
    check(res["named"]["error"] == {"error": {"message": "Internal error", "code": "server_busy"}})
    check(res["answer"] == lc["reply_text"] and "You said: abcdefghijklmnopqrstuvwxyz".startswith(res["answer"])
          and 0 < len(res["answer"]) < 30, res["answer"])
    check(res["status"] == "WIP")
    res = cl.chat("x [[error:hint]]", thinking_enabled=True)
    check(res["names"] == ["ready", "update_session", "hint", "close"], res["names"])
    check(res["named"]["hint"]["type"] == "error" and res["named"]["hint"]["finish_reason"] == "rate_limit_reached")
    check(res["answer"] == "" and res["reasoning"] == "" and state()["last_completion"]["reply_text"] == "")
    res = cl.chat("abcdefghijklmnop [[error:inline]]")
    check(res["inline_error"] == dm.AUTH_FAILED and res["answer"] == state()["last_completion"]["reply_text"])
    check("never seen" not in res["answer"] and "never seen" in "".join(state()["last_completion"]["events"]))
    mock_config(stream_error="event")
    res = cl.chat("think then fail", thinking_enabled=True)
    check(res["reasoning"].startswith("Thinking about: think then fail") and "error" in res["names"])
    mock_config(stream_error=None)
    st, r, raw = cl.complete(cl.body("x [[error:bogus]]"))
    rejected(st, r, json.loads(raw), "stream error kind")


@test
def fail_markers_answer_errors():
    cl = Client()
    for code, body_code in ((401, 40003), (403, 40300), (429, 42900), (500, 50000), (502, 50200), (503, 50300)):
        st, r, raw = cl.complete(cl.body("x [[fail:%d]]" % code))
        check(st == code and r.getheader("Content-Type") == "application/json", (code, st))
        check(json.loads(raw)["code"] == body_code and "injected status" in r.getheader("x-mock-reason"))
        if code == 429:
            check(r.getheader("Retry-After") == "30")
    st, r, raw = cl.complete(cl.body("x [[fail:40003]]"))
    check(st == 200 and json.loads(raw) == dm.AUTH_FAILED)
    st, r, raw = cl.complete(cl.body("x [[fail:200]]"))
    check(st == 200 and r.getheader("Content-Type") == "application/json" and json.loads(raw)["code"] == 40310)
    st, r, raw = cl.complete(cl.body("x [[cf:502]]"))
    check(st == 502 and r.getheader("Content-Type").startswith("text/html") and b"Cloudflare" in raw)
    mock_config(cf_html=True, retry_after=7)
    st, r, raw = cl.complete(cl.body("x [[fail:503]]"))
    check(st == 503 and b"<!DOCTYPE html>" in raw)
    st, r, raw = cl.complete(cl.body("x [[fail:429]]"))
    check(r.getheader("Retry-After") == "7")
    check(state()["completions"] == {} and len(state()["rejections"]) == 11)


@test
def fault_knobs_heal_after_n():
    cl = Client()
    cl.login()
    mock_config(users_current_status=500, users_current_status_times=2)
    for want in (500, 500, 200):
        st, r, obj = jreq("GET", "/api/v0/users/current", headers=browser_headers(UT, post=False))
        check(st == want, (st, want))
    mock_config(session_create_status=40003, session_create_status_times=1)
    check(cl.post("/chat_session/create", {})[2]["code"] == 40003)
    check(cl.session())
    mock_config(pow_status=429, pow_status_times=1)
    st, r, obj = cl.post("/chat/create_pow_challenge", {"target_path": dp.TARGET_PATH})
    check(st == 429 and r.getheader("Retry-After"))
    check(cl.challenge())
    sid = cl.session()
    mock_config(session_delete_status=503, session_delete_status_times=1)
    check(cl.post("/chat_session/delete", {"chat_session_id": sid})[0] == 503)
    check(biz(cl.post("/chat_session/delete", {"chat_session_id": sid})[2]) is None)
    mock_config(completion_status=200, completion_status_times=1)
    st, r, raw = cl.complete(cl.body("a"))
    check(st == 200 and r.getheader("Content-Type") == "application/json")
    check(cl.chat("b")["answer"] == "You said: b")
    mock_config(completion_status=502)                 # no _times: every request
    check(cl.complete(cl.body("c"))[0] == 502 and cl.complete(cl.body("d"))[0] == 502)
    cfg = mock_config(completion_status=0)
    check(cfg["completion_status"] == 0 and cfg["users_current_status"] == 0)


@test
def timing_knobs_delay_and_drip():
    cl = Client()
    b = cl.body("slow head [[delay:400]]")
    hdr = cl.pow_header()
    t0 = time.time()
    st, r, raw = cl.complete(b, pow_header=hdr)
    check(st == 200 and time.time() - t0 >= 0.4, time.time() - t0)
    b = cl.body("drip [[drip:30]]")
    hdr = cl.pow_header()
    t0 = time.time()
    st, r, raw = cl.complete(b, pow_header=hdr)
    n = len(state()["last_completion"]["events"])
    check(time.time() - t0 >= 0.03 * (n - 1) * 0.9, (time.time() - t0, n))
    check(interpret(parse_sse(raw))["answer"] == "You said: drip")
    mock_config(delay_ms=300)
    b = cl.body("cfg")
    hdr = cl.pow_header()
    t0 = time.time()
    cl.complete(b, pow_header=hdr)
    check(time.time() - t0 >= 0.3)
    mock_config(delay_ms=0, api_delay_ms=300)
    t0 = time.time()
    check(cl.session() and time.time() - t0 >= 0.3)


@test
def close_reset_and_stall():
    cl = Client()
    head, body, how = raw_completion(cl, cl.body("fin [[close:3]]"))
    data, n, complete = dechunk(body)
    check(how == "eof" and not complete and n == 3, (how, complete, n))
    check(len(parse_sse(data)) == 3 and state()["server_aborts"] == 1)
    head, body, how = raw_completion(cl, cl.body("rst [[reset:4]]"))
    check(how == "reset", how)
    mock_config(close_after_events=2, close_after_events_times=1)
    head, body, how = raw_completion(cl, cl.body("knob"))
    check(how == "eof" and dechunk(body)[1] == 2)
    head, body, how = raw_completion(cl, cl.body("healed"))
    check(how == "complete")
    mock_config(close_after_events=5, close_mode="reset")
    check(raw_completion(cl, cl.body("knob rst"))[2] == "reset")
    mock_config(close_after_events=None, close_mode="fin")
    head, body, how = raw_completion(cl, cl.body("stall [[stall:2]]"), timeout=0.6)
    check(how == "timeout" and dechunk(body)[1] == 2, (how, dechunk(body)[1]))
    s = MOCK.wait_for(lambda s: s["stalls"] == 1 and s["client_disconnects"] == 1, 3)
    check(s is not None, "stall and the client's close are recorded")
    mock_config(stall_after_events=1, stall_max_s=0.3)
    head, body, how = raw_completion(cl, cl.body("stall ends"), timeout=3)
    check(how in ("eof", "reset") and dechunk(body)[1] == 1, how)


@test
def by_token_overrides_are_isolated():
    a, b = Client(UT), Client(UT2)
    mock_config(by_token={UT: {"completion_status": 500, "path_style": "index"}, UT2: {"unicode": True}})
    check(a.complete(a.body("x"))[0] == 500)
    res = b.chat("y")
    check(res["answer"] == "You said: y" + dm.UNICODE_TAIL and "response/fragments/-1/content" in res["paths"])
    mock_config(by_token={UT: {"completion_status": 0}})
    res = a.chat("z")
    check(res["answer"] == "You said: z" and "response/fragments/0/content" in res["paths"])
    mock_config(by_token={UT: {"auth_error_status": 401, "users_current_status": 40003,
                               "users_current_status_times": 1}})
    st, r, obj = jreq("GET", "/api/v0/users/current", headers=browser_headers(UT, post=False))
    check(st == 401 and obj["code"] == 40003)
    check(jreq("GET", "/api/v0/users/current", headers=browser_headers(UT2, post=False))[0] == 200)
    check(jreq("GET", "/api/v0/users/current", headers=browser_headers(UT, post=False))[0] == 200)
    mock_config(by_token={UT: None})
    check(mock_config()["by_token"] == {UT2: {"unicode": True}})


@test
def control_api_config_and_reset():
    st, r, obj = jreq("POST", "/_mock/config", {"no_such_knob": 1}, {"Content-Type": "application/json"})
    check(st == 400 and "no_such_knob" in obj["error"])
    st, r, obj = jreq("POST", "/_mock/config", {"by_token": {UT: {"bogus": 1}}}, {"Content-Type": "application/json"})
    check(st == 400)
    check(jreq("GET", "/_mock/config")[2]["difficulty"] == 2000)
    cl = Client()
    b1 = cl.login()
    sid = cl.session()
    mock_config(difficulty=10)
    jreq("POST", "/_mock/reset", {}, {"Content-Type": "application/json"})
    s = state()
    check(s["users_current"] == {} and s["live_sessions"] == {UT: [sid]} and jreq("GET", "/_mock/config")[2]["difficulty"] == 10)
    jreq("POST", "/_mock/reset", {"config": True}, {"Content-Type": "application/json"})
    check(jreq("GET", "/_mock/config")[2]["difficulty"] == 2000 and cl.session())
    jreq("POST", "/_mock/reset", {"all": True}, {"Content-Type": "application/json"})
    check(state()["live_sessions"] == {})
    check(cl.post("/chat_session/create", {})[2]["code"] == 40003, "reset all forgets bearers")
    check(cl.login() != b1)
    cfg = mock_config(add_user_tokens=["extra-token"])
    check("extra-token" in cfg["user_tokens"] and Client("extra-token").session())
    mock_config(user_tokens=[UT])
    check(jreq("GET", "/api/v0/users/current", headers=browser_headers(UT2, post=False))[2]["code"] == 40003)
    check(jreq("GET", "/api/v0/users/current", headers=browser_headers("extra-token", post=False))[2]["code"] == 40003)
    check(jreq("GET", "/api/v0/nope")[0] == 404 and jreq("GET", "/api/v0/chat/completion")[0] == 405)
    s = state()
    check(s["requests"]["not_found"] == 1 and s["responses"]["method_not_allowed 405"] == 1)
    check(s["recent"][-1]["route"] == "method_not_allowed" and "mock_state" not in s["requests"])
    check(s["last_requests"]["users_current"]["headers"]["x-client-platform"] == "web")


@test
def gzip_and_keep_alive():
    cl = Client()
    cl.login()
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    for i in range(2):
        h = browser_headers(cl.bearer)
        c.request("POST", "/api/v0/chat_session/create", body=b"{}", headers=h)
        r = c.getresponse()
        raw = r.read()
        check(r.getheader("Content-Encoding") == "gzip" and json.loads(gzip.decompress(raw))["code"] == 0)
        body = json.dumps(cl.body("ka %d" % i, sid=biz(json.loads(gzip.decompress(raw)))["chat_session"]["id"]))
        h["X-Ds-Pow-Response"] = cl.pow_header()
        c.request("POST", "/api/v0/chat/completion", body=body.encode(), headers=h)
        r = c.getresponse()
        check(r.getheader("Content-Encoding") is None, "the stream is not compressed")
        check(interpret(parse_sse(r.read()))["answer"] == "You said: ka %d" % i)
    c.close()
    mock_config(gzip=False)
    h = browser_headers(cl.bearer)
    st, r, raw = http_req("POST", "/api/v0/chat_session/create", b"{}", h)
    check(r.getheader("Content-Encoding") is None and json.loads(raw)["code"] == 0)


@test
def parallel_clients():
    errors, results = [], []

    def run(i):
        try:
            cl = Client(UT if i % 2 else UT2)
            results.append(cl.chat("parallel %d [[split:7]]" % i)["answer"] == "You said: parallel %d" % i)
        except Exception as e:   # noqa: BLE001
            errors.append(repr(e))
    ts = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    check(not errors and results == [True] * 8, (errors, results))
    s = state()
    check(s["completions"] == {UT: 4, UT2: 4} and s["completions_completed"] == 8)
    check(s["sessions_live"] == {UT: 4, UT2: 4})


@test
def cli_runs_and_writes_port_file():
    tmp = tempfile.mkdtemp()
    pf = os.path.join(tmp, "port")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "deepseek_mock.py"), "--port", "0", "--port-file", pf,
                          "--user-token", "cli-token", "--config", '{"difficulty":100}'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        end = time.time() + 10
        while not os.path.exists(pf) and time.time() < end:
            time.sleep(0.05)
        port = int(open(pf).read())
        st, r, obj = jreq("GET", "/api/v0/users/current", headers=browser_headers("cli-token", post=False), port=port)
        bearer = biz(obj)["token"]
        st, r, obj = jreq("POST", "/api/v0/chat/create_pow_challenge", {"target_path": dp.TARGET_PATH},
                          browser_headers(bearer), port=port)
        check(biz(obj)["challenge"]["difficulty"] == 100)
        jreq("POST", "/_mock/reset", {"config": True}, {"Content-Type": "application/json"}, port=port)
        check(jreq("GET", "/_mock/config", port=port)[2]["difficulty"] == 100, "reset keeps --config values")
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(10)
    check(rc == 0, "exit code %s" % rc)


# =========================================================================== main

def main():
    global MOCK, PORT
    MOCK = dm.DeepSeekMock().start()
    PORT = selftest.PORT = MOCK.port
    return SUITE.run(MOCK, reset, lambda: state().get("last_rejection"))


if __name__ == "__main__":
    sys.exit(main())
